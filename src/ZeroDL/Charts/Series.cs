namespace ZeroDL.Charts;

/// <summary>A named line (or path of points) of a chart. Non-finite points break the line.</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    /// <summary>CSS colour; null = the next colour of the chart's palette.</summary>
    public string? Color { get; init; }
    /// <summary>Draw a dot at each point (paths of optimizers, scatter plots).</summary>
    public bool Markers { get; init; }
    /// <summary>Draw no line, only the dots (a scatter plot).</summary>
    public bool ScatterOnly { get; init; }
    public bool Dashed { get; init; }

    /// <summary>A series over x = 0, 1, 2, … (loss per iteration, accuracy per epoch).</summary>
    public static Series Of(string name, IReadOnlyList<double> y, double xStart = 0) =>
        new(name, Enumerable.Range(0, y.Count).Select(i => xStart + i).ToArray(), y);
}

/// <summary>Bars of a histogram: counts of values in equal-width bins over [Min, Max].</summary>
public sealed record Histogram(string Name, IReadOnlyList<double> Values, int Bins, double Min, double Max)
{
    public string? Color { get; init; }

    public int[] Counts()
    {
        if (Bins < 1 || !(Max > Min)) throw new ArgumentException($"histogram '{Name}': needs at least one bin and Max > Min");
        var counts = new int[Bins];
        foreach (double v in Values)
        {
            if (!(v >= Min && v <= Max)) continue;
            counts[Math.Min(Bins - 1, (int)((v - Min) / (Max - Min) * Bins))]++;
        }
        return counts;
    }
}

/// <summary>Contour lines of f(x, y) over a rectangle (sampled on a grid, lines by marching squares) drawn under the series.</summary>
public sealed record ContourField(Func<double, double, double> F, double XMin, double XMax, double YMin, double YMax)
{
    /// <summary>Explicit levels; null = <see cref="LevelCount"/> levels spaced evenly (or geometrically with <see cref="GeometricLevels"/>) over the sampled range.</summary>
    public IReadOnlyList<double>? Levels { get; init; }
    public int LevelCount { get; init; } = 12;
    public bool GeometricLevels { get; init; }
    public int Resolution { get; init; } = 80;
}
