using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ZeroDL.Data;

/// <summary>
/// Gaussian smoothing of a square side×side field, separable (rows, then columns), with the field's edge values
/// repeated beyond its border; the kernel has radius ⌈2σ⌉ and sums to 1. <see cref="Apply"/> is the fast path
/// (eight outputs per vector, every tap a vector multiply then add); <see cref="ApplyReference"/> is the plain
/// per-pixel loop. Both form each sum as acc = acc + kernel[k]·x for k in order, unfused, so they agree bit for bit.
/// One instance keeps its scratch buffers: use one per thread.
/// </summary>
public sealed class GaussianSmoothing
{
    private readonly int _side, _radius, _stride;
    private readonly float[] _kernel, _rows, _columns;

    public GaussianSmoothing(double sigma, int side)
    {
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be positive");
        if (side < 1) throw new ArgumentOutOfRangeException(nameof(side), side, "side must be positive");
        _side = side;
        _radius = (int)Math.Ceiling(2 * sigma);
        _kernel = new float[2 * _radius + 1];
        double sum = 0;
        for (int i = -_radius; i <= _radius; i++) sum += _kernel[i + _radius] = (float)Math.Exp(-i * i / (2 * sigma * sigma));
        for (int i = 0; i < _kernel.Length; i++) _kernel[i] = (float)(_kernel[i] / sum);
        _stride = (side + 7) / 8 * 8;                            // outputs per row, rounded up to whole vectors
        _rows = new float[side * (_stride + 2 * _radius)];       // each row padded by r on both sides (and up to the stride)
        _columns = new float[(side + 2 * _radius) * _stride];    // the row-smoothed field padded by r rows above and below
    }

    public ReadOnlySpan<float> Kernel => _kernel;

    /// <summary>Smooths <paramref name="field"/> (side² values, row-major) in place and multiplies it by <paramref name="scale"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Apply(Span<float> field, float scale = 1f)
    {
        int n = _side, r = _radius, taps = _kernel.Length, stride = _stride, wide = stride + 2 * r;
        if (field.Length != n * n) throw new ArgumentException($"a {n}×{n} field has {n * n} values, got {field.Length}");
        fixed (float* f = field, rows = _rows, columns = _columns, kernel = _kernel)
        {
            // Rows: rows[y][r + x] = field[y][clamp(x)] for x in [−r, stride + r).
            for (int y = 0; y < n; y++)
            {
                float* src = f + y * n, dst = rows + y * wide;
                for (int x = 0; x < wide; x++) dst[x] = src[Math.Clamp(x - r, 0, n - 1)];
            }
            // Horizontal pass into columns[r + y][x] = Σ_k kernel[k]·rows[y][x + k]; four vectors of a row at a time,
            // so that four independent sums hide the latency of each add.
            for (int y = 0; y < n; y++)
            {
                float* src = rows + y * wide, dst = columns + (r + y) * stride;
                int x = 0;
                for (; x + 32 <= stride; x += 32)
                {
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int k = 0; k < taps; k++)
                    {
                        var w = Vector256.Create(kernel[k]);
                        float* p = src + x + k;
                        a0 += w * Vector256.Load(p); a1 += w * Vector256.Load(p + 8); a2 += w * Vector256.Load(p + 16); a3 += w * Vector256.Load(p + 24);
                    }
                    a0.Store(dst + x); a1.Store(dst + x + 8); a2.Store(dst + x + 16); a3.Store(dst + x + 24);
                }
                for (; x < stride; x += 8)
                {
                    var acc = Vector256<float>.Zero;
                    for (int k = 0; k < taps; k++) acc += Vector256.Create(kernel[k]) * Vector256.Load(src + x + k);
                    acc.Store(dst + x);
                }
            }
            // Repeat the first and last smoothed rows r times above and below.
            for (int y = 0; y < r; y++)
            {
                new Span<float>(columns + r * stride, stride).CopyTo(new Span<float>(columns + y * stride, stride));
                new Span<float>(columns + (r + n - 1) * stride, stride).CopyTo(new Span<float>(columns + (r + n + y) * stride, stride));
            }
            // Vertical pass: field[y][x] = scale · Σ_k kernel[k]·columns[y + k][x], written through a row buffer (the
            // first row of `rows`, free by now) so that the last vector of a row may run past the field's width.
            var s = Vector256.Create(scale);
            float* line = rows;
            for (int y = 0; y < n; y++)
            {
                int x = 0;
                float* src = columns + y * stride;
                for (; x + 32 <= stride; x += 32)
                {
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int k = 0; k < taps; k++)
                    {
                        var w = Vector256.Create(kernel[k]);
                        float* p = src + k * stride + x;
                        a0 += w * Vector256.Load(p); a1 += w * Vector256.Load(p + 8); a2 += w * Vector256.Load(p + 16); a3 += w * Vector256.Load(p + 24);
                    }
                    (a0 * s).Store(line + x); (a1 * s).Store(line + x + 8); (a2 * s).Store(line + x + 16); (a3 * s).Store(line + x + 24);
                }
                for (; x < stride; x += 8)
                {
                    var acc = Vector256<float>.Zero;
                    for (int k = 0; k < taps; k++) acc += Vector256.Create(kernel[k]) * Vector256.Load(src + k * stride + x);
                    (acc * s).Store(line + x);
                }
                new Span<float>(line, n).CopyTo(field.Slice(y * n, n));
            }
        }
    }

    /// <summary>The plain per-pixel reference of <see cref="Apply"/>.</summary>
    public void ApplyReference(Span<float> field, float scale = 1f)
    {
        int n = _side, r = _radius;
        if (field.Length != n * n) throw new ArgumentException($"a {n}×{n} field has {n * n} values, got {field.Length}");
        var smoothedRows = new float[n * n];
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                float acc = 0;
                for (int k = -r; k <= r; k++) acc += _kernel[k + r] * field[y * n + Math.Clamp(x + k, 0, n - 1)];
                smoothedRows[y * n + x] = acc;
            }
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                float acc = 0;
                for (int k = -r; k <= r; k++) acc += _kernel[k + r] * smoothedRows[Math.Clamp(y + k, 0, n - 1) * n + x];
                field[y * n + x] = acc * scale;
            }
    }
}
