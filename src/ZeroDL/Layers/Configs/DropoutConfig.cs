using System.Numerics;

namespace ZeroDL.Layers;

/// <summary><see cref="Dropout{T}"/>: drops each value with probability <see cref="Ratio"/> in training; its mask generator is forked from the network's.</summary>
public sealed record DropoutConfig : LayerConfig
{
    public required double Ratio { get; init; }
    public DropoutMode Mode { get; init; } = DropoutMode.Classic;

    public override string Kind => "dropout";

    public override void Validate()
    {
        Require(Ratio >= 0 && Ratio < 1, $"dropout: ratio must be in [0, 1) (got {Ratio})");
        Require(Enum.IsDefined(Mode), $"dropout: unknown mode {Mode}");
    }

    public override int[] OutputShape(IReadOnlyList<int> input)
    {
        Elements(input);
        return [.. input];
    }

    public override ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng) => new Dropout<T>(Ratio, Mode, rng.Fork());

    public override string Describe() => $"dropout {Ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({Dropout<float>.ModeName(Mode)})";
}
