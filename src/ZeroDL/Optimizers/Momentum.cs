using System.Numerics;
using System.Runtime.InteropServices;

namespace ZeroDL.Optimizers;

/// <summary>Momentum SGD: v ← αv − η·∂L/∂W; W ← W + v (α = 0.9).</summary>
public sealed class Momentum<T>(double learningRate = 0.01, double momentum = 0.9) : Optimizer<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    public double MomentumCoefficient { get; } = momentum;
    public override string Name => "momentum";
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
            Vector<T> av = new(a), lrv = new(lr);
            for (int k = 0; k < pv.Length; k++)
            {
                vv[k] = av * vv[k] - lrv * gv[k];
                pv[k] += vv[k];
            }
            i = pv.Length * Vector<T>.Count;
        }
        for (; i < param.Length; i++)
        {
            v[i] = a * v[i] - lr * grad[i];
            param[i] += v[i];
        }
    }
}
