using ZeroDL.Charts;
using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Experiments;

/// <summary>
/// A learner's experiment from our seed material: a one-layer linear classifier against a 3-layer ReLU net, each
/// trained by the learner's rule (squared error to target scores +5 for the true class and −5 for the others, so
/// ΔW = lr·Δp·xᵀ with Δp = target − score) and by softmax cross-entropy. They reported 80 % and 86 %.
/// </summary>
public sealed class LinearVsDeepExperiment : Experiment
{
    public override string Name => "linear-vs-deep";
    public override string Chapter => "seed";
    public override string Title => "linear classifier vs 3-layer ReLU net, squared error to ±5 targets vs cross-entropy";

    public override ExperimentResult Run(ExperimentContext context)
    {
        int epochs = context.Quick ? 3 : 5;
        var train = context.Quick ? context.Mnist.Train.Take(10000) : context.Mnist.Train;
        var test = context.Quick ? context.Mnist.Test.Take(2000) : context.Mnist.Test;
        var figures = new Dictionary<string, double>();
        var curves = new List<Series>();
        var rows = new List<object[]>();
        foreach (bool deep in new[] { false, true })
            foreach (bool squared in new[] { true, false })
            {
                var net = deep ? Networks.MultiLayerNet<float>([100, 100], context.Seed)
                    : new Sequential<float>([784], [new Affine<float>(784, 10, 0.01, new Rng(context.Seed))]);
                // Squared error on ±5 scores has gradients far larger than cross-entropy's, so it takes a smaller rate.
                var optimizer = new Sgd<float>(squared ? 0.01 : 0.1);
                var accuracy = new List<double>();
                var loader = new BatchLoader(train, 100, false, (train.Count + 99) / 100, epochs * ((train.Count + 99) / 100), new Rng(context.Seed), background: false);
                int perEpoch = (train.Count + 99) / 100;
                for (int it = 1; it <= epochs * perEpoch; it++)
                {
                    var batch = loader.Next();
                    if (squared) SquaredErrorStep(net, batch.Images, batch.LabelSpan);
                    else net.Gradient(batch.Images, batch.LabelSpan);
                    optimizer.Step(net.Parameters);
                    if (it % (perEpoch / 5) == 0 || it == epochs * perEpoch) accuracy.Add(net.Accuracy(test));
                }
                loader.Dispose();
                string name = $"{(deep ? "3-layer ReLU" : "linear")}, {(squared ? "squared error ±5" : "cross-entropy")}";
                string key = $"{(deep ? "deep" : "linear")}_{(squared ? "squared" : "crossentropy")}";
                figures[key] = accuracy[^1];
                for (int i = 0; i < accuracy.Count; i++) rows.Add([name, (i + 1) * 0.2, accuracy[i]]);
                curves.Add(new Series(name, accuracy.Select((_, i) => (i + 1) * 0.2).ToArray(), accuracy) { Dashed = squared });
            }
        context.WriteCsv("accuracy.csv", "model,epoch,test_accuracy", rows);
        context.SaveChart("accuracy.svg", new Chart
        {
            Title = "Test accuracy during training", X = new Axis("epoch"), Y = new Axis("test accuracy") { Min = 0.5, Max = 1 }, Series = curves,
        });
        string P(string key) => ExperimentContext.G(figures[key] * 100, 4) + " %";
        string Points(string a, string b) => ((figures[a] - figures[b]) * 100).ToString("+0.0;−0.0", System.Globalization.CultureInfo.InvariantCulture);
        string summary = $"""
            {epochs} epochs of SGD (lr 0.01 for the squared error, 0.1 for cross-entropy) with mini-batches of 100 on
            {train.Count} images, tested on {test.Count}:

            | model | learner's rule: squared error to ±5 | softmax cross-entropy |
            |---|---|---|
            | linear (one Affine layer) | {P("linear_squared")} | {P("linear_crossentropy")} |
            | 3-layer ReLU net (784-100-100-10) | {P("deep_squared")} | {P("deep_crossentropy")} |

            The learner reported 80 % (linear) and 86 % (3 layers) with the squared-error rule. Depth helps with either
            loss: {Points("deep_squared", "linear_squared")} points with the squared error, {Points("deep_crossentropy", "linear_crossentropy")} with
            cross-entropy. Cross-entropy on softmax probabilities, whose gradient y − t stops pushing a score once the
            answer is confidently right, changes the linear classifier by {Points("linear_crossentropy", "linear_squared")} points (it cannot
            fit ±5 targets with one straight cut per class) and the 3-layer net by {Points("deep_crossentropy", "deep_squared")}.
            """;
        return new ExperimentResult(summary, figures);
    }

    /// <summary>Forward, then backward from ∂E/∂scores = (scores − target)/N with target +5 for the label and −5 elsewhere.</summary>
    private static void SquaredErrorStep(Sequential<float> net, NDArray<float> x, ReadOnlySpan<int> labels)
    {
        var scores = net.Predict(x, training: true);
        var d = new NDArray<float>(scores.Shape);
        int classes = scores.RowLength;
        for (int i = 0; i < labels.Length; i++)
            for (int c = 0; c < classes; c++)
                d[i, c] = (scores[i, c] - (c == labels[i] ? 5f : -5f)) / labels.Length;
        for (int l = net.Layers.Count - 1; l >= 0; l--) d = net.Layers[l].Backward(d);
    }
}
