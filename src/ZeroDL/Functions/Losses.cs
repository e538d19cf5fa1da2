using System.Numerics;

namespace ZeroDL.Functions;

/// <summary>The book's loss functions (ch. 4.2), averaged over the batch.</summary>
public static class Losses
{
    /// <summary>The book's 1e-7 added inside the log so that log(0) never happens.</summary>
    public const double BookLogEpsilon = 1e-7;

    /// <summary>Sum of squares error 0.5·Σ(y − t)², divided by the batch size for a batch.</summary>
    public static double SumOfSquares<T>(NDArray<T> y, NDArray<T> oneHot) where T : unmanaged, IFloatingPointIeee754<T>
    {
        y.RequireSameShape(oneHot, "sum of squares error (y vs t)");
        double sum = 0;
        var a = y.ReadOnlySpan; var b = oneHot.ReadOnlySpan;
        for (int i = 0; i < a.Length; i++) { double d = double.CreateTruncating(a[i] - b[i]); sum += d * d; }
        return 0.5 * sum / BatchSize(y);
    }

    /// <summary>Cross-entropy −Σ t·log(y + ε) against one-hot targets, divided by the batch size.</summary>
    public static double CrossEntropy<T>(NDArray<T> y, NDArray<T> oneHot, double epsilon = BookLogEpsilon) where T : unmanaged, IFloatingPointIeee754<T>
    {
        y.RequireSameShape(oneHot, "cross-entropy error (y vs t)");
        double sum = 0;
        var a = y.ReadOnlySpan; var b = oneHot.ReadOnlySpan;
        for (int i = 0; i < a.Length; i++)
            if (b[i] != T.Zero) sum -= double.CreateTruncating(b[i]) * Math.Log(double.CreateTruncating(a[i]) + epsilon);
        return sum / BatchSize(y);
    }

    /// <summary>Cross-entropy −log(y[label] + ε) with integer labels (one per row), averaged over the batch.</summary>
    public static double CrossEntropy<T>(NDArray<T> y, ReadOnlySpan<int> labels, double epsilon = BookLogEpsilon) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = y.Rank <= 1 ? 1 : y.Rows, classes = y.Rank <= 1 ? y.Size : y.RowLength;
        if (labels.Length != rows)
            throw new ArgumentException($"cross-entropy: {labels.Length} labels for {rows} rows of y {y.ShapeText}");
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)classes)
                throw new ArgumentException($"cross-entropy: label {label} outside 0..{classes - 1}");
            sum -= Math.Log(double.CreateTruncating(y.Data[r * classes + label]) + epsilon);
        }
        return sum / rows;
    }

    private static int BatchSize<T>(NDArray<T> y) where T : unmanaged, IFloatingPointIeee754<T> => y.Rank <= 1 ? 1 : y.Rows;
}
