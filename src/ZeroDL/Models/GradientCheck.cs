using System.Numerics;
using ZeroDL.Functions;

namespace ZeroDL.Models;

/// <summary>
/// The book's gradient check (ch. 5.7.3): each parameter's backprop gradient against the central-difference
/// gradient of the loss, reported as the mean absolute difference per parameter. Use float64 networks.
/// </summary>
public static class GradientCheck
{
    public static IReadOnlyList<(string Name, double MeanAbsDiff)> Run<T>(Sequential<T> net, NDArray<T> x, int[] labels, double h = 1e-4)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        net.Gradient(x, labels);
        var backprop = net.NamedParameters().Select(p => (p.Name, Grad: p.Parameter.Grad.Clone(), p.Parameter)).ToList();
        var result = new List<(string, double)>();
        foreach (var (name, grad, parameter) in backprop)
        {
            var numeric = NumericalDiff.Gradient(_ => net.Loss(x, labels, training: true), parameter.Value, h);
            double sum = 0;
            for (int i = 0; i < grad.Size; i++) sum += Math.Abs(double.CreateTruncating(grad.Data[i] - numeric.Data[i]));
            result.Add((name, grad.Size == 0 ? 0 : sum / grad.Size));
        }
        return result;
    }
}
