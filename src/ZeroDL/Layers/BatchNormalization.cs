using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ZeroDL.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>Which elements share one mean and variance; in JSON "per-activation" or "per-channel".</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(JsonNameEnumConverter<BatchNormMode>))]
public enum BatchNormMode
{
    /// <summary>The book's rule: every activation (every feature of a flattened sample) has its own statistics.</summary>
    PerActivation,
    /// <summary>PyTorch's BatchNorm2d: one mean and variance per channel of a (N, C, H, W) input, over N, H and W.</summary>
    PerChannel,
}

/// <summary>
/// Batch normalisation (book ch. 6.3): in training, x̂ = (x − μ_B)/√(σ²_B + ε) with the batch mean and biased
/// batch variance, y = γ·x̂ + β, and running statistics updated as r ← m·r + (1 − m)·batch value; in inference
/// the running statistics replace the batch ones. Defaults follow the book's code: m = 0.9, ε = 1e-6.
/// For dense input both modes are the same.
/// <para>
/// Per channel on images (float or double), the channels are split over the cores, each thread computing its channels'
/// statistics, outputs and gradients in fused passes, every sum in the order of the plain per-sample loops
/// (<see cref="Reference"/>). x̂ is not stored: the backward pass recomputes it from the kept input, which costs less
/// than writing and reading it back.
/// </para>
/// </summary>
public sealed class BatchNormalization<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _xn, _y, _dx;
    private T[]? _mean, _invStd, _shift;
    private double[]? _sumD, _sumDXn;
    private double[] _std;
    private int _n, _spatial;
    /// <summary>The channel passes' input, kept for the backward pass (which recomputes x̂ from it rather than store it).</summary>
    private NDArray<T>? _in, _dout, _gated;
    /// <summary>The channel passes' mean and 1/σ per channel, from the last forward pass.</summary>
    private T[] _keptMean = [], _keptInvStd = [];
    private bool _training;
    private readonly Action<int> _forwardPart, _backwardPart;
    private int _parts;
    private T[] _scratch = [];

    public BatchNormalization(int features, BatchNormMode mode = BatchNormMode.PerActivation, double momentum = 0.9, double epsilon = 1e-6)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(nameof(features), "batch norm needs at least one feature");
        Features = features;
        Mode = mode;
        Momentum = momentum;
        Epsilon = epsilon;
        Gamma = new Parameter<T>("gamma", NDArray<T>.Full(T.One, features), isWeight: false);
        Beta = new Parameter<T>("beta", new NDArray<T>(features), isWeight: false);
        RunningMean = new NDArray<T>(features);
        RunningVar = new NDArray<T>(features);
        _std = new double[features];
        // Made once: every mini-batch hands them to the worker pool without allocating.
        _forwardPart = ForwardPart;
        _backwardPart = BackwardPart;
    }

    /// <summary>
    /// The output is max(0, ·) of the normalised value, a ReLU after the layer done in its passes (its backward
    /// gates dout where the output is positive, as the ReLU would): the same numbers, one pass fewer each way.
    /// </summary>
    public bool Rectifies { get; init; }

    /// <summary>Computes every mode with the plain per-sample loops on the calling thread (the fast path's reference, for tests).</summary>
    internal bool Reference { get; init; }

    /// <summary>Per channel on images, in float or double: the channel-per-thread passes (else the plain loops).</summary>
    private bool ChannelPasses(int spatial) =>
        !Reference && spatial > 1 && (typeof(T) == typeof(float) || typeof(T) == typeof(double));

    public string Kind => "batchnorm";
    public LayerConfig Config => new BatchNormConfig { Mode = Mode, Momentum = Momentum, Epsilon = Epsilon, Activation = Rectifies ? Activation.Relu : null };

    /// <summary>"per-channel" (PyTorch's BatchNorm2d) or "per-activation" (the book's), as the CLI and model files name them.</summary>
    public static BatchNormMode ParseMode(string text) => text.Trim().ToLowerInvariant() switch
    {
        "per-channel" or "channel" => BatchNormMode.PerChannel,
        "per-activation" or "activation" => BatchNormMode.PerActivation,
        _ => throw new FormatException($"batch norm mode '{text}' is not per-channel or per-activation"),
    };

    public static string ModeName(BatchNormMode mode) => mode == BatchNormMode.PerChannel ? "per-channel" : "per-activation";
    public int Features { get; }
    public BatchNormMode Mode { get; }
    public double Momentum { get; }
    public double Epsilon { get; }
    public Parameter<T> Gamma { get; }
    public Parameter<T> Beta { get; }
    public NDArray<T> RunningMean { get; }
    public NDArray<T> RunningVar { get; }
    public IReadOnlyList<Parameter<T>> Parameters => [Gamma, Beta];
    public IReadOnlyList<(string Name, NDArray<T> Value)> State => [("running_mean", RunningMean), ("running_var", RunningVar)];

    /// <summary>Channels (features) and elements per channel per sample for input of this shape.</summary>
    private (int channels, int spatial) Layout(NDArray<T> x)
    {
        if (Mode == BatchNormMode.PerChannel && x.Rank == 4)
        {
            int c = x.Shape[1], s = x.Shape[2] * x.Shape[3];
            if (c != Features) throw new ArgumentException($"batch norm: input {x.ShapeText} has {c} channels, layer has {Features}");
            return (c, s);
        }
        if (x.RowLength != Features)
            throw new ArgumentException($"batch norm: input {x.ShapeText} has {x.RowLength} features per sample, layer has {Features}");
        return (Features, 1);
    }

    public NDArray<T> Forward(NDArray<T> x, bool training)
    {
        var (channels, spatial) = Layout(x);
        int n = x.Rows;
        _n = n; _spatial = spatial;
        _y = NDArray<T>.Reuse(_y, x.Shape);
        if (ChannelPasses(spatial))
        {
            // The backward pass reads x again (as a ReLU reads its input): it stays unchanged until the next forward pass.
            _in = x; _training = training; _xn = null;
            Parts(channels, spatial, x.Size);
            if (_keptMean.Length < channels) { _keptMean = new T[channels]; _keptInvStd = new T[channels]; }
            WorkerPool.For(_parts, _parts, _forwardPart);
            return _y;
        }
        _in = null;
        _xn = NDArray<T>.Reuse(_xn, x.Shape);
        var mean = Scratch(ref _mean, channels); var invStd = Scratch(ref _invStd, channels);
        if (training)
        {
            BatchStatistics(x.ReadOnlySpan, n, channels, spatial, mean, invStd); // invStd holds the variance here
            var rm = RunningMean.Span; var rv = RunningVar.Span;
            T m = T.CreateTruncating(Momentum), oneMinus = T.CreateTruncating(1 - Momentum);
            for (int c = 0; c < channels; c++)
            {
                rm[c] = m * rm[c] + oneMinus * mean[c];
                rv[c] = m * rv[c] + oneMinus * invStd[c];
            }
        }
        else
        {
            RunningMean.ReadOnlySpan.CopyTo(mean);
            RunningVar.ReadOnlySpan.CopyTo(invStd);
        }
        T eps = T.CreateTruncating(Epsilon);
        for (int c = 0; c < channels; c++)
        {
            T std = T.Sqrt(invStd[c] + eps);
            _std[c] = double.CreateTruncating(std);
            invStd[c] = T.One / std;
        }
        var xs = x.ReadOnlySpan; var xn = _xn.Span; var y = _y.Span;
        var gamma = Gamma.Value.ReadOnlySpan; var beta = Beta.Value.ReadOnlySpan;
        if (spatial == 1)
        {
            // Dense / per-activation: every row is a vector over the channels.
            for (int i = 0; i < n; i++)
            {
                var xr = xs.Slice(i * channels, channels); var nr = xn.Slice(i * channels, channels); var yr = y.Slice(i * channels, channels);
                TP.Subtract(xr, mean, nr);
                TP.Multiply(nr, invStd, nr);
                TP.MultiplyAdd(nr, gamma, beta, yr);
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
                for (int c = 0; c < channels; c++)
                {
                    int o = (i * channels + c) * spatial;
                    var nr = xn.Slice(o, spatial);
                    TP.Subtract(xs.Slice(o, spatial), mean[c], nr);
                    TP.Multiply(nr, invStd[c], nr);
                    var yr = y.Slice(o, spatial);
                    TP.Multiply(nr, gamma[c], yr);
                    TP.Add(yr, beta[c], yr);
                }
        }
        if (Rectifies) TP.Max(_y.Span, T.Zero, _y.Span);
        return _y;
    }

    /// <summary>
    /// Splits the channels into one contiguous range per thread (<see cref="_parts"/>), one range for a small pass
    /// (a wake-up would cost more), and sizes each range's scratch row.
    /// </summary>
    private void Parts(int channels, int spatial, long elements)
    {
        _parts = elements < ParallelRanges.MinimumElements ? 1 : Math.Min(channels, Gemm.EffectiveThreads);
        if (_scratch.Length < 2 * _parts * spatial) _scratch = new T[2 * _parts * spatial];
    }

    /// <summary>
    /// Part p of a per-channel forward pass: its own range of channels, every pass going through the samples in turn
    /// (a stream through memory): Σx, then Σ(x − mean)² (each sample's difference in a scratch row), then
    /// y = ((x − mean)·(1/σ))·γ + β in one pass. Each channel's sums in the plain loops' order.
    /// </summary>
    private void ForwardPart(int p)
    {
        ReadOnlySpan<T> xs = _in!.ReadOnlySpan;
        Span<T> y = _y!.Span;
        int n = _n, s = _spatial, channels = Features, stride = channels * s;
        int c0 = (int)((long)channels * p / _parts), c1 = (int)((long)channels * (p + 1) / _parts);
        Span<T> mean = _keptMean.AsSpan(c0, c1 - c0), variance = _keptInvStd.AsSpan(c0, c1 - c0);
        if (_training)
        {
            T count = T.CreateTruncating((double)n * s);
            mean.Clear(); variance.Clear();
            for (int i = 0; i < n; i++)
                for (int c = c0; c < c1; c++) mean[c - c0] += TP.Sum(xs.Slice(i * stride + c * s, s));
            for (int c = 0; c < mean.Length; c++) mean[c] /= count;
            var diff = _scratch.AsSpan(2 * p * s, s);
            for (int i = 0; i < n; i++)
                for (int c = c0; c < c1; c++)
                {
                    TP.Subtract(xs.Slice(i * stride + c * s, s), mean[c - c0], diff);
                    variance[c - c0] += TP.SumOfSquares<T>(diff);
                }
            var rm = RunningMean.Span; var rv = RunningVar.Span;
            T m = T.CreateTruncating(Momentum), oneMinus = T.CreateTruncating(1 - Momentum);
            for (int c = c0; c < c1; c++)
            {
                variance[c - c0] /= count;
                rm[c] = m * rm[c] + oneMinus * mean[c - c0];
                rv[c] = m * rv[c] + oneMinus * variance[c - c0];
            }
        }
        else
        {
            RunningMean.ReadOnlySpan[c0..c1].CopyTo(mean);
            RunningVar.ReadOnlySpan[c0..c1].CopyTo(variance);
        }
        T eps = T.CreateTruncating(Epsilon);
        var invStd = variance; // each channel's variance becomes its 1/σ
        for (int c = c0; c < c1; c++)
        {
            T std = T.Sqrt(variance[c - c0] + eps);
            _std[c] = double.CreateTruncating(std);
            invStd[c - c0] = T.One / std;
        }
        var gamma = Gamma.Value.ReadOnlySpan; var beta = Beta.Value.ReadOnlySpan;
        for (int i = 0; i < n; i++)
            for (int c = c0; c < c1; c++)
            {
                int o = i * stride + c * s;
                var yr = y.Slice(o, s);
                Normalize(xs.Slice(o, s), yr, mean[c - c0], invStd[c - c0], gamma[c], beta[c]);
                if (Rectifies) TP.Max(yr, T.Zero, yr);
            }
    }

    /// <summary>y = ((x − mean)·invStd)·γ + β: every difference, product and sum rounded on its own (no fused multiply-add), as the plain loops round them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Normalize(ReadOnlySpan<T> x, Span<T> y, T mean, T invStd, T gamma, T beta)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var xv = MemoryMarshal.Cast<T, Vector<T>>(x); var yv = MemoryMarshal.Cast<T, Vector<T>>(y);
            Vector<T> m = new(mean), s = new(invStd), g = new(gamma), b = new(beta);
            for (int v = 0; v < yv.Length; v++) yv[v] = Vector.Add(Vector.Multiply(Vector.Multiply(Vector.Subtract(xv[v], m), s), g), b);
            i = yv.Length * Vector<T>.Count;
        }
        for (; i < x.Length; i++) y[i] = (x[i] - mean) * invStd * gamma + beta;
    }

    /// <summary>
    /// x̂ = (x − mean)·invStd as <see cref="Normalize"/> forms it, and with <paramref name="rectify"/> D = dout where
    /// x̂·γ + β &gt; 0 (where the rectified output is positive), else 0; else D is dout.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Recompute(ReadOnlySpan<T> x, ReadOnlySpan<T> dout, Span<T> xn, Span<T> d, T mean, T invStd, T gamma, T beta, bool rectify)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var xv = MemoryMarshal.Cast<T, Vector<T>>(x); var nv = MemoryMarshal.Cast<T, Vector<T>>(xn);
            var dv = MemoryMarshal.Cast<T, Vector<T>>(dout); var gv = MemoryMarshal.Cast<T, Vector<T>>(d);
            Vector<T> m = new(mean), s = new(invStd), g = new(gamma), b = new(beta);
            for (int v = 0; v < nv.Length; v++)
            {
                var t = Vector.Multiply(Vector.Subtract(xv[v], m), s);
                nv[v] = t;
                if (rectify) gv[v] = Vector.ConditionalSelect(Vector.GreaterThan(Vector.Add(Vector.Multiply(t, g), b), Vector<T>.Zero), dv[v], Vector<T>.Zero);
            }
            i = nv.Length * Vector<T>.Count;
        }
        for (; i < x.Length; i++)
        {
            T t = (x[i] - mean) * invStd;
            xn[i] = t;
            if (rectify) d[i] = t * gamma + beta > T.Zero ? dout[i] : T.Zero;
        }
    }

    /// <summary>
    /// Part p of a per-channel backward pass, over its range of channels, the samples in turn: ΣD and ΣD·x̂ (x̂ and
    /// D = dout, gated where the output is positive when the layer rectifies, recomputed into scratch rows), then
    /// dx = (a·D + b) + e·x̂ in one pass.
    /// </summary>
    private void BackwardPart(int p)
    {
        ReadOnlySpan<T> d = _dout!.ReadOnlySpan, xs = _in!.ReadOnlySpan;
        Span<T> dx = _dx!.Span;
        int n = _n, s = _spatial, channels = Features, stride = channels * s;
        int c0 = (int)((long)channels * p / _parts), c1 = (int)((long)channels * (p + 1) / _parts);
        Span<double> sumD = _sumD.AsSpan(c0, c1 - c0), sumDXn = _sumDXn.AsSpan(c0, c1 - c0);
        sumD.Clear(); sumDXn.Clear();
        Span<T> xn = _scratch.AsSpan(2 * p * s, s), gated = _scratch.AsSpan((2 * p + 1) * s, s);
        ReadOnlySpan<T> mean = _keptMean, invStd = _keptInvStd, gamma = Gamma.Value.ReadOnlySpan, beta = Beta.Value.ReadOnlySpan;
        bool rectify = Rectifies;
        double count = (double)n * s;
        for (int i = 0; i < n; i++)
            for (int c = c0; c < c1; c++)
            {
                int o = i * stride + c * s;
                ReadOnlySpan<T> dr = d.Slice(o, s);
                Recompute(xs.Slice(o, s), dr, xn, gated, mean[c], invStd[c], gamma[c], beta[c], rectify);
                if (rectify) dr = gated;
                sumD[c - c0] += double.CreateTruncating(TP.Sum(dr));
                sumDXn[c - c0] += double.CreateTruncating(TP.Dot(dr, xn));
            }
        Span<T> a = _mean.AsSpan(c0, c1 - c0), b = _invStd.AsSpan(c0, c1 - c0), e = _shift.AsSpan(c0, c1 - c0);
        var dgamma = Gamma.Grad.Span; var dbeta = Beta.Grad.Span;
        for (int c = c0; c < c1; c++)
        {
            dbeta[c] = T.CreateTruncating(sumD[c - c0]);
            dgamma[c] = T.CreateTruncating(sumDXn[c - c0]);
            double scale = double.CreateTruncating(gamma[c]) / (_std[c] * count);
            a[c - c0] = T.CreateTruncating(scale * count);
            b[c - c0] = T.CreateTruncating(-scale * sumD[c - c0]);
            e[c - c0] = T.CreateTruncating(-scale * sumDXn[c - c0]);
        }
        for (int i = 0; i < n; i++)
            for (int c = c0; c < c1; c++)
            {
                int o = i * stride + c * s;
                InputGradient(xs.Slice(o, s), d.Slice(o, s), dx.Slice(o, s), mean[c], invStd[c], gamma[c], beta[c], rectify, a[c - c0], b[c - c0], e[c - c0]);
            }
    }

    /// <summary>
    /// dx = (D·a + b) + x̂·e with x̂ and D formed from x and dout as <see cref="Recompute"/> forms them, in one pass;
    /// every product and sum rounded on its own, as the plain loops round them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void InputGradient(ReadOnlySpan<T> x, ReadOnlySpan<T> dout, Span<T> dx, T mean, T invStd, T gamma, T beta, bool rectify, T a, T b, T e)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var xv = MemoryMarshal.Cast<T, Vector<T>>(x); var dv = MemoryMarshal.Cast<T, Vector<T>>(dout); var ov = MemoryMarshal.Cast<T, Vector<T>>(dx);
            Vector<T> m = new(mean), s = new(invStd), g = new(gamma), bt = new(beta), av = new(a), bv = new(b), ev = new(e);
            for (int v = 0; v < ov.Length; v++)
            {
                var t = Vector.Multiply(Vector.Subtract(xv[v], m), s);
                var dr = dv[v];
                if (rectify) dr = Vector.ConditionalSelect(Vector.GreaterThan(Vector.Add(Vector.Multiply(t, g), bt), Vector<T>.Zero), dr, Vector<T>.Zero);
                ov[v] = Vector.Add(Vector.Add(Vector.Multiply(dr, av), bv), Vector.Multiply(t, ev));
            }
            i = ov.Length * Vector<T>.Count;
        }
        for (; i < dx.Length; i++)
        {
            T t = (x[i] - mean) * invStd, dr = dout[i];
            if (rectify && !(t * gamma + beta > T.Zero)) dr = T.Zero;
            dx[i] = dr * a + b + t * e;
        }
    }

    /// <summary>Per-channel mean and biased variance of x seen as (n, channels, spatial): two passes (the mean, then Σ(x − mean)²).</summary>
    private void BatchStatistics(ReadOnlySpan<T> xs, int n, int channels, int spatial, Span<T> mean, Span<T> variance)
    {
        T count = T.CreateTruncating((double)n * spatial);
        mean.Clear(); variance.Clear();
        var tmp = Scratch(ref _shift, Math.Max(channels, spatial));
        if (spatial == 1)
        {
            for (int i = 0; i < n; i++) TP.Add(mean, xs.Slice(i * channels, channels), mean);
            TP.Divide(mean, count, mean);
            var diff = tmp[..channels];
            for (int i = 0; i < n; i++)
            {
                TP.Subtract(xs.Slice(i * channels, channels), mean, diff);
                TP.MultiplyAdd(diff, diff, variance, variance);
            }
        }
        else
        {
            var diff = tmp[..spatial];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < channels; c++) mean[c] += TP.Sum(xs.Slice((i * channels + c) * spatial, spatial));
            TP.Divide(mean, count, mean);
            for (int i = 0; i < n; i++)
                for (int c = 0; c < channels; c++)
                {
                    TP.Subtract(xs.Slice((i * channels + c) * spatial, spatial), mean[c], diff);
                    variance[c] += TP.SumOfSquares<T>(diff);
                }
        }
        TP.Divide(variance, count, variance);
    }

    /// <summary>dx = γ/(σ·M) · (M·dout − Σdout − x̂·Σ(dout·x̂)), M = elements per channel; dγ = Σ dout·x̂, dβ = Σ dout.</summary>
    public NDArray<T> Backward(NDArray<T> dout)
    {
        var xnT = _xn ?? _in ?? throw new InvalidOperationException("batch norm: Backward called before Forward");
        xnT.RequireSameShape(dout, "batch norm backward (x vs dout)");
        int n = _n, spatial = _spatial, channels = Features;
        _dx = NDArray<T>.Reuse(_dx, dout.Shape);
        if (_xn is null)
        {
            _dout = dout;
            Parts(channels, spatial, dout.Size);
            Scratch(ref _mean, channels); Scratch(ref _invStd, channels); Scratch(ref _shift, channels);
            ScratchDouble(ref _sumD, channels); ScratchDouble(ref _sumDXn, channels);
            try { WorkerPool.For(_parts, _parts, _backwardPart); }
            finally { _dout = null; }
            return _dx;
        }
        if (Rectifies)
        {
            // The ReLU's backward first: dout where the output is positive.
            _gated = NDArray<T>.Reuse(_gated, dout.Shape);
            Relu<T>.Gate(_y!.ReadOnlySpan, dout.ReadOnlySpan, _gated.Span);
            dout = _gated;
        }
        var d = dout.ReadOnlySpan; var xn = xnT.ReadOnlySpan; var dx = _dx.Span;
        var gamma = Gamma.Value.ReadOnlySpan; var dgamma = Gamma.Grad.Span; var dbeta = Beta.Grad.Span;
        var sumD = ScratchDouble(ref _sumD, channels); var sumDXn = ScratchDouble(ref _sumDXn, channels);
        sumD.Clear(); sumDXn.Clear();
        double count = (double)n * spatial;
        if (spatial == 1)
        {
            // Row-wise in T, then one conversion per channel.
            var rowSum = Scratch(ref _mean, channels); var rowSumX = Scratch(ref _invStd, channels); var tmp = Scratch(ref _shift, channels);
            rowSum.Clear(); rowSumX.Clear();
            for (int i = 0; i < n; i++)
            {
                var dr = d.Slice(i * channels, channels);
                TP.Add(rowSum, dr, rowSum);
                TP.Multiply(dr, xn.Slice(i * channels, channels), tmp);
                TP.Add(rowSumX, tmp, rowSumX);
            }
            for (int c = 0; c < channels; c++) { sumD[c] = double.CreateTruncating(rowSum[c]); sumDXn[c] = double.CreateTruncating(rowSumX[c]); }
        }
        else
        {
            for (int i = 0; i < n; i++)
                for (int c = 0; c < channels; c++)
                {
                    int o = (i * channels + c) * spatial;
                    sumD[c] += double.CreateTruncating(TP.Sum(d.Slice(o, spatial)));
                    sumDXn[c] += double.CreateTruncating(TP.Dot(d.Slice(o, spatial), xn.Slice(o, spatial)));
                }
        }
        // dx = scale·(M·d − ΣD − x̂·ΣDX̂) with scale = γ/(σM), written as a·d + b + e·x̂ per channel.
        var aCoef = Scratch(ref _mean, channels); var bCoef = Scratch(ref _invStd, channels); var eCoef = Scratch(ref _shift, channels);
        for (int c = 0; c < channels; c++)
        {
            dbeta[c] = T.CreateTruncating(sumD[c]);
            dgamma[c] = T.CreateTruncating(sumDXn[c]);
            double scale = double.CreateTruncating(gamma[c]) / (_std[c] * count);
            aCoef[c] = T.CreateTruncating(scale * count);
            bCoef[c] = T.CreateTruncating(-scale * sumD[c]);
            eCoef[c] = T.CreateTruncating(-scale * sumDXn[c]);
        }
        if (spatial == 1)
        {
            for (int i = 0; i < n; i++)
            {
                var dxr = dx.Slice(i * channels, channels);
                TP.MultiplyAdd(d.Slice(i * channels, channels), aCoef, bCoef, dxr);
                TP.MultiplyAdd(xn.Slice(i * channels, channels), eCoef, dxr, dxr);
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
                for (int c = 0; c < channels; c++)
                {
                    int o = (i * channels + c) * spatial;
                    var dxr = dx.Slice(o, spatial);
                    TP.Multiply(d.Slice(o, spatial), aCoef[c], dxr);
                    TP.Add(dxr, bCoef[c], dxr);
                    TP.MultiplyAdd(xn.Slice(o, spatial), eCoef[c], dxr, dxr);
                }
        }
        return _dx;
    }

    private static Span<T> Scratch(ref T[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = new T[length];
        return buffer.AsSpan(0, length);
    }

    private static Span<double> ScratchDouble(ref double[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = new double[length];
        return buffer.AsSpan(0, length);
    }
}
