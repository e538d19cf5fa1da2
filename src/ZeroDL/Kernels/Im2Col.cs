using System.Numerics;

namespace ZeroDL.Kernels;

/// <summary>Output size of a sliding window: (size + 2·pad − window) / stride + 1.</summary>
public static class ConvShape
{
    public static int OutputSize(int size, int window, int stride, int pad)
    {
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be at least 1");
        if (pad < 0) throw new ArgumentOutOfRangeException(nameof(pad), pad, "padding must be ≥ 0");
        int span = size + 2 * pad - window;
        if (window < 1 || span < 0)
            throw new ArgumentException($"a {window}-wide window does not fit an input of {size} with padding {pad}");
        return span / stride + 1;
    }
}

/// <summary>
/// The book's im2col / col2im (ch. 7.4.3): every receptive field of a (N, C, H, W) input becomes one row of a
/// matrix, rows ordered (n, out_y, out_x) and columns (c, ky, kx), so that convolution is one matrix product.
/// Positions in the padding read as 0. col2im is its adjoint: it adds each row back onto the input positions it
/// came from, so overlapping windows accumulate.
/// </summary>
public static class Im2Col
{
    public static void Forward<T>(ReadOnlySpan<T> x, int n, int c, int h, int w, int kh, int kw, int stride, int pad, Span<T> col)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = ConvShape.OutputSize(h, kh, stride, pad), ow = ConvShape.OutputSize(w, kw, stride, pad);
        Rows(x, n, c, h, w, kh, kw, stride, pad, 0, n * oh * ow, col);
    }

    /// <summary>
    /// Rows [rowStart, rowStart + rowCount) of the im2col matrix into <paramref name="col"/> — so a convolution can
    /// work through the matrix a cache-sized block at a time instead of materialising all of it.
    /// </summary>
    public static void Rows<T>(ReadOnlySpan<T> x, int n, int c, int h, int w, int kh, int kw, int stride, int pad,
        int rowStart, int rowCount, Span<T> col)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = ConvShape.OutputSize(h, kh, stride, pad), ow = ConvShape.OutputSize(w, kw, stride, pad);
        int rowLength = c * kh * kw;
        if (rowStart < 0 || rowCount < 0 || rowStart + rowCount > n * oh * ow)
            throw new ArgumentOutOfRangeException(nameof(rowStart), $"im2col rows [{rowStart}, {rowStart + rowCount}) outside 0..{n * oh * ow}");
        if (col.Length < (long)rowCount * rowLength) throw new ArgumentException("im2col: output buffer too small");
        for (int rr = 0; rr < rowCount; rr++)
        {
            int rowIndex = rowStart + rr;
            int i = rowIndex / (oh * ow), rem = rowIndex % (oh * ow), oy = rem / ow, ox = rem % ow;
            var row = col.Slice(rr * rowLength, rowLength);
            int q = 0;
            for (int ch = 0; ch < c; ch++)
            {
                var plane = x.Slice((i * c + ch) * h * w, h * w);
                for (int ky = 0; ky < kh; ky++)
                {
                    int y = oy * stride + ky - pad;
                    if ((uint)y >= (uint)h) { row.Slice(q, kw).Clear(); q += kw; continue; }
                    int x0 = ox * stride - pad;
                    if (x0 >= 0 && x0 + kw <= w)
                    {
                        plane.Slice(y * w + x0, kw).CopyTo(row.Slice(q, kw));
                        q += kw;
                    }
                    else
                        for (int kx = 0; kx < kw; kx++, q++)
                        {
                            int xx = x0 + kx;
                            row[q] = (uint)xx < (uint)w ? plane[y * w + xx] : T.Zero;
                        }
                }
            }
        }
    }

    /// <summary>dx (cleared first) += the rows of <paramref name="col"/> scattered back to their input positions.</summary>
    public static void Backward<T>(ReadOnlySpan<T> col, int n, int c, int h, int w, int kh, int kw, int stride, int pad, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = ConvShape.OutputSize(h, kh, stride, pad), ow = ConvShape.OutputSize(w, kw, stride, pad);
        int rowLength = c * kh * kw;
        dx.Slice(0, n * c * h * w).Clear();
        for (int i = 0; i < n; i++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    var row = col.Slice(((i * oh + oy) * ow + ox) * rowLength, rowLength);
                    int q = 0;
                    for (int ch = 0; ch < c; ch++)
                    {
                        var plane = dx.Slice((i * c + ch) * h * w, h * w);
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int y = oy * stride + ky - pad;
                            for (int kx = 0; kx < kw; kx++, q++)
                            {
                                int xx = ox * stride + kx - pad;
                                if ((uint)y < (uint)h && (uint)xx < (uint)w) plane[y * w + xx] += row[q];
                            }
                        }
                    }
                }
    }
}
