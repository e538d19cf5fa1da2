using System.Diagnostics;
using ZeroDL.Distributed;

namespace ZeroDL.Bench;

/// <summary>
/// MPI allreduce (sum, float32, in place) of one flat gradient buffer, timed on every rank: run under
/// <c>mpirun -np N</c>. Sizes are the presets' parameter counts; rank 0 prints the median per size.
/// It also checks the sum, so it doubles as a check of the Open MPI binding.
/// </summary>
internal static class AllReduceBench
{
    public static int Run(int rounds)
    {
        using var mpi = OpenMpi.Initialize(TimeSpan.FromMinutes(2));
        // Each preset's trainable parameters: the gradient one data-parallel step sums.
        var sizes = new[] { "twolayer", "deepconv", "simpleconv", "dense" }
            .Select(p => (Name: p, Count: ZeroDL.Models.ModelPresets.Find(p).Spec.Build<float>(seed: 1).Parameters.Sum(q => q.Value.Size)))
            .Append(("16 MiB", 4 << 20)).ToList();
        if (mpi.Rank == 0) Console.WriteLine($"allreduce (sum, float32, in place) on {mpi.Size} rank(s), {rounds} rounds each; median per call");
        foreach (var (name, count) in sizes)
        {
            var buffer = new float[count];
            var times = new List<double>();
            for (int round = 0; round < rounds + 3; round++)
            {
                Array.Fill(buffer, mpi.Rank + 1);
                mpi.Barrier();
                var clock = Stopwatch.StartNew();
                mpi.AllReduceSum(buffer);
                if (round >= 3) times.Add(clock.Elapsed.TotalMilliseconds);
                float expected = mpi.Size * (mpi.Size + 1) / 2f;
                if (buffer[0] != expected || buffer[^1] != expected) throw new InvalidOperationException($"allreduce gave {buffer[0]}, expected {expected}");
            }
            // The collective itself must not allocate (a data-parallel step makes one per mini-batch).
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int call = 0; call < 100; call++) mpi.AllReduceSum(buffer);
            long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
            times.Sort();
            if (mpi.Rank == 0) Console.WriteLine($"  {name,-22} {count,10:N0} floats  {times[times.Count / 2],8:F3} ms  ({count * 4.0 / 1e6 / (times[times.Count / 2] / 1e3) / 1e3:F2} GB/s of buffer), {allocated} bytes allocated per call");
        }
        return 0;
    }
}
