// The AVX-512 tiles reading A where it lies, for thin products (few columns): packing A there costs about as much as
// the arithmetic it feeds (25600×288×32: every element of A is used by one 32-column panel only). Rows of A are read
// 12 at a time (6 where they alias in L1), each row a sequential stream, by the 12×32 tile and, for a ragged last
// panel, the 12×24, 12×16 and 4×32 tiles; a transposed A is read a row of A (12 consecutive floats) a step, by the
// packed kernel with A's stride (Kernel12x32Avx512<StridedA>). B is read from packed panels, which the 12×32 tile
// can pack as it goes (Sgemm.CopiesB).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

internal static unsafe partial class Sgemm
{
    /// <summary>
    /// Rows ic … ic+mc of C against a packed B block, A read in place by the AVX-512 tiles (the AVX-512 counterpart
    /// of <see cref="DirectBlock"/>). A ragged last tile is formed from the product's last 12 rows, some
    /// already computed, and only its new rows are written; a product of fewer than 12 rows packs its one panel.
    /// Every element is summed as the packed kernel sums it, so either path gives the same bits. With
    /// <paramref name="sixRows"/> (<see cref="ReadsAliasedRowsSixAtATime"/>) a tile's rows of A are read six at a
    /// time, by two 6-row tiles; <paramref name="kNext"/> is the depth of the next K block (0: none), which a deep transposed A
    /// with <paramref name="prefetchRows"/> asks for ahead.
    /// </summary>
    /// <remarks>
    /// The first <paramref name="copyColumns"/> columns' panels are not packed yet: each panel's first tile (a whole 12×32
    /// one read by <see cref="Kernel12x32Avx512Direct"/>, <see cref="CopiesB"/>) reads them from the
    /// row-major B at <paramref name="rawB"/> (this K block's first row, column jc) and packs them as it goes.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectBlock512(bool transA, float* a, int lda, int ic, int pc, int mc, int kc, int nc, int jc, float* packedB,
        float* c, int ldc, bool acc, PackBuffers buffers, bool prefetchRows, bool sixRows, int kNext, int copyColumns = 0, float* rawB = null, int ldb = 0)
    {
        const int mr = 12, nr = 32;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nValid = Math.Min(nr, nc - jr);
            float* bPanel = packedB + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mValid = Math.Min(mr, mc - ir);
                float* cTile = c + (long)(ic + ir) * ldc + jc + jr;
                // A deep transposed A streamed from memory: the first panel's tiles ask for the next K block's rows of
                // A (this block's columns ic … ic+mc of them), so that they are on their way while this block is
                // multiplied; a whole 12×32 tile asks for them step by step inside its loop, any other in a burst of
                // its share before it.
                bool asksNext = transA && prefetchRows && jr == 0 && kNext > 0;
                bool nextInKernel = asksNext && mValid == mr && nValid > 24;
                if (asksNext && !nextInKernel)
                {
                    long first = pc + kc + (long)ir * kNext / mc, end = pc + kc + (long)Math.Min(mc, ir + mr) * kNext / mc;
                    PrefetchColumns(a + first * lda + ic, lda, (int)(end - first), mc);
                }
                if (mValid < mr && ic + ir + mValid < mr)
                {
                    PackA(transA, a, lda, ic + ir + mValid, ic + ir, pc, mValid, kc, mr, buffers.A);
                    EdgeTile(GemmKernel.Avx512, kc, buffers.A, bPanel, cTile, ldc, acc, mValid, nValid, buffers.Tile, nr);
                    continue;
                }
                // 1–4 ragged rows: the 4-row kernel (with the rows before them recomputed), a third of a whole tile's cost.
                if (mValid <= 4 && ic + ir >= 4 - mValid)
                {
                    int before = 4 - mValid, first = ic + ir - before;
                    bool exact = before == 0 && nValid == nr;
                    float* to = exact ? cTile : buffers.Tile;
                    int ldTo = exact ? ldc : nr;
                    if (transA) Kernel4x32Avx512(kc, a + (long)pc * lda + first, 1, lda, bPanel, to, ldTo, exact && acc);
                    else Kernel4x32Avx512(kc, a + (long)first * lda + pc, lda, 1, bPanel, to, ldTo, exact && acc);
                    if (!exact) WriteTile(buffers.Tile + before * nr, nr, cTile, ldc, mValid, nValid, acc);
                    continue;
                }
                int back = mr - mValid, row = ic + ir - back;
                // A last panel of at most 16 columns: the 12×16 tile, at half a whole tile's cost.
                if (nValid <= 16)
                {
                    bool exact = back == 0 && nValid == 16;
                    float* to = exact ? cTile : buffers.Tile;
                    int ldTo = exact ? ldc : 16;
                    if (transA) Kernel12x16Avx512(kc, a + (long)pc * lda + row, 1, lda, bPanel, nr, to, ldTo, exact && acc);
                    else Kernel12x16Avx512(kc, a + (long)row * lda + pc, lda, 1, bPanel, nr, to, ldTo, exact && acc);
                    if (!exact) WriteTile(buffers.Tile + back * 16, 16, cTile, ldc, mValid, nValid, acc);
                    continue;
                }
                // A tall A streamed from memory: the first panel's 12×24 and 12×32 tiles ask for the next tile's rows
                // of A (the 12×16 tile of a product at most 16 wide has never asked: not measured).
                if (!transA && jr == 0 && prefetchRows && ir + 2 * mr <= mc)
                    PrefetchRows(a + (long)(row + mr) * lda + pc, lda, mr, kc);
                // A last panel of 17–24 columns (n = 50: 32 + 18): the 12×24 tile, three quarters of a whole tile's cost.
                if (nValid <= 24)
                {
                    bool exact = back == 0 && nValid == 24;
                    float* to = exact ? cTile : buffers.Tile;
                    int ldTo = exact ? ldc : nr;
                    if (sixRows)
                    {
                        Kernel6x24Avx512(kc, a + (long)row * lda + pc, lda, bPanel, to, ldTo, exact && acc);
                        Kernel6x24Avx512(kc, a + (long)(row + 6) * lda + pc, lda, bPanel, to + 6 * ldTo, ldTo, exact && acc);
                    }
                    else if (transA) Kernel12x24Avx512(kc, a + (long)pc * lda + row, 1, lda, bPanel, to, ldTo, exact && acc);
                    else Kernel12x24Avx512(kc, a + (long)row * lda + pc, lda, 1, bPanel, to, ldTo, exact && acc);
                    if (!exact) WriteTile(buffers.Tile + back * nr, nr, cTile, ldc, mValid, nValid, acc);
                    continue;
                }
                // A ragged panel's whole rows go straight into C through masked stores where the CPU has them.
                bool whole = back == 0 && (nValid == nr || !transA && !sixRows && Avx512F.IsSupported);
                float* dst = whole ? cTile : buffers.Tile;
                int ld = whole ? ldc : nr;
                if (nextInKernel) Kernel12x32Avx512<StridedANextBlock>(kc, a + (long)pc * lda + row, lda, bPanel, dst, ld, whole && acc);
                else if (transA) Kernel12x32Avx512<StridedA>(kc, a + (long)pc * lda + row, lda, bPanel, dst, ld, whole && acc);
                else
                {
                    if (sixRows)
                    {
                        Kernel6x32Avx512(kc, a + (long)row * lda + pc, lda, bPanel, dst, ld, whole && acc);
                        Kernel6x32Avx512(kc, a + (long)(row + 6) * lda + pc, lda, bPanel, dst + 6 * ld, ld, whole && acc);
                    }
                    else if (ir == 0 && jr < copyColumns)
                        Kernel12x32Avx512Direct<CopyingB>(kc, a + (long)row * lda + pc, lda, rawB + jr, dst, ld, whole && acc, nr, ldb, bPanel);
                    else Kernel12x32Avx512Direct<PackedPanelB>(kc, a + (long)row * lda + pc, lda, bPanel, dst, ld, whole && acc, whole ? nValid : nr);
                }
                if (!whole) WriteTile(buffers.Tile + back * nr, nr, cTile, ldc, mValid, nValid, acc);
            }
        }
    }

    /// <summary><see cref="Kernel12x32Avx512Direct"/>'s B is a packed panel.</summary>
    private struct PackedPanelB;

    /// <summary><see cref="Kernel12x32Avx512Direct"/>'s B is a row-major B read in place and copied to its packed panel.</summary>
    private struct CopyingB;

    /// <summary>Asks for <paramref name="cols"/> floats of each of <paramref name="rows"/> rows of A (lda apart) to be brought into L2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchColumns(float* a, int lda, int rows, int cols)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < rows; r++)
        {
            float* row = a + (long)r * lda;
            for (int q = 0; q < cols; q += 16) Sse.Prefetch1(row + q);
            Sse.Prefetch1(row + cols - 1);
        }
    }

    /// <summary>
    /// The 12×32 AVX-512 tile with A's 12 rows read in place (leading dimension <paramref name="lda"/>). The rows are
    /// addressed from four pointers (rows 0, 3, 6, 9) plus 1, 2, 4 or 8 times the row stride, so that the loop needs
    /// no more integer registers than x64 has. <paramref name="cols"/> (17–32) is how many of the panel's columns are
    /// C's: a ragged panel's last columns are stored through a mask.
    /// </summary>
    /// <remarks>
    /// With <typeparamref name="TB"/> = <see cref="CopyingB"/> B is read where it lies instead, a row-major B's 32
    /// columns <paramref name="bStride"/> floats a step, and each step's 32 floats are stored to <paramref name="bCopy"/>
    /// as PackB would pack them (as <see cref="PackedACopiesB"/> does for the packed tile).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel12x32Avx512Direct<TB>(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate, int cols,
        long bStride = 32, float* bCopy = null)
        where TB : struct
    {
        System.Diagnostics.Debug.Assert(cols is > 16 and <= 32, "the masked store writes the second 16 columns only");
        PrefetchTile12x32(c, ldc);
        nint l = (nint)lda * sizeof(float);
        byte* x = (byte*)a, y = x + 3 * l, z = x + 6 * l, w = x + 9 * l;
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;
        var c8_0 = Vector512<float>.Zero; var c8_1 = Vector512<float>.Zero;
        var c9_0 = Vector512<float>.Zero; var c9_1 = Vector512<float>.Zero;
        var c10_0 = Vector512<float>.Zero; var c10_1 = Vector512<float>.Zero;
        var c11_0 = Vector512<float>.Zero; var c11_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            if (typeof(TB) == typeof(CopyingB)) bCopy = CopyStep<Vector512<float>, Float16>(b0, b1, bCopy, b + CopiedBPrefetchSteps * bStride);
            Float16.MultiplyAddRow((float*)x, b0, b1, ref c0_0, ref c0_1);
            Float16.MultiplyAddRow((float*)(x + l), b0, b1, ref c1_0, ref c1_1);
            Float16.MultiplyAddRow((float*)(x + l * 2), b0, b1, ref c2_0, ref c2_1);
            Float16.MultiplyAddRow((float*)y, b0, b1, ref c3_0, ref c3_1);
            Float16.MultiplyAddRow((float*)(x + l * 4), b0, b1, ref c4_0, ref c4_1);
            Float16.MultiplyAddRow((float*)(y + l * 2), b0, b1, ref c5_0, ref c5_1);
            Float16.MultiplyAddRow((float*)z, b0, b1, ref c6_0, ref c6_1);
            Float16.MultiplyAddRow((float*)(y + l * 4), b0, b1, ref c7_0, ref c7_1);
            Float16.MultiplyAddRow((float*)(x + l * 8), b0, b1, ref c8_0, ref c8_1);
            Float16.MultiplyAddRow((float*)w, b0, b1, ref c9_0, ref c9_1);
            Float16.MultiplyAddRow((float*)(z + l * 4), b0, b1, ref c10_0, ref c10_1);
            Float16.MultiplyAddRow((float*)(y + l * 8), b0, b1, ref c11_0, ref c11_1);
            x += sizeof(float); y += sizeof(float); z += sizeof(float); w += sizeof(float);
            b += typeof(TB) == typeof(CopyingB) ? bStride : 32;
        }
        if (cols < 32)
        {
            // A ragged panel (n = 30): its columns 16 … cols written straight into C through a mask.
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols - 16)).AsSingle();
            StoreRowMasked(c0_0, c0_1, c + 0 * ldc, accumulate, mask); StoreRowMasked(c1_0, c1_1, c + 1 * ldc, accumulate, mask);
            StoreRowMasked(c2_0, c2_1, c + 2 * ldc, accumulate, mask); StoreRowMasked(c3_0, c3_1, c + 3 * ldc, accumulate, mask);
            StoreRowMasked(c4_0, c4_1, c + 4 * ldc, accumulate, mask); StoreRowMasked(c5_0, c5_1, c + 5 * ldc, accumulate, mask);
            StoreRowMasked(c6_0, c6_1, c + 6 * ldc, accumulate, mask); StoreRowMasked(c7_0, c7_1, c + 7 * ldc, accumulate, mask);
            StoreRowMasked(c8_0, c8_1, c + 8 * ldc, accumulate, mask); StoreRowMasked(c9_0, c9_1, c + 9 * ldc, accumulate, mask);
            StoreRowMasked(c10_0, c10_1, c + 10 * ldc, accumulate, mask); StoreRowMasked(c11_0, c11_1, c + 11 * ldc, accumulate, mask);
            return;
        }
        StoreRow(c0_0, c0_1, c + 0 * ldc, accumulate); StoreRow(c1_0, c1_1, c + 1 * ldc, accumulate);
        StoreRow(c2_0, c2_1, c + 2 * ldc, accumulate); StoreRow(c3_0, c3_1, c + 3 * ldc, accumulate);
        StoreRow(c4_0, c4_1, c + 4 * ldc, accumulate); StoreRow(c5_0, c5_1, c + 5 * ldc, accumulate);
        StoreRow(c6_0, c6_1, c + 6 * ldc, accumulate); StoreRow(c7_0, c7_1, c + 7 * ldc, accumulate);
        StoreRow(c8_0, c8_1, c + 8 * ldc, accumulate); StoreRow(c9_0, c9_1, c + 9 * ldc, accumulate);
        StoreRow(c10_0, c10_1, c + 10 * ldc, accumulate); StoreRow(c11_0, c11_1, c + 11 * ldc, accumulate);
    }

    /// <summary>A row of a 32-column tile into C: the tile's sum, plus C when <paramref name="accumulate"/> (as <see cref="WriteTile"/> adds it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Vector512<float> lo, Vector512<float> hi, float* c, bool accumulate)
    {
        if (accumulate)
        {
            lo += Vector512.Load(c);
            hi += Vector512.Load(c + 16);
        }
        lo.Store(c);
        hi.Store(c + 16);
    }

    /// <summary>
    /// A row of a ragged 32-column tile: its first 16 columns whole, the rest through <paramref name="mask"/> (C added
    /// to as <see cref="WriteTile"/> adds it: the tile's sum plus C, lane by lane). AVX-512 only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowMasked(Vector512<float> lo, Vector512<float> hi, float* c, bool accumulate, Vector512<float> mask)
    {
        if (accumulate)
        {
            lo += Vector512.Load(c);
            hi += Avx512F.MaskLoad(c + 16, mask, Vector512<float>.Zero);
        }
        lo.Store(c);
        Avx512F.MaskStore(c + 16, mask, hi);
    }

    /// <summary>
    /// Twelve rows of a 16-column tile (one vector a row): a last panel of at most 16 columns (n = 48 or 784: whole
    /// 32-column panels and 16 columns more), at half the cost of a whole 32-column tile. A is read at
    /// a[i·rowStride + p·kStride] as in <see cref="Kernel4x32Avx512"/>, the rows addressed as in
    /// <see cref="Kernel12x32Avx512Direct"/>; B's first 16 columns at b + p·<paramref name="bStride"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel12x16Avx512(int kc, float* a, long rowStride, long kStride, float* b, long bStride, float* c, int ldc, bool accumulate)
    {
        nint l = (nint)rowStride * sizeof(float), step = (nint)kStride * sizeof(float);
        byte* x = (byte*)a, y = x + 3 * l, z = x + 6 * l, w = x + 9 * l;
        var c0 = Vector512<float>.Zero; var c1 = Vector512<float>.Zero; var c2 = Vector512<float>.Zero; var c3 = Vector512<float>.Zero;
        var c4 = Vector512<float>.Zero; var c5 = Vector512<float>.Zero; var c6 = Vector512<float>.Zero; var c7 = Vector512<float>.Zero;
        var c8 = Vector512<float>.Zero; var c9 = Vector512<float>.Zero; var c10 = Vector512<float>.Zero; var c11 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)x), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(x + l)), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(x + l * 2)), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)y), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(x + l * 4)), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(y + l * 2)), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)z), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(y + l * 4)), b0, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(x + l * 8)), b0, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)w), b0, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(z + l * 4)), b0, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(y + l * 8)), b0, c11);
            x += step; y += step; z += step; w += step; b += bStride;
        }
        if (accumulate)
        {
            c0 += Vector512.Load(c + 0 * ldc); c1 += Vector512.Load(c + 1 * ldc); c2 += Vector512.Load(c + 2 * ldc);
            c3 += Vector512.Load(c + 3 * ldc); c4 += Vector512.Load(c + 4 * ldc); c5 += Vector512.Load(c + 5 * ldc);
            c6 += Vector512.Load(c + 6 * ldc); c7 += Vector512.Load(c + 7 * ldc); c8 += Vector512.Load(c + 8 * ldc);
            c9 += Vector512.Load(c + 9 * ldc); c10 += Vector512.Load(c + 10 * ldc); c11 += Vector512.Load(c + 11 * ldc);
        }
        c0.Store(c + 0 * ldc); c1.Store(c + 1 * ldc); c2.Store(c + 2 * ldc); c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc); c5.Store(c + 5 * ldc); c6.Store(c + 6 * ldc); c7.Store(c + 7 * ldc);
        c8.Store(c + 8 * ldc); c9.Store(c + 9 * ldc); c10.Store(c + 10 * ldc); c11.Store(c + 11 * ldc);
    }

    /// <summary>
    /// Twelve rows of a 24-column tile (a 512-bit and a 256-bit vector a row): a last panel of 17 to 24 columns
    /// (n = 50: one whole 32-column panel and 18 columns more). The 256-bit half costs half of a 512-bit one on a CPU
    /// that splits 512-bit multiply-adds in two, so the tile costs three quarters of a whole 12×32 tile. Each element
    /// is summed as the 12×32 tile sums it (one multiply-add chain over the K block from zero, then C added), so the
    /// bits are the same. A is read as in <see cref="Kernel12x16Avx512"/>; B is a packed 32-column panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel12x24Avx512(int kc, float* a, long rowStride, long kStride, float* b, float* c, int ldc, bool accumulate)
    {
        nint l = (nint)rowStride * sizeof(float), step = (nint)kStride * sizeof(float);
        byte* x = (byte*)a, y = x + 3 * l, z = x + 6 * l, w = x + 9 * l;
        var c0 = Vector512<float>.Zero; var c1 = Vector512<float>.Zero; var c2 = Vector512<float>.Zero; var c3 = Vector512<float>.Zero;
        var c4 = Vector512<float>.Zero; var c5 = Vector512<float>.Zero; var c6 = Vector512<float>.Zero; var c7 = Vector512<float>.Zero;
        var c8 = Vector512<float>.Zero; var c9 = Vector512<float>.Zero; var c10 = Vector512<float>.Zero; var c11 = Vector512<float>.Zero;
        var d0 = Vector256<float>.Zero; var d1 = Vector256<float>.Zero; var d2 = Vector256<float>.Zero; var d3 = Vector256<float>.Zero;
        var d4 = Vector256<float>.Zero; var d5 = Vector256<float>.Zero; var d6 = Vector256<float>.Zero; var d7 = Vector256<float>.Zero;
        var d8 = Vector256<float>.Zero; var d9 = Vector256<float>.Zero; var d10 = Vector256<float>.Zero; var d11 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector256.Load(b + 16);
            var a0 = Vector512.Create(*(float*)x); c0 = Vector512.FusedMultiplyAdd(a0, b0, c0); d0 = Vector256.FusedMultiplyAdd(a0.GetLower(), b1, d0);
            var a1 = Vector512.Create(*(float*)(x + l)); c1 = Vector512.FusedMultiplyAdd(a1, b0, c1); d1 = Vector256.FusedMultiplyAdd(a1.GetLower(), b1, d1);
            var a2 = Vector512.Create(*(float*)(x + l * 2)); c2 = Vector512.FusedMultiplyAdd(a2, b0, c2); d2 = Vector256.FusedMultiplyAdd(a2.GetLower(), b1, d2);
            var a3 = Vector512.Create(*(float*)y); c3 = Vector512.FusedMultiplyAdd(a3, b0, c3); d3 = Vector256.FusedMultiplyAdd(a3.GetLower(), b1, d3);
            var a4 = Vector512.Create(*(float*)(x + l * 4)); c4 = Vector512.FusedMultiplyAdd(a4, b0, c4); d4 = Vector256.FusedMultiplyAdd(a4.GetLower(), b1, d4);
            var a5 = Vector512.Create(*(float*)(y + l * 2)); c5 = Vector512.FusedMultiplyAdd(a5, b0, c5); d5 = Vector256.FusedMultiplyAdd(a5.GetLower(), b1, d5);
            var a6 = Vector512.Create(*(float*)z); c6 = Vector512.FusedMultiplyAdd(a6, b0, c6); d6 = Vector256.FusedMultiplyAdd(a6.GetLower(), b1, d6);
            var a7 = Vector512.Create(*(float*)(y + l * 4)); c7 = Vector512.FusedMultiplyAdd(a7, b0, c7); d7 = Vector256.FusedMultiplyAdd(a7.GetLower(), b1, d7);
            var a8 = Vector512.Create(*(float*)(x + l * 8)); c8 = Vector512.FusedMultiplyAdd(a8, b0, c8); d8 = Vector256.FusedMultiplyAdd(a8.GetLower(), b1, d8);
            var a9 = Vector512.Create(*(float*)w); c9 = Vector512.FusedMultiplyAdd(a9, b0, c9); d9 = Vector256.FusedMultiplyAdd(a9.GetLower(), b1, d9);
            var a10 = Vector512.Create(*(float*)(z + l * 4)); c10 = Vector512.FusedMultiplyAdd(a10, b0, c10); d10 = Vector256.FusedMultiplyAdd(a10.GetLower(), b1, d10);
            var a11 = Vector512.Create(*(float*)(y + l * 8)); c11 = Vector512.FusedMultiplyAdd(a11, b0, c11); d11 = Vector256.FusedMultiplyAdd(a11.GetLower(), b1, d11);
            x += step; y += step; z += step; w += step; b += 32;
        }
        if (accumulate)
        {
            c0 += Vector512.Load(c + 0 * ldc); c1 += Vector512.Load(c + 1 * ldc); c2 += Vector512.Load(c + 2 * ldc);
            c3 += Vector512.Load(c + 3 * ldc); c4 += Vector512.Load(c + 4 * ldc); c5 += Vector512.Load(c + 5 * ldc);
            c6 += Vector512.Load(c + 6 * ldc); c7 += Vector512.Load(c + 7 * ldc); c8 += Vector512.Load(c + 8 * ldc);
            c9 += Vector512.Load(c + 9 * ldc); c10 += Vector512.Load(c + 10 * ldc); c11 += Vector512.Load(c + 11 * ldc);
            d0 += Vector256.Load(c + 0 * ldc + 16); d1 += Vector256.Load(c + 1 * ldc + 16); d2 += Vector256.Load(c + 2 * ldc + 16);
            d3 += Vector256.Load(c + 3 * ldc + 16); d4 += Vector256.Load(c + 4 * ldc + 16); d5 += Vector256.Load(c + 5 * ldc + 16);
            d6 += Vector256.Load(c + 6 * ldc + 16); d7 += Vector256.Load(c + 7 * ldc + 16); d8 += Vector256.Load(c + 8 * ldc + 16);
            d9 += Vector256.Load(c + 9 * ldc + 16); d10 += Vector256.Load(c + 10 * ldc + 16); d11 += Vector256.Load(c + 11 * ldc + 16);
        }
        c0.Store(c + 0 * ldc); c1.Store(c + 1 * ldc); c2.Store(c + 2 * ldc); c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc); c5.Store(c + 5 * ldc); c6.Store(c + 6 * ldc); c7.Store(c + 7 * ldc);
        c8.Store(c + 8 * ldc); c9.Store(c + 9 * ldc); c10.Store(c + 10 * ldc); c11.Store(c + 11 * ldc);
        d0.Store(c + 0 * ldc + 16); d1.Store(c + 1 * ldc + 16); d2.Store(c + 2 * ldc + 16); d3.Store(c + 3 * ldc + 16);
        d4.Store(c + 4 * ldc + 16); d5.Store(c + 5 * ldc + 16); d6.Store(c + 6 * ldc + 16); d7.Store(c + 7 * ldc + 16);
        d8.Store(c + 8 * ldc + 16); d9.Store(c + 9 * ldc + 16); d10.Store(c + 10 * ldc + 16); d11.Store(c + 11 * ldc + 16);
    }

    /// <summary>
    /// Whether the AVX-512 kernel reads a row-major A in place six rows at a time (two 6-row tiles for each 12-row
    /// one): when A's rows lie a multiple of 1024 floats (4 KB) apart, the 12 lines a 12-row tile reads at each step
    /// all fall into one L1 set, which has fewer ways than that (8 on Zen 4), and evict each other every step; 6 fit. Every tile sums an element
    /// in the same order, so the bits are those of the 12-row tiles.
    /// </summary>
    internal static bool ReadsAliasedRowsSixAtATime(GemmKernel kind, bool transA, int lda) =>
        kind == GemmKernel.Avx512 && !transA && lda % 1024 == 0;

    /// <summary>
    /// Six rows of a 32-column tile, A's rows read in place (lda apart): half of a 12×32 tile
    /// (<see cref="Kernel12x32Avx512Direct"/>) where A's rows alias in L1 (<see cref="ReadsAliasedRowsSixAtATime"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x32Avx512(int kc, float* a, long lda, float* b, float* c, int ldc, bool accumulate)
    {
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++, b += 32)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            Float16.MultiplyAddRow(a0 + p, b0, b1, ref c0_0, ref c0_1);
            Float16.MultiplyAddRow(a1 + p, b0, b1, ref c1_0, ref c1_1);
            Float16.MultiplyAddRow(a2 + p, b0, b1, ref c2_0, ref c2_1);
            Float16.MultiplyAddRow(a3 + p, b0, b1, ref c3_0, ref c3_1);
            Float16.MultiplyAddRow(a4 + p, b0, b1, ref c4_0, ref c4_1);
            Float16.MultiplyAddRow(a5 + p, b0, b1, ref c5_0, ref c5_1);
        }
        StoreRow(c0_0, c0_1, c + 0 * ldc, accumulate); StoreRow(c1_0, c1_1, c + 1 * ldc, accumulate);
        StoreRow(c2_0, c2_1, c + 2 * ldc, accumulate); StoreRow(c3_0, c3_1, c + 3 * ldc, accumulate);
        StoreRow(c4_0, c4_1, c + 4 * ldc, accumulate); StoreRow(c5_0, c5_1, c + 5 * ldc, accumulate);
    }

    /// <summary>Six rows of a 24-column tile, A's rows read in place: half of a 12×24 tile (<see cref="Kernel12x24Avx512"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x24Avx512(int kc, float* a, long lda, float* b, float* c, int ldc, bool accumulate)
    {
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        var c0 = Vector512<float>.Zero; var c1 = Vector512<float>.Zero; var c2 = Vector512<float>.Zero;
        var c3 = Vector512<float>.Zero; var c4 = Vector512<float>.Zero; var c5 = Vector512<float>.Zero;
        var d0 = Vector256<float>.Zero; var d1 = Vector256<float>.Zero; var d2 = Vector256<float>.Zero;
        var d3 = Vector256<float>.Zero; var d4 = Vector256<float>.Zero; var d5 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++, b += 32)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector256.Load(b + 16);
            var x0 = Vector512.Create(a0[p]); c0 = Vector512.FusedMultiplyAdd(x0, b0, c0); d0 = Vector256.FusedMultiplyAdd(x0.GetLower(), b1, d0);
            var x1 = Vector512.Create(a1[p]); c1 = Vector512.FusedMultiplyAdd(x1, b0, c1); d1 = Vector256.FusedMultiplyAdd(x1.GetLower(), b1, d1);
            var x2 = Vector512.Create(a2[p]); c2 = Vector512.FusedMultiplyAdd(x2, b0, c2); d2 = Vector256.FusedMultiplyAdd(x2.GetLower(), b1, d2);
            var x3 = Vector512.Create(a3[p]); c3 = Vector512.FusedMultiplyAdd(x3, b0, c3); d3 = Vector256.FusedMultiplyAdd(x3.GetLower(), b1, d3);
            var x4 = Vector512.Create(a4[p]); c4 = Vector512.FusedMultiplyAdd(x4, b0, c4); d4 = Vector256.FusedMultiplyAdd(x4.GetLower(), b1, d4);
            var x5 = Vector512.Create(a5[p]); c5 = Vector512.FusedMultiplyAdd(x5, b0, c5); d5 = Vector256.FusedMultiplyAdd(x5.GetLower(), b1, d5);
        }
        if (accumulate)
        {
            c0 += Vector512.Load(c + 0 * ldc); c1 += Vector512.Load(c + 1 * ldc); c2 += Vector512.Load(c + 2 * ldc);
            c3 += Vector512.Load(c + 3 * ldc); c4 += Vector512.Load(c + 4 * ldc); c5 += Vector512.Load(c + 5 * ldc);
            d0 += Vector256.Load(c + 0 * ldc + 16); d1 += Vector256.Load(c + 1 * ldc + 16); d2 += Vector256.Load(c + 2 * ldc + 16);
            d3 += Vector256.Load(c + 3 * ldc + 16); d4 += Vector256.Load(c + 4 * ldc + 16); d5 += Vector256.Load(c + 5 * ldc + 16);
        }
        c0.Store(c + 0 * ldc); c1.Store(c + 1 * ldc); c2.Store(c + 2 * ldc); c3.Store(c + 3 * ldc); c4.Store(c + 4 * ldc); c5.Store(c + 5 * ldc);
        d0.Store(c + 0 * ldc + 16); d1.Store(c + 1 * ldc + 16); d2.Store(c + 2 * ldc + 16);
        d3.Store(c + 3 * ldc + 16); d4.Store(c + 4 * ldc + 16); d5.Store(c + 5 * ldc + 16);
    }
}
