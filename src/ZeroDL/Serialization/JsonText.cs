using System.Text;
using System.Text.Json;

namespace ZeroDL.Serialization;

/// <summary>
/// JSON written with a <see cref="Utf8JsonWriter"/> in the text <see cref="JsonSerializer"/> gives the same values (its
/// default encoder, no indentation), for the files a training run writes while it trains: the serializer builds its
/// converters by reflection on first use, which compiles a few hundred methods on a core the training uses, where the
/// writer's methods are compiled ahead of time with the framework.
/// </summary>
internal static class JsonText
{
    /// <summary>The text <paramref name="write"/> writes, as a string.</summary>
    public static string Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>A double as <see cref="System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals"/> writes it: a number, or the string NaN, Infinity or -Infinity.</summary>
    public static void Number(Utf8JsonWriter w, double value)
    {
        if (double.IsFinite(value)) w.WriteNumberValue(value);
        else w.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }

    /// <summary>A named double (<see cref="Number(Utf8JsonWriter, double)"/>), or null.</summary>
    public static void Number(Utf8JsonWriter w, string name, double? value)
    {
        w.WritePropertyName(name);
        if (value is double v) Number(w, v); else w.WriteNullValue();
    }

    /// <summary>A named integer, or null.</summary>
    public static void Number(Utf8JsonWriter w, string name, int? value)
    {
        if (value is int v) w.WriteNumber(name, v); else w.WriteNull(name);
    }

    /// <summary>A dictionary of strings as the serializer writes one: an object of its pairs in enumeration order.</summary>
    public static void WriteStrings(Utf8JsonWriter w, IEnumerable<KeyValuePair<string, string>> pairs)
    {
        w.WriteStartObject();
        foreach (var (key, value) in pairs) w.WriteString(key, value);
        w.WriteEndObject();
    }

    /// <summary>A list of strings as the serializer writes one: an array.</summary>
    public static void WriteStrings(Utf8JsonWriter w, IEnumerable<string> values)
    {
        w.WriteStartArray();
        foreach (string value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }
}
