using System.Text.RegularExpressions;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary><c>zerodl train</c>'s metrics log and progress lines, as a user meets them.</summary>
public class MetricsCliTests
{
    private static readonly string[] Small = ["--model", "mlp", "--hidden", "32", "--batch-size", "50", "--train-samples", "300", "--eval-samples", "100"];

    [Fact]
    public void Train_writes_its_metrics_log_beside_the_history_and_plain_lines_with_speed_and_ETA_when_redirected()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string model = Path.Combine(dir, "m.safetensors");
            var (code, output, err) = CliTests.Run(["train", .. Small, "--epochs", "2", "--out", model]);
            Assert.True(code == 0, err);
            var epochLines = output.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, epochLines.Count);
            Assert.All(epochLines, l => Assert.Matches(@"  [\d,]+ img/s  ETA \d+:\d\d$", l.TrimEnd('\r')));
            Assert.DoesNotContain("\u001b[", output); // no terminal control codes in redirected output
            var log = RunLog.Read(Path.Combine(dir, "m.metrics.jsonl"));
            Assert.Equal(("mlp", 300, 6, 12), (log.Run.Model, log.Run.TrainSamples, log.Run.IterationsPerEpoch, log.Run.TotalIterations));
            Assert.Contains("\"--hidden\",\"32\"", log.Run.Options["args"]);
            Assert.Equal([1, 2], log.Epochs.Select(e => e.Epoch));
            Assert.All(log.Epochs, e => Assert.Equal(0.001, e.LearningRate));
            // The same epochs as the CSV history.
            var csv = File.ReadAllLines(Path.Combine(dir, "m.history.csv")).Skip(1).Select(l => l.Split(',')).ToList();
            Assert.Equal(csv.Select(c => double.Parse(c[4], System.Globalization.CultureInfo.InvariantCulture)), log.Epochs.Select(e => e.TestAccuracy));
            Assert.Equal(MetricsRunStatus.Finished, log.End!.Status);
            var final = Regex.Match(output, @"Test accuracy: \d+\.\d\d % \((\d+) of 10000");
            Assert.Equal(int.Parse(final.Groups[1].Value) / 10000.0, log.End.TestAccuracy!.Value, 9);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_run_killed_mid_epoch_keeps_its_lines_and_its_resume_goes_on_in_the_same_log()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string model = Path.Combine(dir, "k.safetensors"), logPath = Path.Combine(dir, "k.metrics.jsonl");
            // 6 mini-batches an epoch, 3 epochs, a checkpoint every 4 and at each epoch's end (4, 6, 8, …): killed
            // (SIGKILL) once the third, iteration 8's, is written: after epoch 1's record, before epoch 2's.
            ResumeTests.KillAt("checkpoint-written:3", [.. Small, "--epochs", "3", "--checkpoint-every", "4", "--out", model]);
            var killed = RunLog.Read(logPath);
            Assert.Equal([1], killed.Epochs.Select(e => e.Epoch));
            Assert.Null(killed.End);
            var (code, _, err) = CliTests.Run(["train", "--resume", Path.Combine(dir, "k.ckpt")]);
            Assert.True(code == 0, err);
            var log = RunLog.Read(logPath);
            Assert.Equal([1, 2, 3], log.Epochs.Select(e => e.Epoch));
            Assert.Equal(8, Assert.Single(log.Resumes).Iteration);
            Assert.Equal(MetricsRunStatus.Finished, log.End!.Status);
            Assert.Equal(killed.Epochs[0], log.Epochs[0]); // the first process's record, kept as it was
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_diverged_run_ends_its_log_with_the_reason()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string model = Path.Combine(dir, "d.safetensors");
            var (code, _, err) = CliTests.Run(["train", .. Small, "--epochs", "1", "--optimizer", "sgd", "--lr", "1e30", "--out", model]);
            Assert.True(code == 3, err);
            var log = RunLog.Read(Path.Combine(dir, "d.metrics.jsonl"));
            Assert.Equal(MetricsRunStatus.Diverged, log.End!.Status);
            Assert.Contains("training diverged at iteration", log.End.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
