using ZeroDL.Imaging;

namespace ZeroDL.Data;

/// <summary>How <see cref="ImageFolder.Load"/> reads a tree.</summary>
public sealed record ImageFolderOptions
{
    /// <summary>Resize every image to this height × width (<see cref="ImageResize"/>); null: all images must already share one size.</summary>
    public (int Height, int Width)? Resize { get; init; }

    /// <summary>
    /// For a tree without a test/ folder: the fraction of each class's images held out as the test split (stratified),
    /// chosen at random with <see cref="Seed"/>. Must be null when the tree has a test/ folder.
    /// </summary>
    /// <remarks>Called ValidationSplit (and the CLI's --val-split) before issue 19; model files record it as <c>test_split</c>, older ones as <c>val_split</c>.</remarks>
    public double? TestSplit { get; init; }

    /// <summary>Seed of the test split's draw.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Largest image accepted (pixels), so that one hostile file cannot exhaust memory: 1 to the decoder's own limit
    /// <see cref="GrayImage.MaxPixels"/>.
    /// </summary>
    public long MaxPixels { get; init; } = GrayImage.MaxPixels;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public ImageFolderOptions Validated()
    {
        if (Resize is var (h, w) && (h < 1 || w < 1 || h > 4096 || w > 4096))
            throw new ArgumentException($"resize to {h}×{w}: height and width must be between 1 and 4096");
        if (MaxPixels < 1 || MaxPixels > GrayImage.MaxPixels)
            throw new ArgumentException($"maximum image size {MaxPixels} pixels must be between 1 and {GrayImage.MaxPixels}");
        if (TestSplit is double f && !(f > 0 && f < 1)) throw new ArgumentException($"a test split of {f} must be between 0 and 1 (exclusive)");
        return this;
    }
}

/// <summary>
/// Image datasets laid out as torchvision's ImageFolder: one folder per class, its name the class name, holding PNG
/// images (in sub-folders too). Either <c>DIR/train/&lt;class&gt;/…</c> and <c>DIR/test/&lt;class&gt;/…</c>, or one tree
/// <c>DIR/&lt;class&gt;/…</c> (or <c>DIR/train/&lt;class&gt;/…</c> alone) split by <see cref="ImageFolderOptions.TestSplit"/>.
/// <list type="bullet">
/// <item>Classes are the training tree's folders in ordinal (byte-wise) order of their names: label i is the i-th name.
/// A test folder whose name is not a training class is refused.</item>
/// <item>Every image is decoded by <see cref="Png.DecodePixels"/>: gray images (gray, gray + alpha, a gray palette)
/// give one channel, colour images three; alpha is composited over white; 16-bit samples are rounded to 8 bits. The
/// dataset keeps one byte per sample, N×C×H×W. Gray and colour images in one dataset are refused, naming one of each.</item>
/// <item>Without <see cref="ImageFolderOptions.Resize"/> every image must have the first image's size; a different
/// one is refused, naming both files and sizes.</item>
/// <item>Per-channel mean and std (<see cref="InputNormalization"/>) are computed on the training split only and
/// applied to both splits.</item>
/// <item>Files and folders whose names start with '.' (.DS_Store, .git) are skipped; any other file that is not a
/// PNG image is refused, and a named pipe, socket or device is refused without being opened. So are an empty class folder, a tree without class folders, and a file outside a class
/// folder.</item>
/// </list>
/// Every refusal is a <see cref="DataFormatException"/> whose message starts with the path at fault. Images are
/// decoded straight into the dataset's byte array (in parallel, one image in flight per core), so the peak memory is
/// the dataset's bytes plus a few images.
/// </summary>
public static class ImageFolder
{
    /// <summary>Whether <paramref name="directory"/> looks like an ImageFolder tree (it has sub-folders), as opposed to an IDX folder.</summary>
    public static bool IsImageFolder(string directory) =>
        Directory.Exists(directory) && Entries(directory, folders: true).Any(d => !Hidden(d));

    /// <summary>Reads the tree at <paramref name="directory"/> into a training and a test split (see the class remarks).</summary>
    public static (Dataset Train, Dataset Test) Load(string directory, ImageFolderOptions? options = null)
    {
        options = (options ?? new ImageFolderOptions()).Validated();
        if (!Directory.Exists(directory)) throw DataFormatException.For(directory, "data folder not found");
        string trainRoot = Path.Combine(directory, "train"), testRoot = Path.Combine(directory, "test");
        bool hasTrain = Directory.Exists(trainRoot), hasTest = Directory.Exists(testRoot);
        if (hasTest && !hasTrain) throw DataFormatException.For(directory, "has a test/ folder but no train/ folder");
        if (hasTest && options.TestSplit is not null)
            throw new ArgumentException($"{directory} has train/ and test/ folders: a test split applies to a tree without test/");
        string root = hasTrain ? trainRoot : directory;
        if (!hasTest && options.TestSplit is null)
            throw new ArgumentException($"{directory} has no test/ folder: give a test split (e.g. --test-split 0.2) to hold out part of {root}");

        var (names, trainFiles) = ListClasses(root, known: null);
        List<(string Path, int Label)> testFiles;
        if (hasTest) testFiles = ListClasses(testRoot, names).Files;
        else (trainFiles, testFiles) = Split(trainFiles, names.Count, options.TestSplit!.Value, options.Seed, root);

        var (trainPixels, shape) = Decode(trainFiles, reference: null, options, root);
        var (testPixels, _) = Decode(testFiles, reference: (trainFiles[0].Path, shape), options, hasTest ? testRoot : root);
        int channels = shape.Channels, plane = shape.Height * shape.Width;
        var normalization = InputNormalization.Compute(trainPixels, channels, plane);
        var train = Dataset.FromPixels(trainPixels, [trainFiles.Count, channels, shape.Height, shape.Width], Labels(trainFiles), names, normalization);
        var test = Dataset.FromPixels(testPixels, [testFiles.Count, channels, shape.Height, shape.Width], Labels(testFiles), names, normalization);
        return (train, test);
    }

    private static int[] Labels(List<(string Path, int Label)> files) => [.. files.Select(f => f.Label)];

    /// <summary>
    /// The class folders under <paramref name="root"/> (ordinal order) and every image file in them. With
    /// <paramref name="known"/> (a test tree), each folder must name one of those classes and takes its label.
    /// </summary>
    private static (List<string> Names, List<(string Path, int Label)> Files) ListClasses(string root, IReadOnlyList<string>? known)
    {
        foreach (var file in Entries(root, folders: false).Order(StringComparer.Ordinal))
            if (!Hidden(file)) throw DataFormatException.For(file, $"a file outside the class folders: images go in {root}/<class>/");
        var folders = Entries(root, folders: true).Where(d => !Hidden(d)).Order(StringComparer.Ordinal).ToList();
        if (folders.Count == 0) throw DataFormatException.For(root, "no class folders: put each class's images in a folder named after the class");
        var names = folders.Select(d => Path.GetFileName(d)).ToList();
        var files = new List<(string, int)>();
        foreach (var folder in folders)
        {
            string name = Path.GetFileName(folder);
            int label = known is null ? names.IndexOf(name) : IndexOf(known, name);
            if (label < 0) throw DataFormatException.For(folder, $"class '{name}' is not one of the training classes ({string.Join(", ", known!)})");
            int before = files.Count;
            foreach (var file in FilesUnder(folder)) files.Add((file, label));
            if (files.Count == before) throw DataFormatException.For(folder, $"class folder '{name}' holds no images");
        }
        return (names, files);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
        return -1;
    }

    /// <summary>
    /// Every file under <paramref name="folder"/>, sub-folders included, in ordinal order of the path, hidden ones left
    /// out; a symbolic link to a file is listed as a file. A folder reached twice through symbolic links (a link to a
    /// folder above it, or two links to one folder) is refused naming the link: following it would read the same images
    /// again, without end for a loop. A named pipe, socket or device (or a link to one) is refused naming it, unopened
    /// (<see cref="DataFile.RefuseSpecial"/>): reading a pipe waits for a writer, and no such file can be an image, so it
    /// is there by mistake rather than skipped as a hidden file is. With <paramref name="take"/>, only the files it accepts
    /// (by path) are listed and checked: a reader of some kinds of files ignores the rest, pipes and sockets included.
    /// </summary>
    /// <exception cref="DataFormatException">a folder cannot be listed, or is reached twice through symbolic links; a file is not a regular file.</exception>
    public static IReadOnlyList<string> FilesUnder(string folder, Func<string, bool>? take = null)
    {
        var found = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(string Path, string Real)>([(folder, RealPath(folder))]);
        while (pending.Count > 0)
        {
            var (dir, real) = pending.Pop();
            if (!seen.Add(real))
                throw DataFormatException.For(dir, $"is a symbolic link to {real}, a folder already read (a link loop or a second link to one folder)");
            foreach (var file in Entries(dir, folders: false))
                if (!Hidden(file) && (take is null || take(file)))
                {
                    DataFile.RefuseSpecial(file);
                    found.Add(file);
                }
            foreach (var sub in Entries(dir, folders: true).Where(d => !Hidden(d)))
                pending.Push((sub, new DirectoryInfo(sub).LinkTarget is null ? Path.Combine(real, Path.GetFileName(sub)) : RealPath(sub)));
        }
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    /// <summary>The folder's absolute path with every symbolic link in it resolved, so two routes to one folder compare equal.</summary>
    private static string RealPath(string directory)
    {
        var full = new DirectoryInfo(Path.GetFullPath(directory));
        try
        {
            // Resolve the parent first, then this folder's own link (to its final target), one level at a time.
            string parent = full.Parent is null ? full.FullName : RealPath(full.Parent.FullName);
            string here = full.Parent is null ? full.FullName : Path.Combine(parent, full.Name);
            return new DirectoryInfo(here).ResolveLinkTarget(returnFinalTarget: true) is { } target ? Path.TrimEndingDirectorySeparator(RealPath(target.FullName)) : here;
        }
        catch (IOException e) { throw DataFormatException.For(directory, $"cannot resolve the folder's symbolic links: {e.Message}", e); }
    }

    /// <summary>
    /// The sub-folders (or files) of <paramref name="directory"/>, read in full here so that a folder that cannot be
    /// listed (no permission, gone) is a <see cref="DataFormatException"/> naming it.
    /// </summary>
    internal static List<string> Entries(string directory, bool folders)
    {
        try
        {
            return (folders ? Directory.EnumerateDirectories(directory) : Directory.EnumerateFiles(directory)).ToList();
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw DataFormatException.For(directory, $"cannot list the folder: {e.Message}", e);
        }
    }

    /// <summary>
    /// The bytes of <paramref name="count"/> images of <paramref name="imageBytes"/> bytes each; more than one array
    /// holds is a <see cref="DataFormatException"/> naming <paramref name="source"/>.
    /// </summary>
    internal static int DatasetBytes(int count, int imageBytes, string source)
    {
        long total = (long)count * imageBytes;
        if (total > Array.MaxLength)
            throw DataFormatException.For(source, $"{count} images of {imageBytes} bytes would hold {total} bytes, more than one array holds ({Array.MaxLength}): use fewer images or a smaller --resize");
        return (int)total;
    }

    private static bool Hidden(string path) => Path.GetFileName(path).StartsWith('.');

    /// <summary>
    /// Holds out round(<paramref name="fraction"/> · n) of each class's n images (at most n − 1, so every class keeps
    /// a training image), drawn by a seeded shuffle; both parts keep the files' order.
    /// </summary>
    private static (List<(string Path, int Label)> Train, List<(string Path, int Label)> Test) Split(
        List<(string Path, int Label)> files, int classes, double fraction, int seed, string root)
    {
        var (kept, heldOut) = StratifiedSplit.Indices(Labels(files), classes, fraction, new Rng(seed));
        var train = kept.Select(i => files[i]).ToList();
        var test = heldOut.Select(i => files[i]).ToList();
        if (test.Count == 0)
            throw DataFormatException.For(root, $"a test split of {fraction} holds out no image ({files.Count} images in {classes} classes): give a larger fraction or more images");
        return (train, test);
    }

    private readonly record struct ImageShape(int Channels, int Height, int Width)
    {
        public string Text => $"{Height}×{Width}";
        public string ChannelsText => Channels == 1 ? "gray (1 channel)" : $"colour ({Channels} channels)";
    }

    /// <summary>
    /// Decodes every file into one N×C×H×W byte array. The shape is the first file's (after resizing), or
    /// <paramref name="reference"/>'s; a file that differs is refused naming both files. When several files fail, the
    /// error is the first of them in list order, whatever the threads' timing. A dataset too large for one array is
    /// refused naming <paramref name="root"/>.
    /// </summary>
    private static (byte[] Pixels, ImageShape Shape) Decode(List<(string Path, int Label)> files, (string Path, ImageShape Shape)? reference, ImageFolderOptions options, string root)
    {
        PixelImage Read(string path)
        {
            byte[] bytes = DataFile.ReadAllBytes(path);
            if (!Png.IsPng(bytes)) throw DataFormatException.For(path, $"not a PNG image ({ImageKind.Describe(bytes)})");
            var image = Png.DecodePixels(bytes, path, options.MaxPixels);
            return options.Resize is var (h, w) ? image.Resized(h, w) : image;
        }

        var (firstPath, shape) = reference ?? (files[0].Path, default);
        byte[]? pixels = null;
        int start = 0;
        if (reference is null)
        {
            var first = Read(files[0].Path);
            shape = new ImageShape(first.Channels, first.Height, first.Width);
            pixels = new byte[DatasetBytes(files.Count, first.Pixels.Length, root)];
            first.Pixels.CopyTo(pixels, 0);
            start = 1;
        }
        int size = shape.Channels * shape.Height * shape.Width;
        pixels ??= new byte[DatasetBytes(files.Count, size, root)];
        int failedAt = int.MaxValue;
        Exception? failure = null;
        object gate = new();
        Parallel.For(start, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            if (i > Volatile.Read(ref failedAt)) return;
            try
            {
                var image = Read(files[i].Path);
                var found = new ImageShape(image.Channels, image.Height, image.Width);
                if (found.Channels != shape.Channels)
                    throw DataFormatException.For(files[i].Path, $"is {found.ChannelsText} but {firstPath} is {shape.ChannelsText}: gray and colour images cannot be mixed in one dataset (convert them to one kind)");
                if (found != shape)
                    throw DataFormatException.For(files[i].Path, $"is {found.Text} but {firstPath} is {shape.Text}: images of different sizes need a resize (--resize H W)");
                image.Pixels.CopyTo(pixels, (long)i * size);
            }
            catch (DataFormatException e)
            {
                lock (gate)
                    if (i < failedAt) { failedAt = i; failure = e; }
            }
        });
        if (failure is not null) throw failure;
        return (pixels, shape);
    }
}
