using ZeroDL.Data;

namespace ZeroDL.Imaging;

/// <summary>A grayscale image, row-major, intensities in [0, 1].</summary>
public sealed record GrayImage(int Width, int Height, float[] Pixels)
{
    /// <summary>Largest image accepted from a file (pixels), so a hostile header cannot exhaust memory.</summary>
    public const long MaxPixels = 4096L * 4096;

    /// <summary>Mean intensity.</summary>
    public float Mean() => Pixels.Length == 0 ? 0 : Pixels.Average();

    /// <summary>Reads a PNG or PGM (P2/P5) file, chosen by its first bytes, not its name.</summary>
    public static GrayImage Load(string path)
    {
        byte[] bytes = DataFile.ReadAllBytes(path);
        if (bytes.Length >= 8 && bytes.AsSpan(0, 8).SequenceEqual(Png.Signature)) return Png.Decode(bytes, path);
        if (bytes.Length >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '2')) return Pgm.Decode(bytes, path);
        throw DataFormatException.For(path, "not a PNG or PGM (P2/P5) image");
    }

    /// <summary>
    /// The image as MNIST presents digits: light ink on a dark background. An image whose mean is above 0.5
    /// (dark ink on light paper) is inverted.
    /// </summary>
    public GrayImage AsLightOnDark()
    {
        if (Mean() <= 0.5f) return this;
        return this with { Pixels = Pixels.Select(p => 1f - p).ToArray() };
    }
}
