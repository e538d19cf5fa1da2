namespace ZeroDL.Data;

/// <summary>
/// Reads user-named files for the parsers. Each path is first checked to name a regular file (a link to one too):
/// a directory, a named pipe, a socket or a device is refused naming it, without being opened, since opening a pipe
/// waits for a writer and a device such as /dev/zero reads without end. Every I/O failure is a
/// <see cref="DataFormatException"/> naming the path.
/// </summary>
public static class DataFile
{
    public static byte[] ReadAllBytes(string path)
    {
        RefuseNonRegular(path);
        return Mapped(path, () => File.ReadAllBytes(path));
    }

    /// <summary>
    /// <paramref name="read"/> on <paramref name="path"/> opened for reading (shared with <paramref name="share"/>),
    /// checked and with failures mapped as <see cref="ReadAllBytes"/>'s. An <see cref="IOException"/> that
    /// <paramref name="read"/> lets out is "cannot read" too.
    /// </summary>
    public static T Read<T>(string path, Func<FileStream, T> read, FileShare share = FileShare.Read, int bufferSize = 4096)
    {
        RefuseNonRegular(path);
        return Mapped(path, () =>
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, share, bufferSize);
            return read(stream);
        });
    }

    /// <summary>
    /// Throws a <see cref="DataFormatException"/> naming <paramref name="path"/> when it is a directory or
    /// <see cref="RefuseSpecial">a pipe, socket or device</see>; a missing path passes (opening it says so).
    /// </summary>
    public static void RefuseNonRegular(string path)
    {
        if (Directory.Exists(path)) throw DataFormatException.For(path, "is a directory, not a file");
        RefuseSpecial(path);
    }

    /// <summary>
    /// Throws a <see cref="DataFormatException"/> naming <paramref name="path"/> when it is a named pipe, a socket or a
    /// device (or a symbolic link to one), so that it is never opened. Where the file system cannot be asked (not Linux),
    /// nothing is refused.
    /// </summary>
    internal static void RefuseSpecial(string path)
    {
        if (FileKind.NotRegular(path) is { } kind) throw DataFormatException.For(path, $"not a regular file ({kind})");
    }

    private static T Mapped<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (FileNotFoundException) { throw DataFormatException.For(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw DataFormatException.For(path, "file not found (no such directory)"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw DataFormatException.For(path, $"cannot read: {e.Message}", e); }
    }
}
