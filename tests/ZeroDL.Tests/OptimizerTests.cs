using ZeroDL.Layers;
using ZeroDL.Optimizers;

namespace ZeroDL.Tests;

public class OptimizerTests
{
    private static Parameter<double> Param(double value, double grad)
    {
        var p = new Parameter<double>("W", NDArray<double>.From([value]), isWeight: true);
        p.Grad[0] = grad;
        return p;
    }

    private static double[] Run(Optimizer<double> opt, double[] grads, double start = 1.0)
    {
        var p = Param(start, 0);
        var result = new List<double>();
        foreach (var g in grads) { p.Grad[0] = g; opt.Step([p]); result.Add(p.Value[0]); }
        return [.. result];
    }

    [Fact]
    public void Sgd_steps() => Check.AllClose([0.95, 0.97], Run(new Sgd<double>(0.1), [0.5, -0.2]), 1e-15);

    [Fact]
    public void Momentum_steps()
    {
        // v1 = −0.1·0.5 = −0.05 → 0.95; v2 = 0.9·(−0.05) − 0.1·(−0.2) = −0.025 → 0.925
        Check.AllClose([0.95, 0.925], Run(new Momentum<double>(0.1), [0.5, -0.2]), 1e-15);
    }

    [Fact]
    public void Nesterov_steps()
    {
        // step 1: v = −0.05; W += 0.81·(−0.05) − 1.9·0.1·0.5 = −0.0405 − 0.095 → 0.8645
        // step 2: v = 0.9·(−0.05) + 0.02 = −0.025; W += 0.81·(−0.025) + 1.9·0.02 = −0.02025 + 0.038 → 0.88225
        Check.AllClose([0.8645, 0.88225], Run(new Nesterov<double>(0.1), [0.5, -0.2]), 1e-14);
    }

    [Fact]
    public void AdaGrad_steps()
    {
        // h = 0.25 → W −= 0.1·0.5/(0.5 + 1e-7); h = 0.29 → W −= 0.1·(−0.2)/(√0.29 + 1e-7)
        double w1 = 1 - 0.1 * 0.5 / (0.5 + 1e-7);
        double w2 = w1 + 0.1 * 0.2 / (Math.Sqrt(0.29) + 1e-7);
        Check.AllClose([w1, w2], Run(new AdaGrad<double>(0.1), [0.5, -0.2]), 1e-15);
    }

    [Fact]
    public void RmsProp_steps()
    {
        double h1 = 0.01 * 0.25, w1 = 1 - 0.1 * 0.5 / (Math.Sqrt(h1) + 1e-7);
        double h2 = 0.99 * h1 + 0.01 * 0.04, w2 = w1 + 0.1 * 0.2 / (Math.Sqrt(h2) + 1e-7);
        Check.AllClose([w1, w2], Run(new RmsProp<double>(0.1), [0.5, -0.2]), 1e-14);
    }

    [Fact]
    public void Adam_steps_with_bias_correction_folded_into_the_rate()
    {
        // t=1: lr_t = 0.1·√(0.001)/0.1; m = 0.05, v = 0.00025 → W −= lr_t·0.05/(√0.00025 + 1e-7)
        double lr1 = 0.1 * Math.Sqrt(1 - 0.999) / (1 - 0.9);
        double m1 = 0.1 * 0.5, v1 = 0.001 * 0.25;
        double w1 = 1 - lr1 * m1 / (Math.Sqrt(v1) + 1e-7);
        double lr2 = 0.1 * Math.Sqrt(1 - 0.999 * 0.999) / (1 - 0.9 * 0.9);
        double m2 = m1 + 0.1 * (-0.2 - m1), v2 = v1 + 0.001 * (0.04 - v1);
        double w2 = w1 - lr2 * m2 / (Math.Sqrt(v2) + 1e-7);
        Check.AllClose([w1, w2], Run(new Adam<double>(0.1), [0.5, -0.2]), 1e-14);
        Check.Close(0.9, w1, 1e-5); // Adam's first step moves by about lr whatever the gradient's scale
    }

    [Fact]
    public void State_is_kept_per_parameter()
    {
        var a = Param(1, 1); var b = Param(1, 1);
        var opt = new Momentum<double>(0.1);
        opt.Step([a]); opt.Step([a]); opt.Step([b]);
        Assert.NotEqual(a.Value[0], b.Value[0]);
        Check.Close(0.9, b.Value[0], 1e-15);
    }

    [Fact]
    public void On_the_books_bowl_adagrad_and_adam_beat_sgd_and_momentum_overshoots()
    {
        // f(x, y) = x²/20 + y² from (−7, 2), 30 steps, the book's learning rates (ch. 6.1.7).
        // Expected end points computed independently (plain Python floats, the book's update formulas).
        (double X, double Y) End(Optimizer<double> opt)
        {
            var p = new Parameter<double>("xy", NDArray<double>.From([-7.0, 2.0]), true);
            for (int i = 0; i < 30; i++)
            {
                p.Grad[0] = p.Value[0] / 10.0;
                p.Grad[1] = 2.0 * p.Value[1];
                opt.Step([p]);
            }
            return (p.Value[0], p.Value[1]);
        }
        static double Norm((double X, double Y) p) => Math.Sqrt(p.X * p.X + p.Y * p.Y);
        var sgd = End(new Sgd<double>(0.95));
        var momentum = End(new Momentum<double>(0.1));
        var adagrad = End(new AdaGrad<double>(1.5));
        var adam = End(new Adam<double>(0.3));
        Check.Close(-0.3503929957523197, sgd.X, 1e-12); Check.Close(0.0847823165504322, sgd.Y, 1e-12);
        Check.Close(0.896413858493733, momentum.X, 1e-12); Check.Close(0.08808560171506971, momentum.Y, 1e-12);
        Check.Close(-0.12016232231416045, adagrad.X, 1e-12); Check.Close(0.0, adagrad.Y, 1e-12);
        Check.Close(0.13600685239498472, adam.X, 1e-12); Check.Close(0.3182453755372194, adam.Y, 1e-12);
        Assert.True(Norm(adagrad) < Norm(sgd), "adagrad");
        Assert.True(Norm(adam) < Norm(sgd), "adam");
        // Momentum has swung past the minimum along x at step 30 (its path oscillates around the origin),
        // so it ends farther away than SGD: 0.90 against 0.36.
        Assert.True(Norm(momentum) > Norm(sgd), "momentum at step 30");
    }

    [Fact]
    public void Create_by_name_uses_the_books_defaults_and_rejects_unknown_names()
    {
        Assert.Equal(0.001, Optimizer<float>.Create("adam").LearningRate);
        Assert.Equal(0.01, Optimizer<float>.Create("SGD").LearningRate);
        Assert.IsType<Nesterov<float>>(Optimizer<float>.Create("nesterov", 0.5));
        var e = Assert.Throws<ArgumentException>(() => Optimizer<float>.Create("adamw"));
        Assert.Contains("adamw", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<float>(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<float>(double.NaN));
    }
}
