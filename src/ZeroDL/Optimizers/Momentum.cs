using System.Numerics;

namespace ZeroDL.Optimizers;

/// <summary>Momentum SGD: v ← αv − η·∂L/∂W; W ← W + v (α = 0.9).</summary>
public sealed class Momentum<T>(double learningRate = 0.01, double momentum = 0.9) : Optimizer<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    public double MomentumCoefficient { get; } = momentum;
    public override string Name => "momentum";
    protected override int StateSlots => 1;

    protected override void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state)
    {
        var v = state[0];
        T a = T.CreateTruncating(MomentumCoefficient), lr = T.CreateTruncating(LearningRate);
        for (int i = 0; i < param.Length; i++)
        {
            v[i] = a * v[i] - lr * grad[i];
            param[i] += v[i];
        }
    }
}
