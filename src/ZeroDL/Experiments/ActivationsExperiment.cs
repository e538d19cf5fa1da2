using ZeroDL.Charts;
using ZeroDL.Functions;

namespace ZeroDL.Experiments;

/// <summary>Ch. 3: the step, sigmoid, ReLU and tanh functions drawn over −5…5.</summary>
public sealed class ActivationsExperiment : Experiment
{
    public override string Name => "activations";
    public override string Chapter => "3.2";
    public override string Title => "activation functions: step, sigmoid, ReLU, tanh";

    public override ExperimentResult Run(ExperimentContext context)
    {
        int n = context.Quick ? 101 : 1001;
        var x = NDArray<double>.From(Enumerable.Range(0, n).Select(i => -5 + 10.0 * i / (n - 1)).ToArray());
        var curves = new (string Name, NDArray<double> Y)[]
        {
            ("step", Activations.Step(x)), ("sigmoid", Activations.Sigmoid(x)), ("ReLU", Activations.Relu(x)), ("tanh", Activations.Tanh(x)),
        };
        context.WriteCsv("activations.csv", "x,step,sigmoid,relu,tanh",
            Enumerable.Range(0, n).Select(i => new object[] { x[i] }.Concat(curves.Select(c => (object)c.Y[i]))));
        var panels = curves.Select(c => new Chart
        {
            Title = c.Name, X = new Axis("x"), Y = new Axis("y") { Min = c.Name == "tanh" ? -1.1 : -0.1, Max = c.Name == "ReLU" ? 5 : 1.1 },
            Series = [new Series(c.Name, x.ToDoubleArray(), c.Y.ToDoubleArray())], Legend = false,
        }).ToList();
        context.SaveSvg("activations.svg", SmallMultiples.ToSvg(panels, 4, "Activation functions", 240, 220));
        var at = NDArray<double>.From([-1.0, 0.0, 1.0, 2.0]);
        var sig = Activations.Sigmoid(at); var tanh = Activations.Tanh(at); var relu = Activations.Relu(at); var step = Activations.Step(at);
        var figures = new Dictionary<string, double>
        {
            ["sigmoid_0"] = sig[1], ["sigmoid_1"] = sig[2], ["tanh_1"] = tanh[2], ["relu_-1"] = relu[0], ["relu_2"] = relu[3], ["step_0"] = step[1], ["step_1"] = step[2],
        };
        string summary = $"""
            | x | step | sigmoid | ReLU | tanh |
            |---|---|---|---|---|
            {string.Join("\n", Enumerable.Range(0, 4).Select(i => $"| {at[i]} | {step[i]} | {ExperimentContext.G(sig[i], 8)} | {relu[i]} | {ExperimentContext.G(tanh[i], 8)} |"))}

            The step function jumps from 0 to 1 at x = 0 (0 at x = 0 itself, as the book's x > 0); the sigmoid is its smooth
            version, 1/(1 + e^−x), passing 0.5 at 0 — smoothness is what lets gradients flow. ReLU passes positive inputs and
            zeroes the rest; tanh is a sigmoid stretched to (−1, 1) and centred on 0.
            """;
        return new ExperimentResult(summary, figures);
    }
}
