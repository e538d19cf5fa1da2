namespace ZeroDL.Training;

/// <summary>
/// The monitored quantity's record between epochs, for early stopping and keep-best
/// (<see cref="TrainerOptions.Monitor"/>): the best value so far (NaN before the first epoch), the epoch it was reached
/// in (0 before), and the epochs since then. A checkpoint holds it, so a resumed run stops at the same epoch.
/// </summary>
public sealed record MonitorState(double Best, int BestEpoch, int EpochsSinceBest)
{
    /// <summary>The state at the start of a run.</summary>
    public static MonitorState Start { get; } = new(double.NaN, 0, 0);

    /// <summary>
    /// The state after epoch <paramref name="epoch"/>, whose value of <paramref name="quantity"/> was
    /// <paramref name="value"/>: a strict improvement (<see cref="MonitoredQuantities.Improves"/>) makes it the best,
    /// else one more epoch since the best.
    /// </summary>
    public MonitorState Observe(MonitoredQuantity quantity, int epoch, double value) =>
        quantity.Improves(value, Best) ? new MonitorState(value, epoch, 0) : this with { EpochsSinceBest = EpochsSinceBest + 1 };

    /// <summary>Whether early stopping with <paramref name="patience"/> ends the run now: that many epochs in a row without improvement.</summary>
    public bool ShouldStop(int patience) => EpochsSinceBest >= patience;

    /// <summary>Checks the state as read from a file against the epochs done; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public void Validate(int epochsDone)
    {
        if (BestEpoch < 0 || EpochsSinceBest < 0 || BestEpoch + EpochsSinceBest != epochsDone)
            throw new ArgumentException($"monitor state: best at epoch {BestEpoch} and {EpochsSinceBest} epochs since do not make the {epochsDone} epochs done");
        if (double.IsInfinity(Best) || (BestEpoch > 0) == double.IsNaN(Best)) throw new ArgumentException($"monitor state: best value {Best} at epoch {BestEpoch}");
    }
}
