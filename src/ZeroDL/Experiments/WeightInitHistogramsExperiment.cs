using ZeroDL.Charts;
using ZeroDL.Functions;
using ZeroDL.Kernels;

namespace ZeroDL.Experiments;

/// <summary>
/// Ch. 6.2: activations of five layers of 100 units fed 1,000 Gaussian samples, for sigmoid, tanh and ReLU with
/// weights of std 1, std 0.01, Xavier (√(1/n)) and He (√(2/n)) — one histogram per layer.
/// </summary>
public sealed class WeightInitHistogramsExperiment : Experiment
{
    public override string Name => "weight-init-histograms";
    public override string Chapter => "6.2";
    public override string Title => "activation histograms of 5 layers for each activation and weight init";

    private static readonly (string Name, WeightInit Init)[] Inits = [("std 1", WeightInit.Std(1)), ("std 0.01", WeightInit.Std(0.01)), ("Xavier", WeightInit.Xavier), ("He", WeightInit.He)];

    public override ExperimentResult Run(ExperimentContext context)
    {
        int samples = context.Quick ? 200 : 1000, units = 100, layers = 5;
        var rng = new Rng(context.Seed);
        var input = Init.Normal<double>(1, rng, samples, units);
        var figures = new Dictionary<string, double>();
        var rows = new List<object[]>();
        foreach (string activation in new[] { "sigmoid", "tanh", "relu" })
        {
            var panels = new List<Chart>();
            foreach (var (initName, init) in Inits)
            {
                var x = input;
                var weightRng = new Rng(context.Seed + 1); // the same weights' randomness for every activation
                for (int layer = 1; layer <= layers; layer++)
                {
                    var w = Init.Normal<double>(init.StdFor(units), weightRng, units, units);
                    var z = Gemm.MatMul(x, w);
                    x = activation switch { "sigmoid" => Activations.Sigmoid(z), "tanh" => Activations.Tanh(z), _ => Activations.Relu(z) };
                    var values = x.ToDoubleArray();
                    double mean = values.Average(), std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
                    Func<double, bool> isSaturated = activation switch
                    {
                        "sigmoid" => v => v < 0.1 || v > 0.9,
                        "tanh" => v => Math.Abs(v) > 0.9,
                        _ => v => v == 0,
                    };
                    double saturated = values.Count(isSaturated) / (double)values.Length;
                    rows.Add([activation, initName, layer, mean, std, saturated]);
                    string key = $"{activation}_{initName.Replace(" ", "")}_layer{layer}";
                    figures[key + "_std"] = std;
                    figures[key + "_saturated"] = saturated;
                    double lo = activation == "tanh" ? -1 : 0, hi = 1;
                    panels.Add(new Chart
                    {
                        Title = $"{initName}, layer {layer}", X = new Axis() { Min = lo, Max = hi }, Y = new Axis(),
                        Histograms = [new Histogram(initName, values, 30, lo, hi)], Legend = false,
                    });
                }
            }
            context.SaveSvg($"histograms_{activation}.svg", SmallMultiples.ToSvg(panels, layers, $"{activation}: activations of layers 1–5 (rows: std 1, std 0.01, Xavier, He)", 200, 150));
        }
        context.WriteCsv("activation_statistics.csv", "activation,init,layer,mean,std,saturated_fraction", rows);
        string S(string a, string i, string what = "std") => ExperimentContext.G(figures[$"{a}_{i}_layer5_{what}"], 3);
        string summary = $"""
            Layer 5's activations ({samples} samples, 100 units per layer; "saturated" = sigmoid below 0.1 or above 0.9,
            tanh beyond ±0.9, ReLU exactly 0):

            | activation | init | std | saturated |
            |---|---|---|---|
            {string.Join("\n", new[] { "sigmoid", "tanh", "relu" }.SelectMany(a => Inits.Select(i => $"| {a} | {i.Name} | {S(a, i.Name.Replace(" ", ""))} | {S(a, i.Name.Replace(" ", ""), "saturated")} |")))}

            With std 1 the sigmoid's outputs pile up at 0 and 1, where its gradient vanishes; with std 0.01 they all sit
            near 0.5 — no vanishing gradient, but every unit says the same thing (little expressive power). Xavier keeps
            them spread over every layer. For ReLU, std 0.01 makes the activations shrink layer by layer towards 0, while
            He's √(2/n) keeps their spread the same in every layer — the book's recommendation: Xavier for sigmoid and
            tanh, He for ReLU.
            """;
        return new ExperimentResult(summary, figures);
    }
}
