using System.Numerics;
using System.Text.Json.Serialization;
using ZeroDL.Kernels;

namespace ZeroDL.Layers;

/// <summary>
/// <see cref="Convolution{T}"/>: <see cref="Filters"/> filters of <see cref="Kernel"/> over (C, H, W) samples,
/// giving (filters, OH, OW) with OH = (H + 2·pad − kh)/stride + 1. W (filters, C, kh, kw) is drawn from N(0, σ²) with σ
/// from <see cref="Init"/> for fan-in C·kh·kw; b = 0. <see cref="Activation"/>, when set, is applied by the layer
/// itself to its output (Keras' Conv2D(activation=…), <see cref="Convolution{T}.Rectifies"/>): the same numbers as
/// the activation's own layer after it, one pass over the activations fewer each way.
/// </summary>
public sealed record ConvConfig : LayerConfig
{
    public required int Filters { get; init; }
    public required WindowSize Kernel { get; init; }
    public int Stride { get; init; } = 1;
    public int Pad { get; init; }
    public WeightInit Init { get; init; } = WeightInit.He;
    /// <summary>Null (none) or <see cref="Layers.Activation.Relu"/>, the only one fused so far.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Activation? Activation { get; init; }

    public override string Kind => "conv";

    public override void Validate()
    {
        RequireSize(Filters, "conv: filters");
        Require(Kernel.Height > 0 && Kernel.Width > 0, $"conv: kernel must be at least 1×1 (got {Kernel})");
        Require(Kernel.Height <= MaxSize && Kernel.Width <= MaxSize, $"conv: kernel sides must be at most {MaxSize} (got {Kernel})");
        RequireSize(Stride, "conv: stride");
        RequireSize(Pad, "conv: pad", zero: true);
        Require(Activation is null or Layers.Activation.Relu, $"conv: activation must be relu or absent (got {Activation?.Name()}); add the activation as its own layer");
    }

    public override int[] OutputShape(IReadOnlyList<int> input)
    {
        var (c, h, w) = Image(input, "conv");
        Elements(input);
        int oh = ConvShape.OutputSize(h, Kernel.Height, Stride, Pad), ow = ConvShape.OutputSize(w, Kernel.Width, Stride, Pad);
        int[] output = [Filters, oh, ow];
        Elements(output);
        _ = Weights(c);
        return output;
    }

    private int[] Weights(int channels)
    {
        int[] shape = [Filters, channels, Kernel.Height, Kernel.Width];
        Elements(shape);
        return shape;
    }

    public override IReadOnlyList<TensorShape> Tensors(IReadOnlyList<int> input) =>
        [new("W", [.. Weights(Image(input, "conv").C)], IsParameter: true), new("b", [Filters], IsParameter: true)];

    public override long MultiplyAdds(IReadOnlyList<int> input)
    {
        var output = OutputShape(input);
        return (long)Filters * output[1] * output[2] * input[0] * Kernel.Height * Kernel.Width;
    }

    public override ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng)
    {
        var (c, _, _) = Image(input, "conv");
        var w = ZeroDL.Init.Normal<T>(Init.StdFor(c * Kernel.Height * Kernel.Width), rng, Weights(c));
        return new Convolution<T>(w, new NDArray<T>(Filters), Stride, Pad) { Rectifies = Activation is not null, WeightInit = Init };
    }

    public override string Describe() =>
        $"conv {Filters} {Kernel}{(Stride != 1 ? $" stride {Stride}" : "")}{(Pad != 0 ? $" pad {Pad}" : "")}{(Activation is { } a ? " " + a.Name() : "")}";
}
