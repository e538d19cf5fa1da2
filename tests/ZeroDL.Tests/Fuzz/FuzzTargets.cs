using ZeroDL.Data;
using ZeroDL.Imaging;
using ZeroDL.Serialization;

namespace ZeroDL.Fuzzing;

/// <summary>
/// The fuzz targets: each takes a file's bytes to one of ZeroDL's parsers, as the CLI or the web app would. A
/// <see cref="DataFormatException"/> is a clean refusal; any other exception, including a broken invariant of the
/// result (checked here), is a finding. The same code runs under afl-fuzz (fuzz/ZeroDL.Fuzz, which compiles this
/// file) and in the unit suite, which replays the seed corpus and every file the fuzzer found.
/// </summary>
/// <remarks>Only public API: the fuzz harness is another assembly, without ZeroDL's InternalsVisibleTo.</remarks>
public static class FuzzTargets
{
    /// <summary>The target names, as the fuzz/corpus/&lt;target&gt; and tests/ZeroDL.Tests/data/fuzz/&lt;target&gt; folders are named.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["safetensors", "model", "npy", "npz", "idx", "idx-gzip", "png", "pgm", "predict-png"];

    /// <summary>
    /// Runs target <paramref name="name"/> on <paramref name="bytes"/>. Parsers that only read files get them through
    /// a file in <paramref name="scratchDirectory"/> (one per target, overwritten each run). Returns normally for a
    /// valid result (true) or a <see cref="DataFormatException"/> (false); throws anything else.
    /// </summary>
    public static bool Run(string name, byte[] bytes, string scratchDirectory)
    {
        try { return Dispatch(name, bytes, scratchDirectory); }
        catch (DataFormatException) { return false; }
    }

    private static bool Dispatch(string name, byte[] bytes, string scratch)
    {
        switch (name)
        {
            case "safetensors":
                var (tensors, metadata) = SafeTensors.Parse(bytes, "fuzz.safetensors");
                foreach (var t in tensors.Values)
                    Check(t.Values.LongLength == t.Shape.Aggregate(1L, (a, d) => a * d), $"tensor {t.Name}: {t.Values.Length} values for its shape");
                Check(metadata is not null, "no metadata dictionary");
                break;
            case "model":
                var model = ModelFile.Load(Scratch(scratch, "fuzz.safetensors", bytes));
                var input = ModelInput.Of(model);
                Check(model.ClassNames.Count == model.Network.OutputSize, "class names do not match the outputs");
                Check(input.InputShape.SequenceEqual(model.Network.InputShape), "input shape differs from the network's");
                break;
            case "npy":
                CheckNpy(Npy.Read(bytes, "fuzz.npy"));
                break;
            case "npz":
                foreach (var array in Npy.ReadNpz(Scratch(scratch, "fuzz.npz", bytes)).Values) CheckNpy(array);
                break;
            case "idx":
                // Raw IDX, both ways the library reads it: from bytes, and streamed from a file.
                bool parsed = false;
                foreach (int rank in (int[])[1, 3])
                {
                    try { CheckIdx(Idx.Parse(bytes, "fuzz.idx", rank)); parsed = true; } catch (DataFormatException) { }
                    try { CheckIdx(Idx.Read(Scratch(scratch, "fuzz.idx", bytes), rank)); parsed = true; } catch (DataFormatException) { }
                }
                return parsed;
            case "idx-gzip":
                // Gzip IDX (how MNIST ships): only the file reader inflates.
                bool inflated = false;
                foreach (int rank in (int[])[1, 3])
                {
                    try { CheckIdx(Idx.Read(Scratch(scratch, "fuzz.idx.gz", bytes), rank)); inflated = true; } catch (DataFormatException) { }
                }
                return inflated;
            case "png" or "predict-png":
                // A mutation almost always breaks a chunk's CRC, and the decoder stops there: a copy with correct CRCs
                // is what reaches the decoding itself (libpng's fuzzers skip the check the same way).
                var fixedCrcs = WithChunkCrcsFixed(bytes);
                if (fixedCrcs is null) return DecodePng(name, bytes);
                bool raw;
                try { raw = DecodePng(name, bytes); } catch (DataFormatException) { raw = false; }
                try { return DecodePng(name, fixedCrcs) || raw; } catch (DataFormatException) { return raw; }
            case "pgm":
                CheckGray(Pgm.Decode(bytes, "fuzz.pgm"));
                break;
            default:
                throw new ArgumentException($"unknown fuzz target '{name}'; targets: {string.Join(", ", Names)}", nameof(name));
        }
        return true;
    }

    private static bool DecodePng(string name, byte[] bytes)
    {
        switch (name)
        {
            case "png":
                CheckGray(Png.Decode(bytes, "fuzz.png"));
                var pixels = Png.DecodePixels(bytes, "fuzz.png");
                Check(pixels.Pixels.LongLength == (long)pixels.Width * pixels.Height * pixels.Channels, "pixel count");
                Png.ReadInfo(bytes, "fuzz.png");
                return true;
            case "predict-png":
                // What /api/predict and `zerodl predict --image` do with a PNG: the MNIST digit preparation, and the
                // resize + normalization of a model of other images.
                var digit = MnistPreprocessing.Prepare(Png.Decode(bytes, "upload"));
                Check(digit.Pixels.Length == 28 * 28 && digit.Pixels.All(float.IsFinite), "prepared digit is not 784 finite values");
                var image = Png.DecodePixels(bytes, "upload");
                var values = ImageInput.ToInput(image, image.Channels, 32, 32, InputNormalization.Identity(image.Channels), "upload");
                Check(values.Length == image.Channels * 32 * 32 && values.All(float.IsFinite), "model input is not C·32·32 finite values");
                return true;
            default:
                throw new ArgumentException($"not a PNG target: {name}", nameof(name));
        }
    }

    /// <summary>
    /// A copy of a PNG's bytes with each chunk's CRC recomputed, as far as the chunk lengths lead; null when every CRC
    /// was already right (or there is no chunk to walk).
    /// </summary>
    private static byte[]? WithChunkCrcsFixed(byte[] bytes)
    {
        if (!Png.IsPng(bytes)) return null;
        byte[]? copy = null;
        for (long pos = 8; pos + 12 <= bytes.Length;)
        {
            long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan((int)pos));
            if (pos + 12 + length > bytes.Length) break;
            uint crc = Crc32.Compute(bytes.AsSpan((int)pos + 4, 4 + (int)length));
            int at = (int)(pos + 8 + length);
            if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at)) != crc)
            {
                copy ??= (byte[])bytes.Clone();
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(at), crc);
            }
            pos += 12 + length;
        }
        return copy;
    }

    private static string Scratch(string directory, string fileName, byte[] bytes)
    {
        string path = Path.Combine(directory, fileName);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void CheckNpy(NpyArray array) =>
        Check(array.Data.LongLength == array.Shape.Aggregate(1L, (a, d) => a * d), $"npy: {array.Data.Length} values for shape ({string.Join(",", array.Shape)})");

    private static void CheckIdx(IdxArray array) =>
        Check(array.Data.LongLength == array.Dimensions.Aggregate(1L, (a, d) => a * d), $"idx: {array.Data.Length} bytes for dimensions {string.Join("×", array.Dimensions)}");

    private static void CheckGray(GrayImage image)
    {
        Check(image.Width > 0 && image.Height > 0 && image.Pixels.LongLength == (long)image.Width * image.Height, "gray image size");
        foreach (float p in image.Pixels) Check(p >= 0 && p <= 1, "gray pixel outside [0, 1]");
    }

    private static void Check(bool condition, string what)
    {
        if (!condition) throw new FuzzInvariantException(what);
    }
}
