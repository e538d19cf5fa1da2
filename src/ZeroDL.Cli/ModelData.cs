using System.Globalization;
using System.Text.Json;
using ZeroDL.Data;
using ZeroDL.Serialization;

namespace ZeroDL.Cli;

/// <summary>How a model file and a dataset meet: the shape a preset takes from the data, and the checks that they fit.</summary>
internal static class ModelData
{
    /// <summary>The input shape a preset builds for the data: C×H×W for a convolutional kind, C·H·W flattened for a dense one.</summary>
    public static int[] InputShape(Dataset data, bool convolutional) =>
        data.ImageShape is var (c, h, w) ? convolutional ? [c, h, w] : [c * h * w]
        : convolutional ? throw new UsageException($"a convolutional model needs images; the data's samples are {data.SampleLength} values") : [data.SampleLength];

    /// <summary>The training settings a model file holds (its "training" metadata), empty when it has none or they do not parse.</summary>
    public static IReadOnlyDictionary<string, string> TrainingSettings(LoadedModel model)
    {
        if (!model.Metadata.TryGetValue("training", out var json)) return new Dictionary<string, string>();
        try { return JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? []; }
        catch (JsonException) { return new Dictionary<string, string>(); }
    }

    /// <summary>
    /// Refuses (exit 1, naming the model file) a dataset the model cannot read: other image shapes or sample sizes,
    /// another class count, or class names that differ. Returns the dataset prepared exactly as the model was trained:
    /// its bytes normalized by the model file's normalization.
    /// </summary>
    public static Dataset Fit(LoadedModel model, string modelPath, Dataset data, string dataName)
    {
        var input = model.Network.InputShape;
        string modelShape = string.Join("×", input);
        string dataShape = data.ImageShape is var (c, h, w) ? $"{c}×{h}×{w}" : data.SampleLength.ToString(CultureInfo.InvariantCulture);
        if (!Fits(input, data)) throw DataFormatException.For(modelPath, $"the model takes inputs of {modelShape}, {dataName} has images of {dataShape}");
        int outputs = model.ClassNames.Count;
        if (outputs != data.Classes) throw DataFormatException.For(modelPath, $"the model tells {outputs} classes apart, {dataName} has {data.Classes}");
        if (data.ClassNames is { } names && !names.SequenceEqual(model.ClassNames))
            throw DataFormatException.For(modelPath, $"the model's classes ({string.Join(", ", model.ClassNames)}) are not {dataName}'s ({string.Join(", ", names)})");
        var n = model.Normalization;
        if (data.Normalization is null && n.IsIdentity && n.PixelScale == 255f) return data; // MNIST as the book reads it
        return data.WithNormalization(n);
    }

    /// <summary>Whether a network taking <paramref name="input"/> reads the data's samples: the same size, and the same C×H×W for an image input.</summary>
    public static bool Fits(IReadOnlyList<int> input, Dataset data)
    {
        if (input.Aggregate(1, (a, d) => a * d) != data.SampleLength) return false;
        return input.Count != 3 || data.ImageShape is not { } shape || shape == (input[0], input[1], input[2]);
    }

    /// <summary>The model's name for class <paramref name="label"/>.</summary>
    public static string Name(LoadedModel model, int label) => model.ClassNames[label];
}
