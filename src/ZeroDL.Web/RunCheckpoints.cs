using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZeroDL.Data;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Web;

/// <summary>
/// The checkpoints of web training runs: the CLI's checkpoint files (<see cref="CheckpointFile"/>, the same format),
/// one per run beside its model in the models folder (<c>web-NAME.safetensors</c> → <c>web-NAME.ckpt</c>). Besides
/// the training state each holds, in its free-form run description, the web request the run was started with
/// (<see cref="RequestKey"/>) and, once the run diverged, the divergence message (<see cref="DivergedKey"/>).
/// </summary>
/// <remarks>
/// Only files named <see cref="TrainingRuns.ModelPrefix"/>*.ckpt are the web's. Other checkpoints in the folder (zerodl
/// train's default writes models/NAME.ckpt) are the CLI's to resume: they are skipped, each logged once. A web-named
/// file that cannot be read, or that holds no web request, is listed as unusable with the reason and logged once per
/// version of the file. Reading a checkpoint reads and checks all of it, so each version of each file is read once.
/// </remarks>
public sealed class RunCheckpoints(string modelDirectory, ILogger? logger = null)
{
    /// <summary>The run-description key holding the web request (JSON) a run was started with.</summary>
    public const string RequestKey = "web_request";

    /// <summary>The run-description key holding the divergence message of a run that diverged.</summary>
    public const string DivergedKey = "diverged";

    /// <summary>The run-description key saying which program wrote the checkpoint ("web").</summary>
    public const string SourceKey = "source";

    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly ConcurrentDictionary<(string Path, DateTime Modified, long Bytes), InterruptedRun> _described = new();
    private readonly ConcurrentDictionary<string, byte> _skipped = new(StringComparer.Ordinal);

    /// <summary>The checkpoint of the run whose model is <paramref name="modelName"/>.</summary>
    public string PathOf(string modelName) => Path.Combine(modelDirectory, modelName + CheckpointFile.Extension);

    /// <summary>The run description a web run's checkpoint holds: where it comes from and its request.</summary>
    public static Dictionary<string, string> Description(TrainingRequest request) => new(StringComparer.Ordinal)
    {
        [SourceKey] = "web",
        [RequestKey] = JsonSerializer.Serialize(request, JsonSerializerOptions.Web),
    };

    /// <summary>
    /// Whether <paramref name="id"/> can name a web run's checkpoint: the model prefix, then letters, digits, '-', '_'
    /// or '.', and no "..": an id from a request never reaches outside the models folder.
    /// </summary>
    public static bool IsRunName(string id) =>
        id.StartsWith(TrainingRuns.ModelPrefix, StringComparison.Ordinal) && id.Length <= 200 && !id.Contains("..", StringComparison.Ordinal)
        && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>
    /// Every web run checkpoint in the folder except those of <paramref name="running"/> (model names of runs training
    /// now), newest first. Never throws for a bad file: it is listed as unusable.
    /// </summary>
    public IReadOnlyList<InterruptedRun> List(IReadOnlySet<string> running)
    {
        if (!Directory.Exists(modelDirectory)) return [];
        var list = new List<InterruptedRun>();
        var present = new HashSet<(string, DateTime, long)>();
        foreach (var file in new DirectoryInfo(modelDirectory).EnumerateFiles("*" + CheckpointFile.Extension))
        {
            present.Add((file.FullName, file.LastWriteTimeUtc, file.Length));
            string name = Path.GetFileNameWithoutExtension(file.Name);
            if (!IsRunName(name))
            {
                if (_skipped.TryAdd(file.FullName, 0))
                    _logger.LogInformation("{File}: not a web training run's checkpoint (its name does not begin with {Prefix}); skipped: zerodl train --resume continues it",
                        file.FullName, TrainingRuns.ModelPrefix);
                continue;
            }
            if (running.Contains(name)) continue;
            InterruptedRun described;
            try
            {
                described = _described.GetOrAdd((file.FullName, file.LastWriteTimeUtc, file.Length), _ => Describe(file.FullName, name, file.LastWriteTimeUtc));
            }
            catch (IOException) { continue; } // deleted or replaced while listed: the next listing sees it as it is
            list.Add(described);
        }
        foreach (var key in _described.Keys.Where(k => !present.Contains(k)).ToList()) _described.TryRemove(key, out _); // versions gone
        return [.. list.OrderByDescending(r => r.Saved).ThenBy(r => r.Id, StringComparer.Ordinal)];
    }

    private InterruptedRun Describe(string path, string name, DateTime saved)
    {
        try
        {
            var (loaded, request) = Read(path);
            var c = loaded.Checkpoint;
            var last = c.Epochs.Length > 0 ? c.Epochs[^1] : null;
            loaded.Run.TryGetValue(DivergedKey, out var diverged);
            return new InterruptedRun(name, diverged is null ? InterruptedRun.InterruptedStatus : InterruptedRun.DivergedStatus, diverged, request,
                c.Epoch, c.Options.Epochs, c.Iteration, c.ScheduleIterations, last?.TrainAccuracy, last is { TestAccuracy: var t } && double.IsFinite(t) ? t : null, saved);
        }
        catch (DataFormatException e)
        {
            _logger.LogWarning("{File}: listed as unusable: {Reason}", path, e.Message);
            return new InterruptedRun(name, InterruptedRun.UnusableStatus, ForClients(e, path), null, 0, 0, 0, 0, null, null, saved);
        }
    }

    /// <summary>The message of <paramref name="e"/> with the file named by its name only: clients are not told where the server keeps its files (the log is).</summary>
    public static string ForClients(DataFormatException e, string path) => e.Message.Replace(path, Path.GetFileName(path), StringComparison.Ordinal);

    /// <summary>
    /// Reads a web run's checkpoint and the request it was started with.
    /// </summary>
    /// <exception cref="DataFormatException">the file is not a checkpoint, is damaged, or is not a web run's (the message names the file).</exception>
    /// <exception cref="IOException">the file cannot be read (gone, locked).</exception>
    public static (LoadedCheckpoint Checkpoint, TrainingRequest Request) Read(string path)
    {
        LoadedCheckpoint loaded;
        try { loaded = CheckpointFile.Load(path); }
        catch (Exception e) when (e is not (DataFormatException or IOException))
        {
            // The reader's promise is DataFormatException for every bad file; anything else still must not become a 500.
            throw DataFormatException.For(path, e.Message, e);
        }
        if (!loaded.Run.TryGetValue(RequestKey, out var json))
            throw DataFormatException.For(path, "not a web training run's checkpoint (it holds no web request): zerodl train --resume continues a CLI run");
        TrainingRequest? request;
        try { request = JsonSerializer.Deserialize<TrainingRequest>(json, JsonSerializerOptions.Web); }
        catch (JsonException e) { throw DataFormatException.For(path, $"its web request does not parse: {e.Message}", e); }
        return (loaded, request ?? throw DataFormatException.For(path, "its web request is null"));
    }

    /// <summary>Writes <paramref name="checkpoint"/> of the run <paramref name="modelName"/> atomically.</summary>
    public void Save(TrainingCheckpoint checkpoint, string modelName, IReadOnlyDictionary<string, string> description) =>
        CheckpointFile.Save(checkpoint, PathOf(modelName), description);

    /// <summary>Deletes the checkpoint of a run that finished (it is not interrupted); a file already gone or locked is left.</summary>
    public void Delete(string modelName)
    {
        try { File.Delete(PathOf(modelName)); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
