using System.Numerics;

namespace ZeroDL.Functions;

/// <summary>Plain gradient descent on a function of a tensor (book ch. 4.4.1): x ← x − lr·∇f(x), with a numerical gradient.</summary>
public static class GradientDescent
{
    /// <summary>Runs <paramref name="steps"/> steps from <paramref name="init"/> (not modified) and returns the final point.</summary>
    public static NDArray<T> Minimize<T>(Func<NDArray<T>, double> f, NDArray<T> init, double learningRate = 0.01, int steps = 100,
        Action<int, NDArray<T>>? onStep = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = init.Clone();
        T lr = T.CreateTruncating(learningRate);
        for (int s = 0; s < steps; s++)
        {
            onStep?.Invoke(s, x);
            var g = NumericalDiff.Gradient(f, x);
            for (int i = 0; i < x.Size; i++) x.Data[i] -= lr * g.Data[i];
        }
        return x;
    }
}
