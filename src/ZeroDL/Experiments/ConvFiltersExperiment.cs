using ZeroDL.Charts;
using ZeroDL.Imaging;
using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Experiments;

/// <summary>Ch. 7.6.1: SimpleConvNet's 30 first-layer filters before training (random) and after.</summary>
public sealed class ConvFiltersExperiment : Experiment
{
    public override string Name => "conv-filters";
    public override string Chapter => "7.6.1";
    public override string Title => "the first convolution layer's filters, before and after training";

    public override ExperimentResult Run(ExperimentContext context)
    {
        int iterations = context.Quick ? 200 : 1200;
        var net = Networks.SimpleConvNet<float>(context.Seed);
        var conv = (Convolution<float>)net.Layers[0];
        var before = conv.W.Value.Clone();
        var options = new TrainerOptions { Iterations = iterations, BatchSize = 100, Seed = context.Seed, EvaluationSamples = 1000, StopOnDivergence = false };
        var history = new Trainer(net, new Adam<float>(0.001), context.Mnist.Train, context.Mnist.Test, options).Train();
        var after = conv.W.Value;
        context.SaveCanvas("filters_before.png", Grid(before));
        context.SaveCanvas("filters_after.png", Grid(after));
        var rows = new List<object[]>();
        for (int f = 0; f < 30; f++) rows.Add([f, Roughness(before, f), Roughness(after, f)]);
        context.WriteCsv("filters.csv", "filter,roughness_before,roughness_after", rows);
        double rb = rows.Average(r => (double)r[1]), ra = rows.Average(r => (double)r[2]);
        context.SaveChart("roughness.svg", new Chart
        {
            Title = "Roughness of each 5×5 filter: mean squared neighbour difference / variance (2 for noise)",
            X = new Axis("filter"), Y = new Axis("roughness") { Min = 0 },
            Series = [new Series("before training", rows.Select(r => (double)(int)r[0]).ToArray(), rows.Select(r => (double)r[1]).ToArray()) { Markers = true },
                      new Series("after training", rows.Select(r => (double)(int)r[0]).ToArray(), rows.Select(r => (double)r[2]).ToArray()) { Markers = true }],
        });
        var figures = new Dictionary<string, double> { ["roughness_before"] = rb, ["roughness_after"] = ra, ["test_accuracy"] = history.FinalTestAccuracy };
        string summary = $"""
            SimpleConvNet (30 filters of 5×5, init std 0.01) trained with Adam 0.001 for {iterations} mini-batches of 100
            (test accuracy on 1,000 images: {ExperimentContext.G(history.FinalTestAccuracy * 100, 4)} %). `filters_before.png` and
            `filters_after.png` draw each filter (dark = large weight, as the book's figure 7-24).

            Before training the filters are noise: neighbouring weights are unrelated, and the mean squared difference of
            neighbours over the variance (our "roughness") is {ExperimentContext.G(rb, 3)}, about 2 as for independent values.
            After training it is {ExperimentContext.G(ra, 3)}: the filters became smooth patterns — edges and blobs that
            respond to strokes of a given direction, as the book shows.
            """;
        return new ExperimentResult(summary, figures);
    }

    private static Canvas Grid(NDArray<float> w)
    {
        var cells = Enumerable.Range(0, w.Shape[0]).Select(f =>
        {
            var pixels = w.ReadOnlySpan.Slice(f * 25, 25).ToArray();
            return new GridCell(pixels, 5, 5) { Low = pixels.Min(), High = pixels.Max(), Inverted = true };
        }).ToList();
        return ImageGrid.Build(cells, 10, zoom: 10, margin: 4);
    }

    /// <summary>Mean squared difference of horizontal and vertical neighbours over the filter's variance.</summary>
    private static double Roughness(NDArray<float> w, int f)
    {
        var v = w.ReadOnlySpan.Slice(f * 25, 25).ToArray().Select(x => (double)x).ToArray();
        double mean = v.Average(), variance = v.Select(x => (x - mean) * (x - mean)).Average();
        double sum = 0; int count = 0;
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++)
            {
                if (x < 4) { sum += Math.Pow(v[y * 5 + x] - v[y * 5 + x + 1], 2); count++; }
                if (y < 4) { sum += Math.Pow(v[y * 5 + x] - v[(y + 1) * 5 + x], 2); count++; }
            }
        return sum / count / Math.Max(variance, 1e-30);
    }
}
