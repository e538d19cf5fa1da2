using System.Globalization;
using ZeroDL.Data;
using ZeroDL.Kernels;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Tuning;

/// <summary>One evaluated setting: learning rate, weight decay, and the validation (and train) accuracy it reached.</summary>
public sealed record Trial(int Index, double LearningRate, double WeightDecay, double ValidationAccuracy, double TrainAccuracy);

/// <summary>Settings of a search (book ch. 6.5: 500 training images, 20 % held out for validation, 50 epochs, SGD).</summary>
public sealed record SearchOptions
{
    /// <summary>grid, random or bayes.</summary>
    public string Method { get; init; } = "random";
    public int Trials { get; init; } = 30;
    public int TrainingSamples { get; init; } = 500;
    public double ValidationFraction { get; init; } = 0.2;
    public int Epochs { get; init; } = 50;
    public double LearningRateMin { get; init; } = 1e-6;
    public double LearningRateMax { get; init; } = 1e-2;
    public double WeightDecayMin { get; init; } = 1e-8;
    public double WeightDecayMax { get; init; } = 1e-4;
    public int Seed { get; init; } = 1;
    /// <summary>Trials trained at the same time (one core each).</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
    /// <summary>Bayes: random trials before the Gaussian process takes over.</summary>
    public int InitialRandomTrials { get; init; } = 5;

    public static IReadOnlyList<string> Methods { get; } = ["grid", "random", "bayes"];

    public SearchOptions Validated()
    {
        if (!Methods.Contains(Method)) throw new ArgumentOutOfRangeException(nameof(Method), Method, $"unknown method '{Method}': use grid, random or bayes");
        if (Trials < 1 || Epochs < 1 || Parallelism < 1) throw new ArgumentOutOfRangeException(nameof(Trials), "trials, epochs and parallelism must be at least 1");
        if (TrainingSamples < 10) throw new ArgumentOutOfRangeException(nameof(TrainingSamples), TrainingSamples, "need at least 10 training samples");
        if (!(ValidationFraction > 0 && ValidationFraction < 1)) throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "validation fraction must be in (0, 1)");
        if (!(LearningRateMin > 0 && LearningRateMax > LearningRateMin && WeightDecayMin > 0 && WeightDecayMax > WeightDecayMin))
            throw new ArgumentOutOfRangeException(nameof(LearningRateMin), "ranges must be positive with max > min (they are searched on a log scale)");
        return this;
    }
}

/// <summary>
/// Hyper-parameter search over the learning rate and weight decay of the book's ch. 6.5 network (6 hidden ReLU
/// layers of 100, SGD, batch 100), on a log scale, by grid, random or Bayesian search (Gaussian process + expected
/// improvement). The validation set is held out of the training data after a seeded shuffle; the test set is never
/// touched. Trials run in parallel, each on one core; every trial's randomness comes from its own seed, so the
/// result does not depend on scheduling.
/// </summary>
public static class HyperparameterSearch
{
    /// <summary>
    /// Runs the search. <paramref name="cancel"/> stops it: the trials in training are dropped (their training stops
    /// after its current mini-batch) and the ones finished before are returned, those of the batch in progress
    /// included, fewer than <see cref="SearchOptions.Trials"/>.
    /// </summary>
    public static IReadOnlyList<Trial> Run(Dataset trainingData, SearchOptions options, Action<Trial>? onTrial = null, CancellationToken cancel = default) =>
        Run(trainingData, options, onTrial, (index, point, train, validation, o) => Evaluate(index, point, train, validation, o, cancel), cancel);

    /// <summary><see cref="Run(Dataset, SearchOptions, Action{Trial}?, CancellationToken)"/> with the trial's training given (tests).</summary>
    internal static IReadOnlyList<Trial> Run(Dataset trainingData, SearchOptions options, Action<Trial>? onTrial,
        Func<int, double[], Dataset, Dataset, SearchOptions, Trial> evaluate, CancellationToken cancel)
    {
        options = options.Validated();
        var (train, validation) = Split(trainingData, options);
        var trials = new List<Trial>();
        var rng = new Rng(options.Seed);
        var grid = options.Method == "grid" ? GridPoints(options.Trials) : null;
        while (trials.Count < options.Trials && !cancel.IsCancellationRequested)
        {
            int batch = Math.Min(options.Parallelism, options.Trials - trials.Count);
            var points = new List<double[]>();
            for (int b = 0; b < batch; b++)
                points.Add(options.Method switch
                {
                    "grid" => grid![trials.Count + b],
                    "bayes" when trials.Count >= options.InitialRandomTrials => ProposeBayes(trials, points, options, rng),
                    _ => [rng.NextDouble(), rng.NextDouble()], // random: trial k's point is the draws 2k and 2k + 1 (see PointOf)
                });
            var results = new Trial[batch];
            int first = trials.Count;
            try
            {
                Parallel.For(0, batch, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism }, b =>
                {
                    using var limit = Gemm.LimitThreadsOnThisThread(1);
                    results[b] = evaluate(first + b, points[b], train, validation, options);
                });
            }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
            {
                // The trials of this batch that finished before the stop are kept: each is a whole result.
                foreach (var t in results) if (t is not null) { trials.Add(t); onTrial?.Invoke(t); }
                break;
            }
            foreach (var t in results) { trials.Add(t); onTrial?.Invoke(t); }
        }
        return trials;
    }

    /// <summary>Seeded shuffle of the first TrainingSamples images, the last ValidationFraction of them held out.</summary>
    public static (Dataset Train, Dataset Validation) Split(Dataset data, SearchOptions options)
    {
        int n = Math.Min(options.TrainingSamples, data.Count);
        var order = new Rng(options.Seed).Permutation(n);
        int validationCount = Math.Max(1, (int)(n * options.ValidationFraction));
        return (data.Select(order.AsSpan(0, n - validationCount)), data.Select(order.AsSpan(n - validationCount)));
    }

    /// <summary>A point of the unit box → (learning rate, weight decay) on the log scale of the ranges.</summary>
    public static (double LearningRate, double WeightDecay) FromUnit(double[] p, SearchOptions o) =>
        (Math.Exp(Math.Log(o.LearningRateMin) + p[0] * (Math.Log(o.LearningRateMax) - Math.Log(o.LearningRateMin))),
         Math.Exp(Math.Log(o.WeightDecayMin) + p[1] * (Math.Log(o.WeightDecayMax) - Math.Log(o.WeightDecayMin))));

    public static double[] ToUnit(double learningRate, double weightDecay, SearchOptions o) =>
        [(Math.Log(learningRate) - Math.Log(o.LearningRateMin)) / (Math.Log(o.LearningRateMax) - Math.Log(o.LearningRateMin)),
         (Math.Log(weightDecay) - Math.Log(o.WeightDecayMin)) / (Math.Log(o.WeightDecayMax) - Math.Log(o.WeightDecayMin))];

    /// <summary>
    /// The point (in the unit box) trial <paramref name="number"/> of a grid or random search evaluates, as
    /// <see cref="Run"/> chooses it: grid, the cell centre of that number; random, the seed's draws 2k and 2k + 1.
    /// A shared study (<see cref="Studies.StudyStorage"/>) hands out the same points, so its trials equal Run's.
    /// Bayes's first <see cref="SearchOptions.InitialRandomTrials"/> are random points.
    /// </summary>
    public static double[] PointOf(int number, SearchOptions options)
    {
        if (number < 0 || number >= options.Trials) throw new ArgumentOutOfRangeException(nameof(number), number, $"trial numbers run from 0 to {options.Trials - 1}");
        if (options.Method == "grid") return GridPoints(options.Trials)[number];
        var rng = new Rng(options.Seed);
        for (int i = 0; i < 2 * number; i++) rng.NextDouble();
        return [rng.NextDouble(), rng.NextDouble()];
    }

    /// <summary>
    /// Bayes: the next point to try, given the finished trials and the points being evaluated now, which count as
    /// observed at the Gaussian process's mean (the kriging believer), so parallel workers spread out. Deterministic
    /// in its arguments (<paramref name="number"/> seeds the candidate draws).
    /// </summary>
    public static double[] ProposeBayes(IReadOnlyList<Trial> finished, IReadOnlyList<double[]> running, int number, SearchOptions options)
    {
        if (finished.Count == 0) return PointOf(number, options);
        return ProposeBayes([.. finished], [.. running], options, new Rng(options.Seed * 7919 + 104_729 + number));
    }

    /// <summary>A √N × ⌈N/√N⌉ grid over the unit box, cell centres, in row order (the first N points).</summary>
    private static List<double[]> GridPoints(int count)
    {
        int columns = (int)Math.Ceiling(Math.Sqrt(count)), rows = (count + columns - 1) / columns;
        var points = new List<double[]>();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) points.Add([(c + 0.5) / columns, (r + 0.5) / rows]);
        return points;
    }

    /// <summary>
    /// The candidate of highest expected improvement under a Gaussian process fitted to the trials so far; points
    /// already proposed in this batch count as observed at the GP's mean ("kriging believer"), so a batch spreads out.
    /// </summary>
    private static double[] ProposeBayes(List<Trial> trials, List<double[]> pending, SearchOptions options, Rng rng)
    {
        var x = trials.Select(t => ToUnit(t.LearningRate, t.WeightDecay, options)).ToList();
        var y = trials.Select(t => t.ValidationAccuracy).ToList();
        if (pending.Count > 0)
        {
            var gp0 = new GaussianProcess(x, y);
            foreach (var p in pending) { x.Add(p); y.Add(gp0.Predict(p).Mean); }
        }
        var gp = new GaussianProcess(x, y);
        double best = y.Max();
        double[] bestPoint = [rng.NextDouble(), rng.NextDouble()];
        double bestEi = double.NegativeInfinity;
        for (int i = 0; i < 2000; i++)
        {
            double[] candidate = [rng.NextDouble(), rng.NextDouble()];
            double ei = gp.ExpectedImprovement(candidate, best);
            if (ei > bestEi) { bestEi = ei; bestPoint = candidate; }
        }
        return bestPoint;
    }

    /// <summary>
    /// Trains trial <paramref name="index"/> (its weights and data order seeded by the search's seed and the index)
    /// at <paramref name="point"/> and scores it on the validation split.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> stopped the training: there is no score.</exception>
    public static Trial Evaluate(int index, double[] point, Dataset train, Dataset validation, SearchOptions options, CancellationToken cancel = default)
    {
        var (lr, wd) = FromUnit(point, options);
        int seed = options.Seed * 7919 + index;
        var net = Networks.MultiLayerNet<float>([100, 100, 100, 100, 100, 100], seed, weightDecay: wd);
        var trainerOptions = new TrainerOptions { Epochs = options.Epochs, BatchSize = 100, Seed = seed, BackgroundEvaluation = false, BackgroundLoading = false,
            StopOnDivergence = false }; // a diverging trial scores as badly as it trains: the search learns to avoid its rate
        var history = new Trainer(net, new Sgd<float>(lr), train, validation, trainerOptions).Train(cancel);
        if (history.Cancelled) throw new OperationCanceledException(cancel);
        var last = history.Epochs[^1];
        return new Trial(index, lr, wd, last.TestAccuracy, last.TrainAccuracy);
    }

    public static string Describe(Trial t) => string.Create(CultureInfo.InvariantCulture,
        $"#{t.Index + 1}: lr {t.LearningRate:0.###e0}, weight decay {t.WeightDecay:0.###e0} → validation {t.ValidationAccuracy:P1}, train {t.TrainAccuracy:P1}");
}
