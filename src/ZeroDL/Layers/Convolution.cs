using System.Numerics;
using ZeroDL.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>
/// Convolution (book ch. 7.4.3) on (N, C, H, W) input with filters W (FN, C, FH, FW) and bias b (FN), any stride
/// and padding. The book writes it as im2col, one product col·Wᵀ and a reorder to (N, FN, OH, OW); we compute the
/// same product transposed, W·colT, with the channel-major column matrix colT = colᵀ
/// (<see cref="Im2ColChannelMajor"/>): its rows are shifted copies of input rows, and the product comes out as
/// (FN, N·OH·OW), a copy of contiguous planes away from NCHW. Backward: db = Σ dout, dW = (colT·doutTᵀ)ᵀ,
/// dx = col2im(Wᵀ·doutT).
/// </summary>
public sealed class Convolution<T> : ILayer<T>, IFirstLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _colT, _outT, _y, _doutT, _dcolT, _dx, _dWt;
    private int[]? _inputShape;

    /// <summary>Elements of the column matrix an inference pass works on at a time (4 MiB of float32), whole images per block.</summary>
    internal int InferenceBlockElements { get; set; } = 1 << 20;

    public Convolution(Tensor<T> w, Tensor<T> b, int stride = 1, int pad = 0)
    {
        if (w.Rank != 4 || b.Rank != 1 || b.Size != w.Shape[0])
            throw new ArgumentException($"convolution: W must be (FN, C, FH, FW) and b (FN); got W {w.ShapeText}, b {b.ShapeText}");
        if (stride < 1 || pad < 0) throw new ArgumentOutOfRangeException(nameof(stride), $"stride {stride} must be ≥ 1 and pad {pad} ≥ 0");
        W = new Parameter<T>("W", w, isWeight: true);
        B = new Parameter<T>("b", b, isWeight: false);
        Stride = stride;
        Pad = pad;
    }

    public string Kind => "conv";
    public Parameter<T> W { get; }
    public Parameter<T> B { get; }
    public int Stride { get; }
    public int Pad { get; }
    public int Filters => W.Value.Shape[0];
    public int Channels => W.Value.Shape[1];
    public int KernelHeight => W.Value.Shape[2];
    public int KernelWidth => W.Value.Shape[3];
    public IReadOnlyList<Parameter<T>> Parameters => [W, B];
    public IReadOnlyList<(string Name, Tensor<T> Value)> State => [];

    private int TapCount => Channels * KernelHeight * KernelWidth;

    public Tensor<T> Forward(Tensor<T> x, bool training)
    {
        if (x.Rank != 4 || x.Shape[1] != Channels)
            throw new ArgumentException($"convolution: input {x.ShapeText} is not (N, {Channels}, H, W) for filters {W.Value.ShapeText}");
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        int oh = ConvShape.OutputSize(h, KernelHeight, Stride, Pad), ow = ConvShape.OutputSize(w, KernelWidth, Stride, Pad);
        int plane = oh * ow, k = TapCount;
        _y = Tensor<T>.Reuse(_y, n, Filters, oh, ow);
        // Training keeps the whole column matrix for dW; inference works through blocks of whole images.
        int block = training ? n : Math.Clamp(InferenceBlockElements / Math.Max(1, k * plane), 1, n);
        _inputShape = training ? x.Shape : null;
        _colT = Tensor<T>.Reuse(_colT, k, block * plane);
        _outT = Tensor<T>.Reuse(_outT, Filters, block * plane);
        int imageSize = Channels * h * w;
        for (int i0 = 0; i0 < n; i0 += block)
        {
            int count = Math.Min(block, n - i0), columns = count * plane;
            var colT = _colT.Span.Slice(0, k * columns);
            var outT = _outT.Span.Slice(0, Filters * columns);
            Im2ColChannelMajor.Forward(x.ReadOnlySpan.Slice(i0 * imageSize, count * imageSize), count, Channels, h, w,
                KernelHeight, KernelWidth, Stride, Pad, colT);
            Gemm.Multiply(false, false, Filters, columns, k, W.Value.ReadOnlySpan, k, colT, columns, outT, columns);
            // (f, i, p) + b[f] → (i, f, p)
            var y = _y.Span; var bias = B.Value.ReadOnlySpan;
            for (int f = 0; f < Filters; f++)
                for (int i = 0; i < count; i++)
                    TP.Add(outT.Slice(f * columns + i * plane, plane), bias[f], y.Slice(((i0 + i) * Filters + f) * plane, plane));
        }
        return _y;
    }

    public Tensor<T> Backward(Tensor<T> dout)
    {
        BackwardParameters(dout);
        var shape = _inputShape!;
        int n = shape[0], h = shape[2], w = shape[3], columns = dout.Shape[0] * dout.Shape[2] * dout.Shape[3], k = TapCount;
        _dcolT = Tensor<T>.Reuse(_dcolT, k, columns);
        Gemm.Multiply(true, false, k, columns, Filters, W.Value.ReadOnlySpan, k, _doutT!.ReadOnlySpan, columns, _dcolT.Span, columns);
        _dx = Tensor<T>.Reuse(_dx, shape);
        Im2ColChannelMajor.Backward(_dcolT.ReadOnlySpan, n, Channels, h, w, KernelHeight, KernelWidth, Stride, Pad, _dx.Span);
        return _dx;
    }

    /// <summary>The gradients of W and b only — all a network's first layer needs, since nothing uses ∂L/∂input.</summary>
    public void BackwardParameters(Tensor<T> dout)
    {
        var shape = _inputShape ?? throw new InvalidOperationException("convolution: Backward needs a training-mode Forward first");
        _y!.RequireSameShape(dout, "convolution backward (y vs dout)");
        int n = shape[0], plane = dout.Shape[2] * dout.Shape[3], columns = n * plane, k = TapCount;
        // (i, f, p) → (f, i, p), and db[f] = Σ over i and p.
        _doutT = Tensor<T>.Reuse(_doutT, Filters, columns);
        var d = dout.ReadOnlySpan; var dT = _doutT.Span; var db = B.Grad.Span;
        for (int f = 0; f < Filters; f++)
        {
            for (int i = 0; i < n; i++) d.Slice((i * Filters + f) * plane, plane).CopyTo(dT.Slice(f * columns + i * plane, plane));
            db[f] = TP.Sum(dT.Slice(f * columns, columns));
        }
        // dWᵀ (k × FN) = colT · doutTᵀ, then transposed: with few filters this orientation is a thin product
        // whose long rows the GEMM reads in place, about three times faster than doutT · colTᵀ.
        _dWt = Tensor<T>.Reuse(_dWt, k, Filters);
        Gemm.Multiply(false, true, k, Filters, columns, _colT!.ReadOnlySpan, columns, _doutT.ReadOnlySpan, columns, _dWt.Span, Filters);
        var dWt = _dWt.ReadOnlySpan; var dW = W.Grad.Span;
        for (int q = 0; q < k; q++)
            for (int f = 0; f < Filters; f++) dW[f * k + q] = dWt[q * Filters + f];
    }
}
