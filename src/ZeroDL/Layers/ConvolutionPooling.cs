using System.Numerics;

namespace ZeroDL.Layers;

/// <summary>
/// A rectifying <see cref="Convolution{T}"/> and the 2×2, stride-2 <see cref="MaxPooling{T}"/> after it, run as one
/// pass: a network (<see cref="Models.Sequential{T}"/>) finds such pairs once, when it is built, and runs each through
/// this. Forward pools each chunk of the convolution's output while it is in cache, so the output never makes the
/// round trip through memory; backward routes the pooling's gradient to the windows' winners and gates it there, chunk
/// by chunk inside the convolution's pass, which is the ReLU's gate exactly (the output at a winner is its window's
/// maximum, and every other position gets 0 either way). The same numbers as the two layers run one after the other,
/// bit for bit. The layers themselves stay as they are — the architecture, names, parameters and files are the
/// network's plain list — and either layer called on its own still runs its own pass. A convolution without an engine
/// (not float32, or held to the book's im2col) runs the two layers one after the other.
/// </summary>
internal sealed class ConvolutionPooling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Convolution<T> _convolution;
    private readonly MaxPooling<T> _pooling;
    /// <summary>Whether the last forward pass ran as one (the backward pass must go the same way).</summary>
    private bool _fused;

    private ConvolutionPooling(Convolution<T> convolution, MaxPooling<T> pooling)
    {
        _convolution = convolution;
        _pooling = pooling;
    }

    /// <summary>The pair <paramref name="first"/> → <paramref name="second"/> as one pass, or null where they are not such a pair.</summary>
    public static ConvolutionPooling<T>? Of(ILayer<T> first, ILayer<T> second) =>
        first is Convolution<T> { Rectifies: true } convolution && second is MaxPooling<T> { IsTwoByTwoStrideTwo: true } pooling
            ? new ConvolutionPooling<T>(convolution, pooling) : null;

    /// <summary>The pooling's output for input <paramref name="x"/> of the convolution.</summary>
    public NDArray<T> Forward(NDArray<T> x, bool training)
    {
        _fused = _convolution.PoolsItsOutput;
        return _fused ? _convolution.ForwardPooled(x, _pooling, training) : _pooling.Forward(_convolution.Forward(x, training), training);
    }

    /// <summary>
    /// The convolution's parameter gradients from the pooling's output gradient <paramref name="dout"/>, and the
    /// gradient with respect to the convolution's input (returned) where <paramref name="inputGradient"/> (a first
    /// layer needs none: null then, where the convolution can skip it).
    /// </summary>
    public NDArray<T>? Backward(NDArray<T> dout, bool inputGradient)
    {
        if (_fused) return _convolution.BackwardPooled(dout, _pooling, inputGradient);
        var d = _pooling.Backward(dout);
        if (inputGradient) return _convolution.Backward(d);
        _convolution.BackwardParameters(d);
        return null;
    }
}
