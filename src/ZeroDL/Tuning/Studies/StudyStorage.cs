using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;

namespace ZeroDL.Tuning.Studies;

/// <summary>The point a worker claimed: attempt <see cref="Attempt"/> at trial <see cref="Number"/>, at <see cref="Point"/> (unit box).</summary>
public sealed record ClaimedTrial(long Id, int Number, int Attempt, double[] Point);

/// <summary>
/// A hyper-parameter search kept in a relational database, so that any number of worker processes on any machines
/// work on one study (<see cref="StudyWorker"/>). One schema and one code path through ADO.NET; what differs per
/// database is in <see cref="StudyDialect"/>. The tables (docs/scale-out.md shows them):
/// <list type="bullet">
/// <item><c>zerodl_studies</c>: one row per study — name, method, the search options as JSON (a worker that joins
/// with other options is refused), creation time.</item>
/// <item><c>zerodl_trials</c>: one row per attempt at a trial — study, number, attempt, state, the point (unit box
/// and the rates it stands for), the worker, the heartbeat, the accuracies or the error. A unique index on (study,
/// number) over the rows that are not failed means no point is ever evaluated twice, whatever the workers do.</item>
/// </list>
/// Every trial of a grid or random search is written as waiting when the study is created, with its point; a
/// Bayesian trial past the first random ones gets its point when it is claimed. Times are the database server's
/// clock (milliseconds since 1970), so workers' clocks need not agree.
/// </summary>
public sealed class StudyStorage
{
    /// <summary>Failed attempts at one trial before it is left failed (interruptions not counted): a trial whose training throws every time must not loop forever.</summary>
    public const int MaxAttempts = 3;

    private readonly Func<DbConnection> _connect;

    /// <param name="connect">Makes a new, closed connection to the database (the storage opens and disposes it).</param>
    /// <param name="dialect">The database's SQL differences (<see cref="StudyDialect.Sqlite"/>, <see cref="StudyDialect.PostgreSql"/>).</param>
    public StudyStorage(Func<DbConnection> connect, StudyDialect dialect)
    {
        _connect = connect;
        Dialect = dialect;
    }

    public StudyDialect Dialect { get; }

    /// <summary>Creates the tables and indexes if they are missing (safe when several workers start at once).</summary>
    public void EnsureSchema()
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        if (Dialect.LockSchema is { } lockSchema) Execute(connection, transaction, lockSchema);
        Execute(connection, transaction, """
            CREATE TABLE IF NOT EXISTS zerodl_studies (
                name TEXT PRIMARY KEY,
                method TEXT NOT NULL,
                options TEXT NOT NULL,
                trials INTEGER NOT NULL,
                claims BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL)
            """);
        Execute(connection, transaction, $"""
            CREATE TABLE IF NOT EXISTS zerodl_trials (
                id {Dialect.IdColumn},
                study TEXT NOT NULL REFERENCES zerodl_studies(name),
                number INTEGER NOT NULL,
                attempt INTEGER NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('waiting', 'running', 'complete', 'failed')),
                x0 {Dialect.RealType},
                x1 {Dialect.RealType},
                learning_rate {Dialect.RealType},
                weight_decay {Dialect.RealType},
                validation_accuracy {Dialect.RealType},
                train_accuracy {Dialect.RealType},
                worker TEXT,
                error TEXT,
                started_at BIGINT,
                heartbeat_at BIGINT,
                finished_at BIGINT)
            """);
        Execute(connection, transaction, "CREATE UNIQUE INDEX IF NOT EXISTS zerodl_trials_one_live_attempt ON zerodl_trials (study, number) WHERE state <> 'failed'");
        Execute(connection, transaction, "CREATE INDEX IF NOT EXISTS zerodl_trials_by_state ON zerodl_trials (study, state, number)");
        transaction.Commit();
    }

    /// <summary>
    /// Creates study <paramref name="study"/> with <paramref name="options"/> and its waiting trials, or joins it if
    /// it exists with the same options (<see cref="SearchOptions.Parallelism"/> aside, which does not change a trial).
    /// </summary>
    /// <exception cref="ArgumentException">the study exists with other options (the message names the first that differs).</exception>
    public void CreateOrJoin(string study, SearchOptions options)
    {
        options = Normalised(options.Validated());
        string json = JsonSerializer.Serialize(options);
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        int created = Execute(connection, transaction,
            $"INSERT INTO zerodl_studies (name, method, options, trials, created_at) VALUES (@study, @method, @options, @trials, {Dialect.NowMilliseconds}) ON CONFLICT (name) DO NOTHING",
            ("study", study), ("method", options.Method), ("options", json), ("trials", options.Trials));
        if (created == 1)
        {
            for (int number = 0; number < options.Trials; number++)
            {
                double[]? point = options.Method == "bayes" && number >= options.InitialRandomTrials ? null : HyperparameterSearch.PointOf(number, options);
                InsertWaiting(connection, transaction, study, number, 1, point, options);
            }
        }
        else
        {
            var stored = StoredOptions(connection, transaction, study);
            if (stored != options) throw new ArgumentException($"study '{study}' exists with other options: {Difference(stored, options)}");
        }
        transaction.Commit();
    }

    /// <summary>
    /// The options study <paramref name="study"/> was created with, or null if there is no such study (nor, perhaps,
    /// any table: this only reads, so that a report works where the database cannot be written).
    /// </summary>
    public SearchOptions? Options(string study)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        if (Convert.ToInt64(Scalar(connection, transaction, Dialect.StudiesTableExists), CultureInfo.InvariantCulture) == 0) return null;
        return StudyExists(connection, transaction, study) ? StoredOptions(connection, transaction, study) : null;
    }

    /// <summary>
    /// Claims the next trial of <paramref name="study"/> for <paramref name="worker"/>, atomically: first every running
    /// trial whose heartbeat is older than <paramref name="heartbeatTimeout"/> is marked failed and its point queued
    /// again (until the trial has failed <see cref="MaxAttempts"/> times); then the waiting trial of lowest number is taken. A Bayesian point is
    /// proposed here, from every complete trial and with the running ones counted at the model's mean.
    /// Returns null when nothing is waiting; <paramref name="finished"/> then says whether nothing is running either
    /// (the study is over, unless a failed trial ran out of attempts).
    /// </summary>
    public ClaimedTrial? Claim(string study, string worker, TimeSpan heartbeatTimeout, out bool finished)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        var options = StoredOptions(connection, transaction, study);
        bool bayes = options.Method == "bayes";
        if (Dialect.LockStudyOnEveryClaim || bayes) Execute(connection, transaction, Dialect.LockStudy, ("study", study));

        var stale = Rows(connection, transaction,
            $"UPDATE zerodl_trials SET state = 'failed', error = 'heartbeat stopped', finished_at = {Dialect.NowMilliseconds} " +
            $"WHERE study = @study AND state = 'running' AND heartbeat_at < {Dialect.NowMilliseconds} - @timeout RETURNING number, attempt, x0, x1",
            r => (Number: ToInt(r[0]), Attempt: ToInt(r[1]), Point: PointOf(r[2], r[3])), ("study", study), ("timeout", (long)heartbeatTimeout.TotalMilliseconds));
        foreach (var (number, attempt, point) in stale)
            if (Failures(connection, transaction, study, number) < MaxAttempts) InsertWaiting(connection, transaction, study, number, attempt + 1, point, options);

        var next = Rows(connection, transaction,
            "SELECT id, number, attempt, x0, x1 FROM zerodl_trials WHERE study = @study AND state = 'waiting' ORDER BY number, id LIMIT 1" + Dialect.SkipLocked,
            r => (Id: ToLong(r[0]), Number: ToInt(r[1]), Attempt: ToInt(r[2]), Point: PointOf(r[3], r[4])), ("study", study));
        if (next.Count == 0)
        {
            long running = Convert.ToInt64(Scalar(connection, transaction, "SELECT COUNT(*) FROM zerodl_trials WHERE study = @study AND state = 'running'", ("study", study)), CultureInfo.InvariantCulture);
            transaction.Commit();
            finished = running == 0;
            return null;
        }
        var (id, claimed, tries, known) = next[0];
        double[] chosen = known ?? Propose(connection, transaction, study, claimed, options);
        var (lr, wd) = HyperparameterSearch.FromUnit(chosen, options);
        Execute(connection, transaction,
            $"UPDATE zerodl_trials SET state = 'running', worker = @worker, x0 = @x0, x1 = @x1, learning_rate = @lr, weight_decay = @wd, " +
            $"started_at = {Dialect.NowMilliseconds}, heartbeat_at = {Dialect.NowMilliseconds} WHERE id = @id",
            ("worker", worker), ("x0", chosen[0]), ("x1", chosen[1]), ("lr", lr), ("wd", wd), ("id", id));
        transaction.Commit();
        finished = false;
        return new ClaimedTrial(id, claimed, tries, chosen);
    }

    /// <summary>Marks the trial alive now. False when it is no longer this worker's (it was declared dead and handed out again).</summary>
    public bool Heartbeat(long id, string worker)
    {
        using var connection = Open();
        return Execute(connection, null, $"UPDATE zerodl_trials SET heartbeat_at = {Dialect.NowMilliseconds} WHERE id = @id AND worker = @worker AND state = 'running'",
            ("id", id), ("worker", worker)) == 1;
    }

    /// <summary>
    /// Stores the trial's result. True also when the trial already holds this result from this worker: a retry
    /// after the reply to a commit was lost (the connection dropped) finds it stored. False (nothing stored) when the
    /// trial is no longer this worker's.
    /// </summary>
    public bool Complete(long id, string worker, Trial result)
    {
        using var connection = Open();
        if (Execute(connection, null,
            $"UPDATE zerodl_trials SET state = 'complete', validation_accuracy = @validation, train_accuracy = @train, finished_at = {Dialect.NowMilliseconds} " +
            "WHERE id = @id AND worker = @worker AND state = 'running'",
            ("validation", result.ValidationAccuracy), ("train", result.TrainAccuracy), ("id", id), ("worker", worker)) == 1) return true;
        // A complete row never changes again, so reading it outside the update's transaction is safe. The accuracies
        // are compared exactly: both databases keep a double's 64 bits.
        var stored = Rows(connection, null,
            "SELECT validation_accuracy, train_accuracy FROM zerodl_trials WHERE id = @id AND worker = @worker AND state = 'complete'",
            r => (Validation: Nullable(r[0]), Train: Nullable(r[1])), ("id", id), ("worker", worker));
        return stored.Count == 1 && stored[0].Validation == result.ValidationAccuracy && stored[0].Train == result.TrainAccuracy;
    }

    /// <summary>Marks the trial failed with <paramref name="error"/> and queues its point again (until the trial has failed <see cref="MaxAttempts"/> times).</summary>
    public void Fail(long id, string worker, string error) => EndAttempt(id, worker, error, requeueAlways: false);

    /// <summary>
    /// Hands back a trial its worker stopped training (a signal asked the worker to stop): the attempt is marked failed
    /// with <see cref="ReleasedError"/> and its point queued again at once, whatever the attempts so far (an interruption
    /// says nothing about the trial), instead of staying running until its heartbeat is found stale.
    /// </summary>
    public void Release(long id, string worker) => EndAttempt(id, worker, ReleasedError, requeueAlways: true);

    /// <summary>The error of an attempt handed back by <see cref="Release"/>: such attempts are not failures of the trial.</summary>
    public const string ReleasedError = "its worker was stopped (interrupted); handed back";

    private void EndAttempt(long id, string worker, string error, bool requeueAlways)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        var failed = Rows(connection, transaction,
            $"UPDATE zerodl_trials SET state = 'failed', error = @error, finished_at = {Dialect.NowMilliseconds} WHERE id = @id AND worker = @worker AND state = 'running' RETURNING study, number, attempt, x0, x1",
            r => (Study: (string)r[0], Number: ToInt(r[1]), Attempt: ToInt(r[2]), Point: PointOf(r[3], r[4])), ("error", error), ("id", id), ("worker", worker));
        foreach (var (study, number, attempt, point) in failed)
            if (requeueAlways || Failures(connection, transaction, study, number) < MaxAttempts) InsertWaiting(connection, transaction, study, number, attempt + 1, point, StoredOptions(connection, transaction, study));
        transaction.Commit();
    }

    /// <summary>
    /// The attempts at trial <paramref name="number"/> that failed, the one just marked included: those handed back by
    /// <see cref="Release"/> are not counted, so interruptions never use up <see cref="MaxAttempts"/>.
    /// </summary>
    private static long Failures(DbConnection connection, DbTransaction transaction, string study, int number) =>
        Convert.ToInt64(Scalar(connection, transaction,
            "SELECT COUNT(*) FROM zerodl_trials WHERE study = @study AND number = @number AND state = 'failed' AND (error IS NULL OR error <> @released)",
            ("study", study), ("number", number), ("released", ReleasedError)), CultureInfo.InvariantCulture);

    /// <summary>Every attempt at every trial of the study, by number and then attempt.</summary>
    public IReadOnlyList<StoredTrial> Trials(string study)
    {
        using var connection = Open();
        return Rows(connection, null,
            "SELECT id, number, attempt, state, learning_rate, weight_decay, validation_accuracy, train_accuracy, worker, error FROM zerodl_trials WHERE study = @study ORDER BY number, attempt",
            r => new StoredTrial(ToLong(r[0]), ToInt(r[1]), ToInt(r[2]), Enum.Parse<TrialState>((string)r[3], ignoreCase: true),
                Nullable(r[4]), Nullable(r[5]), Nullable(r[6]), Nullable(r[7]), r[8] as string, r[9] as string),
            ("study", study));
    }

    /// <summary>Bayes: the point for trial <paramref name="number"/>, from the complete trials and the running points.</summary>
    private double[] Propose(DbConnection connection, DbTransaction transaction, string study, int number, SearchOptions options)
    {
        var finished = Rows(connection, transaction,
            "SELECT number, learning_rate, weight_decay, validation_accuracy, train_accuracy FROM zerodl_trials WHERE study = @study AND state = 'complete' ORDER BY number",
            r => new Trial(ToInt(r[0]), ToDouble(r[1]), ToDouble(r[2]), ToDouble(r[3]), ToDouble(r[4])), ("study", study));
        var running = Rows(connection, transaction,
            "SELECT x0, x1 FROM zerodl_trials WHERE study = @study AND state = 'running' ORDER BY number",
            r => PointOf(r[0], r[1])!, ("study", study));
        return HyperparameterSearch.ProposeBayes(finished, running, number, options);
    }

    private void InsertWaiting(DbConnection connection, DbTransaction transaction, string study, int number, int attempt, double[]? point, SearchOptions options)
    {
        (double Lr, double Wd)? rates = point is null ? null : HyperparameterSearch.FromUnit(point, options);
        Execute(connection, transaction,
            "INSERT INTO zerodl_trials (study, number, attempt, state, x0, x1, learning_rate, weight_decay) VALUES (@study, @number, @attempt, 'waiting', @x0, @x1, @lr, @wd)",
            ("study", study), ("number", number), ("attempt", attempt), ("x0", point?[0]), ("x1", point?[1]), ("lr", rates?.Lr), ("wd", rates?.Wd));
    }

    private bool StudyExists(DbConnection connection, DbTransaction transaction, string study) =>
        Scalar(connection, transaction, "SELECT name FROM zerodl_studies WHERE name = @study", ("study", study)) is string;

    private SearchOptions StoredOptions(DbConnection connection, DbTransaction? transaction, string study)
    {
        var json = Scalar(connection, transaction, "SELECT options FROM zerodl_studies WHERE name = @study", ("study", study)) as string
            ?? throw new ArgumentException($"there is no study '{study}' in this storage");
        return JsonSerializer.Deserialize<SearchOptions>(json) ?? throw new FormatException($"study '{study}' has unreadable options");
    }

    /// <summary>The options as a study stores them: parallelism is each worker's own and does not change a trial.</summary>
    private static SearchOptions Normalised(SearchOptions options) => options with { Parallelism = 1 };

    private static string Difference(SearchOptions stored, SearchOptions given)
    {
        foreach (var property in typeof(SearchOptions).GetProperties().Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"))
        {
            object? a = property.GetValue(stored), b = property.GetValue(given);
            if (!Equals(a, b)) return string.Create(CultureInfo.InvariantCulture, $"{property.Name} is {a} in the study, {b} here");
        }
        return "(none found)";
    }

    private DbConnection Open()
    {
        var connection = _connect();
        connection.Open();
        if (Dialect.Setup is { } setup) Execute(connection, null, setup);
        return connection;
    }

    private static double[]? PointOf(object x0, object x1) => x0 is DBNull || x1 is DBNull ? null : [ToDouble(x0), ToDouble(x1)];
    private static int ToInt(object value) => Convert.ToInt32(value, CultureInfo.InvariantCulture);
    private static long ToLong(object value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);
    private static double ToDouble(object value) => Convert.ToDouble(value, CultureInfo.InvariantCulture);
    private static double? Nullable(object value) => value is DBNull ? null : ToDouble(value);

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            // A NULL needs a type in PostgreSQL; every nullable column written here is a double.
            if (value is null) parameter.DbType = DbType.Double;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private static int Execute(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    private static object? Scalar(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteScalar();
    }

    private static List<T> Rows<T>(DbConnection connection, DbTransaction? transaction, string sql, Func<object[], T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(read(values));
        }
        return rows;
    }
}
