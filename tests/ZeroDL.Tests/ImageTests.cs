using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ZeroDL.Data;
using ZeroDL.Imaging;

namespace ZeroDL.Tests;

public class ImageTests
{
    /// <summary>Builds a PNG from raw filtered scanlines (each row: a filter byte then pixels).</summary>
    internal static byte[] Png(int width, int height, int colorType, byte[] scanlines, int bitDepth = 8, bool corruptCrc = false)
    {
        var ms = new MemoryStream();
        ms.Write(ZeroDL.Imaging.Png.Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth; ihdr[9] = (byte)colorType;
        Chunk(ms, "IHDR", ihdr, false);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(scanlines);
        Chunk(ms, "IDAT", z.ToArray(), corruptCrc);
        Chunk(ms, "IEND", [], false);
        return ms.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data, bool corrupt)
    {
        var len = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(len, data.Length); s.Write(len);
        var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(body);
        var crc = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Compute(body) ^ (corrupt ? 1u : 0u)); s.Write(crc);
    }

    [Fact]
    public void Crc32_known_value() => Assert.Equal(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void Decodes_gray_rgb_and_rgba_with_every_filter()
    {
        // 3×5 gray with rows filtered None, Sub, Up, Average, Paeth; the decoded rows must all be 10, 20, 30.
        byte[] rows =
        [
            0, 10, 20, 30,
            1, 10, 10, 10,
            2, 0, 0, 0,
            3, 5, 5, 5,     // Average: raw = target − ⌊(left + up)/2⌋ = 10 − 5, 20 − 15, 30 − 25
            4, 0, 0, 0,     // Paeth: the predictor picks up (10, 20, 30) exactly
        ];
        var img = ZeroDL.Imaging.Png.Decode(Png(3, 5, 0, rows), "t.png");
        for (int y = 0; y < 5; y++)
            Assert.Equal(new[] { 10 / 255f, 20 / 255f, 30 / 255f }, img.Pixels.Skip(y * 3).Take(3).ToArray());
        var rgb = ZeroDL.Imaging.Png.Decode(Png(1, 1, 2, [0, 255, 0, 0]), "rgb.png");
        Assert.Equal(0.299f, rgb.Pixels[0], 5);
        var rgba = ZeroDL.Imaging.Png.Decode(Png(2, 1, 6, [0, 0, 0, 0, 0, 0, 0, 0, 255]), "rgba.png");
        Assert.Equal(1f, rgba.Pixels[0]); // fully transparent over white
        Assert.Equal(0f, rgba.Pixels[1]); // opaque black
    }

    [Fact]
    public void Corrupt_pngs_give_clear_errors()
    {
        var good = Png(2, 2, 0, [0, 1, 2, 0, 3, 4]);
        Assert.Contains("CRC", Assert.Throws<DataFormatException>(() => ZeroDL.Imaging.Png.Decode(Png(2, 2, 0, [0, 1, 2, 0, 3, 4], corruptCrc: true), "c.png")).Message);
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => ZeroDL.Imaging.Png.Decode(good[..30], "t.png")).Message);
        Assert.Contains("image data", Assert.Throws<DataFormatException>(() => ZeroDL.Imaging.Png.Decode(Png(2, 3, 0, [0, 1, 2, 0, 3, 4]), "short.png")).Message);
        Assert.Contains("filter type 9", Assert.Throws<DataFormatException>(() => ZeroDL.Imaging.Png.Decode(Png(2, 2, 0, [9, 1, 2, 0, 3, 4]), "f.png")).Message);
        Assert.Contains("specification allows", Assert.Throws<DataFormatException>(() => ZeroDL.Imaging.Png.Decode(Png(2, 2, 2, [0, 0, 0, 0], bitDepth: 4), "b.png")).Message);
        Assert.Contains("larger than", Assert.Throws<DataFormatException>(() => ZeroDL.Imaging.Png.Decode(Png(100000, 100000, 0, [0]), "huge.png")).Message);
    }

    [Fact]
    public void Pgm_binary_and_ascii_with_comments()
    {
        var p5 = Encoding.ASCII.GetBytes("P5\n# a comment\n2 1\n255\n").Concat(new byte[] { 0, 255 }).ToArray();
        Assert.Equal(new[] { 0f, 1f }, Pgm.Decode(p5, "a.pgm").Pixels);
        var p2 = Encoding.ASCII.GetBytes("P2 2 2 15\n0 15\n# c\n 3 15\n");
        Assert.Equal(new[] { 0f, 1f, 0.2f, 1f }, Pgm.Decode(p2, "b.pgm").Pixels);
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => Pgm.Decode(Encoding.ASCII.GetBytes("P5 4 4 255\n12"), "c.pgm")).Message);
        Assert.Contains("exceeds", Assert.Throws<DataFormatException>(() => Pgm.Decode(Encoding.ASCII.GetBytes("P2 1 1 9 12"), "d.pgm")).Message);
        Assert.Contains("width", Assert.Throws<DataFormatException>(() => Pgm.Decode(Encoding.ASCII.GetBytes("P5 x 1 255\n"), "e.pgm")).Message);
    }

    [Fact]
    public void Load_detects_the_format_by_content_and_inverts_dark_on_light()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "digit.bin");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("P5 2 1 255\n").Concat(new byte[] { 255, 200 }).ToArray());
        var img = GrayImage.Load(path);
        Assert.Equal(2, img.Width);
        var inverted = img.AsLightOnDark();
        Assert.Equal(0f, inverted.Pixels[0]);
        File.WriteAllText(path, "GIF89a");
        Assert.Contains("not a PNG or PGM", Assert.Throws<DataFormatException>(() => GrayImage.Load(path)).Message);
    }

    [Fact]
    public void Encoder_output_decodes_to_the_same_pixels_gray_and_rgb()
    {
        var gray = new byte[7 * 5];
        for (int i = 0; i < gray.Length; i++) gray[i] = (byte)(i * 7);
        var decoded = ZeroDL.Imaging.Png.Decode(PngEncoder.Encode(7, 5, 1, gray), "gray.png");
        Assert.Equal((7, 5), (decoded.Width, decoded.Height));
        Assert.Equal(gray.Select(b => b / 255f), decoded.Pixels);

        var rgb = new byte[3 * 2 * 3];
        rgb[0] = 255; // a red pixel, then black ones
        decoded = ZeroDL.Imaging.Png.Decode(PngEncoder.Encode(3, 2, 3, rgb), "rgb.png");
        Assert.Equal(0.299f, decoded.Pixels[0], 5); // the decoder's luma of pure red
        Assert.Equal(0f, decoded.Pixels[1]);
    }

    [Fact]
    public void Encoder_refuses_bad_sizes_with_a_reason()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.Encode(0, 5, 1, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.Encode(2, 2, 4, new byte[16]));
        var e = Assert.Throws<ArgumentException>(() => PngEncoder.Encode(2, 2, 1, new byte[3]));
        Assert.Contains("need 4 bytes", e.Message);
    }

    [Fact]
    public void Image_grid_places_tiles_and_captions()
    {
        var ink = Enumerable.Repeat(1f, 4).ToArray();
        var cells = Enumerable.Range(0, 5).Select(i => new GridCell(ink, 2, 2) { Inverted = true, Caption = [(i.ToString(), ImageGrid.Red)] }).ToList();
        var canvas = ImageGrid.Build(cells, columns: 3, zoom: 2, margin: 1);
        // 3 columns of 4-pixel tiles with 1-pixel margins; 2 rows of tile (4) + caption (5 font rows + 2) + margin.
        Assert.Equal(1 + 3 * (4 + 1), canvas.Width);
        Assert.Equal(1 + 2 * (4 + 7 + 1), canvas.Height);
        int Pixel(int x, int y) => canvas.Pixels[(y * canvas.Width + x) * 3];
        Assert.Equal(0, Pixel(1, 1));   // full ink, inverted: black
        Assert.Equal(0, Pixel(4, 4));   // the tile's last pixel
        Assert.Equal(255, Pixel(5, 5)); // the margin after it is white
        Assert.Equal(255, Pixel(canvas.Width - 2, 13)); // second row's third column is empty (5 tiles)
        var red = Enumerable.Range(0, canvas.Width * canvas.Height).Count(p => canvas.Pixels[p * 3] == 200 && canvas.Pixels[p * 3 + 1] == 0);
        Assert.True(red > 0, "captions are drawn in their colour");
    }
}
