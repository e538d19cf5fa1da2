using System.Numerics;
using System.Runtime.InteropServices;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Kernels;

/// <summary>
/// General matrix multiply, row-major: <c>C = op(A)·op(B)</c> (or <c>C += op(A)·op(B)</c> with
/// <c>accumulate</c>), where op(X) is X or Xᵀ. A is m×k after op, B is k×n after op, C is m×n.
/// float32 runs the packed SIMD kernel (<see cref="Sgemm"/>) as its <see cref="GemmPlan"/> says, split over threads
/// above <see cref="GemmOptions.ParallelThreshold"/>; other types run a simple row-by-row vectorised loop.
/// <see cref="GemmReference"/> is the naive triple loop the tests compare against.
/// </summary>
public static class Gemm
{
    [ThreadStatic] private static int t_threadLimit;

    /// <summary>
    /// Threads a product started on the calling thread may use: every processor, or fewer under
    /// <see cref="LimitThreadsOnThisThread"/>.
    /// </summary>
    public static int EffectiveThreads => t_threadLimit > 0 ? Math.Min(t_threadLimit, Environment.ProcessorCount) : Environment.ProcessorCount;

    /// <summary>
    /// Caps the threads of the products (and of the layers' other parallel passes) started on this thread until the
    /// returned scope is disposed — a run told to use fewer cores, or work that runs beside other work (background
    /// evaluation, one request of a server) and must not oversubscribe the cores.
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
    public static string KernelName => Sgemm.KernelName(Sgemm.BestKernel);

    /// <summary>
    /// How a float32 product of this shape runs under <paramref name="options"/> (null: <see cref="GemmOptions.Default"/>
    /// on this thread): the plan <see cref="Multiply{T}"/> executes. <paramref name="lda"/> is A's leading dimension
    /// (0: its rows packed tight), which decides whether a transposed A is read in place.
    /// </summary>
    public static GemmPlan Plan(bool transA, bool transB, int m, int n, int k, GemmOptions? options = null, int lda = 0) =>
        GemmPlan.Make(transA, transB, m, n, k, options, lda: lda);

    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate = false, GemmOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (typeof(T) == typeof(float))
            Execute(GemmPlan.Make(transA, transB, m, n, k, options, lda: lda), MemoryMarshal.Cast<T, float>(a), lda,
                MemoryMarshal.Cast<T, float>(b), ldb, MemoryMarshal.Cast<T, float>(c), ldc, accumulate);
        else
            MultiplyRows(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }

    /// <summary>Runs a float32 plan on operands of its shape (checked by the caller).</summary>
    internal static unsafe void Execute(in GemmPlan plan, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
        {
            if (plan.Small)
                SmallGemm.Multiply(plan.TransA, plan.TransB, plan.M, plan.N, plan.K, pa, lda, pb, ldb, pc, ldc, accumulate);
            else if (plan.Split == GemmSplit.None)
                Sgemm.Serial(plan, plan.M, plan.N, pa, lda, pb, ldb, pc, ldc, accumulate, holdsLastColumns: true);
            else if (plan.Split == GemmSplit.SharedB)
                Sgemm.SharedB(plan, pa, lda, pb, ldb, pc, ldc, accumulate);
            else
            {
                var job = t_slabJob ??= new SlabJob();
                job.Plan = plan;
                job.Accumulate = accumulate;
                job.A = pa; job.Lda = lda; job.B = pb; job.Ldb = ldb; job.C = pc; job.Ldc = ldc;
                job.Call = Interlocked.Increment(ref s_calls);
                WorkerPool.For(plan.Parts, plan.Threads, job.Run);
            }
        }
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

    /// <summary>
    /// A threaded product split into slabs of rows or columns (<see cref="GemmSplit.Rows"/>, <see cref="GemmSplit.Columns"/>,
    /// <see cref="GemmSplit.ColumnSlabs"/>), each a product of the plan on its own. Kept per calling thread with its
    /// delegate, so that a threaded call hands the worker pool no new closure.
    /// </summary>
    private sealed unsafe class SlabJob
    {
        public GemmPlan Plan;
        public bool Accumulate;
        public int Lda, Ldb, Ldc;
        public float* A, B, C;
        /// <summary>This call's number (<see cref="s_calls"/>), by which a thread knows the B it packed for an earlier slab of the call.</summary>
        public long Call;
        public readonly Action<int> Run;

        public SlabJob() => Run = Part;

        private void Part(int part)
        {
            var plan = Plan;
            var (start, len) = plan.Slab(part);
            // Each slab is summed as the whole product would be on one thread (the plan's kernel, K blocks and narrow
            // columns), so the split changes no bit of the result.
            if (plan.Split == GemmSplit.Rows)
            {
                float* aPart = plan.TransA ? A + start : A + (long)start * Lda;
                Sgemm.Serial(plan, len, plan.N, aPart, Lda, B, Ldb, C + (long)start * Ldc, Ldc, Accumulate, holdsLastColumns: true, call: Call);
            }
            else if (plan.Split == GemmSplit.Columns)
            {
                float* bPart = plan.TransB ? B + (long)start * Ldb : B + start;
                Sgemm.Serial(plan, plan.M, len, A, Lda, bPart, Ldb, C + start, Ldc, Accumulate, holdsLastColumns: start + len == plan.N);
            }
            else
            {
                // Column slabs: the whole product's narrow columns are shared out by rows, so that the last slab does
                // not take all of them.
                int narrow = part == plan.Parts - 1 ? plan.NarrowColumns : 0;
                int first = start, cols = len - narrow;
                if (plan.SplitPanelRows > 0)
                {
                    // The 32-column panel across the two slabs' boundary, split by rows: part 0 its first rows, part 1
                    // the rest; each slab's own columns then stop short of it (part 0) or begin after it (part 1).
                    int panel = plan.Chunk - 16, r0 = part == 0 ? 0 : plan.SplitPanelRows, r1 = part == 0 ? plan.SplitPanelRows : plan.M;
                    float* aRows = plan.TransA ? A + r0 : A + (long)r0 * Lda;
                    float* bPanel = plan.TransB ? B + (long)panel * Ldb : B + panel;
                    Sgemm.Serial(plan, r1 - r0, 32, aRows, Lda, bPanel, Ldb, C + (long)r0 * Ldc + panel, Ldc, Accumulate, holdsLastColumns: false);
                    if (part == 0) cols -= 16;
                    else { first += 16; cols -= 16; }
                }
                float* bPart = plan.TransB ? B + (long)first * Ldb : B + first;
                Sgemm.Serial(plan, plan.M, cols, A, Lda, bPart, Ldb, C + first, Ldc, Accumulate, holdsLastColumns: false);
                Sgemm.NarrowColumnRows(plan, plan.M * part / plan.Parts, plan.M * (part + 1) / plan.Parts, A, Lda, B, Ldb, C, Ldc, Accumulate);
            }
        }
    }

    [ThreadStatic] private static SlabJob? t_slabJob;

    /// <summary>Threaded slab calls so far, every thread's: each call's number is unique in the process.</summary>
    private static long s_calls;

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
