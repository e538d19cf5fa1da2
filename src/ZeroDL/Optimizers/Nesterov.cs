using System.Numerics;
using System.Runtime.InteropServices;

namespace ZeroDL.Optimizers;

/// <summary>
/// Nesterov's accelerated gradient in the book's form (common/optimizer.py):
/// v ← αv − η·g; W ← W + α²v − (1 + α)·η·g.
/// </summary>
public sealed class Nesterov<T>(double learningRate = 0.01, double momentum = 0.9) : Optimizer<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    public double MomentumCoefficient { get; } = momentum;
    public override string Name => "nesterov";
    protected override int StateSlots => 1;
    /// <summary>"v" (velocity).</summary>
    public override IReadOnlyList<string> StateNames => ["v"];

    protected override void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state)
    {
        var v = state[0];
        T a = T.CreateTruncating(MomentumCoefficient), lr = T.CreateTruncating(LearningRate);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var pv = MemoryMarshal.Cast<T, Vector<T>>(param); var gv = MemoryMarshal.Cast<T, Vector<T>>(grad); var vv = MemoryMarshal.Cast<T, Vector<T>>(v.AsSpan());
            Vector<T> av = new(a), lrv = new(lr), a2 = new(a * a), step = new((T.One + a) * lr);
            for (int k = 0; k < pv.Length; k++)
            {
                vv[k] = av * vv[k] - lrv * gv[k];
                pv[k] += a2 * vv[k] - step * gv[k];
            }
            i = pv.Length * Vector<T>.Count;
        }
        for (; i < param.Length; i++)
        {
            v[i] = a * v[i] - lr * grad[i];
            param[i] += a * a * v[i] - (T.One + a) * lr * grad[i];
        }
    }
}
