namespace ZeroDL.Tuning.Studies;

/// <summary>
/// What the SQL of a shared study (<see cref="StudyStorage"/>) says differently on each database it runs on. The
/// statements are otherwise one text for both, through ADO.NET.
/// </summary>
public sealed record StudyDialect
{
    /// <summary>SQLite (Microsoft.Data.Sqlite): one writer at a time, so a claim holds the database's write lock.</summary>
    public static StudyDialect Sqlite { get; } = new()
    {
        Name = "sqlite",
        IdColumn = "INTEGER PRIMARY KEY AUTOINCREMENT",
        RealType = "REAL",
        NowMilliseconds = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        SkipLocked = "",
        // A write as the transaction's first statement takes the write lock at once (waiting for it with the busy
        // timeout), so a claim never has to upgrade a read lock, which SQLite refuses rather than risk a deadlock.
        LockStudy = "UPDATE zerodl_studies SET claims = claims + 1 WHERE name = @study",
        LockStudyOnEveryClaim = true,
        LockSchema = null,
        StudiesTableExists = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'zerodl_studies'",
        // Readers (reports, the heartbeat's check) then never wait for a writer, nor it for them.
        Setup = "PRAGMA journal_mode=WAL",
    };

    /// <summary>PostgreSQL (Npgsql): claims of grid and random points skip rows another worker holds.</summary>
    public static StudyDialect PostgreSql { get; } = new()
    {
        Name = "postgresql",
        IdColumn = "BIGSERIAL PRIMARY KEY",
        RealType = "DOUBLE PRECISION",
        NowMilliseconds = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        SkipLocked = " FOR UPDATE SKIP LOCKED",
        LockStudy = "UPDATE zerodl_studies SET claims = claims + 1 WHERE name = @study",
        LockStudyOnEveryClaim = false,
        // CREATE TABLE IF NOT EXISTS is not safe against a concurrent one in PostgreSQL (both may try to create the
        // row type); workers that start together take turns on a transaction-scoped advisory lock.
        LockSchema = "SELECT pg_advisory_xact_lock(2026120601)",
        // Looked up as the unqualified name in the queries is: through the search path.
        StudiesTableExists = "SELECT COUNT(*) FROM (SELECT to_regclass('zerodl_studies') AS t) AS found WHERE t IS NOT NULL",
    };

    public required string Name { get; init; }
    /// <summary>The type and constraint of an auto-numbered 64-bit primary key.</summary>
    public required string IdColumn { get; init; }
    public required string RealType { get; init; }
    /// <summary>An expression for the database server's clock in milliseconds since 1970 (one clock for every worker).</summary>
    public required string NowMilliseconds { get; init; }
    /// <summary>Appended to the claim's SELECT: lock the chosen row and pass over rows locked by other claims.</summary>
    public required string SkipLocked { get; init; }
    /// <summary>
    /// Serialises claims on one study, where a claim must see every other (SQLite always; PostgreSQL for Bayesian
    /// proposals, which account for the points being evaluated).
    /// </summary>
    public required string LockStudy { get; init; }
    /// <summary>Whether every claim takes <see cref="LockStudy"/> (else only Bayesian proposals do).</summary>
    public required bool LockStudyOnEveryClaim { get; init; }
    /// <summary>Run before creating the tables, in the same transaction (null: not needed).</summary>
    public string? LockSchema { get; init; }
    /// <summary>A query whose one value is 1 when the table of studies exists, else 0 (a report creates nothing).</summary>
    public required string StudiesTableExists { get; init; }
    /// <summary>Run once per connection to a study, outside a transaction (null: nothing).</summary>
    public string? Setup { get; init; }
}
