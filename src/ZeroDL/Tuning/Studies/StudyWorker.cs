using ZeroDL.Data;
using ZeroDL.Kernels;

namespace ZeroDL.Tuning.Studies;

/// <summary>How one worker of a shared study behaves.</summary>
public sealed record StudyWorkerOptions
{
    /// <summary>This worker's name in the trials table (default: host, process id and a random suffix).</summary>
    public string Worker { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
    /// <summary>
    /// A running trial whose heartbeat is older than this is taken to have lost its worker: it is marked failed and its
    /// point handed out again. Workers beat every quarter of it. Default 60 s: far above a database round trip,
    /// short against a search of many trials.
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long a worker waits before asking again when every trial left is running elsewhere.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Threads each trial's training uses (1: run one worker per core).</summary>
    public int Threads { get; init; } = 1;
}

/// <summary>What a worker did: the trials it completed, and those it lost (declared dead before it finished) or that failed.</summary>
public sealed record StudyWorkerSummary(IReadOnlyList<Trial> Completed, int Lost, int Failed);

/// <summary>
/// One worker of a shared study (<see cref="StudyStorage"/>): claims a trial, trains it while a timer keeps its
/// heartbeat, stores the result, and goes on until no trial is waiting or running. Any number of workers, in any
/// processes on any machines, may work on one study; each trial's training is seeded by its number, so a study's
/// results do not depend on which worker ran what.
/// </summary>
public sealed class StudyWorker(StudyStorage storage, string study, SearchOptions options, Dataset trainingData, StudyWorkerOptions? workerOptions = null)
{
    private readonly StudyWorkerOptions _options = workerOptions ?? new StudyWorkerOptions();

    /// <summary>A trial was claimed (before its training).</summary>
    public event Action<ClaimedTrial>? Claimed;
    /// <summary>A trial's result was stored.</summary>
    public event Action<Trial>? Completed;
    /// <summary>A trial was no longer this worker's when it finished (its heartbeat was late); its result was dropped.</summary>
    public event Action<ClaimedTrial>? Lost;
    /// <summary>A trial's training threw; it was marked failed and queued again (up to <see cref="StudyStorage.MaxAttempts"/>).</summary>
    public event Action<ClaimedTrial, Exception>? Failed;
    /// <summary>The run was cancelled while the trial trained: the trial was handed back (<see cref="StudyStorage.Release"/>).</summary>
    public event Action<ClaimedTrial>? Released;
    /// <summary>Storing a trial's outcome met a transient database error and is tried again, for up to the given time (once per outage).</summary>
    public event Action<Exception, TimeSpan>? StoreRetrying;

    public string Worker => _options.Worker;

    /// <summary>
    /// Creates or joins the study and works on it until it is over or <paramref name="cancel"/> is set; a trial then in
    /// training stops after its current mini-batch and is handed back for another worker.
    /// </summary>
    public StudyWorkerSummary Run(CancellationToken cancel = default)
    {
        storage.EnsureSchema();
        storage.CreateOrJoin(study, options);
        var (train, validation) = HyperparameterSearch.Split(trainingData, options);
        var completed = new List<Trial>();
        int lost = 0, failed = 0;
        using var threads = Gemm.LimitThreadsOnThisThread(_options.Threads);
        while (!cancel.IsCancellationRequested)
        {
            var claim = storage.Claim(study, _options.Worker, _options.HeartbeatTimeout, out bool finished);
            if (claim is null)
            {
                if (finished) break;
                cancel.WaitHandle.WaitOne(_options.PollInterval);
                continue;
            }
            Claimed?.Invoke(claim);
            Trial result;
            using (Beat(claim))
            {
                try { result = HyperparameterSearch.Evaluate(claim.Number, claim.Point, train, validation, options, cancel); }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    Store(() => { storage.Release(claim.Id, _options.Worker); return true; });
                    Released?.Invoke(claim);
                    break;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Store(() => { storage.Fail(claim.Id, _options.Worker, e.Message); return true; });
                    failed++;
                    Failed?.Invoke(claim, e);
                    continue;
                }
            }
            if (Store(() => storage.Complete(claim.Id, _options.Worker, result))) { completed.Add(result); Completed?.Invoke(result); }
            else { lost++; Lost?.Invoke(claim); }
        }
        return new StudyWorkerSummary(completed, lost, failed);
    }

    /// <summary>
    /// Stores a trial's outcome, trying again while the database is out of reach (a transient error: a restart, a
    /// dropped connection) for up to the heartbeat timeout, so that a short outage does not cost a trained trial (one
    /// longer than the timeout, counted from the trial's last heartbeat, lets the trial go stale and be run again).
    /// Safe to repeat: the update applies only while the trial is still running and this worker's, and a completion
    /// whose commit went through but whose reply was lost is found stored by the retry (<see cref="StudyStorage.Complete"/>).
    /// </summary>
    private T Store<T>(Func<T> store)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool told = false;
        while (true)
        {
            try { return store(); }
            catch (Exception e) when (Transient(e) && clock.Elapsed < _options.HeartbeatTimeout)
            {
                if (!told) StoreRetrying?.Invoke(e, _options.HeartbeatTimeout);
                told = true;
                Thread.Sleep(_options.PollInterval);
            }
        }
    }

    /// <summary>
    /// Whether a database error may pass by itself: the driver's transient errors, a timeout, and PostgreSQL's server
    /// shutting down or starting (57P01–57P03: a restart in pg_ctl's default fast mode, which the driver does not count
    /// as transient).
    /// </summary>
    private static bool Transient(Exception e) =>
        e is TimeoutException or System.Data.Common.DbException { IsTransient: true } or System.Data.Common.DbException { SqlState: "57P01" or "57P02" or "57P03" };

    /// <summary>A timer that marks the claimed trial alive every quarter of the timeout until disposed.</summary>
    private Timer Beat(ClaimedTrial claim)
    {
        var period = _options.HeartbeatTimeout / 4;
        return new Timer(_ =>
        {
            // A database that cannot be reached for a moment is retried at the next beat; one that stays away lets
            // the trial go stale, which is the truth: nobody can hear from this worker.
            try { storage.Heartbeat(claim.Id, _options.Worker); }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException) { }
        }, null, period, period);
    }
}
