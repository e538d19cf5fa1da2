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

    /// <summary>
    /// Reads only the header (signature, IHDR, and the palette's grayness when it comes before the image data); a size
    /// over <paramref name="maxPixels"/> is refused.
    /// </summary>
    public static PngInfo ReadInfo(byte[] bytes, string source, long maxPixels = GrayImage.MaxPixels)
    {
        var chunks = ReadChunks(bytes, source, maxPixels, headerOnly: true);
        return chunks.Info;
    }

    /// <summary>Decodes to 8-bit R, G, B, A per pixel (gray repeated in R, G and B; A = 255 where the image is opaque).</summary>
    internal static byte[] DecodeRgba(byte[] bytes, string source, long maxPixels, out PngInfo info)
    {
        var chunks = ReadImage(bytes, source, maxPixels);
        info = chunks.Info;
        int width = info.Width;
        var rgba = new byte[(long)width * info.Height * 4];
        DecodeRows(chunks, source, (y, x0, dx, row) =>
        {
            if (dx == 1) row.CopyTo(rgba.AsSpan(((int)((long)y * width) + x0) * 4));
            else
                for (int i = 0, n = row.Length / 4; i < n; i++)
                    row.Slice(4 * i, 4).CopyTo(rgba.AsSpan((int)((long)y * width + x0 + i * dx) * 4, 4));
        });
        return rgba;
    }

    /// <summary>
    /// The image decoded straight into <paramref name="height"/>×<paramref name="width"/> 8-bit channel planes: the same
    /// pixels as <see cref="DecodePixels"/> followed by <see cref="PixelImage.Resized"/>, bit for bit for a non-interlaced
    /// image (an Adam7 one may differ by the rounding of a sum), but without ever holding the full-size image. The image
    /// data is inflated and unfiltered a row at a time, keeping only the previous row, and each row is added into the
    /// output grid (<see cref="StreamingResize"/>): memory is a few rows plus the output, whatever the declared size.
    /// A size over <paramref name="maxPixels"/> is refused before anything is inflated.
    /// </summary>
    public static PixelImage DecodeResized(byte[] bytes, string source, int height, int width, long maxPixels)
    {
        var chunks = ReadImage(bytes, source, maxPixels);
        var info = chunks.Info;
        int channels = info.IsGray ? 1 : 3;
        var resize = new StreamingResize(channels, info.Height, info.Width, height, width, rowsInOrder: !info.Interlaced);
        var samples = new float[channels * info.Width];
        DecodeRows(chunks, source, (y, x0, dx, row) =>
        {
            int n = row.Length / 4;
            for (int i = 0; i < n; i++)
            {
                int a = row[4 * i + 3];
                for (int c = 0; c < channels; c++)
                {
                    int v = row[4 * i + c];
                    samples[i * channels + c] = a == 255 ? v : (v * a + 255 * (255 - a) + 127) / 255; // as DecodePixels
                }
            }
            resize.AddRow(y, x0, dx, samples.AsSpan(0, n * channels));
        });
        return new PixelImage(width, height, channels, resize.ResultBytes());
    }

    /// <summary>
    /// The image as gray intensities in [0, 1] as <see cref="Decode"/> makes them, shrunk by area averaging when its
    /// longer side exceeds <paramref name="maxSide"/> so that side becomes <paramref name="maxSide"/> (aspect kept,
    /// each side at least 1). An image within <paramref name="maxSide"/> is exactly <see cref="Decode"/>'s; a larger
    /// one is shrunk as it streams in (<see cref="DecodeResized"/>), never held at full size.
    /// </summary>
    public static GrayImage DecodeGray(byte[] bytes, string source, int maxSide, long maxPixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSide, 1);
        var chunks = ReadImage(bytes, source, maxPixels);
        var info = chunks.Info;
        int longer = Math.Max(info.Width, info.Height);
        int newWidth = info.Width, newHeight = info.Height;
        if (longer > maxSide)
        {
            newWidth = Math.Max(1, (int)Math.Round((double)info.Width * maxSide / longer));
            newHeight = Math.Max(1, (int)Math.Round((double)info.Height * maxSide / longer));
        }
        var resize = new StreamingResize(1, info.Height, info.Width, newHeight, newWidth, rowsInOrder: !info.Interlaced);
        var samples = new float[info.Width];
        DecodeRows(chunks, source, (y, x0, dx, row) =>
        {
            int n = row.Length / 4;
            for (int i = 0; i < n; i++) samples[i] = GrayOf(row.Slice(4 * i, 4), info.IsGray);
            resize.AddRow(y, x0, dx, samples.AsSpan(0, n));
        });
        var values = resize.Result();
        var pixels = new float[values.Length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)values[i];
        return new GrayImage(newWidth, newHeight, pixels);
    }

    /// <summary>One RGBA pixel as <see cref="Decode"/>'s gray: luminance (or the gray sample), composited over white.</summary>
    private static float GrayOf(ReadOnlySpan<byte> rgba, bool isGray)
    {
        float gray = isGray ? rgba[0] / 255f : Luma(rgba[0] / 255f, rgba[1] / 255f, rgba[2] / 255f), alpha = rgba[3] / 255f;
        return gray * alpha + (1f - alpha);
    }

    /// <summary>
    /// The chunks of a whole image, refused when its image data is too small to inflate to what the header declares
    /// (DEFLATE expands at most 1032:1), so a short file declaring a large image costs nothing in proportion to it.
    /// </summary>
    private static Chunks ReadImage(byte[] bytes, string source, long maxPixels)
    {
        var chunks = ReadChunks(bytes, source, maxPixels, headerOnly: false);
        long raw = RawBytes(chunks.Info), compressed = chunks.ImageData.Length;
        if (raw > compressed * MaxDeflateRatio)
            throw DataFormatException.For(source, $"corrupt PNG: {compressed} bytes of image data cannot inflate to the {raw} bytes {chunks.Info.Width}×{chunks.Info.Height} needs");
        return chunks;
    }

    /// <summary>DEFLATE's largest expansion: a 258-byte match costs at least 2 bits, so n bytes inflate to at most about 1032·n.</summary>
    private const long MaxDeflateRatio = 1032;

    /// <summary>The bytes the image data inflates to: each (sub-)image row's filter byte and packed samples.</summary>
    private static long RawBytes(PngInfo info)
    {
        int samplesPerPixel = info.ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        long total = 0;
        foreach (var p in info.Interlaced ? Adam7 : NoInterlace)
        {
            var (w, h) = PassSize(p, info.Width, info.Height);
            if (w > 0 && h > 0) total += (RowBytes(w, samplesPerPixel * info.BitDepth) + 1) * h;
        }
        return total;
    }

    /// <summary>Receives decoded pixels of image row <paramref name="y"/>: columns x0, x0 + dx, … as 8-bit R, G, B, A.</summary>
    private delegate void RgbaRowSink(int y, int x0, int dx, ReadOnlySpan<byte> rgba);

    /// <summary>
    /// Inflates and unfilters the image data a row at a time (pass by pass for Adam7), keeping only the previous row,
    /// and hands each row's pixels to <paramref name="sink"/> as RGBA. The data must inflate to exactly what the header
    /// promises: fewer bytes, or one byte more, is refused (so a zlib bomb costs no more than the header's honest size).
    /// </summary>
    private static void DecodeRows(Chunks chunks, string source, RgbaRowSink sink)
    {
        var info = chunks.Info;
        int width = info.Width, height = info.Height;
        int samplesPerPixel = info.ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bitsPerPixel = samplesPerPixel * info.BitDepth;
        int filterStep = Math.Max(1, bitsPerPixel / 8);
        var passes = info.Interlaced ? Adam7 : NoInterlace;
        long expected = RawBytes(info);
        // The pixel budget keeps a row (8 bytes a pixel at most) far below an array's limit.
        int maxStride = (int)RowBytes(width, bitsPerPixel);
        byte[] current = new byte[maxStride + 1], previous = new byte[maxStride + 1], rgba = new byte[4 * width];
        long read = 0;
        try
        {
            chunks.ImageData.Position = 0;
            using var z = new ZLibStream(chunks.ImageData, CompressionMode.Decompress);
            foreach (var p in passes)
            {
                var (w, h) = PassSize(p, width, height);
                if (w == 0 || h == 0) continue;
                int stride = (int)RowBytes(w, bitsPerPixel);
                Array.Clear(previous); // the row above a pass's first row counts as zeros
                for (int y = 0; y < h; y++)
                {
                    int n = z.ReadAtLeast(current.AsSpan(0, stride + 1), stride + 1, throwOnEndOfStream: false);
                    read += n;
                    if (n < stride + 1) throw DataFormatException.For(source, $"corrupt PNG: image data holds {read} bytes, {width}×{height} needs {expected}");
                    UnfilterRow(current.AsSpan(0, stride + 1), previous.AsSpan(1, stride), filterStep, y, source);
                    var row = current.AsSpan(1, stride);
                    for (int x = 0; x < w; x++) Pixel(row, x, chunks, rgba.AsSpan(4 * x, 4), source);
                    sink(p.Y0 + y * p.DY, p.X0, p.DX, rgba.AsSpan(0, 4 * w));
                    (current, previous) = (previous, current);
                }
            }
            Span<byte> one = stackalloc byte[1];
            if (z.Read(one) != 0) throw DataFormatException.For(source, $"corrupt PNG: image data holds more than the {expected} bytes {width}×{height} needs");
        }
        // ZLibException (an IOException) for what zlib itself refuses, e.g. a header asking for a preset dictionary:
        // reading from memory, any IOException is the data's fault.
        catch (Exception e) when (e is InvalidDataException or IOException) { throw DataFormatException.For(source, $"corrupt PNG: cannot inflate image data ({e.Message})", e); }
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
    /// Reverses the filter (None, Sub, Up, Average, Paeth) of one row in place: <paramref name="row"/> is the filter
    /// byte then the row's bytes, <paramref name="above"/> the unfiltered row above (zeros for a pass's first row).
    /// </summary>
    private static void UnfilterRow(Span<byte> row, ReadOnlySpan<byte> above, int bpp, int y, string source)
    {
        int filter = row[0];
        var cur = row[1..];
        switch (filter)
        {
            case 0: break;
            case 1: for (int i = bpp; i < cur.Length; i++) cur[i] += cur[i - bpp]; break;
            case 2: for (int i = 0; i < cur.Length; i++) cur[i] += above[i]; break;
            case 3:
                for (int i = 0; i < cur.Length; i++) cur[i] += (byte)(((i >= bpp ? cur[i - bpp] : 0) + above[i]) / 2);
                break;
            case 4:
                for (int i = 0; i < cur.Length; i++)
                    cur[i] += (byte)(i >= bpp ? Paeth(cur[i - bpp], above[i], above[i - bpp]) : Paeth(0, above[i], 0));
                break;
            default: throw DataFormatException.For(source, $"corrupt PNG: unknown filter type {filter} in row {y}");
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
