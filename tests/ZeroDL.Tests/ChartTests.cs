using System.Xml.Linq;
using ZeroDL.Charts;

namespace ZeroDL.Tests;

public class ChartTests
{
    private static readonly XNamespace Ns = "http://www.w3.org/2000/svg";

    private static XDocument Parse(string svg) => XDocument.Parse(svg); // throws on malformed XML

    [Fact]
    public void Line_chart_has_every_series_a_legend_and_ticks()
    {
        var chart = new Chart
        {
            Title = "loss & accuracy <per epoch>",
            X = new Axis("epoch"), Y = new Axis("loss"),
            Series = [Series.Of("SGD", [2.3, 1.1, 0.6, 0.4]), Series.Of("Adam", [2.3, 0.5, 0.3, double.NaN, 0.2]) with { Dashed = true }],
        };
        var doc = Parse(chart.ToSvg());
        var groups = doc.Descendants(Ns + "g").Where(g => (string?)g.Attribute("class") == "series").ToList();
        Assert.Equal(["SGD", "Adam"], groups.Select(g => (string?)g.Attribute("data-name")));
        Assert.Single(groups[0].Elements(Ns + "path"));
        // The NaN breaks Adam's line into two pieces: two "M" moves in one path.
        Assert.Equal(2, ((string)groups[1].Element(Ns + "path")!.Attribute("d")!).Count(c => c == 'M'));
        var texts = doc.Descendants(Ns + "text").Select(t => t.Value).ToList();
        Assert.Contains("loss & accuracy <per epoch>", texts); // escaped in the file, intact when parsed
        Assert.Contains("SGD", texts); Assert.Contains("Adam", texts); Assert.Contains("epoch", texts);
        Assert.Contains("0.5", texts); // a 1-2-5 tick on the loss axis
    }

    [Fact]
    public void Log_axis_ticks_are_decades_and_skip_non_positive_values()
    {
        var chart = new Chart
        {
            X = new Axis("h") { Log = true }, Y = new Axis("error") { Log = true },
            Series = [new Series("error", [1e-10, 1e-5, 1e-1, 0], [1e-3, 1e-9, 1e-2, 5])],
        };
        var doc = Parse(chart.ToSvg());
        var texts = doc.Descendants(Ns + "text").Select(t => t.Value).ToList();
        Assert.Contains("1e-10", texts); Assert.Contains("1e-5", texts); Assert.Contains("0.1", texts);
        Assert.Contains("1e-9", texts);
        var d = (string)doc.Descendants(Ns + "path").Single(p => p.Parent?.Attribute("class")?.Value == "series").Attribute("d")!;
        Assert.Equal(3, d.Split(' ').Count(part => part.StartsWith('M') || part.StartsWith('L'))); // the x = 0 point is left out
    }

    [Fact]
    public void Histogram_counts_and_bars()
    {
        var h = new Histogram("activations", [0.05, 0.15, 0.15, 0.95, 1.0, 2.0, -1], Bins: 10, Min: 0, Max: 1);
        Assert.Equal([1, 2, 0, 0, 0, 0, 0, 0, 0, 2], h.Counts()); // values outside [0, 1] are not counted; 1.0 is in the last bin
        var doc = Parse(new Chart { Histograms = [h] }.ToSvg());
        Assert.Equal(10, doc.Descendants(Ns + "rect").Count(r => (string?)r.Attribute("fill-opacity") == "0.75"));
    }

    [Fact]
    public void Contour_of_a_bowl_has_closed_levels_and_a_path_over_it()
    {
        var chart = new Chart
        {
            Contour = new ContourField((x, y) => x * x / 20 + y * y, -10, 10, -5, 5) { LevelCount = 6 },
            Series = [new Series("SGD", [-7, -5, -3, 0], [2, -1, 0.5, 0]) { Markers = true }],
        };
        var doc = Parse(chart.ToSvg());
        var levels = doc.Descendants(Ns + "path").Where(p => p.Attribute("data-level") is not null).ToList();
        Assert.Equal(6, levels.Count);
        Assert.All(levels, p => Assert.True(((string)p.Attribute("d")!).Length > 100, "each level is drawn"));
        Assert.Equal(4, doc.Descendants(Ns + "circle").Count());
    }

    [Fact]
    public void Small_multiples_lay_out_panels_in_a_grid()
    {
        var panels = Enumerable.Range(0, 5).Select(i => new Chart { Title = $"panel {i}", Series = [Series.Of("s", [i, i + 1.0])] }).ToList();
        var doc = Parse(SmallMultiples.ToSvg(panels, columns: 3, title: "five", panelWidth: 200, panelHeight: 150));
        Assert.Equal("600", (string?)doc.Root!.Attribute("width"));
        Assert.Equal("330", (string?)doc.Root!.Attribute("height")); // 2 rows + the title
        Assert.Equal(5, doc.Descendants(Ns + "g").Count(g => (string?)g.Attribute("class") == "chart"));
        Assert.Throws<ArgumentException>(() => SmallMultiples.ToSvg([], 2));
    }

    [Fact]
    public void Mismatched_series_and_degenerate_ranges_are_handled()
    {
        Assert.Throws<ArgumentException>(() => new Chart { Series = [new Series("bad", [1, 2], [1])] }.ToSvg());
        Parse(new Chart { Series = [Series.Of("flat", [3, 3, 3])] }.ToSvg()); // a flat line still gets a range
        Parse(new Chart().ToSvg()); // an empty chart is a valid empty frame
    }
}
