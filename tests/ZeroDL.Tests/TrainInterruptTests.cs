namespace ZeroDL.Tests;

/// <summary>What `zerodl train` says and leaves when Ctrl+C comes before the first epoch has ended.</summary>
public class TrainInterruptTests
{
    [SigintFact]
    public void Ctrl_c_before_the_first_epoch_says_nothing_was_saved_and_writes_nothing()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "early.safetensors");
        string history = Path.Combine(dir, "early.history.csv");
        const string earlierHistory = "epoch,iteration,loss,train_accuracy,test_accuracy,seconds\n1,600,0.3,0.9,0.9,1.000\n";
        File.WriteAllText(history, earlierHistory); // an earlier run's: an interrupted run with no epoch must not replace it
        // DeepConvNet's first epoch over 60,000 images takes minutes here: the signal comes long before it ends. The line
        // after "Training …" states the run's settings; it is printed just before the first mini-batch.
        var (exitCode, output, error) = Fixtures.InterruptedCli.Run(line => line.Contains("iterations (", StringComparison.Ordinal),
            "train", "--model", "deepconv", "--epochs", "1", "--eval-samples", "100", "--out", model);
        Assert.True(exitCode == 130, $"exit {exitCode}: {output}{error}");
        Assert.DoesNotContain("epoch   1", output);
        Assert.Contains("before the first epoch ended: nothing was saved", output);
        Assert.DoesNotContain("last finished epoch", output);
        Assert.False(File.Exists(model), "a model file was written although no epoch finished");
        Assert.Equal(earlierHistory, File.ReadAllText(history));
        Assert.Empty(Directory.GetFiles(dir, "*" + Serialization.AtomicFile.TemporarySuffix));
    }
}
