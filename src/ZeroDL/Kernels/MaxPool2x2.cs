using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// Max pooling's float32 2×2 windows with stride 2 and no padding (the book's every pooling layer) over a run of whole
/// planes, for <see cref="Layers.MaxPooling{T}"/> and for a convolution that pools its own output chunk by chunk
/// (<see cref="ConvolutionEngine"/>). The windows' winners are given as flat indices offset by a base index, so a run
/// taken out of a larger tensor records the indices the whole tensor's pooling would. The references are
/// <see cref="Layers.MaxPooling{T}"/>'s own per-window loop and <see cref="RouteReference"/>.
/// </summary>
internal static class MaxPool2x2
{
    /// <summary>
    /// The fewest windows a row for which <see cref="Route"/> writes every element of dx in one vector pass instead of
    /// clearing dx and routing: one vector of them. On shorter rows its per-row work cost more than the clearing it saves
    /// (DeepConvNet's last pooling, four windows a row, measured about twice as slow).
    /// </summary>
    internal const int RouteMinimumWindows = 8;

    /// <summary>
    /// Pools <paramref name="planes"/> planes of <paramref name="h"/> × <paramref name="w"/> (at the start of
    /// <paramref name="x"/>) into <paramref name="y"/>, each window's winner's index in x plus
    /// <paramref name="baseIndex"/> in <paramref name="argmax"/>: the same maxima, indices, tie and NaN rules as
    /// MaxPooling's per-window loop (a later candidate wins only if larger, or NaN against a number). x may run on past
    /// the planes (a whole tensor's rest): the vectors may read there, never write past y's planes.
    /// <paramref name="vector512"/>: whether 512-bit vectors may run (the caller's choice, as its engine's).
    /// </summary>
    public static void Pool(ReadOnlySpan<float> x, int planes, int h, int w, Span<float> y, Span<int> argmax, int baseIndex, bool vector512)
    {
        int oh = h / 2, ow = w / 2;
        if (planes < 0 || x.Length < planes * h * w || y.Length < planes * oh * ow || argmax.Length < planes * oh * ow)
            throw new ArgumentException("2×2 max pooling: a buffer is too small for the planes");
        // 512-bit vectors only on rows longer than a 256-bit vector of windows, which covers a shorter row at once:
        // fewer vectors a row (28×28 planes pooled about 1.7 times as fast in cache).
        if (Avx2.IsSupported) PoolVectors(x, planes, h, w, y, argmax, baseIndex, wide: vector512 && ow > 8 && Avx512F.IsSupported);
        else PoolWindows(x, planes, h, w, y, argmax, baseIndex);
    }

    /// <summary>
    /// <see cref="Pool"/> eight windows at a time (sixteen first where <paramref name="wide"/>): the two input rows are
    /// split into their even and odd columns, and the four candidates compared in the same order with the same rules,
    /// so the maxima and indices are identical. A row shorter than a vector of windows still takes whole vectors: the
    /// lanes past its end read the rows after it and are stored over the next outputs, which the next row's vector
    /// (or, at the run's end, the plain loop) then overwrites — so no output row ends in a partial vector, and no store
    /// passes the last plane's last output.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PoolVectors(ReadOnlySpan<float> x, int planes, int h, int w, Span<float> y, Span<int> argmax, int baseIndex, bool wide)
    {
        int oh = h / 2, ow = w / 2, inPlane = h * w, outPlane = oh * ow;
        long outEnd = (long)planes * outPlane, inEnd = x.Length;
        fixed (float* px = x) fixed (float* py = y) fixed (int* pa = argmax)
        {
            var step = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = even + Vector512<int>.One;
            for (int plane = 0; plane < planes; plane++)
                for (int oy = 0; oy < oh; oy++)
                {
                    int top = plane * inPlane + oy * 2 * w;
                    long o = (long)plane * outPlane + oy * ow;
                    int ox = 0;
                    for (; wide && ox < ow && o + ox + 16 <= outEnd && top + w + 2 * ox + 32 <= inEnd; ox += 16)
                    {
                        float* pa0 = px + top + 2 * ox, pc0 = pa0 + w;
                        var (r0, r1) = (Vector512.Load(pa0), Vector512.Load(pa0 + 16));
                        var (r2, r3) = (Vector512.Load(pc0), Vector512.Load(pc0 + 16));
                        var va = Avx512F.PermuteVar16x32x2(r0, even, r1);
                        var vb = Avx512F.PermuteVar16x32x2(r0, odd, r1);
                        var vc = Avx512F.PermuteVar16x32x2(r2, even, r3);
                        var vd = Avx512F.PermuteVar16x32x2(r2, odd, r3);
                        var ia = even + Vector512.Create(baseIndex + top + 2 * ox);
                        var ib = ia + Vector512<int>.One;
                        var ic = ia + Vector512.Create(w);
                        var id = ic + Vector512<int>.One;
                        Take512(ref va, ref ia, vb, ib);
                        Take512(ref va, ref ia, vc, ic);
                        Take512(ref va, ref ia, vd, id);
                        va.Store(py + o + ox);
                        ia.Store(pa + o + ox);
                    }
                    for (; ox < ow && o + ox + 8 <= outEnd && top + w + 2 * ox + 16 <= inEnd; ox += 8)
                    {
                        var (va, vb) = VectorShuffles.Deinterleave(px + top + 2 * ox);
                        var (vc, vd) = VectorShuffles.Deinterleave(px + top + w + 2 * ox);
                        var ia = step + Vector256.Create(baseIndex + top + 2 * ox);
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
                        (py[o + ox], int a) = Window(x, top + 2 * ox, w);
                        pa[o + ox] = baseIndex + a;
                    }
                }
        }

        // The candidate wins where it is larger, or NaN against a number: where best is a number and v is not ≤ it
        // (NaN is not ≤ anything); a NaN best stays.
        static void Take(ref Vector256<float> best, ref Vector256<int> at, Vector256<float> v, Vector256<int> index)
        {
            var wins = Avx.CompareNotLessThanOrEqual(v, best) & Avx.CompareOrdered(best, best);
            best = Vector256.ConditionalSelect(wins, v, best);
            at = Vector256.ConditionalSelect(wins.AsInt32(), index, at);
        }

        static void Take512(ref Vector512<float> best, ref Vector512<int> at, Vector512<float> v, Vector512<int> index)
        {
            var wins = Avx512F.CompareNotLessThanOrEqual(v, best) & Avx512F.CompareOrdered(best, best);
            best = Vector512.ConditionalSelect(wins, v, best);
            at = Vector512.ConditionalSelect(wins.AsInt32(), index, at);
        }
    }

    /// <summary><see cref="Pool"/> window by window, where the CPU lacks AVX2: MaxPooling's loop.</summary>
    internal static void PoolWindows(ReadOnlySpan<float> x, int planes, int h, int w, Span<float> y, Span<int> argmax, int baseIndex)
    {
        int oh = h / 2, ow = w / 2;
        for (int plane = 0, o = 0; plane < planes; plane++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++, o++)
                {
                    (y[o], int a) = Window(x, plane * h * w + oy * 2 * w + 2 * ox, w);
                    argmax[o] = baseIndex + a;
                }
    }

    /// <summary>
    /// The window whose top-left element is x[<paramref name="a"/>]: its maximum and the winner's index, in row-major
    /// order, a later candidate winning only if larger, or NaN against a number (MaxPooling's rule).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float Max, int At) Window(ReadOnlySpan<float> x, int a, int w)
    {
        int b = a + 1, c = a + w, d = c + 1;
        float va = x[a], vb = x[b], vc = x[c], vd = x[d];
        if (vb > va || (float.IsNaN(vb) && !float.IsNaN(va))) { va = vb; a = b; }
        if (vc > va || (float.IsNaN(vc) && !float.IsNaN(va))) { va = vc; a = c; }
        if (vd > va || (float.IsNaN(vd) && !float.IsNaN(va))) { va = vd; a = d; }
        return (va, a);
    }

    /// <summary>
    /// dx of <paramref name="planes"/> planes of <paramref name="h"/> × <paramref name="w"/>: each window's gradient
    /// routed to its winner (<paramref name="argmax"/> less <paramref name="baseIndex"/>), 0 elsewhere. With
    /// <paramref name="pooled"/> (the pooled maxima; empty: none) a ReLU before the pooling is folded in: a winner
    /// takes the gradient only where its window's maximum is &gt; 0. That is the ReLU's gate exactly: the gate passes
    /// where the pooling's input is &gt; 0, the winner's input is the maximum, and every other element is routed 0
    /// either way. Each element is 0 + d where its window's winner is that element, +0 elsewhere (the row and column
    /// a window never reaches, for odd H or W, too): the bits of routing onto a cleared dx, then gating.
    /// </summary>
    public static void Route(ReadOnlySpan<float> d, ReadOnlySpan<int> argmax, ReadOnlySpan<float> pooled, int planes, int h, int w, int baseIndex, Span<float> dx)
    {
        int oh = h / 2, ow = w / 2, windows = planes * oh * ow;
        if (planes < 0 || d.Length < windows || argmax.Length < windows || (!pooled.IsEmpty && pooled.Length < windows) || dx.Length < planes * h * w)
            throw new ArgumentException("2×2 max pooling backward: a buffer is too small for the planes");
        if (ow >= RouteMinimumWindows && Avx2.IsSupported)
        {
            RouteRows(d, argmax, pooled, planes, h, w, baseIndex, dx);
            return;
        }
        dx[..(planes * h * w)].Clear();
        bool gate = !pooled.IsEmpty;
        for (int o = 0; o < windows; o++)
            if (!gate || pooled[o] > 0f) dx[argmax[o] - baseIndex] += d[o];
    }

    /// <summary>
    /// <see cref="Route"/> written row by row, with no clearing pass before and no read back: eight windows at a time,
    /// then four, then one by one without branches.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RouteRows(ReadOnlySpan<float> d, ReadOnlySpan<int> argmax, ReadOnlySpan<float> pooled, int planes, int h, int w, int baseIndex, Span<float> dx)
    {
        int oh = h / 2, ow = w / 2, inPlane = h * w, outPlane = oh * ow;
        bool gate = !pooled.IsEmpty;
        fixed (float* pd = d) fixed (int* pa = argmax) fixed (float* pp = pooled) fixed (float* px = dx)
        {
            var step = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
            for (int plane = 0; plane < planes; plane++)
            {
                for (int oy = 0; oy < oh; oy++)
                {
                    int top = plane * inPlane + oy * 2 * w;
                    long o = (long)plane * outPlane + (long)oy * ow;
                    int ox = 0;
                    for (; ox + 8 <= ow; ox += 8)
                    {
                        var g = Vector256<float>.Zero + Vector256.Load(pd + o + ox);
                        if (gate) g &= Vector256.GreaterThan(Vector256.Load(pp + o + ox), Vector256<float>.Zero);
                        var at = Vector256.Load(pa + o + ox);
                        var ia = step + Vector256.Create(baseIndex + top + 2 * ox);
                        var ic = ia + Vector256.Create(w);
                        VectorShuffles.StoreInterleaved(Vector256.Equals(at, ia).AsSingle() & g, Vector256.Equals(at, ia + Vector256<int>.One).AsSingle() & g,
                            px + top + 2 * ox);
                        VectorShuffles.StoreInterleaved(Vector256.Equals(at, ic).AsSingle() & g, Vector256.Equals(at, ic + Vector256<int>.One).AsSingle() & g,
                            px + top + w + 2 * ox);
                    }
                    if (ox + 4 <= ow) // four windows
                    {
                        var g = Vector128<float>.Zero + Vector128.Load(pd + o + ox);
                        if (gate) g &= Vector128.GreaterThan(Vector128.Load(pp + o + ox), Vector128<float>.Zero);
                        var at = Vector128.Load(pa + o + ox);
                        var ia = step.GetLower() + Vector128.Create(baseIndex + top + 2 * ox);
                        var ic = ia + Vector128.Create(w);
                        StoreInterleaved(Vector128.Equals(at, ia).AsSingle() & g, Vector128.Equals(at, ia + Vector128<int>.One).AsSingle() & g, px + top + 2 * ox);
                        StoreInterleaved(Vector128.Equals(at, ic).AsSingle() & g, Vector128.Equals(at, ic + Vector128<int>.One).AsSingle() & g, px + top + w + 2 * ox);
                        ox += 4;
                    }
                    for (; ox < ow; ox++) // without branches: the winners' places are as good as random
                    {
                        int a = top + 2 * ox, won = pa[o + ox] - baseIndex;
                        var g = Vector128.CreateScalarUnsafe(0f + pd[o + ox]);
                        if (gate) g &= Vector128.GreaterThan(Vector128.CreateScalarUnsafe(pp[o + ox]), Vector128<float>.Zero);
                        var mask = Vector128.Equals(Vector128.Create(won), Vector128.Create(a, a + 1, a + w, a + w + 1));
                        var pairs = (Vector128.Shuffle(g.AsInt32(), Vector128<int>.Zero) & mask).AsInt64(); // g where it won: (a, a + 1), (a + w, a + w + 1)
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
        static unsafe void StoreInterleaved(Vector128<float> even, Vector128<float> odd, float* p)
        {
            Sse.UnpackLow(even, odd).Store(p);
            Sse.UnpackHigh(even, odd).Store(p + 4);
        }
    }

    /// <summary>
    /// What <see cref="Route"/> computes, the plain way: dx cleared, each window's gradient added at its winner (as
    /// MaxPooling's backward pass does), then, with <paramref name="pooled"/>, a ReLU's gate of that dx by its input
    /// y, whose value at each window's winner is the window's maximum (where no window wins, dx is 0 either way).
    /// </summary>
    internal static void RouteReference(ReadOnlySpan<float> d, ReadOnlySpan<int> argmax, ReadOnlySpan<float> pooled, int planes, int h, int w, int baseIndex, Span<float> dx)
    {
        int windows = planes * (h / 2) * (w / 2);
        dx[..(planes * h * w)].Clear();
        for (int o = 0; o < windows; o++) dx[argmax[o] - baseIndex] += d[o];
        if (pooled.IsEmpty) return;
        for (int o = 0; o < windows; o++)
            if (!(pooled[o] > 0f)) dx[argmax[o] - baseIndex] = 0f;
    }
}
