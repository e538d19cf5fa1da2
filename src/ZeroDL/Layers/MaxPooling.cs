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
        if (typeof(T) == typeof(float) && Pad == 0 && PoolHeight == 2 && PoolWidth == 2 && Stride == 2 && Avx2.IsSupported)
        {
            PoolPlanes2x2Stride2((float[])(object)input, (float[])(object)output, argmax, p0, p1, h, w, oh, ow);
            return;
        }
        for (int plane = p0; plane < p1; plane++)
            PoolPlane(input.AsSpan(plane * h * w, h * w), h, w, oh, ow,
                output.AsSpan(plane * oh * ow, oh * ow), argmax.AsSpan(plane * oh * ow, oh * ow), plane * h * w);
    }

    /// <summary>
    /// Planes p0 … p1 of dx: cleared, then each output's gradient routed to its window's winner (a window never
    /// leaves its plane, so neither does its winner: the planes can be split over the cores); float32 2×2 windows with
    /// stride 2 in one pass (<see cref="RoutePlanes2x2Stride2"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardPlanes(int p0, int p1)
    {
        int inPlane = _plane.H * _plane.W, outPlane = _plane.OH * _plane.OW;
        T[] dx = _dx!.Data, d = _dout!.Data; int[] argmax = _argmax;
        if (typeof(T) == typeof(float) && Pad == 0 && PoolHeight == 2 && PoolWidth == 2 && Stride == 2 && _plane.OW >= RouteMinimumWindows && Avx2.IsSupported)
        {
            RoutePlanes2x2Stride2((float[])(object)d, argmax, (float[])(object)dx, p0, p1, _plane.H, _plane.W, _plane.OH, _plane.OW);
            return;
        }
        dx.AsSpan(p0 * inPlane, (p1 - p0) * inPlane).Clear();
        for (int o = p0 * outPlane, end = p1 * outPlane; o < end; o++) dx[argmax[o]] += d[o];
    }

    /// <summary>
    /// The fewest windows a row for which <see cref="RoutePlanes2x2Stride2"/> replaces clearing dx and routing: one
    /// vector of them. On shorter rows its per-row work cost more than the clearing it saves (DeepConvNet's last
    /// pooling, four windows a row, measured about twice as slow).
    /// </summary>
    internal const int RouteMinimumWindows = 8;

    /// <summary>
    /// <see cref="BackwardPlanes"/> for float32 2×2 windows with stride 2, which do not overlap: every element of dx is
    /// written once, with no clearing pass before and no read back, 0 + dout where its window's winner is that element
    /// (0 + d: the same bits as the general path's routing onto a cleared dx, −0 becoming +0) and 0 elsewhere; eight
    /// windows at a time, then four, then one by one without branches. The row and column a window never reaches (odd
    /// H or W) are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RoutePlanes2x2Stride2(float[] dout, int[] argmax, float[] dx, int p0, int p1, int h, int w, int oh, int ow)
    {
        int inPlane = h * w, outPlane = oh * ow;
        fixed (float* pd = dout) fixed (int* pa = argmax) fixed (float* px = dx)
        {
            var step = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
            for (int plane = p0; plane < p1; plane++)
            {
                for (int oy = 0; oy < oh; oy++)
                {
                    int top = plane * inPlane + oy * 2 * w;
                    long o = (long)plane * outPlane + (long)oy * ow;
                    int ox = 0;
                    for (; ox + 8 <= ow; ox += 8)
                    {
                        var g = Vector256<float>.Zero + Vector256.Load(pd + o + ox);
                        var at = Vector256.Load(pa + o + ox);
                        var ia = step + Vector256.Create(top + 2 * ox);
                        var ic = ia + Vector256.Create(w);
                        VectorShuffles.StoreInterleaved(Vector256.Equals(at, ia).AsSingle() & g, Vector256.Equals(at, ia + Vector256<int>.One).AsSingle() & g,
                            px + top + 2 * ox);
                        VectorShuffles.StoreInterleaved(Vector256.Equals(at, ic).AsSingle() & g, Vector256.Equals(at, ic + Vector256<int>.One).AsSingle() & g,
                            px + top + w + 2 * ox);
                    }
                    if (ox + 4 <= ow) // four windows
                    {
                        var g = Vector128<float>.Zero + Vector128.Load(pd + o + ox);
                        var at = Vector128.Load(pa + o + ox);
                        var ia = step.GetLower() + Vector128.Create(top + 2 * ox);
                        var ic = ia + Vector128.Create(w);
                        StoreInterleaved(Vector128.Equals(at, ia).AsSingle() & g, Vector128.Equals(at, ia + Vector128<int>.One).AsSingle() & g, px + top + 2 * ox);
                        StoreInterleaved(Vector128.Equals(at, ic).AsSingle() & g, Vector128.Equals(at, ic + Vector128<int>.One).AsSingle() & g, px + top + w + 2 * ox);
                        ox += 4;
                    }
                    for (; ox < ow; ox++) // without branches: the winners' places are as good as random
                    {
                        int a = top + 2 * ox, won = pa[o + ox];
                        var g = Vector128.CreateScalarUnsafe(0f + pd[o + ox]).AsInt32();
                        var mask = Vector128.Equals(Vector128.Create(won), Vector128.Create(a, a + 1, a + w, a + w + 1));
                        var pairs = (Vector128.Shuffle(g, Vector128<int>.Zero) & mask).AsInt64(); // g where it won: (a, a + 1), (a + w, a + w + 1)
                        Unsafe.WriteUnaligned(px + a, pairs.GetElement(0));
                        Unsafe.WriteUnaligned(px + a + w, pairs.GetElement(1));
                    }
                    if (2 * ow < w) // odd W: the last column of both rows
                    {
                        px[top + w - 1] = 0f;
                        px[top + 2 * w - 1] = 0f;
                    }
                }
                if (2 * oh < h) new Span<float>(px + (long)plane * inPlane + (long)(h - 1) * w, w).Clear(); // odd H: the last row
            }
        }

        // [e0 o0 e1 o1 e2 o2 e3 o3] at p.
        static void StoreInterleaved(Vector128<float> even, Vector128<float> odd, float* p)
        {
            Sse.UnpackLow(even, odd).Store(p);
            Sse.UnpackHigh(even, odd).Store(p + 4);
        }
    }

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
    /// <see cref="PoolPlane2x2"/> for float32 with stride 2 over planes p0 … p1 at once, eight windows at a time: the two
    /// input rows are split into their even and odd columns, and the four candidates compared in the same order with
    /// the same rules (a later one wins only if larger, or NaN against a number), so the maxima and indices are
    /// identical. A row shorter than eight windows still takes whole vectors: the lanes past its end read the rows
    /// after it and are stored over the next outputs, which the next row's vector (or, at the range's end, the plain
    /// loop) then overwrites — so no output row ends in a partial vector, and no store passes p1's last output.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PoolPlanes2x2Stride2(float[] input, float[] output, int[] argmax, int p0, int p1, int h, int w, int oh, int ow)
    {
        int inPlane = h * w, outPlane = oh * ow;
        long outEnd = (long)p1 * outPlane, inEnd = input.Length;
        fixed (float* px = input) fixed (float* py = output) fixed (int* pa = argmax)
        {
            var step = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
            for (int plane = p0; plane < p1; plane++)
                for (int oy = 0; oy < oh; oy++)
                {
                    int top = plane * inPlane + oy * 2 * w;
                    long o = (long)plane * outPlane + oy * ow;
                    int ox = 0;
                    for (; ox < ow && o + ox + 8 <= outEnd && top + w + 2 * ox + 16 <= inEnd; ox += 8)
                    {
                        var (va, vb) = VectorShuffles.Deinterleave(px + top + 2 * ox);
                        var (vc, vd) = VectorShuffles.Deinterleave(px + top + w + 2 * ox);
                        var ia = step + Vector256.Create(top + 2 * ox);
                        var ib = ia + Vector256<int>.One;
                        var ic = ia + Vector256.Create(w);
                        var id = ic + Vector256<int>.One;
                        Take(ref va, ref ia, vb, ib);
                        Take(ref va, ref ia, vc, ic);
                        Take(ref va, ref ia, vd, id);
                        va.Store(py + o + ox);
                        ia.Store(pa + o + ox);
                    }
                    for (; ox < ow; ox++)
                    {
                        int a = top + 2 * ox, b = a + 1, c = a + w, d = c + 1;
                        float va = px[a], vb = px[b], vc = px[c], vd = px[d];
                        if (vb > va || (float.IsNaN(vb) && !float.IsNaN(va))) { va = vb; a = b; }
                        if (vc > va || (float.IsNaN(vc) && !float.IsNaN(va))) { va = vc; a = c; }
                        if (vd > va || (float.IsNaN(vd) && !float.IsNaN(va))) { va = vd; a = d; }
                        py[o + ox] = va;
                        pa[o + ox] = a;
                    }
                }
        }

        // The candidate wins where it is larger, or NaN against a number.
        static void Take(ref Vector256<float> best, ref Vector256<int> at, Vector256<float> v, Vector256<int> index)
        {
            var wins = Vector256.GreaterThan(v, best) | (~Vector256.Equals(v, v) & Vector256.Equals(best, best));
            best = Vector256.ConditionalSelect(wins, v, best);
            at = Vector256.ConditionalSelect(wins.AsInt32(), index, at);
        }
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
