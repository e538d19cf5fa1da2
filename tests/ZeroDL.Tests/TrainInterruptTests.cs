using System.Diagnostics;

namespace ZeroDL.Tests;

/// <summary>What `zerodl train` says and leaves when Ctrl+C comes before the first epoch has ended.</summary>
public class TrainInterruptTests
{
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [SigintFact]
    public void Ctrl_c_before_the_first_epoch_says_nothing_was_saved_and_writes_nothing()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "early.safetensors");
        string history = Path.Combine(dir, "early.history.csv");
        const string earlierHistory = "epoch,iteration,loss,train_accuracy,test_accuracy,seconds\n1,600,0.3,0.9,0.9,1.000\n";
        File.WriteAllText(history, earlierHistory); // an earlier run's: an interrupted run with no epoch must not replace it
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        // DeepConvNet's first epoch over 60,000 images takes minutes here: the signal comes long before it ends.
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll"), "train", "--model", "deepconv", "--epochs", "1",
                     "--eval-samples", "100", "--out", model })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var lines = new List<string>();
        string? line;
        // The line after "Training …" states the run's settings; it is printed just before the first mini-batch.
        while ((line = p.StandardOutput.ReadLine()) is not null)
        {
            lines.Add(line);
            if (line.Contains("iterations (", StringComparison.Ordinal)) break;
        }
        if (line is null) Assert.Fail("training did not start: " + string.Join("\n", lines) + p.StandardError.ReadToEnd());
        Assert.Equal(0, SendSignal(p.Id, 2)); // SIGINT, as Ctrl+C sends
        var stderr = p.StandardError.ReadToEndAsync();
        var rest = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("zerodl did not stop within 60 s of SIGINT");
        }
        string output = rest.Result;
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}: {output}{stderr.Result}");
        Assert.DoesNotContain("epoch   1", output);
        Assert.Contains("before the first epoch ended: nothing was saved", output);
        Assert.DoesNotContain("last finished epoch", output);
        Assert.False(File.Exists(model), "a model file was written although no epoch finished");
        Assert.Equal(earlierHistory, File.ReadAllText(history));
        Assert.Empty(Directory.GetFiles(dir, "*" + Serialization.AtomicFile.TemporarySuffix));
    }
}
