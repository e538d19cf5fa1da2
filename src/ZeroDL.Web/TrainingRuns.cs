using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Web;

/// <summary>What the Train page asks for: a preset model and the settings to change.</summary>
public sealed record TrainingRequest(string Model = ModelPresets.Default, string? Optimizer = null, double? LearningRate = null, int Epochs = 1,
    bool Augment = false, int TrainSamples = 0, int EvalSamples = 2000, int Seed = 1);

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
public sealed class TrainingRuns(string modelDirectory, string? mnistDirectory)
{
    private readonly ConcurrentDictionary<string, TrainingRun> _runs = new();
    private int _counter;

    public TrainingRun? Find(string id) => _runs.GetValueOrDefault(id);
    public IEnumerable<TrainingRun> All => _runs.Values.OrderBy(r => r.Id, StringComparer.Ordinal);

    public TrainingRun Start(TrainingRequest request)
    {
        ModelPreset preset;
        try { preset = ModelPresets.Find(request.Model); }
        catch (ArgumentException e) { throw new BadRequestException(400, e.Message); }
        if (request.Epochs is < 1 or > 100) throw new BadRequestException(400, "epochs must be between 1 and 100");
        if (request.LearningRate is { } lr && !(lr > 0 && lr < 10)) throw new BadRequestException(400, "the learning rate must be in (0, 10)");
        if (request.TrainSamples < 0 || request.EvalSamples < 0) throw new BadRequestException(400, "sample counts must be ≥ 0");
        string optimizerName = request.Optimizer ?? preset.Optimizer;
        Optimizer<float> optimizer;
        try { optimizer = Optimizer<float>.Create(optimizerName, request.LearningRate ?? (request.Optimizer is null ? preset.LearningRate : null)); }
        catch (ArgumentException e) { throw new BadRequestException(400, e.Message.Split(" (Parameter")[0]); }
        lock (_runs)
        {
            if (_runs.Values.Any(r => r.Status == "running")) throw new BadRequestException(409, "a training run is already going: wait for it or cancel it");
            string id = (Interlocked.Increment(ref _counter)).ToString(CultureInfo.InvariantCulture);
            var run = new TrainingRun { Id = id, Request = request, ModelName = $"web-{preset.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{id}" };
            _runs[id] = run;
            _ = Task.Run(() => Train(run, preset, optimizer));
            return run;
        }
    }

    private void Train(TrainingRun run, ModelPreset preset, Optimizer<float> optimizer)
    {
        try
        {
            var request = run.Request;
            var (train, test) = Mnist.Load(directory: mnistDirectory);
            if (request.TrainSamples > 0) train = train.Take(request.TrainSamples);
            var options = new TrainerOptions
            {
                Epochs = request.Epochs, BatchSize = preset.BatchSize, Seed = request.Seed, EvaluationSamples = request.EvalSamples,
                Augmentation = request.Augment || preset.Augment ? new AugmentationOptions() : null,
                Schedule = preset.Schedule,
            };
            var net = preset.Build(preset.Spec.MnistInputShape, classes: 10, request.Seed);
            var trainer = new Trainer(net, optimizer, train, test, options);
            string path = Path.Combine(modelDirectory, run.ModelName + ".safetensors");
            Directory.CreateDirectory(modelDirectory);
            run.Publish(new { type = "start", model = preset.Name, description = preset.Spec.Describe(), optimizer = optimizer.Name, learningRate = optimizer.LearningRate,
                iterations = trainer.TotalIterations, iterationsPerEpoch = trainer.IterationsPerEpoch, epochs = request.Epochs, augment = request.Augment });
            int every = Math.Max(1, trainer.TotalIterations / 200);
            trainer.BatchCompleted += (iteration, loss) => { if (iteration % every == 0) run.Publish(new { type = "batch", iteration, loss }); };
            trainer.EpochCompleted += e =>
            {
                ModelFile.Save(trainer.EvaluatedModel, path, new Dictionary<string, string> { ["model"] = preset.Name, ["epochs_completed"] = e.Epoch.ToString(CultureInfo.InvariantCulture), ["source"] = "web" });
                run.Publish(new { type = "epoch", epoch = e.Epoch, iteration = e.Iteration, loss = e.MeanLoss, trainAccuracy = e.TrainAccuracy, testAccuracy = e.TestAccuracy, seconds = e.Elapsed.TotalSeconds, savedAs = run.ModelName });
            };
            var history = trainer.Train(run.Cancel.Token);
            string status = history.Cancelled ? "cancelled" : "done";
            run.Finish(status, new { type = "done", status, testAccuracy = history.FinalTestAccuracy, seconds = history.Elapsed.TotalSeconds, model = history.Epochs.Count > 0 ? run.ModelName : null });
        }
        catch (Exception e)
        {
            run.Finish("failed", new { type = "done", status = "failed", error = e.Message });
        }
    }
}
