using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Tests;

public class SerializationTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    private static Sequential<float> SmallNet(int seed = 1) => Networks.MultiLayerNetExtend<float>([32, 16], seed, dropout: 0.1);

    [Fact]
    public void Sample_weight_gives_exactly_9352_of_10000()
    {
        var net = BookWeights.LoadSampleWeightNetwork(Path.Combine(TestPaths.Reference, "sample_weight.npz"));
        var test = mnist.Data.Test;
        var predicted = net.PredictLabels(test.Images, batchSize: 100);
        Assert.Equal(9352, predicted.Where((p, i) => p == test.Labels[i]).Count());
        // One image at a time gives the same count (book ch. 3.6.2 then 3.6.3).
        var one = new NDArray<float>(1, 784);
        int correct = 0;
        for (int i = 0; i < test.Count; i++)
        {
            test.Images.ReadOnlySpan.Slice(i * 784, 784).CopyTo(one.Span);
            if (net.Predict(one).ArgMaxRows()[0] == test.Labels[i]) correct++;
        }
        Assert.Equal(9352, correct);
    }

    [Fact]
    public void Save_then_load_gives_bit_identical_predictions_and_stable_names()
    {
        var net = SmallNet();
        var x = NDArrayRows.Slice(mnist.Data.Test.Images, 0, 200, null);
        // Run a training-mode pass so that BatchNorm running statistics are not trivial.
        net.Gradient(x, mnist.Data.Test.Labels[..200]);
        var before = net.Predict(x).Clone();
        string path = Path.Combine(TestPaths.NewTempDirectory(), "m.safetensors");
        ModelFile.Save(net, path, new Dictionary<string, string> { ["optimizer"] = "adam" });
        var loaded = ModelFile.Load(path);
        Assert.Equal(before.ToDoubleArray(), loaded.Network.Predict(x).ToDoubleArray());
        Assert.Equal(["affine1.W", "affine1.b", "batchnorm1.gamma", "batchnorm1.beta", "batchnorm1.running_mean", "batchnorm1.running_var",
                      "affine2.W", "affine2.b", "batchnorm2.gamma", "batchnorm2.beta", "batchnorm2.running_mean", "batchnorm2.running_var",
                      "affine3.W", "affine3.b"], loaded.Network.NamedTensors().Select(t => t.Name));
        Assert.Equal(net.Architecture, loaded.Network.Architecture);
        Assert.Contains("adam", loaded.Metadata["training"]);
        // The header is standard safetensors: u64 length, then JSON starting with '{'.
        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal((byte)'{', bytes[8]);
        Assert.Equal(0UL, n % 8);
    }

    [Fact]
    public void Half_precision_file_is_half_the_size_and_close()
    {
        var net = SmallNet();
        string dir = TestPaths.NewTempDirectory();
        string f32 = Path.Combine(dir, "a.safetensors"), f16 = Path.Combine(dir, "b.safetensors");
        ModelFile.Save(net, f32);
        ModelFile.Save(net, f16, type: StoredType.F16);
        double ratio = (double)new FileInfo(f16).Length / new FileInfo(f32).Length;
        Assert.InRange(ratio, 0.45, 0.55);
        var loaded = ModelFile.Load(f16);
        Assert.Equal(StoredType.F16, loaded.StoredType);
        var w = net.NamedTensors().First().Value; var w16 = loaded.Network.NamedTensors().First().Value;
        for (int i = 0; i < w.Size; i++) Assert.Equal((float)(Half)w.Data[i], w16.Data[i]);
    }

    private static string SavedModel(out byte[] bytes)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "m.safetensors");
        ModelFile.Save(SmallNet(), path);
        bytes = File.ReadAllBytes(path);
        return path;
    }

    private static DataFormatException LoadFails(string path, byte[] bytes)
    {
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => ModelFile.Load(path));
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void Truncated_file_is_refused()
    {
        string path = SavedModel(out var bytes);
        Assert.Contains("truncated", LoadFails(path, bytes[..4]).Message);
        Assert.Contains("offsets", LoadFails(path, bytes[..^10]).Message);
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Contains("exceeds the file", LoadFails(path, bytes[..(headerEnd - 5)]).Message);
    }

    [Fact]
    public void Malformed_header_is_refused()
    {
        string path = SavedModel(out var bytes);
        var broken = (byte[])bytes.Clone();
        broken[8] = (byte)'[';
        Assert.Contains("malformed header", LoadFails(path, broken).Message);
        var huge = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        Assert.Contains("header length", LoadFails(path, huge).Message);
    }

    [Fact]
    public void Offsets_out_of_range_and_shape_mismatches_are_refused()
    {
        string path = SavedModel(out var bytes);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        byte[] WithHeader(string h)
        {
            var hb = Encoding.UTF8.GetBytes(h);
            var copy = new byte[8 + hb.Length + bytes.Length - 8 - headerLength];
            BinaryPrimitives.WriteUInt64LittleEndian(copy, (ulong)hb.Length);
            hb.CopyTo(copy, 8);
            bytes.AsSpan(8 + headerLength).CopyTo(copy.AsSpan(8 + hb.Length));
            return copy;
        }
        // The first tensor's range pushed past the end of the data.
        string shifted = header.Replace("\"data_offsets\":[0,", "\"data_offsets\":[9999999,");
        Assert.Contains("out of range", LoadFails(path, WithHeader(shifted)).Message);
        // A shape that does not match its byte range.
        string badShape = header.Replace("\"shape\":[784,32]", "\"shape\":[784,31]");
        Assert.Contains("needs", LoadFails(path, WithHeader(badShape)).Message);
        // A consistent file whose shapes do not fit the architecture it declares.
        string otherArch = header.Replace("\\u0022units\\u0022:16", "\\u0022units\\u0022:17");
        Assert.NotEqual(header, otherArch);
        Assert.Contains("architecture needs", LoadFails(path, WithHeader(otherArch)).Message);
    }

    [Fact]
    public void Non_zerodl_safetensors_is_refused_by_name()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "plain.safetensors");
        using (var f = File.Create(path))
            SafeTensors.Write(f, [("x", new NDArray<float>(2))], new Dictionary<string, string>());
        Assert.Contains("not a ZeroDL model", Assert.Throws<DataFormatException>(() => ModelFile.Load(path)).Message);
        Assert.Equal(2, SafeTensors.Read(path).Tensors["x"].Values.Length);
    }

    [Fact]
    public void A_directory_or_missing_path_is_refused_by_name()
    {
        string dir = TestPaths.NewTempDirectory();
        Assert.Contains("is a directory", Assert.Throws<DataFormatException>(() => ModelFile.Load(dir)).Message);
        Assert.Contains("no such directory", Assert.Throws<DataFormatException>(() => ModelFile.Load(Path.Combine(dir, "a", "b.safetensors"))).Message);
    }

    [Fact]
    public void Atomic_write_leaves_the_old_file_when_writing_fails()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "keep.txt");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new InvalidOperationException("boom"); }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    // NumPy .npy / .npz

    private static byte[] Npy(string descr, string shape, byte[] data, bool fortran = false, int version = 1)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";
        int pre = version == 1 ? 10 : 12;
        int total = (pre + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(total - pre - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0 };
        if (version == 1) bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        else bytes.AddRange(BitConverter.GetBytes((uint)header.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(data);
        return [.. bytes];
    }

    [Fact]
    public void Npy_reads_float32_float64_and_int64_in_versions_1_and_2()
    {
        var f32 = Serialization.Npy.Read(Npy("<f4", "(2, 2)", [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f), .. BitConverter.GetBytes(0f), .. BitConverter.GetBytes(3f)]), "a");
        Assert.Equal(new[] { 2, 2 }, f32.Shape);
        Assert.Equal(new[] { 1.5, -2, 0, 3 }, f32.Data);
        var f64 = Serialization.Npy.Read(Npy("<f8", "(1,)", BitConverter.GetBytes(0.1), version: 2), "b");
        Assert.Equal(0.1, f64.Data[0]);
        var i64 = Serialization.Npy.Read(Npy("<i8", "()", BitConverter.GetBytes(7L)), "c");
        Assert.Empty(i64.Shape);
        Assert.Equal(7, i64.Data[0]);
    }

    [Fact]
    public void Npy_reorders_fortran_order_to_c_order()
    {
        // Column-major [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
        var data = new[] { 1.0, 4, 2, 5, 3, 6 }.SelectMany(BitConverter.GetBytes).ToArray();
        var a = Serialization.Npy.Read(Npy("<f8", "(2, 3)", data, fortran: true), "f");
        Assert.Equal(new[] { 1.0, 2, 3, 4, 5, 6 }, a.Data);
    }

    [Fact]
    public void Npy_refuses_big_endian_truncation_and_junk()
    {
        Assert.Contains("'>f4'", Assert.Throws<DataFormatException>(() => Serialization.Npy.Read(Npy(">f4", "(1,)", new byte[4]), "x")).Message);
        Assert.Contains("needs 8", Assert.Throws<DataFormatException>(() => Serialization.Npy.Read(Npy("<f4", "(2,)", new byte[4]), "x")).Message);
        Assert.Contains("magic", Assert.Throws<DataFormatException>(() => Serialization.Npy.Read(Encoding.ASCII.GetBytes("PK not npy"), "x")).Message);
        Assert.Contains("shape", Assert.Throws<DataFormatException>(() => Serialization.Npy.Read(Npy("<f4", "(a, b)", new byte[4]), "x")).Message);
    }

    [Fact]
    public void Npz_reads_stored_and_deflated_entries_and_refuses_non_zip()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "w.npz");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, level) in new[] { ("stored", CompressionLevel.NoCompression), ("deflated", CompressionLevel.Optimal) })
            {
                var entry = zip.CreateEntry(name + ".npy", level);
                using var s = entry.Open();
                s.Write(Npy("<f4", "(3,)", [.. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(2f), .. BitConverter.GetBytes(3f)]));
            }
        }
        var arrays = Serialization.Npy.ReadNpz(path);
        Assert.Equal(new[] { 1.0, 2, 3 }, arrays["stored"].Data);
        Assert.Equal(new[] { 1.0, 2, 3 }, arrays["deflated"].Data);
        string junk = Path.Combine(dir, "junk.npz");
        File.WriteAllText(junk, "definitely not a zip");
        Assert.Contains("junk.npz", Assert.Throws<DataFormatException>(() => Serialization.Npy.ReadNpz(junk)).Message);
        Assert.Contains("not found", Assert.Throws<DataFormatException>(() => Serialization.Npy.ReadNpz(Path.Combine(dir, "none.npz"))).Message);
    }

    [Theory]
    [InlineData("mlp-bn-v1.safetensors", 5828, "784 → affine 16 → batchnorm (per-activation) → relu → dropout 0.1 (inverted) → affine 10")]
    [InlineData("deepconv-bn-v1.safetensors", 2575, "1×28×28 → conv 16 3×3 pad 1 → batchnorm (per-channel) relu → conv 16")]
    public void Files_of_format_version_1_load_and_predict_as_the_code_that_wrote_them(string file, int correct, string layers)
    {
        // Written by ZeroDL at 091aeae; the counts are what its `zerodl evaluate` printed (tests/ZeroDL.Tests/data/v1/README.md).
        var loaded = ModelFile.Load(Path.Combine(TestPaths.RepoRoot, "tests", "ZeroDL.Tests", "data", "v1", file));
        Assert.Equal("1", loaded.Metadata["format_version"]);
        Assert.StartsWith(layers, loaded.Description);
        Assert.Equal(ModelFile.DefaultClassNames(10), loaded.ClassNames);
        Assert.True(loaded.Normalization.IsIdentity);
        var test = mnist.Data.Test;
        var predicted = loaded.Network.PredictLabels(test);
        Assert.Equal(correct, predicted.Where((p, i) => p == test.Labels[i]).Count());
        // Saved again, it is a version 2 file of the same network.
        string path = Path.Combine(TestPaths.NewTempDirectory(), "v2.safetensors");
        ModelFile.Save(loaded.Network, path, type: loaded.StoredType);
        var again = ModelFile.Load(path);
        Assert.Equal("2", again.Metadata["format_version"]);
        Assert.Equal(predicted, again.Network.PredictLabels(test));
    }

    [Fact]
    public void Book_weights_with_wrong_shapes_are_refused()
    {
        var arrays = Serialization.Npy.ReadNpz(Path.Combine(TestPaths.Reference, "sample_weight.npz"));
        var net = Networks.MultiLayerNet<float>([50, 99], 0, Layers.Activation.Sigmoid);
        var e = Assert.Throws<DataFormatException>(() => BookWeights.CopyDense(net, arrays, "sample_weight.npz"));
        Assert.Contains("W2", e.Message);
    }
}
