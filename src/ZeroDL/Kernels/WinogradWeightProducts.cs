using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// The weight gradient's products in Winograd's transformed domain, one position ξ at a time:
/// dU (F × C, row-major) += dM · Vᵀ, dM's F rows and V's C rows each <c>length</c> tiles long at a stride of
/// <c>ld</c>; every element an inner product along the tiles (<see cref="ShiftedConvolution.CorrelateTile"/>'s sums).
/// One position's rows outgrow L1, so the channel rows come from L2 once per tile of filters: a tile of 8 filters
/// × 3 channels reads them half as often as one of 4, and loads fewer vectors per multiply-add. Each element is the
/// same chain of fused multiply-adds over the tiles in order and the same fold and horizontal sum either way, so the
/// two give the same bits. <see cref="AddByFourByThree"/> is the 4 × 3 version the tests compare against.
/// (One chunk's products measured up to a fifth faster this way on an AVX-512 Xeon, DeepConvNet's conv5 most.)
/// </summary>
internal static unsafe class WinogradWeightProducts
{
    /// <summary>
    /// Whether the 8 × 3 tile's 24 accumulators fit the vector registers: 32 of them with AVX-512 (at either
    /// width), 16 without, where the 4 × 3 tile is the larger that fits.
    /// </summary>
    public static bool EightFilterTiles => Avx512F.IsSupported;

    /// <summary>
    /// dU[f·C + c] += Σ_j dM[f·ld + j] · V[c·ld + j] for f &lt; <paramref name="filters"/>, c &lt; <paramref name="c"/>;
    /// dM's rows padded with zero rows to a multiple of 4, both zero past the last tile up to <paramref name="length"/>
    /// (a multiple of 8). <paramref name="sums"/>: 24 floats. Tiles of 8 filters where <paramref name="eight"/>, the
    /// last 4 filters (if any) as 4 × 3 tiles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(int length, float* dm, float* v, long ld, int filters, int c, float* du, float* sums, bool wide, bool eight)
    {
        int f0 = 0;
        if (eight)
            for (; f0 + 8 <= filters; f0 += 8)
                for (int c0 = 0; c0 < c; c0 += 3)
                {
                    // A group past the last channel repeats it; its sums are dropped.
                    float* x0 = v + c0 * ld;
                    float* x1 = c0 + 1 < c ? x0 + ld : x0, x2 = c0 + 2 < c ? x0 + 2 * ld : x0;
                    if (wide) CorrelateTile8x3<Vector512<float>, Float16>(length, dm + f0 * ld, ld, x0, x1, x2, sums);
                    else CorrelateTile8x3<Vector256<float>, Float8>(length, dm + f0 * ld, ld, x0, x1, x2, sums);
                    for (int i = 0; i < 8; i++)
                        for (int t = 0; t < 3 && c0 + t < c; t++) du[(f0 + i) * c + c0 + t] += sums[i * 3 + t];
                }
        if (f0 < filters) AddByFourByThree(length, dm + f0 * ld, v, ld, filters - f0, c, du + f0 * c, sums, wide);
    }

    /// <summary><see cref="Add"/> by tiles of 4 filters × 3 channels (<see cref="ShiftedConvolution.CorrelateTile"/>).</summary>
    public static void AddByFourByThree(int length, float* dm, float* v, long ld, int filters, int c, float* du, float* sums, bool wide)
    {
        for (int f0 = 0; f0 < filters; f0 += 4)
            for (int c0 = 0; c0 < c; c0 += 3)
            {
                float* x0 = v + c0 * ld;
                float* x1 = c0 + 1 < c ? x0 + ld : x0, x2 = c0 + 2 < c ? x0 + 2 * ld : x0;
                ShiftedConvolution.CorrelateTile(length, dm + f0 * ld, ld, x0, x1, x2, sums, wide);
                for (int i = 0; i < 4 && f0 + i < filters; i++)
                    for (int t = 0; t < 3 && c0 + t < c; t++) du[(f0 + i) * c + c0 + t] += sums[i * 3 + t];
            }
    }

    /// <summary>
    /// sums[i·3 + t] = Σ_j d[i·ldd + j] · x_t[j] for 8 rows of d: <see cref="ShiftedConvolution.CorrelateTile"/>'s
    /// sums for two tiles of 4 rows, each the same chain, fold and horizontal sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void CorrelateTile8x3<TV, V>(int length, float* d, long ldd, float* x0, float* x1, float* x2, float* sums)
        where TV : struct where V : struct, IFloatVectors<TV>
    {
        TV s00 = V.Zero, s01 = V.Zero, s02 = V.Zero, s10 = V.Zero, s11 = V.Zero, s12 = V.Zero;
        TV s20 = V.Zero, s21 = V.Zero, s22 = V.Zero, s30 = V.Zero, s31 = V.Zero, s32 = V.Zero;
        TV s40 = V.Zero, s41 = V.Zero, s42 = V.Zero, s50 = V.Zero, s51 = V.Zero, s52 = V.Zero;
        TV s60 = V.Zero, s61 = V.Zero, s62 = V.Zero, s70 = V.Zero, s71 = V.Zero, s72 = V.Zero;
        float* d1 = d + ldd, d2 = d1 + ldd, d3 = d2 + ldd, d4 = d3 + ldd, d5 = d4 + ldd, d6 = d5 + ldd, d7 = d6 + ldd;
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
            v = V.Load(d4 + j);
            s40 = V.MultiplyAdd(v, a, s40); s41 = V.MultiplyAdd(v, b, s41); s42 = V.MultiplyAdd(v, e, s42);
            v = V.Load(d5 + j);
            s50 = V.MultiplyAdd(v, a, s50); s51 = V.MultiplyAdd(v, b, s51); s52 = V.MultiplyAdd(v, e, s52);
            v = V.Load(d6 + j);
            s60 = V.MultiplyAdd(v, a, s60); s61 = V.MultiplyAdd(v, b, s61); s62 = V.MultiplyAdd(v, e, s62);
            v = V.Load(d7 + j);
            s70 = V.MultiplyAdd(v, a, s70); s71 = V.MultiplyAdd(v, b, s71); s72 = V.MultiplyAdd(v, e, s72);
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
            v = V.LoadEight(d4 + j);
            s40 = V.MultiplyAdd(v, a, s40); s41 = V.MultiplyAdd(v, b, s41); s42 = V.MultiplyAdd(v, e, s42);
            v = V.LoadEight(d5 + j);
            s50 = V.MultiplyAdd(v, a, s50); s51 = V.MultiplyAdd(v, b, s51); s52 = V.MultiplyAdd(v, e, s52);
            v = V.LoadEight(d6 + j);
            s60 = V.MultiplyAdd(v, a, s60); s61 = V.MultiplyAdd(v, b, s61); s62 = V.MultiplyAdd(v, e, s62);
            v = V.LoadEight(d7 + j);
            s70 = V.MultiplyAdd(v, a, s70); s71 = V.MultiplyAdd(v, b, s71); s72 = V.MultiplyAdd(v, e, s72);
        }
        ShiftedConvolution.StoreSums(V.Folded(s00), V.Folded(s01), V.Folded(s02), V.Folded(s10), V.Folded(s11), V.Folded(s12),
            V.Folded(s20), V.Folded(s21), V.Folded(s22), V.Folded(s30), V.Folded(s31), V.Folded(s32), sums);
        ShiftedConvolution.StoreSums(V.Folded(s40), V.Folded(s41), V.Folded(s42), V.Folded(s50), V.Folded(s51), V.Folded(s52),
            V.Folded(s60), V.Folded(s61), V.Folded(s62), V.Folded(s70), V.Folded(s71), V.Folded(s72), sums + 12);
    }
}
