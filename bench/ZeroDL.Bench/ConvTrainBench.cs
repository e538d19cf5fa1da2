using System.Diagnostics;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;

namespace ZeroDL.Bench;

/// <summary>
/// Training speed of the book's CNNs: SimpleConvNet or DeepConvNet, Adam 0.001, mini-batches of 100 drawn from a
/// shuffled MNIST training set, for a fixed number of iterations after a few warm-up ones. Prints seconds per
/// iteration and the implied seconds per epoch of 60,000 images; with --profile also each layer's forward and
/// backward time, which is where to look when the whole is slow.
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
        var net = Networks.Build<float>(spec, seed: 1);
        var optimizer = new Adam<float>(0.001);
        var rng = new Rng(1);
        var order = rng.Permutation(train.Count);
        const int batch = 100;
        Tensor<float>? x = null;
        var labels = new int[batch];
        int warmup = 3, step = 0;
        var forward = new double[net.Layers.Count];
        var backward = new double[net.Layers.Count];
        double loss = 0;
        Stopwatch? clock = null;
        int gen0 = 0, gen2 = 0;
        for (int it = 0; it < warmup + iterations; it++)
        {
            if (it == warmup)
            {
                Array.Clear(forward); Array.Clear(backward);
                gen0 = GC.CollectionCount(0); gen2 = GC.CollectionCount(2);
                clock = Stopwatch.StartNew();
            }
            if ((step + 1) * batch > train.Count) step = 0;
            var indices = order.AsSpan(step++ * batch, batch);
            x = train.GatherImages(indices, x).Reshape(batch, 1, 28, 28);
            for (int i = 0; i < batch; i++) labels[i] = train.Labels[indices[i]];
            if (profile) loss = ProfiledStep(net, x, labels, forward, backward);
            else loss = net.Gradient(x, labels);
            optimizer.Step(net.Parameters);
        }
        double seconds = clock!.Elapsed.TotalSeconds;
        Console.WriteLine($"model {model}");
        Console.WriteLine($"last_loss {loss:F4}");
        Console.WriteLine($"seconds_per_iteration {seconds / iterations:F4}");
        Console.WriteLine($"seconds_per_epoch {seconds / iterations * train.Count / batch:F1}");
        Console.WriteLine($"gc_collections_per_epoch gen0 {(GC.CollectionCount(0) - gen0) * 600.0 / iterations:F1} gen2 {(GC.CollectionCount(2) - gen2) * 600.0 / iterations:F1}");
        if (profile)
        {
            Console.WriteLine("layer            forward_ms  backward_ms   (per iteration)");
            var names = net.NamedLayers().ToList();
            for (int i = 0; i < names.Count; i++)
                Console.WriteLine($"{names[i],-16} {forward[i] * 1000 / iterations,10:F2}  {backward[i] * 1000 / iterations,11:F2}");
        }
        return 0;
    }

    private static double ProfiledStep(Sequential<float> net, Tensor<float> x, int[] labels, double[] forward, double[] backward)
    {
        var layers = net.Layers;
        var t = Stopwatch.StartNew();
        for (int i = 0; i < layers.Count; i++)
        {
            t.Restart();
            x = layers[i].Forward(x, training: true);
            forward[i] += t.Elapsed.TotalSeconds;
        }
        double loss = net.LossLayer.Forward(x, labels);
        var d = net.LossLayer.Backward(1.0);
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            t.Restart();
            d = layers[i].Backward(d);
            backward[i] += t.Elapsed.TotalSeconds;
        }
        return loss;
    }
}
