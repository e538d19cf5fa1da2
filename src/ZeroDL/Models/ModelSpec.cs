using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using ZeroDL.Layers;

namespace ZeroDL.Models;

/// <summary>The book's network families a <see cref="ModelSpec"/> can describe.</summary>
public enum NetworkKind
{
    /// <summary>The book's TwoLayerNet (ch. 5.7): Affine → activation → Affine.</summary>
    TwoLayer,
    /// <summary>The book's MultiLayerNet (ch. 6): (Affine → activation) per hidden layer → Affine.</summary>
    Mlp,
    /// <summary>The book's MultiLayerNetExtend (ch. 6.3–6.4): Affine → [BatchNorm] → activation → [Dropout] per hidden layer → Affine.</summary>
    MlpExtend,
    /// <summary>The book's SimpleConvNet (ch. 7.5): conv 30 5×5 → activation → pool 2×2 → Affine → activation → Affine.</summary>
    SimpleConv,
    /// <summary>The book's DeepConvNet (ch. 8.1): six 3×3 convolutions with ReLU, three pools, two Affine layers with dropout.</summary>
    DeepConv,
}

/// <summary>
/// A recipe for one of the book's networks (<see cref="Kind"/>) with its options — what the presets, the CLI's
/// switches and the tuner vary. <see cref="ToArchitecture"/> turns it into the layers for a given input shape and
/// class count; a model file stores that <see cref="Architecture"/>, not the recipe.
/// </summary>
public sealed record ModelSpec
{
    public NetworkKind Kind { get; init; } = NetworkKind.Mlp;
    /// <summary>Hidden layer sizes (the conv kinds take one: the hidden Affine layer's).</summary>
    public ImmutableArray<int> HiddenSizes { get; init; } = [100];
    public Activation Activation { get; init; } = Activation.Relu;
    public WeightInit WeightInit { get; init; } = WeightInit.He;
    /// <summary>λ of the L2 penalty 0.5·λ·ΣW² (weights only).</summary>
    public double WeightDecay { get; init; }
    /// <summary>MlpExtend: BatchNorm after each hidden Affine. DeepConv: BatchNorm between each convolution and its ReLU (our variant).</summary>
    public bool BatchNorm { get; init; }
    /// <summary>DeepConv's BatchNorm: per channel (PyTorch's BatchNorm2d) or per activation (the book's rule for 4-D input).</summary>
    public BatchNormMode BatchNormMode { get; init; } = BatchNormMode.PerChannel;
    /// <summary>Dropout ratio after each hidden activation (0 = none).</summary>
    public double Dropout { get; init; }
    public DropoutMode DropoutMode { get; init; } = DropoutMode.Classic;
    /// <summary>DeepConv only: whether a Dropout also follows the output Affine, as in the book's DeepConvNet (true) or only the hidden layer has one (false).</summary>
    public bool OutputDropout { get; init; } = true;

    /// <summary>True for the kinds that take images (C, H, W) rather than flat vectors.</summary>
    public bool IsConvolutional => Kind is NetworkKind.SimpleConv or NetworkKind.DeepConv;

    /// <summary>MNIST's sample shape for this kind: (1, 28, 28) for the convolutional kinds, (784) for the dense ones.</summary>
    public ImmutableArray<int> MnistInputShape => IsConvolutional ? [1, 28, 28] : [784];

    /// <summary>The kind's name as the CLI and older model files spell it ("twolayer", "mlp", "mlp-bn", "simpleconv", "deepconv").</summary>
    public static string KindName(NetworkKind kind) => kind switch
    {
        NetworkKind.TwoLayer => "twolayer",
        NetworkKind.Mlp => "mlp",
        NetworkKind.MlpExtend => "mlp-bn",
        NetworkKind.SimpleConv => "simpleconv",
        NetworkKind.DeepConv => "deepconv",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown network kind"),
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is out of range.</summary>
    public ModelSpec Validated()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentException($"unknown network kind {Kind}");
        if (HiddenSizes.IsDefaultOrEmpty || HiddenSizes.Any(h => h <= 0)) throw new ArgumentException("hidden sizes must be one or more positive numbers");
        if (!Enum.IsDefined(Activation)) throw new ArgumentException($"unknown activation {Activation}");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new ArgumentException($"weight decay must be ≥ 0 (got {WeightDecay})");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"dropout ratio must be in [0, 1) (got {Dropout})");
        if (IsConvolutional && HiddenSizes.Length != 1) throw new ArgumentException($"{KindName(Kind)} takes one hidden size (got {HiddenSizes.Length})");
        if (Kind == NetworkKind.DeepConv && Activation != Activation.Relu) throw new ArgumentException("deepconv uses ReLU");
        if (Kind == NetworkKind.SimpleConv && (BatchNorm || Dropout > 0)) throw new ArgumentException("simpleconv has no BatchNorm and no dropout");
        if (Kind is NetworkKind.TwoLayer or NetworkKind.Mlp && (BatchNorm || Dropout > 0))
            throw new ArgumentException($"{KindName(Kind)} has no BatchNorm and no dropout (use mlp-bn)");
        return this;
    }

    /// <summary>
    /// The layers for samples of <paramref name="inputShape"/> and <paramref name="classes"/> outputs. The convolutional
    /// kinds take (C, H, W): the first filters' depth follows C and the first Affine's size follows the pooled
    /// feature maps; a size the pools cannot halve fails with the layer named. A ReLU right after a convolution is
    /// fused into it (<see cref="Fusion"/>).
    /// </summary>
    public Architecture ToArchitecture(IReadOnlyList<int> inputShape, int classes)
    {
        Validated();
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "a classifier needs at least one class");
        var layers = new List<LayerConfig>();
        var init = WeightInit;
        LayerConfig Act() => ActivationLayers.Config(Activation);
        switch (Kind)
        {
            case NetworkKind.TwoLayer or NetworkKind.Mlp or NetworkKind.MlpExtend:
                foreach (int hidden in HiddenSizes)
                {
                    layers.Add(new AffineConfig { Units = hidden, Init = init });
                    if (BatchNorm) layers.Add(new BatchNormConfig());
                    layers.Add(Act());
                    if (Dropout > 0) layers.Add(new DropoutConfig { Ratio = Dropout, Mode = DropoutMode });
                }
                layers.Add(new AffineConfig { Units = classes, Init = init });
                break;
            case NetworkKind.SimpleConv:
                layers.Add(new ConvConfig { Filters = Networks.SimpleConvFilters, Kernel = WindowSize.Square(Networks.SimpleConvFilterSize), Init = init });
                layers.Add(Act());
                layers.Add(new MaxPoolConfig { Size = WindowSize.Square(2), Stride = 2 });
                layers.Add(new AffineConfig { Units = HiddenSizes[0], Init = init });
                layers.Add(Act());
                layers.Add(new AffineConfig { Units = classes, Init = init });
                break;
            case NetworkKind.DeepConv:
                void Conv(int filters, int pad)
                {
                    layers.Add(new ConvConfig { Filters = filters, Kernel = WindowSize.Square(3), Pad = pad, Init = init });
                    if (BatchNorm) layers.Add(new BatchNormConfig { Mode = BatchNormMode });
                    layers.Add(new ReluConfig());
                }
                void Pool() => layers.Add(new MaxPoolConfig { Size = WindowSize.Square(2), Stride = 2 });
                Conv(16, 1); Conv(16, 1); Pool();
                Conv(32, 1); Conv(32, 2); Pool();
                Conv(64, 1); Conv(64, 1); Pool();
                layers.Add(new AffineConfig { Units = HiddenSizes[0], Init = init });
                layers.Add(new ReluConfig());
                if (Dropout > 0) layers.Add(new DropoutConfig { Ratio = Dropout, Mode = DropoutMode });
                layers.Add(new AffineConfig { Units = classes, Init = init });
                if (Dropout > 0 && OutputDropout) layers.Add(new DropoutConfig { Ratio = Dropout, Mode = DropoutMode });
                break;
        }
        // The book's layers, each ReLU then fused into the convolution or per-channel BatchNorm before it: the same
        // numbers, one pass fewer each way.
        return new Architecture(inputShape, Fusion.FuseRelus(layers), WeightDecay);
    }

    /// <summary>The network for samples of <paramref name="inputShape"/> and <paramref name="classes"/> classes, weights drawn from <paramref name="seed"/>.</summary>
    public Sequential<T> Build<T>(IReadOnlyList<int> inputShape, int classes, int seed) where T : unmanaged, IFloatingPointIeee754<T> =>
        ToArchitecture(inputShape, classes).Build<T>(seed);

    /// <summary>The network for MNIST (<see cref="MnistInputShape"/>, 10 classes).</summary>
    public Sequential<T> Build<T>(int seed) where T : unmanaged, IFloatingPointIeee754<T> => Build<T>(MnistInputShape, 10, seed);

    /// <summary>"deepconv, hidden 50, relu, init he, dropout 0.5 (classic)".</summary>
    public string Describe()
    {
        var parts = new List<string> { $"{KindName(Kind)}, hidden {string.Join("-", HiddenSizes)}", Activation.Name(), $"init {WeightInit}" };
        if (BatchNorm) parts.Add(IsConvolutional ? $"batchnorm ({BatchNormalization<float>.ModeName(BatchNormMode)})" : "batchnorm");
        if (Dropout > 0)
            parts.Add($"dropout {Dropout.ToString(CultureInfo.InvariantCulture)} ({Layers.Dropout<float>.ModeName(DropoutMode)}{(Kind == NetworkKind.DeepConv && !OutputDropout ? ", hidden layer only" : "")})");
        if (WeightDecay > 0) parts.Add($"weight decay {WeightDecay.ToString(CultureInfo.InvariantCulture)}");
        return string.Join(", ", parts);
    }
}
