using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ZeroDL.Training;

/// <summary>
/// Writes a run's JSON Lines metrics log (the format of docs/metrics-log.md, read back by <see cref="RunLog"/>): a
/// <c>run</c> record with the run's identity, then a record per epoch's end and every <see cref="ProgressEvery"/>
/// mini-batches, and an <c>end</c> record. Fed by a <see cref="Trainer"/>'s events (<see cref="Attach"/>).
/// </summary>
/// <remarks>
/// Each record is one line, written whole and flushed to the operating system at once, so a killed process keeps
/// every line written before it (a power loss may lose the last few: the log is not worth a disk sync per line).
/// Records may come from the training thread and the evaluation thread; they are written one at a time, each epoch
/// record after its evaluation, so a progress record of a later iteration may precede an epoch's record.
/// </remarks>
public sealed class MetricsLog : IDisposable
{
    /// <summary>The log's name beside a model file: <c>m.safetensors</c> → <c>m.metrics.jsonl</c> (as <c>m.history.csv</c>).</summary>
    public const string FileSuffix = ".metrics.jsonl";

    /// <summary>
    /// The default of <see cref="ProgressEvery"/>: an epoch of MNIST at batch 100 is 600 mini-batches, and a
    /// DeepConvNet epoch takes minutes on two cores; six points an epoch give a short run's log its curve, and a
    /// killed run's log the epoch in progress, for a few lines.
    /// </summary>
    public const int DefaultProgressEvery = 100;

    /// <summary>The version of the format this class writes (the run record's <c>format</c>).</summary>
    public const int FormatVersion = 1;

    private readonly object _gate = new();
    private readonly string _path;
    private FileStream? _file;
    private readonly MetricsRun _run;
    private readonly Func<int, double>? _learningRateAt;
    private readonly System.Diagnostics.Stopwatch _clock = new();
    // Training time before this process's part of the run (a resumed checkpoint's).
    private TimeSpan _before;
    // Where the throughput windows start: the last epoch end and the last progress record (iteration, seconds).
    private (int Iteration, double Seconds) _epochMark, _progressMark;
    private readonly Dictionary<int, double> _epochRates = [];
    private double _windowLoss;
    private int _windowBatches;

    private MetricsLog(string path, MetricsRun run, Func<int, double>? learningRateAt, int progressEvery, int startIteration)
    {
        if (progressEvery < 0) throw new ArgumentOutOfRangeException(nameof(progressEvery), progressEvery, "progress interval must be ≥ 0 (0 = none)");
        _path = path; _run = run; _learningRateAt = learningRateAt; ProgressEvery = progressEvery;
        _epochMark = _progressMark = (startIteration, 0);
    }

    /// <summary>The log's path.</summary>
    public string Path => _path;

    /// <summary>A progress record is written after every this many mini-batches (0: none, epoch records only).</summary>
    public int ProgressEvery { get; }

    /// <summary>The log's name beside <paramref name="modelPath"/> (<see cref="FileSuffix"/>).</summary>
    public static string BesideModel(string modelPath) => System.IO.Path.ChangeExtension(modelPath, null) + FileSuffix;

    /// <summary>
    /// Starts a new log at <paramref name="path"/> (replacing any file there) with <paramref name="run"/>'s record.
    /// <paramref name="learningRateAt"/> gives the learning rate of a mini-batch (by its iteration, counted from 1)
    /// for the records; null leaves it out.
    /// </summary>
    public static MetricsLog Start(string path, MetricsRun run, Func<int, double>? learningRateAt = null, int progressEvery = DefaultProgressEvery)
    {
        var log = new MetricsLog(path, run, learningRateAt, progressEvery, 0);
        Serialization.AtomicFile.WriteAllText(path, RunLine(run) + "\n");
        log.Open();
        return log;
    }

    /// <summary>
    /// Goes on with the log of a run resumed from <paramref name="checkpoint"/>. When <paramref name="path"/> holds
    /// that run's log (its run record names the same model, architecture, data, seed and batch size), every record
    /// past the checkpoint's iteration is dropped, and so is any <c>end</c> record, since the resumed run will write
    /// those epochs again; epochs the checkpoint's history holds but the log lost are put back (without time, rate or
    /// throughput); then a <c>resume</c> record marks the point. Otherwise (no file, another run's, unreadable) a new
    /// log begins with <paramref name="run"/>'s record and the checkpoint's epochs. Either way the file is rewritten
    /// atomically, and a resumed run's log never holds an epoch twice.
    /// </summary>
    /// <returns>The log, and a one-line note when the file there could not be continued (else null).</returns>
    public static (MetricsLog Log, string? Note) Resume(string path, MetricsRun run, TrainingCheckpoint checkpoint,
        Func<int, double>? learningRateAt = null, int progressEvery = DefaultProgressEvery)
    {
        int k = checkpoint.Iteration;
        var lines = new List<string>();
        var epochsKept = new HashSet<int>();
        string? note = null;
        RunLog? old = null;
        if (File.Exists(path))
        {
            try { old = RunLog.Read(path); }
            catch (Data.DataFormatException e) { note = $"{e.Message}; a new log begins"; }
            if (old is not null && !SameRun(old.Run, run))
            {
                note = $"{path} is the log of another run ({old.Run.Model}, seed {old.Run.Seed}, started {Iso(old.Run.Started)}); a new log begins";
                old = null;
            }
        }
        if (old is not null)
        {
            foreach (var (type, iteration, epoch, line) in old.Lines)
            {
                if (type == "end" || iteration > k) continue;
                if (type == "epoch") epochsKept.Add(epoch);
                lines.Add(line);
            }
        }
        else lines.Add(RunLine(run));
        foreach (var e in checkpoint.Epochs)
            if (e.Iteration <= k && epochsKept.Add(e.Epoch))
                lines.Add(EpochLine(new MetricsEpoch(e.Epoch, e.Iteration, e.MeanLoss, e.TrainAccuracy, e.TestAccuracy, e.Elapsed.TotalSeconds)));
        lines.Add(Line(w =>
        {
            w.WriteString("type", "resume");
            w.WriteString("time", Iso(DateTimeOffset.UtcNow));
            w.WriteNumber("iteration", k);
            w.WriteNumber("epoch", checkpoint.Epoch);
            w.WriteNumber("total_iterations", run.TotalIterations);
        }));
        Serialization.AtomicFile.WriteAllText(path, string.Join("\n", lines) + "\n");
        var log = new MetricsLog(path, run, learningRateAt, progressEvery, k) { _before = checkpoint.Elapsed };
        log.Open();
        return (log, note);
    }

    /// <summary>Whether a log's run record <paramref name="a"/> is the same run as <paramref name="b"/> (a resume may raise the total).</summary>
    private static bool SameRun(MetricsRun a, MetricsRun b) =>
        a.Model == b.Model && a.Architecture == b.Architecture && a.Data == b.Data && a.Seed == b.Seed && a.BatchSize == b.BatchSize
        && a.TrainSamples == b.TrainSamples && a.IterationsPerEpoch == b.IterationsPerEpoch;

    private void Open()
    {
        _file = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
        _clock.Start();
    }

    /// <summary>
    /// Writes <paramref name="trainer"/>'s epochs and progress to this log as it trains. Attach before
    /// <see cref="Trainer.Train"/>: the throughput's clock starts here.
    /// </summary>
    public void Attach(Trainer trainer)
    {
        int perEpoch = trainer.IterationsPerEpoch, total = trainer.TotalIterations, batch = trainer.Options.BatchSize;
        bool replacement = trainer.Options.SampleWithReplacement;
        lock (_gate) _clock.Restart();
        trainer.BatchCompleted += (iteration, loss) => Batch(iteration, loss, perEpoch, total, batch, replacement);
        trainer.EpochCompleted += Epoch;
    }

    private void Batch(int iteration, double loss, int perEpoch, int total, int batch, bool replacement)
    {
        lock (_gate)
        {
            double now = _clock.Elapsed.TotalSeconds;
            _windowLoss += loss; _windowBatches++;
            if (iteration % perEpoch == 0 || iteration == total)
            {
                _epochRates[iteration] = Rate(_epochMark.Iteration, iteration, now - _epochMark.Seconds);
                _epochMark = (iteration, now);
            }
            if (ProgressEvery > 0 && iteration % ProgressEvery == 0)
            {
                var record = new MetricsProgress(DateTimeOffset.UtcNow, (iteration - 1) / perEpoch + 1, iteration, _windowLoss / _windowBatches,
                    _learningRateAt?.Invoke(iteration), Rate(_progressMark.Iteration, iteration, now - _progressMark.Seconds));
                _progressMark = (iteration, now);
                _windowLoss = 0; _windowBatches = 0;
                Append(ProgressLine(record));
            }
        }

        double Rate(int from, int to, double seconds)
        {
            long images = 0;
            for (int i = from + 1; i <= to; i++) images += ThroughputMeter.ImagesInBatch(i, _run.TrainSamples, batch, perEpoch, replacement);
            return seconds > 0 ? images / seconds : double.NaN;
        }
    }

    private void Epoch(EpochResult e)
    {
        lock (_gate)
        {
            double? rate = _epochRates.Remove(e.Iteration, out double r) ? r : null;
            Append(EpochLine(new MetricsEpoch(e.Epoch, e.Iteration, e.MeanLoss, e.TrainAccuracy, e.TestAccuracy, e.Elapsed.TotalSeconds)
            {
                Time = DateTimeOffset.UtcNow, LearningRate = LearningRateOf(e), ImagesPerSecond = rate,
            }));
        }
    }

    /// <summary>The learning rate an epoch's record reports: that of the epoch's last mini-batch.</summary>
    private double? LearningRateOf(EpochResult e) => double.IsNaN(e.LearningRate) ? _learningRateAt?.Invoke(e.Iteration) : e.LearningRate;

    /// <summary>
    /// Writes the run's <c>end</c> record: how it ended after <paramref name="iteration"/> mini-batches and
    /// <paramref name="elapsed"/> of training since the run began (null: measured by this log since <see cref="Attach"/>,
    /// plus a resumed checkpoint's time).
    /// </summary>
    public void End(MetricsRunStatus status, int iteration, TimeSpan? elapsed = null, double? testAccuracy = null, string? message = null)
    {
        lock (_gate) Append(Line(w =>
        {
            double seconds = (elapsed ?? _before + _clock.Elapsed).TotalSeconds;
            w.WriteString("type", "end");
            w.WriteString("time", Iso(DateTimeOffset.UtcNow));
            w.WriteString("status", status.ToString().ToLowerInvariant());
            w.WriteNumber("iteration", iteration);
            w.WriteNumber("seconds", Math.Round(seconds, 3));
            if (testAccuracy is double t) Number(w, "test_accuracy", t);
            if (message is not null) w.WriteString("message", message);
        }));
    }

    private void Append(string line)
    {
        var file = _file ?? throw new ObjectDisposedException(nameof(MetricsLog));
        file.Write(Encoding.UTF8.GetBytes(line + "\n"));
        file.Flush();
    }

    public void Dispose()
    {
        lock (_gate) { _file?.Dispose(); _file = null; }
    }

    /// <summary>The run record's line.</summary>
    internal static string RunLine(MetricsRun run) => Line(w =>
    {
        w.WriteString("type", "run");
        w.WriteNumber("format", FormatVersion);
        w.WriteString("time", Iso(run.Started));
        w.WriteString("model", run.Model);
        w.WriteString("architecture", run.Architecture);
        w.WriteString("data", run.Data);
        w.WriteNumber("seed", run.Seed);
        w.WriteNumber("batch_size", run.BatchSize);
        w.WriteNumber("train_samples", run.TrainSamples);
        w.WriteNumber("iterations_per_epoch", run.IterationsPerEpoch);
        w.WriteNumber("total_iterations", run.TotalIterations);
        w.WriteStartObject("options");
        foreach (var (key, value) in run.Options.OrderBy(o => o.Key, StringComparer.Ordinal)) w.WriteString(key, value);
        w.WriteEndObject();
    });

    internal static string EpochLine(MetricsEpoch e) => Line(w =>
    {
        w.WriteString("type", "epoch");
        if (e.Time is DateTimeOffset time) w.WriteString("time", Iso(time));
        w.WriteNumber("epoch", e.Epoch);
        w.WriteNumber("iteration", e.Iteration);
        Number(w, "loss", e.Loss);
        Number(w, "train_accuracy", e.TrainAccuracy);
        Number(w, "test_accuracy", e.TestAccuracy);
        if (e.ValidationAccuracy is double va) Number(w, "validation_accuracy", va);
        if (e.ValidationLoss is double vl) Number(w, "validation_loss", vl);
        if (e.LearningRate is double lr) Number(w, "learning_rate", lr);
        if (e.ImagesPerSecond is double ips) Number(w, "images_per_second", Math.Round(ips, 1));
        w.WriteNumber("seconds", Math.Round(e.Seconds, 3));
    });

    internal static string ProgressLine(MetricsProgress p) => Line(w =>
    {
        w.WriteString("type", "progress");
        w.WriteString("time", Iso(p.Time));
        w.WriteNumber("epoch", p.Epoch);
        w.WriteNumber("iteration", p.Iteration);
        Number(w, "loss", p.Loss);
        if (p.LearningRate is double lr) Number(w, "learning_rate", lr);
        if (p.ImagesPerSecond is double ips) Number(w, "images_per_second", Math.Round(ips, 1));
    });

    /// <summary>A number, or null for NaN and infinities (which JSON cannot hold).</summary>
    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    /// <summary>ISO 8601 in UTC to the millisecond, e.g. 2026-12-06T05:12:00.123Z.</summary>
    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Line(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
