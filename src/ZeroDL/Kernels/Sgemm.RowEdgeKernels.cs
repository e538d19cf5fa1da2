// Register tiles of 4 and 2 rows by 16 columns for the ragged rows of a product computed by the 6×16 AVX2 kernel
// (and the 4-row tile 32 columns wide for the 12×32 AVX-512 kernel's, the same kernel at the other width).
// A product of 100 rows is 16 whole tiles and 4 rows more; split over two threads it is 50 rows each, 8 tiles and 2
// rows. Computing those rows as a whole 6-row tile costs a full tile for 2 rows, and a two-thread split that keeps
// whole tiles (54 and 46 rows) leaves one thread 9 tiles and the other 8. These kernels cost what the rows are
// (4 rows take 8 multiply-adds per step instead of 12; 2 rows take 4, at half the rate).
//
// A is read at a[i·rowStride + p·kStride] for row i and step p, which covers all three layouts the 6×16 paths use:
// a packed panel (rowStride 1, kStride 6), rows of A read in place (lda, 1) and a transposed A read in place (1, lda).
// B is a packed 16-wide panel (bStride 16) or a row-major B read in place (bStride ldb).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ZeroDL.Kernels;

internal static partial class Sgemm
{
    /// <summary>
    /// Rows 0 … <paramref name="rows"/> of a 16-column tile (rows ≤ 4): the 2-row kernel for 1–2 rows, the 4-row kernel
    /// for 3–4. A 1- or 3-row call computes one row more, which must exist in A (a zero-padded panel row, or a row
    /// read in place); callers write only the rows they asked for.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowEdgeKernel(int rows, int kc, float* a, long rowStride, long kStride, float* b, long bStride, float* c, int ldc, bool accumulate)
    {
        if (rows <= 2) Kernel2x16Avx2(kc, a, rowStride, kStride, b, bStride, c, ldc, accumulate);
        else Kernel4x16Avx2(kc, a, rowStride, kStride, b, bStride, c, ldc, accumulate);
    }

    // The two widths' 4-row tiles are one kernel, Kernel4Rows, inlined into each: a method of its own for each width
    // (not inlined into its callers, whose code it would swell), and the 512-bit one with B's stride a constant.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel4x16Avx2(int kc, float* a, long rowStride, long kStride, float* b, long bStride, float* c, int ldc, bool accumulate) =>
        Kernel4Rows<Vector256<float>, Float8>(kc, a, rowStride, kStride, b, bStride, c, ldc, accumulate);

    /// <summary>
    /// The 4-row tile of the 12×32 AVX-512 kernel: the ragged rows of a product it computes (100 rows split 52 + 48 over
    /// two threads: 4 tiles and 4 rows, rather than 5 tiles). B is always a packed 32-wide panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel4x32Avx512(int kc, float* a, long rowStride, long kStride, float* b, float* c, int ldc, bool accumulate) =>
        Kernel4Rows<Vector512<float>, Float16>(kc, a, rowStride, kStride, b, 32, c, ldc, accumulate);

    /// <summary>Four rows of a tile two vectors of <typeparamref name="TV"/> wide (16 or 32 columns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Kernel4Rows<TV, TOps>(int kc, float* a, long rowStride, long kStride, float* b, long bStride, float* c, int ldc, bool accumulate)
        where TV : struct
        where TOps : IFloatVectors<TV>
    {
        float* a0 = a, a1 = a + rowStride, a2 = a + 2 * rowStride, a3 = a + 3 * rowStride;
        TV c0_0 = TOps.Zero, c0_1 = TOps.Zero;
        TV c1_0 = TOps.Zero, c1_1 = TOps.Zero;
        TV c2_0 = TOps.Zero, c2_1 = TOps.Zero;
        TV c3_0 = TOps.Zero, c3_1 = TOps.Zero;
        long off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = TOps.Load(b + 0);
            var b1 = TOps.Load(b + TOps.Count);
            TOps.MultiplyAddRow(a0 + off, b0, b1, ref c0_0, ref c0_1);
            TOps.MultiplyAddRow(a1 + off, b0, b1, ref c1_0, ref c1_1);
            TOps.MultiplyAddRow(a2 + off, b0, b1, ref c2_0, ref c2_1);
            TOps.MultiplyAddRow(a3 + off, b0, b1, ref c3_0, ref c3_1);
            off += kStride; b += bStride;
        }
        if (accumulate)
        {
            TOps.AddRow(ref c0_0, ref c0_1, c, 0, ldc);
            TOps.AddRow(ref c1_0, ref c1_1, c, 1, ldc);
            TOps.AddRow(ref c2_0, ref c2_1, c, 2, ldc);
            TOps.AddRow(ref c3_0, ref c3_1, c, 3, ldc);
        }
        TOps.StoreRow(c0_0, c0_1, c, 0, ldc);
        TOps.StoreRow(c1_0, c1_1, c, 1, ldc);
        TOps.StoreRow(c2_0, c2_1, c, 2, ldc);
        TOps.StoreRow(c3_0, c3_1, c, 3, ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel2x16Avx2(int kc, float* a, long rowStride, long kStride, float* b, long bStride, float* c, int ldc, bool accumulate)
    {
        // Each element is summed over p in order, as the 6-row kernel sums it, so that a row gives the same bits
        // whichever kernel computes it (a product split over threads matches one thread exactly). Four chains of
        // multiply-adds run at half the FMA rate; these tiles are a small part of any product.
        float* a0 = a, a1 = a + rowStride;
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        long off = 0;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            Float8.MultiplyAddRow(a0 + off, b0, b1, ref c0_0, ref c0_1);
            Float8.MultiplyAddRow(a1 + off, b0, b1, ref c1_0, ref c1_1);
            off += kStride; b += bStride;
        }
        if (accumulate)
        {
            Float8.AddRow(ref c0_0, ref c0_1, c, 0, ldc);
            Float8.AddRow(ref c1_0, ref c1_1, c, 1, ldc);
        }
        Float8.StoreRow(c0_0, c0_1, c, 0, ldc);
        Float8.StoreRow(c1_0, c1_1, c, 1, ldc);
    }
}
