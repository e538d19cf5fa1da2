using ZeroDL.Data;
using ZeroDL.Models;

namespace ZeroDL.Serialization;

/// <summary>A model read from a file: the network, its architecture, and the file's metadata.</summary>
public sealed record LoadedModel(Sequential<float> Network, ModelSpec Spec, IReadOnlyDictionary<string, string> Metadata, StoredType StoredType);

/// <summary>
/// ZeroDL model files: safetensors whose <c>__metadata__</c> holds <c>format = zerodl</c>, the architecture as
/// JSON (<c>architecture</c>) and free-form training settings (<c>training</c>). Parameter names are the
/// network's stable names (affine1.W, batchnorm1.running_mean, …). Files are written atomically.
/// </summary>
public static class ModelFile
{
    public const string FormatName = "zerodl";

    public static void Save(Sequential<float> net, string path, IReadOnlyDictionary<string, string>? training = null, StoredType type = StoredType.F32)
    {
        var spec = net.Spec ?? throw new ArgumentException("only networks built from a ModelSpec can be saved");
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["format_version"] = "1",
            ["architecture"] = spec.ToJson(),
        };
        if (training is not null)
            metadata["training"] = System.Text.Json.JsonSerializer.Serialize(training);
        AtomicFile.Write(path, s => SafeTensors.Write(s, net.NamedTensors(), metadata, type));
    }

    public static LoadedModel Load(string path)
    {
        var (tensors, metadata) = SafeTensors.Read(path);
        if (!metadata.TryGetValue("format", out var format) || format != FormatName || !metadata.TryGetValue("architecture", out var arch))
            throw DataFormatException.For(path, "not a ZeroDL model: the safetensors metadata has no format=zerodl and architecture");
        ModelSpec spec;
        try { spec = ModelSpec.FromJson(arch); }
        catch (FormatException e) { throw DataFormatException.For(path, $"invalid architecture: {e.Message}", e); }
        var net = Networks.Build<float>(spec, seed: 0);
        var expected = net.NamedTensors().ToList();
        foreach (var (name, value) in expected)
        {
            if (!tensors.TryGetValue(name, out var stored))
                throw DataFormatException.For(path, $"tensor '{name}' required by the architecture ({spec.Describe()}) is missing");
            if (!value.SameShape(stored.Shape))
                throw DataFormatException.For(path, $"tensor '{name}' has shape {NDArray<float>.ShapeString(stored.Shape)}, the architecture needs {value.ShapeText}");
            foreach (float v in stored.Values)
                if (!float.IsFinite(v)) throw DataFormatException.For(path, $"tensor '{name}' contains NaN or infinity");
            stored.Values.CopyTo(value.Span);
        }
        var extra = tensors.Keys.Except(expected.Select(e => e.Name)).ToList();
        if (extra.Count > 0)
            throw DataFormatException.For(path, $"tensors not in the architecture: {string.Join(", ", extra.Take(5))}");
        var type = tensors.Count > 0 ? tensors.Values.First().Type : StoredType.F32;
        return new LoadedModel(net, spec, metadata, type);
    }
}
