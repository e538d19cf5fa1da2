using System.Numerics;
using System.Runtime.InteropServices;
using ZeroDL.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>ReLU (book ch. 5.5.1): y = max(0, x); the gradient passes where x &gt; 0 and is 0 elsewhere.</summary>
public sealed class Relu<T> : StatelessLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _x, _y, _dx;

    public override string Kind => "relu";

    public override Tensor<T> Forward(Tensor<T> x, bool training)
    {
        _x = x;
        _y = Tensor<T>.Reuse(_y, x.Shape);
        T[] input = x.Data, output = _y.Data;
        // A batch's activations are split over the cores: the pass is bound by memory traffic (ParallelRanges).
        ParallelRanges.For(x.Size, x.Size, 64, (start, end) => TP.Max(input.AsSpan(start, end - start), T.Zero, output.AsSpan(start, end - start)));
        return _y;
    }

    public override Tensor<T> Backward(Tensor<T> dout)
    {
        RequireForward(_x, Kind);
        _x!.RequireSameShape(dout, "relu backward (x vs dout)");
        _dx = Tensor<T>.Reuse(_dx, dout.Shape);
        T[] x = _x.Data, d = dout.Data, dx = _dx.Data;
        ParallelRanges.For(dout.Size, 2L * dout.Size, 64, (start, end) =>
            Gate(x.AsSpan(start, end - start), d.AsSpan(start, end - start), dx.AsSpan(start, end - start)));
        return _dx;
    }

    /// <summary>dx = d where x &gt; 0, else 0 (NaN in x gives 0: NaN &gt; 0 is false).</summary>
    private static void Gate(ReadOnlySpan<T> x, ReadOnlySpan<T> d, Span<T> dx)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var xv = MemoryMarshal.Cast<T, Vector<T>>(x); var dv = MemoryMarshal.Cast<T, Vector<T>>(d); var ov = MemoryMarshal.Cast<T, Vector<T>>(dx);
            for (int v = 0; v < ov.Length; v++) ov[v] = Vector.ConditionalSelect(Vector.GreaterThan(xv[v], Vector<T>.Zero), dv[v], Vector<T>.Zero);
            i = ov.Length * Vector<T>.Count;
        }
        for (; i < dx.Length; i++) dx[i] = x[i] > T.Zero ? d[i] : T.Zero;
    }
}
