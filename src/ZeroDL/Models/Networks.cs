using System.Numerics;
using ZeroDL.Layers;

namespace ZeroDL.Models;

/// <summary>
/// The book's networks as named factories. Each is a <see cref="ModelSpec"/> recipe turned into an
/// <see cref="Architecture"/> for the input shape and class count (MNIST's by default), whose weights are drawn from
/// the seed in layer order, as the book's code draws them.
/// </summary>
public static class Networks
{
    /// <summary>The book's TwoLayerNet (ch. 5.7) recipe: Affine → ReLU → Affine, weights N(0, std²).</summary>
    public static ModelSpec TwoLayerNetSpec(int hiddenSize = 50, double weightInitStd = 0.01) => new()
    {
        Kind = NetworkKind.TwoLayer, HiddenSizes = [hiddenSize], Activation = Activation.Relu, WeightInit = WeightInit.Std(weightInitStd),
    };

    /// <summary>The book's TwoLayerNet (ch. 5.7): Affine(input → hidden) → ReLU → Affine(hidden → output), weights N(0, 0.01²).</summary>
    public static Sequential<T> TwoLayerNet<T>(int inputSize, int hiddenSize, int outputSize, int seed, double weightInitStd = 0.01)
        where T : unmanaged, IFloatingPointIeee754<T> => TwoLayerNetSpec(hiddenSize, weightInitStd).Build<T>([inputSize], outputSize, seed);

    /// <summary>The book's MultiLayerNet (ch. 6): (Affine → activation) per hidden size → Affine, He init unless given.</summary>
    public static Sequential<T> MultiLayerNet<T>(IReadOnlyList<int> hiddenSizes, int seed, Activation activation = Activation.Relu,
        WeightInit? init = null, double weightDecay = 0, int inputSize = 784, int outputSize = 10) where T : unmanaged, IFloatingPointIeee754<T> =>
        new ModelSpec { Kind = NetworkKind.Mlp, HiddenSizes = [.. hiddenSizes], Activation = activation, WeightInit = init ?? WeightInit.He, WeightDecay = weightDecay }
            .Build<T>([inputSize], outputSize, seed);

    /// <summary>The book's MultiLayerNetExtend (ch. 6.3–6.4): Affine → [BatchNorm] → activation → [Dropout] per hidden size → Affine.</summary>
    public static Sequential<T> MultiLayerNetExtend<T>(IReadOnlyList<int> hiddenSizes, int seed, Activation activation = Activation.Relu,
        WeightInit? init = null, double weightDecay = 0, bool batchNorm = true, double dropout = 0, DropoutMode dropoutMode = DropoutMode.Classic,
        int inputSize = 784, int outputSize = 10) where T : unmanaged, IFloatingPointIeee754<T> =>
        new ModelSpec
        {
            Kind = NetworkKind.MlpExtend, HiddenSizes = [.. hiddenSizes], Activation = activation, WeightInit = init ?? WeightInit.He,
            WeightDecay = weightDecay, BatchNorm = batchNorm, Dropout = dropout, DropoutMode = dropoutMode,
        }.Build<T>([inputSize], outputSize, seed);

    /// <summary>The number and size of SimpleConvNet's filters (the book's conv_param).</summary>
    public const int SimpleConvFilters = 30, SimpleConvFilterSize = 5;

    /// <summary>
    /// The book's SimpleConvNet (ch. 7.5) recipe: conv 30 5×5 (stride 1, pad 0) → activation → pool 2×2 s2 →
    /// Affine(hidden) → activation → Affine(classes), every layer's weights N(0, 0.01²) as the book's weight_init_std.
    /// </summary>
    public static ModelSpec SimpleConvNetSpec(int hiddenSize = 100, WeightInit? init = null) => new()
    {
        Kind = NetworkKind.SimpleConv, HiddenSizes = [hiddenSize], Activation = Activation.Relu, WeightInit = init ?? WeightInit.Std(0.01),
    };

    /// <summary>SimpleConvNet for (C, H, W) samples (MNIST's 1×28×28 by default) and <paramref name="classes"/> classes.</summary>
    public static Sequential<T> SimpleConvNet<T>(int seed, IReadOnlyList<int>? inputShape = null, int classes = 10, int hiddenSize = 100)
        where T : unmanaged, IFloatingPointIeee754<T> => SimpleConvNetSpec(hiddenSize).Build<T>(inputShape ?? [1, 28, 28], classes, seed);

    /// <summary>
    /// The book's DeepConvNet (ch. 8.1) recipe: conv 16 3×3 p1 → ReLU → conv 16 p1 → ReLU → pool → conv 32 p1 → ReLU →
    /// conv 32 p2 → ReLU → pool → conv 64 p1 → ReLU → conv 64 p1 → ReLU → pool → Affine(hidden) → ReLU → Dropout →
    /// Affine(classes) → Dropout, He init from each layer's fan-in, the book's classic dropout 0.5.
    /// </summary>
    public static ModelSpec DeepConvNetSpec(int hiddenSize = 50, double dropout = 0.5, DropoutMode dropoutMode = DropoutMode.Classic) => new()
    {
        Kind = NetworkKind.DeepConv, HiddenSizes = [hiddenSize], Activation = Activation.Relu, WeightInit = WeightInit.He,
        Dropout = dropout, DropoutMode = dropoutMode,
    };

    /// <summary>
    /// DeepConvNet for (C, H, W) samples (MNIST's 1×28×28 by default) and <paramref name="classes"/> classes: the same
    /// layers, the first filters' depth following C and the first Affine's input following H and W (64·4·4 for both
    /// 28×28 and 32×32).
    /// </summary>
    public static Sequential<T> DeepConvNet<T>(int seed, IReadOnlyList<int>? inputShape = null, int classes = 10, int hiddenSize = 50,
        double dropout = 0.5, DropoutMode dropoutMode = DropoutMode.Classic) where T : unmanaged, IFloatingPointIeee754<T> =>
        DeepConvNetSpec(hiddenSize, dropout, dropoutMode).Build<T>(inputShape ?? [1, 28, 28], classes, seed);
}
