using System.Globalization;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Data;

/// <summary>
/// Strengths of the random distortions of <see cref="Augmenter"/> (book ch. 8.2.3's data augmentation). Each
/// image gets its own draw: a shift of up to ±<see cref="Shift"/> pixels in x and y, a rotation of up to
/// ±<see cref="Rotation"/> degrees, a scaling by a factor in 1 ± <see cref="Scale"/>, and an elastic distortion
/// (Simard et al., 2003): a random displacement field smoothed by a Gaussian of <see cref="ElasticSigma"/> pixels
/// and multiplied by <see cref="ElasticAlpha"/>. A strength of 0 turns that distortion off.
/// </summary>
public sealed record AugmentationOptions
{
    public double Shift { get; init; } = 2;
    public double Rotation { get; init; } = 10;
    public double Scale { get; init; } = 0.1;
    public double ElasticAlpha { get; init; } = 10;
    public double ElasticSigma { get; init; } = 4;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first strength out of range.</summary>
    public AugmentationOptions Validated()
    {
        static void Check(double value, double max, string name)
        {
            if (!(value >= 0 && value <= max)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be between 0 and {max.ToString(CultureInfo.InvariantCulture)}");
        }
        Check(Shift, 14, "shift");
        Check(Rotation, 180, "rotation");
        Check(Scale, 0.9, "scale");
        Check(ElasticAlpha, 100, "elastic alpha");
        if (!(ElasticSigma >= 0.5 && ElasticSigma <= 20)) throw new ArgumentOutOfRangeException("elastic sigma", ElasticSigma, "elastic sigma must be between 0.5 and 20");
        return this;
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"shift ±{Shift} px, rotation ±{Rotation}°, scale ±{Scale * 100}%, elastic α {ElasticAlpha} σ {ElasticSigma}");
}

/// <summary>
/// Applies random distortions to square grayscale images in place. Each output pixel p samples the input
/// (bilinearly, 0 outside the image) at A⁻¹(p − c − t) + c + d(p): the inverse of a rotation-and-scale A about the
/// centre c, a shift t, and an elastic displacement d(p). Every output pixel is therefore a convex combination of
/// input pixels and zeros, so the pixel range is kept. The draws for one image depend only on the seed and the
/// image's key (e.g. its position in the run), never on threads or timing, so a run is reproducible.
/// One instance keeps its scratch buffers between calls (nothing is allocated per batch): use one per thread.
/// </summary>
public sealed class Augmenter
{
    private readonly AugmentationOptions _options;
    private readonly int _seed, _side;
    private readonly float[] _kernel, _source, _dx, _dy, _scratch, _padded, _accumulator, _term;

    public Augmenter(AugmentationOptions options, int seed, int side = 28)
    {
        _options = options.Validated();
        if (side < 2) throw new ArgumentOutOfRangeException(nameof(side), side, "images must be at least 2×2");
        _seed = seed;
        _side = side;
        _source = new float[side * side]; _dx = new float[side * side]; _dy = new float[side * side]; _scratch = new float[side * side];
        int radius = (int)Math.Ceiling(2 * options.ElasticSigma);
        _kernel = new float[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) sum += _kernel[i + radius] = (float)Math.Exp(-i * i / (2 * options.ElasticSigma * options.ElasticSigma));
        for (int i = 0; i < _kernel.Length; i++) _kernel[i] = (float)(_kernel[i] / sum);
        int padded = (side + 2 * radius) * Math.Max(side, side + 2 * radius);
        _padded = new float[padded]; _accumulator = new float[padded]; _term = new float[padded];
    }

    public AugmentationOptions Options => _options;

    /// <summary>Distorts <paramref name="count"/> images stored one per row of side² values; image i uses key firstKey + i.</summary>
    public void Apply(Span<float> images, int count, long firstKey)
    {
        int size = _side * _side;
        if (images.Length < (long)count * size) throw new ArgumentException($"{count} images of {_side}×{_side} need {count * size} values, got {images.Length}");
        for (int i = 0; i < count; i++)
        {
            var image = images.Slice(i * size, size);
            image.CopyTo(_source);
            Distort(_source, image, firstKey + i, _dx, _dy, _scratch);
        }
    }

    private void Distort(float[] source, Span<float> target, long key, float[] dx, float[] dy, float[] scratch)
    {
        var rng = new Rng(unchecked((int)Hash(_seed, key)));
        double Uniform() => 2 * rng.NextDouble() - 1;
        double angle = Uniform() * _options.Rotation * Math.PI / 180;
        double scale = 1 + Uniform() * _options.Scale;
        double tx = Uniform() * _options.Shift, ty = Uniform() * _options.Shift;
        bool elastic = _options.ElasticAlpha > 0;
        if (elastic)
        {
            ElasticField(rng, dx, scratch);
            ElasticField(rng, dy, scratch);
        }
        // Inverse map: rotate by −angle and divide by the scale.
        double cos = Math.Cos(angle) / scale, sin = Math.Sin(angle) / scale;
        double centre = (_side - 1) / 2.0;
        int n = _side;
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                double u = x - centre - tx, v = y - centre - ty;
                double sx = cos * u + sin * v + centre, sy = -sin * u + cos * v + centre;
                if (elastic) { sx += dx[y * n + x]; sy += dy[y * n + x]; }
                target[y * n + x] = Sample(source, sx, sy);
            }
    }

    /// <summary>Bilinear sample at (x, y); positions outside the image read as 0.</summary>
    private float Sample(float[] image, double x, double y)
    {
        int n = _side;
        if (!(x > -1 && x < n && y > -1 && y < n)) return 0f; // also NaN-safe
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        float fx = (float)(x - x0), fy = (float)(y - y0);
        float Pixel(int px, int py) => (uint)px < (uint)n && (uint)py < (uint)n ? image[py * n + px] : 0f;
        float top = Pixel(x0, y0) * (1 - fx) + Pixel(x0 + 1, y0) * fx;
        float bottom = Pixel(x0, y0 + 1) * (1 - fx) + Pixel(x0 + 1, y0 + 1) * fx;
        return top * (1 - fy) + bottom * fy;
    }

    /// <summary>
    /// Uniform(−1, 1) per pixel, Gaussian-smoothed (separable, edges clamped), times α. Each pass pads the field with
    /// its edge values and then adds kernel[k]·(the field shifted by k) for k in order, over the whole field at once
    /// (vectorised; the same sums in the same order as the per-pixel loop, so the same values).
    /// </summary>
    private void ElasticField(Rng rng, float[] field, float[] scratch)
    {
        int n = _side, radius = _kernel.Length / 2, wide = n + 2 * radius;
        for (int i = 0; i < field.Length; i++) field[i] = (float)(2 * rng.NextDouble() - 1);
        // Horizontal: rows padded to n + 2r; output (y, x) = Σ_k kernel[k]·padded[y][x + k].
        var padded = _padded;
        for (int y = 0; y < n; y++)
            for (int x = 0; x < wide; x++) padded[y * wide + x] = field[y * n + Math.Clamp(x - radius, 0, n - 1)];
        int span = (n - 1) * wide + n; // from row 0's first output to row n−1's last
        var acc = _accumulator.AsSpan(0, span);
        var term = _term.AsSpan(0, span);
        acc.Clear();
        for (int k = 0; k < _kernel.Length; k++)
        {
            TP.Multiply(padded.AsSpan(k, span), _kernel[k], term);
            TP.Add(acc, term, acc);
        }
        for (int y = 0; y < n; y++) acc.Slice(y * wide, n).CopyTo(scratch.AsSpan(y * n, n));
        // Vertical: rows of scratch padded above and below; output (y, x) = Σ_k kernel[k]·scratch[clamp(y + k − r)][x].
        var column = _padded.AsSpan(0, (n + 2 * radius) * n);
        for (int y = 0; y < n + 2 * radius; y++) scratch.AsSpan(Math.Clamp(y - radius, 0, n - 1) * n, n).CopyTo(column.Slice(y * n, n));
        acc = _accumulator.AsSpan(0, n * n);
        term = _term.AsSpan(0, n * n);
        acc.Clear();
        for (int k = 0; k < _kernel.Length; k++)
        {
            TP.Multiply(column.Slice(k * n, n * n), _kernel[k], term);
            TP.Add(acc, term, acc);
        }
        TP.Multiply(acc, (float)_options.ElasticAlpha, field);
    }

    /// <summary>A 64-bit mix (splitmix64 finaliser) of the seed and the image key.</summary>
    private static ulong Hash(int seed, long key)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)key + 0x632BE59BD9B4E019UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
