using System.Text.Json;
using System.Xml.Linq;
using ZeroDL.Charts;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>zerodl runs (the table and --json of past runs) and zerodl runs plot (their curves as SVG).</summary>
public class RunsCommandTests
{
    private static readonly XNamespace SvgNs = "http://www.w3.org/2000/svg";

    /// <summary>Writes a log of <paramref name="accuracies"/>.Length epochs (loss 1/epoch), ended as <paramref name="end"/> (null: none).</summary>
    internal static string WriteLog(string dir, string name, string model, double[] accuracies, MetricsRunStatus? end, DateTimeOffset started, double[]? validation = null)
    {
        var lines = new List<string>
        {
            MetricsLog.RunLine(new MetricsRun
            {
                Model = model, Architecture = "arch of " + model, Data = "mnist: 60000 training and 10000 test images of 1×28×28, 10 classes", Seed = 1, BatchSize = 100,
                TrainSamples = 60000, IterationsPerEpoch = 600, TotalIterations = 600 * 5, Started = started,
            }),
        };
        for (int e = 1; e <= accuracies.Length; e++)
            lines.Add(MetricsLog.EpochLine(new MetricsEpoch(e, 600 * e, 1.0 / e, accuracies[e - 1] + 0.01, accuracies[e - 1], 30 * e)
            {
                Time = started.AddSeconds(30 * e), LearningRate = 0.001, ImagesPerSecond = 2000, ValidationAccuracy = validation?[e - 1],
            }));
        if (end is MetricsRunStatus status)
            lines.Add($"{{\"type\":\"end\",\"time\":\"{MetricsLog.Iso(started.AddSeconds(200))}\",\"status\":\"{status.ToString().ToLowerInvariant()}\",\"iteration\":{600 * accuracies.Length},\"seconds\":{30 * accuracies.Length}}}");
        string path = Path.Combine(dir, name + MetricsLog.FileSuffix);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    private static readonly DateTimeOffset Day = new(2026, 12, 6, 5, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Runs_lists_each_readable_log_oldest_first_and_reports_each_bad_one_in_a_line()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            WriteLog(dir, "late", "deepconv", [0.98, 0.99, 0.985], MetricsRunStatus.Finished, Day.AddHours(1));
            WriteLog(dir, "early", "dense", [0.95, 0.97], null, Day);
            File.WriteAllText(Path.Combine(dir, "broken" + MetricsLog.FileSuffix), "{\"type\":\"epoch\"}\n");
            File.WriteAllText(Path.Combine(dir, "empty" + MetricsLog.FileSuffix), "");
            File.WriteAllText(Path.Combine(dir, "notes.txt"), "not a log");
            var (code, output, err) = CliTests.Run("runs", dir);
            Assert.Equal(0, code);
            var lines = output.Trim().Split('\n');
            Assert.Equal(3, lines.Length); // the header and two runs
            Assert.Matches(@"^RUN +MODEL +DATA +EPOCHS +BEST TEST +LAST TEST +TIME +STARTED \(UTC\) +STATUS$", lines[0]);
            Assert.Matches(@"^early +dense +mnist +2/5 +97\.00 % +97\.00 % +1:00 +2026-12-06 05:00 +no end \(killed or running\)$", lines[1]);
            Assert.Matches(@"^late +deepconv +mnist +3/5 +99\.00 % +98\.50 % +1:30 +2026-12-06 06:00 +finished$", lines[2]);
            var warnings = err.Trim().Split('\n');
            Assert.Equal(2, warnings.Length);
            Assert.Contains(warnings, w => w.Contains("broken.metrics.jsonl: line 1: the first record is \"epoch\"") && w.EndsWith("(skipped)"));
            Assert.Contains(warnings, w => w.Contains("empty.metrics.jsonl: is empty"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Runs_json_gives_the_same_runs_as_objects()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            WriteLog(dir, "a", "dense", [0.9, double.NaN], MetricsRunStatus.Interrupted, Day);
            var (code, output, _) = CliTests.Run("runs", dir, "--json");
            Assert.Equal(0, code);
            var run = Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray());
            Assert.Equal("a", run.GetProperty("name").GetString());
            Assert.Equal("dense", run.GetProperty("model").GetString());
            Assert.Equal(2, run.GetProperty("epochs").GetInt32());
            Assert.Equal(0.9, run.GetProperty("best_test_accuracy").GetDouble());
            Assert.Equal(JsonValueKind.Null, run.GetProperty("last_test_accuracy").ValueKind);
            Assert.Equal("interrupted", run.GetProperty("status").GetString());
            Assert.Equal("2026-12-06T05:00:00.000Z", run.GetProperty("started").GetString());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Runs_of_a_missing_folder_is_a_file_error_and_an_empty_one_says_so()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var (code, _, err) = CliTests.Run("runs", Path.Combine(dir, "none"));
            Assert.Equal(1, code);
            Assert.Contains("no such folder", err);
            (code, string output, _) = CliTests.Run("runs", dir);
            Assert.Equal(0, code);
            Assert.StartsWith("No runs in", output);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>The SVG's panels (by title), each with its series (by name) and the number of points of each series' line.</summary>
    private static Dictionary<string, Dictionary<string, int>> Structure(string svg)
    {
        var doc = XDocument.Parse(svg);
        return doc.Descendants(SvgNs + "g").Where(g => (string?)g.Attribute("class") == "chart").ToDictionary(
            g => (string)g.Attribute("data-title")!,
            g => g.Descendants(SvgNs + "g").Where(s => (string?)s.Attribute("class") == "series").ToDictionary(
                s => (string)s.Attribute("data-name")!,
                s => ((string?)s.Element(SvgNs + "path")?.Attribute("d") ?? "").Split(['M', 'L'], StringSplitOptions.RemoveEmptyEntries).Length));
    }

    [Fact]
    public void Run_curves_draw_one_series_per_run_in_each_panel_one_point_per_epoch()
    {
        string dir = TestPaths.NewTempDirectory();
        RunLog a, b;
        try
        {
            a = RunLog.Read(WriteLog(dir, "a", "dense", [0.9, 0.95, 0.96], MetricsRunStatus.Finished, Day));
            b = RunLog.Read(WriteLog(dir, "b", "deepconv", [0.97, 0.98], null, Day, validation: [0.96, 0.975]));
        }
        finally { Directory.Delete(dir, recursive: true); }
        var panels = RunCurves.Panels([a, b]);
        Assert.Equal(["a", "b"], panels[0].Series.Select(s => s.Name));
        Assert.Equal(["a", "b", "b (validation)"], panels[1].Series.Select(s => s.Name));
        Assert.Equal([1.0, 1 / 2.0, 1 / 3.0], panels[0].Series[0].Y);
        Assert.Equal([97.0, 98.0], panels[1].Series[1].Y);
        Assert.Equal(panels[0].Series[1].Color, panels[1].Series[1].Color);   // a run keeps its colour across panels
        Assert.NotEqual(panels[0].Series[0].Color, panels[0].Series[1].Color);
        var structure = Structure(RunCurves.ToSvg([a, b]));
        Assert.Equal(new Dictionary<string, int> { ["a"] = 3, ["b"] = 2 }, structure["Training loss"]);
        Assert.Equal(new Dictionary<string, int> { ["a"] = 3, ["b"] = 2, ["b (validation)"] = 2 }, structure["Accuracy"]);
    }

    [Fact]
    public void Runs_plot_writes_the_curves_of_the_runs_named_and_leaves_out_what_it_cannot_read()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            WriteLog(dir, "one", "dense", [0.9, 0.95, 0.96, 0.97], MetricsRunStatus.Finished, Day);
            string two = WriteLog(dir, "two", "deepconv", [0.97, 0.98], null, Day);
            WriteLog(dir, "none", "dense", [], null, Day);
            File.WriteAllText(Path.Combine(dir, "bad" + MetricsLog.FileSuffix), "]\n");
            string svg = Path.Combine(dir, "curves.svg");
            // By name in --dir, by the log's path, by a model's path beside it; and a bad, an empty and a missing one.
            var (code, output, err) = CliTests.Run("runs", "plot", "one", two, Path.Combine(dir, "none.safetensors"), "bad", "missing", "--dir", dir, "--out", svg);
            Assert.True(code == 0, err);
            Assert.Contains("2 run(s)", output);
            var structure = Structure(File.ReadAllText(svg));
            Assert.Equal(new Dictionary<string, int> { ["one"] = 4, ["two"] = 2 }, structure["Training loss"]);
            Assert.Equal(new Dictionary<string, int> { ["one"] = 4, ["two"] = 2 }, structure["Accuracy"]);
            var warnings = err.Trim().Split('\n');
            Assert.Equal(3, warnings.Length);
            Assert.Contains(warnings, w => w.Contains("none.metrics.jsonl: no epoch finished"));
            Assert.Contains(warnings, w => w.Contains("bad.metrics.jsonl: line 1: not a JSON object"));
            Assert.Contains(warnings, w => w.Contains("missing.metrics.jsonl: file not found"));
            // Nothing left to draw is a file error.
            (code, _, err) = CliTests.Run("runs", "plot", "bad", "--dir", dir, "--out", svg);
            Assert.Equal(1, code);
            Assert.Contains("no run to draw", err);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
