namespace ZeroDL.Tuning;

/// <summary>
/// Gaussian-process regression for Bayesian optimisation: a squared-exponential kernel k(a, b) = σ²·exp(−|a − b|²/2ℓ²)
/// plus observation noise, on inputs scaled to the unit box. The targets are standardised; the length scale is
/// picked from a few candidates by the log marginal likelihood. Small dense linear algebra (Cholesky), written here.
/// </summary>
public sealed class GaussianProcess
{
    private readonly double[][] _x;
    private readonly double[] _alpha;
    private readonly double[,] _l;
    private readonly double _mean, _scale;

    public double LengthScale { get; }
    public const double Noise = 1e-4;

    public GaussianProcess(IReadOnlyList<double[]> x, IReadOnlyList<double> y, double[]? lengthScales = null)
    {
        if (x.Count == 0 || x.Count != y.Count) throw new ArgumentException($"a Gaussian process needs matching, non-empty inputs and targets ({x.Count} vs {y.Count})");
        _x = [.. x];
        _mean = y.Average();
        double sd = Math.Sqrt(y.Select(v => (v - _mean) * (v - _mean)).Average());
        _scale = sd > 1e-12 ? sd : 1;
        var z = y.Select(v => (v - _mean) / _scale).ToArray();
        double best = double.NegativeInfinity;
        (double[,] L, double[] Alpha, double Ell)? chosen = null;
        foreach (double ell in lengthScales ?? [0.08, 0.15, 0.25, 0.4, 0.7])
        {
            var L = Cholesky(KernelMatrix(ell));
            var alpha = Solve(L, z);
            // log p(z) = −½ zᵀα − Σ log Lᵢᵢ − n/2 log 2π
            double logLik = -0.5 * z.Zip(alpha, (a, b) => a * b).Sum() - Enumerable.Range(0, z.Length).Sum(i => Math.Log(L[i, i]));
            if (logLik > best) { best = logLik; chosen = (L, alpha, ell); }
        }
        (_l, _alpha, LengthScale) = chosen!.Value;
    }

    /// <summary>Posterior mean and standard deviation at <paramref name="point"/>, in the targets' units.</summary>
    public (double Mean, double Std) Predict(double[] point)
    {
        int n = _x.Length;
        var k = new double[n];
        for (int i = 0; i < n; i++) k[i] = Kernel(_x[i], point, LengthScale);
        double mean = k.Zip(_alpha, (a, b) => a * b).Sum();
        var v = ForwardSubstitute(_l, k);
        double variance = Math.Max(1 + Noise - v.Sum(t => t * t), 1e-12);
        return (_mean + _scale * mean, _scale * Math.Sqrt(variance));
    }

    /// <summary>Expected improvement over <paramref name="best"/> when maximising: E[max(f − best − ξ, 0)].</summary>
    public double ExpectedImprovement(double[] point, double best, double xi = 0.001)
    {
        var (mean, std) = Predict(point);
        double z = (mean - best - xi) / std;
        return (mean - best - xi) * NormalCdf(z) + std * NormalPdf(z);
    }

    private double[,] KernelMatrix(double ell)
    {
        int n = _x.Length;
        var k = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                k[i, j] = k[j, i] = Kernel(_x[i], _x[j], ell) + (i == j ? Noise : 0);
        return k;
    }

    private static double Kernel(double[] a, double[] b, double ell)
    {
        double d = 0;
        for (int i = 0; i < a.Length; i++) d += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Exp(-d / (2 * ell * ell));
    }

    /// <summary>Lower-triangular L with L·Lᵀ = A (A symmetric positive definite; jitter added if rounding makes a pivot non-positive).</summary>
    internal static double[,] Cholesky(double[,] a)
    {
        int n = a.GetLength(0);
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = a[i, j];
                for (int k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                l[i, j] = i == j ? Math.Sqrt(Math.Max(s, 1e-12)) : s / l[j, j];
            }
        return l;
    }

    private static double[] ForwardSubstitute(double[,] l, double[] b)
    {
        int n = b.Length;
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= l[i, k] * y[k];
            y[i] = s / l[i, i];
        }
        return y;
    }

    /// <summary>x with L·Lᵀ·x = b.</summary>
    internal static double[] Solve(double[,] l, double[] b)
    {
        var y = ForwardSubstitute(l, b);
        int n = b.Length;
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = y[i];
            for (int k = i + 1; k < n; k++) s -= l[k, i] * x[k];
            x[i] = s / l[i, i];
        }
        return x;
    }

    private static double NormalPdf(double z) => Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);

    /// <summary>Φ(z) via the complementary error function (Abramowitz–Stegun 7.1.26, |error| &lt; 1.5e-7).</summary>
    internal static double NormalCdf(double z)
    {
        double x = Math.Abs(z) / Math.Sqrt(2);
        double t = 1 / (1 + 0.3275911 * x);
        double erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.Exp(-x * x);
        return z >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
    }
}
