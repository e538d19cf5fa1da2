using System.Runtime.CompilerServices;
using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Kernels;

/// <summary>
/// im2col in the transposed, channel-major layout (Caffe's): a (C·KH·KW) × (N·OH·OW) matrix whose row (c, ky, kx)
/// holds, for every output position (n, y, x), the input value under filter tap (ky, kx) of channel c. It is the
/// book's im2col matrix transposed. The layout makes each row a sequence of shifted input rows, so with stride 1
/// both directions are contiguous copies (forward) and contiguous vector adds (backward, col2im) instead of the
/// book layout's runs of KW elements; and the convolution's product W·colT lands in (FN, N·OH·OW), one copy away
/// from NCHW. <see cref="Im2Col"/> stays the book's layout and the reference the tests compare against.
/// Work is split over images across <see cref="Gemm.EffectiveThreads"/> threads when the batch is large enough.
/// </summary>
public static class Im2ColChannelMajor
{
    /// <summary>Below this many elements of the column matrix, one thread does all the copying.</summary>
    private const long ParallelElements = 1 << 18;

    /// <summary>colT = the channel-major im2col matrix of (N, C, H, W) input <paramref name="x"/>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, int n, int c, int h, int w, int kh, int kw, int stride, int pad, Span<T> colT)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = new Geometry(n, c, h, w, kh, kw, stride, pad);
        if (x.Length < (long)n * c * h * w) throw new ArgumentException($"im2col: input holds {x.Length} elements, not {n}×{c}×{h}×{w}");
        if (colT.Length < g.ColumnElements) throw new ArgumentException("im2col: column buffer too small");
        if (Threads(g) <= 1) ForwardImages(x, g, colT, 0, n);
        else ForwardParallel(x, g, colT);
    }

    // The threaded paths are methods of their own so that their closures are allocated only when they run.
    private static unsafe void ForwardParallel<T>(ReadOnlySpan<T> x, Geometry g, Span<T> colT) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* px = x) fixed (T* pc = colT)
        {
            nint ix = (nint)px, ic = (nint)pc;
            int xLen = x.Length, cLen = colT.Length;
            ForImages(g, (i0, i1) => ForwardImages(new ReadOnlySpan<T>((T*)ix, xLen), g, new Span<T>((T*)ic, cLen), i0, i1));
        }
    }

    /// <summary>dx = col2im(colT): every column-matrix entry added back onto the input position it was read from (dx is overwritten).</summary>
    public static void Backward<T>(ReadOnlySpan<T> colT, int n, int c, int h, int w, int kh, int kw, int stride, int pad, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = new Geometry(n, c, h, w, kh, kw, stride, pad);
        if (colT.Length < g.ColumnElements) throw new ArgumentException("col2im: column buffer too small");
        if (dx.Length < (long)n * c * h * w) throw new ArgumentException($"col2im: output holds {dx.Length} elements, not {n}×{c}×{h}×{w}");
        if (Threads(g) <= 1) BackwardImages(colT, g, dx, 0, n);
        else BackwardParallel(colT, g, dx);
    }

    private static unsafe void BackwardParallel<T>(ReadOnlySpan<T> colT, Geometry g, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pc = colT) fixed (T* pd = dx)
        {
            nint ic = (nint)pc, id = (nint)pd;
            int cLen = colT.Length, dLen = dx.Length;
            ForImages(g, (i0, i1) => BackwardImages(new ReadOnlySpan<T>((T*)ic, cLen), g, new Span<T>((T*)id, dLen), i0, i1));
        }
    }

    private readonly record struct Geometry(int N, int C, int H, int W, int KH, int KW, int Stride, int Pad)
    {
        public int OH { get; } = ConvShape.OutputSize(H, KH, Stride, Pad);
        public int OW { get; } = ConvShape.OutputSize(W, KW, Stride, Pad);
        public int Plane => OH * OW;
        public long Columns => (long)N * Plane;
        public long ColumnElements => (long)C * KH * KW * Columns;

        /// <summary>The output columns [ox0, ox1) whose input column ox·stride + kx − pad lies inside the image.</summary>
        public (int ox0, int ox1) ValidColumns(int kx)
        {
            int shift = kx - Pad;
            int ox0 = shift >= 0 ? 0 : (-shift + Stride - 1) / Stride;
            int ox1 = W - 1 - shift < 0 ? 0 : Math.Min(OW, (W - 1 - shift) / Stride + 1);
            return (Math.Min(ox0, ox1), ox1);
        }
    }

    private static int Threads(Geometry g) => g.ColumnElements < ParallelElements ? 1 : Math.Min(Gemm.EffectiveThreads, g.N);

    private static void ForImages(Geometry g, Action<int, int> work)
    {
        int threads = Threads(g);
        if (threads <= 1) { work(0, g.N); return; }
        int chunk = (g.N + threads - 1) / threads;
        WorkerPool.For(threads, threads,
            t => { int i0 = t * chunk, i1 = Math.Min(g.N, i0 + chunk); if (i0 < i1) work(i0, i1); });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardImages<T>(ReadOnlySpan<T> x, Geometry g, Span<T> colT, int i0, int i1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long columns = g.Columns;
        int plane = g.Plane, hw = g.H * g.W;
        for (int ch = 0; ch < g.C; ch++)
            for (int ky = 0; ky < g.KH; ky++)
                for (int kx = 0; kx < g.KW; kx++)
                {
                    var row = colT.Slice((int)(((long)(ch * g.KH + ky) * g.KW + kx) * columns));
                    var (ox0, ox1) = g.ValidColumns(kx);
                    for (int i = i0; i < i1; i++)
                    {
                        var image = x.Slice((i * g.C + ch) * hw, hw);
                        for (int oy = 0; oy < g.OH; oy++)
                        {
                            var dst = row.Slice(i * plane + oy * g.OW, g.OW);
                            int y = oy * g.Stride + ky - g.Pad;
                            if ((uint)y >= (uint)g.H) { dst.Clear(); continue; }
                            dst.Slice(0, ox0).Clear();
                            dst.Slice(ox1).Clear();
                            int src = y * g.W + ox0 * g.Stride + kx - g.Pad;
                            if (g.Stride == 1) image.Slice(src, ox1 - ox0).CopyTo(dst.Slice(ox0));
                            else for (int ox = ox0; ox < ox1; ox++, src += g.Stride) dst[ox] = image[src];
                        }
                    }
                }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardImages<T>(ReadOnlySpan<T> colT, Geometry g, Span<T> dx, int i0, int i1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long columns = g.Columns;
        int plane = g.Plane, hw = g.H * g.W;
        dx.Slice(i0 * g.C * hw, (i1 - i0) * g.C * hw).Clear();
        for (int ch = 0; ch < g.C; ch++)
            for (int ky = 0; ky < g.KH; ky++)
                for (int kx = 0; kx < g.KW; kx++)
                {
                    var row = colT.Slice((int)(((long)(ch * g.KH + ky) * g.KW + kx) * columns));
                    var (ox0, ox1) = g.ValidColumns(kx);
                    if (ox0 >= ox1) continue;
                    for (int i = i0; i < i1; i++)
                    {
                        var image = dx.Slice((i * g.C + ch) * hw, hw);
                        for (int oy = 0; oy < g.OH; oy++)
                        {
                            int y = oy * g.Stride + ky - g.Pad;
                            if ((uint)y >= (uint)g.H) continue;
                            var src = row.Slice(i * plane + oy * g.OW + ox0, ox1 - ox0);
                            int at = y * g.W + ox0 * g.Stride + kx - g.Pad;
                            if (g.Stride == 1)
                            {
                                var target = image.Slice(at, src.Length);
                                TP.Add(target, src, target);
                            }
                            else for (int j = 0; j < src.Length; j++, at += g.Stride) image[at] += src[j];
                        }
                    }
                }
    }
}
