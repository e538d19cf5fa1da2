using ZeroDL.Imaging;

namespace ZeroDL.Data;

/// <summary>
/// Makes one image file into a network's input exactly as a dataset's images were made during training: resized to
/// the network's H×W (<see cref="ImageResize"/>, as <c>--resize</c> does), each byte scaled by 1 / PixelScale and
/// normalized per channel by the model's <see cref="InputNormalization"/> — the same conversion, in the same order,
/// as <see cref="Dataset.GatherImages"/>, so the same bytes give the same floats.
/// </summary>
public static class ImageInput
{
    /// <summary>
    /// The C·H·W input values of <paramref name="image"/> for a network whose input is
    /// <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>. An image whose channels differ
    /// from the network's (a colour image for a gray model, or the reverse) is refused: converting it silently would
    /// show the network something it never saw.
    /// </summary>
    /// <exception cref="DataFormatException">The image's channels do not fit the network; the message starts with <paramref name="source"/>.</exception>
    public static float[] ToInput(PixelImage image, int channels, int height, int width, InputNormalization normalization, string source)
    {
        if (normalization.Channels != channels)
            throw new ArgumentException($"a normalization of {normalization.Channels} channel(s) for an input of {channels}");
        if (image.Channels != channels)
            throw DataFormatException.For(source, $"is {Describe(image.Channels)} but the model takes {Describe(channels)} images of {height}×{width}: convert the image");
        var resized = image.Resized(height, width);
        var input = new float[resized.Pixels.Length];
        PixelConversion.ToFloat(resized.Pixels, 1f / normalization.PixelScale, input);
        normalization.Apply(input, height * width);
        return input;
    }

    private static string Describe(int channels) => channels switch { 1 => "gray (1 channel)", 3 => "colour (3 channels)", _ => $"{channels} channels" };
}
