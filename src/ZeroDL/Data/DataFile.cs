namespace ZeroDL.Data;

/// <summary>Reads whole files for the parsers, turning every I/O failure into a <see cref="DataFormatException"/> naming the path.</summary>
public static class DataFile
{
    public static byte[] ReadAllBytes(string path)
    {
        if (Directory.Exists(path)) throw DataFormatException.For(path, "is a directory, not a file");
        try { return File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw DataFormatException.For(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw DataFormatException.For(path, "file not found (no such directory)"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw DataFormatException.For(path, $"cannot read: {e.Message}", e); }
    }
}
