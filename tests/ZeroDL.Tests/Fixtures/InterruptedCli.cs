using System.Diagnostics;

namespace ZeroDL.Tests.Fixtures;

/// <summary>What an interrupted `zerodl` printed: its exit code, the output after the signal, and its error stream.</summary>
public sealed record Interrupted(int ExitCode, string OutputAfterSignal, string Error);

/// <summary>
/// Runs `zerodl` as a child process, reads its output (for up to 2 minutes) until a line says it is where the test
/// wants it, sends a signal (SIGINT, as Ctrl+C does, unless told another) and waits up to 60 s for it to stop; one
/// still running at either limit is killed and the test fails.
/// </summary>
public static class InterruptedCli
{
    public const int SIGHUP = 1, SIGINT = 2, SIGTERM = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>kill(2): 0 when the signal was sent.</summary>
    public static int Signal(int pid, int signal) => SendSignal(pid, signal);

    public static Interrupted Run(Func<string, bool> signalAfter, params string[] args) => Run(SIGINT, signalAfter, args);

    public static Interrupted Run(int signal, Func<string, bool> signalAfter, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var lines = new List<string>();
        // Bounded: a zerodl that hangs before the line the test waits for fails the test instead of hanging it.
        var reached = Task.Run(() =>
        {
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null)
            {
                lock (lines) lines.Add(line);
                if (signalAfter(line)) return true;
            }
            return false;
        });
        if (!reached.Wait(120_000))
        {
            p.Kill(entireProcessTree: true);
            lock (lines) Assert.Fail("zerodl did not print the line the test waits for within 2 minutes: " + string.Join("\n", lines));
        }
        if (!reached.Result) Assert.Fail("zerodl never printed the line the test waits for: " + string.Join("\n", lines) + p.StandardError.ReadToEnd());
        Assert.Equal(0, SendSignal(p.Id, signal));
        var stderr = p.StandardError.ReadToEndAsync();
        var rest = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"zerodl did not stop within 60 s of signal {signal}");
        }
        return new Interrupted(p.ExitCode, rest.Result, stderr.Result);
    }
}
