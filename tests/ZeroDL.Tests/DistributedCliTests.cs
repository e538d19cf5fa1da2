using System.Diagnostics;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary>A test that runs Open MPI's mpirun: skipped, with the reason, where it is not installed.</summary>
public sealed class MpirunFactAttribute : FactAttribute
{
    public MpirunFactAttribute()
    {
        if (DistributedCliTests.Mpirun is null) Skip = "Open MPI's mpirun is not installed (apt-get install openmpi-bin; .ci/run installs it)";
    }
}

/// <summary>
/// zerodl train --distributed as users run it: two ranks under <c>mpirun --oversubscribe --allow-run-as-root -np 2</c>
/// on this machine, one thread each.
/// </summary>
public class DistributedCliTests(Xunit.Abstractions.ITestOutputHelper output)
{
    public static string? Mpirun { get; } = new[] { "/usr/bin/mpirun", "/usr/local/bin/mpirun" }.FirstOrDefault(File.Exists);

    /// <summary>The largest weight difference allowed: the same sums in another order, over 60 Adam or SGD steps.</summary>
    private const float Tolerance = 1e-4f;

    /// <summary>mpirun started with <paramref name="args"/>, its output redirected.</summary>
    private static Process StartMpi(params string[] args)
    {
        var psi = new ProcessStartInfo(Mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        foreach (var a in (string[])["--oversubscribe", "--allow-run-as-root", .. args]) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static (int Code, string Output) RunMpi(params string[] args)
    {
        using var p = StartMpi(args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000)) { p.Kill(entireProcessTree: true); Assert.Fail("mpirun did not finish in 5 minutes"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string[] Rank(params string[] args) => ["dotnet", Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll"), "train", "--distributed", .. args];

    [MpirunFact]
    public void Two_ranks_of_batch_50_give_one_process_of_batch_100s_weights_for_a_dense_and_a_conv_net()
    {
        string dir = TestPaths.NewTempDirectory();
        foreach (var model in new[] { "mlp", "simpleconv" })
        {
            string[] common = ["--model", model, "--iterations", "60", "--train-samples", "3000", "--eval-samples", "200", "--seed", "3"];
            string alone = Path.Combine(dir, model + "-alone.safetensors"), ranks = Path.Combine(dir, model + "-ranks.safetensors");
            var (code, text, err) = CliTests.Run(["train", .. common, "--batch-size", "100", "--threads", "1", "--out", alone]);
            Assert.True(code == 0, err);
            (code, text) = RunMpi(["-np", "2", .. Rank([.. common, "--batch-size", "50", "--out", ranks])]);
            Assert.True(code == 0, text);
            Assert.Contains("2 ranks × batch 50 = global batch 100", text);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "Test accuracy")); // rank 0 alone prints

            var a = ModelFile.Load(alone).Network.NamedTensors().ToList();
            var b = ModelFile.Load(ranks).Network.NamedTensors().ToList();
            Assert.Equal(a.Select(t => t.Name), b.Select(t => t.Name));
            float largest = 0;
            for (int t = 0; t < a.Count; t++)
            {
                var x = a[t].Value.ReadOnlySpan;
                var y = b[t].Value.ReadOnlySpan;
                for (int i = 0; i < x.Length; i++) largest = Math.Max(largest, Math.Abs(x[i] - y[i]));
            }
            output.WriteLine($"{model}: largest weight difference, 2 ranks × 50 against 1 × 100 after 60 steps: {largest:E2}");
            Assert.True(largest <= Tolerance, $"{model}: largest weight difference {largest}");
        }
    }

    [MpirunFact]
    public void A_rank_that_stops_answering_has_the_job_aborted_after_the_collective_timeout()
    {
        // A rank frozen (SIGSTOP) is alive to MPI, so only the watchdog ends the other rank's wait in its allreduce.
        string dir = TestPaths.NewTempDirectory();
        using var mpirun = StartMpi(["-np", "2", .. Rank("--model", "mlp", "--iterations", "1000000", "--eval-samples", "100",
            "--collective-timeout", "3", "--out", Path.Combine(dir, "m.safetensors"))]);
        var stderr = mpirun.StandardError.ReadToEndAsync();
        var stdout = new System.Text.StringBuilder();
        int? frozen = null;
        try
        {
            // Training has begun once rank 0 prints its first epoch; then one rank (a child of mpirun) is frozen.
            for (string? line; (line = mpirun.StandardOutput.ReadLine()) is not null && !line.StartsWith("epoch");) stdout.AppendLine(line);
            var ranks = Process.Start(new ProcessStartInfo("pgrep", ["-P", mpirun.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true })!;
            frozen = int.Parse(ranks.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1], System.Globalization.CultureInfo.InvariantCulture);
            Process.Start("kill", ["-STOP", frozen.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            var clock = Stopwatch.StartNew();
            stdout.Append(mpirun.StandardOutput.ReadToEnd());
            Assert.True(mpirun.WaitForExit(120_000), "the job still runs two minutes after a rank froze");
            string text = stdout + stderr.Result;
            output.WriteLine($"ended {clock.Elapsed.TotalSeconds:0.0} s after the freeze, exit {mpirun.ExitCode}");
            Assert.NotEqual(0, mpirun.ExitCode);
            Assert.Contains("MPI_Allreduce did not complete in 3 s (a rank died or the ranks disagree); aborting the job", text);
        }
        finally
        {
            if (!mpirun.HasExited) mpirun.Kill(entireProcessTree: true);
            if (frozen is int pid) try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
    }

    [MpirunFact]
    public void Ranks_given_different_options_stop_together_with_one_message()
    {
        string dir = TestPaths.NewTempDirectory();
        string[] common = ["--model", "twolayer", "--iterations", "5", "--out", Path.Combine(dir, "m.safetensors")];
        var clock = Stopwatch.StartNew();
        var (code, text) = RunMpi(["-np", "1", .. Rank([.. common, "--seed", "1"]), ":", "-np", "1", .. Rank([.. common, "--seed", "2"])]);
        Assert.NotEqual(0, code);
        Assert.Contains("ranks were given other options than rank 0", text);
        Assert.False(File.Exists(Path.Combine(dir, "m.safetensors")));
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"took {clock.Elapsed}");
    }

    [MpirunFact]
    public void A_rank_that_fails_stops_the_job_instead_of_leaving_the_others_waiting()
    {
        string dir = TestPaths.NewTempDirectory();
        string[] common = ["--model", "twolayer", "--iterations", "5", "--out", Path.Combine(dir, "m.safetensors")];
        var clock = Stopwatch.StartNew();
        var (code, text) = RunMpi(["-np", "1", .. Rank(common), ":", "-np", "1", .. Rank([.. common, "--data", Path.Combine(dir, "missing")])]);
        Assert.NotEqual(0, code);
        Assert.Contains("missing", text);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"the job took {clock.Elapsed}: the healthy rank waited for the failed one");
    }

    [MpirunFact]
    public void Ranks_whose_data_differ_under_the_same_options_stop_together_with_one_message()
    {
        // Each rank reads "--data d" in its own working directory (as on two machines): the same command line, but
        // one label differs. Unchecked, the ranks would train on mixed data; with another image count they would
        // take other numbers of steps and wait on each other's allreduce.
        string dir = TestPaths.NewTempDirectory();
        foreach (var (rank, label) in new[] { ("a", (byte)3), ("b", (byte)4) })
        {
            string d = Path.Combine(dir, rank, "d");
            Directory.CreateDirectory(d);
            var labels = Enumerable.Range(0, 200).Select(i => (byte)(i % 10)).ToArray();
            labels[17] = label;
            MnistTests.WriteIdxImages(Path.Combine(d, "train-images-idx3-ubyte.gz"), 200, 28, 28, gzip: true);
            MnistTests.WriteIdxLabels(Path.Combine(d, "train-labels-idx1-ubyte.gz"), labels, gzip: true);
            MnistTests.WriteIdxImages(Path.Combine(d, "t10k-images-idx3-ubyte.gz"), 20, 28, 28, gzip: true);
            MnistTests.WriteIdxLabels(Path.Combine(d, "t10k-labels-idx1-ubyte.gz"), [.. labels[..20]], gzip: true);
        }
        string[] common = ["--model", "twolayer", "--iterations", "5", "--data", "d", "--out", Path.Combine(dir, "m.safetensors")];
        var clock = Stopwatch.StartNew();
        var (code, text) = RunMpi(["-np", "1", "-wdir", Path.Combine(dir, "a"), .. Rank(common), ":", "-np", "1", "-wdir", Path.Combine(dir, "b"), .. Rank(common)]);
        Assert.Equal(2, code);
        Assert.Contains("1 of 2 ranks loaded other data than rank 0", text);
        Assert.False(File.Exists(Path.Combine(dir, "m.safetensors")));
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"took {clock.Elapsed}");
    }

    [MpirunFact]
    public void Ranks_resuming_different_checkpoints_stop_together_with_one_message()
    {
        // "--resume ck.ckpt" in each rank's own working directory (as on two machines), one after epoch 1, one after
        // epoch 2: the same command line, but unchecked the ranks would take other numbers of steps and wait on each other.
        string dir = TestPaths.NewTempDirectory();
        string[] common = ["--model", "mlp", "--train-samples", "600", "--eval-samples", "100", "--seed", "3", "--out", "m.safetensors", "--checkpoint", "ck.ckpt"];
        foreach (var (rank, epochs) in new[] { ("a", "1"), ("b", "2") })
        {
            Directory.CreateDirectory(Path.Combine(dir, rank));
            var (made, log) = RunMpi(["-np", "2", "-wdir", Path.Combine(dir, rank), .. Rank([.. common, "--epochs", epochs])]);
            Assert.True(made == 0, log);
        }
        string[] resume = ["--resume", "ck.ckpt", "--epochs", "4", "--out", "resumed.safetensors"];
        var clock = Stopwatch.StartNew();
        var (code, text) = RunMpi(["-np", "1", "-wdir", Path.Combine(dir, "a"), .. Rank(resume), ":", "-np", "1", "-wdir", Path.Combine(dir, "b"), .. Rank(resume)]);
        Assert.Equal(2, code);
        Assert.Contains("1 of 2 ranks resumed another checkpoint than rank 0", text);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"took {clock.Elapsed}");
    }

    [MpirunFact]
    public void Ranks_of_mpirun_without_distributed_are_a_usage_error_rather_than_copies_writing_one_file()
    {
        string dir = TestPaths.NewTempDirectory();
        var (code, text) = RunMpi(["-np", "2", "dotnet", Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll"), "train", "--model", "twolayer", "--iterations", "5", "--out", Path.Combine(dir, "m.safetensors")]);
        Assert.Equal(2, code);
        Assert.Contains("one of 2 ranks started by mpirun: give --distributed", text);
        Assert.False(File.Exists(Path.Combine(dir, "m.safetensors")));
    }

    [Fact]
    public void Distributed_outside_mpirun_is_a_usage_error()
    {
        var (code, _, err) = CliTests.Run("train", "--distributed", "--model", "twolayer", "--iterations", "5");
        Assert.Equal(2, code);
        Assert.Contains("mpirun -np 2 zerodl train --distributed", err);
    }
}
