using System.Runtime.InteropServices;
using ZeroDL.Kernels;
using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Optimizers;

namespace ZeroDL.Tests;

/// <summary>
/// A rectifying convolution that pools its own output (<see cref="ConvolutionPooling{T}"/>, <see cref="MaxPool2x2"/>):
/// the same bits as the convolution and the pooling run one after the other. Run once more with
/// DOTNET_EnableAVX512=0 for the engines' 256-bit paths.
/// </summary>
public class ConvolutionPoolingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData(3, 2, 2)]    // one window a plane
    [InlineData(2, 7, 7)]    // DeepConvNet's last pooling: odd, three windows a row (routed one by one)
    [InlineData(2, 14, 14)]  // seven windows a row
    [InlineData(2, 28, 28)]  // fourteen: a vector of eight and the rest
    [InlineData(3, 5, 9)]    // odd both ways
    [InlineData(1, 3, 33)]   // sixteen windows in one row, an odd last column
    [InlineData(4, 6, 24)]   // twelve windows: eight and four
    public void The_2x2_kernels_give_max_poolings_maxima_winners_and_its_gradient_gated_by_a_relu(int planes, int h, int w)
    {
        // Values from a small set, so windows tie (the first in row-major order wins), with −0 against +0, NaN (which
        // wins against numbers, the first NaN among NaNs), and whole planes negative. The reference is MaxPooling's
        // per-window loop on float64 (no kernel of its own), its backward pass, and a ReLU's gate by the pooling's input.
        var rng = new Rng(planes * 100 + h * 10 + w);
        float[] choices = [-2f, -1f, -0f, 0f, 1f, 2f, float.NaN];
        int size = planes * h * w, windows = planes * (h / 2) * (w / 2);
        var x = new float[size + 40];
        for (int i = 0; i < size; i++) x[i] = choices[rng.Next(choices.Length)];
        if (planes > 1) for (int i = 0; i < h * w; i++) x[h * w + i] = -1f - rng.Next(3); // a plane all negative
        x.AsSpan(size).Fill(float.NaN); // past the planes: the vectors may read there, and must not take it
        var d = new float[windows];
        for (int o = 0; o < windows; o++) d[o] = o % 5 == 0 ? -0f : o % 7 == 0 ? float.NaN : (o + 1) * 0.25f;
        const int baseIndex = 1000;

        var pool = new MaxPooling<double>(2, 2, 2);
        var px = new NDArray<double>(1, planes, h, w);
        for (int i = 0; i < size; i++) px.Data[i] = x[i];
        var expected = pool.Forward(px, training: true).Data.Select(v => (float)v).ToArray();
        var pd = new NDArray<double>(1, planes, h / 2, w / 2);
        for (int o = 0; o < windows; o++) pd.Data[o] = d[o];
        var routed = pool.Backward(pd).Data.Select(v => (float)v).ToArray();
        var gated = new float[size];
        Relu<float>.Gate(x.AsSpan(0, size), routed, gated);

        // The plain per-window loop (the path without AVX2) and the vectors at either width: the same maxima and winners.
        var y = new float[windows];
        var argmax = new int[windows];
        MaxPool2x2.PoolWindows(x, planes, h, w, y, argmax, baseIndex);
        AssertBits(expected, y, "maxima, window by window");
        var winners = argmax.ToArray();
        foreach (bool vector512 in new[] { true, false })
        {
            y.AsSpan().Fill(float.NaN);
            argmax.AsSpan().Fill(-1);
            MaxPool2x2.Pool(x, planes, h, w, y, argmax, baseIndex, vector512);
            AssertBits(expected, y, $"maxima (512-bit allowed: {vector512})");
            Assert.Equal(winners, argmax);
        }
        var dx = new float[size];
        dx.AsSpan().Fill(float.NaN); // every element written
        MaxPool2x2.Route(d, argmax, default, planes, h, w, baseIndex, dx);
        AssertBits(routed, dx, "routed (the winners, through the indices)");
        dx.AsSpan().Fill(float.NaN);
        MaxPool2x2.Route(d, argmax, y, planes, h, w, baseIndex, dx);
        AssertBits(gated, dx, "routed and gated by the maxima");
        var reference = new float[size];
        MaxPool2x2.RouteReference(d, argmax, y, planes, h, w, baseIndex, reference);
        AssertBits(gated, reference, "the reference, gated");
        MaxPool2x2.RouteReference(d, argmax, default, planes, h, w, baseIndex, reference);
        AssertBits(routed, reference, "the reference, routed");
    }

    /// <summary>The layers of the networks the next test runs both ways: built twice from the same seed.</summary>
    public static TheoryData<string> Networks_ => ["deepconv", "simpleconv", "odd", "strided", "unfused"];

    [Theory]
    [MemberData(nameof(Networks_))]
    public void A_network_pooling_inside_its_convolutions_gives_the_bits_of_its_layers_run_one_by_one(string name)
    {
        // Sequential runs each rectifying convolution followed by a 2×2, stride-2 pooling as one pass; the same
        // network's layers called one by one run each layer's own passes. Scores (training and inference), loss,
        // every gradient and the weights after Adam steps must be the same bits, on one thread and on two. The batch
        // holds an all-zero image and a constant one (every window ties) and a very negative one (rectified to 0);
        // the last step has a NaN pixel.
        foreach (int threads in new[] { 1, 2 })
        {
            using var limit = Gemm.LimitThreadsOnThisThread(threads);
            var (fused, apart) = (Build(name), Build(name));
            var pairs = Enumerable.Range(0, fused.Layers.Count).Where(i => fused.StepLength(i) == 2).ToList();
            Assert.Equal(name switch { "deepconv" => 3, "simpleconv" => 1, "odd" or "strided" => 2, _ => 0 }, pairs.Count);
            Adam<float> fusedAdam = new(0.01), apartAdam = new(0.01);
            var rng = new Rng(23);
            int n = 6;
            int[] labels = [.. Enumerable.Range(0, n).Select(i => (i * 3) % 10)];
            for (int step = 0; step < 3; step++)
            {
                var x = new NDArray<float>([n, .. fused.InputShape]);
                rng.FillUniform(x.Data, -1, 1);
                int image = x.Size / n;
                x.Data.AsSpan(0, image).Clear();
                x.Data.AsSpan(image, image).Fill(0.5f);
                x.Data.AsSpan(2 * image, image).Fill(-5f);
                if (step == 2) x.Data[3 * image + 7] = float.NaN;
                string at = $"{name}, {threads} thread(s), step {step}";
                AssertBits(Inference(apart, x), fused.Predict(x).ReadOnlySpan, $"{at}: inference scores");
                double apartLoss = TrainingStep(apart, x, labels);
                double loss = fused.Gradient(x, labels);
                AssertBits(apart.LossLayer.Output.ReadOnlySpan, fused.LossLayer.Output.ReadOnlySpan, $"{at}: softmax of the training scores");
                Assert.Equal(apartLoss, loss);
                if (step < 2) Assert.True(double.IsFinite(loss), $"{at}: loss {loss}");
                foreach (var (a, f) in apart.NamedParameters().Zip(fused.NamedParameters()))
                    AssertBits(a.Parameter.Grad.ReadOnlySpan, f.Parameter.Grad.ReadOnlySpan, $"{at}: {f.Name} gradient");
                fusedAdam.Step(fused.Parameters);
                apartAdam.Step(apart.Parameters);
                foreach (var (a, f) in apart.NamedParameters().Zip(fused.NamedParameters()))
                    AssertBits(a.Parameter.Value.ReadOnlySpan, f.Parameter.Value.ReadOnlySpan, $"{at}: {f.Name} after Adam");
            }
            // A convolution whose last forward pass pooled its output cannot run its own backward pass on its own.
            if (pairs.Count > 0)
                Assert.Throws<InvalidOperationException>(() => fused.Layers[pairs[0]].Backward(new NDArray<float>([n, .. fused.OutputShapes[pairs[0]]])));
            // A training-mode Predict runs layer by layer, so a caller's own backward pass through the layers follows it.
            var probe = new NDArray<float>([n, .. fused.InputShape]);
            rng.FillUniform(probe.Data, -1, 1);
            double expected = TrainingStep(apart, probe, labels);
            var scores = fused.Predict(probe, training: true);
            Assert.Equal(expected, Backward(fused, scores, labels));
            foreach (var (a, f) in apart.NamedParameters().Zip(fused.NamedParameters()))
                AssertBits(a.Parameter.Grad.ReadOnlySpan, f.Parameter.Grad.ReadOnlySpan, $"{name}, {threads} thread(s), after Predict(training): {f.Name} gradient");
        }
        output.WriteLine($"AVX-512F: {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}");

        // Every layer on its own, as Sequential ran them before it fused any: the inference scores, or a training
        // step's loss after the backward pass (the first layer's parameters only).
        static float[] Inference(Sequential<float> net, NDArray<float> x)
        {
            for (int i = 0; i < net.Layers.Count; i++) x = net.Layers[i].Forward(x, training: false);
            return x.ReadOnlySpan.ToArray();
        }

        static double TrainingStep(Sequential<float> net, NDArray<float> x, int[] labels)
        {
            for (int i = 0; i < net.Layers.Count; i++) x = net.Layers[i].Forward(x, training: true);
            return Backward(net, x, labels);
        }

        static double Backward(Sequential<float> net, NDArray<float> x, int[] labels)
        {
            double loss = net.LossLayer.Forward(x, labels) + net.WeightDecayLoss();
            var d = net.LossLayer.Backward(1.0);
            for (int i = net.Layers.Count - 1; i > 0; i--) d = net.Layers[i].Backward(d);
            ((IFirstLayer<float>)net.Layers[0]).BackwardParameters(d);
            return loss;
        }
    }

    /// <summary>
    /// The networks: the book's two CNNs; odd planes (11×9 and 5×4 pooled, dropping a row and a column) on chunks of
    /// one image dealt to two workers, the first layer on three channels; stride-2 convolutions (the im2col engine)
    /// pooled, the second down to 1×1; and pairs left apart (a 3×3 pooling, a convolution without ReLU, stride 1).
    /// </summary>
    private static Sequential<float> Build(string name)
    {
        var rng = new Rng(name.Length * 31 + 5);
        ConvolutionEngineOptions small = new() { ChunkElements = 1, Workers = 2 };
        Convolution<float> Conv(int filters, int channels, int stride, int pad, bool rectifies, ConvolutionEngineOptions? engine = null) =>
            new(Init.Normal<float>(0.4, rng, filters, channels, 3, 3), Bias(filters), stride, pad) { Rectifies = rectifies, Engine = engine ?? ConvolutionEngineOptions.Default };
        NDArray<float> Bias(int filters)
        {
            var b = new NDArray<float>(filters); rng.FillUniform(b.Data, -0.3, 0.3);
            return b;
        }
        return name switch
        {
            "deepconv" => Networks.DeepConvNet<float>(seed: 4),
            "simpleconv" => Networks.SimpleConvNet<float>(seed: 4),
            "odd" => new Sequential<float>([3, 11, 9],
            [
                Conv(8, 3, 1, 1, true, small), new MaxPooling<float>(2, 2, 2),
                Conv(12, 8, 1, 1, true, small), new MaxPooling<float>(2, 2, 2),
                new Flatten<float>(), new Affine<float>(12 * 2 * 2, 10, 0.3, rng),
            ]),
            "strided" => new Sequential<float>([2, 20, 20],
            [
                Conv(6, 2, 2, 1, true), new MaxPooling<float>(2, 2, 2),
                Conv(4, 6, 2, 1, true, small), new MaxPooling<float>(2, 2, 2),
                new Flatten<float>(), new Affine<float>(4, 10, 0.3, rng),
            ]),
            _ => new Sequential<float>([1, 12, 12],
            [
                Conv(4, 1, 1, 1, true), new MaxPooling<float>(3, 3, 3),
                Conv(4, 4, 1, 1, false), new MaxPooling<float>(2, 2, 2),
                Conv(4, 4, 1, 1, true), new MaxPooling<float>(2, 2, 1),
                new Flatten<float>(), new Affine<float>(4, 10, 0.3, rng),
            ]),
        };
    }

    [Fact]
    public void A_float64_network_runs_the_pair_as_two_layers_and_passes_the_gradient_check()
    {
        // No engine for float64: the pair runs the convolution, then the pooling, and backward the other way round.
        var rng = new Rng(9);
        var net = new Sequential<double>([1, 8, 8],
        [
            new Convolution<double>(Init.Normal<double>(0.3, rng, 4, 1, 3, 3), new NDArray<double>(4), 1, 1) { Rectifies = true },
            new MaxPooling<double>(2, 2, 2),
            new Flatten<double>(),
            new Affine<double>(4 * 4 * 4, 10, 0.3, rng),
        ]);
        Assert.Equal(2, net.StepLength(0));
        var x = new NDArray<double>(2, 1, 8, 8);
        for (int i = 0; i < x.Size; i++) x.Data[i] = 2 * rng.NextDouble() - 1;
        var diffs = GradientCheck.Run(net, x, [1, 7]);
        Assert.All(diffs, d => Assert.True(d.MeanAbsDiff <= 1e-9, $"{d.Name}: {d.MeanAbsDiff:E2}"));
    }

    /// <summary>The same bits: −0 is not +0 here, and NaN equals NaN.</summary>
    private static void AssertBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var e = MemoryMarshal.Cast<float, int>(expected);
        var a = MemoryMarshal.Cast<float, int>(actual);
        for (int i = 0; i < e.Length; i++)
            if (e[i] != a[i] && !(float.IsNaN(expected[i]) && float.IsNaN(actual[i])))
                Assert.Fail($"{what}: element {i} is {actual[i]:R} (0x{a[i]:X8}), expected {expected[i]:R} (0x{e[i]:X8})");
    }
}
