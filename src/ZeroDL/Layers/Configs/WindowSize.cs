using System.Text.Json;
using System.Text.Json.Serialization;

namespace ZeroDL.Layers;

/// <summary>The height and width of a filter or pooling window; in JSON [h, w], or one number for a square.</summary>
[JsonConverter(typeof(WindowSizeJsonConverter))]
public readonly record struct WindowSize(int Height, int Width)
{
    public static WindowSize Square(int side) => new(side, side);
    public override string ToString() => $"{Height}×{Width}";
}

internal sealed class WindowSizeJsonConverter : JsonConverter<WindowSize>
{
    public override WindowSize Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number) return WindowSize.Square(reader.GetInt32());
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("a window size is [height, width] or one number");
        var sides = new List<int>(2);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || sides.Count == 2) throw new JsonException("a window size is [height, width]: two integers");
            sides.Add(reader.GetInt32());
        }
        if (sides.Count != 2) throw new JsonException("a window size is [height, width]: two integers");
        return new WindowSize(sides[0], sides[1]);
    }

    public override void Write(Utf8JsonWriter writer, WindowSize value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Height);
        writer.WriteNumberValue(value.Width);
        writer.WriteEndArray();
    }
}
