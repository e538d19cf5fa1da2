using System.Globalization;
using System.Text;
using ZeroDL.Charts;
using ZeroDL.Serialization;

namespace ZeroDL.Experiments;

/// <summary>
/// One of the book's figures as a runnable experiment: it computes its data, writes it as CSV, draws the figure
/// (SVG, or PNG for images), and states the result in numbers. <see cref="Run"/> returns the headline figures so
/// tests can assert the book's result at reduced size (<see cref="ExperimentContext.Quick"/>).
/// </summary>
public abstract class Experiment
{
    /// <summary>The name on the command line and the folder under runs/.</summary>
    public abstract string Name { get; }
    /// <summary>The book's chapter or section.</summary>
    public abstract string Chapter { get; }
    public abstract string Title { get; }
    public abstract ExperimentResult Run(ExperimentContext context);
}

/// <summary>What an experiment found: a few sentences of markdown and the numbers behind them.</summary>
public sealed record ExperimentResult(string Summary, IReadOnlyDictionary<string, double> Figures);

/// <summary>Where an experiment writes, how large it runs, and helpers that write its files atomically.</summary>
public sealed class ExperimentContext
{
    private readonly List<string> _files = [];
    private (Data.Dataset Train, Data.Dataset Test)? _mnist;

    public ExperimentContext(string directory, bool quick, int seed = 1, string? mnistDirectory = null)
    {
        Directory = directory;
        Quick = quick;
        Seed = seed;
        MnistDirectory = mnistDirectory;
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }
    /// <summary>Reduced sizes (fewer samples, epochs, trials): seconds instead of minutes, the same qualitative result.</summary>
    public bool Quick { get; }
    public int Seed { get; }
    public string? MnistDirectory { get; }
    /// <summary>File names written so far, in order.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>MNIST, loaded once per context.</summary>
    public (Data.Dataset Train, Data.Dataset Test) Mnist => _mnist ??= Data.Mnist.Load(directory: MnistDirectory);

    public void WriteCsv(string name, string header, IEnumerable<IEnumerable<object>> rows)
    {
        var sb = new StringBuilder(header).Append('\n');
        foreach (var row in rows) sb.AppendJoin(',', row.Select(Format)).Append('\n');
        Write(name, sb.ToString());
    }

    public void SaveChart(string name, Chart chart, int width = 640, int height = 420) => Write(name, chart.ToSvg(width, height));

    public void SaveSvg(string name, string svg) => Write(name, svg);

    public void SaveCanvas(string name, Imaging.Canvas canvas)
    {
        canvas.SavePng(Path.Combine(Directory, name));
        _files.Add(name);
    }

    public void Write(string name, string text)
    {
        AtomicFile.WriteAllText(Path.Combine(Directory, name), text);
        _files.Add(name);
    }

    public static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Formats a number for prose: up to <paramref name="digits"/> significant digits, invariant culture.</summary>
    public static string G(double value, int digits = 4) =>
        value.ToString("G" + digits, CultureInfo.InvariantCulture).Replace("E+", "e").Replace("E-0", "e-").Replace("E-", "e-");
}
