namespace ZeroDL.Training;

/// <summary>
/// A per-epoch quantity that early stopping, keep-best and reduce-on-plateau watch. Never the test set's: the test
/// split measures the model, and choosing by it would make that measure optimistic (book ch. 6.5).
/// </summary>
public enum MonitoredQuantity
{
    /// <summary>Mean loss on the validation split (<see cref="EpochResult.ValidationLoss"/>); lower is better. CLI: <c>val_loss</c>.</summary>
    ValidationLoss,
    /// <summary>Accuracy on the validation split (<see cref="EpochResult.ValidationAccuracy"/>); higher is better. CLI: <c>val_accuracy</c>.</summary>
    ValidationAccuracy,
    /// <summary>Mean loss of the epoch's mini-batches (<see cref="EpochResult.MeanLoss"/>); lower is better. Text <c>loss</c>; for reduce-on-plateau without a validation split.</summary>
    TrainingLoss,
}

/// <summary>What each <see cref="MonitoredQuantity"/> reads and which way is better.</summary>
public static class MonitoredQuantities
{
    /// <summary>The text names, in enum order: "val_loss, val_accuracy, loss".</summary>
    public const string Names = "val_loss, val_accuracy, loss";

    /// <summary><c>val_loss</c>, <c>val_accuracy</c> or <c>loss</c>.</summary>
    public static string Name(this MonitoredQuantity quantity) => quantity switch
    {
        MonitoredQuantity.ValidationLoss => "val_loss",
        MonitoredQuantity.ValidationAccuracy => "val_accuracy",
        MonitoredQuantity.TrainingLoss => "loss",
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "unknown monitored quantity"),
    };

    /// <summary>Reads a name as <see cref="Name"/> writes it (case-insensitive).</summary>
    public static bool TryParse(string text, out MonitoredQuantity quantity)
    {
        foreach (var q in Enum.GetValues<MonitoredQuantity>())
            if (string.Equals(text.Trim(), q.Name(), StringComparison.OrdinalIgnoreCase)) { quantity = q; return true; }
        quantity = default;
        return false;
    }

    /// <summary>Whether the quantity is measured on the validation split (needs <see cref="TrainerOptions.ValidationSplit"/>).</summary>
    public static bool NeedsValidation(this MonitoredQuantity quantity) => quantity != MonitoredQuantity.TrainingLoss;

    /// <summary>The quantity's value in an epoch's result.</summary>
    public static double Read(this MonitoredQuantity quantity, EpochResult epoch) => quantity switch
    {
        MonitoredQuantity.ValidationLoss => epoch.ValidationLoss,
        MonitoredQuantity.ValidationAccuracy => epoch.ValidationAccuracy,
        MonitoredQuantity.TrainingLoss => epoch.MeanLoss,
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "unknown monitored quantity"),
    };

    /// <summary>
    /// Whether <paramref name="value"/> strictly improves on <paramref name="best"/>: lower for a loss, higher for an
    /// accuracy. Any number improves on a NaN best (none yet); a NaN value never improves. A tie does not improve, so
    /// the earliest epoch with the best value stays the best.
    /// </summary>
    public static bool Improves(this MonitoredQuantity quantity, double value, double best) =>
        !double.IsNaN(value) && (double.IsNaN(best) || (quantity == MonitoredQuantity.ValidationAccuracy ? value > best : value < best));
}
