using System.Numerics;

namespace ZeroDL.Functions;

/// <summary>Numerical differentiation by central differences (book ch. 4.3–4.4).</summary>
public static class NumericalDiff
{
    /// <summary>The book's step h = 1e-4: small enough for accuracy, large enough to avoid rounding to zero.</summary>
    public const double DefaultH = 1e-4;

    /// <summary>Central difference (f(x+h) − f(x−h)) / 2h.</summary>
    public static double Derivative(Func<double, double> f, double x, double h = DefaultH) => (f(x + h) - f(x - h)) / (2 * h);

    /// <summary>Forward difference (f(x+h) − f(x)) / h, the less accurate form the book warns about.</summary>
    public static double ForwardDerivative(Func<double, double> f, double x, double h = DefaultH) => (f(x + h) - f(x)) / h;

    /// <summary>
    /// Gradient of a scalar function of a tensor of any shape by central differences: each element is
    /// nudged by ±h in place, f is evaluated, and the element is restored exactly.
    /// </summary>
    public static NDArray<T> Gradient<T>(Func<NDArray<T>, double> f, NDArray<T> x, double h = DefaultH) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var grad = new NDArray<T>(x.Shape);
        T step = T.CreateTruncating(h);
        for (int i = 0; i < x.Size; i++)
        {
            T saved = x.Data[i];
            x.Data[i] = saved + step;
            double fPlus = f(x);
            x.Data[i] = saved - step;
            double fMinus = f(x);
            x.Data[i] = saved;
            grad.Data[i] = T.CreateTruncating((fPlus - fMinus) / (2 * h));
        }
        return grad;
    }
}
