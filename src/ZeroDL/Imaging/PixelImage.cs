using ZeroDL.Data;

namespace ZeroDL.Imaging;

/// <summary>
/// An 8-bit image as channel planes: <see cref="Channels"/> planes (1 = gray, 3 = R, G, B) of
/// <see cref="Height"/> rows of <see cref="Width"/> samples, the C×H×W order a network's input takes.
/// The caller that decoded the image owns <see cref="Pixels"/>.
/// </summary>
public sealed record PixelImage
{
    public PixelImage(int width, int height, int channels, byte[] pixels)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), $"a {width}×{height} image is empty");
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "an image needs at least one channel");
        if (pixels.Length != (long)width * height * channels)
            throw new ArgumentException($"a {channels}×{height}×{width} image needs {(long)width * height * channels} bytes, got {pixels.Length}");
        Width = width; Height = height; Channels = channels; Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public byte[] Pixels { get; }

    /// <summary>"3×32×32" (channels × height × width).</summary>
    public string ShapeText => $"{Channels}×{Height}×{Width}";

    /// <summary>Reads a PNG file (recognised by its first bytes, not its name); any problem is a <see cref="DataFormatException"/> naming the file.</summary>
    public static PixelImage Load(string path)
    {
        byte[] bytes = DataFile.ReadAllBytes(path);
        if (!Png.IsPng(bytes)) throw DataFormatException.For(path, $"not a PNG image ({ImageKind.Describe(bytes)})");
        return Png.DecodePixels(bytes, path);
    }

    /// <summary>
    /// This image at <paramref name="height"/>×<paramref name="width"/> (<see cref="ImageResize"/>); itself when the size is already that.
    /// </summary>
    public PixelImage Resized(int height, int width) =>
        height == Height && width == Width ? this : new PixelImage(width, height, Channels, ImageResize.Resize(Pixels, Channels, Height, Width, height, width));

    /// <summary>The image with one channel: itself if gray, else the luminance 0.299 R + 0.587 G + 0.114 B, rounded.</summary>
    public PixelImage ToGray()
    {
        if (Channels == 1) return this;
        if (Channels != 3) throw new InvalidOperationException($"cannot make a {Channels}-channel image gray");
        int plane = Width * Height;
        var gray = new byte[plane];
        for (int i = 0; i < plane; i++)
            gray[i] = (byte)Math.Round(0.299 * Pixels[i] + 0.587 * Pixels[plane + i] + 0.114 * Pixels[2 * plane + i]);
        return new PixelImage(Width, Height, 1, gray);
    }
}

/// <summary>Names what a file's first bytes look like, for an error message about a file that is not the image it should be.</summary>
public static class ImageKind
{
    public static string Describe(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return "the file is empty";
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return "it is a JPEG; convert it to PNG";
        if (bytes.Length >= 6 && (bytes[..6].SequenceEqual("GIF87a"u8) || bytes[..6].SequenceEqual("GIF89a"u8))) return "it is a GIF; convert it to PNG";
        if (bytes.Length >= 2 && bytes[0] == 'B' && bytes[1] == 'M') return "it is a BMP; convert it to PNG";
        if (bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8)) return "it is a WebP; convert it to PNG";
        if (bytes.Length >= 2 && bytes[0] == 'P' && bytes[1] is (byte)'2' or (byte)'5') return "it is a PGM; convert it to PNG";
        return "the file does not start with the PNG signature";
    }
}
