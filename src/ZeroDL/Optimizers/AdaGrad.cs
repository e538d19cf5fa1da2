using System.Numerics;
using System.Runtime.InteropServices;

namespace ZeroDL.Optimizers;

/// <summary>AdaGrad: h ← h + g²; W ← W − η·g/(√h + 1e-7).</summary>
public sealed class AdaGrad<T>(double learningRate = 0.01) : Optimizer<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => "adagrad";
    protected override int StateSlots => 1;
    /// <summary>"h" (sum of squared gradients).</summary>
    public override IReadOnlyList<string> StateNames => ["h"];
    public override IReadOnlyList<string> NonNegativeStateNames => ["h"];

    protected override void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state)
    {
        var h = state[0];
        T lr = T.CreateTruncating(LearningRate), eps = T.CreateTruncating(1e-7);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var pv = MemoryMarshal.Cast<T, Vector<T>>(param); var gv = MemoryMarshal.Cast<T, Vector<T>>(grad); var hv = MemoryMarshal.Cast<T, Vector<T>>(h.AsSpan());
            Vector<T> lrv = new(lr), epsv = new(eps);
            for (int k = 0; k < pv.Length; k++)
            {
                hv[k] += gv[k] * gv[k];
                pv[k] -= lrv * gv[k] / (Vector.SquareRoot(hv[k]) + epsv);
            }
            i = pv.Length * Vector<T>.Count;
        }
        for (; i < param.Length; i++)
        {
            h[i] += grad[i] * grad[i];
            param[i] -= lr * grad[i] / (T.Sqrt(h[i]) + eps);
        }
    }
}
