using System.Text.Json;
using System.Text.Json.Serialization;

namespace ZeroDL.Models;

/// <summary>
/// The architecture of a model, enough to rebuild it: stored in a model file's metadata so that a file
/// describes itself. Kinds: "twolayer" (the book's TwoLayerNet), "mlp" (MultiLayerNet), "mlp-bn"
/// (MultiLayerNetExtend: BatchNorm and/or Dropout), "simpleconv" (the book's SimpleConvNet, ch. 7.5: 30 filters
/// 5×5 on 1×28×28 input, hidden size HiddenSizes[0]) and "deepconv" (the book's DeepConvNet, ch. 8.1: hidden size
/// HiddenSizes[0], dropout ratio <see cref="Dropout"/>; with <see cref="BatchNorm"/> a per-channel BatchNorm
/// follows each convolution, our variant).
/// </summary>
public sealed record ModelSpec
{
    public string Kind { get; init; } = "mlp";
    public int InputSize { get; init; } = 784;
    public int[] HiddenSizes { get; init; } = [100];
    public int OutputSize { get; init; } = 10;
    /// <summary>relu, sigmoid or tanh.</summary>
    public string Activation { get; init; } = "relu";
    /// <summary>he, xavier or a number (the book's weight_init_std).</summary>
    public string WeightInit { get; init; } = "he";
    /// <summary>λ of the L2 penalty 0.5·λ·ΣW² (weights only).</summary>
    public double WeightDecay { get; init; }
    public bool BatchNorm { get; init; }
    /// <summary>For convolutional kinds: "per-channel" (one mean and variance per channel, PyTorch's BatchNorm2d) or
    /// "per-activation" (the book's rule: every activation its own). Dense input is the same either way.</summary>
    public string BatchNormMode { get; init; } = "per-channel";
    /// <summary>Dropout ratio after each hidden activation (0 = none).</summary>
    public double Dropout { get; init; }
    /// <summary>classic (the book's) or inverted.</summary>
    public string DropoutMode { get; init; } = "classic";
    /// <summary>deepconv only: whether a Dropout also follows the output Affine, as in the book's DeepConvNet (true, the
    /// default) or only the hidden layer has one (false: our variant; dropping half the class scores in training
    /// holds the network back once the data is augmented).</summary>
    public bool OutputDropout { get; init; } = true;

    /// <summary>True for the kinds that take images (N, 1, 28, 28) rather than flat vectors.</summary>
    [JsonIgnore]
    public bool IsConvolutional => Kind is "simpleconv" or "deepconv";

    /// <summary>The shape of one input sample the network expects: (784) for the dense kinds, (1, 28, 28) for the convolutional ones.</summary>
    [JsonIgnore]
    public int[] SampleShape => IsConvolutional ? [1, 28, 28] : [InputSize];

    public static readonly string[] Kinds = ["twolayer", "mlp", "mlp-bn", "simpleconv", "deepconv"];

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static ModelSpec FromJson(string json)
    {
        ModelSpec? spec;
        try { spec = JsonSerializer.Deserialize<ModelSpec>(json, JsonOptions); }
        catch (JsonException e) { throw new FormatException($"model architecture is not valid JSON: {e.Message}"); }
        return (spec ?? throw new FormatException("model architecture is empty")).Validated();
    }

    /// <summary>Throws <see cref="FormatException"/> naming the first field that is out of range.</summary>
    public ModelSpec Validated()
    {
        if (Array.IndexOf(Kinds, Kind) < 0) throw new FormatException($"unknown model kind '{Kind}' (known: {string.Join(", ", Kinds)})");
        if (InputSize <= 0 || OutputSize <= 0) throw new FormatException($"input and output sizes must be positive (got {InputSize}, {OutputSize})");
        if (HiddenSizes is null || HiddenSizes.Length == 0 || HiddenSizes.Any(h => h <= 0))
            throw new FormatException("hidden sizes must be one or more positive numbers");
        if (Activation is not ("relu" or "sigmoid" or "tanh")) throw new FormatException($"activation '{Activation}' is not relu, sigmoid or tanh");
        ZeroDL.WeightInit.Parse(WeightInit);
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new FormatException($"weight decay must be ≥ 0 (got {WeightDecay})");
        if (!(Dropout >= 0 && Dropout < 1)) throw new FormatException($"dropout ratio must be in [0, 1) (got {Dropout})");
        Layers.Dropout<float>.ParseMode(DropoutMode);
        try { Layers.BatchNormalization<float>.ParseMode(BatchNormMode); }
        catch (FormatException) { throw new FormatException($"batch norm mode '{BatchNormMode}' is not per-channel or per-activation"); }
        if (Kind == "deepconv" && (InputSize != 784 || HiddenSizes.Length != 1 || Activation != "relu"))
            throw new FormatException("deepconv takes 1×28×28 input (input size 784), one hidden size and ReLU");
        if (Kind == "simpleconv" && (InputSize != 784 || HiddenSizes.Length != 1 || BatchNorm || Dropout > 0))
            throw new FormatException("simpleconv takes 1×28×28 input (input size 784), one hidden size, no BatchNorm and no dropout");
        return this;
    }

    public string Describe()
    {
        string layers = Kind switch
        {
            "simpleconv" => $"1×28×28 → conv {Networks.SimpleConvFilters}×{Networks.SimpleConvFilterSize}×{Networks.SimpleConvFilterSize} → pool → {string.Join("-", HiddenSizes)}-{OutputSize}",
            "deepconv" => $"1×28×28 → conv 3×3 16, 16 → pool → 32, 32 → pool → 64, 64 → pool → {string.Join("-", HiddenSizes)}-{OutputSize}",
            _ => $"{InputSize}-{string.Join("-", HiddenSizes)}-{OutputSize}",
        };
        var parts = new List<string> { $"{Kind} {layers}", Activation, $"init {WeightInit}" };
        if (BatchNorm) parts.Add(IsConvolutional ? $"batchnorm ({BatchNormMode})" : "batchnorm");
        if (Dropout > 0) parts.Add($"dropout {Dropout} ({DropoutMode}{(Kind == "deepconv" && !OutputDropout ? ", hidden layer only" : "")})");
        if (WeightDecay > 0) parts.Add($"weight decay {WeightDecay}");
        return string.Join(", ", parts);
    }
}
