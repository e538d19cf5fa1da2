using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>Sigmoid (book ch. 5.5.2): y = 1/(1+e^−x); ∂L/∂x = ∂L/∂y · y(1 − y).</summary>
public sealed class Sigmoid<T> : StatelessLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _y, _dx;

    public override string Kind => "sigmoid";
    public override LayerConfig Config => new SigmoidConfig();

    public override NDArray<T> Forward(NDArray<T> x, bool training)
    {
        _y = NDArray<T>.Reuse(_y, x.Shape);
        TP.Sigmoid(x.ReadOnlySpan, _y.Span);
        return _y;
    }

    public override NDArray<T> Backward(NDArray<T> dout)
    {
        RequireForward(_y, Kind);
        _y!.RequireSameShape(dout, "sigmoid backward (y vs dout)");
        _dx = NDArray<T>.Reuse(_dx, dout.Shape);
        var y = _y.ReadOnlySpan; var d = dout.ReadOnlySpan; var dx = _dx.Span;
        for (int i = 0; i < dx.Length; i++) dx[i] = d[i] * (T.One - y[i]) * y[i];
        return _dx;
    }
}
