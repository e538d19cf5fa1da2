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
    /// The largest image accepted as a prediction's input: 16 megapixels (4096 × 4096). The image is never held at this
    /// size (it is shrunk as it is decoded), but decoding still takes time in proportion to its pixels, about a tenth of
    /// a second per 16 MP here: the cap keeps one upload from buying more CPU than that, and no camera photo or drawing
    /// canvas a user would send is larger.
    /// </summary>
    public const long MaxPixels = 4096L * 4096;

    /// <summary>
    /// The longer side a drawing is shrunk to, as it is decoded, before the MNIST recipe (<see cref="PrepareDigit"/>)
    /// crops its ink and scales it to 20 pixels: 512 pixels keep a digit's stroke several pixels wide at any canvas size,
    /// while the working image stays at 1 MB of floats instead of 64 MB for a 4096² upload.
    /// </summary>
    public const int DigitWorkingSide = 512;

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
        return Normalized(image.Resized(height, width), normalization);
    }

    /// <summary>
    /// A PNG's bytes as the input of a network taking <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>:
    /// the same values as <see cref="ToInput"/> on the decoded image, but decoded and resized in one streaming pass
    /// (<see cref="Png.DecodeResized"/>), so a large upload costs a few of its rows and the output, not its full size.
    /// </summary>
    /// <exception cref="DataFormatException">Not a PNG, corrupt, larger than <paramref name="maxPixels"/>, or other channels than the network's; the message starts with <paramref name="source"/>.</exception>
    public static float[] FromPng(byte[] png, int channels, int height, int width, InputNormalization normalization, string source, long maxPixels = MaxPixels)
    {
        if (normalization.Channels != channels)
            throw new ArgumentException($"a normalization of {normalization.Channels} channel(s) for an input of {channels}");
        if (!Png.IsPng(png)) throw DataFormatException.For(source, $"not a PNG image ({ImageKind.Describe(png)})");
        var info = Png.ReadInfo(png, source, maxPixels);
        int imageChannels = info.IsGray ? 1 : 3;
        if (imageChannels != channels)
            throw DataFormatException.For(source, $"is {Describe(imageChannels)} but the model takes {Describe(channels)} images of {height}×{width}: convert the image");
        return Normalized(Png.DecodeResized(png, source, height, width, maxPixels), normalization);
    }

    /// <summary>
    /// A PNG of one digit prepared as MNIST prepares its digits (<see cref="MnistPreprocessing.Prepare"/>). An image
    /// whose longer side is within <see cref="DigitWorkingSide"/> is prepared from its full decoded pixels, as before; a
    /// larger one is shrunk to that side by area averaging while it is decoded, then prepared.
    /// </summary>
    /// <exception cref="DataFormatException">Not a PNG, corrupt or larger than <paramref name="maxPixels"/>; the message starts with <paramref name="source"/>.</exception>
    public static PreparedDigit PrepareDigit(byte[] png, string source, long maxPixels = MaxPixels)
    {
        if (!Png.IsPng(png)) throw DataFormatException.For(source, $"not a PNG image ({ImageKind.Describe(png)})");
        return MnistPreprocessing.Prepare(Png.DecodeGray(png, source, DigitWorkingSide, maxPixels));
    }

    private static float[] Normalized(PixelImage resized, InputNormalization normalization)
    {
        var input = new float[resized.Pixels.Length];
        PixelConversion.ToFloat(resized.Pixels, 1f / normalization.PixelScale, input);
        normalization.Apply(input, resized.Height * resized.Width);
        return input;
    }

    private static string Describe(int channels) => channels switch { 1 => "gray (1 channel)", 3 => "colour (3 channels)", _ => $"{channels} channels" };
}
