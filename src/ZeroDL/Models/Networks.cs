using System.Numerics;
using ZeroDL.Layers;

namespace ZeroDL.Models;

/// <summary>The book's dense networks, built as <see cref="Sequential{T}"/> from a <see cref="ModelSpec"/>.</summary>
public static class Networks
{
    /// <summary>
    /// The book's TwoLayerNet (ch. 5.7): Affine → ReLU → Affine → softmax-with-loss, weights N(0, 0.01²).
    /// </summary>
    public static ModelSpec TwoLayerNetSpec(int inputSize = 784, int hiddenSize = 50, int outputSize = 10, double weightInitStd = 0.01) => new()
    {
        Kind = "twolayer", InputSize = inputSize, HiddenSizes = [hiddenSize], OutputSize = outputSize,
        Activation = "relu", WeightInit = weightInitStd.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
    };

    public static Sequential<T> TwoLayerNet<T>(int inputSize, int hiddenSize, int outputSize, int seed, double weightInitStd = 0.01)
        where T : unmanaged, IFloatingPointIeee754<T> => Build<T>(TwoLayerNetSpec(inputSize, hiddenSize, outputSize, weightInitStd), seed);

    /// <summary>
    /// Builds the network a spec describes. twolayer and mlp (MultiLayerNet, ch. 6): (Affine → activation)×hidden
    /// → Affine. mlp-bn (MultiLayerNetExtend): Affine → [BatchNorm] → activation → [Dropout] per hidden layer.
    /// Each Affine's weights are drawn with the init's std for its fan-in; all randomness comes from <paramref name="seed"/>.
    /// </summary>
    public static Sequential<T> Build<T>(ModelSpec spec, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        spec = spec.Validated();
        if (spec.Kind == "deepconv") return BuildDeepConvNet<T>(spec, seed);
        if (spec.Kind == "simpleconv") return BuildSimpleConvNet<T>(spec, seed);
        var rng = new Rng(seed);
        var init = WeightInit.Parse(spec.WeightInit);
        var dropoutMode = Dropout<T>.ParseMode(spec.DropoutMode);
        bool extended = spec.Kind == "mlp-bn";
        var layers = new List<ILayer<T>>();
        int fanIn = spec.InputSize;
        foreach (int hidden in spec.HiddenSizes)
        {
            layers.Add(new Affine<T>(fanIn, hidden, init.StdFor(fanIn), rng));
            if (extended && spec.BatchNorm) layers.Add(new BatchNormalization<T>(hidden));
            layers.Add(Activation<T>(spec.Activation));
            if (extended && spec.Dropout > 0) layers.Add(new Dropout<T>(spec.Dropout, dropoutMode, rng.Fork()));
            fanIn = hidden;
        }
        layers.Add(new Affine<T>(fanIn, spec.OutputSize, init.StdFor(fanIn), rng));
        return new Sequential<T>(layers, spec.WeightDecay, spec);
    }

    /// <summary>The book's SimpleConvNet (ch. 7.5) with its weight_init_std 0.01 and hidden size 100.</summary>
    public static ModelSpec SimpleConvNetSpec(int hiddenSize = 100, string weightInit = "0.01") => new()
    {
        Kind = "simpleconv", InputSize = 784, HiddenSizes = [hiddenSize], OutputSize = 10, Activation = "relu", WeightInit = weightInit,
    };

    /// <summary>The number, size and stride of SimpleConvNet's filters (the book's conv_param).</summary>
    public const int SimpleConvFilters = 30, SimpleConvFilterSize = 5;

    /// <summary>
    /// SimpleConvNet: conv 5×5-30 (stride 1, pad 0) → activation → pool 2×2 s2 → Affine(30·12·12 → hidden) →
    /// activation → Affine(hidden → 10). Weights are drawn with the spec's init for each layer's fan-in (a fixed
    /// std such as the book's 0.01 applies to all three).
    /// </summary>
    private static Sequential<T> BuildSimpleConvNet<T>(ModelSpec spec, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        var init = WeightInit.Parse(spec.WeightInit);
        int hidden = spec.HiddenSizes[0], k = SimpleConvFilterSize, filters = SimpleConvFilters;
        int pooled = filters * 12 * 12;
        return new Sequential<T>(Fusion.FuseConvolutionRelu<T>(
        [
            new Convolution<T>(Init.Normal<T>(init.StdFor(k * k), rng, filters, 1, k, k), new NDArray<T>(filters)),
            Activation<T>(spec.Activation),
            new MaxPooling<T>(2, 2, 2),
            new Affine<T>(pooled, hidden, init.StdFor(pooled), rng),
            Activation<T>(spec.Activation),
            new Affine<T>(hidden, spec.OutputSize, init.StdFor(hidden), rng),
        ]), spec.WeightDecay, spec);
    }

    /// <summary>The book's DeepConvNet (ch. 8.1) with its dropout ratio 0.5 and the book's classic dropout rule.</summary>
    public static ModelSpec DeepConvNetSpec(int hiddenSize = 50, double dropout = 0.5, string dropoutMode = "classic") => new()
    {
        Kind = "deepconv", InputSize = 784, HiddenSizes = [hiddenSize], OutputSize = 10, Activation = "relu",
        WeightInit = "he", Dropout = dropout, DropoutMode = dropoutMode,
    };

    /// <summary>
    /// DeepConvNet: conv3×3-16 p1 → ReLU → conv3×3-16 p1 → ReLU → pool 2×2 s2 → conv3×3-32 p1 → ReLU →
    /// conv3×3-32 p2 → ReLU → pool → conv3×3-64 p1 → ReLU → conv3×3-64 p1 → ReLU → pool → Affine(1024→hidden) →
    /// ReLU → Dropout → Affine(hidden→10) → Dropout (the last one left out when spec.OutputDropout is false), with He init from each layer's fan-in (in·3·3 for the
    /// convolutions, 64·4·4 and hidden for the Affine layers) as the book's code does. With spec.BatchNorm (our
    /// variant, not the book's) a BatchNorm sits between each convolution and its ReLU, per channel or (the book's
    /// rule for 4-D input) per activation, as spec.BatchNormMode names it.
    /// </summary>
    private static Sequential<T> BuildDeepConvNet<T>(ModelSpec spec, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        var mode = Dropout<T>.ParseMode(spec.DropoutMode);
        int hidden = spec.HiddenSizes[0];
        var layers = new List<ILayer<T>>();
        int channels = 1, side = 28;
        void Conv(int filters, int pad)
        {
            double std = Math.Sqrt(2.0 / (channels * 9));
            side = side + 2 * pad - 2;
            layers.Add(new Convolution<T>(Init.Normal<T>(std, rng, filters, channels, 3, 3), new NDArray<T>(filters), stride: 1, pad: pad));
            if (spec.BatchNorm) layers.Add(spec.BatchNormMode == "per-channel"
                ? new BatchNormalization<T>(filters, BatchNormMode.PerChannel)
                : new BatchNormalization<T>(filters * side * side, BatchNormMode.PerActivation));
            layers.Add(new Relu<T>());
            channels = filters;
        }
        void Pool() { layers.Add(new MaxPooling<T>(2, 2, 2)); side /= 2; }
        Conv(16, 1); Conv(16, 1); Pool();
        Conv(32, 1); Conv(32, 2); Pool();
        Conv(64, 1); Conv(64, 1); Pool();
        layers.Add(new Affine<T>(64 * 4 * 4, hidden, Math.Sqrt(2.0 / (64 * 4 * 4)), rng));
        layers.Add(new Relu<T>());
        if (spec.Dropout > 0) layers.Add(new Dropout<T>(spec.Dropout, mode, rng.Fork()));
        layers.Add(new Affine<T>(hidden, spec.OutputSize, Math.Sqrt(2.0 / hidden), rng));
        if (spec.Dropout > 0 && spec.OutputDropout) layers.Add(new Dropout<T>(spec.Dropout, mode, rng.Fork()));
        return new Sequential<T>(Fusion.FuseConvolutionRelu(layers), spec.WeightDecay, spec);
    }

    public static ILayer<T> Activation<T>(string name) where T : unmanaged, IFloatingPointIeee754<T> => name switch
    {
        "relu" => new Relu<T>(),
        "sigmoid" => new Sigmoid<T>(),
        "tanh" => new Tanh<T>(),
        _ => throw new ArgumentException($"unknown activation '{name}': use relu, sigmoid or tanh"),
    };
}
