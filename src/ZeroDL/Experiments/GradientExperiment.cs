using ZeroDL.Charts;
using ZeroDL.Functions;

namespace ZeroDL.Experiments;

/// <summary>Ch. 4.4: the field −∇f of f(x0, x1) = x0² + x1², and gradient descent from (−3, 4) with a good, a too large and a too small learning rate.</summary>
public sealed class GradientExperiment : Experiment
{
    public override string Name => "gradient";
    public override string Chapter => "4.4";
    public override string Title => "the gradient field of x0² + x1², and gradient descent with three learning rates";

    private static double F(NDArray<double> x) => x[0] * x[0] + x[1] * x[1];

    public override ExperimentResult Run(ExperimentContext context)
    {
        // The field: −∇f (numerical) on a grid, drawn as short segments from each grid point.
        var segmentsX = new List<double>(); var segmentsY = new List<double>();
        var rows = new List<object[]>();
        for (double a = -2; a <= 2.5001; a += 0.25)
            for (double b = -2; b <= 2.5001; b += 0.25)
            {
                var g = NumericalDiff.Gradient(F, NDArray<double>.From([a, b]));
                rows.Add([a, b, -g[0], -g[1]]);
                segmentsX.AddRange([a, a - 0.04 * g[0], double.NaN]);
                segmentsY.AddRange([b, b - 0.04 * g[1], double.NaN]);
            }
        context.WriteCsv("gradient_field.csv", "x0,x1,minus_grad_x0,minus_grad_x1", rows);
        var tips = rows.Select(r => ((double)r[0] + 0.04 * (double)r[2], (double)r[1] + 0.04 * (double)r[3])).ToList();
        context.SaveChart("gradient_field.svg", new Chart
        {
            Title = "−∇f of f = x0² + x1² (each segment points downhill; dots at its tip)",
            X = new Axis("x0") { Min = -2.5, Max = 3 }, Y = new Axis("x1") { Min = -2.5, Max = 3 },
            Series = [new Series("−∇f × 0.04", segmentsX, segmentsY), new Series("", tips.Select(t => t.Item1).ToArray(), tips.Select(t => t.Item2).ToArray()) { ScatterOnly = true, Color = "#1f77b4" }],
        }, 560, 520);

        var start = NDArray<double>.From([-3.0, 4.0]);
        var figures = new Dictionary<string, double>();
        var paths = new List<Series>();
        var pathRows = new List<object[]>();
        foreach (double lr in new[] { 0.1, 10, 1e-10 })
        {
            var xs = new List<double>(); var ys = new List<double>();
            var end = GradientDescent.Minimize(F, start, lr, steps: 100, onStep: (s, x) => { xs.Add(x[0]); ys.Add(x[1]); pathRows.Add([lr, s, x[0], x[1]]); });
            xs.Add(end[0]); ys.Add(end[1]);
            pathRows.Add([lr, 100, end[0], end[1]]);
            figures[$"lr{lr:G}_x0"] = end[0];
            figures[$"lr{lr:G}_x1"] = end[1];
            if (lr == 0.1) paths.Add(new Series("lr 0.1, first 20 steps", xs.Take(21).ToArray(), ys.Take(21).ToArray()) { Markers = true });
        }
        context.WriteCsv("descent.csv", "learning_rate,step,x0,x1", pathRows);
        context.SaveChart("descent.svg", new Chart
        {
            Title = "Gradient descent on x0² + x1² from (−3, 4)", X = new Axis("x0") { Min = -3.5, Max = 3.5 }, Y = new Axis("x1") { Min = -4.5, Max = 4.5 },
            Contour = new ContourField((a, b) => a * a + b * b, -3.5, 3.5, -4.5, 4.5) { Levels = [0.5, 2, 4.5, 8, 12.5, 18, 24.5] },
            Series = paths,
        }, 560, 560);
        string P(double lr) => $"({ExperimentContext.G(figures[$"lr{lr:G}_x0"], 9)}, {ExperimentContext.G(figures[$"lr{lr:G}_x1"], 9)})";
        string summary = $"""
            Every segment of the field points towards the minimum at (0, 0), longer the farther it is: the gradient says
            where the function falls fastest. 100 steps of gradient descent from (−3, 4) (numerical gradient):

            | learning rate | end point |
            |---|---|
            | 0.1 | {P(0.1)} |
            | 10 | {P(10)} |
            | 1e-10 | {P(1e-10)} |

            With 0.1 it reaches the minimum (each step multiplies the point by 0.8); with 10 every step multiplies it by
            −19 and it diverges; with 1e-10 it barely moves. The learning rate is a hyper-parameter that must be chosen.
            """;
        return new ExperimentResult(summary, figures);
    }
}
