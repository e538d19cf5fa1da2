using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ZeroDL.Data;
using ZeroDL.Imaging;

namespace ZeroDL.Tests;

/// <summary>
/// The PNG decoder on every colour type and bit depth, interlaced or not, against images this file writes from raw
/// samples (so the expected 8-bit values are known), and on hostile files.
/// </summary>
public class PngDecoderTests
{
    /// <summary>
    /// Writes a PNG of <paramref name="samples"/> (per pixel, row-major, <paramref name="perPixel"/> samples each, in
    /// the bit depth's range), filtered with None, Sub, Up, Average, Paeth in turn, optionally Adam7-interlaced.
    /// </summary>
    internal static byte[] Write(int width, int height, int colorType, int bitDepth, int[] samples, bool interlace = false,
        byte[]? palette = null, byte[]? trns = null, Func<string, byte[], byte[]>? tamper = null)
    {
        int perPixel = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        Assert.Equal(width * height * perPixel, samples.Length);
        var raw = new MemoryStream();
        var passes = interlace
            ? new (int X0, int Y0, int DX, int DY)[] { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) }
            : [(0, 0, 1, 1)];
        int bpp = Math.Max(1, perPixel * bitDepth / 8);
        foreach (var (x0, y0, dx, dy) in passes)
        {
            var xs = Enumerable.Range(0, width).Where(x => x >= x0 && (x - x0) % dx == 0).ToArray();
            var ys = Enumerable.Range(0, height).Where(y => y >= y0 && (y - y0) % dy == 0).ToArray();
            if (xs.Length == 0 || ys.Length == 0) continue;
            int stride = (xs.Length * perPixel * bitDepth + 7) / 8;
            byte[] previous = new byte[stride];
            for (int r = 0; r < ys.Length; r++)
            {
                var row = new byte[stride];
                int bit = 0;
                foreach (int x in xs)
                    for (int s = 0; s < perPixel; s++)
                    {
                        int v = samples[(ys[r] * width + x) * perPixel + s];
                        if (bitDepth == 16) { row[bit / 8] = (byte)(v >> 8); row[bit / 8 + 1] = (byte)v; }
                        else if (bitDepth == 8) row[bit / 8] = (byte)v;
                        else row[bit / 8] |= (byte)(v << (8 - bitDepth - bit % 8));
                        bit += bitDepth;
                    }
                int filter = r % 5;
                raw.WriteByte((byte)filter);
                for (int i = 0; i < stride; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = r > 0 ? previous[i] : 0, c = r > 0 && i >= bpp ? previous[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    int predictor = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, _ => pa <= pb && pa <= pc ? a : pb <= pc ? b : c };
                    raw.WriteByte((byte)(row[i] - predictor));
                }
                previous = row;
            }
        }
        var ms = new MemoryStream();
        ms.Write(Png.Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth; ihdr[9] = (byte)colorType; ihdr[12] = (byte)(interlace ? 1 : 0);
        void Chunk(string type, byte[] data)
        {
            data = tamper?.Invoke(type, data) ?? data;
            var len = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(len, data.Length); ms.Write(len);
            var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            ms.Write(body);
            var crc = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Compute(body)); ms.Write(crc);
        }
        Chunk("IHDR", ihdr);
        if (palette is not null) Chunk("PLTE", palette);
        if (trns is not null) Chunk("tRNS", trns);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());
        var compressed = z.ToArray();
        // Two IDAT chunks: a decoder must join them.
        Chunk("IDAT", compressed[..(compressed.Length / 2)]);
        Chunk("IDAT", compressed[(compressed.Length / 2)..]);
        Chunk("IEND", []);
        return ms.ToArray();
    }

    private static int[] RandomSamples(int count, int bitDepth, int seed)
    {
        var rng = new Rng(seed);
        var samples = new int[count];
        for (int i = 0; i < count; i++) samples[i] = rng.Next(1 << bitDepth);
        return samples;
    }

    private static byte To8(int v, int bitDepth) => bitDepth switch
    {
        16 => (byte)Math.Round(v * 255.0 / 65535, MidpointRounding.AwayFromZero),
        _ => (byte)Math.Round(v * 255.0 / ((1 << bitDepth) - 1)),
    };

    public static TheoryData<int, int, bool> GrayCases()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (int depth in new[] { 1, 2, 4, 8, 16 })
            foreach (bool interlace in new[] { false, true })
                data.Add(0, depth, interlace);
        return data;
    }

    [Theory]
    [MemberData(nameof(GrayCases))]
    public void Gray_at_every_bit_depth_interlaced_or_not(int colorType, int bitDepth, bool interlace)
    {
        // 13×11: neither side a multiple of 8, so every Adam7 pass has a ragged edge and rows end mid-byte.
        int w = 13, h = 11;
        var samples = RandomSamples(w * h, bitDepth, seed: bitDepth);
        var image = Png.DecodePixels(Write(w, h, colorType, bitDepth, samples, interlace), "g.png");
        Assert.Equal((1, w, h), (image.Channels, image.Width, image.Height));
        Assert.Equal(samples.Select(v => To8(v, bitDepth)), image.Pixels);
    }

    [Theory]
    [InlineData(2, 8, false)] [InlineData(2, 16, false)] [InlineData(2, 8, true)] [InlineData(2, 16, true)]
    [InlineData(6, 8, false)] [InlineData(6, 16, true)] [InlineData(4, 8, false)] [InlineData(4, 16, true)]
    public void Colour_and_alpha_types_at_8_and_16_bits(int colorType, int bitDepth, bool interlace)
    {
        int w = 9, h = 6, perPixel = colorType switch { 2 => 3, 4 => 2, _ => 4 };
        var samples = RandomSamples(w * h * perPixel, bitDepth, seed: colorType * 100 + bitDepth);
        var image = Png.DecodePixels(Write(w, h, colorType, bitDepth, samples, interlace), "c.png");
        int channels = colorType == 4 ? 1 : 3;
        Assert.Equal(channels, image.Channels);
        for (int i = 0; i < w * h; i++)
        {
            int alpha = colorType == 2 ? 255 : To8(samples[i * perPixel + perPixel - 1], bitDepth);
            for (int c = 0; c < channels; c++)
            {
                int v = To8(samples[i * perPixel + c], bitDepth);
                // Alpha composited over white, rounded: the documented rule.
                int expected = (v * alpha + 255 * (255 - alpha) + 127) / 255;
                Assert.Equal(expected, image.Pixels[c * w * h + i]);
            }
        }
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(4)] [InlineData(8)]
    public void Palette_with_transparency_at_every_bit_depth(int bitDepth)
    {
        int colours = 1 << bitDepth, w = 7, h = 5;
        var palette = new byte[Math.Min(colours, 256) * 3];
        for (int i = 0; i < palette.Length; i++) palette[i] = (byte)(i * 37 + 11);
        byte[] trns = [0, 128]; // entry 0 transparent, entry 1 half, the rest opaque
        var samples = RandomSamples(w * h, bitDepth, seed: 7 + bitDepth);
        var image = Png.DecodePixels(Write(w, h, 3, bitDepth, samples, interlace: bitDepth == 4, palette: palette, trns: trns), "p.png");
        Assert.Equal(3, image.Channels);
        for (int i = 0; i < w * h; i++)
        {
            int index = samples[i], alpha = index < trns.Length ? trns[index] : 255;
            for (int c = 0; c < 3; c++)
                Assert.Equal((palette[index * 3 + c] * alpha + 255 * (255 - alpha) + 127) / 255, image.Pixels[c * w * h + i]);
        }
    }

    [Fact]
    public void A_gray_palette_gives_one_channel_and_trns_makes_gray_and_rgb_keys_transparent()
    {
        byte[] grayPalette = [0, 0, 0, 100, 100, 100, 255, 255, 255];
        var gray = Png.DecodePixels(Write(3, 1, 3, 8, [0, 1, 2], palette: grayPalette), "gp.png");
        Assert.Equal(1, gray.Channels);
        Assert.Equal(new byte[] { 0, 100, 255 }, gray.Pixels);

        // Gray key 5 (16-bit tRNS form) is transparent: over white.
        var keyed = Png.DecodePixels(Write(2, 1, 0, 8, [5, 6], trns: [0, 5]), "k.png");
        Assert.Equal(new byte[] { 255, 6 }, keyed.Pixels);
        var rgbKeyed = Png.DecodePixels(Write(2, 1, 2, 8, [1, 2, 3, 1, 2, 4], trns: [0, 1, 0, 2, 0, 3]), "rk.png");
        Assert.Equal(new byte[] { 255, 1, 255, 2, 255, 4 }, rgbKeyed.Pixels);
        Assert.True(Png.ReadInfo(Write(2, 1, 2, 8, [1, 2, 3, 1, 2, 4], trns: [0, 1, 0, 2, 0, 3]), "rk.png").HasAlpha);
    }

    [Fact]
    public void Gray_decode_keeps_its_luminance_and_white_background_rules()
    {
        var rgba = Png.Decode(Write(2, 1, 6, 8, [255, 0, 0, 255, 0, 0, 0, 0]), "rgba.png");
        Assert.Equal(0.299f, rgba.Pixels[0], 5);
        Assert.Equal(1f, rgba.Pixels[1]);
        var interlaced = Png.Decode(Write(3, 3, 0, 16, [0, 65535, 0, 65535, 0, 65535, 0, 65535, 0], interlace: true), "i.png");
        Assert.Equal(new float[] { 0, 1, 0, 1, 0, 1, 0, 1, 0 }, interlaced.Pixels);
    }

    private static DataFormatException Refused(byte[] bytes, string name = "bad.png") =>
        Assert.Throws<DataFormatException>(() => Png.DecodePixels(bytes, name));

    [Fact]
    public void Hostile_and_corrupt_files_are_refused_naming_the_file()
    {
        var good = Write(4, 4, 2, 8, RandomSamples(48, 8, 1));
        Assert.Equal(4, Png.DecodePixels(good, "ok.png").Width);

        // A flipped byte in the image data: the IDAT's CRC no longer matches.
        var flipped = (byte[])good.Clone(); flipped[8 + 25 + 8] ^= 0x40; // the first byte of the first IDAT's data
        Assert.Matches("^bad.png: corrupt PNG: CRC mismatch", Refused(flipped).Message);
        // Every truncation of a valid file.
        for (int cut = 0; cut < good.Length; cut += 3)
            Assert.StartsWith("bad.png: ", Refused(good[..cut]).Message);
        // Width and height 2^31, 2^32 − 1 and 70,000 (4.9 gigapixels): refused before any size arithmetic or allocation.
        foreach (uint side in new[] { 1u << 31, uint.MaxValue, 70_000u })
        {
            var huge = Write(4, 4, 2, 8, RandomSamples(48, 8, 1), tamper: (type, data) =>
            {
                if (type == "IHDR") { BinaryPrimitives.WriteUInt32BigEndian(data, side); BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), side); }
                return data;
            });
            Assert.Contains("larger than", Refused(huge).Message);
        }
        // A zlib bomb: 16 MB of zeros that compress to a few KB, in an image whose header promises 4×4 pixels.
        var bomb = Write(4, 4, 2, 8, RandomSamples(48, 8, 1), tamper: (type, data) =>
        {
            if (type != "IDAT") return data;
            var z = new MemoryStream();
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(new byte[16 << 20]);
            return z.ToArray();
        });
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("more than", Refused(bomb).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20, "the bomb was inflated beyond the header's size");
        // Not deflate data at all.
        Assert.StartsWith("bad.png: corrupt PNG", Refused(Write(4, 4, 2, 8, RandomSamples(48, 8, 1), tamper: (t, d) => t == "IDAT" ? [1, 2, 3, 4, 5, 6] : d)).Message);
        // Not a PNG: a JPEG, text, nothing.
        Assert.Contains("bad signature", Refused([0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0, 0]).Message);
        Assert.Contains("bad signature", Refused([]).Message);
        // A bit depth the specification does not allow for the colour type; an unknown colour type; interlace method 2.
        Assert.Contains("specification allows", Refused(Write(1, 1, 2, 8, [1, 2, 3], tamper: (t, d) => { if (t == "IHDR") d[8] = 4; return d; })).Message);
        Assert.Contains("specification allows", Refused(Write(1, 1, 2, 8, [1, 2, 3], tamper: (t, d) => { if (t == "IHDR") d[9] = 5; return d; })).Message);
        Assert.Contains("interlace method 2", Refused(Write(1, 1, 2, 8, [1, 2, 3], tamper: (t, d) => { if (t == "IHDR") d[12] = 2; return d; })).Message);
        // A palette index outside the palette, a palette image without a palette, a tRNS that does not fit.
        Assert.Contains("outside the palette", Refused(Write(2, 1, 3, 8, [0, 5], palette: [1, 2, 3])).Message);
        Assert.Contains("without PLTE", Refused(Write(2, 1, 3, 8, [0, 0])).Message);
        Assert.Contains("tRNS", Refused(Write(2, 1, 2, 8, [1, 2, 3, 4, 5, 6], trns: [1, 2])).Message);
        // An unknown critical chunk.
        Assert.Contains("critical chunk ZZZZ", Refused(Insert(Write(1, 1, 0, 8, [1]), "ZZZZ")).Message);
        Assert.Equal(1, Png.DecodePixels(Insert(Write(1, 1, 0, 8, [1]), "zzZZ"), "ancillary.png").Width); // ancillary: skipped
    }

    /// <summary>The PNG with a chunk of <paramref name="type"/> (empty, valid CRC) inserted after IHDR.</summary>
    private static byte[] Insert(byte[] png, string type)
    {
        var chunk = new MemoryStream();
        chunk.Write(new byte[4]);
        var body = Encoding.ASCII.GetBytes(type);
        chunk.Write(body);
        var crc = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Compute(body)); chunk.Write(crc);
        int afterIhdr = 8 + 12 + 13;
        return [.. png[..afterIhdr], .. chunk.ToArray(), .. png[afterIhdr..]];
    }

    [Fact]
    public void Resize_averages_areas_when_shrinking_and_interpolates_when_enlarging()
    {
        // 4×4 → 2×2: each output is the mean of a 2×2 block.
        byte[] square = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150];
        Assert.Equal(new byte[] { 25, 45, 105, 125 }, ImageResize.Resize(square, 1, 4, 4, 2, 2));
        // 3 → 2 along a row: output 0 covers pixel 0 and half of pixel 1: (0·1 + 30·0.5) / 1.5 = 10.
        Assert.Equal(new byte[] { 10, 50 }, ImageResize.Resize(new byte[] { 0, 30, 60 }, 1, 1, 3, 1, 2));
        // 2 → 4: centres at −0.25, 0.25, 0.75, 1.25 of the input: clamped, 25 %, 75 %, clamped.
        Assert.Equal(new byte[] { 0, 25, 75, 100 }, ImageResize.Resize(new byte[] { 0, 100 }, 1, 1, 2, 1, 4));
        // Channels are resized independently; the same size is the identity.
        var rgb = ImageResize.Resize(new byte[] { 0, 100, 200, 50, 10, 20 }, 3, 1, 2, 1, 1);
        Assert.Equal(new byte[] { 50, 125, 15 }, rgb);
        var image = new PixelImage(2, 1, 3, [0, 100, 200, 50, 10, 20]);
        Assert.Same(image, image.Resized(1, 2));
    }

    [Fact]
    public void Resizing_a_tall_narrow_image_keeps_the_intermediate_small_and_an_output_over_the_budget_is_refused()
    {
        // A 16,777,216×1 gray image (the whole pixel budget), top half 0 and bottom half 200: resampling rows first
        // would need a height × new-width intermediate of billions of doubles.
        int height = (int)GrayImage.MaxPixels;
        var pixels = new byte[height];
        pixels.AsSpan(height / 2).Fill(200);
        var tall = new PixelImage(1, height, 1, pixels);
        foreach (int width in new[] { 28, 256 })
        {
            var resized = tall.Resized(28, width);
            Assert.Equal((28, width), (resized.Height, resized.Width));
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < width; x++)
                    Assert.Equal(y < 14 ? 0 : 200, resized.Pixels[y * width + x]);
        }
        // Columns first on a small case: 4×1 → 2×2 averages pairs of rows, then repeats the one column.
        Assert.Equal(new byte[] { 20, 20, 100, 100 }, ImageResize.Resize(new byte[] { 0, 40, 80, 120 }, 1, 4, 1, 2, 2));
        // Either order gives the same image: 6×2 → 3×3 goes columns first, its transpose 2×6 → 3×3 rows first.
        byte[] source = [3, 250, 17, 90, 41, 7, 199, 64, 120, 5, 77, 160];
        var transposed = new byte[12];
        for (int y = 0; y < 6; y++) for (int x = 0; x < 2; x++) transposed[x * 6 + y] = source[y * 2 + x];
        var columnsFirst = ImageResize.Resize(source, 1, 6, 2, 3, 3);
        var rowsFirst = ImageResize.Resize(transposed, 1, 2, 6, 3, 3);
        for (int y = 0; y < 3; y++) for (int x = 0; x < 3; x++) Assert.Equal(rowsFirst[x * 3 + y], columnsFirst[y * 3 + x]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageResize.Resize(new byte[] { 5 }, 1, 1, 1, 8192, 8192));
    }
}

/// <summary>Our decoder against ImageMagick's on files ImageMagick wrote (tests/ZeroDL.Tests/Fixtures/png/README.md).</summary>
public class PngFixtureTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, "tests", "ZeroDL.Tests", "Fixtures", "png"), "*.png").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Decodes_as_imagemagick_does(string name)
    {
        string path = Path.Combine(TestPaths.RepoRoot, "tests", "ZeroDL.Tests", "Fixtures", "png", name);
        var rgba = Png.DecodeRgba(File.ReadAllBytes(path), path, GrayImage.MaxPixels, out var info);
        // 16-bit files: ImageMagick's 16-bit samples (big-endian), brought to 8 bits by our documented rule round(v / 257).
        string wide = Path.ChangeExtension(path, ".rgba16");
        var expected = File.Exists(wide)
            ? [.. File.ReadAllBytes(wide).Chunk(2).Select(p => (byte)Math.Round((p[0] << 8 | p[1]) / 257.0, MidpointRounding.AwayFromZero))]
            : File.ReadAllBytes(Path.ChangeExtension(path, ".rgba"));
        Assert.Equal((13, 11), (info.Width, info.Height));
        Assert.Equal(expected.Length, rgba.Length);
        for (int i = 0; i < expected.Length; i += 4)
        {
            // A fully transparent pixel's colour is not part of the image: encoders store anything there.
            if (expected[i + 3] == 0 && rgba[i + 3] == 0) continue;
            Assert.True(expected.AsSpan(i, 4).SequenceEqual(rgba.AsSpan(i, 4)),
                $"{name} pixel {i / 4}: ImageMagick {string.Join(",", expected[i..(i + 4)])}, ours {string.Join(",", rgba[i..(i + 4)])}");
        }
        var pixels = Png.DecodePixels(File.ReadAllBytes(path), path);
        Assert.Equal(name.StartsWith("gray") ? 1 : 3, pixels.Channels);
    }
}
