namespace ZeroDL.Data;

/// <summary>
/// Finds the data a <c>--data</c> argument names: nothing (the bundled MNIST), <c>fashion-mnist</c> (Debian's
/// dataset-fashion-mnist package), a folder of IDX files laid out as MNIST's, or an <see cref="ImageFolder"/> tree.
/// </summary>
public static class ImageDatasets
{
    /// <summary>The name that selects Fashion-MNIST.</summary>
    public const string FashionMnistName = "fashion-mnist";

    /// <summary>Where Debian's dataset-fashion-mnist package puts its four IDX files.</summary>
    public const string FashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Fashion-MNIST's ten classes, label 0 first (Xiao, Rasul and Vollgraf, 2017).</summary>
    public static IReadOnlyList<string> FashionMnistClasses { get; } =
        Array.AsReadOnly(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);

    /// <summary>
    /// The training and test splits <paramref name="data"/> names. null or "mnist": <see cref="Mnist.Load"/> of the
    /// bundled files. "fashion-mnist": the package's IDX files, with their class names. A folder with
    /// train-images-idx3-ubyte[.gz] (and the other three MNIST file names): an IDX dataset whose class count is its
    /// largest label + 1. Any other folder: an <see cref="ImageFolder"/> tree read with <paramref name="options"/>.
    /// IDX data is N×(rows·cols) bytes / 255, flat as <see cref="Mnist.Load"/> gives it, with no normalization (the
    /// book's input); <paramref name="options"/>' resize and split apply to ImageFolder trees only.
    /// </summary>
    /// <exception cref="DataFormatException">The data is missing or malformed; the message names the path.</exception>
    /// <exception cref="ArgumentException">An option does not fit the data (e.g. a test split for IDX files).</exception>
    public static (Dataset Train, Dataset Test) Load(string? data, ImageFolderOptions? options = null)
    {
        options ??= new ImageFolderOptions();
        bool imageOptions = options.Resize is not null || options.TestSplit is not null;
        if (data is null || data == "mnist")
        {
            if (imageOptions) throw new ArgumentException("--resize and --test-split apply to ImageFolder data, not to MNIST");
            return Mnist.Load();
        }
        if (data == FashionMnistName)
        {
            if (imageOptions) throw new ArgumentException("--resize and --test-split apply to ImageFolder data, not to Fashion-MNIST");
            if (!File.Exists(Dataset.Find(FashionMnistDirectory, "train-images-idx3-ubyte")))
                throw new DataFormatException($"Fashion-MNIST not found in {FashionMnistDirectory}: install it with: sudo apt-get install dataset-fashion-mnist");
            var (train, test) = LoadIdx(FashionMnistDirectory);
            return (train.WithClassNames(FashionMnistClasses), test.WithClassNames(FashionMnistClasses));
        }
        if (!Directory.Exists(data))
            throw DataFormatException.For(data, File.Exists(data) ? "is a file: --data takes a folder (IDX files or an ImageFolder tree), mnist or fashion-mnist" : "data folder not found");
        if (IsIdxFolder(data))
        {
            if (imageOptions) throw new ArgumentException($"--resize and --test-split apply to ImageFolder data, not to the IDX files in {data}");
            // The bundled MNIST folder (with its checksums) keeps its checks: the published files, 60,000 + 10,000.
            return File.Exists(Path.Combine(data, "SHA256SUMS")) && File.Exists(Path.Combine(data, Mnist.TrainImages)) ? Mnist.Load(directory: data) : LoadIdx(data);
        }
        return ImageFolder.Load(data, options);
    }

    /// <summary>
    /// Writes into a model file's training <paramref name="settings"/> where its data came from, so that evaluate,
    /// predict and the web app find the same images again (<see cref="FromRecord"/>): <c>data</c> (mnist, fashion-mnist
    /// or a full path), <c>resize</c> (HxW), <c>test_split</c> and <c>split_seed</c>, and <c>image_shape</c> (CxHxW).
    /// </summary>
    public static void Record(string data, ImageFolderOptions options, Dataset train, IDictionary<string, string> settings)
    {
        settings["data"] = data is "mnist" or FashionMnistName ? data : Path.GetFullPath(data);
        if (options.Resize is var (h, w)) settings["resize"] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{h}x{w}");
        if (options.TestSplit is double f)
        {
            settings["test_split"] = f.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            settings["split_seed"] = options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (train.ImageShape is { } image)
            settings["image_shape"] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{image.Channels}x{image.Height}x{image.Width}");
    }

    /// <summary>
    /// The data a model file's training settings record (<see cref="Record"/>), or null when they record none. An entry
    /// that does not parse is left out (the data is then read without it, and says what does not fit).
    /// </summary>
    public static (string Data, ImageFolderOptions Options)? FromRecord(IReadOnlyDictionary<string, string> settings)
    {
        if (!settings.TryGetValue("data", out var data)) return null;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var options = new ImageFolderOptions();
        if (settings.TryGetValue("resize", out var r) && r.Split('x') is [var rh, var rw] && int.TryParse(rh, inv, out int h) && int.TryParse(rw, inv, out int w))
            options = options with { Resize = (h, w) };
        // test_split since issue 19; model files written before it call the same split val_split.
        if ((settings.TryGetValue("test_split", out var f) || settings.TryGetValue("val_split", out f)) && double.TryParse(f, inv, out double fraction))
            options = options with { TestSplit = fraction };
        if (settings.TryGetValue("split_seed", out var s) && int.TryParse(s, inv, out int seed)) options = options with { Seed = seed };
        return (data, options);
    }

    /// <summary>Whether <paramref name="directory"/> holds MNIST-style IDX files (train-images-idx3-ubyte, gzipped or not).</summary>
    public static bool IsIdxFolder(string directory) => File.Exists(Dataset.Find(directory, "train-images-idx3-ubyte"));

    /// <summary>An IDX folder's two splits; the class count is the largest label of either + 1 (labels are bytes).</summary>
    private static (Dataset Train, Dataset Test) LoadIdx(string directory)
    {
        (IdxArray Images, IdxArray Labels) Read(string prefix) =>
            Idx.ReadPair(Dataset.Find(directory, $"{prefix}-images-idx3-ubyte"), Dataset.Find(directory, $"{prefix}-labels-idx1-ubyte"), classes: 256);
        var readTrain = Task.Run(() => Read("train"));
        var test = Read("t10k");
        var train = readTrain.GetAwaiter().GetResult();
        if (train.Images.Dimensions[0] == 0) throw DataFormatException.For(Dataset.Find(directory, "train-images-idx3-ubyte"), "holds no images");
        if (test.Images.Dimensions[0] == 0) throw DataFormatException.For(Dataset.Find(directory, "t10k-images-idx3-ubyte"), "holds no images");
        if (train.Images.Dimensions[1] != test.Images.Dimensions[1] || train.Images.Dimensions[2] != test.Images.Dimensions[2])
            throw DataFormatException.For(Dataset.Find(directory, "t10k-images-idx3-ubyte"),
                $"test images are {test.Images.Dimensions[1]}×{test.Images.Dimensions[2]}, training images {train.Images.Dimensions[1]}×{train.Images.Dimensions[2]}");
        int classes = Math.Max(train.Labels.Data.DefaultIfEmpty().Max(), test.Labels.Data.DefaultIfEmpty().Max()) + 1;
        if (classes < 2) throw DataFormatException.For(Dataset.Find(directory, "train-labels-idx1-ubyte"), "every label is 0: a classifier needs at least two classes");
        return (Dataset.FromIdx(train.Images, train.Labels, normalize: true, flatten: true, classes),
                Dataset.FromIdx(test.Images, test.Labels, normalize: true, flatten: true, classes));
    }
}
