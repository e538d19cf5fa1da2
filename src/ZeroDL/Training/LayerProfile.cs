using System.Diagnostics;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;

namespace ZeroDL.Training;

/// <summary>One layer's share of a training step: mean forward and backward milliseconds per iteration.</summary>
public sealed record LayerTiming(string Layer, double ForwardMs, double BackwardMs);

/// <summary>
/// Where a training step spends its time: seconds per iteration, each layer's forward and backward, and the managed
/// bytes allocated per timed iteration on any thread (the goal is none: every buffer is reused).
/// </summary>
public sealed record LayerProfile(double SecondsPerIteration, double LastLoss, IReadOnlyList<LayerTiming> Layers, long AllocatedBytesPerIteration)
{
    /// <summary>
    /// Trains <paramref name="iterations"/> mini-batches (after 3 untimed warm-up ones) of shuffled training images,
    /// timing every layer's Forward and Backward; the optimizer step is counted in the total only.
    /// </summary>
    public static LayerProfile Measure(Sequential<float> net, Optimizer<float> optimizer, Dataset train, int iterations, int batchSize = 100, int seed = 1)
    {
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "iterations must be at least 1");
        const int warmup = 3;
        var layers = net.Layers;
        var forward = new double[layers.Count];
        var backward = new double[layers.Count];
        using var loader = new BatchLoader(train, batchSize, false, Math.Max(1, train.Count / batchSize), warmup + iterations, new Rng(seed), background: false);
        double loss = 0;
        var total = new Stopwatch();
        long allocatedBefore = 0;
        for (int it = 0; it < warmup + iterations; it++)
        {
            bool timed = it >= warmup;
            if (it == warmup) allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var batch = loader.Next();
            if (timed) total.Start();
            var x = Evaluation.AsInput(net, batch.Images);
            for (int i = 0; i < layers.Count; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                x = net.ForwardLayer(i, x, training: true); // as the network runs it (a ReLU after a convolution folded in)
                if (timed) forward[i] += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
            loss = net.LossLayer.Forward(x, batch.LabelSpan) + net.WeightDecayLoss();
            var d = net.LossLayer.Backward(1.0);
            for (int i = layers.Count - 1; i >= 0; i--)
            {
                long t0 = Stopwatch.GetTimestamp();
                // As the network's own backward does: the first layer computes its parameters' gradients only.
                if (i == 0 && layers[0] is Layers.IFirstLayer<float> first) first.BackwardParameters(d);
                else d = layers[i].Backward(d);
                if (timed) backward[i] += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
            optimizer.Step(net.Parameters);
            if (timed) total.Stop();
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var names = net.NamedLayers();
        return new LayerProfile(total.Elapsed.TotalSeconds / iterations, loss,
            [.. Enumerable.Range(0, layers.Count).Select(i => new LayerTiming(names[i], forward[i] / iterations, backward[i] / iterations))],
            allocated / iterations);
    }
}
