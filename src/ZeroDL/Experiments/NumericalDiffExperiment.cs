using ZeroDL.Charts;
using ZeroDL.Functions;

namespace ZeroDL.Experiments;

/// <summary>Ch. 4.3: forward vs central differences against h, down to 1e-50 where rounding wins, and the tangent of 0.01x² + 0.1x at x = 5.</summary>
public sealed class NumericalDiffExperiment : Experiment
{
    public override string Name => "numerical-diff";
    public override string Chapter => "4.3";
    public override string Title => "numerical differentiation: error against h, and a tangent line";

    // 0.01·(x·x) as the book's 0.01*x**2 rounds: (0.01·x)·x would round differently in the last bits.
    private static double F(double x) => 0.01 * (x * x) + 0.1 * x;

    public override ExperimentResult Run(ExperimentContext context)
    {
        const double x0 = 5, exact = 0.2; // f'(x) = 0.02x + 0.1
        var hs = Enumerable.Range(1, 50).Select(k => Math.Pow(10, -k)).ToArray();
        var forward = hs.Select(h => Math.Abs(NumericalDiff.ForwardDerivative(F, x0, h) - exact)).ToArray();
        var central = hs.Select(h => Math.Abs(NumericalDiff.Derivative(F, x0, h) - exact)).ToArray();
        context.WriteCsv("error_vs_h.csv", "h,forward_abs_error,central_abs_error", hs.Select((h, i) => new object[] { h, forward[i], central[i] }));
        // A zero error cannot sit on a log axis: draw it at 1e-18 and say so in the legend.
        double Floor(double e) => Math.Max(e, 1e-18);
        context.SaveChart("error_vs_h.svg", new Chart
        {
            Title = "|numerical − exact| of d/dx (0.01x² + 0.1x) at x = 5",
            X = new Axis("h") { Log = true }, Y = new Axis("absolute error (0 drawn at 1e-18)") { Log = true, Min = 1e-18, Max = 10 },
            Series = [new Series("forward (f(x+h) − f(x))/h", hs, forward.Select(Floor).ToArray()),
                      new Series("central (f(x+h) − f(x−h))/2h", hs, central.Select(Floor).ToArray())],
        });
        double slope = NumericalDiff.Derivative(F, x0);
        var xs = Enumerable.Range(0, 201).Select(i => i * 0.1).ToArray();
        context.WriteCsv("tangent.csv", "x,f,tangent", xs.Select(x => new object[] { x, F(x), F(x0) + slope * (x - x0) }));
        context.SaveChart("tangent.svg", new Chart
        {
            Title = "f(x) = 0.01x² + 0.1x and its tangent at x = 5", X = new Axis("x"), Y = new Axis("f(x)"),
            Series = [new Series("f(x)", xs, xs.Select(F).ToArray()), new Series("tangent (central difference)", xs, xs.Select(x => F(x0) + slope * (x - x0)).ToArray()) { Dashed = true }],
        });
        int bestCentral = Array.IndexOf(central, central.Min()), bestForward = Array.IndexOf(forward, forward.Min());
        var figures = new Dictionary<string, double>
        {
            ["central_h1e-4"] = slope, ["central_at_10"] = NumericalDiff.Derivative(F, 10),
            ["best_h_central"] = hs[bestCentral], ["best_h_forward"] = hs[bestForward],
            ["error_forward_h1e-50"] = forward[^1], ["derivative_h1e-50"] = NumericalDiff.ForwardDerivative(F, x0, 1e-50),
        };
        string summary = $"""
            With h = 1e-4 the central difference gives f'(5) = {slope:R} and f'(10) = {figures["central_at_10"]:R}
            (exact: 0.2 and 0.3). The forward difference's error is first its truncation error, 0.01·h here, falling with
            h, until rounding in f(x + h) − f(x) takes over; it is smallest at h = {ExperimentContext.G(hs[bestForward])}. The
            central difference has no truncation error on a quadratic (the h² term cancels), so only rounding is left and
            its error is smallest at the largest h tried, {ExperimentContext.G(hs[bestCentral])}. At h = 1e-50, 5 + h == 5 in
            float64: the difference quotient is {figures["derivative_h1e-50"]} and the error is the whole derivative,
            {ExperimentContext.G(forward[^1])}. Hence the book's h = 1e-4 with the central difference.
            """;
        return new ExperimentResult(summary, figures);
    }
}
