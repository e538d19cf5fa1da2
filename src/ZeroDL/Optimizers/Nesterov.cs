using System.Numerics;

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

    protected override void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state)
    {
        var v = state[0];
        T a = T.CreateTruncating(MomentumCoefficient), lr = T.CreateTruncating(LearningRate);
        for (int i = 0; i < param.Length; i++)
        {
            v[i] = a * v[i] - lr * grad[i];
            param[i] += a * a * v[i] - (T.One + a) * lr * grad[i];
        }
    }
}
