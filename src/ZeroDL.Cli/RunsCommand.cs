using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ZeroDL.Charts;
using ZeroDL.Data;
using ZeroDL.Training;

namespace ZeroDL.Cli;

/// <summary>
/// zerodl runs [DIR]: the past training runs whose metrics logs (NAME.metrics.jsonl, docs/metrics-log.md) are in a
/// folder, as a table or JSON; zerodl runs plot RUN... --out curves.svg: their curves drawn together.
/// </summary>
internal static class RunsCommand
{
    private const string DefaultFolder = "models";

    public static Command Create()
    {
        var folder = new Argument<string>("DIR") { Description = $"The folder whose *{MetricsLog.FileSuffix} logs are listed (not its subfolders)", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => DefaultFolder };
        var json = new Option<bool>("--json") { Description = "Print a JSON array, one object per run, instead of the table" };
        var command = new Command("runs", $"List past training runs from their metrics logs (every zerodl train writes NAME{MetricsLog.FileSuffix} beside its model): " +
            "model, data, epochs, best and last test accuracy, training time, start date and how each ended, oldest first. A log that cannot be read is reported in one line on stderr and skipped.")
        {
            folder, json, Plot(),
        };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(folder)!;
            if (File.Exists(dir)) throw new UsageException($"{dir} is a file; zerodl runs takes a folder (zerodl runs plot draws a log)");
            if (!Directory.Exists(dir)) throw DataFormatException.For(dir, "no such folder");
            var logs = new List<RunLog>();
            foreach (string path in Directory.EnumerateFiles(dir, "*" + MetricsLog.FileSuffix).Order(StringComparer.Ordinal))
                if (TryRead(path) is { } log) logs.Add(log);
            logs = [.. logs.OrderBy(l => l.Run.Started).ThenBy(l => l.Path, StringComparer.Ordinal)];
            if (parse.GetValue(json)) Console.WriteLine(Json(logs));
            else if (logs.Count == 0) Console.WriteLine($"No runs in {dir} (no readable *{MetricsLog.FileSuffix})");
            else Console.Write(Table(logs));
            return Cli.Success;
        });
        return command;
    }

    private static Command Plot()
    {
        var runs = new Argument<string[]>("RUN") { Description = $"Runs to draw: a log's path, a model's path (its log beside it), or a run's name in --dir (NAME for DIR/NAME{MetricsLog.FileSuffix})", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "The SVG file to write", DefaultValueFactory = _ => "curves.svg" };
        var dir = new Option<string>("--dir") { Description = "Where run names are looked up", DefaultValueFactory = _ => DefaultFolder };
        var command = new Command("plot", "Draw runs' curves together as SVG: each epoch's training loss and test accuracy (validation dashed, where a run has one), one colour per run, with a legend. " +
            "A log that cannot be read is reported in one line on stderr and left out.")
        {
            runs, output, dir,
        };
        command.SetAction(parse =>
        {
            var logs = new List<RunLog>();
            foreach (string run in parse.GetValue(runs)!)
                if (TryRead(Resolve(run, parse.GetValue(dir)!)) is { } log)
                {
                    if (log.Epochs.Count == 0) Console.Error.WriteLine($"zerodl: warning: {log.Path}: no epoch finished; nothing to draw (left out)");
                    else logs.Add(log);
                }
            if (logs.Count == 0) throw new DataFormatException("no run to draw: every log named was left out (see above)");
            // Two runs of one name (from two folders) are told apart by their paths.
            var names = logs.Select(l => logs.Count(o => o.Name == l.Name) > 1 ? l.Path : l.Name).ToList();
            string path = parse.GetValue(output)!;
            Serialization.AtomicFile.WriteAllText(path, RunCurves.ToSvg(logs, names));
            Console.WriteLine($"Wrote {path}: {logs.Count} run(s), loss and accuracy against the epoch");
            return Cli.Success;
        });
        return command;
    }

    /// <summary>A RUN argument's log: a log's path as it is; the log beside a model, checkpoint or history file; another existing file as it is; else DIR/RUN.metrics.jsonl.</summary>
    private static string Resolve(string run, string dir)
    {
        const string history = ".history.csv";
        if (run.EndsWith(MetricsLog.FileSuffix, StringComparison.Ordinal)) return run;
        if (run.EndsWith(history, StringComparison.Ordinal)) return run[..^history.Length] + MetricsLog.FileSuffix;
        if (Path.GetExtension(run) is ".safetensors" or ".ckpt") return MetricsLog.BesideModel(run);
        if (File.Exists(run)) return run;
        return Path.Combine(dir, run + MetricsLog.FileSuffix);
    }

    /// <summary>The log at <paramref name="path"/>, or null after a one-line warning on stderr when it cannot be read.</summary>
    private static RunLog? TryRead(string path)
    {
        try
        {
            var log = RunLog.Read(path);
            if (log.IncompleteLastLine) Console.Error.WriteLine($"zerodl: warning: {path}: the last line is incomplete (a run killed while writing it, or still writing); read up to it");
            return log;
        }
        catch (DataFormatException e)
        {
            Console.Error.WriteLine($"zerodl: warning: {e.Message} (skipped)");
            return null;
        }
    }

    private static string Status(RunLog log) => log.End?.Status switch
    {
        MetricsRunStatus.Finished => "finished",
        MetricsRunStatus.Interrupted => "interrupted",
        MetricsRunStatus.Diverged => "diverged",
        _ => "no end (killed or running)",
    };

    /// <summary>The data's short name: its one-line description up to the colon ("mnist: 60000 training …" → "mnist").</summary>
    private static string DataName(string data) => data.Split(':')[0];

    private static string Percent(double accuracy) => double.IsFinite(accuracy) ? Cli.Percent(accuracy) : "-";

    private static string Table(IReadOnlyList<RunLog> logs)
    {
        string[] header = ["RUN", "MODEL", "DATA", "EPOCHS", "BEST TEST", "LAST TEST", "TIME", "STARTED (UTC)", "STATUS"];
        var rows = logs.Select(l => new[]
        {
            l.Name, l.Run.Model, DataName(l.Run.Data),
            string.Create(CultureInfo.InvariantCulture, $"{l.Epochs.Count}/{(l.TotalIterations + l.Run.IterationsPerEpoch - 1) / l.Run.IterationsPerEpoch}"),
            Percent(l.BestTestAccuracy), Percent(l.LastTestAccuracy), ThroughputMeter.Format(TimeSpan.FromSeconds(l.Seconds)),
            l.Run.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), Status(l),
        }).ToList();
        int[] widths = [.. header.Select((h, c) => Math.Max(h.Length, rows.Max(r => r[c].Length)))];
        var sb = new System.Text.StringBuilder();
        foreach (var row in rows.Prepend(header))
            sb.Append(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd()).Append('\n');
        return sb.ToString();
    }

    private static string Json(IReadOnlyList<RunLog> logs)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartArray();
            foreach (var l in logs)
            {
                w.WriteStartObject();
                w.WriteString("name", l.Name);
                w.WriteString("path", l.Path);
                w.WriteString("model", l.Run.Model);
                w.WriteString("architecture", l.Run.Architecture);
                w.WriteString("data", l.Run.Data);
                w.WriteNumber("epochs", l.Epochs.Count);
                w.WriteNumber("total_epochs", (l.TotalIterations + l.Run.IterationsPerEpoch - 1) / l.Run.IterationsPerEpoch);
                Number(w, "best_test_accuracy", l.BestTestAccuracy);
                Number(w, "last_test_accuracy", l.LastTestAccuracy);
                if (l.End?.TestAccuracy is double final) Number(w, "final_test_accuracy", final);
                w.WriteNumber("seconds", l.Seconds);
                w.WriteString("started", MetricsLog.Iso(l.Run.Started));
                w.WriteString("status", l.End is null ? "unfinished" : l.End.Status.ToString().ToLowerInvariant());
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());

        static void Number(Utf8JsonWriter w, string name, double value)
        {
            if (double.IsFinite(value)) w.WriteNumber(name, value);
            else w.WriteNull(name);
        }
    }
}
