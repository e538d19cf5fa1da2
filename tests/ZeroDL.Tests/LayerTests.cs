using ZeroDL.Functions;
using ZeroDL.Layers;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary>
/// Every layer's Backward against central differences of its Forward, in float64: for a random upstream
/// gradient g, the numerical gradient of L(x) = Σ g·Forward(x) must equal Backward(g). Tolerance 1e-7
/// (central differences with h = 1e-4 are accurate to about h² times the third derivative).
/// </summary>
public class LayerTests
{
    private const double GradTolerance = 1e-7;

    private static NDArray<double> Random(Rng rng, params ReadOnlySpan<int> shape)
    {
        var t = new NDArray<double>(shape);
        for (int i = 0; i < t.Size; i++) t.Data[i] = rng.NextGaussian();
        return t;
    }

    private static double Dot(NDArray<double> a, NDArray<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Size; i++) s += a.Data[i] * b.Data[i];
        return s;
    }

    /// <summary>Checks dx and every parameter gradient of <paramref name="layer"/> at <paramref name="x"/>.</summary>
    private static void CheckLayer(ILayer<double> layer, NDArray<double> x, int seed = 1)
    {
        var rng = new Rng(seed);
        var y = layer.Forward(x, training: true).Clone();
        var g = Random(rng, y.Shape);
        var dx = layer.Backward(g).Clone();
        var paramGrads = layer.Parameters.Select(p => p.Grad.Clone()).ToList();
        double Loss(NDArray<double> _) => Dot(g, layer.Forward(x, training: true));
        var numericDx = NumericalDiff.Gradient(Loss, x);
        Check.AllClose(numericDx, dx, GradTolerance, $"{layer.Kind} dx");
        for (int i = 0; i < paramGrads.Count; i++)
        {
            var numeric = NumericalDiff.Gradient(Loss, layer.Parameters[i].Value);
            Check.AllClose(numeric, paramGrads[i], GradTolerance, $"{layer.Kind} d{layer.Parameters[i].Name}");
        }
    }

    [Fact]
    public void Affine_backward_matches_numerical_and_flattens_nd_input()
    {
        var rng = new Rng(2);
        var layer = new Affine<double>(Random(rng, 12, 5), Random(rng, 5));
        CheckLayer(layer, Random(rng, 4, 12));
        var x4 = Random(rng, 3, 3, 2, 2);
        CheckLayer(layer, x4);
        Assert.Equal(x4.Shape, layer.Backward(Random(rng, 3, 5)).Shape);
    }

    [Fact]
    public void Affine_on_a_compressed_batch_gives_the_outputs_and_gradients_of_its_dense_batch()
    {
        var rng = new Rng(12);
        var x = new NDArray<float>(7, 40);
        for (int i = 0; i < x.Size; i++) x.Data[i] = rng.NextDouble() < 0.2 ? (float)rng.NextDouble() : 0f;
        var w = new NDArray<float>(40, 13); rng.FillUniform(w.Data, -1, 1);
        var b = new NDArray<float>(13); rng.FillUniform(b.Data, -1, 1);
        var dout = new NDArray<float>(7, 13); rng.FillUniform(dout.Data, -1, 1);
        var dense = new Affine<float>(w, b);
        var y = dense.Forward(x, training: true).ReadOnlySpan.ToArray();
        var dx = dense.Backward(dout).ReadOnlySpan.ToArray();
        var compressed = new ZeroDL.Kernels.SparseMatrix();
        compressed.CompressRows(x.ReadOnlySpan, 7, 40, 40);
        var sparse = new Affine<float>(w, b);
        Assert.Equal(y, sparse.Forward(compressed, training: true).ReadOnlySpan.ToArray());
        var sparseDx = sparse.Backward(dout);
        Assert.Equal([7, 40], sparseDx.Shape);
        Assert.Equal(dx, sparseDx.ReadOnlySpan.ToArray());
        Assert.Equal(dense.W.Grad.ReadOnlySpan.ToArray(), sparse.W.Grad.ReadOnlySpan.ToArray());
        Assert.Equal(dense.B.Grad.ReadOnlySpan.ToArray(), sparse.B.Grad.ReadOnlySpan.ToArray());
        // Inference on a compressed batch leaves the training state alone: backward still refers to the batch above.
        var other = new ZeroDL.Kernels.SparseMatrix();
        other.CompressRows(new float[3 * 40], 3, 40, 40);
        sparse.Forward(other, training: false);
        Assert.Equal([7, 40], sparse.Backward(dout).Shape);
        Assert.Throws<ArgumentException>(() => sparse.Backward(new NDArray<float>(3, 13)));
        // A compressed batch denser than the sparse kernel takes goes the dense way: the dense layer's numbers.
        var full = new NDArray<float>(7, 40); rng.FillUniform(full.Data, 0.1, 1);
        var denseFull = new Affine<float>(w, b);
        var yFull = denseFull.Forward(full, training: true).ReadOnlySpan.ToArray();
        var dxFull = denseFull.Backward(dout).ReadOnlySpan.ToArray();
        compressed.CompressRows(full.ReadOnlySpan, 7, 40, 40);
        Assert.Equal(yFull, sparse.Forward(compressed, training: true).ReadOnlySpan.ToArray());
        Assert.Equal(dxFull, sparse.Backward(dout).ReadOnlySpan.ToArray());
        Assert.Equal(denseFull.W.Grad.ReadOnlySpan.ToArray(), sparse.W.Grad.ReadOnlySpan.ToArray());
    }

    [Fact]
    public void Relu_sigmoid_tanh_backward_match_numerical()
    {
        var rng = new Rng(3);
        var x = Random(rng, 5, 7);
        for (int i = 0; i < x.Size; i++) if (Math.Abs(x.Data[i]) < 1e-3) x.Data[i] = 0.5; // keep ReLU away from its kink
        CheckLayer(new Relu<double>(), x);
        CheckLayer(new Sigmoid<double>(), x);
        CheckLayer(new Tanh<double>(), x);
    }

    [Fact]
    public void BatchNorm_backward_matches_numerical_in_both_modes()
    {
        var rng = new Rng(4);
        var dense = new BatchNormalization<double>(6);
        for (int i = 0; i < 6; i++) { dense.Gamma.Value[i] = 1 + 0.3 * rng.NextGaussian(); dense.Beta.Value[i] = rng.NextGaussian(); }
        CheckLayer(dense, Random(rng, 8, 6));
        var perChannel = new BatchNormalization<double>(3, BatchNormMode.PerChannel);
        perChannel.Gamma.Value[1] = 2.0;
        CheckLayer(perChannel, Random(rng, 4, 3, 2, 3));
        // Rectifying (a ReLU fused into the layer), on the per-channel passes; inputs that keep every output away
        // from ReLU's kink, where central differences straddle it.
        var rectifying = new BatchNormalization<double>(3, BatchNormMode.PerChannel) { Rectifies = true };
        rectifying.Gamma.Value[0] = 1.5; rectifying.Beta.Value[2] = 0.4;
        var x = Random(rng, 4, 3, 3, 3);
        var pre = new BatchNormalization<double>(3, BatchNormMode.PerChannel) { Reference = true };
        rectifying.Gamma.Value.ReadOnlySpan.CopyTo(pre.Gamma.Value.Span); rectifying.Beta.Value.ReadOnlySpan.CopyTo(pre.Beta.Value.Span);
        var beforeRelu = pre.Forward(x, training: true);
        Assert.True(beforeRelu.ToDoubleArray().All(v => Math.Abs(v) > 1e-3), "an output at the kink: pick another seed");
        Assert.Contains(rectifying.Forward(x, training: true).ToDoubleArray(), v => v == 0);
        CheckLayer(rectifying, x);
    }

    [Fact]
    public void Dropout_backward_matches_numerical_for_a_fixed_mask()
    {
        // The mask is redrawn on each training Forward; check dx against the mask of one pass.
        foreach (var mode in new[] { DropoutMode.Classic, DropoutMode.Inverted })
        {
            var layer = new Dropout<double>(0.4, mode, new Rng(5));
            var x = Random(new Rng(6), 10, 10);
            var y = layer.Forward(x, training: true);
            var dx = layer.Backward(NDArray<double>.Full(1.0, 10, 10));
            double scale = mode == DropoutMode.Inverted ? 1 / 0.6 : 1;
            for (int i = 0; i < x.Size; i++)
            {
                Assert.True(dx.Data[i] == 0 || Math.Abs(dx.Data[i] - scale) < 1e-15);
                Check.Close(x.Data[i] * dx.Data[i], y.Data[i], 1e-15);
            }
        }
    }

    [Fact]
    public void Dropout_rules_at_inference_and_drop_rate()
    {
        var x = NDArray<double>.Full(2.0, 100, 100);
        var classic = new Dropout<double>(0.5, DropoutMode.Classic, new Rng(7));
        Assert.All(classic.Forward(x, training: false).ToDoubleArray(), v => Assert.Equal(1.0, v));
        var inverted = new Dropout<double>(0.5, DropoutMode.Inverted, new Rng(7));
        Assert.All(inverted.Forward(x, training: false).ToDoubleArray(), v => Assert.Equal(2.0, v));
        var trained = classic.Forward(x, training: true).ToDoubleArray();
        double dropped = trained.Count(v => v == 0) / (double)trained.Length;
        Check.Close(0.5, dropped, 0.02, "dropped fraction");
        double invertedMean = inverted.Forward(x, training: true).ToDoubleArray().Average();
        Check.Close(2.0, invertedMean, 0.05, "inverted dropout keeps the mean");
    }

    [Fact]
    public void BatchNorm_running_statistics_follow_the_book()
    {
        var bn = new BatchNormalization<double>(2);
        var x = NDArray<double>.From(new double[,] { { 1, 10 }, { 3, 20 } });
        bn.Forward(x, training: true);
        // mean (2, 15), biased variance (1, 25); running = 0.9·0 + 0.1·batch
        Check.AllClose([0.2, 1.5], bn.RunningMean.ToDoubleArray(), 1e-15);
        Check.AllClose([0.1, 2.5], bn.RunningVar.ToDoubleArray(), 1e-15);
        var y = bn.Forward(NDArray<double>.From(new double[,] { { 0.2, 1.5 } }), training: false);
        Check.AllClose([0, 0], y.ToDoubleArray(), 1e-12);
        var trainY = bn.Forward(x, training: true).ToDoubleArray();
        Check.AllClose([-1 / Math.Sqrt(1 + 1e-6), -5 / Math.Sqrt(25 + 1e-6), 1 / Math.Sqrt(1 + 1e-6), 5 / Math.Sqrt(25 + 1e-6)], trainY, 1e-12);
    }

    [Fact]
    public void SoftmaxWithLoss_backward_matches_numerical_for_labels_and_one_hot()
    {
        var rng = new Rng(8);
        var x = Random(rng, 4, 5);
        int[] labels = [0, 3, 4, 1];
        var loss = new SoftmaxWithLoss<double>();
        loss.Forward(x, labels);
        var dx = loss.Backward().Clone();
        var numeric = NumericalDiff.Gradient(t => loss.Forward(t, labels), x);
        Check.AllClose(numeric, dx, 1e-9, "softmax-with-loss dx");
        var oneHot = new NDArray<double>(4, 5);
        for (int i = 0; i < 4; i++) oneHot[i, labels[i]] = 1;
        Check.Close(loss.Forward(x, labels), loss.Forward(x, oneHot), 1e-15);
        Check.AllClose(dx, loss.Backward(), 1e-15);
    }

    [Fact]
    public void SoftmaxWithLoss_book_epsilon_reproduces_the_book_loss()
    {
        var y = NDArray<double>.From([0.1, 0.05, 0.6, 0, 0.05, 0.1, 0, 0.1, 0, 0], 1, 10);
        var logits = y.Clone();
        for (int i = 0; i < 10; i++) logits.Data[i] = Math.Log(Math.Max(y.Data[i], 1e-300));
        var layer = new SoftmaxWithLoss<double> { LogEpsilon = Losses.BookLogEpsilon };
        Check.Close(0.510825457, layer.Forward(logits, [2]), 1e-8);
    }

    [Fact]
    public void Apple_example_reproduces_prices_and_derivatives()
    {
        var mulApple = new MulLayer(); var mulOrange = new MulLayer(); var add = new AddLayer(); var mulTax = new MulLayer();
        // 2 apples only
        double applePrice = mulApple.Forward(100, 2);
        double price = mulTax.Forward(applePrice, 1.1);
        Check.Close(220, price, 1e-9);
        var (dApplePrice, dTax) = mulTax.Backward(1);
        var (dApple, dAppleNum) = mulApple.Backward(dApplePrice);
        Check.Close(2.2, dApple, 1e-12); Check.Close(110, dAppleNum, 1e-9); Check.Close(200, dTax, 1e-9);
        // apples and oranges
        applePrice = mulApple.Forward(100, 2);
        double orangePrice = mulOrange.Forward(150, 3);
        double all = add.Forward(applePrice, orangePrice);
        price = mulTax.Forward(all, 1.1);
        Check.Close(715, price, 1e-9);
        var (dAll, dTax2) = mulTax.Backward(1);
        var (dA, dO) = add.Backward(dAll);
        var (dOrange, dOrangeNum) = mulOrange.Backward(dO);
        var (dApple2, dAppleNum2) = mulApple.Backward(dA);
        Check.Close(3.3, dOrange, 1e-12); Check.Close(165, dOrangeNum, 1e-9); Check.Close(650, dTax2, 1e-9);
        Check.Close(2.2, dApple2, 1e-12); Check.Close(110, dAppleNum2, 1e-9);
    }

    [Fact]
    public void Backward_before_forward_is_a_clear_error()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new Relu<float>().Backward(new NDArray<float>(1, 1)));
        Assert.Contains("before Forward", e.Message);
        Assert.Throws<ArgumentException>(() => new Affine<float>(3, 2, 0.1, new Rng(1)).Forward(new NDArray<float>(2, 4), false));
    }

    // PyTorch-computed forward and backward (data/reference/torch_parity), float64, to about 1e-10.

    private static Dictionary<string, NpyArray> Case(string name) => Npy.ReadNpz(Path.Combine(TestPaths.TorchParity, name + ".npz"));

    [Theory]
    [InlineData("affine_0")]
    [InlineData("affine_1")]
    public void Affine_matches_torch(string name)
    {
        var c = Case(name);
        var layer = new Affine<double>(c["W"].ToNDArray<double>(), c["b"].ToNDArray<double>());
        Check.AllClose(c["y"].ToNDArray<double>(), layer.Forward(c["x"].ToNDArray<double>(), true), 1e-10, "y");
        Check.AllClose(c["dx"].ToNDArray<double>(), layer.Backward(c["dout"].ToNDArray<double>()), 1e-10, "dx");
        Check.AllClose(c["dW"].ToNDArray<double>(), layer.W.Grad, 1e-10, "dW");
        Check.AllClose(c["db"].ToNDArray<double>(), layer.B.Grad, 1e-10, "db");
    }

    [Theory]
    [InlineData("relu_0")]
    [InlineData("sigmoid_0")]
    [InlineData("tanh_0")]
    public void Activations_match_torch(string name)
    {
        var c = Case(name);
        ILayer<double> layer = name[..name.IndexOf('_')] switch { "relu" => new Relu<double>(), "sigmoid" => new Sigmoid<double>(), _ => new Tanh<double>() };
        Check.AllClose(c["y"].ToNDArray<double>(), layer.Forward(c["x"].ToNDArray<double>(), true), 1e-10, "y");
        Check.AllClose(c["dx"].ToNDArray<double>(), layer.Backward(c["dout"].ToNDArray<double>()), 1e-10, "dx");
    }

    [Theory]
    [InlineData("softmax_ce_0")]
    [InlineData("softmax_ce_1")]
    public void SoftmaxWithLoss_matches_torch(string name)
    {
        var c = Case(name);
        var labels = c["t"].Data.Select(v => (int)v).ToArray();
        var layer = new SoftmaxWithLoss<double>();
        Check.Close(c["loss"].Data[0], layer.Forward(c["x"].ToNDArray<double>(), labels), 1e-10, "loss");
        Check.AllClose(c["dx"].ToNDArray<double>(), layer.Backward(), 1e-10, "dx");
    }

    [Theory]
    [InlineData("bn_dense_0", BatchNormMode.PerActivation)]
    [InlineData("bn2d_0", BatchNormMode.PerChannel)]
    public void BatchNorm_matches_torch(string name, BatchNormMode mode)
    {
        var c = Case(name);
        var gamma = c["gamma"].ToNDArray<double>();
        var layer = new BatchNormalization<double>(gamma.Size, mode, epsilon: 1e-5);
        gamma.Span.CopyTo(layer.Gamma.Value.Span);
        c["beta"].ToNDArray<double>().Span.CopyTo(layer.Beta.Value.Span);
        Check.AllClose(c["y"].ToNDArray<double>(), layer.Forward(c["x"].ToNDArray<double>(), true), 1e-10, "y");
        Check.AllClose(c["dx"].ToNDArray<double>(), layer.Backward(c["dout"].ToNDArray<double>()), 1e-10, "dx");
        Check.AllClose(c["dgamma"].ToNDArray<double>(), layer.Gamma.Grad, 1e-10, "dgamma");
        Check.AllClose(c["dbeta"].ToNDArray<double>(), layer.Beta.Grad, 1e-10, "dbeta");
    }
}
