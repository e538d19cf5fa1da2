using ZeroDL.Kernels;
using ZeroDL.Layers;

namespace ZeroDL.Tests;

/// <summary>
/// Per-channel BatchNorm on images runs each channel's passes on one thread (<see cref="BatchNormalization{T}"/>):
/// its outputs, gradients and running statistics must equal the plain per-sample loops' bit for bit, on any number
/// of threads, and a rectifying BatchNorm must equal BatchNorm followed by a ReLU layer.
/// </summary>
public class BatchNormTests
{
    private static NDArray<T> Random<T>(Rng rng, params ReadOnlySpan<int> shape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var t = new NDArray<T>(shape);
        for (int i = 0; i < t.Size; i++) t.Data[i] = T.CreateTruncating(rng.NextGaussian() * 2 + 0.5);
        return t;
    }

    private static void SameBits(NDArray<float> expected, NDArray<float> actual, string what)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        for (int i = 0; i < expected.Size; i++)
            if (BitConverter.SingleToInt32Bits(expected.Data[i]) != BitConverter.SingleToInt32Bits(actual.Data[i]))
                Assert.Fail($"{what}[{i}]: {expected.Data[i]:R} expected, {actual.Data[i]:R} computed");
    }

    /// <summary>
    /// Two training steps (forward, backward) and an evaluation pass followed by a backward pass (which then uses the
    /// running statistics); every tensor the layers produce, in order.
    /// </summary>
    private static List<NDArray<float>> Run(Func<NDArray<float>, bool, NDArray<float>> forward, Func<NDArray<float>, NDArray<float>> backward,
        BatchNormalization<float> bn, int[] shape, int seed)
    {
        var rng = new Rng(seed);
        for (int c = 0; c < bn.Features; c++) { bn.Gamma.Value[c] = (float)(1 + 0.3 * rng.NextGaussian()); bn.Beta.Value[c] = (float)rng.NextGaussian(); }
        var results = new List<NDArray<float>>();
        for (int step = 0; step < 2; step++)
        {
            var x = Random<float>(rng, shape);
            results.Add(forward(x, true).Clone());
            results.Add(backward(Random<float>(rng, shape)).Clone());
            results.Add(bn.Gamma.Grad.Clone()); results.Add(bn.Beta.Grad.Clone());
            results.Add(bn.RunningMean.Clone()); results.Add(bn.RunningVar.Clone());
        }
        results.Add(forward(Random<float>(rng, shape), false).Clone());
        results.Add(backward(Random<float>(rng, shape)).Clone());
        results.Add(bn.Gamma.Grad.Clone()); results.Add(bn.Beta.Grad.Clone());
        return results;
    }

    [Theory]
    [InlineData(new[] { 3, 4, 5, 5 }, false)]     // spatial 25: whole vectors and a scalar tail
    [InlineData(new[] { 7, 5, 9, 9 }, true)]
    [InlineData(new[] { 1, 3, 2, 3 }, true)]      // one sample, less than a vector per slice
    [InlineData(new[] { 100, 16, 28, 28 }, true)] // deepconv's first: large enough to split over threads
    [InlineData(new[] { 100, 64, 8, 8 }, false)]
    [InlineData(new[] { 100, 5, 24, 24 }, true)]  // 5 channels over 2 threads: ranges of 2 and 3
    public void Per_channel_passes_equal_the_plain_loops_bit_for_bit(int[] shape, bool rectifies)
    {
        int channels = shape[1];
        var reference = new BatchNormalization<float>(channels, BatchNormMode.PerChannel) { Reference = true };
        var relu = new Relu<float>();
        var expected = Run((x, t) => rectifies ? relu.Forward(reference.Forward(x, t), t) : reference.Forward(x, t),
            d => reference.Backward(rectifies ? relu.Backward(d) : d), reference, shape, seed: 5);
        foreach (int threads in new[] { 1, 2 })
        {
            using var limit = Gemm.LimitThreadsOnThisThread(threads); // this thread only: tests run side by side
            var fast = new BatchNormalization<float>(channels, BatchNormMode.PerChannel) { Rectifies = rectifies };
            var actual = Run(fast.Forward, fast.Backward, fast, shape, seed: 5);
            for (int i = 0; i < expected.Count; i++) SameBits(expected[i], actual[i], $"{threads} thread(s), tensor {i}");
        }
    }

    [Fact]
    public void A_rectifying_plain_BatchNorm_equals_BatchNorm_then_ReLU()
    {
        // Per activation (the plain loops whatever the flag) and per channel on the reference path.
        foreach (var (mode, shape) in new[] { (BatchNormMode.PerActivation, new[] { 6, 10 }), (BatchNormMode.PerChannel, new[] { 4, 3, 5, 5 }) })
        {
            int features = shape[1];
            var plain = new BatchNormalization<float>(features, mode) { Reference = true };
            var relu = new Relu<float>();
            var expected = Run((x, t) => relu.Forward(plain.Forward(x, t), t), d => plain.Backward(relu.Backward(d)), plain, shape, seed: 9);
            var fused = new BatchNormalization<float>(features, mode) { Reference = true, Rectifies = true };
            var actual = Run(fused.Forward, fused.Backward, fused, shape, seed: 9);
            for (int i = 0; i < expected.Count; i++) SameBits(expected[i], actual[i], $"{mode}, tensor {i}");
        }
    }

    [Fact]
    public void Per_channel_passes_allocate_nothing_per_mini_batch()
    {
        using var limit = Gemm.LimitThreadsOnThisThread(2);
        var bn = new BatchNormalization<float>(16, BatchNormMode.PerChannel) { Rectifies = true };
        var rng = new Rng(3);
        var x = Random<float>(rng, 100, 16, 28, 28); var d = Random<float>(rng, 100, 16, 28, 28);
        for (int i = 0; i < 3; i++) { bn.Forward(x, true); bn.Backward(d); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) { bn.Forward(x, true); bn.Backward(d); bn.Forward(x, false); }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Per_channel_passes_in_double_equal_the_plain_loops_bit_for_bit()
    {
        int[] shape = [40, 6, 13, 13];
        var rng = new Rng(21);
        var x = Random<double>(rng, shape); var d = Random<double>(rng, shape);
        var reference = new BatchNormalization<double>(6, BatchNormMode.PerChannel) { Reference = true, Rectifies = true };
        using var limit = Gemm.LimitThreadsOnThisThread(2);
        var fast = new BatchNormalization<double>(6, BatchNormMode.PerChannel) { Rectifies = true };
        foreach (var training in new[] { true, false })
        {
            Assert.Equal(reference.Forward(x, training).Data, fast.Forward(x, training).Data);
            Assert.Equal(reference.Backward(d).Data, fast.Backward(d).Data);
            Assert.Equal(reference.Gamma.Grad.Data, fast.Gamma.Grad.Data);
            Assert.Equal(reference.Beta.Grad.Data, fast.Beta.Grad.Data);
            Assert.Equal(reference.RunningVar.Data, fast.RunningVar.Data);
        }
        Assert.Contains(fast.Forward(x, true).Data, v => v == 0); // the ReLU gate was exercised
    }

    [Fact]
    public void Backward_before_any_forward_pass_is_refused()
    {
        var bn = new BatchNormalization<float>(3, BatchNormMode.PerChannel);
        Assert.Throws<InvalidOperationException>(() => bn.Backward(new NDArray<float>(2, 3, 4, 4)));
    }
}
