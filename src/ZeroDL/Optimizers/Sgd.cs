using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Optimizers;

/// <summary>Stochastic gradient descent: W ← W − η·∂L/∂W.</summary>
public sealed class Sgd<T>(double learningRate = 0.01) : Optimizer<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => "sgd";
    protected override int StateSlots => 0;
    /// <summary>none.</summary>
    public override IReadOnlyList<string> StateNames => [];

    protected override void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state) =>
        TP.MultiplyAdd(grad, T.CreateTruncating(-LearningRate), param, param);
}
