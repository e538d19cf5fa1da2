using System.Numerics;
using System.Text.Json.Serialization;

namespace ZeroDL.Layers;

/// <summary>
/// <see cref="BatchNormalization{T}"/>. On (C, H, W) samples <see cref="BatchNormMode.PerChannel"/> keeps C statistics
/// and <see cref="BatchNormMode.PerActivation"/> (the book's rule, the default) C·H·W; on flat samples both keep one per
/// feature. γ = 1, β = 0, running mean and variance 0 to start. <see cref="Activation"/>, when set, is applied by the
/// layer itself to its output (<see cref="BatchNormalization{T}.Rectifies"/>): the same numbers as the activation's own
/// layer after it, one pass over the activations fewer each way.
/// </summary>
public sealed record BatchNormConfig : LayerConfig
{
    public BatchNormMode Mode { get; init; } = BatchNormMode.PerActivation;
    public double Momentum { get; init; } = 0.9;
    public double Epsilon { get; init; } = 1e-6;
    /// <summary>Null (none) or <see cref="Layers.Activation.Relu"/>, the only one fused so far.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Activation? Activation { get; init; }

    public override string Kind => "batchnorm";

    public override void Validate()
    {
        Require(Enum.IsDefined(Mode), $"batchnorm: unknown mode {Mode}");
        Require(Momentum >= 0 && Momentum <= 1, $"batchnorm: momentum must be in [0, 1] (got {Momentum})");
        Require(Epsilon > 0 && double.IsFinite(Epsilon), $"batchnorm: epsilon must be a finite number > 0 (got {Epsilon})");
        Require(Activation is null or Layers.Activation.Relu, $"batchnorm: activation must be relu or absent (got {Activation?.Name()}); add the activation as its own layer");
        // Only the per-channel layer is fused (Fusion.FuseBatchNormRelu), so only it round-trips through ONNX.
        Require(Activation is null || Mode == BatchNormMode.PerChannel, "batchnorm: a fused relu needs mode per-channel; add the relu as its own layer");
    }

    /// <summary>The number of means and variances the layer keeps for that input.</summary>
    public int Features(IReadOnlyList<int> input)
    {
        int size = Elements(input);
        return Mode == BatchNormMode.PerChannel && input.Count == 3 ? input[0] : size;
    }

    public override int[] OutputShape(IReadOnlyList<int> input)
    {
        Elements(input);
        return [.. input];
    }

    public override IReadOnlyList<TensorShape> Tensors(IReadOnlyList<int> input)
    {
        int f = Features(input);
        return [new("gamma", [f], true), new("beta", [f], true), new("running_mean", [f], false), new("running_var", [f], false)];
    }

    public override ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng) => new BatchNormalization<T>(Features(input), Mode, Momentum, Epsilon) { Rectifies = Activation is not null };

    public override string Describe() => $"batchnorm ({BatchNormalization<float>.ModeName(Mode)}){(Activation is { } a ? " " + a.Name() : "")}";
}
