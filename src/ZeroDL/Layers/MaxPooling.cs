using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Numerics;
using ZeroDL.Kernels;

namespace ZeroDL.Layers;

/// <summary>
/// Max pooling (book ch. 7.4.4) over (N, C, H, W): each output is the largest input in its window. Padding
/// positions count as −∞ — never selected — so padding actually works (the book pads with zeros, which beats
/// negative inputs). Backward routes each gradient to the position that won; on ties, the first in row-major order.
/// In a network, a 2×2, stride-2 pooling after a rectifying convolution is computed inside the convolution's passes
/// (<see cref="ConvolutionPooling{T}"/>), with the same numbers and this layer's state filled as its own pass would.
/// </summary>
public sealed class MaxPooling<T> : StatelessLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _y, _dx, _x, _dout;
    private int[] _argmax = [];
    private int[]? _inputShape;
    private (int H, int W, int OH, int OW) _plane;
    // Made once: the passes hand them to ParallelRanges every mini-batch without allocating.
    private readonly Action<int, int> _forwardPlanes, _backwardPlanes;

    public MaxPooling(int poolHeight, int poolWidth, int stride = 1, int pad = 0)
    {
        if (poolHeight < 1 || poolWidth < 1 || stride < 1 || pad < 0)
            throw new ArgumentOutOfRangeException(nameof(poolHeight), $"pool {poolHeight}×{poolWidth}, stride {stride}, pad {pad} is not valid");
        if (pad >= poolHeight || pad >= poolWidth)
            throw new ArgumentOutOfRangeException(nameof(pad), $"padding {pad} must be smaller than the pool {poolHeight}×{poolWidth} (a window of padding only has no maximum)");
        PoolHeight = poolHeight; PoolWidth = poolWidth; Stride = stride; Pad = pad;
        _forwardPlanes = ForwardPlanes;
        _backwardPlanes = BackwardPlanes;
    }

    /// <summary>Pools planes p0 … p1 of the current input into <see cref="_y"/>, recording each window's winner.</summary>
    private void ForwardPlanes(int p0, int p1)
    {
        var (h, w, oh, ow) = _plane;
        T[] input = _x!.Data, output = _y!.Data; int[] argmax = _argmax;
        if (typeof(T) == typeof(float) && IsTwoByTwoStrideTwo)
        {
            // The input from plane p0 to the array's end: the vectors may read past p1 (see MaxPool2x2.Pool).
            MaxPool2x2.Pool(((float[])(object)input).AsSpan(p0 * h * w), p1 - p0, h, w, ((float[])(object)output).AsSpan(p0 * oh * ow, (p1 - p0) * oh * ow),
                argmax.AsSpan(p0 * oh * ow, (p1 - p0) * oh * ow), p0 * h * w, System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated);
            return;
        }
        for (int plane = p0; plane < p1; plane++)
            PoolPlane(input.AsSpan(plane * h * w, h * w), h, w, oh, ow,
                output.AsSpan(plane * oh * ow, oh * ow), argmax.AsSpan(plane * oh * ow, oh * ow), plane * h * w);
    }

    /// <summary>
    /// Planes p0 … p1 of dx: cleared, then each output's gradient routed to its window's winner (a window never
    /// leaves its plane, so neither does its winner: the planes can be split over the cores); float32 2×2 windows with
    /// stride 2 by <see cref="MaxPool2x2.Route"/>, which writes each element once where rows are long enough.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardPlanes(int p0, int p1)
    {
        int inPlane = _plane.H * _plane.W, outPlane = _plane.OH * _plane.OW;
        T[] dx = _dx!.Data, d = _dout!.Data; int[] argmax = _argmax;
        if (typeof(T) == typeof(float) && IsTwoByTwoStrideTwo)
        {
            MaxPool2x2.Route(((float[])(object)d).AsSpan(p0 * outPlane, (p1 - p0) * outPlane), argmax.AsSpan(p0 * outPlane, (p1 - p0) * outPlane), default,
                p1 - p0, _plane.H, _plane.W, p0 * inPlane, ((float[])(object)dx).AsSpan(p0 * inPlane, (p1 - p0) * inPlane));
            return;
        }
        dx.AsSpan(p0 * inPlane, (p1 - p0) * inPlane).Clear();
        for (int o = p0 * outPlane, end = p1 * outPlane; o < end; o++) dx[argmax[o]] += d[o];
    }

    /// <summary>2×2 windows, stride 2, no padding: the book's every pooling layer, the one shape with kernels of its own (<see cref="MaxPool2x2"/>).</summary>
    internal bool IsTwoByTwoStrideTwo => Pad == 0 && PoolHeight == 2 && PoolWidth == 2 && Stride == 2;

    public override string Kind => "pool";
    public override LayerConfig Config => new MaxPoolConfig { Size = new WindowSize(PoolHeight, PoolWidth), Stride = Stride, Pad = Pad };
    public int PoolHeight { get; }
    public int PoolWidth { get; }
    public int Stride { get; }
    public int Pad { get; }

    public override NDArray<T> Forward(NDArray<T> x, bool training)
    {
        if (x.Rank != 4) throw new ArgumentException($"max pooling: input {x.ShapeText} is not (N, C, H, W)");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int oh = ConvShape.OutputSize(h, PoolHeight, Stride, Pad), ow = ConvShape.OutputSize(w, PoolWidth, Stride, Pad);
        if (!x.SameShape(_inputShape)) _inputShape = x.Shape.ToArray(); // kept across batches of one shape: no allocation
        _y = NDArray<T>.Reuse(_y, n, c, oh, ow);
        if (_argmax.Length < _y.Size) _argmax = new int[_y.Size];
        _x = x; _plane = (h, w, oh, ow);
        int planes = n * c;
        try { ParallelRanges.For(planes, x.Size, 1, _forwardPlanes); }
        finally { _x = null; }
        return _y;
    }

    /// <summary>One (H, W) plane: each window's maximum and the flat index (offset by <paramref name="baseIndex"/>) of the input that won.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PoolPlane(ReadOnlySpan<T> x, int h, int w, int oh, int ow, Span<T> y, Span<int> argmax, int baseIndex)
    {
        if (Pad == 0 && PoolHeight == 2 && PoolWidth == 2)
        {
            PoolPlane2x2(x, w, oh, ow, y, argmax, baseIndex);
            return;
        }
        int o = 0;
        for (int oy = 0; oy < oh; oy++)
        {
            int y0 = oy * Stride - Pad;
            int ky0 = Math.Max(0, -y0), ky1 = Math.Min(PoolHeight, h - y0);
            for (int ox = 0; ox < ow; ox++, o++)
            {
                int x0 = ox * Stride - Pad;
                int kx0 = Math.Max(0, -x0), kx1 = Math.Min(PoolWidth, w - x0);
                // Padding positions are −∞: only the window's part inside the image competes. NaN wins (propagates).
                int at = (y0 + ky0) * w + x0 + kx0;
                T best = x[at];
                for (int ky = ky0; ky < ky1; ky++)
                {
                    int row = (y0 + ky) * w + x0;
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        T v = x[row + kx];
                        if (v > best || (T.IsNaN(v) && !T.IsNaN(best))) { best = v; at = row + kx; }
                    }
                }
                y[o] = best;
                argmax[o] = baseIndex + at;
            }
        }
    }

    /// <summary>The common 2×2 window without padding (the book's every pooling layer), unrolled; same tie and NaN rules.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PoolPlane2x2(ReadOnlySpan<T> x, int w, int oh, int ow, Span<T> y, Span<int> argmax, int baseIndex)
    {
        int o = 0;
        for (int oy = 0; oy < oh; oy++)
        {
            int top = oy * Stride * w;
            for (int ox = 0; ox < ow; ox++, o++)
            {
                int a = top + ox * Stride, b = a + 1, c = a + w, d = c + 1;
                T va = x[a], vb = x[b], vc = x[c], vd = x[d];
                if (vb > va || (T.IsNaN(vb) && !T.IsNaN(va))) { va = vb; a = b; }
                if (vc > va || (T.IsNaN(vc) && !T.IsNaN(va))) { va = vc; a = c; }
                if (vd > va || (T.IsNaN(vd) && !T.IsNaN(va))) { va = vd; a = d; }
                y[o] = va;
                argmax[o] = baseIndex + a;
            }
        }
    }

    /// <summary>
    /// For a convolution that pools its own output chunk by chunk (<see cref="ConvolutionPooling{T}"/>): this layer's
    /// output and winners made ready, as <see cref="Forward"/> makes them, for an input of <paramref name="inputShape"/>
    /// (N, C, H, W) that is never written out; the caller fills them as Forward would, after which this layer's state
    /// is what Forward leaves (its <see cref="Backward"/> would work).
    /// </summary>
    internal (NDArray<T> Y, int[] Argmax) PoolInPlaceOf(ReadOnlySpan<int> inputShape)
    {
        int n = inputShape[0], c = inputShape[1], h = inputShape[2], w = inputShape[3];
        int oh = ConvShape.OutputSize(h, PoolHeight, Stride, Pad), ow = ConvShape.OutputSize(w, PoolWidth, Stride, Pad);
        if (_inputShape is null || !inputShape.SequenceEqual(_inputShape)) _inputShape = inputShape.ToArray(); // kept across batches: no allocation
        _y = NDArray<T>.Reuse(_y, n, c, oh, ow);
        if (_argmax.Length < _y.Size) _argmax = new int[_y.Size];
        _plane = (h, w, oh, ow);
        return (_y, _argmax);
    }

    /// <summary>The last forward pass's output and winners, for a convolution's backward pass that routes this layer's gradient itself.</summary>
    internal (NDArray<T> Y, int[] Argmax) Pooled()
    {
        RequireForward(_inputShape, Kind);
        return (_y!, _argmax);
    }

    public override NDArray<T> Backward(NDArray<T> dout)
    {
        RequireForward(_inputShape, Kind);
        _y!.RequireSameShape(dout, "max pooling backward (y vs dout)");
        _dx = NDArray<T>.Reuse(_dx, _inputShape!);
        int planes = _inputShape![0] * _inputShape[1], inPlane = _inputShape[2] * _inputShape[3], outPlane = _y.Shape[2] * _y.Shape[3];
        _dout = dout;
        try { ParallelRanges.For(planes, (long)planes * (inPlane + outPlane), 1, _backwardPlanes); }
        finally { _dout = null; }
        return _dx;
    }
}
