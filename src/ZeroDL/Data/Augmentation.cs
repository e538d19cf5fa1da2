using System.Globalization;

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
/// Applies random distortions to images of C channels, H×W each, in place. Each output pixel p samples the input
/// (bilinearly, 0 outside the image: black for MNIST's pixels / 255, the channel's mean for normalized images) at
/// A⁻¹(p − c − t) + c + d(p): the inverse of a rotation-and-scale A about the
/// centre c, a shift t, and an elastic displacement d(p). All channels of an image get the same transform, so a colour
/// pixel moves as one. Every output pixel is a convex combination of input pixels and zeros, so the pixel range is
/// kept. The draws for one image depend only on the seed and the image's key (e.g. its position in the run), never on
/// threads or timing, so a run is reproducible. The elastic field is drawn and smoothed on a square of the longer
/// side and read over the image's H×W corner (for square images: the image's own field).
/// One instance keeps its scratch buffers between calls (nothing is allocated per batch): use one per thread.
/// </summary>
public sealed class Augmenter
{
    private readonly AugmentationOptions _options;
    private readonly int _seed, _channels, _height, _width, _side;
    private readonly float[] _source, _dx, _dy;
    private readonly double[] _sampleX, _sampleY;
    private readonly GaussianSmoothing _smoothing;

    /// <summary>For square one-channel images of <paramref name="side"/>² values (MNIST's 28×28).</summary>
    public Augmenter(AugmentationOptions options, int seed, int side = 28) : this(options, seed, 1, side, side) { }

    /// <summary>
    /// For <paramref name="data"/>'s images: its <see cref="Dataset.ImageShape"/>, or for flat samples without one a
    /// square one-channel image when their length is a square (MNIST read as 784 values).
    /// </summary>
    /// <exception cref="ArgumentException">the samples are neither images nor a square's length.</exception>
    public static Augmenter For(AugmentationOptions options, int seed, Dataset data)
    {
        int side = (int)Math.Round(Math.Sqrt(data.SampleLength));
        var (channels, height, width) = data.ImageShape ?? (side * side == data.SampleLength ? (1, side, side)
            : throw new ArgumentException($"augmentation needs images (C×H×W); samples have {data.SampleLength} values"));
        return new Augmenter(options, seed, channels, height, width);
    }

    /// <summary>For images of <paramref name="channels"/> planes of <paramref name="height"/>×<paramref name="width"/> values (N×C×H×W).</summary>
    public Augmenter(AugmentationOptions options, int seed, int channels, int height, int width)
    {
        _options = options.Validated();
        if (height < 2 || width < 2) throw new ArgumentOutOfRangeException(nameof(height), $"images must be at least 2×2 (got {height}×{width})");
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "images need at least one channel");
        _seed = seed;
        _channels = channels; _height = height; _width = width;
        _side = Math.Max(height, width);
        _source = new float[(height + 2) * (width + 2)]; // one channel inside a border of zeros
        _dx = new float[_side * _side]; _dy = new float[_side * _side];
        _sampleX = new double[height * width]; _sampleY = new double[height * width];
        _smoothing = new GaussianSmoothing(options.ElasticSigma, _side);
    }

    public AugmentationOptions Options => _options;

    /// <summary>Distorts <paramref name="count"/> images stored one after another (C·H·W values each); image i uses key firstKey + i.</summary>
    public void Apply(Span<float> images, int count, long firstKey) => Apply(images, count, firstKey, reference: false);

    /// <summary>The same distortions computed the plain way (per-pixel smoothing, bounds-checked sampling), for tests.</summary>
    internal void ApplyReference(Span<float> images, int count, long firstKey) => Apply(images, count, firstKey, reference: true);

    private void Apply(Span<float> images, int count, long firstKey, bool reference)
    {
        int plane = _height * _width, size = _channels * plane;
        if (images.Length < (long)count * size)
            throw new ArgumentException($"{count} images of {_channels}×{_height}×{_width} need {(long)count * size} values, got {images.Length}");
        for (int i = 0; i < count; i++)
        {
            Draw(firstKey + i, reference);
            for (int c = 0; c < _channels; c++)
            {
                var image = images.Slice(i * size + c * plane, plane);
                for (int y = 0; y < _height; y++) image.Slice(y * _width, _width).CopyTo(_source.AsSpan((y + 1) * (_width + 2) + 1, _width));
                for (int p = 0; p < plane; p++)
                    image[p] = reference ? SampleReference(_source, _sampleX[p], _sampleY[p]) : Sample(_source, _sampleX[p], _sampleY[p]);
            }
        }
    }

    /// <summary>Draws one image's transform and stores, for every output pixel, the input position it samples.</summary>
    private void Draw(long key, bool reference)
    {
        var rng = new Rng(unchecked((int)Hash(_seed, key)));
        double Uniform() => 2 * rng.NextDouble() - 1;
        double angle = Uniform() * _options.Rotation * Math.PI / 180;
        double scale = 1 + Uniform() * _options.Scale;
        double tx = Uniform() * _options.Shift, ty = Uniform() * _options.Shift;
        bool elastic = _options.ElasticAlpha > 0;
        if (elastic)
        {
            ElasticField(rng, _dx, reference);
            ElasticField(rng, _dy, reference);
        }
        // Inverse map: rotate by −angle and divide by the scale.
        double cos = Math.Cos(angle) / scale, sin = Math.Sin(angle) / scale;
        double centreX = (_width - 1) / 2.0, centreY = (_height - 1) / 2.0;
        for (int y = 0; y < _height; y++)
            for (int x = 0; x < _width; x++)
            {
                double u = x - centreX - tx, v = y - centreY - ty;
                double sx = cos * u + sin * v + centreX, sy = -sin * u + cos * v + centreY;
                if (elastic) { sx += _dx[y * _side + x]; sy += _dy[y * _side + x]; }
                _sampleX[y * _width + x] = sx;
                _sampleY[y * _width + x] = sy;
            }
    }

    /// <summary>Bilinear sample at (x, y) of an image stored with a border of zeros one pixel wide (H + 2 rows of
    /// W + 2), so positions outside the image read as 0 without a test per neighbour.</summary>
    private float Sample(float[] bordered, double x, double y)
    {
        int w = _width + 2;
        if (!(x > -1 && x < _width && y > -1 && y < _height)) return 0f; // also NaN-safe
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        float fx = (float)(x - x0), fy = (float)(y - y0);
        int i = (y0 + 1) * w + x0 + 1;
        float top = bordered[i] * (1 - fx) + bordered[i + 1] * fx;
        float bottom = bordered[i + w] * (1 - fx) + bordered[i + w + 1] * fx;
        return top * (1 - fy) + bottom * fy;
    }

    /// <summary>The plain form of <see cref="Sample"/>: a bounds test per neighbour.</summary>
    private float SampleReference(float[] bordered, double x, double y)
    {
        int width = _width, height = _height;
        if (!(x > -1 && x < width && y > -1 && y < height)) return 0f;
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        float fx = (float)(x - x0), fy = (float)(y - y0);
        float Pixel(int px, int py) => (uint)px < (uint)width && (uint)py < (uint)height ? bordered[(py + 1) * (width + 2) + px + 1] : 0f;
        float top = Pixel(x0, y0) * (1 - fx) + Pixel(x0 + 1, y0) * fx;
        float bottom = Pixel(x0, y0 + 1) * (1 - fx) + Pixel(x0 + 1, y0 + 1) * fx;
        return top * (1 - fy) + bottom * fy;
    }

    /// <summary>Uniform(−1, 1) per pixel, Gaussian-smoothed (separable, edges clamped; <see cref="GaussianSmoothing"/>), times α.</summary>
    private void ElasticField(Rng rng, float[] field, bool reference)
    {
        if (reference)
        {
            for (int i = 0; i < field.Length; i++) field[i] = (float)(2 * rng.NextDouble() - 1);
            _smoothing.ApplyReference(field, (float)_options.ElasticAlpha);
            return;
        }
        rng.FillUniform(field, -1, 1);
        _smoothing.Apply(field, (float)_options.ElasticAlpha);
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
