using ZeroDL.Charts;
using ZeroDL.Layers;
using ZeroDL.Optimizers;

namespace ZeroDL.Experiments;

/// <summary>Ch. 6.1: the paths of six optimizers on f(x, y) = x²/20 + y² from (−7, 2), 30 steps, drawn over its contour.</summary>
public sealed class Optimizers2DExperiment : Experiment
{
    public override string Name => "optimizers-2d";
    public override string Chapter => "6.1";
    public override string Title => "SGD, Momentum, Nesterov, AdaGrad, RMSprop and Adam on x²/20 + y²";

    /// <summary>The book's learning rates for SGD, Momentum, AdaGrad and Adam (optimizer_compare_naive.py); ours for Nesterov and RMSprop.</summary>
    public static IReadOnlyList<(string Name, double Rate)> Optimizers { get; } =
        [("sgd", 0.95), ("momentum", 0.1), ("nesterov", 0.1), ("adagrad", 1.5), ("rmsprop", 0.1), ("adam", 0.3)];

    public override ExperimentResult Run(ExperimentContext context)
    {
        const int steps = 30;
        var panels = new List<Chart>();
        var rows = new List<object[]>();
        var figures = new Dictionary<string, double>();
        foreach (var (name, rate) in Optimizers)
        {
            var optimizer = Optimizer<double>.Create(name, rate);
            var p = new Parameter<double>("xy", NDArray<double>.From([-7.0, 2.0]), isWeight: false);
            var xs = new List<double> { p.Value[0] }; var ys = new List<double> { p.Value[1] };
            for (int s = 0; s < steps; s++)
            {
                p.Grad[0] = p.Value[0] / 10; // ∂f/∂x of x²/20
                p.Grad[1] = 2 * p.Value[1];  // ∂f/∂y of y²
                optimizer.Step([p]);
                xs.Add(p.Value[0]); ys.Add(p.Value[1]);
            }
            for (int i = 0; i < xs.Count; i++) rows.Add([name, i, xs[i], ys[i]]);
            figures[name + "_final_distance"] = Math.Sqrt(xs[^1] * xs[^1] + ys[^1] * ys[^1]);
            figures[name + "_y_sign_changes"] = ys.Zip(ys.Skip(1)).Count(q => Math.Sign(q.First) * Math.Sign(q.Second) < 0);
            panels.Add(new Chart
            {
                Title = $"{optimizer.Name} (lr {rate})", X = new Axis("x") { Min = -10, Max = 10 }, Y = new Axis("y") { Min = -5, Max = 5 },
                Contour = new ContourField((x, y) => x * x / 20 + y * y, -10, 10, -5, 5) { LevelCount = 10, GeometricLevels = true },
                Series = [new Series(optimizer.Name, xs, ys) { Markers = true, Color = "#d62728" }], Legend = false,
            });
        }
        context.WriteCsv("paths.csv", "optimizer,step,x,y", rows);
        context.SaveSvg("optimizers_2d.svg", SmallMultiples.ToSvg(panels, 3, "30 steps on f(x, y) = x²/20 + y² from (−7, 2)", 330, 260));
        string summary = $"""
            | optimizer | learning rate | distance to the minimum after {steps} steps | sign changes of y |
            |---|---|---|---|
            {string.Join("\n", Optimizers.Select(o => $"| {o.Name} | {o.Rate} | {ExperimentContext.G(figures[o.Name + "_final_distance"])} | {figures[o.Name + "_y_sign_changes"]} |"))}

            The function is 20 times steeper in y than in x, so the gradient points mostly across the valley. SGD zig-zags
            in y ({figures["sgd_y_sign_changes"]} sign changes) while crawling along x; Momentum and Nesterov build up speed along x and
            roll like a ball; AdaGrad and RMSprop scale each coordinate by its own gradient history, damping the steep y
            direction; Adam does both. The learning rates for SGD, Momentum, AdaGrad and Adam are the book's.
            """;
        return new ExperimentResult(summary, figures);
    }
}
