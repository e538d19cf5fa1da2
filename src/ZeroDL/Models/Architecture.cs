using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using ZeroDL.Layers;

namespace ZeroDL.Models;

/// <summary>
/// A network without its weights: the shape of one input sample, (features) or (C, H, W), the configuration of every
/// layer in order, and the L2 weight decay λ. This is what a model file's <c>architecture</c> metadata and
/// <c>zerodl train --arch FILE</c> hold, as JSON:
/// <c>{"input_shape": [1, 28, 28], "layers": [{"type": "conv", "filters": 16, "kernel": [3, 3], "pad": 1}, …], "weight_decay": 0}</c>
/// (docs/architecture.md lists every layer type and key). <see cref="Build{T}"/> makes the network, drawing every
/// initial weight from one seed in layer order.
/// </summary>
public sealed record Architecture
{
    // The limits below are checked by Plan, which every path into a network goes through (a model file, --arch, a
    // preset, Build), before anything is allocated. Each is far above the book's networks (DeepConvNet: 21 layers,
    // 124 k parameters, 8.8 M multiply-adds per sample) and low enough that a few hundred bytes of JSON cannot ask for
    // more memory or time than a machine running ZeroDL has.

    /// <summary>The most layers a network may have: 1,024 (the book's largest has 21).</summary>
    public const int MaxLayers = 1024;

    /// <summary>
    /// The most values (parameters and state) a network may hold: 2²⁸, 1 GiB of float32, 2,000 times DeepConvNet. A
    /// model file is at least this large, and loading builds the network once more beside it.
    /// </summary>
    public const long MaxValues = 1L << 28;

    /// <summary>
    /// The most values one sample may have at any layer's input or output: 2²⁶ (256 MiB of float32 per sample; a
    /// 3×4096×4096 image has 50 M). Activations are held per sample of a batch, for forward and backward.
    /// </summary>
    public const int MaxSampleValues = 1 << 26;

    /// <summary>
    /// The most multiply-adds (with max pooling's window comparisons) one sample's forward pass may cost: 2³⁶, about
    /// a minute per sample on one core. It also bounds a convolution's im2col buffer (output pixels × C·kh·kw, which
    /// the multiply-adds exceed) and keeps every sum of per-layer costs far from overflowing a long.
    /// </summary>
    public const long MaxMultiplyAdds = 1L << 36;

    /// <summary>
    /// The longest architecture JSON read: 1 MiB of text (1,024 layers take about 100 KiB). Checked before parsing, so
    /// that a huge "layers" array is not materialised before <see cref="MaxLayers"/> refuses it.
    /// </summary>
    public const int MaxJsonLength = 1 << 20;

    public Architecture(IEnumerable<int> inputShape, IEnumerable<LayerConfig> layers, double weightDecay = 0)
    {
        InputShape = [.. inputShape];
        Layers = [.. layers];
        WeightDecay = weightDecay;
    }

    public ImmutableArray<int> InputShape { get; }
    public ImmutableArray<LayerConfig> Layers { get; }
    /// <summary>λ of the L2 penalty 0.5·λ·ΣW² (weights only).</summary>
    public double WeightDecay { get; }

    public bool Equals(Architecture? other) =>
        other is not null && InputShape.SequenceEqual(other.InputShape) && Layers.SequenceEqual(other.Layers) && WeightDecay.Equals(other.WeightDecay);

    public override int GetHashCode() => HashCode.Combine(InputShape.Length, Layers.Length, WeightDecay);

    /// <summary>Layer names as a network gives them: the kind numbered per kind in order (conv1, relu1, conv2, …).</summary>
    public static IReadOnlyList<string> LayerNames(IEnumerable<string> kinds)
    {
        var counts = new Dictionary<string, int>();
        var names = new List<string>();
        foreach (var kind in kinds)
        {
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
            names.Add($"{kind}{counts[kind]}");
        }
        return names;
    }

    /// <summary>One layer as the architecture places it: its name, config, input and output sample shapes, and tensors.</summary>
    public sealed record LayerPlan(string Name, LayerConfig Config, ImmutableArray<int> Input, ImmutableArray<int> Output, IReadOnlyList<TensorShape> Tensors);

    /// <summary>
    /// Every layer's place: checks each config's fields and that each layer takes the shape the one before gives,
    /// without allocating the network. Throws <see cref="ArgumentException"/> naming the first layer that is wrong,
    /// with its input shape; or when the network breaks a limit: <see cref="MaxLayers"/>, <see cref="LayerConfig.MaxSize"/>
    /// per dimension, <see cref="MaxSampleValues"/> per sample, <see cref="MaxValues"/> in all, <see cref="MaxMultiplyAdds"/>.
    /// </summary>
    public IReadOnlyList<LayerPlan> Plan()
    {
        if (InputShape.IsDefaultOrEmpty) throw new ArgumentException("the input shape needs at least one dimension");
        if (InputShape.Length > LayerConfig.MaxRank) throw new ArgumentException($"the input shape has {InputShape.Length} dimensions, at most {LayerConfig.MaxRank} allowed");
        if (InputShape.Any(d => d <= 0)) throw new ArgumentException($"input shape {LayerConfig.ShapeText(InputShape)} has a dimension ≤ 0");
        if (InputShape.Any(d => d > LayerConfig.MaxSize)) throw new ArgumentException($"input shape {LayerConfig.ShapeText(InputShape)}: each dimension must be at most {LayerConfig.MaxSize}");
        CheckSample(InputShape, "the input shape");
        if (Layers.IsDefaultOrEmpty) throw new ArgumentException("a network needs at least one layer");
        if (Layers.Length > MaxLayers) throw new ArgumentException($"{Layers.Length} layers are more than the {MaxLayers} a network may have");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new ArgumentException($"weight decay must be a finite number ≥ 0 (got {WeightDecay})");
        if (Layers.Any(l => l is null)) throw new ArgumentException($"layer {Layers.IndexOf(null!) + 1} is null");
        var names = LayerNames(Layers.Select(l => l.Kind));
        var plans = new List<LayerPlan>(Layers.Length);
        var shape = InputShape;
        long values = 0, cost = 0;
        for (int i = 0; i < Layers.Length; i++)
        {
            var config = Layers[i];
            try
            {
                config.Validate();
                var output = config.OutputShape(shape);
                CheckSample(output, "the output");
                var tensors = config.Tensors(shape);
                // Each tensor is below 2³¹ values and there are at most 4 per layer, so neither sum can overflow before its check.
                values += tensors.Sum(t => t.Elements);
                if (values > MaxValues) throw new ArgumentException($"the network would hold more than {MaxValues} values (at most {MaxValues} allowed)");
                cost += config.MultiplyAdds(shape) + (config is MaxPoolConfig pool ? pool.Comparisons(shape) : 0);
                if (cost > MaxMultiplyAdds) throw new ArgumentException($"the network would cost more than {MaxMultiplyAdds} multiply-adds per sample (at most {MaxMultiplyAdds} allowed)");
                plans.Add(new LayerPlan(names[i], config, shape, [.. output], tensors));
                shape = [.. output];
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{names[i]} ({config.Describe()}), input {LayerConfig.ShapeText(shape)}: {e.Message.Split(" (Parameter")[0]}");
            }
        }
        return plans;
    }

    private static void CheckSample(IReadOnlyList<int> shape, string what)
    {
        if (LayerConfig.Elements(shape) > MaxSampleValues)
            throw new ArgumentException($"{what} {LayerConfig.ShapeText(shape)} has more than {MaxSampleValues} values per sample (at most {MaxSampleValues} allowed)");
    }

    /// <summary>Shape of one output sample (the class scores); throws as <see cref="Plan"/> does.</summary>
    public ImmutableArray<int> OutputShape => Plan()[^1].Output;

    /// <summary>
    /// The network, its weights drawn from <c>new Rng(seed)</c> layer by layer in order (so the book's networks come
    /// out bit for bit as the book's code draws them). Throws as <see cref="Plan"/> does.
    /// </summary>
    public Sequential<T> Build<T>(int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plans = Plan();
        var rng = new Rng(seed);
        var layers = plans.Select(p => p.Config.Build<T>(p.Input, rng)).ToList();
        return new Sequential<T>(InputShape, layers, WeightDecay);
    }

    /// <summary>Per layer the output shape, parameters and multiply-adds per sample, and the totals.</summary>
    public NetworkSummary Summarize() => new(InputShape, [.. Plan().Select(p =>
        new NetworkSummary.Row(p.Name, p.Config.Describe(), p.Output, p.Config.ParameterCount(p.Input), p.Config.MultiplyAdds(p.Input)))]);

    /// <summary>One line: "1×28×28 → conv 16 3×3 pad 1 relu → … → affine 10".</summary>
    public string Describe() =>
        string.Join("×", InputShape) + " → " + string.Join(" → ", Layers.Select(l => l.Describe()))
        + (WeightDecay > 0 ? $", weight decay {WeightDecay.ToString("R", CultureInfo.InvariantCulture)}" : "");

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowOutOfOrderMetadataProperties = true,
        AllowDuplicateProperties = false,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        MaxDepth = 16,
    };

    private static readonly JsonSerializerOptions IndentedOptions = new(JsonOptions) { WriteIndented = true };

    /// <summary>The file format's JSON object (snake-case keys, the layers' "type" first).</summary>
    private sealed record Document
    {
        public required int[] InputShape { get; init; }
        public required LayerConfig[] Layers { get; init; }
        public double WeightDecay { get; init; }
    }

    /// <summary>
    /// The file format's JSON. The compact form is written key by key (<see cref="ArchitectureJsonWriter"/>, the same text as
    /// <see cref="ReferenceJson"/>'s serializer): a training run writes it while it trains.
    /// </summary>
    public string ToJson(bool indented = false) => (indented ? null : ArchitectureJsonWriter.TryWrite(this)) ?? ReferenceJson(indented);

    /// <summary>The JSON as the reflection-based serializer writes it (the text <see cref="ArchitectureJsonWriter"/> is held to).</summary>
    internal string ReferenceJson(bool indented = false) =>
        JsonSerializer.Serialize(new Document { InputShape = [.. InputShape], Layers = [.. Layers], WeightDecay = WeightDecay }, indented ? IndentedOptions : JsonOptions);

    /// <summary>A layer configuration alone as JSON ({"type": "affine", "units": 10, "init": "he"}).</summary>
    public static string ToJson(LayerConfig layer) => JsonSerializer.Serialize(layer, JsonOptions);

    /// <summary>
    /// Reads and checks (<see cref="Plan"/>) an architecture. Throws <see cref="FormatException"/> saying what is wrong:
    /// not JSON, an unknown layer type or key, a missing required key, a value out of range, a layer that cannot
    /// take the shape before it, or a network too large.
    /// </summary>
    public static Architecture FromJson(string json)
    {
        if (json.Length > MaxJsonLength) throw new FormatException($"architecture: {json.Length} characters of JSON are more than the {MaxJsonLength} allowed");
        Document? document;
        try { document = JsonSerializer.Deserialize<Document>(json, JsonOptions); }
        catch (JsonException e) { throw new FormatException($"architecture: {Clean(e.Message)}{(e.Path is { } at && !e.Message.Contains("Path:") ? $" (at {at})" : "")}", e); }
        catch (NotSupportedException e) { throw new FormatException($"architecture: a layer has no \"type\" or an unknown one ({Clean(e.Message)})", e); }
        catch (InvalidOperationException e) { throw new FormatException($"architecture: {Clean(e.Message)}", e); }
        if (document is null) throw new FormatException("architecture: the JSON is null");
        if (document.Layers.Any(l => l is null)) throw new FormatException("architecture: a layer is null");
        var architecture = new Architecture(document.InputShape, document.Layers, document.WeightDecay);
        try { architecture.Plan(); }
        catch (ArgumentException e) { throw new FormatException($"architecture: {e.Message}", e); }
        return architecture;
    }

    /// <summary>System.Text.Json's message without its pointer to the .NET type ("Path: … | LineNumber …" kept).</summary>
    private static string Clean(string message) => message.Replace("ZeroDL.Layers.", "").Replace("ZeroDL.Models.Architecture+Document", "architecture");
}
