using System.Security.Cryptography;

namespace ZeroDL.Data;

/// <summary>
/// MNIST with the book's <c>load_mnist</c> semantics. The four published files are bundled under
/// <c>data/mnist/</c> with a SHA256SUMS file; every file listed there is verified before it is parsed.
/// </summary>
public static class Mnist
{
    public const string TrainImages = "train-images-idx3-ubyte.gz";
    public const string TrainLabels = "train-labels-idx1-ubyte.gz";
    public const string TestImages = "t10k-images-idx3-ubyte.gz";
    public const string TestLabels = "t10k-labels-idx1-ubyte.gz";
    private const string ChecksumFile = "SHA256SUMS";

    /// <summary>
    /// Loads MNIST. <paramref name="normalize"/>: pixels/255 as float32 (else 0…255); <paramref name="flatten"/>:
    /// N×784 (else N×1×28×28); <see cref="Dataset.Labels"/> are integers, and with <paramref name="oneHot"/>
    /// <see cref="Dataset.OneHotLabels"/> holds them as one-hot rows too.
    /// </summary>
    public static (Dataset Train, Dataset Test) Load(bool normalize = true, bool flatten = true, bool oneHot = false, string? directory = null)
    {
        directory ??= DefaultDirectory();
        var sums = ReadChecksums(directory);
        Dataset Load(string images, string labels)
        {
            string imagesPath = Path.Combine(directory, images), labelsPath = Path.Combine(directory, labels);
            Verify(imagesPath, sums);
            Verify(labelsPath, sums);
            var (img, lab) = Idx.ReadPair(imagesPath, labelsPath);
            if (img.Dimensions[1] != 28 || img.Dimensions[2] != 28)
                throw DataFormatException.For(imagesPath, $"MNIST images are 28×28, this file has {img.Dimensions[1]}×{img.Dimensions[2]}");
            return Dataset.FromIdx(img, lab, normalize, flatten);
        }
        // The two splits are independent files: read, verify and decode them at the same time.
        var trainTask = Task.Run(() => Load(TrainImages, TrainLabels));
        var test = Load(TestImages, TestLabels);
        var train = trainTask.GetAwaiter().GetResult();
        if (oneHot) { train.WithOneHotLabels(); test.WithOneHotLabels(); }
        if (train.Count != 60000) throw DataFormatException.For(Path.Combine(directory, TrainImages), $"wrong count: MNIST has 60000 training images, this file has {train.Count}");
        if (test.Count != 10000) throw DataFormatException.For(Path.Combine(directory, TestImages), $"wrong count: MNIST has 10000 test images, this file has {test.Count}");
        return (train, test);
    }

    /// <summary>
    /// The bundled <c>data/mnist</c>: $ZERODL_MNIST if set, else the first <c>data/mnist</c> found walking up
    /// from the working directory and then from the program's directory.
    /// </summary>
    public static string DefaultDirectory()
    {
        string? env = Environment.GetEnvironmentVariable("ZERODL_MNIST");
        if (!string.IsNullOrEmpty(env)) return env;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "data", "mnist");
                if (File.Exists(Path.Combine(candidate, ChecksumFile))) return candidate;
            }
        }
        throw new DataFormatException("MNIST not found: no data/mnist/SHA256SUMS in this directory or any parent (set ZERODL_MNIST to the folder holding the four files)");
    }

    /// <summary>Reads SHA256SUMS ("hex  name" lines); a directory without one is not verified.</summary>
    public static Dictionary<string, string> ReadChecksums(string directory)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        string path = Path.Combine(directory, ChecksumFile);
        if (!File.Exists(path)) return result;
        foreach (var raw in DataFile.Read(path, ReadLines))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split((char[])[' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[0].Length != 64)
                throw DataFormatException.For(path, $"malformed checksum line '{line}'");
            result[parts[1].TrimStart('*').Trim()] = parts[0].ToLowerInvariant();
        }
        return result;
    }

    private static List<string> ReadLines(Stream file)
    {
        var lines = new List<string>();
        using var reader = new StreamReader(file);
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines;
    }

    private static void Verify(string path, Dictionary<string, string> sums)
    {
        if (!File.Exists(path)) throw DataFormatException.For(path, "file not found");
        if (!sums.TryGetValue(Path.GetFileName(path), out var expected)) return;
        string actual = Convert.ToHexStringLower(DataFile.Read(path, SHA256.HashData));
        if (actual != expected)
            throw DataFormatException.For(path, $"checksum mismatch: SHA-256 is {actual}, SHA256SUMS says {expected} (the file is damaged or not the published one)");
    }
}
