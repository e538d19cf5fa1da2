// Micro-kernels of the packed SGEMM: an MR×NR tile of C held in registers while the k loop streams a packed
// A panel (MR values per k) and a packed B panel (NR values per k). Written out register by register because
// the JIT neither unrolls loops nor keeps an array of vectors in registers.
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
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel12x32Avx512<TA>(int kc, float* a, long aStride, float* b, float* c, int ldc, bool accumulate,
        long bStride = 32, float* bCopy = null)
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
                if (typeof(TA) == typeof(PackedACopiesB)) bCopy = CopyStep(b0, b1, bCopy, b, bStride);
                var a0 = Vector512.Create(a[0]);
                c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0);
                c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1);
                var a1 = Vector512.Create(a[1]);
                c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0);
                c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1);
                var a2 = Vector512.Create(a[2]);
                c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0);
                c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1);
                var a3 = Vector512.Create(a[3]);
                c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0);
                c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1);
                var a4 = Vector512.Create(a[4]);
                c4_0 = Vector512.FusedMultiplyAdd(a4, b0, c4_0);
                c4_1 = Vector512.FusedMultiplyAdd(a4, b1, c4_1);
                var a5 = Vector512.Create(a[5]);
                c5_0 = Vector512.FusedMultiplyAdd(a5, b0, c5_0);
                c5_1 = Vector512.FusedMultiplyAdd(a5, b1, c5_1);
                var a6 = Vector512.Create(a[6]);
                c6_0 = Vector512.FusedMultiplyAdd(a6, b0, c6_0);
                c6_1 = Vector512.FusedMultiplyAdd(a6, b1, c6_1);
                var a7 = Vector512.Create(a[7]);
                c7_0 = Vector512.FusedMultiplyAdd(a7, b0, c7_0);
                c7_1 = Vector512.FusedMultiplyAdd(a7, b1, c7_1);
                var a8 = Vector512.Create(a[8]);
                c8_0 = Vector512.FusedMultiplyAdd(a8, b0, c8_0);
                c8_1 = Vector512.FusedMultiplyAdd(a8, b1, c8_1);
                var a9 = Vector512.Create(a[9]);
                c9_0 = Vector512.FusedMultiplyAdd(a9, b0, c9_0);
                c9_1 = Vector512.FusedMultiplyAdd(a9, b1, c9_1);
                var a10 = Vector512.Create(a[10]);
                c10_0 = Vector512.FusedMultiplyAdd(a10, b0, c10_0);
                c10_1 = Vector512.FusedMultiplyAdd(a10, b1, c10_1);
                var a11 = Vector512.Create(a[11]);
                c11_0 = Vector512.FusedMultiplyAdd(a11, b0, c11_0);
                c11_1 = Vector512.FusedMultiplyAdd(a11, b1, c11_1);
                if (typeof(TA) == typeof(StridedA) && System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(a + prefetchA);
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
            c0_0 += Vector512.Load(c + 0 * ldc + 0);
            c0_1 += Vector512.Load(c + 0 * ldc + 16);
            c1_0 += Vector512.Load(c + 1 * ldc + 0);
            c1_1 += Vector512.Load(c + 1 * ldc + 16);
            c2_0 += Vector512.Load(c + 2 * ldc + 0);
            c2_1 += Vector512.Load(c + 2 * ldc + 16);
            c3_0 += Vector512.Load(c + 3 * ldc + 0);
            c3_1 += Vector512.Load(c + 3 * ldc + 16);
            c4_0 += Vector512.Load(c + 4 * ldc + 0);
            c4_1 += Vector512.Load(c + 4 * ldc + 16);
            c5_0 += Vector512.Load(c + 5 * ldc + 0);
            c5_1 += Vector512.Load(c + 5 * ldc + 16);
            c6_0 += Vector512.Load(c + 6 * ldc + 0);
            c6_1 += Vector512.Load(c + 6 * ldc + 16);
            c7_0 += Vector512.Load(c + 7 * ldc + 0);
            c7_1 += Vector512.Load(c + 7 * ldc + 16);
            c8_0 += Vector512.Load(c + 8 * ldc + 0);
            c8_1 += Vector512.Load(c + 8 * ldc + 16);
            c9_0 += Vector512.Load(c + 9 * ldc + 0);
            c9_1 += Vector512.Load(c + 9 * ldc + 16);
            c10_0 += Vector512.Load(c + 10 * ldc + 0);
            c10_1 += Vector512.Load(c + 10 * ldc + 16);
            c11_0 += Vector512.Load(c + 11 * ldc + 0);
            c11_1 += Vector512.Load(c + 11 * ldc + 16);
        }
        c0_0.Store(c + 0 * ldc + 0);
        c0_1.Store(c + 0 * ldc + 16);
        c1_0.Store(c + 1 * ldc + 0);
        c1_1.Store(c + 1 * ldc + 16);
        c2_0.Store(c + 2 * ldc + 0);
        c2_1.Store(c + 2 * ldc + 16);
        c3_0.Store(c + 3 * ldc + 0);
        c3_1.Store(c + 3 * ldc + 16);
        c4_0.Store(c + 4 * ldc + 0);
        c4_1.Store(c + 4 * ldc + 16);
        c5_0.Store(c + 5 * ldc + 0);
        c5_1.Store(c + 5 * ldc + 16);
        c6_0.Store(c + 6 * ldc + 0);
        c6_1.Store(c + 6 * ldc + 16);
        c7_0.Store(c + 7 * ldc + 0);
        c7_1.Store(c + 7 * ldc + 16);
        c8_0.Store(c + 8 * ldc + 0);
        c8_1.Store(c + 8 * ldc + 16);
        c9_0.Store(c + 9 * ldc + 0);
        c9_1.Store(c + 9 * ldc + 16);
        c10_0.Store(c + 10 * ldc + 0);
        c10_1.Store(c + 10 * ldc + 16);
        c11_0.Store(c + 11 * ldc + 0);
        c11_1.Store(c + 11 * ldc + 16);
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

    /// <summary>How many k steps ahead the 12×32 kernel copying B asks for B's rows (a step's rows a leading dimension apart, from L3 or memory).</summary>
    private const int CopiedBPrefetchSteps = 16;

    /// <summary>
    /// How many k steps ahead the 6×16 kernel copying B asks for B's rows: its step does a quarter of the 12×32 step's
    /// multiply-adds, so asking as far ahead in time takes more steps (fewer leave the copying tile waiting on B).
    /// </summary>
    private const int CopiedBPrefetchSteps6x16 = 64;

    /// <summary>
    /// One step of a 12×32 tile that packs B as it goes: stores the step's 32 floats of B (b0, b1, loaded from
    /// <paramref name="b"/>) to the packed panel at <paramref name="bCopy"/> and asks for B's row
    /// <see cref="CopiedBPrefetchSteps"/> steps on (rows <paramref name="bStride"/> floats apart, each over at most
    /// three cache lines); returns where the next step's floats go.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float* CopyStep(Vector512<float> b0, Vector512<float> b1, float* bCopy, float* b, long bStride)
    {
        b0.Store(bCopy);
        b1.Store(bCopy + 16);
        PrefetchRowAhead(b + CopiedBPrefetchSteps * bStride, 32);
        return bCopy + 32;
    }

    /// <summary>
    /// One step of a 6×16 tile that packs B as it goes, as the 12×32 tile's <see cref="CopyStep(Vector512{float}, Vector512{float}, float*, float*, long)"/>:
    /// the step's 16 floats, and B's row <see cref="CopiedBPrefetchSteps6x16"/> steps on asked for (over at most two cache lines).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float* CopyStep(Vector256<float> b0, Vector256<float> b1, float* bCopy, float* b, long bStride)
    {
        b0.Store(bCopy);
        b1.Store(bCopy + 8);
        PrefetchRowAhead(b + CopiedBPrefetchSteps6x16 * bStride, 16);
        return bCopy + 16;
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
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel6x16Avx2<TA>(int kc, float* a, long aStride, float* b, long bStride, float* c, int ldc, bool accumulate,
        float* bCopy = null)
        where TA : struct
    {
        PrefetchTile6x16(c, ldc);
        // Strided A only: prefetching never faults, so past the end of A it is harmless. The JIT compiles each TA
        // apart, so the packed kernel carries no prefetch at all. Rows of A a multiple of 512 floats apart share one
        // or two L1 sets (see PacksAliasedA), which cannot hold PrefetchSteps lines: those are asked for fewer steps ahead.
        long prefetchA = (aStride % 512 == 0 ? AliasedPrefetchSteps : PrefetchSteps) * aStride;
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
            if (typeof(TA) == typeof(PackedACopiesB)) bCopy = CopyStep(b0, b1, bCopy, b, bStride);
            var a0 = Vector256.Create(a[0]);
            c0_0 = Vector256.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0, b1, c0_1);
            var a1 = Vector256.Create(a[1]);
            c1_0 = Vector256.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1, b1, c1_1);
            var a2 = Vector256.Create(a[2]);
            c2_0 = Vector256.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2, b1, c2_1);
            var a3 = Vector256.Create(a[3]);
            c3_0 = Vector256.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3, b1, c3_1);
            var a4 = Vector256.Create(a[4]);
            c4_0 = Vector256.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4, b1, c4_1);
            var a5 = Vector256.Create(a[5]);
            c5_0 = Vector256.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5, b1, c5_1);
            if (typeof(TA) == typeof(StridedA) && System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(a + prefetchA);
            a += aStride; b += bStride;
        }
        if (accumulate)
        {
            c0_0 += Vector256.Load(c + 0 * ldc + 0);
            c0_1 += Vector256.Load(c + 0 * ldc + 8);
            c1_0 += Vector256.Load(c + 1 * ldc + 0);
            c1_1 += Vector256.Load(c + 1 * ldc + 8);
            c2_0 += Vector256.Load(c + 2 * ldc + 0);
            c2_1 += Vector256.Load(c + 2 * ldc + 8);
            c3_0 += Vector256.Load(c + 3 * ldc + 0);
            c3_1 += Vector256.Load(c + 3 * ldc + 8);
            c4_0 += Vector256.Load(c + 4 * ldc + 0);
            c4_1 += Vector256.Load(c + 4 * ldc + 8);
            c5_0 += Vector256.Load(c + 5 * ldc + 0);
            c5_1 += Vector256.Load(c + 5 * ldc + 8);
        }
        c0_0.Store(c + 0 * ldc + 0);
        c0_1.Store(c + 0 * ldc + 8);
        c1_0.Store(c + 1 * ldc + 0);
        c1_1.Store(c + 1 * ldc + 8);
        c2_0.Store(c + 2 * ldc + 0);
        c2_1.Store(c + 2 * ldc + 8);
        c3_0.Store(c + 3 * ldc + 0);
        c3_1.Store(c + 3 * ldc + 8);
        c4_0.Store(c + 4 * ldc + 0);
        c4_1.Store(c + 4 * ldc + 8);
        c5_0.Store(c + 5 * ldc + 0);
        c5_1.Store(c + 5 * ldc + 8);
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
            var a0v = Vector256.Create(a0[p]);
            c0_0 = Vector256.FusedMultiplyAdd(a0v, b0, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0v, b1, c0_1);
            var a1v = Vector256.Create(a1[p]);
            c1_0 = Vector256.FusedMultiplyAdd(a1v, b0, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1v, b1, c1_1);
            var a2v = Vector256.Create(a2[p]);
            c2_0 = Vector256.FusedMultiplyAdd(a2v, b0, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2v, b1, c2_1);
            var a3v = Vector256.Create(a3[p]);
            c3_0 = Vector256.FusedMultiplyAdd(a3v, b0, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3v, b1, c3_1);
            var a4v = Vector256.Create(a4[p]);
            c4_0 = Vector256.FusedMultiplyAdd(a4v, b0, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4v, b1, c4_1);
            var a5v = Vector256.Create(a5[p]);
            c5_0 = Vector256.FusedMultiplyAdd(a5v, b0, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5v, b1, c5_1);
            b += 16;
        }
        if (accumulate)
        {
            c0_0 += Vector256.Load(c + 0 * ldc + 0);
            c0_1 += Vector256.Load(c + 0 * ldc + 8);
            c1_0 += Vector256.Load(c + 1 * ldc + 0);
            c1_1 += Vector256.Load(c + 1 * ldc + 8);
            c2_0 += Vector256.Load(c + 2 * ldc + 0);
            c2_1 += Vector256.Load(c + 2 * ldc + 8);
            c3_0 += Vector256.Load(c + 3 * ldc + 0);
            c3_1 += Vector256.Load(c + 3 * ldc + 8);
            c4_0 += Vector256.Load(c + 4 * ldc + 0);
            c4_1 += Vector256.Load(c + 4 * ldc + 8);
            c5_0 += Vector256.Load(c + 5 * ldc + 0);
            c5_1 += Vector256.Load(c + 5 * ldc + 8);
        }
        c0_0.Store(c + 0 * ldc + 0);
        c0_1.Store(c + 0 * ldc + 8);
        c1_0.Store(c + 1 * ldc + 0);
        c1_1.Store(c + 1 * ldc + 8);
        c2_0.Store(c + 2 * ldc + 0);
        c2_1.Store(c + 2 * ldc + 8);
        c3_0.Store(c + 3 * ldc + 0);
        c3_1.Store(c + 3 * ldc + 8);
        c4_0.Store(c + 4 * ldc + 0);
        c4_1.Store(c + 4 * ldc + 8);
        c5_0.Store(c + 5 * ldc + 0);
        c5_1.Store(c + 5 * ldc + 8);
    }

}
