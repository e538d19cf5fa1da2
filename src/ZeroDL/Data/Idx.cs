using System.Buffers.Binary;
using System.IO.Compression;

namespace ZeroDL.Data;

/// <summary>An IDX array as stored: unsigned bytes with their dimensions (outermost first).</summary>
public sealed record IdxArray(byte[] Data, int[] Dimensions);

/// <summary>
/// Reader for the IDX format MNIST is published in: magic 0x00 0x00 type ndims, then ndims big-endian int32
/// dimensions, then the data. Only unsigned-byte data (type 0x08) is accepted. Files may be gzip-compressed
/// (detected by the gzip magic, not by the name). The header is read first and bounded (<see cref="MaxDataBytes"/>);
/// then exactly the data it declares is read, and a file holding less or more is refused. A gzip file is inflated
/// only up to one byte past the declared data, so a gzip bomb costs no more than an honest file of its header.
/// </summary>
public static class Idx
{
    private const byte UnsignedByte = 0x08;

    /// <summary>
    /// The most data bytes (elements) an IDX header may declare: 1 GiB. The largest published IDX dataset, EMNIST
    /// ByClass, holds 697,932 × 28 × 28 = 547 MB of training images; a header declaring more is refused before any
    /// array is allocated, so a 16-byte file cannot make the reader ask for 2 GB.
    /// </summary>
    public const int MaxDataBytes = 1 << 30;

    /// <summary>
    /// DEFLATE's largest possible expansion: a 258-byte match costs at least 2 bits, so n compressed bytes never inflate
    /// to more than about 1032·n. The data of a gzip file declaring more than that is not allocated before it arrives.
    /// </summary>
    internal const long MaxDeflateRatio = 1032;

    /// <summary>
    /// Reads and validates an IDX file with <paramref name="expectedRank"/> dimensions (<see cref="Read(Stream, string, int)"/>).
    /// I/O failures, and a path that is not a regular file (<see cref="DataFile.Read{T}"/>), are
    /// <see cref="DataFormatException"/>s naming <paramref name="path"/>.
    /// </summary>
    public static IdxArray Read(string path, int expectedRank) =>
        DataFile.Read(path, file => Read(file, path, expectedRank), bufferSize: 1 << 16);

    /// <summary>An IDX file held in memory (raw or gzip), as <see cref="Read(Stream, string, int)"/> reads it.</summary>
    public static IdxArray Parse(byte[] bytes, string source, int expectedRank) =>
        Read(new MemoryStream(bytes, writable: false), source, expectedRank);

    /// <summary>
    /// Reads an IDX file from a seekable <paramref name="stream"/> (from its current position to its end), inflating it
    /// on the way when it starts with the gzip magic, straight into the one array the result holds: the header, then
    /// exactly the data it declares. Every problem (a bad header, more than <see cref="MaxDataBytes"/> declared, less or
    /// more data than declared, corrupt gzip) is a <see cref="DataFormatException"/> naming <paramref name="source"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot seek (its length bounds what the header may declare).</exception>
    public static IdxArray Read(Stream stream, string source, int expectedRank)
    {
        if (!stream.CanSeek) throw new ArgumentException("an IDX stream must be seekable: its length bounds what its header may declare", nameof(stream));
        long start = stream.Position, length = stream.Length - start;
        Span<byte> magic = stackalloc byte[2];
        bool gzip = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        stream.Position = start;
        if (!gzip) return Parse(stream, source, expectedRank, length, exactLength: true);
        // A stream of gzip members inflates to at most MaxDeflateRatio times its size (the 18 bytes of each member's
        // header and trailer aside, which only makes this bound looser).
        using var inflated = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
        try { return Parse(inflated, source, expectedRank, length * MaxDeflateRatio, exactLength: false); }
        // ZLibException (an IOException) for what zlib itself refuses is the data's fault, as InvalidDataException is.
        catch (Exception e) when (e is InvalidDataException or IOException) { throw DataFormatException.For(source, $"corrupt gzip data ({e.Message})", e); }
    }

    /// <summary>
    /// Parses an IDX stream: the header first, then exactly the data it describes, then checks that nothing follows by
    /// reading one byte more (never the rest, which a bomb makes endless). <paramref name="limit"/> is the most bytes the
    /// stream can give: exactly its length when <paramref name="exactLength"/> (a raw file), else an upper bound.
    /// The data array is allocated whole when the declared data is within <paramref name="limit"/> (what an honest file of
    /// this size can hold); otherwise it grows as data arrives, so a header that lies costs about what the file holds.
    /// </summary>
    private static IdxArray Parse(Stream stream, string source, int expectedRank, long limit, bool exactLength)
    {
        var header = new byte[4 + 4 * 255];
        int got = stream.ReadAtLeast(header.AsSpan(0, 4), 4, throwOnEndOfStream: false);
        if (got < 4) throw DataFormatException.For(source, $"truncated: {got} bytes, too short for an IDX header");
        int rank = header[3];
        got = 4 + stream.ReadAtLeast(header.AsSpan(4, 4 * rank), 4 * rank, throwOnEndOfStream: false);
        var (dims, count) = ParseHeader(header.AsSpan(0, got), source, expectedRank);
        string shape = string.Join("×", dims);
        long available = limit - got;
        if (exactLength && available < count)
            throw DataFormatException.For(source, $"truncated: dimensions ({shape}) need {count} data bytes, file has {Math.Max(0, available)}");
        if (exactLength && available > count)
            throw DataFormatException.For(source, $"{available - count} unexpected bytes after the {count} data bytes the dimensions ({shape}) describe");
        // Allocated whole only when the file can hold it; a header that lies is read into an array that grows with the data.
        bool whole = count <= available;
        var data = ReadUpTo(stream, count, whole ? count : Math.Min(count, InitialCapacity), out int read);
        if (read < count)
            throw DataFormatException.For(source, $"truncated: dimensions ({shape}) need {count} data bytes, file has {read}");
        Span<byte> one = stackalloc byte[1];
        if (stream.Read(one) > 0)
            throw DataFormatException.For(source, $"unexpected bytes after the {count} data bytes the dimensions ({shape}) describe");
        return new IdxArray(data, dims);
    }

    /// <summary>What an array for data of unconfirmed size starts at before it doubles: 64 KiB, one inflater buffer's worth.</summary>
    private const int InitialCapacity = 1 << 16;

    /// <summary>
    /// Reads up to <paramref name="count"/> bytes into an array that starts at <paramref name="capacity"/> and doubles
    /// (never past <paramref name="count"/>) while the stream keeps giving; <paramref name="read"/> is how many it gave.
    /// </summary>
    private static byte[] ReadUpTo(Stream stream, int count, int capacity, out int read)
    {
        var data = new byte[capacity];
        read = 0;
        while (true)
        {
            read += stream.ReadAtLeast(data.AsSpan(read), data.Length - read, throwOnEndOfStream: false);
            if (read < data.Length || data.Length == count) return data;
            Array.Resize(ref data, (int)Math.Min(count, 2L * data.Length));
        }
    }

    /// <summary>The dimensions and element count an IDX header describes (its first 4 + 4·rank bytes, or fewer when truncated).</summary>
    private static (int[] Dimensions, int Count) ParseHeader(ReadOnlySpan<byte> bytes, string source, int expectedRank)
    {
        if (bytes.Length < 4) throw DataFormatException.For(source, $"truncated: {bytes.Length} bytes, too short for an IDX header");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw DataFormatException.For(source, $"wrong magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):x8}: not an IDX file");
        if (bytes[2] != UnsignedByte)
            throw DataFormatException.For(source, $"IDX data type 0x{bytes[2]:x2} is not unsigned byte (0x08)");
        int rank = bytes[3];
        if (rank != expectedRank)
            throw DataFormatException.For(source, $"wrong magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):x8}: {rank} dimensions where {expectedRank} were expected");
        int headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength) throw DataFormatException.For(source, $"truncated: header needs {headerLength} bytes, file has {bytes.Length}");
        var dims = new int[rank];
        var declared = new uint[rank];
        for (int d = 0; d < rank; d++) declared[d] = BinaryPrimitives.ReadUInt32BigEndian(bytes[(4 + 4 * d)..]);
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            if (declared[d] > int.MaxValue) throw DataFormatException.For(source, $"dimension {d} is {declared[d]}, too large");
            dims[d] = (int)declared[d];
            // Kept at most MaxDataBytes + 1 (a factor below 2^31 times it cannot overflow a long).
            count = Math.Min(count * declared[d], MaxDataBytes + 1L);
        }
        if (count > MaxDataBytes)
            throw DataFormatException.For(source, $"dimensions ({string.Join("×", declared)}) describe more than {MaxDataBytes} data bytes (1 GiB), the most an IDX file may hold");
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
