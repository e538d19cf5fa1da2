using System.Diagnostics;
using ZeroDL.Kernels;

namespace ZeroDL.Bench;

/// <summary>
/// GFLOP/s of <see cref="Gemm"/> on the square 1024³ product and the shapes the book's networks multiply.
/// Each shape: warm-up, then repeated timed batches of calls; the median batch is reported. "At" / "Bt" mark
/// products with the first / second operand stored transposed, as backward passes multiply.
/// </summary>
internal static class GemmBench
{
    public static readonly (string Name, int M, int K, int N, bool TA, bool TB)[] Shapes =
    [
        ("1024x1024x1024", 1024, 1024, 1024, false, false),
        ("100x784x50", 100, 784, 50, false, false),
        ("100x4320x100", 100, 4320, 100, false, false),
        ("25600x288x32", 25600, 288, 32, false, false),
        ("6400x576x64", 6400, 576, 64, false, false),
        ("57600x25x30", 57600, 25, 30, false, false),       // SimpleConvNet's convolution in the book's layout
        ("784x100x50 At", 784, 100, 50, true, false),        // TwoLayerNet's dW1 = xᵀ·dout
        ("100x50x784 Bt", 100, 50, 784, false, true),        // its dx = dout·W1ᵀ
        ("288x25600x32 At", 288, 25600, 32, true, false),    // a DeepConvNet convolution's dW = colᵀ·dout
        ("25600x32x288 Bt", 25600, 32, 288, false, true),    // and its dcol = dout·Wᵀ
        // The presets on 3-channel 32×32 images (ImageFolder, CIFAR-like), batch 100: ModelPresets' dense, simpleconv
        // and deepconv built on (3, 32, 32). Their convolutions run in the convolution engines' own kernels, so these
        // are their affine layers' products: the largest forward product of each net and the backward pair of the
        // widest layers (the last layers' products, 10 columns wide, take the small-product path).
        ("100x3072x512", 100, 3072, 512, false, false),      // dense: affine1 forward (the most arithmetic of any)
        ("3072x100x512 At", 3072, 100, 512, true, false),    // its dW = xᵀ·dout
        ("100x512x512 Bt", 100, 512, 512, false, true),      // affine2's dx = dout·Wᵀ
        ("100x5880x100", 100, 5880, 100, false, false),      // simpleconv: affine1 forward (30×14×14 inputs)
        ("5880x100x100 At", 5880, 100, 100, true, false),    // its dW
        ("100x100x5880 Bt", 100, 100, 5880, false, true),    // its dx
        ("100x1024x50", 100, 1024, 50, false, false),        // deepconv: affine1 forward (64×4×4 inputs)
        ("1024x100x50 At", 1024, 100, 50, true, false),      // its dW
    ];

    /// <summary>
    /// The shapes to time: <see cref="Shapes"/>, or those given as "MxKxN" with an optional " At" / " Bt" (or "At" /
    /// "Bt" right after N), comma-separated, e.g. "100x512x512,512x100x512At".
    /// </summary>
    public static (string Name, int M, int K, int N, bool TA, bool TB)[] Select(string custom)
    {
        if (custom.Length == 0) return Shapes;
        return custom.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(text =>
        {
            string t = text.Replace(" ", "");
            bool ta = t.EndsWith("At", StringComparison.Ordinal), tb = t.EndsWith("Bt", StringComparison.Ordinal);
            var dims = (ta || tb ? t[..^2] : t).Split('x');
            if (dims.Length != 3 || !dims.All(d => int.TryParse(d, out int v) && v > 0))
                throw new ArgumentException($"--shape '{text}': expected MxKxN, optionally followed by At or Bt");
            return ($"{dims[0]}x{dims[1]}x{dims[2]}{(ta ? " At" : tb ? " Bt" : "")}", int.Parse(dims[0]), int.Parse(dims[1]), int.Parse(dims[2]), ta, tb);
        }).ToArray();
    }

    public static void Run(GemmOptions options, double secondsPerShape, string only = "", string custom = "", bool plans = false)
    {
        var shapes = Select(custom);
        string kernel = options.Kernel == GemmKernel.Auto ? Gemm.KernelName : Sgemm.KernelName(options.Kernel);
        Console.WriteLine($"# ZeroDL GEMM, kernel {kernel}, threads {options.Threads}");
        Console.WriteLine("shape (MxKxN)\tGFLOP/s");
        foreach (var s in shapes)
        {
            if (!s.Name.StartsWith(only, StringComparison.Ordinal)) continue;
            if (plans) Console.WriteLine($"# {Gemm.Plan(s.TA, s.TB, s.M, s.N, s.K, options)}");
            double gflops = Measure(s.M, s.K, s.N, s.TA, s.TB, secondsPerShape, options);
            Console.WriteLine($"{s.Name}\t{gflops:F1}");
        }
    }

    /// <summary>
    /// A fixed amount of work for a cycle count: the one given shape warmed up for about 0.2 s, then exactly
    /// <paramref name="calls"/> calls with perf's counters switched on (<see cref="PerfCounting"/>); the GFLOP/s of
    /// those calls is printed. bench/gemm-cycles.sh divides the shape's FLOPs by the cycles perf counted.
    /// </summary>
    public static int RunCalls(GemmOptions options, int calls, string custom)
    {
        if (custom.Length == 0) throw new ArgumentException("gemm-calls needs --shape MxKxN[At|Bt]");
        if (calls < 1) throw new ArgumentException($"--calls {calls}: expected a positive number of calls");
        var shapes = Select(custom);
        if (shapes.Length != 1) throw new ArgumentException("gemm-calls times one shape at a time (perf counts the whole run)");
        var s = shapes[0];
        var (a, b, c, lda, ldb) = Operands(s.M, s.K, s.N, s.TA, s.TB);
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalMilliseconds < 200) Gemm.Multiply(s.TA, s.TB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N, options: options);
        PerfCounting.Enable();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++) Gemm.Multiply(s.TA, s.TB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N, options: options);
        double seconds = sw.Elapsed.TotalSeconds;
        PerfCounting.Disable();
        Console.WriteLine($"{s.Name}\t{2.0 * s.M * s.N * s.K * calls / seconds / 1e9:F1}");
        return 0;
    }

    /// <summary>
    /// The same product on <paramref name="trialThreads"/> threads (the trial side) against <paramref name="options"/>'
    /// thread count (the base side) on each given shape, alternating in one process: per round a batch of calls (about
    /// 50 ms) of each, the first side alternating between rounds, so that a shared host's slow spells fall on both
    /// alike. Prints each side's median GFLOP/s and the median of the rounds' ratios (trial / base) with its quartiles,
    /// and the same ratio of GFLOP per CPU-second (the process's), which a thread that loses its core for a while sways
    /// less; the two sides' results must be the same bits (a split changes no sum's order).
    /// </summary>
    public static int RunThreads(GemmOptions options, int trialThreads, int rounds, string custom)
    {
        if (custom.Length == 0) throw new ArgumentException("gemm-ab needs --shape MxKxN[At|Bt],…");
        if (trialThreads < 1) throw new ArgumentException("gemm-ab needs --trial-threads T (a positive thread count)");
        if (rounds < 1) throw new ArgumentException($"--rounds {rounds}: expected a positive number of rounds");
        var sides = new[] { options, options with { Threads = trialThreads } };
        int baseThreads = options.Threads ?? Gemm.EffectiveThreads;
        string kernel = options.Kernel == GemmKernel.Auto ? Gemm.KernelName : Sgemm.KernelName(options.Kernel);
        Console.WriteLine($"# ZeroDL GEMM on {trialThreads} threads (trial) against {baseThreads} (base), kernel {kernel}, {rounds} alternating rounds");
        Console.WriteLine($"shape (MxKxN)\tGFLOP/s base\tGFLOP/s trial\tratio (median)\tratio (quartiles)\tCPU-second ratio (median)\tCPU-second ratio (quartiles)");
        int status = 0;
        foreach (var s in Select(custom))
        {
            var (a, b, c, lda, ldb) = Operands(s.M, s.K, s.N, s.TA, s.TB);
            var check = new float[c.Length];
            Gemm.Multiply(s.TA, s.TB, s.M, s.N, s.K, a, lda, b, ldb, check, s.N, options: sides[0]);
            Gemm.Multiply(s.TA, s.TB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N, options: sides[1]);
            if (!check.AsSpan().SequenceEqual(c)) { Console.WriteLine($"# {s.Name}: {trialThreads} threads change the result's bits"); status = 1; }
            for (int side = 0; side < 2; side++)
            {
                var plan = Gemm.Plan(s.TA, s.TB, s.M, s.N, s.K, sides[side]);
                if (plan.Threads != sides[side].Threads) Console.WriteLine($"# {s.Name}: the {(side == 0 ? "base" : "trial")} side runs on {plan.Threads} thread(s): {plan}");
            }
            double flop = 2.0 * s.M * s.N * s.K;
            var sw = Stopwatch.StartNew();
            int calls = 0;
            while (sw.Elapsed.TotalMilliseconds < 300) { Gemm.Multiply(s.TA, s.TB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N, options: sides[calls & 1]); calls++; }
            int perBatch = Math.Max(1, (int)(calls * 50 / sw.Elapsed.TotalMilliseconds));
            var rates = new[] { new List<double>(), new List<double>() };
            var ratios = new List<double>();
            var cpuRatios = new List<double>();
            var process = Process.GetCurrentProcess();
            for (int r = 0; r < rounds; r++)
            {
                var rate = new double[2];
                var cpu = new double[2];
                for (int q = 0; q < 2; q++)
                {
                    int side = (q + r) & 1;
                    process.Refresh();
                    var cpu0 = process.TotalProcessorTime;
                    long t0 = Stopwatch.GetTimestamp();
                    for (int i = 0; i < perBatch; i++) Gemm.Multiply(s.TA, s.TB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N, options: sides[side]);
                    rate[side] = flop * perBatch / Stopwatch.GetElapsedTime(t0).TotalSeconds / 1e9;
                    process.Refresh();
                    cpu[side] = (process.TotalProcessorTime - cpu0).TotalSeconds;
                }
                rates[0].Add(rate[0]); rates[1].Add(rate[1]); ratios.Add(rate[1] / rate[0]); cpuRatios.Add(cpu[0] / cpu[1]);
            }
            Console.WriteLine($"{s.Name}\t{Quantile(rates[0], 0.5):F1}\t{Quantile(rates[1], 0.5):F1}\t{Quantile(ratios, 0.5):F3}\t{Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3}" +
                $"\t{Quantile(cpuRatios, 0.5):F3}\t{Quantile(cpuRatios, 0.25):F3}–{Quantile(cpuRatios, 0.75):F3}");
        }
        return status;
    }

    private static double Quantile(List<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        double at = q * (sorted.Length - 1);
        int lo = (int)at;
        return lo + 1 < sorted.Length ? sorted[lo] + (at - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
    }

    /// <summary>Random operands of an m×k by k×n product (op(A) / op(B) stored transposed when ta / tb), and C.</summary>
    private static (float[] A, float[] B, float[] C, int Lda, int Ldb) Operands(int m, int k, int n, bool ta, bool tb)
    {
        var rng = new Random(1);
        var a = new float[m * k];
        var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble() - 0.5f;
        return (a, b, new float[m * n], ta ? m : k, tb ? k : n);
    }

    public static double Measure(int m, int k, int n, bool ta, bool tb, double seconds, GemmOptions options)
    {
        var (a, b, c, lda, ldb) = Operands(m, k, n, ta, tb);
        double flop = 2.0 * m * n * k;
        // Calls per batch so that one batch takes about 50 ms.
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (sw.Elapsed.TotalMilliseconds < 200) { Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, options: options); calls++; }
        int perBatch = Math.Max(1, (int)(calls * 50 / sw.Elapsed.TotalMilliseconds));
        var rates = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds || rates.Count < 5)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < perBatch; i++) Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, options: options);
            double dt = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            rates.Add(flop * perBatch / dt / 1e9);
        }
        rates.Sort();
        return rates[rates.Count / 2];
    }
}
