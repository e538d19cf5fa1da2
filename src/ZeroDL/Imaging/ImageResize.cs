namespace ZeroDL.Imaging;

/// <summary>
/// Resizes 8-bit channel planes. Shrinking an axis averages areas: each output pixel is the mean of the input area
/// it covers, partial pixels weighted by how much of them it covers (a box filter, OpenCV's INTER_AREA), so no input
/// pixel is skipped and fine detail does not alias. Enlarging an axis interpolates linearly between the two nearest
/// input pixel centres (half-pixel centres, edges clamped: OpenCV's INTER_LINEAR, PyTorch's align_corners=False).
/// The two axes are resampled one after the other (rows, then columns) in double; the result is rounded to the
/// nearest byte. Every channel is resized the same way.
/// </summary>
public static class ImageResize
{
    /// <summary>
    /// <paramref name="channels"/> planes of <paramref name="height"/>×<paramref name="width"/> bytes resized to
    /// <paramref name="newHeight"/>×<paramref name="newWidth"/> (a new array).
    /// </summary>
    public static byte[] Resize(ReadOnlySpan<byte> pixels, int channels, int height, int width, int newHeight, int newWidth)
    {
        if (channels < 1 || height < 1 || width < 1 || newHeight < 1 || newWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(newHeight), $"cannot resize {channels}×{height}×{width} to {newHeight}×{newWidth}");
        if (pixels.Length != (long)channels * height * width) throw new ArgumentException($"{channels}×{height}×{width} pixels need {(long)channels * height * width} bytes, got {pixels.Length}");
        var horizontal = Weights(width, newWidth);
        var vertical = Weights(height, newHeight);
        var result = new byte[channels * newHeight * newWidth];
        var rows = new double[height * newWidth];
        for (int c = 0; c < channels; c++)
        {
            var plane = pixels.Slice(c * height * width, height * width);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < newWidth; x++)
                {
                    double sum = 0;
                    foreach (var (index, weight) in horizontal[x]) sum += weight * plane[y * width + index];
                    rows[y * newWidth + x] = sum;
                }
            for (int y = 0; y < newHeight; y++)
                for (int x = 0; x < newWidth; x++)
                {
                    double sum = 0;
                    foreach (var (index, weight) in vertical[y]) sum += weight * rows[index * newWidth + x];
                    result[(c * newHeight + y) * newWidth + x] = (byte)Math.Clamp(Math.Round(sum, MidpointRounding.AwayFromZero), 0, 255);
                }
        }
        return result;
    }

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
