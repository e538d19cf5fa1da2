using System.Text.Json;
using ZeroDL.Layers;
using ZeroDL.Serialization;

namespace ZeroDL.Models;

/// <summary>
/// <see cref="Architecture.ToJson(bool)"/>'s compact text written key by key with a <see cref="Utf8JsonWriter"/>: the
/// text the reflection-based serializer gives (<see cref="Architecture.ReferenceJson"/>: snake-case keys in declaration
/// order, the layer's "type" first and its "kind" last, null activations left out, windows as [h, w], initialisations and modes by name). A
/// training run writes its architecture into a model file and a checkpoint while it trains, and the serializer builds
/// its converters on first use, by reflection and emitted code, on a core the training uses. Tests hold the two texts
/// equal for every layer type; a layer type not written here is left to the serializer.
/// </summary>
internal static class ArchitectureJsonWriter
{
    /// <summary>The compact JSON of <paramref name="architecture"/>, or null when a layer is of a type not written here or holds a non-finite number (the serializer's case).</summary>
    public static string? TryWrite(Architecture architecture)
    {
        if (!double.IsFinite(architecture.WeightDecay)) return null;
        foreach (var layer in architecture.Layers)
            if (!Writes(layer)) return null;
        return JsonText.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("input_shape");
            foreach (int d in architecture.InputShape) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteStartArray("layers");
            foreach (var layer in architecture.Layers) Write(w, layer);
            w.WriteEndArray();
            w.WriteNumber("weight_decay", architecture.WeightDecay);
            w.WriteEndObject();
        });
    }

    private static bool Writes(LayerConfig layer) => layer switch
    {
        AffineConfig a => Finite(a.Init),
        ConvConfig c => Finite(c.Init),
        BatchNormConfig b => double.IsFinite(b.Momentum) && double.IsFinite(b.Epsilon),
        DropoutConfig d => double.IsFinite(d.Ratio),
        MaxPoolConfig or ReluConfig or SigmoidConfig or TanhConfig or FlattenConfig => true,
        _ => false,
    };

    private static bool Finite(WeightInit init) => init.Scheme != WeightInitScheme.FixedStd || double.IsFinite(init.FixedStd);

    private static void Write(Utf8JsonWriter w, LayerConfig layer)
    {
        w.WriteStartObject();
        switch (layer)
        {
            case AffineConfig a:
                w.WriteString("type", "affine");
                w.WriteNumber("units", a.Units);
                Write(w, "init", a.Init);
                break;
            case ConvConfig c:
                w.WriteString("type", "conv");
                w.WriteNumber("filters", c.Filters);
                Write(w, "kernel", c.Kernel);
                w.WriteNumber("stride", c.Stride);
                w.WriteNumber("pad", c.Pad);
                Write(w, "init", c.Init);
                if (c.Activation is Activation activation) w.WriteString("activation", JsonNameEnumConverter<Activation>.NameOf(activation));
                break;
            case MaxPoolConfig m:
                w.WriteString("type", "max_pool");
                Write(w, "size", m.Size);
                w.WriteNumber("stride", m.Stride);
                w.WriteNumber("pad", m.Pad);
                break;
            case BatchNormConfig b:
                w.WriteString("type", "batchnorm");
                w.WriteString("mode", JsonNameEnumConverter<BatchNormMode>.NameOf(b.Mode));
                w.WriteNumber("momentum", b.Momentum);
                w.WriteNumber("epsilon", b.Epsilon);
                if (b.Activation is Activation bnActivation) w.WriteString("activation", JsonNameEnumConverter<Activation>.NameOf(bnActivation));
                break;
            case DropoutConfig d:
                w.WriteString("type", "dropout");
                w.WriteNumber("ratio", d.Ratio);
                w.WriteString("mode", JsonNameEnumConverter<DropoutMode>.NameOf(d.Mode));
                break;
            case ReluConfig: w.WriteString("type", "relu"); break;
            case SigmoidConfig: w.WriteString("type", "sigmoid"); break;
            case TanhConfig: w.WriteString("type", "tanh"); break;
            case FlattenConfig: w.WriteString("type", "flatten"); break;
            default: throw new ArgumentException($"no writer for {layer.GetType().Name}", nameof(layer));
        }
        // The serializer writes the overriding Kind properties (the [JsonIgnore] is on the abstract one), last.
        w.WriteString("kind", layer.Kind);
        w.WriteEndObject();
    }

    /// <summary>A window as its converter writes it: [height, width].</summary>
    private static void Write(Utf8JsonWriter w, string name, WindowSize size)
    {
        w.WriteStartArray(name);
        w.WriteNumberValue(size.Height);
        w.WriteNumberValue(size.Width);
        w.WriteEndArray();
    }

    /// <summary>An initialisation as its converter writes it: a standard deviation as a number, a scheme by name.</summary>
    private static void Write(Utf8JsonWriter w, string name, WeightInit init)
    {
        if (init.Scheme == WeightInitScheme.FixedStd) w.WriteNumber(name, init.FixedStd);
        else w.WriteString(name, init.ToString());
    }
}
