using System.Collections.Concurrent;
using ZeroDL.Models;
using ZeroDL.Serialization;

namespace ZeroDL.Web;

/// <summary>What the models page and GET /api/models show about one model file; <c>Default</c> marks the server's default.</summary>
public sealed record ModelInfo(string Name, string Kind, string Description, string StoredType, long Bytes, DateTime Modified, bool Default);

/// <summary>
/// The model files the server can use: every *.safetensors in its folder plus files added by name, listed with the
/// default model first, then newest first. A network's layers keep their buffers between calls, so each model keeps a
/// small pool of copies and a request borrows one: concurrent requests never share a network, and nothing is loaded
/// twice.
/// </summary>
/// <remarks>
/// The default model (the one a request that names none gets) is settled when the store is made and never follows new
/// files: a model trained from the web app, or by anyone writing into the folder, does not replace it behind the user's
/// back (issue 18: fifteen cross-site runs made the newest file the default, and a "7" was answered 6). It is the model
/// named explicitly (<paramref name="defaultModel"/>, else the first of <paramref name="files"/>, given by zerodl serve
/// --model); else the newest readable model in the folder not trained from the web app (<see cref="TrainingRuns.ModelPrefix"/>);
/// else the newest one; else none, until <see cref="AdoptDefault"/> names one.
/// </remarks>
public sealed class ModelStore
{
    private readonly string _directory;
    private readonly ConcurrentDictionary<string, string> _extra = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Pool>> _pools = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Path, DateTime Modified, long Bytes), (string Kind, string Description, string Type)?> _descriptions = new();

    private string? _default;

    public ModelStore(string directory, IEnumerable<string>? files = null, string? defaultModel = null)
    {
        _directory = directory;
        string? first = null;
        foreach (var f in files ?? []) first ??= Add(f);
        var present = List();
        _default = defaultModel ?? first
            ?? present.FirstOrDefault(m => !m.Name.StartsWith(TrainingRuns.ModelPrefix, StringComparison.Ordinal))?.Name
            ?? present.FirstOrDefault()?.Name;
    }

    /// <summary>Makes a model file available under its file name (without extension); returns that name.</summary>
    public string Add(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
        string name = Path.GetFileNameWithoutExtension(path);
        _extra[name] = Path.GetFullPath(path);
        return name;
    }

    private Dictionary<string, string> Files()
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Directory.Exists(_directory))
            foreach (var f in Directory.EnumerateFiles(_directory, "*.safetensors")) files[Path.GetFileNameWithoutExtension(f)] = f;
        foreach (var (name, path) in _extra) files[name] = path;
        return files;
    }

    public IReadOnlyList<ModelInfo> List()
    {
        var list = new List<ModelInfo>();
        foreach (var (name, path) in Files())
        {
            var info = new FileInfo(path);
            // Reading a model file is not free: describe each version of each file once.
            var described = _descriptions.GetOrAdd((path, info.LastWriteTimeUtc, info.Length), _ => Describe(path));
            if (described is { } d) list.Add(new ModelInfo(name, d.Kind, d.Description, d.Type, info.Length, info.LastWriteTimeUtc, name == _default));
        }
        return [.. list.OrderByDescending(m => m.Default).ThenByDescending(m => m.Modified).ThenBy(m => m.Name, StringComparer.Ordinal)];
    }

    /// <summary>The default model (see the remarks of <see cref="ModelStore"/>), or null when there is none or its file is gone.</summary>
    public string? Default => _default is { } name && Files().ContainsKey(name) ? name : null;

    /// <summary>
    /// Makes <paramref name="name"/> the default when the store has none (its file may come later): the server that
    /// starts with no model at all and trains one says so, and that model is then the one it answers with.
    /// </summary>
    public void AdoptDefault(string name) => Interlocked.CompareExchange(ref _default, name, null);

    /// <summary>The name the default is pinned to, whether or not its file exists yet.</summary>
    internal string? PinnedDefault => _default;

    /// <summary>Kind, description and stored type of a model file; null for a file that cannot be read (it is not offered).</summary>
    private static (string Kind, string Description, string Type)? Describe(string path)
    {
        try
        {
            var loaded = ModelFile.Load(path);
            var architecture = loaded.Network.Architecture;
            string kind = loaded.PresetName ?? ModelPresets.All.FirstOrDefault(p => p.Architecture() == architecture)?.Name ?? Shape(loaded.Network);
            return (kind, loaded.Description, loaded.StoredType.ToString());
        }
        catch (Exception e) when (e is Data.DataFormatException or IOException) { return null; }
    }

    /// <summary>A model that is no preset's, by its layers: "2 conv + 2 affine".</summary>
    private static string Shape(Sequential<float> net)
    {
        int conv = net.Layers.Count(l => l.Kind == "conv"), affine = net.Layers.Count(l => l.Kind == "affine");
        return conv > 0 ? $"{conv} conv + {affine} affine" : $"{affine} affine";
    }

    /// <summary>Runs <paramref name="work"/> with a network of the named model to itself; null when no such model exists.</summary>
    public T? With<T>(string name, Func<Sequential<float>, T> work) where T : class => With(name, (net, _) => work(net));

    /// <summary>
    /// Runs <paramref name="work"/> with a network of the named model to itself and what its file says about its input
    /// (shape, class names, normalization, data); null when no such model exists.
    /// </summary>
    public T? With<T>(string name, Func<Sequential<float>, Data.ModelInput, T> work) where T : class
    {
        if (!Files().TryGetValue(name, out var path)) return null;
        var info = new FileInfo(path);
        var key = $"{name}|{info.LastWriteTimeUtc.Ticks}|{info.Length}"; // a retrained file gets a fresh pool
        var pool = _pools.GetOrAdd(key, _ => new Lazy<Pool>(() => new Pool(ModelFile.Load(path)))).Value;
        var net = pool.Rent();
        try { return work(net, pool.Input); }
        finally { pool.Return(net); }
    }

    private sealed class Pool(LoadedModel loaded)
    {
        private readonly Sequential<float> first = loaded.Network;
        public Data.ModelInput Input { get; } = Data.ModelInput.Of(loaded);
        private readonly ConcurrentBag<Sequential<float>> _free = [loaded.Network];

        public Sequential<float> Rent()
        {
            if (_free.TryTake(out var net)) return net;
            var copy = first.CloneArchitecture();
            copy.CopyStateFrom(first); // first is only read here; its weights never change
            return copy;
        }

        public void Return(Sequential<float> net) => _free.Add(net);
    }
}
