using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;

namespace ZeroDL.Training;

/// <summary>Settings of a learning-rate range test (<see cref="LearningRateFinder"/>).</summary>
public sealed record LearningRateFinderOptions
{
    /// <summary>The first mini-batch's rate (1e-7: far below any rate that trains, so the curve starts flat).</summary>
    public double Start { get; init; } = 1e-7;
    /// <summary>The last mini-batch's rate (10: above any rate at which the book's networks train, so the sweep ends diverging).</summary>
    public double End { get; init; } = 10;
    /// <summary>Mini-batches of the sweep (200: a few per tenfold step of the rate over 8 decades, and a fraction of an MNIST epoch).</summary>
    public int Iterations { get; init; } = 200;
    public int BatchSize { get; init; } = 100;
    /// <summary>Seed of the sweep's data order and of the working copy's dropout.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>
    /// β of the loss's exponential moving average, bias-corrected as Adam's moments are (0.98, fastai's choice: about
    /// the last 50 mini-batches weigh in, which smooths a mini-batch's noise yet follows the curve's turn).
    /// </summary>
    public double Smoothing { get; init; } = 0.98;
    /// <summary>The sweep stops once the smoothed loss exceeds this many times the best so far (4, as fastai's: far beyond noise, so the loss is diverging).</summary>
    public double DivergenceFactor { get; init; } = 4;
    /// <summary>Threads for the matrix products (null: every processor).</summary>
    public int? Threads { get; init; }
    /// <summary>
    /// The training run's distortions (null: none): the sweep then sees its batches distorted as training would, since
    /// a rate that trains clean images may be too high or too low for distorted ones.
    /// </summary>
    public AugmentationOptions? Augmentation { get; init; }

    /// <exception cref="ArgumentOutOfRangeException">a value is outside its range (the message says which).</exception>
    public LearningRateFinderOptions Validated()
    {
        if (!(Start > 0) || !double.IsFinite(Start)) throw new ArgumentOutOfRangeException(nameof(Start), Start, "the start rate must be a positive number");
        if (!(End > Start) || !double.IsFinite(End)) throw new ArgumentOutOfRangeException(nameof(End), End, "the end rate must be a number larger than the start rate");
        if (Iterations < 2) throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "the sweep needs at least 2 iterations");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be at least 1");
        if (!(Smoothing >= 0 && Smoothing < 1)) throw new ArgumentOutOfRangeException(nameof(Smoothing), Smoothing, "smoothing must lie in [0, 1)");
        if (!(DivergenceFactor > 1) || !double.IsFinite(DivergenceFactor)) throw new ArgumentOutOfRangeException(nameof(DivergenceFactor), DivergenceFactor, "the divergence factor must be a number above 1");
        if (Threads is < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "threads must be at least 1");
        Augmentation?.Validated();
        return this;
    }
}

/// <summary>
/// Leslie Smith's learning-rate range test ("Cyclical Learning Rates for Training Neural Networks", 2017, §3.3): train
/// for a few hundred mini-batches while the rate grows exponentially from tiny to huge, and watch the loss. It stays
/// flat while the rate is too small, falls where the rate trains, and blows up where it is too large; a good rate lies
/// on the falling part. The network and the optimizer given are left as they were: the sweep trains a copy.
/// </summary>
public static class LearningRateFinder
{
    /// <summary>
    /// The rate of mini-batch <paramref name="index"/> (0 … Iterations − 1) of a sweep: Start·(End/Start)^(index/(Iterations − 1)),
    /// so the first is Start, the last End, and each is the one before times the same factor.
    /// </summary>
    public static double RateAt(LearningRateFinderOptions options, int index) =>
        options.Start * Math.Pow(options.End / options.Start, index / (double)(options.Iterations - 1));

    /// <summary>
    /// Sweeps the rate over <paramref name="options"/>' range on a copy of <paramref name="net"/> trained by
    /// <paramref name="optimizer"/> (its state, if any, is the copy's start) on mini-batches of <paramref name="train"/>
    /// drawn without replacement in a seeded order (and distorted, with <see cref="LearningRateFinderOptions.Augmentation"/>). Stops early when the smoothed loss exceeds
    /// <see cref="LearningRateFinderOptions.DivergenceFactor"/> times its best, when a loss is not finite, or when
    /// <paramref name="cancel"/> is set. Afterwards <paramref name="net"/>'s tensors and <paramref name="optimizer"/>'s
    /// state and rate are exactly what they were. <paramref name="progress"/>, when given, is called with every point as it is measured.
    /// </summary>
    public static LearningRateSweep Run(Sequential<float> net, Optimizer<float> optimizer, Dataset train, LearningRateFinderOptions options,
        CancellationToken cancel = default, Action<LearningRatePoint>? progress = null)
    {
        options.Validated();
        if (train.Count == 0) throw new ArgumentException("training set is empty");
        using var threads = Kernels.Gemm.LimitThreadsOnThisThread(options.Threads ?? Kernels.Gemm.EffectiveThreads);
        var copy = net.Architecture.Build<float>(options.Seed);
        copy.CopyStateFrom(net);
        double rate = optimizer.LearningRate;
        var saved = optimizer.SaveState(net.NamedParameters());
        optimizer.LoadState(saved, copy.NamedParameters());
        var points = new List<LearningRatePoint>(options.Iterations);
        var ending = LearningRateSweepEnd.Completed;
        try
        {
            int batch = Math.Min(options.BatchSize, train.Count), perEpoch = (train.Count + batch - 1) / batch;
            var augmenter = options.Augmentation is null ? null : Augmenter.For(options.Augmentation, options.Seed, train);
            using var loader = new BatchLoader(train, batch, withReplacement: false, perEpoch, options.Iterations, new Rng(options.Seed),
                background: Environment.ProcessorCount > 1, augmenter, compressFor: copy);
            double average = 0, best = double.PositiveInfinity;
            for (int i = 0; i < options.Iterations; i++)
            {
                if (cancel.IsCancellationRequested) { ending = LearningRateSweepEnd.Cancelled; break; }
                var b = loader.Next();
                double loss = copy.Gradient(b.Input, b.LabelSpan);
                loader.Release(b);
                if (!double.IsFinite(loss)) { ending = LearningRateSweepEnd.NotFinite; break; }
                average = options.Smoothing * average + (1 - options.Smoothing) * loss;
                double smoothed = average / (1 - Math.Pow(options.Smoothing, i + 1));
                double lr = RateAt(options, i);
                points.Add(new LearningRatePoint(i + 1, lr, loss, smoothed));
                progress?.Invoke(points[^1]);
                if (i > 0 && smoothed > options.DivergenceFactor * best) { ending = LearningRateSweepEnd.Diverged; break; }
                best = Math.Min(best, smoothed);
                optimizer.LearningRate = lr;
                optimizer.Step(copy.Parameters);
            }
        }
        finally
        {
            optimizer.LoadState(saved, net.NamedParameters());
            optimizer.LearningRate = rate;
        }
        return new LearningRateSweep(points, ending);
    }
}
