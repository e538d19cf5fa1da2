using System.Numerics;
using System.Runtime.InteropServices;

namespace ZeroDL.Optimizers;

/// <summary>RMSprop: h ← ρh + (1 − ρ)g²; W ← W − η·g/(√h + 1e-7), ρ = 0.99 as in the book.</summary>
public sealed class RmsProp<T>(double learningRate = 0.01, double decayRate = 0.99) : Optimizer<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    public double DecayRate { get; } = decayRate;
    public override string Name => "rmsprop";
    protected override int StateSlots => 1;
    /// <summary>"h" (moving average of squared gradients).</summary>
    public override IReadOnlyList<string> StateNames => ["h"];
    public override IReadOnlyList<string> NonNegativeStateNames => ["h"];

    protected override void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state)
    {
        var h = state[0];
        T lr = T.CreateTruncating(LearningRate), eps = T.CreateTruncating(1e-7);
        T rho = T.CreateTruncating(DecayRate), oneMinusRho = T.CreateTruncating(1 - DecayRate);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var pv = MemoryMarshal.Cast<T, Vector<T>>(param); var gv = MemoryMarshal.Cast<T, Vector<T>>(grad); var hv = MemoryMarshal.Cast<T, Vector<T>>(h.AsSpan());
            Vector<T> lrv = new(lr), epsv = new(eps), rhov = new(rho), omr = new(oneMinusRho);
            for (int k = 0; k < pv.Length; k++)
            {
                hv[k] = rhov * hv[k] + omr * gv[k] * gv[k];
                pv[k] -= lrv * gv[k] / (Vector.SquareRoot(hv[k]) + epsv);
            }
            i = pv.Length * Vector<T>.Count;
        }
        for (; i < param.Length; i++)
        {
            h[i] = rho * h[i] + oneMinusRho * grad[i] * grad[i];
            param[i] -= lr * grad[i] / (T.Sqrt(h[i]) + eps);
        }
    }
}
