namespace ZeroDL.Imaging;

/// <summary>
/// <see cref="ImageResize"/> for an image that arrives a row (or, interlaced, part of a row) at a time and is never
/// held whole: each sample is added into the output grid as it comes, so the memory is the output's, not the input's.
/// With whole rows in ascending order the sums are formed in the order <see cref="ImageResize.Resize"/> forms them (in
/// the same axis order it picks), so the result is bit for bit the same. Pixels arriving in any other order (Adam7
/// passes) are added with the product of their two weights straight into the output; the box and linear weights are
/// the same, only the rounding of the double sums can differ.
/// </summary>
internal sealed class StreamingResize
{
    private readonly int channels, width, newHeight, newWidth;
    private readonly (int Index, double Weight)[][] horizontal;
    private readonly AxisTargets verticalByInput, horizontalByInput;
    private readonly bool columnsFirst;
    // Rows first: the output grid (channels × newHeight × newWidth) plus one resampled row. Columns first: every output
    // row at the input's width (channels × newHeight × width), resampled across at the end.
    private readonly double[] sums, row;

    /// <param name="channels">Samples per pixel, each resized as its own plane.</param>
    /// <param name="height">The input's rows.</param>
    /// <param name="width">The input's columns.</param>
    /// <param name="newHeight">The output's rows.</param>
    /// <param name="newWidth">The output's columns.</param>
    /// <param name="rowsInOrder">True when whole rows will come in ascending order (a non-interlaced image).</param>
    public StreamingResize(int channels, int height, int width, int newHeight, int newWidth, bool rowsInOrder)
    {
        if (channels < 1 || height < 1 || width < 1 || newHeight < 1 || newWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(newHeight), $"cannot resize {channels}×{height}×{width} to {newHeight}×{newWidth}");
        long outputValues = (long)channels * newHeight * newWidth;
        if ((long)newHeight * newWidth > GrayImage.MaxPixels || outputValues > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(newHeight), $"cannot resize to {newHeight}×{newWidth}: larger than {GrayImage.MaxPixels} pixels");
        this.channels = channels; this.width = width; this.newHeight = newHeight; this.newWidth = newWidth;
        horizontal = ImageResize.Weights(width, newWidth);
        verticalByInput = new AxisTargets(height, newHeight);
        horizontalByInput = new AxisTargets(width, newWidth);
        // The axis order ImageResize picks (the smaller intermediate), possible only when rows come whole and in order.
        columnsFirst = rowsInOrder && (long)newHeight * width < (long)height * newWidth;
        sums = new double[columnsFirst ? (long)channels * newHeight * width : outputValues];
        row = new double[rowsInOrder && !columnsFirst ? newWidth : 0];
        RowsInOrder = rowsInOrder;
    }

    public bool RowsInOrder { get; }

    /// <summary>
    /// Adds input row <paramref name="y"/>'s pixels <paramref name="x0"/>, x0 + dx, …: <paramref name="samples"/> holds
    /// them channel-interleaved (C values per pixel). With rows in order, x0 = 0 and dx = 1 and the row is whole.
    /// </summary>
    public void AddRow(int y, int x0, int dx, ReadOnlySpan<float> samples)
    {
        int count = samples.Length / channels, plane = newHeight * (columnsFirst ? width : newWidth);
        Span<(int, double)> vertical = stackalloc (int, double)[AxisTargets.MaxPerInput], across = stackalloc (int, double)[AxisTargets.MaxPerInput];
        var targets = verticalByInput.Of(y, vertical);
        if (columnsFirst)
        {
            // Each output row o at full width: sums[o][x] += w(o, y) · p(x, y), in ascending y as ImageResize's column pass.
            for (int c = 0; c < channels; c++)
                foreach (var (o, wv) in targets)
                {
                    var target = sums.AsSpan(c * plane + o * width, width);
                    for (int x = 0; x < count; x++) target[x] += wv * samples[x * channels + c];
                }
        }
        else if (RowsInOrder)
        {
            // The row resampled across (ImageResize's row pass), then added into each output row it falls in.
            for (int c = 0; c < channels; c++)
            {
                for (int ox = 0; ox < newWidth; ox++)
                {
                    double sum = 0;
                    foreach (var (index, weight) in horizontal[ox]) sum += weight * samples[index * channels + c];
                    row[ox] = sum;
                }
                foreach (var (o, wv) in targets)
                {
                    var target = sums.AsSpan(c * plane + o * newWidth, newWidth);
                    for (int ox = 0; ox < newWidth; ox++) target[ox] += wv * row[ox];
                }
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                int x = x0 + i * dx;
                var columns = horizontalByInput.Of(x, across);
                foreach (var (o, wv) in targets)
                    foreach (var (ox, wh) in columns)
                        for (int c = 0; c < channels; c++) sums[c * plane + o * newWidth + ox] += wv * wh * samples[i * channels + c];
            }
        }
    }

    /// <summary>The output: channels × newHeight × newWidth values (not rounded).</summary>
    public double[] Result()
    {
        if (!columnsFirst) return sums;
        var result = new double[channels * newHeight * newWidth];
        for (int c = 0; c < channels; c++)
            for (int o = 0; o < newHeight; o++)
            {
                var source = sums.AsSpan((c * newHeight + o) * width, width);
                for (int ox = 0; ox < newWidth; ox++)
                {
                    double sum = 0;
                    foreach (var (index, weight) in horizontal[ox]) sum += weight * source[index];
                    result[(c * newHeight + o) * newWidth + ox] = sum;
                }
            }
        return result;
    }

    /// <summary>The output rounded to bytes as <see cref="ImageResize"/> rounds.</summary>
    public byte[] ResultBytes()
    {
        var values = Result();
        var bytes = new byte[values.Length];
        for (int i = 0; i < values.Length; i++) bytes[i] = ImageResize.ToByte(values[i]);
        return bytes;
    }

    /// <summary>
    /// ImageResize's weights of one axis turned around: for an input position, the outputs it feeds and with what
    /// weight. Shrinking, an input pixel overlaps at most two output boxes and its weights are computed as needed, with
    /// the arithmetic of <see cref="ImageResize.Weights"/>, so nothing is stored per input (a 16-megapixel-wide row costs
    /// nothing); enlarging, the input is smaller than the output and the turned-around table is stored.
    /// </summary>
    private sealed class AxisTargets
    {
        /// <summary>The most outputs one input feeds when shrinking; enlarging, the stored lists are copied out in full.</summary>
        public const int MaxPerInput = 2;
        private readonly int size, newSize;
        private readonly (int Index, double Weight)[][]? byInput;

        public AxisTargets(int size, int newSize)
        {
            this.size = size; this.newSize = newSize;
            if (newSize > size)
            {
                var byOutput = ImageResize.Weights(size, newSize);
                var lists = new List<(int, double)>[size];
                for (int o = 0; o < byOutput.Length; o++)
                    foreach (var (i, w) in byOutput[o]) (lists[i] ??= []).Add((o, w));
                byInput = new (int, double)[size][];
                for (int i = 0; i < size; i++) byInput[i] = lists[i] is { } l ? [.. l] : [];
            }
        }

        /// <summary>The outputs input <paramref name="i"/> feeds, ascending, in <paramref name="buffer"/> when shrinking.</summary>
        public ReadOnlySpan<(int Index, double Weight)> Of(int i, Span<(int Index, double Weight)> buffer)
        {
            if (byInput is not null) return byInput[i];
            // Output o covers input [o·scale, (o + 1)·scale); input i lies in [i, i + 1), so o is about i / scale.
            double scale = (double)size / newSize;
            int found = 0;
            for (int o = Math.Max(0, (int)(i / scale) - 1); o < newSize && o <= (int)(i / scale) + 1; o++)
            {
                double from = o * scale, to = from + scale;
                if (i < (int)Math.Floor(from) || i >= Math.Min(size, (int)Math.Ceiling(to))) continue;
                double cover = Math.Min(to, i + 1) - Math.Max(from, i);
                if (cover > 1e-12) buffer[found++] = (o, cover / scale);
            }
            return buffer[..found];
        }
    }
}
