namespace ZeroDL.Training;

/// <summary>
/// Reduce-on-plateau's state between epochs (<see cref="LearningRateSchedule.ReduceOnPlateau.Observe"/>): the best value
/// of the monitored quantity so far (NaN before the first epoch), the epochs since it without improvement, and the
/// factor the rate is multiplied by now. A checkpoint holds it, so a resumed run reduces at the same epochs.
/// </summary>
public sealed record PlateauState(double Best, int BadEpochs, double Factor)
{
    /// <summary>The state at the start of a run: no best yet, no bad epoch, factor 1.</summary>
    public static PlateauState Start { get; } = new(double.NaN, 0, 1);

    /// <summary>Checks the state as read from a file; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public void Validate(LearningRateSchedule.ReduceOnPlateau schedule)
    {
        if (BadEpochs < 0 || BadEpochs >= schedule.Patience) throw new ArgumentException($"plateau state: {BadEpochs} bad epochs with a patience of {schedule.Patience}");
        if (!(Factor > 0 && Factor <= 1) || Factor < schedule.MinimumFactor) throw new ArgumentException($"plateau state: factor {Factor} outside [{schedule.MinimumFactor}, 1]");
        if (double.IsInfinity(Best)) throw new ArgumentException("plateau state: an infinite best value");
    }
}
