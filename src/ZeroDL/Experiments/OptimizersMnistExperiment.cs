using ZeroDL.Charts;
using ZeroDL.Optimizers;

namespace ZeroDL.Experiments;

/// <summary>Ch. 6.1.8: the six optimizers training the book's 5-layer ReLU net (4 hidden layers of 100) on MNIST, batch 128.</summary>
public sealed class OptimizersMnistExperiment : Experiment
{
    public override string Name => "optimizers-mnist";
    public override string Chapter => "6.1.8";
    public override string Title => "six optimizers on MNIST: smoothed training loss";

    public override ExperimentResult Run(ExperimentContext context)
    {
        int iterations = context.Quick ? 300 : 2000;
        var train = context.Mnist.Train;
        var curves = new List<(string Name, double[] Loss)>();
        foreach (string name in Optimizer<float>.Names)
        {
            var net = ExperimentTraining.Mlp(4, WeightInit.He, context.Seed);
            curves.Add((name, ExperimentTraining.Losses(net, Optimizer<float>.Create(name), train, iterations, 128, context.Seed)));
        }
        context.WriteCsv("loss.csv", "iteration," + string.Join(",", curves.Select(c => c.Name)),
            Enumerable.Range(0, iterations).Select(i => new object[] { i + 1 }.Concat(curves.Select(c => (object)c.Loss[i]))));
        var smoothed = curves.Select(c => (c.Name, Loss: ExperimentTraining.Smooth(c.Loss))).ToList();
        context.SaveChart("loss.svg", new Chart
        {
            Title = $"MNIST, 784-100-100-100-100-10 ReLU, batch 128: training loss (moving average of 21)",
            X = new Axis("iteration"), Y = new Axis("loss") { Min = 0, Max = 1 },
            Series = smoothed.Select(c => Series.Of(c.Name, c.Loss, 1)).ToList(),
        });
        var figures = smoothed.ToDictionary(c => c.Name + "_final_loss", c => c.Loss[^1]);
        string summary = $"""
            Default learning rates (the book's: 0.01, Adam 0.001), He init, {iterations} iterations. Smoothed loss at the end:

            | optimizer | final loss |
            |---|---|
            {string.Join("\n", smoothed.OrderByDescending(c => c.Loss[^1]).Select(c => $"| {c.Name} | {ExperimentContext.G(c.Loss[^1], 3)} |"))}

            Plain SGD is the slowest to bring the loss down; the methods that adapt or accumulate their steps (Momentum,
            Nesterov, AdaGrad, RMSprop, Adam) learn faster — the book's figure 6-9 (there: SGD 0.15 > Momentum 0.05 >
            Adam 0.03 > AdaGrad 0.016 after 2,000 iterations).
            """;
        return new ExperimentResult(summary, figures);
    }
}
