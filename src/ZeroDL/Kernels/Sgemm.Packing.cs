// Packing: A's blocks into MR-high panels and B's into NR-wide panels, each laid out in the order the micro-kernel
// reads it (one panel a contiguous run), so that the kernel's loads are sequential whatever the operands' strides
// or transposition; ragged panels are padded with zeros.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

internal static unsafe partial class Sgemm
{
    /// <summary>Packs op(A)[ic.., pc..] (mc×kc of op(A)'s m rows) into panels of MR rows: panel[p*MR + i]; short panels are zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool transA, float* a, int lda, int m, int ic, int pc, int mc, int kc, int mr, float* dst)
    {
        if (transA && mr is 6 or 12 && mc >= mr && Sse.IsSupported)
        {
            // A transposed A's whole panels, a row of A at a time: each row's mc floats read once, in sequence, into
            // every panel. Panel by panel, each panel would read its few floats from kc rows lda apart, and when lda is
            // a multiple of 512 floats those rows share one L1 set, so the next panel's reads all miss again.
            int whole = mc / mr * mr;
            for (int p = 0; p < kc; p++)
            {
                float* src = a + (long)(pc + p) * lda + ic;
                float* to = dst + p * mr;
                if (mr == 6)
                    for (int i = 0; i < whole; i += 6, src += 6, to += 6 * kc)
                    {
                        Vector128.Load(src).Store(to);
                        *(long*)(to + 4) = *(long*)(src + 4);
                    }
                else
                    for (int i = 0; i < whole; i += 12, src += 12, to += 12 * kc)
                    {
                        Vector256.Load(src).Store(to);
                        Vector128.Load(src + 8).Store(to + 8);
                    }
            }
            if (whole == mc) return;
            dst += (long)whole * kc;
            ic += whole;
            mc -= whole;
        }
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* panel = dst + (long)ir * kc;
            if (!transA)
            {
                int p0 = 0;
                // Whole 6-row panels, 8 columns of A at a time, through an 8×8 transpose in registers (the AVX2
                // tile); each output row is stored 8 wide, its last 2 floats overwritten by the next row, so the
                // last block of a panel (whose spill would leave it) goes the plain way.
                // In deep blocks, each 16 columns, the panel two on (rows 12 ahead) is asked for: A comes from L3 or
                // memory with its rows lda apart, and without the prefetch each transposition waited on its six rows'
                // misses. A shallow block's rows are a few lines each, which the hardware prefetcher covers.
                bool ahead = kc >= PackAPrefetchMinDepth && ir + PackAPrefetchRows < mc;
                if (rows == 6 && mr == 6 && Avx2.IsSupported)
                    for (; p0 + 8 < kc; p0 += 8)
                    {
                        if (ahead && (p0 & 15) == 0)
                            PrefetchLineOfRows(a + (long)(ic + ir + PackAPrefetchRows) * lda + pc + p0, lda, 6);
                        Transpose6x8(a + (long)(ic + ir) * lda + pc + p0, lda, panel + p0 * 6);
                    }
                // Whole 12-row panels (the AVX-512 tile): 8 columns of A at a time, rows 0–7 and 8–11 transposed
                // apart; every store lies inside the panel, so the blocks run to the last whole 8 columns.
                if (rows == 12 && mr == 12 && Avx2.IsSupported)
                    for (; p0 + 8 <= kc; p0 += 8)
                        Transpose12x8(a + (long)(ic + ir) * lda + pc + p0, lda, panel + p0 * 12);
                // A short last panel of 4 rows (100 rows = 8 · 12 + 4, or 16 · 6 + 4): 8 columns at a time as well,
                // rather than a float at a time.
                if (rows == 4 && mr is 6 or 12 && Avx2.IsSupported)
                    for (; p0 + 8 <= kc; p0 += 8)
                        Transpose4x8(a + (long)(ic + ir) * lda + pc + p0, lda, panel + p0 * mr, mr);
                for (int i = 0; i < rows; i++)
                {
                    float* src = a + (long)(ic + ir + i) * lda + pc;
                    for (int p = p0; p < kc; p++) panel[p * mr + i] = src[p];
                }
            }
            else
            {
                // op(A) = Aᵀ: a panel row is consecutive floats of A. Where the row-at-a-time loops above ran, only
                // the last, short panel is left for this one.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(pc + p) * lda + ic + ir;
                    float* row = panel + p * mr;
                    for (int i = 0; i < rows; i++) row[i] = src[i];
                }
            }
            if (rows < mr) ZeroPanelRows(panel, kc, mr, rows);
        }
    }

    /// <summary>
    /// How many rows ahead the packing of a row-major A into 6-row panels asks for A's lines: two panels, so that a
    /// panel's lines arrive while the one before it is transposed.
    /// </summary>
    private const int PackAPrefetchRows = 12;

    /// <summary>The shallowest K block whose packing of A asks for its lines ahead (<see cref="PackAPrefetchRows"/>): rows of 8 cache lines.</summary>
    private const int PackAPrefetchMinDepth = 128;

    /// <summary>Asks for the cache line at <paramref name="row"/> in each of <paramref name="rows"/> rows <paramref name="lda"/> floats apart, into L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchLineOfRows(float* row, long lda, int rows)
    {
        if (!Sse.IsSupported) return;
        for (int i = 0; i < rows; i++, row += lda) Sse.Prefetch0(row);
    }

    /// <summary>Zeroes rows <paramref name="rows"/> … <paramref name="mr"/> − 1 of a packed A panel (the padding of a short panel), 8 and 4 floats at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroPanelRows(float* panel, int kc, int mr, int rows)
    {
        for (int p = 0; p < kc; p++)
        {
            float* row = panel + p * mr;
            int i = rows;
            for (; i + 8 <= mr; i += 8) Vector256<float>.Zero.Store(row + i);
            if (i + 4 <= mr) { Vector128<float>.Zero.Store(row + i); i += 4; }
            for (; i < mr; i++) row[i] = 0f;
        }
    }

    /// <summary>
    /// How many rows of a row-major B its packing asks for ahead. A panel is packed a row of B at a time, the rows ldb
    /// apart: from L3 (a deep product's B block is packed once per K block and read from memory or L3) each row's
    /// line would be a miss that the copy waits for.
    /// </summary>
    private const int PackBPrefetchRows = 8;

    /// <summary>
    /// The widest group of panels packed side by side, row by row (<see cref="PackB"/>): 128 columns (8 AVX2 panels,
    /// 4 AVX-512 ones), each row's stretch 8 cache lines read in sequence. Groups of 256 columns measured no faster
    /// than panel by panel.
    /// </summary>
    private const int PackBGroupColumns = 128;

    /// <summary>
    /// How many rows of B ahead the grouped packing asks for: a row's stretch takes a few tens of cycles to copy, so it
    /// asks further ahead than <see cref="PackBPrefetchRows"/> to cover a miss to memory.
    /// </summary>
    private const int PackBGroupPrefetchRows = 32;

    /// <summary>
    /// Whether a shared-B product packs its K blocks in bands of whole rows (<see cref="PackBBand"/>) rather than in
    /// groups of columns: a row-major B whose block is whole AVX-512 panels wide. Each row of the block is then read in
    /// one sequential stretch, a page of B at a time for a B 1024 floats wide, which the hardware prefetcher streams; a
    /// group's 128 columns gave it a few lines of each page at a time, and the packing of 1024³ on a Xeon (Emerald
    /// Rapids) took a third longer. The AVX2 kernel's 16-wide panels keep the groups: in bands, its 1024³ measured
    /// slightly slower there.
    /// </summary>
    internal static bool PacksBInBands(bool transB, int nc, int nr) => !transB && nr == 32 && nc % nr == 0;

    /// <summary>The rows of B in one band of a shared-B product's packing (<see cref="PackBBand"/>): a K block of 512 in 8 pieces for the threads to share.</summary>
    internal const int PackBBandRows = 64;

    /// <summary>
    /// Packs rows row … row+rows of a row-major B's K block (from row pc, columns jc …, nc of them, whole 32-wide
    /// panels) into the kc-deep panels of <paramref name="dst"/>, exactly where <see cref="PackB"/> puts them: each row
    /// of B read once, in sequence, its 32-float stretches stored into every panel in turn.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackBBand(float* b, int ldb, int pc, int row, int rows, int kc, int jc, int nc, float* dst)
    {
        const int nr = 32;
        long panel = (long)nr * kc;
        for (int p = row; p < row + rows; p++)
        {
            float* src = b + (long)(pc + p) * ldb + jc;
            float* to = dst + (long)p * nr;
            for (int q = 0; q < nc; q += nr, src += nr, to += panel)
            {
                Vector512.Store(Vector512.Load(src), to);
                Vector512.Store(Vector512.Load(src + 16), to + 16);
            }
        }
    }

    /// <summary>Packs op(B)[pc.., jc..] (kc×nc) into panels of NR columns: panel[p*NR + j]; short panels are zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackB(bool transB, float* b, int ldb, int pc, int jc, int kc, int nc, int nr, float* dst)
    {
        int firstPanel = 0;
        if (!transB && Vector256.IsHardwareAccelerated)
        {
            // Whole panels, PackBGroupColumns of columns side by side, row by row: one sequential read of each B row's
            // stretch into the group's panel streams. Panel by panel (below), each row of B would give one or two
            // cache lines, the next ones ldb floats on: a wide B coming from L3 or memory (100×3072×512) then waits on
            // a miss every row.
            int whole = nc / nr * nr;
            for (int g = 0; g < whole; g += PackBGroupColumns)
            {
                int width = Math.Min(PackBGroupColumns, whole - g), panels = width / nr;
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(pc + p) * ldb + jc + g;
                    if (Sse.IsSupported)
                    {
                        float* ahead = src + PackBGroupPrefetchRows * (long)ldb;
                        for (int f = 0; f < width; f += 16) Sse.Prefetch0(ahead + f);
                        Sse.Prefetch0(ahead + width - 1);
                    }
                    float* row = dst + (long)g * kc + p * nr;
                    if (nr == 16)
                        for (int q = 0; q < panels; q++, src += 16, row += 16 * kc)
                        {
                            Vector256.Store(Vector256.Load(src), row);
                            Vector256.Store(Vector256.Load(src + 8), row + 8);
                        }
                    else
                        for (int q = 0; q < panels; q++, src += 32, row += 32 * kc)
                        {
                            Vector512.Store(Vector512.Load(src), row);
                            Vector512.Store(Vector512.Load(src + 16), row + 16);
                        }
                }
            }
            firstPanel = whole;
        }
        for (int jr = firstPanel; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* panel = dst + (long)jr * kc;
            if (!transB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(pc + p) * ldb + jc + jr;
                    if (Sse.IsSupported)
                    {
                        // A row of the panel spans up to 2 cache lines (16 floats) or 3 (32).
                        float* ahead = src + PackBPrefetchRows * (long)ldb;
                        Sse.Prefetch0(ahead);
                        if (nr == 32) Sse.Prefetch0(ahead + 16);
                        Sse.Prefetch0(ahead + nr - 1);
                    }
                    float* row = panel + p * nr;
                    if (cols == nr)
                    {
                        if (nr == 32)
                        {
                            Vector512.Store(Vector512.Load(src), row);
                            Vector512.Store(Vector512.Load(src + 16), row + 16);
                        }
                        else
                        {
                            Vector256.Store(Vector256.Load(src), row);
                            Vector256.Store(Vector256.Load(src + 8), row + 8);
                        }
                    }
                    else if (Avx2.IsSupported)
                    {
                        // The ragged panel: masked loads read only the valid columns and give zeros for the rest.
                        for (int v = 0; v < nr; v += 8)
                            Avx.MaskLoad(src + v, ColumnMask(cols - v)).Store(row + v);
                    }
                    else
                    {
                        int j = 0;
                        for (; j < cols; j++) row[j] = src[j];
                        for (; j < nr; j++) row[j] = 0f;
                    }
                }
            }
            else
            {
                // op(B) = Bᵀ: column j of the panel is row jc + jr + j of B. Blocks of 8 columns × 8 rows through an
                // 8×8 transpose in registers, then 4 rows more by an 8×4 one (a depth of 100 = 12 · 8 + 4); the
                // ragged rest the plain way.
                int j0 = 0, pEnd = 0;
                if (Avx2.IsSupported)
                {
                    int p8 = kc / 8 * 8;
                    pEnd = kc / 4 * 4;
                    for (; j0 + 8 <= cols; j0 += 8)
                    {
                        float* src = b + (long)(jc + jr + j0) * ldb + pc;
                        for (int p = 0; p < p8; p += 8)
                            Transpose8x8(src + p, ldb, panel + p * nr + j0, nr);
                        if (pEnd > p8) Transpose8x4(src + p8, ldb, panel + p8 * nr + j0, nr);
                    }
                }
                for (int j = 0; j < cols; j++)
                {
                    float* src = b + (long)(jc + jr + j) * ldb + pc;
                    for (int p = j < j0 ? pEnd : 0; p < kc; p++) panel[p * nr + j] = src[p];
                }
                if (cols < nr)
                    for (int p = 0; p < kc; p++)
                        for (int j = cols; j < nr; j++) panel[p * nr + j] = 0f;
            }
        }
    }

    /// <summary>A load mask whose first <paramref name="valid"/> lanes (clamped to 0…8) are set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ColumnMask(int valid) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(valid)).AsSingle();

    /// <summary>dst[q·dstStride + i] = src[i·srcStride + q] for i, q &lt; 8: an 8×8 block transposed in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, long srcStride, float* dst, long dstStride)
    {
        var r0 = Vector256.Load(src); var r1 = Vector256.Load(src + srcStride);
        var r2 = Vector256.Load(src + 2 * srcStride); var r3 = Vector256.Load(src + 3 * srcStride);
        var r4 = Vector256.Load(src + 4 * srcStride); var r5 = Vector256.Load(src + 5 * srcStride);
        var r6 = Vector256.Load(src + 6 * srcStride); var r7 = Vector256.Load(src + 7 * srcStride);
        VectorShuffles.Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        r0.Store(dst); r1.Store(dst + dstStride); r2.Store(dst + 2 * dstStride); r3.Store(dst + 3 * dstStride);
        r4.Store(dst + 4 * dstStride); r5.Store(dst + 5 * dstStride); r6.Store(dst + 6 * dstStride); r7.Store(dst + 7 * dstStride);
    }

    /// <summary>dst[q·dstStride + i] = src[i·srcStride + q] for 8 rows i and 4 columns q: rows i and i + 4 share a vector, 4×4 transposes in its two halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x4(float* src, long srcStride, float* dst, long dstStride)
    {
        var v0 = Vector256.Create(Vector128.Load(src), Vector128.Load(src + 4 * srcStride));
        var v1 = Vector256.Create(Vector128.Load(src + srcStride), Vector128.Load(src + 5 * srcStride));
        var v2 = Vector256.Create(Vector128.Load(src + 2 * srcStride), Vector128.Load(src + 6 * srcStride));
        var v3 = Vector256.Create(Vector128.Load(src + 3 * srcStride), Vector128.Load(src + 7 * srcStride));
        var t0 = Avx.UnpackLow(v0, v1); var t1 = Avx.UnpackHigh(v0, v1); // 00 10 01 11 | 40 50 41 51
        var t2 = Avx.UnpackLow(v2, v3); var t3 = Avx.UnpackHigh(v2, v3); // 20 30 21 31 | 60 70 61 71
        Avx.Shuffle(t0, t2, 0b01_00_01_00).Store(dst);                   // column 0 of rows 0–3 | 4–7
        Avx.Shuffle(t0, t2, 0b11_10_11_10).Store(dst + dstStride);
        Avx.Shuffle(t1, t3, 0b01_00_01_00).Store(dst + 2 * dstStride);
        Avx.Shuffle(t1, t3, 0b11_10_11_10).Store(dst + 3 * dstStride);
    }

    /// <summary>dst[q·12 + i] = src[i·srcStride + q] for 12 rows i and 8 columns q: rows 0–7 by an 8×8 transpose, rows 8–11 by a 4×8 one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose12x8(float* src, long srcStride, float* dst)
    {
        var r0 = Vector256.Load(src); var r1 = Vector256.Load(src + srcStride);
        var r2 = Vector256.Load(src + 2 * srcStride); var r3 = Vector256.Load(src + 3 * srcStride);
        var r4 = Vector256.Load(src + 4 * srcStride); var r5 = Vector256.Load(src + 5 * srcStride);
        var r6 = Vector256.Load(src + 6 * srcStride); var r7 = Vector256.Load(src + 7 * srcStride);
        VectorShuffles.Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        r0.Store(dst); r1.Store(dst + 12); r2.Store(dst + 24); r3.Store(dst + 36);
        r4.Store(dst + 48); r5.Store(dst + 60); r6.Store(dst + 72); r7.Store(dst + 84);
        Transpose4x8(src + 8 * srcStride, srcStride, dst + 8, 12);
    }

    /// <summary>dst[q·dstStride + i] = src[i·srcStride + q] for 4 rows i and 8 columns q: each column's 4 floats stored as one 128-bit vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x8(float* src, long srcStride, float* dst, long dstStride)
    {
        var s0 = Vector256.Load(src); var s1 = Vector256.Load(src + srcStride);
        var s2 = Vector256.Load(src + 2 * srcStride); var s3 = Vector256.Load(src + 3 * srcStride);
        var t0 = Avx.UnpackLow(s0, s1); var t1 = Avx.UnpackHigh(s0, s1); // 00 10 01 11 | 04 14 05 15
        var t2 = Avx.UnpackLow(s2, s3); var t3 = Avx.UnpackHigh(s2, s3); // 20 30 21 31 | 24 34 25 35
        var u0 = Avx.Shuffle(t0, t2, 0b01_00_01_00); var u1 = Avx.Shuffle(t0, t2, 0b11_10_11_10); // columns 0|4, 1|5
        var u2 = Avx.Shuffle(t1, t3, 0b01_00_01_00); var u3 = Avx.Shuffle(t1, t3, 0b11_10_11_10); // columns 2|6, 3|7
        u0.GetLower().Store(dst); u1.GetLower().Store(dst + dstStride); u2.GetLower().Store(dst + 2 * dstStride); u3.GetLower().Store(dst + 3 * dstStride);
        u0.GetUpper().Store(dst + 4 * dstStride); u1.GetUpper().Store(dst + 5 * dstStride);
        u2.GetUpper().Store(dst + 6 * dstStride); u3.GetUpper().Store(dst + 7 * dstStride);
    }

    /// <summary>
    /// dst[q·6 + i] = src[i·srcStride + q] for 6 rows i and 8 columns q, each output row stored 8 wide: its last 2
    /// floats land on the next row's first 2 (rewritten by it), and the 8th row's on the 2 floats after the block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose6x8(float* src, long srcStride, float* dst)
    {
        var r0 = Vector256.Load(src); var r1 = Vector256.Load(src + srcStride);
        var r2 = Vector256.Load(src + 2 * srcStride); var r3 = Vector256.Load(src + 3 * srcStride);
        var r4 = Vector256.Load(src + 4 * srcStride); var r5 = Vector256.Load(src + 5 * srcStride);
        Vector256<float> r6 = default, r7 = default;
        VectorShuffles.Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        r0.Store(dst); r1.Store(dst + 6); r2.Store(dst + 12); r3.Store(dst + 18);
        r4.Store(dst + 24); r5.Store(dst + 30); r6.Store(dst + 36); r7.Store(dst + 42);
    }
}
