using System.CommandLine;
using ZeroDL.Data;

namespace ZeroDL.Cli;

/// <summary>
/// The augmentation options that train and lr-find share: <c>--augment</c> and the strengths that imply it. A preset
/// that augments (deepconv-aug, deepconv-best) turns it on by itself, so that a range test sees the batches its
/// training run would.
/// </summary>
internal sealed class AugmentOptions
{
    private static readonly AugmentationOptions Defaults = new();

    public Option<bool> Augment { get; } = new("--augment") { Description = $"Distort every training batch at random (book ch. 8.2.3): {Defaults.Describe()} unless set below" };
    public Option<double?> Shift { get; } = new("--shift") { Description = "Augmentation: largest shift in pixels (implies --augment; 0 = none)" };
    public Option<double?> Rotate { get; } = new("--rotate") { Description = "Augmentation: largest rotation in degrees (implies --augment; 0 = none)" };
    public Option<double?> Scale { get; } = new("--scale") { Description = "Augmentation: largest relative scaling, e.g. 0.1 for ±10 % (implies --augment; 0 = none)" };
    public Option<double?> Elastic { get; } = new("--elastic") { Description = "Augmentation: elastic distortion strength α (implies --augment; 0 = none)" };
    public Option<double?> ElasticSigma { get; } = new("--elastic-sigma") { Description = "Augmentation: smoothness σ of the elastic field in pixels (implies --augment)" };

    public IEnumerable<Option> All => [Augment, Shift, Rotate, Scale, Elastic, ElasticSigma];

    /// <summary>
    /// The distortions asked for, or null for none: <c>--augment</c>, any strength, or a preset that augments;
    /// <c>--augment false</c> turns them off, the strengths then included.
    /// </summary>
    /// <exception cref="UsageException">a strength is out of its range.</exception>
    public AugmentationOptions? Resolve(ParseResult parse, bool presetAugments)
    {
        double? shift = parse.GetValue(Shift), rotate = parse.GetValue(Rotate), scale = parse.GetValue(Scale),
            elastic = parse.GetValue(Elastic), sigma = parse.GetValue(ElasticSigma);
        // An explicit --augment false turns a preset's augmentation off (a clean range test, a clean run).
        bool offByHand = parse.GetResult(Augment) is { Implicit: false } && !parse.GetValue(Augment);
        if (offByHand || !(parse.GetValue(Augment) || presetAugments || shift is not null || rotate is not null || scale is not null || elastic is not null || sigma is not null))
            return null;
        var augmentation = new AugmentationOptions
        {
            Shift = shift ?? Defaults.Shift, Rotation = rotate ?? Defaults.Rotation, Scale = scale ?? Defaults.Scale,
            ElasticAlpha = elastic ?? Defaults.ElasticAlpha, ElasticSigma = sigma ?? Defaults.ElasticSigma,
        };
        try { return augmentation.Validated(); }
        catch (ArgumentOutOfRangeException e) { throw new UsageException("augmentation: " + e.Message.Split(" (Parameter")[0]); }
    }
}
