using ZeroDL.Layers;
using ZeroDL.Models;

namespace ZeroDL.Tests;

public class NetworkTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static (NDArray<double> X, int[] T) Batch(int n, int features, int classes, int seed)
    {
        var rng = new Rng(seed);
        var x = new NDArray<double>(n, features);
        for (int i = 0; i < x.Size; i++) x.Data[i] = rng.NextDouble();
        var t = Enumerable.Range(0, n).Select(_ => rng.Next(classes)).ToArray();
        return (x, t);
    }

    [Fact]
    public void TwoLayerNet_gradient_check_as_in_the_book()
    {
        var net = Networks.TwoLayerNet<double>(784, 50, 10, seed: 1);
        var (x, t) = Batch(3, 784, 10, 2);
        var diffs = GradientCheck.Run(net, x, t);
        foreach (var (name, diff) in diffs) output.WriteLine($"{name}: mean |backprop − numerical| = {diff:E2}");
        Assert.Equal(["affine1.W", "affine1.b", "affine2.W", "affine2.b"], diffs.Select(d => d.Name));
        // With no epsilon inside the log, backprop and central differences agree to ≤ 1e-9 (the book reports ~1e-10..1e-13).
        Assert.All(diffs, d => Assert.True(d.MeanAbsDiff <= 1e-9, $"{d.Name}: {d.MeanAbsDiff:E2}"));
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    public void MultiLayerNet_with_weight_decay_gradient_check(string activation)
    {
        var net = Networks.MultiLayerNet<double>([8, 7], seed: 3, Layers.ActivationLayers.Parse(activation), WeightInit.Xavier, weightDecay: 0.1, inputSize: 12, outputSize: 4);
        var (x, t) = Batch(5, 12, 4, 4);
        Assert.All(GradientCheck.Run(net, x, t), d => Assert.True(d.MeanAbsDiff <= 1e-9, $"{activation} {d.Name}: {d.MeanAbsDiff:E2}"));
    }

    [Fact]
    public void MultiLayerNetExtend_with_batchnorm_gradient_check_and_layer_order()
    {
        var spec = new ModelSpec { Kind = NetworkKind.MlpExtend, HiddenSizes = [6, 5], BatchNorm = true, Dropout = 0.3 };
        var net = spec.Build<double>([10], 3, seed: 5);
        Assert.Equal(["affine", "batchnorm", "relu", "dropout", "affine", "batchnorm", "relu", "dropout", "affine"], net.Layers.Select(l => l.Kind));
        // Gradient check without dropout (its mask changes on every forward pass).
        var checkable = (spec with { Dropout = 0 }).Build<double>([10], 3, seed: 5);
        var (x, t) = Batch(6, 10, 3, 6);
        var diffs = GradientCheck.Run(checkable, x, t);
        Assert.Contains(diffs, d => d.Name == "batchnorm1.gamma");
        Assert.All(diffs, d => Assert.True(d.MeanAbsDiff <= 1e-9, $"{d.Name}: {d.MeanAbsDiff:E2}"));
    }

    [Fact]
    public void Weight_decay_adds_half_lambda_sum_of_squares_of_weights_only()
    {
        var net = Networks.MultiLayerNet<double>([2], 1, weightDecay: 0.5, inputSize: 3, outputSize: 2);
        foreach (var (name, p) in net.NamedParameters()) p.Value.Span.Fill(name.EndsWith(".b") ? 10 : 1);
        // W1 has 6 ones, W2 has 4 ones: 0.5·0.5·10 = 2.5; biases are not decayed.
        Assert.Equal(2.5, net.WeightDecayLoss(), 12);
    }

    [Fact]
    public void Books_two_by_three_softmax_net_golden()
    {
        var w = NDArray<double>.From(new[,] { { 0.47355232, 0.9977393, 0.84668094 }, { 0.85557411, 0.03563661, 0.69422093 } });
        var affine = new Affine<double>(w, new NDArray<double>(3));
        var net = new Sequential<double>([2], [affine]);
        var x = NDArray<double>.From([0.6, 0.9], 1, 2);
        Check.AllClose([1.05414809, 0.63071653, 1.1328074], net.Predict(x).ToDoubleArray(), 1e-8, "scores");
        var oneHot = NDArray<double>.From([0.0, 0, 1], 1, 3);
        net.LossLayer.LogEpsilon = 1e-7; // the book's cross_entropy_error
        Check.Close(0.928068, net.Gradient(x, oneHot), 1e-6, "loss");
        Check.AllClose([0.21924757, 0.14356243, -0.36281, 0.32887136, 0.21534364, -0.544215], affine.W.Grad.ToDoubleArray(), 1e-6, "dW");
    }

    [Fact]
    public void Same_seed_same_weights_other_seed_other_weights()
    {
        Func<int, double[]> weights = seed => Networks.MultiLayerNet<float>([10], seed, inputSize: 20, outputSize: 3).NamedTensors().First().Value.ToDoubleArray();
        var a = weights(42);
        var b = weights(42);
        var c = weights(43);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData("he", 784, 0.0505)]
    [InlineData("xavier", 784, 0.0357)]
    [InlineData("0.01", 784, 0.01)]
    public void Init_scales_by_fan_in(string scheme, int fanIn, double expectedStd)
    {
        Assert.Equal(expectedStd, WeightInit.Parse(scheme).StdFor(fanIn), 4);
        var w = Init.Normal<double>(WeightInit.Parse(scheme).StdFor(fanIn), new Rng(1), fanIn, 100).ToDoubleArray();
        double std = Math.Sqrt(w.Select(v => v * v).Average());
        Check.Close(expectedStd, std, expectedStd * 0.02, "sample std");
    }

    [Fact]
    public void A_batchnorm_fused_with_its_relu_gives_the_numbers_of_the_two_layers()
    {
        // deepconv-best's spec fuses each per-channel BatchNorm with the ReLU after it (Fusion.FuseBatchNormRelu).
        // Built again with every fused BatchNorm taken apart into BatchNorm → ReLU, from the same seed: scores, loss,
        // every gradient and the running statistics after each training step must be the same bits, and so must an
        // evaluation pass after two clean steps. A batch of 20 splits the first BatchNorms' channels over two threads.
        // The last step has a NaN pixel, which turns every later value into NaN (and NaN equals NaN here), so the
        // clean steps come first and their loss is checked to be a number.
        var architecture = ModelPresets.Find("deepconv-best").Spec.ToArchitecture([1, 28, 28], 10);
        Assert.Equal(6, architecture.Layers.Count(l => l is Layers.BatchNormConfig { Activation: Layers.Activation.Relu }));
        var apart = new Architecture(architecture.InputShape.ToArray(), architecture.Layers.SelectMany(l => l is Layers.BatchNormConfig { Activation: not null } b
            ? new Layers.LayerConfig[] { b with { Activation = null }, new Layers.ReluConfig() } : [l]), architecture.WeightDecay);
        using var limit = ZeroDL.Kernels.Gemm.LimitThreadsOnThisThread(2); // this thread only: tests run side by side
        var fused = architecture.Build<float>(seed: 3);
        var plain = apart.Build<float>(seed: 3);
        Assert.Equal(plain.Layers.Count, fused.Layers.Count + 6);
        var rng = new Rng(11);
        int[] labels = [.. Enumerable.Range(0, 20).Select(i => i % 10)];
        for (int step = 0; step < 3; step++)
        {
            if (step == 2)
            {
                var test = new NDArray<float>(5, 1, 28, 28); rng.FillUniform(test.Data, 0, 1);
                var scores = fused.Predict(test);
                Assert.All(scores.Data, v => Assert.True(float.IsFinite(v)));
                Assert.Equal(plain.Predict(test).Data, scores.Data);
            }
            var x = new NDArray<float>(20, 1, 28, 28); rng.FillUniform(x.Data, 0, 1);
            if (step == 2) x.Data[100] = float.NaN;
            Assert.Equal(plain.Predict(x, training: true).Data, fused.Predict(x, training: true).Data);
            double loss = fused.Gradient(x, labels);
            if (step < 2) Assert.True(double.IsFinite(loss) && loss > 0, $"step {step}: loss {loss}");
            Assert.Equal(plain.Gradient(x, labels), loss);
            Assert.Equal(plain.Parameters.Select(p => p.Grad.Data).ToList(), fused.Parameters.Select(p => p.Grad.Data).ToList());
            Assert.Equal(plain.Layers.SelectMany(l => l.State).Select(t => t.Value.Data).ToList(), fused.Layers.SelectMany(l => l.State).Select(t => t.Value.Data).ToList());
        }
    }

    [Fact]
    public void A_convolution_fused_with_its_relu_gives_the_numbers_of_the_two_layers()
    {
        // Fusion.FuseConvolutionRelu turns every Convolution → ReLU pair into one convolution that applies max(0, ·)
        // chunk by chunk and gates the gradient. Scores, loss and every gradient must equal those of the layers run
        // apart, bit for bit: the book's DeepConvNet (its factory fuses; shifted windows for conv1, Winograd for the
        // rest) and two stride-2 convolutions (the im2col path, the second one passing a gradient back to the first).
        // Two builds of each network with the same seed (the same weights and dropout masks): one fused, one apart.
        Func<List<Layers.ILayer<float>>> strided = () => [
            new Layers.Convolution<float>(RandomTensor(new Rng(5), 6, 1, 3, 3), new NDArray<float>(6), stride: 2, pad: 1),
            new Layers.Relu<float>(),
            new Layers.Convolution<float>(RandomTensor(new Rng(8), 4, 6, 3, 3), new NDArray<float>(4), stride: 2, pad: 1),
            new Layers.Relu<float>(), new Layers.Flatten<float>(),
            new Layers.Affine<float>(RandomTensor(new Rng(6), 4 * 7 * 7, 10), new NDArray<float>(10))];
        var builds = new (Func<Sequential<float>> Fused, Func<Sequential<float>> Apart)[]
        {
            (() => Networks.DeepConvNet<float>(seed: 4), () => new Sequential<float>([1, 28, 28], Apart(Networks.DeepConvNet<float>(seed: 4).Layers))),
            (() => new Sequential<float>([1, 28, 28], Models.Fusion.FuseConvolutionRelu(strided())), () => new Sequential<float>([1, 28, 28], strided())),
        };
        var rng = new Rng(7);
        var x = new NDArray<float>(3, 1, 28, 28); rng.FillUniform(x.Data, -1, 1);
        int[] labels = [3, 1, 4];
        // Clean input first: a NaN reaches every weight gradient (0 · NaN), which would hide any difference there.
        foreach (bool withNaN in new[] { false, true })
        {
            if (withNaN) x.Data[5] = float.NaN; // a NaN pixel: both ways must give the same NaNs and zeros
            foreach (var (fusedBuild, apartBuild) in builds)
            {
                var fusedNet = fusedBuild();
                var apartNet = apartBuild();
                Assert.DoesNotContain(fusedNet.Layers, l => l is Layers.Relu<float> && fusedNet.Layers[fusedNet.Layers.ToList().IndexOf(l) - 1] is Layers.Convolution<float>);
                Assert.Contains(apartNet.Layers.Zip(apartNet.Layers.Skip(1)), p => p.First is Layers.Convolution<float> && p.Second is Layers.Relu<float>);
                var (fusedScores, fused) = Run(fusedNet);
                var (apartScores, apartGrads) = Run(apartNet);
                Assert.Equal(apartScores, fusedScores);
                Assert.Equal(withNaN, fusedScores.Any(float.IsNaN));
                if (!withNaN) Assert.All(fused, g => Assert.DoesNotContain(g, float.IsNaN));
                Assert.Equal(apartGrads.Count, fused.Count);
                for (int i = 0; i < fused.Count; i++) Assert.Equal(apartGrads[i], fused[i]);
            }
        }

        (float[] Scores, List<float[]> Gradients) Run(Sequential<float> net)
        {
            float[] scores = net.Predict(x).Clone().Data;
            net.Gradient(x, labels);
            return (scores, net.Parameters.Select(p => p.Grad.Data.ToArray()).ToList());
        }

        // The fused network's layers with each rectifying convolution taken apart into a plain one and a ReLU.
        static List<Layers.ILayer<float>> Apart(IEnumerable<Layers.ILayer<float>> layers) =>
        [
            .. layers.SelectMany(l => l is Layers.Convolution<float> { Rectifies: true } c
                ? new Layers.ILayer<float>[] { new Layers.Convolution<float>(c.W.Value, c.B.Value, c.Stride, c.Pad), new Layers.Relu<float>() }
                : [l]),
        ];

        static NDArray<float> RandomTensor(Rng rng, params int[] shape)
        {
            var t = new NDArray<float>(shape); rng.FillUniform(t.Data, -0.5, 0.5);
            return t;
        }
    }

    [Fact]
    public void Clone_and_copy_state_reproduce_predictions_and_refuse_other_architectures()
    {
        var spec = new ModelSpec { Kind = NetworkKind.MlpExtend, HiddenSizes = [8], BatchNorm = true };
        var net = spec.Build<double>([12], 3, 1);
        var (x, t) = Batch(6, 12, 3, 2);
        net.Gradient(x, t); // running statistics move away from their initial values
        var copy = net.CloneArchitecture();
        Assert.NotEqual(net.Predict(x).Clone().ToDoubleArray(), copy.Predict(x).ToDoubleArray());
        copy.CopyStateFrom(net);
        Assert.Equal(net.Predict(x).Clone().ToDoubleArray(), copy.Predict(x).ToDoubleArray());
        var other = (spec with { HiddenSizes = [9] }).Build<double>([12], 3, 1);
        Assert.Contains("differ in architecture", Assert.Throws<ArgumentException>(() => other.CopyStateFrom(net)).Message);
    }

    [Fact]
    public void Bad_specs_are_refused_by_field()
    {
        Assert.Contains("activation", Assert.Throws<ArgumentException>(() => new ModelSpec { Activation = (Layers.Activation)7 }.Validated()).Message);
        Assert.Throws<FormatException>(() => Layers.ActivationLayers.Parse("gelu"));
        Assert.Contains("hidden", Assert.Throws<ArgumentException>(() => new ModelSpec { HiddenSizes = [] }.Validated()).Message);
        Assert.Contains("dropout", Assert.Throws<ArgumentException>(() => new ModelSpec { Dropout = 1.5 }.Validated()).Message);
        Assert.Contains("mlp-bn", Assert.Throws<ArgumentException>(() => new ModelSpec { Kind = NetworkKind.Mlp, Dropout = 0.5 }.Validated()).Message);
        Assert.Throws<FormatException>(() => WeightInit.Parse("-1"));
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightInit.Std(double.NaN));
        Assert.Throws<FormatException>(() => Architecture.FromJson("{not json"));
    }

    [Theory]
    [InlineData("per-channel", new[] { 16, 16, 32, 32, 64, 64 })]
    [InlineData("per-activation", new[] { 16 * 28 * 28, 16 * 28 * 28, 32 * 14 * 14, 32 * 16 * 16, 64 * 8 * 8, 64 * 8 * 8 })]
    public void DeepConvNet_batchnorm_mode_is_chosen_by_name(string mode, int[] features)
    {
        var spec = Networks.DeepConvNetSpec() with { BatchNorm = true, BatchNormMode = Layers.BatchNormalization<float>.ParseMode(mode) };
        var net = spec.Build<float>(seed: 1);
        var norms = net.Layers.OfType<Layers.BatchNormalization<float>>().ToList();
        Assert.Equal(features, norms.Select(n => n.Features));
        Assert.All(norms, n => Assert.Equal(Layers.BatchNormalization<float>.ParseMode(mode), n.Mode));
        var y = net.Predict(new NDArray<float>(2, 1, 28, 28), training: true); // shapes fit end to end
        Assert.Equal([2, 10], y.Shape);
        Assert.Throws<FormatException>(() => Layers.BatchNormalization<float>.ParseMode("per-pixel"));
        Assert.Contains($"\"mode\":\"{mode}\"", net.Architecture.ToJson()); // stored in model files by name
        Assert.Equal(net.Architecture, Architecture.FromJson(net.Architecture.ToJson()));
    }

    [Fact]
    public void DeepConvNet_output_dropout_can_be_left_out_and_older_files_keep_the_books_two()
    {
        var book = Networks.DeepConvNet<float>(seed: 1);
        var variant = ModelPresets.Find("deepconv-aug").Spec;
        var net = variant.Build<float>(seed: 1);
        Assert.IsType<Layers.Dropout<float>>(book.Layers[^1]);      // the book: Affine → Dropout at the end
        Assert.IsType<Layers.Affine<float>>(net.Layers[^1]);        // the variant ends with the output Affine
        Assert.Single(net.Layers.OfType<Layers.Dropout<float>>());
        // Version 1 files stored the recipe; one written before "output_dropout" existed keeps the book's two dropouts.
        const string older = "{\"kind\":\"deepconv\",\"input_size\":784,\"hidden_sizes\":[50],\"output_size\":10,\"activation\":\"relu\",\"weight_init\":\"he\",\"weight_decay\":0,\"batch_norm\":false,\"batch_norm_mode\":\"per-channel\",\"dropout\":0.5,\"dropout_mode\":\"classic\"}";
        Assert.Equal(book.Architecture, Serialization.ModelFileV1.Architecture(older));
        Assert.Equal(net.Architecture, Serialization.ModelFileV1.Architecture(
            older.Replace("\"batch_norm\":false", "\"batch_norm\":true").Replace("classic", "inverted").Replace("}", ",\"output_dropout\":false}")));
        Assert.Contains("hidden layer only", variant.Describe());
        Assert.StartsWith("1×28×28 → conv 16 3×3 pad 1 → batchnorm (per-channel) relu → conv 16", net.Architecture.Describe());
        Assert.StartsWith("1×28×28 → conv 30 5×5 relu → max_pool 2×2 stride 2 → affine 100 → relu → affine 10", Networks.SimpleConvNet<float>(1).Architecture.Describe());
        var y = net.Predict(new NDArray<float>(2, 1, 28, 28), training: true);
        Assert.Equal([2, 10], y.Shape);
    }
}
