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

    public static void Run(int threads, double secondsPerShape, string only = "", string custom = "")
    {
        var shapes = Select(custom);
        Gemm.MaxThreads = threads;
        Console.WriteLine($"# ZeroDL GEMM, kernel {Gemm.KernelName}, threads {threads}");
        Console.WriteLine("shape (MxKxN)\tGFLOP/s");
        foreach (var s in shapes)
        {
            if (!s.Name.StartsWith(only, StringComparison.Ordinal)) continue;
            double gflops = Measure(s.M, s.K, s.N, s.TA, s.TB, secondsPerShape);
            Console.WriteLine($"{s.Name}\t{gflops:F1}");
        }
    }

    /// <summary>
    /// A fixed amount of work for a cycle count: the one given shape warmed up for about 0.2 s, then exactly
    /// <paramref name="calls"/> calls with perf's counters switched on (<see cref="PerfCounting"/>); the GFLOP/s of
    /// those calls is printed. bench/gemm-cycles.sh divides the shape's FLOPs by the cycles perf counted.
    /// </summary>
    public static int RunCalls(int threads, int calls, string custom, string switchSetting = "")
    {
        if (switchSetting.Length > 0)
        {
            // NAME=on or NAME=off: an internal switch set for the whole run (bench/gemm-cycles.sh --switch NAME).
            var parts = switchSetting.Split('=');
            if (parts.Length != 2 || parts[1] is not ("on" or "off"))
                throw new ArgumentException($"--switch '{switchSetting}': expected NAME=on or NAME=off");
            Switch(parts[0])(parts[1] == "on");
        }
        if (custom.Length == 0) throw new ArgumentException("gemm-calls needs --shape MxKxN[At|Bt]");
        if (calls < 1) throw new ArgumentException($"--calls {calls}: expected a positive number of calls");
        var shapes = Select(custom);
        if (shapes.Length != 1) throw new ArgumentException("gemm-calls times one shape at a time (perf counts the whole run)");
        var s = shapes[0];
        Gemm.MaxThreads = threads;
        var (a, b, c, lda, ldb) = Operands(s.M, s.K, s.N, s.TA, s.TB);
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalMilliseconds < 200) Gemm.Multiply(s.TA, s.TB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N);
        PerfCounting.Enable();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++) Gemm.Multiply(s.TA, s.TB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N);
        double seconds = sw.Elapsed.TotalSeconds;
        PerfCounting.Disable();
        Console.WriteLine($"{s.Name}\t{2.0 * s.M * s.N * s.K * calls / seconds / 1e9:F1}");
        return 0;
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

    /// <summary>The setter of an internal switch by its bench name (see <see cref="CompareSwitch"/>).</summary>
    public static Action<bool> Switch(string flag)
    {
        return flag switch
        {
            "shared-b" => on => Gemm.UseSharedB = on,
            "transposed-a-in-place" => on => Sgemm.UseTransposedAInPlace = on,
            "a-in-place-to-96" => on => Sgemm.DirectMaxColumns = on ? 96 : 64,
            "prefetch-c" => on => Sgemm.PrefetchesC = on,
            "in-place-deep-k" => on => Sgemm.UseInPlaceDeepK = on,
            "row-edges" => on => Sgemm.UsesRowEdgeKernels = on,
            "many-k-blocks" => on => Sgemm.PacksManyKBlocks = on,
            "prefetch-a" => on => Sgemm.PrefetchesA = on,
            "prefetch-rows" => on => Sgemm.PrefetchesNextRows = on,
            "column-slabs" => on => Gemm.UseColumnSlabs = on,
            "share-narrow" => on => Gemm.ShareNarrowColumns = on,
            _ => throw new ArgumentException($"unknown switch '{flag}': use shared-b, transposed-a-in-place, a-in-place-to-96, prefetch-c, in-place-deep-k, row-edges, prefetch-a, prefetch-rows, column-slabs, share-narrow or many-k-blocks"),
        };
    }

    public static double Measure(int m, int k, int n, bool ta, bool tb, double seconds)
    {
        var (a, b, c, lda, ldb) = Operands(m, k, n, ta, tb);
        double flop = 2.0 * m * n * k;
        // Calls per batch so that one batch takes about 50 ms.
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (sw.Elapsed.TotalMilliseconds < 200) { Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n); calls++; }
        int perBatch = Math.Max(1, (int)(calls * 50 / sw.Elapsed.TotalMilliseconds));
        var rates = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds || rates.Count < 5)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < perBatch; i++) Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n);
            double dt = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            rates.Add(flop * perBatch / dt / 1e9);
        }
        rates.Sort();
        return rates[rates.Count / 2];
    }

    /// <summary>
    /// An A/B of one internal switch (<paramref name="flag"/>: "shared-b", threaded products sharing one packed B
    /// against a slab per thread; "transposed-a-in-place", thin products reading a transposed A in place against
    /// packing it; "a-in-place-to-96", products up to 96 columns reading A in place against up to 64; "prefetch-c", the packed
    /// kernel prefetching its C tile against not; "in-place-deep-k", the in-place-A path's
    /// K blocks up to 576 deep against 256; "row-edges", ragged rows by the 4- and 2-row kernels and threads split
    /// on even rows, against whole 6-row tiles; "prefetch-a", the 6×16 kernel prefetching A ahead against not; "prefetch-rows", a tall thin product with A read
    /// in place asking for the next 6 rows ahead against not; "column-slabs", a product of few rows split over the
    /// threads by columns against by rows; "share-narrow", column slabs sharing the narrow columns out by rows against
    /// the last slab computing them all;
    /// "many-k-blocks", a thin shared-B product packing as many K blocks per meeting as fit against one) on every shape: the two settings alternate in short timed batches, so that a
    /// noisy machine slows both alike; the medians and their ratio are printed.
    /// </summary>
    public static int CompareSwitch(string flag, int threads, int rounds, string only, string custom = "")
    {
        var set = Switch(flag);
        var shapes = Select(custom);
        Gemm.MaxThreads = threads;
        Console.WriteLine($"# ZeroDL GEMM, {flag} off vs on, threads {threads}, {rounds} alternating rounds");
        Console.WriteLine("shape (MxKxN)\toff GFLOP/s\ton GFLOP/s\ton/off");
        foreach (var s in shapes)
        {
            if (!s.Name.StartsWith(only, StringComparison.Ordinal)) continue;
            var off = new List<double>(); var on = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                set(false); off.Add(Measure(s.M, s.K, s.N, s.TA, s.TB, 0.2));
                set(true); on.Add(Measure(s.M, s.K, s.N, s.TA, s.TB, 0.2));
            }
            off.Sort(); on.Sort();
            double a = off[rounds / 2], b = on[rounds / 2];
            Console.WriteLine($"{s.Name}\t{a:F1}\t{b:F1}\t{b / a:F2}");
        }
        set(true);
        return 0;
    }
}
