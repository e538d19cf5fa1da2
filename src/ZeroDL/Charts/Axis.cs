using System.Globalization;

namespace ZeroDL.Charts;

/// <summary>One axis of a chart: its label, linear or logarithmic scale, and optional fixed limits (else fitted to the data).</summary>
public sealed record Axis(string Label = "")
{
    public bool Log { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }

    /// <summary>The data range with padding for a linear axis, or whole decades for a log axis; never empty.</summary>
    internal (double Lo, double Hi) Range(IEnumerable<double> values)
    {
        var finite = values.Where(v => double.IsFinite(v) && (!Log || v > 0)).ToList();
        double lo = Min ?? (finite.Count > 0 ? finite.Min() : Log ? 1 : 0);
        double hi = Max ?? (finite.Count > 0 ? finite.Max() : Log ? 10 : 1);
        if (Log)
        {
            if (lo <= 0) lo = hi > 0 ? hi / 10 : 1;
            if (Min is null) lo = Math.Pow(10, Math.Floor(Math.Log10(lo)));
            if (Max is null) hi = Math.Pow(10, Math.Ceiling(Math.Log10(hi)));
            if (hi <= lo) hi = lo * 10;
            return (lo, hi);
        }
        if (hi <= lo) { lo -= 0.5; hi += 0.5; }
        // A little room around fitted data, so nothing sits on the frame (a limit given stays exact).
        double pad = 0.04 * (hi - lo);
        return (Min ?? (lo == 0 ? 0 : lo - pad), Max ?? hi + pad);
    }

    /// <summary>Maps a value to 0…1 along the axis (log axes in decades).</summary>
    internal double Fraction(double v, double lo, double hi) =>
        Log ? (Math.Log10(v) - Math.Log10(lo)) / (Math.Log10(hi) - Math.Log10(lo)) : (v - lo) / (hi - lo);

    /// <summary>Tick positions: 1-2-5 steps for linear axes (about <paramref name="target"/> of them), powers of ten for log axes.</summary>
    internal static List<double> Ticks(double lo, double hi, bool log, int target = 6)
    {
        var ticks = new List<double>();
        if (log)
        {
            int d0 = (int)Math.Ceiling(Math.Log10(lo) - 1e-9), d1 = (int)Math.Floor(Math.Log10(hi) + 1e-9);
            int step = Math.Max(1, (d1 - d0 + target - 1) / target);
            for (int d = d0; d <= d1; d += step) ticks.Add(Math.Pow(10, d));
            return ticks;
        }
        double raw = (hi - lo) / Math.Max(1, target);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double nice = raw / magnitude < 1.5 ? 1 : raw / magnitude < 3.5 ? 2 : raw / magnitude < 7.5 ? 5 : 10;
        double stepSize = nice * magnitude;
        for (double t = Math.Ceiling(lo / stepSize - 1e-9) * stepSize; t <= hi + stepSize * 1e-9; t += stepSize)
            ticks.Add(Math.Abs(t) < stepSize * 1e-9 ? 0 : t);
        return ticks;
    }

    internal static string TickLabel(double v, bool log)
    {
        if (log)
        {
            int e = (int)Math.Round(Math.Log10(v));
            return e is >= -2 and <= 3 ? v.ToString("0.##", CultureInfo.InvariantCulture) : "1e" + e.ToString(CultureInfo.InvariantCulture);
        }
        double a = Math.Abs(v);
        return a != 0 && (a >= 1e5 || a < 1e-3) ? v.ToString("0.#e0", CultureInfo.InvariantCulture) : v.ToString("0.####", CultureInfo.InvariantCulture);
    }
}
