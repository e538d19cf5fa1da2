using System.CommandLine;
using ZeroDL.Data;
using ZeroDL.Models;

namespace ZeroDL.Cli;

/// <summary>
/// The options that choose the network, shared by <c>train</c> and <c>lr-find</c>: <c>--model</c> (a preset, which also
/// brings its training settings), <c>--arch</c> (a JSON file instead of the preset's layers), and the options that
/// change a preset's layers (<c>--hidden</c>, <c>--activation</c>, <c>--init</c>, <c>--weight-decay</c>, <c>--dropout</c>,
/// <c>--dropout-mode</c>, <c>--batchnorm</c>, <c>--batchnorm-mode</c>, <c>--output-dropout</c>).
/// </summary>
internal sealed class ModelOptions
{
    public Option<string> Model { get; } = new("--model") { Description = "Model to train: " + string.Join("; ", ModelPresets.All.Select(p => $"{p.Name} = {p.Summary}")), DefaultValueFactory = _ => ModelPresets.Default };
    public Option<string?> Arch { get; } = new("--arch") { Description = "Train the network a JSON file describes (input_shape, layers, weight_decay: the schema of docs/architecture.md) instead of --model's; the training settings still come from --model" };
    public Option<string?> Hidden { get; } = new("--hidden") { Description = "Hidden layer sizes, e.g. 512,512 (overrides the model's)" };
    public Option<string?> Activation { get; } = new("--activation") { Description = "relu, sigmoid or tanh (overrides the model's)" };
    public Option<string?> Init { get; } = new("--init") { Description = "Weight init: he, xavier or a standard deviation such as 0.01" };
    public Option<double?> WeightDecay { get; } = new("--weight-decay") { Description = "L2 weight decay λ (loss + 0.5·λ·ΣW²)" };
    public Option<double?> Dropout { get; } = new("--dropout") { Description = "Dropout ratio after each hidden layer (a dense model becomes mlp-bn; deepconv keeps its layers)" };
    public Option<string?> DropoutMode { get; } = new("--dropout-mode") { Description = "classic (the book's) or inverted" };
    public Option<bool?> Batchnorm { get; } = new("--batchnorm") { Description = "Add BatchNorm after each hidden Affine, or for deepconv a per-channel BatchNorm after each convolution (true/false)" };
    public Option<string?> BatchnormMode { get; } = new("--batchnorm-mode") { Description = "For deepconv with --batchnorm: per-channel (PyTorch's BatchNorm2d, the default) or per-activation (the book's rule)" };
    public Option<bool?> OutputDropout { get; } = new("--output-dropout") { Description = "For deepconv: keep the book's Dropout after the output layer (true) or drop it, leaving only the hidden layer's (false)" };

    public ModelOptions() => BatchnormMode.AcceptOnlyFromAmong("per-channel", "per-activation");

    /// <summary>The options that change a preset's layers (refused beside --arch, whose file gives the layers).</summary>
    private IEnumerable<Option> LayerOptions => [Hidden, Activation, Init, Dropout, DropoutMode, Batchnorm, BatchnormMode, OutputDropout, WeightDecay];

    /// <summary>
    /// The preset <c>--model</c> names and its network recipe with the layer options applied, or the <c>--arch</c> file
    /// to read. A bad value is a <see cref="UsageException"/>.
    /// </summary>
    public ModelChoice Resolve(ParseResult parse)
    {
        ModelPreset preset;
        try { preset = ModelPresets.Find(parse.GetValue(Model)!); }
        catch (ArgumentException e) { throw new UsageException(e.Message.Replace("unknown model", "unknown --model")); }
        string? archPath = parse.GetValue(Arch);
        if (archPath is not null && LayerOptions.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } clash)
            throw new UsageException($"{clash.Name} changes a preset's layers; with --arch the file gives them");
        var spec = preset.Spec;
        try
        {
            if (parse.GetValue(Hidden) is string h) spec = spec with { HiddenSizes = [.. Cli.ParseSizes(h, "--hidden")] };
            if (parse.GetValue(Activation) is string a) spec = spec with { Activation = ZeroDL.Layers.ActivationLayers.Parse(a) };
            if (parse.GetValue(Init) is string i) spec = spec with { WeightInit = WeightInit.Parse(i) };
            if (parse.GetValue(WeightDecay) is double wd) spec = spec with { WeightDecay = wd };
            bool dense = spec.Kind is NetworkKind.TwoLayer or NetworkKind.Mlp or NetworkKind.MlpExtend;
            if (parse.GetValue(Dropout) is double d) spec = spec with { Kind = dense ? NetworkKind.MlpExtend : spec.Kind, Dropout = d };
            if (parse.GetValue(DropoutMode) is string dm) spec = spec with { DropoutMode = ZeroDL.Layers.Dropout<float>.ParseMode(dm) };
            if (parse.GetValue(Batchnorm) is bool bn)
            {
                if (spec.Kind == NetworkKind.DeepConv) spec = spec with { BatchNorm = bn }; // BatchNorm after each convolution
                else if (!dense) throw new UsageException($"--batchnorm applies to the dense models and deepconv, not {ModelSpec.KindName(spec.Kind)}");
                else spec = spec with
                {
                    Kind = bn || spec.Dropout > 0 ? NetworkKind.MlpExtend : spec.Kind == NetworkKind.MlpExtend ? NetworkKind.Mlp : spec.Kind, BatchNorm = bn,
                };
            }
            if (parse.GetValue(BatchnormMode) is string bm) spec = spec with { BatchNormMode = ZeroDL.Layers.BatchNormalization<float>.ParseMode(bm) };
            if (parse.GetValue(OutputDropout) is bool od)
            {
                if (spec.Kind != NetworkKind.DeepConv) throw new UsageException($"--output-dropout applies to deepconv, not {ModelSpec.KindName(spec.Kind)}");
                spec = spec with { OutputDropout = od };
            }
            spec = spec.Validated();
        }
        catch (FormatException e) { throw new UsageException(e.Message); }
        catch (ArgumentException e) { throw new UsageException(e.Message.Split(" (Parameter")[0]); }
        return new ModelChoice(preset, spec, archPath);
    }
}

/// <summary>The network the model options chose: a preset (with its training settings) and its recipe, or an architecture file.</summary>
internal sealed record ModelChoice(ModelPreset Preset, ModelSpec Spec, string? ArchPath)
{
    /// <summary>The run's name: the architecture file's name without extension, else the preset's.</summary>
    public string Name => ArchPath is not null ? Path.GetFileNameWithoutExtension(ArchPath) : Preset.Name;

    /// <summary>
    /// The network's layers for <paramref name="data"/>: the --arch file's, or the preset's recipe shaped to the data's
    /// images and classes. A recipe that does not fit the images is a <see cref="DataFormatException"/> naming the data.
    /// </summary>
    public Architecture Architecture(LoadedData data)
    {
        if (ArchPath is not null) return Cli.LoadArchitecture(ArchPath);
        try
        {
            var architecture = Spec.ToArchitecture(ModelData.InputShape(data.Train, Spec.IsConvolutional), data.Train.Classes);
            architecture.Plan(); // every layer must take the one before's output: too small an image fails here
            return architecture;
        }
        catch (ArgumentException e) { throw DataFormatException.For(data.Name, $"{Preset.Name} does not fit {data.ShapeText} images: {e.Message.Split(" (Parameter")[0]}"); }
    }

    /// <summary>Checks that <paramref name="architecture"/> takes <paramref name="train"/>'s samples and has one output per class (an --arch file may not).</summary>
    public void CheckFits(Architecture architecture, LoadedData data, Dataset train)
    {
        var input = architecture.InputShape;
        if (!ModelData.Fits(input, train))
            throw DataFormatException.For(ArchPath ?? Preset.Name, $"the network takes samples of {ZeroDL.Layers.LayerConfig.ShapeText(input)}, {data.Name} has {data.ShapeText}");
        int classCount = architecture.OutputShape.Aggregate(1, (x, y) => x * y);
        if (classCount != train.Classes) throw DataFormatException.For(ArchPath ?? Preset.Name, $"the network has {classCount} outputs, {data.Name} has {train.Classes} classes");
    }

    /// <summary>The network in one line, as train prints it: the recipe for a preset on MNIST, else the layers.</summary>
    public string Describe(LoadedData data, Architecture architecture) =>
        ArchPath is null && data.Name == "mnist" ? Spec.Describe() : architecture.Describe();
}
