using System.CommandLine;
using System.Globalization;
using ZeroDL.Data;

namespace ZeroDL.Cli;

/// <summary>
/// The data options that train, evaluate, predict, misclassified and data share: <c>--data</c> (the bundled MNIST by default,
/// <c>fashion-mnist</c>, an IDX folder or an ImageFolder tree), <c>--resize H W</c> and <c>--test-split F</c> (ImageFolder
/// only; before issue 19 it was called <c>--val-split</c>, which now names train's validation split). A model file records the data it was trained on (<see cref="Record"/>), and evaluate, predict and misclassified
/// use that record when no <c>--data</c> is given, so the same split and resize come back.
/// </summary>
internal sealed class DataOptions
{
    public Option<string?> Data { get; } = new("--data")
    {
        Description = "The images: fashion-mnist (Debian's dataset-fashion-mnist), a folder of IDX files (train-images-idx3-ubyte[.gz], …), " +
                      "or an ImageFolder tree (DIR/train/<class>/*.png and DIR/test/<class>/*.png, or DIR/<class>/*.png with --test-split). Default: the bundled MNIST",
    };

    public Option<int[]?> Resize { get; } = new("--resize")
    {
        Description = "ImageFolder: resize every image to H W pixels (area averaging when shrinking, linear when enlarging). Without it all images must share one size",
        Arity = new ArgumentArity(2, 2),
        AllowMultipleArgumentsPerToken = true,
    };

    public Option<double?> TestSplit { get; } = new("--test-split")
    {
        Description = "ImageFolder without a test/ folder: hold out this fraction of each class (e.g. 0.2) as the test split, drawn with --seed",
    };

    public IEnumerable<Option> All => [Data, Resize, TestSplit];

    /// <summary>
    /// The dataset the options name. Without <c>--data</c> (and without resize or split), the data recorded in
    /// <paramref name="recorded"/> (a model file's training settings, read from <paramref name="recordedIn"/>) is used
    /// when there is one; a recorded setting out of range is then the file's fault (exit 1 naming it), not the command
    /// line's.
    /// </summary>
    public LoadedData Load(ParseResult parse, int seed, IReadOnlyDictionary<string, string>? recorded = null, string? recordedIn = null)
    {
        string? data = parse.GetValue(Data);
        int[]? resize = parse.GetValue(Resize) is { Length: > 0 } given ? given : null;
        double? split = parse.GetValue(TestSplit);
        bool fromModel = false;
        ImageFolderOptions? recordedOptions = null;
        if (data is null && resize is null && split is null && recorded is not null && ImageDatasets.FromRecord(recorded) is var (recordedData, o))
        {
            (data, recordedOptions, fromModel) = (recordedData, o, true);
            seed = o.Seed;
        }
        if (resize is { Length: not 2 } || resize is [< 1 or > 4096, _] or [_, < 1 or > 4096])
            throw new UsageException("--resize takes a height and a width between 1 and 4096, e.g. --resize 32 32");
        var options = recordedOptions ?? new ImageFolderOptions { Resize = resize is [int h, int w] ? (h, w) : null, TestSplit = split, Seed = seed };
        try
        {
            options.Validated();
            var (train, test) = ImageDatasets.Load(data, options);
            return new LoadedData(train, test, data ?? "mnist", options, fromModel);
        }
        catch (ArgumentException e) when (fromModel) { throw DataFormatException.For(recordedIn ?? "the model file", $"the data it records cannot be read: {e.Message}", e); }
        catch (ArgumentException e) { throw new UsageException(e.Message.Replace("a test split", "--test-split")); }
    }

    /// <summary>What a model file records about its data, so that evaluate and predict find the same images.</summary>
    public static void Record(LoadedData data, IDictionary<string, string> settings) => ImageDatasets.Record(data.Name, data.Options, data.Train, settings);
}

/// <summary>A training and a test split, where they came from, and how they were read.</summary>
internal sealed record LoadedData(Dataset Train, Dataset Test, string Name, ImageFolderOptions Options, bool FromModel)
{
    /// <summary>"3×32×32" (or "784" for samples that are not images).</summary>
    public string ShapeText => Train.ImageShape is var (c, h, w) ? $"{c}×{h}×{w}" : Train.SampleLength.ToString(CultureInfo.InvariantCulture);

    /// <summary>One line: the source, the sizes of both splits, the image shape and the class count.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}{(FromModel ? " (recorded in the model file)" : "")}: {Train.Count} training and {Test.Count} test images of {ShapeText}, {Train.Classes} classes");
}
