using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Functions;

/// <summary>The book's activation functions (ch. 3), element-wise, returning new tensors.</summary>
public static class Activations
{
    public static NDArray<T> Identity<T>(NDArray<T> x) where T : unmanaged, IFloatingPointIeee754<T> => x.Clone();

    /// <summary>Step function: 1 where x &gt; 0, else 0 (the book's <c>np.array(x &gt; 0, dtype=int)</c>).</summary>
    public static NDArray<T> Step<T>(NDArray<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new NDArray<T>(x.Shape);
        var src = x.ReadOnlySpan; var dst = y.Span;
        for (int i = 0; i < src.Length; i++) dst[i] = src[i] > T.Zero ? T.One : T.Zero;
        return y;
    }

    /// <summary>σ(x) = 1 / (1 + e^−x), evaluated without overflow for large |x|.</summary>
    public static NDArray<T> Sigmoid<T>(NDArray<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new NDArray<T>(x.Shape);
        TP.Sigmoid(x.ReadOnlySpan, y.Span);
        return y;
    }

    public static NDArray<T> Relu<T>(NDArray<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new NDArray<T>(x.Shape);
        TP.Max(x.ReadOnlySpan, T.Zero, y.Span);
        return y;
    }

    public static NDArray<T> Tanh<T>(NDArray<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new NDArray<T>(x.Shape);
        TP.Tanh(x.ReadOnlySpan, y.Span);
        return y;
    }
}
