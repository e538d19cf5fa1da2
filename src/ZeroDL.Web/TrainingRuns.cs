using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Web;

/// <summary>
/// What the Train page asks for: a preset model, the data to train it on (one of <see cref="TrainingRuns.Datasets"/>:
/// "mnist", "fashion-mnist" or a folder the server was started with) and the settings to change.
/// </summary>
public sealed record TrainingRequest(string Model = ModelPresets.Default, string? Optimizer = null, double? LearningRate = null, int Epochs = 1,
    bool Augment = false, int TrainSamples = 0, int EvalSamples = 2000, int Seed = 1, string Data = "mnist");

/// <summary>One training run started from the web app: its events so far (for Server-Sent Events) and its outcome.</summary>
public sealed class TrainingRun
{
    private readonly List<string> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public required string Id { get; init; }
    public required TrainingRequest Request { get; init; }
    public required string ModelName { get; init; }
    /// <summary>"running", then "done", "cancelled" or "failed" — set by <see cref="Finish"/> only, together with the last event.</summary>
    public string Status { get; private set; } = "running";
    internal CancellationTokenSource Cancel { get; } = new();
    /// <summary>The training itself; it ends (never faults) once the run has finished.</summary>
    internal Task Task { get; set; } = Task.CompletedTask;

    /// <summary>Asks the run to stop after its current mini-batch.</summary>
    public void RequestCancel() => Cancel.Cancel();

    internal void Publish(object payload)
    {
        lock (_events)
        {
            _events.Add(JsonSerializer.Serialize(payload, JsonSerializerOptions.Web));
            var changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.SetResult();
        }
    }

    /// <summary>
    /// Ends the run: its status and its last event change together, under the lock <see cref="Read"/> takes, so that a
    /// reader told the run has finished already holds that last event. (Setting the status first let an event stream
    /// see the run finished, find no new event, and close before the "done" event was written.)
    /// </summary>
    internal void Finish(string status, object payload)
    {
        lock (_events)
        {
            Status = status;
            Publish(payload);
        }
    }

    /// <summary>The events from index <paramref name="from"/> on, and a task that completes when more arrive.</summary>
    public (IReadOnlyList<string> Events, Task Changed, bool Finished) Read(int from)
    {
        lock (_events) return (_events.Skip(from).ToList(), _changed.Task, Status != "running");
    }
}

/// <summary>
/// Starts and tracks training runs. One run at a time: training uses every core, and a second run would only slow
/// both. Each finished epoch is saved atomically into the models folder, where the Draw page can pick it up.
/// </summary>
/// <remarks>
/// A request is held to <see cref="TrainingLimits"/>: epochs and parameter count are checked before the run starts
/// (400), a second run while one goes gets 409, a run stops at the time limit, and after each save the oldest models
/// trained here are deleted beyond the disk budget. Their files are named <see cref="ModelPrefix"/>…; none of them
/// becomes the server's default model (<see cref="ModelStore"/>).
/// </remarks>
public sealed class TrainingRuns(string modelDirectory, string? mnistDirectory, IReadOnlyList<string>? trainingData = null,
    TrainingLimits? limits = null, ModelStore? store = null)
{
    /// <summary>How the name of every model trained from the web app begins ("web-dense-20261206-021500-1").</summary>
    public const string ModelPrefix = "web-";

    /// <summary>The limits requests are held to.</summary>
    public TrainingLimits Limits { get; } = limits ?? new TrainingLimits();

    /// <summary>
    /// The data the Train page offers: MNIST, Fashion-MNIST when Debian's package is installed, and the folders the
    /// server was given (zerodl serve --train-data DIR). Only these: a request cannot name another path on the server.
    /// </summary>
    public IReadOnlyList<string> Datasets =>
        [.. new[] { "mnist" }.Concat(File.Exists(Path.Combine(ImageDatasets.FashionMnistDirectory, "train-images-idx3-ubyte.gz")) ? [ImageDatasets.FashionMnistName] : [])
            .Concat(trainingData ?? [])];

    private readonly ConcurrentDictionary<string, TrainingRun> _runs = new();
    private int _counter;

    public TrainingRun? Find(string id) => _runs.GetValueOrDefault(id);

    /// <summary>
    /// Cancels every running run and waits up to <paramref name="wait"/> for them to end. The server calls it when it
    /// stops: a run left going would be cut off by the process exit, in the middle of writing its model file.
    /// </summary>
    public void StopAll(TimeSpan wait)
    {
        var running = _runs.Values.Where(r => r.Status == "running").ToList();
        foreach (var run in running) run.RequestCancel();
        Task.WaitAll([.. running.Select(r => r.Task)], wait);
    }
    public IEnumerable<TrainingRun> All => _runs.Values.OrderBy(r => r.Id, StringComparer.Ordinal);

    public TrainingRun Start(TrainingRequest request)
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
        string optimizerName = request.Optimizer ?? preset.Optimizer;
        Optimizer<float> optimizer;
        try { optimizer = Optimizer<float>.Create(optimizerName, request.LearningRate ?? (request.Optimizer is null ? preset.LearningRate : null)); }
        catch (ArgumentException e) { throw new BadRequestException(400, e.Message.Split(" (Parameter")[0]); }
        lock (_runs)
        {
            if (_runs.Values.Any(r => r.Status == "running")) throw new BadRequestException(409, "a training run is already going: wait for it or cancel it");
            string id = (Interlocked.Increment(ref _counter)).ToString(CultureInfo.InvariantCulture);
            var run = new TrainingRun { Id = id, Request = request, ModelName = $"{ModelPrefix}{preset.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{id}" };
            _runs[id] = run;
            run.Task = Task.Run(() => Train(run, preset, optimizer));
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
    /// Deletes the oldest models trained here until those left take at most <see cref="TrainingLimits.MaxModelBytes"/>,
    /// never the default model nor <paramref name="keep"/>. A file that cannot be deleted (in use, gone) is skipped.
    /// </summary>
    internal void Prune(string keep)
    {
        if (!Directory.Exists(modelDirectory)) return;
        string? protectedName = store?.PinnedDefault;
        long total = 0;
        foreach (var file in new DirectoryInfo(modelDirectory).EnumerateFiles(ModelPrefix + "*.safetensors").OrderByDescending(f => f.LastWriteTimeUtc).ThenByDescending(f => f.Name, StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(file.Name);
            if (name == keep || name == protectedName || total + file.Length <= Limits.MaxModelBytes) { total += file.Length; continue; }
            try { file.Delete(); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private void Train(TrainingRun run, ModelPreset preset, Optimizer<float> optimizer)
    {
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
            var options = new TrainerOptions
            {
                Epochs = request.Epochs, BatchSize = preset.BatchSize, Seed = request.Seed, EvaluationSamples = request.EvalSamples,
                Augmentation = request.Augment || preset.Augment ? new AugmentationOptions() : null,
                Schedule = preset.TrainingSchedule,
            };
            var (c, h, w) = train.ImageShape ?? (1, 1, train.SampleLength);
            int[] inputShape = preset.Spec.IsConvolutional ? [c, h, w] : [c * h * w];
            CheckSize(preset, inputShape, train.Classes);
            var net = preset.Build(inputShape, train.Classes, request.Seed);
            var classNames = train.ClassNames ?? ModelFile.DefaultClassNames(train.Classes);
            var normalization = train.Normalization ?? InputNormalization.Identity(preset.Spec.IsConvolutional ? c : 1);
            var settings = new Dictionary<string, string> { ["model"] = preset.Name, ["source"] = "web" };
            if (request.Data != "mnist") ImageDatasets.Record(request.Data, dataOptions, train, settings);
            var trainer = new Trainer(net, optimizer, train, test, options);
            string path = Path.Combine(modelDirectory, run.ModelName + ".safetensors");
            Directory.CreateDirectory(modelDirectory);
            run.Publish(new { type = "start", model = preset.Name, data = request.Data, description = net.Architecture.Describe(), optimizer = optimizer.Name, learningRate = optimizer.LearningRate,
                iterations = trainer.TotalIterations, iterationsPerEpoch = trainer.IterationsPerEpoch, epochs = request.Epochs, augment = request.Augment });
            int every = Math.Max(1, trainer.TotalIterations / 200);
            trainer.BatchCompleted += (iteration, loss) => { if (iteration % every == 0) run.Publish(new { type = "batch", iteration, loss }); };
            trainer.EpochCompleted += e =>
            {
                settings["epochs_completed"] = e.Epoch.ToString(CultureInfo.InvariantCulture);
                ModelFile.Save(trainer.EvaluatedModel, path, settings, classNames: classNames, normalization: normalization);
                    Prune(keep: run.ModelName);
                run.Publish(new { type = "epoch", epoch = e.Epoch, iteration = e.Iteration, loss = e.MeanLoss, trainAccuracy = e.TrainAccuracy, testAccuracy = e.TestAccuracy, seconds = e.Elapsed.TotalSeconds, savedAs = run.ModelName });
            };
            using var timeLimit = new CancellationTokenSource(Limits.MaxRunTime);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(run.Cancel.Token, timeLimit.Token);
            var history = trainer.Train(stop.Token);
            string status = history.Cancelled ? "cancelled" : "done";
            string? reason = history.Cancelled && !run.Cancel.IsCancellationRequested ? $"the time limit of {Limits.MaxRunTime.TotalMinutes:0} min was reached" : null;
            // No finished epoch: no accuracy (NaN, which JSON cannot hold) and no model file to name.
            bool saved = history.Epochs.Count > 0;
            run.Finish(status, new { type = "done", status, reason, testAccuracy = saved ? history.FinalTestAccuracy : (double?)null, seconds = history.Elapsed.TotalSeconds, model = saved ? run.ModelName : null });
        }
        catch (Exception e)
        {
            run.Finish("failed", new { type = "done", status = "failed", error = e.Message });
        }
    }
}
