using System.Diagnostics;
using System.Globalization;
using ZeroDL.Cli;
using ZeroDL.Tuning;
using ZeroDL.Tuning.Studies;

namespace ZeroDL.Tests;

/// <summary>A test that needs PostgreSQL's server programs: skipped, with the reason, where they are not installed.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        bool installed = (Directory.Exists("/usr/lib/postgresql") && Directory.GetDirectories("/usr/lib/postgresql").Any(d => File.Exists(Path.Combine(d, "bin", "pg_ctl"))))
            || (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(p => p.Length > 0 && File.Exists(Path.Combine(p, "pg_ctl")));
        if (!installed) Skip = "PostgreSQL's server programs are not installed (apt-get install postgresql; .ci/run installs it)";
    }
}

/// <summary>
/// A test of what a user who cannot write a folder sees. Root writes whatever the permissions say, so as root the
/// command under test runs as <c>nobody</c> through util-linux's setpriv: skipped, with the reason, where that cannot be done.
/// </summary>
public sealed class UnwritableFolderFactAttribute : FactAttribute
{
    public UnwritableFolderFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "file permissions as Linux has them are needed";
        else if (Environment.UserName == "root" && StudyTestsBase.Setpriv is null) Skip = "running as root without setpriv (util-linux) to run the command as nobody";
        else if (Environment.UserName == "root" && !NobodyCanRead.Value) Skip = $"nobody cannot read {AppContext.BaseDirectory} (a folder on the way is closed to others), so cannot run zerodl";
    }

    private static readonly Lazy<bool> NobodyCanRead = new(() =>
    {
        var psi = new ProcessStartInfo(StudyTestsBase.Setpriv!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["--reuid=nobody", "--regid=nogroup", "--clear-groups", "test", "-r", Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll")]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode == 0;
    });
}

/// <summary>
/// A test that reads through a read-only bind mount, made in a private mount namespace (unshare -m, as root): skipped,
/// with the reason, where that cannot be done.
/// </summary>
public sealed class ReadOnlyMountFactAttribute : FactAttribute
{
    public ReadOnlyMountFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "Linux mount namespaces are needed";
        else if (!Works.Value) Skip = "cannot make a read-only bind mount here (needs root and unshare -m)";
    }

    private static readonly Lazy<bool> Works = new(() =>
    {
        try
        {
            string dir = TestPaths.NewTempDirectory(), from = Path.Combine(dir, "from"), to = Path.Combine(dir, "to");
            Directory.CreateDirectory(from);
            Directory.CreateDirectory(to);
            return Run(from, to, "true").Code == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; } // no unshare
    });

    /// <summary>Runs <paramref name="command"/> with <paramref name="from"/> mounted read-only on <paramref name="to"/>, seen by it alone.</summary>
    internal static (int Code, string Output) Run(string from, string to, params string[] command)
    {
        var psi = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-m", "sh", "-c", "mount --bind \"$1\" \"$2\" && mount -o remount,bind,ro \"$2\" && shift 2 && exec \"$@\"", "sh", from, to, .. command])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }
}

/// <summary>
/// Shared studies: `zerodl tune --study` workers as separate processes on one database, as users run them — the
/// embedded SQLite and a private PostgreSQL cluster. Trials are tiny (a few hundred images, few epochs); what is
/// tested is the sharing: every trial done once, the in-process search reproduced, a killed worker's trial re-run.
/// </summary>
public abstract class StudyTestsBase
{
    protected abstract string Storage(string name);

    /// <summary>The tune options every worker of a test study is given (a study refuses a worker with others).</summary>
    protected static string[] Options(string method, int trials, int epochs) =>
        ["--method", method, "--trials", trials.ToString(CultureInfo.InvariantCulture), "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--train-samples", "200"];

    protected static Process StartWorker(string study, string storage, string[] options, string dir, string heartbeat = "60")
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll"));
        foreach (var a in (string[])["tune", "--study", study, "--storage", storage, "--heartbeat-timeout", heartbeat, "--data", TestPaths.Mnist, .. options]) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    protected static (int Code, string Output) Finish(Process p)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(300_000), "the worker did not finish in 5 minutes");
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    protected abstract StudyStorage OpenStorage(string name);

    /// <summary>util-linux's setpriv, which runs a command as another user (null where it is missing).</summary>
    internal static string? Setpriv { get; } = new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists);

    /// <summary>
    /// Runs zerodl in a process that permissions bind: this user's own, or as root <c>nobody</c>'s (through setpriv,
    /// with <paramref name="home"/>, which nobody must be able to write, as its home). Exit code, stdout and stderr.
    /// </summary>
    protected static (int Code, string Output) RunUnprivileged(string home, params string[] args)
    {
        bool root = Environment.UserName == "root";
        var psi = new ProcessStartInfo(root ? Setpriv! : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = home };
        if (root) foreach (var a in (string[])["--reuid=nobody", "--regid=nogroup", "--clear-groups", "dotnet"]) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = home;
        return Finish(Process.Start(psi)!);
    }

    protected void GridStudySharedByThreeWorkers()
    {
        string dir = TestPaths.NewTempDirectory(), study = "grid-" + Guid.NewGuid().ToString("N")[..8];
        var options = Options("grid", 9, 3);
        var workers = Enumerable.Range(0, 3).Select(_ => StartWorker(study, Storage(dir), options, dir)).ToList();
        var outputs = workers.Select(Finish).ToList();
        foreach (var (code, output) in outputs) Assert.True(code == 0, output);

        var attempts = OpenStorage(dir).Trials(study);
        Assert.Equal(9, attempts.Count);
        Assert.All(attempts, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(Enumerable.Range(0, 9), attempts.Select(t => t.Number));
        // Each trial was claimed by exactly one worker: the claims the workers printed add up to nine distinct trials.
        var claimed = outputs.SelectMany(o => System.Text.RegularExpressions.Regex.Matches(o.Output, @"claimed trial (\d+)").Select(m => int.Parse(m.Groups[1].Value))).ToList();
        Assert.Equal(Enumerable.Range(1, 9), claimed.Order());

        // The same search in one process gives the same trials, number for number, bit for bit.
        var (train, _) = Data.Mnist.Load(directory: TestPaths.Mnist);
        var here = HyperparameterSearch.Run(train, new SearchOptions { Method = "grid", Trials = 9, Epochs = 3, TrainingSamples = 200 });
        Assert.Equal(here, attempts.Select(t => t.ToTrial()));

        // --report: the study by state, its best trial, and the charts and CSV, without training.
        string reportDir = Path.Combine(dir, "report");
        var (code2, report, err) = CliTests.Run("tune", "--study", study, "--storage", Storage(dir), "--report", "--out", reportDir);
        Assert.True(code2 == 0, err);
        Assert.Contains("Trials: 0 waiting, 0 running, 9 complete, 0 failed", report);
        Assert.Contains("Best: " + HyperparameterSearch.Describe(here.MaxBy(t => t.ValidationAccuracy)!), report);
        Assert.Equal(10, File.ReadAllLines(Path.Combine(reportDir, "trials.csv")).Length);
        Assert.True(File.Exists(Path.Combine(reportDir, "trials.svg")));
    }

    protected void KilledWorkersTrialRunAgain()
    {
        string dir = TestPaths.NewTempDirectory(), study = "kill-" + Guid.NewGuid().ToString("N")[..8];
        // Trials long enough (1,000 epochs of 160 images: seconds) to be killed in the middle of one.
        var options = Options("random", 2, 1000);
        var doomed = StartWorker(study, Storage(dir), options, dir, heartbeat: "2");
        var storage = OpenStorage(dir);
        var clock = Stopwatch.StartNew();
        while (!Running(storage, study))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2) && !doomed.HasExited, "the first worker never claimed a trial");
            Thread.Sleep(50);
        }
        doomed.Kill();
        doomed.WaitForExit();

        var (code, output) = Finish(StartWorker(study, Storage(dir), options, dir, heartbeat: "2"));
        Assert.True(code == 0, output);
        var attempts = storage.Trials(study);
        var failed = Assert.Single(attempts, t => t.State == TrialState.Failed);
        Assert.Equal("heartbeat stopped", failed.Error);
        Assert.Equal(1, failed.Attempt);
        var rerun = Assert.Single(attempts, t => t.Number == failed.Number && t.State == TrialState.Complete);
        Assert.Equal(2, rerun.Attempt);
        Assert.Equal((failed.LearningRate, failed.WeightDecay), (rerun.LearningRate, rerun.WeightDecay));
        Assert.Equal([0, 1], attempts.Where(t => t.State == TrialState.Complete).Select(t => t.Number));
        Assert.Contains($"claimed trial {failed.Number + 1} (attempt 2)", output);

        static bool Running(StudyStorage storage, string study)
        {
            try { return storage.Options(study) is not null && storage.Trials(study).Any(t => t.State == TrialState.Running); }
            catch (Exception e) when (e is System.Data.Common.DbException or ArgumentException) { return false; } // the first worker is still creating it
        }
    }

    protected void BayesWorkersProposeDistinctPoints()
    {
        string dir = TestPaths.NewTempDirectory(), study = "bayes-" + Guid.NewGuid().ToString("N")[..8];
        var options = Options("bayes", 10, 3);
        var outputs = new[] { StartWorker(study, Storage(dir), options, dir), StartWorker(study, Storage(dir), options, dir) }.Select(Finish).ToList();
        foreach (var (code, output) in outputs) Assert.True(code == 0, output);
        var attempts = OpenStorage(dir).Trials(study);
        Assert.Equal(10, attempts.Count(t => t.State == TrialState.Complete));
        Assert.Equal(10, attempts.Select(t => (t.LearningRate, t.WeightDecay)).Distinct().Count());
    }

    /// <summary>A new study, named <paramref name="name"/> and a unique suffix, in a fresh store of this database.</summary>
    private (StudyStorage Storage, string Study) NewStudy(string name, string method, int trials)
    {
        var storage = OpenStorage(TestPaths.NewTempDirectory());
        string study = name + "-" + Guid.NewGuid().ToString("N")[..8];
        storage.EnsureSchema();
        storage.CreateOrJoin(study, new SearchOptions { Method = method, Trials = trials });
        return (storage, study);
    }

    protected void StoringAResultAgainIsStoredNotLost()
    {
        var (storage, study) = NewStudy("again", "random", 2);
        var c = storage.Claim(study, "w1", TimeSpan.FromMinutes(1), out _)!;
        var result = new Trial(c.Number, 0.1, 1e-6, 0.123456789012345, 1.0 / 3);
        Assert.True(storage.Complete(c.Id, "w1", result));
        // What a retry after a lost reply does: the row already holds this worker's result, so it is stored.
        Assert.True(storage.Complete(c.Id, "w1", result));
        // Another result, or another worker's, is not this one: nothing is stored over a complete trial.
        Assert.False(storage.Complete(c.Id, "w1", result with { ValidationAccuracy = 0.5 }));
        Assert.False(storage.Complete(c.Id, "w2", result));
        var stored = Assert.Single(storage.Trials(study), t => t.Id == c.Id);
        Assert.Equal((TrialState.Complete, "w1", result.ValidationAccuracy, result.TrainAccuracy), (stored.State, stored.Worker, stored.ValidationAccuracy!.Value, stored.TrainAccuracy!.Value));
        // A trial that has failed (reported here by its own worker) is no longer running: a late result is not stored.
        var d = storage.Claim(study, "w1", TimeSpan.FromMinutes(1), out _)!;
        storage.Fail(d.Id, "w1", "boom");
        Assert.False(storage.Complete(d.Id, "w1", new Trial(d.Number, 0.1, 1e-6, 0.5, 0.5)));
    }

    protected void InterruptionsDoNotUseUpTheAttempts()
    {
        var (storage, study) = NewStudy("released", "grid", 1);
        // Two interruptions and one real failure: one failure of the MaxAttempts allowed, so the trial is queued again.
        for (int i = 0; i < 2; i++) storage.Release(storage.Claim(study, "w", TimeSpan.FromMinutes(1), out _)!.Id, "w");
        var c = storage.Claim(study, "w", TimeSpan.FromMinutes(1), out _)!;
        storage.Fail(c.Id, "w", "boom");
        var again = storage.Claim(study, "w", TimeSpan.FromMinutes(1), out _);
        Assert.NotNull(again);
        Assert.Equal(4, again.Attempt);
        // The failures left are counted as before: the trial fails for good at its MaxAttempts-th real failure.
        storage.Fail(again.Id, "w", "boom");
        for (int failures = 2; failures < StudyStorage.MaxAttempts; failures++)
            storage.Fail(storage.Claim(study, "w", TimeSpan.FromMinutes(1), out _)!.Id, "w", "boom");
        Assert.Null(storage.Claim(study, "w", TimeSpan.FromMinutes(1), out bool finished));
        Assert.True(finished);
        Assert.Equal(StudyStorage.MaxAttempts, storage.Trials(study).Count(t => t.Error == "boom"));
    }

    protected void ReleaseRequeuesPastTheAttemptLimit()
    {
        var (storage, study) = NewStudy("released", "grid", 1);
        for (int attempt = 1; attempt <= StudyStorage.MaxAttempts + 1; attempt++)
        {
            var c = storage.Claim(study, "w", TimeSpan.FromMinutes(1), out _)!;
            Assert.Equal(attempt, c.Attempt);
            storage.Release(c.Id, "w");
        }
        var last = storage.Claim(study, "w", TimeSpan.FromMinutes(1), out _);
        Assert.NotNull(last);
        Assert.Equal(StudyStorage.MaxAttempts + 2, last.Attempt);
        Assert.All(storage.Trials(study).Where(t => t.State == TrialState.Failed), t => Assert.Equal(StudyStorage.ReleasedError, t.Error));
    }

    protected void ReleasingAReclaimedTrialChangesNothing()
    {
        var (storage, study) = NewStudy("released", "grid", 1);
        var first = storage.Claim(study, "w1", TimeSpan.FromMinutes(1), out _)!;
        Thread.Sleep(50);
        // w1's heartbeat is older than 1 ms: w2 marks it failed and takes the trial's next attempt.
        var second = storage.Claim(study, "w2", TimeSpan.FromMilliseconds(1), out _)!;
        Assert.Equal((first.Number, 2), (second.Number, second.Attempt));
        var before = storage.Trials(study);
        storage.Release(first.Id, "w1");
        Assert.Equal(before, storage.Trials(study));
        Assert.Equal(TrialState.Running, Assert.Single(storage.Trials(study), t => t.Id == second.Id).State);
    }

    protected void WorkerWithOtherOptionsRefused()
    {
        string dir = TestPaths.NewTempDirectory(), study = "mismatch-" + Guid.NewGuid().ToString("N")[..8];
        var (code, output) = Finish(StartWorker(study, Storage(dir), Options("grid", 2, 1), dir));
        Assert.True(code == 0, output);
        (code, output) = Finish(StartWorker(study, Storage(dir), Options("grid", 3, 1), dir));
        Assert.Equal(2, code);
        Assert.Contains("Trials is 2 in the study, 3 here", output);
    }
}

public sealed class SqliteStudyTests : StudyTestsBase
{
    protected override string Storage(string dir) => "sqlite:" + Path.Combine(dir, "studies.db");
    protected override StudyStorage OpenStorage(string dir) => StudyConnections.Open(Storage(dir));

    [Fact] public void Three_workers_share_a_grid_study_each_trial_once_and_reproduce_the_in_process_search() => GridStudySharedByThreeWorkers();
    [Fact] public void A_killed_workers_trial_is_marked_failed_and_run_again_by_another() => KilledWorkersTrialRunAgain();
    [Fact] public void Two_bayes_workers_propose_distinct_points_from_all_finished_trials() => BayesWorkersProposeDistinctPoints();
    [Fact] public void A_worker_with_other_options_is_refused_by_name() => WorkerWithOtherOptionsRefused();
    [Fact] public void Storing_a_result_again_finds_it_stored() => StoringAResultAgainIsStoredNotLost();
    [Fact] public void Interruptions_do_not_use_up_a_trials_attempts() => InterruptionsDoNotUseUpTheAttempts();
    [Fact] public void A_released_trial_is_queued_again_past_the_attempt_limit() => ReleaseRequeuesPastTheAttemptLimit();
    [Fact] public void Releasing_a_trial_another_worker_reclaimed_changes_nothing() => ReleasingAReclaimedTrialChangesNothing();

    [Fact]
    public void A_result_whose_commit_reply_is_lost_is_counted_stored_not_lost()
    {
        // The commit of the trial's result goes through, then the connection fails before the reply arrives: the
        // worker retries, finds the trial no longer running, and must see that it holds its own result.
        string db = Path.Combine(TestPaths.NewTempDirectory(), "studies.db");
        string connection = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = db, DefaultTimeout = 60 }.ToString();
        var faults = new ReplyLostAfterCommit();
        var storage = new StudyStorage(() => new ReplyLostConnection(connection, faults), StudyDialect.Sqlite);
        var options = new SearchOptions { Method = "random", Trials = 1, Epochs = 1, TrainingSamples = 200 };
        var (train, _) = Data.Mnist.Load(directory: TestPaths.Mnist);
        var worker = new StudyWorker(storage, "lost-reply", options, train, new StudyWorkerOptions { PollInterval = TimeSpan.FromMilliseconds(10) });
        var retries = new List<Exception>();
        worker.StoreRetrying += (e, _) => retries.Add(e);
        var summary = worker.Run();
        Assert.Equal(1, faults.Thrown);
        Assert.Equal("the reply was lost", Assert.Single(retries).Message);
        Assert.Equal((1, 0, 0), (summary.Completed.Count, summary.Lost, summary.Failed));
        var stored = Assert.Single(storage.Trials("lost-reply"));
        Assert.Equal((TrialState.Complete, 1), (stored.State, stored.Attempt));
        Assert.Equal(summary.Completed[0], stored.ToTrial());
    }

    /// <summary>Throws once, after the first statement that completes a trial has run and committed.</summary>
    private sealed class ReplyLostAfterCommit
    {
        public int Thrown;
    }

    private sealed class ReplyLostConnection(string connectionString, ReplyLostAfterCommit faults) : Microsoft.Data.Sqlite.SqliteConnection(connectionString)
    {
        protected override System.Data.Common.DbCommand CreateDbCommand() => new ReplyLostCommand(faults) { Connection = this, CommandTimeout = DefaultTimeout };
    }

    private sealed class ReplyLostCommand(ReplyLostAfterCommit faults) : Microsoft.Data.Sqlite.SqliteCommand
    {
        public override int ExecuteNonQuery()
        {
            int rows = base.ExecuteNonQuery(); // outside a transaction: committed when it returns
            if (CommandText.StartsWith("UPDATE zerodl_trials SET state = 'complete'", StringComparison.Ordinal) && Interlocked.CompareExchange(ref faults.Thrown, 1, 0) == 0)
                throw new TimeoutException("the reply was lost");
            return rows;
        }
    }

    [Fact]
    public void Concurrent_claims_from_many_connections_hand_out_each_trial_once()
    {
        string dir = TestPaths.NewTempDirectory();
        var storage = OpenStorage(dir);
        storage.EnsureSchema();
        storage.CreateOrJoin("claims", new SearchOptions { Method = "random", Trials = 40 });
        var claimed = new System.Collections.Concurrent.ConcurrentBag<int>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, w =>
        {
            while (storage.Claim("claims", $"w{w}", TimeSpan.FromMinutes(1), out _) is { } c)
            {
                claimed.Add(c.Number);
                Assert.True(storage.Complete(c.Id, $"w{w}", new Trial(c.Number, 0.1, 1e-6, 0.5, 0.5)));
            }
        });
        Assert.Equal(Enumerable.Range(0, 40), claimed.Order());
    }

    [Fact]
    public void A_trial_whose_training_fails_is_queued_again_up_to_the_attempt_limit()
    {
        var storage = OpenStorage(TestPaths.NewTempDirectory());
        storage.EnsureSchema();
        storage.CreateOrJoin("fails", new SearchOptions { Method = "grid", Trials = 1 });
        for (int attempt = 1; attempt <= StudyStorage.MaxAttempts; attempt++)
        {
            var c = storage.Claim("fails", "w", TimeSpan.FromMinutes(1), out _)!;
            Assert.Equal(attempt, c.Attempt);
            storage.Fail(c.Id, "w", "boom");
        }
        Assert.Null(storage.Claim("fails", "w", TimeSpan.FromMinutes(1), out bool finished));
        Assert.True(finished);
        Assert.All(storage.Trials("fails"), t => Assert.Equal(TrialState.Failed, t.State));
    }

    [Fact]
    public void An_output_or_storage_folder_that_is_a_file_is_one_error_before_any_training()
    {
        string dir = TestPaths.NewTempDirectory(), file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "not a folder");
        // In process: refused before the search, whose trials it would otherwise have thrown away at the end.
        var (code, output, err) = CliTests.Run(["tune", .. Options("random", 2, 1), "--data", TestPaths.Mnist, "--out", file]);
        Assert.Equal(1, code);
        Assert.Contains("a-file: cannot write", err);
        Assert.DoesNotContain("#1:", output);
        Assert.DoesNotContain("   at ", err);
        // A worker of a study, and its report.
        (code, output, err) = CliTests.Run(["tune", "--study", "s", "--storage", Storage(dir), .. Options("random", 2, 1), "--data", TestPaths.Mnist, "--out", file]);
        Assert.Equal(1, code);
        Assert.Contains("a-file: cannot write", err);
        Assert.DoesNotContain("claimed trial", output);
        (code, _, err) = CliTests.Run("tune", "--study", "s", "--storage", Storage(dir), "--report", "--out", file);
        Assert.Equal(1, code);
        Assert.Contains("a-file: cannot write", err);
        // A SQLite file under it.
        (code, _, err) = CliTests.Run("tune", "--study", "s", "--storage", "sqlite:" + Path.Combine(file, "s.db"), "--report");
        Assert.Equal(1, code);
        Assert.Contains("a-file", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void A_report_on_a_database_without_studies_says_so_and_writes_nothing()
    {
        // An empty file is an empty SQLite database: the report used to create the tables in it.
        string dir = TestPaths.NewTempDirectory(), db = Path.Combine(dir, "empty.db");
        File.WriteAllBytes(db, []);
        var (code, _, err) = CliTests.Run("tune", "--study", "s", "--storage", "sqlite:" + db, "--report", "--out", Path.Combine(dir, "report"));
        Assert.Equal(2, code);
        Assert.Equal($"zerodl: there is no study 's' at sqlite:{db}", err.Trim());
        Assert.Empty(File.ReadAllBytes(db));
        Assert.Equal([db], Directory.GetFiles(dir));
    }

    /// <summary>
    /// A study of two complete trials that a real worker wrote to DIR/store/studies.db, in WAL mode; its -wal and -shm
    /// files went with its last connection, so the database file is all the folder holds.
    /// </summary>
    private static (string Dir, string Study, string Store, string Db) StudyOfTwoTrials(string name)
    {
        string dir = TestPaths.NewTempDirectory(), study = name + "-" + Guid.NewGuid().ToString("N")[..8];
        string store = Path.Combine(dir, "store"), db = Path.Combine(store, "studies.db");
        Directory.CreateDirectory(store);
        var (code, output) = Finish(StartWorker(study, "sqlite:" + db, Options("random", 2, 1), dir));
        Assert.True(code == 0, output);
        Assert.Equal(["studies.db"], Directory.GetFiles(store).Select(Path.GetFileName));
        return (dir, study, store, db);
    }

    [Fact]
    public void A_report_in_a_folder_that_can_be_written_leaves_no_wal_or_shm_file_behind()
    {
        // Read-only SQLite cannot remove the -wal and -shm files it creates: they stayed, and later made a reader who
        // cannot write the folder need a -shm file it cannot create.
        var (dir, study, store, db) = StudyOfTwoTrials("clean");
        var (rc, stdout, err) = CliTests.Run("tune", "--study", study, "--storage", "sqlite:" + db, "--report", "--out", Path.Combine(dir, "report"));
        Assert.True(rc == 0, stdout + err);
        Assert.Contains("Trials: 0 waiting, 0 running, 2 complete, 0 failed", stdout);
        Assert.Equal(["studies.db"], Directory.GetFiles(store).Select(Path.GetFileName));
    }

    [ReadOnlyMountFact]
    public void A_report_reads_a_study_on_a_read_only_file_system()
    {
        // There SQLite cannot create the -shm file and says CANTOPEN, not READONLY: the immutable read must follow.
        var (dir, study, store, _) = StudyOfTwoTrials("rofs");
        string mounted = Path.Combine(dir, "mounted");
        Directory.CreateDirectory(mounted);
        string dll = Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll");
        var (code, output) = ReadOnlyMountFactAttribute.Run(store, mounted, "dotnet", dll, "tune", "--study", study, "--storage", "sqlite:" + Path.Combine(mounted, "studies.db"), "--report", "--out", Path.Combine(dir, "report"));
        Assert.True(code == 0, output);
        Assert.Contains("Trials: 0 waiting, 0 running, 2 complete, 0 failed", output);
        Assert.Equal(["studies.db"], Directory.GetFiles(store).Select(Path.GetFileName));
    }

    [Fact]
    public void A_report_asked_to_stop_writes_nothing_and_exits_interrupted()
    {
        string dir = TestPaths.NewTempDirectory(), output = Path.Combine(dir, "report");
        var storage = OpenStorage(dir);
        storage.EnsureSchema();
        storage.CreateOrJoin("s", new SearchOptions { Method = "grid", Trials = 1 });
        var c = storage.Claim("s", "w", TimeSpan.FromMinutes(1), out _)!;
        Assert.True(storage.Complete(c.Id, "w", new Trial(c.Number, 0.1, 1e-6, 0.5, 0.5)));
        Directory.CreateDirectory(output);
        // A signal (the token cancelled) before the report: not answered with success, nothing written.
        Assert.Equal(Cli.Cli.Interrupted, TuneCommand.Report(storage, "s", Storage(dir), output, new CancellationToken(canceled: true)));
        Assert.Empty(Directory.GetFiles(output));
        Assert.Equal(Cli.Cli.Success, TuneCommand.Report(storage, "s", Storage(dir), output, CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(output, "trials.csv")));
    }

    [Fact]
    public void A_report_on_a_folder_asks_for_a_database()
    {
        string dir = TestPaths.NewTempDirectory();
        var (code, _, err) = CliTests.Run("tune", "--study", "s", "--storage", "sqlite:" + dir, "--report", "--out", Path.Combine(dir, "report"));
        Assert.Equal(1, code);
        Assert.Equal($"zerodl: {dir}: is a folder; name a study database", err.Trim());
    }

    [Fact]
    public void The_file_uri_of_a_study_names_that_file_whatever_its_folder_is_called()
    {
        // SQLite decodes %XX in a file: URI, so '%41' in a folder name must reach it as %2541, not as 'A'.
        string dir = TestPaths.NewTempDirectory();
        string Make(string folder, int value)
        {
            string db = Path.Combine(dir, folder, "studies.db");
            Directory.CreateDirectory(Path.GetDirectoryName(db)!);
            using var c = new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = db, Pooling = false }.ToString());
            c.Open();
            using var command = c.CreateCommand();
            command.CommandText = $"CREATE TABLE t (v INTEGER); INSERT INTO t VALUES ({value})";
            command.ExecuteNonQuery();
            return db;
        }
        Make("aAb", 1);
        foreach (var (folder, value) in new[] { ("a%41b", 2), ("a b#?&=%2F;é", 3) })
        {
            string uri = StudyConnections.FileUri(Make(folder, value));
            Assert.Matches("^file:[A-Za-z0-9._~/%-]+$", uri);
            using var c = new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = uri + "?immutable=1", Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            c.Open();
            using var command = c.CreateCommand();
            command.CommandText = "SELECT v FROM t";
            Assert.Equal((long)value, command.ExecuteScalar());
        }
    }

    [UnwritableFolderFact]
    public void A_report_reads_a_study_whose_database_and_folder_cannot_be_written()
    {
        // A study copied from another machine, or kept in a folder the reader may not write: a real worker wrote it
        // (in WAL mode, whose -wal and -shm files went with its last connection), then file and folder are made read-only.
        var (dir, study, store, db) = StudyOfTwoTrials("readonly");
        byte[] written = File.ReadAllBytes(db);
        // The report's own folder, and the home of the user it runs as, can be written by anyone.
        string home = Path.Combine(dir, "home");
        Directory.CreateDirectory(home);
        const UnixFileMode readOnlyFile = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        const UnixFileMode readOnlyFolder = readOnlyFile | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(home, readOnlyFolder | UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        File.SetUnixFileMode(db, readOnlyFile);
        File.SetUnixFileMode(store, readOnlyFolder);
        try
        {
            var (code, output) = RunUnprivileged(home, "tune", "--study", study, "--storage", "sqlite:" + db, "--report", "--out", Path.Combine(home, "report"));
            Assert.True(code == 0, output);
            Assert.Contains("Trials: 0 waiting, 0 running, 2 complete, 0 failed", output);
            Assert.Equal(3, File.ReadAllLines(Path.Combine(home, "report", "trials.csv")).Length);
            Assert.Equal(["studies.db"], Directory.GetFiles(store).Select(Path.GetFileName));
            Assert.Equal(written, File.ReadAllBytes(db));

            // What cannot be read is one line, exit 1: no database there (none is created), or a file that is not one.
            (code, output) = RunUnprivileged(home, "tune", "--study", study, "--storage", "sqlite:" + Path.Combine(store, "none.db"), "--report", "--out", Path.Combine(home, "report"));
            Assert.Equal(1, code);
            Assert.Equal($"zerodl: {Path.Combine(store, "none.db")}: no such file; --report reads an existing study", output.Trim());
            File.WriteAllText(Path.Combine(home, "notes.db"), "not a database");
            (code, output) = RunUnprivileged(home, "tune", "--study", study, "--storage", "sqlite:" + Path.Combine(home, "notes.db"), "--report", "--out", Path.Combine(home, "report"));
            Assert.Equal(1, code);
            Assert.Single(output.Trim().Split('\n'));
            Assert.StartsWith($"zerodl: sqlite:{Path.Combine(home, "notes.db")}: ", output);
            // A study that is not in it is a usage error, as with a database that can be written.
            (code, output) = RunUnprivileged(home, "tune", "--study", "no-such-study", "--storage", "sqlite:" + db, "--report", "--out", Path.Combine(home, "report"));
            Assert.Equal(2, code);
            Assert.Equal($"zerodl: there is no study 'no-such-study' at sqlite:{db}", output.Trim());

            // A -wal file (trials not yet in the database file) cannot be read without a -shm file: said, not skipped.
            File.SetUnixFileMode(store, readOnlyFolder | UnixFileMode.UserWrite);
            File.WriteAllBytes(db + "-wal", []);
            File.SetUnixFileMode(store, readOnlyFolder);
            (code, output) = RunUnprivileged(home, "tune", "--study", study, "--storage", "sqlite:" + db, "--report", "--out", Path.Combine(home, "report"));
            Assert.Equal(1, code);
            Assert.Equal($"zerodl: {db}: its -wal file holds trials that can only be read with a -shm file, which cannot be created in {store}: copy the study with its -wal and -shm files to a folder you can write", output.Trim());
            Assert.Equal(["studies.db", "studies.db-wal"], Directory.GetFiles(store).Select(Path.GetFileName).Order());
        }
        finally
        {
            File.SetUnixFileMode(store, readOnlyFolder | UnixFileMode.UserWrite);
        }
    }

    [Theory]
    [InlineData("postgresql://ann:s%40cret@db.example:6543/studies?Timeout=30", "Host=db.example;Port=6543;Username=ann;Password=s@cret;Database=studies;Timeout=30")]
    [InlineData("postgres://bob@localhost/tune", "Host=localhost;Username=bob;Database=tune")]
    public void Postgresql_urls_become_npgsql_connection_strings(string url, string expected) =>
        Assert.Equal(new Npgsql.NpgsqlConnectionStringBuilder(expected).ToString(), StudyConnections.PostgreSqlConnectionString(url));

    [Theory]
    [InlineData("mysql://x@y/z")]
    [InlineData("sqlite:")]
    [InlineData("postgresql://h/db?NoSuchSetting=1")]
    public void Other_storage_urls_are_refused_as_usage_errors(string url) =>
        Assert.Throws<UsageException>(() => StudyConnections.Open(url));
}

public sealed class PostgresStudyTests : StudyTestsBase, IClassFixture<PostgresCluster>
{
    private readonly PostgresCluster _cluster;

    public PostgresStudyTests(PostgresCluster cluster)
    {
        // Installed (else [PostgresFact] skipped these) but not starting is a failure, not a skip.
        Assert.True(cluster.Unavailable is null, cluster.Unavailable);
        _cluster = cluster;
    }

    [PostgresFact] public void Three_workers_share_a_grid_study_each_trial_once_and_reproduce_the_in_process_search() => GridStudySharedByThreeWorkers();
    [PostgresFact] public void A_killed_workers_trial_is_marked_failed_and_run_again_by_another() => KilledWorkersTrialRunAgain();
    [PostgresFact] public void Two_bayes_workers_propose_distinct_points_from_all_finished_trials() => BayesWorkersProposeDistinctPoints();
    [PostgresFact] public void A_worker_with_other_options_is_refused_by_name() => WorkerWithOtherOptionsRefused();
    [PostgresFact] public void Storing_a_result_again_finds_it_stored() => StoringAResultAgainIsStoredNotLost();
    [PostgresFact] public void Interruptions_do_not_use_up_a_trials_attempts() => InterruptionsDoNotUseUpTheAttempts();
    [PostgresFact] public void A_released_trial_is_queued_again_past_the_attempt_limit() => ReleaseRequeuesPastTheAttemptLimit();
    [PostgresFact] public void Releasing_a_trial_another_worker_reclaimed_changes_nothing() => ReleasingAReclaimedTrialChangesNothing();

    [PostgresFact]
    public void A_database_restarted_during_a_trial_keeps_the_trial_its_worker_trained()
    {
        string dir = TestPaths.NewTempDirectory(), study = "restart-" + Guid.NewGuid().ToString("N")[..8];
        var worker = StartWorker(study, Storage(dir), Options("random", 2, 1000), dir, heartbeat: "30");
        var storage = OpenStorage(dir);
        var clock = Stopwatch.StartNew();
        while (!Running())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2) && !worker.HasExited, "the worker never claimed a trial");
            Thread.Sleep(50);
        }
        _cluster.StopImmediately();
        // Down past the end of the trial (seconds long), back well within the heartbeat timeout.
        Thread.Sleep(8000);
        _cluster.Start();
        Npgsql.NpgsqlConnection.ClearAllPools(); // this process's pooled connections died with the server
        var (code, output) = Finish(worker);
        Assert.True(code == 0, output);
        var attempts = storage.Trials(study);
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, t => Assert.Equal((TrialState.Complete, 1), (t.State, t.Attempt)));

        bool Running()
        {
            try { return storage.Options(study) is not null && storage.Trials(study).Any(t => t.State == TrialState.Running); }
            catch (Exception e) when (e is System.Data.Common.DbException or ArgumentException) { return false; } // the worker is still creating it
        }
    }

    [PostgresFact]
    public void A_report_on_a_database_without_studies_says_so_and_creates_nothing()
    {
        string name = "empty_" + Guid.NewGuid().ToString("N")[..8];
        string url = _cluster.Url[..(_cluster.Url.LastIndexOf('/') + 1)] + name;
        using (var admin = new Npgsql.NpgsqlConnection(StudyConnections.PostgreSqlConnectionString(_cluster.Url)))
        {
            admin.Open();
            using var create = admin.CreateCommand();
            create.CommandText = $"CREATE DATABASE {name}";
            create.ExecuteNonQuery();
        }
        try
        {
            var (code, _, err) = CliTests.Run("tune", "--study", "s", "--storage", url, "--report", "--out", TestPaths.NewTempDirectory());
            Assert.Equal(2, code);
            Assert.Contains("there is no study 's'", err);
            using var connection = new Npgsql.NpgsqlConnection(StudyConnections.PostgreSqlConnectionString(url));
            connection.Open();
            using var count = connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'zerodl%'";
            Assert.Equal(0L, count.ExecuteScalar());
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            using var admin = new Npgsql.NpgsqlConnection(StudyConnections.PostgreSqlConnectionString(_cluster.Url));
            admin.Open();
            using var drop = admin.CreateCommand();
            drop.CommandText = $"DROP DATABASE IF EXISTS {name}";
            drop.ExecuteNonQuery();
        }
    }

    protected override string Storage(string dir) => _cluster.Url;
    protected override StudyStorage OpenStorage(string dir) => StudyConnections.Open(_cluster.Url);
}
