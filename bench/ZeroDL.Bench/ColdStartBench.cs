using System.Diagnostics;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Bench;

/// <summary>
/// Cold start: the first training steps of a fresh process against its steady state. Each step (gather a random
/// mini-batch of 100, forward, backward, optimizer) is timed from the very first; the first ones pay for JIT
/// compilation, and code left at tier 0 would show as a slow stretch before the steady state. Prints the first
/// steps, the median of the second half, and what the first ten cost beyond ten steady ones.
/// </summary>
internal static class ColdStartBench
{
    public static int Run(string model, int iterations)
    {
        if (iterations < 20) throw new ArgumentException("--iterations must be at least 20");
        var (train, _) = Mnist.Load();
        var preset = ModelPresets.Find(model);
        var net = preset.Spec.Build<float>(seed: 1);
        var optimizer = Optimizer<float>.Create(preset.Optimizer, preset.LearningRate);
        var rng = new Rng(1);
        var indices = new int[100];
        var labels = new int[indices.Length];
        NDArray<float>? batch = null;
        var ms = new double[iterations];
        for (int it = 0; it < iterations; it++)
        {
            for (int i = 0; i < indices.Length; i++) labels[i] = train.Labels[indices[i] = rng.Next(train.Count)];
            long t0 = Stopwatch.GetTimestamp();
            batch = train.GatherImages(indices, batch);
            net.Gradient(Evaluation.AsInput(net, batch), labels);
            optimizer.Step(net.Parameters);
            ms[it] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        var steady = ms[(iterations / 2)..].Order().ToArray();
        double median = steady[steady.Length / 2];
        Console.WriteLine($"model {preset.Name}, {iterations} steps of 100 images, {ZeroDL.Kernels.Gemm.EffectiveThreads} thread(s)");
        Console.WriteLine($"first_steps_ms {string.Join(" ", ms[..5].Select(v => v.ToString("F1")))}");
        Console.WriteLine($"steady_median_ms {median:F1}");
        Console.WriteLine($"first_step_over_median {ms[0] / median:F1}");
        Console.WriteLine($"steps_2_to_10_over_median {ms[1..10].Average() / median:F2}");
        Console.WriteLine($"first_10_extra_ms {ms[..10].Sum() - 10 * median:F0}");
        return 0;
    }
}
