using ZeroDL.Training;

namespace ZeroDL.Cli;

/// <summary>The metrics log of a <c>zerodl train</c> run (docs/metrics-log.md): started, or continued on --resume, beside the model.</summary>
internal static class TrainMetrics
{
    /// <summary>
    /// Opens the log at <paramref name="path"/> for <paramref name="trainer"/>'s run and attaches it: a new log, or for a
    /// run resumed from <paramref name="resumed"/> the same log cut back to the checkpoint (a one-line note on stdout
    /// when the file there could not be continued).
    /// </summary>
    public static MetricsLog Open(string path, MetricsRun run, TrainingCheckpoint? resumed, Trainer trainer, Func<int, double> learningRateAt)
    {
        MetricsLog log;
        try
        {
            if (resumed is null) log = MetricsLog.Start(path, run, learningRateAt);
            else
            {
                (log, string? note) = MetricsLog.Resume(path, run, resumed, learningRateAt);
                if (note is not null) Console.WriteLine($"Metrics log: {note}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Data.DataFormatException.For(path, $"cannot write the metrics log: {e.Message}", e);
        }
        log.Attach(trainer);
        return log;
    }
}
