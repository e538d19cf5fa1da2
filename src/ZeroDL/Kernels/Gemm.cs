using System.Numerics;
using System.Runtime.InteropServices;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Kernels;

/// <summary>
/// General matrix multiply, row-major: <c>C = op(A)·op(B)</c> (or <c>C += op(A)·op(B)</c> with
/// <c>accumulate</c>), where op(X) is X or Xᵀ. A is m×k after op, B is k×n after op, C is m×n.
/// float32 runs the packed SIMD kernel (<see cref="Sgemm"/>), split over threads above
/// <see cref="ParallelThreshold"/>; other types run a simple row-by-row vectorised loop.
/// <see cref="GemmReference"/> is the naive triple loop the tests compare against.
/// </summary>
public static class Gemm
{
    /// <summary>
    /// Products with fewer multiply-adds than this (m·n·k, default 2^20 ≈ 1 M, some 30–50 µs on one thread)
    /// run on the calling thread: below it, handing work to a second thread costs about what it saves. (At 2^23,
    /// the dense layers' 100×784×50 products ran on one thread at half the rate two give them.)
    /// </summary>
    public static long ParallelThreshold { get; set; } = 1L << 20;

    /// <summary>How many threads one product may use (the library's one level of parallelism).</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set => s_maxThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), "threads must be at least 1");
    }
    private static int s_maxThreads = Environment.ProcessorCount;

    [ThreadStatic] private static int t_threadLimit;

    /// <summary>
    /// Threads a product started on the calling thread may use: <see cref="MaxThreads"/>, lowered by
    /// <see cref="LimitThreadsOnThisThread"/>, never more than the machine's processors.
    /// </summary>
    public static int EffectiveThreads => Math.Min(t_threadLimit > 0 ? Math.Min(s_maxThreads, t_threadLimit) : s_maxThreads, Environment.ProcessorCount);

    /// <summary>
    /// Caps the threads of products started on this thread until the returned scope is disposed — for work that
    /// runs beside other work (background evaluation, one request of a server) and must not oversubscribe the cores.
    /// </summary>
    public static ThreadLimitScope LimitThreadsOnThisThread(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "threads must be at least 1");
        var scope = new ThreadLimitScope(t_threadLimit);
        t_threadLimit = threads;
        return scope;
    }

    /// <summary>Restores the thread's previous limit when disposed (a struct: taking a limit allocates nothing).</summary>
    public readonly struct ThreadLimitScope(int previous) : IDisposable
    {
        public void Dispose() => t_threadLimit = previous;
    }

    /// <summary>The micro-kernel this CPU uses for float32.</summary>
    public static string KernelName => Sgemm.KernelName;

    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (typeof(T) == typeof(float))
            MultiplyFloat(transA, transB, m, n, k, MemoryMarshal.Cast<T, float>(a), lda,
                MemoryMarshal.Cast<T, float>(b), ldb, MemoryMarshal.Cast<T, float>(c), ldc, accumulate);
        else
            MultiplyRows(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }

    /// <summary>Matrix product of 2-D tensors (any tensor is seen as rows × rest): c = op(a)·op(b).</summary>
    public static void MatMul<T>(NDArray<T> a, NDArray<T> b, NDArray<T> c, bool transA = false, bool transB = false, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ar = a.Rows, ac = a.RowLength, br = b.Rows, bc = b.RowLength;
        int m = transA ? ac : ar, k = transA ? ar : ac;
        int kb = transB ? bc : br, n = transB ? br : bc;
        if (k != kb)
            throw new ArgumentException($"matmul: inner dimensions differ: {a.ShapeText}{(transA ? "ᵀ" : "")} · {b.ShapeText}{(transB ? "ᵀ" : "")}");
        if (c.Rows != m || c.RowLength != n)
            throw new ArgumentException($"matmul: result {c.ShapeText} does not fit ({m}, {n}) from {a.ShapeText} · {b.ShapeText}");
        Multiply(transA, transB, m, n, k, a.ReadOnlySpan, ac, b.ReadOnlySpan, bc, c.Span, n, accumulate);
    }

    /// <summary>Returns a new tensor op(a)·op(b).</summary>
    public static NDArray<T> MatMul<T>(NDArray<T> a, NDArray<T> b, bool transA = false, bool transB = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = transA ? a.RowLength : a.Rows;
        int n = transB ? b.Rows : b.RowLength;
        var c = new NDArray<T>(m, n);
        MatMul(a, b, c, transA, transB);
        return c;
    }

    private static unsafe void MultiplyFloat(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
        {
            // Small products (a network's last layers) skip packing: see SmallGemm.
            if (SmallGemm.Applies(m, n, k))
            {
                SmallGemm.Multiply(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
                return;
            }
            long work = (long)m * n * k;
            int threads = work < ParallelThreshold ? 1 : EffectiveThreads;
            if (threads <= 1)
            {
                Sgemm.Serial(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
                return;
            }
            MultiplyFloatParallel(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, threads);
        }
    }

    /// <summary>Whether large threaded products share their packed B (false: every thread its own slab; benchmarks compare).</summary>
    internal static bool UseSharedB { get; set; } = true;

    /// <summary>The threaded part of <see cref="MultiplyFloat"/>.</summary>
    private static unsafe void MultiplyFloatParallel(bool transA, bool transB, int m, int n, int k,
        float* pa, int lda, float* pb, int ldb, float* pc, int ldc, bool accumulate, int threads)
    {
        // Products with few rows and whole panels enough for every thread: a slab of columns each (see
        // ColumnSlabsFor). Other large packed products share one packed B between the threads; the rest split the
        // larger of m and n into one contiguous slab per thread, each a product on its own.
        var job = t_slabJob ??= new SlabJob();
        int columnChunk = UseColumnSlabs ? ColumnSlabsFor(m, n, threads) : 0;
        if (columnChunk == 0 && Sgemm.SharesB(m, n, k) && UseSharedB)
        {
            Sgemm.SharedB(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, threads);
            return;
        }
        job.TransA = transA; job.TransB = transB; job.Accumulate = accumulate;
        job.M = m; job.N = n; job.K = k;
        job.A = pa; job.Lda = lda; job.B = pb; job.Ldb = ldb; job.C = pc; job.Ldc = ldc;
        job.SplitRows = columnChunk == 0 && m >= n;
        job.Extent = job.SplitRows ? m : n;
        job.ShareNarrowRows = columnChunk > 0 && ShareNarrowColumns;
        if (columnChunk > 0) job.Chunk = columnChunk;
        else
        {
            // Rows in whole pairs (see Sgemm.RowSplit), columns in whole panels of the widest kernel.
            int align = job.SplitRows ? Sgemm.RowSplit : 32;
            int chunk = (job.Extent + threads - 1) / threads;
            job.Chunk = (chunk + align - 1) / align * align;
        }
        // The last slab takes what is left, however little.
        job.Parts = Math.Max(1, Math.Min(threads, (job.Extent + job.Chunk - 1) / job.Chunk));
        WorkerPool.For(job.Parts, threads, job.Run);
    }

    /// <summary>Whether products with few rows split their columns over the threads (false: as before; benchmarks compare).</summary>
    internal static bool UseColumnSlabs { get; set; } = true;

    /// <summary>Whether column slabs share the narrow columns out by rows (false: the last slab computes them; benchmarks compare).</summary>
    internal static bool ShareNarrowColumns { get; set; } = true;

    /// <summary>
    /// The columns each thread takes when a product has few rows (m ≤ 128) and its whole panels split evenly over
    /// the threads (100×4320×100: 6 panels, 3 each; the 4 columns past them go with the last slab), or 0 to split
    /// otherwise. A row split would give each thread 50 rows, 8 tiles and 2 rows computed at half rate, and the
    /// threads would meet to share the packed B; a column slab gives every thread all 100 rows (16 tiles and 4 rows
    /// at full rate) and its own B to pack, with no meeting. On 2 threads (switch column-slabs): cycles per call
    /// 1.06× (100×4320×100), 1.08× (100×512×512), 1.09× (100×784×100) in a 7-round gemm-cycles.sh run; wall time in
    /// three 11-round gemm-ab runs 0.92–1.10, 0.99–1.05 and 1.03–1.22 on a loaded machine.
    /// </summary>
    internal static int ColumnSlabsFor(int m, int n, int threads)
    {
        int nr = Sgemm.PanelWidth, panels = n / nr;
        if (m > 128 || panels < 2 * threads || panels % threads != 0) return 0;
        return panels / threads * nr;
    }

    /// <summary>
    /// A threaded product split into slabs of rows (or of columns, when n &gt; m), each a whole serial product. Kept per
    /// calling thread with its delegate, so that a threaded call hands the worker pool no new closure.
    /// </summary>
    private sealed unsafe class SlabJob
    {
        public bool TransA, TransB, Accumulate, SplitRows;
        public int M, N, K, Lda, Ldb, Ldc, Extent, Chunk, Parts;
        /// <summary>Column slabs only: every part computes its share of rows of the narrow columns.</summary>
        public bool ShareNarrowRows;
        public float* A, B, C;
        public readonly Action<int> Run;

        public SlabJob() => Run = Part;

        private void Part(int part)
        {
            int start = part * Chunk, len = part == Parts - 1 ? Extent - start : Math.Min(Chunk, Extent - start);
            // Each slab is summed as the whole product would be on one thread (Sgemm.Serial's whole-product
            // overload), so the split changes no bit of the result.
            if (SplitRows)
            {
                float* aPart = TransA ? A + start : A + (long)start * Lda;
                Sgemm.Serial(TransA, TransB, len, N, K, aPart, Lda, B, Ldb, C + (long)start * Ldc, Ldc, Accumulate, M, N, holdsLastColumns: true);
            }
            else if (!ShareNarrowRows)
            {
                float* bPart = TransB ? B + (long)start * Ldb : B + start;
                Sgemm.Serial(TransA, TransB, M, len, K, A, Lda, bPart, Ldb, C + start, Ldc, Accumulate, M, N, holdsLastColumns: start + len == N);
            }
            else
            {
                // The whole product's narrow columns are shared out by rows, so that the last slab does not take
                // all of them (100×4320×100: its 4 columns cost a slab of 48 an eighth more). Wall time on 2
                // threads, gemm-ab --switch share-narrow, 11 rounds: 100×4320×100 1.09, 100×784×100 1.10,
                // 100×4320×100 Aᵀ 1.21; the cycles are the same (the same work, better shared).
                int narrow = part == Parts - 1 ? Sgemm.NarrowColumnCount(N) : 0;
                float* bPart = TransB ? B + (long)start * Ldb : B + start;
                Sgemm.Serial(TransA, TransB, M, len - narrow, K, A, Lda, bPart, Ldb, C + start, Ldc, Accumulate, M, N, holdsLastColumns: false);
                Sgemm.NarrowColumnRows(TransA, TransB, M * part / Parts, M * (part + 1) / Parts, N, K, A, Lda, B, Ldb, C, Ldc, Accumulate);
            }
        }
    }

    [ThreadStatic] private static SlabJob? t_slabJob;

    /// <summary>Generic path (float64 and others): C[i,:] (+)= Σ_p op(A)[i,p] · op(B)[p,:], with op(B) made contiguous first.</summary>
    private static void MultiplyRows<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[]? bt = null;
        if (transB)
        {
            bt = new T[k * n];
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) bt[p * n + j] = b[j * ldb + p];
            b = bt;
            ldb = n;
        }
        for (int i = 0; i < m; i++)
        {
            var crow = c.Slice(i * ldc, n);
            if (!accumulate) crow.Clear();
            for (int p = 0; p < k; p++)
            {
                T aip = transA ? a[p * lda + i] : a[i * lda + p];
                if (aip == T.Zero) continue;
                TP.MultiplyAdd(b.Slice(p * ldb, n), aip, crow, crow);
            }
        }
    }

    internal static void Validate(bool transA, bool transB, int m, int n, int k, int aLen, int lda, int bLen, int ldb, int cLen, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"gemm: negative size m={m} n={n} k={k}");
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        Check("A", aRows, aCols, aLen, lda);
        Check("B", bRows, bCols, bLen, ldb);
        Check("C", m, n, cLen, ldc);

        static void Check(string name, int rows, int cols, int length, int ld)
        {
            if (rows == 0 || cols == 0) return;
            if (ld < cols) throw new ArgumentException($"gemm: leading dimension {ld} of {name} is less than its {cols} columns");
            long needed = (long)(rows - 1) * ld + cols;
            if (length < needed)
                throw new ArgumentException($"gemm: {name} holds {length} elements but ({rows}, {cols}) with leading dimension {ld} needs {needed}");
        }
    }
}
