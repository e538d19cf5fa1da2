using System.Text;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>The JSON Lines metrics log (docs/metrics-log.md): written from a trainer's events, read back, continued on resume.</summary>
public class MetricsLogTests
{
    /// <summary>Three Gaussian blobs in 8 dimensions: a problem a small net learns in a few epochs.</summary>
    internal static (Dataset Train, Dataset Test) Blobs(int trainCount = 240, int testCount = 60, int seed = 3)
    {
        var rng = new Rng(seed);
        var centres = new double[3, 8];
        for (int c = 0; c < 3; c++) for (int f = 0; f < 8; f++) centres[c, f] = 2 * rng.NextGaussian();
        Dataset Make(int n)
        {
            var x = new NDArray<float>(n, 8);
            var labels = new int[n];
            for (int i = 0; i < n; i++)
            {
                labels[i] = i % 3;
                for (int f = 0; f < 8; f++) x[i, f] = (float)(centres[labels[i], f] + rng.NextGaussian());
            }
            return new Dataset(x, labels, classes: 3);
        }
        return (Make(trainCount), Make(testCount));
    }

    private static MetricsRun RunOf(Trainer trainer, int trainCount, string model = "twolayer") => new()
    {
        Model = model, Architecture = "8-16-3", Data = "blobs", Seed = trainer.Options.Seed, BatchSize = trainer.Options.BatchSize,
        TrainSamples = trainCount, IterationsPerEpoch = trainer.IterationsPerEpoch, TotalIterations = trainer.TotalIterations,
        Started = DateTimeOffset.UtcNow, Options = new Dictionary<string, string> { ["optimizer"] = "sgd", ["learning_rate"] = "0.1" },
    };

    private static Trainer NewTrainer(Dataset train, Dataset test, int epochs = 3, int? checkpointEvery = null) =>
        new(Networks.TwoLayerNet<float>(8, 16, 3, seed: 5), new Sgd<float>(0.1), train, test,
            new TrainerOptions { Epochs = epochs, BatchSize = 20, Seed = 7, CheckpointEvery = checkpointEvery, BackgroundEvaluation = false });

    [Fact]
    public void A_run_writes_its_identity_one_record_per_epoch_progress_every_N_and_its_end()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var (train, test) = Blobs();
            var trainer = NewTrainer(train, test); // 12 mini-batches an epoch, 36 in all
            string path = Path.Combine(dir, "m" + MetricsLog.FileSuffix);
            TrainingHistory history;
            using (var log = MetricsLog.Start(path, RunOf(trainer, train.Count), i => 0.1 / i, progressEvery: 5))
            {
                log.Attach(trainer);
                history = trainer.Train();
                log.End(MetricsRunStatus.Finished, history.Loss.Count, history.Elapsed, history.FinalTestAccuracy);
            }
            var read = RunLog.Read(path);
            Assert.Equal("m", read.Name);
            Assert.Equal(("twolayer", "8-16-3", "blobs", 7, 20, 240, 12, 36), (read.Run.Model, read.Run.Architecture, read.Run.Data, read.Run.Seed, read.Run.BatchSize, read.Run.TrainSamples, read.Run.IterationsPerEpoch, read.Run.TotalIterations));
            Assert.Equal("sgd", read.Run.Options["optimizer"]);
            Assert.Equal(history.Epochs.Select(e => (e.Epoch, e.Iteration, e.MeanLoss, e.TrainAccuracy, e.TestAccuracy)),
                         read.Epochs.Select(e => (e.Epoch, e.Iteration, e.Loss, e.TrainAccuracy, e.TestAccuracy)));
            foreach (var e in read.Epochs)
            {
                Assert.Equal(0.1 / e.Iteration, e.LearningRate); // the rate of the epoch's last mini-batch
                Assert.True(e.ImagesPerSecond > 0, $"epoch {e.Epoch}: {e.ImagesPerSecond} images/s");
                Assert.NotNull(e.Time);
            }
            Assert.Equal([5, 10, 15, 20, 25, 30, 35], read.Progress.Select(p => p.Iteration));
            // A progress record's loss is the mean of the mini-batches since the one before.
            Assert.Equal(history.Loss.Skip(5).Take(5).Average(), read.Progress[1].Loss, 12);
            Assert.Equal([1, 1, 2, 2, 3, 3, 3], read.Progress.Select(p => p.Epoch));
            Assert.Equal(MetricsRunStatus.Finished, read.End!.Status);
            Assert.Equal(36, read.End.Iteration);
            Assert.Equal(history.FinalTestAccuracy, read.End.TestAccuracy);
            Assert.Equal(history.Epochs.Max(e => e.TestAccuracy), read.BestTestAccuracy);
            Assert.False(read.IncompleteLastLine);
            // Every line is a JSON object with a type, and the first is the run record.
            var lines = File.ReadAllLines(path);
            Assert.StartsWith("{\"type\":\"run\",\"format\":1,", lines[0]);
            Assert.Equal(1 + 3 + 7 + 1, lines.Length);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Each_line_reaches_the_file_when_it_is_written_not_when_the_log_is_closed()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var (train, test) = Blobs();
            var trainer = NewTrainer(train, test, epochs: 2);
            string path = Path.Combine(dir, "live" + MetricsLog.FileSuffix);
            using var log = MetricsLog.Start(path, RunOf(trainer, train.Count), progressEvery: 0);
            log.Attach(trainer);
            var seen = new List<int>();
            // Read by another handle while the run goes on, as a killed process's file would be found.
            trainer.EpochCompleted += e => seen.Add(RunLog.Read(path).Epochs.Count);
            trainer.Train();
            Assert.Equal([1, 2], seen);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_resumed_run_goes_on_in_the_same_log_without_an_epoch_twice()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var (train, test) = Blobs();
            string path = Path.Combine(dir, "r" + MetricsLog.FileSuffix);
            // The first run is "killed" after it logged past its checkpoint: it ran to the end, and the checkpoint
            // of iteration 16 (mid-epoch 2) is the last one that reached the disk.
            var first = NewTrainer(train, test, checkpointEvery: 8);
            TrainingCheckpoint? kept = null;
            first.CheckpointReady += c => { if (c.Iteration == 16) kept = c; };
            TrainingHistory uninterrupted;
            using (var log = MetricsLog.Start(path, RunOf(first, train.Count), progressEvery: 5))
            {
                log.Attach(first);
                uninterrupted = first.Train();
            }
            Assert.Equal(3, RunLog.Read(path).Epochs.Count);

            var second = NewTrainer(train, test, checkpointEvery: 8);
            second.Restore(kept!);
            var (resumed, note) = MetricsLog.Resume(path, RunOf(second, train.Count), kept!, progressEvery: 5);
            Assert.Null(note);
            using (resumed)
            {
                resumed.Attach(second);
                var history = second.Train();
                resumed.End(MetricsRunStatus.Finished, history.Loss.Count, history.Elapsed);
            }
            var read = RunLog.Read(path);
            Assert.Equal([1, 2, 3], read.Epochs.Select(e => e.Epoch));
            Assert.Equal(uninterrupted.Epochs.Select(e => (e.TrainAccuracy, e.TestAccuracy, e.MeanLoss)), read.Epochs.Select(e => (e.TrainAccuracy, e.TestAccuracy, e.Loss)));
            var resume = Assert.Single(read.Resumes);
            Assert.Equal((16, 1, 36), (resume.Iteration, resume.Epoch, resume.TotalIterations));
            Assert.Equal([5, 10, 15, 20, 25, 30, 35], read.Progress.Select(p => p.Iteration));
            var lines = File.ReadAllLines(path);
            Assert.Equal(1, lines.Count(l => l.Contains("\"type\":\"end\"")));
            Assert.Equal(1, lines.Count(l => l.Contains("\"iteration\":20,")));
            Assert.Equal(MetricsRunStatus.Finished, read.End!.Status);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_resume_over_another_runs_log_or_none_begins_a_new_one_with_the_checkpoints_epochs()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var (train, test) = Blobs();
            var trainer = NewTrainer(train, test, epochs: 2);
            TrainingCheckpoint? last = null;
            trainer.CheckpointReady += c => last = c;
            trainer.Train();
            string other = Path.Combine(dir, "other" + MetricsLog.FileSuffix), none = Path.Combine(dir, "none" + MetricsLog.FileSuffix);
            MetricsLog.Start(other, RunOf(trainer, train.Count, model: "deepconv")).Dispose();
            var (a, noteA) = MetricsLog.Resume(other, RunOf(trainer, train.Count), last!);
            a.Dispose();
            var (b, noteB) = MetricsLog.Resume(none, RunOf(trainer, train.Count), last!);
            b.Dispose();
            Assert.Contains("another run (deepconv", noteA);
            Assert.Null(noteB);
            foreach (var path in new[] { other, none })
            {
                var read = RunLog.Read(path);
                Assert.Equal("twolayer", read.Run.Model);
                Assert.Equal(last!.Epochs.Select(e => (e.Epoch, e.TestAccuracy)), read.Epochs.Select(e => (e.Epoch, e.TestAccuracy)));
                Assert.All(read.Epochs, e => Assert.Null(e.Time)); // taken from the checkpoint, not measured
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private const string Header = "{\"type\":\"run\",\"format\":1,\"time\":\"2026-12-06T05:00:00.000Z\",\"model\":\"dense\",\"architecture\":\"a\",\"data\":\"mnist\",\"seed\":1,\"batch_size\":100,\"train_samples\":60000,\"iterations_per_epoch\":600,\"total_iterations\":1200}";
    private const string Epoch1 = "{\"type\":\"epoch\",\"time\":\"2026-12-06T05:01:00.000Z\",\"epoch\":1,\"iteration\":600,\"loss\":0.5,\"train_accuracy\":0.9,\"test_accuracy\":null,\"seconds\":60}";

    [Fact]
    public void The_reader_takes_a_half_written_last_line_as_the_writers_and_ignores_it()
    {
        var log = RunLog.Parse(Header + "\n" + Epoch1 + "\n" + "{\"type\":\"epoch\",\"epo", "x.metrics.jsonl");
        Assert.True(log.IncompleteLastLine);
        var epoch = Assert.Single(log.Epochs);
        Assert.True(double.IsNaN(epoch.TestAccuracy)); // null is NaN
        Assert.Null(log.End);
        // A whole record without its line break is used.
        Assert.False(RunLog.Parse(Header + "\n" + Epoch1, "x").IncompleteLastLine);
        Assert.Single(RunLog.Parse(Header + "\n" + Epoch1, "x").Epochs);
        // Blank lines, unknown types and unknown fields are skipped.
        var later = RunLog.Parse(Header + "\n\n{\"type\":\"gpu\",\"watts\":3}\n" + Epoch1.Replace("\"seconds\"", "\"new_field\":[1],\"seconds\"") + "\n", "x");
        Assert.Single(later.Epochs);
    }

    [Fact]
    public void A_file_cut_inside_a_character_of_its_last_line_is_read_up_to_that_line()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "cut" + MetricsLog.FileSuffix);
            byte[] text = Encoding.UTF8.GetBytes(Header + "\n" + Epoch1 + "\n{\"type\":\"end\",\"message\":\"×");
            File.WriteAllBytes(path, text[..^1]); // the second byte of × is missing
            var log = RunLog.Read(path);
            Assert.True(log.IncompleteLastLine);
            Assert.Single(log.Epochs);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData(Epoch1, "line 1: the first record is \"epoch\", not the run record")]
    [InlineData(Header + "\nnot json\n", "line 2: not a JSON object")]
    [InlineData(Header + "\n[1,2]\n", "line 2: not a JSON object")]
    [InlineData(Header + "\n{\"epoch\":1}\n", "line 2: has no \"type\"")]
    [InlineData(Header + "\n{\"type\":\"epoch\",\"epoch\":1}\n", "line 2: has no \"iteration\"")]
    [InlineData(Header + "\n{\"type\":\"epoch\",\"epoch\":-1,\"iteration\":1,\"loss\":1,\"train_accuracy\":1,\"test_accuracy\":1,\"seconds\":1}\n", "line 2: \"epoch\" is not a non-negative whole number")]
    [InlineData(Header + "\n{\"type\":\"epoch\",\"epoch\":1,\"iteration\":1,\"loss\":\"x\",\"train_accuracy\":1,\"test_accuracy\":1,\"seconds\":1}\n", "line 2: \"loss\" is not a number")]
    [InlineData(Header + "\n{\"type\":\"end\",\"time\":\"yesterday\",\"status\":\"finished\",\"iteration\":1,\"seconds\":1}\n", "line 2: \"time\" is not an ISO 8601 time")]
    [InlineData(Header + "\n{\"type\":\"end\",\"time\":\"2026-12-06T05:00:00Z\",\"status\":\"exploded\",\"iteration\":1,\"seconds\":1}\n", "line 2: unknown status \"exploded\"")]
    [InlineData(Header + "\n" + Header + "\n", "line 2: a second run record")]
    public void The_reader_names_the_file_and_line_of_what_is_not_a_metrics_log(string text, string message)
    {
        var e = Assert.Throws<DataFormatException>(() => RunLog.Parse(text, "bad.metrics.jsonl"));
        Assert.StartsWith("bad.metrics.jsonl: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_reader_refuses_a_newer_format_invalid_UTF8_and_a_directory()
    {
        Assert.Contains("format 2 is newer", Assert.Throws<DataFormatException>(() => RunLog.Parse(Header.Replace("\"format\":1", "\"format\":2") + "\n", "x")).Message);
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "bin" + MetricsLog.FileSuffix);
            File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes(Header + "\n"), 0xFF, 0xFE, (byte)'\n', .. Encoding.UTF8.GetBytes(Epoch1 + "\n")]);
            Assert.Contains("is not UTF-8 text", Assert.Throws<DataFormatException>(() => RunLog.Read(path)).Message);
            Assert.Contains("is a directory", Assert.Throws<DataFormatException>(() => RunLog.Read(dir)).Message);
            Assert.Contains("file not found", Assert.Throws<DataFormatException>(() => RunLog.Read(Path.Combine(dir, "none.jsonl"))).Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_written_record_reads_back_with_every_field_and_NaN_as_null()
    {
        var epoch = new MetricsEpoch(2, 1200, 0.25, 0.5, double.NaN, 12.5)
        {
            Time = new DateTimeOffset(2026, 12, 6, 5, 1, 2, 345, TimeSpan.Zero), ValidationAccuracy = 0.75, ValidationLoss = 0.3, LearningRate = 1e-3, ImagesPerSecond = 1234.5,
        };
        string line = MetricsLog.EpochLine(epoch);
        Assert.Contains("\"test_accuracy\":null", line);
        Assert.Contains("\"time\":\"2026-12-06T05:01:02.345Z\"", line);
        var read = Assert.Single(RunLog.Parse(Header + "\n" + line + "\n", "x").Epochs);
        Assert.Equal(epoch with { TestAccuracy = read.TestAccuracy }, read);
        Assert.True(double.IsNaN(read.TestAccuracy));
    }
}
