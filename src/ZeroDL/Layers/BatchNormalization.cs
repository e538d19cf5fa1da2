using System.Numerics;
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
/// </summary>
public sealed class BatchNormalization<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _xn, _y, _dx;
    private T[]? _mean, _invStd, _shift;
    private double[]? _sumD, _sumDXn;
    private double[] _std;
    private int _n, _spatial;

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
    }

    public string Kind => "batchnorm";
    public LayerConfig Config => new BatchNormConfig { Mode = Mode, Momentum = Momentum, Epsilon = Epsilon };

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
        _xn = NDArray<T>.Reuse(_xn, x.Shape);
        _y = NDArray<T>.Reuse(_y, x.Shape);
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
        return _y;
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
        var xnT = _xn ?? throw new InvalidOperationException("batch norm: Backward called before Forward");
        xnT.RequireSameShape(dout, "batch norm backward (x vs dout)");
        int n = _n, spatial = _spatial, channels = Features;
        _dx = NDArray<T>.Reuse(_dx, dout.Shape);
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
