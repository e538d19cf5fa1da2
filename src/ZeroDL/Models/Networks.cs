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

    public static ILayer<T> Activation<T>(string name) where T : unmanaged, IFloatingPointIeee754<T> => name switch
    {
        "relu" => new Relu<T>(),
        "sigmoid" => new Sigmoid<T>(),
        "tanh" => new Tanh<T>(),
        _ => throw new ArgumentException($"unknown activation '{name}': use relu, sigmoid or tanh"),
    };
}
