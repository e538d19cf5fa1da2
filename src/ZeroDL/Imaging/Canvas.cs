namespace ZeroDL.Imaging;

/// <summary>An RGB drawing surface for figures: filled rectangles, grayscale images scaled up, and small text in a built-in 3×5 pixel font.</summary>
public sealed class Canvas
{
    public Canvas(int width, int height, (byte R, byte G, byte B) background)
    {
        if (width < 1 || height < 1 || (long)width * height > GrayImage.MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(width), $"a {width}×{height} canvas is empty or too large");
        Width = width; Height = height;
        Pixels = new byte[width * height * 3];
        FillRectangle(0, 0, width, height, background);
    }

    public int Width { get; }
    public int Height { get; }
    /// <summary>RGB bytes, rows top to bottom.</summary>
    public byte[] Pixels { get; }

    public void SetPixel(int x, int y, (byte R, byte G, byte B) color)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return; // clipped
        int i = (y * Width + x) * 3;
        Pixels[i] = color.R; Pixels[i + 1] = color.G; Pixels[i + 2] = color.B;
    }

    public void FillRectangle(int x, int y, int width, int height, (byte R, byte G, byte B) color)
    {
        for (int yy = y; yy < y + height; yy++)
            for (int xx = x; xx < x + width; xx++) SetPixel(xx, yy, color);
    }

    /// <summary>
    /// Draws a grayscale image (row-major values) with each pixel a <paramref name="zoom"/>×<paramref name="zoom"/>
    /// square: values mapped linearly from [low, high] to [0, 255] and clamped; <paramref name="inverted"/> draws high values dark.
    /// </summary>
    public void DrawGray(ReadOnlySpan<float> values, int columns, int rows, int x, int y, int zoom, float low = 0, float high = 1, bool inverted = false)
    {
        if (values.Length < columns * rows) throw new ArgumentException($"{columns}×{rows} image needs {columns * rows} values, got {values.Length}");
        float range = high > low ? high - low : 1;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                float v = Math.Clamp((values[r * columns + c] - low) / range, 0, 1);
                if (inverted) v = 1 - v;
                byte g = (byte)Math.Round(v * 255);
                FillRectangle(x + c * zoom, y + r * zoom, zoom, zoom, (g, g, g));
            }
    }

    /// <summary>Text in the 3×5 font (digits, a few letters and punctuation; other characters leave a gap), each font pixel <paramref name="zoom"/>² screen pixels.</summary>
    public void DrawText(string text, int x, int y, int zoom, (byte R, byte G, byte B) color)
    {
        foreach (char ch in text)
        {
            if (Font.TryGetValue(char.ToLowerInvariant(ch), out var rows))
                for (int r = 0; r < 5; r++)
                    for (int c = 0; c < 3; c++)
                        if ((rows[r] >> (2 - c) & 1) != 0) FillRectangle(x + c * zoom, y + r * zoom, zoom, zoom, color);
            x += 4 * zoom;
        }
    }

    /// <summary>Width in pixels of <paramref name="text"/> drawn at <paramref name="zoom"/>.</summary>
    public static int TextWidth(string text, int zoom) => Math.Max(0, text.Length * 4 - 1) * zoom;

    public void SavePng(string path) => PngEncoder.Save(path, Width, Height, 3, Pixels);

    // Each glyph: five rows of three bits, most significant bit leftmost.
    private static readonly Dictionary<char, byte[]> Font = new()
    {
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [7, 1, 7, 4, 7], ['3'] = [7, 1, 3, 1, 7], ['4'] = [5, 5, 7, 1, 1],
        ['5'] = [7, 4, 7, 1, 7], ['6'] = [7, 4, 7, 5, 7], ['7'] = [7, 1, 1, 2, 2], ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 7],
        [':'] = [0, 2, 0, 2, 0], ['>'] = [4, 2, 1, 2, 4], ['-'] = [0, 0, 7, 0, 0], ['.'] = [0, 0, 0, 0, 2], ['%'] = [5, 1, 2, 4, 5],
        ['a'] = [2, 5, 7, 5, 5], ['b'] = [6, 5, 6, 5, 6], ['c'] = [3, 4, 4, 4, 3], ['d'] = [6, 5, 5, 5, 6], ['e'] = [7, 4, 6, 4, 7],
        ['f'] = [7, 4, 6, 4, 4], ['i'] = [7, 2, 2, 2, 7], ['l'] = [4, 4, 4, 4, 7], ['n'] = [6, 5, 5, 5, 5], ['o'] = [2, 5, 5, 5, 2],
        ['p'] = [6, 5, 6, 4, 4], ['r'] = [6, 5, 6, 5, 5], ['s'] = [3, 4, 2, 1, 6], ['t'] = [7, 2, 2, 2, 2], ['u'] = [5, 5, 5, 5, 7],
        ['='] = [0, 7, 0, 7, 0], ['!'] = [2, 2, 2, 0, 2],
    };
}
