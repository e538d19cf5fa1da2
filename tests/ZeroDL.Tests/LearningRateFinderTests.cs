using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>The learning-rate range test (Leslie Smith): its sweep, its stop, its suggestion, and the model left alone.</summary>
public class LearningRateFinderTests
{
    private static (Dataset Train, Dataset Test) Data() => MetricsLogTests.Blobs(trainCount: 600, testCount: 300);

    private static Sequential<float> Net() => Networks.TwoLayerNet<float>(8, 16, 3, seed: 5);

    [Fact]
    public void The_rate_grows_exponentially_from_the_start_to_the_end()
    {
        var (train, _) = Data();
        var options = new LearningRateFinderOptions { Start = 1e-6, End = 1e-2, Iterations = 50, BatchSize = 20 };
        var sweep = LearningRateFinder.Run(Net(), new Sgd<float>(0.1), train, options);
        Assert.Equal(LearningRateSweepEnd.Completed, sweep.Ending); // too small a range to diverge
        Assert.Equal(50, sweep.Points.Count);
        for (int i = 0; i < 50; i++)
        {
            // lr_i = start·(end/start)^(i/(n−1)): 1e-6 · 10^(4i/49)
            Assert.Equal(1e-6 * Math.Pow(10, 4.0 * i / 49), sweep.Points[i].LearningRate, 1e-6 * Math.Pow(10, 4.0 * i / 49) * 1e-12);
            Assert.Equal(i + 1, sweep.Points[i].Iteration);
        }
        Assert.Equal(1e-6, sweep.Points[0].LearningRate);
        Assert.Equal(1e-2, sweep.Points[^1].LearningRate, 1e-15);
        // A constant ratio between neighbours.
        for (int i = 1; i < 50; i++) Assert.Equal(Math.Pow(10, 4.0 / 49), sweep.Points[i].LearningRate / sweep.Points[i - 1].LearningRate, 1e-12);
    }

    [Fact]
    public void The_smoothed_loss_is_the_bias_corrected_moving_average_of_the_losses()
    {
        var (train, _) = Data();
        var sweep = LearningRateFinder.Run(Net(), new Sgd<float>(0.1), train, new LearningRateFinderOptions { Iterations = 30, BatchSize = 20, Smoothing = 0.9 });
        double average = 0;
        for (int i = 0; i < sweep.Points.Count; i++)
        {
            average = 0.9 * average + 0.1 * sweep.Points[i].Loss;
            Assert.Equal(average / (1 - Math.Pow(0.9, i + 1)), sweep.Points[i].SmoothedLoss, 12);
        }
        Assert.Equal(sweep.Points[0].Loss, sweep.Points[0].SmoothedLoss, 12); // bias-corrected: the first is the first loss
    }

    [Fact]
    public void A_diverging_loss_stops_the_sweep_at_four_times_the_best()
    {
        var (train, _) = Data();
        var options = new LearningRateFinderOptions { Start = 1e-4, End = 1e4, Iterations = 200, BatchSize = 20 };
        var sweep = LearningRateFinder.Run(Net(), new Sgd<float>(0.1), train, options);
        Assert.True(sweep.Ending is LearningRateSweepEnd.Diverged or LearningRateSweepEnd.NotFinite, $"ended {sweep.Ending}");
        Assert.True(sweep.Points.Count < 200, $"{sweep.Points.Count} points");
        Assert.All(sweep.Points, p => Assert.True(double.IsFinite(p.Loss)));
        if (sweep.Ending == LearningRateSweepEnd.Diverged)
        {
            double best = sweep.Points.SkipLast(1).Min(p => p.SmoothedLoss);
            Assert.True(sweep.Points[^1].SmoothedLoss > 4 * best);
            // It did not stop before: every earlier point stayed within 4× the best before it.
            for (int i = 1; i < sweep.Points.Count - 1; i++)
                Assert.True(sweep.Points[i].SmoothedLoss <= 4 * sweep.Points.Take(i).Min(p => p.SmoothedLoss));
        }
    }

    [Fact]
    public void The_suggested_rate_trains_the_problem_well()
    {
        var (train, test) = Data();
        var sweep = LearningRateFinder.Run(Net(), new Sgd<float>(0.1), train, new LearningRateFinderOptions { Iterations = 200, BatchSize = 20 });
        double suggested = sweep.SuggestedRate;
        Assert.Equal(sweep.MinimumLossRate / 10, suggested);
        // SGD on a small softmax problem trains at rates of about 0.01 to 1 (the book's TwoLayerNet uses 0.1).
        Assert.InRange(suggested, 1e-2, 3);
        Assert.InRange(sweep.SteepestRate, 1e-4, sweep.MinimumLossRate);
        var net = Net();
        new Trainer(net, new Sgd<float>(suggested), train, test, new TrainerOptions { Epochs = 5, BatchSize = 20, BackgroundEvaluation = false }).Train();
        Assert.True(net.Accuracy(test) >= 0.9, $"accuracy {net.Accuracy(test)} at the suggested {suggested}");
    }

    [Fact]
    public void The_steepest_rate_is_where_the_smoothed_curve_falls_fastest_after_its_first_points()
    {
        // A made curve over 1e-6 … 1 (61 points, 10 a decade): 2 − tanh(2·(log10 lr + 3)), falling fastest at 1e-3 and
        // lowest at the end; its first points drop steeply (the noise of a young average), which must not count.
        var options = new LearningRateFinderOptions { Start = 1e-6, End = 1, Iterations = 61 };
        var points = Enumerable.Range(0, 61).Select(i =>
        {
            double lr = LearningRateFinder.RateAt(options, i), loss = 2 - Math.Tanh(2 * (Math.Log10(lr) + 3)) + (i < 5 ? 3 - 0.6 * i : 0);
            return new LearningRatePoint(i + 1, lr, loss, loss);
        }).ToList();
        var sweep = new LearningRateSweep(points, LearningRateSweepEnd.Completed);
        Assert.Equal(1e-3, sweep.SteepestRate, 1e-12);
        Assert.Equal(1.0, sweep.MinimumLossRate, 1e-12);
        Assert.Equal(0.1, sweep.SuggestedRate, 1e-12);
    }

    [Fact]
    public void The_network_and_the_optimizer_are_left_as_they_were()
    {
        var (train, _) = Data();
        var net = Networks.MultiLayerNetExtend<float>([16, 16], seed: 2, inputSize: 8, outputSize: 3, batchNorm: true, dropout: 0.2);
        var adam = new Adam<float>(0.002);
        // A stepped optimizer has state for the network's parameters: it must come back the same.
        net.Gradient(train.Take(10).Images, train.Take(10).Labels);
        adam.Step(net.Parameters);
        var before = net.NamedTensors().ToDictionary(t => t.Name, t => t.Value.Span.ToArray());
        var state = adam.SaveState(net.NamedParameters());
        var sweep = LearningRateFinder.Run(net, adam, train, new LearningRateFinderOptions { Iterations = 60, BatchSize = 20, End = 1e3 });
        Assert.NotEmpty(sweep.Points);
        foreach (var (name, value) in net.NamedTensors())
            Assert.True(before[name].AsSpan().SequenceEqual(value.Span), $"{name} changed");
        Assert.Equal(0.002, adam.LearningRate);
        var after = adam.SaveState(net.NamedParameters());
        Assert.Equal(state.Steps, after.Steps);
        foreach (string name in state.ParameterNames)
            for (int slot = 0; slot < state.StateNames.Count; slot++)
                Assert.True(state.Slot(name, slot).ToArray().AsSpan().SequenceEqual(after.Slot(name, slot).ToArray()), $"{name} slot {slot} changed");
    }

    [Fact]
    public void An_augmented_sweep_sees_its_batches_distorted_and_the_same_each_time()
    {
        var (plain, _) = Data();
        // The blobs' 8 values as 2 channels of 2×2 pixels, so that they can be shifted and rotated.
        var images = new Dataset(plain.Images.Reshape(plain.Count, 2, 2, 2), plain.Labels.ToArray(), plain.Classes);
        var options = new LearningRateFinderOptions { Iterations = 30, BatchSize = 20, End = 1 };
        var distort = new AugmentationOptions { Shift = 1, Rotation = 30, Scale = 0, ElasticAlpha = 0 };
        var clean = LearningRateFinder.Run(Net(), new Sgd<float>(0.1), images, options);
        var first = LearningRateFinder.Run(Net(), new Sgd<float>(0.1), images, options with { Augmentation = distort });
        var again = LearningRateFinder.Run(Net(), new Sgd<float>(0.1), images, options with { Augmentation = distort });
        Assert.Equal(30, first.Points.Count);
        Assert.Equal(first.Points, again.Points);
        // The same net, the same first batch by index: only the distortion can change its loss.
        Assert.NotEqual(clean.Points[0].Loss, first.Points[0].Loss);
        Assert.Equal(clean.Points.Select(p => p.LearningRate), first.Points.Select(p => p.LearningRate));
        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { Augmentation = distort with { Rotation = 500 } }).Validated());
    }

    [Fact]
    public void Augmenting_flat_samples_needs_a_square_or_an_image_shape()
    {
        var distort = new AugmentationOptions();
        var (blobs, _) = Data();
        var ex = Assert.Throws<ArgumentException>(() => Augmenter.For(distort, 1, blobs));
        Assert.Contains("8 values", ex.Message);
        // 16 values a sample: one 4×4 channel, distorted as an Augmenter made for that shape distorts it.
        var square = new Dataset(new NDArray<float>([3, 16]), [0, 1, 2], 3);
        var image = Enumerable.Range(0, 16).Select(i => (float)((i * 7) % 5)).ToArray();
        var byData = (float[])image.Clone();
        var byShape = (float[])image.Clone();
        Augmenter.For(distort, 1, square).Apply(byData, 1, firstKey: 3);
        new Augmenter(distort, 1, 1, 4, 4).Apply(byShape, 1, firstKey: 3);
        Assert.Equal(byShape, byData);
        Assert.NotEqual(image, byData);
    }

    [Fact]
    public void The_curve_is_written_as_CSV_and_as_a_chart_on_a_log_axis()
    {
        var (train, _) = Data();
        var sweep = LearningRateFinder.Run(Net(), new Sgd<float>(0.1), train, new LearningRateFinderOptions { Iterations = 40, BatchSize = 20 });
        var rows = sweep.Csv().TrimEnd().Split('\n');
        Assert.Equal("iteration,learning_rate,loss,smoothed_loss", rows[0]);
        Assert.Equal(sweep.Points.Count + 1, rows.Length);
        Assert.Equal(sweep.Points[3].LearningRate, double.Parse(rows[4].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture));
        var chart = sweep.Chart();
        Assert.True(chart.X.Log);
        Assert.Equal(["loss", "smoothed loss"], chart.Series.Take(2).Select(s => s.Name));
        Assert.Equal([sweep.SuggestedRate, sweep.SuggestedRate], chart.Series[2].X);
        Assert.StartsWith("suggested ", chart.Series[2].Name);
    }

    [Fact]
    public void Options_out_of_range_and_a_cancelled_sweep()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateFinderOptions { Start = 1, End = 1 }.Validated());
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateFinderOptions { Start = 0 }.Validated());
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateFinderOptions { Iterations = 1 }.Validated());
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateFinderOptions { DivergenceFactor = 1 }.Validated());
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateFinderOptions { Smoothing = 1 }.Validated());
        var (train, _) = Data();
        var sweep = LearningRateFinder.Run(Net(), new Sgd<float>(0.1), train, new LearningRateFinderOptions(), new CancellationToken(canceled: true));
        Assert.Equal(LearningRateSweepEnd.Cancelled, sweep.Ending);
        Assert.Empty(sweep.Points);
        Assert.True(double.IsNaN(sweep.SuggestedRate));
    }
}

/// <summary>zerodl lr-find as a user runs it.</summary>
public class LrFindCliTests
{
    [Fact]
    public void Lr_find_writes_the_curve_and_suggests_the_lowest_losss_rate_over_ten()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string csv = Path.Combine(dir, "curve.csv");
            var (code, output, err) = CliTests.Run("lr-find", "--model", "mlp", "--hidden", "32", "--train-samples", "3000", "--batch-size", "50",
                "--iterations", "80", "--start", "1e-5", "--end", "100", "--out", csv);
            Assert.True(code == 0, err);
            var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToList();
            Assert.InRange(rows.Count, 3, 80);
            for (int i = 0; i < rows.Count; i++) Assert.Equal(1e-5 * Math.Pow(1e7, i / 79.0), rows[i][1], 1e-5 * Math.Pow(1e7, i / 79.0) * 1e-12);
            double lowest = rows.MinBy(r => r[3])![1];
            var suggested = System.Text.RegularExpressions.Regex.Match(output, @"Suggested learning rate: (\S+) ");
            Assert.True(suggested.Success, output);
            Assert.Equal(lowest / 10, double.Parse(suggested.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), lowest / 10 * 0.01);
            var svg = System.Xml.Linq.XDocument.Load(Path.Combine(dir, "curve.svg"));
            var series = SeriesNames(svg);
            Assert.Equal(["loss", "smoothed loss"], series.Take(2));
            Assert.StartsWith("suggested ", series[2]);
            Assert.Contains(">1e-4<", File.ReadAllText(Path.Combine(dir, "curve.svg"))); // decade ticks of a log axis
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Lr_find_distorts_its_batches_as_training_would()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string[] common = ["lr-find", "--model", "mlp", "--hidden", "32", "--train-samples", "1000", "--batch-size", "50", "--iterations", "20"];
            var (code, output, err) = CliTests.Run([.. common, "--shift", "1", "--out", Path.Combine(dir, "augmented.csv")]);
            Assert.True(code == 0, err);
            Assert.Contains("augmentation: shift ±1 px, rotation ±10°", output);
            (code, output, err) = CliTests.Run([.. common, "--out", Path.Combine(dir, "clean.csv")]);
            Assert.True(code == 0, err);
            Assert.DoesNotContain("augmentation", output);
            // --augment false turns it off whatever else asks for it.
            (code, output, err) = CliTests.Run([.. common, "--shift", "1", "--augment", "false", "--out", Path.Combine(dir, "off.csv")]);
            Assert.True(code == 0, err);
            Assert.DoesNotContain("augmentation", output);
            // The same batches by index and the same start: the first loss differs only by the distortion.
            static double FirstLoss(string csv) => double.Parse(File.ReadLines(csv).Skip(1).First().Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
            Assert.NotEqual(FirstLoss(Path.Combine(dir, "clean.csv")), FirstLoss(Path.Combine(dir, "augmented.csv")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static List<string> SeriesNames(System.Xml.Linq.XDocument svg) =>
        [.. svg.Descendants().Where(e => (string?)e.Attribute("class") == "series").Select(e => (string)e.Attribute("data-name")!)];

    [Theory]
    [InlineData("--start", "0")]
    [InlineData("--end", "1e-8")]
    [InlineData("--iterations", "1")]
    [InlineData("--optimizer", "adamw")]
    [InlineData("--arch", "docs/deepconv.json", "--hidden", "10")]
    [InlineData("--model", "resnet")]
    [InlineData("--rotate", "500")]
    public void Lr_find_refuses_a_bad_argument_in_one_line(params string[] args)
    {
        var (code, _, err) = CliTests.Run(["lr-find", .. args]);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void A_sweep_that_diverges_at_once_exits_as_a_diverged_run()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var (code, _, err) = CliTests.Run("lr-find", "--model", "mlp", "--hidden", "16", "--train-samples", "500", "--optimizer", "sgd",
                "--start", "1e30", "--end", "1e35", "--iterations", "20", "--out", Path.Combine(dir, "x.csv"));
            Assert.Equal(3, code);
            Assert.Contains("try a lower --start", err);
            Assert.False(File.Exists(Path.Combine(dir, "x.csv")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
