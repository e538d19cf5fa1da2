using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace ZeroDL.Serialization;

/// <summary>
/// Writes float32 arrays as NumPy .npy files (format version 1.0, little-endian, C order), which
/// <c>numpy.load</c> reads as they are and <see cref="Npy.Read(byte[], string)"/> reads back.
/// </summary>
public static class NpyWriter
{
    /// <summary>
    /// Writes <paramref name="values"/> with <paramref name="shape"/> (C order: the last index varies fastest) to
    /// <paramref name="path"/>, atomically.
    /// </summary>
    /// <exception cref="ArgumentException">the shape has a negative dimension, or does not hold exactly the values.</exception>
    public static void Write(string path, ReadOnlySpan<float> values, ReadOnlySpan<int> shape)
    {
        byte[] bytes = Encode(values, shape);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The bytes of the .npy file <see cref="Write"/> writes.</summary>
    public static byte[] Encode(ReadOnlySpan<float> values, ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"dimension {d} is negative", nameof(shape));
            count *= d;
        }
        if (count != values.Length) throw new ArgumentException($"the shape holds {count} values, {values.Length} were given", nameof(shape));

        var dims = new StringBuilder();
        foreach (int d in shape) dims.Append(d.ToString(CultureInfo.InvariantCulture)).Append(shape.Length == 1 ? "," : ", ");
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims.ToString().TrimEnd(' ', ',')}{(shape.Length == 1 ? "," : "")}), }}";
        // NumPy pads the header with spaces and a newline so that the data starts on a 64-byte boundary.
        int unpadded = 10 + dict.Length + 1, padded = (unpadded + 63) / 64 * 64;
        string header = dict + new string(' ', padded - unpadded) + "\n";
        if (header.Length > ushort.MaxValue) throw new ArgumentException("the shape is too long for a version 1.0 header", nameof(shape));

        var bytes = new byte[10 + header.Length + values.Length * sizeof(float)];
        bytes[0] = 0x93; "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1; bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(10));
        var data = bytes.AsSpan(10 + header.Length);
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data[(i * 4)..], values[i]);
        return bytes;
    }
}
