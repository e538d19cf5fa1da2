using ZeroDL.Kernels;

namespace ZeroDL.Tests;

[Collection(ProcessWideSettings.Name)] // one test needs the pool to itself: a busy pool runs a call inline
public class WorkerPoolTests
{
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(7, 2)]
    [InlineData(100, 8)]
    [InlineData(5, 1)]
    [InlineData(0, 2)]
    public void Every_part_runs_exactly_once(int parts, int threads)
    {
        for (int round = 0; round < 200; round++)
        {
            var runs = new int[parts];
            WorkerPool.For(parts, threads, p => Interlocked.Increment(ref runs[p]));
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void A_part_that_throws_is_rethrown_to_the_caller_and_the_pool_keeps_working()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            WorkerPool.For(8, 2, p => { if (p == 5) throw new InvalidOperationException("part 5 failed"); }));
        Assert.Equal("part 5 failed", e.Message);
        int sum = 0;
        WorkerPool.For(10, 2, p => Interlocked.Add(ref sum, p));
        Assert.Equal(45, sum);
    }

    [Fact]
    public void Nested_and_concurrent_calls_finish_with_every_part_run_once()
    {
        const int callers = 4, outer = 6, inner = 5;
        var runs = new int[callers, outer, inner];
        var threads = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            for (int round = 0; round < 50; round++)
                WorkerPool.For(outer, 2, o => WorkerPool.For(inner, 2, i => Interlocked.Increment(ref runs[c, o, i])));
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a caller did not finish"));
        foreach (int r in runs) Assert.Equal(50, r);
    }

    /// <summary>
    /// The caller allocates nothing even when it has to block for a slow helper. The first such block in a process
    /// used to make the completion event's lock object (24 bytes) inside the call; run alone, this test saw it.
    /// </summary>
    [Fact]
    public void A_caller_that_blocks_for_a_slow_helper_allocates_nothing()
    {
        if (WorkerPool.Capacity < 2) return; // one core: no helper to wait for, every call runs inline
        WorkerPool.EnsureStarted();
        int caller = Environment.CurrentManagedThreadId;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            int helperStarted = 0;
            bool helped = true;
            void Part(int p)
            {
                if (Environment.CurrentManagedThreadId == caller)
                {
                    // Hold this part until the helper has taken the other, so the caller runs out of parts first.
                    // Inline (the pool busy with another test's call), no helper comes: give up this attempt.
                    long start = System.Diagnostics.Stopwatch.GetTimestamp();
                    while (Volatile.Read(ref helperStarted) == 0)
                        if (System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds > 500) { helped = false; return; }
                }
                else
                {
                    Volatile.Write(ref helperStarted, 1);
                    Thread.Sleep(300); // far past the caller's bounded spin, so it blocks (at 50 ms, one run of four did not)
                }
            }
            Action<int> body = Part;
            long before = GC.GetAllocatedBytesForCurrentThread();
            WorkerPool.For(2, 2, body);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (!helped) continue;
            Assert.Equal(0, allocated);
            return;
        }
        Assert.Fail("the pool stayed busy with other calls for 20 attempts"); // in this collection nothing else runs
    }
}
