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
    /// <param name="readOnly">Only read the study (--report): a SQLite file is neither created nor written, nor is its
    /// folder (see <see cref="ReadOnlySqlite"/>).</param>
    public static StudyStorage Open(string url, bool readOnly = false)
    {
        if (url.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            string path = url["sqlite:".Length..];
            if (path.Length == 0) throw new UsageException("--storage sqlite: needs a file, e.g. sqlite:runs/studies.db");
            if (readOnly) return new StudyStorage(ReadOnlySqlite(path), StudyDialect.Sqlite with { Setup = null });
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
    /// Connections that only read the SQLite study at <paramref name="path"/>, for a user who may not write it or its
    /// folder (a study copied from another machine, a shared folder). SQLite opened read-only still wants the WAL index
    /// (the -shm file) of a database in WAL mode, as every study is: where the last worker has gone, that file has gone
    /// too and cannot be made in a folder that cannot be written. The database is then read as immutable: with no -wal
    /// file, every committed trial is in the database file, and no writer can be at work without making one. (A writer
    /// who can write the folder and starts during the report could make it read a page mid-change; SQLite then says the
    /// file is malformed, and the report can be run again.)
    /// </summary>
    private static Func<DbConnection> ReadOnlySqlite(string path)
    {
        string shared = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, DefaultTimeout = 60 }.ToString();
        var chosen = new Lazy<string>(() =>
        {
            if (!File.Exists(path)) throw ZeroDL.Data.DataFormatException.For(path, "no such file; --report reads an existing study");
            try
            {
                using var probe = new SqliteConnection(shared);
                probe.Open();
                using var command = probe.CreateCommand();
                command.CommandText = "SELECT COUNT(*) FROM sqlite_master";
                command.ExecuteScalar();
                return shared;
            }
            catch (SqliteException e) when (e.SqliteErrorCode == SqliteReadOnly && !File.Exists(path + "-wal"))
            {
                // A file: URI (SQLite's own syntax, escaped as a URL) is the only way to say immutable.
                return new SqliteConnectionStringBuilder { DataSource = new Uri(Path.GetFullPath(path)).AbsoluteUri + "?immutable=1", Mode = SqliteOpenMode.ReadOnly }.ToString();
            }
        });
        return () => new SqliteConnection(chosen.Value);
    }

    private const int SqliteReadOnly = 8; // SQLITE_READONLY, whose extended codes include "cannot create the WAL index"

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
