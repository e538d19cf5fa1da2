using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>How dropout keeps the expected activation the same in training and inference; in JSON "classic" or "inverted".</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(JsonNameEnumConverter<DropoutMode>))]
public enum DropoutMode
{
    /// <summary>The book's rule: training multiplies by the 0/1 mask, inference multiplies by (1 − ratio).</summary>
    Classic,
    /// <summary>PyTorch's rule: training multiplies by mask/(1 − ratio), inference passes x unchanged.</summary>
    Inverted,
}

/// <summary>Dropout (book ch. 6.4.3): in training each unit is dropped with probability <see cref="Ratio"/>.</summary>
public sealed class Dropout<T> : StatelessLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Rng _rng;
    private NDArray<T>? _mask, _y, _dx;

    public Dropout(double ratio, DropoutMode mode, Rng rng)
    {
        if (!(ratio >= 0 && ratio < 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "dropout ratio must be in [0, 1)");
        Ratio = ratio;
        Mode = mode;
        _rng = rng;
    }

    public override string Kind => "dropout";
    public override LayerConfig Config => new DropoutConfig { Ratio = Ratio, Mode = Mode };
    public double Ratio { get; }
    public DropoutMode Mode { get; }

    /// <summary>The state of the generator that draws this layer's masks (a checkpoint saves and restores it, so a resumed run draws the same masks).</summary>
    public RngState RandomState { get => _rng.State; set => _rng.State = value; }

    public static DropoutMode ParseMode(string text) => text.Trim().ToLowerInvariant() switch
    {
        "classic" or "book" => DropoutMode.Classic,
        "inverted" => DropoutMode.Inverted,
        _ => throw new FormatException($"dropout mode '{text}' is not 'classic' or 'inverted'"),
    };

    /// <summary>"classic" or "inverted", as the CLI and model files name them.</summary>
    public static string ModeName(DropoutMode mode) => JsonNameEnumConverter<DropoutMode>.NameOf(mode);

    public override NDArray<T> Forward(NDArray<T> x, bool training)
    {
        _y = NDArray<T>.Reuse(_y, x.Shape);
        if (training)
        {
            _mask = NDArray<T>.Reuse(_mask, x.Shape);
            T keep = Mode == DropoutMode.Inverted ? T.CreateTruncating(1.0 / (1.0 - Ratio)) : T.One;
            _rng.FillDropoutMask(_mask.Span, Ratio, keep);
            TP.Multiply(x.ReadOnlySpan, _mask.ReadOnlySpan, _y.Span);
        }
        else if (Mode == DropoutMode.Classic)
            TP.Multiply(x.ReadOnlySpan, T.CreateTruncating(1.0 - Ratio), _y.Span);
        else
            x.ReadOnlySpan.CopyTo(_y.Span);
        return _y;
    }

    public override NDArray<T> Backward(NDArray<T> dout)
    {
        RequireForward(_mask, Kind);
        _mask!.RequireSameShape(dout, "dropout backward (mask vs dout)");
        _dx = NDArray<T>.Reuse(_dx, dout.Shape);
        TP.Multiply(dout.ReadOnlySpan, _mask.ReadOnlySpan, _dx.Span);
        return _dx;
    }
}
