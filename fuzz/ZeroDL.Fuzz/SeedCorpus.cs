using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ZeroDL.Data;
using ZeroDL.Imaging;
using ZeroDL.Models;
using ZeroDL.Serialization;

namespace ZeroDL.Fuzzing;

/// <summary>
/// Writes the seed corpus: small valid files of every format (a few KB at most, since afl-fuzz mutates them byte by
/// byte), made by ZeroDL's own writers where it has one (models, PNG) and by the formats' specifications otherwise.
/// The PNG fixtures of the test suite (every color type, bit depth and interlace) are copied in by fuzz/run.sh.
/// </summary>
internal static class SeedCorpus
{
    public static void Write(string root)
    {
        // Two models: dense, and conv + batchnorm + pooling + dropout with class names and a normalization; in f32 and f16.
        var dense = Architecture.FromJson("""
            {"input_shape": [4], "layers": [{"type": "affine", "units": 3, "init": "he"}, {"type": "relu"},
             {"type": "affine", "units": 2, "init": "xavier"}], "weight_decay": 0}
            """).Build<float>(seed: 1);
        var conv = Architecture.FromJson("""
            {"input_shape": [1, 6, 6], "layers": [{"type": "conv", "filters": 2, "kernel": [3, 3], "pad": 1, "init": "he", "activation": "relu"},
             {"type": "batchnorm"}, {"type": "max_pool", "size": [2, 2], "stride": 2}, {"type": "tanh"},
             {"type": "dropout", "ratio": 0.5, "mode": "classic"}, {"type": "affine", "units": 3, "init": "he"}], "weight_decay": 0}
            """).Build<float>(seed: 1);
        var training = new Dictionary<string, string> { ["model"] = "seed", ["epochs_completed"] = "1", ["image_shape"] = "1x2x2" };
        foreach (string target in (string[])["model", "safetensors"])
        {
            string dir = Folder(root, target);
            ModelFile.Save(dense, Path.Combine(dir, "dense.safetensors"), training);
            ModelFile.Save(dense, Path.Combine(dir, "dense-f16.safetensors"), type: StoredType.F16);
            ModelFile.Save(conv, Path.Combine(dir, "conv.safetensors"), classNames: ["cat", "dog", "fox"],
                normalization: InputNormalization.FromJson("""{"pixel_scale": 255, "mean": [0.5], "std": [0.25]}"""));
        }

        string npy = Folder(root, "npy");
        File.WriteAllBytes(Path.Combine(npy, "f4-2x3.npy"), NpyFile("<f4", "(2, 3)", 6, 4));
        File.WriteAllBytes(Path.Combine(npy, "f8-3.npy"), NpyFile("<f8", "(3,)", 3, 8));
        File.WriteAllBytes(Path.Combine(npy, "u1-2x2.npy"), NpyFile("|u1", "(2, 2)", 4, 1));
        File.WriteAllBytes(Path.Combine(npy, "i8-scalar.npy"), NpyFile("<i8", "()", 1, 8));
        string npz = Folder(root, "npz");
        File.WriteAllBytes(Path.Combine(npz, "stored.npz"), Zip(CompressionLevel.NoCompression));
        File.WriteAllBytes(Path.Combine(npz, "deflated.npz"), Zip(CompressionLevel.Optimal));

        byte[] images = IdxFile([2, 3, 3]), labels = IdxFile([4]);
        string idx = Folder(root, "idx"), gz = Folder(root, "idx-gzip");
        File.WriteAllBytes(Path.Combine(idx, "images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(idx, "labels-idx1-ubyte"), labels);
        File.WriteAllBytes(Path.Combine(gz, "images-idx3-ubyte.gz"), Gzip(images));
        File.WriteAllBytes(Path.Combine(gz, "labels-idx1-ubyte.gz"), Gzip(labels));

        string pgm = Folder(root, "pgm");
        File.WriteAllBytes(Path.Combine(pgm, "p5-4x3.pgm"), [.. "P5\n# seed\n4 3\n255\n"u8, .. Ramp(12)]);
        File.WriteAllBytes(Path.Combine(pgm, "p5-16bit-2x2.pgm"), [.. "P5 2 2 65535\n"u8, 0, 0, 1, 0, 128, 0, 255, 255]);
        File.WriteAllText(Path.Combine(pgm, "p2-3x2.pgm"), "P2\n3 2\n15\n0 5 10\n15 7 3\n");

        // A digit-like 28×28 gray image and a small colour one, as uploads to predict are.
        var digit = new byte[28 * 28];
        for (int y = 6; y < 22; y++) digit[y * 28 + 13] = digit[y * 28 + 14] = 255;
        foreach (string target in (string[])["png", "predict-png"])
        {
            string dir = Folder(root, target);
            File.WriteAllBytes(Path.Combine(dir, "digit-28x28.png"), PngEncoder.Encode(28, 28, 1, digit));
            File.WriteAllBytes(Path.Combine(dir, "rgb-5x4.png"), PngEncoder.Encode(5, 4, 3, Ramp(60)));
        }
    }

    private static string Folder(string root, string target)
    {
        string dir = Path.Combine(root, target);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static byte[] Ramp(int count) => [.. Enumerable.Range(0, count).Select(i => (byte)(i * 37))];

    /// <summary>An .npy version 1.0 file: magic, header length, a dict header padded to 64 bytes, then the data.</summary>
    private static byte[] NpyFile(string dtype, string shape, int count, int itemSize)
    {
        string dict = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}";
        int unpadded = 10 + dict.Length + 1;
        string header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        var bytes = new byte[10 + header.Length + count * itemSize];
        bytes[0] = 0x93; // the magic: 0x93 then NUMPY, then version 1.0
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1; bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        var data = bytes.AsSpan(10 + header.Length);
        for (int i = 0; i < count; i++)
            switch (dtype)
            {
                case "<f4": BinaryPrimitives.WriteSingleLittleEndian(data[(4 * i)..], i * 0.5f - 1); break;
                case "<f8": BinaryPrimitives.WriteDoubleLittleEndian(data[(8 * i)..], i * 0.25 - 0.5); break;
                case "<i8": BinaryPrimitives.WriteInt64LittleEndian(data[(8 * i)..], i - 3); break;
                default: data[i] = (byte)(i * 60); break;
            }
        return bytes;
    }

    private static byte[] Zip(CompressionLevel level)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create))
        {
            foreach (var (name, content) in new[] { ("W1.npy", NpyFile("<f4", "(2, 3)", 6, 4)), ("b1.npy", NpyFile("<f8", "(3,)", 3, 8)) })
            {
                using var s = zip.CreateEntry(name, level).Open();
                s.Write(content);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>An unsigned-byte IDX file: 0, 0, 0x08, the rank, big-endian dimensions, then the bytes.</summary>
    private static byte[] IdxFile(int[] dims)
    {
        int count = dims.Aggregate(1, (a, d) => a * d);
        var bytes = new byte[4 + 4 * dims.Length + count];
        bytes[2] = 0x08; bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        Ramp(count).CopyTo(bytes, 4 + 4 * dims.Length);
        if (dims.Length == 1) for (int i = 0; i < count; i++) bytes[4 + 4 + i] = (byte)(i % 10); // labels 0..9
        return bytes;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Optimal)) gz.Write(data);
        return buffer.ToArray();
    }
}
