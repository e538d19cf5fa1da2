using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 19 §3: a NaN or infinite loss, gradient or weight stops the run, names the iteration, the first layer and
/// parameter where it appeared and suggests a lower learning rate; nothing bad reaches a checkpoint or a model file.
/// </summary>
public class DivergenceTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    [Fact]
    public void A_nan_weight_stops_the_run_at_its_first_iteration_before_the_step_naming_the_first_layer()
    {
        var net = Networks.TwoLayerNet<float>(784, 16, 10, seed: 1);
        net.Layers[2].Parameters[0].Value.Span[5] = float.NaN; // affine2.W: every output, hence the loss and every gradient, is NaN
        var before = net.NamedTensors().Select(t => (t.Name, t.Value.ReadOnlySpan.ToArray())).ToList();
        var trainer = new Trainer(net, new Adam<float>(), mnist.Data.Train.Take(200), mnist.Data.Test.Take(50), new TrainerOptions { Epochs = 1, BatchSize = 50 });
        int checkpoints = 0;
        trainer.CheckpointReady += _ => checkpoints++;
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train());
        Assert.Equal(1, e.Iteration);
        Assert.Equal(DivergedQuantity.Gradient, e.Quantity);
        Assert.Equal("affine1", e.Layer); // the first layer in order whose gradient is not finite
        Assert.Equal("affine1.W", e.Parameter);
        Assert.Equal(0, checkpoints);
        Assert.Equal("training diverged at iteration 1: the gradient of affine1.W (layer affine1) is not finite, the loss is NaN; try a lower learning rate than 0.001, e.g. 0.0001", e.Message);
        // Stopped before the optimizer's step: the weights are as they were.
        foreach (var ((name, value), (_, now)) in before.Zip(net.NamedTensors()))
            Assert.True(value.AsSpan().SequenceEqual(now.ReadOnlySpan), $"{name} changed");
    }

    [Fact]
    public void A_learning_rate_far_too_high_stops_the_run_and_every_checkpoint_handed_out_is_finite()
    {
        var net = Networks.TwoLayerNet<float>(784, 16, 10, seed: 1);
        var trainer = new Trainer(net, new Sgd<float>(1e30), mnist.Data.Train.Take(400), mnist.Data.Test.Take(50),
            new TrainerOptions { Epochs = 3, BatchSize = 50, CheckpointEvery = 1 });
        var checkpoints = new List<TrainingCheckpoint>();
        trainer.CheckpointReady += checkpoints.Add;
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train());
        Assert.NotNull(e.Layer);
        Assert.StartsWith(e.Layer + ".", e.Parameter);
        Assert.Contains("try a lower learning rate than 1E+30, e.g. 1E+29", e.Message);
        Assert.All(checkpoints, c => Assert.True(c.Iteration < e.Iteration));
        Assert.Equal(e.Iteration - 1, checkpoints.Count); // one per good iteration, none from the bad one on
        foreach (var c in checkpoints)
            foreach (var (name, value) in c.Model.NamedTensors())
                foreach (float v in value.ReadOnlySpan) Assert.True(float.IsFinite(v), $"checkpoint {c.Iteration}: {name} holds {v}");
    }

    [Fact]
    public void The_cli_exits_3_naming_the_iteration_and_keeps_the_good_model_and_checkpoint()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string model = Path.Combine(dir, "m.safetensors"), checkpoint = Path.Combine(dir, "m.ckpt");
            string[] common = ["train", "--model", "mlp", "--hidden", "16", "--train-samples", "200", "--batch-size", "50", "--eval-samples", "50", "--out", model];
            var (code, _, err) = CliTests.Run([.. common, "--epochs", "1"]);
            Assert.True(code == 0, err);
            byte[] good = File.ReadAllBytes(model);
            // The same files, a rate that diverges within the first epoch: the earlier run's model stays, and the
            // checkpoint holds this run's last good state (the reader refuses NaN, so loading it proves it finite).
            (code, _, err) = CliTests.Run([.. common, "--epochs", "2", "--optimizer", "sgd", "--lr", "1e30", "--checkpoint-every", "1"]);
            Assert.Equal(3, code);
            Assert.Contains("zerodl: training diverged at iteration ", err);
            Assert.Contains("try a lower learning rate than 1E+30", err);
            Assert.Contains($"the last good checkpoint is {checkpoint}", err);
            Assert.Equal(good, File.ReadAllBytes(model));
            var kept = CheckpointFile.Load(checkpoint).Checkpoint;
            Assert.Equal(1e30, kept.LearningRate);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
