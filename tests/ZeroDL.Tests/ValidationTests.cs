using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 19 §2: a stratified, seeded validation split held out of the training data; early stopping and keep-best on
/// it; reduce-on-plateau wired into the trainer; and all of their state surviving a checkpoint, so a resumed run ends
/// bit for bit as the uninterrupted one.
/// </summary>
public class ValidationTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    [Fact]
    public void The_split_holds_out_each_class_in_proportion_disjointly_and_the_same_for_a_seed()
    {
        // 3 classes of 50, 30 and 7 samples, interleaved.
        var labels = Enumerable.Range(0, 87).Select(i => i < 21 ? i % 3 : i < 70 ? (i % 2 == 0 ? 0 : 1) : 2).ToArray();
        int[] counts = [.. Enumerable.Range(0, 3).Select(c => labels.Count(l => l == c))];
        var (kept, held) = StratifiedSplit.Indices(labels, 3, 0.2, new Rng(5));
        for (int c = 0; c < 3; c++)
            Assert.Equal((int)Math.Round(0.2 * counts[c], MidpointRounding.AwayFromZero), held.Count(i => labels[i] == c));
        Assert.Empty(kept.Intersect(held));
        Assert.Equal(Enumerable.Range(0, labels.Length), kept.Concat(held).Order());
        Assert.Equal(kept.Order(), kept);
        Assert.Equal(held.Order(), held);

        var (kept2, held2) = StratifiedSplit.Indices(labels, 3, 0.2, new Rng(5));
        Assert.Equal(held, held2);
        Assert.Equal(kept, kept2);
        Assert.NotEqual(held, StratifiedSplit.Indices(labels, 3, 0.2, new Rng(6)).HeldOut);
        // Every class keeps a sample, however large the fraction.
        var (_, most) = StratifiedSplit.Indices(labels, 3, 0.99, new Rng(1));
        for (int c = 0; c < 3; c++) Assert.Equal(counts[c] - 1, most.Count(i => labels[i] == c));
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedSplit.Indices(labels, 3, 1.0, new Rng(1)));
    }

    [Fact]
    public void The_trainer_holds_out_a_stratified_validation_set_and_reports_its_loss_and_accuracy_each_epoch()
    {
        var data = mnist.Data.Train.Take(1000);
        var options = new TrainerOptions { Epochs = 3, BatchSize = 50, Seed = 4, ValidationSplit = 0.1, BackgroundEvaluation = false };
        var trainer = new Trainer(Networks.TwoLayerNet<float>(784, 20, 10, seed: 1), new Sgd<float>(0.5), data, mnist.Data.Test.Take(100), options);
        var validation = trainer.ValidationSet!;
        Assert.Equal(data.Count, validation.Count + trainer.TrainingSet.Count);
        Assert.Equal(18, trainer.IterationsPerEpoch); // ⌈900 / 50⌉: the epochs run over the rest only
        for (int c = 0; c < 10; c++)
        {
            int ofClass = 0;
            foreach (int l in data.Labels) if (l == c) ofClass++;
            int held = 0;
            foreach (int l in validation.Labels) if (l == c) held++;
            Assert.Equal((int)Math.Round(0.1 * ofClass, MidpointRounding.AwayFromZero), held);
        }
        // The held-out samples are the data's own (bytes kept), none of them trained on.
        Assert.Equal(data.GatherImages([0], null).ReadOnlySpan.ToArray().Length, validation.SampleLength);
        var history = trainer.Train();
        // Learning shows on the held-out samples: the loss falls and the accuracy rises from epoch 1 to 3.
        Assert.True(history.Epochs[2].ValidationLoss < history.Epochs[0].ValidationLoss, "validation loss falls");
        Assert.True(history.Epochs[2].ValidationAccuracy > history.Epochs[0].ValidationAccuracy, "validation accuracy rises");
        Assert.InRange(history.Epochs[2].ValidationAccuracy, 0.6, 1);
        // The last epoch's figures are the network's on the validation set.
        var net = trainer.EvaluatedModel;
        Assert.Equal(net.Accuracy(validation), history.Epochs[^1].ValidationAccuracy);
        Assert.Equal(net.LossAndAccuracy(validation).Loss, history.Epochs[^1].ValidationLoss);
        Assert.Equal(validation.Labels.ToArray(), new Trainer(Networks.TwoLayerNet<float>(784, 20, 10, seed: 9), new Sgd<float>(0.1), data, mnist.Data.Test, options)
            .ValidationSet!.Labels.ToArray());
        // Without the split, no validation figures.
        var plain = new Trainer(Networks.TwoLayerNet<float>(784, 20, 10, seed: 1), new Sgd<float>(0.1), data, mnist.Data.Test.Take(100), options with { ValidationSplit = null, Epochs = 1 });
        Assert.Null(plain.ValidationSet);
        Assert.True(double.IsNaN(plain.Train().Epochs[0].ValidationLoss));
    }

    [Fact]
    public void Validation_loss_is_the_mean_cross_entropy_plus_weight_decay()
    {
        var data = mnist.Data.Test.Take(300);
        var net = new ModelSpec { Kind = NetworkKind.Mlp, HiddenSizes = [16], WeightDecay = 0.01 }.Build<float>(seed: 2);
        var (loss, accuracy) = net.LossAndAccuracy(data, batchSize: 128);
        // Independently: per-sample −log softmax of the label's score, averaged, plus 0.5·λ·ΣW².
        var scores = net.Predict(data.Images);
        double sum = 0;
        for (int r = 0; r < data.Count; r++)
        {
            var row = scores.ReadOnlySpan.Slice(r * 10, 10).ToArray().Select(v => (double)v).ToArray();
            double max = row.Max();
            sum += Math.Log(row.Sum(v => Math.Exp(v - max))) - (row[data.Labels[r]] - max);
        }
        Assert.Equal(sum / data.Count + net.WeightDecayLoss(), loss, 5);
        Assert.Equal(net.Accuracy(data), accuracy);
    }

    [Fact]
    public void Early_stopping_follows_the_monitored_sequence_to_the_epoch()
    {
        // val_loss per epoch: best at 2, at 5 (0.79), then three epochs without improvement: stop after epoch 8.
        double[] losses = [1.0, 0.8, 0.85, 0.9, 0.79, 0.8, 0.81, 0.82, 0.5];
        var state = MonitorState.Start;
        int stoppedAfter = 0;
        for (int e = 1; e <= losses.Length; e++)
        {
            state = state.Observe(MonitoredQuantity.ValidationLoss, e, losses[e - 1]);
            if (state.ShouldStop(patience: 3)) { stoppedAfter = e; break; }
        }
        Assert.Equal(8, stoppedAfter);
        Assert.Equal(new MonitorState(0.79, 5, 3), state);

        // Accuracy goes the other way, and a tie is not an improvement.
        var acc = MonitorState.Start.Observe(MonitoredQuantity.ValidationAccuracy, 1, 0.9).Observe(MonitoredQuantity.ValidationAccuracy, 2, 0.95)
            .Observe(MonitoredQuantity.ValidationAccuracy, 3, 0.95).Observe(MonitoredQuantity.ValidationAccuracy, 4, 0.94);
        Assert.Equal(new MonitorState(0.95, 2, 2), acc);
        Assert.True(acc.ShouldStop(2));
        Assert.False(acc.ShouldStop(3));
    }

    /// <summary>A run that overfits: a few hundred images, a wide net, a high rate, so the validation loss turns up.</summary>
    private Trainer Overfitting(TrainerOptions options, int netSeed = 3) =>
        new(Networks.TwoLayerNet<float>(784, 64, 10, seed: netSeed), new Sgd<float>(0.5), mnist.Data.Train.Take(300), mnist.Data.Test.Take(200),
            options);

    private static readonly TrainerOptions EarlyStopping = new()
    {
        Epochs = 40, BatchSize = 25, Seed = 2, ValidationSplit = 0.3, EarlyStopPatience = 3, Keep = KeptWeights.Best, EvaluationSamples = 100,
    };

    [Fact]
    public void The_trainer_stops_when_the_validation_loss_has_not_improved_for_patience_epochs_and_keeps_the_best_weights()
    {
        var trainer = Overfitting(EarlyStopping with { BackgroundEvaluation = false });
        var weights = new Dictionary<int, float[]>();
        trainer.EpochCompleted += e => weights[e.Epoch] = [.. trainer.EvaluatedModel.NamedTensors().SelectMany(t => t.Value.ReadOnlySpan.ToArray())];
        var history = trainer.Train();

        Assert.True(history.StoppedEarly);
        int stopped = history.Epochs.Count;
        Assert.True(stopped < 40, $"ran all {stopped} epochs");
        // The best epoch by validation loss (the first of equals), and exactly patience epochs after it.
        var losses = history.Epochs.Select(e => e.ValidationLoss).ToList();
        int best = losses.IndexOf(losses.Min()) + 1;
        Assert.Equal(best + 3, stopped);
        Assert.Equal(new MonitorState(losses.Min(), best, 3), trainer.Monitored);
        Assert.Equal(stopped * trainer.IterationsPerEpoch, history.Loss.Count);
        // The best model is the best epoch's weights, not the last's.
        Assert.Equal(weights[best], trainer.BestModel!.NamedTensors().SelectMany(t => t.Value.ReadOnlySpan.ToArray()));
        Assert.NotEqual(weights[stopped], weights[best]);
        Assert.Same(trainer.BestModel, trainer.KeptModel);
        Assert.Equal(history.Epochs[best - 1].ValidationLoss, trainer.BestModel!.LossAndAccuracy(trainer.ValidationSet!).Loss);

        // Keep last: the same run, the last epoch's weights handed out.
        var last = Overfitting(EarlyStopping with { Keep = KeptWeights.Last });
        var lastHistory = last.Train();
        Assert.Equal(history.Loss, lastHistory.Loss);
        Assert.Null(last.BestModel);
        Assert.Equal(weights[stopped], last.KeptModel.NamedTensors().SelectMany(t => t.Value.ReadOnlySpan.ToArray()));
    }

    [Fact]
    public void Early_stopping_keep_best_or_a_validation_plateau_without_a_validation_split_is_refused()
    {
        Assert.Contains("validation split", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { EarlyStopPatience = 2 }.Validate()).Message);
        Assert.Contains("validation split", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { Keep = KeptWeights.Best }.Validate()).Message);
        Assert.Contains("val_loss", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { Schedule = new LearningRateSchedule.ReduceOnPlateau(0.5, 2) }.Validate()).Message);
        new TrainerOptions { Schedule = new LearningRateSchedule.ReduceOnPlateau(0.5, 2, MonitoredQuantity.TrainingLoss) }.Validate();
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { ValidationSplit = 1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { ValidationSplit = 0.1, EarlyStopPatience = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { ValidationSplit = 0.1, Monitor = MonitoredQuantity.TrainingLoss }.Validate());
        var tiny = mnist.Data.Train.Take(3);
        Assert.Contains("holds out no sample", Assert.Throws<ArgumentException>(() => new Trainer(Networks.TwoLayerNet<float>(784, 4, 10, 1), new Sgd<float>(0.1), tiny, tiny,
            new TrainerOptions { ValidationSplit = 0.1 })).Message);
        Assert.Contains("warm-up", Assert.Throws<ArgumentException>(() => new Trainer(Networks.TwoLayerNet<float>(784, 4, 10, 1), new Sgd<float>(0.1), tiny, tiny,
            new TrainerOptions { Epochs = 2, BatchSize = 1, Schedule = new LearningRateSchedule.Warmup(6, new LearningRateSchedule.Constant()) })).Message);
    }

    [Fact]
    public void Reduce_on_plateau_steps_each_epoch_at_the_factor_its_state_had_after_the_epoch_before()
    {
        var optimizer = new RecordingSgd(0.2);
        var schedule = new LearningRateSchedule.Warmup(4, new LearningRateSchedule.ReduceOnPlateau(0.5, 1, MonitoredQuantity.ValidationAccuracy));
        var options = new TrainerOptions { Epochs = 8, BatchSize = 50, Seed = 3, ValidationSplit = 0.1, Schedule = schedule, EvaluationSamples = 50 };
        var trainer = new Trainer(Networks.TwoLayerNet<float>(784, 10, 10, seed: 1), optimizer, mnist.Data.Train.Take(200), mnist.Data.Test.Take(50), options);
        var history = trainer.Train();
        int perEpoch = trainer.IterationsPerEpoch;
        // Replay the plateau over the reported accuracies: the factor after epoch e sets every rate of epoch e + 1.
        var state = PlateauState.Start;
        for (int e = 0; e < history.Epochs.Count; e++)
        {
            for (int b = 0; b < perEpoch; b++)
            {
                int t = e * perEpoch + b;
                Assert.Equal(0.2 * (t < 4 ? (t + 1) / 4.0 : 1) * state.Factor, optimizer.Rates[t]);
            }
            Assert.Equal(optimizer.Rates[(e + 1) * perEpoch - 1], history.Epochs[e].LearningRate);
            state = ((LearningRateSchedule.ReduceOnPlateau)schedule.Then).Observe(state, history.Epochs[e].ValidationAccuracy);
        }
        Assert.Equal(state, trainer.Plateau);
        Assert.True(state.Factor < 1, "no reduction in the run: the test would not test it");
    }

    private sealed class RecordingSgd(double rate) : Optimizer<float>(rate)
    {
        public List<double> Rates { get; } = [];
        public override string Name => "sgd";
        protected override int StateSlots => 0;
        public override void Step(IEnumerable<Layers.Parameter<float>> parameters) { Rates.Add(LearningRate); base.Step(parameters); }
        protected override void Update(Span<float> param, ReadOnlySpan<float> grad, float[][] state)
        {
            float lr = (float)LearningRate;
            for (int i = 0; i < param.Length; i++) param[i] -= lr * grad[i];
        }
    }

    public static TheoryData<string> Monitoring => ["early-stop", "plateau"];

    [Theory]
    [MemberData(nameof(Monitoring))]
    public void A_run_restored_from_any_checkpoint_file_keeps_its_early_stopping_plateau_and_best_model_state(string kind)
    {
        var options = kind == "early-stop"
            ? EarlyStopping with { CheckpointEvery = 5 }
            : new TrainerOptions
            {
                Epochs = 6, BatchSize = 25, Seed = 5, ValidationSplit = 0.3, Keep = KeptWeights.Best, Monitor = MonitoredQuantity.ValidationAccuracy, CheckpointEvery = 5,
                EvaluationSamples = 100, Schedule = new LearningRateSchedule.ReduceOnPlateau(0.5, 1, MonitoredQuantity.ValidationLoss),
            };
        var reference = Overfitting(options);
        var checkpoints = new List<TrainingCheckpoint>();
        reference.CheckpointReady += checkpoints.Add;
        var full = reference.Train();
        if (kind == "early-stop") Assert.True(full.StoppedEarly);
        else Assert.True(reference.Plateau!.Factor < 1, "no reduction in the run: the test would not test it");

        string dir = TestPaths.NewTempDirectory();
        try
        {
            foreach (var saved in checkpoints)
            {
                string path = Path.Combine(dir, $"at{saved.Iteration}.ckpt");
                CheckpointFile.Save(saved, path);
                var loaded = CheckpointFile.Load(path).Checkpoint;
                Assert.Equal(saved.Monitored, loaded.Monitored);
                Assert.Equal(saved.Plateau, loaded.Plateau);
                var trainer = Overfitting(options with { Threads = 1, BackgroundEvaluation = saved.Iteration % 2 == 0 }, netSeed: 8);
                trainer.Restore(loaded);
                var history = trainer.Train();
                string at = $"{kind}, resumed after iteration {saved.Iteration}";
                CheckpointTests.AssertSameTensors(reference.EvaluatedModel, trainer.EvaluatedModel, at);
                CheckpointTests.AssertSameTensors(reference.BestModel!, trainer.BestModel!, at + " (best model)");
                Assert.Equal(full.Loss, history.Loss);
                Assert.Equal(full.Epochs.Select(e => (e.ValidationLoss, e.ValidationAccuracy, e.LearningRate)), history.Epochs.Select(e => (e.ValidationLoss, e.ValidationAccuracy, e.LearningRate)));
                Assert.Equal(full.StoppedEarly, history.StoppedEarly);
                Assert.Equal(reference.Monitored, trainer.Monitored);
                Assert.Equal(reference.Plateau, trainer.Plateau);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_checkpoint_that_does_not_fit_the_monitoring_is_refused()
    {
        var trainer = Overfitting(EarlyStopping with { Epochs = 2 });
        trainer.Train();
        var state = trainer.SaveState();
        Assert.NotNull(state.BestModel);
        var fresh = () => Overfitting(EarlyStopping with { Epochs = 2 });
        Assert.Contains("holds none", Assert.Throws<ArgumentException>(() => fresh().Restore(state with { BestModel = null })).Message);
        Assert.Contains("monitor", Assert.Throws<ArgumentException>(() => fresh().Restore(state with { Monitored = null })).Message);
        Assert.Contains("monitor state", Assert.Throws<ArgumentException>(() => fresh().Restore(state with { Monitored = state.Monitored! with { EpochsSinceBest = 5 } })).Message);
        Assert.Contains("plateau", Assert.Throws<ArgumentException>(() => fresh().Restore(state with { Plateau = PlateauState.Start })).Message);
    }
}
