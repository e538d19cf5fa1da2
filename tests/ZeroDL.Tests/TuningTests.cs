using ZeroDL.Tuning;

namespace ZeroDL.Tests;

public class TuningTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    [Fact]
    public void Gaussian_process_interpolates_its_data_and_is_unsure_far_from_it()
    {
        var x = new List<double[]> { new[] { 0.1, 0.1 }, new[] { 0.5, 0.5 }, new[] { 0.9, 0.2 } };
        var y = new List<double> { 0.2, 0.8, 0.5 };
        var gp = new GaussianProcess(x, y);
        for (int i = 0; i < 3; i++)
        {
            var (mean, std) = gp.Predict(x[i]);
            Check.Close(y[i], mean, 0.01);
            Assert.True(std < 0.05, $"std {std} at an observed point");
        }
        Assert.True(gp.Predict([0.1, 0.95]).Std > 5 * gp.Predict([0.5, 0.5]).Std);
        // Expected improvement is highest where the mean is high or the uncertainty is.
        Assert.True(gp.ExpectedImprovement([0.5, 0.5], 0.8) > gp.ExpectedImprovement([0.1, 0.1], 0.8));
    }

    [Fact]
    public void Cholesky_solve_and_normal_cdf_are_right()
    {
        var a = new double[,] { { 4, 2, 0.4 }, { 2, 5, 1 }, { 0.4, 1, 3 } };
        var l = GaussianProcess.Cholesky(a);
        var x = GaussianProcess.Solve(l, [1, 2, 3]);
        for (int i = 0; i < 3; i++) Check.Close(new[] { 1.0, 2, 3 }[i], a[i, 0] * x[0] + a[i, 1] * x[1] + a[i, 2] * x[2], 1e-12);
        Assert.Equal(0.5, GaussianProcess.NormalCdf(0), 7);
        Assert.Equal(0.9750021, GaussianProcess.NormalCdf(1.96), 6);
        Assert.Equal(0.0249979, GaussianProcess.NormalCdf(-1.96), 6);
    }

    [Fact]
    public void Validation_is_held_out_of_the_training_images_and_scales_are_logarithmic()
    {
        var options = new SearchOptions { TrainingSamples = 500, ValidationFraction = 0.2, Seed = 3 };
        var (train, validation) = HyperparameterSearch.Split(mnist.Data.Train, options);
        Assert.Equal(400, train.Count);
        Assert.Equal(100, validation.Count);
        var (lr, wd) = HyperparameterSearch.FromUnit([0.5, 0.25], options);
        Check.Close(1e-4, lr, 1e-16); // the middle of 1e-6…1e-2 on a log scale
        Check.Close(1e-7, wd, 1e-19);
        var back = HyperparameterSearch.ToUnit(lr, wd, options);
        Check.Close(0.5, back[0], 1e-12); Check.Close(0.25, back[1], 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchOptions { Method = "hyperband" }.Validated());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchOptions { LearningRateMin = 0 }.Validated());
    }

    [Theory]
    [InlineData("grid")]
    [InlineData("random")]
    [InlineData("bayes")]
    public void Search_is_reproducible_whatever_the_parallelism(string method)
    {
        var options = new SearchOptions { Method = method, Trials = 7, Epochs = 2, TrainingSamples = 200, Seed = 5, InitialRandomTrials = 3 };
        var serial = HyperparameterSearch.Run(mnist.Data.Train, options with { Parallelism = 1 });
        var parallel = HyperparameterSearch.Run(mnist.Data.Train, options with { Parallelism = 2 });
        Assert.Equal(7, serial.Count);
        if (method != "bayes") Assert.Equal(serial, parallel); // bayes proposes in batches of the parallelism: a different sequence
        Assert.Equal(HyperparameterSearch.Run(mnist.Data.Train, options with { Parallelism = 2 }), parallel);
        Assert.All(serial, t => Assert.InRange(t.LearningRate, 1e-6, 1e-2));
        if (method == "grid") Assert.Equal(3, serial.Select(t => t.LearningRate).Distinct().Count()); // a 3×3 grid, first 7 points
    }

    [Fact]
    public void A_stopped_search_keeps_the_finished_trials_of_the_batch_in_progress()
    {
        var options = new SearchOptions { Method = "grid", Trials = 4, Epochs = 1, TrainingSamples = 200, Seed = 5, Parallelism = 2 };
        using var stop = new CancellationTokenSource();
        using var firstDone = new ManualResetEventSlim();
        var seen = new List<Trial>();
        var trials = HyperparameterSearch.Run(mnist.Data.Train, options, seen.Add, (index, point, _, _, _) =>
        {
            if (index == 1)
            {
                // The first batch's second trial is stopped once its first has finished (the wait is bounded in case
                // Parallel.For runs the two one after the other, this one first).
                firstDone.Wait(10_000);
                stop.Cancel();
                throw new OperationCanceledException(stop.Token);
            }
            firstDone.Set();
            return new Trial(index, point[0], point[1], 0.5, 0.5);
        }, stop.Token);
        Assert.Equal([0], trials.Select(t => t.Index));
        Assert.Equal(trials, seen);
    }
}
