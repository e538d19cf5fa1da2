using System.Collections.Immutable;
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
    /// <summary>
    /// When set, <see cref="Trainer.CheckpointReady"/> is raised after every this many mini-batches (iterations
    /// N, 2N, …), besides every epoch's end. Does not change the training.
    /// </summary>
    public int? CheckpointEvery { get; init; }
    /// <summary>
    /// true (default): a NaN or infinite loss, gradient or weight stops the run with a
    /// <see cref="TrainingDivergedException"/> before it reaches the weights or a checkpoint (the divergence guard).
    /// false: train on through them, as the book's scripts do (its figures show such runs, e.g. fig. 6-18's plain
    /// networks at large weight scales).
    /// </summary>
    public bool StopOnDivergence { get; init; } = true;

    /// <summary>
    /// These options with what cannot change a run's weights or history set to <paramref name="other"/>'s: threads,
    /// background loading and evaluation, compressed input (all give the same numbers) and <see cref="CheckpointEvery"/>.
    /// Two runs whose options are equal after this train alike.
    /// </summary>
    public TrainerOptions WithHowFrom(TrainerOptions other) => this with
    {
        Threads = other.Threads, BackgroundLoading = other.BackgroundLoading, BackgroundEvaluation = other.BackgroundEvaluation,
        CompressedInput = other.CompressedInput, CheckpointEvery = other.CheckpointEvery,
    };

    public void Validate()
    {
        if (CheckpointEvery is < 1) throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), CheckpointEvery, "checkpoint interval must be at least 1 iteration");
        if (Threads is < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "threads must be at least 1");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be at least 1");
        if (Iterations is null && Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "epochs must be at least 1");
        if (Iterations is < 1) throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "iterations must be at least 1");
        if (EvaluationSamples < 0) throw new ArgumentOutOfRangeException(nameof(EvaluationSamples), EvaluationSamples, "evaluation samples must be ≥ 0");
        Augmentation?.Validated();
        if (Schedule is not ("constant" or "cosine")) throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, $"unknown schedule '{Schedule}': use constant or cosine");
    }
}

/// <summary>One epoch's end: iterations done, accuracies (test NaN without a test split), the mean training loss of its mini-batches, the run's time so far.</summary>
public sealed record EpochResult(int Epoch, int Iteration, double TrainAccuracy, double TestAccuracy, double MeanLoss, TimeSpan Elapsed)
{
    /// <summary>
    /// The learning rate the epoch's last mini-batch stepped with: the optimizer's rate as the run's schedule scaled
    /// it for that mini-batch (<see cref="Trainer.LastLearningRate"/> at that point). NaN when not known.
    /// </summary>
    public double LearningRate { get; init; } = double.NaN;
}

/// <summary>What a run produced: the loss of every mini-batch and the accuracies at every epoch end.</summary>
public sealed class TrainingHistory
{
    public List<double> Loss { get; } = [];
    public List<EpochResult> Epochs { get; } = [];
    public bool Cancelled { get; internal set; }
    public TimeSpan Elapsed { get; internal set; }
    public double FinalTestAccuracy => Epochs.Count > 0 ? Epochs[^1].TestAccuracy : double.NaN;

    /// <summary>CSV with one row per epoch: epoch,iteration,mean_loss,train_accuracy,test_accuracy,seconds,learning_rate (new columns go at the end).</summary>
    public string EpochsCsv()
    {
        var sb = new System.Text.StringBuilder("epoch,iteration,mean_loss,train_accuracy,test_accuracy,seconds,learning_rate\n");
        foreach (var e in Epochs)
            sb.Append(System.FormattableString.Invariant($"{e.Epoch},{e.Iteration},{e.MeanLoss:R},{e.TrainAccuracy:R},{e.TestAccuracy:R},{e.Elapsed.TotalSeconds:F3},{e.LearningRate:R}\n"));
        return sb.ToString();
    }
}

/// <summary>
/// Mini-batch training (book ch. 4.5 / 6): sample a batch, compute the gradient by backprop, let the
/// optimizer step, and at every epoch end measure train and test accuracy. Raises events and prints nothing.
/// A run can be checkpointed (<see cref="CheckpointReady"/>, <see cref="SaveState"/>) and continued from a
/// checkpoint (<see cref="Restore"/>) to the same weights, bit for bit, as the run left uninterrupted.
/// </summary>
public sealed class Trainer
{
    private readonly Sequential<float> _net;
    private readonly Optimizer<float> _optimizer;
    private readonly Dataset _train, _test;
    private readonly TrainerOptions _options;
    /// <summary>Set by <see cref="Restore"/>: the point the next <see cref="Train"/> goes on from.</summary>
    private TrainingCheckpoint? _resume;
    /// <summary>Where the last run stopped (for <see cref="SaveState"/>): iterations and epochs done, history, data position.</summary>
    private (int Iteration, int Epoch, TrainingHistory History, int[] Order, RngState Random)? _stopped;
    private int _running;

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
    /// <summary>
    /// A checkpoint of the run (<see cref="TrainingCheckpoint"/>, the handler may keep it): at every epoch's end
    /// (after that epoch's <see cref="EpochCompleted"/>, so its history holds the epoch), every
    /// <see cref="TrainerOptions.CheckpointEvery"/> mini-batches, and when the run is cancelled. Raised in iteration
    /// order, one at a time, from the training thread or the evaluation thread; the state is taken between two
    /// mini-batches on the training thread, so what the handler does cannot change it. Taken only when a handler is set.
    /// </summary>
    public event Action<TrainingCheckpoint>? CheckpointReady;

    /// <summary>
    /// The group of processes this trainer is one rank of, for data-parallel training (default: a group of one).
    /// Every rank trains on its shard of each global mini-batch of <see cref="TrainerOptions.BatchSize"/> × size
    /// samples, drawn from one seeded order; rank 0's initial weights are broadcast, and after each backward pass the
    /// gradients are averaged over the global batch by one allreduce (see <see cref="DataParallel"/>). The weights
    /// stay equal on every rank, so every rank evaluates and decides alike; only what the caller does with them
    /// (print, save) needs to be left to one rank.
    /// </summary>
    public Distributed.ICommunicator Group { get; init; } = new Distributed.SingleProcess();

    /// <summary>
    /// Time the last <see cref="Train"/> spent in the gradient allreduce of a data-parallel run, waiting for the slowest
    /// rank included (zero for a group of one).
    /// </summary>
    public TimeSpan CommunicationTime { get; private set; }

    /// <summary>Samples per mini-batch over all ranks: <see cref="TrainerOptions.BatchSize"/> × the group's size.</summary>
    public int GlobalBatchSize => _options.BatchSize * Group.Size;

    /// <summary>Mini-batches per epoch: ⌈N / batch⌉ without replacement, max(N / batch, 1) with (as the book), of the global batch.</summary>
    public int IterationsPerEpoch => _options.SampleWithReplacement
        ? Math.Max(_train.Count / GlobalBatchSize, 1)
        : (_train.Count + GlobalBatchSize - 1) / GlobalBatchSize;

    public int TotalIterations => _options.Iterations ?? _options.Epochs * IterationsPerEpoch;

    /// <summary>The options the trainer runs with.</summary>
    public TrainerOptions Options => _options;

    /// <summary>
    /// The learning rate the last mini-batch stepped with: the optimizer's rate as the schedule scaled it for that
    /// mini-batch. Updated on the training thread before <see cref="BatchCompleted"/> is raised, so a handler reads
    /// the rate of the batch it is told of. After <see cref="Restore"/>, the rate of the checkpoint's last
    /// mini-batch; NaN before any mini-batch was done.
    /// </summary>
    public double LastLearningRate => Volatile.Read(ref _lastRate);
    private double _lastRate = double.NaN;

    /// <summary>
    /// The network whose accuracies the latest <see cref="EpochCompleted"/> reported: a snapshot taken at that
    /// epoch's end when evaluation runs in the background, else the trained network itself. Stable while the
    /// event's handlers run (a checkpoint saved from it is the epoch's model).
    /// </summary>
    public Sequential<float> EvaluatedModel { get; private set; }

    /// <summary>Whether <see cref="Train"/> hands the network its mini-batches compressed (see <see cref="TrainerOptions.CompressedInput"/>).</summary>
    public bool CompressesBatches => _options.Augmentation is null && _options.CompressedInput && BatchLoader.Compresses(_net, _train);

    /// <summary>
    /// The run's full state now, between runs: after <see cref="Train"/> returned (finished or cancelled) the point
    /// it stopped at, after <see cref="Restore"/> the restored point, before either the start (no mini-batch done).
    /// </summary>
    /// <exception cref="InvalidOperationException">while <see cref="Train"/> runs.</exception>
    public TrainingCheckpoint SaveState()
    {
        if (Volatile.Read(ref _running) != 0) throw new InvalidOperationException("the trainer is running: take checkpoints from CheckpointReady");
        if (_resume is not null) return _resume;
        if (_stopped is var (iteration, epoch, history, order, random))
        {
            var checkpoint = Capture(iteration, epoch, history, order, random, history.Elapsed);
            lock (history) return checkpoint with { Epochs = [.. history.Epochs] };
        }
        var rng = new Rng(_options.Seed);
        var start = rng.Permutation(_train.Count); // as the loader draws the first epoch's order
        return Capture(0, 0, new TrainingHistory(), start, rng.State, TimeSpan.Zero);
    }

    /// <summary>
    /// Sets the network, the optimizer and every random stream to <paramref name="checkpoint"/>'s state; the next
    /// <see cref="Train"/> goes on from its iteration with its history, and ends with the same weights, bit for bit,
    /// as the run it was taken from. The trainer's options must be the checkpoint's, except what does not change the
    /// training (<see cref="TrainerOptions.WithHowFrom"/>) and <see cref="TrainerOptions.Epochs"/>, which may be
    /// raised (not for a cosine schedule, whose curve spans the run); the optimizer must be of the same kind and rate.
    /// </summary>
    /// <exception cref="ArgumentException">the checkpoint does not fit this trainer (the message says how); nothing changed.</exception>
    public void Restore(TrainingCheckpoint checkpoint)
    {
        if (Volatile.Read(ref _running) != 0) throw new InvalidOperationException("the trainer is running");
        var stored = checkpoint.Options;
        if (stored with { Epochs = _options.Epochs } != _options.WithHowFrom(stored) with { Epochs = _options.Epochs })
            throw new ArgumentException("the checkpoint's options differ from the trainer's in more than the epochs");
        if (_options.Epochs < stored.Epochs) throw new ArgumentException($"the checkpoint's run has {stored.Epochs} epochs; they may be raised, not lowered to {_options.Epochs}");
        if (_options.Iterations is null && stored.Epochs != _options.Epochs && stored.Schedule != "constant")
            throw new ArgumentException($"the {stored.Schedule} schedule spans the run's {stored.Epochs} epochs; they cannot change");
        if (checkpoint.ScheduleIterations != (stored.Iterations ?? stored.Epochs * IterationsPerEpoch))
            throw new ArgumentException($"the schedule spans {checkpoint.ScheduleIterations} iterations, the checkpoint's run has {stored.Iterations ?? stored.Epochs * IterationsPerEpoch}");
        if (!checkpoint.Model.Architecture.Equals(_net.Architecture)) throw new ArgumentException("the checkpoint's network is not this trainer's architecture");
        if (checkpoint.Optimizer.Optimizer != _optimizer.Name || checkpoint.LearningRate != _optimizer.LearningRate)
            throw new ArgumentException($"the checkpoint is of {checkpoint.Optimizer.Optimizer} at rate {checkpoint.LearningRate:R}, the trainer's optimizer is {_optimizer.Name} at {_optimizer.LearningRate:R}");
        int total = TotalIterations, perEpoch = IterationsPerEpoch, k = checkpoint.Iteration;
        if (k < 0 || k > total) throw new ArgumentException($"the checkpoint is after iteration {k}, outside the run's {total}");
        if (checkpoint.Data.Iteration != k) throw new ArgumentException($"the data position is after iteration {checkpoint.Data.Iteration}, the checkpoint after {k}");
        checkpoint.Data.Validate(_train.Count, total);
        if (checkpoint.Epoch != EpochsAfter(k, total, perEpoch)) throw new ArgumentException($"{checkpoint.Epoch} epochs done after iteration {k}; {EpochsAfter(k, total, perEpoch)} expected");
        if (checkpoint.Loss.Length != k) throw new ArgumentException($"{checkpoint.Loss.Length} losses for {k} iterations");
        for (int e = 0; e < checkpoint.Epochs.Length; e++)
            if (checkpoint.Epochs[e].Epoch != e + 1) throw new ArgumentException($"the history's epoch {e + 1} is numbered {checkpoint.Epochs[e].Epoch}");
        if (checkpoint.Epochs.Length != checkpoint.Epoch) throw new ArgumentException($"the history holds {checkpoint.Epochs.Length} epochs, {checkpoint.Epoch} were done");
        var dropout = DropoutLayers(_net);
        if (!dropout.Select(d => d.Name).Order(StringComparer.Ordinal).SequenceEqual(checkpoint.Dropout.Keys.Order(StringComparer.Ordinal)))
            throw new ArgumentException("the checkpoint's dropout layers are not the network's");
        foreach (var state in checkpoint.Dropout.Values) state.Validate();

        var saved = _optimizer.SaveState(_net.NamedParameters());
        _optimizer.LoadState(checkpoint.Optimizer, _net.NamedParameters()); // throws before anything changed when it does not fit
        try { _net.CopyStateFrom(checkpoint.Model); }
        catch (ArgumentException) { _optimizer.LoadState(saved, _net.NamedParameters()); throw; }
        foreach (var (name, layer) in dropout) layer.RandomState = checkpoint.Dropout[name];
        // An epoch's end records its last batch's rate; within an epoch the rate is the schedule's at that batch.
        Volatile.Write(ref _lastRate, k == 0 ? double.NaN
            : checkpoint.Epochs.Length > 0 && checkpoint.Epochs[^1].Iteration == k ? checkpoint.Epochs[^1].LearningRate
            : ScheduledRate(_optimizer.LearningRate, k, total));
        _resume = checkpoint;
        _stopped = null;
    }

    /// <summary>Whether every parameter's gradient (or value) is finite: one pass over them, allocating nothing.</summary>
    private bool AllFinite(bool gradients)
    {
        var parameters = _net.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            var values = gradients ? parameters[i].Grad.ReadOnlySpan : parameters[i].Value.ReadOnlySpan;
            // The largest magnitude is NaN when any value is NaN and infinite when any is.
            if (values.Length > 0 && !float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(values))) return false;
        }
        return true;
    }

    /// <summary>The exception naming the first parameter, in layer order, whose gradient (or value) is not finite.</summary>
    private TrainingDivergedException Diverged(int iteration, double loss, double rate, DivergedQuantity quantity)
    {
        var names = _net.NamedLayers();
        for (int l = 0; l < _net.Layers.Count; l++)
            foreach (var p in _net.Layers[l].Parameters)
            {
                var values = quantity == DivergedQuantity.Gradient ? p.Grad.ReadOnlySpan : p.Value.ReadOnlySpan;
                if (values.Length > 0 && !float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(values)))
                    return new TrainingDivergedException(iteration, quantity, names[l], $"{names[l]}.{p.Name}", loss, rate);
            }
        return new TrainingDivergedException(iteration, DivergedQuantity.Loss, null, null, loss, rate);
    }

    /// <summary>The rate the schedule gives mini-batch <paramref name="iteration"/> (counted from 1) of <paramref name="total"/>, from the optimizer's <paramref name="baseRate"/>.</summary>
    private double ScheduledRate(double baseRate, int iteration, int total) =>
        _options.Schedule == "cosine" ? baseRate * 0.5 * (1 + Math.Cos(Math.PI * (iteration - 1) / total)) : baseRate;

    /// <summary>Epochs marked after <paramref name="iteration"/> mini-batches: one per <paramref name="perEpoch"/>, and one at the run's end.</summary>
    private static int EpochsAfter(int iteration, int total, int perEpoch) =>
        iteration / perEpoch + (iteration == total && iteration % perEpoch != 0 ? 1 : 0);

    private static List<(string Name, ZeroDL.Layers.Dropout<float> Layer)> DropoutLayers(Sequential<float> net)
    {
        var names = net.NamedLayers();
        var result = new List<(string, ZeroDL.Layers.Dropout<float>)>();
        for (int i = 0; i < net.Layers.Count; i++)
            if (net.Layers[i] is ZeroDL.Layers.Dropout<float> d) result.Add((names[i], d));
        return result;
    }

    /// <summary>The state after <paramref name="iteration"/> mini-batches, copied from the network, the optimizer and the history (its epochs left empty).</summary>
    private TrainingCheckpoint Capture(int iteration, int epoch, TrainingHistory history, int[] order, RngState random, TimeSpan elapsed)
    {
        var model = _net.CloneArchitecture();
        model.CopyStateFrom(_net);
        return new TrainingCheckpoint
        {
            Iteration = iteration, Epoch = epoch, Options = _options, Model = model,
            Optimizer = _optimizer.SaveState(_net.NamedParameters()),
            LearningRate = _optimizer.LearningRate,
            ScheduleIterations = TotalIterations,
            Data = new LoaderPosition(iteration, [.. order], random),
            Dropout = DropoutLayers(_net).ToImmutableDictionary(d => d.Name, d => d.Layer.RandomState, StringComparer.Ordinal),
            Loss = [.. history.Loss],
            Epochs = [],
            Elapsed = elapsed,
        };
    }

    public TrainingHistory Train(CancellationToken cancel = default)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0) throw new InvalidOperationException("the trainer is already running");
        try { return Run(cancel); }
        finally { Volatile.Write(ref _running, 0); }
    }

    private TrainingHistory Run(CancellationToken cancel)
    {
        using var threads = Kernels.Gemm.LimitThreadsOnThisThread(_options.Threads ?? Kernels.Gemm.EffectiveThreads);
        var resume = _resume;
        _resume = null;
        var history = new TrainingHistory();
        TimeSpan before = resume?.Elapsed ?? TimeSpan.Zero;
        if (resume is not null) { history.Loss.AddRange(resume.Loss); history.Epochs.AddRange(resume.Epochs); }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int perEpoch = IterationsPerEpoch, total = TotalIterations, start = resume?.Iteration ?? 0;
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
        var parallel = Group.Size > 1 ? new DataParallel(Group, _net) : null;
        parallel?.BroadcastState();
        using var loader = new BatchLoader(_train, GlobalBatchSize, _options.SampleWithReplacement, perEpoch, total, new Rng(_options.Seed),
            background: _options.BackgroundLoading && multicore, augmenter, compressFor: _options.CompressedInput ? _net : null, resume: resume?.Data,
            shard: (Group.Rank, Group.Size));
        bool stopAgreed = false;
        var evalTrain = _options.EvaluationSamples > 0 ? _train.Take(_options.EvaluationSamples) : _train;
        var evalTest = _options.EvaluationSamples > 0 ? _test.Take(_options.EvaluationSamples) : _test;
        Sequential<float>? snapshot = _options.BackgroundEvaluation && multicore ? _net.CloneArchitecture() : null;
        Task? pending = null;
        double baseRate = _optimizer.LearningRate;
        int epoch = resume?.Epoch ?? 0, epochBatches = start - epoch * perEpoch;
        // The epoch's loss so far, summed in the same order as the uninterrupted run summed it (the same double).
        double epochLoss = 0;
        for (int i = epoch * perEpoch; i < start; i++) epochLoss += history.Loss[i];
        int done = start, checkpointed = start;
        int[] order = [.. resume?.Data.Order ?? []];
        RngState random = resume?.Data.Random ?? default;
        if (resume is null) { var rng = new Rng(_options.Seed); order = rng.Permutation(_train.Count); random = rng.State; }
        try
        {
            for (int iter = start + 1; iter <= total; iter++)
            {
                // Ranks stop together, after the mini-batch where one of them was asked to (their collectives must pair).
                if (parallel is null ? cancel.IsCancellationRequested : stopAgreed) { history.Cancelled = true; break; }
                var batch = loader.Next();
                double loss = _net.Gradient(batch.Input, batch.LabelSpan);
                (order, random) = (batch.Order, batch.RandomAfter);
                if (parallel is not null) (loss, stopAgreed) = parallel.Reduce(loss, batch.Count, batch.GlobalCount, cancel.IsCancellationRequested);
                loader.Release(batch);
                // The divergence guard: NaN or infinity stops the run before it reaches the weights, a checkpoint or a model file.
                if (_options.StopOnDivergence && (!double.IsFinite(loss) || !AllFinite(gradients: true))) throw Diverged(iter, loss, baseRate, DivergedQuantity.Gradient);
                double rate = ScheduledRate(baseRate, iter, total);
                _optimizer.LearningRate = rate;
                _optimizer.Step(_net.Parameters);
                _optimizer.LearningRate = baseRate;
                if (_options.StopOnDivergence && !AllFinite(gradients: false)) throw Diverged(iter, loss, baseRate, DivergedQuantity.Parameter);
                done = iter;
                history.Loss.Add(loss);
                Volatile.Write(ref _lastRate, rate);
                epochLoss += loss; epochBatches++;
                BatchCompleted?.Invoke(iter, loss);
                bool epochEnd = iter % perEpoch == 0 || iter == total;
                if (epochEnd)
                {
                    epoch++;
                    int e = epoch, it = iter;
                    double meanLoss = epochLoss / Math.Max(1, epochBatches);
                    var elapsed = before + clock.Elapsed;
                    epochLoss = 0; epochBatches = 0;
                    pending?.GetAwaiter().GetResult();
                    parallel?.AverageState();
                    if (snapshot is null) Evaluate(_net, e, it, meanLoss, elapsed, rate);
                    else
                    {
                        // Evaluate a copy of this epoch's weights on the other core while training goes on.
                        snapshot.CopyStateFrom(_net);
                        pending = Task.Run(() =>
                        {
                            using var limit = Kernels.Gemm.LimitThreadsOnThisThread(1);
                            Evaluate(snapshot, e, it, meanLoss, elapsed, rate);
                        });
                    }
                }
                if (epochEnd || (_options.CheckpointEvery is int every && iter % every == 0)) Checkpoint(iter, epoch);
            }
            if (history.Cancelled) Checkpoint(done, epoch);
        }
        finally
        {
            pending?.GetAwaiter().GetResult();
            _optimizer.LearningRate = baseRate;
        }
        history.Elapsed = before + clock.Elapsed;
        CommunicationTime = parallel?.CommunicationTime ?? TimeSpan.Zero;
        _stopped = (done, epoch, history, order, random);
        return history;

        void Evaluate(Sequential<float> model, int e, int it, double meanLoss, TimeSpan elapsed, double rate)
        {
            var result = new EpochResult(e, it,
                model.Accuracy(evalTrain),
                evalTest.Count > 0 ? model.Accuracy(evalTest) : double.NaN,
                meanLoss, elapsed) { LearningRate = rate };
            lock (history) history.Epochs.Add(result);
            EvaluatedModel = model;
            EpochCompleted?.Invoke(result);
        }

        // Taken here, between two mini-batches; handed out after every evaluation before it, in order.
        void Checkpoint(int iteration, int epochsDone)
        {
            if (CheckpointReady is null || iteration == checkpointed) return;
            checkpointed = iteration;
            var checkpoint = Capture(iteration, epochsDone, history, order, random, before + clock.Elapsed);
            if (snapshot is null) { Raise(); return; }
            var previous = pending;
            pending = Task.Run(() =>
            {
                previous?.GetAwaiter().GetResult();
                Raise();
            });

            void Raise()
            {
                lock (history) checkpoint = checkpoint with { Epochs = [.. history.Epochs.Where(r => r.Epoch <= epochsDone)] };
                CheckpointReady?.Invoke(checkpoint);
            }
        }
    }
}
