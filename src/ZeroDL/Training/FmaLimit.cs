using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ZeroDL.Kernels;

namespace ZeroDL.Training;

/// <summary>
/// The machine's float32 FMA limit, the ceiling a kernel's GFLOP/s is measured against: fused multiply-adds on 12
/// independent register accumulators (enough to cover the FMA latency on two units), no memory traffic, run by the
/// library's own <see cref="WorkerPool"/> threads — the threads training runs on — at the widest vector width the CPU
/// runs natively (512 bits with AVX-512, else 256 with FMA, else scalar). Measured, not computed from a clock: the
/// figure then includes what the machine really gives this process (a shared or throttled core gives less).
/// </summary>
public static class FmaLimit
{
    /// <summary>Accumulator chains per thread: two FMA units × a latency of 4–6 cycles.</summary>
    private const int Chains = 12;

    /// <summary>The vector width the probe runs at, in bits (512, 256, or 32 for scalar).</summary>
    public static int VectorBits => Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? 512 : Fma.IsSupported ? 256 : 32;

    /// <summary>
    /// Whether the probe can run at <paramref name="bits"/>: 32 always, 256 with FMA, 512 where <see cref="VectorBits"/>
    /// is 512. A narrower width is the ceiling of a kernel held to narrower vectors (the AVX2 tile on an AVX-512 CPU,
    /// where it is half the 512-bit figure on CPUs with two 512-bit FMA units and the same on those with one).
    /// </summary>
    public static bool Supports(int bits) => bits == 32 || (bits == 256 && Fma.IsSupported) || (bits == 512 && VectorBits == 512);

    /// <summary>
    /// GFLOP/s (one FMA = 2 FLOPs) of <paramref name="threads"/> threads running multiply-adds at once for about
    /// <paramref name="seconds"/>: each thread runs the same number of rounds, and the clock runs until the last ends.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">threads &lt; 1 or seconds not positive.</exception>
    public static double Measure(int threads, double seconds) => Measure(threads, seconds, VectorBits);

    /// <summary>As <see cref="Measure(int, double)"/>, at <paramref name="bits"/> (32, 256 or 512; see <see cref="Supports"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">threads &lt; 1, seconds not positive, or a width this CPU cannot run.</exception>
    public static double Measure(int threads, double seconds, int bits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (!(seconds > 0)) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "seconds must be positive");
        if (!Supports(bits)) throw new ArgumentOutOfRangeException(nameof(bits), bits, $"this CPU's FMA limit can be measured at 32{(Fma.IsSupported ? ", 256" : "")}{(VectorBits == 512 ? " or 512" : "")} bits");
        Run(1000, bits); // compiled and warm before the clock starts
        long rounds = 1000;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < Math.Min(0.02, seconds / 4)) { Run(rounds, bits); rounds *= 2; }
        long perThread = Math.Max(1000, (long)(rounds / sw.Elapsed.TotalSeconds * seconds));
        threads = Math.Min(threads, WorkerPool.Capacity);
        var clock = Stopwatch.StartNew();
        WorkerPool.For(threads, threads, _ => Run(perThread, bits));
        double elapsed = clock.Elapsed.TotalSeconds;
        int lanes = bits / 32;
        return threads * perThread * (double)Chains * lanes * 2 / elapsed / 1e9;
    }

    /// <summary>rounds × 12 FMAs per lane at <paramref name="bits"/>; the result is returned so that the JIT cannot drop the loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Run(long rounds, int bits)
    {
        if (bits == 512)
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
        if (bits == 256)
        {
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
        float s0 = 0.999f, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0;
        for (long r = 0; r < rounds; r++)
        {
            s0 = MathF.FusedMultiplyAdd(s0, 0.999f, 0.0001f); s1 = MathF.FusedMultiplyAdd(s1, 0.999f, 0.0001f); s2 = MathF.FusedMultiplyAdd(s2, 0.999f, 0.0001f);
            s3 = MathF.FusedMultiplyAdd(s3, 0.999f, 0.0001f); s4 = MathF.FusedMultiplyAdd(s4, 0.999f, 0.0001f); s5 = MathF.FusedMultiplyAdd(s5, 0.999f, 0.0001f);
            s6 = MathF.FusedMultiplyAdd(s6, 0.999f, 0.0001f); s7 = MathF.FusedMultiplyAdd(s7, 0.999f, 0.0001f); s8 = MathF.FusedMultiplyAdd(s8, 0.999f, 0.0001f);
            s9 = MathF.FusedMultiplyAdd(s9, 0.999f, 0.0001f); s10 = MathF.FusedMultiplyAdd(s10, 0.999f, 0.0001f); s11 = MathF.FusedMultiplyAdd(s11, 0.999f, 0.0001f);
        }
        return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11;
    }
}
