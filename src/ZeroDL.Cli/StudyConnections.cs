using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using ZeroDL.Tuning.Studies;

namespace ZeroDL.Cli;

/// <summary>
/// <c>--storage</c> URLs of a shared study: <c>sqlite:PATH</c> (a file, created if missing) or
/// <c>postgresql://USER:PASSWORD@HOST:PORT/DATABASE?key=value</c> (also <c>postgres://</c>; the password may instead
/// come from PGPASSWORD or ~/.pgpass, as for psql; query keys are Npgsql connection-string keywords).
/// </summary>
internal static class StudyConnections
{
    /// <summary>Where a study is kept when --study is given without --storage.</summary>
    public const string DefaultStorage = "sqlite:runs/studies.db";

    /// <param name="url">The --storage URL.</param>
    /// <param name="readOnly">Only read the study (--report): a SQLite file is not created, and no statement writes it
    /// (SQLite's own -wal and -shm files aside, see <see cref="ReadOnlySqlite"/>).</param>
    public static StudyStorage Open(string url, bool readOnly = false)
    {
        if (url.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            string path = url["sqlite:".Length..];
            if (path.Length == 0) throw new UsageException("--storage sqlite: needs a file, e.g. sqlite:runs/studies.db");
            if (Directory.Exists(path)) throw ZeroDL.Data.DataFormatException.For(path, "is a folder; name a study database");
            // query_only on every connection: no statement of the report can write, whichever way it opened the file.
            if (readOnly) return new StudyStorage(ReadOnlySqlite(path), StudyDialect.Sqlite with { Setup = "PRAGMA query_only=ON" });
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir)
            {
                try { Directory.CreateDirectory(dir); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw ZeroDL.Data.DataFormatException.For(path, $"cannot create its folder: {e.Message}", e); }
            }
            // DefaultTimeout is also how long a statement waits for another worker's write lock: a claim takes well under a second.
            string connection = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 60 }.ToString();
            return new StudyStorage(() => new SqliteConnection(connection), StudyDialect.Sqlite);
        }
        if (url.StartsWith("postgresql://", StringComparison.Ordinal) || url.StartsWith("postgres://", StringComparison.Ordinal))
        {
            string connection = PostgreSqlConnectionString(url);
            return new StudyStorage(() => new NpgsqlConnection(connection), StudyDialect.PostgreSql);
        }
        throw new UsageException($"--storage '{url}': use sqlite:PATH or postgresql://USER@HOST:PORT/DATABASE");
    }

    /// <summary>
    /// Connections that only read the SQLite study at <paramref name="path"/>, also for a user who may not write it or
    /// its folder (a study copied from another machine, a shared folder, a read-only file system). Tried in turn:
    /// <list type="number">
    /// <item>read-write without creating the file (every connection runs <c>PRAGMA query_only</c>): the usual case. SQLite then
    /// creates the -wal and -shm files of a database in WAL mode (as every study is) and removes them again when the
    /// connection closes, as a worker's do;</item>
    /// <item>read-only (the file or folder cannot be written): SQLite still wants the WAL index (-shm), and cannot
    /// remove it and the -wal afterwards where it may create them;</item>
    /// <item>immutable, when neither works (the -shm cannot be created) and there is no -wal file: every trial a
    /// worker committed and checkpointed is then in the database file.</item>
    /// </list>
    /// An immutable read skips SQLite's locking: a report taken while a worker that can write the folder is at work
    /// may show an older snapshot, or fail on a page read mid-change (run it again). A -wal file left without a -shm
    /// that can be created holds trials that cannot be read this way: that is said, not skipped.
    /// </summary>
    private static Func<DbConnection> ReadOnlySqlite(string path)
    {
        // No pooling: a pooled connection would keep the -wal and -shm files of the first way open, and so present.
        string readWrite = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, DefaultTimeout = 60, Pooling = false }.ToString();
        string readOnly = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, DefaultTimeout = 60, Pooling = false }.ToString();
        var chosen = new Lazy<string>(() =>
        {
            if (!File.Exists(path)) throw ZeroDL.Data.DataFormatException.For(path, "no such file; --report reads an existing study");
            try { Probe(readWrite); return readWrite; }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteReadOnly or SqliteCantOpen) { }
            try { Probe(readOnly); return readOnly; }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteReadOnly or SqliteCantOpen && Readable(path))
            {
                string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
                if (File.Exists(path + "-wal"))
                    throw ZeroDL.Data.DataFormatException.For(path, $"its -wal file holds trials that can only be read with a -shm file, which cannot be created in {dir}: copy the study with its -wal and -shm files to a folder you can write", e);
                return new SqliteConnectionStringBuilder { DataSource = FileUri(path) + "?immutable=1", Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
            }
        });
        return () => new ReadingConnection(chosen.Value);
    }

    /// <summary>
    /// Begins deferred transactions: Microsoft.Data.Sqlite's default, BEGIN IMMEDIATE, takes the write lock, which
    /// query_only refuses (and which would make workers wait on a report).
    /// </summary>
    private sealed class ReadingConnection(string connectionString) : SqliteConnection(connectionString)
    {
        protected override DbTransaction BeginDbTransaction(System.Data.IsolationLevel isolationLevel) => BeginTransaction(isolationLevel, deferred: true);
    }

    private static void Probe(string connectionString)
    {
        using var probe = new SqliteConnection(connectionString);
        probe.Open();
        using var command = probe.CreateCommand();
        command.CommandText = "PRAGMA query_only=ON; SELECT COUNT(*) FROM sqlite_master";
        command.ExecuteScalar();
    }

    private static bool Readable(string path)
    {
        try { using var _ = File.OpenRead(path); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// The <c>file:</c> URI SQLite reads as <paramref name="path"/>: every UTF-8 byte of the full path other than
    /// A–Z a–z 0–9 - . _ ~ / percent-encoded, since SQLite decodes every %XX (a folder called <c>a%41b</c> is not <c>aAb</c>).
    /// </summary>
    internal static string FileUri(string path)
    {
        string full = Path.GetFullPath(path);
        if (Path.DirectorySeparatorChar != '/') full = "/" + full.Replace(Path.DirectorySeparatorChar, '/');
        var uri = new System.Text.StringBuilder("file://");
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(full))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~' or (byte)'/') uri.Append((char)b);
            else uri.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return uri.ToString();
    }

    private const int SqliteReadOnly = 8;  // SQLITE_READONLY, whose extended codes include "cannot create the WAL index"
    private const int SqliteCantOpen = 14; // SQLITE_CANTOPEN: what a read-only file system gives instead

    /// <summary>The Npgsql connection string a postgresql:// URL stands for.</summary>
    public static string PostgreSqlConnectionString(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new UsageException($"--storage '{url}' is not a URL of the form postgresql://USER@HOST:PORT/DATABASE");
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host };
        if (!uri.IsDefaultPort && uri.Port > 0) builder.Port = uri.Port;
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) builder.Database = database;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            try { builder[Uri.UnescapeDataString(kv[0])] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : ""; }
            catch (ArgumentException e) { throw new UsageException($"--storage: '{kv[0]}' is not a connection setting Npgsql knows ({e.Message.Split(" (Parameter")[0]})"); }
        }
        return builder.ToString();
    }
}
