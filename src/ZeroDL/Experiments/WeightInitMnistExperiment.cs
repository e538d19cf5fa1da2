using ZeroDL.Charts;
using ZeroDL.Optimizers;

namespace ZeroDL.Experiments;

/// <summary>Ch. 6.2.4: the book's 5-layer ReLU net trained with SGD from weights of std 0.01, Xavier and He.</summary>
public sealed class WeightInitMnistExperiment : Experiment
{
    public override string Name => "weight-init-mnist";
    public override string Chapter => "6.2.4";
    public override string Title => "weight init on MNIST: std 0.01 vs Xavier vs He";

    public override ExperimentResult Run(ExperimentContext context)
    {
        int iterations = context.Quick ? 300 : 2000;
        var inits = new[] { ("std 0.01", WeightInit.Std(0.01)), ("Xavier", WeightInit.Xavier), ("He", WeightInit.He) };
        var curves = inits.Select(i => (i.Item1, Loss: ExperimentTraining.Losses(ExperimentTraining.Mlp(4, i.Item2, context.Seed), new Sgd<float>(0.01),
            context.Mnist.Train, iterations, 128, context.Seed))).ToList();
        context.WriteCsv("loss.csv", "iteration,std_0.01,xavier,he",
            Enumerable.Range(0, iterations).Select(i => new object[] { i + 1 }.Concat(curves.Select(c => (object)c.Loss[i]))));
        var smoothed = curves.Select(c => (c.Item1, Loss: ExperimentTraining.Smooth(c.Loss))).ToList();
        context.SaveChart("loss.svg", new Chart
        {
            Title = "MNIST, 4 hidden ReLU layers of 100, SGD 0.01, batch 128: training loss (moving average of 21)",
            X = new Axis("iteration"), Y = new Axis("loss") { Min = 0, Max = 2.5 },
            Series = smoothed.Select(c => Series.Of(c.Item1, c.Loss, 1)).ToList(),
        });
        var figures = smoothed.ToDictionary(c => c.Item1.Replace(" ", "") + "_final_loss", c => c.Loss[^1]);
        string summary = $"""
            {iterations} iterations of SGD (lr 0.01). Smoothed loss at the end: std 0.01 {ExperimentContext.G(figures["std0.01_final_loss"], 3)},
            Xavier {ExperimentContext.G(figures["Xavier_final_loss"], 3)}, He {ExperimentContext.G(figures["He_final_loss"], 3)}.

            With std 0.01 the signal shrinks layer after layer (see weight-init-histograms), the gradients with it, and the
            network does not learn: the loss stays near ln 10 ≈ 2.30. Xavier and He keep the activations' spread and learn;
            He, made for ReLU, learns fastest — the book's figure 6-15.
            """;
        return new ExperimentResult(summary, figures);
    }
}
