using System.Buffers.Binary;
using System.IO.Compression;
using ZeroDL.Data;

namespace ZeroDL.Imaging;

/// <summary>What a PNG's header and palette say about its pixels.</summary>
/// <param name="Width">Pixels per row.</param>
/// <param name="Height">Rows.</param>
/// <param name="ColorType">0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA (the PNG specification's numbers).</param>
/// <param name="BitDepth">Bits per sample (per palette index for colour type 3): 1, 2, 4, 8 or 16.</param>
/// <param name="Interlaced">True for Adam7 interlacing.</param>
/// <param name="IsGray">True when the image holds no colour: colour types 0 and 4, or a palette whose every entry has R = G = B.</param>
/// <param name="HasAlpha">True for colour types 4 and 6 and for images with a tRNS chunk.</param>
public readonly record struct PngInfo(int Width, int Height, int ColorType, int BitDepth, bool Interlaced, bool IsGray, bool HasAlpha);

/// <summary>
/// A PNG decoder written to the PNG specification (ISO/IEC 15948): every colour type (gray, gray + alpha, RGB, RGBA,
/// palette) at every bit depth the specification allows for it (1, 2, 4, 8, 16), tRNS transparency, and Adam7
/// interlacing. Every chunk's CRC is checked; an unknown critical chunk, a size over the pixel budget
/// (<see cref="GrayImage.MaxPixels"/>, checked before anything is allocated) and image data that does not inflate to
/// exactly what the header promises are refused. Every problem is a <see cref="DataFormatException"/> naming the source.
/// Samples are brought to 8 bits: a 16-bit sample v becomes round(v·255 / 65535), a 1/2/4-bit sample is scaled so its
/// largest value is 255.
/// </summary>
public static class Png
{
    /// <summary>The eight bytes every PNG file starts with.</summary>
    public static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Whether <paramref name="bytes"/> starts with the PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> bytes) => bytes.Length >= 8 && bytes[..8].SequenceEqual(Signature);

    /// <summary>
    /// The image as gray intensities in [0, 1]: colour becomes luminance (0.299 R + 0.587 G + 0.114 B) and
    /// transparency is composited over white (a digit drawn on a transparent canvas reads as ink on paper).
    /// </summary>
    public static GrayImage Decode(byte[] bytes, string source)
    {
        var rgba = DecodeRgba(bytes, source, GrayImage.MaxPixels, out var info);
        var pixels = new float[info.Width * info.Height];
        for (int i = 0; i < pixels.Length; i++)
        {
            float gray = info.IsGray ? rgba[4 * i] / 255f : Luma(rgba[4 * i] / 255f, rgba[4 * i + 1] / 255f, rgba[4 * i + 2] / 255f), alpha = rgba[4 * i + 3] / 255f;
            pixels[i] = gray * alpha + (1f - alpha);
        }
        return new GrayImage(info.Width, info.Height, pixels);
    }

    /// <summary>
    /// The image as 8-bit channel planes (<see cref="PixelImage"/>): one channel when the image holds no colour
    /// (<see cref="PngInfo.IsGray"/>), else three (R, G, B). Alpha is not a channel: it is composited over white,
    /// round((v·a + 255·(255 − a)) / 255), as <see cref="Decode"/> does for gray.
    /// </summary>
    public static PixelImage DecodePixels(byte[] bytes, string source, long maxPixels = GrayImage.MaxPixels)
    {
        var rgba = DecodeRgba(bytes, source, maxPixels, out var info);
        int plane = info.Width * info.Height, channels = info.IsGray ? 1 : 3;
        var planes = new byte[channels * plane];
        for (int i = 0; i < plane; i++)
        {
            int a = rgba[4 * i + 3];
            for (int c = 0; c < channels; c++)
            {
                int v = rgba[4 * i + c];
                planes[c * plane + i] = a == 255 ? (byte)v : (byte)((v * a + 255 * (255 - a) + 127) / 255);
            }
        }
        return new PixelImage(info.Width, info.Height, channels, planes);
    }

    /// <summary>Reads only the header (signature, IHDR, and the palette's grayness when it comes before the image data).</summary>
    public static PngInfo ReadInfo(byte[] bytes, string source)
    {
        var chunks = ReadChunks(bytes, source, GrayImage.MaxPixels, headerOnly: true);
        return chunks.Info;
    }

    /// <summary>Decodes to 8-bit R, G, B, A per pixel (gray repeated in R, G and B; A = 255 where the image is opaque).</summary>
    internal static byte[] DecodeRgba(byte[] bytes, string source, long maxPixels, out PngInfo info)
    {
        var chunks = ReadChunks(bytes, source, maxPixels, headerOnly: false);
        info = chunks.Info;
        int width = info.Width, height = info.Height, bitDepth = info.BitDepth, colorType = info.ColorType;
        int samplesPerPixel = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bitsPerPixel = samplesPerPixel * bitDepth;
        int filterStep = Math.Max(1, bitsPerPixel / 8);
        var passes = info.Interlaced ? Adam7 : NoInterlace;

        long expected = 0;
        foreach (var p in passes)
        {
            var (w, h) = PassSize(p, width, height);
            if (w > 0 && h > 0) expected += (RowBytes(w, bitsPerPixel) + 1) * h;
        }
        byte[] raw = Inflate(chunks.ImageData, expected, source, width, height);

        var rgba = new byte[(long)width * height * 4];
        long offset = 0;
        foreach (var p in passes)
        {
            var (w, h) = PassSize(p, width, height);
            if (w == 0 || h == 0) continue;
            int stride = (int)RowBytes(w, bitsPerPixel);
            var pass = raw.AsSpan((int)offset, (stride + 1) * h);
            Unfilter(pass, stride, h, filterStep, source);
            for (int y = 0; y < h; y++)
            {
                var row = pass.Slice(y * (stride + 1) + 1, stride);
                int targetY = p.Y0 + y * p.DY;
                for (int x = 0; x < w; x++)
                {
                    int targetX = p.X0 + x * p.DX;
                    Pixel(row, x, chunks, rgba.AsSpan(((int)((long)targetY * width + targetX)) * 4, 4), source);
                }
            }
            offset += (long)(stride + 1) * h;
        }
        return rgba;
    }

    /// <summary>Pixel <paramref name="x"/> of an unfiltered row as 8-bit R, G, B, A.</summary>
    private static void Pixel(ReadOnlySpan<byte> row, int x, Chunks chunks, Span<byte> rgba, string source)
    {
        int depth = chunks.Info.BitDepth;
        switch (chunks.Info.ColorType)
        {
            case 0:
            {
                int v = Sample(row, x, depth);
                byte g = To8(v, depth);
                rgba[0] = rgba[1] = rgba[2] = g;
                rgba[3] = chunks.TransparentGray == v ? (byte)0 : (byte)255;
                break;
            }
            case 2:
            {
                int r = Sample(row, 3 * x, depth), g = Sample(row, 3 * x + 1, depth), b = Sample(row, 3 * x + 2, depth);
                rgba[0] = To8(r, depth); rgba[1] = To8(g, depth); rgba[2] = To8(b, depth);
                rgba[3] = chunks.TransparentRgb is var (tr, tg, tb) && tr == r && tg == g && tb == b ? (byte)0 : (byte)255;
                break;
            }
            case 3:
            {
                int index = Sample(row, x, depth);
                var palette = chunks.Palette!;
                if (index * 3 + 2 >= palette.Length) throw DataFormatException.For(source, $"corrupt PNG: palette index {index} outside the palette of {palette.Length / 3} colours");
                rgba[0] = palette[index * 3]; rgba[1] = palette[index * 3 + 1]; rgba[2] = palette[index * 3 + 2];
                rgba[3] = chunks.PaletteAlpha is { } alpha && index < alpha.Length ? alpha[index] : (byte)255;
                break;
            }
            case 4:
                rgba[0] = rgba[1] = rgba[2] = To8(Sample(row, 2 * x, depth), depth);
                rgba[3] = To8(Sample(row, 2 * x + 1, depth), depth);
                break;
            default:
                for (int c = 0; c < 4; c++) rgba[c] = To8(Sample(row, 4 * x + c, depth), depth);
                break;
        }
    }

    /// <summary>Sample number <paramref name="i"/> of a row (bit-packed, most significant bits first, below 8 bits; big-endian at 16).</summary>
    private static int Sample(ReadOnlySpan<byte> row, int i, int depth) => depth switch
    {
        8 => row[i],
        16 => row[2 * i] << 8 | row[2 * i + 1],
        _ => row[i * depth / 8] >> (8 - depth - i * depth % 8) & ((1 << depth) - 1),
    };

    /// <summary>A sample of <paramref name="depth"/> bits as 8 bits: 16-bit rounded, 1/2/4-bit scaled to 0…255 exactly.</summary>
    private static byte To8(int v, int depth) => depth switch
    {
        8 => (byte)v,
        16 => (byte)((v * 255 + 32767) / 65535),
        _ => (byte)(v * 255 / ((1 << depth) - 1)),
    };

    private static float Luma(float r, float g, float b) => 0.299f * r + 0.587f * g + 0.114f * b;

    private static long RowBytes(int width, int bitsPerPixel) => ((long)width * bitsPerPixel + 7) / 8;

    private readonly record struct Pass(int X0, int Y0, int DX, int DY);

    private static readonly Pass[] NoInterlace = [new(0, 0, 1, 1)];
    // The seven passes of Adam7: each takes every DX-th pixel from X0 on in every DY-th row from Y0 on.
    private static readonly Pass[] Adam7 =
        [new(0, 0, 8, 8), new(4, 0, 8, 8), new(0, 4, 4, 8), new(2, 0, 4, 4), new(0, 2, 2, 4), new(1, 0, 2, 2), new(0, 1, 1, 2)];

    private static (int W, int H) PassSize(Pass p, int width, int height) =>
        ((width - p.X0 + p.DX - 1) / p.DX, (height - p.Y0 + p.DY - 1) / p.DY);

    private sealed class Chunks
    {
        public PngInfo Info;
        public byte[]? Palette, PaletteAlpha;
        public int? TransparentGray;
        public (int R, int G, int B)? TransparentRgb;
        public MemoryStream ImageData = new();
    }

    private static Chunks ReadChunks(byte[] bytes, string source, long maxPixels, bool headerOnly)
    {
        if (!IsPng(bytes)) throw DataFormatException.For(source, "not a PNG file (bad signature)");
        var result = new Chunks();
        int pos = 8, colorType = -1, bitDepth = 0, width = 0, height = 0;
        bool interlaced = false, sawData = false;
        byte[]? trns = null;
        while (true)
        {
            if (pos + 12 > bytes.Length) throw DataFormatException.For(source, "truncated PNG: chunk header runs past the end of the file (no IEND)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(pos));
            if (length > int.MaxValue || pos + 12 + (long)length > bytes.Length) throw DataFormatException.For(source, "truncated PNG: chunk data runs past the end of the file");
            var typeBytes = bytes.AsSpan(pos + 4, 4);
            foreach (byte t in typeBytes)
                if (!(t is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z')) throw DataFormatException.For(source, "corrupt PNG: a chunk type that is not four letters");
            string type = System.Text.Encoding.ASCII.GetString(typeBytes);
            var data = bytes.AsSpan(pos + 8, (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(pos + 8 + (int)length));
            if (Crc32.Compute(bytes.AsSpan(pos + 4, 4 + (int)length)) != crc) throw DataFormatException.For(source, $"corrupt PNG: CRC mismatch in {type} chunk");
            pos += 12 + (int)length;
            if (colorType < 0 && type != "IHDR") throw DataFormatException.For(source, $"corrupt PNG: {type} chunk before IHDR");
            switch (type)
            {
                case "IHDR":
                    if (colorType >= 0) throw DataFormatException.For(source, "corrupt PNG: a second IHDR chunk");
                    if (length != 13) throw DataFormatException.For(source, "corrupt PNG: IHDR is not 13 bytes");
                    // Read as unsigned and checked against the budget before any cast or allocation.
                    uint w = BinaryPrimitives.ReadUInt32BigEndian(data), h = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                    if (w == 0 || h == 0 || (ulong)w * h > (ulong)maxPixels)
                        throw DataFormatException.For(source, $"PNG size {w}×{h} is empty or larger than {maxPixels} pixels");
                    width = (int)w; height = (int)h;
                    bitDepth = data[8]; colorType = data[9];
                    bool allowed = colorType switch
                    {
                        0 => bitDepth is 1 or 2 or 4 or 8 or 16,
                        3 => bitDepth is 1 or 2 or 4 or 8,
                        2 or 4 or 6 => bitDepth is 8 or 16,
                        _ => false,
                    };
                    if (!allowed) throw DataFormatException.For(source, $"corrupt PNG: colour type {colorType} with bit depth {bitDepth} is not a combination the PNG specification allows");
                    if (data[10] != 0 || data[11] != 0) throw DataFormatException.For(source, "corrupt PNG: unknown compression or filter method");
                    if (data[12] > 1) throw DataFormatException.For(source, $"corrupt PNG: unknown interlace method {data[12]}");
                    interlaced = data[12] == 1;
                    break;
                case "PLTE":
                    if (length == 0 || length % 3 != 0 || length / 3 > 256) throw DataFormatException.For(source, $"corrupt PNG: a palette of {length} bytes (1 to 256 colours of 3 bytes)");
                    if (sawData) throw DataFormatException.For(source, "corrupt PNG: PLTE after the image data");
                    result.Palette = data.ToArray();
                    break;
                case "tRNS":
                    trns = data.ToArray();
                    break;
                case "IDAT":
                    sawData = true;
                    if (headerOnly) return Finish();
                    result.ImageData.Write(data);
                    break;
                case "IEND":
                    if (!sawData) throw DataFormatException.For(source, "corrupt PNG: no IDAT chunk");
                    return Finish();
                default:
                    // Upper case first letter: a critical chunk, which a decoder that does not know it must not ignore.
                    if (char.IsAsciiLetterUpper(type[0])) throw DataFormatException.For(source, $"PNG critical chunk {type} is not supported");
                    break;
            }
        }

        Chunks Finish()
        {
            if (colorType == 3 && result.Palette is null) throw DataFormatException.For(source, "corrupt PNG: palette image without PLTE");
            if (trns is not null)
            {
                switch (colorType)
                {
                    case 0 when trns.Length == 2: result.TransparentGray = BinaryPrimitives.ReadUInt16BigEndian(trns); break;
                    case 2 when trns.Length == 6:
                        result.TransparentRgb = (BinaryPrimitives.ReadUInt16BigEndian(trns), BinaryPrimitives.ReadUInt16BigEndian(trns.AsSpan(2)), BinaryPrimitives.ReadUInt16BigEndian(trns.AsSpan(4)));
                        break;
                    case 3 when result.Palette is not null && trns.Length <= result.Palette.Length / 3: result.PaletteAlpha = trns; break;
                    default: throw DataFormatException.For(source, $"corrupt PNG: a tRNS chunk of {trns.Length} bytes does not fit colour type {colorType}");
                }
            }
            bool gray = colorType is 0 or 4;
            if (colorType == 3)
            {
                gray = true;
                var p = result.Palette!;
                for (int i = 0; i + 2 < p.Length; i += 3) gray &= p[i] == p[i + 1] && p[i] == p[i + 2];
            }
            bool alpha = colorType is 4 or 6 || trns is not null;
            result.Info = new PngInfo(width, height, colorType, bitDepth, interlaced, gray, alpha);
            return result;
        }
    }

    /// <summary>
    /// Inflates the zlib stream into exactly <paramref name="expected"/> bytes. Reading stops there, so a stream that
    /// would inflate to far more (a zlib bomb) costs no more than the header's honest size, which the pixel budget bounds.
    /// </summary>
    private static byte[] Inflate(MemoryStream compressed, long expected, string source, int width, int height)
    {
        byte[] raw = new byte[expected];
        try
        {
            compressed.Position = 0;
            using var z = new ZLibStream(compressed, CompressionMode.Decompress);
            int read = 0;
            while (read < raw.Length)
            {
                int n = z.Read(raw, read, raw.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read < raw.Length) throw DataFormatException.For(source, $"corrupt PNG: image data holds {read} bytes, {width}×{height} needs {expected}");
            if (z.Read(new byte[1], 0, 1) != 0) throw DataFormatException.For(source, $"corrupt PNG: image data holds more than the {expected} bytes {width}×{height} needs");
        }
        // ZLibException (an IOException) for what zlib itself refuses, e.g. a header asking for a preset dictionary:
        // reading from memory, any IOException is the data's fault.
        catch (Exception e) when (e is InvalidDataException or IOException) { throw DataFormatException.For(source, $"corrupt PNG: cannot inflate image data ({e.Message})", e); }
        return raw;
    }

    /// <summary>Reverses the per-row filters (None, Sub, Up, Average, Paeth) of one (sub-)image in place.</summary>
    private static void Unfilter(Span<byte> raw, int stride, int height, int bpp, string source)
    {
        for (int y = 0; y < height; y++)
        {
            int start = y * (stride + 1);
            int filter = raw[start];
            var cur = raw.Slice(start + 1, stride);
            var prev = y > 0 ? raw.Slice(start - stride, stride) : Span<byte>.Empty;
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
