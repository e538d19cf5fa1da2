using System.Numerics;
using ZeroDL.Kernels;

namespace ZeroDL.Layers;

/// <summary>
/// Max pooling (book ch. 7.4.4) over (N, C, H, W): each output is the largest input in its window. Padding
/// positions count as −∞ — never selected — so padding actually works (the book pads with zeros, which beats
/// negative inputs). Backward routes each gradient to the position that won; on ties, the first in row-major order.
/// </summary>
public sealed class MaxPooling<T> : StatelessLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _y, _dx;
    private int[] _argmax = [];
    private int[]? _inputShape;

    public MaxPooling(int poolHeight, int poolWidth, int stride = 1, int pad = 0)
    {
        if (poolHeight < 1 || poolWidth < 1 || stride < 1 || pad < 0)
            throw new ArgumentOutOfRangeException(nameof(poolHeight), $"pool {poolHeight}×{poolWidth}, stride {stride}, pad {pad} is not valid");
        if (pad >= poolHeight || pad >= poolWidth)
            throw new ArgumentOutOfRangeException(nameof(pad), $"padding {pad} must be smaller than the pool {poolHeight}×{poolWidth} (a window of padding only has no maximum)");
        PoolHeight = poolHeight; PoolWidth = poolWidth; Stride = stride; Pad = pad;
    }

    public override string Kind => "pool";
    public int PoolHeight { get; }
    public int PoolWidth { get; }
    public int Stride { get; }
    public int Pad { get; }

    public override Tensor<T> Forward(Tensor<T> x, bool training)
    {
        if (x.Rank != 4) throw new ArgumentException($"max pooling: input {x.ShapeText} is not (N, C, H, W)");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int oh = ConvShape.OutputSize(h, PoolHeight, Stride, Pad), ow = ConvShape.OutputSize(w, PoolWidth, Stride, Pad);
        _inputShape = x.Shape;
        _y = Tensor<T>.Reuse(_y, n, c, oh, ow);
        if (_argmax.Length < _y.Size) _argmax = new int[_y.Size];
        var xs = x.ReadOnlySpan; var y = _y.Span;
        int o = 0;
        for (int plane = 0; plane < n * c; plane++)
        {
            int baseIndex = plane * h * w;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++, o++)
                {
                    T best = T.NegativeInfinity;
                    int at = -1;
                    for (int ky = 0; ky < PoolHeight; ky++)
                    {
                        int yy = oy * Stride + ky - Pad;
                        if ((uint)yy >= (uint)h) continue;
                        for (int kx = 0; kx < PoolWidth; kx++)
                        {
                            int xx = ox * Stride + kx - Pad;
                            if ((uint)xx >= (uint)w) continue;
                            int idx = baseIndex + yy * w + xx;
                            if (at < 0 || xs[idx] > best || T.IsNaN(xs[idx])) { best = xs[idx]; at = idx; }
                        }
                    }
                    y[o] = best;
                    _argmax[o] = at;
                }
        }
        return _y;
    }

    public override Tensor<T> Backward(Tensor<T> dout)
    {
        RequireForward(_inputShape, Kind);
        _y!.RequireSameShape(dout, "max pooling backward (y vs dout)");
        _dx = Tensor<T>.Reuse(_dx, _inputShape!);
        var dx = _dx.Span;
        dx.Clear();
        var d = dout.ReadOnlySpan;
        for (int o = 0; o < d.Length; o++) dx[_argmax[o]] += d[o];
        return _dx;
    }
}
