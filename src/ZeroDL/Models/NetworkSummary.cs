using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using ZeroDL.Layers;

namespace ZeroDL.Models;

/// <summary>
/// A network layer by layer, as Keras' model.summary() and torchinfo print it: each layer's output shape, parameter
/// count (trainable values: BatchNorm's running statistics are state, not parameters, as in PyTorch) and multiply-adds
/// per sample (products of Affine and convolution layers only; pooling, activations and normalisation count 0).
/// </summary>
public sealed record NetworkSummary(ImmutableArray<int> InputShape, ImmutableArray<NetworkSummary.Row> Rows)
{
    public sealed record Row(string Name, string Description, ImmutableArray<int> OutputShape, long Parameters, long MultiplyAdds);

    public long TotalParameters => Rows.Sum(r => r.Parameters);
    public long TotalMultiplyAdds => Rows.Sum(r => r.MultiplyAdds);

    /// <summary>The table, then the totals.</summary>
    public override string ToString()
    {
        var lines = new List<string[]> { new[] { "layer", "", "output", "parameters", "mult-adds" } };
        lines.Add(["input", "", LayerConfig.ShapeText(InputShape), "", ""]);
        foreach (var r in Rows)
            lines.Add([r.Name, r.Description, LayerConfig.ShapeText(r.OutputShape), Number(r.Parameters), Number(r.MultiplyAdds)]);
        int[] widths = [.. Enumerable.Range(0, 5).Select(c => lines.Max(l => l[c].Length))];
        var text = new StringBuilder();
        void Rule() => text.AppendLine(new string('─', widths.Sum() + 8));
        for (int i = 0; i < lines.Count; i++)
        {
            var l = lines[i];
            text.AppendLine($"{l[0].PadRight(widths[0])}  {l[1].PadRight(widths[1])}  {l[2].PadRight(widths[2])}  {l[3].PadLeft(widths[3])}  {l[4].PadLeft(widths[4])}".TrimEnd());
            if (i == 0) Rule();
        }
        Rule();
        text.AppendLine($"parameters: {Number(TotalParameters)} ({Megabytes(TotalParameters * 4)} as float32)");
        text.Append($"multiply-adds per sample: {Number(TotalMultiplyAdds)}");
        return text.ToString();
    }

    private static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
    private static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("0.00", CultureInfo.InvariantCulture) + " MiB";
}
