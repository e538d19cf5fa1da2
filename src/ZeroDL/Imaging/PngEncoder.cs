using System.Buffers.Binary;
using System.IO.Compression;
using ZeroDL.Serialization;

namespace ZeroDL.Imaging;

/// <summary>
/// Writes 8-bit grayscale or RGB PNG files: signature, IHDR, one zlib-compressed IDAT (every scanline with filter
/// type 0), IEND, each chunk with its CRC-32. Enough for figures; no image library needed.
/// </summary>
public static class PngEncoder
{
    /// <summary>PNG bytes of an image of <paramref name="channels"/> (1 = gray, 3 = RGB) bytes per pixel, rows top to bottom.</summary>
    public static byte[] Encode(int width, int height, int channels, ReadOnlySpan<byte> pixels)
    {
        if (width < 1 || height < 1 || (long)width * height > GrayImage.MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(width), $"a {width}×{height} image is empty or too large to encode");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 (gray) or 3 (RGB)");
        int stride = width * channels;
        if (pixels.Length != (long)stride * height) throw new ArgumentException($"{width}×{height}×{channels} pixels need {stride * height} bytes, got {pixels.Length}");

        using var output = new MemoryStream();
        output.Write(Png.Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;                               // bit depth
        header[9] = (byte)(channels == 1 ? 0 : 2);   // colour type: gray or truecolour
        header[10] = header[11] = header[12] = 0;    // deflate, adaptive filtering, no interlace
        WriteChunk(output, "IHDR", header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter: none
                zlib.Write(pixels.Slice(y * stride, stride));
            }
        WriteChunk(output, "IDAT", compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>Writes the PNG atomically (a temporary file renamed into place).</summary>
    public static void Save(string path, int width, int height, int channels, ReadOnlySpan<byte> pixels)
    {
        var bytes = Encode(width, height, channels, pixels);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        Span<byte> typeBytes = stackalloc byte[4];
        for (int i = 0; i < 4; i++) typeBytes[i] = (byte)type[i];
        output.Write(typeBytes);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(data, Crc32.Compute(typeBytes)));
        output.Write(word);
    }
}
