using System.Text.Json;
using System.Text.Json.Serialization;

namespace ZeroDL.Layers;

/// <summary>
/// An enum as its member's name in lower kebab case (PerChannel ↔ "per-channel"), exactly: no numbers, no other
/// spellings, no combinations, so that a typo in an architecture file is an error rather than another member.
/// </summary>
internal sealed class JsonNameEnumConverter<T> : JsonConverter<T> where T : struct, Enum
{
    private static readonly (T Value, string Name)[] Names =
        [.. Enum.GetValues<T>().Select(v => (v, JsonNamingPolicy.KebabCaseLower.ConvertName(v.ToString())))];

    public static string NameOf(T value) => Names.First(n => n.Value.Equals(value)).Name;

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw new JsonException($"expected one of {string.Join(", ", Names.Select(n => $"\"{n.Name}\""))}, got {reader.TokenType}");
        string? text = reader.GetString();
        foreach (var (value, name) in Names)
            if (name == text) return value;
        throw new JsonException($"'{text}' is not one of {string.Join(", ", Names.Select(n => $"\"{n.Name}\""))}");
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(NameOf(value));
}
