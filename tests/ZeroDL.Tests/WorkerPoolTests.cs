using ZeroDL.Kernels;

namespace ZeroDL.Tests;

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
}
