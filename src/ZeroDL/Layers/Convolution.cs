using System.Numerics;
using ZeroDL.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>
/// Convolution (book ch. 7.4.3) on (N, C, H, W) input with filters W (FN, C, FH, FW) and bias b (FN), any stride
/// and padding, as the book writes it: every receptive field becomes a row of col = im2col(x) (rows (n, oy, ox),
/// columns (c, ky, kx)), the output is col·Wᵀ + b reordered to (N, FN, OH, OW); backward: db = Σ dout,
/// dW = doutᵀ·col, dx = col2im(dout·W). With <see cref="Rectifies"/> the layer's output is max(0, ·) of that, a ReLU
/// fused into it (<see cref="Models.Fusion"/>), and backward first passes dout only where the output is &gt; 0. A
/// network runs a rectifying convolution and a 2×2, stride-2 max pooling after it as one pass
/// (<see cref="ConvolutionPooling{T}"/>: <see cref="ForwardPooled"/>, <see cref="BackwardPooled"/>).
/// <para>
/// float32 runs the same computation through an engine chosen once, when the layer first runs
/// (<see cref="ConvolutionEngine"/>: Winograd, shifted windows or a chunked im2col, over the cores); the tests hold
/// every engine to this layer's numbers.
/// </para>
/// </summary>
public sealed class Convolution<T> : ILayer<T>, IFirstLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _x, _y, _dx;
    private T[] _col = [], _rows = [], _dcol = [];
    private IConvolutionEngine<T>? _engine;
    private bool _engineChosen, _trained;
    /// <summary>The pooling the last forward pass ran into (<see cref="ForwardPooled"/>), or null where it wrote y out.</summary>
    private MaxPooling<T>? _pooledInto;

    public Convolution(NDArray<T> w, NDArray<T> b, int stride = 1, int pad = 0)
    {
        if (w.Rank != 4 || b.Rank != 1 || b.Size != w.Shape[0])
            throw new ArgumentException($"convolution: W must be (FN, C, FH, FW) and b (FN); got W {w.ShapeText}, b {b.ShapeText}");
        if (stride < 1 || pad < 0) throw new ArgumentOutOfRangeException(nameof(stride), $"stride {stride} must be ≥ 1 and pad {pad} ≥ 0");
        W = new Parameter<T>("W", w, isWeight: true);
        B = new Parameter<T>("b", b, isWeight: false);
        Stride = stride;
        Pad = pad;
    }

    public string Kind => "conv";
    public Parameter<T> W { get; }
    public Parameter<T> B { get; }
    public int Stride { get; }
    public int Pad { get; }
    public int Filters => W.Value.Shape[0];
    public int Channels => W.Value.Shape[1];
    public int KernelHeight => W.Value.Shape[2];
    public int KernelWidth => W.Value.Shape[3];
    public IReadOnlyList<Parameter<T>> Parameters => [W, B];
    public IReadOnlyList<(string Name, NDArray<T> Value)> State => [];

    /// <summary>Whether the layer's output is max(0, ·) of the convolution's: a ReLU fused into it.</summary>
    public bool Rectifies { get; init; }

    /// <summary>How the initial weights were drawn, as <see cref="Config"/> reports it (He when the weights were given).</summary>
    public WeightInit WeightInit { get; init; } = WeightInit.He;

    public LayerConfig Config => new ConvConfig
    {
        Filters = Filters, Kernel = new WindowSize(KernelHeight, KernelWidth), Stride = Stride, Pad = Pad, Init = WeightInit,
        Activation = Rectifies ? Activation.Relu : null,
    };

    /// <summary>
    /// How the float32 engine may run (<see cref="ConvolutionEngineOptions.Default"/>: the fastest that applies); null
    /// runs this layer's own im2col product, the reference the engines are tested against.
    /// </summary>
    internal ConvolutionEngineOptions? Engine { get; init; } = ConvolutionEngineOptions.Default;

    /// <summary>The engine this layer runs on, chosen on first use (null: the layer's own im2col).</summary>
    private IConvolutionEngine<T>? ChosenEngine()
    {
        if (!_engineChosen)
        {
            _engine = Engine is null ? null : ConvolutionEngines.For<T>(Filters, Channels, KernelHeight, KernelWidth, Stride, Pad, Engine);
            _engineChosen = true;
        }
        return _engine;
    }

    /// <summary>How each pass is computed, e.g. "forward Winograd, dW shifted windows …" or "im2col" (the book's layer).</summary>
    public string Algorithms => ChosenEngine()?.Describe() ?? "im2col";

    public NDArray<T> Forward(NDArray<T> x, bool training)
    {
        if (x.Rank != 4 || x.Shape[1] != Channels)
            throw new ArgumentException($"convolution: input {x.ShapeText} is not (N, {Channels}, H, W) for filters {W.Value.ShapeText}");
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        int oh = ConvShape.OutputSize(h, KernelHeight, Stride, Pad), ow = ConvShape.OutputSize(w, KernelWidth, Stride, Pad);
        _y = NDArray<T>.Reuse(_y, n, Filters, oh, ow);
        // Training keeps a copy of the input for the backward pass, whatever becomes of the caller's tensor: made by
        // the engine chunk by chunk where there is one.
        if (training) _x = NDArray<T>.Reuse(_x, x.Shape);
        _trained = training;
        _pooledInto = null;
        if (ChosenEngine() is { } engine)
        {
            engine.Forward(x, W.Value, B.Value, _y, Rectifies, training, training ? _x : null);
            return _y;
        }
        if (training) x.ReadOnlySpan.CopyTo(_x!.Span);
        int rows = n * oh * ow, k = Channels * KernelHeight * KernelWidth, plane = oh * ow;
        var col = Buffer(ref _col, rows * k);
        var outRows = Buffer(ref _rows, rows * Filters);
        Im2Col.Forward<T>(x.ReadOnlySpan, n, Channels, h, w, KernelHeight, KernelWidth, Stride, Pad, col);
        Gemm.Multiply<T>(false, true, rows, Filters, k, col, k, W.Value.ReadOnlySpan, k, outRows, Filters);
        // (n, oy, ox, f) + b[f] → (n, f, oy, ox)
        var y = _y.Span; var bias = B.Value.ReadOnlySpan;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < plane; p++)
                for (int f = 0; f < Filters; f++)
                    y[(i * Filters + f) * plane + p] = outRows[(i * plane + p) * Filters + f] + bias[f];
        if (Rectifies) TP.Max(y, T.Zero, y);
        return _y;
    }

    public NDArray<T> Backward(NDArray<T> dout) => BackwardCore(dout, inputGradient: true)!;

    /// <summary>The gradients of W and b only — all a network's first layer needs, since nothing uses ∂L/∂input.</summary>
    public void BackwardParameters(NDArray<T> dout) => BackwardCore(dout, inputGradient: false);

    /// <summary>
    /// Whether this layer can pool its own output for a 2×2, stride-2 <see cref="MaxPooling{T}"/> after it
    /// (<see cref="ForwardPooled"/>): it rectifies, and an engine runs it (float32).
    /// </summary>
    internal bool PoolsItsOutput => Rectifies && ChosenEngine() is not null;

    /// <summary>
    /// This layer and <paramref name="pool"/> (2×2, stride 2, no padding) after it in one pass
    /// (<see cref="ConvolutionPooling{T}"/>): each chunk's output is pooled while in cache and y is never written; the
    /// pooling's output and winners are filled as its own Forward would fill them, and returned. Needs
    /// <see cref="PoolsItsOutput"/>; the backward pass then goes through <see cref="BackwardPooled"/>.
    /// </summary>
    internal NDArray<T> ForwardPooled(NDArray<T> x, MaxPooling<T> pool, bool training)
    {
        if (!PoolsItsOutput || !pool.IsTwoByTwoStrideTwo) throw new InvalidOperationException("convolution: only a rectifying convolution with an engine pools 2×2 windows of stride 2 itself");
        if (x.Rank != 4 || x.Shape[1] != Channels)
            throw new ArgumentException($"convolution: input {x.ShapeText} is not (N, {Channels}, H, W) for filters {W.Value.ShapeText}");
        int n = x.Shape[0], oh = ConvShape.OutputSize(x.Shape[2], KernelHeight, Stride, Pad), ow = ConvShape.OutputSize(x.Shape[3], KernelWidth, Stride, Pad);
        var (pooled, argmax) = pool.PoolInPlaceOf([n, Filters, oh, ow]);
        if (training) _x = NDArray<T>.Reuse(_x, x.Shape);
        _trained = training;
        _pooledInto = pool;
        _engine!.ForwardPooled(x, W.Value, B.Value, pooled, argmax, training, training ? _x : null);
        return pooled;
    }

    /// <summary>
    /// The backward pass after <see cref="ForwardPooled"/>, from the pooling's output gradient <paramref name="dpooled"/>:
    /// routed to the windows' winners and gated there chunk by chunk inside this layer's pass (neither the pooling's
    /// dx nor y is read or written); W's and b's gradients, and dx (returned) where <paramref name="inputGradient"/>.
    /// </summary>
    internal NDArray<T>? BackwardPooled(NDArray<T> dpooled, MaxPooling<T> pool, bool inputGradient)
    {
        if (!_trained || _x is null) throw new InvalidOperationException("convolution: Backward needs a training-mode Forward first");
        if (!ReferenceEquals(_pooledInto, pool)) throw new InvalidOperationException("convolution: the last forward pass was not pooled into this pooling layer");
        var (pooled, argmax) = pool.Pooled();
        pooled.RequireSameShape(dpooled, "convolution pooled backward (pooled vs dout)");
        if (inputGradient) _dx = NDArray<T>.Reuse(_dx, _x.Shape);
        var dx = inputGradient ? _dx : null;
        _engine!.BackwardPooled(_x, dpooled, pooled, argmax, W.Value, W.Grad.Span, B.Grad.Span, dx);
        return dx;
    }

    private NDArray<T>? BackwardCore(NDArray<T> dout, bool inputGradient)
    {
        if (!_trained || _x is null) throw new InvalidOperationException("convolution: Backward needs a training-mode Forward first");
        if (_pooledInto is not null)
            throw new InvalidOperationException("convolution: the last forward pass pooled its output for the pooling layer after it (a network runs the two as one); the backward pass goes through both");
        _y!.RequireSameShape(dout, "convolution backward (y vs dout)");
        if (inputGradient) _dx = NDArray<T>.Reuse(_dx, _x.Shape);
        var dx = inputGradient ? _dx : null;
        if (ChosenEngine() is { } engine)
        {
            engine.Backward(_x, _y, dout, W.Value, W.Grad.Span, B.Grad.Span, dx, gate: Rectifies);
            return dx;
        }
        int n = _x.Shape[0], h = _x.Shape[2], w = _x.Shape[3], plane = _y.Shape[2] * _y.Shape[3];
        int rows = n * plane, k = Channels * KernelHeight * KernelWidth;
        // dout (n, f, oy, ox) → rows (n, oy, ox, f), passed only where the output is > 0 when the layer rectifies
        var d = dout.ReadOnlySpan; var y = _y.ReadOnlySpan;
        var doutRows = Buffer(ref _rows, rows * Filters);
        for (int i = 0; i < n; i++)
            for (int f = 0; f < Filters; f++)
                for (int p = 0; p < plane; p++)
                {
                    int at = (i * Filters + f) * plane + p;
                    doutRows[(i * plane + p) * Filters + f] = !Rectifies || y[at] > T.Zero ? d[at] : T.Zero;
                }
        var db = B.Grad.Span;
        db.Clear();
        for (int r = 0; r < rows; r++) TP.Add(db, doutRows.Slice(r * Filters, Filters), db);
        // The column matrix again, from the kept input, rather than kept from forward.
        var col = Buffer(ref _col, rows * k);
        Im2Col.Forward<T>(_x.ReadOnlySpan, n, Channels, h, w, KernelHeight, KernelWidth, Stride, Pad, col);
        Gemm.Multiply<T>(true, false, Filters, k, rows, doutRows, Filters, col, k, W.Grad.Span, k);
        if (dx is null) return null;
        var dcol = Buffer(ref _dcol, rows * k);
        Gemm.Multiply<T>(false, false, rows, k, Filters, doutRows, Filters, W.Value.ReadOnlySpan, k, dcol, k);
        Im2Col.Backward<T>(dcol, n, Channels, h, w, KernelHeight, KernelWidth, Stride, Pad, dx.Span);
        return dx;
    }

    private static Span<T> Buffer(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
        return buffer.AsSpan(0, length);
    }
}
