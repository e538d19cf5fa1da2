using System.Text.Json;
using System.Text.Json.Serialization;
using ZeroDL.Layers;
using ZeroDL.Models;

namespace ZeroDL.Serialization;

/// <summary>
/// The architecture of a format_version 1 model file: a preset's recipe, {"kind": "deepconv", "input_size": 784,
/// "hidden_sizes": [50], "output_size": 10, "activation": "relu", "weight_init": "he", …}, as ZeroDL wrote it before
/// files held their layers. Mapped onto the same factories, it gives the layers (and tensor names) it gave then.
/// </summary>
internal static class ModelFileV1
{
    private sealed record Recipe
    {
        public string Kind { get; init; } = "mlp";
        public int InputSize { get; init; } = 784;
        public int[] HiddenSizes { get; init; } = [100];
        public int OutputSize { get; init; } = 10;
        public string Activation { get; init; } = "relu";
        public string WeightInit { get; init; } = "he";
        public double WeightDecay { get; init; }
        public bool BatchNorm { get; init; }
        public string BatchNormMode { get; init; } = "per-channel";
        public double Dropout { get; init; }
        public string DropoutMode { get; init; } = "classic";
        public bool OutputDropout { get; init; } = true;
    }

    // Strict: a key version 1 never wrote (a typo, a renamed field) is refused by name rather than left at its default,
    // and so is a key given twice. The Recipe holds every key any version 1 writer wrote.
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        MaxDepth = 4,
    };

    /// <summary>The layers a version 1 recipe stands for; <see cref="FormatException"/> naming the field out of range.</summary>
    public static Architecture Architecture(string json)
    {
        if (json.Length > Models.Architecture.MaxJsonLength)
            throw new FormatException($"invalid architecture: {json.Length} characters of JSON are more than the {Models.Architecture.MaxJsonLength} allowed");
        Recipe recipe;
        try { recipe = JsonSerializer.Deserialize<Recipe>(json, Options) ?? throw new FormatException("invalid architecture: null"); }
        catch (JsonException e) { throw new FormatException($"invalid architecture: {e.Message.Replace("ZeroDL.Serialization.ModelFileV1+Recipe", "version 1 architecture")}", e); }
        var kind = recipe.Kind switch
        {
            "twolayer" => NetworkKind.TwoLayer,
            "mlp" => NetworkKind.Mlp,
            "mlp-bn" => NetworkKind.MlpExtend,
            "simpleconv" => NetworkKind.SimpleConv,
            "deepconv" => NetworkKind.DeepConv,
            _ => throw new FormatException($"invalid architecture: unknown model kind '{recipe.Kind}' (known: twolayer, mlp, mlp-bn, simpleconv, deepconv)"),
        };
        bool extended = kind is NetworkKind.MlpExtend or NetworkKind.DeepConv;
        try
        {
            if (recipe.InputSize <= 0 || recipe.OutputSize <= 0) throw new ArgumentException($"input and output sizes must be positive (got {recipe.InputSize}, {recipe.OutputSize})");
            if (recipe.HiddenSizes is null) throw new ArgumentException("hidden sizes must be one or more positive numbers");
            // Each hidden size becomes up to five layers: refuse a long list before the configs are made.
            if (recipe.HiddenSizes.Length > Models.Architecture.MaxLayers)
                throw new ArgumentException($"{recipe.HiddenSizes.Length} hidden sizes are more than a network of {Models.Architecture.MaxLayers} layers holds");
            if (kind is NetworkKind.SimpleConv or NetworkKind.DeepConv && recipe.InputSize != 784)
                throw new ArgumentException($"{recipe.Kind} takes 1×28×28 input (input size 784)");
            var spec = new ModelSpec
            {
                Kind = kind,
                HiddenSizes = [.. recipe.HiddenSizes],
                Activation = ActivationLayers.Parse(Required(recipe.Activation, "activation")),
                WeightInit = ZeroDL.WeightInit.Parse(Required(recipe.WeightInit, "weight_init")),
                WeightDecay = recipe.WeightDecay,
                // Version 1 ignored BatchNorm and dropout outside mlp-bn and deepconv (and BatchNorm in simpleconv).
                BatchNorm = extended && recipe.BatchNorm,
                BatchNormMode = BatchNormalization<float>.ParseMode(Required(recipe.BatchNormMode, "batch_norm_mode")),
                Dropout = extended ? recipe.Dropout : 0,
                DropoutMode = Dropout<float>.ParseMode(Required(recipe.DropoutMode, "dropout_mode")),
                OutputDropout = recipe.OutputDropout,
            };
            return spec.ToArchitecture(spec.IsConvolutional ? [1, 28, 28] : [recipe.InputSize], recipe.OutputSize);
        }
        catch (ArgumentException e) { throw new FormatException($"invalid architecture: {e.Message.Split(" (Parameter")[0]}", e); }
    }

    /// <summary>A string field of the recipe, which JSON may give as null.</summary>
    private static string Required(string? value, string field) => value ?? throw new ArgumentException($"'{field}' is null");
}
