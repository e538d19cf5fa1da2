using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// Stride-1 3×3 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, 2016). The output is
/// cut into 2×2 tiles; each reads a 4×4 window d of the zero-padded input, and
/// <code>
/// Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A      Bᵀ = | 1  0 −1  0 |   G = | 1   0   0 |   Aᵀ = | 1 1  1  0 |
///                                            | 0  1  1  0 |       | ½   ½   ½ |        | 0 1 −1 −1 |
///                                            | 0 −1  1  0 |       | ½  −½   ½ |
///                                            | 0  1  0 −1 |       | 0   0   1 |
/// </code>
/// gives the tile's four outputs with 16 products per channel instead of 36. Summed over channels, the 16
/// products of every tile become 16 independent matrix products, one per position ξ of the 4×4 transformed
/// tile: M_ξ (F × tiles) = U_ξ (F × C) · V_ξ (C × tiles), run by the shifted convolution's product kernel
/// (<see cref="ShiftedConvolution.MultiplyPanels"/>: U packed once per set of weights, V read in place). So the arithmetic is 2.25×
/// smaller than the direct convolution's, and the transforms (additions only) are linear in C + F, not C·F.
/// <para>Layouts: U is [ξ][4-filter panel][c][4], V is [ξ][c][tile], M is [ξ][f][tile], tiles numbered image by
/// image, row by row, each product row rounded up to whole vectors.
/// The transforms run 8 tiles at a time over a whole image's tiles; where an image's tile count is not a multiple
/// of 8 the last vector spills into tiles written later, or into slack at the end of each block, so there are no
/// scalar tails. The input gradient is the same convolution of dout with the filters flipped and channels swapped,
/// padded by 2 − pad. The weight gradient is the adjoint: dU_ξ = dM_ξ · V_ξᵀ summed over the tiles, with
/// dM = A dY Aᵀ, and dW = Gᵀ dU G. <see cref="Im2ColChannelMajor"/> with <see cref="Gemm"/> is the plain version
/// the tests compare against.</para>
/// </summary>
internal static unsafe class WinogradConvolution
{
    private const int Positions = 16, Lanes = 8;

    /// <summary>Floats of the widest vector a transform or product may use: every buffer's slack and rounding allows for it.</summary>
    private const int WideLanes = 16;

    /// <summary>Whether this geometry can take this path: 3×3 filters, stride 1, and AVX2 with FMA (the product kernel's).</summary>
    public static bool Applies(int kh, int kw, int stride) => kh == 3 && kw == 3 && stride == 1 && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Whether the input gradient can go this way too: it is padded by 2 − pad, so pad ≤ 2.</summary>
    public static bool AppliesToInputGradient(int pad) => pad <= 2;

    /// <summary>Per-thread buffers: the transformed input, the products, and one image's row transforms.</summary>
    private sealed class Buffers
    {
        public readonly AlignedBuffer V = new(), M = new(), Padded = new();
        public float[] Rows = [], Out = [];
        public int[] Offsets = [];
    }

    /// <summary>
    /// Unmanaged floats from a 64-byte boundary (every product row starts a whole number of vectors in, so the
    /// product kernel's loads and stores are aligned), zeroed when allocated, freed with their owner. Unmanaged
    /// rather than a pinned array: with pinned arrays, <c>ZeroDL.Bench convnet-train</c> counted a full garbage
    /// collection during the timed DeepConvNet steps; this way none.
    /// </summary>
    internal sealed class AlignedBuffer
    {
        private float* _data;
        private long _length;

        public float* Get(long length)
        {
            if (_length < length)
            {
                NativeMemory.AlignedFree(_data);
                _data = null; _length = 0;
                _data = (float*)NativeMemory.AlignedAlloc(checked((nuint)(length * sizeof(float))), 64);
                NativeMemory.Clear(_data, (nuint)(length * sizeof(float)));
                _length = length;
            }
            return _data;
        }

        ~AlignedBuffer() => NativeMemory.AlignedFree(_data);
    }

    [ThreadStatic] private static Buffers? t_buffers;

    /// <summary>
    /// A scratch buffer of at least <paramref name="length"/> floats, kept between calls. What the last vectors read
    /// past a row's tiles (slack, or what an earlier call left there) only reaches lanes that are dropped.
    /// </summary>
    internal static float[] Ensure(ref float[] buffer, long length)
    {
        if (buffer.Length < length) buffer = new float[checked((int)length)];
        return buffer;
    }

    /// <summary>Filters rounded up to whole panels of the product kernel (4 filters).</summary>
    internal static int PaddedFilters(int filters) => (filters + ShiftedConvolution.MR - 1) / ShiftedConvolution.MR * ShiftedConvolution.MR;

    /// <summary>
    /// U[ξ] = (G g Gᵀ)[ξ] for every filter g = w[f, c] (F × C × 3 × 3), each U[ξ] (F × C) packed as the product
    /// kernel reads it: panels of 4 filters, channel-major ([ξ][panel][c][4]), the rows past F zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per training step: no slow first calls
    public static void TransformFilters(ReadOnlySpan<float> weights, int filters, int c, ref float[] transformed)
    {
        if (weights.Length < filters * c * 9) throw new ArgumentException("winograd convolution: the filter buffer is too small");
        const int mr = ShiftedConvolution.MR;
        int block = PaddedFilters(filters) * c;
        var u = Ensure(ref transformed, (long)Positions * block);
        u.AsSpan(0, Positions * block).Clear();
        Span<float> gg = stackalloc float[12];
        for (int f = 0; f < filters; f++)
            for (int ch = 0; ch < c; ch++)
            {
                var g = weights.Slice((f * c + ch) * 9, 9);
                for (int col = 0; col < 3; col++) // G g: 4 × 3
                {
                    float g0 = g[col], g1 = g[3 + col], g2 = g[6 + col];
                    gg[col] = g0;
                    gg[3 + col] = 0.5f * (g0 + g1 + g2);
                    gg[6 + col] = 0.5f * (g0 - g1 + g2);
                    gg[9 + col] = g2;
                }
                int at = (f / mr * c + ch) * mr + f % mr;
                for (int a = 0; a < 4; a++) // (G g) Gᵀ: 4 × 4
                {
                    float t0 = gg[3 * a], t1 = gg[3 * a + 1], t2 = gg[3 * a + 2];
                    int row = at + 4 * a * block;
                    u[row] = t0;
                    u[row + block] = 0.5f * (t0 + t1 + t2);
                    u[row + 2 * block] = 0.5f * (t0 - t1 + t2);
                    u[row + 3 * block] = t2;
                }
            }
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
    /// <paramref name="rectify"/> (as the ReLU layer computes it, while the outputs are in registers);
    /// <paramref name="wide"/>: the transforms and products on 512-bit vectors (the same bits).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, int images, int c, int h, int w, ReadOnlySpan<float> transformed, ReadOnlySpan<float> bias,
        int filters, int pad, Span<float> y, bool wide = false, bool rectify = false)
    {
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        if (oh < 1 || ow < 1) throw new ArgumentException($"a 3×3 filter does not fit a {h}×{w} input with padding {pad}");
        if (images < 1 || x.Length < images * c * h * w || transformed.Length < Positions * PaddedFilters(filters) * c || bias.Length < filters
            || y.Length < images * filters * oh * ow)
            throw new ArgumentException("winograd convolution: a buffer is too small for the geometry");
        int tilesY = (oh + 1) / 2, tilesX = (ow + 1) / 2, perImage = tilesY * tilesX;
        int tiles = (images * perImage + Lanes - 1) / Lanes * Lanes; // a product row: every tile, in whole vectors
        int panels = PaddedFilters(filters) / ShiftedConvolution.MR;
        var buffers = t_buffers ??= new Buffers();
        // Each block (ξ) of V and M is followed by a vector of slack that the last image's spill may write or read.
        long vBlock = (long)c * tiles + WideLanes, mBlock = (long)panels * ShiftedConvolution.MR * tiles + WideLanes;
        float* v = buffers.V.Get(Positions * vBlock);
        float* m = buffers.M.Get(Positions * mBlock);
        if (buffers.Offsets.Length < c) buffers.Offsets = new int[c];
        var offsets = buffers.Offsets;
        for (int p = 0; p < c; p++) offsets[p] = p * tiles;
        if (wide) TransformInput<Vector512<float>, Float16>(x, images, c, h, w, pad, tilesY, tilesX, tiles, v, vBlock, buffers);
        else TransformInput<Vector256<float>, Float8>(x, images, c, h, w, pad, tilesY, tilesX, tiles, v, vBlock, buffers);
        fixed (float* pu = transformed) fixed (int* po = offsets)
            for (int xi = 0; xi < Positions; xi++)
                ShiftedConvolution.MultiplyPanels(c, pu + (long)xi * panels * ShiftedConvolution.MR * c, panels, v + xi * vBlock, po, tiles, m + xi * mBlock, wide);
        if (wide) TransformOutput<Vector512<float>, Float16>(m, mBlock, images, filters, oh, ow, tilesY, tilesX, tiles, bias, y, buffers, rectify);
        else TransformOutput<Vector256<float>, Float8>(m, mBlock, images, filters, oh, ow, tilesY, tilesX, tiles, bias, y, buffers, rectify);
    }

    /// <summary>
    /// dx (images × C × H × W) = the input gradient of the convolution for dout (images × F × OH × OW), from filters
    /// transformed by <see cref="TransformFlippedFilters"/>: a convolution of dout padded by 2 − pad.
    /// </summary>
    public static void InputGradient(ReadOnlySpan<float> dout, int images, int filters, int oh, int ow, ReadOnlySpan<float> transformedFlipped,
        ReadOnlySpan<float> zeroBias, int c, int pad, Span<float> dx, bool wide = false) =>
        Forward(dout, images, filters, oh, ow, transformedFlipped, zeroBias, c, 2 - pad, dx, wide);

    /// <summary>
    /// dU[ξ] (F × C, row-major) += Σ_tiles (A dY Aᵀ)[ξ] · (Bᵀ d B)[ξ] for a batch: the weight gradient in the
    /// transformed domain (the adjoint of the forward pass: M = U ⊙ V gives dU = dM · Vᵀ, dM = A dY Aᵀ). V is
    /// recomputed from the input as the forward pass computes it; the 16 products have the tiles as their long
    /// inner dimension, and run as inner products along them, 8 or 4 filters × 3 channels at a time
    /// (<see cref="WinogradWeightProducts"/>; <paramref name="wide"/>: on 512-bit vectors; <paramref name="eightFilterTiles"/>:
    /// 8 filters or 4 a tile, null as the vector registers allow, the same bits).
    /// <see cref="WeightGradientFromTransformed"/> brings dU back to 3×3 filters.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dout, int images, int c, int h, int w, int filters, int pad,
        Span<float> dU, bool wide = false, bool? eightFilterTiles = null)
    {
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        if (oh < 1 || ow < 1) throw new ArgumentException($"a 3×3 filter does not fit a {h}×{w} input with padding {pad}");
        if (images < 1 || x.Length < images * c * h * w || dout.Length < images * filters * oh * ow || dU.Length < Positions * filters * c)
            throw new ArgumentException("winograd convolution: a buffer is too small for the geometry");
        int tilesY = (oh + 1) / 2, tilesX = (ow + 1) / 2, perImage = tilesY * tilesX, used = images * perImage;
        int tiles = (used + Lanes - 1) / Lanes * Lanes;
        int rows = PaddedFilters(filters);
        var buffers = t_buffers ??= new Buffers();
        long vBlock = (long)c * tiles + WideLanes, mBlock = (long)rows * tiles + WideLanes;
        float* v = buffers.V.Get(Positions * vBlock);
        float* m = buffers.M.Get(Positions * mBlock);
        if (wide) TransformInput<Vector512<float>, Float16>(x, images, c, h, w, pad, tilesY, tilesX, tiles, v, vBlock, buffers);
        else TransformInput<Vector256<float>, Float8>(x, images, c, h, w, pad, tilesY, tilesX, tiles, v, vBlock, buffers);
        TransformOutputGradient(dout, images, filters, oh, ow, tilesY, tilesX, tiles, m, mBlock, buffers, wide);
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
    /// dWᵀ (K × F, row = tap c·9 + ky·3 + kx) += Gᵀ dU G for every filter and channel: the weight gradient of the
    /// 3×3 filters from its transformed form (<see cref="WeightGradient"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGradientFromTransformed(ReadOnlySpan<float> dU, int filters, int c, Span<float> dWt)
    {
        if (dU.Length < Positions * filters * c || dWt.Length < 9 * c * filters) throw new ArgumentException("winograd convolution: a buffer is too small");
        int block = filters * c;
        Span<float> rows = stackalloc float[12];
        for (int f = 0; f < filters; f++)
            for (int ch = 0; ch < c; ch++)
            {
                int at = f * c + ch;
                for (int b = 0; b < 4; b++) // Gᵀ dU: 3 × 4
                {
                    float u0 = dU[b * block + at], u1 = dU[(4 + b) * block + at], u2 = dU[(8 + b) * block + at], u3 = dU[(12 + b) * block + at];
                    rows[b] = u0 + 0.5f * (u1 + u2);
                    rows[4 + b] = 0.5f * (u1 - u2);
                    rows[8 + b] = 0.5f * (u1 + u2) + u3;
                }
                for (int ky = 0; ky < 3; ky++) // (Gᵀ dU) G: 3 × 3
                {
                    float z0 = rows[4 * ky], z1 = rows[4 * ky + 1], z2 = rows[4 * ky + 2], z3 = rows[4 * ky + 3];
                    int q = (ch * 9 + ky * 3) * filters + f;
                    dWt[q] += z0 + 0.5f * (z1 + z2);
                    dWt[q + filters] += 0.5f * (z1 - z2);
                    dWt[q + 2 * filters] += 0.5f * (z1 + z2) + z3;
                }
            }
    }

    /// <summary>
    /// dM[ξ][f][tile] = A dY Aᵀ for every 2×2 tile dY of dout (zero past OH and OW). A dY: rows y0, y0 + y1,
    /// y0 − y1, −y1; then each row (p, q) becomes p, p + q, p − q, −q.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputGradient(ReadOnlySpan<float> dout, int images, int filters, int oh, int ow, int tilesY, int tilesX, int tiles,
        float* pm, long mBlock, Buffers buffers, bool wide)
    {
        int perImage = tilesY * tilesX;
        int rounded = (perImage + WideLanes - 1) / WideLanes * WideLanes;
        int rowLength = (tilesX + Lanes - 1) / Lanes * Lanes * 2 + 2 * Lanes;
        var split = Ensure(ref buffers.Out, 4L * (rounded + WideLanes));
        // dout's plane, zero past OH and OW: 2·tilesY rows, all copied before any is read (see PaddedPlane).
        float* pr = PaddedPlane(buffers, 2 * tilesY, rowLength);
        fixed (float* pd = dout) fixed (float* ps = split)
        {
            // One image's dY split four ways over its tiles: top-left, top-right, bottom-left, bottom-right.
            float* y00 = ps, y01 = ps + rounded + WideLanes, y10 = y01 + rounded + WideLanes, y11 = y10 + rounded + WideLanes;
            // Filter by filter, image by image: an image's last vector spills into the next image's tiles, or past
            // the last image into the slack, both written later.
            for (int f = 0; f < filters; f++)
                for (int i = 0; i < images; i++)
                {
                    CopyPadded(pd + ((long)i * filters + f) * oh * ow, oh, ow, 0, 2 * tilesY, pr, rowLength);
                    for (int ty = 0; ty < tilesY; ty++)
                        for (int half = 0; half < 2; half++)
                        {
                            // The row split into even and odd columns.
                            float* row = pr + (long)(2 * ty + half) * rowLength;
                            float* even = (half == 0 ? y00 : y10) + ty * tilesX, odd = (half == 0 ? y01 : y11) + ty * tilesX;
                            for (int j = 0; j < tilesX; j += Lanes)
                            {
                                var (e, o) = VectorShuffles.Deinterleave(row + 2 * j);
                                e.Store(even + j);
                                o.Store(odd + j);
                            }
                        }
                    float* dst = pm + (long)f * tiles + (long)i * perImage;
                    // The same additions on either width: the same bits.
                    if (wide) CombineRows<Vector512<float>, Float16>(y00, y01, y10, y11, perImage, dst, mBlock);
                    else CombineRows<Vector256<float>, Float8>(y00, y01, y10, y11, perImage, dst, mBlock);
                }
        }
    }

    /// <summary>
    /// dM for one image's tiles of one filter, from its dY split four ways (<paramref name="y00"/> top-left …
    /// <paramref name="y11"/> bottom-right): A dY's rows y0, y0 + y1, y0 − y1, −y1, each then as <see cref="StoreRow{TV, V}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CombineRows<TV, V>(float* y00, float* y01, float* y10, float* y11, int perImage, float* dst, long mBlock)
        where TV : struct where V : struct, IFloatVectors<TV>
    {
        for (int t = 0; t < perImage; t += V.Count)
        {
            var a00 = V.Load(y00 + t); var a01 = V.Load(y01 + t);
            var a10 = V.Load(y10 + t); var a11 = V.Load(y11 + t);
            StoreRow<TV, V>(a00, a01, dst + t, mBlock);                                                // ξ = 0 … 3
            StoreRow<TV, V>(V.Add(a00, a10), V.Add(a01, a11), dst + 4 * mBlock + t, mBlock);           // ξ = 4 … 7
            StoreRow<TV, V>(V.Subtract(a00, a10), V.Subtract(a01, a11), dst + 8 * mBlock + t, mBlock); // ξ = 8 … 11
            StoreRow<TV, V>(V.Negate(a10), V.Negate(a11), dst + 12 * mBlock + t, mBlock);              // ξ = 12 … 15
        }
    }

    /// <summary>A row (p, q) of A dY times Aᵀ: p, p + q, p − q, −q, at stride <paramref name="stride"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TV, V>(TV p, TV q, float* dst, long stride) where TV : struct where V : struct, IFloatVectors<TV>
    {
        V.Store(p, dst);
        V.Store(V.Add(p, q), dst + stride);
        V.Store(V.Subtract(p, q), dst + 2 * stride);
        V.Store(V.Negate(q), dst + 3 * stride);
    }

    /// <summary>
    /// V[ξ][c][tile] = Bᵀ d B for every tile's 4×4 window d. Per image and channel: each padded row r is first
    /// transformed along x (d B, four values per tile), stored by row parity so that rows r and r + 2 of all the
    /// image's tiles are one vector apart; then the four rows of every tile are combined (Bᵀ ·) a vector of tiles at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInput<TV, V>(ReadOnlySpan<float> x, int images, int c, int h, int w, int pad, int tilesY, int tilesX, int tiles,
        float* pv, long vBlock, Buffers buffers) where TV : struct where V : struct, IFloatVectors<TV>
    {
        int perImage = tilesY * tilesX;
        int hp = 2 * tilesY + 2;
        // Row transforms: [parity][k][ty'][tx], ty' = 0 … tilesY (tilesY + 1 rows of each parity), one vector of slack.
        int rowBlock = RowBlock(tilesY, tilesX);
        int rowLength = PaddedRowLength(tilesX);
        var rows = Ensure(ref buffers.Rows, 8L * rowBlock);
        float* pp = PaddedPlane(buffers, hp, rowLength);
        fixed (float* px = x) fixed (float* pr = rows)
        {
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < images; i++)
                {
                    CopyPadded(px + ((long)i * c + ch) * h * w, h, w, pad, hp, pp, rowLength);
                    for (int r = 0; r < hp; r++)
                    {
                        float* row = pp + (long)r * rowLength;
                        // d B along the row, a vector of tiles at a time: tile j reads columns 2j … 2j + 3, split into
                        // even and odd columns. A row's last vector spills into the next row of its parity, written later.
                        float* r0 = pr + ((r & 1) * 4) * rowBlock + (r >> 1) * tilesX;
                        float* r1 = r0 + rowBlock, r2 = r1 + rowBlock, r3 = r2 + rowBlock;
                        for (int j = 0; j < tilesX; j += V.Count)
                        {
                            var (d0, d1) = V.Deinterleave(row + 2 * j);
                            var (d2, d3) = V.Deinterleave(row + 2 * j + 2);
                            V.Store(V.Subtract(d0, d2), r0 + j);
                            V.Store(V.Add(d1, d2), r1 + j);
                            V.Store(V.Subtract(d2, d1), r2 + j);
                            V.Store(V.Subtract(d1, d3), r3 + j);
                        }
                    }
                    // Bᵀ · along the columns: tile rows 2ty, 2ty + 1, 2ty + 2, 2ty + 3 are even[ty], odd[ty], even[ty + 1], odd[ty + 1].
                    float* dst = pv + (long)ch * tiles + (long)i * perImage;
                    for (int k = 0; k < 4; k++)
                    {
                        float* even = pr + k * rowBlock, odd = pr + (4 + k) * rowBlock;
                        float* v0 = dst + k * vBlock, v1 = v0 + 4 * vBlock, v2 = v1 + 4 * vBlock, v3 = v2 + 4 * vBlock;
                        for (int t = 0; t < perImage; t += V.Count)
                        {
                            var e0 = V.Load(even + t); var e1 = V.Load(even + t + tilesX);
                            var o0 = V.Load(odd + t); var o1 = V.Load(odd + t + tilesX);
                            V.Store(V.Subtract(e0, e1), v0 + t);
                            V.Store(V.Add(o0, e1), v1 + t);
                            V.Store(V.Subtract(e1, o0), v2 + t);
                            V.Store(V.Subtract(o0, o1), v3 + t);
                        }
                    }
                }
        }
    }

    /// <summary>
    /// y = Aᵀ M A + bias for every tile: the 16 products of a tile give its 2×2 outputs, a vector of tiles at a time;
    /// then the outputs go to their places (the last row or column dropped where OH or OW is odd).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput<TV, V>(float* pm, long mBlock, int images, int filters, int oh, int ow, int tilesY, int tilesX, int tiles,
        ReadOnlySpan<float> bias, Span<float> y, Buffers buffers, bool rectify) where TV : struct where V : struct, IFloatVectors<TV>
    {
        int perImage = tilesY * tilesX;
        int rounded = (perImage + WideLanes - 1) / WideLanes * WideLanes;
        var outs = Ensure(ref buffers.Out, 4L * rounded);
        fixed (float* py = y) fixed (float* po = outs)
        {
            // The image's output rows 2ty and 2ty + 1 as 2·tilesX floats each, tile row after tile row.
            float* top = po, bottom = po + 2 * rounded;
            for (int i = 0; i < images; i++)
                for (int f = 0; f < filters; f++)
                {
                    float* src = pm + (long)f * tiles + (long)i * perImage;
                    var b = V.Create(bias[f]);
                    for (int t = 0; t < perImage; t += V.Count)
                    {
                        float* s = src + t;
                        var m00 = V.Load(s); var m01 = V.Load(s + mBlock); var m02 = V.Load(s + 2 * mBlock); var m03 = V.Load(s + 3 * mBlock);
                        s += 4 * mBlock;
                        var m10 = V.Load(s); var m11 = V.Load(s + mBlock); var m12 = V.Load(s + 2 * mBlock); var m13 = V.Load(s + 3 * mBlock);
                        s += 4 * mBlock;
                        var m20 = V.Load(s); var m21 = V.Load(s + mBlock); var m22 = V.Load(s + 2 * mBlock); var m23 = V.Load(s + 3 * mBlock);
                        s += 4 * mBlock;
                        var m30 = V.Load(s); var m31 = V.Load(s + mBlock); var m32 = V.Load(s + 2 * mBlock); var m33 = V.Load(s + 3 * mBlock);
                        // Aᵀ · (rows: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3), then · A (columns, the same), + bias.
                        var s00 = V.Add(V.Add(m00, m10), m20); var s01 = V.Add(V.Add(m01, m11), m21);
                        var s02 = V.Add(V.Add(m02, m12), m22); var s03 = V.Add(V.Add(m03, m13), m23);
                        var s10 = V.Subtract(V.Subtract(m10, m20), m30); var s11 = V.Subtract(V.Subtract(m11, m21), m31);
                        var s12 = V.Subtract(V.Subtract(m12, m22), m32); var s13 = V.Subtract(V.Subtract(m13, m23), m33);
                        var y00 = V.Add(V.Add(V.Add(s00, s01), s02), b); var y01 = V.Add(V.Subtract(V.Subtract(s01, s02), s03), b);
                        var y10 = V.Add(V.Add(V.Add(s10, s11), s12), b); var y11 = V.Add(V.Subtract(V.Subtract(s11, s12), s13), b);
                        if (rectify)
                        {
                            y00 = V.MaxZero(y00); y01 = V.MaxZero(y01);
                            y10 = V.MaxZero(y10); y11 = V.MaxZero(y11);
                        }
                        V.StoreInterleaved(y00, y01, top + 2 * t);
                        V.StoreInterleaved(y10, y11, bottom + 2 * t);
                    }
                    float* plane = py + ((long)i * filters + f) * oh * ow;
                    for (int ty = 0; ty < tilesY; ty++)
                    {
                        int row = 2 * ty;
                        Copy(top + 2 * ty * tilesX, plane + (long)row * ow, ow);
                        if (row + 1 < oh) Copy(bottom + 2 * ty * tilesX, plane + (long)(row + 1) * ow, ow);
                    }
                }
        }
    }

    /// <summary>
    /// Floats per block of the row transforms ([parity][k] blocks of tilesY + 1 rows of tilesX): a widest vector of
    /// slack, which the last row's spill and the column pass's last reads may reach.
    /// </summary>
    private static int RowBlock(int tilesY, int tilesX) => (tilesY + 1) * tilesX + WideLanes;

    /// <summary>
    /// The scratch padded plane, <paramref name="hp"/> rows of <paramref name="rowLength"/> floats, zeroed: only the
    /// interior, the same for every plane of a call, is written (<see cref="CopyPadded"/>), so the padding stays 0.
    /// A whole plane is copied before its rows are read: a row read right after its copy would load across the
    /// copy's still-pending stores, which cannot be forwarded to a load they only partly cover, and stall.
    /// </summary>
    private static float* PaddedPlane(Buffers buffers, int hp, int rowLength)
    {
        float* pp = buffers.Padded.Get((long)hp * rowLength);
        new Span<float>(pp, hp * rowLength).Clear();
        return pp;
    }

    /// <summary>Copies an h × w plane into the interior of the padded plane at <paramref name="pp"/> (rows past <paramref name="hp"/> dropped).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyPadded(float* plane, int h, int w, int pad, int hp, float* pp, int rowLength)
    {
        for (int r = Math.Max(0, pad), last = Math.Min(hp, pad + h); r < last; r++)
            Copy(plane + (long)(r - pad) * w, pp + (long)r * rowLength + pad, w);
    }

    /// <summary>The scratch padded row: whole widest vectors of tiles (two columns each) and what the last ones read past it.</summary>
    private static int PaddedRowLength(int tilesX) => (tilesX + WideLanes - 1) / WideLanes * WideLanes * 2 + 2 * WideLanes;

    /// <summary>Zeroes a short row; from 8 floats on, the last vector overlaps the one before instead of a scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Clear(float* dst, int count)
    {
        if (count < Lanes)
        {
            for (int k = 0; k < count; k++) dst[k] = 0f;
            return;
        }
        for (int k = 0; k < count - Lanes; k += Lanes) Vector256<float>.Zero.Store(dst + k);
        Vector256<float>.Zero.Store(dst + count - Lanes);
    }

    /// <summary>
    /// A short row copy (8 to 28 floats in the book's networks) without a call per row; from 8 floats on, the last
    /// vector overlaps the one before instead of a scalar tail (the rows never overlap each other).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(float* src, float* dst, int count)
    {
        if (count < Lanes)
        {
            for (int k = 0; k < count; k++) dst[k] = src[k];
            return;
        }
        for (int k = 0; k < count - Lanes; k += Lanes) Vector256.Load(src + k).Store(dst + k);
        Vector256.Load(src + count - Lanes).Store(dst + count - Lanes);
    }
}
