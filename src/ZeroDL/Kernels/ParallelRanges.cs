namespace ZeroDL.Kernels;

/// <summary>
/// Splits a pass over memory (an activation's elements, a batch's planes) into one contiguous range per thread
/// when it is large enough for a second core to pay: such passes are bound by memory traffic, which two cores
/// move faster than one. Small ones run on the calling thread.
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
        int chunk = ((count + threads - 1) / threads + align - 1) / align * align;
        WorkerPool.For(threads, threads, t =>
        {
            int start = t * chunk, end = Math.Min(count, start + chunk);
            if (start < end) body(start, end);
        });
    }
}
