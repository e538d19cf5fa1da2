namespace ZeroDL.Cli;

/// <summary>
/// A point where <c>zerodl train --hold-at POINT:N</c> stops and waits for good (a hidden option for tests that kill
/// the process there): <c>iteration:N</c> right after mini-batch N, <c>checkpoint-writing:N</c> when the Nth checkpoint's
/// bytes are in its temporary file but not yet renamed over the old checkpoint, <c>checkpoint-written:N</c> right after
/// the Nth checkpoint is in place. Reaching it prints <c>HOLD POINT N</c> on a line of its own, so a test knows where the
/// process is without relying on timing.
/// </summary>
internal sealed class TrainingHold
{
    private static readonly string[] Points = ["iteration", "checkpoint-writing", "checkpoint-written"];
    private readonly string? _point;
    private readonly int _n;

    private TrainingHold(string? point, int n) { _point = point; _n = n; }

    /// <summary>No hold for null; else POINT:N with a known point and N ≥ 1, or a <see cref="UsageException"/>.</summary>
    public static TrainingHold Parse(string? text)
    {
        if (text is null) return new TrainingHold(null, 0);
        var parts = text.Split(':');
        if (parts.Length != 2 || !Points.Contains(parts[0]) || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < 1)
            throw new UsageException($"--hold-at takes POINT:N with POINT one of {string.Join(", ", Points)}, not '{text}'");
        return new TrainingHold(parts[0], n);
    }

    /// <summary>At <paramref name="point"/> for the <paramref name="n"/>th time: when it is the hold's, announce it and never return.</summary>
    public void Reach(string point, int n)
    {
        if (_point != point || _n != n) return;
        Console.Out.WriteLine($"HOLD {point} {n}");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
    }
}
