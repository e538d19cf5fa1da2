using System.Numerics;

namespace ZeroDL.Optimizers;

/// <summary>AdaGrad: h ← h + g²; W ← W − η·g/(√h + 1e-7).</summary>
public sealed class AdaGrad<T>(double learningRate = 0.01) : Optimizer<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => "adagrad";
    protected override int StateSlots => 1;

    protected override void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state)
    {
        var h = state[0];
        T lr = T.CreateTruncating(LearningRate), eps = T.CreateTruncating(1e-7);
        for (int i = 0; i < param.Length; i++)
        {
            h[i] += grad[i] * grad[i];
            param[i] -= lr * grad[i] / (T.Sqrt(h[i]) + eps);
        }
    }
}
