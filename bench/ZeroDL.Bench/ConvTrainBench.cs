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
            foreach (var l in result.Layers)
                Console.WriteLine(l.RunsIn is { } into ? $"{l.Layer,-16} {"in " + into,10}  (run inside {into}'s passes)" : $"{l.Layer,-16} {l.ForwardMs,10:F2}  {l.BackwardMs,11:F2}");
        }
        return 0;
    }

    /// <summary>
    /// A training step as the network runs it (a convolution pooling its own output, <see cref="Layers.ConvolutionPooling{T}"/>)
    /// against the same step layer by layer (each layer's own passes: y written and read by the pooling, the pooling's
    /// dx written and gated by the convolution), in one process: two networks from the same seed, Adam 0.001, the same
    /// MNIST batches, blocks of <paramref name="iterations"/> steps alternating for <paramref name="rounds"/> rounds
    /// (which runs first alternates too). Prints each round's milliseconds per step and the ratios' median and
    /// interquartile range, and checks that the two networks' weights stay the same bits.
    /// </summary>
    public static int ComparePooling(string model, int rounds, int iterations)
    {
        var spec = model switch
        {
            "simpleconv" => Networks.SimpleConvNetSpec(),
            "deepconv" => Networks.DeepConvNetSpec(),
            _ => throw new ArgumentException($"unknown model '{model}': use simpleconv or deepconv"),
        };
        var (train, _) = Mnist.Load();
        var fused = spec.Build<float>(seed: 1);
        var apart = spec.Build<float>(seed: 1);
        Adam<float> fusedAdam = new(0.001), apartAdam = new(0.001);
        const int batchSize = 100, batches = 20;
        var images = new NDArray<float>[batches];
        var labels = new int[batches][];
        for (int b = 0; b < batches; b++)
        {
            images[b] = fused.InSampleShape(NDArrayRows.Slice(train.Images, b * batchSize, batchSize, null));
            labels[b] = train.Labels.Slice(b * batchSize, batchSize).ToArray();
        }
        int step = 0;
        double Block(bool throughNetwork)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++)
            {
                int b = (step + i) % batches;
                if (throughNetwork)
                {
                    fused.Gradient(images[b], labels[b]);
                    fusedAdam.Step(fused.Parameters);
                }
                else
                {
                    LayerByLayer(apart, images[b], labels[b]);
                    apartAdam.Step(apart.Parameters);
                }
            }
            return sw.Elapsed.TotalMilliseconds / iterations;
        }
        Block(true); Block(false); // warm-up: buffers, tiered compilation
        step += iterations;
        List<double> ratios = [], fusedTimes = [], apartTimes = [];
        Console.WriteLine($"{model}: {rounds} rounds of {iterations} steps each way, batch {batchSize}, {Kernels.Gemm.EffectiveThreads} thread(s)");
        Console.WriteLine("round  fused ms  apart ms  fused/apart");
        for (int r = 0; r < rounds; r++)
        {
            double f, a;
            if (r % 2 == 0) { f = Block(true); a = Block(false); }
            else { a = Block(false); f = Block(true); }
            step += iterations;
            ratios.Add(f / a); fusedTimes.Add(f); apartTimes.Add(a);
            Console.WriteLine($"{r,5}  {f,8:F2}  {a,8:F2}  {f / a,11:F3}");
        }
        var sorted = ratios.Order().ToList();
        Console.WriteLine($"fused/apart median {sorted[sorted.Count / 2]:F3} [{sorted[sorted.Count / 4]:F3}, {sorted[3 * sorted.Count / 4]:F3}], range [{sorted[0]:F3}, {sorted[^1]:F3}]");
        // On a shared machine the least disturbed blocks say most: each way's fastest block and median.
        Console.WriteLine($"ms per step: fused best {fusedTimes.Min():F2}, median {fusedTimes.Order().ElementAt(rounds / 2):F2}; apart best {apartTimes.Min():F2}, median {apartTimes.Order().ElementAt(rounds / 2):F2}; best/best {fusedTimes.Min() / apartTimes.Min():F3}");
        bool same = fused.Parameters.Zip(apart.Parameters).All(p => p.First.Value.ReadOnlySpan.SequenceEqual(p.Second.Value.ReadOnlySpan));
        Console.WriteLine($"weights after {step} steps each: {(same ? "the same bits" : "DIFFERENT")}");
        return same ? 0 : 1;

        // The step each layer on its own: what the network ran before it pooled inside its convolutions.
        static void LayerByLayer(Sequential<float> net, NDArray<float> x, int[] labels)
        {
            var layers = net.Layers;
            for (int i = 0; i < layers.Count; i++) x = layers[i].Forward(x, training: true);
            net.LossLayer.Forward(x, labels);
            var d = net.LossLayer.Backward(1.0);
            for (int i = layers.Count - 1; i > 0; i--) d = layers[i].Backward(d);
            if (layers[0] is Layers.IFirstLayer<float> first) first.BackwardParameters(d);
            else layers[0].Backward(d);
        }
    }
}

