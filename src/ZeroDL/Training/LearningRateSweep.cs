using System.Globalization;
using System.Text;
using ZeroDL.Charts;

namespace ZeroDL.Training;

/// <summary>One mini-batch of the sweep: its rate, its loss and the smoothed loss up to it.</summary>
public sealed record LearningRatePoint(int Iteration, double LearningRate, double Loss, double SmoothedLoss);

/// <summary>Why a sweep ended.</summary>
public enum LearningRateSweepEnd
{
    /// <summary>It ran every mini-batch up to the end rate.</summary>
    Completed,
    /// <summary>The smoothed loss exceeded <see cref="LearningRateFinderOptions.DivergenceFactor"/> times the best.</summary>
    Diverged,
    /// <summary>A loss became NaN or infinite (that mini-batch is not among the points).</summary>
    NotFinite,
    /// <summary>The caller cancelled it.</summary>
    Cancelled,
}

/// <summary>The result of a range test: the curve, why it ended, and the rates read from it.</summary>
public sealed record LearningRateSweep(IReadOnlyList<LearningRatePoint> Points, LearningRateSweepEnd Ending)
{
    /// <summary>The rate at which the smoothed loss was lowest (NaN without points).</summary>
    public double MinimumLossRate => Points.Count == 0 ? double.NaN : Points.MinBy(p => p.SmoothedLoss)!.LearningRate;

    /// <summary>
    /// The suggested rate: <see cref="MinimumLossRate"/> / 10. At the minimum the rate is already too large for the
    /// loss to keep falling (the edge of divergence); a decade below it lies on the falling part of the curve (Smith's
    /// range test; fastai's <c>lr_min</c>). It rests on one robust point of the smoothed curve, where the steepest
    /// slope (<see cref="SteepestRate"/>) is a derivative of a noisy one and jumps between neighbouring runs.
    /// </summary>
    public double SuggestedRate => MinimumLossRate / 10;

    /// <summary>
    /// The first points <see cref="SteepestRate"/> passes over (10, as fastai's): the moving average has seen too few
    /// losses there to be smooth, and its first steps are the noise of single mini-batches, not the curve's slope.
    /// </summary>
    public const int SteepestSkip = 10;

    /// <summary>
    /// The rate where the smoothed loss falls fastest against log(rate), by central differences, over the points after
    /// the first <see cref="SteepestSkip"/> and up to the minimum (after it the loss rises); NaN when there are none.
    /// Reported beside the suggestion.
    /// </summary>
    public double SteepestRate
    {
        get
        {
            int last = 0;
            for (int i = 1; i < Points.Count; i++) if (Points[i].SmoothedLoss < Points[last].SmoothedLoss) last = i;
            double best = double.PositiveInfinity, rate = double.NaN;
            for (int i = Math.Max(1, SteepestSkip); i < last; i++)
            {
                double slope = (Points[i + 1].SmoothedLoss - Points[i - 1].SmoothedLoss) / (Math.Log(Points[i + 1].LearningRate) - Math.Log(Points[i - 1].LearningRate));
                if (slope < best) (best, rate) = (slope, Points[i].LearningRate);
            }
            return rate;
        }
    }

    /// <summary>CSV: <c>iteration,learning_rate,loss,smoothed_loss</c>, one row per point, numbers round-trip exact.</summary>
    public string Csv()
    {
        var sb = new StringBuilder("iteration,learning_rate,loss,smoothed_loss\n");
        foreach (var p in Points) sb.Append(string.Create(CultureInfo.InvariantCulture, $"{p.Iteration},{p.LearningRate:R},{p.Loss:R},{p.SmoothedLoss:R}\n"));
        return sb.ToString();
    }

    /// <summary>
    /// The curve against a logarithmic rate axis: the smoothed loss, each mini-batch's loss in grey, and the suggested
    /// rate as a dashed vertical line. The loss axis spans the curve up to its minimum and a quarter more: the falling
    /// part is what a reader looks at, and the diverging tail, which may be orders of magnitude higher, is clipped.
    /// </summary>
    public Chart Chart(string title = "Learning-rate range test")
    {
        var rates = Points.Select(p => p.LearningRate).ToArray();
        int minimum = 0;
        for (int i = 1; i < Points.Count; i++) if (Points[i].SmoothedLoss < Points[minimum].SmoothedLoss) minimum = i;
        double lo = Points.Count > 0 ? Math.Min(Points[minimum].SmoothedLoss, Points.Min(p => p.Loss)) : 0;
        double top = Points.Count > 0 ? Points.Take(minimum + 1).Max(p => p.SmoothedLoss) : 1;
        double hi = top + Math.Max(0.25 * (top - lo), 1e-3 * Math.Abs(top) + 1e-9);
        var chart = new Chart
        {
            Title = title, X = new Axis("learning rate") { Log = true }, Y = new Axis("loss") { Min = Math.Max(0, lo - 0.05 * (hi - lo)), Max = hi + 0.05 * (hi - lo) },
        };
        chart.Series.Add(new Series("loss", rates, [.. Points.Select(p => p.Loss)]) { Color = "#bbbbbb" });
        chart.Series.Add(new Series("smoothed loss", rates, [.. Points.Select(p => p.SmoothedLoss)]) { Color = Charts.Chart.Palette[0] });
        if (double.IsFinite(SuggestedRate))
            chart.Series.Add(new Series($"suggested {SuggestedRate.ToString("G2", CultureInfo.InvariantCulture)}", [SuggestedRate, SuggestedRate], [chart.Y.Min!.Value, chart.Y.Max!.Value])
                { Color = Charts.Chart.Palette[1], Dashed = true });
        return chart;
    }
}
