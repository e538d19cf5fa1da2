namespace ZeroDL.Tuning.Studies;

/// <summary>Where a trial of a shared study stands.</summary>
public enum TrialState
{
    /// <summary>Not yet claimed (its point may be unknown until then: a Bayesian proposal).</summary>
    Waiting,
    /// <summary>Claimed by a worker, whose heartbeat keeps it so.</summary>
    Running,
    Complete,
    /// <summary>Its worker died (its heartbeat stopped) or its training threw; the point is handed out again as a new attempt.</summary>
    Failed,
}

/// <summary>
/// One attempt at one trial of a study, as the database holds it. <see cref="Number"/> is the trial's place in the
/// search (0 … trials − 1); a re-run after a failure is a new attempt with the same number and point.
/// </summary>
public sealed record StoredTrial(long Id, int Number, int Attempt, TrialState State, double? LearningRate, double? WeightDecay,
    double? ValidationAccuracy, double? TrainAccuracy, string? Worker, string? Error)
{
    /// <summary>The finished trial as <see cref="HyperparameterSearch"/> reports one (only for <see cref="TrialState.Complete"/>).</summary>
    public Trial ToTrial() => State == TrialState.Complete
        ? new Trial(Number, LearningRate!.Value, WeightDecay!.Value, ValidationAccuracy!.Value, TrainAccuracy!.Value)
        : throw new InvalidOperationException($"trial {Number} is {State}, not complete");
}
