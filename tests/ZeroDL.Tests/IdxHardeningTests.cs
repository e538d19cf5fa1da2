using System.Buffers.Binary;
using System.IO.Compression;
using ZeroDL.Data;

namespace ZeroDL.Tests;

/// <summary>
/// Hostile IDX files (issue 18): gzip bombs, headers declaring more than the file can hold, and the bound on what a
/// header may declare. Each is refused with a <see cref="DataFormatException"/> naming the file, at a cost set by the
/// header's honest size rather than by what the attacker packed in.
/// </summary>
public class IdxHardeningTests
{
    /// <summary>An IDX header of unsigned bytes with the given dimensions.</summary>
    internal static byte[] Header(params uint[] dims)
    {
        var b = new byte[4 + 4 * dims.Length];
        b[2] = 8; b[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4 + 4 * d), dims[d]);
        return b;
    }

    /// <summary>gzip of <paramref name="head"/> followed by <paramref name="zeros"/> zero bytes, written in 1 MiB pieces.</summary>
    internal static byte[] GzipWithZeros(byte[] head, long zeros)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gz.Write(head);
            var block = new byte[1 << 20];
            for (long left = zeros; left > 0; left -= block.Length) gz.Write(block, 0, (int)Math.Min(left, block.Length));
        }
        return output.ToArray();
    }

    /// <summary>A read-only stream over bytes that counts how many of them its reader has taken.</summary>
    private sealed class CountingStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        public long Taken { get; private set; }
        public override int Read(byte[] buffer, int offset, int count) { int n = base.Read(buffer, offset, count); Taken += n; return n; }
        public override int Read(Span<byte> buffer) { int n = base.Read(buffer); Taken += n; return n; }
    }

    [Fact]
    public void A_gzip_bomb_is_inflated_only_one_byte_past_the_declared_data()
    {
        // 2×2×2 images and their 8 bytes, then 256 MiB of zeros: about 256 KB of gzip.
        var bomb = GzipWithZeros(Header(2, 2, 2), 8 + (256L << 20));
        var stream = new CountingStream(bomb);
        var e = Assert.Throws<DataFormatException>(() => Idx.Read(stream, "bomb.gz", 3));
        Assert.StartsWith("bomb.gz: unexpected bytes after the 8 data bytes", e.Message);
        // The reader stops after the declared data: it takes a few of the inflater's input buffers, not the whole file.
        Assert.True(stream.Taken < 64 << 10, $"read {stream.Taken} of {bomb.Length} compressed bytes");
    }

    [Fact]
    public void A_small_gzip_file_declaring_more_than_it_can_inflate_to_costs_what_it_holds()
    {
        // 100 × 1000 × 2000 = 200 MB declared (under the 1 GiB bound) in a file of about 60 bytes whose gzip trailer
        // is forged to agree with the header: DEFLATE's own limit on expansion tells it is a lie before inflating.
        var file = GzipWithZeros(Header(100, 1000, 2000), 16);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(file.Length - 4), 16 + 200_000_000u);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => Idx.Parse(file, "liar.gz", 3));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith("liar.gz: ", e.Message); // the inflater finds the forged trailer wrong once the data ends
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Declared_dimensions_above_one_gibibyte_are_refused_before_allocating()
    {
        var header = Header(1025, 1024, 1024); // 2^30 + 2^20 bytes
        foreach (var (file, name) in new[] { (header, "raw"), (GzipWithZeros(header, 0), "gz") })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<DataFormatException>(() => Idx.Parse(file, name, 3));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
            Assert.Equal($"{name}: dimensions (1025×1024×1024) describe more than {Idx.MaxDataBytes} data bytes (1 GiB), the most an IDX file may hold", e.Message);
        }
    }

    [Fact]
    public void Raw_files_must_hold_exactly_the_declared_data_and_gzip_ones_too()
    {
        var valid = Header(2, 1, 3).Concat(new byte[] { 1, 2, 3, 4, 5, 6 }).ToArray();
        foreach (var file in new[] { valid, GzipWithZeros(valid, 0) })
        {
            var array = Idx.Parse(file, "ok", 3);
            Assert.Equal([2, 1, 3], array.Dimensions);
            Assert.Equal([1, 2, 3, 4, 5, 6], array.Data);
        }
        Assert.Contains("1 unexpected bytes after the 6 data bytes", Assert.Throws<DataFormatException>(() => Idx.Parse([.. valid, 0], "long", 3)).Message);
        Assert.Contains("unexpected bytes after the 6 data bytes", Assert.Throws<DataFormatException>(() => Idx.Parse(GzipWithZeros(valid, 1), "long.gz", 3)).Message);
        Assert.Contains("need 6 data bytes, file has 5", Assert.Throws<DataFormatException>(() => Idx.Parse(valid[..^1], "short", 3)).Message);
        Assert.Contains("need 6 data bytes, file has 5", Assert.Throws<DataFormatException>(() => Idx.Parse(GzipWithZeros(valid[..^1], 0), "short.gz", 3)).Message);
    }

    [Fact]
    public void Zerodl_data_refuses_a_gzip_bomb_with_exit_1_naming_the_file()
    {
        string dir = TestPaths.NewTempDirectory();
        string images = Path.Combine(dir, "train-images-idx3-ubyte.gz");
        File.WriteAllBytes(images, GzipWithZeros(Header(3, 2, 2), 12 + (64L << 20)));
        MnistTests.WriteIdxLabels(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), [1, 2, 3], gzip: true);
        MnistTests.WriteIdxImages(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), 2, 2, 2, gzip: true);
        MnistTests.WriteIdxLabels(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"), [4, 5], gzip: true);
        var (code, _, error) = CliTests.Run("data", "--data", dir);
        Assert.Equal(1, code);
        Assert.Contains($"{images}: unexpected bytes after the 12 data bytes the dimensions (3×2×2) describe", error);
        Assert.DoesNotContain("   at ", error);
    }
}
