using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Tests;

public class TrainingTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    [Fact]
    public void Small_end_to_end_run_on_5000_images_reaches_90_percent()
    {
        var train = mnist.Data.Train.Take(5000);
        var test = mnist.Data.Test;
        var net = Networks.TwoLayerNet<float>(784, 50, 10, seed: 1);
        var trainer = new Trainer(net, new Sgd<float>(0.1), train, test, new TrainerOptions { Epochs = 15, BatchSize = 100, Seed = 1 });
        int batches = 0, epochs = 0;
        trainer.BatchCompleted += (_, _) => batches++;
        trainer.EpochCompleted += _ => epochs++;
        var history = trainer.Train();
        Assert.Equal(15 * 50, batches);
        Assert.Equal(15, epochs);
        Assert.Equal(750, history.Loss.Count);
        Assert.True(history.Loss.Take(10).Average() > history.Loss.TakeLast(10).Average() * 3, "loss falls");
        Assert.True(history.FinalTestAccuracy >= 0.90, $"test accuracy {history.FinalTestAccuracy:P2} < 90 %");
        Assert.Equal(history.FinalTestAccuracy, net.Accuracy(test.Images, test.Labels));
    }

    [Fact]
    public void Iterations_mode_and_sampling_with_replacement_follow_the_book()
    {
        var train = mnist.Data.Train.Take(1000);
        var net = Networks.TwoLayerNet<float>(784, 20, 10, seed: 2);
        var options = new TrainerOptions { Iterations = 25, BatchSize = 100, SampleWithReplacement = true, EvaluationSamples = 200 };
        var trainer = new Trainer(net, new Sgd<float>(0.1), train, mnist.Data.Test, options);
        Assert.Equal(10, trainer.IterationsPerEpoch); // max(1000 / 100, 1)
        var history = trainer.Train();
        Assert.Equal(25, history.Loss.Count);
        Assert.Equal([10, 20, 25], history.Epochs.Select(e => e.Iteration)); // an epoch mark every 10 iterations, and at the end
    }

    private sealed class RecordingSgd(double rate) : Optimizer<float>(rate)
    {
        public List<double> Rates { get; } = [];
        public override string Name => "recording";
        protected override int StateSlots => 0;
        public override void Step(IEnumerable<Layers.Parameter<float>> parameters) { Rates.Add(LearningRate); base.Step(parameters); }
        protected override void Update(Span<float> param, ReadOnlySpan<float> grad, float[][] state) { }
    }

    [Fact]
    public void Cosine_schedule_decays_the_rate_to_zero_and_restores_it_after()
    {
        var optimizer = new RecordingSgd(0.2);
        var options = new TrainerOptions { Iterations = 10, BatchSize = 50, Schedule = new LearningRateSchedule.Cosine(), EvaluationSamples = 50 };
        new Trainer(Networks.TwoLayerNet<float>(784, 10, 10, seed: 1), optimizer, mnist.Data.Train.Take(200), mnist.Data.Test.Take(50), options).Train();
        Assert.Equal(10, optimizer.Rates.Count);
        Assert.Equal(0.2, optimizer.Rates[0], 12);
        Assert.Equal(0.1, optimizer.Rates[5], 12);                               // halfway: ½(1 + cos(π/2))
        Assert.Equal(0.2 * 0.5 * (1 + Math.Cos(Math.PI * 9 / 10)), optimizer.Rates[9], 12);
        Assert.True(optimizer.Rates.Zip(optimizer.Rates.Skip(1)).All(p => p.Second < p.First), "strictly decreasing");
        Assert.Equal(0.2, optimizer.LearningRate); // the optimizer's own rate is back
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { Schedule = new LearningRateSchedule.Step(0, 0.5) }.Validate());
    }

    [Fact]
    public void Augmented_training_is_reproducible_and_differs_from_plain()
    {
        TrainingHistory Run(Data.AugmentationOptions? augmentation) => new Trainer(Networks.TwoLayerNet<float>(784, 10, 10, seed: 3), new Adam<float>(),
            mnist.Data.Train.Take(300), mnist.Data.Test.Take(100), new TrainerOptions { Epochs = 2, BatchSize = 100, Seed = 9, Augmentation = augmentation }).Train();
        var augmented = Run(new Data.AugmentationOptions());
        Assert.Equal(augmented.Loss, Run(new Data.AugmentationOptions()).Loss);
        Assert.NotEqual(augmented.Loss, Run(null).Loss);
    }

    [Fact]
    public void Same_seed_same_history_and_partial_last_batch()
    {
        TrainingHistory Run() => new Trainer(Networks.TwoLayerNet<float>(784, 10, 10, seed: 3), new Adam<float>(),
            mnist.Data.Train.Take(250), mnist.Data.Test.Take(100), new TrainerOptions { Epochs = 2, BatchSize = 100, Seed = 9 }).Train();
        var a = Run(); var b = Run();
        Assert.Equal(a.Loss, b.Loss);
        Assert.Equal(6, a.Loss.Count); // ⌈250 / 100⌉ = 3 batches per epoch, the last one of 50
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // only augmented batches are gathered on a loader thread
    public void Background_loading_and_evaluation_give_the_same_history_as_foreground(bool augmented)
    {
        TrainingHistory Run(bool background)
        {
            var trainer = new Trainer(Networks.MultiLayerNetExtend<float>([20], 5, dropout: 0.1), new Adam<float>(), mnist.Data.Train.Take(900), mnist.Data.Test.Take(300),
                new TrainerOptions { Epochs = 3, BatchSize = 64, Seed = 2, BackgroundLoading = background, BackgroundEvaluation = background,
                    Augmentation = augmented ? new Data.AugmentationOptions() : null });
            var reported = new List<int>();
            trainer.EpochCompleted += e => { lock (reported) reported.Add(e.Epoch); };
            var h = trainer.Train();
            Assert.Equal([1, 2, 3], reported); // in epoch order, every epoch once
            return h;
        }
        var fg = Run(false); var bg = Run(true);
        Assert.Equal(fg.Loss, bg.Loss);
        Assert.Equal(fg.Epochs.Select(e => (e.TrainAccuracy, e.TestAccuracy)), bg.Epochs.Select(e => (e.TrainAccuracy, e.TestAccuracy)));
    }

    [Fact]
    public void Per_epoch_accuracies_are_scored_in_training_batches_without_larger_buffers()
    {
        // In batches of 1000, scoring 1000 samples made every layer allocate buffers ten times training's (SimpleConvNet's
        // convolution output alone: 1000 × 30 × 24 × 24 floats, 69 MB); in the training batch size it uses training's.
        long Allocated(int evaluationSamples)
        {
            var trainer = new Trainer(Networks.SimpleConvNet<float>(seed: 3), new Adam<float>(), mnist.Data.Train.Take(1000), mnist.Data.Test.Take(1000),
                new TrainerOptions { Iterations = 2, BatchSize = 100, Seed = 1, EvaluationSamples = evaluationSamples, BackgroundEvaluation = false, Threads = 1 });
            Assert.Equal(100, trainer.Options.EvaluationBatchSize);
            long before = GC.GetAllocatedBytesForCurrentThread();
            trainer.Train();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Allocated(1000); // this thread's reusable batch buffers, at their largest
        long few = Allocated(100), many = Allocated(1000);
        Assert.True(many - few < 8 << 20, $"scoring 1000 samples instead of 100 allocated {(many - few) >> 20} MB more");
        Assert.Equal(100, new TrainerOptions { BatchSize = 1 }.EvaluationBatchSize);
        Assert.Equal(256, new TrainerOptions { BatchSize = 256 }.EvaluationBatchSize);
    }

    [Fact]
    public void Accuracies_do_not_depend_on_the_batches_they_are_scored_in()
    {
        // What scoring in the training batch size relies on: every layer scores each sample on its own, in the same sums
        // whether its batch holds 64 samples or 700 (batches of very few samples may take paths that round otherwise).
        var test = mnist.Data.Test.Take(700);
        foreach (var net in new[] { Networks.SimpleConvNet<float>(seed: 4), Networks.DeepConvNet<float>(seed: 4), Networks.MultiLayerNetExtend<float>([50, 50], 5, dropout: 0.2), ModelPresets.Find("deepconv-best").Build([1, 28, 28], 10, 4) })
        {
            var whole = Evaluation.PredictProbabilities(net, test, batchSize: 700);
            foreach (int batch in new[] { 100, 64, 250 })
                Assert.True(whole.AsSpan().SequenceEqual(Evaluation.PredictProbabilities(net, test, batch)), $"{net.Architecture.Describe()}: batches of {batch} score otherwise");
        }
    }

    [Fact]
    public void Background_evaluation_leaves_the_last_epoch_to_the_training_thread()
    {
        var net = Networks.TwoLayerNet<float>(784, 20, 10, seed: 2);
        var trainer = new Trainer(net, new Adam<float>(), mnist.Data.Train.Take(300), mnist.Data.Test.Take(100),
            new TrainerOptions { Epochs = 3, BatchSize = 100, Seed = 2, BackgroundEvaluation = true });
        var evaluatedOn = new List<int>();
        var checkpointedOn = new List<(int Iteration, int Thread)>();
        trainer.EpochCompleted += _ => { lock (evaluatedOn) evaluatedOn.Add(Environment.CurrentManagedThreadId); };
        trainer.CheckpointReady += c => { lock (evaluatedOn) checkpointedOn.Add((c.Iteration, Environment.CurrentManagedThreadId)); };
        int caller = Environment.CurrentManagedThreadId;
        trainer.Train();
        // The last evaluation has no training left to overlap: it gets the training thread (and every core), as does the last checkpoint.
        Assert.Equal(3, evaluatedOn.Count);
        Assert.Equal(caller, evaluatedOn[^1]);
        Assert.Same(net, trainer.EvaluatedModel); // not a snapshot
        Assert.Equal([3, 6, 9], checkpointedOn.Select(c => c.Iteration));
        Assert.Equal(caller, checkpointedOn[^1].Thread);
    }

    [Fact]
    public void Only_augmented_batches_are_gathered_on_a_loader_thread()
    {
        var plain = new TrainerOptions();
        var augmented = plain with { Augmentation = new Data.AugmentationOptions() };
        Assert.False(plain.LoadsInBackground(multicore: true));
        Assert.True(augmented.LoadsInBackground(multicore: true));
        Assert.False(augmented.LoadsInBackground(multicore: false));
        Assert.False((augmented with { BackgroundLoading = false }).LoadsInBackground(multicore: true));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compressed_batches_train_exactly_as_float_batches(bool withReplacement)
    {
        (TrainingHistory, Sequential<float>, Trainer) Run(bool compressed)
        {
            var net = Networks.TwoLayerNet<float>(784, 50, 10, seed: 4);
            var trainer = new Trainer(net, new Sgd<float>(0.1), mnist.Data.Train.Take(3000), mnist.Data.Test.Take(500),
                new TrainerOptions { Iterations = 90, BatchSize = 50, SampleWithReplacement = withReplacement, Seed = 3, CompressedInput = compressed });
            return (trainer.Train(), net, trainer);
        }
        var (h1, net1, t1) = Run(true);
        var (h2, net2, t2) = Run(false);
        Assert.True(t1.CompressesBatches);
        Assert.False(t2.CompressesBatches);
        Assert.Equal(h2.Loss, h1.Loss);
        Assert.Equal(h2.Epochs.Select(e => e.TestAccuracy), h1.Epochs.Select(e => e.TestAccuracy));
        foreach (var (a, b) in net1.Parameters.Zip(net2.Parameters))
            Assert.True(a.Value.ReadOnlySpan.SequenceEqual(b.Value.ReadOnlySpan), $"{a.Name} differs");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Index_only_loader_draws_the_same_batches_and_shows_the_next_one(bool withReplacement)
    {
        var data = mnist.Data.Train.Take(250);
        const int perEpoch = 3, total = 7; // 250 / 100 → a partial last batch without replacement
        using var gathering = new BatchLoader(data, 100, withReplacement, perEpoch, total, new Rng(9), background: false);
        using var indexOnly = new BatchLoader(data, 100, withReplacement, perEpoch, total, new Rng(9), background: false, gatherImages: false);
        int[]? announced = null;
        for (int i = 1; i <= total; i++)
        {
            var expected = gathering.Next();
            var actual = indexOnly.Next();
            Assert.Equal(expected.IndexSpan.ToArray(), actual.IndexSpan.ToArray());
            Assert.Equal(expected.LabelSpan.ToArray(), actual.LabelSpan.ToArray());
            Assert.Equal(0, actual.Images.Size);
            if (announced is not null) Assert.Equal(announced, actual.IndexSpan.ToArray());
            announced = indexOnly.Upcoming.ToArray();
            Assert.Equal(i == total, announced.Length == 0);
            gathering.Release(expected); indexOnly.Release(actual);
        }
        Assert.Throws<ArgumentException>(() => new BatchLoader(data, 10, false, 25, 25, new Rng(1), false, new Data.Augmenter(new Data.AugmentationOptions(), 1, 28), gatherImages: false));
    }

    [Fact]
    public void A_compressed_batch_is_refused_by_a_network_that_cannot_take_it_and_bad_prefetches_are_refused()
    {
        var train = mnist.Data.Train.Take(50);
        var batch = new Kernels.SparseMatrix();
        Assert.True(train.TryCompressImages([0, 1, 2], batch));
        var input = new InputBatch<float>();
        input.SetCompressed(batch);
        var cnn = Networks.SimpleConvNet<float>(1);
        var e = Assert.Throws<InvalidOperationException>(() => cnn.Gradient(input, [1, 2, 3]));
        Assert.Contains("first layer that takes it", e.Message);
        Assert.False(cnn.TakesCompressed(784, 0.19));
        var dense = Networks.TwoLayerNet<float>(784, 50, 10, seed: 1);
        Assert.True(dense.TakesCompressed(784, 0.19));
        Assert.False(dense.TakesCompressed(784, 0.5));
        Assert.True(double.IsFinite(dense.Gradient(input, [train.Labels[0], train.Labels[1], train.Labels[2]])));
        train.PrefetchImages([0, 49]); // a hint: nothing to observe but that it accepts valid rows
        Assert.Throws<IndexOutOfRangeException>(() => train.PrefetchImages([50]));
        Assert.Throws<IndexOutOfRangeException>(() => train.PrefetchImages([-1]));
    }

    /// <summary>
    /// Once warm, a training step allocates nothing on the calling thread: not in any layer's forward or backward (threaded
    /// GEMM and convolution passes included), nor in the loss, the optimizer or the batch's reshaping. Every preset, and a
    /// stride-2 convolution (the im2col path) built by hand.
    /// </summary>
    [Theory]
    [InlineData("dense")]
    [InlineData("twolayer")]
    [InlineData("mlp")]
    [InlineData("mlp-bn")]
    [InlineData("simpleconv")]
    [InlineData("deepconv")]
    [InlineData("deepconv-aug")]
    [InlineData("deepconv-fast")]
    [InlineData("deepconv-best")]
    [InlineData("stride-2")]
    public void A_warm_training_step_allocates_nothing(string model)
    {
        var train = mnist.Data.Train.Take(600);
        Sequential<float> net;
        if (model == "stride-2")
        {
            var rng = new Rng(4);
            net = new Sequential<float>([1, 28, 28],
            [
                new Layers.Convolution<float>(Init.Normal<float>(0.1, rng, 8, 1, 3, 3), new NDArray<float>(8), stride: 2, pad: 1),
                new Layers.Relu<float>(),
                new Layers.MaxPooling<float>(2, 2, 2),
                new Layers.Affine<float>(8 * 7 * 7, 10, 0.1, rng),
            ]); // flat batches of 784 are viewed as (1, 28, 28)
        }
        else net = ModelPresets.Find(model).Spec.Build<float>(seed: 1);
        // Scratch kept per thread (a packing buffer, the narrow columns' copy) is made the first time that thread takes
        // a part of that shape, and the parts of a threaded pass go to whichever thread is free: under load, a thread
        // can take a part new to it after the warm-up (a run of the suite once saw 8 KB so, in a convolution's
        // backward). That happens once per thread and shape; an allocation made every step shows in every attempt.
        var attempts = new List<string>();
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            var profile = LayerProfile.Measure(net, new Adam<float>(), train, iterations: 3, batchSize: 100);
            Assert.True(double.IsFinite(profile.LastLoss));
            if (profile.CallerBytesPerIteration == 0) return;
            var layers = string.Join(", ", profile.Layers.Where(l => l.ForwardBytes + l.BackwardBytes > 0).Select(l => $"{l.Layer} {l.ForwardBytes}+{l.BackwardBytes}"));
            attempts.Add($"attempt {attempt}: {profile.CallerBytesPerIteration} bytes per step ({layers})");
        }
        Assert.Fail($"{model} allocates in every warm step: {string.Join("; ", attempts)}");
    }

    [Fact]
    public void A_warm_step_on_compressed_batches_allocates_nothing()
    {
        // The ch. 5 run's path: the loader compresses each batch from the stored bytes on this thread, the network's
        // first layer multiplies it as it is, and the next batch's rows are prefetched. Once warm, no step allocates.
        // One thread: every product runs on this one, so this thread's count is the whole step's.
        using var oneThread = Kernels.Gemm.LimitThreadsOnThisThread(1);
        var train = mnist.Data.Train.Take(3000);
        var net = Networks.TwoLayerNet<float>(784, 50, 10, seed: 1);
        var optimizer = new Sgd<float>(0.1);
        const int warmup = 5, steps = 40;
        using var loader = new BatchLoader(train, 100, withReplacement: true, 30, warmup + steps, new Rng(2), background: false, compressFor: net);
        Assert.True(loader.CompressesBatches);
        long before = 0;
        for (int i = 0; i < warmup + steps; i++)
        {
            if (i == warmup) before = GC.GetAllocatedBytesForCurrentThread();
            var batch = loader.Next();
            Assert.NotNull(batch.Input.Compressed);
            Assert.True(double.IsFinite(net.Gradient(batch.Input, batch.LabelSpan)));
            optimizer.Step(net.Parameters);
            loader.Release(batch);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Batches_go_compressed_only_to_a_first_layer_that_takes_them()
    {
        var train = mnist.Data.Train.Take(200);
        var test = mnist.Data.Test.Take(100);
        bool Compresses(Sequential<float> net, Data.Dataset data, TrainerOptions? options = null) =>
            new Trainer(net, new Sgd<float>(0.1), data, test, options ?? new TrainerOptions()).CompressesBatches;
        Assert.True(Compresses(Networks.MultiLayerNet<float>([30], 1), train));
        Assert.False(Compresses(Networks.TwoLayerNet<float>(784, 50, 10, seed: 1), train, new TrainerOptions { Augmentation = new Data.AugmentationOptions() }));
        Assert.False(Compresses(Networks.SimpleConvNet<float>(1), train));
        var noBytes = new Data.Dataset(train.Images, train.Labels.ToArray());
        Assert.False(Compresses(Networks.TwoLayerNet<float>(784, 50, 10, seed: 1), noBytes));
        var denseFirst = Networks.TwoLayerNet<float>(784, 50, 10, seed: 1);
        ((Layers.Affine<float>)denseFirst.Layers[0]).UseSparseInput = false;
        Assert.False(Compresses(denseFirst, train));
    }

    [Fact]
    public void Evaluated_model_is_the_epoch_snapshot_with_the_reported_accuracy()
    {
        var net = Networks.TwoLayerNet<float>(784, 10, 10, 1);
        var test = mnist.Data.Test.Take(500);
        var trainer = new Trainer(net, new Sgd<float>(0.1), mnist.Data.Train.Take(500), test, new TrainerOptions { Epochs = 2, BatchSize = 50 });
        var checks = new List<(double Reported, double Recomputed)>();
        trainer.EpochCompleted += e => checks.Add((e.TestAccuracy, trainer.EvaluatedModel.Accuracy(test.Images, test.Labels)));
        trainer.Train();
        Assert.Equal(2, checks.Count);
        Assert.All(checks, c => Assert.Equal(c.Reported, c.Recomputed));
    }

    [Fact]
    public void Dataset_evaluation_equals_tensor_evaluation()
    {
        var net = Networks.TwoLayerNet<float>(784, 30, 10, 3);
        new Trainer(net, new Sgd<float>(0.1), mnist.Data.Train.Take(2000), mnist.Data.Test.Take(100), new TrainerOptions { Epochs = 1 }).Train();
        var test = mnist.Data.Test.Take(2500);
        Assert.Equal(net.PredictLabels(test.Images, 700), net.PredictLabels(test, 300));
        Assert.Equal(net.Accuracy(test.Images, test.Labels), net.Accuracy(test));
    }

    [Fact]
    public void Cancellation_stops_between_batches()
    {
        using var cts = new CancellationTokenSource();
        var trainer = new Trainer(Networks.TwoLayerNet<float>(784, 10, 10, 1), new Sgd<float>(0.1), mnist.Data.Train.Take(1000), mnist.Data.Test.Take(100),
            new TrainerOptions { Epochs = 5 });
        trainer.BatchCompleted += (i, _) => { if (i == 7) cts.Cancel(); };
        var history = trainer.Train(cts.Token);
        Assert.True(history.Cancelled);
        Assert.Equal(7, history.Loss.Count);
    }

    [Fact]
    public void Epoch_csv_has_a_header_and_a_row_per_epoch()
    {
        var history = new Trainer(Networks.TwoLayerNet<float>(784, 10, 10, 1), new Sgd<float>(0.1), mnist.Data.Train.Take(300), mnist.Data.Test.Take(100),
            new TrainerOptions { Epochs = 2 }).Train();
        var lines = history.EpochsCsv().TrimEnd().Split('\n');
        Assert.Equal("epoch,iteration,mean_loss,train_accuracy,test_accuracy,seconds,learning_rate,validation_loss,validation_accuracy", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("2,6,", lines[2]);
        Assert.EndsWith(",0.1,NaN,NaN", lines[2]);
    }

    [Fact]
    public void The_trainer_tells_the_rate_of_every_mini_batch_and_each_epoch_records_its_last()
    {
        // 4 batches per epoch, 3 epochs, cosine: every batch has its own rate, and the rate read in BatchCompleted is the one it stepped with.
        var optimizer = new RecordingSgd(0.2);
        var trainer = new Trainer(Networks.TwoLayerNet<float>(784, 10, 10, seed: 1), optimizer, mnist.Data.Train.Take(200), mnist.Data.Test.Take(50),
            new TrainerOptions { Epochs = 3, BatchSize = 50, Schedule = new LearningRateSchedule.Cosine(), EvaluationSamples = 50 });
        Assert.True(double.IsNaN(trainer.LastLearningRate));
        var told = new List<double>();
        trainer.BatchCompleted += (_, _) => told.Add(trainer.LastLearningRate);
        var history = trainer.Train();
        Assert.Equal(optimizer.Rates, told);
        Assert.Equal(12, told.Distinct().Count());
        Assert.Equal([told[3], told[7], told[11]], history.Epochs.Select(e => e.LearningRate));
        Assert.Equal(told[^1], trainer.LastLearningRate);

        // Restored mid-epoch (after 6) and at an epoch's end (after 8): the rate of the checkpoint's last mini-batch.
        var checkpoints = new List<TrainingCheckpoint>();
        var again = new Trainer(Networks.TwoLayerNet<float>(784, 10, 10, seed: 1), new RecordingSgd(0.2), mnist.Data.Train.Take(200), mnist.Data.Test.Take(50),
            trainer.Options with { CheckpointEvery = 2 });
        again.CheckpointReady += checkpoints.Add;
        again.Train();
        foreach (int k in new[] { 6, 8 })
        {
            var restored = new Trainer(Networks.TwoLayerNet<float>(784, 10, 10, seed: 1), new RecordingSgd(0.2), mnist.Data.Train.Take(200), mnist.Data.Test.Take(50), trainer.Options);
            restored.Restore(checkpoints.Single(c => c.Iteration == k));
            Assert.Equal(told[k - 1], restored.LastLearningRate);
        }
    }

    [Fact]
    public void Invalid_options_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { BatchSize = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { Epochs = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { Iterations = 0 }.Validate());
    }

    [Fact]
    public void A_dataset_keeps_its_own_labels_and_refuses_one_outside_its_classes()
    {
        var labels = new[] { 0, 2, 1 };
        var data = new Data.Dataset(new NDArray<float>(3, 4), labels, classes: 3);
        labels[0] = 2; // the caller's array, changed after the dataset was made
        Assert.Equal([0, 2, 1], data.Labels.ToArray());
        var e = Assert.Throws<ArgumentException>(() => new Data.Dataset(new NDArray<float>(3, 4), [0, 3, 1], classes: 3));
        Assert.Contains("label 3", e.Message);
        Assert.Throws<ArgumentException>(() => new Data.Dataset(new NDArray<float>(3, 4), [0, -1, 1], classes: 3));
    }
}
