using ZeroDL.Bench;

// Every benchmark, its options and what it measures (printed by --help and on a wrong option).
const string Usage = """
Usage: ZeroDL.Bench gemm [--threads N] [--seconds S] [--parallel-threshold MULTIPLY_ADDS] [--kernel avx512|avx2|scalar] [--only SHAPE_PREFIX] [--shape MxKxN[At|Bt],…] [--plans] [--list]
       ZeroDL.Bench gemm-calls --shape MxKxN[At|Bt] --calls N [--threads N] [--kernel K]   (warm-up, then N calls with perf's counters on: bench/gemm-cycles.sh)
       ZeroDL.Bench gemm-ab --shape MxKxN[At|Bt],… --trial-threads T [--threads N] [--rounds R] [--kernel K] [--parallel-threshold MULTIPLY_ADDS]   (the same product on T threads against N, alternating in one process; bits compared)
       ZeroDL.Bench fma-peak [--threads N] [--seconds S] [--bits 256|512]   (the FMA limit: register-only multiply-adds on 1 … N threads; --bits: that width instead of the widest)
       ZeroDL.Bench twolayer [--iterations N] [--threads N] [--eval-samples N] [--foreground-eval] [--float-batches]
       ZeroDL.Bench deepconv-inference [--threads N]
       ZeroDL.Bench web-load --model FILE [--clients N] [--seconds S]
       ZeroDL.Bench convnet-train [--model simpleconv|deepconv|deepconv-bn] [--iterations N] [--threads N] [--profile]
       ZeroDL.Bench convnet-pooling [--model simpleconv|deepconv] [--rounds R] [--iterations N] [--threads N]   (training steps with each convolution pooling its own output against layer by layer, alternating; bits compared)
       ZeroDL.Bench augment [--batches N] [--without-elastic]   (the default augmentation of batches of 100 images, one thread)
       ZeroDL.Bench sparse [--rounds N]    (the first layer's sparse kernels on MNIST batches, variants alternating)
       ZeroDL.Bench conv-parts      (im2col, the three products and col2im of DeepConvNet's convolutions, timed apart)
       ZeroDL.Bench winograd [--reps N] [--avx2]   (each 3×3 convolution's training passes: shifted windows, Winograd F(2×2) and F(4×4), alternating; --avx2: 256-bit products)
       ZeroDL.Bench winograd-transforms [--reps N]   (F(4×4)'s training forward of each DeepConvNet shape, chunk by chunk: 256- vs 512-bit output transform, alternating)
       ZeroDL.Bench winograd-rows [--reps N]   (F(4×4)'s input and output-gradient transforms of each DeepConvNet shape: rows from a padded copy vs masked loads, alternating)
       ZeroDL.Bench conv-passes [--reps N] [--chunk-elements E] [--padded-rows] [--weight-tiles]   (each DeepConvNet convolution's forward, dW and dx: 256- vs 512-bit products, or the default chunks vs E elements, or F(4×4)'s transforms from padded copies vs masked rows, or Winograd dW products by 4×3 vs 8×3 tiles, alternating)
       ZeroDL.Bench winograd-dw [--reps N] [--avx2]   (the Winograd weight gradient's products per DeepConvNet convolution, one chunk on one thread: 4×3 tiles vs the fast path, alternating; 512-bit unless --avx2)
       ZeroDL.Bench pooling-pairs [--model deepconv|simpleconv] [--reps N]   (each convolution → 2×2 pooling pair as one pass and as two layers, alternating)
       ZeroDL.Bench step-parts [--reps N]   (DeepConvNet's first convolution and its pooling layers, layer by layer; pooling-pairs times the pairs as the network runs them)
       ZeroDL.Bench cold-start [--model NAME] [--iterations N]   (a fresh process's first training steps against its steady state)
       mpirun -np N ZeroDL.Bench allreduce [--rounds N]   (Open MPI allreduce of gradient-sized buffers, checked and timed)
       [mpirun -np N] ZeroDL.Bench distributed-step [--model M] [--hidden 4096,4096] [--iterations N] [--rounds R]   (step time split into compute and allreduce)
""";
string[] intOptions = ["--batches", "--bits", "--calls", "--chunk-elements", "--clients", "--eval-samples", "--iterations", "--parallel-threshold", "--reps", "--rounds", "--seconds", "--threads", "--trial-threads"];
string[] otherOptions = ["--avx2", "--float-batches", "--foreground-eval", "--hidden", "--kernel", "--list", "--model", "--only", "--padded-rows", "--plans", "--weight-tiles", "--profile", "--shape", "--without-elastic"];
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(Usage);
    return 0;
}
// A misspelt option or a number that is not one stops here, before minutes of timing run with the defaults.
for (int i = 1; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal)) continue;
    bool isInt = intOptions.Contains(args[i]);
    if (!isInt && !otherOptions.Contains(args[i]))
        return Refuse($"unknown option '{args[i]}'");
    if (isInt && (i + 1 >= args.Length || !int.TryParse(args[i + 1], out _)))
        return Refuse($"{args[i]} expects a whole number{(i + 1 < args.Length ? $", not '{args[i + 1]}'" : "")}");
    if (args[i] == "--kernel" && (i + 1 >= args.Length || args[i + 1] is not ("auto" or "avx512" or "avx2" or "scalar")))
        return Refuse("--kernel expects auto, avx512, avx2 or scalar");
}
var argList = args.ToList();
string verb = argList.Count > 0 ? argList[0] : "gemm";
int threads = IntOption("--threads", Environment.ProcessorCount);
double seconds = IntOption("--seconds", 2);
// The gemm verbs take their options as an object; the others run with the thread count as this thread's limit.
var gemmOptions = new ZeroDL.Kernels.GemmOptions
{
    Threads = threads,
    ParallelThreshold = IntOption("--parallel-threshold", 0) is > 0 and int threshold ? threshold : ZeroDL.Kernels.GemmOptions.DefaultParallelThreshold,
    Kernel = StringOption("--kernel", "auto") switch
    {
        "auto" => ZeroDL.Kernels.GemmKernel.Auto,
        "avx512" => ZeroDL.Kernels.GemmKernel.Avx512,
        "avx2" => ZeroDL.Kernels.GemmKernel.Avx2,
        "scalar" => ZeroDL.Kernels.GemmKernel.Scalar,
        var k => throw new ArgumentException($"unknown --kernel '{k}': use auto, avx512, avx2 or scalar"),
    },
};
using var threadLimit = ZeroDL.Kernels.Gemm.LimitThreadsOnThisThread(threads);

try
{
    switch (verb)
    {
        case "gemm" when argList.Contains("--list"):
            foreach (var s in GemmBench.Select(StringOption("--shape", ""))) Console.WriteLine(s.Name.Replace(" ", ""));
            return 0;
        case "gemm":
            GemmBench.Run(gemmOptions, seconds, StringOption("--only", ""), StringOption("--shape", ""), argList.Contains("--plans"));
            return 0;
        case "gemm-calls":
            return GemmBench.RunCalls(gemmOptions, IntOption("--calls", 0), StringOption("--shape", ""));
        case "gemm-ab":
            return GemmBench.RunThreads(gemmOptions, IntOption("--trial-threads", 0), IntOption("--rounds", 30), StringOption("--shape", ""));
        case "fma-peak":
            return FmaPeakBench.Run(threads, IntOption("--seconds", 1), argList.Contains("--bits") ? IntOption("--bits", 0) : null);
        case "deepconv-inference":
            return InferenceBench.Run();
        case "twolayer":
            return TwoLayerBench.Run(IntOption("--iterations", 10000), IntOption("--eval-samples", 0), !argList.Contains("--foreground-eval"),
                compressedInput: !argList.Contains("--float-batches"));
        case "web-load":
            return await WebLoadBench.Run(StringOption("--model", ""), IntOption("--clients", 8), IntOption("--seconds", 10));
        case "sparse":
            return SparseBench.Run(IntOption("--rounds", 2000));
        case "augment":
            return AugmentBench.Run(IntOption("--batches", 200), argList.Contains("--without-elastic"));
        case "conv-parts":
            return ConvPartsBench.Run();
        case "winograd":
            return ConvPartsBench.CompareWinograd(IntOption("--reps", 15), !argList.Contains("--avx2"));
        case "winograd-transforms":
            return ConvPartsBench.CompareTransforms(IntOption("--reps", 30));
        case "winograd-rows":
            return ConvPartsBench.CompareRowSources(IntOption("--reps", 30));
        case "winograd-dw":
            return WinogradWeightBench.Run(IntOption("--reps", 30), !argList.Contains("--avx2"));
        case "conv-passes":
            return ConvPartsBench.ComparePasses(IntOption("--reps", 15), IntOption("--chunk-elements", 0), argList.Contains("--padded-rows"), argList.Contains("--weight-tiles"));
        case "step-parts":
            return ConvPartsBench.StepParts(IntOption("--reps", 30));
        case "cold-start":
            return ColdStartBench.Run(StringOption("--model", "deepconv"), IntOption("--iterations", 60));
        case "distributed-step":
            return DistributedStepBench.Run(StringOption("--model", "deepconv"), StringOption("--hidden", ""), IntOption("--iterations", 30), IntOption("--rounds", 3));
        case "allreduce":
            return AllReduceBench.Run(IntOption("--rounds", 50));
        case "convnet-pooling":
            return ConvTrainBench.ComparePooling(StringOption("--model", "deepconv"), IntOption("--rounds", 12), IntOption("--iterations", 10));
        case "pooling-pairs":
            return ConvPartsBench.PoolingPairs(StringOption("--model", "deepconv"), IntOption("--reps", 30));
        case "convnet-train":
            return ConvTrainBench.Run(StringOption("--model", "deepconv"), IntOption("--iterations", 60), argList.Contains("--profile"));
        default:
            return Refuse($"unknown benchmark '{verb}'");
    }
}
catch (ArgumentException e)
{
    // A bad option value (a shape, a switch name): the message, not a stack trace.
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

int IntOption(string name, int fallback)
{
    int i = argList.IndexOf(name);
    return i >= 0 && i + 1 < argList.Count && int.TryParse(argList[i + 1], out int v) ? v : fallback;
}

string StringOption(string name, string fallback)
{
    int i = argList.IndexOf(name);
    return i >= 0 && i + 1 < argList.Count ? argList[i + 1] : fallback;
}

static int Refuse(string message)
{
    Console.Error.WriteLine($"error: {message}");
    Console.Error.WriteLine(Usage);
    return 2;
}
