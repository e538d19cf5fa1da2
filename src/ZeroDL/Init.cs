using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ZeroDL;

/// <summary>How <see cref="WeightInit"/> chooses the standard deviation of a layer's initial weights.</summary>
public enum WeightInitScheme
{
    /// <summary>He: √(2/n), for ReLU layers.</summary>
    He,
    /// <summary>Xavier (Glorot): √(1/n), for sigmoid and tanh layers.</summary>
    Xavier,
    /// <summary>One fixed standard deviation for every layer, the book's weight_init_std.</summary>
    FixedStd,
}

/// <summary>
/// Weight initialisation (book ch. 6.2): a fixed standard deviation, Xavier √(1/n) or He √(2/n), where n is
/// the number of inputs to a unit (the layer's fan-in). In JSON it is the string "he" or "xavier", or the fixed
/// standard deviation as a number (0.01).
/// </summary>
[JsonConverter(typeof(WeightInitJsonConverter))]
public readonly record struct WeightInit
{
    private WeightInit(WeightInitScheme scheme, double fixedStd)
    {
        Scheme = scheme;
        FixedStd = fixedStd;
    }

    public WeightInitScheme Scheme { get; }
    /// <summary>The standard deviation of <see cref="WeightInitScheme.FixedStd"/> (0 for the other schemes).</summary>
    public double FixedStd { get; }

    public static WeightInit He => new(WeightInitScheme.He, 0);
    public static WeightInit Xavier => new(WeightInitScheme.Xavier, 0);

    /// <summary>A fixed standard deviation: finite and ≥ 0, else <see cref="ArgumentOutOfRangeException"/>.</summary>
    public static WeightInit Std(double std) => std >= 0 && double.IsFinite(std)
        ? new(WeightInitScheme.FixedStd, std)
        : throw new ArgumentOutOfRangeException(nameof(std), std, "a weight init's standard deviation must be a finite number ≥ 0");

    /// <summary>The standard deviation for a layer with <paramref name="fanIn"/> inputs per unit.</summary>
    public double StdFor(int fanIn) => Scheme switch
    {
        WeightInitScheme.He => Math.Sqrt(2.0 / fanIn),
        WeightInitScheme.Xavier => Math.Sqrt(1.0 / fanIn),
        _ => FixedStd,
    };

    /// <summary>Parses "he" (alias "relu"), "xavier" (alias "sigmoid") or a number such as "0.01", as the book's weight_init_std.</summary>
    public static WeightInit Parse(string text)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "he": case "relu": return He;
            case "xavier": case "sigmoid": return Xavier;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double std) && std >= 0 && double.IsFinite(std))
            return Std(std);
        throw new FormatException($"weight init '{text}' is not 'he', 'xavier' or a non-negative number");
    }

    public override string ToString() => Scheme switch
    {
        WeightInitScheme.He => "he",
        WeightInitScheme.Xavier => "xavier",
        _ => FixedStd.ToString("R", CultureInfo.InvariantCulture),
    };
}

/// <summary>Reads and writes <see cref="WeightInit"/> as "he", "xavier" or a number.</summary>
internal sealed class WeightInitJsonConverter : JsonConverter<WeightInit>
{
    public override WeightInit Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            double std = reader.GetDouble();
            return std >= 0 && double.IsFinite(std) ? WeightInit.Std(std) : throw new JsonException($"weight init {std} is not a standard deviation ≥ 0");
        }
        if (reader.TokenType == JsonTokenType.String)
            return reader.GetString() switch
            {
                "he" => WeightInit.He,
                "xavier" => WeightInit.Xavier,
                var s => throw new JsonException($"weight init '{s}' is not \"he\", \"xavier\" or a number"),
            };
        throw new JsonException($"weight init must be \"he\", \"xavier\" or a number, not {reader.TokenType}");
    }

    public override void Write(Utf8JsonWriter writer, WeightInit value, JsonSerializerOptions options)
    {
        if (value.Scheme == WeightInitScheme.FixedStd) writer.WriteNumberValue(value.FixedStd);
        else writer.WriteStringValue(value.ToString());
    }
}

public static class Init
{
    /// <summary>A tensor of the given shape with elements drawn from N(0, std²).</summary>
    public static NDArray<T> Normal<T>(double std, Rng rng, params ReadOnlySpan<int> shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new NDArray<T>(shape);
        for (int i = 0; i < t.Size; i++) t.Data[i] = T.CreateTruncating(std * rng.NextGaussian());
        return t;
    }
}
