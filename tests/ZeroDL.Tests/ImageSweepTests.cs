using System.Buffers.Binary;
using System.Text;
using ZeroDL.Data;
using ZeroDL.Imaging;
using ZeroDL.Tests.Fixtures;

namespace ZeroDL.Tests;

/// <summary>
/// Deterministic mutation sweeps of the PNG and PGM decoders (issue 18), 10,000 cases each: every case decodes or is a
/// <see cref="DataFormatException"/>, within the stated allocation bound.
/// </summary>
public class ImageSweepTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>
    /// The bytes with every chunk's CRC recomputed where the chunk structure still holds, so that a mutated size field
    /// reaches the decoder's size checks instead of stopping at the CRC check.
    /// </summary>
    private static byte[] WithFixedCrcs(byte[] png)
    {
        var b = (byte[])png.Clone();
        for (int pos = 8; pos + 12 <= b.Length;)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(pos));
            if (length > b.Length - pos - 12) break;
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(pos + 8 + (int)length), Crc32.Compute(b.AsSpan(pos + 4, 4 + (int)length)));
            pos += 12 + (int)length;
        }
        return b;
    }

    /// <summary>
    /// Every decoder entry point on the bytes with their CRCs made right (refusals expected), then on the bytes as given;
    /// the last decode's outcome is the case's.
    /// </summary>
    private static void DecodeAll(byte[] bytes)
    {
        try { DecodeEach(WithFixedCrcs(bytes)); } catch (DataFormatException) { }
        DecodeEach(bytes);
    }

    private static void DecodeEach(byte[] b)
    {
        try { Png.DecodePixels(b, "sweep.png"); } catch (DataFormatException) { }
        try { Png.DecodeResized(b, "sweep.png", 5, 3, ImageInput.MaxPixels); } catch (DataFormatException) { }
        try { Png.DecodeGray(b, "sweep.png", 4, ImageInput.MaxPixels); } catch (DataFormatException) { }
        Png.Decode(b, "sweep.png");
    }

    private static SizeField[] PngFields(byte[] png)
    {
        var fields = new List<SizeField> { new("IHDR length", 8, 4, true), new("IHDR width", 16, 4, true), new("IHDR height", 20, 4, true) };
        for (int pos = 33; pos + 8 <= png.Length;)
        {
            string type = Encoding.ASCII.GetString(png, pos + 4, 4);
            fields.Add(new($"{type} length", pos, 4, true));
            pos += 12 + (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
        }
        return [.. fields];
    }

    /// <summary>
    /// The bound: a decoder allocates in proportion to the declared W×H only after checking that the image data can
    /// inflate to it (DEFLATE expands at most 1032:1), so the raw data is at most 1032 × the IDAT bytes. Per raw byte,
    /// at 1 bit a pixel (8 pixels a byte), the full decoder keeps 4 RGBA bytes and 1 plane byte a pixel and the gray
    /// decoder 4 float bytes: with two decodes per case (as given, CRCs fixed), 100 bytes per raw byte is above all of
    /// it; 1 MiB covers the fixed costs (inflater, messages).
    /// </summary>
    private static long Bound(byte[] png) => 100 * 1032L * IdatBytes(png) + (1 << 20);

    private static int IdatBytes(byte[] png)
    {
        int total = 0;
        for (int pos = 8; pos + 12 <= png.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            if (Encoding.ASCII.GetString(png, pos + 4, 4) == "IDAT") total += length;
            pos += 12 + length;
        }
        return total;
    }

    private void Sweep(string name, byte[] seed)
    {
        DecodeAll(seed);
        var report = MutationSweep.Run(seed, PngFields(seed), DecodeAll, Bound(seed));
        output.WriteLine($"{name}: {report}");
        Assert.Equal(10_000, report.Cases);
        Assert.True(report.Parsed > 0 && report.Refused > 0, $"{report.Parsed} decoded, {report.Refused} refused");
    }

    [Fact]
    public void Png_gray_sweep()
    {
        var rng = new Random(1);
        Sweep("8×8 gray", PngDecoderTests.Write(8, 8, 0, 8, [.. Enumerable.Range(0, 64).Select(_ => rng.Next(256))]));
    }

    [Fact]
    public void Png_rgba_interlaced_sweep()
    {
        var rng = new Random(2);
        Sweep("9×7 RGBA Adam7", PngDecoderTests.Write(9, 7, 6, 8, [.. Enumerable.Range(0, 9 * 7 * 4).Select(_ => rng.Next(256))], interlace: true));
    }

    [Fact]
    public void Pgm_sweep()
    {
        // P5 with a 16-bit maxval, so the 2-byte samples and the maxval check are reached; the header's numbers are
        // text, so its "size fields" are the bytes where they are written (set to 0x00/0xFF and flipped like any other).
        var header = Encoding.ASCII.GetBytes("P5\n# sweep\n6 5\n1000\n");
        var seed = header.Concat(Enumerable.Range(0, 30).SelectMany(i => new[] { (byte)(i * 33 / 256), (byte)(i * 33) })).ToArray();
        Assert.Equal(30, Pgm.Decode(seed, "seed").Pixels.Length);
        int w = Array.IndexOf(header, (byte)'6'), m = Array.IndexOf(header, (byte)'1');
        SizeField[] fields = [new("width and height", w, 2, true), new("maxval", m, 4, true)];
        // The file must hold the declared pixels before their float array exists (1 or 2 bytes each in P5), so a case
        // allocates at most 4 bytes a pixel for at most its own ~80 bytes of pixels, plus the header tokens and message.
        var report = MutationSweep.Run(seed, fields, b => Pgm.Decode(b, "sweep.pgm"), maxAllocatedBytes: 64 << 10);
        output.WriteLine($"PGM: {report}");
        Assert.Equal(10_000, report.Cases);

        var ascii = Encoding.ASCII.GetBytes("P2 4 3 255\n0 10 20 30\n40 50 60 70\n80 90 100 255\n");
        report = MutationSweep.Run(ascii, [new("width", 3, 1, true), new("maxval", 7, 4, true)], b => Pgm.Decode(b, "sweep.pgm"), maxAllocatedBytes: 64 << 10);
        output.WriteLine($"PGM ASCII: {report}");
        Assert.Equal(10_000, report.Cases);
    }
}
