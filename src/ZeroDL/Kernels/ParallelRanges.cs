namespace ZeroDL.Kernels;

/// <summary>
/// Splits a pass over memory (an activation's elements, a batch's planes) into one contiguous range per thread
/// when it is large enough for a second core to pay: such passes are bound by memory traffic, which two cores
/// move faster than one. Small ones run on the calling thread. A split allocates nothing once warm: its state
/// lives in a job object kept per thread (a stack of them, for a split started inside another's range).
/// </summary>
internal static class ParallelRanges
{
    /// <summary>Passes touching fewer elements than this run on one thread (about 0.1 ms of streaming).</summary>
    public const long MinimumElements = 1 << 17;

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) in up to
    /// <see cref="Gemm.EffectiveThreads"/> ranges, each a multiple of <paramref name="align"/> long but the last;
    /// <paramref name="elements"/> is what the whole pass touches, to decide whether to split at all.
    /// </summary>
    public static void For(int count, long elements, int align, Action<int, int> body)
    {
        int threads = elements < MinimumElements ? 1 : Math.Min(Gemm.EffectiveThreads, (count + align - 1) / align);
        if (threads <= 1)
        {
            body(0, count);
            return;
        }
        var free = t_free ??= new Stack<Job>();
        var job = free.Count > 0 ? free.Pop() : new Job();
        try
        {
            job.Count = count;
            job.Chunk = ((count + threads - 1) / threads + align - 1) / align * align;
            job.Body = body;
            WorkerPool.For(threads, threads, job.Run);
        }
        finally
        {
            job.Body = null;
            free.Push(job);
        }
    }

    [ThreadStatic] private static Stack<Job>? t_free;

    /// <summary>One split's ranges; <see cref="Run"/> is created once per job, so handing it to the pool allocates nothing.</summary>
    private sealed class Job
    {
        public int Count, Chunk;
        public Action<int, int>? Body;
        public readonly Action<int> Run;

        public Job() => Run = Part;

        private void Part(int t)
        {
            int start = t * Chunk, end = Math.Min(Count, start + Chunk);
            if (start < end) Body!(start, end);
        }
    }
}
