using System.Numerics;

namespace ZeroDL.Layers;

/// <summary>An element-wise layer: the output has the input's shape.</summary>
public abstract record ElementwiseConfig : LayerConfig
{
    public override int[] OutputShape(IReadOnlyList<int> input)
    {
        Elements(input);
        return [.. input];
    }

    public override string Describe() => Kind;
}

/// <summary><see cref="Relu{T}"/>: max(0, x).</summary>
public sealed record ReluConfig : ElementwiseConfig
{
    public override string Kind => "relu";
    public override ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng) => new Relu<T>();
}

/// <summary><see cref="Sigmoid{T}"/>: 1/(1+e^−x).</summary>
public sealed record SigmoidConfig : ElementwiseConfig
{
    public override string Kind => "sigmoid";
    public override ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng) => new Sigmoid<T>();
}

/// <summary><see cref="Tanh{T}"/>: tanh x.</summary>
public sealed record TanhConfig : ElementwiseConfig
{
    public override string Kind => "tanh";
    public override ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng) => new Tanh<T>();
}

/// <summary><see cref="Flatten{T}"/>: (d1, d2, …) → (d1·d2·…).</summary>
public sealed record FlattenConfig : LayerConfig
{
    public override string Kind => "flatten";
    public override int[] OutputShape(IReadOnlyList<int> input) => [Elements(input)];
    public override ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng) => new Flatten<T>();
    public override string Describe() => "flatten";
}
