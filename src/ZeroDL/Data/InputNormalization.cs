namespace ZeroDL.Data;

/// <summary>
/// How raw pixels become a network's input: divide by <see cref="PixelScale"/> (255 for 8-bit images, 65535 for
/// 16-bit), then per channel c subtract <c>Mean[c]</c> and divide by <c>Std[c]</c>. The mean and std are computed on
/// the training split (<see cref="Compute"/>) and stored in the model file, so that every later use of the model
/// (evaluate, predict, serve) prepares an image exactly as training did. The book's MNIST networks take pixels / 255
/// as they are: <see cref="Identity"/>.
/// </summary>
public sealed record InputNormalization
{
    public InputNormalization(IEnumerable<float> mean, IEnumerable<float> std, float pixelScale = 255f)
    {
        Mean = [.. mean];
        Std = [.. std];
        PixelScale = pixelScale;
        if (Mean.Count == 0 || Mean.Count != Std.Count)
            throw new ArgumentException($"normalization needs one mean and one std per channel (got {Mean.Count} and {Std.Count})");
        foreach (float m in Mean)
            if (!float.IsFinite(m)) throw new ArgumentException($"normalization mean {m} is not finite");
        foreach (float s in Std)
            if (!(s > 0) || !float.IsFinite(s)) throw new ArgumentException($"normalization std {s} is not a positive finite number");
        if (!(pixelScale > 0) || !float.IsFinite(pixelScale)) throw new ArgumentException($"pixel scale {pixelScale} is not a positive finite number");
    }

    /// <summary>One mean per channel.</summary>
    public IReadOnlyList<float> Mean { get; }
    /// <summary>One standard deviation per channel (&gt; 0).</summary>
    public IReadOnlyList<float> Std { get; }
    /// <summary>The divisor that maps a stored pixel to [0, 1].</summary>
    public float PixelScale { get; }

    public int Channels => Mean.Count;

    /// <summary>True when only the pixel scale applies (mean 0 and std 1 on every channel).</summary>
    public bool IsIdentity => Mean.All(m => m == 0) && Std.All(s => s == 1);

    /// <summary>Pixels / <paramref name="pixelScale"/> and nothing else: the book's MNIST input.</summary>
    public static InputNormalization Identity(int channels, float pixelScale = 255f) =>
        new(Enumerable.Repeat(0f, channels), Enumerable.Repeat(1f, channels), pixelScale);

    /// <summary>
    /// Normalizes images already scaled to [0, 1], in place: <paramref name="images"/> holds whole images of
    /// <see cref="Channels"/> planes of <paramref name="plane"/> values each (N, C, H·W).
    /// </summary>
    public void Apply(Span<float> images, int plane)
    {
        int imageSize = Channels * plane;
        if (plane <= 0 || images.Length % imageSize != 0)
            throw new ArgumentException($"{images.Length} values are not whole images of {Channels} channels × {plane}");
        if (IsIdentity) return;
        for (int at = 0; at < images.Length; at += imageSize)
            for (int c = 0; c < Channels; c++)
            {
                var channel = images.Slice(at + c * plane, plane);
                System.Numerics.Tensors.TensorPrimitives.Subtract(channel, Mean[c], channel);
                System.Numerics.Tensors.TensorPrimitives.Divide(channel, Std[c], channel);
            }
    }

    /// <summary>
    /// The per-channel mean and (population) standard deviation of images scaled to [0, 1], laid out (N, C, H·W),
    /// summed in double so the result does not depend on the image count's rounding. A channel that is constant
    /// gets std 1, so that normalizing never divides by zero.
    /// </summary>
    public static InputNormalization Compute(ReadOnlySpan<float> images, int channels, int plane, float pixelScale = 255f)
    {
        int imageSize = channels * plane;
        if (channels <= 0 || plane <= 0 || images.Length == 0 || images.Length % imageSize != 0)
            throw new ArgumentException($"{images.Length} values are not whole images of {channels} channels × {plane}");
        var sum = new double[channels];
        var sumSquares = new double[channels];
        for (int at = 0; at < images.Length; at += imageSize)
            for (int c = 0; c < channels; c++)
                foreach (float v in images.Slice(at + c * plane, plane))
                {
                    sum[c] += v;
                    sumSquares[c] += (double)v * v;
                }
        long count = (long)(images.Length / imageSize) * plane;
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / count;
            double variance = Math.Max(0, sumSquares[c] / count - m * m);
            mean[c] = (float)m;
            std[c] = variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f;
        }
        return new InputNormalization(mean, std, pixelScale);
    }
}
