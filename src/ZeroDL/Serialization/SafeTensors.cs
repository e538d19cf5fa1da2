using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ZeroDL.Data;

namespace ZeroDL.Serialization;

/// <summary>Element types a safetensors file may hold here.</summary>
public enum StoredType { F32, F16, F64 }

/// <summary>One named tensor as stored: its element type, shape and values (widened to float).</summary>
public sealed record StoredTensor(string Name, StoredType Type, int[] Shape, float[] Values);

/// <summary>
/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}}</c>), then the raw
/// little-endian data, offsets relative to its start. The reader checks every length and offset against the file
/// and refuses overlaps, gaps and shapes that do not match their byte ranges.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeader = 100L << 20;

    public static void Write(Stream output, IEnumerable<(string Name, NDArray<float> Value)> tensors, IReadOnlyDictionary<string, string> metadata, StoredType type = StoredType.F32)
    {
        if (type == StoredType.F64) throw new ArgumentException("models are written as F32 or F16");
        var list = tensors.ToList();
        var header = new JsonObject();
        var meta = new JsonObject();
        foreach (var (k, v) in metadata) meta[k] = v;
        header["__metadata__"] = meta;
        int elementSize = type == StoredType.F16 ? 2 : 4;
        long offset = 0;
        foreach (var (name, value) in list)
        {
            long bytes = (long)value.Size * elementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = type.ToString(),
                ["shape"] = new JsonArray(value.Shape.ToArray().Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        output.Write(len);
        output.Write(json);
        for (int i = json.Length; i < padded; i++) output.WriteByte((byte)' ');
        var buffer = new byte[1 << 16];
        foreach (var (_, value) in list)
        {
            var src = value.ReadOnlySpan;
            int pos = 0;
            for (int i = 0; i < src.Length; i++)
            {
                if (pos + 4 > buffer.Length) { output.Write(buffer, 0, pos); pos = 0; }
                if (type == StoredType.F16) { BinaryPrimitives.WriteHalfLittleEndian(buffer.AsSpan(pos), (Half)src[i]); pos += 2; }
                else { BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(pos), src[i]); pos += 4; }
            }
            output.Write(buffer, 0, pos);
        }
    }

    public static (Dictionary<string, StoredTensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        return Parse(DataFile.ReadAllBytes(path), path);
    }

    public static (Dictionary<string, StoredTensor> Tensors, Dictionary<string, string> Metadata) Parse(byte[] bytes, string source)
    {
        if (bytes.Length < 8) throw DataFormatException.For(source, $"truncated: {bytes.Length} bytes, a safetensors file starts with an 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)MaxHeader || headerLength > (ulong)(bytes.Length - 8))
            throw DataFormatException.For(source, $"truncated or not safetensors: header length {headerLength} exceeds the file ({bytes.Length} bytes)");
        int dataStart = 8 + (int)headerLength;
        JsonObject header;
        try
        {
            header = JsonNode.Parse(bytes.AsMemory(8, (int)headerLength).Span) as JsonObject
                     ?? throw DataFormatException.For(source, "malformed header: not a JSON object");
        }
        catch (JsonException e) { throw DataFormatException.For(source, $"malformed header: {e.Message}", e); }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
        var ranges = new List<(long Begin, long End, string Name)>();
        long dataLength = bytes.Length - dataStart;
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) throw DataFormatException.For(source, "malformed header: __metadata__ is not an object");
                foreach (var (k, v) in meta)
                    metadata[k] = v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : throw DataFormatException.For(source, $"malformed header: metadata '{k}' is not a string");
                continue;
            }
            if (node is not JsonObject entry) throw DataFormatException.For(source, $"malformed header: entry '{name}' is not an object");
            string dtype = GetString(entry, "dtype", name, source);
            StoredType type = dtype switch
            {
                "F32" => StoredType.F32, "F16" => StoredType.F16, "F64" => StoredType.F64,
                _ => throw DataFormatException.For(source, $"tensor '{name}': dtype {dtype} is not supported (F32, F16, F64 are)"),
            };
            int size = type switch { StoredType.F16 => 2, StoredType.F32 => 4, _ => 8 };
            var shape = GetLongs(entry, "shape", name, source);
            var offsets = GetLongs(entry, "data_offsets", name, source);
            if (offsets.Length != 2) throw DataFormatException.For(source, $"tensor '{name}': data_offsets must be [begin, end]");
            long begin = offsets[0], end = offsets[1];
            if (begin < 0 || end < begin || end > dataLength)
                throw DataFormatException.For(source, $"tensor '{name}': offsets [{begin}, {end}] out of range (data is {dataLength} bytes)");
            long count = 1;
            foreach (long d in shape)
            {
                if (d < 0 || d > int.MaxValue) throw DataFormatException.For(source, $"tensor '{name}': invalid dimension {d}");
                count *= d;
                if (count > int.MaxValue) throw DataFormatException.For(source, $"tensor '{name}': too many elements");
            }
            if (count * size != end - begin)
                throw DataFormatException.For(source, $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {count * size} bytes, offsets give {end - begin}");
            var values = new float[count];
            var span = bytes.AsSpan(dataStart + (int)begin, (int)(end - begin));
            for (int i = 0; i < count; i++)
                values[i] = type switch
                {
                    StoredType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(span[(i * 2)..]),
                    StoredType.F32 => BinaryPrimitives.ReadSingleLittleEndian(span[(i * 4)..]),
                    _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(span[(i * 8)..]),
                };
            tensors[name] = new StoredTensor(name, type, shape.Select(d => (int)d).ToArray(), values);
            ranges.Add((begin, end, name));
        }
        ranges.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        long expected = 0;
        foreach (var (begin, end, name) in ranges)
        {
            if (begin < expected) throw DataFormatException.For(source, $"tensor '{name}': its bytes overlap another tensor's");
            if (begin > expected) throw DataFormatException.For(source, $"tensor '{name}': gap of {begin - expected} bytes before its data");
            expected = end;
        }
        if (expected != dataLength) throw DataFormatException.For(source, $"{dataLength - expected} bytes after the last tensor's data");
        return (tensors, metadata);
    }

    private static string GetString(JsonObject o, string key, string name, string source) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw DataFormatException.For(source, $"tensor '{name}': missing or invalid '{key}'");

    private static long[] GetLongs(JsonObject o, string key, string name, string source)
    {
        if (o[key] is not JsonArray array) throw DataFormatException.For(source, $"tensor '{name}': missing or invalid '{key}'");
        var result = new long[array.Count];
        for (int i = 0; i < array.Count; i++)
            result[i] = array[i] is JsonValue v && v.TryGetValue<long>(out long l) ? l : throw DataFormatException.For(source, $"tensor '{name}': '{key}' must hold integers");
        return result;
    }
}
