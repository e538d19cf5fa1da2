using ZeroDL.Charts;
using ZeroDL.Optimizers;

namespace ZeroDL.Experiments;

/// <summary>Ch. 6.4: a 7-layer net on 300 training images for 200 epochs: no regularisation, weight decay λ = 0.1, dropout 0.2.</summary>
public sealed class OverfittingExperiment : Experiment
{
    public override string Name => "overfitting";
    public override string Chapter => "6.4";
    public override string Title => "overfitting on 300 samples, and weight decay and dropout against it";

    public override ExperimentResult Run(ExperimentContext context)
    {
        int epochs = context.Quick ? 100 : 200;
        var train = context.Mnist.Train.Take(300);
        var test = context.Quick ? context.Mnist.Test.Take(2000) : context.Mnist.Test;
        var variants = new (string Name, double WeightDecay, double Dropout)[] { ("none", 0, 0), ("weight decay 0.1", 0.1, 0), ("dropout 0.2", 0, 0.2) };
        var panels = new List<Chart>();
        var rows = new List<object[]>();
        var figures = new Dictionary<string, double>();
        foreach (var (name, wd, dropout) in variants)
        {
            var net = ExperimentTraining.Mlp(6, WeightInit.He, context.Seed, weightDecay: wd, dropout: dropout);
            var (trainAcc, testAcc) = ExperimentTraining.Accuracies(net, new Sgd<float>(0.01), train, test, epochs, 100, context.Seed);
            for (int e = 0; e < epochs; e++) rows.Add([name, e + 1, trainAcc[e], testAcc[e]]);
            string key = name.Split(' ')[0];
            figures[key + "_train"] = trainAcc[^1];
            figures[key + "_test"] = testAcc[^1];
            figures[key + "_gap"] = trainAcc[^1] - testAcc[^1];
            panels.Add(new Chart
            {
                Title = name, X = new Axis("epoch"), Y = new Axis("accuracy") { Min = 0, Max = 1 },
                Series = [Series.Of("train", trainAcc, 1), Series.Of("test", testAcc, 1)],
            });
        }
        context.WriteCsv("accuracy.csv", "variant,epoch,train_accuracy,test_accuracy", rows);
        context.SaveSvg("overfitting.svg", SmallMultiples.ToSvg(panels, 3, "300 training images, 6 hidden ReLU layers of 100, SGD 0.01", 330, 260));
        string summary = $"""
            300 training images, 6 hidden layers of 100 (a 7-layer net), SGD lr 0.01, batch 100, {epochs} epochs; test on
            {test.Count} images.

            | regularisation | train | test | gap |
            |---|---|---|---|
            {string.Join("\n", variants.Select(v => v.Name.Split(' ')[0]).Select((k, i) => $"| {variants[i].Name} | {ExperimentContext.G(figures[k + "_train"], 3)} | {ExperimentContext.G(figures[k + "_test"], 3)} | {ExperimentContext.G(figures[k + "_gap"], 3)} |"))}

            Without regularisation the network memorises its 300 images (train accuracy near 1) while test accuracy stays
            far below — overfitting. Weight decay (penalising large weights) and dropout (training random sub-networks)
            narrow the gap, as in the book's figures 6-21 and 6-23.
            """;
        return new ExperimentResult(summary, figures);
    }
}
