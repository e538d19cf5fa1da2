using System.Numerics;
using ZeroDL.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>
/// Fully connected layer y = x·W + b (book ch. 5.6), W of shape (in, out). Input of any rank is flattened to
/// (N, in) as the book's Affine does for 4-D tensors; Backward returns dx in the input's original shape.
/// </summary>
public sealed class Affine<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _x, _y, _dx;

    public Affine(Tensor<T> w, Tensor<T> b)
    {
        if (w.Rank != 2 || b.Rank != 1 || b.Size != w.Shape[1])
            throw new ArgumentException($"affine: W must be (in, out) and b (out); got W {w.ShapeText}, b {b.ShapeText}");
        W = new Parameter<T>("W", w, isWeight: true);
        B = new Parameter<T>("b", b, isWeight: false);
    }

    /// <summary>W ~ N(0, std²) drawn from <paramref name="rng"/>, b = 0.</summary>
    public Affine(int inputSize, int outputSize, double weightStd, Rng rng)
        : this(Init.Normal<T>(weightStd, rng, inputSize, outputSize), new Tensor<T>(outputSize)) { }

    public string Kind => "affine";
    public Parameter<T> W { get; }
    public Parameter<T> B { get; }
    public int InputSize => W.Value.Shape[0];
    public int OutputSize => W.Value.Shape[1];
    public IReadOnlyList<Parameter<T>> Parameters => [W, B];
    public IReadOnlyList<(string Name, Tensor<T> Value)> State => [];

    public Tensor<T> Forward(Tensor<T> x, bool training)
    {
        if (x.RowLength != InputSize)
            throw new ArgumentException($"affine: input {x.ShapeText} has {x.RowLength} features per sample, W {W.Value.ShapeText} expects {InputSize}");
        _x = x;
        int n = x.Rows;
        _y = Tensor<T>.Reuse(_y, n, OutputSize);
        Gemm.Multiply(false, false, n, OutputSize, InputSize, x.ReadOnlySpan, InputSize, W.Value.ReadOnlySpan, OutputSize, _y.Span, OutputSize);
        var bias = B.Value.ReadOnlySpan;
        var y = _y.Span;
        for (int r = 0; r < n; r++)
        {
            var row = y.Slice(r * OutputSize, OutputSize);
            TP.Add(row, bias, row);
        }
        return _y;
    }

    public Tensor<T> Backward(Tensor<T> dout)
    {
        var x = _x ?? throw new InvalidOperationException("affine: Backward called before Forward");
        int n = x.Rows;
        if (dout.Rows != n || dout.RowLength != OutputSize)
            throw new ArgumentException($"affine: dout {dout.ShapeText} does not match output ({n}, {OutputSize})");
        _dx = Tensor<T>.Reuse(_dx, x.Shape);
        // dx = dout·Wᵀ, dW = xᵀ·dout, db = Σ_rows dout
        Gemm.Multiply(false, true, n, InputSize, OutputSize, dout.ReadOnlySpan, OutputSize, W.Value.ReadOnlySpan, OutputSize, _dx.Span, InputSize);
        Gemm.Multiply(true, false, InputSize, OutputSize, n, x.ReadOnlySpan, InputSize, dout.ReadOnlySpan, OutputSize, W.Grad.Span, OutputSize);
        var db = B.Grad.Span;
        db.Clear();
        var d = dout.ReadOnlySpan;
        for (int r = 0; r < n; r++) TP.Add(db, d.Slice(r * OutputSize, OutputSize), db);
        return _dx;
    }
}
