using System.Runtime.InteropServices;

namespace ZeroDL.Cli;

/// <summary>
/// The one place where signals become cancellation. SIGINT (Ctrl+C), SIGTERM (kill, timeout, systemd, docker stop, a
/// batch scheduler, mpirun) and SIGHUP (the terminal closed) all cancel <see cref="Token"/>, the token each long
/// command is handed, and keep the process alive so that it stops itself cleanly: training after the current
/// mini-batch, with that point's checkpoint written. A command stopped so returns <see cref="Cli.Interrupted"/>, which
/// <see cref="ExitCodeOf"/> turns into 128 + the signal's number (130, 143, 129): what a shell reports for a process a
/// signal ended, so a supervisor reads from the code which signal stopped the run.
/// <para>Not System.CommandLine's ProcessTerminationTimeout: that one hears SIGINT and SIGTERM only, only once the
/// action first awaits, and leaves the exit code to the action, which cannot tell the signals apart.</para>
/// <para>Only commands whose action takes the token get one (Program decides): a command that never looks at it
/// would ignore the signal, so the short commands keep the default, which ends the process at once.</para>
/// </summary>
internal sealed class Termination : IDisposable
{
    /// <summary>How long a command may take to stop after the signal before the process exits without it.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _cancel = new();
    private readonly TaskCompletionSource _signalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signal; // the first signal's number; 0 before any

    public Termination()
    {
        // A closed terminal (SIGHUP's usual cause) fails every write with EIO, and Spectre's progress display writes
        // from a thread of its own, where an exception ends the process: the clean stop must not depend on saying so.
        if (!Console.IsOutputRedirected) Console.SetOut(new TerminalWriter(Console.Out));
        if (!Console.IsErrorRedirected) Console.SetError(new TerminalWriter(Console.Error));
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            try { _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal)); }
            catch (PlatformNotSupportedException) { } // that signal keeps its default
        }
    }

    /// <summary>Cancelled by the first of SIGINT, SIGTERM and SIGHUP.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>
    /// The exit code of <paramref name="command"/>: its own, but <see cref="Cli.Interrupted"/> becomes 128 + the
    /// signal's number; a command still running <see cref="StopTimeout"/> after the signal is given up on.
    /// </summary>
    public async Task<int> ExitCodeOf(Task<int> command)
    {
        var deadline = _signalled.Task.ContinueWith(_ => Task.Delay(StopTimeout), TaskScheduler.Default).Unwrap();
        if (await Task.WhenAny(command, deadline) != command)
        {
            Report($"zerodl: still stopping {StopTimeout.TotalSeconds:0} s after {Name(_signal)}; exiting without waiting (files are written atomically: each is whole, old or new)");
            return 128 + _signal;
        }
        int code;
        try { code = await command; }
        catch (OperationCanceledException) when (_signal != 0) { return 128 + _signal; } // stopped while starting (serve)
        return code == Cli.Interrupted && _signal != 0 ? 128 + _signal : code;
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Every one of these signals is handled by stopping cleanly, a second one included: a stop under way must not
        // be cut short by a supervisor repeating its SIGTERM or by an impatient second Ctrl+C. SIGKILL forces it.
        context.Cancel = true;
        int number = context.Signal switch { PosixSignal.SIGHUP => 1, PosixSignal.SIGINT => 2, _ => 15 };
        if (Interlocked.CompareExchange(ref _signal, number, 0) != 0) return;
        // Ctrl+C is the user's own; a signal from elsewhere is named in the log of the run it stopped.
        if (context.Signal != PosixSignal.SIGINT) Report($"zerodl: {Name(number)}: stopping cleanly, as after Ctrl+C");
        // The give-up clock starts now; cancelling runs the token's callbacks (serve's stop among them, which can
        // block), so it runs off the signal thread rather than delaying the clock or the next signal's handling.
        _signalled.TrySetResult();
        ThreadPool.UnsafeQueueUserWorkItem(_ => _cancel.Cancel(), null);
    }

    private static string Name(int signal) => signal switch { 1 => "SIGHUP", 2 => "SIGINT", _ => "SIGTERM" };

    private static void Report(string message)
    {
        try { Console.Error.WriteLine(message); }
        catch (IOException) { } // stderr is gone: the exit code says it
    }

    /// <summary>A terminal's writer that falls silent once the terminal is gone instead of throwing at the writer.</summary>
    private sealed class TerminalWriter(TextWriter terminal) : TextWriter
    {
        private volatile bool _gone;

        public override System.Text.Encoding Encoding => terminal.Encoding;
        public override IFormatProvider FormatProvider => terminal.FormatProvider;

        public override void Write(char value) { if (!_gone) try { terminal.Write(value); } catch (IOException) { _gone = true; } }
        public override void Write(string? value) { if (!_gone) try { terminal.Write(value); } catch (IOException) { _gone = true; } }
        public override void Write(char[] buffer, int index, int count) { if (!_gone) try { terminal.Write(buffer, index, count); } catch (IOException) { _gone = true; } }
        public override void Write(ReadOnlySpan<char> buffer) { if (!_gone) try { terminal.Write(buffer); } catch (IOException) { _gone = true; } }
        public override void WriteLine() { if (!_gone) try { terminal.WriteLine(); } catch (IOException) { _gone = true; } }
        public override void WriteLine(string? value) { if (!_gone) try { terminal.WriteLine(value); } catch (IOException) { _gone = true; } }
        public override void WriteLine(ReadOnlySpan<char> buffer) { if (!_gone) try { terminal.WriteLine(buffer); } catch (IOException) { _gone = true; } }
        public override void Flush() { if (!_gone) try { terminal.Flush(); } catch (IOException) { _gone = true; } }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
    }
}
