using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Serialization;
using ZeroDL.Tests.Fixtures;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 18: a deterministic mutation sweep of at least 10,000 cases per model-file format (a format 2 model file, a
/// version 1 model file, an .npz of weights, a bare .npy), from bytes in memory. Each case must parse or be refused
/// with a <see cref="DataFormatException"/>, within the stated allocation bound. The safetensors formats keep their
/// sizes in JSON text as well as in binary: each number of the header is also set to the hostile values.
/// </summary>
public partial class ModelFileSweepTests(ITestOutputHelper output)
{
    private const int Cases = 10_000;

    /// <summary>Sizes written into the JSON header in place of each number in turn.</summary>
    private static readonly string[] HostileNumbers = ["0", "-1", "2147483647", "2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "1e30", "1.5"];

    /// <summary>
    /// A small model of the dense preset (BatchNorm, ReLU and dropout) on 8×8 inputs, 64-16-10, saved as format 2:
    /// every kind of header entry and metadata a dense model has, at a size that keeps 10,000 loads quick.
    /// </summary>
    private static byte[] DenseModelFile()
    {
        var preset = ModelPresets.Find("dense");
        var net = (preset.Spec with { HiddenSizes = [16] }).ToArchitecture([64], 10).Build<float>(seed: 3);
        string path = Path.Combine(TestPaths.NewTempDirectory(), "dense.safetensors");
        ModelFile.Save(net, path, new Dictionary<string, string> { ["model"] = "dense" });
        return File.ReadAllBytes(path);
    }

    /// <summary>The safetensors size field: the 8-byte little-endian header length at the start.</summary>
    private static readonly SizeField[] SafeTensorsFields = [new("header length", 0, 8, BigEndian: false)];

    /// <summary>Copies of a safetensors file with each number of its JSON header (shapes, offsets) replaced in turn.</summary>
    private static IEnumerable<(string Name, byte[] Bytes)> HeaderNumberCases(byte[] file)
    {
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        string header = Encoding.UTF8.GetString(file, 8, length);
        foreach (Match m in JsonNumber().Matches(header))
            foreach (string v in HostileNumbers)
            {
                string edited = header[..m.Index] + v + header[(m.Index + m.Length)..];
                var json = Encoding.UTF8.GetBytes(edited);
                var bytes = new byte[8 + json.Length + file.Length - 8 - length];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
                json.CopyTo(bytes, 8);
                file.AsSpan(8 + length).CopyTo(bytes.AsSpan(8 + json.Length));
                yield return ($"header number at {m.Index} ({m.Value}) set to {v}", bytes);
            }
    }

    /// <summary>Copies of a .npy with each number of its header (the shape) replaced in turn, the header length adjusted.</summary>
    private static IEnumerable<(string Name, byte[] Bytes)> NpyHeaderNumberCases(byte[] file, int version)
    {
        int prefix = version == 1 ? 10 : 12;
        int length = version == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8));
        string header = Encoding.ASCII.GetString(file, prefix, length);
        foreach (Match m in NpyNumber().Matches(header))
            foreach (string v in HostileNumbers)
            {
                var text = Encoding.ASCII.GetBytes(header[..m.Index] + v + header[(m.Index + m.Length)..]);
                var bytes = new byte[prefix + text.Length + file.Length - prefix - length];
                file.AsSpan(0, prefix).CopyTo(bytes);
                if (version == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
                else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)text.Length);
                text.CopyTo(bytes, prefix);
                file.AsSpan(prefix + length).CopyTo(bytes.AsSpan(prefix + text.Length));
                yield return ($"shape number at {m.Index} ({m.Value}) set to {v}", bytes);
            }
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex NpyNumber();

    // A number in the header's own JSON (after ':' or '[' or ','), not inside the metadata's escaped strings.
    [GeneratedRegex(@"(?<=[\[:,])-?\d+")]
    private static partial Regex JsonNumber();

    [Fact]
    public void Format_2_model_file_sweep()
    {
        var seed = DenseModelFile();
        // Bound: the network and its decoded values are no larger than the file's data (F32), the header's JSON and
        // the architecture's configs a few times the header; Build's generator and layer buffers are small. Four times
        // the file plus 1 MiB covers all, and is what a refused 2^31 or 2^63 declaration must stay within.
        long bound = 4L * seed.Length + (1 << 20);
        Sweep(seed, SafeTensorsFields, bytes => ModelFile.Parse(bytes, "sweep.safetensors"), bound, HeaderNumberCases(seed));
    }

    /// <summary>
    /// A version 1 model file as ZeroDL wrote them (tests/ZeroDL.Tests/data/v1/mlp-bn-v1.safetensors has the same
    /// recipe keys and metadata), on 16 inputs instead of 784 so that 10,000 loads stay quick.
    /// </summary>
    private static byte[] Version1ModelFile()
    {
        const string recipe = "{\"kind\":\"mlp-bn\",\"input_size\":16,\"hidden_sizes\":[8],\"output_size\":4,\"activation\":\"relu\",\"weight_init\":\"he\"," +
            "\"weight_decay\":0,\"batch_norm\":true,\"batch_norm_mode\":\"per-channel\",\"dropout\":0.1,\"dropout_mode\":\"inverted\",\"output_dropout\":true}";
        var net = ModelFileV1.Architecture(recipe).Build<float>(seed: 3);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "zerodl", ["format_version"] = "1", ["architecture"] = recipe,
            ["training"] = "{\"model\":\"mlp-bn\",\"optimizer\":\"adam\",\"epochs_completed\":\"1\"}",
        };
        var stream = new MemoryStream();
        SafeTensors.Write(stream, net.NamedTensors(), metadata);
        return stream.ToArray();
    }

    [Fact]
    public void Version_1_model_file_sweep()
    {
        var seed = Version1ModelFile();
        Assert.Equal("mlp-bn", ModelFile.Parse(seed, "seed.safetensors").PresetName);
        long bound = 4L * seed.Length + (1 << 20); // as the format 2 sweep
        Sweep(seed, SafeTensorsFields, bytes => ModelFile.Parse(bytes, "sweep-v1.safetensors"), bound, HeaderNumberCases(seed));
    }

    /// <summary>
    /// An .npz as NumPy's savez writes it, one entry stored and one deflated (W1 (6, 5), b1 (5,) as float64), and its
    /// zip size fields: per entry the local header's CRC, sizes and name/extra lengths, the central directory's
    /// likewise with the local header offset, and the end record's counts, directory size and offset.
    /// </summary>
    private static (byte[] Bytes, SizeField[] Fields) SmallNpz()
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, shape, level) in new[] { ("W1", new[] { 6, 5 }, CompressionLevel.NoCompression), ("b1", new[] { 5 }, CompressionLevel.Optimal) })
            {
                var values = Enumerable.Range(0, shape.Aggregate(1, (a, d) => a * d)).Select(i => Math.Sin(i) * 0.1).ToArray();
                using var s = zip.CreateEntry(name + ".npy", level).Open();
                s.Write(ModelFileHostileTests.NpyBytes(shape, values));
            }
        }
        var bytes = stream.ToArray();
        var fields = new List<SizeField>();
        foreach (int at in Signatures(bytes, [0x50, 0x4B, 0x03, 0x04]))
        {
            fields.Add(new($"local CRC-32 at {at}", at + 14, 4, false));
            fields.Add(new($"local compressed size at {at}", at + 18, 4, false));
            fields.Add(new($"local uncompressed size at {at}", at + 22, 4, false));
            fields.Add(new($"local name length at {at}", at + 26, 2, false));
            fields.Add(new($"local extra length at {at}", at + 28, 2, false));
            int dataStart = at + 30 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 26)) + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 28));
            if (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 8)) == 0) fields.Add(new($"npy header length of the stored entry at {at}", dataStart + 8, 2, false));
        }
        foreach (int at in Signatures(bytes, [0x50, 0x4B, 0x01, 0x02]))
        {
            fields.Add(new($"central CRC-32 at {at}", at + 16, 4, false));
            fields.Add(new($"central compressed size at {at}", at + 20, 4, false));
            fields.Add(new($"central uncompressed size at {at}", at + 24, 4, false));
            fields.Add(new($"central name length at {at}", at + 28, 2, false));
            fields.Add(new($"central extra length at {at}", at + 30, 2, false));
            fields.Add(new($"central comment length at {at}", at + 32, 2, false));
            fields.Add(new($"central local header offset at {at}", at + 42, 4, false));
        }
        int end = Signatures(bytes, [0x50, 0x4B, 0x05, 0x06]).Last();
        fields.Add(new("end: entries on this disk", end + 8, 2, false));
        fields.Add(new("end: entries", end + 10, 2, false));
        fields.Add(new("end: directory size", end + 12, 4, false));
        fields.Add(new("end: directory offset", end + 16, 4, false));
        fields.Add(new("end: comment length", end + 20, 2, false));
        return (bytes, [.. fields]);
    }

    /// <summary>Every offset where a zip record signature occurs.</summary>
    private static List<int> Signatures(byte[] bytes, byte[] signature)
    {
        var found = new List<int>();
        for (int at = bytes.AsSpan().IndexOf(signature); at >= 0;)
        {
            found.Add(at);
            int next = bytes.AsSpan(at + 1).IndexOf(signature);
            at = next < 0 ? -1 : at + 1 + next;
        }
        return found;
    }

    [Fact]
    public void Npz_sweep()
    {
        var (seed, fields) = SmallNpz();
        Assert.Equal(2, Npy.ReadNpz(seed, "seed.npz").Count);
        // Bound: nothing is allocated on a declared size; an entry grows only as it inflates, and deflate gives at most
        // 1032 bytes per input byte, so a mutated entry inflates to at most about 1032 times the file. Widened to
        // doubles (8 times a uint8's byte) that stays below 16 KiB per byte of file, plus 1 MiB of zip bookkeeping.
        long bound = 16_384L * seed.Length + (1 << 20);
        Sweep(seed, fields, bytes => Npy.ReadNpz(bytes, "sweep.npz"), bound);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Npy_sweep(int version)
    {
        var seed = ModelFileHostileTests.NpyBytes([4, 3, 2], [.. Enumerable.Range(0, 24).Select(i => i * 0.5)], version);
        SizeField[] fields = [new("header length", 8, version == 1 ? 2 : 4, false)];
        // Bound: the data must match the file's length, so at most 8 doubles per byte of file (uint8), plus the header
        // text (at most MaxHeader, but never more than the file) and the shape: 64 bytes per byte of file and 64 KiB.
        long bound = 64L * seed.Length + (64 << 10);
        Sweep(seed, fields, bytes => Npy.Read(bytes, "sweep.npy"), bound, NpyHeaderNumberCases(seed, version));
    }

    /// <summary>MutationSweep over the seed, then the same assertions over the extra cases; prints the report.</summary>
    private void Sweep(byte[] seed, IReadOnlyList<SizeField> fields, Action<byte[]> parse, long bound, IEnumerable<(string Name, byte[] Bytes)>? extra = null)
    {
        var clock = Stopwatch.StartNew();
        var report = MutationSweep.Run(seed, fields, parse, bound, Cases);
        int extraCases = 0, extraParsed = 0;
        foreach (var (name, bytes) in extra ?? [])
        {
            extraCases++;
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { parse(bytes); extraParsed++; }
            catch (DataFormatException) { }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"{name}: {e.GetType().Name} instead of a DataFormatException: {e.Message}"); }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated <= bound, $"{name}: allocated {allocated:N0} bytes, above the bound of {bound:N0}");
        }
        output.WriteLine($"{report.Cases} cases ({report.Parsed} parsed, {report.Refused} refused) + {extraCases} header-number cases ({extraParsed} parsed) " +
                         $"in {clock.Elapsed.TotalSeconds:F1} s; seed {seed.Length} bytes; worst allocation {report.MaxAllocatedBytes:N0} bytes " +
                         $"({report.WorstCase}), bound {bound:N0}; slowest case {report.Slowest.TotalMilliseconds:F1} ms");
        Assert.True(report.Cases >= Cases);
        Assert.True(report.Refused > 0 && report.Parsed > 0, "a sweep that only refuses (or only parses) tests nothing");
    }
}
