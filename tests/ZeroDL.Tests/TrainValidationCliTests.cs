using System.Globalization;
using System.Text.Json;
using ZeroDL.Data;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary>
/// <c>zerodl train</c>'s schedule, validation, early-stopping and keep options (issue 19 §2) as a user meets them:
/// bad values refused in one line with exit 2, and a run whose model file holds the best epoch's weights.
/// </summary>
public class TrainValidationCliTests
{
    private static readonly string[] Small = ["--model", "mlp", "--hidden", "16", "--train-samples", "300", "--eval-samples", "100", "--batch-size", "50"];

    [Theory]
    [InlineData("--schedule bogus", "--schedule: unknown schedule 'bogus'")]
    [InlineData("--schedule step:0:0.5", "--schedule: schedule 'step:0:0.5': a step schedule decays every 1 or more epochs")]
    [InlineData("--schedule cosine:2", "FLOOR must be in [0, 1)")]
    [InlineData("--schedule warmup:5+cosine --warmup 5", "give the warm-up once")]
    [InlineData("--warmup 0", "--warmup must be at least 1 iteration")]
    [InlineData("--warmup 36", "--warmup 36 iterations is not shorter than the run's 36")]
    [InlineData("--early-stop 3", "--early-stop needs --val-split")]
    [InlineData("--keep best", "--keep best needs --val-split")]
    [InlineData("--monitor val_accuracy", "--monitor watches the validation split")]
    [InlineData("--schedule plateau:0.5:2 --monitor val_loss", "--monitor watches the validation split")]
    [InlineData("--val-split 1.5", "--val-split 1.5 must be a fraction between 0 and 1")]
    [InlineData("--val-split 0.2 --early-stop 0", "--early-stop must be at least 1 epoch")]
    [InlineData("--val-split 0.001", "--val-split 0.001 holds out no sample")]
    [InlineData("--test-split 0.2", "--test-split apply to ImageFolder data, not to MNIST")]
    public void Bad_values_exit_2_with_one_line(string options, string expected)
    {
        var (code, _, err) = CliTests.Run(["train", .. Small, "--epochs", "6", "--out", Path.Combine(TestPaths.NewTempDirectory(), "m.safetensors"), .. options.Split(' ')]);
        Assert.True(code == 2, err);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'), l => !l.StartsWith("Run '"));
    }

    [Fact]
    public void A_run_with_a_validation_split_stops_early_and_its_model_file_holds_the_best_epoch()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string model = Path.Combine(dir, "m.safetensors");
            // A high rate on 300 images: the validation loss turns up within a few epochs.
            var (code, output, err) = CliTests.Run(["train", "--model", "mlp", "--hidden", "64", "--train-samples", "300", "--eval-samples", "100", "--optimizer", "sgd", "--lr", "0.5", "--epochs", "40", "--batch-size", "25",
                "--val-split", "0.3", "--early-stop", "3", "--keep", "best", "--warmup", "4", "--schedule", "plateau:0.5:2:0.1", "--seed", "2", "--out", model]);
            Assert.True(code == 0, err);
            Assert.Contains("validation: 90 images held out of 300 (0.3 of each class), early stop after 3 epochs without a better val_loss, keeping the best epoch by val_loss", output);
            Assert.Contains("(schedule warmup:4+plateau:0.5:2:0.1:val_loss)", output);
            Assert.Matches(@"Stopped early after epoch (\d+): val_loss has not improved for 3 epochs since epoch (\d+)", output);
            var stop = System.Text.RegularExpressions.Regex.Match(output, @"Stopped early after epoch (\d+): val_loss has not improved for 3 epochs since epoch (\d+)");
            int stopped = int.Parse(stop.Groups[1].Value, CultureInfo.InvariantCulture), best = int.Parse(stop.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.Equal(best + 3, stopped);
            Assert.Contains($"Kept the best epoch by val_loss: epoch {best}", output);

            // The history: a row per epoch with the validation columns; the best epoch has the least validation loss.
            var rows = File.ReadAllLines(Path.Combine(dir, "m.history.csv"));
            Assert.Equal("epoch,iteration,mean_loss,train_accuracy,test_accuracy,seconds,learning_rate,validation_loss,validation_accuracy", rows[0]);
            Assert.Equal(stopped + 1, rows.Length);
            var validationLoss = rows.Skip(1).Select(r => double.Parse(r.Split(',')[7], CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(best, validationLoss.IndexOf(validationLoss.Min()) + 1);
            double bestTest = double.Parse(rows[best].Split(',')[4], CultureInfo.InvariantCulture);

            // The model file: the best epoch's weights (its test accuracy on the 100 images scored each epoch), and the settings.
            var loaded = ModelFile.Load(model);
            var training = JsonDocument.Parse(loaded.Metadata["training"]).RootElement;
            Assert.Equal("warmup:4+plateau:0.5:2:0.1:val_loss", training.GetProperty("schedule").GetString());
            Assert.Equal("0.3", training.GetProperty("validation_split").GetString());
            Assert.Equal("best", training.GetProperty("keep").GetString());
            Assert.Equal("3", training.GetProperty("early_stop").GetString());
            Assert.Equal(best.ToString(CultureInfo.InvariantCulture), training.GetProperty("best_epoch").GetString());
            var test = Mnist.Load(directory: TestPaths.Mnist).Test;
            Assert.Equal(bestTest, Training.Evaluation.Accuracy(loaded.Network, test.Take(100)));
            // The final figure is the kept model's on the whole test set (--eval-samples scored the epochs on 100).
            double whole = Training.Evaluation.Accuracy(loaded.Network, test);
            Assert.Contains($"Test accuracy: {(whole * 100).ToString("F2", CultureInfo.InvariantCulture)} %", output);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_model_file_that_records_its_test_split_under_the_old_key_finds_the_same_split()
    {
        var settings = new Dictionary<string, string> { ["data"] = "/data/shapes", ["val_split"] = "0.25", ["split_seed"] = "7" };
        var (data, options) = ImageDatasets.FromRecord(settings)!.Value;
        Assert.Equal("/data/shapes", data);
        Assert.Equal(0.25, options.TestSplit);
        Assert.Equal(7, options.Seed);
        // Written today under test_split, read back the same.
        var written = new Dictionary<string, string>();
        ImageDatasets.Record("/data/shapes", new ImageFolderOptions { TestSplit = 0.25, Seed = 7 }, Mnist.Load(directory: TestPaths.Mnist).Test.Take(1), written);
        Assert.Equal("0.25", written["test_split"]);
        Assert.False(written.ContainsKey("val_split"));
        Assert.Equal(options, ImageDatasets.FromRecord(written)!.Value.Options);
    }
}
