using System.Numerics;
using ZeroDL.Kernels;

namespace ZeroDL.Layers;

/// <summary>
/// <see cref="MaxPooling{T}"/>: the largest value of each <see cref="Size"/> window, windows <see cref="Stride"/> apart,
/// over each channel of (C, H, W) samples; padding (smaller than the window) never wins.
/// </summary>
public sealed record MaxPoolConfig : LayerConfig
{
    public required WindowSize Size { get; init; }
    public required int Stride { get; init; }
    public int Pad { get; init; }

    public override string Kind => "pool";

    public override void Validate()
    {
        Require(Size.Height > 0 && Size.Width > 0, $"max_pool: size must be at least 1×1 (got {Size})");
        Require(Size.Height <= MaxSize && Size.Width <= MaxSize, $"max_pool: size sides must be at most {MaxSize} (got {Size})");
        RequireSize(Stride, "max_pool: stride");
        Require(Pad >= 0 && Pad < Size.Height && Pad < Size.Width, $"max_pool: pad must be ≥ 0 and smaller than the window {Size} (got {Pad})");
    }

    public override int[] OutputShape(IReadOnlyList<int> input)
    {
        var (c, h, w) = Image(input, "max_pool");
        Elements(input);
        return [c, ConvShape.OutputSize(h, Size.Height, Stride, Pad), ConvShape.OutputSize(w, Size.Width, Stride, Pad)];
    }

    /// <summary>
    /// Comparisons of one sample's forward pass: one per window cell per output value. Not multiply-adds, but work
    /// that an architecture's cost limit counts, since a large window with stride 1 costs as much as a convolution.
    /// </summary>
    public long Comparisons(IReadOnlyList<int> input) => (long)Elements(OutputShape(input)) * Size.Height * Size.Width;

    public override ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng) => new MaxPooling<T>(Size.Height, Size.Width, Stride, Pad);

    public override string Describe() => $"max_pool {Size}{(Stride != 1 ? $" stride {Stride}" : "")}{(Pad != 0 ? $" pad {Pad}" : "")}";
}
