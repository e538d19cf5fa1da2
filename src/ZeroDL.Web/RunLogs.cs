using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZeroDL.Data;
using ZeroDL.Training;

namespace ZeroDL.Web;

/// <summary>
/// A web run as its metrics log tells it (GET /api/train/logs): the log's name is the run's model name.
/// </summary>
/// <param name="Name">The run's model name (the log is NAME.metrics.jsonl beside NAME.safetensors).</param>
/// <param name="Status">"finished", "interrupted" or "diverged" (the log's end record), "running" (this server trains it now) or "stopped" (no end record: the process was killed).</param>
/// <param name="Message">The divergence message (or a failed run's error); else null.</param>
/// <param name="Epoch">Epochs in the log.</param>
/// <param name="Epochs">Epochs the run was set for.</param>
/// <param name="LastTestAccuracy">The last epoch's test accuracy; null without one.</param>
/// <param name="BestTestAccuracy">The best epoch's test accuracy; null without one.</param>
/// <param name="Seconds">Training time.</param>
/// <param name="Started">When the run started (UTC).</param>
public sealed record LoggedRun(string Name, string Model, string Data, string Status, string? Message, int Epoch, int Epochs,
    double? LastTestAccuracy, double? BestTestAccuracy, double Seconds, DateTimeOffset Started);

/// <summary>
/// The metrics logs of the web's runs (<see cref="MetricsLog"/>, the CLI's format: docs/metrics-log.md), one beside each
/// run's model in the models folder as <c>web-NAME.metrics.jsonl</c>: the runs it lists and the curves it draws
/// outlive the server. A log that cannot be read is skipped, with its reason logged once per version of the file.
/// </summary>
public sealed class RunLogs(string modelDirectory, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly ConcurrentDictionary<(string Path, DateTime Modified, long Bytes), RunLog?> _read = new();

    /// <summary>The metrics log of the run whose model is <paramref name="modelName"/>.</summary>
    public string PathOf(string modelName) => Path.Combine(modelDirectory, modelName + MetricsLog.FileSuffix);

    /// <summary>Every readable web run log in the folder, newest first; <paramref name="running"/> names the runs training now.</summary>
    public IReadOnlyList<LoggedRun> List(IReadOnlySet<string> running)
    {
        if (!Directory.Exists(modelDirectory)) return [];
        var list = new List<LoggedRun>();
        var present = new HashSet<(string, DateTime, long)>();
        foreach (var file in new DirectoryInfo(modelDirectory).EnumerateFiles(TrainingRuns.ModelPrefix + "*" + MetricsLog.FileSuffix))
        {
            var key = (file.FullName, file.LastWriteTimeUtc, file.Length);
            present.Add(key);
            if (_read.GetOrAdd(key, _ => TryRead(file.FullName)) is not { } log) continue;
            string status = Status(log, running);
            list.Add(new LoggedRun(log.Name, log.Run.Model, log.Run.Data, status, status == "running" ? null : log.End?.Message, log.Epochs.Count, Epochs(log),
                EpochPoint.Finite(log.LastTestAccuracy), EpochPoint.Finite(log.BestTestAccuracy), log.Seconds, log.Run.Started));
        }
        foreach (var key in _read.Keys.Where(k => !present.Contains(k)).ToList()) _read.TryRemove(key, out _);
        return [.. list.OrderByDescending(r => r.Started).ThenBy(r => r.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The curves of the run <paramref name="name"/> from its log: every epoch, and the mean loss of each progress
    /// record (every <see cref="MetricsLog.DefaultProgressEvery"/> mini-batches).
    /// </summary>
    /// <exception cref="BadRequestException">404: no such log; 409: the log cannot be read (the reason).</exception>
    public RunCurves Curves(string name, IReadOnlySet<string> running)
    {
        string path = PathOf(name);
        if (!RunCheckpoints.IsRunName(name) || !File.Exists(path)) throw new BadRequestException(404, $"no metrics log of a training run '{name}'");
        RunLog log;
        try { log = RunLog.Read(path); }
        catch (DataFormatException e) { throw new BadRequestException(409, $"the metrics log of '{name}' cannot be read: {RunCheckpoints.ForClients(e, path)}"); }
        return new RunCurves(name, name, Status(log, running),
            [.. log.Epochs.Select(e => new EpochPoint(e.Epoch, e.Iteration, e.Loss, EpochPoint.Finite(e.TrainAccuracy), EpochPoint.Finite(e.TestAccuracy), e.Seconds,
                e.ValidationAccuracy, e.ValidationLoss, e.LearningRate))],
            [.. log.Progress.Select(p => p.Iteration)], [.. log.Progress.Select(p => EpochPoint.Finite(p.Loss))]);
    }

    /// <summary>"running" when this server trains it now, else the end record's status, or "stopped" without one.</summary>
    private static string Status(RunLog log, IReadOnlySet<string> running) =>
        running.Contains(log.Name) ? "running" : log.End is { } end ? end.Status.ToString().ToLowerInvariant() : "stopped";

    private static int Epochs(RunLog log) => (log.TotalIterations + log.Run.IterationsPerEpoch - 1) / Math.Max(1, log.Run.IterationsPerEpoch);

    private RunLog? TryRead(string path)
    {
        try { return RunLog.Read(path); }
        catch (DataFormatException e)
        {
            _logger.LogWarning("{File}: skipped, not a readable metrics log: {Reason}", path, e.Message);
            return null;
        }
    }
}
