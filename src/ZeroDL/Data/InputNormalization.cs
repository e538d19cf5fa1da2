namespace ZeroDL.Data;

/// <summary>
/// How raw pixels become a network's input: divide by <see cref="PixelScale"/> (255 for 8-bit images, 65535 for
/// 16-bit), then per channel c subtract <c>Mean[c]</c> and divide by <c>Std[c]</c>. The mean and std are computed on
/// the training split (<see cref="Compute(ReadOnlySpan{float}, int, int, float)"/>) and stored in the model file, so that every later use of the model
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

    /// <summary>Normalizes values of channel <paramref name="channel"/> already scaled to [0, 1], in place (the step <see cref="Apply"/> takes per channel).</summary>
    public void ApplyToChannel(Span<float> values, int channel)
    {
        if ((uint)channel >= (uint)Channels) throw new ArgumentOutOfRangeException(nameof(channel), channel, $"channel outside 0..{Channels - 1}");
        System.Numerics.Tensors.TensorPrimitives.Subtract(values, Mean[channel], values);
        System.Numerics.Tensors.TensorPrimitives.Divide(values, Std[channel], values);
    }

    /// <summary>
    /// <see cref="Compute(ReadOnlySpan{float}, int, int, float)"/> of stored bytes, as they would be scaled to floats
    /// (byte × (1 / <paramref name="pixelScale"/>) in float32): the same sums, taken from a count of each byte value per
    /// channel, so 60,000 images need no float copy.
    /// </summary>
    public static InputNormalization Compute(ReadOnlySpan<byte> images, int channels, int plane, float pixelScale = 255f)
    {
        int imageSize = channels * plane;
        if (channels <= 0 || plane <= 0 || images.Length == 0 || images.Length % imageSize != 0)
            throw new ArgumentException($"{images.Length} values are not whole images of {channels} channels × {plane}");
        var histogram = new long[channels, 256];
        for (int at = 0; at < images.Length; at += imageSize)
            for (int c = 0; c < channels; c++)
                foreach (byte b in images.Slice(at + c * plane, plane)) histogram[c, b]++;
        float scale = 1f / pixelScale;
        long count = (long)(images.Length / imageSize) * plane;
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, sumSquares = 0;
            for (int b = 0; b < 256; b++)
            {
                float v = b * scale;
                sum += histogram[c, b] * (double)v;
                sumSquares += histogram[c, b] * ((double)v * v);
            }
            (mean[c], std[c]) = Moments(sum, sumSquares, count);
        }
        return new InputNormalization(mean, std, pixelScale);
    }

    private static (float Mean, float Std) Moments(double sum, double sumSquares, long count)
    {
        double m = sum / count;
        double variance = Math.Max(0, sumSquares / count - m * m);
        return ((float)m, variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f);
    }

    /// <summary>The JSON a model file stores: <c>{"pixel_scale":255,"mean":[…],"std":[…]}</c> (one mean and std per channel).</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(new JsonForm(PixelScale, [.. Mean], [.. Std]), JsonOptions);

    /// <summary>Reads <see cref="ToJson"/>'s form; <see cref="FormatException"/> names what is wrong.</summary>
    public static InputNormalization FromJson(string json)
    {
        JsonForm? form;
        try { form = System.Text.Json.JsonSerializer.Deserialize<JsonForm>(json, JsonOptions); }
        catch (System.Text.Json.JsonException e) { throw new FormatException($"normalization is not valid JSON: {e.Message}"); }
        if (form?.Mean is null || form.Std is null) throw new FormatException("normalization needs pixel_scale, mean and std");
        try { return new InputNormalization(form.Mean, form.Std, form.PixelScale); }
        catch (ArgumentException e) { throw new FormatException(e.Message); }
    }

    private sealed record JsonForm(float PixelScale, float[] Mean, float[] Std);

    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
    };

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
        for (int c = 0; c < channels; c++) (mean[c], std[c]) = Moments(sum[c], sumSquares[c], count);
        return new InputNormalization(mean, std, pixelScale);
    }
}
