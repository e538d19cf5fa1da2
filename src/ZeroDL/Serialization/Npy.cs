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
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The longest .npy header read: 1 MiB (NumPy writes about 128 bytes; version 1 allows 64 KiB).</summary>
    public const int MaxHeader = 1 << 20;

    /// <summary>The most dimensions a shape may have: 64, NumPy 2's own limit (NPY_MAXDIMS).</summary>
    public const int MaxRank = 64;

    /// <summary>
    /// The most values one array may hold: 2²⁴ (128 MiB once widened to double), 300 times the book's largest array
    /// (DeepConvNet's W7, 1024×50). Bounds what an array costs whatever its dtype: a uint8 array widens to 8 times its file.
    /// </summary>
    public const int MaxValues = 1 << 24;

    /// <summary>The most bytes one .npz entry may inflate to: an array of <see cref="MaxValues"/> 8-byte values and its header.</summary>
    public const long MaxEntryBytes = (long)MaxValues * 8 + MaxHeader + 12;

    /// <summary>The most bytes all of an .npz's entries may inflate to together: 1 GiB, whatever their number.</summary>
    public const long MaxNpzBytes = 1L << 30;

    /// <summary>
    /// The array in the bytes of a .npy file. Throws <see cref="DataFormatException"/> naming <paramref name="source"/>
    /// and the problem (bad magic, version, header, dtype, shape, or a data length that does not match the shape).
    /// </summary>
    public static NpyArray Read(byte[] bytes, string source) => Read(bytes.AsSpan(), source);

    /// <inheritdoc cref="Read(byte[], string)"/>
    public static NpyArray Read(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw DataFormatException.For(source, "not a .npy array (missing \\x93NUMPY magic)");
        int major = bytes[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1: headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]); headerStart = 10; break;
            case 2 or 3:
                if (bytes.Length < 12) throw DataFormatException.For(source, "truncated .npy header");
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
                if (len > MaxHeader) throw DataFormatException.For(source, $".npy header of {len} bytes is implausibly large");
                headerLength = (int)len; headerStart = 12; break;
            default: throw DataFormatException.For(source, $".npy format version {major} is not supported (1–3 are)");
        }
        if (headerStart + headerLength > bytes.Length) throw DataFormatException.For(source, "truncated .npy header");
        // NumPy writes the header as latin-1 (version 1, 2) or UTF-8 (3); the keys and values read here are ASCII.
        string header = System.Text.Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLength));
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw DataFormatException.For(source, $"malformed .npy header: {(header.Length > 200 ? header[..200] + "…" : header).Trim()}");
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
        foreach (int d in shape)
        {
            count *= d; // both factors < 2³¹: no overflow before the check
            if (count > MaxValues) throw DataFormatException.For(source, $"shape ({string.Join(", ", shape)}) has more than the {MaxValues} values an array may have");
        }
        int dataStart = headerStart + headerLength;
        long needed = count * itemSize;
        if (bytes.Length - dataStart != needed)
            throw DataFormatException.For(source, $"data is {bytes.Length - dataStart} bytes, shape ({string.Join(", ", shape)}) of {dtype} needs {needed}");
        var data = new double[count];
        var span = bytes[dataStart..];
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

    /// <summary>Every array of an .npz file, by name without the ".npy" suffix (<see cref="ReadNpz(byte[], string)"/>).</summary>
    public static Dictionary<string, NpyArray> ReadNpz(string path) => ReadNpz(DataFile.ReadAllBytes(path), path);

    /// <summary>
    /// Every array of the .npz (zip) held in <paramref name="bytes"/>, by entry name without the ".npy" suffix; entries
    /// not ending in ".npy" are skipped. Each entry is inflated, its length checked against the central directory's
    /// (at most <see cref="MaxEntryBytes"/>, <see cref="MaxNpzBytes"/> for all together, never allocated on the
    /// declaration alone) and its CRC-32 against the stored one, before it is parsed. A name that appears twice is
    /// refused. Throws <see cref="DataFormatException"/> naming <paramref name="source"/> (and the entry) and the problem.
    /// </summary>
    public static Dictionary<string, NpyArray> ReadNpz(byte[] bytes, string source)
    {
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        long total = 0;
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
            var buffer = new byte[1 << 16];
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                string name = entry.FullName[..^4];
                if (result.ContainsKey(name)) throw DataFormatException.For(source, $"entry {entry.FullName} appears twice");
                long declared = entry.Length;
                if (declared > MaxEntryBytes) throw DataFormatException.For(source, $"entry {entry.FullName} declares {declared} bytes, more than the {MaxEntryBytes} an array may take");
                if (total + declared > MaxNpzBytes) throw DataFormatException.For(source, $"entries declare more than the {MaxNpzBytes} bytes an .npz may inflate to");
                // Grown as the data comes, not allocated on the declared length, which a hostile directory may inflate.
                using var content = new MemoryStream((int)Math.Min(declared, 1 << 20));
                using (var s = entry.Open())
                {
                    int n;
                    while ((n = s.Read(buffer)) > 0)
                    {
                        if (content.Length + n > declared)
                            throw DataFormatException.For(source, $"entry {entry.FullName} inflates to more than the {declared} bytes its directory entry declares");
                        // Doubling, but never past the declared size: the buffer ends exactly as large as the entry.
                        if (content.Length + n > content.Capacity)
                            content.Capacity = (int)Math.Min(declared, Math.Max(2L * content.Capacity, content.Length + n));
                        content.Write(buffer, 0, n);
                    }
                }
                if (content.Length != declared)
                    throw DataFormatException.For(source, $"entry {entry.FullName} inflates to {content.Length} bytes, its directory entry declares {declared}");
                var data = content.GetBuffer().AsSpan(0, (int)content.Length);
                uint crc = Imaging.Crc32.Compute(data);
                if (crc != entry.Crc32)
                    throw DataFormatException.For(source, $"entry {entry.FullName} is corrupt: CRC-32 {crc:x8}, the zip stores {entry.Crc32:x8}");
                total += declared;
                result[name] = Read(data, $"{source}:{entry.FullName}");
            }
        }
        catch (InvalidDataException e) { throw DataFormatException.For(source, $"not a readable .npz (zip) file: {e.Message}", e); }
        catch (NotSupportedException e) { throw DataFormatException.For(source, $"unsupported zip entry: {e.Message}", e); }
        catch (IOException e) { throw DataFormatException.For(source, $"not a readable .npz (zip) file: {e.Message}", e); }
        return result;
    }

    private static int[] ParseShape(string text, string source)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length > MaxRank) throw DataFormatException.For(source, $"shape of {parts.Length} dimensions in .npy header, at most {MaxRank} allowed");
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
