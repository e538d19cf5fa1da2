namespace ZeroDL.Charts;

/// <summary>
/// One chart panel: line series (or paths and scatters), histograms, and contour lines of a 2-D function, with a
/// title, axis labels, ticks (linear or log) and a legend. <see cref="ToSvg"/> writes a standalone SVG;
/// <see cref="SmallMultiples"/> lays several out in a grid. No charting library: plain SVG text.
/// </summary>
public sealed class Chart
{
    public static IReadOnlyList<string> Palette { get; } = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    public string Title { get; init; } = "";
    public Axis X { get; init; } = new();
    public Axis Y { get; init; } = new();
    public List<Series> Series { get; init; } = [];
    public List<Histogram> Histograms { get; init; } = [];
    public ContourField? Contour { get; init; }
    public bool Legend { get; init; } = true;

    public string ToSvg(int width = 640, int height = 420)
    {
        var svg = new Svg().Open(width, height);
        Render(svg, 0, 0, width, height);
        return svg.Close().ToString();
    }

    public void Save(string path, int width = 640, int height = 420) =>
        Serialization.AtomicFile.WriteAllText(path, ToSvg(width, height));

    /// <summary>Draws the panel into the rectangle (left, top, width, height) of <paramref name="svg"/>.</summary>
    internal void Render(Svg svg, double left, double top, double width, double height)
    {
        const double padLeft = 58, padRight = 14, padTop = 28, padBottom = 42;
        double px = left + padLeft, py = top + padTop, pw = width - padLeft - padRight, ph = height - padTop - padBottom;
        var (x0, x1) = X.Range(XValues());
        var (y0, y1) = Y.Range(YValues());
        double Sx(double v) => px + X.Fraction(v, x0, x1) * pw;
        double Sy(double v) => py + ph - Y.Fraction(v, y0, y1) * ph;

        svg.Raw($"<g class=\"chart\" data-title=\"{Svg.Escape(Title)}\">\n");
        if (Title.Length > 0) svg.Text(left + width / 2, top + 18, Title, "middle", " font-size=\"14\" font-weight=\"bold\"");
        // Grid, ticks and tick labels.
        foreach (double t in Axis.Ticks(x0, x1, X.Log, (int)Math.Clamp(pw / 70, 3, 8)))
        {
            double x = Sx(t);
            svg.Line(x, py, x, py + ph, "#e6e6e6").Line(x, py + ph, x, py + ph + 4, "#333");
            svg.Text(x, py + ph + 16, Axis.TickLabel(t, X.Log), "middle", " font-size=\"10\"");
        }
        foreach (double t in Axis.Ticks(y0, y1, Y.Log, (int)Math.Clamp(ph / 45, 3, 6)))
        {
            double y = Sy(t);
            svg.Line(px, y, px + pw, y, "#e6e6e6").Line(px - 4, y, px, y, "#333");
            svg.Text(px - 6, y + 3.5, Axis.TickLabel(t, Y.Log), "end", " font-size=\"10\"");
        }
        svg.Raw($"<clipPath id=\"clip{ClipId(left, top)}\"><rect x=\"{Svg.N(px)}\" y=\"{Svg.N(py)}\" width=\"{Svg.N(pw)}\" height=\"{Svg.N(ph)}\"/></clipPath>\n");
        svg.Raw($"<g clip-path=\"url(#clip{ClipId(left, top)})\">\n");
        if (Contour is not null) DrawContour(svg, Contour, Sx, Sy);
        int colorIndex = 0;
        var legend = new List<(string Name, string Color, bool Dashed, bool Dot)>();
        foreach (var h in Histograms)
        {
            string color = h.Color ?? Palette[colorIndex++ % Palette.Count];
            var counts = h.Counts();
            double binWidth = (h.Max - h.Min) / h.Bins;
            for (int b = 0; b < counts.Length; b++)
            {
                double xa = Sx(h.Min + b * binWidth), xb = Sx(h.Min + (b + 1) * binWidth), yTop = Sy(counts[b]);
                svg.Rect(xa, yTop, xb - xa - 0.5, py + ph - yTop, color, " fill-opacity=\"0.75\"");
            }
            legend.Add((h.Name, color, false, false));
        }
        foreach (var s in Series)
        {
            if (s.X.Count != s.Y.Count) throw new ArgumentException($"series '{s.Name}': {s.X.Count} x values but {s.Y.Count} y values");
            string color = s.Color ?? Palette[colorIndex++ % Palette.Count];
            var points = s.X.Zip(s.Y, (x, y) => Visible(x, y) ? (Sx(x), Sy(y)) : (double.NaN, double.NaN)).ToList();
            svg.Raw($"<g class=\"series\" data-name=\"{Svg.Escape(s.Name)}\">\n");
            if (!s.ScatterOnly) svg.Path(points, color, 1.6, s.Dashed ? " stroke-dasharray=\"5 3\"" : "");
            if (s.Markers || s.ScatterOnly)
                foreach (var (x, y) in points.Where(p => double.IsFinite(p.Item1))) svg.Circle(x, y, s.ScatterOnly ? 3 : 2.2, color);
            svg.Raw("</g>\n");
            if (s.Name.Length > 0) legend.Add((s.Name, color, s.Dashed, s.ScatterOnly));
        }
        svg.Raw("</g>\n");
        // Frame, axis labels, legend.
        svg.Rect(px, py, pw, ph, "none", " stroke=\"#333\"");
        if (X.Label.Length > 0) svg.Text(px + pw / 2, top + height - 8, X.Label, "middle");
        if (Y.Label.Length > 0) svg.Text(left + 14, py + ph / 2, Y.Label, "middle", $" transform=\"rotate(-90 {Svg.N(left + 14)} {Svg.N(py + ph / 2)})\"");
        if (Legend && legend.Count > 0)
        {
            double lw = Math.Min(pw * 0.6, 30 + 7 * legend.Max(l => l.Name.Length)), lx = px + pw - lw - 6, ly = py + 6;
            svg.Rect(lx, ly, lw, 16 * legend.Count + 6, "white", " fill-opacity=\"0.85\" stroke=\"#bbb\"");
            for (int i = 0; i < legend.Count; i++)
            {
                double y = ly + 14 + 16 * i;
                if (legend[i].Dot) svg.Circle(lx + 12.5, y - 4, 3.5, legend[i].Color);
                else svg.Line(lx + 5, y - 4, lx + 20, y - 4, legend[i].Color, 2.5, legend[i].Dashed ? " stroke-dasharray=\"4 2\"" : "");
                svg.Text(lx + 24, y, legend[i].Name, "start", " font-size=\"11\"");
            }
        }
        svg.Raw("</g>\n");

        bool Visible(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!X.Log || x > 0) && (!Y.Log || y > 0);
    }

    private static string ClipId(double left, double top) => $"{(int)left}_{(int)top}";

    private IEnumerable<double> XValues()
    {
        foreach (var s in Series) foreach (var v in s.X) yield return v;
        foreach (var h in Histograms) { yield return h.Min; yield return h.Max; }
        if (Contour is not null) { yield return Contour.XMin; yield return Contour.XMax; }
    }

    private IEnumerable<double> YValues()
    {
        foreach (var s in Series) foreach (var v in s.Y) yield return v;
        foreach (var h in Histograms) { yield return 0; yield return h.Counts().DefaultIfEmpty(0).Max(); }
        if (Contour is not null) { yield return Contour.YMin; yield return Contour.YMax; }
    }

    /// <summary>Marching squares over a grid of samples: for each level, the segments where f crosses it.</summary>
    private static void DrawContour(Svg svg, ContourField field, Func<double, double> sx, Func<double, double> sy)
    {
        int n = Math.Clamp(field.Resolution, 4, 400);
        var f = new double[n + 1, n + 1];
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        for (int i = 0; i <= n; i++)
            for (int j = 0; j <= n; j++)
            {
                double v = field.F(field.XMin + (field.XMax - field.XMin) * i / n, field.YMin + (field.YMax - field.YMin) * j / n);
                f[i, j] = v;
                if (double.IsFinite(v)) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            }
        if (!(hi > lo)) return;
        IReadOnlyList<double> levels = field.Levels ?? Enumerable.Range(1, field.LevelCount).Select(k => field.GeometricLevels && lo > 0
            ? lo * Math.Pow(hi / lo, (double)k / (field.LevelCount + 1))
            : lo + (hi - lo) * k / (field.LevelCount + 1)).ToList();
        double X(double i) => sx(field.XMin + (field.XMax - field.XMin) * i / n);
        double Y(double j) => sy(field.YMin + (field.YMax - field.YMin) * j / n);
        svg.Raw("<g class=\"contour\" stroke=\"#9aa\" stroke-width=\"0.8\" fill=\"none\">\n");
        foreach (double level in levels)
        {
            var d = new System.Text.StringBuilder();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    // Corners counter-clockwise; the crossing point on each edge whose ends straddle the level.
                    var crossings = new List<(double X, double Y)>(4);
                    void Edge(double ia, double ja, double va, double ib, double jb, double vb)
                    {
                        if ((va < level) == (vb < level) || !double.IsFinite(va) || !double.IsFinite(vb)) return;
                        double t = (level - va) / (vb - va);
                        crossings.Add((X(ia + (ib - ia) * t), Y(ja + (jb - ja) * t)));
                    }
                    Edge(i, j, f[i, j], i + 1, j, f[i + 1, j]);
                    Edge(i + 1, j, f[i + 1, j], i + 1, j + 1, f[i + 1, j + 1]);
                    Edge(i + 1, j + 1, f[i + 1, j + 1], i, j + 1, f[i, j + 1]);
                    Edge(i, j + 1, f[i, j + 1], i, j, f[i, j]);
                    for (int c = 0; c + 1 < crossings.Count; c += 2)
                        d.Append(" M").Append(Svg.N(crossings[c].X)).Append(' ').Append(Svg.N(crossings[c].Y))
                         .Append(" L").Append(Svg.N(crossings[c + 1].X)).Append(' ').Append(Svg.N(crossings[c + 1].Y));
                }
            if (d.Length > 0) svg.Raw($"<path data-level=\"{Svg.N(level)}\" d=\"{d.ToString().Trim()}\"/>\n");
        }
        svg.Raw("</g>\n");
    }
}

/// <summary>Several charts in a grid under one title (the book's figures of many panels).</summary>
public static class SmallMultiples
{
    public static string ToSvg(IReadOnlyList<Chart> panels, int columns, string title = "", int panelWidth = 300, int panelHeight = 230)
    {
        if (panels.Count == 0) throw new ArgumentException("small multiples need at least one panel");
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), "columns must be at least 1");
        columns = Math.Min(columns, panels.Count);
        int rows = (panels.Count + columns - 1) / columns;
        double titleHeight = title.Length > 0 ? 30 : 0;
        var svg = new Svg().Open(columns * panelWidth, rows * panelHeight + titleHeight);
        if (title.Length > 0) svg.Text(columns * panelWidth / 2.0, 21, title, "middle", " font-size=\"16\" font-weight=\"bold\"");
        for (int i = 0; i < panels.Count; i++)
            panels[i].Render(svg, i % columns * panelWidth, titleHeight + i / columns * panelHeight, panelWidth, panelHeight);
        return svg.Close().ToString();
    }

    public static void Save(string path, IReadOnlyList<Chart> panels, int columns, string title = "", int panelWidth = 300, int panelHeight = 230) =>
        Serialization.AtomicFile.WriteAllText(path, ToSvg(panels, columns, title, panelWidth, panelHeight));
}
