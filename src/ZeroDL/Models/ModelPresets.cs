using System.Collections.Immutable;
using ZeroDL.Layers;

namespace ZeroDL.Models;

/// <summary>A model the CLI and the web app can train by name, with the training settings it is known to work with
/// (Augment: train on distorted images with the default <see cref="Data.AugmentationOptions"/>; Schedule: the learning-rate
/// schedule, null for constant — see <see cref="TrainingSchedule"/>; EvaluationSamples: see <see cref="EvaluationSamples"/>).</summary>
public sealed record ModelPreset(string Name, string Summary, ModelSpec Spec, string Optimizer, double LearningRate, int BatchSize, int Epochs, int? Iterations,
    bool Augment = false, Training.LearningRateSchedule? Schedule = null, int EvaluationSamples = 0)
{
    /// <summary>
    /// How many samples of each split the per-epoch scores use when the command line does not say
    /// (<see cref="Training.TrainerOptions.EvaluationSamples"/>; 0 = all). The presets made to be fast score a sample:
    /// scoring all 70,000 MNIST images after every epoch costs a core about as long as a fast epoch's training on two,
    /// and it runs beside the training. The final test accuracy is always the whole test set's.
    /// </summary>
    public int EvaluationSamples { get => _evaluationSamples; init => _evaluationSamples = NonNegative(value); }
    private readonly int _evaluationSamples = NonNegative(EvaluationSamples);

    private static int NonNegative(int samples) => samples >= 0 ? samples
        : throw new ArgumentOutOfRangeException(nameof(EvaluationSamples), samples, "evaluation samples must be ≥ 0 (0 = all)");

    /// <summary>The schedule the preset trains with: <see cref="Schedule"/>, or constant when it names none.</summary>
    public Training.LearningRateSchedule TrainingSchedule => Schedule ?? new Training.LearningRateSchedule.Constant();

    /// <summary>The preset's layers for samples of <paramref name="inputShape"/> (MNIST's for its kind when null) and <paramref name="classes"/> classes.</summary>
    public Architecture Architecture(IReadOnlyList<int>? inputShape = null, int classes = 10) =>
        Spec.ToArchitecture(inputShape ?? Spec.MnistInputShape, classes);

    /// <summary>
    /// The preset's network for samples of <paramref name="inputShape"/> ((features) or (C, H, W)) and
    /// <paramref name="classes"/> classes, weights drawn from <paramref name="seed"/>. A convolutional preset on flat
    /// input, or on images too small for its pools, throws <see cref="ArgumentException"/> naming the layer.
    /// </summary>
    public Sequential<float> Build(IReadOnlyList<int> inputShape, int classes, int seed) => Architecture(inputShape, classes).Build<float>(seed);
}

public static class ModelPresets
{
    public const string Default = "dense";

    /// <summary>
    /// deepconv-fast's schedule: a linear warm-up of 50 mini-batches (a twelfth of an epoch), then cosine decay to 0. The
    /// first mini-batches of a freshly initialised network take the largest steps; warming up lets a short run use a
    /// higher rate, which scored better on the validation split (the runs are in docs/training.md).
    /// </summary>
    public static Training.LearningRateSchedule FastWarmup { get; } = new Training.LearningRateSchedule.Warmup(50, new Training.LearningRateSchedule.Cosine());

    public static IReadOnlyList<ModelPreset> All { get; } = ImmutableArray.Create<ModelPreset>(
        new("dense", "the default: 784-512-512-10 ReLU with BatchNorm and inverted dropout 0.2, Adam (≥ 98 % test)",
            new ModelSpec { Kind = NetworkKind.MlpExtend, HiddenSizes = [512, 512], BatchNorm = true, Dropout = 0.2, DropoutMode = DropoutMode.Inverted },
            "adam", 0.001, 100, 12, null),
        new("twolayer", "the book's ch. 5 TwoLayerNet 784-50-10, SGD lr 0.1, 10,000 iterations",
            Networks.TwoLayerNetSpec(), "sgd", 0.1, 100, 17, 10000),
        new("mlp", "the book's MultiLayerNet: 5 hidden layers of 100 ReLU units, He init",
            new ModelSpec { Kind = NetworkKind.Mlp, HiddenSizes = [100, 100, 100, 100, 100] },
            "adam", 0.001, 100, 10, null),
        new("simpleconv", "the book's SimpleConvNet (conv 30×5×5 → pool → 100 → 10, init std 0.01), Adam 0.001, 20 epochs",
            Networks.SimpleConvNetSpec(), "adam", 0.001, 100, 20, null),
        new("deepconv", "the book's DeepConvNet (6 conv layers, classic dropout 0.5), Adam 0.001, 20 epochs",
            Networks.DeepConvNetSpec(), "adam", 0.001, 100, 20, null),
        new("deepconv-aug", "DeepConvNet with per-channel BatchNorm after each convolution and inverted dropout 0.5 on the hidden layer only, trained on augmented data (--augment defaults) with Adam 0.001 decaying to 0 (cosine), 20 epochs",
            Networks.DeepConvNetSpec(dropoutMode: DropoutMode.Inverted) with { BatchNorm = true, BatchNormMode = BatchNormMode.PerChannel, OutputDropout = false },
            "adam", 0.001, 100, 20, null, Augment: true, Schedule: new Training.LearningRateSchedule.Cosine()),
        new("deepconv-fast", "DeepConvNet without its dropout, Adam 0.004 after a warm-up of 50 mini-batches, then decaying to 0 (cosine), 2 epochs: 99.38 % test in 22–28 s of training on two Zen 4 or Zen 5 cores (recipe chosen on a validation split, docs/training.md)",
            Networks.DeepConvNetSpec(dropout: 0), "adam", 0.004, 100, 2, null, Schedule: FastWarmup, EvaluationSamples: 1000),
        new("deepconv-best", "our most accurate: DeepConvNet with per-channel BatchNorm after each convolution and no dropout, trained on augmented data (--augment defaults) with Adam 0.002 decaying to 0 (cosine), 20 epochs: 99.61 % test in 6–7 min on two Zen 4 or Zen 5 cores (recipe chosen on a validation split, docs/training.md)",
            Networks.DeepConvNetSpec(dropout: 0) with { BatchNorm = true, BatchNormMode = BatchNormMode.PerChannel },
            "adam", 0.002, 100, 20, null, Augment: true, Schedule: new Training.LearningRateSchedule.Cosine(), EvaluationSamples: 1000),
        new("mlp-bn", "the book's MultiLayerNetExtend: as mlp, with BatchNorm (add --dropout for dropout)",
            new ModelSpec { Kind = NetworkKind.MlpExtend, HiddenSizes = [100, 100, 100, 100, 100], BatchNorm = true },
            "adam", 0.001, 100, 10, null));

    public static ModelPreset Find(string name) =>
        All.FirstOrDefault(p => p.Name == name.Trim().ToLowerInvariant())
        ?? throw new ArgumentException($"unknown model '{name}': use one of {string.Join(", ", All.Select(p => p.Name))}");
}
