using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.InteropServices;
using ZeroDL.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>ReLU (book ch. 5.5.1): y = max(0, x); the gradient passes where x &gt; 0 and is 0 elsewhere.</summary>
public sealed class Relu<T> : StatelessLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _x, _y, _dx, _dout;
    private readonly Action<int, int> _forwardRange, _backwardRange;

    public Relu()
    {
        // Made once: the passes hand them to ParallelRanges every mini-batch without allocating.
        _forwardRange = (start, end) => TP.Max(_x!.Data.AsSpan(start, end - start), T.Zero, _y!.Data.AsSpan(start, end - start));
        _backwardRange = (start, end) =>
            Gate(_x!.Data.AsSpan(start, end - start), _dout!.Data.AsSpan(start, end - start), _dx!.Data.AsSpan(start, end - start));
    }

    public override string Kind => "relu";
    public override LayerConfig Config => new ReluConfig();

    public override NDArray<T> Forward(NDArray<T> x, bool training)
    {
        _x = x;
        _y = NDArray<T>.Reuse(_y, x.Shape);
        // A batch's activations are split over the cores: the pass is bound by memory traffic (ParallelRanges).
        ParallelRanges.For(x.Size, x.Size, 64, _forwardRange);
        return _y;
    }

    public override NDArray<T> Backward(NDArray<T> dout)
    {
        RequireForward(_x, Kind);
        _x!.RequireSameShape(dout, "relu backward (x vs dout)");
        _dx = NDArray<T>.Reuse(_dx, dout.Shape);
        _dout = dout;
        try { ParallelRanges.For(dout.Size, 2L * dout.Size, 64, _backwardRange); }
        finally { _dout = null; }
        return _dx;
    }

    /// <summary>dx = d where x &gt; 0, else 0 (NaN in x gives 0: NaN &gt; 0 is false).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Gate(ReadOnlySpan<T> x, ReadOnlySpan<T> d, Span<T> dx)
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
