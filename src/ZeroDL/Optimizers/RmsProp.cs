using System.Numerics;

namespace ZeroDL.Optimizers;

/// <summary>RMSprop: h ← ρh + (1 − ρ)g²; W ← W − η·g/(√h + 1e-7), ρ = 0.99 as in the book.</summary>
public sealed class RmsProp<T>(double learningRate = 0.01, double decayRate = 0.99) : Optimizer<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    public double DecayRate { get; } = decayRate;
    public override string Name => "rmsprop";
    protected override int StateSlots => 1;

    protected override void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state)
    {
        var h = state[0];
        T lr = T.CreateTruncating(LearningRate), eps = T.CreateTruncating(1e-7);
        T rho = T.CreateTruncating(DecayRate), oneMinusRho = T.CreateTruncating(1 - DecayRate);
        for (int i = 0; i < param.Length; i++)
        {
            h[i] = rho * h[i] + oneMinusRho * grad[i] * grad[i];
            param[i] -= lr * grad[i] / (T.Sqrt(h[i]) + eps);
        }
    }
}
