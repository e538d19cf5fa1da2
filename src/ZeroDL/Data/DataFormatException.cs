namespace ZeroDL.Data;

/// <summary>A data or model file is missing, unreadable or malformed, or a file cannot be written. The message names the file and the problem.</summary>
public sealed class DataFormatException(string message, Exception? inner = null) : Exception(message, inner)
{
    public static DataFormatException For(string path, string problem, Exception? inner = null) => new($"{path}: {problem}", inner);
}
