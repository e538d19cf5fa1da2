using System.Diagnostics;
using System.Net;
using System.Text;
using ZeroDL.Serialization;

namespace ZeroDL.Experiments;

/// <summary>Every experiment by name, and running them into runs/NAME/ with a summary.md each (and an index.html for all).</summary>
public static class ExperimentCatalog
{
    public static IReadOnlyList<Experiment> All { get; } =
    [
        new GatesExperiment(),
        new ActivationsExperiment(),
        new NumericalDiffExperiment(),
        new GradientExperiment(),
        new LinearVsDeepExperiment(),
        new BatchModesExperiment(),
        new NumericalVsBackpropExperiment(),
        new Optimizers2DExperiment(),
        new OptimizersMnistExperiment(),
        new WeightInitHistogramsExperiment(),
        new WeightInitMnistExperiment(),
        new BatchNormExperiment(),
        new OverfittingExperiment(),
        new TuningExperiment(),
        new ConvFiltersExperiment(),
        new MisclassifiedExperiment(),
        new HalfPrecisionExperiment(),
        new AugmentationExperiment(),
    ];

    public static Experiment Find(string name) =>
        All.FirstOrDefault(e => e.Name == name.Trim().ToLowerInvariant())
        ?? throw new ArgumentException($"unknown experiment '{name}': use one of {string.Join(", ", All.Select(e => e.Name))} or all");

    /// <summary>Runs one experiment into <paramref name="root"/>/NAME and writes its summary.md; returns the result and the seconds it took.</summary>
    public static (ExperimentResult Result, double Seconds, IReadOnlyList<string> Files) Run(Experiment experiment, string root, bool quick, int seed = 1, string? mnistDirectory = null)
    {
        var context = new ExperimentContext(Path.Combine(root, experiment.Name), quick, seed, mnistDirectory);
        var clock = Stopwatch.StartNew();
        var result = experiment.Run(context);
        double seconds = clock.Elapsed.TotalSeconds;
        var md = new StringBuilder($"# {experiment.Name}: {experiment.Title} (book ch. {experiment.Chapter})\n\n");
        md.Append(result.Summary.TrimEnd()).Append("\n\n");
        md.Append(quick ? "Run with --quick (reduced size). " : "").Append($"Seed {seed}; {seconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} s.\n\n");
        md.Append("Files: ").AppendJoin(", ", context.Files.Select(f => $"`{f}`")).Append('\n');
        context.Write("summary.md", md.ToString());
        return (result, seconds, context.Files);
    }

    /// <summary>An HTML page showing every experiment under <paramref name="root"/> that has a summary, with its figures.</summary>
    public static void WriteIndex(string root)
    {
        var html = new StringBuilder("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ZeroDL experiments</title>\n")
            .Append("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}img{max-width:100%;border:1px solid #ddd;margin:.3em 0}pre{white-space:pre-wrap;background:#f6f6f6;padding:.8em}</style>\n")
            .Append("</head><body>\n<h1>ZeroDL experiments</h1>\n<p>Each section is one <code>zerodl experiment NAME</code>: its figures and its summary.</p>\n");
        foreach (var e in All)
        {
            string dir = Path.Combine(root, e.Name), summary = Path.Combine(dir, "summary.md");
            if (!File.Exists(summary)) continue;
            html.Append($"<h2 id=\"{e.Name}\">{WebUtility.HtmlEncode(e.Name)}: {WebUtility.HtmlEncode(e.Title)} <small>(ch. {e.Chapter})</small></h2>\n");
            foreach (var file in Directory.EnumerateFiles(dir).Select(Path.GetFileName).Where(f => f!.EndsWith(".svg") || f.EndsWith(".png")).Order())
                html.Append($"<img src=\"{e.Name}/{WebUtility.HtmlEncode(file)}\" alt=\"{WebUtility.HtmlEncode(file)}\">\n");
            html.Append("<pre>").Append(WebUtility.HtmlEncode(File.ReadAllText(summary))).Append("</pre>\n");
        }
        html.Append("</body></html>\n");
        AtomicFile.WriteAllText(Path.Combine(root, "index.html"), html.ToString());
    }
}
