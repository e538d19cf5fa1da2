using System.Diagnostics;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Bench;

/// <summary>
/// Training speed of the book's CNNs: SimpleConvNet or DeepConvNet, Adam 0.001, mini-batches of 100 drawn from a
/// shuffled MNIST training set, for a fixed number of iterations after a few warm-up ones. Prints seconds per
/// iteration and the implied seconds per epoch of 60,000 images; with --profile also each layer's forward and
/// backward time (<see cref="LayerProfile"/>), which is where to look when the whole is slow. The step's speed in the
/// book's FLOPs (<see cref="LayerFlops"/>) is printed against the FMA limit measured in the same process.
/// </summary>
internal static class ConvTrainBench
{
    public static int Run(string model, int iterations, bool profile)
    {
        var spec = model switch
        {
            "simpleconv" => Networks.SimpleConvNetSpec(),
            "deepconv" => Networks.DeepConvNetSpec(),
            "deepconv-bn" => Networks.DeepConvNetSpec() with { BatchNorm = true },
            _ => throw new ArgumentException($"unknown model '{model}': use simpleconv, deepconv or deepconv-bn"),
        };
        var (train, _) = Mnist.Load();
        var net = spec.Build<float>(seed: 1);
        // The FMA limit on the step's threads, before and after the step: the larger (other load only lowers it).
        int threads = Kernels.Gemm.EffectiveThreads;
        double limit = FmaLimit.Measure(threads, 0.25);
        var result = LayerProfile.Measure(net, new Adam<float>(0.001), train, iterations);
        limit = Math.Max(limit, FmaLimit.Measure(threads, 0.25));
        Console.WriteLine($"model {model}");
        Console.WriteLine($"last_loss {result.LastLoss:F4}");
        Console.WriteLine($"seconds_per_iteration {result.SecondsPerIteration:F4}");
        Console.WriteLine($"seconds_per_epoch {result.SecondsPerIteration * train.Count / 100:F1}");
        Console.WriteLine($"gflop_per_iteration {result.FlopsPerIteration / 1e9:F3}");
        Console.WriteLine($"gflops {result.Gflops:F1}");
        Console.WriteLine($"fma_limit_gflops {limit:F1}");
        Console.WriteLine($"fma_limit_threads {threads}");
        Console.WriteLine($"fma_vector_bits {FmaLimit.VectorBits}");
        Console.WriteLine($"fma_fraction {result.Gflops / limit:F3}");
        Console.WriteLine($"allocated_bytes_per_iteration {result.AllocatedBytesPerIteration}");
        Console.WriteLine($"peak_resident_mib {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}");
        // The timed iterations' collections only: the warm-up's (its buffers being made) used to count here too.
        Console.WriteLine($"gc_collections_per_epoch gen0 {result.Gen0Collections * 600.0 / iterations:F1} gen2 {result.Gen2Collections * 600.0 / iterations:F1}");
        if (profile)
        {
            Console.WriteLine("layer            forward_ms  backward_ms   (per iteration)");
            foreach (var l in result.Layers) Console.WriteLine($"{l.Layer,-16} {l.ForwardMs,10:F2}  {l.BackwardMs,11:F2}");
        }
        return 0;
    }
}
