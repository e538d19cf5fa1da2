using System.Diagnostics;
using ZeroDL.Charts;
using ZeroDL.Models;

namespace ZeroDL.Experiments;

/// <summary>Ch. 5.7.3: TwoLayerNet's gradients by central differences and by backpropagation — how close, and how much faster backprop is.</summary>
public sealed class NumericalVsBackpropExperiment : Experiment
{
    public override string Name => "numerical-vs-backprop";
    public override string Chapter => "4.5, 5.7";
    public override string Title => "numerical gradient vs backpropagation: agreement and speed";

    public override ExperimentResult Run(ExperimentContext context)
    {
        int hidden = context.Quick ? 10 : 50;
        var net = Networks.TwoLayerNet<double>(784, hidden, 10, seed: context.Seed);
        var train = context.Mnist.Train;
        var x = NDArrayRows.Slice(train.Images, 0, 3, null).Cast<double>();
        var labels = train.Labels.Slice(0, 3).ToArray();

        var clock = Stopwatch.StartNew();
        var diffs = GradientCheck.Run(net, x, labels); // one backprop and one numerical gradient per parameter
        double numericalSeconds = clock.Elapsed.TotalSeconds;
        int reps = 200;
        clock.Restart();
        for (int i = 0; i < reps; i++) net.Gradient(x, labels);
        double backpropSeconds = clock.Elapsed.TotalSeconds / reps;
        numericalSeconds = Math.Max(numericalSeconds - backpropSeconds, 1e-9);

        context.WriteCsv("gradient_check.csv", "parameter,mean_abs_difference", diffs.Select(d => new object[] { d.Name, d.MeanAbsDiff }));
        context.WriteCsv("timing.csv", "method,seconds_per_gradient", [["numerical", numericalSeconds], ["backprop", backpropSeconds]]);
        context.SaveChart("gradient_check.svg", new Chart
        {
            Title = $"TwoLayerNet 784-{hidden}-10, 3 samples: mean |backprop − numerical| per parameter",
            X = new Axis("parameter (1 = affine1.W, 2 = affine1.b, 3 = affine2.W, 4 = affine2.b)") { Min = 0.5, Max = diffs.Count + 0.5 },
            Y = new Axis("mean absolute difference") { Log = true, Min = 1e-16, Max = 1e-6 },
            Series = [new Series("difference", diffs.Select((_, i) => i + 1.0).ToArray(), diffs.Select(d => Math.Max(d.MeanAbsDiff, 1e-16)).ToArray()) { ScatterOnly = true }],
        });
        var figures = diffs.ToDictionary(d => d.Name, d => d.MeanAbsDiff);
        figures["numerical_seconds"] = numericalSeconds;
        figures["backprop_seconds"] = backpropSeconds;
        figures["speedup"] = numericalSeconds / backpropSeconds;
        string summary = $"""
            TwoLayerNet 784-{hidden}-10 in float64 on 3 training images; numerical gradient by central differences with h = 1e-4.

            | parameter | mean abs difference |
            |---|---|
            {string.Join("\n", diffs.Select(d => $"| {d.Name} | {ExperimentContext.G(d.MeanAbsDiff, 3)} |"))}

            The two agree to about 1e-10 or better — backpropagation is implemented correctly. But the numerical gradient
            needs two forward passes per parameter ({net.Parameters.Sum(p => p.Value.Size):N0} parameters): it took
            {ExperimentContext.G(numericalSeconds, 3)} s against {ExperimentContext.G(backpropSeconds * 1e3, 3)} ms for backprop,
            {figures["speedup"]:N0}× slower. That is why networks are trained with backprop and the numerical
            gradient is only used to check it.
            """;
        return new ExperimentResult(summary, figures);
    }
}
