using ZeroDL.Functions;

namespace ZeroDL.Tests;

/// <summary>The golden values of the book's ch. 3–4 (data/reference/README.md).</summary>
public class FunctionTests
{
    [Fact]
    public void Sigmoid_golden()
    {
        var y = Activations.Sigmoid(NDArray<double>.From([-1.0, 1.0, 2.0]));
        Check.AllClose([0.26894142, 0.73105858, 0.88079708], y.ToDoubleArray(), 1e-8, "sigmoid");
    }

    [Fact]
    public void Step_relu_tanh_identity()
    {
        var x = NDArray<double>.From([-1.0, 0.0, 2.0]);
        Assert.Equal(new[] { 0.0, 0.0, 1.0 }, Activations.Step(x).ToDoubleArray());
        Assert.Equal(new[] { 0.0, 0.0, 2.0 }, Activations.Relu(x).ToDoubleArray());
        Check.AllClose([Math.Tanh(-1), 0, Math.Tanh(2)], Activations.Tanh(x).ToDoubleArray(), 1e-15);
        Assert.Equal(x.ToDoubleArray(), Activations.Identity(x).ToDoubleArray());
    }

    [Fact]
    public void Softmax_golden_and_stable()
    {
        Check.AllClose([0.01821127, 0.24519181, 0.73659691], Softmax.Apply(NDArray<double>.From([0.3, 2.9, 4.0])).ToDoubleArray(), 1e-8, "softmax");
        var big = Softmax.Apply(NDArray<double>.From([1010.0, 1000.0, 990.0])).ToDoubleArray();
        Check.Close(9.9995460e-01, big[0], 1e-8); Check.Close(4.5397869e-05, big[1], 1e-12); Check.Close(2.0610600e-09, big[2], 1e-15);
        var f = Softmax.Apply(NDArray<float>.FromArray([1010f, 1000f, 990f]));
        Assert.All(f.ToDoubleArray(), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Softmax_batched_rows_sum_to_one()
    {
        var x = NDArray<double>.From([1.0, 2.0, 3.0, 1000.0, 0.0, -1000.0], 2, 3);
        var y = Softmax.Apply(x).ToDoubleArray();
        Check.Close(1.0, y[0] + y[1] + y[2], 1e-15); Check.Close(1.0, y[3] + y[4] + y[5], 1e-15);
        Check.AllClose([0.01821127, 0.24519181, 0.73659691], Softmax.Apply(NDArray<double>.From([0.3, 2.9, 4.0], 1, 3)).ToDoubleArray(), 1e-8);
    }

    private static readonly double[] Y = [0.1, 0.05, 0.6, 0, 0.05, 0.1, 0, 0.1, 0, 0];
    private static readonly double[] YWrong = [0.1, 0.05, 0.1, 0, 0.05, 0.1, 0, 0.6, 0, 0];

    [Fact]
    public void Sum_of_squares_golden()
    {
        var t = OneHot(2);
        Check.Close(0.0975, Losses.SumOfSquares(NDArray<double>.From(Y), t), 1e-12);
        Check.Close(0.5975, Losses.SumOfSquares(NDArray<double>.From(YWrong), t), 1e-12);
    }

    [Fact]
    public void Cross_entropy_golden_one_hot_and_labels()
    {
        Check.Close(0.510825457, Losses.CrossEntropy(NDArray<double>.From(Y), OneHot(2)), 1e-9);
        Check.Close(2.302584093, Losses.CrossEntropy(NDArray<double>.From(YWrong), OneHot(2)), 1e-9);
        Check.Close(0.510825457, Losses.CrossEntropy(NDArray<double>.From(Y), [2]), 1e-9);
        var batch = NDArray<double>.From([.. Y, .. YWrong], 2, 10);
        Check.Close((0.510825457 + 2.302584093) / 2, Losses.CrossEntropy(batch, [2, 2]), 1e-9);
        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(batch, [2, 10]));
    }

    [Fact]
    public void Central_difference_golden()
    {
        static double F(double x) => 0.01 * (x * x) + 0.1 * x; // the book's 0.01*x**2 + 0.1*x, same rounding order
        Check.Close(0.1999999999990898, NumericalDiff.Derivative(F, 5), 1e-15);
        Check.Close(0.2999999999986347, NumericalDiff.Derivative(F, 10), 1e-15);
        // The forward difference is worse than the central one (book ch. 4.3.1).
        Assert.True(Math.Abs(NumericalDiff.ForwardDerivative(F, 5) - 0.2) > Math.Abs(NumericalDiff.Derivative(F, 5) - 0.2));
    }

    private static double Function2(NDArray<double> x) => x[0] * x[0] + x[1] * x[1];

    [Theory]
    [InlineData(3.0, 4.0, 6.0, 8.0)]
    [InlineData(0.0, 2.0, 0.0, 4.0)]
    [InlineData(3.0, 0.0, 6.0, 0.0)]
    public void Numerical_gradient_golden(double x0, double x1, double g0, double g1)
    {
        var g = NumericalDiff.Gradient(Function2, NDArray<double>.From([x0, x1]));
        Check.AllClose([g0, g1], g.ToDoubleArray(), 1e-7);
    }

    [Fact]
    public void Numerical_gradient_of_a_matrix_function_restores_its_input()
    {
        var x = NDArray<double>.From(new double[,] { { 1, 2 }, { 3, 4 } });
        var g = NumericalDiff.Gradient(t => t[0, 0] * t[1, 1] - t[0, 1], x);
        Check.AllClose([4, -1, 0, 1], g.ToDoubleArray(), 1e-8);
        Assert.Equal(new double[] { 1, 2, 3, 4 }, x.ToDoubleArray());
    }

    [Fact]
    public void Gradient_descent_golden()
    {
        var init = NDArray<double>.From([-3.0, 4.0]);
        var good = GradientDescent.Minimize(Function2, init, 0.1, 100).ToDoubleArray();
        Check.Close(-6.1e-10, good[0], 0.05e-10); Check.Close(8.1e-10, good[1], 0.05e-10);
        var big = GradientDescent.Minimize(Function2, init, 10, 100).ToDoubleArray();
        Check.Close(-2.59e13, big[0], 0.01e13); Check.Close(-1.30e12, big[1], 0.01e12);
        var tiny = GradientDescent.Minimize(Function2, init, 1e-10, 100).ToDoubleArray();
        Check.Close(-2.99999994, tiny[0], 1e-8); Check.Close(3.99999992, tiny[1], 1e-8);
        Assert.Equal(new[] { -3.0, 4.0 }, init.ToDoubleArray()); // the start point is not modified
    }

    private static NDArray<double> OneHot(int label)
    {
        var t = new NDArray<double>(10);
        t[label] = 1;
        return t;
    }
}

public class PerceptronTests
{
    [Theory]
    [InlineData(0, 0, 0, 1, 0, 0)]
    [InlineData(1, 0, 0, 1, 1, 1)]
    [InlineData(0, 1, 0, 1, 1, 1)]
    [InlineData(1, 1, 1, 0, 1, 0)]
    public void Gates_have_the_truth_tables_of_the_book(int x1, int x2, int and, int nand, int or, int xor)
    {
        Assert.Equal(and, Functions.Perceptron.And(x1, x2));
        Assert.Equal(nand, Functions.Perceptron.Nand(x1, x2));
        Assert.Equal(or, Functions.Perceptron.Or(x1, x2));
        Assert.Equal(xor, Functions.Perceptron.Xor(x1, x2));
    }
}
