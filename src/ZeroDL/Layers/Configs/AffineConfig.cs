using System.Numerics;

namespace ZeroDL.Layers;

/// <summary>
/// <see cref="Affine{T}"/>: <see cref="Units"/> outputs, each connected to every value of the input sample (input of
/// any shape is flattened, as the book's Affine does). W (features, units) is drawn from N(0, σ²) with σ from
/// <see cref="Init"/> for fan-in = features; b = 0.
/// </summary>
public sealed record AffineConfig : LayerConfig
{
    public required int Units { get; init; }
    public WeightInit Init { get; init; } = WeightInit.He;

    public override string Kind => "affine";

    public override void Validate() => RequireSize(Units, "affine: units");

    public override int[] OutputShape(IReadOnlyList<int> input)
    {
        Elements(input);
        return [Units];
    }

    public override IReadOnlyList<TensorShape> Tensors(IReadOnlyList<int> input) =>
        [new("W", [Elements(input), Units], IsParameter: true), new("b", [Units], IsParameter: true)];

    public override long MultiplyAdds(IReadOnlyList<int> input) => (long)Elements(input) * Units;

    public override ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng)
    {
        int features = Elements(input);
        return new Affine<T>(ZeroDL.Init.Normal<T>(Init.StdFor(features), rng, features, Units), new NDArray<T>(Units)) { WeightInit = Init };
    }

    public override string Describe() => $"affine {Units}";
}
