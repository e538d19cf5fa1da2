using System.Runtime.InteropServices;
using Onnx;
using ZeroDL.Data;
using ZeroDL.Layers;
using Architecture = ZeroDL.Models.Architecture;

namespace ZeroDL.Serialization.Onnx;

/// <summary>
/// Reads the values of an ONNX TensorProto (an initializer or a Constant node's value) after checking, before anything
/// is allocated, that its declared shape is small enough and matches the data the file actually holds. Throws
/// <see cref="DataFormatException"/> naming the file and the tensor.
/// </summary>
internal static class OnnxTensors
{
    /// <summary>The tensor's dimensions, each checked to be ≥ 0, at most <see cref="LayerConfig.MaxRank"/> of them, and their product at most <see cref="Architecture.MaxValues"/>.</summary>
    public static int[] Shape(TensorProto t, string source)
    {
        if (t.Dims.Count > LayerConfig.MaxRank) throw Bad(source, t, $"has {t.Dims.Count} dimensions, at most {LayerConfig.MaxRank} are read");
        var dims = new int[t.Dims.Count];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = t.Dims[i];
            if (d < 0) throw Bad(source, t, $"has dimension {d} < 0");
            if (d > Architecture.MaxValues || (count *= d) > Architecture.MaxValues)
                throw Bad(source, t, $"declares shape {ShapeText(t.Dims)}, more than the {Architecture.MaxValues} values a network may hold");
            dims[i] = (int)d;
        }
        return dims;
    }

    /// <summary>A float tensor's values, in row-major order, with its shape.</summary>
    public static (float[] Values, int[] Shape) Floats(TensorProto t, string source)
    {
        RequireSelfContained(t, source);
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw Bad(source, t, $"has data type {TypeName(t.DataType)}; ZeroDL reads float32 weights only");
        var shape = Shape(t, source);
        int count = shape.Aggregate(1, (a, d) => a * d);
        if (t.RawData.Length > 0)
        {
            if (t.FloatData.Count > 0) throw Bad(source, t, "holds both raw_data and float_data");
            if (t.RawData.Length != (long)count * sizeof(float))
                throw Bad(source, t, $"declares shape {ShapeText(t.Dims)} ({count} values) but holds {t.RawData.Length} bytes of data");
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian");
            return (MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray(), shape);
        }
        if (t.FloatData.Count != count)
            throw Bad(source, t, $"declares shape {ShapeText(t.Dims)} ({count} values) but holds {t.FloatData.Count}");
        return ([.. t.FloatData], shape);
    }

    /// <summary>An int64 tensor's values (a Reshape's target shape), at most <see cref="LayerConfig.MaxRank"/> of them.</summary>
    public static long[] Int64s(TensorProto t, string source)
    {
        RequireSelfContained(t, source);
        if (t.DataType != (int)TensorProto.Types.DataType.Int64) throw Bad(source, t, $"has data type {TypeName(t.DataType)}, not int64");
        var shape = Shape(t, source);
        int count = shape.Aggregate(1, (a, d) => a * d);
        if (count > LayerConfig.MaxRank) throw Bad(source, t, $"holds {count} values, more than a shape of at most {LayerConfig.MaxRank} dimensions");
        if (t.RawData.Length > 0)
        {
            if (t.Int64Data.Count > 0 || t.RawData.Length != count * sizeof(long))
                throw Bad(source, t, $"declares {count} int64 values but holds {t.RawData.Length} bytes of raw data{(t.Int64Data.Count > 0 ? " and int64_data" : "")}");
            return MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray();
        }
        if (t.Int64Data.Count != count) throw Bad(source, t, $"declares {count} values but holds {t.Int64Data.Count}");
        return [.. t.Int64Data];
    }

    /// <summary>Refuses data stored outside the file or in segments: ZeroDL reads one self-contained file.</summary>
    private static void RequireSelfContained(TensorProto t, string source)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External || t.ExternalData.Count > 0)
        {
            string location = t.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value ?? "another file";
            throw Bad(source, t, $"refers to external data ({location}); ZeroDL reads only self-contained ONNX files (save with all tensors inside)");
        }
        if (t.Segment is not null) throw Bad(source, t, "is stored in segments, which ZeroDL does not read");
    }

    public static string ShapeText(IEnumerable<long> dims) => "[" + string.Join(", ", dims) + "]";

    private static string TypeName(int type) =>
        Enum.IsDefined(typeof(TensorProto.Types.DataType), type) ? ((TensorProto.Types.DataType)type).ToString().ToLowerInvariant() : type.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static DataFormatException Bad(string source, TensorProto t, string problem) =>
        DataFormatException.For(source, $"tensor '{Printable(t.Name)}' {problem}");

    /// <summary>A name from the file, cut to 80 characters with control characters replaced, safe to print in one line.</summary>
    public static string Printable(string name)
    {
        var cut = name.Length > 80 ? name[..80] + "…" : name;
        return new string([.. cut.Select(c => char.IsControl(c) ? '?' : c)]);
    }
}
