using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Functions;

/// <summary>The book's activation functions (ch. 3), element-wise, returning new tensors.</summary>
public static class Activations
{
    public static Tensor<T> Identity<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T> => x.Clone();

    /// <summary>Step function: 1 where x &gt; 0, else 0 (the book's <c>np.array(x &gt; 0, dtype=int)</c>).</summary>
    public static Tensor<T> Step<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new Tensor<T>(x.Shape);
        var src = x.ReadOnlySpan; var dst = y.Span;
        for (int i = 0; i < src.Length; i++) dst[i] = src[i] > T.Zero ? T.One : T.Zero;
        return y;
    }

    /// <summary>σ(x) = 1 / (1 + e^−x), evaluated without overflow for large |x|.</summary>
    public static Tensor<T> Sigmoid<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new Tensor<T>(x.Shape);
        TP.Sigmoid(x.ReadOnlySpan, y.Span);
        return y;
    }

    public static Tensor<T> Relu<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new Tensor<T>(x.Shape);
        TP.Max(x.ReadOnlySpan, T.Zero, y.Span);
        return y;
    }

    public static Tensor<T> Tanh<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new Tensor<T>(x.Shape);
        TP.Tanh(x.ReadOnlySpan, y.Span);
        return y;
    }
}
