using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using ZeroDL.Charts;
using ZeroDL.Data;
using ZeroDL.Tuning;
using ZeroDL.Tuning.Studies;

namespace ZeroDL.Cli;

/// <summary>
/// zerodl tune: the book's ch. 6.5 hyper-parameter search, by grid, random or Bayesian search — in this process, or
/// as one worker of a study kept in a database (--study, --storage) that any number of workers share.
/// </summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        var defaults = new SearchOptions();
        var method = new Option<string>("--method") { Description = "grid, random or bayes (Gaussian process with expected improvement)", DefaultValueFactory = _ => "random" };
        method.AcceptOnlyFromAmong([.. SearchOptions.Methods]);
        var trials = new Option<int>("--trials") { Description = "Settings to try", DefaultValueFactory = _ => defaults.Trials };
        var samples = new Option<int>("--train-samples") { Description = "Training images used (20 % of them held out for validation)", DefaultValueFactory = _ => defaults.TrainingSamples };
        var validation = new Option<double>("--validation") { Description = "Fraction held out for validation", DefaultValueFactory = _ => defaults.ValidationFraction };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per trial", DefaultValueFactory = _ => defaults.Epochs };
        var seed = new Option<int>("--seed") { Description = "Seed of the split, the proposals and the trials", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Folder for trials.csv, figures and summary.md (default runs/tune-METHOD, or runs/tune-STUDY)" };
        var data = new Option<string?>("--data") { Description = "Folder with the MNIST files (default: the bundled data/mnist)" };
        var study = new Option<string?>("--study") { Description = "Work on the shared study of this name (created with these options if new; joined if they match): run as many such workers as you like, on any machines" };
        var storage = new Option<string?>("--storage") { Description = $"Where the study is kept: sqlite:PATH or postgresql://USER@HOST:PORT/DATABASE (default {StudyConnections.DefaultStorage})" };
        var report = new Option<bool>("--report") { Description = "Print the study (trials by state, the best) and write its charts, without training" };
        var heartbeat = new Option<double>("--heartbeat-timeout") { Description = "Seconds after which a running trial whose worker stopped beating is marked failed and handed out again", DefaultValueFactory = _ => 60 };
        var command = new Command("tune", "Search learning rate and weight decay (log scales) for the book's 6-hidden-layer net on a validation split; the test set is never used.")
        {
            method, trials, samples, validation, epochs, seed, output, data, study, storage, report, heartbeat,
        };
        command.SetAction(async (parse, cancel) =>
        {
            await Task.Yield(); // off the main thread, as in train: Ctrl+C or SIGTERM stops the search cleanly
            var options = new SearchOptions
            {
                Method = parse.GetValue(method)!, Trials = parse.GetValue(trials), TrainingSamples = parse.GetValue(samples),
                ValidationFraction = parse.GetValue(validation), Epochs = parse.GetValue(epochs), Seed = parse.GetValue(seed),
            };
            try { options.Validated(); }
            catch (ArgumentOutOfRangeException e) { throw new UsageException(e.Message.Split(" (Parameter")[0].Split("\nActual value")[0]); }
            string? studyName = parse.GetValue(study);
            if (studyName is null && (parse.GetValue(storage) is not null || parse.GetValue(report)))
                throw new UsageException("--storage and --report need --study NAME");
            if (studyName is not null && (studyName.Length == 0 || studyName.Length > 200 || studyName.Any(char.IsControl)))
                throw new UsageException("--study takes a name of 1 to 200 printable characters");
            double seconds = parse.GetValue(heartbeat);
            if (!(seconds >= 1 && seconds <= 86_400)) throw new UsageException("--heartbeat-timeout takes 1 to 86400 seconds");
            if (studyName is null) return RunHere(options, parse.GetValue(output), parse.GetValue(data), cancel);

            string url = parse.GetValue(storage) ?? StudyConnections.DefaultStorage;
            var shared = StudyConnections.Open(url, readOnly: parse.GetValue(report));
            string dir = OutputFolder(parse.GetValue(output) ?? Path.Combine("runs", "tune-" + string.Concat(studyName.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'))));
            try
            {
                if (parse.GetValue(report)) return Report(shared, studyName, url, dir, cancel);
                return Work(shared, studyName, url, options, TimeSpan.FromSeconds(seconds), parse.GetValue(data), dir, cancel);
            }
            catch (DbException e) { throw new DataFormatException($"{Redacted(url)}: {e.Message}", e); }
            catch (TimeoutException e) { throw new DataFormatException($"{Redacted(url)}: {e.Message}", e); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        });
        return command;
    }

    /// <summary>Today's search, in this process: trials in parallel, one per core. A signal stops it: the trials finished are written.</summary>
    private static int RunHere(SearchOptions options, string? output, string? data, CancellationToken cancel)
    {
        string dir = OutputFolder(output ?? Path.Combine("runs", "tune-" + options.Method));
        var (train, _) = Mnist.Load(directory: data);
        Console.WriteLine($"{options.Method} search, {options.Trials} trials of {options.Epochs} epochs on {options.TrainingSamples} images ({options.ValidationFraction:P0} for validation), {options.Parallelism} at a time");
        var results = HyperparameterSearch.Run(train, options, t => Console.WriteLine(HyperparameterSearch.Describe(t)), cancel);
        if (results.Count < options.Trials)
        {
            Console.WriteLine($"Interrupted after {results.Count} of {options.Trials} trials (those in training were dropped)" + (results.Count == 0 ? ": nothing written" : ""));
            if (results.Count > 0) WriteResults(dir, $"{options.Method} search, interrupted after {results.Count} trials", results);
            return Cli.Interrupted;
        }
        WriteResults(dir, $"{options.Method} search", results);
        return Cli.Success;
    }

    /// <summary>
    /// One worker of a shared study, until no trial is waiting or running, or a signal stops it: the trial it trains
    /// then is handed back at once for another worker (not left running until its heartbeat is stale).
    /// </summary>
    private static int Work(StudyStorage storage, string study, string url, SearchOptions options, TimeSpan heartbeat, string? data, string dir, CancellationToken cancel)
    {
        var (train, _) = Mnist.Load(directory: data);
        var worker = new StudyWorker(storage, study, options, train, new StudyWorkerOptions { HeartbeatTimeout = heartbeat });
        Console.WriteLine($"Worker {worker.Worker} on study '{study}' at {Redacted(url)}: {options.Method} search, {options.Trials} trials of {options.Epochs} epochs");
        worker.Claimed += c => Console.WriteLine($"claimed trial {c.Number + 1}{(c.Attempt > 1 ? $" (attempt {c.Attempt})" : "")}");
        worker.Completed += t => Console.WriteLine(HyperparameterSearch.Describe(t));
        worker.Lost += c => Console.WriteLine($"trial {c.Number + 1} was handed to another worker while this one trained it (its heartbeat was late); result dropped");
        worker.Failed += (c, e) => Console.WriteLine($"trial {c.Number + 1} failed: {e.Message}");
        worker.StoreRetrying += (e, limit) => Console.WriteLine($"the database cannot be reached ({e.Message.ReplaceLineEndings(" ")}); storing the result again for up to {limit.TotalSeconds:0} s");
        worker.Released += c => Console.WriteLine($"trial {c.Number + 1} handed back unfinished: this worker was stopped");
        var summary = worker.Run(cancel);
        if (cancel.IsCancellationRequested)
        {
            Console.WriteLine($"Interrupted: this worker completed {summary.Completed.Count}{(summary.Lost > 0 ? $", lost {summary.Lost}" : "")}{(summary.Failed > 0 ? $", failed {summary.Failed}" : "")}; the study goes on with the other workers (or run this again)");
            return Cli.Interrupted;
        }
        Console.WriteLine($"No trial left to claim: this worker completed {summary.Completed.Count}{(summary.Lost > 0 ? $", lost {summary.Lost}" : "")}{(summary.Failed > 0 ? $", failed {summary.Failed}" : "")}");
        return Report(storage, study, url, dir, cancel);
    }

    /// <summary>The study's trials by state, its best trial, and its charts and CSV in <paramref name="dir"/>.</summary>
    /// <remarks>
    /// Reads only: the storage may be one this user cannot write (see <see cref="StudyConnections.Open"/>).
    /// A signal before the files are written stops it there; one after still exits <see cref="Cli.Interrupted"/>, so a
    /// signal is never answered with success (the files written are whole: each is written atomically).
    /// </remarks>
    internal static int Report(StudyStorage storage, string study, string url, string dir, CancellationToken cancel)
    {
        if (cancel.IsCancellationRequested) return Cli.Interrupted;
        var options = storage.Options(study) ?? throw new UsageException($"there is no study '{study}' at {Redacted(url)}");
        var attempts = storage.Trials(study);
        var complete = attempts.Where(t => t.State == TrialState.Complete).Select(t => t.ToTrial()).ToList();
        Console.WriteLine($"Study '{study}' at {Redacted(url)}: {options.Method} search, {options.Trials} trials of {options.Epochs} epochs on {options.TrainingSamples} images, seed {options.Seed}");
        Console.WriteLine("Trials: " + string.Join(", ", Enum.GetValues<TrialState>().Select(s => $"{attempts.Count(t => t.State == s)} {s.ToString().ToLowerInvariant()}")));
        foreach (var failed in attempts.Where(t => t.State == TrialState.Failed))
            Console.WriteLine($"  trial {failed.Number + 1}, attempt {failed.Attempt} failed on {failed.Worker}: {failed.Error}");
        if (cancel.IsCancellationRequested) return Cli.Interrupted;
        if (complete.Count == 0) { Console.WriteLine("No trial is complete yet."); return Cli.Success; }
        var best = complete.MaxBy(t => t.ValidationAccuracy)!;
        Console.WriteLine($"Best: {HyperparameterSearch.Describe(best)}");
        WriteResults(dir, $"study {study}", complete);
        return cancel.IsCancellationRequested ? Cli.Interrupted : Cli.Success;
    }

    /// <summary>
    /// Creates the folder the results go to, before any training: one that cannot be written (a file, no permission)
    /// is an error now rather than after the search, whose results would then be lost.
    /// </summary>
    private static string OutputFolder(string dir)
    {
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw DataFormatException.For(dir, $"cannot write: {e.Message}", e); }
        return dir;
    }

    private static void WriteResults(string dir, string title, IReadOnlyList<Trial> results)
    {
        try { WriteResultFiles(dir, title, results); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw DataFormatException.For(dir, $"cannot write: {e.Message}", e); }
    }

    private static void WriteResultFiles(string dir, string title, IReadOnlyList<Trial> results)
    {
        Directory.CreateDirectory(dir);
        var csv = "trial,learning_rate,weight_decay,validation_accuracy,train_accuracy\n" + string.Concat(results.Select(t =>
            string.Create(CultureInfo.InvariantCulture, $"{t.Index + 1},{t.LearningRate:R},{t.WeightDecay:R},{t.ValidationAccuracy:R},{t.TrainAccuracy:R}\n")));
        Serialization.AtomicFile.WriteAllText(Path.Combine(dir, "trials.csv"), csv);
        Serialization.AtomicFile.WriteAllText(Path.Combine(dir, "trials.svg"), TuningReport.Scatter(results, $"{title}: validation accuracy").ToSvg());
        Serialization.AtomicFile.WriteAllText(Path.Combine(dir, "best_so_far.svg"), new Chart
        {
            Title = "Best validation accuracy so far", X = new Axis("trials"), Y = new Axis("validation accuracy"),
            Series = [Series.Of(title, TuningReport.BestSoFar([.. results.OrderBy(t => t.Index)]), 1)],
        }.ToSvg());
        var best = results.OrderByDescending(t => t.ValidationAccuracy).Take(5).ToList();
        string table = "| rank | learning rate | weight decay | validation | train |\n|---|---|---|---|---|\n" + string.Concat(best.Select((t, i) =>
            string.Create(CultureInfo.InvariantCulture, $"| {i + 1} | {t.LearningRate:0.###e0} | {t.WeightDecay:0.###e0} | {t.ValidationAccuracy:P1} | {t.TrainAccuracy:P1} |\n")));
        Serialization.AtomicFile.WriteAllText(Path.Combine(dir, "summary.md"), $"# tune: {title}\n\n{table}\nFiles: trials.csv, trials.svg, best_so_far.svg\n");
        Console.WriteLine();
        Console.WriteLine("Best trials:");
        Console.Write(table);
        Console.WriteLine($"Wrote {dir}/trials.csv, trials.svg, best_so_far.svg and summary.md");
    }

    /// <summary>The URL without its password, for messages.</summary>
    private static string Redacted(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':') ? url.Replace(uri.UserInfo, uri.UserInfo.Split(':')[0] + ":***") : url;
}
