using ZeroDL.Layers;
using ZeroDL.Models;

namespace ZeroDL.Tests;

/// <summary>
/// Small networks of every kind ZeroDL has, with random weights and random BatchNorm statistics (so that no layer is
/// the identity by accident), for the ONNX export and import tests.
/// </summary>
internal static class OnnxNetworks
{
    /// <summary>Every preset on MNIST's shape, then hand-made networks that use what no preset does.</summary>
    public static IEnumerable<(string Name, Sequential<float> Net)> All()
    {
        foreach (var preset in ModelPresets.All)
            yield return (preset.Name, Randomized(preset.Architecture().Build<float>(seed: 7), seed: 11));
        yield return ("mlp-sigmoid-classic-dropout", Randomized(
            (ModelPresets.Find("mlp-bn").Spec with { HiddenSizes = [40, 30], Activation = Activation.Sigmoid, Dropout = 0.3, DropoutMode = DropoutMode.Classic })
                .ToArchitecture([784], 10).Build<float>(seed: 5), seed: 12));
        yield return ("deepconv-per-activation-bn", Randomized(
            (ModelPresets.Find("deepconv").Spec with { BatchNorm = true, BatchNormMode = BatchNormMode.PerActivation }).ToArchitecture([1, 28, 28], 10).Build<float>(seed: 6), seed: 13));
        yield return ("strides-pads-tanh-flatten", Randomized(StridesAndPads().Build<float>(seed: 8), seed: 14));
    }

    /// <summary>
    /// Convolutions with stride 2 and pad 2, non-square kernels, a padded pooling window with stride 1, Tanh and
    /// Sigmoid, per-channel and per-activation BatchNorm on images, an explicit Flatten, classic and inverted dropout.
    /// </summary>
    public static Architecture StridesAndPads() => new([3, 17, 15],
    [
        new ConvConfig { Filters = 6, Kernel = new WindowSize(3, 5), Stride = 2, Pad = 2 },
        new BatchNormConfig { Mode = BatchNormMode.PerChannel },
        new TanhConfig(),
        new MaxPoolConfig { Size = WindowSize.Square(3), Stride = 1, Pad = 1 },
        new ConvConfig { Filters = 5, Kernel = WindowSize.Square(2), Stride = 3, Pad = 1, Activation = Activation.Relu },
        new BatchNormConfig { Mode = BatchNormMode.PerActivation, Epsilon = 1e-3 },
        new SigmoidConfig(),
        new FlattenConfig(),
        new DropoutConfig { Ratio = 0.25, Mode = DropoutMode.Classic },
        new AffineConfig { Units = 12 },
        new ReluConfig(),
        new DropoutConfig { Ratio = 0.4, Mode = DropoutMode.Inverted },
        new AffineConfig { Units = 7 },
    ]);

    /// <summary>Biases, γ, β and running statistics drawn at random (variances in [0.25, 2]); weights kept.</summary>
    public static Sequential<float> Randomized(Sequential<float> net, int seed)
    {
        var rng = new Random(seed);
        foreach (var (name, value) in net.NamedTensors())
        {
            var span = value.Span;
            for (int i = 0; i < span.Length; i++)
                span[i] = name.EndsWith(".running_var") ? 0.25f + 1.75f * rng.NextSingle()
                    : name.EndsWith(".gamma") ? 0.5f + rng.NextSingle()
                    : name.EndsWith(".b") || name.EndsWith(".beta") || name.EndsWith(".running_mean") ? rng.NextSingle() - 0.5f
                    : span[i];
        }
        return net;
    }

    /// <summary><paramref name="count"/> inputs for <paramref name="net"/>: MNIST test images when it takes 784 or 1×28×28, else uniform [0, 1).</summary>
    public static NDArray<float> Inputs(Sequential<float> net, Data.Dataset test, int count)
    {
        int size = net.InputShape.Aggregate(1, (a, d) => a * d);
        if (size == 784) return NDArrayRows.Slice(test.Images, 0, count, null).Reshape([count, .. net.InputShape]);
        var rng = new Random(3);
        var x = new NDArray<float>([count, .. net.InputShape]);
        for (int i = 0; i < x.Size; i++) x.Data[i] = rng.NextSingle();
        return x;
    }
}
