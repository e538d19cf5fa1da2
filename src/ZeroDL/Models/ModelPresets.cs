namespace ZeroDL.Models;

/// <summary>A model the CLI and the web app can train by name, with the training settings it is known to work with
/// (Augment: train on distorted images with the default <see cref="Data.AugmentationOptions"/>; Schedule: constant or cosine).</summary>
public sealed record ModelPreset(string Name, string Summary, ModelSpec Spec, string Optimizer, double LearningRate, int BatchSize, int Epochs, int? Iterations,
    bool Augment = false, string Schedule = "constant");

public static class ModelPresets
{
    public const string Default = "dense";

    public static readonly ModelPreset[] All =
    [
        new("dense", "the default: 784-512-512-10 ReLU with BatchNorm and inverted dropout 0.2, Adam (≥ 98 % test)",
            new ModelSpec { Kind = "mlp-bn", HiddenSizes = [512, 512], Activation = "relu", WeightInit = "he", BatchNorm = true, Dropout = 0.2, DropoutMode = "inverted" },
            "adam", 0.001, 100, 12, null),
        new("twolayer", "the book's ch. 5 TwoLayerNet 784-50-10, SGD lr 0.1, 10,000 iterations",
            Networks.TwoLayerNetSpec(), "sgd", 0.1, 100, 17, 10000),
        new("mlp", "the book's MultiLayerNet: 5 hidden layers of 100 ReLU units, He init",
            new ModelSpec { Kind = "mlp", HiddenSizes = [100, 100, 100, 100, 100], Activation = "relu", WeightInit = "he" },
            "adam", 0.001, 100, 10, null),
        new("simpleconv", "the book's SimpleConvNet (conv 30×5×5 → pool → 100 → 10, init std 0.01), Adam 0.001, 20 epochs",
            Networks.SimpleConvNetSpec(), "adam", 0.001, 100, 20, null),
        new("deepconv", "the book's DeepConvNet (6 conv layers, classic dropout 0.5), Adam 0.001, 20 epochs",
            Networks.DeepConvNetSpec(), "adam", 0.001, 100, 20, null),
        new("deepconv-aug", "DeepConvNet with per-channel BatchNorm after each convolution and inverted dropout 0.5 on the hidden layer only, trained on augmented data (--augment defaults) with Adam 0.001 decaying to 0 (cosine), 20 epochs",
            Networks.DeepConvNetSpec(dropoutMode: "inverted") with { BatchNorm = true, BatchNormMode = "per-channel", OutputDropout = false },
            "adam", 0.001, 100, 20, null, Augment: true, Schedule: "cosine"),
        new("deepconv-fast", "DeepConvNet without its dropout, Adam 0.003 decaying to 0 (cosine), 2 epochs: 99 % test in about a minute on two cores",
            Networks.DeepConvNetSpec(dropout: 0), "adam", 0.003, 100, 2, null, Schedule: "cosine"),
        new("mlp-bn", "the book's MultiLayerNetExtend: as mlp, with BatchNorm (add --dropout for dropout)",
            new ModelSpec { Kind = "mlp-bn", HiddenSizes = [100, 100, 100, 100, 100], Activation = "relu", WeightInit = "he", BatchNorm = true },
            "adam", 0.001, 100, 10, null),
    ];

    public static ModelPreset Find(string name) =>
        All.FirstOrDefault(p => p.Name == name.Trim().ToLowerInvariant())
        ?? throw new ArgumentException($"unknown model '{name}': use one of {string.Join(", ", All.Select(p => p.Name))}");
}
