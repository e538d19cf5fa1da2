using System.Globalization;
using System.Security;
using System.Text;

namespace ZeroDL.Charts;

/// <summary>Builds SVG markup: numbers in invariant culture with two decimals, text escaped.</summary>
internal sealed class Svg
{
    private readonly StringBuilder _sb = new();

    public static string N(double v) => double.IsFinite(v) ? Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture) : "0";
    public static string Escape(string text) => SecurityElement.Escape(text) ?? "";

    public Svg Raw(string markup) { _sb.Append(markup); return this; }

    public Svg Open(double width, double height) => Raw(
        $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{N(width)}\" height=\"{N(height)}\" viewBox=\"0 0 {N(width)} {N(height)}\" " +
        "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n" +
        $"<rect width=\"{N(width)}\" height=\"{N(height)}\" fill=\"white\"/>\n");

    public Svg Close() => Raw("</svg>\n");

    public Svg Line(double x1, double y1, double x2, double y2, string stroke, double width = 1, string extra = "") =>
        Raw($"<line x1=\"{N(x1)}\" y1=\"{N(y1)}\" x2=\"{N(x2)}\" y2=\"{N(y2)}\" stroke=\"{stroke}\" stroke-width=\"{N(width)}\"{extra}/>\n");

    public Svg Rect(double x, double y, double width, double height, string fill, string extra = "") =>
        Raw($"<rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(Math.Max(0, width))}\" height=\"{N(Math.Max(0, height))}\" fill=\"{fill}\"{extra}/>\n");

    public Svg Circle(double x, double y, double r, string fill) =>
        Raw($"<circle cx=\"{N(x)}\" cy=\"{N(y)}\" r=\"{N(r)}\" fill=\"{fill}\"/>\n");

    public Svg Text(double x, double y, string text, string anchor = "start", string extra = "") =>
        Raw($"<text x=\"{N(x)}\" y=\"{N(y)}\" text-anchor=\"{anchor}\"{extra}>{Escape(text)}</text>\n");

    public Svg Path(IEnumerable<(double X, double Y)> points, string stroke, double width, string extra = "")
    {
        var d = new StringBuilder();
        bool pen = false;
        foreach (var (x, y) in points)
        {
            if (!double.IsFinite(x) || !double.IsFinite(y)) { pen = false; continue; }
            d.Append(pen ? " L" : " M").Append(N(x)).Append(' ').Append(N(y));
            pen = true;
        }
        return d.Length == 0 ? this : Raw($"<path d=\"{d.ToString().Trim()}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{N(width)}\"{extra}/>\n");
    }

    public override string ToString() => _sb.ToString();
}
