namespace ZeroDL.Imaging;

/// <summary>
/// Resizes 8-bit channel planes. Shrinking an axis averages areas: each output pixel is the mean of the input area
/// it covers, partial pixels weighted by how much of them it covers (a box filter, OpenCV's INTER_AREA), so no input
/// pixel is skipped and fine detail does not alias. Enlarging an axis interpolates linearly between the two nearest
/// input pixel centres (half-pixel centres, edges clamped: OpenCV's INTER_LINEAR, PyTorch's align_corners=False).
/// The two axes are resampled one after the other in double, in the order whose intermediate is smaller (rows first
/// when equal); the result is rounded to the nearest byte. Every channel is resized the same way.
/// </summary>
public static class ImageResize
{
    /// <summary>
    /// <paramref name="channels"/> planes of <paramref name="height"/>×<paramref name="width"/> bytes resized to
    /// <paramref name="newHeight"/>×<paramref name="newWidth"/> (a new array). An output larger than
    /// <see cref="GrayImage.MaxPixels"/> pixels is refused with <see cref="ArgumentOutOfRangeException"/>.
    /// </summary>
    public static byte[] Resize(ReadOnlySpan<byte> pixels, int channels, int height, int width, int newHeight, int newWidth)
    {
        if (channels < 1 || height < 1 || width < 1 || newHeight < 1 || newWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(newHeight), $"cannot resize {channels}×{height}×{width} to {newHeight}×{newWidth}");
        if (pixels.Length != (long)channels * height * width) throw new ArgumentException($"{channels}×{height}×{width} pixels need {(long)channels * height * width} bytes, got {pixels.Length}");
        // The output must fit the pixel budget like any decoded image; then the smaller of the two intermediates fits
        // it too (their product is the input's pixels times the output's), so no size below can overflow an int.
        long outputPixels = (long)newHeight * newWidth;
        if (outputPixels > GrayImage.MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(newHeight), $"cannot resize to {newHeight}×{newWidth}: larger than {GrayImage.MaxPixels} pixels");
        long rowsFirst = (long)height * newWidth, columnsFirst = (long)newHeight * width;
        bool verticalFirst = columnsFirst < rowsFirst;
        long intermediate = Math.Min(rowsFirst, columnsFirst);
        if (intermediate > GrayImage.MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(newHeight), $"cannot resize {height}×{width} to {newHeight}×{newWidth}: the intermediate of {intermediate} pixels is larger than {GrayImage.MaxPixels}");
        var horizontal = Weights(width, newWidth);
        var vertical = Weights(height, newHeight);
        if (channels * outputPixels > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(channels), $"cannot resize {channels} channels to {newHeight}×{newWidth}: more bytes than one array holds");
        var result = new byte[channels * (int)outputPixels];
        var between = new double[intermediate];
        int planeSize = height * width;
        for (int c = 0; c < channels; c++)
        {
            var plane = pixels.Slice(c * planeSize, planeSize);
            var output = result.AsSpan(c * (int)outputPixels, (int)outputPixels);
            if (verticalFirst) ResizeColumnsThenRows(plane, between, output, width, newWidth, horizontal, vertical);
            else ResizeRowsThenColumns(plane, between, output, width, newWidth, horizontal, vertical);
        }
        return result;
    }

    /// <summary>Each row resampled to <paramref name="newWidth"/> into <paramref name="rows"/> (height × newWidth), then each column.</summary>
    private static void ResizeRowsThenColumns(ReadOnlySpan<byte> plane, double[] rows, Span<byte> output, int width, int newWidth,
        (int Index, double Weight)[][] horizontal, (int Index, double Weight)[][] vertical)
    {
        for (int y = 0, height = plane.Length / width; y < height; y++)
            for (int x = 0; x < newWidth; x++)
            {
                double sum = 0;
                foreach (var (index, weight) in horizontal[x]) sum += weight * plane[y * width + index];
                rows[y * newWidth + x] = sum;
            }
        for (int y = 0; y < vertical.Length; y++)
            for (int x = 0; x < newWidth; x++)
            {
                double sum = 0;
                foreach (var (index, weight) in vertical[y]) sum += weight * rows[index * newWidth + x];
                output[y * newWidth + x] = ToByte(sum);
            }
    }

    /// <summary>
    /// Each column resampled to vertical.Length rows into <paramref name="columns"/> (newHeight × width), then each row:
    /// the order for a tall, narrow image, whose rows-first intermediate would be far larger than its output.
    /// </summary>
    private static void ResizeColumnsThenRows(ReadOnlySpan<byte> plane, double[] columns, Span<byte> output, int width, int newWidth,
        (int Index, double Weight)[][] horizontal, (int Index, double Weight)[][] vertical)
    {
        for (int y = 0; y < vertical.Length; y++)
            for (int x = 0; x < width; x++)
            {
                double sum = 0;
                foreach (var (index, weight) in vertical[y]) sum += weight * plane[index * width + x];
                columns[y * width + x] = sum;
            }
        for (int y = 0; y < vertical.Length; y++)
            for (int x = 0; x < newWidth; x++)
            {
                double sum = 0;
                foreach (var (index, weight) in horizontal[x]) sum += weight * columns[y * width + index];
                output[y * newWidth + x] = ToByte(sum);
            }
    }

    internal static byte ToByte(double value) => (byte)Math.Clamp(Math.Round(value, MidpointRounding.AwayFromZero), 0, 255);

    /// <summary>For each output position, the input positions it draws on and their weights (summing to 1).</summary>
    internal static (int Index, double Weight)[][] Weights(int size, int newSize)
    {
        var weights = new (int, double)[newSize][];
        double scale = (double)size / newSize;
        for (int o = 0; o < newSize; o++)
        {
            if (newSize <= size)
            {
                // Area: output pixel o covers input [o·scale, (o + 1)·scale).
                double from = o * scale, to = from + scale;
                var list = new List<(int, double)>();
                for (int i = (int)Math.Floor(from); i < Math.Min(size, (int)Math.Ceiling(to)); i++)
                {
                    double cover = Math.Min(to, i + 1) - Math.Max(from, i);
                    if (cover > 1e-12) list.Add((i, cover / scale));
                }
                weights[o] = [.. list];
            }
            else
            {
                // Linear: the output pixel's centre in input coordinates, between two input centres.
                double centre = (o + 0.5) * scale - 0.5;
                int i0 = (int)Math.Floor(centre);
                double t = centre - i0;
                int a = Math.Clamp(i0, 0, size - 1), b = Math.Clamp(i0 + 1, 0, size - 1);
                weights[o] = a == b ? [(a, 1.0)] : [(a, 1 - t), (b, t)];
            }
        }
        return weights;
    }
}
