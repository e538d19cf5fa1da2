using System.Runtime.ExceptionServices;

namespace ZeroDL.Kernels;

/// <summary>
/// The library's own parallel loop for short calls (tens of microseconds to milliseconds: a layer's slice of a
/// mini-batch, a GEMM slab). One pool of ProcessorCount − 1 background threads, started on first use; the caller
/// works too. Between calls a worker spins for a bounded moment and then blocks, so back-to-back calls start fast
/// and an idle pool holds no core. Compared with Parallel.For it allocates nothing of its own per call.
/// A call made while the pool is busy (another thread's call, or a call from inside a part) runs its parts in
/// order on the calling thread, so nested and concurrent use is safe and never deadlocks.
/// </summary>
public static class WorkerPool
{
    private sealed class Worker
    {
        public readonly ManualResetEventSlim Go = new(false, spinCount: 200);
    }

    private static readonly object StartLock = new();
    private static Worker[]? s_workers;
    private static int s_busy;                 // 1 while a call owns the pool
    private static Action<int>? s_body;
    private static int s_parts, s_next, s_running;
    private static ExceptionDispatchInfo? s_error;
    private static readonly ManualResetEventSlim s_done = new(false, spinCount: 200);
    [ThreadStatic] private static bool t_insidePart;

    /// <summary>Threads the pool can use at once, the caller included.</summary>
    public static int Capacity => Environment.ProcessorCount;

    /// <summary>
    /// Runs body(0) … body(parts − 1), each exactly once, on up to <paramref name="threads"/> threads (the caller
    /// included), and returns when all have finished. The first exception a part throws is rethrown here once
    /// every part has finished or been skipped.
    /// </summary>
    public static void For(int parts, int threads, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (parts <= 0) return;
        int helpers = Math.Min(Math.Min(threads, parts), Capacity) - 1;
        if (helpers <= 0 || t_insidePart || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            RunInline(parts, body);
            return;
        }
        try
        {
            var workers = Started();
            helpers = Math.Min(helpers, workers.Length);
            s_body = body; s_parts = parts; s_next = 0; s_error = null;
            Volatile.Write(ref s_running, helpers);
            for (int i = 0; i < helpers; i++) workers[i].Go.Set();
            RunParts();
            SpinUntilSet(s_done);
            s_done.Wait(); // set by the last helper to finish: exactly once per call
            s_done.Reset();
            s_body = null;
            s_error?.Throw();
        }
        finally { Volatile.Write(ref s_busy, 0); }
    }

    private static void RunInline(int parts, Action<int> body)
    {
        bool outer = !t_insidePart;
        t_insidePart = true;
        try { for (int p = 0; p < parts; p++) body(p); }
        finally { if (outer) t_insidePart = false; }
    }

    /// <summary>Takes parts from the shared counter until none are left; the first failure stops the rest.</summary>
    private static void RunParts()
    {
        var body = s_body!;
        int parts = s_parts;
        t_insidePart = true;
        try
        {
            int p;
            while ((p = Interlocked.Increment(ref s_next) - 1) < parts)
            {
                try { body(p); }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref s_error, ExceptionDispatchInfo.Capture(e), null);
                    Volatile.Write(ref s_next, parts); // skip what has not started
                }
            }
        }
        finally { t_insidePart = false; }
    }

    /// <summary>Starts the workers now rather than in the first call (tests: so that a measured call is not the first).</summary>
    internal static void EnsureStarted() => Started();

    /// <summary>
    /// The workers, started on first use. Starting also readies the completion event for blocking: a
    /// ManualResetEventSlim makes its lock object (24 bytes) the first time a waiter outlasts its spin, and that
    /// would otherwise land, once per process, inside whichever call first waits on a slow helper, breaking
    /// "a warm call allocates nothing". A 1 ms wait that times out, before any helper exists, makes it here.
    /// </summary>
    private static Worker[] Started()
    {
        if (s_workers is { } started) return started;
        lock (StartLock)
        {
            if (s_workers is not null) return s_workers;
            s_done.Wait(1); // nobody can set it yet: it times out, leaving the event's lock object made
            var workers = new Worker[Math.Max(0, Capacity - 1)];
            for (int i = 0; i < workers.Length; i++)
            {
                var worker = workers[i] = new Worker();
                new Thread(() => Loop(worker)) { IsBackground = true, Name = $"ZeroDL worker {i + 1}" }.Start();
            }
            return s_workers = workers;
        }
    }

    /// <summary>
    /// How long a thread waiting for the pool (a worker for the next call, the caller for the last helper) polls before
    /// it blocks. Blocked, it gives its core away, and a scheduler that has handed it to another process (even a
    /// niced one) may keep it there for a whole time slice after the event is set: back-to-back calls (a GEMM's, a
    /// training step's layers) then each lose that much. The event's own spinning yields the core too, so this polls
    /// without yielding, long enough to cover a GEMM's last piece of work on the other thread; an idle pool still
    /// blocks soon after its last call.
    /// </summary>
    private const double PollMicroseconds = 200;

    internal static readonly long PollTicks = (long)(PollMicroseconds * System.Diagnostics.Stopwatch.Frequency / 1e6);

    /// <summary>Polls <paramref name="e"/> for up to <see cref="PollMicroseconds"/>, without yielding the core.</summary>
    private static void SpinUntilSet(ManualResetEventSlim e)
    {
        if (e.IsSet) return;
        long end = System.Diagnostics.Stopwatch.GetTimestamp() + PollTicks;
        while (!e.IsSet && System.Diagnostics.Stopwatch.GetTimestamp() < end) Thread.SpinWait(8);
    }

    private static void Loop(Worker worker)
    {
        while (true)
        {
            SpinUntilSet(worker.Go);
            worker.Go.Wait();
            worker.Go.Reset();
            RunParts();
            if (Interlocked.Decrement(ref s_running) == 0) s_done.Set();
        }
    }
}
