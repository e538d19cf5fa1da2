using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Bench;

/// <summary>
/// The machine's float32 FMA limit, the ceiling the GEMM rows are measured against: a loop of fused multiply-adds
/// on 12 independent register accumulators (enough to cover the FMA latency on two units), no memory traffic,
/// on 1 … N threads at once. The widest vectors the CPU runs natively (512 or 256 bits).
/// </summary>
internal static class FmaPeakBench
{
    public static int Run(int threads, double seconds)
    {
        string width = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? "512-bit" : "256-bit";
        Console.WriteLine($"# FMA limit: register-only {width} multiply-adds, 12 chains per thread");
        for (int t = 1; t <= threads; t++)
            Console.WriteLine($"threads {t}\t{Measure(t, seconds):F1} GFLOP/s");
        return 0;
    }

    public static double Measure(int threads, double seconds)
    {
        Chains(1000); // compiled and warm before the clock starts
        long rounds = 1000;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < 0.05) { Chains(rounds); rounds *= 2; }
        long perThread = Math.Max(1000, (long)(rounds / sw.Elapsed.TotalSeconds * seconds));
        using var start = new Barrier(threads + 1);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() => { start.SignalAndWait(); Chains(perThread); })).ToArray();
        foreach (var w in workers) w.Start();
        start.SignalAndWait();
        var clock = Stopwatch.StartNew();
        foreach (var w in workers) w.Join();
        double elapsed = clock.Elapsed.TotalSeconds;
        int lanes = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 16 : 8;
        return threads * perThread * 12.0 * lanes * 2 / elapsed / 1e9;
    }

    /// <summary>rounds × 12 FMAs per lane; the result is returned so that the JIT cannot drop the loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Chains(long rounds)
    {
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            var a = Vector512.Create(0.999f); var b = Vector512.Create(0.0001f);
            Vector512<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
            for (long r = 0; r < rounds; r++)
            {
                c0 = Avx512F.FusedMultiplyAdd(c0, a, b); c1 = Avx512F.FusedMultiplyAdd(c1, a, b); c2 = Avx512F.FusedMultiplyAdd(c2, a, b);
                c3 = Avx512F.FusedMultiplyAdd(c3, a, b); c4 = Avx512F.FusedMultiplyAdd(c4, a, b); c5 = Avx512F.FusedMultiplyAdd(c5, a, b);
                c6 = Avx512F.FusedMultiplyAdd(c6, a, b); c7 = Avx512F.FusedMultiplyAdd(c7, a, b); c8 = Avx512F.FusedMultiplyAdd(c8, a, b);
                c9 = Avx512F.FusedMultiplyAdd(c9, a, b); c10 = Avx512F.FusedMultiplyAdd(c10, a, b); c11 = Avx512F.FusedMultiplyAdd(c11, a, b);
            }
            return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
        }
        if (!Fma.IsSupported) return 0;
        var x = Vector256.Create(0.999f); var y = Vector256.Create(0.0001f);
        Vector256<float> d0 = x, d1 = x, d2 = x, d3 = x, d4 = x, d5 = x, d6 = x, d7 = x, d8 = x, d9 = x, d10 = x, d11 = x;
        for (long r = 0; r < rounds; r++)
        {
            d0 = Fma.MultiplyAdd(d0, x, y); d1 = Fma.MultiplyAdd(d1, x, y); d2 = Fma.MultiplyAdd(d2, x, y);
            d3 = Fma.MultiplyAdd(d3, x, y); d4 = Fma.MultiplyAdd(d4, x, y); d5 = Fma.MultiplyAdd(d5, x, y);
            d6 = Fma.MultiplyAdd(d6, x, y); d7 = Fma.MultiplyAdd(d7, x, y); d8 = Fma.MultiplyAdd(d8, x, y);
            d9 = Fma.MultiplyAdd(d9, x, y); d10 = Fma.MultiplyAdd(d10, x, y); d11 = Fma.MultiplyAdd(d11, x, y);
        }
        return Vector256.Sum(d0 + d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9 + d10 + d11);
    }
}
