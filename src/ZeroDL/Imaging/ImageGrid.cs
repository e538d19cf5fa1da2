namespace ZeroDL.Imaging;

/// <summary>One tile of an <see cref="ImageGrid"/>: a grayscale image, how to map its values to gray, and an optional caption in coloured pieces.</summary>
public sealed record GridCell(float[] Pixels, int Width, int Height)
{
    public float Low { get; init; }
    public float High { get; init; } = 1;
    /// <summary>Draw high values dark (the book's figures use matplotlib's gray_r for digits and filters).</summary>
    public bool Inverted { get; init; }
    public IReadOnlyList<(string Text, (byte R, byte G, byte B) Color)> Caption { get; init; } = [];
}

/// <summary>Lays images out in rows and columns, each enlarged and captioned underneath, as the book's figures of digits and filters.</summary>
public static class ImageGrid
{
    public static readonly (byte R, byte G, byte B) White = (255, 255, 255), Black = (0, 0, 0), Green = (0, 120, 0), Red = (200, 0, 0), Gray = (110, 110, 110);

    /// <summary>
    /// The book's figure of misclassified digits: the images at <paramref name="indices"/> of a dataset (MNIST's digits
    /// dark ink on white, see <see cref="Cell"/>), each captioned "index: prediction != label" (prediction red, label green): the answer first, as `zerodl predict` prints it.
    /// </summary>
    public static Canvas Misclassified(Data.Dataset data, IReadOnlyList<int> predicted, IEnumerable<int> indices, int columns = 5, int zoom = 4)
    {
        static string Text(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var cells = indices.Select(i => Cell(data, i) with
        {
            Caption = [(Text(i) + ":", Gray), (Text(predicted[i]), Red), ("!=", Gray), (Text(data.Labels[i]), Green)],
        }).ToList();
        return Build(cells, columns, zoom);
    }

    /// <summary>
    /// Sample <paramref name="index"/> as a gray cell: a one-channel image read as the book reads MNIST (pixels / 255;
    /// flat samples of 784 values are its 28×28 digits) as it is, inverted (dark ink on light paper); any other image
    /// from its stored bytes, colour as luminance.
    /// </summary>
    private static GridCell Cell(Data.Dataset data, int index)
    {
        var shape = data.ImageShape ?? (data.SampleLength == 784 ? (1, 28, 28) : null);
        if (data.Normalization is null && shape is (1, int h, int w))
            return new GridCell(data.Images.ReadOnlySpan.Slice(index * h * w, h * w).ToArray(), w, h) { Inverted = true };
        var image = (data.StoredImage(index) ?? throw new ArgumentException("the dataset holds no 8-bit images to draw")).ToGray();
        return new GridCell([.. image.Pixels.Select(p => p / 255f)], image.Width, image.Height);
    }

    public static Canvas Build(IReadOnlyList<GridCell> cells, int columns, int zoom = 4, int margin = 6)
    {
        if (cells.Count == 0) throw new ArgumentException("an image grid needs at least one image");
        if (columns < 1 || zoom < 1 || margin < 0) throw new ArgumentOutOfRangeException(nameof(columns), "columns and zoom must be at least 1, margin at least 0");
        columns = Math.Min(columns, cells.Count);
        int rows = (cells.Count + columns - 1) / columns;
        int tileWidth = cells.Max(c => c.Width) * zoom, tileHeight = cells.Max(c => c.Height) * zoom;
        int textZoom = Math.Max(1, zoom / 2);
        bool captions = cells.Any(c => c.Caption.Count > 0);
        int captionHeight = captions ? 5 * textZoom + margin / 2 + 2 : 0;
        var canvas = new Canvas(margin + columns * (tileWidth + margin), margin + rows * (tileHeight + captionHeight + margin), White);
        for (int i = 0; i < cells.Count; i++)
        {
            var cell = cells[i];
            int x = margin + i % columns * (tileWidth + margin), y = margin + i / columns * (tileHeight + captionHeight + margin);
            canvas.DrawGray(cell.Pixels, cell.Width, cell.Height, x, y, zoom, cell.Low, cell.High, cell.Inverted);
            int textX = x;
            foreach (var (text, color) in cell.Caption)
            {
                canvas.DrawText(text, textX, y + tileHeight + margin / 2 + 2, textZoom, color);
                textX += Canvas.TextWidth(text, textZoom) + textZoom;
            }
        }
        return canvas;
    }
}
