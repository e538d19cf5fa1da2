using ZeroDL.Training;

namespace ZeroDL.Charts;

/// <summary>
/// The curves of training runs drawn together from their metrics logs (<c>zerodl runs plot</c>): a panel of the
/// loss and a panel of the accuracy against the epoch, one colour per run in both, with a legend.
/// </summary>
public static class RunCurves
{
    /// <summary>
    /// Two panels: each epoch's mean training loss, and each epoch's test accuracy (in %) with the validation accuracy
    /// dashed in the same colour where a run has one; one series per run (its <see cref="RunLog.Name"/>, or the
    /// matching entry of <paramref name="names"/>), one point per epoch. Runs take the palette's colours in order.
    /// </summary>
    public static IReadOnlyList<Chart> Panels(IReadOnlyList<RunLog> runs, IReadOnlyList<string>? names = null)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to draw");
        if (names is not null && names.Count != runs.Count) throw new ArgumentException($"{names.Count} names for {runs.Count} runs");
        var loss = new Chart { Title = "Training loss", X = new Axis("epoch"), Y = new Axis("mean loss") };
        var accuracy = new Chart { Title = "Accuracy", X = new Axis("epoch"), Y = new Axis("test accuracy (%)") };
        for (int r = 0; r < runs.Count; r++)
        {
            var run = runs[r];
            string name = names?[r] ?? run.Name, color = Chart.Palette[r % Chart.Palette.Count];
            double[] epochs = [.. run.Epochs.Select(e => (double)e.Epoch)];
            loss.Series.Add(new Series(name, epochs, [.. run.Epochs.Select(e => e.Loss)]) { Color = color, Markers = epochs.Length < 30 });
            accuracy.Series.Add(new Series(name, epochs, [.. run.Epochs.Select(e => 100 * e.TestAccuracy)]) { Color = color, Markers = epochs.Length < 30 });
            if (run.Epochs.Any(e => e.ValidationAccuracy is not null))
                accuracy.Series.Add(new Series(name + " (validation)", epochs, [.. run.Epochs.Select(e => 100 * (e.ValidationAccuracy ?? double.NaN))]) { Color = color, Dashed = true });
        }
        return [loss, accuracy];
    }

    /// <summary>The two <see cref="Panels"/> side by side as one standalone SVG.</summary>
    public static string ToSvg(IReadOnlyList<RunLog> runs, IReadOnlyList<string>? names = null) =>
        SmallMultiples.ToSvg(Panels(runs, names), columns: 2, title: runs.Count == 1 ? $"Run {names?[0] ?? runs[0].Name}" : $"{runs.Count} runs", panelWidth: 480, panelHeight: 340);
}
