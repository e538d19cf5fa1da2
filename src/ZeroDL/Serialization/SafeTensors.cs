using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
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
    /// <summary>
    /// The largest header read: 16 MiB. A ZeroDL model's header is a few KiB (an architecture is at most
    /// <see cref="Models.Architecture.MaxJsonLength"/>); 16 MiB leaves room for 65,536 class names of 255 bytes. The
    /// reference implementation (huggingface/safetensors) allows 100 MiB, which cost 3 GB and minutes to refuse here.
    /// </summary>
    public const long MaxHeader = 16L << 20;

    /// <summary>
    /// The most tensors a header may list: 65,536 (a ZeroDL network holds at most 4 per layer, 4,096 in all). Counted
    /// as the entries are read, before each is materialised.
    /// </summary>
    public const int MaxTensors = 1 << 16;

    /// <summary>The most dimensions a tensor's shape may have: 8 (ZeroDL's tensors have at most 4).</summary>
    public const int MaxRank = 8;

    /// <summary>The header's JSON nests three deep (object, entry, shape array); one level of slack.</summary>
    private const int MaxDepth = 4;

    private const string MetadataKey = "__metadata__";

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

    /// <summary>Reads and checks a whole file (<see cref="Parse"/>); a missing or unreadable file is a <see cref="DataFormatException"/> naming it.</summary>
    public static (Dictionary<string, StoredTensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        return Parse(DataFile.ReadAllBytes(path), path);
    }

    /// <summary>
    /// The tensors and metadata of a safetensors file held in <paramref name="bytes"/>: the header checked by
    /// <see cref="ReadHeader"/>, then every tensor's values decoded (widened to float). Throws
    /// <see cref="DataFormatException"/> naming <paramref name="source"/> and the problem; never another exception type.
    /// </summary>
    public static (Dictionary<string, StoredTensor> Tensors, Dictionary<string, string> Metadata) Parse(byte[] bytes, string source)
    {
        var header = ReadHeader(bytes, source);
        var tensors = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
        foreach (var entry in header.Tensors)
        {
            var values = new float[entry.Count];
            Decode(bytes, header, entry, values);
            tensors.Add(entry.Name, new StoredTensor(entry.Name, entry.Type, [.. entry.Shape], values));
        }
        return (tensors, new Dictionary<string, string>(header.Metadata, StringComparer.Ordinal));
    }

    /// <summary>Bytes per element of a stored type.</summary>
    public static int ElementSize(StoredType type) => type switch { StoredType.F16 => 2, StoredType.F32 => 4, _ => 8 };

    /// <summary>
    /// Decodes the values of <paramref name="entry"/> (one of <paramref name="header"/>'s, read from the same
    /// <paramref name="bytes"/>) into <paramref name="destination"/>, which must hold exactly <see cref="TensorEntry.Count"/> values.
    /// </summary>
    public static void Decode(byte[] bytes, SafeTensorsHeader header, TensorEntry entry, Span<float> destination)
    {
        if (destination.Length != entry.Count) throw new ArgumentException($"tensor '{entry.Name}' has {entry.Count} values, the destination {destination.Length}");
        var span = bytes.AsSpan(header.DataStart + (int)entry.Begin, (int)(entry.End - entry.Begin));
        switch (entry.Type)
        {
            case StoredType.F16:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(span[(i * 2)..]);
                break;
            case StoredType.F32:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(i * 4)..]);
                break;
            default:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(span[(i * 8)..]);
                break;
        }
    }

    /// <summary>
    /// Reads and checks the header of a safetensors file held in <paramref name="bytes"/>, decoding no tensor data. The
    /// header must be at most <see cref="MaxHeader"/> bytes of valid UTF-8 JSON: one object whose keys are unique
    /// (a repeated tensor name or metadata key is refused by name), "__metadata__" an object of strings, every other
    /// key (at most <see cref="MaxTensors"/>) a tensor entry with exactly "dtype" (F32, F16 or F64), "shape" (at most <see cref="MaxRank"/> dimensions,
    /// each 0 … 2³¹ − 1, at most 2³¹ − 1 values) and "data_offsets" [begin, end] within the data section, whose byte
    /// count matches the shape. The entries must tile the data section exactly. Every size is checked against the
    /// file's length before anything is allocated in proportion to it. Throws <see cref="DataFormatException"/> naming
    /// <paramref name="source"/> and the problem.
    /// </summary>
    public static SafeTensorsHeader ReadHeader(byte[] bytes, string source)
    {
        if (bytes.Length < 8) throw DataFormatException.For(source, $"truncated: {bytes.Length} bytes, a safetensors file starts with an 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw DataFormatException.For(source, $"truncated or not safetensors: header length {headerLength} exceeds the file ({bytes.Length} bytes)");
        if (headerLength > MaxHeader)
            throw DataFormatException.For(source, $"header of {headerLength} bytes is larger than the {MaxHeader >> 20} MiB a safetensors header may have");
        int dataStart = 8 + (int)headerLength;
        var json = bytes.AsMemory(8, (int)headerLength);
        if (!Utf8.IsValid(json.Span))
            throw DataFormatException.For(source, $"malformed header: invalid UTF-8 at byte {8 + FirstInvalidUtf8(json.Span)}");

        JsonDocument document;
        try { document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth }); }
        catch (JsonException e) { throw DataFormatException.For(source, $"malformed header: {e.Message}", e); }
        using (document)
        try
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw DataFormatException.For(source, "malformed header: not a JSON object");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<TensorEntry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            long dataLength = bytes.Length - dataStart;
            foreach (var property in root.EnumerateObject())
            {
                string name = property.Name;
                if (!names.Add(name))
                    throw DataFormatException.For(source, name == MetadataKey ? $"malformed header: {MetadataKey} appears twice" : $"malformed header: tensor '{name}' appears twice");
                if (name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw DataFormatException.For(source, $"malformed header: {MetadataKey} is not an object");
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String) throw DataFormatException.For(source, $"malformed header: metadata '{item.Name}' is not a string");
                        if (!metadata.TryAdd(item.Name, item.Value.GetString()!)) throw DataFormatException.For(source, $"malformed header: metadata key '{item.Name}' appears twice");
                    }
                    continue;
                }
                if (entries.Count == MaxTensors) throw DataFormatException.For(source, $"malformed header: more than the {MaxTensors} tensors a file may hold");
                entries.Add(ReadEntry(name, property.Value, dataLength, source));
            }
            var ranges = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
            long expected = 0;
            foreach (var e in ranges)
            {
                if (e.Begin < expected) throw DataFormatException.For(source, $"tensor '{e.Name}': its bytes overlap another tensor's");
                if (e.Begin > expected) throw DataFormatException.For(source, $"tensor '{e.Name}': gap of {e.Begin - expected} bytes before its data");
                expected = e.End;
            }
            if (expected != dataLength) throw DataFormatException.For(source, $"{dataLength - expected} bytes after the last tensor's data");
            return new SafeTensorsHeader(entries, metadata, dataStart);
        }
        // A string with an escaped lone surrogate ("\ud800") parses as JSON but cannot become a .NET string.
        catch (InvalidOperationException e) { throw DataFormatException.For(source, $"malformed header: {e.Message}", e); }
    }

    private static TensorEntry ReadEntry(string name, JsonElement entry, long dataLength, string source)
    {
        if (entry.ValueKind != JsonValueKind.Object) throw DataFormatException.For(source, $"malformed header: entry '{name}' is not an object");
        string? dtype = null;
        long[]? shape = null, offsets = null;
        foreach (var field in entry.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtype is null:
                    dtype = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString()! : throw DataFormatException.For(source, $"tensor '{name}': 'dtype' is not a string");
                    break;
                case "shape" when shape is null: shape = GetLongs(field.Value, "shape", MaxRank, name, source); break;
                case "data_offsets" when offsets is null: offsets = GetLongs(field.Value, "data_offsets", 2, name, source); break;
                case "dtype" or "shape" or "data_offsets": throw DataFormatException.For(source, $"tensor '{name}': '{field.Name}' appears twice");
                default: throw DataFormatException.For(source, $"tensor '{name}': unknown key '{field.Name}' (an entry has dtype, shape and data_offsets)");
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw DataFormatException.For(source, $"tensor '{name}': missing '{(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}'");
        StoredType type = dtype switch
        {
            "F32" => StoredType.F32, "F16" => StoredType.F16, "F64" => StoredType.F64,
            _ => throw DataFormatException.For(source, $"tensor '{name}': dtype {dtype} is not supported (F32, F16, F64 are)"),
        };
        if (offsets.Length != 2) throw DataFormatException.For(source, $"tensor '{name}': data_offsets must be [begin, end]");
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin || end > dataLength)
            throw DataFormatException.For(source, $"tensor '{name}': offsets [{begin}, {end}] out of range (data is {dataLength} bytes)");
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0 || d > int.MaxValue) throw DataFormatException.For(source, $"tensor '{name}': invalid dimension {d}");
            count *= d; // both factors ≤ 2³¹ − 1: no overflow before the check below
            if (count > int.MaxValue) throw DataFormatException.For(source, $"tensor '{name}': too many elements");
        }
        int size = ElementSize(type);
        if (count * size != end - begin)
            throw DataFormatException.For(source, $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {count * size} bytes, offsets give {end - begin}");
        return new TensorEntry(name, type, [.. shape.Select(d => (int)d)], begin, end);
    }

    private static long[] GetLongs(JsonElement array, string key, int maxLength, string name, string source)
    {
        if (array.ValueKind != JsonValueKind.Array) throw DataFormatException.For(source, $"tensor '{name}': '{key}' is not an array");
        int length = array.GetArrayLength();
        if (length > maxLength) throw DataFormatException.For(source, $"tensor '{name}': '{key}' has {length} entries, at most {maxLength} allowed");
        var result = new long[length];
        int i = 0;
        foreach (var item in array.EnumerateArray())
            result[i++] = item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out long l) ? l : throw DataFormatException.For(source, $"tensor '{name}': '{key}' must hold integers");
        return result;
    }

    /// <summary>The offset of the first byte that does not start a valid UTF-8 sequence (for the message).</summary>
    private static int FirstInvalidUtf8(ReadOnlySpan<byte> text)
    {
        int at = 0;
        while (at < text.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(text[at..], out _, out int consumed) != System.Buffers.OperationStatus.Done) return at;
            at += consumed;
        }
        return at;
    }
}
