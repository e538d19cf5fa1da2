using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ZeroDL.Tests;

/// <summary>
/// A private PostgreSQL cluster for the tests: initdb in a temporary directory, started with pg_ctl on a free
/// loopback port (and a socket in that directory), stopped and deleted at the end. PostgreSQL refuses to run as
/// root, so as root the server programs run as the <c>postgres</c> user that Debian's package creates. Where the
/// server programs are missing (Debian package <c>postgresql</c>), <see cref="Unavailable"/> says why and the
/// tests that need it are skipped with that reason.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private readonly string? _bin, _dir;
    private readonly bool _asPostgres;

    public PostgresCluster()
    {
        _bin = FindBin();
        if (_bin is null) { Unavailable = "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)"; return; }
        _asPostgres = Environment.UserName == "root";
        if (_asPostgres && Run("id", "-u", "postgres").Code != 0) { Unavailable = "running as root and there is no postgres user to run the server as"; return; }
        try
        {
            _dir = Path.Combine(Path.GetTempPath(), $"zerodl-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
            Directory.CreateDirectory(_dir);
            if (_asPostgres) Check(Run("chown", "postgres", _dir));
            Port = FreePort();
            Check(RunServer("initdb", "-D", Path.Combine(_dir, "data"), "-U", "zerodl", "-A", "trust", "-E", "UTF8", "--no-sync"));
            // fsync off: a test cluster is thrown away, and syncing costs seconds per test on a shared disk.
            Start();
            Url = $"postgresql://zerodl@127.0.0.1:{Port}/postgres";
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            Unavailable = $"the private PostgreSQL cluster did not start: {e.Message}";
            Dispose();
        }
    }

    /// <summary>Why there is no cluster (null when there is one).</summary>
    public string? Unavailable { get; }
    public int Port { get; }
    /// <summary>A --storage URL for the cluster's <c>postgres</c> database, as the superuser <c>zerodl</c> (trust authentication on loopback).</summary>
    public string Url { get; } = "";

    /// <summary>Starts the server (again) on its port.</summary>
    public void Start() =>
        Check(RunServer("pg_ctl", "-D", Path.Combine(_dir!, "data"), "-l", Path.Combine(_dir!, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {_dir} -c fsync=off -c max_connections=50", "start"));

    /// <summary>Stops the server at once, as a crash or a pulled plug would (pg_ctl stop -m immediate).</summary>
    public void StopImmediately() => Check(RunServer("pg_ctl", "-D", Path.Combine(_dir!, "data"), "-m", "immediate", "-w", "stop"));

    public void Dispose()
    {
        if (_dir is null || _bin is null) return;
        if (File.Exists(Path.Combine(_dir, "data", "postmaster.pid")))
            RunServer("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop");
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string? FindBin()
    {
        // Debian keeps the server programs out of PATH, under one directory per major version; take the newest.
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int v) ? v : 0)
            : Enumerable.Empty<string>();
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Where(p => p.Length > 0 && File.Exists(Path.Combine(p, "pg_ctl")) && File.Exists(Path.Combine(p, "initdb")));
        return versions.Concat(onPath).FirstOrDefault();
    }

    private (int Code, string Output) RunServer(string program, params string[] args) =>
        _asPostgres ? Run("runuser", ["-u", "postgres", "--", Path.Combine(_bin!, program), .. args]) : Run(Path.Combine(_bin!, program), args);

    private static (int Code, string Output) Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new InvalidOperationException($"{program} did not finish in 2 minutes"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static void Check((int Code, string Output) result)
    {
        if (result.Code != 0) throw new InvalidOperationException(result.Output.Trim());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
