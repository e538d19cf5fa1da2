using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// Stride-1 convolution of one image without a column matrix. The image is copied once into a zero-padded plane
/// per channel, Hp × Wp (Wp = W + 2·pad), and the output is computed on that padded grid: output position
/// j = y·Wp + x takes, for filter tap (c, ky, kx), the value at j + ky·Wp + kx of channel c's plane. So row (c, ky, kx)
/// of the im2col matrix is just the padded plane read from a fixed offset, and the convolution is a GEMM
/// W (F × C·KH·KW) · B whose B rows are addressed through a table of offsets — nothing is copied per tap. Columns
/// x ≥ OW of the grid are computed and dropped (Wp − OW of every Wp); the valid ones are exactly those of im2col.
/// <para>The tile is 4 filters × 24 positions (12 AVX2 accumulators, 3 loads of B and 4 broadcasts per tap), so
/// 16, 32 and 64 filters take whole tiles; other counts run their last rows through a zero-padded panel.
/// <see cref="Im2ColChannelMajor"/> with <see cref="Gemm"/> is the plain version the tests compare against.</para>
/// </summary>
internal static unsafe class ShiftedConvolution
{
    private const int MR = 4, NR = 24;

    /// <summary>Whether this CPU and geometry can take this path (AVX2 + FMA, stride 1).</summary>
    public static bool Applies(int stride) => stride == 1 && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Per-thread buffers: padded input, the grid-shaped product and the tap offsets.</summary>
    private sealed class Buffers
    {
        public float[] Padded = [], Grid = [];
        public int[] Offsets = [];
    }

    [ThreadStatic] private static Buffers? t_buffers;

    private static T[] Ensure<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
        return buffer;
    }

    /// <summary>
    /// The filters w (F × K, K = C·KH·KW) packed as this kernel reads them: panels of 4 filters, tap-major, the rows
    /// past F zero. Done once per batch and shared by every image (and thread).
    /// </summary>
    public static void PackFilters(ReadOnlySpan<float> weights, int filters, int k, ref float[] packed)
    {
        if (weights.Length < filters * k) throw new ArgumentException("shifted convolution: the filter buffer is too small");
        int panels = (filters + MR - 1) / MR;
        var dst = Ensure(ref packed, panels * MR * k);
        for (int panel = 0; panel < panels; panel++)
            for (int p = 0; p < k; p++)
                for (int i = 0; i < MR; i++)
                {
                    int f = panel * MR + i;
                    dst[(panel * k + p) * MR + i] = f < filters ? weights[f * k + p] : 0f;
                }
    }

    /// <summary>
    /// y (F × OH × OW, one image) = conv(x (C × H × W), filters packed by <see cref="PackFilters"/>) + bias,
    /// stride 1, padding <paramref name="pad"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardImage(ReadOnlySpan<float> x, int c, int h, int w, ReadOnlySpan<float> packed, ReadOnlySpan<float> bias,
        int filters, int kh, int kw, int pad, Span<float> y)
    {
        int hp = h + 2 * pad, wp = w + 2 * pad;
        int oh = hp - kh + 1, ow = wp - kw + 1;
        int k = c * kh * kw;
        int panels = (filters + MR - 1) / MR;
        if (oh < 1 || ow < 1) throw new ArgumentException($"a {kh}×{kw} filter does not fit a {h}×{w} input with padding {pad}");
        if (x.Length < c * h * w || packed.Length < panels * MR * k || bias.Length < filters || y.Length < filters * oh * ow)
            throw new ArgumentException("shifted convolution: a buffer is too small for the geometry");
        int columns = (oh * wp + NR - 1) / NR * NR;             // grid positions, whole tiles
        int plane = hp * wp;
        int slack = columns + (kh - 1) * wp + kw;                 // the last tiles read past the last plane
        var buffers = t_buffers ??= new Buffers();
        var padded = Ensure(ref buffers.Padded, c * plane + slack);
        var grid = Ensure(ref buffers.Grid, panels * MR * columns);
        var offsets = Ensure(ref buffers.Offsets, k);

        // Zero-padded planes (the border and the slack stay zero) and the offset of every tap.
        padded.AsSpan(0, c * plane + slack).Clear();
        for (int ch = 0; ch < c; ch++)
            for (int r = 0; r < h; r++)
                x.Slice((ch * h + r) * w, w).CopyTo(padded.AsSpan(ch * plane + (r + pad) * wp + pad, w));
        for (int ch = 0, q = 0; ch < c; ch++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++) offsets[q++] = ch * plane + ky * wp + kx;

        fixed (float* px = padded) fixed (float* pw = packed) fixed (float* pg = grid) fixed (int* po = offsets)
        {
            for (int j = 0; j < columns; j += NR)
                for (int panel = 0; panel < panels; panel++)
                    Kernel4x24(k, pw + (long)panel * k * MR, px + j, po, pg + (long)panel * MR * columns + j, columns);
        }
        // Valid grid columns, plus the bias, into (F, OH, OW).
        for (int f = 0; f < filters; f++)
        {
            float b = bias[f];
            for (int r = 0; r < oh; r++)
                System.Numerics.Tensors.TensorPrimitives.Add(grid.AsSpan(f * columns + r * wp, ow), b, y.Slice((f * oh + r) * ow, ow));
        }
    }

    /// <summary>C (4 × 24, leading dimension ldc) = A panel (k × 4) · B, B's row p being the 24 floats at b + offsets[p].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x24(int k, float* a, float* b, int* offsets, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        for (int p = 0; p < k; p++)
        {
            float* row = b + offsets[p];
            var b0 = Vector256.Load(row);
            var b1 = Vector256.Load(row + 8);
            var b2 = Vector256.Load(row + 16);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector256.FusedMultiplyAdd(a0, b2, c02);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            c12 = Vector256.FusedMultiplyAdd(a1, b2, c12);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            c22 = Vector256.FusedMultiplyAdd(a2, b2, c22);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            c32 = Vector256.FusedMultiplyAdd(a3, b2, c32);
            a += MR;
        }
        c00.Store(c); c01.Store(c + 8); c02.Store(c + 16);
        c += ldc;
        c10.Store(c); c11.Store(c + 8); c12.Store(c + 16);
        c += ldc;
        c20.Store(c); c21.Store(c + 8); c22.Store(c + 16);
        c += ldc;
        c30.Store(c); c31.Store(c + 8); c32.Store(c + 16);
    }
}
