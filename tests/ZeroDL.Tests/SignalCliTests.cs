using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ZeroDL.Cli;
using ZeroDL.Serialization;
using ZeroDL.Training;
using ZeroDL.Tuning.Studies;
using static ZeroDL.Tests.Fixtures.InterruptedCli;

namespace ZeroDL.Tests;

/// <summary>
/// SIGTERM (kill, timeout, systemd, docker stop, a batch scheduler) and SIGHUP (the terminal closed) stop a command as
/// Ctrl+C does, and the exit code names the signal: 128 + its number. Each command runs as a child process and is
/// killed, failing the test, if it has not stopped 60 s after the signal.
/// </summary>
public class SignalCliTests
{
    private static readonly string[] Forever = ["--model", "twolayer", "--epochs", "1000000", "--train-samples", "2000", "--eval-samples", "500"];

    [SigintFact]
    public void Sigterm_stops_training_after_the_mini_batch_writes_its_checkpoint_and_exits_143()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "term.safetensors"), checkpoint = CheckpointFile.BesideModel(model);
        var (code, rest, error) = Run(SIGTERM, line => line.StartsWith("epoch   2 ", StringComparison.Ordinal), ["train", .. Forever, "--out", model]);
        Assert.True(code == 143, $"exit {code}: {rest}{error}");
        Assert.Contains("zerodl: SIGTERM: stopping cleanly", error);
        var stopped = Regex.Match(rest, @"Interrupted after (\d+) iterations; the model of epoch (\d+), the last finished, is in ");
        Assert.True(stopped.Success, rest);
        int iteration = int.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture), epochs = int.Parse(stopped.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.Contains($"The checkpoint {checkpoint} holds iteration {iteration}: zerodl train --resume {checkpoint} goes on from there", rest);
        Assert.Equal(iteration, CheckpointFile.Load(checkpoint).Checkpoint.Iteration);
        Assert.Equal(epochs, File.ReadAllLines(Path.ChangeExtension(model, null) + ".history.csv").Length - 1);
        AssertLogEndsInterrupted(model, iteration);

        // The checkpoint resumes where the signal stopped the run (and a second SIGTERM stops that one too).
        string? firstEpoch = null;
        var resumed = Run(SIGTERM, line => (firstEpoch = line.StartsWith("epoch", StringComparison.Ordinal) ? line : null) is not null, "train", "--resume", checkpoint);
        Assert.True(resumed.ExitCode == 143, resumed.OutputAfterSignal + resumed.Error);
        // twolayer on 2,000 images: 20 mini-batches per epoch.
        Assert.Matches($@"^epoch +{epochs + 1} +iter +{(epochs + 1) * 20} ", firstEpoch);
        Assert.Matches(@"Interrupted after \d+ iterations; the model of epoch \d+, the last finished", resumed.OutputAfterSignal);
    }

    [SigintFact]
    public void Sighup_stops_training_as_ctrl_c_does_and_exits_129()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "hup.safetensors");
        var (code, rest, error) = Run(SIGHUP, line => line.StartsWith("epoch   2 ", StringComparison.Ordinal), ["train", .. Forever, "--out", model]);
        Assert.True(code == 129, $"exit {code}: {rest}{error}");
        Assert.Contains("zerodl: SIGHUP: stopping cleanly", error); // stderr is a pipe here, not a closed terminal
        var stopped = Regex.Match(rest, @"Interrupted after (\d+) iterations");
        Assert.True(stopped.Success, rest);
        int iteration = int.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(iteration, CheckpointFile.Load(CheckpointFile.BesideModel(model)).Checkpoint.Iteration);
        AssertLogEndsInterrupted(model, iteration);
    }

    /// <summary>
    /// The terminal really closes: zerodl runs on the pseudo-terminal of util-linux's script, which is killed. The
    /// kernel sends SIGHUP and every later write to the terminal fails (EIO); the run still stops cleanly and leaves
    /// its checkpoint and an interrupted end in its log (its exit code is lost with its parent).
    /// </summary>
    [SigintFact]
    public void A_closed_terminal_stops_training_cleanly()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "tty.safetensors"), log = MetricsLog.BesideModel(model);
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/script") { RedirectStandardOutput = true, RedirectStandardInput = true, WorkingDirectory = TestPaths.RepoRoot };
        string command = string.Join(' ', ((string[])["dotnet", Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll"), "train", .. Forever, "--out", model]).Select(a => "'" + a + "'"));
        foreach (var a in new[] { "-q", "-e", "-c", command, "/dev/null" }) psi.ArgumentList.Add(a);
        using var script = System.Diagnostics.Process.Start(psi)!;
        try
        {
            var secondEpoch = Task.Run(() =>
            {
                string? line;
                while ((line = script.StandardOutput.ReadLine()) is not null && !line.Contains("epoch   2 ", StringComparison.Ordinal)) { }
                return line is not null;
            });
            Assert.True(secondEpoch.Wait(120_000) && secondEpoch.Result, "no second epoch within 2 minutes");
            var zerodl = ChildrenOf(script.Id);
            Assert.Single(zerodl);
            script.Kill(); // its end closes the terminal's master side
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Directory.Exists($"/proc/{zerodl[0]}") && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(100);
            if (Directory.Exists($"/proc/{zerodl[0]}")) { Signal(zerodl[0], 9); Assert.Fail("zerodl did not stop within 60 s of its terminal's closing"); }
            using var end = JsonDocument.Parse(File.ReadLines(log).Last());
            Assert.Equal("interrupted", end.RootElement.GetProperty("status").GetString());
            Assert.Equal(end.RootElement.GetProperty("iteration").GetInt32(), CheckpointFile.Load(CheckpointFile.BesideModel(model)).Checkpoint.Iteration);
        }
        finally
        {
            if (!script.HasExited) script.Kill(entireProcessTree: true);
        }
    }

    [SigintFact]
    public void Ctrl_c_still_exits_130_and_says_nothing_on_stderr()
    {
        string model = Path.Combine(TestPaths.NewTempDirectory(), "int.safetensors");
        var (code, rest, error) = Run(SIGINT, line => line.StartsWith("epoch   1 ", StringComparison.Ordinal), ["train", .. Forever, "--out", model]);
        Assert.True(code == 130, $"exit {code}: {rest}{error}");
        Assert.DoesNotContain("SIGINT", error);
        Assert.Contains("Interrupted after", rest);
    }

    [SigintFact]
    public void Sigterm_stops_lr_find_with_nothing_written_and_exits_143()
    {
        string csv = Path.Combine(TestPaths.NewTempDirectory(), "curve.csv");
        var (code, rest, error) = Run(SIGTERM, line => line.StartsWith("  mini-batch", StringComparison.Ordinal),
            "lr-find", "--model", "mlp", "--hidden", "32", "--train-samples", "2000", "--iterations", "1000000", "--start", "1e-7", "--end", "1e-6", "--out", csv);
        Assert.True(code == 143, $"exit {code}: {rest}{error}");
        Assert.Matches(@"Interrupted after \d+ mini-batches: nothing written", rest);
        Assert.False(File.Exists(csv));
    }

    [SigintFact]
    public void Sigterm_stops_the_server_gracefully_with_exit_0()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "sample.safetensors");
        var (imported, _, err) = CliTests.Run("import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--model", "sample", "--out", model);
        Assert.True(imported == 0, err);
        int port = 20000 + (Environment.ProcessId + 7) % 20000;
        var (code, rest, error) = Run(SIGTERM, line => line.Contains("stops the server", StringComparison.Ordinal),
            "serve", "--model", model, "--models", dir, "--runs", dir, "--port", port.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"exit {code}: {rest}{error}");
        Assert.Contains("Server stopped.", rest);
    }

    [SigintFact]
    public void Sigterm_stops_a_study_worker_and_hands_its_trial_back_at_once()
    {
        string dir = TestPaths.NewTempDirectory(), storage = "sqlite:" + Path.Combine(dir, "studies.db");
        // Trials of many epochs: the signal comes while the first one trains. The heartbeat timeout is an hour, so a
        // trial that is not running any more was handed back by the worker, not found stale.
        var (code, rest, error) = Run(SIGTERM, line => line.StartsWith("claimed trial 1", StringComparison.Ordinal),
            "tune", "--study", "s", "--storage", storage, "--heartbeat-timeout", "3600", "--data", TestPaths.Mnist,
            "--method", "grid", "--trials", "4", "--epochs", "1000", "--train-samples", "2000", "--out", dir);
        Assert.True(code == 143, $"exit {code}: {rest}{error}");
        Assert.Contains("trial 1 handed back unfinished", rest);
        Assert.Contains("Interrupted: this worker completed 0", rest);
        var trials = StudyConnections.Open(storage).Trials("s");
        Assert.DoesNotContain(trials, t => t.State == TrialState.Running);
        var first = trials.Where(t => t.Number == 0).ToList();
        Assert.Equal([TrialState.Failed, TrialState.Waiting], first.Select(t => t.State));
        Assert.Contains("interrupted", first[0].Error);
    }

    [SigintFact]
    public void Sigterm_stops_an_in_process_search_and_writes_the_trials_finished()
    {
        string dir = TestPaths.NewTempDirectory();
        var (code, rest, error) = Run(SIGTERM, line => line.StartsWith("#1:", StringComparison.Ordinal),
            "tune", "--data", TestPaths.Mnist, "--method", "grid", "--trials", "40", "--epochs", "2", "--train-samples", "1000", "--out", dir);
        Assert.True(code == 143, $"exit {code}: {rest}{error}");
        var interrupted = Regex.Match(rest, @"Interrupted after (\d+) of 40 trials");
        Assert.True(interrupted.Success, rest);
        int finished = int.Parse(interrupted.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(finished, 1, 39);
        Assert.Equal(finished, File.ReadAllLines(Path.Combine(dir, "trials.csv")).Length - 1);
    }

    /// <summary>
    /// SIGTERM to each rank, as a batch scheduler (Slurm's scancel) sends it: the ranks stop after the same
    /// mini-batch, rank 0 writes that point's checkpoint, the run log says interrupted, and mpirun exits 143.
    /// </summary>
    [MpirunFact]
    public void Sigterm_to_the_ranks_stops_a_distributed_run_with_its_checkpoint()
    {
        string model = Path.Combine(TestPaths.NewTempDirectory(), "ranks.safetensors");
        var (code, output) = InterruptMpirun(toRanks: true, model);
        Assert.True(code == 143, $"exit {code}: {output}");
        var stopped = Regex.Match(output, @"Interrupted after (\d+) iterations");
        Assert.True(stopped.Success, output);
        int iteration = int.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Single(Regex.Matches(output, "Interrupted after")); // rank 0 alone prints
        Assert.Equal(iteration, CheckpointFile.Load(CheckpointFile.BesideModel(model)).Checkpoint.Iteration);
        AssertLogEndsInterrupted(model, iteration);
    }

    /// <summary>
    /// SIGTERM to mpirun alone (docker stop, systemd): Open MPI sends the ranks SIGCONT, SIGTERM a second later and
    /// SIGKILL a second after that (odls_base_sigkill_timeout). Nothing hangs, and the checkpoint on disk is whole:
    /// this small run's of the point where it stopped, a larger one's at worst the last written before.
    /// </summary>
    [MpirunFact]
    public void Sigterm_to_mpirun_ends_the_job_without_a_hang_and_leaves_a_whole_checkpoint()
    {
        string model = Path.Combine(TestPaths.NewTempDirectory(), "mpirun.safetensors");
        var (code, output) = InterruptMpirun(toRanks: false, model);
        Assert.True(code != 0, output);
        Assert.True(CheckpointFile.Load(CheckpointFile.BesideModel(model)).Checkpoint.Iteration >= 40, output); // two epochs were done
    }

    /// <summary>
    /// Two ranks training twolayer without end under mpirun; after rank 0 has printed its second epoch, SIGTERM to
    /// the ranks or to mpirun. mpirun's exit code and all it printed; killed, failing the test, after 60 s.
    /// </summary>
    private static (int Code, string Output) InterruptMpirun(bool toRanks, string model)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(DistributedCliTests.Mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        foreach (var a in (string[])["--oversubscribe", "--allow-run-as-root", "-np", "2", "dotnet", Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll"),
                     "train", "--distributed", .. Forever, "--out", model])
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        try
        {
            var lines = new List<string>();
            var secondEpoch = Task.Run(() =>
            {
                string? line;
                while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith("epoch   2 ", StringComparison.Ordinal)) lock (lines) lines.Add(line);
                return line is not null;
            });
            Assert.True(secondEpoch.Wait(120_000) && secondEpoch.Result, "no second epoch within 2 minutes: " + string.Join("\n", lines));
            // The ranks are mpirun's children (each in a process group of its own, so a signal to mpirun's group misses them).
            var ranks = toRanks ? ChildrenOf(p.Id) : [p.Id];
            Assert.Equal(toRanks ? 2 : 1, ranks.Count);
            foreach (int pid in ranks) Assert.Equal(0, Signal(pid, SIGTERM));
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(60_000), "mpirun did not end within 60 s of SIGTERM");
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The processes whose parent is <paramref name="pid"/> (/proc/PID/stat's fourth field).</summary>
    private static List<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int child)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; } // ended meanwhile
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (comm) ": state, ppid, …
            if (int.Parse(fields[1], CultureInfo.InvariantCulture) == pid) children.Add(child);
        }
        return children;
    }

    /// <summary>The run's metrics log ends with an end record: interrupted, at <paramref name="iteration"/>.</summary>
    private static void AssertLogEndsInterrupted(string model, int iteration)
    {
        using var end = JsonDocument.Parse(File.ReadLines(MetricsLog.BesideModel(model)).Last());
        Assert.Equal("end", end.RootElement.GetProperty("type").GetString());
        Assert.Equal("interrupted", end.RootElement.GetProperty("status").GetString());
        Assert.Equal(iteration, end.RootElement.GetProperty("iteration").GetInt32());
    }
}
