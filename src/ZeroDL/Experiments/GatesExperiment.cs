using ZeroDL.Charts;
using ZeroDL.Functions;

namespace ZeroDL.Experiments;

/// <summary>Ch. 2: AND, NAND and OR as single perceptrons with the book's weights, and XOR as two layers of them.</summary>
public sealed class GatesExperiment : Experiment
{
    public override string Name => "gates";
    public override string Chapter => "2";
    public override string Title => "perceptron gates: AND, NAND, OR, and XOR from two layers";

    private static readonly (string Name, Func<int, int, int> Gate, Func<int, int, int> Truth, (double W1, double W2, double B)? Line)[] Gates =
    [
        ("AND", Perceptron.And, (a, b) => a & b, (0.5, 0.5, -0.7)),
        ("NAND", Perceptron.Nand, (a, b) => 1 - (a & b), (-0.5, -0.5, 0.7)),
        ("OR", Perceptron.Or, (a, b) => a | b, (0.5, 0.5, -0.2)),
        ("XOR", Perceptron.Xor, (a, b) => a ^ b, null),
    ];

    public override ExperimentResult Run(ExperimentContext context)
    {
        var inputs = new[] { (0, 0), (1, 0), (0, 1), (1, 1) };
        context.WriteCsv("truth_tables.csv", "x1,x2,AND,NAND,OR,XOR",
            inputs.Select(p => new object[] { p.Item1, p.Item2 }.Concat(Gates.Select(g => (object)g.Gate(p.Item1, p.Item2)))));
        var figures = new Dictionary<string, double>();
        var panels = new List<Chart>();
        foreach (var (name, gate, truth, line) in Gates)
        {
            figures[name + "_correct"] = inputs.Count(p => gate(p.Item1, p.Item2) == truth(p.Item1, p.Item2));
            var ones = inputs.Where(p => gate(p.Item1, p.Item2) == 1).ToList();
            var zeros = inputs.Where(p => gate(p.Item1, p.Item2) == 0).ToList();
            var series = new List<Series>
            {
                new("output 1", ones.Select(p => (double)p.Item1).ToArray(), ones.Select(p => (double)p.Item2).ToArray()) { ScatterOnly = true, Color = "#d62728" },
                new("output 0", zeros.Select(p => (double)p.Item1).ToArray(), zeros.Select(p => (double)p.Item2).ToArray()) { ScatterOnly = true, Color = "#1f77b4" },
            };
            // The decision boundary w1·x1 + w2·x2 + b = 0 of a single perceptron; XOR's needs two (NAND's and OR's).
            foreach (var (w1, w2, b) in line is { } l ? [l] : new[] { Gates[1].Line!.Value, Gates[2].Line!.Value })
                series.Add(new Series("", [-0.5, 1.5], [(-b - w1 * -0.5) / w2, (-b - w1 * 1.5) / w2]) { Color = "#555", Dashed = true });
            panels.Add(new Chart { Title = name, X = new Axis("x1") { Min = -0.5, Max = 1.5 }, Y = new Axis("x2") { Min = -0.5, Max = 1.5 }, Series = series, Legend = name == "AND" });
        }
        context.SaveSvg("gates.svg", SmallMultiples.ToSvg(panels, 4, "Perceptron gates (dashed: decision boundaries)", 260, 250));
        bool all = Gates.All(g => figures[g.Name + "_correct"] == 4);
        string summary = $"""
            | x1 | x2 | AND | NAND | OR | XOR |
            |---|---|---|---|---|---|
            {string.Join("\n", inputs.Select(p => $"| {p.Item1} | {p.Item2} | {string.Join(" | ", Gates.Select(g => g.Gate(p.Item1, p.Item2)))} |"))}

            With the book's weights — AND (0.5, 0.5, −0.7), NAND (−0.5, −0.5, 0.7), OR (0.5, 0.5, −0.2) — each single perceptron
            gets {(all ? "all four" : "not all")} inputs right: one straight line separates its 1s from its 0s. XOR has no such line;
            AND(NAND(x1, x2), OR(x1, x2)), two layers, computes it (the figure shows NAND's and OR's lines together cutting out XOR's 1s).
            """;
        return new ExperimentResult(summary, figures);
    }
}
