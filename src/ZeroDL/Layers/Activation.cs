using System.Numerics;
using System.Text.Json.Serialization;

namespace ZeroDL.Layers;

/// <summary>An element-wise activation function; in JSON "relu", "sigmoid" or "tanh".</summary>
[JsonConverter(typeof(JsonNameEnumConverter<Activation>))]
public enum Activation
{
    /// <summary>max(0, x) (<see cref="Relu{T}"/>).</summary>
    Relu,
    /// <summary>1/(1+e^−x) (<see cref="Sigmoid{T}"/>).</summary>
    Sigmoid,
    /// <summary>tanh x (<see cref="Tanh{T}"/>).</summary>
    Tanh,
}

/// <summary>Layers and configurations of an <see cref="Activation"/>.</summary>
public static class ActivationLayers
{
    /// <summary>A new layer computing <paramref name="activation"/>.</summary>
    public static ILayer<T> Layer<T>(Activation activation) where T : unmanaged, IFloatingPointIeee754<T> => activation switch
    {
        Activation.Relu => new Relu<T>(),
        Activation.Sigmoid => new Sigmoid<T>(),
        Activation.Tanh => new Tanh<T>(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };

    /// <summary>The configuration of <paramref name="activation"/>'s layer.</summary>
    public static LayerConfig Config(Activation activation) => activation switch
    {
        Activation.Relu => new ReluConfig(),
        Activation.Sigmoid => new SigmoidConfig(),
        Activation.Tanh => new TanhConfig(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };

    /// <summary>Parses "relu", "sigmoid" or "tanh" (any case), else <see cref="FormatException"/>.</summary>
    public static Activation Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "relu" => Activation.Relu,
        "sigmoid" => Activation.Sigmoid,
        "tanh" => Activation.Tanh,
        _ => throw new FormatException($"activation '{text}' is not relu, sigmoid or tanh"),
    };

    /// <summary>"relu", "sigmoid" or "tanh".</summary>
    public static string Name(this Activation activation) => activation.ToString().ToLowerInvariant();
}
