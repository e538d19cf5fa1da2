using System.Text.Json;
using ZeroDL.Training;

namespace ZeroDL.Web;

/// <summary>One training run started from the web app: its events so far (for Server-Sent Events), its curves and its outcome.</summary>
public sealed class TrainingRun
{
    private readonly List<string> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<EpochResult> _epochs = [];
    private readonly List<double> _loss = [];

    public required string Id { get; init; }
    public required TrainingRequest Request { get; init; }
    /// <summary>The model file's name (without extension), also its checkpoint's; a resumed run keeps the name of the run it continues.</summary>
    public required string ModelName { get; init; }
    /// <summary>The iteration of the checkpoint this run continues from; null for a run started afresh.</summary>
    public int? ResumedFrom { get; init; }
    /// <summary>
    /// "running", then "done", "cancelled", "failed" or "diverged" — set by <see cref="Finish"/> only, together with the last event.
    /// </summary>
    public string Status { get; private set; } = "running";
    /// <summary>Why a run failed or diverged (for a diverged run, the message of its <see cref="TrainingDivergedException"/>); else null.</summary>
    public string? Error { get; private set; }
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
    /// Ends the run: its status, error and last event change together, under the lock <see cref="Read"/> takes, so that a
    /// reader told the run has finished already holds that last event. (Setting the status first let an event stream
    /// see the run finished, find no new event, and close before the "done" event was written.)
    /// </summary>
    internal void Finish(string status, object payload, string? error = null)
    {
        lock (_events)
        {
            Status = status;
            Error = error;
            Publish(payload);
        }
    }

    /// <summary>The events from index <paramref name="from"/> on, and a task that completes when more arrive.</summary>
    public (IReadOnlyList<string> Events, Task Changed, bool Finished) Read(int from)
    {
        lock (_events) return (_events.Skip(from).ToList(), _changed.Task, Status != "running");
    }

    /// <summary>Records a finished mini-batch's loss, for <see cref="Curves"/>.</summary>
    internal void Record(double loss) { lock (_loss) _loss.Add(loss); }

    /// <summary>Records a finished epoch, for <see cref="Curves"/>.</summary>
    internal void Record(EpochResult epoch) { lock (_loss) _epochs.Add(epoch); }

    /// <summary>Mini-batches done so far (those of the checkpoint it resumed from included).</summary>
    public int IterationsDone { get { lock (_loss) return _loss.Count; } }

    /// <summary>Finished epochs so far (those of the checkpoint it resumed from included).</summary>
    public int EpochsDone { get { lock (_loss) return _epochs.Count; } }

    /// <summary>The run's curves so far: every finished epoch and the mini-batch loss (those before a resume included).</summary>
    public RunCurves Curves()
    {
        lock (_loss) return RunCurves.From(Id, ModelName, Status, [.. _epochs], [.. _loss]);
    }
}
