using ZeroDL.Training;

namespace ZeroDL.Web;

/// <summary>
/// One finished epoch of a run as GET /api/train/{id}/curves gives it; a value that is not a number or not known (no
/// test or validation split, a rate an older log did not record) is null.
/// </summary>
public sealed record EpochPoint(int Epoch, int Iteration, double MeanLoss, double? TrainAccuracy, double? TestAccuracy, double Seconds,
    double? ValidationAccuracy = null, double? ValidationLoss = null, double? LearningRate = null)
{
    public static EpochPoint From(EpochResult e) =>
        new(e.Epoch, e.Iteration, e.MeanLoss, Finite(e.TrainAccuracy), Finite(e.TestAccuracy), e.Elapsed.TotalSeconds,
            Finite(e.ValidationAccuracy), Finite(e.ValidationLoss), Finite(e.LearningRate));

    internal static double? Finite(double x) => double.IsFinite(x) ? x : null;
}

/// <summary>
/// A run's curves: every finished epoch (mean loss, accuracies) and the mini-batch loss, averaged over consecutive
/// groups of mini-batches so that at most <see cref="MaxLossPoints"/> points are sent (each point at the group's last
/// iteration).
/// </summary>
public sealed record RunCurves(string Id, string Model, string Status, IReadOnlyList<EpochPoint> Epochs, IReadOnlyList<int> Iterations, IReadOnlyList<double?> Loss)
{
    /// <summary>
    /// Most loss points sent: 1,000, about the width of a chart in pixels (a 20-epoch DeepConvNet run has 12,000
    /// mini-batches, whose values would be 200 KB of JSON for no visible difference).
    /// </summary>
    public const int MaxLossPoints = 1000;

    /// <summary>The curves of <paramref name="epochs"/> and <paramref name="loss"/> (one value per mini-batch, from iteration 1).</summary>
    public static RunCurves From(string id, string model, string status, IReadOnlyList<EpochResult> epochs, IReadOnlyList<double> loss)
    {
        int group = Math.Max(1, (loss.Count + MaxLossPoints - 1) / MaxLossPoints);
        var iterations = new List<int>();
        var means = new List<double?>();
        for (int start = 0; start < loss.Count; start += group)
        {
            int end = Math.Min(loss.Count, start + group);
            double sum = 0;
            for (int i = start; i < end; i++) sum += loss[i];
            iterations.Add(end);
            means.Add(EpochPoint.Finite(sum / (end - start)));
        }
        return new RunCurves(id, model, status, [.. epochs.Select(EpochPoint.From)], iterations, means);
    }
}
