using ZeroDL.Data;
using ZeroDL.Serialization;

namespace ZeroDL.Cli;

internal static class ModelLoading
{
    /// <summary>Loads a model file; the error names the path and what is wrong with it.</summary>
    public static LoadedModel Load(string path)
    {
        if (Directory.Exists(path)) throw DataFormatException.For(path, "is a directory, not a model file");
        return ModelFile.Load(path);
    }
}
