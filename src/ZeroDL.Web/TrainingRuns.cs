using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;
using Microsoft.Extensions.Logging;

namespace ZeroDL.Web;

/// <summary>
/// What the Train page asks for: a preset model, the data to train it on (one of <see cref="TrainingRuns.Datasets"/>:
/// "mnist", "fashion-mnist" or a folder the server was started with) and the settings to change: the learning-rate
/// <paramref name="Schedule"/> (null: the preset's), a <paramref name="ValidationSplit"/> held out of the training data
/// (a fraction in (0, 1), stratified and seeded), and early stopping after <paramref name="EarlyStop"/> epochs without
/// improvement of <paramref name="Monitor"/> ("val_loss", the default, or "val_accuracy"; needs the validation split).
/// </summary>
public sealed record TrainingRequest(string Model = ModelPresets.Default, string? Optimizer = null, double? LearningRate = null, int Epochs = 1,
    bool Augment = false, int TrainSamples = 0, int EvalSamples = 2000, int Seed = 1, string Data = "mnist",
    ScheduleRequest? Schedule = null, double? ValidationSplit = null, int? EarlyStop = null, string? Monitor = null);

/// <summary>
/// Starts, resumes and tracks training runs. One run at a time: training uses every core, and a second run would only
/// slow both. Each finished epoch is saved atomically into the models folder, where the Draw page can pick it up, and
/// so is a checkpoint of the run (<see cref="RunCheckpoints"/>: the CLI's format, beside the model as NAME.ckpt) at
/// every epoch's end and when the run is cancelled or the server stops.
/// </summary>
/// <remarks>
/// <para>A request is held to <see cref="TrainingLimits"/>: epochs and parameter count are checked before the run starts
/// (400), a second run while one goes gets 409, a run stops at the time limit, and after each save the oldest models
/// and checkpoints trained here are deleted beyond the disk budget. Their files are named <see cref="ModelPrefix"/>…;
/// none of them becomes the server's default model (<see cref="ModelStore"/>).</para>
/// <para>A run that ends (all its epochs done) deletes its checkpoint: what is left in the folder are runs that did not
/// finish, listed by <see cref="Interrupted"/> and continued by <see cref="Resume"/> with the options stored in the
/// checkpoint, to the same weights bit for bit as if never stopped. A run that diverges keeps its last good checkpoint,
/// marked as diverged (it is not offered for resuming: it would diverge again at the same iteration).</para>
/// </remarks>
public sealed class TrainingRuns(string modelDirectory, string? mnistDirectory, IReadOnlyList<string>? trainingData = null,
    TrainingLimits? limits = null, ModelStore? store = null, Microsoft.Extensions.Logging.ILogger? logger = null)
{
    /// <summary>How the name of every model trained from the web app begins ("web-dense-20261206-021500-1").</summary>
    public const string ModelPrefix = "web-";

    /// <summary>The limits requests are held to.</summary>
    public TrainingLimits Limits { get; } = limits ?? new TrainingLimits();

    /// <summary>The checkpoints of the runs, in the models folder.</summary>
    public RunCheckpoints Checkpoints { get; } = new(modelDirectory, logger);

    /// <summary>The metrics logs of the runs, in the models folder.</summary>
    public RunLogs Logs { get; } = new(modelDirectory, logger);

    private readonly Microsoft.Extensions.Logging.ILogger _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>
    /// Tests: called on the training thread after each mini-batch with the run, the iteration and the token the trainer
    /// watches, before the next mini-batch; it may block, to hold a run at a known point (e.g. until that token is
    /// cancelled: the run's own token wakes its waiters before the linked token the trainer checks is cancelled).
    /// </summary>
    internal Action<TrainingRun, int, CancellationToken>? AfterBatch { get; set; }

    /// <summary>The model names of the runs training now.</summary>
    private HashSet<string> Running() => _runs.Values.Where(r => r.Status == "running").Select(r => r.ModelName).ToHashSet(StringComparer.Ordinal);

    /// <summary>The runs whose metrics logs are in the models folder (<see cref="RunLogs.List"/>), this server's and earlier ones'.</summary>
    public IReadOnlyList<LoggedRun> Logged() => Logs.List(Running());

    /// <summary>The curves of the run <paramref name="name"/> from its metrics log (<see cref="RunLogs.Curves"/>).</summary>
    public RunCurves LoggedCurves(string name) => Logs.Curves(name, Running());

    /// <summary>
    /// The data the Train page offers: MNIST, Fashion-MNIST when Debian's package is installed, and the folders the
    /// server was given (zerodl serve --train-data DIR). Only these: a request cannot name another path on the server.
    /// </summary>
    public IReadOnlyList<string> Datasets =>
        [.. new[] { "mnist" }.Concat(File.Exists(Path.Combine(ImageDatasets.FashionMnistDirectory, "train-images-idx3-ubyte.gz")) ? [ImageDatasets.FashionMnistName] : [])
            .Concat(trainingData ?? [])];

    /// <summary>Training images of MNIST and of Fashion-MNIST.</summary>
    private const int MnistTrainingImages = 60_000;

    private readonly ConcurrentDictionary<string, TrainingRun> _runs = new();
    private int _counter;

    public TrainingRun? Find(string id) => _runs.GetValueOrDefault(id);

    /// <summary>
    /// Cancels every running run and waits up to <paramref name="wait"/> for them to end. The server calls it when it
    /// stops: a run left going would be cut off by the process exit, in the middle of writing its model file. A
    /// cancelled run writes its checkpoint before it ends, so it is listed as interrupted when the server starts again.
    /// </summary>
    public void StopAll(TimeSpan wait)
    {
        var running = _runs.Values.Where(r => r.Status == "running").ToList();
        foreach (var run in running) run.RequestCancel();
        Task.WaitAll([.. running.Select(r => r.Task)], wait);
    }
    public IEnumerable<TrainingRun> All => _runs.Values.OrderBy(r => r.Id, StringComparer.Ordinal);

    /// <summary>
    /// The checkpoints in the models folder of runs that did not finish and are not training now (see
    /// <see cref="RunCheckpoints.List"/>): interrupted, diverged, or unusable with the reason.
    /// </summary>
    public IReadOnlyList<InterruptedRun> Interrupted() => Checkpoints.List(Running());

    public TrainingRun Start(TrainingRequest request)
    {
        var preset = Check(request);
        string optimizerName = request.Optimizer ?? preset.Optimizer;
        Optimizer<float> optimizer;
        try { optimizer = Optimizer<float>.Create(optimizerName, request.LearningRate ?? (request.Optimizer is null ? preset.LearningRate : null)); }
        catch (ArgumentException e) { throw new BadRequestException(400, e.Message.Split(" (Parameter")[0]); }
        return Launch(request, preset, optimizer, modelName: null, resume: null);
    }

    /// <summary>
    /// Continues the interrupted run <paramref name="id"/> (its model name) from its checkpoint, with the request and
    /// the training options stored there, under the same limits as a new run: 404 for no such checkpoint, 409 while
    /// another run trains, for a checkpoint that cannot be read or is not a web run's, for a diverged run, and for a
    /// request this server would no longer accept (its data gone, its epochs over the limit).
    /// </summary>
    public TrainingRun Resume(string id)
    {
        string path = Checkpoints.PathOf(id);
        if (!RunCheckpoints.IsRunName(id) || !File.Exists(path)) throw new BadRequestException(404, $"no interrupted training run '{id}'");
        if (_runs.Values.Any(r => r.Status == "running")) throw new BadRequestException(409, "a training run is already going: wait for it or cancel it");
        LoadedCheckpoint loaded;
        TrainingRequest request;
        try { (loaded, request) = RunCheckpoints.Read(path); }
        catch (DataFormatException e) { throw new BadRequestException(409, $"the run '{id}' cannot be resumed: {RunCheckpoints.ForClients(e, path)}"); }
        catch (IOException) { throw new BadRequestException(404, $"no interrupted training run '{id}'"); }
        if (loaded.Run.TryGetValue(RunCheckpoints.DivergedKey, out var diverged))
            throw new BadRequestException(409, $"the run '{id}' diverged ({diverged}); resumed with its options it would diverge again at the same iteration: start a new run with a lower learning rate");
        ModelPreset preset;
        Optimizer<float> optimizer;
        try
        {
            preset = Check(request);
            optimizer = Optimizer<float>.Create(loaded.Checkpoint.Optimizer.Optimizer, loaded.Checkpoint.LearningRate);
        }
        catch (BadRequestException e) { throw new BadRequestException(409, $"the run '{id}' cannot be resumed on this server: {e.Message}"); }
        catch (ArgumentException e) { throw new BadRequestException(409, $"the run '{id}' cannot be resumed: {e.Message.Split(" (Parameter")[0]}"); }
        return Launch(request, preset, optimizer, id, loaded.Checkpoint);
    }

    /// <summary>
    /// The training options of a new run of <paramref name="request"/>, checked (400 with the reason): the preset's batch
    /// size and schedule unless the request names one, its validation split, early stopping and monitored quantity.
    /// </summary>
    private static TrainerOptions Options(TrainingRequest request, ModelPreset preset)
    {
        var monitor = MonitoredQuantity.ValidationLoss;
        if (request.Monitor is not null && !MonitoredQuantities.TryParse(request.Monitor, out monitor))
            throw new BadRequestException(400, $"monitor '{request.Monitor}' is not one of {MonitoredQuantities.Names}");
        // A plateau that names no quantity watches the monitored one, or without a validation split the training loss.
        var plateauWatches = request.Monitor is not null || request.ValidationSplit is not null ? monitor : MonitoredQuantity.TrainingLoss;
        var options = new TrainerOptions
        {
            Epochs = request.Epochs, BatchSize = preset.BatchSize, Seed = request.Seed, EvaluationSamples = request.EvalSamples,
            Augmentation = request.Augment || preset.Augment ? new AugmentationOptions() : null,
            Schedule = request.Schedule?.ToSchedule(plateauWatches) ?? preset.TrainingSchedule,
            ValidationSplit = request.ValidationSplit, EarlyStopPatience = request.EarlyStop, Monitor = monitor,
        };
        try { options.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new BadRequestException(400, e.Message.Split(" (Parameter")[0]); }
        return options;
    }

    /// <summary>Checks a request against the server's presets, data and limits (400 with the reason) and returns its preset.</summary>
    private ModelPreset Check(TrainingRequest request)
    {
        ModelPreset preset;
        try { preset = ModelPresets.Find(request.Model); }
        catch (ArgumentException e) { throw new BadRequestException(400, e.Message); }
        if (request.Epochs < 1 || request.Epochs > Limits.MaxEpochs) throw new BadRequestException(400, $"epochs must be between 1 and {Limits.MaxEpochs}");
        if (request.LearningRate is { } lr && !(lr > 0 && lr < 10)) throw new BadRequestException(400, "the learning rate must be in (0, 10)");
        if (request.TrainSamples < 0 || request.EvalSamples < 0) throw new BadRequestException(400, "sample counts must be ≥ 0");
        if (!Datasets.Contains(request.Data)) throw new BadRequestException(400, $"unknown data '{request.Data}': the server offers {string.Join(", ", Datasets)}");
        // MNIST and Fashion-MNIST are 1×28×28 in 10 classes: their networks are checked now; a folder's once it is read.
        if (request.Data is "mnist" or ImageDatasets.FashionMnistName) CheckSize(preset, preset.Spec.IsConvolutional ? [1, 28, 28] : [784], 10);
        var options = Options(request, preset);
        if (request.Data is "mnist" or ImageDatasets.FashionMnistName && options.Schedule is LearningRateSchedule.Warmup warmup)
        {
            // Their 60,000 training images bound the run's mini-batches (a folder's are counted by the trainer, which refuses the same).
            int images = request.TrainSamples > 0 ? Math.Min(request.TrainSamples, MnistTrainingImages) : MnistTrainingImages;
            long most = (long)request.Epochs * ((images + options.BatchSize - 1) / options.BatchSize);
            if (warmup.Iterations >= most)
                throw new BadRequestException(400, $"the warm-up of {warmup.Iterations} iterations is not shorter than the run (at most {most} iterations)");
        }
        return preset;
    }

    private TrainingRun Launch(TrainingRequest request, ModelPreset preset, Optimizer<float> optimizer, string? modelName, TrainingCheckpoint? resume)
    {
        lock (_runs)
        {
            if (_runs.Values.Any(r => r.Status == "running")) throw new BadRequestException(409, "a training run is already going: wait for it or cancel it");
            string id = (Interlocked.Increment(ref _counter)).ToString(CultureInfo.InvariantCulture);
            var run = new TrainingRun
            {
                Id = id, Request = request, ModelName = modelName ?? $"{ModelPrefix}{preset.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{id}", ResumedFrom = resume?.Iteration,
            };
            _runs[id] = run;
            run.Task = Task.Run(() => Train(run, preset, optimizer, resume));
            return run;
        }
    }

    /// <summary>Refuses (400) a network over <see cref="TrainingLimits.MaxParameters"/> for this input shape and class count.</summary>
    private void CheckSize(ModelPreset preset, int[] inputShape, int classes)
    {
        long parameters = preset.Architecture(inputShape, classes).Summarize().TotalParameters;
        if (parameters > Limits.MaxParameters)
            throw new BadRequestException(400, string.Create(CultureInfo.InvariantCulture,
                $"model '{preset.Name}' on {string.Join("×", inputShape)} inputs has {parameters:N0} parameters; this server trains at most {Limits.MaxParameters:N0}"));
    }

    /// <summary>
    /// Deletes the oldest models, checkpoints and metrics logs trained here until those left take at most
    /// <see cref="TrainingLimits.MaxModelBytes"/>, never the default model nor <paramref name="keep"/>'s files. A file that cannot be deleted (in use, gone) is skipped. The checkpoint of <paramref name="keep"/>,
    /// the run saving now, is not counted: it goes when the run finishes, and counts as any other once it is left
    /// behind by a run that did not finish.
    /// </summary>
    internal void Prune(string keep)
    {
        if (!Directory.Exists(modelDirectory)) return;
        string? protectedName = store?.PinnedDefault;
        long total = 0;
        var files = new DirectoryInfo(modelDirectory).EnumerateFiles(ModelPrefix + "*")
            .Select(f => (File: f, Suffix: RunFileSuffixes.FirstOrDefault(x => f.Name.EndsWith(x, StringComparison.Ordinal))))
            .Where(f => f.Suffix is not null);
        foreach (var (file, suffix) in files.OrderByDescending(f => f.File.LastWriteTimeUtc).ThenByDescending(f => f.File.Name, StringComparer.Ordinal))
        {
            string name = file.Name[..^suffix!.Length];
            if (name == keep && suffix == CheckpointFile.Extension) continue;
            if (name == keep || (name == protectedName && suffix == ModelSuffix) || total + file.Length <= Limits.MaxModelBytes) { total += file.Length; continue; }
            try { file.Delete(); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private const string ModelSuffix = ".safetensors";

    /// <summary>The files a run writes, by how their names end: its model, its checkpoint and its metrics log.</summary>
    private static readonly string[] RunFileSuffixes = [ModelSuffix, CheckpointFile.Extension, MetricsLog.FileSuffix];

    private void Train(TrainingRun run, ModelPreset preset, Optimizer<float> optimizer, TrainingCheckpoint? resume)
    {
        var description = RunCheckpoints.Description(run.Request);
        TrainingCheckpoint? lastGood = resume; // the state the run's checkpoint file holds
        MetricsLog? metrics = null;
        try
        {
            var request = run.Request;
            // A tree without test/ is split 80/20 by the run's seed, as zerodl train --test-split 0.2 would.
            var dataOptions = new ImageFolderOptions { Seed = request.Seed };
            if (request.Data != "mnist" && request.Data != ImageDatasets.FashionMnistName && ImageFolder.IsImageFolder(request.Data)
                && !Directory.Exists(Path.Combine(request.Data, "test")))
                dataOptions = dataOptions with { TestSplit = 0.2 };
            var (train, test) = request.Data == "mnist" ? Mnist.Load(directory: mnistDirectory) : ImageDatasets.Load(request.Data, dataOptions);
            if (request.TrainSamples > 0) train = train.Take(request.TrainSamples);
            // A resumed run goes on with the options its checkpoint stores, exactly.
            var options = resume?.Options ?? Options(request, preset);
            var (c, h, w) = train.ImageShape ?? (1, 1, train.SampleLength);
            int[] inputShape = preset.Spec.IsConvolutional ? [c, h, w] : [c * h * w];
            CheckSize(preset, inputShape, train.Classes);
            var net = preset.Build(inputShape, train.Classes, request.Seed);
            var classNames = train.ClassNames ?? ModelFile.DefaultClassNames(train.Classes);
            var normalization = train.Normalization ?? InputNormalization.Identity(preset.Spec.IsConvolutional ? c : 1);
            var settings = new Dictionary<string, string> { ["model"] = preset.Name, ["source"] = "web" };
            if (request.Data != "mnist") ImageDatasets.Record(request.Data, dataOptions, train, settings);
            var trainer = new Trainer(net, optimizer, train, test, options);
            if (resume is not null)
            {
                try { trainer.Restore(resume); }
                catch (ArgumentException e)
                {
                    throw new InvalidOperationException($"the checkpoint of {run.ModelName} does not fit the run its request describes (has the data changed?): {e.Message.Split(" (Parameter")[0]}");
                }
            }
            string path = Path.Combine(modelDirectory, run.ModelName + ".safetensors");
            Directory.CreateDirectory(modelDirectory);
            run.Publish(new { type = "start", model = preset.Name, data = request.Data, description = net.Architecture.Describe(), optimizer = optimizer.Name, learningRate = optimizer.LearningRate,
                iterations = trainer.TotalIterations, iterationsPerEpoch = trainer.IterationsPerEpoch, epochs = options.Epochs, augment = options.Augmentation is not null,
                resumedFrom = resume is null ? null : new { iteration = resume.Iteration, epoch = resume.Epoch } });
            metrics = OpenLog(run, preset, optimizer, trainer, $"{request.Data}: {train.Count} training and {test.Count} test images", resume);
            int every = Math.Max(1, trainer.TotalIterations / 200);
            if (resume is not null)
            {
                // The curves so far, as the run that wrote the checkpoint published them.
                for (int i = 0; i < resume.Loss.Length; i++)
                {
                    run.Record(resume.Loss[i]);
                    if ((i + 1) % every == 0) run.Publish(new { type = "batch", iteration = i + 1, loss = resume.Loss[i] });
                }
                foreach (var e in resume.Epochs)
                {
                    run.Record(e);
                    run.Publish(EpochEvent(e, run.ModelName));
                }
            }
            using var timeLimit = new CancellationTokenSource(Limits.MaxRunTime);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(run.Cancel.Token, timeLimit.Token);
            trainer.BatchCompleted += (iteration, loss) =>
            {
                run.Record(loss);
                if (iteration % every == 0) run.Publish(new { type = "batch", iteration, loss });
                AfterBatch?.Invoke(run, iteration, stop.Token);
            };
            trainer.EpochCompleted += e =>
            {
                settings["epochs_completed"] = e.Epoch.ToString(CultureInfo.InvariantCulture);
                ModelFile.Save(trainer.EvaluatedModel, path, settings, classNames: classNames, normalization: normalization);
                Prune(keep: run.ModelName);
                run.Record(e);
                run.Publish(EpochEvent(e, run.ModelName));
            };
            // At every epoch's end (after that epoch's model file) and where a cancelled run stopped.
            trainer.CheckpointReady += checkpoint =>
            {
                Checkpoints.Save(checkpoint, run.ModelName, description);
                lastGood = checkpoint;
                Prune(keep: run.ModelName);
            };
            var history = trainer.Train(stop.Token);
            string status = history.Cancelled ? "cancelled" : "done";
            string? reason = history.Cancelled && !run.Cancel.IsCancellationRequested ? $"the time limit of {Limits.MaxRunTime.TotalMinutes:0} min was reached"
                : history.StoppedEarly ? $"stopped early after epoch {history.Epochs.Count} of {options.Epochs}: {options.Monitor.Name()} did not improve for {options.EarlyStopPatience} epochs"
                : null;
            // A finished run is not interrupted: its model file holds the result, and its checkpoint would only be listed.
            if (status == "done") Checkpoints.Delete(run.ModelName);
            // No finished epoch: no accuracy (NaN, which JSON cannot hold) and no model file to name.
            bool saved = history.Epochs.Count > 0;
            End(metrics, history.Cancelled ? MetricsRunStatus.Interrupted : MetricsRunStatus.Finished, history.Loss.Count, history.Elapsed,
                testAccuracy: saved && !history.Cancelled ? EpochPoint.Finite(history.FinalTestAccuracy) : null, message: reason);
            run.Finish(status, new { type = "done", status, reason, testAccuracy = saved ? EpochPoint.Finite(history.FinalTestAccuracy) : null, seconds = history.Elapsed.TotalSeconds,
                model = saved ? run.ModelName : null, resumable = status == "cancelled" && lastGood is not null ? run.ModelName : null, stoppedEarly = history.StoppedEarly });
        }
        catch (TrainingDivergedException e)
        {
            // The trainer stopped before the bad values reached the weights, a model file or a checkpoint: the last
            // checkpoint written is good. Marked, so that it is listed as diverged and not offered for resuming.
            if (lastGood is not null)
            {
                try { Checkpoints.Save(lastGood, run.ModelName, new Dictionary<string, string>(description) { [RunCheckpoints.DivergedKey] = e.Message }); }
                catch (Exception saving) when (saving is IOException or DataFormatException or UnauthorizedAccessException) { } // unmarked, it is listed as interrupted, and resuming it diverges again with this message
            }
            End(metrics, MetricsRunStatus.Diverged, e.Iteration - 1, message: e.Message);
            run.Finish("diverged", new { type = "done", status = "diverged", error = e.Message, iteration = e.Iteration,
                model = run.EpochsDone > 0 ? run.ModelName : null, checkpointIteration = lastGood?.Iteration }, e.Message);
        }
        catch (Exception e)
        {
            End(metrics, MetricsRunStatus.Interrupted, run.IterationsDone, message: e.Message);
            run.Finish("failed", new { type = "done", status = "failed", error = e.Message }, e.Message);
        }
        finally { metrics?.Dispose(); }
    }

    /// <summary>
    /// Opens the run's metrics log beside its model (<see cref="RunLogs"/>) and attaches it to the trainer: a new log,
    /// or for a resumed run the same log cut back to the checkpoint (when the file there is not that run's, a new log
    /// begins and the reason is logged).
    /// </summary>
    private MetricsLog OpenLog(TrainingRun run, ModelPreset preset, Optimizer<float> optimizer, Trainer trainer, string data, TrainingCheckpoint? resume)
    {
        var options = trainer.Options;
        var record = new MetricsRun
        {
            Model = preset.Name, Architecture = trainer.EvaluatedModel.Architecture.Describe(), Data = data, Seed = options.Seed, BatchSize = options.BatchSize,
            // The images an epoch visits (less any validation split).
            TrainSamples = trainer.TrainingSet.Count, IterationsPerEpoch = trainer.IterationsPerEpoch, TotalIterations = trainer.TotalIterations, Started = DateTimeOffset.UtcNow,
            Options = new Dictionary<string, string>
            {
                ["source"] = "web", ["optimizer"] = optimizer.Name, ["learning_rate"] = optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture),
                ["schedule"] = options.Schedule.ToString()!, [RunCheckpoints.RequestKey] = RunCheckpoints.Description(run.Request)[RunCheckpoints.RequestKey],
            },
        };
        string path = Logs.PathOf(run.ModelName);
        MetricsLog log;
        if (resume is null) log = MetricsLog.Start(path, record);
        else
        {
            (log, string? note) = MetricsLog.Resume(path, record, resume);
            if (note is not null) _logger.LogInformation("{Run}: {Note}", run.ModelName, note);
        }
        log.Attach(trainer);
        return log;
    }

    /// <summary>Writes the log's end record; a log that cannot be written does not change how the run ended (the log says nothing, so "stopped").</summary>
    private void End(MetricsLog? log, MetricsRunStatus status, int iteration, TimeSpan? elapsed = null, double? testAccuracy = null, string? message = null)
    {
        if (log is null) return;
        try { log.End(status, iteration, elapsed, testAccuracy, message); }
        catch (IOException e) { _logger.LogWarning("{Log}: the end record could not be written: {Reason}", log.Path, e.Message); }
    }

    private static object EpochEvent(EpochResult e, string savedAs) => new
    {
        type = "epoch", epoch = e.Epoch, iteration = e.Iteration, loss = e.MeanLoss, trainAccuracy = EpochPoint.Finite(e.TrainAccuracy),
        testAccuracy = EpochPoint.Finite(e.TestAccuracy), validationAccuracy = EpochPoint.Finite(e.ValidationAccuracy),
        validationLoss = EpochPoint.Finite(e.ValidationLoss), learningRate = EpochPoint.Finite(e.LearningRate), seconds = e.Elapsed.TotalSeconds, savedAs,
    };
}
