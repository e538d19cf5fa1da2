// Micro-kernels of the packed SGEMM: an MR×NR tile of C held in registers while the k loop streams a packed
// A panel (MR values per k) and a packed B panel (NR values per k). Written out register by register because
// the JIT neither unrolls loops nor keeps an array of vectors in registers: a line a row of the tile
// (Float8 / Float16 MultiplyAddRow, AddRow, StoreRow, which inline to the bare instructions).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ZeroDL.Kernels;

internal static partial class Sgemm
{
    /// <summary>
    /// The 12×32 AVX-512 tile: A from a packed panel (<paramref name="aStride"/> = 12) or read in place from a
    /// transposed A (<paramref name="aStride"/> = lda: A's row p holds the tile's 12 values for step p, prefetched
    /// ahead); B from a packed 32-wide panel.
    /// </summary>
    /// <remarks>
    /// With <typeparamref name="TA"/> = <see cref="PackedACopiesB"/> (A packed) B is read where it lies instead, a
    /// row-major B's 32 columns <paramref name="bStride"/> floats a step, and each step's 32 floats are stored to
    /// <paramref name="bCopy"/> as PackB would pack them, so that the first tile of a panel packs it for the others.
    /// With <see cref="PackedANextPanel"/> (A and B packed) each step asks for one cache line of <paramref name="bNext"/>,
    /// half of the next packed panel over the tile's kc steps.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel12x32Avx512<TA>(int kc, float* a, long aStride, float* b, float* c, int ldc, bool accumulate,
        long bStride = 32, float* bCopy = null, float* bNext = null)
        where TA : struct
    {
        // The C tile is asked for CPrefetchSteps steps before the end of the k loop, not before it: asked for at the
        // start, its lines could be evicted again by the streaming A and B panels before the loads and stores after it.
        long prefetchA = PrefetchSteps * aStride, prefetchNext = kc * aStride;
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
        // One loop body run in two legs, so that the C prefetch between them costs no test per step.
        int p = 0, end = Math.Max(0, kc - CPrefetchSteps);
        while (true)
        {
            for (; p < end; p++)
            {
                var b0 = Vector512.Load(b + 0);
                var b1 = Vector512.Load(b + 16);
                if (typeof(TA) == typeof(PackedACopiesB)) bCopy = CopyStep<Vector512<float>, Float16>(b0, b1, bCopy, b + CopiedBPrefetchSteps * bStride);
                Float16.MultiplyAddRow(a + 0, b0, b1, ref c0_0, ref c0_1);
                Float16.MultiplyAddRow(a + 1, b0, b1, ref c1_0, ref c1_1);
                Float16.MultiplyAddRow(a + 2, b0, b1, ref c2_0, ref c2_1);
                Float16.MultiplyAddRow(a + 3, b0, b1, ref c3_0, ref c3_1);
                Float16.MultiplyAddRow(a + 4, b0, b1, ref c4_0, ref c4_1);
                Float16.MultiplyAddRow(a + 5, b0, b1, ref c5_0, ref c5_1);
                Float16.MultiplyAddRow(a + 6, b0, b1, ref c6_0, ref c6_1);
                Float16.MultiplyAddRow(a + 7, b0, b1, ref c7_0, ref c7_1);
                Float16.MultiplyAddRow(a + 8, b0, b1, ref c8_0, ref c8_1);
                Float16.MultiplyAddRow(a + 9, b0, b1, ref c9_0, ref c9_1);
                Float16.MultiplyAddRow(a + 10, b0, b1, ref c10_0, ref c10_1);
                Float16.MultiplyAddRow(a + 11, b0, b1, ref c11_0, ref c11_1);
                if (typeof(TA) == typeof(StridedA) && System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(a + prefetchA);
                if (typeof(TA) == typeof(PackedANextPanel) && System.Runtime.Intrinsics.X86.Sse.IsSupported)
                {
                    System.Runtime.Intrinsics.X86.Sse.Prefetch1(bNext);
                    bNext += 16;
                }
                if (typeof(TA) == typeof(StridedANextBlock) && System.Runtime.Intrinsics.X86.Sse.IsSupported)
                {
                    System.Runtime.Intrinsics.X86.Sse.Prefetch0(a + prefetchA);
                    System.Runtime.Intrinsics.X86.Sse.Prefetch1(a + prefetchNext);
                    System.Runtime.Intrinsics.X86.Sse.Prefetch1(a + prefetchNext + 11);
                }
                a += aStride; b += typeof(TA) == typeof(PackedACopiesB) ? bStride : 32;
            }
            if (end == kc) break;
            PrefetchTile12x32(c, ldc);
            end = kc;
        }
        if (accumulate)
        {
            Float16.AddRow(ref c0_0, ref c0_1, c, 0, ldc);
            Float16.AddRow(ref c1_0, ref c1_1, c, 1, ldc);
            Float16.AddRow(ref c2_0, ref c2_1, c, 2, ldc);
            Float16.AddRow(ref c3_0, ref c3_1, c, 3, ldc);
            Float16.AddRow(ref c4_0, ref c4_1, c, 4, ldc);
            Float16.AddRow(ref c5_0, ref c5_1, c, 5, ldc);
            Float16.AddRow(ref c6_0, ref c6_1, c, 6, ldc);
            Float16.AddRow(ref c7_0, ref c7_1, c, 7, ldc);
            Float16.AddRow(ref c8_0, ref c8_1, c, 8, ldc);
            Float16.AddRow(ref c9_0, ref c9_1, c, 9, ldc);
            Float16.AddRow(ref c10_0, ref c10_1, c, 10, ldc);
            Float16.AddRow(ref c11_0, ref c11_1, c, 11, ldc);
        }
        Float16.StoreRow(c0_0, c0_1, c, 0, ldc);
        Float16.StoreRow(c1_0, c1_1, c, 1, ldc);
        Float16.StoreRow(c2_0, c2_1, c, 2, ldc);
        Float16.StoreRow(c3_0, c3_1, c, 3, ldc);
        Float16.StoreRow(c4_0, c4_1, c, 4, ldc);
        Float16.StoreRow(c5_0, c5_1, c, 5, ldc);
        Float16.StoreRow(c6_0, c6_1, c, 6, ldc);
        Float16.StoreRow(c7_0, c7_1, c, 7, ldc);
        Float16.StoreRow(c8_0, c8_1, c, 8, ldc);
        Float16.StoreRow(c9_0, c9_1, c, 9, ldc);
        Float16.StoreRow(c10_0, c10_1, c, 10, ldc);
        Float16.StoreRow(c11_0, c11_1, c, 11, ldc);
    }

    // A transposed A read in place is prefetched PrefetchSteps steps ahead: each step's 6 values lie a row of A apart,
    // a stride the hardware prefetcher follows poorly. Packed panels are read in sequence and go without.
    /// <summary>How many k steps ahead the kernel prefetches A.</summary>
    private const int PrefetchSteps = 16;

    /// <summary>How many k steps ahead the 6×16 kernel prefetches a transposed A whose rows all fall into one or two L1 sets.</summary>
    private const int AliasedPrefetchSteps = 4;

    /// <summary>
    /// How many k steps before the end of its loop the 12×32 kernel asks for its C tile: enough steps (a few hundred
    /// cycles) to hide a miss to L3, few enough that the streaming A and B panels do not evict the lines again.
    /// </summary>
    private const int CPrefetchSteps = 32;

    /// <summary>The 6×16 kernel's A is a packed panel (6 floats a step, in sequence).</summary>
    private struct PackedA;

    /// <summary>The 12×32 or 6×16 kernel's A is a packed panel and its B a row-major B read in place and copied to its packed panel.</summary>
    private struct PackedACopiesB;

    /// <summary>
    /// The 12×32 kernel's A and B are packed panels, and each step asks for a cache line of the next B panel into L2
    /// (<see cref="NextPanelAsk"/>): the last two tiles of a panel so bring in the next one before its first tile reads
    /// it. Unasked, that tile read a deep panel from L3 and waited on it, on a Xeon (Emerald Rapids) whose hardware
    /// prefetcher did not hide it; asked for, 1024³ ran about 5 % faster there, on one thread and on two. A next panel
    /// still to be packed by its first tile (<see cref="PackedACopiesB"/>) is not asked for: that tile reads B itself.
    /// The 6×16 kernel does the same with one tile a panel: its packed panel row of 16 floats is one cache line.
    /// </summary>
    private struct PackedANextPanel;

    /// <summary>
    /// The 6×16 kernel's A and B are packed panels, and each step asks for one row of 16 floats of a row-major B into L2
    /// (the rows a leading dimension apart; the row's first and last float, as an unaligned row spans two lines): the
    /// rows that the next panel's first tile will read and copy (<see cref="PackedACopiesB"/>, <see cref="NextRowsAsk"/>),
    /// so that tile finds them in L2 rather than waiting on memory for each step's row.
    /// </summary>
    private struct PackedANextRows;

    /// <summary>How many k steps ahead the 12×32 kernel copying B asks for B's rows (a step's rows a leading dimension apart, from L3 or memory).</summary>
    private const int CopiedBPrefetchSteps = 16;

    /// <summary>
    /// How many k steps ahead the 6×16 kernel copying B asks for B's rows: its step does a quarter of the 12×32 step's
    /// multiply-adds, so asking as far ahead in time takes more steps (fewer leave the copying tile waiting on B).
    /// </summary>
    private const int CopiedBPrefetchSteps6x16 = 64;

    /// <summary>
    /// One step of a tile that packs B as it goes (12×32 or 6×16, two vectors of <typeparamref name="TV"/>): stores the
    /// step's floats of B (b0, b1) to the packed panel at <paramref name="bCopy"/> and asks for the row of B at
    /// <paramref name="bAhead"/> (<see cref="CopiedBPrefetchSteps"/> or <see cref="CopiedBPrefetchSteps6x16"/> steps
    /// on); returns where the next step's floats go.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float* CopyStep<TV, TOps>(TV b0, TV b1, float* bCopy, float* bAhead)
        where TV : struct
        where TOps : IFloatVectors<TV>
    {
        TOps.Store(b0, bCopy);
        TOps.Store(b1, bCopy + TOps.Count);
        PrefetchRowAhead(bAhead, 2 * TOps.Count);
        return bCopy + 2 * TOps.Count;
    }

    /// <summary>
    /// Asks for the cache lines of a row of <paramref name="floats"/> (16 or 32) floats that B's copying tiles will read
    /// later: its first float, the one 16 on where there is one, and its last (an unaligned row spans one line more).
    /// The width is a constant at each call, so the branch folds away.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRowAhead(float* row, int floats)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(row);
        if (floats > 16) System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + 16);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + floats - 1);
    }

    /// <summary>The 6×16 kernel's A is a transposed A read in place (a row of A a step), prefetched ahead.</summary>
    private struct StridedA;

    /// <summary>
    /// The 12×32 kernel's A is a deep transposed A read in place, as <see cref="StridedA"/>, whose next K block is
    /// asked for into L2 as it goes: each step the same 12 columns one K block further on (kc rows of A), so that the
    /// next block's rows arrive spread over the block instead of in a burst before each tile.
    /// </summary>
    private struct StridedANextBlock;

    /// <summary>
    /// Asks for the C tile's cache lines (6 rows of 16 floats, each over at most two lines) before the k loop, so that
    /// the loads and stores after it find them in L1 instead of waiting on misses: C's rows lie a leading dimension
    /// apart, too far apart for the hardware prefetcher to guess.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchTile6x16(float* c, int ldc)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (int r = 0; r < 6; r++)
        {
            float* row = c + (long)r * ldc;
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + 15);
        }
    }

    /// <summary>
    /// Asks for the 12×32 C tile's cache lines ahead of the loads and stores after the k loop (as
    /// <see cref="PrefetchTile6x16"/>): 12 rows of 32 floats, each over at most three lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchTile12x32(float* c, int ldc)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (int r = 0; r < 12; r++)
        {
            float* row = c + (long)r * ldc;
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + 16);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + 31);
        }
    }

    /// <summary>
    /// The 6×16 AVX2 tile: A from a packed panel (<paramref name="aStride"/> = 6) or read in place from a transposed
    /// A (<paramref name="aStride"/> = lda: A's row p holds the tile's 6 values for step p); B from a packed panel
    /// (<paramref name="bStride"/> = 16) or read in place from a row-major B (<paramref name="bStride"/> = ldb),
    /// which products with few rows prefer.
    /// </summary>
    /// <remarks>
    /// With <typeparamref name="TA"/> = <see cref="PackedACopiesB"/> (A packed, B row-major read in place) each step's
    /// 16 floats of B are also stored to <paramref name="bCopy"/> as PackB would pack them, so that the first tile of a
    /// panel packs it for the others (the stores take no register: the tile, B's two loads and A fit in 15 ymm).
    /// With <see cref="PackedANextPanel"/> or <see cref="PackedANextRows"/> each step asks for the line(s) at
    /// <paramref name="bNext"/> and moves it on by <paramref name="bNextStride"/>: a packed panel's row (the default)
    /// or a row-major B's leading dimension.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel6x16Avx2<TA>(int kc, float* a, long aStride, float* b, long bStride, float* c, int ldc, bool accumulate,
        float* bCopy = null, float* bNext = null, long bNextStride = 16)
        where TA : struct
    {
        PrefetchTile6x16(c, ldc);
        // Strided A only: prefetching never faults, so past the end of A it is harmless. The JIT compiles each TA
        // apart, so the packed kernel carries no prefetch at all. Rows of A a multiple of 512 floats apart share one
        // or two L1 sets (see PacksAliasedA), which cannot hold PrefetchSteps lines: those are asked for fewer steps ahead.
        long prefetchA = (aStride % 512 == 0 ? AliasedPrefetchSteps : PrefetchSteps) * aStride;
        // A copying tile's rows of B a multiple of 512 floats apart share one or two L1 sets in the same way: asked for
        // into L1 only a few steps ahead, and into L2 as far ahead as otherwise.
        bool aliasedB = typeof(TA) == typeof(PackedACopiesB) && bStride % 512 == 0;
        long copyAhead = (aliasedB ? AliasedPrefetchSteps : CopiedBPrefetchSteps6x16) * bStride, copyAheadL2 = CopiedBPrefetchSteps6x16 * bStride;
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            if (typeof(TA) == typeof(PackedACopiesB))
            {
                bCopy = CopyStep<Vector256<float>, Float8>(b0, b1, bCopy, b + copyAhead);
                if (aliasedB && System.Runtime.Intrinsics.X86.Sse.IsSupported)
                {
                    System.Runtime.Intrinsics.X86.Sse.Prefetch1(b + copyAheadL2);
                    System.Runtime.Intrinsics.X86.Sse.Prefetch1(b + copyAheadL2 + 15);
                }
            }
            Float8.MultiplyAddRow(a + 0, b0, b1, ref c0_0, ref c0_1);
            Float8.MultiplyAddRow(a + 1, b0, b1, ref c1_0, ref c1_1);
            Float8.MultiplyAddRow(a + 2, b0, b1, ref c2_0, ref c2_1);
            Float8.MultiplyAddRow(a + 3, b0, b1, ref c3_0, ref c3_1);
            Float8.MultiplyAddRow(a + 4, b0, b1, ref c4_0, ref c4_1);
            Float8.MultiplyAddRow(a + 5, b0, b1, ref c5_0, ref c5_1);
            if (typeof(TA) == typeof(StridedA) && System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(a + prefetchA);
            if (typeof(TA) == typeof(PackedANextPanel) && System.Runtime.Intrinsics.X86.Sse.IsSupported)
            {
                System.Runtime.Intrinsics.X86.Sse.Prefetch1(bNext);
                bNext += bNextStride;
            }
            if (typeof(TA) == typeof(PackedANextRows) && System.Runtime.Intrinsics.X86.Sse.IsSupported)
            {
                System.Runtime.Intrinsics.X86.Sse.Prefetch1(bNext);
                System.Runtime.Intrinsics.X86.Sse.Prefetch1(bNext + 15);
                bNext += bNextStride;
            }
            a += aStride; b += bStride;
        }
        if (accumulate)
        {
            Float8.AddRow(ref c0_0, ref c0_1, c, 0, ldc);
            Float8.AddRow(ref c1_0, ref c1_1, c, 1, ldc);
            Float8.AddRow(ref c2_0, ref c2_1, c, 2, ldc);
            Float8.AddRow(ref c3_0, ref c3_1, c, 3, ldc);
            Float8.AddRow(ref c4_0, ref c4_1, c, 4, ldc);
            Float8.AddRow(ref c5_0, ref c5_1, c, 5, ldc);
        }
        Float8.StoreRow(c0_0, c0_1, c, 0, ldc);
        Float8.StoreRow(c1_0, c1_1, c, 1, ldc);
        Float8.StoreRow(c2_0, c2_1, c, 2, ldc);
        Float8.StoreRow(c3_0, c3_1, c, 3, ldc);
        Float8.StoreRow(c4_0, c4_1, c, 4, ldc);
        Float8.StoreRow(c5_0, c5_1, c, 5, ldc);
    }

    /// <summary>
    /// The 6×16 AVX2 tile reading A in place (6 rows, leading dimension lda) instead of from a packed panel:
    /// for thin products (up to <see cref="DirectMaxColumns"/> columns) packing A costs about as much as it saves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel6x16Avx2Direct(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        float* a0 = a + 0 * (long)lda; float* a1 = a + 1 * (long)lda; float* a2 = a + 2 * (long)lda; float* a3 = a + 3 * (long)lda; float* a4 = a + 4 * (long)lda; float* a5 = a + 5 * (long)lda;
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            Float8.MultiplyAddRow(a0 + p, b0, b1, ref c0_0, ref c0_1);
            Float8.MultiplyAddRow(a1 + p, b0, b1, ref c1_0, ref c1_1);
            Float8.MultiplyAddRow(a2 + p, b0, b1, ref c2_0, ref c2_1);
            Float8.MultiplyAddRow(a3 + p, b0, b1, ref c3_0, ref c3_1);
            Float8.MultiplyAddRow(a4 + p, b0, b1, ref c4_0, ref c4_1);
            Float8.MultiplyAddRow(a5 + p, b0, b1, ref c5_0, ref c5_1);
            b += 16;
        }
        if (accumulate)
        {
            Float8.AddRow(ref c0_0, ref c0_1, c, 0, ldc);
            Float8.AddRow(ref c1_0, ref c1_1, c, 1, ldc);
            Float8.AddRow(ref c2_0, ref c2_1, c, 2, ldc);
            Float8.AddRow(ref c3_0, ref c3_1, c, 3, ldc);
            Float8.AddRow(ref c4_0, ref c4_1, c, 4, ldc);
            Float8.AddRow(ref c5_0, ref c5_1, c, 5, ldc);
        }
        Float8.StoreRow(c0_0, c0_1, c, 0, ldc);
        Float8.StoreRow(c1_0, c1_1, c, 1, ldc);
        Float8.StoreRow(c2_0, c2_1, c, 2, ldc);
        Float8.StoreRow(c3_0, c3_1, c, 3, ldc);
        Float8.StoreRow(c4_0, c4_1, c, 4, ldc);
        Float8.StoreRow(c5_0, c5_1, c, 5, ldc);
    }

}
