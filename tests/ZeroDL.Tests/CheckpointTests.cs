using ZeroDL.Data;
using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>
/// The library's checkpoints (issue 19 §1): a <see cref="Trainer"/> restored from any checkpoint of a run, written to a
/// file and read back, ends with the same weights bit for bit as the run left uninterrupted; optimizers and
/// generators hand out and take back their state; a hostile checkpoint file is refused by name.
/// </summary>
public class CheckpointTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    private static Sequential<float> Build(string kind) => kind switch
    {
        // Dropout (its masks are a random stream) and BatchNorm (running statistics are state, not parameters).
        "dropout" => new ModelSpec { Kind = NetworkKind.MlpExtend, HiddenSizes = [32, 32], BatchNorm = true, Dropout = 0.3 }.Build<float>(seed: 3),
        _ => Networks.TwoLayerNet<float>(784, 24, 10, seed: 3),
    };

    private static Optimizer<float> Optimizer(string name) => Optimizer<float>.Create(name, name == "adam" ? 0.003 : 0.05);

    public static TheoryData<string, string, bool, bool, string> Runs => new()
    {
        // kind, optimizer, augmented, with replacement, schedule
        { "plain", "adam", false, false, "constant" },
        { "dropout", "momentum", false, false, "cosine" },
        { "plain", "rmsprop", true, false, "constant" },
        { "dropout", "nesterov", false, true, "constant" },
        { "plain", "adagrad", false, false, "cosine" },
        { "plain", "sgd", false, false, "constant" },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void A_run_restored_from_any_checkpoint_file_ends_bit_for_bit_as_the_uninterrupted_run(string kind, string optimizer, bool augmented, bool replacement, string schedule)
    {
        var train = mnist.Data.Train.Take(230); // 5 batches of 50, the last partial (30)
        var test = mnist.Data.Test.Take(100);
        var options = new TrainerOptions
        {
            Epochs = 3, BatchSize = 50, Seed = 7, SampleWithReplacement = replacement, Schedule = LearningRateSchedule.Parse(schedule), CheckpointEvery = 3,
            Augmentation = augmented ? new AugmentationOptions() : null,
        };
        var reference = Build(kind);
        var full = new Trainer(reference, Optimizer(optimizer), train, test, options);
        var checkpoints = new List<TrainingCheckpoint>();
        full.CheckpointReady += checkpoints.Add;
        var fullHistory = full.Train();
        // Every epoch end and every third iteration, once each, in order.
        int perEpoch = full.IterationsPerEpoch, total = full.TotalIterations;
        var expected = Enumerable.Range(1, total).Where(i => i % perEpoch == 0 || i % 3 == 0).ToList();
        Assert.Equal(expected, checkpoints.Select(c => c.Iteration));

        string dir = Directory.CreateTempSubdirectory("zerodl-ckpt").FullName;
        try
        {
            foreach (var saved in checkpoints.Where(c => c.Iteration < total))
            {
                string path = Path.Combine(dir, $"at{saved.Iteration}.ckpt");
                CheckpointFile.Save(saved, path);
                var loaded = CheckpointFile.Load(path).Checkpoint;
                Assert.Equal(saved.Iteration, loaded.Iteration);
                // Another process, in effect: a fresh network with other initial weights and a fresh optimizer.
                var net = Build(kind);
                var trainer = new Trainer(net, Optimizer(optimizer), train, test, options with { BackgroundEvaluation = saved.Iteration % 2 == 0, Threads = 1 });
                trainer.Restore(loaded);
                var history = trainer.Train();
                AssertSameTensors(reference, net, $"resumed after iteration {saved.Iteration}");
                Assert.Equal(fullHistory.Loss, history.Loss);
                Assert.Equal(fullHistory.Epochs.Select(e => (e.Epoch, e.Iteration, e.MeanLoss, e.TestAccuracy, e.LearningRate)), history.Epochs.Select(e => (e.Epoch, e.Iteration, e.MeanLoss, e.TestAccuracy, e.LearningRate)));
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_checkpoint_with_its_relus_as_layers_of_their_own_resumes_in_the_fused_network_bit_for_bit()
    {
        // A deepconv-best checkpoint written before ReLUs were fused into the per-channel BatchNorms before them holds
        // every ReLU as a layer of its own: the same tensors under the same names. Resumed in the network the preset
        // builds now (fused), the run must end bit for bit as the unfused run left uninterrupted.
        var fusedArchitecture = ModelPresets.Find("deepconv-best").Spec.ToArchitecture([1, 28, 28], 10);
        var apart = new Architecture(fusedArchitecture.InputShape.ToArray(), fusedArchitecture.Layers.SelectMany(l => l is BatchNormConfig { Activation: not null } b
            ? new LayerConfig[] { b with { Activation = null }, new ReluConfig() } : [l]), fusedArchitecture.WeightDecay);
        Assert.NotEqual(apart, fusedArchitecture);
        var train = mnist.Data.Train.Take(120);
        var test = mnist.Data.Test.Take(50);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 40, Seed = 5, Threads = 2 };
        var reference = apart.Build<float>(seed: 3);
        var full = new Trainer(reference, Optimizer("adam"), train, test, options);
        TrainingCheckpoint? afterEpoch1 = null;
        full.CheckpointReady += c => { if (c.Iteration == 3) afterEpoch1 = c; };
        var fullHistory = full.Train();
        Assert.NotNull(afterEpoch1);
        Assert.All(fullHistory.Loss, l => Assert.True(double.IsFinite(l)));
        string path = Path.Combine(Directory.CreateTempSubdirectory("zerodl-ckpt").FullName, "unfused.ckpt");
        try
        {
            CheckpointFile.Save(afterEpoch1!, path);
            var loaded = CheckpointFile.Load(path).Checkpoint;
            Assert.Equal(apart, loaded.Model.Architecture);
            var net = fusedArchitecture.Build<float>(seed: 8);
            var trainer = new Trainer(net, Optimizer("adam"), train, test, options);
            trainer.Restore(loaded);
            var history = trainer.Train();
            AssertSameTensors(reference, net, "the fused network resumed from the unfused checkpoint");
            Assert.Equal(fullHistory.Loss, history.Loss);
        }
        finally { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); }
    }

    [Fact]
    public void The_state_before_training_restores_to_the_same_run_and_a_cancelled_run_continues_exactly()
    {
        var train = mnist.Data.Train.Take(200);
        var test = mnist.Data.Test.Take(50);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 40, Seed = 2 };
        var reference = Build("dropout");
        new Trainer(reference, Optimizer("adam"), train, test, options).Train();

        using var cancel = new CancellationTokenSource();
        var net = Build("dropout");
        var trainer = new Trainer(net, Optimizer("adam"), train, test, options);
        var start = trainer.SaveState();
        Assert.Equal(0, start.Iteration);
        trainer.BatchCompleted += (i, _) => { if (i == 7) cancel.Cancel(); };
        TrainingCheckpoint? last = null;
        trainer.CheckpointReady += c => last = c;
        Assert.True(trainer.Train(cancel.Token).Cancelled);
        Assert.Equal(7, last!.Iteration); // the cancelled run's last state is handed out
        Assert.Equal(7, trainer.SaveState().Iteration);

        var resumed = Build("dropout");
        var again = new Trainer(resumed, Optimizer("adam"), train, test, options);
        again.Restore(last);
        Assert.False(again.Train().Cancelled);
        AssertSameTensors(reference, resumed, "resumed after a cancel");

        var fromStart = Build("dropout");
        var other = new Trainer(fromStart, Optimizer("adam"), train, test, options);
        other.Restore(start);
        other.Train();
        AssertSameTensors(reference, fromStart, "restored to the start");
    }

    [Fact]
    public void Epochs_may_be_raised_on_restore_and_the_run_goes_on_as_a_longer_run_would()
    {
        var train = mnist.Data.Train.Take(200);
        var test = mnist.Data.Test.Take(50);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 50, Seed = 5 };
        var longer = Build("plain");
        new Trainer(longer, Optimizer("adam"), train, test, options with { Epochs = 3 }).Train();

        var shorter = new Trainer(Build("plain"), Optimizer("adam"), train, test, options);
        shorter.Train();
        var net = Build("plain");
        var raised = new Trainer(net, Optimizer("adam"), train, test, options with { Epochs = 3 });
        raised.Restore(shorter.SaveState());
        var history = raised.Train();
        Assert.Equal(3, history.Epochs.Count);
        AssertSameTensors(longer, net, "two epochs, then raised to three");

        // What would change the run is refused, and the trainer is left as it was.
        var before = Build("plain");
        var refusing = new Trainer(before, Optimizer("adam"), train, test, options with { Epochs = 3, BatchSize = 40 });
        var e = Assert.Throws<ArgumentException>(() => refusing.Restore(shorter.SaveState()));
        Assert.Contains("options differ", e.Message);
        Assert.Throws<ArgumentException>(() => new Trainer(Build("plain"), Optimizer("sgd"), train, test, options).Restore(shorter.SaveState()));
        Assert.Throws<ArgumentException>(() => new Trainer(Build("plain"), Optimizer("adam"), train, test, options with { Epochs = 1 }).Restore(shorter.SaveState()));
        Assert.Throws<ArgumentException>(() => new Trainer(Build("dropout"), Optimizer("adam"), train, test, options).Restore(shorter.SaveState()));
        Assert.Throws<ArgumentException>(() => new Trainer(Build("plain"), Optimizer("adam"), train.Take(150), test, options).Restore(shorter.SaveState()));
        var cosine = new Trainer(Build("plain"), Optimizer("adam"), train, test, options with { Schedule = new LearningRateSchedule.Cosine() });
        cosine.Train();
        e = Assert.Throws<ArgumentException>(() => new Trainer(Build("plain"), Optimizer("adam"), train, test, options with { Schedule = new LearningRateSchedule.Cosine(), Epochs = 3 }).Restore(cosine.SaveState()));
        Assert.Contains("cosine schedule spans", e.Message);
    }

    [Fact]
    public void Optimizers_hand_out_their_state_as_copies_and_take_it_back()
    {
        foreach (string name in Optimizer<float>.Names)
        {
            var net = Networks.TwoLayerNet<float>(4, 3, 2, seed: 1);
            var x = NDArray<float>.From([1, 2, 3, 4, 4, 3, 2, 1], 2, 4);
            int[] t = [0, 1];
            var a = Optimizer<float>.Create(name);
            for (int i = 0; i < 3; i++) { net.Gradient(x, t); a.Step(net.Parameters); }
            var state = a.SaveState(net.NamedParameters());
            Assert.Equal(3, state.Steps);
            Assert.Equal(name, state.Optimizer);
            Assert.Equal(a.StateNames, state.StateNames);
            Assert.Equal(net.NamedParameters().Select(p => p.Name), state.ParameterNames); // SGD with no arrays each
            var copy = Networks.TwoLayerNet<float>(4, 3, 2, seed: 1);
            copy.CopyStateFrom(net);
            var b = Optimizer<float>.Create(name);
            b.LoadState(state, copy.NamedParameters());
            Assert.Equal(3, b.Steps);
            // Changing what was handed out changes nothing inside.
            foreach (var arrays in state.Parameters.Values) foreach (var array in arrays) Array.Fill(array, 1e9f);
            for (int i = 0; i < 2; i++)
            {
                net.Gradient(x, t); a.Step(net.Parameters);
                copy.Gradient(x, t); b.Step(copy.Parameters);
            }
            AssertSameTensors(net, copy, name);
            Assert.Throws<ArgumentException>(() => Optimizer<float>.Create(name == "adam" ? "sgd" : "adam").LoadState(state, copy.NamedParameters()));
        }
        Assert.Equal(["m", "v"], new Adam<float>().StateNames);
        Assert.Equal(2, new Adam<float>().SaveState([]).StateNames.Count);
    }

    [Fact]
    public void A_generator_given_another_ones_state_draws_the_same_and_refuses_an_all_zero_state()
    {
        var a = new Rng(9);
        a.NextGaussian(); // leaves a spare normal draw
        var b = new Rng(1) { State = a.State };
        for (int i = 0; i < 5; i++) Assert.Equal(a.NextGaussian(), b.NextGaussian());
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
        Assert.Throws<ArgumentException>(() => b.State = new RngState(0, 0, 0, 0, null));
        Assert.Throws<ArgumentException>(() => b.State = new RngState(1, 0, 0, 0, double.NaN));
    }

    [Fact]
    public void A_checkpoint_file_is_refused_by_name_when_it_is_a_model_another_version_or_inconsistent()
    {
        string dir = Directory.CreateTempSubdirectory("zerodl-ckpt").FullName;
        try
        {
            var trainer = new Trainer(Build("dropout"), Optimizer("adam"), mnist.Data.Train.Take(100), mnist.Data.Test.Take(20), new TrainerOptions { Epochs = 1, BatchSize = 50 });
            trainer.Train();
            var good = trainer.SaveState();
            string path = Path.Combine(dir, "run.ckpt");
            CheckpointFile.Save(good, path, new Dictionary<string, string> { ["args"] = "[]" });
            Assert.Equal("[]", CheckpointFile.Load(path).Run["args"]);

            string model = Path.Combine(dir, "m.safetensors");
            ModelFile.Save(good.Model, model);
            Assert.Contains("model file, not a training checkpoint", Assert.Throws<DataFormatException>(() => CheckpointFile.Load(model)).Message);
            // And the other way round (evaluate --model run.ckpt said only "not a ZeroDL model").
            Assert.Equal($"{path}: this is a training checkpoint (.ckpt), not a model file: train --resume reads it",
                Assert.Throws<DataFormatException>(() => ModelFile.Load(path)).Message);

            void Refused(string what, Func<Dictionary<string, string>, Dictionary<string, string>> change, Func<List<(string, NDArray<float>)>, List<(string, NDArray<float>)>>? tensors = null)
            {
                var (stored, metadata) = SafeTensors.Read(path);
                var list = stored.Select(s => (s.Key, new NDArray<float>(s.Value.Values, s.Value.Shape))).ToList();
                string bad = Path.Combine(dir, "bad.ckpt");
                AtomicFile.Write(bad, s => SafeTensors.Write(s, tensors is null ? list : tensors(list), change(metadata)));
                var e = Assert.Throws<DataFormatException>(() => CheckpointFile.Load(bad));
                Assert.StartsWith(bad, e.Message);
                Assert.Contains(what, e.Message);
            }
            Refused("format_version '3'", m => { m["format_version"] = "3"; return m; });
            Refused("format_version 1 was written by an older ZeroDL", m => { m["format_version"] = "1"; return m; });
            Refused("no state", m => { m.Remove("state"); return m; });
            Refused("losses for", m => { m["state"] = m["state"].Replace("\"loss\":[", "\"loss\":[1,"); return m; });
            Refused("iteration", m => { m["state"] = m["state"].Replace("\"iteration\":2,", "\"iteration\":-1,"); return m; });
            Refused("all zeros", m => { m["state"] = System.Text.RegularExpressions.Regex.Replace(m["state"], "\"words\":\\[[0-9,]+\\]", "\"words\":[0,0,0,0]"); return m; });
            Refused("twice", m => { m["state"] = System.Text.RegularExpressions.Regex.Replace(m["state"], "\"order\":\\[(\\d+),(\\d+),", "\"order\":[$1,$1,"); return m; });
            Refused("batch", m => { m["state"] = m["state"].Replace("\"batch_size\":50", "\"batch_size\":0"); return m; });
            Refused("unknown_key", m => { m["state"] = m["state"].Replace("{\"iteration\"", "{\"unknown_key\":1,\"iteration\""); return m; });
            Refused("optimizer/affine1.W/m", m => m, l => [.. l.Where(t => t.Item1 != "optimizer/affine1.W/m")]);
            Refused("NaN", m => m, l => [.. l.Select(t => t.Item1 == "model/affine1.W" ? (t.Item1, Poison(t.Item2)) : t)]);
            Refused("neither the model's nor the optimizer's", m => m, l => [.. l, ("stray", new NDArray<float>(2))]);
            Refused("dropout layers", m => { m["state"] = m["state"].Replace("\"dropout1\"", "\"dropout9\""); return m; });
            // Adam's v is an average of squared gradients: a negative one (finite, so it passed) made the first resumed
            // step's square root NaN and the run stop as "diverged ... try a lower learning rate".
            Refused("tensor 'optimizer/affine1.W/v' holds -1 at index 0; adam's v", m => m, l => [.. l.Select(t => t.Item1 == "optimizer/affine1.W/v" ? (t.Item1, Negative(t.Item2)) : t)]);
        }
        finally { Directory.Delete(dir, recursive: true); }

        static NDArray<float> Poison(NDArray<float> t) { var c = NDArray<float>.FromArray(t.ReadOnlySpan.ToArray(), [.. t.Shape]); c.Span[0] = float.NaN; return c; }
        static NDArray<float> Negative(NDArray<float> t) { var c = NDArray<float>.FromArray(t.ReadOnlySpan.ToArray(), [.. t.Shape]); c.Span[0] = -1; return c; }
    }

    [Theory]
    [InlineData("sgd", "")]
    [InlineData("momentum", "")]
    [InlineData("nesterov", "")]
    [InlineData("adagrad", "h")]
    [InlineData("rmsprop", "h")]
    [InlineData("adam", "v")]
    public void Optimizers_name_the_states_that_are_sums_of_squares(string name, string nonNegative)
    {
        var optimizer = Optimizer<float>.Create(name);
        Assert.Equal(nonNegative.Length == 0 ? [] : [nonNegative], optimizer.NonNegativeStateNames);
        Assert.All(optimizer.NonNegativeStateNames, n => Assert.Contains(n, optimizer.StateNames));
    }

    [Fact]
    public void Ten_thousand_mutated_checkpoint_files_are_read_or_refused_cleanly_within_a_memory_bound()
    {
        // A small checkpoint whose every part (model with dropout, Adam's moments, order, generators, history) is in a
        // few KB, so the mutations land in the JSON and the header as often as in the tensors' bytes.
        var rng = new Rng(4);
        var net = new Sequential<float>([4], [new Affine<float>(4, 3, 0.5, rng), new Dropout<float>(0.2, DropoutMode.Classic, rng.Fork()), new Affine<float>(3, 2, 0.5, rng)]);
        var adam = new Adam<float>();
        var x = NDArray<float>.From([1, 2, 3, 4, 4, 3, 2, 1], 2, 4);
        for (int i = 0; i < 3; i++) { net.Gradient(x, [0, 1]); adam.Step(net.Parameters); }
        var order = new Rng(5).Permutation(10);
        var checkpoint = new TrainingCheckpoint
        {
            Iteration = 3, Epoch = 1, Options = new TrainerOptions { Epochs = 2, BatchSize = 4, Schedule = new LearningRateSchedule.Cosine(), CheckpointEvery = 2 }, Model = net,
            Optimizer = adam.SaveState(net.NamedParameters()), LearningRate = 0.001, ScheduleIterations = 6,
            Data = new LoaderPosition(3, [.. order], new Rng(6).State),
            Dropout = System.Collections.Immutable.ImmutableDictionary.CreateRange([KeyValuePair.Create("dropout1", new Rng(7).State)]),
            Loss = [2.5, 2.25, 2.0], Epochs = [new EpochResult(1, 3, 0.5, double.NaN, 2.25, TimeSpan.FromSeconds(1.5)) { LearningRate = 0.00075 }], Elapsed = TimeSpan.FromSeconds(2),
        };
        using var stream = new MemoryStream();
        CheckpointFile.Write(stream, checkpoint, new Dictionary<string, string> { ["args"] = "[\"--epochs\",\"2\"]" });
        byte[] seed = stream.ToArray();
        var back = CheckpointFile.Parse(seed, "seed.ckpt").Checkpoint;
        Assert.Equal(checkpoint.Loss.ToArray(), back.Loss.ToArray());
        Assert.True(double.IsNaN(back.Epochs[0].TestAccuracy));
        Assert.Equal(checkpoint.Epochs[0].LearningRate, back.Epochs[0].LearningRate);
        Assert.Equal(checkpoint.Data.Order.ToArray(), back.Data.Order.ToArray());
        // The one binary size field is safetensors' header length; everything else is JSON or tensor bytes.
        // Bound: a 2 KB file may cost its JSON document, the network it describes (checked against its tensors before
        // it is built) and the error's text — 8 MB is far above that and far below what an unchecked size would take.
        var report = Fixtures.MutationSweep.Run(seed, [new Fixtures.SizeField("header length", 0, 8, BigEndian: false)],
            bytes => CheckpointFile.Parse(bytes, "mutated.ckpt"), maxAllocatedBytes: 8 << 20, count: 10_000);
        Assert.Equal(10_000, report.Cases);
        Assert.True(report.Refused > 1000 && report.Parsed > 0, $"{report.Parsed} read, {report.Refused} refused");
    }

    internal static void AssertSameTensors(Sequential<float> expected, Sequential<float> actual, string what)
    {
        var a = expected.NamedTensors().ToList();
        var b = actual.NamedTensors().ToList();
        Assert.Equal(a.Select(t => t.Name), b.Select(t => t.Name));
        for (int i = 0; i < a.Count; i++)
        {
            var x = a[i].Value.ReadOnlySpan; var y = b[i].Value.ReadOnlySpan;
            for (int j = 0; j < x.Length; j++)
                if (BitConverter.SingleToInt32Bits(x[j]) != BitConverter.SingleToInt32Bits(y[j]))
                    Assert.Fail($"{what}: {a[i].Name}[{j}] is {y[j]:R}, the uninterrupted run's {x[j]:R}");
        }
    }
}
