namespace ZeroDL.Training;

/// <summary>
/// The identity of a training run, the first record of its metrics log (docs/metrics-log.md, <c>"type":"run"</c>).
/// </summary>
public sealed record MetricsRun
{
    /// <summary>The model's name: a preset (<c>dense</c>, <c>deepconv</c>, …) or the architecture file's name.</summary>
    public required string Model { get; init; }
    /// <summary>The network in one line, e.g. <c>784-512-512-10 BatchNorm ReLU dropout 0.2</c>.</summary>
    public required string Architecture { get; init; }
    /// <summary>The data in one line: its source, split sizes, image shape and classes.</summary>
    public required string Data { get; init; }
    public required int Seed { get; init; }
    public required int BatchSize { get; init; }
    /// <summary>Training samples (after any subset), the images an epoch visits.</summary>
    public required int TrainSamples { get; init; }
    public required int IterationsPerEpoch { get; init; }
    /// <summary>Mini-batches the run was started for (a resume may raise it: see <see cref="MetricsResume.TotalIterations"/>).</summary>
    public required int TotalIterations { get; init; }
    /// <summary>When the run started (UTC).</summary>
    public required DateTimeOffset Started { get; init; }
    /// <summary>Every other setting of the run, as text (optimizer, learning_rate, schedule, the command line's args, …).</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    /// <summary>Epochs the run was started for: ⌈<see cref="TotalIterations"/> / <see cref="IterationsPerEpoch"/>⌉.</summary>
    public int Epochs => (TotalIterations + IterationsPerEpoch - 1) / Math.Max(1, IterationsPerEpoch);
}

/// <summary>
/// One epoch's end (<c>"type":"epoch"</c>). Accuracies are fractions (0…1); NaN where the split was empty.
/// <see cref="Time"/>, <see cref="LearningRate"/> and <see cref="ImagesPerSecond"/> are null in an epoch a resumed log
/// took from its checkpoint's history (the log had lost it).
/// </summary>
public sealed record MetricsEpoch(int Epoch, int Iteration, double Loss, double TrainAccuracy, double TestAccuracy, double Seconds)
{
    public DateTimeOffset? Time { get; init; }
    /// <summary>Accuracy on the validation split held out of the training data, when the run has one.</summary>
    public double? ValidationAccuracy { get; init; }
    /// <summary>Mean loss on the validation split, when the run has one.</summary>
    public double? ValidationLoss { get; init; }
    /// <summary>The learning rate of the epoch's last mini-batch (after the schedule).</summary>
    public double? LearningRate { get; init; }
    /// <summary>Training images per second of wall time over the epoch.</summary>
    public double? ImagesPerSecond { get; init; }
}

/// <summary>A point within an epoch, every N mini-batches (<c>"type":"progress"</c>): the mean loss of the mini-batches since the previous record.</summary>
public sealed record MetricsProgress(DateTimeOffset Time, int Epoch, int Iteration, double Loss, double? LearningRate, double? ImagesPerSecond);

/// <summary>A resumed run going on after <see cref="Iteration"/> mini-batches (<c>"type":"resume"</c>); its records follow.</summary>
public sealed record MetricsResume(DateTimeOffset Time, int Iteration, int Epoch, int TotalIterations);

/// <summary>How a run ended.</summary>
public enum MetricsRunStatus
{
    /// <summary>Ran to its end: every mini-batch, or until early stopping ended it (the end record's message says so).</summary>
    Finished,
    /// <summary>Stopped before its end: by a signal (Ctrl+C, SIGTERM, SIGHUP), or on the web page by the user or the time limit; a checkpoint lets it go on.</summary>
    Interrupted,
    /// <summary>The divergence guard stopped it (a NaN or infinite loss, gradient or weight).</summary>
    Diverged,
}

/// <summary>The run's end (<c>"type":"end"</c>). A log without one after its last resume is of a run still going or killed.</summary>
public sealed record MetricsEnd(DateTimeOffset Time, MetricsRunStatus Status, int Iteration, double Seconds)
{
    /// <summary>A finished run's final test accuracy on the whole test set, of the model its file holds (the best epoch's with --keep best), else null.</summary>
    public double? TestAccuracy { get; init; }
    /// <summary>Why it stopped, in one line (a diverged run's message; where early stopping ended a finished run), else null.</summary>
    public string? Message { get; init; }
}
