using System.Numerics;
using System.Runtime.InteropServices;

namespace ZeroDL.Optimizers;

/// <summary>
/// Adam in the book's form: t ← t + 1; η_t = η·√(1 − β2^t)/(1 − β1^t) (bias correction folded into the
/// learning rate); m ← m + (1 − β1)(g − m); v ← v + (1 − β2)(g² − v); W ← W − η_t·m/(√v + 1e-7).
/// </summary>
public sealed class Adam<T>(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999) : Optimizer<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    private double _lrT;

    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    /// <summary>Steps taken so far (the t of the bias correction; the same as <see cref="Optimizer{T}.Steps"/>).</summary>
    public int Iteration => Steps;
    public override string Name => "adam";
    protected override int StateSlots => 2;
    /// <summary>"m" (first moment) and "v" (second moment).</summary>
    public override IReadOnlyList<string> StateNames => ["m", "v"];
    public override IReadOnlyList<string> NonNegativeStateNames => ["v"];

    protected override void BeginStep()
    {
        _lrT = LearningRate * Math.Sqrt(1.0 - Math.Pow(Beta2, Iteration)) / (1.0 - Math.Pow(Beta1, Iteration));
    }

    protected override void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state)
    {
        var m = state[0]; var v = state[1];
        T lrT = T.CreateTruncating(_lrT), eps = T.CreateTruncating(1e-7);
        T b1 = T.CreateTruncating(1 - Beta1), b2 = T.CreateTruncating(1 - Beta2);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var pv = MemoryMarshal.Cast<T, Vector<T>>(param); var gv = MemoryMarshal.Cast<T, Vector<T>>(grad);
            var mv = MemoryMarshal.Cast<T, Vector<T>>(m.AsSpan()); var vv = MemoryMarshal.Cast<T, Vector<T>>(v.AsSpan());
            Vector<T> lrv = new(lrT), epsv = new(eps), b1v = new(b1), b2v = new(b2);
            for (int k = 0; k < pv.Length; k++)
            {
                var g = gv[k];
                mv[k] += b1v * (g - mv[k]);
                vv[k] += b2v * (g * g - vv[k]);
                pv[k] -= lrv * mv[k] / (Vector.SquareRoot(vv[k]) + epsv);
            }
            i = pv.Length * Vector<T>.Count;
        }
        for (; i < param.Length; i++)
        {
            T g = grad[i];
            m[i] += b1 * (g - m[i]);
            v[i] += b2 * (g * g - v[i]);
            param[i] -= lrT * m[i] / (T.Sqrt(v[i]) + eps);
        }
    }
}
