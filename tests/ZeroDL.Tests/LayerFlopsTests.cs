using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>The book's FLOP count of each layer kind (<see cref="LayerFlops"/>), the profile's use of it, and the FMA-limit probe.</summary>
public class LayerFlopsTests
{
    [Fact]
    public void A_convolution_counts_a_multiply_and_an_add_per_filter_tap_and_output()
    {
        // 4 filters of 3 channels × 2 × 5 over 2 images, 6 × 7 outputs: 2·2·4·3·2·5·6·7 = 20,160; backward twice that.
        var conv = new Convolution<float>(new NDArray<float>(4, 3, 2, 5), new NDArray<float>(4), stride: 2, pad: 1);
        Assert.Equal(20_160, LayerFlops.Forward(conv, [2, 4, 6, 7]));
        Assert.Equal(40_320, LayerFlops.Backward(conv, [2, 4, 6, 7]));
        Assert.Throws<ArgumentException>(() => LayerFlops.Forward(conv, [2, 5, 6, 7]));
        Assert.Throws<ArgumentException>(() => LayerFlops.Forward(conv, [2, 4, 42]));
    }

    [Fact]
    public void An_affine_layer_counts_2_n_in_out_and_the_other_layers_nothing()
    {
        var affine = new Affine<float>(new NDArray<float>(12, 5), new NDArray<float>(5)); // 2·3·12·5 = 360
        Assert.Equal(360, LayerFlops.Forward(affine, [3, 5]));
        Assert.Equal(720, LayerFlops.Backward(affine, [3, 5]));
        Assert.Throws<ArgumentException>(() => LayerFlops.Forward(affine, [3, 6]));
        Assert.Equal(0, LayerFlops.Forward(new Relu<float>(), [3, 5]));
        Assert.Equal(0, LayerFlops.Backward(new MaxPooling<float>(2, 2, 2), [3, 4, 2, 2]));
    }

    [Fact]
    public void A_profile_of_simpleconvnet_reports_each_layers_flops_per_mini_batch()
    {
        // Batch 20: conv1 2·20·30·1·5·5·24·24 = 17,280,000; affine1 2·20·4320·100 = 17,280,000; affine2 2·20·100·10 = 40,000.
        var rng = new Rng(3);
        var images = new NDArray<float>(60, 784);
        rng.FillUniform(images.Data, 0, 1);
        var train = new Data.Dataset(images, Enumerable.Range(0, 60).Select(i => i % 10).ToArray());
        var net = Networks.SimpleConvNet<float>(seed: 1);
        var profile = LayerProfile.Measure(net, new Adam<float>(), train, iterations: 2, batchSize: 20);
        var byName = profile.Layers.ToDictionary(l => l.Layer);
        Assert.Equal(17_280_000, byName["conv1"].ForwardFlops);
        Assert.Equal(34_560_000, byName["conv1"].BackwardFlops);
        Assert.Equal(17_280_000, byName["affine1"].ForwardFlops);
        Assert.Equal(40_000, byName["affine2"].ForwardFlops);
        Assert.Equal(0, byName["pool1"].ForwardFlops + byName["pool1"].BackwardFlops);
        Assert.Equal(3 * (17_280_000L + 17_280_000 + 40_000), profile.FlopsPerIteration);
        Assert.True(profile.Gflops > 0 && double.IsFinite(profile.Gflops));
    }

    [Fact]
    public void The_fma_limit_probe_measures_a_positive_rate_and_refuses_bad_arguments()
    {
        double one = FmaLimit.Measure(1, 0.02);
        Assert.True(one > 0 && double.IsFinite(one), $"{one} GFLOP/s");
        Assert.Contains(FmaLimit.VectorBits, new[] { 32, 256, 512 });
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaLimit.Measure(0, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaLimit.Measure(1, 0));
    }

    [Fact]
    public void The_fma_limit_probe_runs_at_a_narrower_width_and_refuses_one_the_cpu_lacks()
    {
        Assert.True(FmaLimit.Supports(32) && FmaLimit.Supports(FmaLimit.VectorBits));
        Assert.False(FmaLimit.Supports(128));
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaLimit.Measure(1, 0.02, 128));
        double scalar = FmaLimit.Measure(1, 0.02, 32);
        Assert.True(scalar > 0 && double.IsFinite(scalar), $"{scalar} GFLOP/s");
        if (FmaLimit.VectorBits < 512) Assert.Throws<ArgumentOutOfRangeException>(() => FmaLimit.Measure(1, 0.02, 512));
        if (!FmaLimit.Supports(256)) return;
        // 8 lanes against 1: the 256-bit rate is far above the scalar one on any FMA machine, so a probe that ran
        // the wrong width (or counted the wrong lanes) shows.
        double wide = FmaLimit.Measure(1, 0.02, 256);
        Assert.True(wide > 2 * scalar, $"256-bit {wide} GFLOP/s against scalar {scalar}");
    }
}
