using System.Numerics;

namespace ZeroDL.Layers;

/// <summary>Which elements share one mean and variance.</summary>
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
    private Tensor<T>? _xn, _y, _dx;
    private double[] _std;
    private int _n, _spatial;

    public BatchNormalization(int features, BatchNormMode mode = BatchNormMode.PerActivation, double momentum = 0.9, double epsilon = 1e-6)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(nameof(features), "batch norm needs at least one feature");
        Features = features;
        Mode = mode;
        Momentum = momentum;
        Epsilon = epsilon;
        Gamma = new Parameter<T>("gamma", Tensor<T>.Full(T.One, features), isWeight: false);
        Beta = new Parameter<T>("beta", new Tensor<T>(features), isWeight: false);
        RunningMean = new Tensor<T>(features);
        RunningVar = new Tensor<T>(features);
        _std = new double[features];
    }

    public string Kind => "batchnorm";
    public int Features { get; }
    public BatchNormMode Mode { get; }
    public double Momentum { get; }
    public double Epsilon { get; }
    public Parameter<T> Gamma { get; }
    public Parameter<T> Beta { get; }
    public Tensor<T> RunningMean { get; }
    public Tensor<T> RunningVar { get; }
    public IReadOnlyList<Parameter<T>> Parameters => [Gamma, Beta];
    public IReadOnlyList<(string Name, Tensor<T> Value)> State => [("running_mean", RunningMean), ("running_var", RunningVar)];

    /// <summary>Channels (features) and elements per channel per sample for input of this shape.</summary>
    private (int channels, int spatial) Layout(Tensor<T> x)
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

    public Tensor<T> Forward(Tensor<T> x, bool training)
    {
        var (channels, spatial) = Layout(x);
        int n = x.Rows;
        _n = n; _spatial = spatial;
        _xn = Tensor<T>.Reuse(_xn, x.Shape);
        _y = Tensor<T>.Reuse(_y, x.Shape);
        var xs = x.ReadOnlySpan; var xn = _xn.Span; var y = _y.Span;
        var gamma = Gamma.Value.ReadOnlySpan; var beta = Beta.Value.ReadOnlySpan;
        var rm = RunningMean.Span; var rv = RunningVar.Span;
        double count = (double)n * spatial;
        for (int c = 0; c < channels; c++)
        {
            double mean, variance;
            if (training)
            {
                double sum = 0;
                for (int i = 0; i < n; i++)
                    for (int s = 0; s < spatial; s++) sum += double.CreateTruncating(xs[(i * channels + c) * spatial + s]);
                mean = sum / count;
                double sq = 0;
                for (int i = 0; i < n; i++)
                    for (int s = 0; s < spatial; s++) { double d = double.CreateTruncating(xs[(i * channels + c) * spatial + s]) - mean; sq += d * d; }
                variance = sq / count;
                rm[c] = T.CreateTruncating(Momentum * double.CreateTruncating(rm[c]) + (1 - Momentum) * mean);
                rv[c] = T.CreateTruncating(Momentum * double.CreateTruncating(rv[c]) + (1 - Momentum) * variance);
            }
            else
            {
                mean = double.CreateTruncating(rm[c]);
                variance = double.CreateTruncating(rv[c]);
            }
            double std = Math.Sqrt(variance + Epsilon);
            _std[c] = std;
            T tMean = T.CreateTruncating(mean), tInv = T.CreateTruncating(1.0 / std);
            for (int i = 0; i < n; i++)
                for (int s = 0; s < spatial; s++)
                {
                    int idx = (i * channels + c) * spatial + s;
                    T v = (xs[idx] - tMean) * tInv;
                    xn[idx] = v;
                    y[idx] = gamma[c] * v + beta[c];
                }
        }
        return _y;
    }

    /// <summary>dx = γ/(σ·M) · (M·dout − Σdout − x̂·Σ(dout·x̂)), M = elements per channel; dγ = Σ dout·x̂, dβ = Σ dout.</summary>
    public Tensor<T> Backward(Tensor<T> dout)
    {
        var xnT = _xn ?? throw new InvalidOperationException("batch norm: Backward called before Forward");
        xnT.RequireSameShape(dout, "batch norm backward (x vs dout)");
        int n = _n, spatial = _spatial, channels = Features;
        _dx = Tensor<T>.Reuse(_dx, dout.Shape);
        var d = dout.ReadOnlySpan; var xn = xnT.ReadOnlySpan; var dx = _dx.Span;
        var gamma = Gamma.Value.ReadOnlySpan; var dgamma = Gamma.Grad.Span; var dbeta = Beta.Grad.Span;
        double count = (double)n * spatial;
        for (int c = 0; c < channels; c++)
        {
            double sumD = 0, sumDXn = 0;
            for (int i = 0; i < n; i++)
                for (int s = 0; s < spatial; s++)
                {
                    int idx = (i * channels + c) * spatial + s;
                    double dv = double.CreateTruncating(d[idx]);
                    sumD += dv;
                    sumDXn += dv * double.CreateTruncating(xn[idx]);
                }
            dbeta[c] = T.CreateTruncating(sumD);
            dgamma[c] = T.CreateTruncating(sumDXn);
            double scale = double.CreateTruncating(gamma[c]) / (_std[c] * count);
            for (int i = 0; i < n; i++)
                for (int s = 0; s < spatial; s++)
                {
                    int idx = (i * channels + c) * spatial + s;
                    double v = count * double.CreateTruncating(d[idx]) - sumD - double.CreateTruncating(xn[idx]) * sumDXn;
                    dx[idx] = T.CreateTruncating(scale * v);
                }
        }
        return _dx;
    }
}
