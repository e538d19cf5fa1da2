using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>Hyperbolic tangent: y = tanh(x); ∂L/∂x = ∂L/∂y · (1 − y²).</summary>
public sealed class Tanh<T> : StatelessLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _y, _dx;

    public override string Kind => "tanh";
    public override LayerConfig Config => new TanhConfig();

    public override NDArray<T> Forward(NDArray<T> x, bool training)
    {
        _y = NDArray<T>.Reuse(_y, x.Shape);
        TP.Tanh(x.ReadOnlySpan, _y.Span);
        return _y;
    }

    public override NDArray<T> Backward(NDArray<T> dout)
    {
        RequireForward(_y, Kind);
        _y!.RequireSameShape(dout, "tanh backward (y vs dout)");
        _dx = NDArray<T>.Reuse(_dx, dout.Shape);
        var y = _y.ReadOnlySpan; var d = dout.ReadOnlySpan; var dx = _dx.Span;
        for (int i = 0; i < dx.Length; i++) dx[i] = d[i] * (T.One - y[i] * y[i]);
        return _dx;
    }
}
