using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;

namespace ZeroDL.Training;

/// <summary>Settings of a training run. Either <see cref="Epochs"/> or <see cref="Iterations"/> (if set) ends it.</summary>
public sealed record TrainerOptions
{
    public int Epochs { get; init; } = 10;
    /// <summary>When set, the run stops after this many mini-batches (the book's iters_num); epochs are still marked.</summary>
    public int? Iterations { get; init; }
    public int BatchSize { get; init; } = 100;
    /// <summary>false (default): each epoch visits every sample once in a new random order. true: the book's np.random.choice with replacement.</summary>
    public bool SampleWithReplacement { get; init; }
    /// <summary>How many training and test samples the per-epoch evaluation uses (0 = all).</summary>
    public int EvaluationSamples { get; init; }
    public int Seed { get; init; } = 1;
    /// <summary>
    /// Threads the run's products and parallel passes may use (null: every processor); applied to the training
    /// thread for the run (<see cref="Kernels.Gemm.LimitThreadsOnThisThread"/>).
    /// </summary>
    public int? Threads { get; init; }
    /// <summary>Gather the next mini-batches on a background thread while the current one trains (more than one core only).</summary>
    public bool BackgroundLoading { get; init; } = true;
    /// <summary>Evaluate a snapshot of each epoch's weights on a background thread while training goes on (more than one core only).</summary>
    public bool BackgroundEvaluation { get; init; } = true;
    /// <summary>"constant" (the book's) or "cosine": the learning rate follows lr·½(1 + cos(π·t/T)) from the optimizer's rate down to 0 over the run.</summary>
    public string Schedule { get; init; } = "constant";
    /// <summary>Random distortions applied to every training batch (null = none); evaluation always sees the images as they are.</summary>
    public AugmentationOptions? Augmentation { get; init; }
    /// <summary>
    /// true (default): when the network's first layer takes compressed batches and the training images are stored
    /// bytes that are mostly zeros (MNIST: 19 % non-zero; see <see cref="BatchLoader.Compresses"/>), each mini-batch
    /// is compressed straight from the bytes on the training thread instead of being gathered as a float matrix on a
    /// loader thread — the same numbers (so the same training), a fifth of the memory traffic and no loader thread.
    /// false: always floats.
    /// </summary>
    public bool CompressedInput { get; init; } = true;

    public void Validate()
    {
        if (Threads is < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "threads must be at least 1");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be at least 1");
        if (Iterations is null && Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "epochs must be at least 1");
        if (Iterations is < 1) throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "iterations must be at least 1");
        if (EvaluationSamples < 0) throw new ArgumentOutOfRangeException(nameof(EvaluationSamples), EvaluationSamples, "evaluation samples must be ≥ 0");
        Augmentation?.Validated();
        if (Schedule is not ("constant" or "cosine")) throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, $"unknown schedule '{Schedule}': use constant or cosine");
    }
}

public sealed record EpochResult(int Epoch, int Iteration, double TrainAccuracy, double TestAccuracy, double MeanLoss, TimeSpan Elapsed);

/// <summary>What a run produced: the loss of every mini-batch and the accuracies at every epoch end.</summary>
public sealed class TrainingHistory
{
    public List<double> Loss { get; } = [];
    public List<EpochResult> Epochs { get; } = [];
    public bool Cancelled { get; internal set; }
    public TimeSpan Elapsed { get; internal set; }
    public double FinalTestAccuracy => Epochs.Count > 0 ? Epochs[^1].TestAccuracy : double.NaN;

    /// <summary>CSV with one row per epoch: epoch,iteration,loss,train_acc,test_acc,seconds.</summary>
    public string EpochsCsv()
    {
        var sb = new System.Text.StringBuilder("epoch,iteration,mean_loss,train_accuracy,test_accuracy,seconds\n");
        foreach (var e in Epochs)
            sb.Append(System.FormattableString.Invariant($"{e.Epoch},{e.Iteration},{e.MeanLoss:R},{e.TrainAccuracy:R},{e.TestAccuracy:R},{e.Elapsed.TotalSeconds:F3}\n"));
        return sb.ToString();
    }
}

/// <summary>
/// Mini-batch training (book ch. 4.5 / 6): sample a batch, compute the gradient by backprop, let the
/// optimizer step, and at every epoch end measure train and test accuracy. Raises events and prints nothing.
/// </summary>
public sealed class Trainer
{
    private readonly Sequential<float> _net;
    private readonly Optimizer<float> _optimizer;
    private readonly Dataset _train, _test;
    private readonly TrainerOptions _options;

    public Trainer(Sequential<float> net, Optimizer<float> optimizer, Dataset train, Dataset test, TrainerOptions options)
    {
        options.Validate();
        if (train.Count == 0) throw new ArgumentException("training set is empty");
        _net = net; _optimizer = optimizer; _train = train; _test = test; _options = options;
        EvaluatedModel = net;
    }

    /// <summary>After every mini-batch: (iteration counted from 1, its loss).</summary>
    public event Action<int, double>? BatchCompleted;
    /// <summary>After every epoch's evaluation, in epoch order (from a background thread when evaluation runs there).</summary>
    public event Action<EpochResult>? EpochCompleted;

    /// <summary>Mini-batches per epoch: ⌈N / batch⌉ without replacement, max(N / batch, 1) with (as the book).</summary>
    public int IterationsPerEpoch => _options.SampleWithReplacement
        ? Math.Max(_train.Count / _options.BatchSize, 1)
        : (_train.Count + _options.BatchSize - 1) / _options.BatchSize;

    public int TotalIterations => _options.Iterations ?? _options.Epochs * IterationsPerEpoch;

    /// <summary>
    /// The network whose accuracies the latest <see cref="EpochCompleted"/> reported: a snapshot taken at that
    /// epoch's end when evaluation runs in the background, else the trained network itself. Stable while the
    /// event's handlers run (a checkpoint saved from it is the epoch's model).
    /// </summary>
    public Sequential<float> EvaluatedModel { get; private set; }

    /// <summary>Whether <see cref="Train"/> hands the network its mini-batches compressed (see <see cref="TrainerOptions.CompressedInput"/>).</summary>
    public bool CompressesBatches => _options.Augmentation is null && _options.CompressedInput && BatchLoader.Compresses(_net, _train);

    public TrainingHistory Train(CancellationToken cancel = default)
    {
        using var threads = Kernels.Gemm.LimitThreadsOnThisThread(_options.Threads ?? Kernels.Gemm.EffectiveThreads);
        var history = new TrainingHistory();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int perEpoch = IterationsPerEpoch, total = TotalIterations;
        bool multicore = Environment.ProcessorCount > 1;
        Augmenter? augmenter = null;
        if (_options.Augmentation is not null)
        {
            int side = (int)Math.Round(Math.Sqrt(_train.SampleLength));
            // Flat samples without a known image shape: a square one-channel image, when their length is a square.
            var (channels, height, width) = _train.ImageShape ?? (side * side == _train.SampleLength ? (1, side, side)
                : throw new ArgumentException($"augmentation needs images (C×H×W); samples have {_train.SampleLength} values"));
            augmenter = new Augmenter(_options.Augmentation, _options.Seed, channels, height, width);
        }
        using var loader = new BatchLoader(_train, _options.BatchSize, _options.SampleWithReplacement, perEpoch, total, new Rng(_options.Seed),
            background: _options.BackgroundLoading && multicore, augmenter, compressFor: _options.CompressedInput ? _net : null);
        var evalTrain = _options.EvaluationSamples > 0 ? _train.Take(_options.EvaluationSamples) : _train;
        var evalTest = _options.EvaluationSamples > 0 ? _test.Take(_options.EvaluationSamples) : _test;
        Sequential<float>? snapshot = _options.BackgroundEvaluation && multicore ? _net.CloneArchitecture() : null;
        Task? pending = null;
        double epochLoss = 0, baseRate = _optimizer.LearningRate;
        int epochBatches = 0, epoch = 0;
        try
        {
            for (int iter = 1; iter <= total; iter++)
            {
                if (cancel.IsCancellationRequested) { history.Cancelled = true; break; }
                var batch = loader.Next();
                double loss = _net.Gradient(batch.Input, batch.LabelSpan);
                loader.Release(batch);
                if (_options.Schedule == "cosine") _optimizer.LearningRate = baseRate * 0.5 * (1 + Math.Cos(Math.PI * (iter - 1) / total));
                _optimizer.Step(_net.Parameters);
                history.Loss.Add(loss);
                epochLoss += loss; epochBatches++;
                BatchCompleted?.Invoke(iter, loss);
                if (iter % perEpoch == 0 || iter == total)
                {
                    epoch++;
                    int e = epoch, it = iter;
                    double meanLoss = epochLoss / Math.Max(1, epochBatches);
                    var elapsed = clock.Elapsed;
                    epochLoss = 0; epochBatches = 0;
                    pending?.GetAwaiter().GetResult();
                    if (snapshot is null)
                    {
                        Evaluate(_net, e, it, meanLoss, elapsed);
                        continue;
                    }
                    // Evaluate a copy of this epoch's weights on the other core while training goes on.
                    snapshot.CopyStateFrom(_net);
                    pending = Task.Run(() =>
                    {
                        using var limit = Kernels.Gemm.LimitThreadsOnThisThread(1);
                        Evaluate(snapshot, e, it, meanLoss, elapsed);
                    });
                }
            }
        }
        finally
        {
            pending?.GetAwaiter().GetResult();
            _optimizer.LearningRate = baseRate;
        }
        history.Elapsed = clock.Elapsed;
        return history;

        void Evaluate(Sequential<float> model, int e, int it, double meanLoss, TimeSpan elapsed)
        {
            var result = new EpochResult(e, it,
                model.Accuracy(evalTrain),
                evalTest.Count > 0 ? model.Accuracy(evalTest) : double.NaN,
                meanLoss, elapsed);
            lock (history) history.Epochs.Add(result);
            EvaluatedModel = model;
            EpochCompleted?.Invoke(result);
        }
    }
}
