using System.Globalization;
using System.Text.Json;
using ZeroDL.Data;
using ZeroDL.Models;

namespace ZeroDL.Serialization;

/// <summary>
/// A model read from a file: the network (its <see cref="Sequential{T}.Architecture"/> is the file's), the names of its
/// classes in output order, how raw pixels become its input, the file's metadata, and how the weights were stored.
/// </summary>
public sealed record LoadedModel(Sequential<float> Network, IReadOnlyList<string> ClassNames, InputNormalization Normalization,
    IReadOnlyDictionary<string, string> Metadata, StoredType StoredType)
{
    /// <summary>The network in one line (input shape and layers).</summary>
    public string Description => Network.Architecture.Describe();

    /// <summary>The preset the model was trained as (the training metadata's "model"), or null.</summary>
    public string? PresetName =>
        Metadata.TryGetValue("training", out var json) && TryReadStrings(json, out var training) && training.TryGetValue("model", out var name) ? name : null;

    private static bool TryReadStrings(string json, out Dictionary<string, string> values)
    {
        try { values = JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? []; return true; }
        catch (JsonException) { values = []; return false; }
    }
}

/// <summary>
/// ZeroDL model files (format_version 2): safetensors whose <c>__metadata__</c> holds <c>format = zerodl</c>,
/// <c>format_version = 2</c>, <c>architecture</c> (the <see cref="Architecture"/> JSON: input shape, layers, weight
/// decay), <c>classes</c> (a JSON array of class names in output order), <c>normalization</c>
/// (<c>{"pixel_scale": 255, "mean": […], "std": […]}</c>) and free-form training settings (<c>training</c>). Tensor
/// names are the network's stable names (affine1.W, batchnorm1.running_mean, …). Files are written atomically.
/// Files of format_version 1 (whose architecture was a preset's recipe) still load.
/// </summary>
public static class ModelFile
{
    public const string FormatName = "zerodl";
    public const int FormatVersion = 2;

    /// <summary>
    /// Writes any network. <paramref name="classNames"/> defaults to "0", "1", … one per output;
    /// <paramref name="normalization"/> to pixels/255 on each input channel (MNIST's).
    /// </summary>
    public static void Save(Sequential<float> net, string path, IReadOnlyDictionary<string, string>? training = null, StoredType type = StoredType.F32,
        IReadOnlyList<string>? classNames = null, InputNormalization? normalization = null)
    {
        var classes = classNames ?? DefaultClassNames(net.OutputSize);
        CheckClassNames(classes, net.OutputSize);
        var norm = normalization ?? InputNormalization.Identity(InputChannels(net.InputShape));
        if (norm.Channels != InputChannels(net.InputShape))
            throw new ArgumentException($"normalization has {norm.Channels} channel(s), the network's input {Layers.LayerConfig.ShapeText(net.InputShape)} has {InputChannels(net.InputShape)}");
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["architecture"] = net.Architecture.ToJson(),
            ["classes"] = ClassesJson(classes),
            ["normalization"] = NormalizationJson(norm),
        };
        if (training is not null)
            metadata["training"] = JsonText.Write(w => JsonText.WriteStrings(w, training));
        AtomicFile.Write(path, s => SafeTensors.Write(s, net.NamedTensors(), metadata, type));
    }

    /// <summary>"0", "1", … "<paramref name="count"/> − 1".</summary>
    public static IReadOnlyList<string> DefaultClassNames(int count) => [.. Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>The channels of an input: C of (C, H, W), else 1.</summary>
    public static int InputChannels(IReadOnlyList<int> inputShape) => inputShape.Count == 3 ? inputShape[0] : 1;

    /// <summary>
    /// Reads a model file (<see cref="Parse"/>); a missing or unreadable file is a <see cref="DataFormatException"/> naming it.
    /// </summary>
    public static LoadedModel Load(string path) => Parse(DataFile.ReadAllBytes(path), path);

    /// <summary>
    /// Reads a model from the bytes of a model file. In order, before anything is allocated in proportion to what the
    /// file declares: the safetensors header (<see cref="SafeTensors.ReadHeader"/>), the format and its version (1 or
    /// <see cref="FormatVersion"/>; any other is refused with its value), the architecture (strict JSON: an unknown key
    /// is refused by name; its sizes within <see cref="Architecture"/>'s limits), the class names and normalization, and
    /// every stored tensor's name and shape against the architecture's plan. Only then is the network built and each
    /// tensor decoded into it; a NaN or infinite value is refused naming the tensor and its index. Throws
    /// <see cref="DataFormatException"/> naming <paramref name="source"/> and the problem, never another exception type.
    /// </summary>
    public static LoadedModel Parse(byte[] bytes, string source)
    {
        var header = SafeTensors.ReadHeader(bytes, source);
        var metadata = header.Metadata;
        if (!metadata.TryGetValue("format", out var format) || format != FormatName || !metadata.TryGetValue("architecture", out var json))
            throw DataFormatException.For(source, format == CheckpointFile.FormatName
                ? "this is a training checkpoint (.ckpt), not a model file: train --resume reads it"
                : "not a ZeroDL model: the safetensors metadata has no format=zerodl and architecture");
        string version = metadata.GetValueOrDefault("format_version", "1");
        Architecture architecture;
        IReadOnlyList<string>? classes = null;
        InputNormalization? normalization = null;
        try
        {
            switch (version)
            {
                case "1":
                    architecture = ModelFileV1.Architecture(json);
                    break;
                case "2":
                    architecture = Architecture.FromJson(json);
                    if (metadata.TryGetValue("classes", out var c)) classes = ReadClassNames(c);
                    if (metadata.TryGetValue("normalization", out var n)) normalization = ReadNormalization(n);
                    break;
                default:
                    throw new FormatException($"format_version '{version}' is not one this ZeroDL reads (1 or {FormatVersion}); a newer ZeroDL wrote it?");
            }
        }
        catch (FormatException e) { throw DataFormatException.For(source, e.Message, e); }

        IReadOnlyList<Architecture.LayerPlan> plans;
        try { plans = architecture.Plan(); }
        catch (Exception e) when (e is ArgumentException or FormatException) { throw DataFormatException.For(source, $"invalid architecture: {e.Message.Split(" (Parameter")[0]}", e); }
        int outputs = plans[^1].Output.Aggregate(1, (a, d) => a * d);
        classes ??= DefaultClassNames(outputs);
        try { CheckClassNames(classes, outputs); }
        catch (ArgumentException e) { throw DataFormatException.For(source, e.Message, e); }
        int channels = InputChannels(architecture.InputShape);
        normalization ??= InputNormalization.Identity(channels);
        if (normalization.Channels != channels)
            throw DataFormatException.For(source, $"normalization has {normalization.Channels} channel(s), the input {Layers.LayerConfig.ShapeText(architecture.InputShape)} has {channels}");

        var stored = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var expected = plans.SelectMany(p => p.Tensors.Select(t => (Name: $"{p.Name}.{t.Name}", t.Shape))).ToList();
        foreach (var (name, shape) in expected)
        {
            if (!stored.TryGetValue(name, out var entry))
                throw DataFormatException.For(source, $"tensor '{name}' required by the architecture is missing");
            if (!entry.Shape.SequenceEqual(shape))
                throw DataFormatException.For(source, $"tensor '{name}' has shape {NDArray<float>.ShapeString([.. entry.Shape])}, the architecture needs {NDArray<float>.ShapeString([.. shape])}");
        }
        var extra = stored.Keys.Except(expected.Select(e => e.Name)).ToList();
        if (extra.Count > 0)
            throw DataFormatException.For(source, $"tensors not in the architecture: {string.Join(", ", extra.Take(5))}");

        // Every tensor now matches the plan, whose byte ranges the file holds: the network costs no more than the file.
        var net = architecture.Build<float>(seed: 0);
        foreach (var (name, value) in net.NamedTensors())
        {
            var span = value.Span;
            SafeTensors.Decode(bytes, header, stored[name], span);
            RequireFinite(span, name, source);
        }
        var type = header.Tensors.Count > 0 ? header.Tensors[0].Type : StoredType.F32;
        return new LoadedModel(net, classes, normalization, metadata, type);
    }

    /// <summary>
    /// Refuses a NaN or infinite value: a network holding one answers NaN for every input, so such weights are
    /// refused where they enter (a model file, an import) rather than at predict time. Names the tensor and the index.
    /// </summary>
    internal static void RequireFinite(ReadOnlySpan<float> values, string tensor, string source)
    {
        int at = IndexOfNonFinite(values);
        if (at >= 0) throw DataFormatException.For(source, $"tensor '{tensor}' holds {Describe(values[at])} at index {at}; weights must be finite");
    }

    /// <summary>The index of the first NaN or ±infinity in <paramref name="values"/>, or −1.</summary>
    internal static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        // The sum times 0 is 0 unless a value is NaN or ±∞ (or the sum overflows): one vectorised pass clears the common case.
        if (float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum(values) * 0f)) return -1;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    internal static string Describe(float v) => float.IsNaN(v) ? "NaN" : v > 0 ? "+infinity" : "−infinity";

    private static void CheckClassNames(IReadOnlyList<string> classes, int outputs)
    {
        if (classes.Count != outputs) throw new ArgumentException($"{classes.Count} class names for {outputs} outputs");
        if (classes.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("a class name is empty");
        if (classes.Distinct(StringComparer.Ordinal).Count() != classes.Count) throw new ArgumentException("class names repeat");
    }

    private static IReadOnlyList<string> ReadClassNames(string json)
    {
        try { return JsonSerializer.Deserialize<string[]>(json) ?? throw new FormatException("classes: null"); }
        catch (JsonException e) { throw new FormatException($"classes is not a JSON array of strings: {e.Message}", e); }
    }

    /// <summary>
    /// The metadata's <c>classes</c>: a JSON array of the names, as <see cref="JsonSerializer"/> writes it, written with a
    /// <see cref="Utf8JsonWriter"/> (<see cref="JsonText"/>: a training run saves its model while it trains).
    /// </summary>
    internal static string ClassesJson(IReadOnlyList<string> classes) => JsonText.Write(w => JsonText.WriteStrings(w, classes));

    private sealed record NormalizationDocument(float PixelScale, float[] Mean, float[] Std)
    {
        public static NormalizationDocument From(InputNormalization n) => new(n.PixelScale, [.. n.Mean], [.. n.Std]);

        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteNumber("pixel_scale", PixelScale);
            w.WriteStartArray("mean");
            foreach (float m in Mean) w.WriteNumberValue(m);
            w.WriteEndArray();
            w.WriteStartArray("std");
            foreach (float s in Std) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    private static readonly JsonSerializerOptions NormalizationOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>
    /// The metadata's <c>normalization</c>, in the text <see cref="NormalizationOptions"/>' serializer writes
    /// (<see cref="ReferenceNormalizationJson"/>; tests hold them equal), written with a <see cref="Utf8JsonWriter"/>.
    /// </summary>
    internal static string NormalizationJson(InputNormalization n) => JsonText.Write(NormalizationDocument.From(n).Write);

    /// <summary><see cref="NormalizationJson"/>'s reference: the reflection-based serializer's text, as written before.</summary>
    internal static string ReferenceNormalizationJson(InputNormalization n) => JsonSerializer.Serialize(NormalizationDocument.From(n), NormalizationOptions);

    private static InputNormalization ReadNormalization(string json)
    {
        try
        {
            var d = JsonSerializer.Deserialize<NormalizationDocument>(json, NormalizationOptions) ?? throw new FormatException("normalization: null");
            return new InputNormalization(d.Mean, d.Std, d.PixelScale);
        }
        catch (JsonException e) { throw new FormatException($"normalization is not {{\"pixel_scale\", \"mean\", \"std\"}}: {e.Message}", e); }
        catch (ArgumentException e) { throw new FormatException($"normalization: {e.Message}", e); }
    }
}
