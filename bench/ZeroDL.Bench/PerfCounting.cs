namespace ZeroDL.Bench;

/// <summary>
/// Switches `perf stat`'s counters on and off around the measured part of a run, when the bench runs under
/// `perf stat -D -1 --control fifo:CTL,ACK` with PERF_CTL_FIFO=CTL and PERF_ACK_FIFO=ACK in its environment (as
/// bench/gemm-cycles.sh runs it); without them, nothing happens. Start-up, JIT compilation and warm-up are so left
/// out of the counts.
/// </summary>
internal static class PerfCounting
{
    public static void Enable() => Send("enable");

    public static void Disable() => Send("disable");

    private static void Send(string command)
    {
        string? control = Environment.GetEnvironmentVariable("PERF_CTL_FIFO");
        string? ack = Environment.GetEnvironmentVariable("PERF_ACK_FIFO");
        if (string.IsNullOrEmpty(control)) return;
        File.WriteAllText(control, command + "\n");
        // perf answers "ack" once the counters have changed state; waiting for it keeps the switch exact.
        // perf keeps the fifo open, so read the one line rather than to the end.
        if (!string.IsNullOrEmpty(ack))
        {
            using var reader = new StreamReader(ack);
            reader.ReadLine();
        }
    }
}
