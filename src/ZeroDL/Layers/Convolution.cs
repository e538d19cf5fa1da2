using System.Numerics;
using ZeroDL.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>
/// Convolution (book ch. 7.4.3) on (N, C, H, W) input with filters W (FN, C, FH, FW) and bias b (FN), any stride
/// and padding: im2col, then one matrix product col·Wᵀ (rows (n, y, x), columns = filters), then the result
/// reordered to (N, FN, OH, OW). Backward: dW = doutᵀ·col, db = Σ dout, dx = col2im(dout·W).
/// </summary>
public sealed class Convolution<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _col, _out2d, _y, _dout2d, _dcol, _dx, _block;

    /// <summary>Elements of the im2col block an inference pass works on (about 128 KiB of float32: L2-resident).</summary>
    private const int InferenceBlockElements = 32 * 1024;
    private int[]? _inputShape;

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

    public Tensor<T> Forward(Tensor<T> x, bool training)
    {
        if (x.Rank != 4 || x.Shape[1] != Channels)
            throw new ArgumentException($"convolution: input {x.ShapeText} is not (N, {Channels}, H, W) for filters {W.Value.ShapeText}");
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        int oh = ConvShape.OutputSize(h, KernelHeight, Stride, Pad), ow = ConvShape.OutputSize(w, KernelWidth, Stride, Pad);
        int rows = n * oh * ow, k = Channels * KernelHeight * KernelWidth, fn = Filters;
        _inputShape = x.Shape;
        _out2d = Tensor<T>.Reuse(_out2d, rows, fn);
        if (training)
        {
            // Backward needs the whole im2col matrix for dW.
            _col = Tensor<T>.Reuse(_col, rows, k);
            Im2Col.Forward(x.ReadOnlySpan, n, Channels, h, w, KernelHeight, KernelWidth, Stride, Pad, _col.Span);
            Gemm.Multiply(false, true, rows, fn, k, _col.ReadOnlySpan, k, W.Value.ReadOnlySpan, k, _out2d.Span, fn);
        }
        else
        {
            // Inference: a cache-sized block of im2col rows at a time, never the whole matrix.
            int block = Math.Max(1, Math.Min(rows, InferenceBlockElements / Math.Max(1, k)));
            _block = Tensor<T>.Reuse(_block, block, k);
            for (int r0 = 0; r0 < rows; r0 += block)
            {
                int count = Math.Min(block, rows - r0);
                Im2Col.Rows(x.ReadOnlySpan, n, Channels, h, w, KernelHeight, KernelWidth, Stride, Pad, r0, count, _block.Span);
                Gemm.Multiply(false, true, count, fn, k, _block.ReadOnlySpan, k, W.Value.ReadOnlySpan, k, _out2d.Span.Slice(r0 * fn), fn);
            }
            _inputShape = null; // no backward through an inference pass
        }
        // (n, y, x, f) + b → (n, f, y, x)
        _y = Tensor<T>.Reuse(_y, n, fn, oh, ow);
        var src = _out2d.ReadOnlySpan; var dst = _y.Span; var bias = B.Value.ReadOnlySpan;
        int plane = oh * ow;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < plane; p++)
            {
                var from = src.Slice((i * plane + p) * fn, fn);
                for (int f = 0; f < fn; f++) dst[(i * fn + f) * plane + p] = from[f] + bias[f];
            }
        return _y;
    }

    public Tensor<T> Backward(Tensor<T> dout)
    {
        var shape = _inputShape ?? throw new InvalidOperationException("convolution: Backward needs a training-mode Forward first");
        _y!.RequireSameShape(dout, "convolution backward (y vs dout)");
        int n = shape[0], h = shape[2], w = shape[3], fn = Filters;
        int oh = dout.Shape[2], ow = dout.Shape[3], plane = oh * ow;
        int rows = n * plane, k = Channels * KernelHeight * KernelWidth;
        // (n, f, y, x) → (n, y, x, f)
        _dout2d = Tensor<T>.Reuse(_dout2d, rows, fn);
        var d = dout.ReadOnlySpan; var d2 = _dout2d.Span;
        for (int i = 0; i < n; i++)
            for (int f = 0; f < fn; f++)
            {
                var from = d.Slice((i * fn + f) * plane, plane);
                for (int p = 0; p < plane; p++) d2[(i * plane + p) * fn + f] = from[p];
            }
        var db = B.Grad.Span;
        db.Clear();
        for (int r = 0; r < rows; r++) TP.Add(db, d2.Slice(r * fn, fn), db);
        Gemm.Multiply(true, false, fn, k, rows, _dout2d.ReadOnlySpan, fn, _col!.ReadOnlySpan, k, W.Grad.Span, k);
        _dcol = Tensor<T>.Reuse(_dcol, rows, k);
        Gemm.Multiply(false, false, rows, k, fn, _dout2d.ReadOnlySpan, fn, W.Value.ReadOnlySpan, k, _dcol.Span, k);
        _dx = Tensor<T>.Reuse(_dx, shape);
        Im2Col.Backward(_dcol.ReadOnlySpan, n, Channels, h, w, KernelHeight, KernelWidth, Stride, Pad, _dx.Span);
        return _dx;
    }
}
