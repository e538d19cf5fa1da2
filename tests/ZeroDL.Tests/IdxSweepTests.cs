using System.Buffers.Binary;
using System.IO.Compression;
using ZeroDL.Data;
using ZeroDL.Tests.Fixtures;

namespace ZeroDL.Tests;

/// <summary>
/// Deterministic mutation sweeps of the IDX reader (issue 18), raw and gzip, 10,000 cases each: every case parses or is
/// a <see cref="DataFormatException"/>, and none allocates more than the stated bound.
/// </summary>
public class IdxSweepTests
{
    /// <summary>A 5×6×7 IDX image file: 16 header bytes and 210 data bytes.</summary>
    private static byte[] RawSeed()
    {
        var bytes = IdxHardeningTests.Header(5, 6, 7).Concat(Enumerable.Range(0, 210).Select(i => (byte)(i * 37))).ToArray();
        Assert.Equal([5, 6, 7], Idx.Parse(bytes, "seed", 3).Dimensions);
        return bytes;
    }

    private static SizeField[] IdxFields(int at) =>
        [new("magic", at, 4, true), new("count", at + 4, 4, true), new("rows", at + 8, 4, true), new("cols", at + 12, 4, true)];

    [Fact]
    public void Raw_idx_sweep()
    {
        // A raw file's length is checked against its header before the data array exists, so a case allocates its
        // 1 KiB header buffer, at most its own 226 data bytes and an error message: 64 KiB leaves room for the messages.
        var report = MutationSweep.Run(RawSeed(), IdxFields(0), bytes => Idx.Parse(bytes, "sweep", 3), maxAllocatedBytes: 64 << 10);
        Assert.Equal(10_000, report.Cases);
        Assert.True(report.Parsed > 0 && report.Refused > 0, $"{report.Parsed} parsed, {report.Refused} refused");
    }

    [Fact]
    public void Gzip_idx_sweep()
    {
        // Stored (level 0) deflate keeps the IDX header verbatim inside the gzip stream, so its size fields can be set
        // like a raw file's; the gzip trailer's CRC and ISIZE are swept too.
        var raw = RawSeed();
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.NoCompression, leaveOpen: true)) gz.Write(raw);
        var seed = output.ToArray();
        int at = seed.AsSpan().IndexOf(raw.AsSpan(0, 16));
        Assert.True(at > 0, "the stored gzip holds the IDX header verbatim");
        Assert.Equal(raw[16..], Idx.Parse(seed, "seed", 3).Data);
        SizeField[] fields = [.. IdxFields(at), new("gzip CRC32", seed.Length - 8, 4, false), new("gzip ISIZE", seed.Length - 4, 4, false)];
        // The data array is allocated whole only when DEFLATE's 1032:1 bound lets the ~250-byte file hold it (at most
        // about 258 KB); otherwise it starts at 64 KiB and grows only with inflated data, which the file bounds the same
        // way. With the inflater's buffers, 512 KiB.
        var report = MutationSweep.Run(seed, fields, bytes => Idx.Parse(bytes, "sweep", 3), maxAllocatedBytes: 512 << 10);
        Assert.Equal(10_000, report.Cases);
        Assert.True(report.Parsed > 0 && report.Refused > 0, $"{report.Parsed} parsed, {report.Refused} refused");
    }
}
