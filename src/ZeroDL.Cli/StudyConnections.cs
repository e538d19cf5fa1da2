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

    public static StudyStorage Open(string url)
    {
        if (url.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            string path = url["sqlite:".Length..];
            if (path.Length == 0) throw new UsageException("--storage sqlite: needs a file, e.g. sqlite:runs/studies.db");
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
