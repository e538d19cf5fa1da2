using System.Numerics;
using ZeroDL.Functions;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>
/// Softmax followed by cross-entropy (book ch. 5.6.3), averaged over the batch. The loss is computed from
/// the logits as log Σe^x − x[label] (no overflow, no log(0)), which is what the gradient (y − t)/N is the
/// exact derivative of. Setting <see cref="LogEpsilon"/> to 1e-7 reproduces the book's loss values instead,
/// which add that epsilon inside the log. Targets are integer labels or one-hot rows.
/// </summary>
public sealed class SoftmaxWithLoss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _y, _dx, _oneHot;
    private int[]? _labels;
    private int _labelCount;

    /// <summary>0 (exact) by default; the book uses 1e-7.</summary>
    public double LogEpsilon { get; set; }

    /// <summary>The softmax output of the last forward pass.</summary>
    public NDArray<T> Output => _y ?? throw new InvalidOperationException("softmax-with-loss: no forward pass yet");

    public double Forward(NDArray<T> x, ReadOnlySpan<int> labels)
    {
        int n = x.Rows, classes = x.RowLength;
        if (labels.Length != n)
            throw new ArgumentException($"softmax-with-loss: {labels.Length} labels for a batch of {n} ({x.ShapeText})");
        _y = NDArray<T>.Reuse(_y, n, classes);
        if (_labels is null || _labels.Length < n) _labels = new int[n];
        labels.CopyTo(_labels);
        _labelCount = n;
        _oneHot = null;
        double sum = 0;
        for (int r = 0; r < n; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)classes)
                throw new ArgumentException($"softmax-with-loss: label {label} at row {r} outside 0..{classes - 1}");
            var xr = x.ReadOnlySpan.Slice(r * classes, classes);
            var yr = _y.Span.Slice(r * classes, classes);
            // One pass gives both the softmax and the exact loss log Σe^(x−max) − (x[label] − max).
            T max = TP.Max(xr);
            TP.Subtract(xr, max, yr);
            double shifted = double.CreateTruncating(yr[label]);
            TP.Exp(yr, yr);
            T total = TP.Sum<T>(yr);
            TP.Divide(yr, total, yr);
            sum += LogEpsilon > 0 ? -Math.Log(double.CreateTruncating(yr[label]) + LogEpsilon) : Math.Log(double.CreateTruncating(total)) - shifted;
        }
        return sum / n;
    }

    public double Forward(NDArray<T> x, NDArray<T> oneHot)
    {
        int n = x.Rows, classes = x.RowLength;
        if (oneHot.Rows != n || oneHot.RowLength != classes)
            throw new ArgumentException($"softmax-with-loss: targets {oneHot.ShapeText} do not match scores {x.ShapeText}");
        _y = NDArray<T>.Reuse(_y, n, classes);
        Softmax.Rows(x.ReadOnlySpan, _y.Span, classes);
        _oneHot = oneHot;
        _labelCount = 0;
        double sum = 0;
        for (int r = 0; r < n; r++)
        {
            var xr = x.ReadOnlySpan.Slice(r * classes, classes);
            var yr = _y.ReadOnlySpan.Slice(r * classes, classes);
            var tr = oneHot.ReadOnlySpan.Slice(r * classes, classes);
            for (int c = 0; c < classes; c++)
                if (tr[c] != T.Zero) sum += double.CreateTruncating(tr[c]) * RowLoss(xr, yr, c);
        }
        return sum / n;
    }

    private double RowLoss(ReadOnlySpan<T> x, ReadOnlySpan<T> y, int label)
    {
        if (LogEpsilon > 0) return -Math.Log(double.CreateTruncating(y[label]) + LogEpsilon);
        double max = double.NegativeInfinity;
        foreach (var v in x) max = Math.Max(max, double.CreateTruncating(v));
        double sumExp = 0;
        foreach (var v in x) sumExp += Math.Exp(double.CreateTruncating(v) - max);
        return Math.Log(sumExp) - (double.CreateTruncating(x[label]) - max);
    }

    /// <summary>∂L/∂x = dout·(y − t)/N.</summary>
    public NDArray<T> Backward(double dout = 1.0)
    {
        var y = _y ?? throw new InvalidOperationException("softmax-with-loss: Backward called before Forward");
        int n = y.Rows, classes = y.RowLength;
        _dx = NDArray<T>.Reuse(_dx, n, classes);
        var dx = _dx.Span;
        y.ReadOnlySpan.CopyTo(dx);
        if (_oneHot is not null)
        {
            var t = _oneHot.ReadOnlySpan;
            for (int i = 0; i < dx.Length; i++) dx[i] -= t[i];
        }
        else
        {
            for (int r = 0; r < _labelCount; r++) dx[r * classes + _labels![r]] -= T.One;
        }
        System.Numerics.Tensors.TensorPrimitives.Multiply(dx, T.CreateTruncating(dout / n), dx);
        return _dx;
    }
}
