using ZeroDL.Training;

namespace ZeroDL.Bench;

/// <summary>
/// The machine's float32 FMA limit on 1 … N threads (<see cref="FmaLimit"/>: register-only multiply-adds on the
/// library's worker threads), the ceiling the GEMM rows and the CNN epochs are measured against.
/// </summary>
internal static class FmaPeakBench
{
    public static int Run(int threads, double seconds)
    {
        Console.WriteLine($"# FMA limit: register-only {FmaLimit.VectorBits}-bit multiply-adds, 12 chains per thread");
        for (int t = 1; t <= threads; t++)
            Console.WriteLine($"threads {t}\t{FmaLimit.Measure(t, seconds):F1} GFLOP/s");
        return 0;
    }
}
