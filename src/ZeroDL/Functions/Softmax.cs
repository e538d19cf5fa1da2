using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Functions;

/// <summary>Numerically stable softmax: the row maximum is subtracted before exponentiating (book ch. 3.5.2).</summary>
public static class Softmax
{
    /// <summary>Softmax of a vector (rank 1) or of each row of a batch (rank ≥ 2: rows × rest).</summary>
    public static NDArray<T> Apply<T>(NDArray<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new NDArray<T>(x.Shape);
        Rows(x.ReadOnlySpan, y.Span, x.Rank <= 1 ? x.Size : x.RowLength);
        return y;
    }

    /// <summary>Writes the softmax of each <paramref name="rowLength"/>-long row of <paramref name="x"/> into <paramref name="y"/>.</summary>
    public static void Rows<T>(ReadOnlySpan<T> x, Span<T> y, int rowLength) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rowLength == 0) return;
        for (int start = 0; start < x.Length; start += rowLength)
        {
            var xr = x.Slice(start, rowLength);
            var yr = y.Slice(start, rowLength);
            T max = TP.Max(xr);
            TP.Subtract(xr, max, yr);
            TP.Exp(yr, yr);
            T sum = TP.Sum<T>(yr);
            TP.Divide(yr, sum, yr);
        }
    }
}
