using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using ZeroDL.Data;
using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 18, the model-file side: hostile safetensors headers, model metadata beyond the stated limits, strict keys,
/// the zip CRC of .npz files and non-finite weights. Each is refused with a <see cref="DataFormatException"/> naming the
/// source and the problem, before anything is allocated in proportion to what the file declares.
/// </summary>
public class ModelFileHostileTests
{
    private const string Source = "hostile.safetensors";

    /// <summary>A safetensors file of exactly this header (padded with spaces to 8 bytes) and data.</summary>
    private static byte[] SafeTensorsBytes(byte[] header, byte[]? data = null)
    {
        int padded = (header.Length + 7) / 8 * 8;
        data ??= [];
        var bytes = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        data.CopyTo(bytes, 8 + padded);
        return bytes;
    }

    private static byte[] SafeTensorsBytes(string header, byte[]? data = null) => SafeTensorsBytes(Encoding.UTF8.GetBytes(header), data);

    /// <summary>A model file header with this metadata and no tensors.</summary>
    private static byte[] ModelBytes(Dictionary<string, string> metadata) =>
        SafeTensorsBytes(JsonSerializer.Serialize(new Dictionary<string, object> { ["__metadata__"] = metadata }));

    private static DataFormatException Refused(Action parse)
    {
        var e = Assert.Throws<DataFormatException>(parse);
        Assert.StartsWith(Source, e.Message);
        return e;
    }

    private static DataFormatException ModelRefused(byte[] bytes) => Refused(() => ModelFile.Parse(bytes, Source));

    [Fact]
    public void Invalid_utf8_in_the_header_is_a_clean_error_with_its_offset()
    {
        // 0xFF never occurs in UTF-8; System.Text.Json threw "Cannot transcode invalid UTF-8 JSON text" when enumerating.
        var bytes = SafeTensorsBytes([.. "{\"a"u8, 0xFF, 0xFE, .. "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}"u8]);
        var e = Refused(() => SafeTensors.Parse(bytes, Source));
        Assert.Contains("invalid UTF-8 at byte 11", e.Message);
        Assert.Contains("invalid UTF-8", ModelRefused(bytes).Message);
    }

    [Fact]
    public void An_escaped_lone_surrogate_in_a_name_is_a_clean_error()
    {
        var bytes = SafeTensorsBytes("{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        Assert.Contains("malformed header", Refused(() => SafeTensors.Parse(bytes, Source)).Message);
    }

    [Fact]
    public void A_duplicate_tensor_name_is_refused_naming_it()
    {
        var bytes = SafeTensorsBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]);
        Assert.Contains("tensor 'w' appears twice", Refused(() => SafeTensors.Parse(bytes, Source)).Message);
    }

    [Fact]
    public void A_duplicate_metadata_key_or_metadata_object_is_refused_naming_it()
    {
        var key = SafeTensorsBytes("{\"__metadata__\":{\"format\":\"zerodl\",\"format\":\"other\"}}");
        Assert.Contains("metadata key 'format' appears twice", ModelRefused(key).Message);
        var twice = SafeTensorsBytes("{\"__metadata__\":{\"format\":\"zerodl\"},\"__metadata__\":{}}");
        Assert.Contains("__metadata__ appears twice", ModelRefused(twice).Message);
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", "'dtype' appears twice")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"offset\":3}}", "unknown key 'offset'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "missing 'shape'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", "at most 8")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483648],\"data_offsets\":[0,4]}}", "invalid dimension 2147483648")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", "too many elements")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,9223372036854775807]}}", "out of range")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}", "integers")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[[[[1]]]],\"data_offsets\":[0,4]}}", "malformed header")]
    public void Tensor_entries_are_read_strictly_and_every_size_is_bounded(string header, string expected)
    {
        var bytes = SafeTensorsBytes(header, new byte[4]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains(expected, Refused(() => SafeTensors.Parse(bytes, Source)).Message);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    [Fact]
    public void More_tensors_than_the_limit_are_refused()
    {
        var entries = Enumerable.Range(0, SafeTensors.MaxTensors + 1).Select(i => $"\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        var bytes = SafeTensorsBytes("{" + string.Join(",", entries) + "}");
        Assert.Contains($"more than the {SafeTensors.MaxTensors} tensors", Refused(() => SafeTensors.Parse(bytes, Source)).Message);
    }

    [Fact]
    public void A_header_length_beyond_the_limit_is_refused_before_reading_it()
    {
        var bytes = new byte[8 + (SafeTensors.MaxHeader + 8)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)SafeTensors.MaxHeader + 8);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains($"larger than the {SafeTensors.MaxHeader >> 20} MiB", Refused(() => SafeTensors.Parse(bytes, Source)).Message);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    private static Dictionary<string, string> V1(string recipe) =>
        new() { ["format"] = "zerodl", ["format_version"] = "1", ["architecture"] = recipe };

    private static Dictionary<string, string> V2(string architecture) =>
        new() { ["format"] = "zerodl", ["format_version"] = "2", ["architecture"] = architecture };

    [Theory]
    [InlineData("[2147483647]")]
    [InlineData("[1000000000]")]
    [InlineData("[65537]")]
    public void Huge_hidden_sizes_are_refused_by_the_stated_width_limit(string hidden)
    {
        string limit = $"at most {LayerConfig.MaxSize}";
        Assert.Contains(limit, ModelRefused(ModelBytes(V1($"{{\"kind\":\"mlp\",\"hidden_sizes\":{hidden}}}"))).Message);
        string units = hidden.Trim('[', ']');
        Assert.Contains(limit, ModelRefused(ModelBytes(V2($"{{\"input_shape\":[784],\"layers\":[{{\"type\":\"affine\",\"units\":{units}}}]}}"))).Message);
        var e = Assert.Throws<FormatException>(() => Architecture.FromJson($"{{\"input_shape\":[{units}],\"layers\":[{{\"type\":\"relu\"}}]}}"));
        Assert.Contains(limit, e.Message);
    }

    [Fact]
    public void Hidden_sizes_of_30000_by_30000_are_refused_by_the_parameter_limit_without_allocating()
    {
        // The issue's 160 KB file: a real tensor beside an architecture of 9.2·10⁸ values (3.7 GB of float32).
        var metadata = V1("{\"kind\":\"mlp\",\"input_size\":784,\"hidden_sizes\":[30000,30000],\"output_size\":10}");
        var header = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["__metadata__"] = metadata,
            ["affine1.W"] = new { dtype = "F32", shape = new[] { 40000 }, data_offsets = new[] { 0, 160000 } },
        });
        var bytes = SafeTensorsBytes(header, new byte[160000]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = ModelRefused(bytes);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 2 << 20);
        Assert.Contains($"at most {Architecture.MaxValues} allowed", e.Message);
    }

    [Fact]
    public void Stored_shapes_are_checked_against_the_architecture_before_any_value_is_decoded()
    {
        // 4 MB of weights whose last tensor has the wrong shape: refused having decoded nothing (it decoded all first).
        var net = Networks.MultiLayerNet<float>([1000, 100], seed: 1);
        string path = Path.Combine(TestPaths.NewTempDirectory(), "m.safetensors");
        ModelFile.Save(net, path);
        var bytes = File.ReadAllBytes(path);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        string wrong = header.Replace("\"shape\":[100,10]", "\"shape\":[10,100]");
        Assert.NotEqual(header, wrong);
        var hostile = SafeTensorsBytes(wrong.TrimEnd(), bytes[(8 + headerLength)..]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = ModelRefused(hostile);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("tensor 'affine3.W' has shape (10, 100)", e.Message);
        Assert.InRange(allocated, 0, 1 << 20);
    }

    [Fact]
    public void More_layers_than_the_limit_are_refused()
    {
        var layers = string.Join(",", Enumerable.Repeat("{\"type\":\"relu\"}", Architecture.MaxLayers + 1));
        var e = Assert.Throws<FormatException>(() => Architecture.FromJson($"{{\"input_shape\":[4],\"layers\":[{layers}]}}"));
        Assert.Contains($"more than the {Architecture.MaxLayers}", e.Message);
        var v1 = ModelRefused(ModelBytes(V1($"{{\"hidden_sizes\":[{string.Join(",", Enumerable.Repeat(1, Architecture.MaxLayers + 1))}]}}")));
        Assert.Contains("hidden sizes are more than", v1.Message);
    }

    [Fact]
    public void Architecture_json_longer_than_the_limit_is_refused_before_parsing()
    {
        string json = "{\"input_shape\":[4],\"layers\":[{\"type\":\"relu\"}]" + new string(' ', Architecture.MaxJsonLength) + "}";
        Assert.Contains("more than the", Assert.Throws<FormatException>(() => Architecture.FromJson(json)).Message);
    }

    [Theory]
    // 2⁶ filters × 1024² outputs × 2⁶ channels × 33² window: 2.9·10¹² multiply-adds, 2⁴⁰ as im2col values.
    [InlineData("{\"input_shape\":[64,1024,1024],\"layers\":[{\"type\":\"conv\",\"filters\":64,\"kernel\":33,\"pad\":16}]}", "multiply-adds")]
    // Max pooling, 1 channel, a 4096² window at stride 1 over 8191²: 4096² outputs × 4096² comparisons.
    [InlineData("{\"input_shape\":[1,8191,8191],\"layers\":[{\"type\":\"max_pool\",\"size\":4096,\"stride\":1}]}", "multiply-adds")]
    [InlineData("{\"input_shape\":[1,1,1],\"layers\":[{\"type\":\"conv\",\"filters\":1,\"kernel\":1,\"pad\":1073741824}]}", "pad must be")]
    [InlineData("{\"input_shape\":[1,8,8],\"layers\":[{\"type\":\"conv\",\"filters\":1,\"kernel\":[1,70000]}]}", "kernel sides")]
    [InlineData("{\"input_shape\":[1,1,1,1,1,1,1,1,1],\"layers\":[{\"type\":\"relu\"}]}", "at most 8")]
    [InlineData("{\"input_shape\":[8193,8192],\"layers\":[{\"type\":\"relu\"}]}", "values per sample")]
    public void Costs_beyond_the_stated_limits_are_refused_by_the_plan(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => Architecture.FromJson(json));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("{\"kind\":\"mlp\",\"hiden_sizes\":[50]}", "hiden_sizes")]
    [InlineData("{\"kind\":\"mlp\",\"hidden_sizes\":[50],\"batchnorm\":true}", "batchnorm")]
    [InlineData("{\"kind\":\"mlp\",\"hidden_sizes\":[50],\"hidden_sizes\":[60]}", "hidden_sizes")]
    public void A_version_1_recipe_with_an_unknown_or_repeated_key_is_refused_naming_it(string recipe, string key)
    {
        var e = ModelRefused(ModelBytes(V1(recipe)));
        Assert.Contains(key, e.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("3")]
    [InlineData("2.0")]
    public void An_unknown_format_version_is_refused_with_its_value(string version)
    {
        var metadata = V2("{\"input_shape\":[4],\"layers\":[{\"type\":\"relu\"}]}");
        metadata["format_version"] = version;
        Assert.Contains($"format_version '{version}'", ModelRefused(ModelBytes(metadata)).Message);
    }

    [Fact]
    public void A_renamed_architecture_key_is_refused_naming_it()
    {
        var e = ModelRefused(ModelBytes(V2("{\"input_shape\":[4],\"layerz\":[{\"type\":\"relu\"}]}")));
        Assert.Contains("layerz", e.Message);
    }

    [Fact]
    public void Every_bundled_architecture_and_model_still_loads()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "tests", "ZeroDL.Tests", "data", "v1"), "*.safetensors"))
            Assert.NotEmpty(ModelFile.Load(file).Network.Layers);
        Assert.NotEmpty(Architecture.FromJson(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "deepconv.json"))).Layers);
        foreach (var preset in ModelPresets.All)
            Assert.NotEmpty(preset.Architecture(null, 10).Plan());
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+infinity")]
    [InlineData(float.NegativeInfinity, "−infinity")]
    public void A_model_file_with_a_non_finite_weight_is_refused_naming_the_tensor_and_index(float value, string word)
    {
        var net = Networks.MultiLayerNet<float>([5], seed: 1, inputSize: 4, outputSize: 3);
        ((Layers.Affine<float>)net.Layers[^1]).W.Value.Data[7] = value;
        string path = Path.Combine(TestPaths.NewTempDirectory(), "m.safetensors");
        ModelFile.Save(net, path);
        var e = Assert.Throws<DataFormatException>(() => ModelFile.Load(path));
        Assert.Contains($"tensor 'affine2.W' holds {word} at index 7", e.Message);
    }

    // ---- .npz / .npy ----

    private static string SampleWeight => Path.Combine(TestPaths.Reference, "sample_weight.npz");

    [Fact]
    public void One_flipped_byte_in_a_stored_npz_entry_is_refused_by_its_crc()
    {
        var bytes = File.ReadAllBytes(SampleWeight);
        // The first entry's data starts after its 30-byte local header, name and extra field.
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(26)), extraLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(28));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8))); // stored: the flip reaches the values as is
        bytes[30 + nameLength + extraLength + 200] ^= 0x01;
        var e = Assert.Throws<DataFormatException>(() => Npy.ReadNpz(bytes, "flipped.npz"));
        Assert.StartsWith("flipped.npz: entry", e.Message);
        Assert.Contains("CRC-32", e.Message);
        // Through the import path too, with the file's name.
        string path = Path.Combine(TestPaths.NewTempDirectory(), "flipped.npz");
        File.WriteAllBytes(path, bytes);
        Assert.Contains("CRC-32", Assert.Throws<DataFormatException>(() => BookWeights.LoadSampleWeightNetwork(path)).Message);
    }

    [Fact]
    public void One_flipped_byte_in_a_deflated_npz_entry_is_refused()
    {
        var bytes = Npz(CompressionLevel.Optimal, ("W1", NpyBytes([2, 3], [1, 2, 3, 4, 5, 6])));
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(26));
        var flipped = (byte[])bytes.Clone();
        flipped[30 + nameLength + 5] ^= 0x10;
        Assert.Throws<DataFormatException>(() => Npy.ReadNpz(flipped, "d.npz"));
        Assert.Equal([1.0, 2, 3, 4, 5, 6], Npy.ReadNpz(bytes, "d.npz")["W1"].Data);
    }

    [Fact]
    public void A_duplicate_npz_entry_is_refused_naming_it()
    {
        var bytes = Npz(CompressionLevel.NoCompression, ("W1", NpyBytes([1], [1])), ("W1", NpyBytes([1], [2])));
        Assert.Contains("entry W1.npy appears twice", Assert.Throws<DataFormatException>(() => Npy.ReadNpz(bytes, "dup.npz")).Message);
    }

    [Fact]
    public void An_npz_entry_longer_than_its_declared_size_is_refused()
    {
        var bytes = Npz(CompressionLevel.Optimal, ("W1", NpyBytes([64], new double[64])));
        // The central directory's uncompressed size (at +24 of its entry) made one byte smaller than the data.
        int central = LastIndexOf(bytes, [0x50, 0x4B, 0x01, 0x02]);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(central + 24));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(central + 24), size - 1);
        // The inflater stops at the declared size or reads on; either way the entry is refused, never cut silently.
        Assert.StartsWith("short.npz: entry W1.npy", Assert.Throws<DataFormatException>(() => Npy.ReadNpz(bytes, "short.npz")).Message);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+infinity")]
    [InlineData(1e300, "beyond float32's range")]
    public void Non_finite_imported_weights_are_refused_naming_the_array_and_index(double value, string expected)
    {
        var arrays = Npy.ReadNpz(File.ReadAllBytes(SampleWeight), "sample_weight.npz");
        var w2 = arrays["W2"].Data;
        w2[123] = value;
        var npz = Npz(CompressionLevel.NoCompression, [.. arrays.Select(a => (a.Key, NpyBytes(a.Value.Shape, a.Value.Data)))]);
        string path = Path.Combine(TestPaths.NewTempDirectory(), "bad.npz");
        File.WriteAllBytes(path, npz);
        var e = Assert.Throws<DataFormatException>(() => BookWeights.LoadSampleWeightNetwork(path));
        Assert.Contains("array 'W2' holds", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains("at index 123", e.Message);
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (RANK65), }", "at most 64")]
    [InlineData("{'descr': '|u1', 'fortran_order': False, 'shape': (65536, 65536), }", "more than the")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999,), }", "malformed shape")]
    public void Npy_shapes_are_bounded_before_allocation(string header, string expected)
    {
        var bytes = NpyHeader(header.Replace("RANK65", string.Join(",", Enumerable.Repeat(1, Npy.MaxRank + 1))));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains(expected, Assert.Throws<DataFormatException>(() => Npy.Read(bytes, "a.npy")).Message);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    // ---- helpers shared with the sweeps ----

    internal static byte[] NpyHeader(string header, int version = 1)
    {
        int prefix = version == 1 ? 10 : 12;
        int total = (prefix + header.Length + 1 + 63) / 64 * 64;
        var text = header.PadRight(total - prefix - 1) + "\n";
        var bytes = new byte[total];
        byte[] magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
        magic.CopyTo(bytes, 0);
        bytes[6] = (byte)version;
        if (version == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)text.Length);
        Encoding.ASCII.GetBytes(text).CopyTo(bytes, prefix);
        return bytes;
    }

    /// <summary>A float64 C-order .npy of these values.</summary>
    internal static byte[] NpyBytes(IReadOnlyList<int> shape, IReadOnlyList<double> values, int version = 1)
    {
        string dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var header = NpyHeader($"{{'descr': '<f8', 'fortran_order': False, 'shape': ({dims}), }}", version);
        var bytes = new byte[header.Length + values.Count * 8];
        header.CopyTo(bytes, 0);
        for (int i = 0; i < values.Count; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(header.Length + i * 8), values[i]);
        return bytes;
    }

    internal static byte[] Npz(CompressionLevel level, params (string Name, byte[] Npy)[] entries)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, npy) in entries)
            {
                using var s = zip.CreateEntry(name + ".npy", level).Open();
                s.Write(npy);
            }
        return stream.ToArray();
    }

    internal static int LastIndexOf(byte[] bytes, byte[] pattern) => bytes.AsSpan().LastIndexOf(pattern);
}
