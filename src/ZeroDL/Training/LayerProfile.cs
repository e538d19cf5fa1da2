using System.Diagnostics;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;

namespace ZeroDL.Training;

/// <summary>
/// One layer's share of a training step: mean forward and backward milliseconds per iteration, the managed bytes
/// its forward and backward allocate per iteration on the calling thread (a closure handed to the worker pool counts
/// here; a helper thread's own allocations count only in the step's total), and the FLOPs of each pass per iteration
/// as the book counts them (<see cref="LayerFlops"/>). A layer the network runs inside the one before it (a pooling
/// whose convolution pools its own output) names that layer in <see cref="RunsIn"/>; its times and bytes are that
/// layer's, and its own are 0.
/// </summary>
public sealed record LayerTiming(string Layer, double ForwardMs, double BackwardMs, long ForwardBytes = 0, long BackwardBytes = 0,
    long ForwardFlops = 0, long BackwardFlops = 0)
{
    /// <summary>The layer whose passes run this one (a pooling its convolution pools), or null.</summary>
    public string? RunsIn { get; init; }

    /// <summary>The forward pass's speed in the book's FLOPs, GFLOP/s (0 for a layer without multiply-adds or time).</summary>
    public double ForwardGflops => ForwardMs > 0 ? ForwardFlops / ForwardMs / 1e6 : 0;

    /// <summary>The backward pass's speed in the book's FLOPs, GFLOP/s.</summary>
    public double BackwardGflops => BackwardMs > 0 ? BackwardFlops / BackwardMs / 1e6 : 0;
}

/// <summary>
/// Where a training step spends its time: seconds per iteration, each layer's forward and backward, and the managed
/// bytes allocated per timed iteration, on any thread and on the calling thread alone (the goal is none: every buffer
/// is reused; the calling thread's count is the one other work in the process cannot disturb). Gen0Collections and
/// Gen2Collections count the garbage collections (any, and full ones) during the timed iterations only: the warm-up
/// makes the buffers, and a collection then is no cost of training.
/// </summary>
public sealed record LayerProfile(double SecondsPerIteration, double LastLoss, IReadOnlyList<LayerTiming> Layers, long AllocatedBytesPerIteration,
    long CallerBytesPerIteration = 0, int Gen0Collections = 0, int Gen2Collections = 0)
{
    /// <summary>The book's FLOPs of a whole step (every layer's forward and backward; the loss and the optimizer count none).</summary>
    public long FlopsPerIteration => Layers.Sum(l => l.ForwardFlops + l.BackwardFlops);

    /// <summary>The whole step's speed in the book's FLOPs, GFLOP/s: <see cref="FlopsPerIteration"/> over <see cref="SecondsPerIteration"/>.</summary>
    public double Gflops => SecondsPerIteration > 0 ? FlopsPerIteration / SecondsPerIteration / 1e9 : 0;

    /// <summary>
    /// Trains <paramref name="iterations"/> mini-batches (after 3 untimed warm-up ones) of shuffled training images,
    /// timing every layer's Forward and Backward as the network runs them (a convolution and the pooling it pools
    /// into as one, timed as the convolution's); the optimizer step is counted in the total only.
    /// </summary>
    public static LayerProfile Measure(Sequential<float> net, Optimizer<float> optimizer, Dataset train, int iterations, int batchSize = 100, int seed = 1)
    {
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "iterations must be at least 1");
        const int warmup = 3;
        var layers = net.Layers;
        var forward = new double[layers.Count];
        var backward = new double[layers.Count];
        var forwardBytes = new long[layers.Count];
        var backwardBytes = new long[layers.Count];
        var forwardFlops = new long[layers.Count];
        var backwardFlops = new long[layers.Count];
        // Each layer's FLOPs per sample, from the network's output shapes (the batch's size multiplies them).
        var forwardPerSample = new long[layers.Count];
        var backwardPerSample = new long[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            int[] shape = [1, .. net.OutputShapes[i]];
            forwardPerSample[i] = LayerFlops.Forward(layers[i], shape);
            backwardPerSample[i] = LayerFlops.Backward(layers[i], shape);
        }
        using var loader = new BatchLoader(train, batchSize, false, Math.Max(1, train.Count / batchSize), warmup + iterations, new Rng(seed), background: false);
        double loss = 0;
        var total = new Stopwatch();
        long allocatedBefore = 0, callerBefore = 0;
        int gen0Before = 0, gen2Before = 0;
        for (int it = 0; it < warmup + iterations; it++)
        {
            bool timed = it >= warmup;
            if (it == warmup)
            {
                allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                callerBefore = GC.GetAllocatedBytesForCurrentThread();
                gen0Before = GC.CollectionCount(0);
                gen2Before = GC.CollectionCount(2);
            }
            var batch = loader.Next();
            if (timed) total.Start();
            var x = Evaluation.AsInput(net, batch.Images);
            int samples = x.Shape[0];
            for (int i = 0; i < layers.Count; i += net.StepLength(i))
            {
                long b0 = GC.GetAllocatedBytesForCurrentThread(), t0 = Stopwatch.GetTimestamp();
                x = net.ForwardStep(i, x, training: true);
                if (timed)
                {
                    forward[i] += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    forwardBytes[i] += GC.GetAllocatedBytesForCurrentThread() - b0;
                    for (int j = i; j < i + net.StepLength(i); j++)
                    {
                        forwardFlops[j] += forwardPerSample[j] * samples;
                        backwardFlops[j] += backwardPerSample[j] * samples;
                    }
                }
            }
            loss = net.LossLayer.Forward(x, batch.LabelSpan) + net.WeightDecayLoss();
            var d = net.LossLayer.Backward(1.0);
            for (int last = layers.Count - 1; last >= 0;)
            {
                int first = net.StepStart(last);
                long b0 = GC.GetAllocatedBytesForCurrentThread(), t0 = Stopwatch.GetTimestamp();
                // As the network runs it: the first layer computes its parameters' gradients only, where it can.
                d = net.BackwardStep(first, d)!;
                if (timed)
                {
                    backward[first] += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    backwardBytes[first] += GC.GetAllocatedBytesForCurrentThread() - b0;
                }
                last = first - 1;
            }
            optimizer.Step(net.Parameters);
            if (timed) total.Stop();
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        long caller = GC.GetAllocatedBytesForCurrentThread() - callerBefore;
        int gen0 = GC.CollectionCount(0) - gen0Before, gen2 = GC.CollectionCount(2) - gen2Before;
        var names = net.NamedLayers();
        return new LayerProfile(total.Elapsed.TotalSeconds / iterations, loss,
            [.. Enumerable.Range(0, layers.Count).Select(i => new LayerTiming(names[i], forward[i] / iterations, backward[i] / iterations,
                forwardBytes[i] / iterations, backwardBytes[i] / iterations, forwardFlops[i] / iterations, backwardFlops[i] / iterations)
            { RunsIn = net.StepStart(i) < i ? names[net.StepStart(i)] : null })],
            allocated / iterations, caller / iterations, gen0, gen2);
    }
}
