using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// Stride-1 convolution without a column matrix. The images are copied once into zero-padded planes, Hp × Wp
/// (Wp = W + 2·pad), laid out channel by channel with the images of a batch side by side, and the output is
/// computed on that padded grid: grid position j = i·Hp·Wp + y·Wp + x (image i) takes, for filter tap (c, ky, kx),
/// the value at j + ky·Wp + kx of channel c's run of planes. So row (c, ky, kx)
/// of the im2col matrix is just the padded plane read from a fixed offset, and the convolution is a GEMM
/// W (F × C·KH·KW) · B whose B rows are addressed through a table of offsets — nothing is copied per tap. Columns
/// x ≥ OW and rows y ≥ OH of the grid are computed and dropped; the valid ones are exactly those of im2col. Laying
/// the images side by side makes the products long even where planes are small (7×7 in DeepConvNet's last block).
/// <para>The tile is 4 filters × 24 positions (12 AVX2 accumulators, 3 loads of B and 4 broadcasts per tap), so
/// 16, 32 and 64 filters take whole tiles; other counts run their last rows through a zero-padded panel; the
/// last 16 grid positions through a 4×16 tile and the last 8 through a 4×8 one.
/// <see cref="Im2ColChannelMajor"/> with <see cref="Gemm"/> is the plain version the tests compare against.</para>
/// </summary>
internal static unsafe class ShiftedConvolution
{
    internal const int MR = 4, NR = 24;

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
    /// Floats per row of a padded plane. A row is its left padding and its values; its right padding is the next
    /// row's left padding (zeros either way), which works when every output still fits a row: pad + 1 ≤ KW (so
    /// OW ≤ W + pad). Otherwise rows carry both paddings. Fewer grid columns are then computed and dropped
    /// (28 → 29 instead of 30 wide; 7 → 8 instead of 9).
    /// </summary>
    private static int PaddedWidth(int w, int kw, int pad) => pad + 1 <= kw ? w + pad : w + 2 * pad;

    /// <summary>Grid positions of a batch: up to the last valid row of the last image, in whole vectors.</summary>
    private static int GridColumns(int images, int plane, int oh, int wp) => ((images - 1) * plane + oh * wp + 7) / 8 * 8;

    /// <summary>
    /// y (images × F × OH × OW) = conv(x (images × C × H × W), filters packed by <see cref="PackFilters"/>) + bias,
    /// stride 1, padding <paramref name="pad"/>, then max(0, ·) where <paramref name="rectify"/> (row by row, as the
    /// ReLU layer computes it, while the row is in cache); <paramref name="wide"/>: the product on 512-bit vectors (the same bits).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, int images, int c, int h, int w, ReadOnlySpan<float> packed, ReadOnlySpan<float> bias,
        int filters, int kh, int kw, int pad, Span<float> y, bool wide = false, bool rectify = false)
    {
        int hp = h + 2 * pad, wp = PaddedWidth(w, kw, pad);
        int oh = hp - kh + 1, ow = w + 2 * pad - kw + 1;
        int k = c * kh * kw;
        int panels = (filters + MR - 1) / MR;
        if (oh < 1 || ow < 1) throw new ArgumentException($"a {kh}×{kw} filter does not fit a {h}×{w} input with padding {pad}");
        if (images < 1 || x.Length < images * c * h * w || packed.Length < panels * MR * k || bias.Length < filters || y.Length < images * filters * oh * ow)
            throw new ArgumentException("shifted convolution: a buffer is too small for the geometry");
        int plane = hp * wp;
        int columns = GridColumns(images, plane, oh, wp);
        int slack = NR + kw;                                      // the last vectors read a little past the last plane
        var buffers = t_buffers ??= new Buffers();
        var padded = Ensure(ref buffers.Padded, c * images * plane + slack);
        var grid = Ensure(ref buffers.Grid, panels * MR * columns);
        var offsets = Ensure(ref buffers.Offsets, k);

        PadAndIndex(x, images, c, h, w, kh, kw, pad, slack, padded, offsets);

        fixed (float* px = padded) fixed (float* pw = packed) fixed (float* pg = grid) fixed (int* po = offsets)
            MultiplyPanels(k, pw, panels, px, po, columns, pg, wide);
        // Valid grid positions, plus the bias, into (images, F, OH, OW).
        for (int i = 0; i < images; i++)
            for (int f = 0; f < filters; f++)
            {
                float b = bias[f];
                for (int r = 0; r < oh; r++)
                {
                    var src = grid.AsSpan(f * columns + i * plane + r * wp, ow);
                    var dst = y.Slice(((i * filters + f) * oh + r) * ow, ow);
                    if (ow >= 16) System.Numerics.Tensors.TensorPrimitives.Add(src, b, dst);
                    else for (int t = 0; t < ow; t++) dst[t] = src[t] + b; // short rows (7×7 planes): no call per row
                    if (rectify) System.Numerics.Tensors.TensorPrimitives.Max(dst, 0f, dst);
                }
            }
    }

    /// <summary>
    /// C (panels·4 × columns, row-major) = A · B for A packed by <see cref="PackFilters"/> (k × 4 per panel) and B's
    /// row p the <paramref name="columns"/> floats at b + offsets[p]; columns a multiple of 8. Tiles of 24 columns,
    /// then a tile of 16 and one of 8 for the rest (a small image's grid is only a few tiles long). With
    /// <paramref name="wide"/> the tiles are first 48 columns wide, on 512-bit vectors: every element of C is the same
    /// chain of fused multiply-adds over p in order either way, so the two give the same bits.
    /// </summary>
    internal static void MultiplyPanels(int k, float* packed, int panels, float* b, int* offsets, int columns, float* c, bool wide = false)
    {
        int j = 0;
        if (wide)
            for (; j + WideNR <= columns; j += WideNR)
                for (int panel = 0; panel < panels; panel++)
                    Kernel4x3<Vector512<float>, Float16>(k, packed + (long)panel * k * MR, b + j, offsets, c + (long)panel * MR * columns + j, columns);
        for (; j + NR <= columns; j += NR)
            for (int panel = 0; panel < panels; panel++)
                Kernel4x3<Vector256<float>, Float8>(k, packed + (long)panel * k * MR, b + j, offsets, c + (long)panel * MR * columns + j, columns);
        if (j + 16 <= columns)
        {
            for (int panel = 0; panel < panels; panel++)
                Kernel4x16(k, packed + (long)panel * k * MR, b + j, offsets, c + (long)panel * MR * columns + j, columns);
            j += 16;
        }
        if (j < columns)
            for (int panel = 0; panel < panels; panel++)
                Kernel4x8(k, packed + (long)panel * k * MR, b + j, offsets, c + (long)panel * MR * columns + j, columns);
    }

    /// <summary>Columns of the 512-bit tile: 3 vectors of 16, 12 accumulators as the 256-bit tile has.</summary>
    internal const int WideNR = 48;

    /// <summary>
    /// Copies the image into zero-padded planes (the border and <paramref name="slack"/> floats after the last plane
    /// zero) and writes the offset of every tap (c, ky, kx) in the padded planes.
    /// </summary>
    private static void PadAndIndex(ReadOnlySpan<float> x, int images, int c, int h, int w, int kh, int kw, int pad, int slack, float[] padded, int[] offsets)
    {
        int hp = h + 2 * pad, wp = PaddedWidth(w, kw, pad), plane = hp * wp;
        padded.AsSpan(0, c * images * plane + slack).Clear();
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < images; i++)
                for (int r = 0; r < h; r++)
                    x.Slice(((i * c + ch) * h + r) * w, w).CopyTo(padded.AsSpan((ch * images + i) * plane + (r + pad) * wp + pad, w));
        for (int ch = 0, q = 0; ch < c; ch++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++) offsets[q++] = ch * images * plane + ky * wp + kx;
    }

    /// <summary>
    /// Whether the input gradient can go this way too: it is the convolution of dout with the filters flipped and
    /// channels swapped, padded by KH − 1 − pad on every side, which needs square filters and pad ≤ KH − 1.
    /// </summary>
    public static bool AppliesToInputGradient(int kh, int kw, int pad) => kh == kw && pad <= kh - 1;

    /// <summary>
    /// The filters for the input gradient, packed as <see cref="PackFilters"/> does: W'[c, f, ky, kx] = W[f, c, KH−1−ky, KW−1−kx].
    /// </summary>
    public static void PackFlippedFilters(ReadOnlySpan<float> weights, int filters, int c, int kh, int kw, ref float[] flipped, ref float[] packed)
    {
        int taps = kh * kw;
        var wt = Ensure(ref flipped, c * filters * taps);
        for (int f = 0; f < filters; f++)
            for (int ch = 0; ch < c; ch++)
                for (int t = 0; t < taps; t++)
                    wt[(ch * filters + f) * taps + (taps - 1 - t)] = weights[(f * c + ch) * taps + t];
        PackFilters(wt.AsSpan(0, c * filters * taps), c, filters * taps, ref packed);
    }

    /// <summary>
    /// dx (images × C × H × W) = the input gradient of the convolution for dout (images × F × OH × OW), from filters
    /// packed by <see cref="PackFlippedFilters"/>: a convolution of dout, padded by KH − 1 − pad.
    /// </summary>
    public static void InputGradient(ReadOnlySpan<float> dout, int images, int filters, int oh, int ow, ReadOnlySpan<float> packedFlipped,
        ReadOnlySpan<float> zeroBias, int c, int kh, int kw, int pad, Span<float> dx, bool wide = false) =>
        Forward(dout, images, filters, oh, ow, packedFlipped, zeroBias, c, kh, kw, kh - 1 - pad, dx, wide);

    /// <summary>
    /// dWᵀ (K × F, K = C·KH·KW, row = tap) += the weight gradient of a batch: dW[f, (c, ky, kx)] =
    /// Σ_{i, y, x} dout[i, f, y, x] · xpad[i, c, y + ky, x + kx], with dout laid on the padded grid (zero at the
    /// dropped positions) and every tap read through its offset. Tiles of 4 filters × 3 taps, 8 grid positions a step
    /// (16 with <paramref name="wide"/>: see <see cref="CorrelateTile(int, float*, long, float*, float*, float*, float*, bool)"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dout, int images, int c, int h, int w, int filters, int kh, int kw, int pad,
        Span<float> dWt, bool wide = false)
    {
        int hp = h + 2 * pad, wp = PaddedWidth(w, kw, pad);
        int oh = hp - kh + 1, ow = w + 2 * pad - kw + 1;
        int k = c * kh * kw;
        if (images < 1 || x.Length < images * c * h * w || dout.Length < images * filters * oh * ow || dWt.Length < k * filters)
            throw new ArgumentException("shifted convolution: a buffer is too small for the geometry");
        int plane = hp * wp;
        int columns = GridColumns(images, plane, oh, wp);
        int slack = NR + kw;
        int panels = (filters + MR - 1) / MR, tapGroups = (k + 2) / 3;
        var buffers = t_buffers ??= new Buffers();
        var padded = Ensure(ref buffers.Padded, c * images * plane + slack);
        var grid = Ensure(ref buffers.Grid, panels * MR * columns);
        var offsets = Ensure(ref buffers.Offsets, tapGroups * 3);
        PadAndIndex(x, images, c, h, w, kh, kw, pad, slack, padded, offsets);
        for (int q = k; q < tapGroups * 3; q++) offsets[q] = 0; // a dummy tap completing the last group
        // dout on the grid: row f, position i·plane + y·Wp + x; zero at the dropped positions and in the rows past F.
        grid.AsSpan(0, panels * MR * columns).Clear();
        for (int i = 0; i < images; i++)
            for (int f = 0; f < filters; f++)
                for (int r = 0; r < oh; r++)
                    dout.Slice(((i * filters + f) * oh + r) * ow, ow).CopyTo(grid.AsSpan(f * columns + i * plane + r * wp, ow));
        float* sums = stackalloc float[12];
        fixed (float* px = padded) fixed (float* pg = grid) fixed (int* po = offsets) fixed (float* pd = dWt)
        {
            for (int panel = 0; panel < panels; panel++)
                for (int g = 0; g < tapGroups; g++)
                {
                    CorrelateTile(columns, pg + (long)panel * MR * columns, columns, px + po[3 * g], px + po[3 * g + 1], px + po[3 * g + 2], sums, wide);
                    for (int t = 0; t < 3; t++)
                    {
                        int q = 3 * g + t;
                        if (q >= k) break;
                        for (int i = 0; i < MR; i++)
                        {
                            int f = panel * MR + i;
                            if (f < filters) pd[q * filters + f] += sums[i * 3 + t];
                        }
                    }
                }
        }
    }

    /// <summary>
    /// sums[i·3 + t] = Σ_j d[i·ldd + j] · x_t[j] over <paramref name="length"/> positions (a multiple of 8), for 4 rows of
    /// d and 3 rows x_t: the weight gradient's inner products. With <paramref name="wide"/> on 512-bit vectors, 16
    /// positions a step (a last 8 in the lower half): the partial sums then fall differently, so the bits may differ
    /// from the 256-bit kernel's in the last place; each is fixed for its width, whatever the threads.
    /// </summary>
    internal static void CorrelateTile(int length, float* d, long ldd, float* x0, float* x1, float* x2, float* sums, bool wide)
    {
        if (wide) CorrelateTile<Vector512<float>, Float16>(length, d, ldd, x0, x1, x2, sums);
        else CorrelateTile<Vector256<float>, Float8>(length, d, ldd, x0, x1, x2, sums);
    }

    /// <summary>
    /// <see cref="CorrelateTile(int, float*, long, float*, float*, float*, float*, bool)"/> on one width: a vector of
    /// positions a step; on 16 lanes a last 8 widened with zeros (8 lanes need none: the length is a multiple of 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CorrelateTile<TV, V>(int length, float* d, long ldd, float* x0, float* x1, float* x2, float* sums)
        where TV : struct where V : struct, IFloatVectors<TV>
    {
        TV s00 = V.Zero, s01 = V.Zero, s02 = V.Zero, s10 = V.Zero, s11 = V.Zero, s12 = V.Zero;
        TV s20 = V.Zero, s21 = V.Zero, s22 = V.Zero, s30 = V.Zero, s31 = V.Zero, s32 = V.Zero;
        float* d1 = d + ldd, d2 = d1 + ldd, d3 = d2 + ldd;
        int j = 0;
        for (; j + V.Count <= length; j += V.Count)
        {
            var a = V.Load(x0 + j);
            var b = V.Load(x1 + j);
            var e = V.Load(x2 + j);
            var v = V.Load(d + j);
            s00 = V.MultiplyAdd(v, a, s00); s01 = V.MultiplyAdd(v, b, s01); s02 = V.MultiplyAdd(v, e, s02);
            v = V.Load(d1 + j);
            s10 = V.MultiplyAdd(v, a, s10); s11 = V.MultiplyAdd(v, b, s11); s12 = V.MultiplyAdd(v, e, s12);
            v = V.Load(d2 + j);
            s20 = V.MultiplyAdd(v, a, s20); s21 = V.MultiplyAdd(v, b, s21); s22 = V.MultiplyAdd(v, e, s22);
            v = V.Load(d3 + j);
            s30 = V.MultiplyAdd(v, a, s30); s31 = V.MultiplyAdd(v, b, s31); s32 = V.MultiplyAdd(v, e, s32);
        }
        if (V.Count > 8 && j < length) // the last 8 positions, the upper lanes zero in both factors
        {
            var a = V.LoadEight(x0 + j); var b = V.LoadEight(x1 + j); var e = V.LoadEight(x2 + j);
            var v = V.LoadEight(d + j);
            s00 = V.MultiplyAdd(v, a, s00); s01 = V.MultiplyAdd(v, b, s01); s02 = V.MultiplyAdd(v, e, s02);
            v = V.LoadEight(d1 + j);
            s10 = V.MultiplyAdd(v, a, s10); s11 = V.MultiplyAdd(v, b, s11); s12 = V.MultiplyAdd(v, e, s12);
            v = V.LoadEight(d2 + j);
            s20 = V.MultiplyAdd(v, a, s20); s21 = V.MultiplyAdd(v, b, s21); s22 = V.MultiplyAdd(v, e, s22);
            v = V.LoadEight(d3 + j);
            s30 = V.MultiplyAdd(v, a, s30); s31 = V.MultiplyAdd(v, b, s31); s32 = V.MultiplyAdd(v, e, s32);
        }
        // Each folded to 8 lanes, then the 12 horizontal sums together.
        StoreSums(V.Folded(s00), V.Folded(s01), V.Folded(s02), V.Folded(s10), V.Folded(s11), V.Folded(s12),
            V.Folded(s20), V.Folded(s21), V.Folded(s22), V.Folded(s30), V.Folded(s31), V.Folded(s32), sums);
    }

    /// <summary>
    /// sums[0 … 11] = the horizontal sums of the 12 vectors, together: pairwise horizontal additions, so that the
    /// reduction costs a few instructions per sum rather than a dozen (with short inner products it is a large share).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreSums(Vector256<float> f00, Vector256<float> f01, Vector256<float> f02, Vector256<float> f10, Vector256<float> f11,
        Vector256<float> f12, Vector256<float> f20, Vector256<float> f21, Vector256<float> f22, Vector256<float> f30, Vector256<float> f31,
        Vector256<float> f32, float* sums)
    {
        var q0 = Avx.HorizontalAdd(Avx.HorizontalAdd(f00, f01), Avx.HorizontalAdd(f02, f10)); // sums 0–3, per 128-bit half
        var q1 = Avx.HorizontalAdd(Avx.HorizontalAdd(f11, f12), Avx.HorizontalAdd(f20, f21)); // sums 4–7
        var q2 = Avx.HorizontalAdd(Avx.HorizontalAdd(f22, f30), Avx.HorizontalAdd(f31, f32)); // sums 8–11
        (Avx.Permute2x128(q0, q1, 0x20) + Avx.Permute2x128(q0, q1, 0x31)).Store(sums);
        (q2.GetLower() + q2.GetUpper()).Store(sums + 8);
    }

    /// <summary>C (4 × 8, leading dimension ldc) = A panel (k × 4) · B, B's row p being the 8 floats at b + offsets[p]: the tail of a grid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x8(int k, float* a, float* b, int* offsets, float* c, int ldc)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < k; p++)
        {
            var v = Vector256.Load(b + offsets[p]);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), v, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), v, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), v, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), v, c3);
            a += MR;
        }
        c0.Store(c); c1.Store(c + ldc); c2.Store(c + 2 * ldc); c3.Store(c + 3 * ldc);
    }

    /// <summary>C (4 × 16, leading dimension ldc) = A panel (k × 4) · B, B's row p being the 16 floats at b + offsets[p].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x16(int k, float* a, float* b, int* offsets, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < k; p++)
        {
            float* row = b + offsets[p];
            var b0 = Vector256.Load(row);
            var b1 = Vector256.Load(row + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            a += MR;
        }
        c00.Store(c); c01.Store(c + 8); c += ldc;
        c10.Store(c); c11.Store(c + 8); c += ldc;
        c20.Store(c); c21.Store(c + 8); c += ldc;
        c30.Store(c); c31.Store(c + 8);
    }

    /// <summary>
    /// C (4 × 3 vectors: 24 columns on 256-bit vectors, 48 on 512-bit, leading dimension ldc) = A panel (k × 4) · B,
    /// B's row p being the 3 vectors at b + offsets[p].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x3<TV, V>(int k, float* a, float* b, int* offsets, float* c, int ldc) where TV : struct where V : struct, IFloatVectors<TV>
    {
        int w = V.Count;
        TV c00 = V.Zero, c01 = V.Zero, c02 = V.Zero, c10 = V.Zero, c11 = V.Zero, c12 = V.Zero;
        TV c20 = V.Zero, c21 = V.Zero, c22 = V.Zero, c30 = V.Zero, c31 = V.Zero, c32 = V.Zero;
        for (int p = 0; p < k; p++)
        {
            float* row = b + offsets[p];
            var b0 = V.Load(row);
            var b1 = V.Load(row + w);
            var b2 = V.Load(row + 2 * w);
            var a0 = V.Broadcast(a);
            c00 = V.MultiplyAdd(a0, b0, c00);
            c01 = V.MultiplyAdd(a0, b1, c01);
            c02 = V.MultiplyAdd(a0, b2, c02);
            var a1 = V.Broadcast(a + 1);
            c10 = V.MultiplyAdd(a1, b0, c10);
            c11 = V.MultiplyAdd(a1, b1, c11);
            c12 = V.MultiplyAdd(a1, b2, c12);
            var a2 = V.Broadcast(a + 2);
            c20 = V.MultiplyAdd(a2, b0, c20);
            c21 = V.MultiplyAdd(a2, b1, c21);
            c22 = V.MultiplyAdd(a2, b2, c22);
            var a3 = V.Broadcast(a + 3);
            c30 = V.MultiplyAdd(a3, b0, c30);
            c31 = V.MultiplyAdd(a3, b1, c31);
            c32 = V.MultiplyAdd(a3, b2, c32);
            a += MR;
        }
        V.Store(c00, c); V.Store(c01, c + w); V.Store(c02, c + 2 * w);
        c += ldc;
        V.Store(c10, c); V.Store(c11, c + w); V.Store(c12, c + 2 * w);
        c += ldc;
        V.Store(c20, c); V.Store(c21, c + w); V.Store(c22, c + 2 * w);
        c += ldc;
        V.Store(c30, c); V.Store(c31, c + w); V.Store(c32, c + 2 * w);
    }
}
