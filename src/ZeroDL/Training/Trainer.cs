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

    /// <summary>The smallest batch <see cref="EvaluationBatchSize"/> gives: smaller batches would make scoring slow for no memory saved worth having.</summary>
    public const int MinimumEvaluationBatch = 100;

    /// <summary>
    /// How many samples the per-epoch training and test accuracies put through the network at once: <see cref="BatchSize"/>, or
    /// <see cref="MinimumEvaluationBatch"/> when that is larger. At the training batch size the network scores into
    /// the activation buffers training has already touched; larger batches make each layer allocate buffers of their
    /// own, which are written for the first time during the run (at 1000 samples DeepConvNet's come to about 230 MB,
    /// whose first touch cost a second-core evaluation about as long as the scoring). Every layer scores each sample on
    /// its own, in the same sums in a batch of 64 samples as of 1000 (only batches of a few samples, as a ragged last
    /// one may be, can take kernel paths that round otherwise), so the accuracies are those of batches of 1000. The
    /// validation split's loss is a sum taken batch by batch, so it keeps <see cref="Evaluation.LossAndAccuracy"/>'s batches.
    /// </summary>
    public int EvaluationBatchSize => Math.Max(BatchSize, MinimumEvaluationBatch);
    public int Seed { get; init; } = 1;
    /// <summary>
    /// Threads the run's products and parallel passes may use (null: every processor); applied to the training
    /// thread for the run (<see cref="Kernels.Gemm.LimitThreadsOnThisThread"/>).
    /// </summary>
    public int? Threads { get; init; }
    /// <summary>
    /// Gather and augment the next mini-batches on a background thread while the current one trains (more than one
    /// core, and <see cref="Augmentation"/> set, only). Batches without augmentation are always gathered on the
    /// training thread (<see cref="LoadsInBackground"/>): copying a batch's samples there costs less than a loader
    /// thread does, which wakes once a batch on a core the step's workers are using.
    /// </summary>
    public bool BackgroundLoading { get; init; } = true;
    /// <summary>
    /// Evaluate a snapshot of each epoch's weights on a background thread while training goes on (more than one core
    /// only). The run's last epoch, with no training left to overlap, is evaluated on the training thread either way.
    /// </summary>
    public bool BackgroundEvaluation { get; init; } = true;

    /// <summary>
    /// Whether a run with these options, on a machine with more than one core when <paramref name="multicore"/>, gathers
    /// its mini-batches on a loader thread: only augmented ones, whose distortions cost more than a thread's wake-up
    /// (see <see cref="BackgroundLoading"/>). Either way the batches are the same.
    /// </summary>
    public bool LoadsInBackground(bool multicore) => BackgroundLoading && multicore && Augmentation is not null;

    /// <summary>
    /// How the learning rate moves over the run (<see cref="LearningRateSchedule"/>): constant (the book's, the default),
    /// step, cosine, a linear warm-up followed by one of those, or reduce-on-plateau. The optimizer's own rate is the base.
    /// </summary>
    public LearningRateSchedule Schedule { get; init; } = new LearningRateSchedule.Constant();
    /// <summary>
    /// When set, a fraction in (0, 1) of the training data is held out as a validation split, stratified by class and
    /// drawn from <see cref="Seed"/> (<see cref="Data.StratifiedSplit"/>); the run trains on the rest, and every epoch
    /// also reports the validation loss and accuracy (<see cref="EpochResult.ValidationLoss"/>,
    /// <see cref="EpochResult.ValidationAccuracy"/>), measured on the whole validation split whatever
    /// <see cref="EvaluationSamples"/> says. Needed by <see cref="EarlyStopPatience"/> and <see cref="KeptWeights.Best"/>.
    /// </summary>
    public double? ValidationSplit { get; init; }
    /// <summary>
    /// When set, the run stops at the end of the epoch after which <see cref="Monitor"/> has not improved for this many
    /// epochs in a row (Keras' EarlyStopping patience; at least 1). Needs <see cref="ValidationSplit"/>: the test set is
    /// never monitored.
    /// </summary>
    public int? EarlyStopPatience { get; init; }
    /// <summary>
    /// The validation quantity early stopping and keep-best watch (and reduce-on-plateau, by its own setting). Default
    /// <see cref="MonitoredQuantity.ValidationLoss"/>: it moves with every sample's confidence, where the accuracy moves in
    /// steps of one sample and ties often near the end of a run.
    /// </summary>
    public MonitoredQuantity Monitor { get; init; } = MonitoredQuantity.ValidationLoss;
    /// <summary>
    /// Which weights the run hands out (<see cref="Trainer.KeptModel"/>): the last epoch's (the default, as every run
    /// before this option) or the best epoch's by <see cref="Monitor"/> (needs <see cref="ValidationSplit"/>). Does not
    /// change the training.
    /// </summary>
    public KeptWeights Keep { get; init; } = KeptWeights.Last;
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
        if (Schedule is null) throw new ArgumentOutOfRangeException(nameof(Schedule), null, "a run needs a schedule (constant for the book's)");
        Schedule.Validate();
        if (ValidationSplit is double f && !(f > 0 && f < 1)) throw new ArgumentOutOfRangeException(nameof(ValidationSplit), f, "the validation split must be a fraction between 0 and 1 (exclusive)");
        if (EarlyStopPatience is < 1) throw new ArgumentOutOfRangeException(nameof(EarlyStopPatience), EarlyStopPatience, "early-stopping patience must be at least 1 epoch");
        if (!Enum.IsDefined(Monitor) || !Monitor.NeedsValidation())
            throw new ArgumentOutOfRangeException(nameof(Monitor), Monitor, "early stopping and keep-best monitor val_loss or val_accuracy");
        if (!Enum.IsDefined(Keep)) throw new ArgumentOutOfRangeException(nameof(Keep), Keep, "keep last or best");
        if (ValidationSplit is null)
        {
            if (EarlyStopPatience is not null) throw new ArgumentOutOfRangeException(nameof(EarlyStopPatience), EarlyStopPatience, "early stopping needs a validation split: the test set is never monitored");
            if (Keep == KeptWeights.Best) throw new ArgumentOutOfRangeException(nameof(Keep), Keep, "keeping the best model needs a validation split to judge it by: the test set is never monitored");
            if (Schedule.Plateau is { Monitor: var m } && m.NeedsValidation())
                throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, $"the plateau schedule monitors {m.Name()}, which needs a validation split (or monitor loss)");
        }
        if (Iterations is int bound && Schedule is LearningRateSchedule.Warmup w && w.Iterations >= bound)
            throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, $"the warm-up of {w.Iterations} iterations is not shorter than the run's {bound}");
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

    /// <summary>
    /// The mean loss over the validation split (<see cref="TrainerOptions.ValidationSplit"/>) in inference mode: mean
    /// cross-entropy plus the weight-decay term, the quantity <see cref="MeanLoss"/> averages over training mini-batches.
    /// NaN without a validation split.
    /// </summary>
    public double ValidationLoss { get; init; } = double.NaN;

    /// <summary>The fraction of the validation split classified correctly; NaN without a validation split.</summary>
    public double ValidationAccuracy { get; init; } = double.NaN;
}

/// <summary>What a run produced: the loss of every mini-batch and the accuracies at every epoch end.</summary>
public sealed class TrainingHistory
{
    public List<double> Loss { get; } = [];
    public List<EpochResult> Epochs { get; } = [];
    public bool Cancelled { get; internal set; }
    public TimeSpan Elapsed { get; internal set; }
    public double FinalTestAccuracy => Epochs.Count > 0 ? Epochs[^1].TestAccuracy : double.NaN;

    /// <summary>
    /// Whether the run ended by early stopping (<see cref="TrainerOptions.EarlyStopPatience"/>) before its last epoch.
    /// </summary>
    public bool StoppedEarly { get; internal set; }

    /// <summary>
    /// CSV with one row per epoch:
    /// epoch,iteration,mean_loss,train_accuracy,test_accuracy,seconds,learning_rate,validation_loss,validation_accuracy
    /// (new columns go at the end; NaN where there is no such split).
    /// </summary>
    public string EpochsCsv()
    {
        var sb = new System.Text.StringBuilder("epoch,iteration,mean_loss,train_accuracy,test_accuracy,seconds,learning_rate,validation_loss,validation_accuracy\n");
        foreach (var e in Epochs)
            sb.Append(System.FormattableString.Invariant(
                $"{e.Epoch},{e.Iteration},{e.MeanLoss:R},{e.TrainAccuracy:R},{e.TestAccuracy:R},{e.Elapsed.TotalSeconds:F3},{e.LearningRate:R},{e.ValidationLoss:R},{e.ValidationAccuracy:R}\n"));
        return sb.ToString();
    }
}

/// <summary>
/// Mini-batch training (book ch. 4.5 / 6): sample a batch, compute the gradient by backprop, let the
/// optimizer step at the rate the schedule gives (<see cref="TrainerOptions.Schedule"/>), and at every epoch end measure
/// train and test accuracy, and the validation loss and accuracy when part of the training data is held out
/// (<see cref="TrainerOptions.ValidationSplit"/>), which early stopping and keep-best watch. Raises events and prints
/// nothing. A run can be checkpointed (<see cref="CheckpointReady"/>, <see cref="SaveState"/>) and continued from a
/// checkpoint (<see cref="Restore"/>) to the same weights, bit for bit, as the run left uninterrupted.
/// </summary>
public sealed class Trainer
{
    private readonly Sequential<float> _net;
    private readonly Optimizer<float> _optimizer;
    /// <summary>The data the run trains on (the training data less the validation split), the test split, and the validation split (null without one).</summary>
    private readonly Dataset _train, _test;
    private readonly Dataset? _validation;
    private readonly TrainerOptions _options;
    /// <summary>
    /// The monitored quantity's record (null without a validation split), reduce-on-plateau's state (null without
    /// one) and a copy of the best epoch's network (with <see cref="KeptWeights.Best"/>, once an epoch improved): as
    /// of the last evaluated epoch. Written by the evaluation, read by checkpoints, under the history's lock while a run goes on.
    /// </summary>
    private MonitorState? _monitored;
    private PlateauState? _plateau;
    private Sequential<float>? _best;
    /// <summary>Set by <see cref="Restore"/>: the point the next <see cref="Train"/> goes on from.</summary>
    private TrainingCheckpoint? _resume;
    /// <summary>Where the last run stopped (for <see cref="SaveState"/>): iterations and epochs done, history, data position.</summary>
    private (int Iteration, int Epoch, TrainingHistory History, int[] Order, RngState Random)? _stopped;
    private int _running;

    /// <summary>
    /// A trainer of <paramref name="net"/> with <paramref name="optimizer"/> on <paramref name="train"/> (less the
    /// validation split when <see cref="TrainerOptions.ValidationSplit"/> is set: drawn here, stratified by class, from a
    /// generator forked from the seed), reporting accuracy on <paramref name="test"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">the options are out of range (<see cref="TrainerOptions.Validate"/>).</exception>
    /// <exception cref="ArgumentException">the training set is empty, the validation split holds out no sample, or the warm-up is not shorter than the run.</exception>
    public Trainer(Sequential<float> net, Optimizer<float> optimizer, Dataset train, Dataset test, TrainerOptions options)
    {
        options.Validate();
        if (train.Count == 0) throw new ArgumentException("training set is empty");
        if (options.ValidationSplit is double fraction)
        {
            // A stream of its own: the split does not shift the shuffling stream the loader draws from Seed.
            var (kept, heldOut) = StratifiedSplit.Indices(train.Labels, train.Classes, fraction, new Rng(options.Seed).Fork());
            if (heldOut.Length == 0) throw new ArgumentException($"a validation split of {fraction} holds out no sample of {train.Count} in {train.Classes} classes: give a larger fraction");
            _validation = train.Select(heldOut);
            train = train.Select(kept);
        }
        _net = net; _optimizer = optimizer; _train = train; _test = test; _options = options;
        EvaluatedModel = net;
        if (options.Schedule is LearningRateSchedule.Warmup w && w.Iterations >= TotalIterations)
            throw new ArgumentException($"the warm-up of {w.Iterations} iterations is not shorter than the run's {TotalIterations}");
        ResetMonitoring();
    }

    /// <summary>The monitoring state of a run's start.</summary>
    private void ResetMonitoring()
    {
        _monitored = _validation is null ? null : MonitorState.Start;
        _plateau = _options.Schedule.Plateau is null ? null : PlateauState.Start;
        _best = null;
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

    /// <summary>The samples the run trains on: the training data given, less the validation split when there is one.</summary>
    public Dataset TrainingSet => _train;

    /// <summary>The validation split held out of the training data (<see cref="TrainerOptions.ValidationSplit"/>), or null.</summary>
    public Dataset? ValidationSet => _validation;

    /// <summary>
    /// The record of the monitored validation quantity (<see cref="TrainerOptions.Monitor"/>) as of the last evaluated
    /// epoch: its best value, that epoch and the epochs since. Null without a validation split. Read it in
    /// <see cref="EpochCompleted"/> for the epoch just reported.
    /// </summary>
    public MonitorState? Monitored { get { lock (_stateLock) return _monitored; } }

    /// <summary>Reduce-on-plateau's state as of the last evaluated epoch (its current factor and count), or null without that schedule.</summary>
    public PlateauState? Plateau { get { lock (_stateLock) return _plateau; } }

    /// <summary>
    /// A copy of the network as it was after the best epoch so far (<see cref="Monitored"/>.BestEpoch), kept with
    /// <see cref="KeptWeights.Best"/>; null otherwise or before any epoch improved. Replaced, not changed, when a later
    /// epoch improves, so a reference stays that epoch's model.
    /// </summary>
    public Sequential<float>? BestModel { get { lock (_stateLock) return _best; } }

    /// <summary>
    /// The weights the run hands out, as <see cref="TrainerOptions.Keep"/> says: with <see cref="KeptWeights.Best"/> the
    /// <see cref="BestModel"/> (the <see cref="EvaluatedModel"/> until an epoch improved), else the
    /// <see cref="EvaluatedModel"/> (the last evaluated epoch's).
    /// </summary>
    public Sequential<float> KeptModel => _options.Keep == KeptWeights.Best ? BestModel ?? EvaluatedModel : EvaluatedModel;

    private readonly object _stateLock = new();

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
    /// epoch's end when evaluation runs in the background, else (and for the run's last epoch, which is evaluated on
    /// the training thread) the trained network itself. Stable while the
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
            lock (history) return WithMonitoring(checkpoint) with { Epochs = [.. history.Epochs] };
        }
        var rng = new Rng(_options.Seed);
        var start = rng.Permutation(_train.Count); // as the loader draws the first epoch's order
        return WithMonitoring(Capture(0, 0, new TrainingHistory(), start, rng.State, TimeSpan.Zero));
    }

    /// <summary>
    /// Sets the network, the optimizer and every random stream to <paramref name="checkpoint"/>'s state; the next
    /// <see cref="Train"/> goes on from its iteration with its history, and ends with the same weights, bit for bit,
    /// as the run it was taken from. The trainer's options must be the checkpoint's, except what does not change the
    /// training (<see cref="TrainerOptions.WithHowFrom"/>) and <see cref="TrainerOptions.Epochs"/>, which may be
    /// raised (not for a schedule whose curve spans the run, such as cosine); the optimizer must be of the same kind and rate.
    /// A run that early stopping ended stays ended: <see cref="Train"/> returns at once.
    /// </summary>
    /// <exception cref="ArgumentException">the checkpoint does not fit this trainer (the message says how); nothing changed.</exception>
    public void Restore(TrainingCheckpoint checkpoint)
    {
        if (Volatile.Read(ref _running) != 0) throw new InvalidOperationException("the trainer is running");
        var stored = checkpoint.Options;
        if (stored with { Epochs = _options.Epochs } != _options.WithHowFrom(stored) with { Epochs = _options.Epochs })
            throw new ArgumentException("the checkpoint's options differ from the trainer's in more than the epochs");
        if (_options.Epochs < stored.Epochs) throw new ArgumentException($"the checkpoint's run has {stored.Epochs} epochs; they may be raised, not lowered to {_options.Epochs}");
        if (_options.Iterations is null && stored.Epochs != _options.Epochs && stored.Schedule.SpansRun)
            throw new ArgumentException($"the {stored.Schedule} schedule spans the run's {stored.Epochs} epochs; they cannot change");
        if (checkpoint.ScheduleIterations != (stored.Iterations ?? stored.Epochs * IterationsPerEpoch))
            throw new ArgumentException($"the schedule spans {checkpoint.ScheduleIterations} iterations, the checkpoint's run has {stored.Iterations ?? stored.Epochs * IterationsPerEpoch}");
        // Compared with their ReLUs fused: a checkpoint from before a fusion holds the same tensors under the same names.
        if (!Fusion.FuseRelus(checkpoint.Model.Architecture).Equals(Fusion.FuseRelus(_net.Architecture))) throw new ArgumentException("the checkpoint's network is not this trainer's architecture");
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
        if ((checkpoint.Monitored is null) != (_validation is null))
            throw new ArgumentException(_validation is null ? "the checkpoint monitors a validation split this run has not" : "the checkpoint has no monitor state for the run's validation split");
        checkpoint.Monitored?.Validate(checkpoint.Epoch);
        if (_options.Schedule.Plateau is { } plateau) (checkpoint.Plateau ?? throw new ArgumentException("the checkpoint has no state for the plateau schedule")).Validate(plateau);
        else if (checkpoint.Plateau is not null) throw new ArgumentException("the checkpoint has plateau state, the schedule has no plateau");
        bool bestKept = _options.Keep == KeptWeights.Best && checkpoint.Monitored is { BestEpoch: > 0 };
        if ((checkpoint.BestModel is null) == bestKept)
            throw new ArgumentException(bestKept ? "the checkpoint keeps the best model but holds none" : "the checkpoint holds a best model this run does not keep");
        if (checkpoint.BestModel is { } bestModel && !Fusion.FuseRelus(bestModel.Architecture).Equals(Fusion.FuseRelus(_net.Architecture))) throw new ArgumentException("the checkpoint's best model is not this trainer's architecture");

        var saved = _optimizer.SaveState(_net.NamedParameters());
        _optimizer.LoadState(checkpoint.Optimizer, _net.NamedParameters()); // throws before anything changed when it does not fit
        try { _net.CopyStateFrom(checkpoint.Model); }
        catch (ArgumentException) { _optimizer.LoadState(saved, _net.NamedParameters()); throw; }
        foreach (var (name, layer) in dropout) layer.RandomState = checkpoint.Dropout[name];
        lock (_stateLock)
        {
            _monitored = checkpoint.Monitored;
            _plateau = checkpoint.Plateau;
            _best = checkpoint.BestModel is { } b ? Copy(b) : null;
        }
        // An epoch's end records its last batch's rate (a plateau may have cut the factor since); within an epoch the
        // rate is the schedule's at that batch.
        Volatile.Write(ref _lastRate, k == 0 ? double.NaN
            : checkpoint.Epochs.Length > 0 && checkpoint.Epochs[^1].Iteration == k ? checkpoint.Epochs[^1].LearningRate
            : _options.Schedule.Rate(_optimizer.LearningRate, k - 1, total, perEpoch, checkpoint.Plateau?.Factor ?? 1));
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

    /// <summary>A copy of <paramref name="net"/>: its architecture, weights and running statistics.</summary>
    private static Sequential<float> Copy(Sequential<float> net)
    {
        var copy = net.CloneArchitecture();
        copy.CopyStateFrom(net);
        return copy;
    }

    /// <summary><paramref name="checkpoint"/> with the monitoring state as of now (the best model copied).</summary>
    private TrainingCheckpoint WithMonitoring(TrainingCheckpoint checkpoint)
    {
        lock (_stateLock) return checkpoint with { Monitored = _monitored, Plateau = _plateau, BestModel = _best is null ? null : Copy(_best) };
    }

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
        var model = Copy(_net);
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
        if (resume is null) lock (_stateLock) ResetMonitoring();
        var history = new TrainingHistory();
        TimeSpan before = resume?.Elapsed ?? TimeSpan.Zero;
        if (resume is not null) { history.Loss.AddRange(resume.Loss); history.Epochs.AddRange(resume.Epochs); }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int perEpoch = IterationsPerEpoch, total = TotalIterations, start = resume?.Iteration ?? 0;
        bool multicore = Environment.ProcessorCount > 1;
        var augmenter = _options.Augmentation is null ? null : Augmenter.For(_options.Augmentation, _options.Seed, _train);
        var parallel = Group.Size > 1 ? new DataParallel(Group, _net) : null;
        parallel?.BroadcastState();
        using var loader = new BatchLoader(_train, GlobalBatchSize, _options.SampleWithReplacement, perEpoch, total, new Rng(_options.Seed),
            background: _options.LoadsInBackground(multicore), augmenter, compressFor: _options.CompressedInput ? _net : null, resume: resume?.Data,
            shard: (Group.Rank, Group.Size));
        bool stopAgreed = false;
        var evalTrain = _options.EvaluationSamples > 0 ? _train.Take(_options.EvaluationSamples) : _train;
        var evalTest = _options.EvaluationSamples > 0 ? _test.Take(_options.EvaluationSamples) : _test;
        var plateau = _options.Schedule.Plateau;
        // Early stopping and reduce-on-plateau decide from an epoch's evaluation what the next mini-batch does (whether
        // there is one, at which rate): their evaluation runs on the training thread, before it goes on.
        bool decides = _options.EarlyStopPatience is not null || plateau is not null;
        Sequential<float>? snapshot = _options.BackgroundEvaluation && multicore && !decides ? _net.CloneArchitecture() : null;
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
            // A run early stopping ended (and resumed from its last checkpoint) stays ended.
            if (start < total && StopsEarly()) history.StoppedEarly = true;
            for (int iter = start + 1; iter <= total && !history.StoppedEarly; iter++)
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
                double rate = _options.Schedule.Rate(baseRate, iter - 1, total, perEpoch, _plateau?.Factor ?? 1);
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
                    // The run's last evaluation has no training left to overlap: it runs here, on every thread the run has.
                    if (snapshot is null || iter == total) Evaluate(_net, e, it, meanLoss, elapsed, rate);
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
                    if (iter < total && StopsEarly()) history.StoppedEarly = true;
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

        bool StopsEarly() => _options.EarlyStopPatience is int patience && Monitored is { } m && m.ShouldStop(patience);

        void Evaluate(Sequential<float> model, int e, int it, double meanLoss, TimeSpan elapsed, double rate)
        {
            // The validation loss keeps LossAndAccuracy's own batches: it is summed batch by batch, so its bits depend on them.
            int batch = _options.EvaluationBatchSize;
            var (validationLoss, validationAccuracy) = _validation is null ? (double.NaN, double.NaN) : model.LossAndAccuracy(_validation);
            var result = new EpochResult(e, it,
                model.Accuracy(evalTrain, batch),
                evalTest.Count > 0 ? model.Accuracy(evalTest, batch) : double.NaN,
                meanLoss, elapsed) { LearningRate = rate, ValidationLoss = validationLoss, ValidationAccuracy = validationAccuracy };
            // The epoch's result and the state it leads to change together: a checkpoint sees both or neither.
            lock (history) lock (_stateLock)
            {
                history.Epochs.Add(result);
                if (_monitored is { } monitored)
                {
                    _monitored = monitored.Observe(_options.Monitor, e, _options.Monitor.Read(result));
                    if (_options.Keep == KeptWeights.Best && _monitored.BestEpoch == e) _best = Copy(model);
                }
                if (plateau is not null) _plateau = plateau.Observe(_plateau!, plateau.Monitor.Read(result));
            }
            EvaluatedModel = model;
            EpochCompleted?.Invoke(result);
        }

        // Taken here, between two mini-batches; handed out after every evaluation before it, in order.
        void Checkpoint(int iteration, int epochsDone)
        {
            if (CheckpointReady is null || iteration == checkpointed) return;
            checkpointed = iteration;
            var checkpoint = Capture(iteration, epochsDone, history, order, random, before + clock.Elapsed);
            // The last one has nothing to overlap either (and every evaluation before it is done: the last ran here).
            if (snapshot is null || iteration == total) { Raise(); return; }
            var previous = pending;
            pending = Task.Run(() =>
            {
                previous?.GetAwaiter().GetResult();
                Raise();
            });

            void Raise()
            {
                lock (history) checkpoint = WithMonitoring(checkpoint) with { Epochs = [.. history.Epochs.Where(r => r.Epoch <= epochsDone)] };
                CheckpointReady?.Invoke(checkpoint);
            }
        }
    }
}
