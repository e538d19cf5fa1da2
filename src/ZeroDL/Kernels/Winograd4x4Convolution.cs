using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// Stride-1 3×3 convolution by Winograd's minimal filtering F(4×4, 3×3) (Lavin and Gray, 2016), on the
/// interpolation points 0, ±1, ±2 and ∞. The output is cut into 4×4 tiles; each reads a 6×6 window d of the
/// zero-padded input, and Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A with
/// <code>
/// Bᵀ = | 4  0 −5  0  1  0 |   G = |  ¼     0     0  |   Aᵀ = | 1  1  1  1  1  0 |
///      | 0 −4 −4  1  1  0 |       | −⅙    −⅙    −⅙  |        | 0  1 −1  2 −2  0 |
///      | 0  4 −4 −1  1  0 |       | −⅙     ⅙    −⅙  |        | 0  1  1  4  4  0 |
///      | 0 −2 −1  2  1  0 |       | 1/24  1/12   ⅙  |        | 0  1 −1  8 −8  1 |
///      | 0  2 −1 −2  1  0 |       | 1/24 −1/12   ⅙  |
///      | 0  4  0 −5  0  1 |       |  0     0     1  |
/// </code>
/// gives the tile's 16 outputs with 36 products per channel: 2.25 a output, against F(2×2, 3×3)'s 4 (<see
/// cref="WinogradConvolution"/>) and the direct convolution's 9. As there, the products of all tiles summed over the
/// channels are 36 matrix products M_ξ (F × tiles) = U_ξ (F × C) · V_ξ (C × tiles), one per position ξ of the 6×6
/// transformed tile, run by <see cref="ShiftedConvolution.MultiplyPanels"/>; layouts, tile numbering and spills
/// follow <see cref="WinogradConvolution"/>.
/// <para>Accuracy: the transforms' larger coefficients cost precision. Against a double-precision reference, random
/// inputs in [−1, 1] and 32 channels, the outputs' rms error is about 7 times F(2×2)'s (4.7e-7 against 6.4e-8 for
/// outputs of rms 0.6); the points ±½ instead of ±2 measured the same rms and a larger maximum. The filter transform
/// is computed in double and rounded once. A non-finite input value spreads to its whole 4×4 tile (the transforms
/// cancel its weight algebraically, not in floating point), so callers send such inputs through F(2×2), whose
/// transforms keep it to the outputs whose windows hold it (<see cref="AllFinite"/>).</para>
/// <para>The input and output-gradient transforms run on 256-bit vectors whatever the products use; the output transform runs on
/// 512-bit ones where the products do (<see cref="TransformOutput{TV, V}"/>, written once for both widths), each lane
/// with the same operations: the bits do not depend on the vector width, only which tiles share a vector. A 512-bit
/// input transform measured no faster: its row pass builds each vector from four 128-bit pieces, and its column pass
/// stores the same bytes. A row's tiles are split by column phase (mod 4) with in-lane transposes.</para>
/// </summary>
internal static unsafe partial class Winograd4x4Convolution
{
    private const int Positions = 36, Lanes = 8;

    /// <summary>Floats of the widest vector a product may use: every buffer's slack allows for it.</summary>
    private const int WideLanes = 16;

    private const int MR = ShiftedConvolution.MR;

    /// <summary>
    /// Per-thread buffers: the transformed input, the products, row transforms, the rows' scratch (<see cref="RowScratch"/>:
    /// padded planes, or masks, a zero row and copied rows) and outputs;
    /// all aligned to a cache line, so that the transforms' whole-vector loads and stores of the scratch buffers never
    /// straddle two lines (a managed array's start falls anywhere on a line, and with it the share of split accesses).
    /// </summary>
    private sealed class Buffers
    {
        public readonly WinogradConvolution.AlignedBuffer V = new(), M = new(), Rows = new(), RowScratch = new(), Out = new();
        public int[] Offsets = [];
    }

    [ThreadStatic] private static Buffers? t_buffers;

    /// <summary>Output tiles along an output extent of <paramref name="size"/>: the last one cropped where 4 does not divide it.</summary>
    public static int TilesAlong(int size) => (size + 3) / 4;

    /// <summary>
    /// U[ξ] = (G g Gᵀ)[ξ] for every filter g = w[f, c] (F × C × 3 × 3), in double and rounded once, each U[ξ] (F × C)
    /// packed as the product kernel reads it: panels of 4 filters, channel-major ([ξ][panel][c][4]), the rows past F
    /// zero. A panel's 4 filters are the 4 lanes of the arithmetic; 4 channels' worth of each ξ (16 floats) is staged and
    /// stored together.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // every training step: no slow first calls
    public static void TransformFilters(ReadOnlySpan<float> weights, int filters, int c, ref float[] transformed)
    {
        if (weights.Length < filters * c * 9) throw new ArgumentException("winograd convolution: the filter buffer is too small");
        int block = WinogradConvolution.PaddedFilters(filters) * c;
        var u = WinogradConvolution.Ensure(ref transformed, (long)Positions * block);
        double* taps = stackalloc double[9 * MR];
        var gg = stackalloc Vector256<double>[18];
        // 64 bytes of each U[ξ] at a time: 4 channels' 4 floats, made here and then stored together (U is not aligned,
        // so they may straddle two lines). U[ξ] are a block apart, often a multiple of 4 KiB, so that 4-float stores
        // straight to them land in one set of the level-1 cache, which evicts each line before its next 4 floats arrive.
        float* unaligned = stackalloc float[Positions * 4 * MR + 16];
        float* stage = (float*)(((nint)unaligned + 63) & ~(nint)63);
        fixed (float* pw = weights) fixed (float* pu = u)
            for (int f0 = 0; f0 < filters; f0 += MR)
                for (int c0 = 0; c0 < c; c0 += 4)
                {
                    int group = Math.Min(4, c - c0);
                    for (int j = 0; j < group; j++)
                    {
                        int ch = c0 + j;
                        // The 9 taps of the panel's 4 filters, tap-major; zero for filters past F.
                        if (f0 + MR <= filters)
                        {
                            // A whole panel: the 4 filters' taps 0–3 and 4–7 transposed in registers, tap 8 gathered.
                            float* g0 = pw + ((long)f0 * c + ch) * 9, g1 = g0 + 9L * c, g2 = g1 + 9L * c, g3 = g2 + 9L * c;
                            Transpose4(Vector128.Load(g0), Vector128.Load(g1), Vector128.Load(g2), Vector128.Load(g3), taps);
                            Transpose4(Vector128.Load(g0 + 4), Vector128.Load(g1 + 4), Vector128.Load(g2 + 4), Vector128.Load(g3 + 4), taps + 4 * MR);
                            Vector256.Create((double)g0[8], g1[8], g2[8], g3[8]).Store(taps + 8 * MR);
                        }
                        else
                            for (int l = 0; l < MR; l++)
                            {
                                float* g = pw + ((long)(f0 + l) * c + ch) * 9;
                                for (int t = 0; t < 9; t++) taps[t * MR + l] = f0 + l < filters ? g[t] : 0.0;
                            }
                        for (int col = 0; col < 3; col++) // G g: 6 × 3
                            Interpolate(Vector256.Load(taps + col * MR), Vector256.Load(taps + (3 + col) * MR), Vector256.Load(taps + (6 + col) * MR),
                                out gg[col], out gg[3 + col], out gg[6 + col], out gg[9 + col], out gg[12 + col], out gg[15 + col]);
                        float* at = stage + j * MR;
                        for (int a = 0; a < 6; a++) // (G g) Gᵀ: 6 × 6, U[ξ] at stage + 16 ξ
                        {
                            Interpolate(gg[3 * a], gg[3 * a + 1], gg[3 * a + 2], out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
                            float* row = at + 6 * a * 16;
                            Avx.ConvertToVector128Single(u0).Store(row);
                            Avx.ConvertToVector128Single(u1).Store(row + 16);
                            Avx.ConvertToVector128Single(u2).Store(row + 2 * 16);
                            Avx.ConvertToVector128Single(u3).Store(row + 3 * 16);
                            Avx.ConvertToVector128Single(u4).Store(row + 4 * 16);
                            Avx.ConvertToVector128Single(u5).Store(row + 5 * 16);
                        }
                    }
                    float* to = pu + ((long)f0 * c + c0 * MR);
                    if (group == 4)
                        for (int xi = 0; xi < Positions; xi++)
                        {
                            Vector256.Load(stage + 16 * xi).Store(to + xi * (long)block);
                            Vector256.Load(stage + 16 * xi + 8).Store(to + xi * (long)block + 8);
                        }
                    else
                        for (int xi = 0; xi < Positions; xi++)
                            for (int j = 0; j < group; j++) Vector128.Load(stage + 16 * xi + j * MR).Store(to + xi * (long)block + j * MR);
                }
    }

    /// <summary>Rows r0 … r3 (4 floats each) transposed: column t, as 4 doubles, at <paramref name="taps"/> + 4t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(Vector128<float> r0, Vector128<float> r1, Vector128<float> r2, Vector128<float> r3, double* taps)
    {
        var a = Sse.UnpackLow(r0, r1); var b = Sse.UnpackHigh(r0, r1); // r0[0] r1[0] r0[1] r1[1] | r0[2] r1[2] r0[3] r1[3]
        var c = Sse.UnpackLow(r2, r3); var d = Sse.UnpackHigh(r2, r3);
        Avx.ConvertToVector256Double(Sse.MoveLowToHigh(a, c)).Store(taps);
        Avx.ConvertToVector256Double(Sse.MoveHighToLow(c, a)).Store(taps + 4);
        Avx.ConvertToVector256Double(Sse.MoveLowToHigh(b, d)).Store(taps + 8);
        Avx.ConvertToVector256Double(Sse.MoveHighToLow(d, b)).Store(taps + 12);
    }

    /// <summary>G · (g0, g1, g2): the filter's values at the points 0, 1, −1, 2, −2 (scaled) and its leading coefficient.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interpolate(Vector256<double> g0, Vector256<double> g1, Vector256<double> g2, out Vector256<double> r0, out Vector256<double> r1,
        out Vector256<double> r2, out Vector256<double> r3, out Vector256<double> r4, out Vector256<double> r5)
    {
        var even = g0 + g2;
        var q = (g0 + g2 * 4.0) * (1.0 / 24);
        var r = g1 * (1.0 / 12);
        r0 = g0 * 0.25;
        r1 = (even + g1) * (-1.0 / 6);
        r2 = (g1 - even) * (1.0 / 6);
        r3 = q + r;
        r4 = q - r;
        r5 = g2;
    }

    /// <summary>
    /// The filters for the input gradient, transformed: W'[c, f, ky, kx] = W[f, c, 2 − ky, 2 − kx], then as
    /// <see cref="TransformFilters"/> with C filters of F channels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransformFlippedFilters(ReadOnlySpan<float> weights, int filters, int c, ref float[] flipped, ref float[] transformed)
    {
        if (weights.Length < filters * c * 9) throw new ArgumentException("winograd convolution: the filter buffer is too small");
        if (flipped.Length < filters * c * 9) flipped = new float[filters * c * 9];
        for (int f = 0; f < filters; f++)
            for (int ch = 0; ch < c; ch++)
                for (int t = 0; t < 9; t++)
                    flipped[(ch * filters + f) * 9 + (8 - t)] = weights[(f * c + ch) * 9 + t];
        TransformFilters(flipped.AsSpan(0, filters * c * 9), c, filters, ref transformed);
    }

    /// <summary>
    /// y (images × F × OH × OW) = conv(x (images × C × H × W), 3×3 filters transformed by
    /// <see cref="TransformFilters"/>) + bias, stride 1, padding <paramref name="pad"/>, then max(0, ·) where
    /// <paramref name="rectify"/>; <paramref name="wide"/>: the products on 512-bit vectors (the same bits), and the
    /// output transform too unless <paramref name="wideOutput"/> says otherwise (tests and benchmarks compare the two);
    /// <paramref name="paddedRows"/>: the input transform by the reference's rows (<see cref="PaddedRows"/>, benchmarks).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, int images, int c, int h, int w, ReadOnlySpan<float> transformed, ReadOnlySpan<float> bias,
        int filters, int pad, Span<float> y, bool wide = false, bool rectify = false, bool? wideOutput = null, bool paddedRows = false)
    {
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        if (oh < 1 || ow < 1) throw new ArgumentException($"a 3×3 filter does not fit a {h}×{w} input with padding {pad}");
        if (images < 1 || x.Length < images * c * h * w || transformed.Length < Positions * WinogradConvolution.PaddedFilters(filters) * c
            || bias.Length < filters || y.Length < images * filters * oh * ow)
            throw new ArgumentException("winograd convolution: a buffer is too small for the geometry");
        int tilesY = TilesAlong(oh), tilesX = TilesAlong(ow), perImage = tilesY * tilesX;
        int tiles = (images * perImage + Lanes - 1) / Lanes * Lanes; // a product row: every tile, in whole vectors
        int panels = WinogradConvolution.PaddedFilters(filters) / MR;
        var buffers = t_buffers ??= new Buffers();
        // Each block (ξ) of V and M is followed by a vector of slack that the last image's spill may write or read.
        long vBlock = (long)c * tiles + WideLanes, mBlock = (long)panels * MR * tiles + WideLanes;
        float* v = buffers.V.Get(Positions * vBlock);
        float* m = buffers.M.Get(Positions * mBlock);
        if (buffers.Offsets.Length < c) buffers.Offsets = new int[c];
        var offsets = buffers.Offsets;
        for (int p = 0; p < c; p++) offsets[p] = p * tiles;
        if (paddedRows) TransformInput<PaddedRows>(x, images, c, h, w, pad, tilesY, tilesX, tiles, v, vBlock, buffers);
        else TransformInput<MaskedRows>(x, images, c, h, w, pad, tilesY, tilesX, tiles, v, vBlock, buffers);
        fixed (float* pu = transformed) fixed (int* po = offsets)
            for (int xi = 0; xi < Positions; xi++)
                ShiftedConvolution.MultiplyPanels(c, pu + (long)xi * panels * MR * c, panels, v + xi * vBlock, po, tiles, m + xi * mBlock, wide);
        if (wideOutput ?? wide) TransformOutput<Vector512<float>, Float16>(m, mBlock, images, filters, oh, ow, tilesY, tilesX, tiles, bias, y, buffers, rectify);
        else TransformOutput<Vector256<float>, Float8>(m, mBlock, images, filters, oh, ow, tilesY, tilesX, tiles, bias, y, buffers, rectify);
    }

    /// <summary>
    /// dx (images × C × H × W) = the input gradient of the convolution for dout (images × F × OH × OW), from filters
    /// transformed by <see cref="TransformFlippedFilters"/>: a convolution of dout padded by 2 − pad.
    /// </summary>
    public static void InputGradient(ReadOnlySpan<float> dout, int images, int filters, int oh, int ow, ReadOnlySpan<float> transformedFlipped,
        ReadOnlySpan<float> zeroBias, int c, int pad, Span<float> dx, bool wide = false, bool paddedRows = false) =>
        Forward(dout, images, filters, oh, ow, transformedFlipped, zeroBias, c, 2 - pad, dx, wide, paddedRows: paddedRows);

    /// <summary>
    /// dU[ξ] (F × C, row-major) += Σ_tiles (A dY Aᵀ)[ξ] · (Bᵀ d B)[ξ] for a batch: the weight gradient in the
    /// transformed domain (the adjoint of the forward pass, as <see cref="WinogradConvolution.WeightGradient"/> for
    /// F(2×2)), with 36 positions and a quarter of the tiles. V is recomputed from the input as the forward pass
    /// computes it; the products run as inner products along the tiles, 8 or 4 filters × 3 channels at a time
    /// (<see cref="WinogradWeightProducts"/>; <paramref name="wide"/>: on 512-bit vectors; <paramref name="paddedRows"/>:
    /// the transforms by the reference's rows, <see cref="PaddedRows"/>; <paramref name="eightFilterTiles"/>: the products'
    /// tiles, as <see cref="WinogradConvolution.WeightGradient"/> takes them).
    /// <see cref="WeightGradientFromTransformed"/> brings dU back to 3×3 filters.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dout, int images, int c, int h, int w, int filters, int pad,
        Span<float> dU, bool wide = false, bool paddedRows = false, bool? eightFilterTiles = null)
    {
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        if (oh < 1 || ow < 1) throw new ArgumentException($"a 3×3 filter does not fit a {h}×{w} input with padding {pad}");
        if (images < 1 || x.Length < images * c * h * w || dout.Length < images * filters * oh * ow || dU.Length < Positions * filters * c)
            throw new ArgumentException("winograd convolution: a buffer is too small for the geometry");
        int tilesY = TilesAlong(oh), tilesX = TilesAlong(ow), perImage = tilesY * tilesX, used = images * perImage;
        int tiles = (used + Lanes - 1) / Lanes * Lanes;
        int rows = WinogradConvolution.PaddedFilters(filters);
        var buffers = t_buffers ??= new Buffers();
        long vBlock = (long)c * tiles + WideLanes, mBlock = (long)rows * tiles + WideLanes;
        float* v = buffers.V.Get(Positions * vBlock);
        float* m = buffers.M.Get(Positions * mBlock);
        if (paddedRows)
        {
            TransformInput<PaddedRows>(x, images, c, h, w, pad, tilesY, tilesX, tiles, v, vBlock, buffers);
            TransformOutputGradient<PaddedRows>(dout, images, filters, oh, ow, tilesY, tilesX, tiles, m, mBlock, buffers);
        }
        else
        {
            TransformInput<MaskedRows>(x, images, c, h, w, pad, tilesY, tilesX, tiles, v, vBlock, buffers);
            TransformOutputGradient<MaskedRows>(dout, images, filters, oh, ow, tilesY, tilesX, tiles, m, mBlock, buffers);
        }
        // The inner products run over whole vectors of tiles: past the last tile, and in the filter rows that complete
        // the last panel of 4, zeros (the transforms' spill leaves other values there).
        for (int xi = 0; xi < Positions; xi++)
        {
            float* mx = m + xi * mBlock, vx = v + xi * vBlock;
            for (int f = 0; f < filters; f++) new Span<float>(mx + (long)f * tiles + used, tiles - used).Clear();
            new Span<float>(mx + (long)filters * tiles, (rows - filters) * tiles).Clear();
            for (int ch = 0; ch < c; ch++) new Span<float>(vx + (long)ch * tiles + used, tiles - used).Clear();
        }
        float* sums = stackalloc float[24];
        int block = filters * c;
        bool eight = eightFilterTiles ?? WinogradWeightProducts.EightFilterTiles;
        fixed (float* pu = dU)
            for (int xi = 0; xi < Positions; xi++)
                WinogradWeightProducts.Add(tiles, m + xi * mBlock, v + xi * vBlock, tiles, filters, c, pu + (long)xi * block, sums, wide, eight);
    }

    /// <summary>
    /// dWᵀ (K × F, row = tap c·9 + ky·3 + kx) += Gᵀ dU G for every filter and channel, in double: the weight
    /// gradient of the 3×3 filters from its transformed form (<see cref="WeightGradient"/>), 4 channels a vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGradientFromTransformed(ReadOnlySpan<float> dU, int filters, int c, Span<float> dWt)
    {
        if (dU.Length < Positions * filters * c || dWt.Length < 9 * c * filters) throw new ArgumentException("winograd convolution: a buffer is too small");
        int block = filters * c;
        var half = stackalloc Vector256<double>[18]; // Gᵀ dU: 3 × 6
        double* lanes = stackalloc double[4];
        float* tail = stackalloc float[4];
        fixed (float* pu = dU) fixed (float* pw = dWt)
            for (int f = 0; f < filters; f++)
                for (int c0 = 0; c0 < c; c0 += 4)
                {
                    int count = Math.Min(4, c - c0);
                    float* at = pu + (long)f * c + c0;
                    for (int b = 0; b < 6; b++) // column b of dU
                    {
                        Collapse(Load4(at + b * (long)block, count, tail), Load4(at + (6 + b) * (long)block, count, tail),
                            Load4(at + (12 + b) * (long)block, count, tail), Load4(at + (18 + b) * (long)block, count, tail),
                            Load4(at + (24 + b) * (long)block, count, tail), Load4(at + (30 + b) * (long)block, count, tail),
                            out half[b], out half[6 + b], out half[12 + b]);
                    }
                    for (int ky = 0; ky < 3; ky++) // (Gᵀ dU) G
                    {
                        Collapse(half[6 * ky], half[6 * ky + 1], half[6 * ky + 2], half[6 * ky + 3], half[6 * ky + 4], half[6 * ky + 5],
                            out var w0, out var w1, out var w2);
                        for (int kx = 0; kx < 3; kx++)
                        {
                            (kx == 0 ? w0 : kx == 1 ? w1 : w2).Store(lanes);
                            for (int l = 0; l < count; l++) pw[((long)(c0 + l) * 9 + ky * 3 + kx) * filters + f] += (float)lanes[l];
                        }
                    }
                }
    }

    /// <summary>The 4 floats at <paramref name="p"/> as doubles; fewer than 4 (a last group of channels): zeros after them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Load4(float* p, int count, float* tail)
    {
        if (count == 4) return Avx.ConvertToVector256Double(Vector128.Load(p));
        for (int l = 0; l < 4; l++) tail[l] = l < count ? p[l] : 0f;
        return Avx.ConvertToVector256Double(Vector128.Load(tail));
    }

    /// <summary>Gᵀ · (u0 … u5): the adjoint of <see cref="Interpolate"/>, six transformed values back to three taps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Collapse(Vector256<double> u0, Vector256<double> u1, Vector256<double> u2, Vector256<double> u3, Vector256<double> u4,
        Vector256<double> u5, out Vector256<double> w0, out Vector256<double> w1, out Vector256<double> w2)
    {
        var sum12 = u1 + u2; var sum34 = u3 + u4;
        w0 = u0 * 0.25 - sum12 * (1.0 / 6) + sum34 * (1.0 / 24);
        w1 = (u2 - u1) * (1.0 / 6) + (u3 - u4) * (1.0 / 12);
        w2 = (sum34 - sum12) * (1.0 / 6) + u5;
    }

    /// <summary>
    /// dM[ξ][f][tile] = A dY Aᵀ for every 4×4 tile dY of dout (zero past OH and OW). Per filter and image: each row's
    /// tiles, read as <typeparamref name="TSource"/> says (<see cref="MaskedRows"/>), split by column phase and
    /// transformed along x (four values to six), stored by row phase; then the four rows of every tile combined, a
    /// vector of tiles at a time. Images go two at a time where <see cref="TransformInput{TSource}"/>'s do
    /// (<see cref="PairsImages"/>), in the same way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputGradient<TSource>(ReadOnlySpan<float> dout, int images, int filters, int oh, int ow, int tilesY, int tilesX,
        int tiles, float* pm, long mBlock, Buffers buffers) where TSource : struct, IRowSource
    {
        int perImage = tilesY * tilesX;
        bool pairs = PairsImages(tilesX), halves = pairs && perImage == 4;
        int step = pairs ? 2 : 1;
        int rowBlock = tilesY * tilesX + WideLanes; // [phase][q][ty][tx], and slack for the spill
        long rowsLength = 24L * rowBlock;
        int rowLength = (tilesX + Lanes - 1) / Lanes * Lanes * 4 + 2 * Lanes;
        int hp = 4 * tilesY;
        long planeLength = (long)hp * rowLength;
        float* pr = buffers.Rows.Get(step * rowsLength);
        fixed (float* pd = dout)
        {
            float* pp = RowScratch<TSource>(buffers, step, planeLength, rowLength, 0, ow, pd, dout.Length, RowReach(tilesX, 4), out var rows);
            var masks = rows.Masks;
            // Filter by filter, image by image: an image's last vector spills into the next image's tiles, or past the
            // last image into the next filter's or the slack, all written later.
            for (int f = 0; f < filters; f++)
                for (int i = 0; i < images; i += step)
                {
                    int count = Math.Min(step, images - i);
                    float* first = pd + ((long)i * filters + f) * oh * ow, second = first + (count - 1) * (long)filters * oh * ow;
                    if (TSource.Padded)
                    {
                        for (int j = 0; j < count; j++)
                        {
                            float* plane = first + j * (long)filters * oh * ow, to = pp + j * planeLength;
                            for (int r = 0; r < oh; r++) WinogradConvolution.Copy(plane + (long)r * ow, to + (long)r * rowLength, ow);
                        }
                        first = pp; second = pp + (count - 1) * planeLength; // the last image alone: its own rows again in the high halves
                    }
                    bool inPlace = TSource.Padded || rows.InPlace(first, second + (long)(oh - 1) * ow);
                    for (int r = 0; r < hp; r++)
                    {
                        float* dst = pr + (r & 3) * 6L * rowBlock + (r >> 2) * tilesX;
                        float* src, high;
                        if (TSource.Padded) { src = first + (long)r * rowLength; high = second + (long)r * rowLength; }
                        else if (r >= oh) src = high = rows.Zero;
                        else
                        {
                            src = first + (long)r * ow; high = second + (long)r * ow;
                            if (!inPlace) { src = rows.Inside(src, 0); high = rows.Inside(high, 1); }
                        }
                        if (pairs)
                        {
                            GradientRow<TSource>(src, masks, high, masks, out var m0, out var m1, out var m2, out var m3, out var m4, out var m5);
                            StoreRowHalves(dst, rowBlock, rowsLength, m0, m1, m2, m3, m4, m5);
                        }
                        else
                            for (int j = 0; j < tilesX; j += Lanes)
                            {
                                GradientRow<TSource>(src + 4 * j, masks + j, src + 4 * j + 16, masks + j + 4,
                                    out var m0, out var m1, out var m2, out var m3, out var m4, out var m5);
                                StoreRows(dst + j, rowBlock, m0, m1, m2, m3, m4, m5);
                            }
                    }
                    // A · along the columns: tile rows 4ty + a are phase a, slot ty.
                    float* mdst = pm + (long)f * tiles + (long)i * perImage;
                    if (halves && count == 2)
                        for (int k = 0; k < 6; k++) // a vector: the first image's 4 tiles, then the second's
                        {
                            float* r0 = pr + k * rowBlock, r1 = r0 + 6L * rowBlock, r2 = r1 + 6L * rowBlock, r3 = r2 + 6L * rowBlock;
                            GradientTransform(LoadHalves(r0, rowsLength), LoadHalves(r1, rowsLength), LoadHalves(r2, rowsLength), LoadHalves(r3, rowsLength),
                                out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
                            StoreTransformed(z0, z1, z2, z3, z4, z5, mdst + k * mBlock, mBlock);
                        }
                    else
                        for (int j = 0; j < count; j++, mdst += perImage)
                            for (int k = 0; k < 6; k++)
                            {
                                float* r0 = pr + j * rowsLength + k * rowBlock, r1 = r0 + 6L * rowBlock, r2 = r1 + 6L * rowBlock, r3 = r2 + 6L * rowBlock;
                                float* m0 = mdst + k * mBlock;
                                for (int t = 0; t < perImage; t += Lanes)
                                {
                                    GradientTransform(Vector256.Load(r0 + t), Vector256.Load(r1 + t), Vector256.Load(r2 + t), Vector256.Load(r3 + t),
                                        out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
                                    StoreTransformed(z0, z1, z2, z3, z4, z5, m0 + t, mBlock);
                                }
                            }
                }
        }
    }

    /// <summary>
    /// A y along x for 8 tiles of padded rows of dout, tiles 0–3 at <paramref name="low"/> and 4–7 at
    /// <paramref name="high"/> (tile l of a half reads columns 4l … 4l + 3 from its start, group l by mask l of its
    /// half's masks): in-lane 4×4 transposes of tiles (l, l + 4), then the transform, m_k holding value k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientRow<TSource>(float* low, Vector128<float>* lowMasks, float* high, Vector128<float>* highMasks,
        out Vector256<float> m0, out Vector256<float> m1, out Vector256<float> m2, out Vector256<float> m3, out Vector256<float> m4,
        out Vector256<float> m5) where TSource : struct, IRowSource
    {
        var a = Vector256.Create(TSource.Load(low, lowMasks), TSource.Load(high, highMasks));
        var b = Vector256.Create(TSource.Load(low + 4, lowMasks + 1), TSource.Load(high + 4, highMasks + 1));
        var c = Vector256.Create(TSource.Load(low + 8, lowMasks + 2), TSource.Load(high + 8, highMasks + 2));
        var d = Vector256.Create(TSource.Load(low + 12, lowMasks + 3), TSource.Load(high + 12, highMasks + 3));
        var ab0 = Avx.UnpackLow(a, b).AsDouble(); var ab1 = Avx.UnpackHigh(a, b).AsDouble();
        var cd0 = Avx.UnpackLow(c, d).AsDouble(); var cd1 = Avx.UnpackHigh(c, d).AsDouble();
        GradientTransform(Avx.UnpackLow(ab0, cd0).AsSingle(), Avx.UnpackHigh(ab0, cd0).AsSingle(),
            Avx.UnpackLow(ab1, cd1).AsSingle(), Avx.UnpackHigh(ab1, cd1).AsSingle(),
            out m0, out m1, out m2, out m3, out m4, out m5);
    }

    /// <summary>
    /// The transformed input (<paramref name="input"/>: Bᵀ d B of x, as the forward pass computes it) or output
    /// gradient (A dY Aᵀ of dout, as the weight gradient computes it) of a batch, for tests: value[ξ][channel][tile],
    /// the tiles of all images one after another, dense. <paramref name="h"/> × <paramref name="w"/> and
    /// <paramref name="pad"/> are the forward pass's input; <paramref name="c"/> the channels of x or of dout;
    /// <paramref name="padded"/>: by the reference's rows (<see cref="PaddedRows"/>).
    /// </summary>
    internal static void Transformed(bool input, ReadOnlySpan<float> values, int images, int c, int h, int w, int pad, Span<float> transformed,
        bool padded = false)
    {
        int used = images * TilesAlong(h + 2 * pad - 2) * TilesAlong(w + 2 * pad - 2);
        if (transformed.Length < Positions * c * used) throw new ArgumentException("winograd convolution: the buffer is too small");
        long block = TransformedBlock(images, c, h, w, pad);
        var buffer = new WinogradConvolution.AlignedBuffer();
        float* p = buffer.Get(Positions * block);
        Transform(input, padded, values, images, c, h, w, pad, p, block);
        int tiles = (int)((block - WideLanes) / c);
        for (int xi = 0; xi < Positions; xi++)
            for (int ch = 0; ch < c; ch++)
                new ReadOnlySpan<float>(p + xi * block + (long)ch * tiles, used).CopyTo(transformed.Slice((xi * c + ch) * used, used));
        GC.KeepAlive(buffer); // only its pointer is used above: its finalizer would free p before the copy-out
    }

    /// <summary>The floats between two positions' blocks of <see cref="Transform"/>'s output, as the passes lay them out.</summary>
    internal static long TransformedBlock(int images, int c, int h, int w, int pad) =>
        (long)c * ((images * TilesAlong(h + 2 * pad - 2) * TilesAlong(w + 2 * pad - 2) + Lanes - 1) / Lanes * Lanes) + WideLanes;

    /// <summary>
    /// <see cref="Transformed"/> into <paramref name="p"/> (36 blocks of <see cref="TransformedBlock"/> floats) as the passes
    /// leave it, for tests and benchmarks: by <see cref="MaskedRows"/>, or by the reference's <see cref="PaddedRows"/>.
    /// </summary>
    internal static void Transform(bool input, bool padded, ReadOnlySpan<float> values, int images, int c, int h, int w, int pad, float* p, long block)
    {
        if (padded) Transform<PaddedRows>(input, values, images, c, h, w, pad, p, block);
        else Transform<MaskedRows>(input, values, images, c, h, w, pad, p, block);
    }

    /// <summary><see cref="Transform"/> by any <see cref="IRowSource"/>: tests watch the masked passes' loads through their own.</summary>
    internal static void Transform<TSource>(bool input, ReadOnlySpan<float> values, int images, int c, int h, int w, int pad, float* p, long block)
        where TSource : struct, IRowSource
    {
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2, tilesY = TilesAlong(oh), tilesX = TilesAlong(ow);
        int tiles = (images * tilesY * tilesX + Lanes - 1) / Lanes * Lanes;
        var buffers = t_buffers ??= new Buffers();
        if (input) TransformInput<TSource>(values, images, c, h, w, pad, tilesY, tilesX, tiles, p, block, buffers);
        else TransformOutputGradient<TSource>(values, images, c, oh, ow, tilesY, tilesX, tiles, p, block, buffers);
    }

    /// <summary>m = A y for four values y0 … y3 (a vector of tiles each): the adjoint of <see cref="OutputTransform"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientTransform(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3,
        out Vector256<float> m0, out Vector256<float> m1, out Vector256<float> m2, out Vector256<float> m3, out Vector256<float> m4, out Vector256<float> m5)
    {
        var even = y0 + y2; var odd = y1 + y3;
        var even4 = Vector256.FusedMultiplyAdd(Vector256.Create(4f), y2, y0);        // y0 + 4 y2
        var odd4 = Vector256.FusedMultiplyAdd(Vector256.Create(8f), y3, y1 + y1);   // 2 y1 + 8 y3
        m0 = y0;
        m1 = even + odd;
        m2 = even - odd;
        m3 = even4 + odd4;
        m4 = even4 - odd4;
        m5 = y3;
    }

    /// <summary>Whether every value is finite (no NaN, no ±∞): x − x is 0 for those and NaN for the rest, and a NaN stays in the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        fixed (float* p = values)
        {
            var acc0 = Vector256<float>.Zero; var acc1 = Vector256<float>.Zero;
            int i = 0, n = values.Length;
            for (; i + 2 * Lanes <= n; i += 2 * Lanes)
            {
                var a = Vector256.Load(p + i); var b = Vector256.Load(p + i + Lanes);
                acc0 += a - a; acc1 += b - b;
            }
            float rest = 0f;
            for (; i < n; i++) rest += p[i] - p[i];
            return Vector256.Sum(acc0 + acc1) + rest == 0f;
        }
    }

    /// <summary>
    /// Copies <paramref name="values"/> to <paramref name="destination"/> (at least as long) and tells whether every value
    /// is finite, as <see cref="AllFinite"/> does: one pass over the values instead of a copy and then a check.
    /// <para>The copy is a training layer's kept input, read again only by its backward pass, after the rest of the
    /// step: it is written around the caches (non-temporal stores, from the first 32-byte boundary on), so that it
    /// neither reads each destination line first nor evicts the transformed values the forward pass is about to use.
    /// DeepConvNet's F(4×4) forward passes measured up to a tenth faster so, their backward passes unchanged.</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool CopyAllFinite(ReadOnlySpan<float> values, Span<float> destination)
    {
        if (destination.Length < values.Length) throw new ArgumentException("the destination is shorter than the values");
        fixed (float* p = values) fixed (float* q = destination)
        {
            var acc0 = Vector256<float>.Zero; var acc1 = Vector256<float>.Zero;
            int i = 0, n = values.Length;
            float rest = 0f;
            if (Avx.IsSupported)
            {
                for (; i < n && ((nint)(q + i) & 31) != 0; i++) { q[i] = p[i]; rest += p[i] - p[i]; }
                for (; i + 2 * Lanes <= n; i += 2 * Lanes)
                {
                    var a = Vector256.Load(p + i); var b = Vector256.Load(p + i + Lanes);
                    Avx.StoreAlignedNonTemporal(q + i, a); Avx.StoreAlignedNonTemporal(q + i + Lanes, b);
                    acc0 += a - a; acc1 += b - b;
                }
                Sse.StoreFence(); // streaming stores are weakly ordered: fenced before the stores that publish the chunk as done
            }
            for (; i + 2 * Lanes <= n; i += 2 * Lanes)
            {
                var a = Vector256.Load(p + i); var b = Vector256.Load(p + i + Lanes);
                a.Store(q + i); b.Store(q + i + Lanes);
                acc0 += a - a; acc1 += b - b;
            }
            for (; i < n; i++) { q[i] = p[i]; rest += p[i] - p[i]; }
            return Vector256.Sum(acc0 + acc1) + rest == 0f;
        }
    }

    /// <summary>
    /// V[ξ][c][tile] = Bᵀ d B for every tile's 6×6 window d. Per image and channel: each padded row r, read as
    /// <typeparamref name="TSource"/> says (<see cref="MaskedRows"/>: straight from the plane), is transformed
    /// along x (d B, six values per tile, <see cref="TransformRow{TSource}"/>) and stored by row phase (r mod 4), so that rows
    /// 4ty … 4ty + 5 of all the image's tiles are whole vectors apart; then the six rows of every tile are combined
    /// (Bᵀ ·) a vector of tiles at a time. Every vector's spill past an image's tiles lands where a later one writes.
    /// <para>Where a row has at most 4 tiles (<see cref="PairsImages"/>), two images go through together: each half of
    /// a row transform's vector is one image's row, so the lanes past the row's tiles are not half or more of the work;
    /// and where an image has exactly 4 tiles, each half of a column transform's vector is one image's tiles. Where an
    /// image has 2 × 2 tiles, the masked rows go four images at a time instead (<see cref="TransformInputQuad{TSource}"/>).</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInput<TSource>(ReadOnlySpan<float> x, int images, int c, int h, int w, int pad, int tilesY, int tilesX, int tiles,
        float* pv, long vBlock, Buffers buffers) where TSource : struct, IRowSource
    {
        int perImage = tilesY * tilesX;
        int hp = 4 * tilesY + 2;
        bool pairs = PairsImages(tilesX), halves = pairs && perImage == 4;
        int step = pairs ? 2 : 1;
        // Row transforms, per image of a pair: [phase][k][ty'][tx], ty' = 0 … tilesY, and a widest vector of slack for the spill.
        int rowBlock = (tilesY + 1) * tilesX + WideLanes;
        long rowsLength = 24L * rowBlock;
        // A padded row: whole vectors of 8 tiles (four columns each), and the two columns the last tile reads beyond.
        int rowLength = (tilesX + Lanes - 1) / Lanes * Lanes * 4 + 2 * Lanes;
        long planeLength = (long)hp * rowLength;
        bool quads = !TSource.Padded && QuadsImages(tilesY, tilesX);
        float* pr = buffers.Rows.Get(Math.Max(step * rowsLength, QuadRowsLength));
        int firstRow = Math.Max(0, pad), lastRow = Math.Min(hp, pad + h); // padded rows holding input rows
        fixed (float* px = x)
        {
            float* pp = RowScratch<TSource>(buffers, step, planeLength, rowLength, pad, w, px, x.Length, RowReach(tilesX, 5), out var rows);
            var masks = rows.Masks;
            for (int ch = 0; ch < c; ch++)
                for (int i = 0, count; i < images; i += count)
                {
                    float* first = px + ((long)i * c + ch) * h * w;
                    // A quad reads its rows in place: where one would not, its images go paired, with the same bits.
                    if (quads && images - i >= 4 && rows.InPlace(first - pad, first + 3L * c * h * w + (long)(h - 1) * w - pad))
                    {
                        count = 4;
                        TransformInputQuad<TSource>(first, (long)c * h * w, h, w, pad, rows.Masks, rows.Zero, pr, pv + (long)ch * tiles + (long)i * perImage, vBlock);
                        continue;
                    }
                    // The images of this step: i, and i + 1 where images are paired (else its half of the vectors is unused).
                    count = Math.Min(step, images - i);
                    float* second = first + (count - 1) * (long)c * h * w;
                    if (TSource.Padded)
                    {
                        for (int j = 0; j < count; j++)
                        {
                            float* plane = first + j * (long)c * h * w, to = pp + j * planeLength;
                            for (int r = firstRow; r < lastRow; r++)
                                WinogradConvolution.Copy(plane + (long)(r - pad) * w, to + (long)r * rowLength + pad, w);
                        }
                        first = pp; second = pp + (count - 1) * planeLength; // the last image alone: its own rows again in the high halves
                    }
                    bool inPlace = TSource.Padded || rows.InPlace(first - pad, second + (long)(h - 1) * w - pad);
                    for (int r = 0; r < hp; r++)
                    {
                        float* dst = pr + (r & 3) * 6L * rowBlock + (r >> 2) * tilesX;
                        // Padded row r: its start in the padded copy, or column −pad of the input's row r − pad (or of the zero row).
                        float* src, high;
                        if (TSource.Padded) { src = first + (long)r * rowLength; high = second + (long)r * rowLength; }
                        else if (r < firstRow || r >= lastRow) src = high = rows.Zero - pad;
                        else
                        {
                            src = first + (long)(r - pad) * w - pad; high = second + (long)(r - pad) * w - pad;
                            if (!inPlace) { src = rows.Inside(src, 0); high = rows.Inside(high, 1); }
                        }
                        if (pairs)
                        {
                            TransformRow<TSource>(src, masks, high, masks, out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
                            StoreRowHalves(dst, rowBlock, rowsLength, z0, z1, z2, z3, z4, z5);
                        }
                        else
                            for (int j = 0; j < tilesX; j += Lanes)
                            {
                                TransformRow<TSource>(src + 4 * j, masks + j, src + 4 * j + 16, masks + j + 4,
                                    out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
                                StoreRows(dst + j, rowBlock, z0, z1, z2, z3, z4, z5);
                            }
                    }
                    // Bᵀ · along the columns: tile rows 4ty + m are phase m mod 4, slot ty + m / 4.
                    float* vdst = pv + (long)ch * tiles + (long)i * perImage;
                    if (halves && count == 2)
                        for (int k = 0; k < 6; k++) // a vector: the first image's 4 tiles, then the second's
                        {
                            float* r0 = pr + k * rowBlock, r1 = r0 + 6L * rowBlock, r2 = r1 + 6L * rowBlock, r3 = r2 + 6L * rowBlock;
                            InputTransform(LoadHalves(r0, rowsLength), LoadHalves(r1, rowsLength), LoadHalves(r2, rowsLength), LoadHalves(r3, rowsLength),
                                LoadHalves(r0 + tilesX, rowsLength), LoadHalves(r1 + tilesX, rowsLength),
                                out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
                            StoreTransformed(z0, z1, z2, z3, z4, z5, vdst + k * vBlock, vBlock);
                        }
                    else
                        for (int j = 0; j < count; j++, vdst += perImage)
                            for (int k = 0; k < 6; k++)
                            {
                                float* r0 = pr + j * rowsLength + k * rowBlock, r1 = r0 + 6L * rowBlock, r2 = r1 + 6L * rowBlock, r3 = r2 + 6L * rowBlock;
                                float* v0 = vdst + k * vBlock;
                                for (int t = 0; t < perImage; t += Lanes)
                                {
                                    InputTransform(Vector256.Load(r0 + t), Vector256.Load(r1 + t), Vector256.Load(r2 + t), Vector256.Load(r3 + t),
                                        Vector256.Load(r0 + t + tilesX), Vector256.Load(r1 + t + tilesX),
                                        out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
                                    StoreTransformed(z0, z1, z2, z3, z4, z5, v0 + t, vBlock);
                                }
                            }
                }
        }
    }

    /// <summary>
    /// Whether <see cref="TransformInput{TSource}"/> takes images two at a time: where a row has at most 4 tiles, so each image's
    /// row fits one half of a row transform's vector (DeepConvNet's 14×14 and 16×16 layers; its 8×8 ones go four at a
    /// time, <see cref="QuadsImages"/>, but for the last images of a batch).
    /// </summary>
    internal static bool PairsImages(int tilesX) => tilesX <= Lanes / 2;

    /// <summary>The low half of <paramref name="z"/> at <paramref name="p"/>, the high half <paramref name="distance"/> floats further.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreHalves(Vector256<float> z, float* p, long distance)
    {
        z.GetLower().Store(p);
        z.GetUpper().Store(p + distance);
    }

    /// <summary>A row pass's six results z0 … z5 at <paramref name="p"/>, <paramref name="stride"/> floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows(float* p, long stride, Vector256<float> z0, Vector256<float> z1, Vector256<float> z2,
        Vector256<float> z3, Vector256<float> z4, Vector256<float> z5)
    {
        z0.Store(p); z1.Store(p + stride); z2.Store(p + 2 * stride);
        z3.Store(p + 3 * stride); z4.Store(p + 4 * stride); z5.Store(p + 5 * stride);
    }

    /// <summary>
    /// A paired row pass's six results at <paramref name="p"/>, <paramref name="stride"/> floats apart, each split into
    /// its two images' halves <paramref name="distance"/> apart (<see cref="StoreHalves"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowHalves(float* p, long stride, long distance, Vector256<float> z0, Vector256<float> z1, Vector256<float> z2,
        Vector256<float> z3, Vector256<float> z4, Vector256<float> z5)
    {
        StoreHalves(z0, p, distance); StoreHalves(z1, p + stride, distance); StoreHalves(z2, p + 2 * stride, distance);
        StoreHalves(z3, p + 3 * stride, distance); StoreHalves(z4, p + 4 * stride, distance); StoreHalves(z5, p + 5 * stride, distance);
    }

    /// <summary>4 floats at <paramref name="p"/> in the low half, 4 floats <paramref name="distance"/> further in the high half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LoadHalves(float* p, long distance) => Vector256.Create(Vector128.Load(p), Vector128.Load(p + distance));

    /// <summary>The six values z0 … z5 of a vector of tiles at their positions' blocks: ξ = 6m + k, <paramref name="v0"/> at k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTransformed(Vector256<float> z0, Vector256<float> z1, Vector256<float> z2, Vector256<float> z3, Vector256<float> z4,
        Vector256<float> z5, float* v0, long vBlock)
    {
        z0.Store(v0);
        z1.Store(v0 + 6 * vBlock);
        z2.Store(v0 + 12 * vBlock);
        z3.Store(v0 + 18 * vBlock);
        z4.Store(v0 + 24 * vBlock);
        z5.Store(v0 + 30 * vBlock);
    }

    /// <summary>
    /// d B for 8 tiles of padded rows, tiles 0–3 at <paramref name="low"/> and 4–7 at <paramref name="high"/> (tile l of
    /// a half reads columns 4l … 4l + 5 from its start, each group of 4 by its mask, <typeparamref name="TSource"/>; one
    /// row's 8 tiles when <paramref name="high"/> is <paramref name="low"/> + 16): each tile's six columns gathered into
    /// six vectors by in-lane 4×4 transposes of tiles (l, l + 4), then the transform, z_k holding column k's result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransformRow<TSource>(float* low, Vector128<float>* lowMasks, float* high, Vector128<float>* highMasks,
        out Vector256<float> z0, out Vector256<float> z1, out Vector256<float> z2, out Vector256<float> z3, out Vector256<float> z4,
        out Vector256<float> z5) where TSource : struct, IRowSource
    {
        var a = Vector256.Create(TSource.Load(low, lowMasks), TSource.Load(high, highMasks));                  // tiles 0 | 4, columns 0–3
        var b = Vector256.Create(TSource.Load(low + 4, lowMasks + 1), TSource.Load(high + 4, highMasks + 1));   // tiles 1 | 5
        var c = Vector256.Create(TSource.Load(low + 8, lowMasks + 2), TSource.Load(high + 8, highMasks + 2));   // tiles 2 | 6
        var d = Vector256.Create(TSource.Load(low + 12, lowMasks + 3), TSource.Load(high + 12, highMasks + 3)); // tiles 3 | 7
        var e = Vector256.Create(TSource.Load(low + 16, lowMasks + 4), TSource.Load(high + 16, highMasks + 4)); // columns 4 and 5 of tiles 3 | 7
        var ab0 = Avx.UnpackLow(a, b).AsDouble(); var ab1 = Avx.UnpackHigh(a, b).AsDouble();
        var cd0 = Avx.UnpackLow(c, d).AsDouble(); var cd1 = Avx.UnpackHigh(c, d).AsDouble();
        var bc0 = Avx.UnpackLow(b, c).AsDouble(); var de0 = Avx.UnpackLow(d, e).AsDouble();
        InputTransform(Avx.UnpackLow(ab0, cd0).AsSingle(), Avx.UnpackHigh(ab0, cd0).AsSingle(),
            Avx.UnpackLow(ab1, cd1).AsSingle(), Avx.UnpackHigh(ab1, cd1).AsSingle(),
            Avx.UnpackLow(bc0, de0).AsSingle(), Avx.UnpackHigh(bc0, de0).AsSingle(),
            out z0, out z1, out z2, out z3, out z4, out z5);
    }

    /// <summary>z = Bᵀ d for six values d0 … d5 (a vector of tiles each): shared terms, one rounding per multiply-add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTransform(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4,
        Vector256<float> d5, out Vector256<float> z0, out Vector256<float> z1, out Vector256<float> z2, out Vector256<float> z3,
        out Vector256<float> z4, out Vector256<float> z5)
    {
        var four = Vector256.Create(4f); var minusFour = Vector256.Create(-4f);
        var t0 = Vector256.FusedMultiplyAdd(minusFour, d2, d4); // d4 − 4 d2
        var t1 = Vector256.FusedMultiplyAdd(minusFour, d1, d3); // d3 − 4 d1
        var t2 = d4 - d2;
        var t3 = (d3 - d1) * 2f;
        z0 = Vector256.FusedMultiplyAdd(four, d0 - d2, t2);     // 4 d0 − 5 d2 + d4
        z1 = t0 + t1;
        z2 = t0 - t1;
        z3 = t2 + t3;
        z4 = t2 - t3;
        z5 = Vector256.FusedMultiplyAdd(four, d1 - d3, d5 - d3); // 4 d1 − 5 d3 + d5
    }

    /// <summary>y = Aᵀ m for six values m0 … m5 (a vector of tiles each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTransform<TV, V>(TV m0, TV m1, TV m2, TV m3, TV m4, TV m5, out TV y0, out TV y1, out TV y2, out TV y3)
        where TV : struct where V : struct, IFloatVectors<TV>
    {
        var sum12 = V.Add(m1, m2); var diff12 = V.Subtract(m1, m2); var sum34 = V.Add(m3, m4); var diff34 = V.Subtract(m3, m4);
        y0 = V.Add(V.Add(m0, sum12), sum34);
        y1 = V.MultiplyAdd(V.Create(2f), diff34, diff12);
        y2 = V.MultiplyAdd(V.Create(4f), sum34, sum12);
        y3 = V.Add(V.MultiplyAdd(V.Create(8f), diff34, diff12), m5);
    }

    /// <summary>
    /// y = Aᵀ M A + bias for every tile, a vector of tiles at a time: first along the tile's columns (into a small
    /// scratch), then along its rows, each output row of a tile stored as 4 consecutive floats; then the outputs go to
    /// their places (the rows and columns past OH and OW dropped), one step later: a plane copied right after it was
    /// written would load across pending stores, which cannot be forwarded, and stall. A filter's planes are taken
    /// <see cref="ImagesPerOutputVector"/> images at a time, whose tiles are consecutive in M, so that a small image's
    /// few tiles still fill the vectors; the steps go filter by filter, each filter's images in order, so that its 36
    /// rows of M are read straight through (image group by image group, jumping between the filters' rows every step,
    /// measured slower on both widths).
    /// <para>Where the products run on native 512-bit vectors, so does this (<see cref="Forward"/>): half the
    /// instructions per tile, for F(4×4) forward passes about 5 % faster (the transform reads M and writes y at the
    /// memory's pace, which the width does not change).</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput<TV, V>(float* pm, long mBlock, int images, int filters, int oh, int ow, int tilesY, int tilesX, int tiles,
        ReadOnlySpan<float> bias, Span<float> y, Buffers buffers, bool rectify) where TV : struct where V : struct, IFloatVectors<TV>
    {
        int L = V.Count, perImage = tilesY * tilesX, group = ImagesPerOutputVector(perImage, L), groupTiles = group * perImage;
        // Per output row a of the tiles: the group's 4 × tilesX-wide rows 4ty + a, tile row after tile row, image after
        // image, and the spill; two steps' worth, written alternately.
        long outBlock = 4L * ((groupTiles + L - 1) / L * L);
        float* po = buffers.Out.Get(8 * outBlock);
        float* unaligned = stackalloc float[24 * L + 16];
        float* scratch = (float*)(((nint)unaligned + 63) & ~(nint)63); // on a cache line, as the buffers
        fixed (float* py = y)
        {
            int groups = (images + group - 1) / group, steps = groups * filters;
            for (int q = 0; q <= steps; q++)
            {
                if (q < steps) // step q: the images of group q mod groups, filter q / groups
                {
                    int i0 = q % groups * group, f = q / groups, count = Math.Min(group, images - i0);
                    float* src = pm + (long)f * tiles + (long)i0 * perImage;
                    float* dst = po + (q & 1) * 4 * outBlock;
                    var b = V.Create(bias[f]);
                    for (int t = 0; t < count * perImage; t += L)
                    {
                        float* s = src + t;
                        for (int k = 0; k < 6; k++, s += mBlock) // Aᵀ · : column k of the 6×6 tile
                        {
                            OutputTransform<TV, V>(V.Load(s), V.Load(s + 6 * mBlock), V.Load(s + 12 * mBlock),
                                V.Load(s + 18 * mBlock), V.Load(s + 24 * mBlock), V.Load(s + 30 * mBlock),
                                out var s0, out var s1, out var s2, out var s3);
                            V.Store(s0, scratch + k * L);
                            V.Store(s1, scratch + (6 + k) * L);
                            V.Store(s2, scratch + (12 + k) * L);
                            V.Store(s3, scratch + (18 + k) * L);
                        }
                        for (int a = 0; a < 4; a++) // · A: row a
                        {
                            float* r = scratch + 6 * a * L;
                            OutputTransform<TV, V>(V.Load(r), V.Load(r + L), V.Load(r + 2 * L), V.Load(r + 3 * L),
                                V.Load(r + 4 * L), V.Load(r + 5 * L), out var y0, out var y1, out var y2, out var y3);
                            y0 = V.Add(y0, b); y1 = V.Add(y1, b); y2 = V.Add(y2, b); y3 = V.Add(y3, b);
                            if (rectify)
                            {
                                y0 = V.MaxZero(y0); y1 = V.MaxZero(y1);
                                y2 = V.MaxZero(y2); y3 = V.MaxZero(y3);
                            }
                            V.StoreInterleaved4(y0, y1, y2, y3, dst + a * outBlock + 4 * t);
                        }
                    }
                }
                if (q > 0) // the step before: its outputs to their places
                {
                    int i0 = (q - 1) % groups * group, f = (q - 1) / groups, count = Math.Min(group, images - i0);
                    for (int j = 0; j < count; j++)
                    {
                        float* plane = py + ((long)(i0 + j) * filters + f) * oh * ow;
                        float* from = po + ((q - 1) & 1) * 4 * outBlock + 4L * j * perImage;
                        for (int ty = 0; ty < tilesY; ty++)
                            for (int a = 0; a < 4 && 4 * ty + a < oh; a++)
                                WinogradConvolution.Copy(from + a * outBlock + 4L * ty * tilesX, plane + (long)(4 * ty + a) * ow, ow);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The images whose planes of one filter <see cref="TransformOutput{TV, V}"/> transforms together, <paramref name="lanes"/>
    /// tiles a vector: as many as fill a vector of tiles exactly (on 256-bit vectors two for DeepConvNet's 8×8 layers,
    /// 4 tiles an image), else one.
    /// </summary>
    internal static int ImagesPerOutputVector(int perImage, int lanes) => perImage < lanes && lanes % perImage == 0 ? lanes / perImage : 1;
}
