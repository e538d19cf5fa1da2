using System.Buffers.Binary;
using System.IO.Compression;

namespace ZeroDL.Data;

/// <summary>An IDX array as stored: unsigned bytes with their dimensions (outermost first).</summary>
public sealed record IdxArray(byte[] Data, int[] Dimensions);

/// <summary>
/// Reader for the IDX format MNIST is published in: magic 0x00 0x00 type ndims, then ndims big-endian int32
/// dimensions, then the data. Only unsigned-byte data (type 0x08) is accepted. Files may be gzip-compressed
/// (detected by the gzip magic, not by the name). Every size is checked against the file's real length.
/// </summary>
public static class Idx
{
    private const byte UnsignedByte = 0x08;
    private const long MaxElements = 1L << 31;

    /// <summary>
    /// Reads and validates an IDX file with <paramref name="expectedRank"/> dimensions. The file is read as a stream
    /// (inflated on the way when it starts with the gzip magic) straight into the one array the result holds, so
    /// reading 47 MB of images needs 47 MB, not the inflated file and a copy of it too.
    /// </summary>
    public static IdxArray Read(string path, int expectedRank)
    {
        if (Directory.Exists(path)) throw DataFormatException.For(path, "is a directory, not a file");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            Span<byte> magic = stackalloc byte[2];
            bool gzip = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            // The most bytes the stream can give: the file's length, or for gzip its trailer's uncompressed size (mod 2^32;
            // a bound that keeps a hostile header from sizing an array to more than the file holds).
            long limit = file.Length;
            if (gzip && file.Length >= 18)
            {
                Span<byte> trailer = stackalloc byte[4];
                file.Position = file.Length - 4;
                file.ReadExactly(trailer);
                limit = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            }
            file.Position = 0;
            using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            try { return Parse(stream, path, expectedRank, limit); }
            catch (InvalidDataException e) { throw DataFormatException.For(path, $"corrupt gzip data ({e.Message})", e); }
        }
        catch (FileNotFoundException) { throw DataFormatException.For(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw DataFormatException.For(path, "file not found (no such directory)"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw DataFormatException.For(path, $"cannot read: {e.Message}", e); }
    }

    /// <summary>Parses an IDX stream: the header first, then exactly the data it describes into one array, then checks that nothing follows.</summary>
    private static IdxArray Parse(Stream stream, string path, int expectedRank, long limit)
    {
        var header = new byte[4 + 4 * 255];
        int got = stream.ReadAtLeast(header.AsSpan(0, 4), 4, throwOnEndOfStream: false);
        if (got < 4) throw DataFormatException.For(path, $"truncated: {got} bytes, too short for an IDX header");
        int rank = header[3];
        got = 4 + stream.ReadAtLeast(header.AsSpan(4, 4 * rank), 4 * rank, throwOnEndOfStream: false);
        var (dims, count) = ParseHeader(header.AsSpan(0, got), path, expectedRank);
        long available = limit - got;
        if (available < count)
            throw DataFormatException.For(path, $"truncated: dimensions ({string.Join("×", dims)}) need {count} data bytes, file has {Math.Max(0, available)}");
        var data = new byte[count];
        long read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < count)
            throw DataFormatException.For(path, $"truncated: dimensions ({string.Join("×", dims)}) need {count} data bytes, file has {read}");
        long extra = 0;
        var scratch = new byte[4096];
        for (int n; (n = stream.Read(scratch)) > 0;) extra += n;
        if (extra > 0)
            throw DataFormatException.For(path, $"{extra} unexpected bytes after the {count} data bytes the dimensions ({string.Join("×", dims)}) describe");
        return new IdxArray(data, dims);
    }

    /// <summary>Reads a file, inflating it when it starts with the gzip magic.</summary>
    public static byte[] ReadAllBytes(string path)
    {
        byte[] raw = DataFile.ReadAllBytes(path);
        if (raw.Length >= 2 && raw[0] == 0x1f && raw[1] == 0x8b)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
                using var output = new MemoryStream();
                gz.CopyTo(output);
                return output.ToArray();
            }
            catch (InvalidDataException e) { throw DataFormatException.For(path, $"corrupt gzip data ({e.Message})", e); }
        }
        return raw;
    }

    public static IdxArray Parse(byte[] bytes, string path, int expectedRank)
    {
        var (dims, count) = ParseHeader(bytes, path, expectedRank);
        int headerLength = 4 + 4 * dims.Length;
        long available = bytes.Length - headerLength;
        if (available < count)
            throw DataFormatException.For(path, $"truncated: dimensions ({string.Join("×", dims)}) need {count} data bytes, file has {available}");
        if (available > count)
            throw DataFormatException.For(path, $"{available - count} unexpected bytes after the {count} data bytes the dimensions ({string.Join("×", dims)}) describe");
        return new IdxArray(bytes.AsSpan(headerLength).ToArray(), dims);
    }

    /// <summary>The dimensions and element count an IDX header describes (its first 4 + 4·rank bytes, or fewer when truncated).</summary>
    private static (int[] Dimensions, int Count) ParseHeader(ReadOnlySpan<byte> bytes, string path, int expectedRank)
    {
        if (bytes.Length < 4) throw DataFormatException.For(path, $"truncated: {bytes.Length} bytes, too short for an IDX header");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw DataFormatException.For(path, $"wrong magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):x8}: not an IDX file");
        if (bytes[2] != UnsignedByte)
            throw DataFormatException.For(path, $"IDX data type 0x{bytes[2]:x2} is not unsigned byte (0x08)");
        int rank = bytes[3];
        if (rank != expectedRank)
            throw DataFormatException.For(path, $"wrong magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):x8}: {rank} dimensions where {expectedRank} were expected");
        int headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength) throw DataFormatException.For(path, $"truncated: header needs {headerLength} bytes, file has {bytes.Length}");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            uint dim = BinaryPrimitives.ReadUInt32BigEndian(bytes[(4 + 4 * d)..]);
            if (dim > int.MaxValue) throw DataFormatException.For(path, $"dimension {d} is {dim}, too large");
            dims[d] = (int)dim;
            count *= dim;
            if (count > MaxElements) throw DataFormatException.For(path, "dimensions describe more than 2^31 elements");
        }
        if (count > Array.MaxLength) throw DataFormatException.For(path, $"dimensions describe {count} elements, more than an array holds");
        return (dims, (int)count);
    }

    /// <summary>
    /// Loads an image/label pair (images N×rows×cols, labels N) and checks that the counts agree and that every
    /// label is below <paramref name="classes"/>.
    /// </summary>
    public static (IdxArray Images, IdxArray Labels) ReadPair(string imagesPath, string labelsPath, int classes = 10)
    {
        var images = Read(imagesPath, 3);
        var labels = Read(labelsPath, 1);
        if (images.Dimensions[0] != labels.Dimensions[0])
            throw DataFormatException.For(labelsPath, $"wrong count: {labels.Dimensions[0]} labels for {images.Dimensions[0]} images in {Path.GetFileName(imagesPath)}");
        for (int i = 0; i < labels.Data.Length; i++)
            if (labels.Data[i] >= classes)
                throw DataFormatException.For(labelsPath, $"label {labels.Data[i]} at index {i} is not below {classes}");
        return (images, labels);
    }
}
