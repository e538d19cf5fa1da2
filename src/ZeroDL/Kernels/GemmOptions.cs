namespace ZeroDL.Kernels;

/// <summary>The float32 micro-kernel a product runs on.</summary>
public enum GemmKernel
{
    /// <summary>The best this CPU runs: AVX-512, else AVX2 with FMA, else scalar.</summary>
    Auto,
    /// <summary>Plain loops, 6×16 tiles: the fallback where no vector unit helps.</summary>
    Scalar,
    /// <summary>256-bit FMA, 6×16 register tiles.</summary>
    Avx2,
    /// <summary>512-bit FMA, 12×32 register tiles.</summary>
    Avx512,
}

/// <summary>
/// How a product may run: on how many threads, from what size on, and on which micro-kernel. Passed to
/// <see cref="Gemm.Multiply{T}"/> and <see cref="Gemm.Plan"/>; null there means <see cref="Default"/>. A kernel the CPU
/// lacks still computes correctly through .NET's software Vector512/Vector256, only slowly: tests use that to check
/// the AVX2 and scalar paths on an AVX-512 machine.
/// </summary>
public sealed record GemmOptions
{
    /// <summary>Multiply-adds (m·n·k) below which a product stays on the calling thread; see <see cref="ParallelThreshold"/>.</summary>
    public const long DefaultParallelThreshold = 1L << 20;

    /// <summary>Every product on the best kernel, threaded from <see cref="DefaultParallelThreshold"/> on.</summary>
    public static GemmOptions Default { get; } = new();

    /// <summary>
    /// Threads a product may use; null: <see cref="Gemm.EffectiveThreads"/> (every processor, or fewer under
    /// <see cref="Gemm.LimitThreadsOnThisThread"/>). A count above the processors is kept: the parts then take turns,
    /// and the result is the same bits.
    /// </summary>
    public int? Threads
    {
        get => _threads;
        init => _threads = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Threads), value, "threads must be at least 1");
    }
    private readonly int? _threads;

    /// <summary>
    /// Products with fewer multiply-adds than this run on the calling thread: below about a million (some 30–50 µs on
    /// one thread), handing work to a second thread costs about what it saves.
    /// </summary>
    public long ParallelThreshold
    {
        get => _parallelThreshold;
        init => _parallelThreshold = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(ParallelThreshold), value, "threshold must be ≥ 0");
    }
    private readonly long _parallelThreshold = DefaultParallelThreshold;

    /// <summary>The micro-kernel; <see cref="GemmKernel.Auto"/> picks the best the CPU runs.</summary>
    public GemmKernel Kernel { get; init; } = GemmKernel.Auto;

    /// <summary>Threads for <paramref name="work"/> multiply-adds: 1 below <see cref="ParallelThreshold"/>, else <see cref="Threads"/>.</summary>
    public int ThreadsFor(long work) => work < ParallelThreshold ? 1 : Threads ?? Gemm.EffectiveThreads;
}
