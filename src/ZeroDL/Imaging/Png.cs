using System.Buffers.Binary;
using System.IO.Compression;
using ZeroDL.Data;

namespace ZeroDL.Imaging;

/// <summary>
/// A PNG decoder for the images people feed a digit classifier: non-interlaced, 8-bit grayscale, gray+alpha,
/// RGB, RGBA or palette (and 16-bit gray/RGB, reduced to 8). Every chunk's CRC is checked; colour becomes
/// luminance (0.299 R + 0.587 G + 0.114 B) and transparency is composited over white.
/// </summary>
public static class Png
{
    public static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    public static GrayImage Decode(byte[] bytes, string source)
    {
        if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(Signature)) throw DataFormatException.For(source, "not a PNG file (bad signature)");
        int pos = 8;
        int width = 0, height = 0, bitDepth = 0, colorType = -1;
        byte[]? palette = null, paletteAlpha = null;
        using var idat = new MemoryStream();
        bool sawEnd = false;
        while (!sawEnd)
        {
            if (pos + 12 > bytes.Length) throw DataFormatException.For(source, "truncated PNG: chunk header runs past the end of the file");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(pos));
            if (length > int.MaxValue || pos + 12 + (long)length > bytes.Length) throw DataFormatException.For(source, "truncated PNG: chunk data runs past the end of the file");
            string type = System.Text.Encoding.ASCII.GetString(bytes, pos + 4, 4);
            var data = bytes.AsSpan(pos + 8, (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(pos + 8 + (int)length));
            if (Crc32.Compute(bytes.AsSpan(pos + 4, 4 + (int)length)) != crc) throw DataFormatException.For(source, $"corrupt PNG: CRC mismatch in {type} chunk");
            pos += 12 + (int)length;
            switch (type)
            {
                case "IHDR":
                    if (length != 13) throw DataFormatException.For(source, "corrupt PNG: IHDR is not 13 bytes");
                    width = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data));
                    height = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
                    bitDepth = data[8]; colorType = data[9];
                    if (width <= 0 || height <= 0 || (long)width * height > GrayImage.MaxPixels)
                        throw DataFormatException.For(source, $"PNG size {width}×{height} is empty or larger than {GrayImage.MaxPixels} pixels");
                    if (data[10] != 0 || data[11] != 0) throw DataFormatException.For(source, "corrupt PNG: unknown compression or filter method");
                    if (data[12] != 0) throw DataFormatException.For(source, "interlaced PNGs are not supported (save without interlacing)");
                    bool supported = (colorType, bitDepth) switch
                    {
                        (0, 8) or (0, 16) or (2, 8) or (2, 16) or (3, 8) or (4, 8) or (6, 8) => true,
                        _ => false,
                    };
                    if (!supported) throw DataFormatException.For(source, $"PNG colour type {colorType} with bit depth {bitDepth} is not supported (8-bit gray/RGB/RGBA/palette are)");
                    break;
                case "PLTE": palette = data.ToArray(); break;
                case "tRNS": paletteAlpha = data.ToArray(); break;
                case "IDAT": idat.Write(data); break;
                case "IEND": sawEnd = true; break;
            }
        }
        if (colorType < 0) throw DataFormatException.For(source, "corrupt PNG: no IHDR chunk");
        if (colorType == 3 && palette is null) throw DataFormatException.For(source, "corrupt PNG: palette image without PLTE");
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bytesPerPixel = channels * bitDepth / 8;
        long stride = (long)width * bytesPerPixel;
        long expected = (stride + 1) * height;
        byte[] raw = new byte[expected];
        try
        {
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int read = 0;
            while (read < raw.Length)
            {
                int n = z.Read(raw, read, raw.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read < raw.Length) throw DataFormatException.For(source, $"corrupt PNG: image data holds {read} bytes, {width}×{height} needs {expected}");
        }
        catch (InvalidDataException e) { throw DataFormatException.For(source, $"corrupt PNG: cannot inflate image data ({e.Message})", e); }

        Unfilter(raw, (int)stride, height, bytesPerPixel, source);
        var pixels = new float[width * height];
        for (int y = 0; y < height; y++)
        {
            var row = raw.AsSpan((int)(y * (stride + 1) + 1), (int)stride);
            for (int x = 0; x < width; x++)
            {
                float gray, alpha = 1f;
                switch (colorType)
                {
                    case 0: gray = Sample(row, x, 0, 1, bitDepth); break;
                    case 2: gray = Luma(Sample(row, x, 0, 3, bitDepth), Sample(row, x, 1, 3, bitDepth), Sample(row, x, 2, 3, bitDepth)); break;
                    case 3:
                        int index = row[x];
                        if (index * 3 + 2 >= palette!.Length) throw DataFormatException.For(source, $"corrupt PNG: palette index {index} outside the palette");
                        gray = Luma(palette[index * 3] / 255f, palette[index * 3 + 1] / 255f, palette[index * 3 + 2] / 255f);
                        if (paletteAlpha is not null && index < paletteAlpha.Length) alpha = paletteAlpha[index] / 255f;
                        break;
                    case 4: gray = row[x * 2] / 255f; alpha = row[x * 2 + 1] / 255f; break;
                    default: gray = Luma(row[x * 4] / 255f, row[x * 4 + 1] / 255f, row[x * 4 + 2] / 255f); alpha = row[x * 4 + 3] / 255f; break;
                }
                pixels[y * width + x] = gray * alpha + (1f - alpha);
            }
        }
        return new GrayImage(width, height, pixels);
    }

    private static float Sample(ReadOnlySpan<byte> row, int x, int channel, int channels, int bitDepth) =>
        bitDepth == 16 ? row[(x * channels + channel) * 2] / 255f : row[x * channels + channel] / 255f;

    private static float Luma(float r, float g, float b) => 0.299f * r + 0.587f * g + 0.114f * b;

    /// <summary>Reverses the per-row filters (None, Sub, Up, Average, Paeth) in place.</summary>
    private static void Unfilter(byte[] raw, int stride, int height, int bpp, string source)
    {
        for (int y = 0; y < height; y++)
        {
            int start = y * (stride + 1);
            int filter = raw[start];
            var cur = raw.AsSpan(start + 1, stride);
            var prev = y > 0 ? raw.AsSpan(start - stride, stride) : Span<byte>.Empty;
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? cur[i - bpp] : 0;
                int b = y > 0 ? prev[i] : 0;
                int c = y > 0 && i >= bpp ? prev[i - bpp] : 0;
                cur[i] = filter switch
                {
                    0 => cur[i],
                    1 => (byte)(cur[i] + a),
                    2 => (byte)(cur[i] + b),
                    3 => (byte)(cur[i] + (a + b) / 2),
                    4 => (byte)(cur[i] + Paeth(a, b, c)),
                    _ => throw DataFormatException.For(source, $"corrupt PNG: unknown filter type {filter} in row {y}"),
                };
            }
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
