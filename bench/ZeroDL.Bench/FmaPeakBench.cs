using ZeroDL.Training;

namespace ZeroDL.Bench;

/// <summary>
/// The machine's float32 FMA limit on 1 … N threads (<see cref="FmaLimit"/>: register-only multiply-adds on the
/// library's worker threads), the ceiling the GEMM rows and the CNN epochs are measured against.
/// </summary>
internal static class FmaPeakBench
{
    /// <summary><paramref name="bits"/>: the vector width (null: the widest the CPU runs natively).</summary>
    public static int Run(int threads, double seconds, int? bits = null)
    {
        int width = bits ?? FmaLimit.VectorBits;
        if (!FmaLimit.Supports(width))
        {
            Console.Error.WriteLine($"fma-peak: this CPU cannot run {width}-bit multiply-adds natively (widest: {FmaLimit.VectorBits})");
            return 2;
        }
        Console.WriteLine($"# FMA limit: register-only {width}-bit multiply-adds, 12 chains per thread");
        for (int t = 1; t <= threads; t++)
            Console.WriteLine($"threads {t}\t{FmaLimit.Measure(t, seconds, width):F1} GFLOP/s");
        return 0;
    }
}
