using System.Globalization;
using System.Text;
using System.Text.Json;
using ZeroDL.Data;

namespace ZeroDL.Training;

/// <summary>
/// A training run's metrics log read back (the JSON Lines of docs/metrics-log.md, written by <see cref="MetricsLog"/>):
/// the run's identity, its epochs, progress points, resumes and end. For <c>zerodl runs</c> and the web app's Train page.
/// </summary>
/// <remarks>
/// Reading is strict about what it uses and lenient about what it does not: a line that is not a JSON object, a
/// record without its fields or with values of the wrong type, a missing or newer run record are errors naming the
/// file and line; unknown record types and unknown fields are skipped (later versions may add them), as are blank
/// lines. A last line without its line break is the one a writer was in the middle of (a killed run, or a log read
/// while its run goes on): it is used if it is a whole record, else ignored and <see cref="IncompleteLastLine"/> says so.
/// </remarks>
public sealed class RunLog
{
    /// <summary>
    /// The largest log read (64 MiB): a run writes a few hundred bytes per epoch and per progress record, so even
    /// 100,000 epochs fit; a larger file is not a metrics log, and is refused before it is read into memory.
    /// </summary>
    public const long MaxBytes = 64L << 20;

    private RunLog(string path, MetricsRun run) { Path = path; Run = run; }

    /// <summary>The file read (or the name given to <see cref="Parse"/>).</summary>
    public string Path { get; }
    /// <summary>The run record: the run's identity as it started.</summary>
    public MetricsRun Run { get; }
    /// <summary>One record per epoch, in epoch order; where a number repeats (a log appended to by hand), the later record.</summary>
    public IReadOnlyList<MetricsEpoch> Epochs { get; private set; } = [];
    /// <summary>The progress records in iteration order.</summary>
    public IReadOnlyList<MetricsProgress> Progress { get; private set; } = [];
    /// <summary>Each time the run was resumed, in order.</summary>
    public IReadOnlyList<MetricsResume> Resumes { get; private set; } = [];
    /// <summary>How the run ended: the last <c>end</c> record after the last resume; null while it runs, or when it was killed.</summary>
    public MetricsEnd? End { get; private set; }
    /// <summary>The file ended inside a line (ignored): its writer was killed mid-line, or is writing it now.</summary>
    public bool IncompleteLastLine { get; private set; }

    /// <summary>The run's name: the file's name without <see cref="MetricsLog.FileSuffix"/> (<c>models/dense.metrics.jsonl</c> → <c>dense</c>).</summary>
    public string Name
    {
        get
        {
            string file = System.IO.Path.GetFileName(Path);
            return file.EndsWith(MetricsLog.FileSuffix, StringComparison.Ordinal) ? file[..^MetricsLog.FileSuffix.Length] : System.IO.Path.GetFileNameWithoutExtension(file);
        }
    }

    /// <summary>Mini-batches the run is set for: the last resume's total, else the run record's.</summary>
    public int TotalIterations => Resumes.Count > 0 ? Resumes[^1].TotalIterations : Run.TotalIterations;

    /// <summary>The highest test accuracy of any epoch (NaN when no epoch has one).</summary>
    public double BestTestAccuracy => Epochs.Select(e => e.TestAccuracy).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();

    /// <summary>The last epoch's test accuracy (NaN without epochs).</summary>
    public double LastTestAccuracy => Epochs.Count > 0 ? Epochs[^1].TestAccuracy : double.NaN;

    /// <summary>Training time: the end record's, else the last epoch's (0 without either).</summary>
    public double Seconds => End?.Seconds ?? (Epochs.Count > 0 ? Epochs[^1].Seconds : 0);

    /// <summary>Every complete record line in file order: its type, iteration (−1 for none), epoch (−1 for none) and text.</summary>
    internal List<(string Type, int Iteration, int Epoch, string Line)> Lines { get; } = [];

    /// <summary>Reads the log at <paramref name="path"/>.</summary>
    /// <exception cref="DataFormatException">the file is missing, unreadable, too large, not UTF-8, or not a metrics log (the message names the file and line).</exception>
    public static RunLog Read(string path)
    {
        byte[] bytes = DataFile.Read(path, stream =>
        {
            if (stream.Length > MaxBytes) throw DataFormatException.For(path, $"is {stream.Length:N0} bytes, more than a metrics log's limit of {MaxBytes:N0}");
            var read = new byte[stream.Length];
            try { stream.ReadExactly(read); }
            catch (EndOfStreamException) { throw DataFormatException.For(path, "became shorter while it was read"); }
            return read;
        }, FileShare.ReadWrite | FileShare.Delete);
        var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        try { return ParseLines(utf8.GetString(bytes), path, brokenTail: false); }
        catch (DecoderFallbackException)
        {
            // A writer killed inside a multi-byte character breaks its last line only: that line is ignored, as any incomplete one.
            int lastBreak = Array.LastIndexOf(bytes, (byte)'\n');
            string text;
            try { text = utf8.GetString(bytes, 0, lastBreak + 1); }
            catch (DecoderFallbackException) { throw DataFormatException.For(path, "is not UTF-8 text"); }
            return ParseLines(text, path, brokenTail: true);
        }
    }

    /// <summary>Parses a log's text; <paramref name="name"/> stands for the file in messages and <see cref="Path"/>.</summary>
    /// <exception cref="DataFormatException">the text is not a metrics log (the message names the line).</exception>
    public static RunLog Parse(string text, string name) => ParseLines(text, name, brokenTail: false);

    private static RunLog ParseLines(string text, string name, bool brokenTail)
    {
        if (text.StartsWith('\uFEFF')) text = text[1..];
        var lines = text.Split('\n');
        // After the last line break comes the line being written (empty when the file ends with its break).
        int complete = lines.Length - 1;
        RunLog? log = null;
        var epochs = new SortedDictionary<int, MetricsEpoch>();
        var progress = new List<MetricsProgress>();
        var resumes = new List<MetricsResume>();
        MetricsEnd? end = null;
        bool incomplete = brokenTail;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            bool last = i == complete;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException) when (last) { incomplete = true; break; }
            catch (JsonException e) { throw Error(i, $"not a JSON object ({e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]})"); }
            using (doc)
            {
                var o = doc.RootElement;
                if (o.ValueKind != JsonValueKind.Object) throw Error(i, "not a JSON object");
                string type = o.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : throw Error(i, "has no \"type\"");
                try
                {
                    if (log is null)
                    {
                        if (type != "run") throw new FormatException($"the first record is \"{type}\", not the run record: not a ZeroDL metrics log");
                        log = new RunLog(name, ReadRun(o));
                        log.Lines.Add((type, -1, -1, line));
                        continue;
                    }
                    int iteration = -1, epoch = -1;
                    switch (type)
                    {
                        case "run": throw new FormatException("a second run record");
                        case "epoch":
                            var e = ReadEpoch(o);
                            epochs[e.Epoch] = e;
                            (iteration, epoch) = (e.Iteration, e.Epoch);
                            break;
                        case "progress":
                            var p = new MetricsProgress(Time(o, "time"), Int(o, "epoch"), Int(o, "iteration"), Real(o, "loss"), OptionalReal(o, "learning_rate"), OptionalReal(o, "images_per_second"));
                            progress.Add(p);
                            (iteration, epoch) = (p.Iteration, p.Epoch);
                            break;
                        case "resume":
                            var r = new MetricsResume(Time(o, "time"), Int(o, "iteration"), Int(o, "epoch"), Int(o, "total_iterations"));
                            resumes.Add(r);
                            end = null; // the run went on after any end before this
                            (iteration, epoch) = (r.Iteration, r.Epoch);
                            break;
                        case "end":
                            string status = String(o, "status");
                            end = new MetricsEnd(Time(o, "time"), status switch
                            {
                                "finished" => MetricsRunStatus.Finished,
                                "interrupted" => MetricsRunStatus.Interrupted,
                                "diverged" => MetricsRunStatus.Diverged,
                                _ => throw new FormatException($"unknown status \"{status}\""),
                            }, Int(o, "iteration"), Real(o, "seconds"))
                            { TestAccuracy = OptionalReal(o, "test_accuracy"), Message = o.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null };
                            iteration = end.Iteration;
                            break;
                        default: continue; // a record of a later version
                    }
                    log.Lines.Add((type, iteration, epoch, line));
                }
                catch (FormatException e) { throw Error(i, e.Message); }
            }
        }
        if (log is null) throw DataFormatException.For(name, incomplete ? "holds only an incomplete first line: not a metrics log yet" : "is empty: no run record");
        log.Epochs = [.. epochs.Values];
        log.Progress = [.. progress.OrderBy(p => p.Iteration)];
        log.Resumes = resumes;
        log.End = end;
        log.IncompleteLastLine = incomplete;
        return log;

        DataFormatException Error(int index, string problem) => DataFormatException.For(name, $"line {index + 1}: {problem}");
    }

    private static MetricsRun ReadRun(JsonElement o)
    {
        int format = Int(o, "format");
        if (format > MetricsLog.FormatVersion) throw new FormatException($"format {format} is newer than this ZeroDL reads ({MetricsLog.FormatVersion})");
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        if (o.TryGetProperty("options", out var opts))
        {
            if (opts.ValueKind != JsonValueKind.Object) throw new FormatException("\"options\" is not an object");
            foreach (var p in opts.EnumerateObject())
                options[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        }
        var run = new MetricsRun
        {
            Model = String(o, "model"), Architecture = String(o, "architecture"), Data = String(o, "data"),
            Seed = Int(o, "seed", allowNegative: true), BatchSize = Int(o, "batch_size"), TrainSamples = Int(o, "train_samples"),
            IterationsPerEpoch = Int(o, "iterations_per_epoch"), TotalIterations = Int(o, "total_iterations"),
            Started = Time(o, "time"), Options = options,
        };
        if (run.IterationsPerEpoch < 1) throw new FormatException("\"iterations_per_epoch\" must be at least 1");
        return run;
    }

    private static MetricsEpoch ReadEpoch(JsonElement o) =>
        new(Int(o, "epoch"), Int(o, "iteration"), Real(o, "loss"), Real(o, "train_accuracy"), Real(o, "test_accuracy"), Real(o, "seconds"))
        {
            Time = o.TryGetProperty("time", out _) ? Time(o, "time") : null,
            ValidationAccuracy = OptionalReal(o, "validation_accuracy"), ValidationLoss = OptionalReal(o, "validation_loss"),
            LearningRate = OptionalReal(o, "learning_rate"), ImagesPerSecond = OptionalReal(o, "images_per_second"),
        };

    private static JsonElement Field(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) ? v : throw new FormatException($"has no \"{name}\"");

    private static string String(JsonElement o, string name) =>
        Field(o, name) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : throw new FormatException($"\"{name}\" is not a string");

    private static int Int(JsonElement o, string name, bool allowNegative = false) =>
        Field(o, name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out int n) && (allowNegative || n >= 0)
            ? n : throw new FormatException($"\"{name}\" is not a {(allowNegative ? "" : "non-negative ")}whole number");

    /// <summary>A number; null stands for NaN (JSON has no NaN, and the writer writes null for it).</summary>
    private static double Real(JsonElement o, string name) => Field(o, name) switch
    {
        { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
        { ValueKind: JsonValueKind.Null } => double.NaN,
        _ => throw new FormatException($"\"{name}\" is not a number"),
    };

    private static double? OptionalReal(JsonElement o, string name) => o.TryGetProperty(name, out _) ? Real(o, name) : null;

    private static DateTimeOffset Time(JsonElement o, string name) =>
        DateTimeOffset.TryParse(String(o, name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t : throw new FormatException($"\"{name}\" is not an ISO 8601 time");
}
