using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using ZeroDL.Data;

namespace ZeroDL.Serialization;

/// <summary>An array read from a .npy file: its dtype descriptor, shape and values (widened to double).</summary>
public sealed record NpyArray(string Dtype, int[] Shape, double[] Data)
{
    public NDArray<T> ToNDArray<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        NDArray<T>.From(Data, Shape.Length == 0 ? [1] : Shape);
}

/// <summary>
/// Reader for NumPy's .npy (format versions 1–3) and .npz (a ZIP of .npy, stored or deflated). Accepts
/// little-endian float32, float64, int32, int64 and uint8, in C or Fortran order (the book's sample_weight
/// stores some arrays in Fortran order; they are reordered to C order); anything else is refused by name.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int MaxHeader = 1 << 20;

    public static NpyArray Read(byte[] bytes, string source)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw DataFormatException.For(source, "not a .npy array (missing \\x93NUMPY magic)");
        int major = bytes[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1: headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); headerStart = 10; break;
            case 2 or 3:
                if (bytes.Length < 12) throw DataFormatException.For(source, "truncated .npy header");
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
                if (len > MaxHeader) throw DataFormatException.For(source, $".npy header of {len} bytes is implausibly large");
                headerLength = (int)len; headerStart = 12; break;
            default: throw DataFormatException.For(source, $".npy format version {major} is not supported (1–3 are)");
        }
        if (headerStart + headerLength > bytes.Length) throw DataFormatException.For(source, "truncated .npy header");
        string header = System.Text.Encoding.UTF8.GetString(bytes, headerStart, headerLength);
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw DataFormatException.For(source, $"malformed .npy header: {header.Trim()}");
        var shape = ParseShape(shapeMatch.Groups[1].Value, source);
        string dtype = descr.Groups[1].Value;
        int itemSize = dtype switch
        {
            "<f4" or "<i4" => 4,
            "<f8" or "<i8" => 8,
            "|u1" or "<u1" => 1,
            _ => throw DataFormatException.For(source, $"dtype '{dtype}' is not supported (little-endian float32/float64/int32/int64/uint8 are)"),
        };
        long count = 1;
        foreach (int d in shape) { count *= d; if (count > int.MaxValue) throw DataFormatException.For(source, "array too large"); }
        int dataStart = headerStart + headerLength;
        long needed = count * itemSize;
        if (bytes.Length - dataStart != needed)
            throw DataFormatException.For(source, $"data is {bytes.Length - dataStart} bytes, shape ({string.Join(", ", shape)}) of {dtype} needs {needed}");
        var data = new double[count];
        var span = bytes.AsSpan(dataStart);
        for (int i = 0; i < count; i++)
        {
            data[i] = dtype switch
            {
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(span[(i * 4)..]),
                "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(span[(i * 8)..]),
                "<i4" => BinaryPrimitives.ReadInt32LittleEndian(span[(i * 4)..]),
                "<i8" => BinaryPrimitives.ReadInt64LittleEndian(span[(i * 8)..]),
                _ => span[i],
            };
        }
        if (fortran.Groups[1].Value == "True" && shape.Length > 1) data = FortranToC(data, shape);
        return new NpyArray(dtype, shape, data);
    }

    /// <summary>Reorders column-major (Fortran) data to row-major: the first index varies fastest in the source.</summary>
    private static double[] FortranToC(double[] data, int[] shape)
    {
        var result = new double[data.Length];
        var index = new int[shape.Length];
        for (int f = 0; f < data.Length; f++)
        {
            int c = 0;
            for (int d = 0; d < shape.Length; d++) c = c * shape[d] + index[d];
            result[c] = data[f];
            for (int d = 0; d < shape.Length && ++index[d] == shape[d]; d++) index[d] = 0;
        }
        return result;
    }

    public static NpyArray ReadFile(string path) => Read(DataFile.ReadAllBytes(path), path);

    /// <summary>Every array of an .npz file, by name without the ".npy" suffix.</summary>
    public static Dictionary<string, NpyArray> ReadNpz(string path)
    {
        var bytes = DataFile.ReadAllBytes(path);
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                if (entry.Length > 1L << 30) throw DataFormatException.For(path, $"entry {entry.FullName} is larger than 1 GiB");
                using var s = entry.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                string name = entry.FullName[..^4];
                result[name] = Read(ms.ToArray(), $"{path}:{entry.FullName}");
            }
        }
        catch (InvalidDataException e) { throw DataFormatException.For(path, $"not a readable .npz (zip) file: {e.Message}", e); }
        catch (NotSupportedException e) { throw DataFormatException.For(path, $"unsupported zip entry: {e.Message}", e); }
        return result;
    }

    private static int[] ParseShape(string text, string source)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw DataFormatException.For(source, $"malformed shape ({text}) in .npy header");
        return shape;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")] private static partial Regex DescrPattern();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")] private static partial Regex FortranPattern();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapePattern();
}
