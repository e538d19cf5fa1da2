using System.Collections.Concurrent;
using ZeroDL.Data;
using ZeroDL.Training;

namespace ZeroDL.Web;

/// <summary>
/// A model's test set with its predictions and confusion matrix, computed once per model and kept. The test set is the
/// one the model file records (<see cref="ImageDatasets.FromRecord"/>: Fashion-MNIST, an IDX folder, an ImageFolder
/// tree, with its resize and split), MNIST for a model that records none; its images are normalized by the model file.
/// </summary>
public sealed class Explorer(ModelStore store, string? mnistDirectory)
{
    private readonly Lazy<Dataset> _test = new(() => Mnist.Load(directory: mnistDirectory).Test);
    private readonly ConcurrentDictionary<string, Lazy<Dataset>> _tests = new();
    private readonly ConcurrentDictionary<string, Lazy<ExploreResult>> _results = new();

    /// <summary>MNIST's test set (the server's --data folder, else the bundled one).</summary>
    public Dataset Test => _test.Value;

    public ExploreResult? For(string model) =>
        store.With(model, _ => "exists") is null ? null : _results.GetOrAdd(model, m => new Lazy<ExploreResult>(() => Compute(m))).Value;

    /// <summary>The test set a model was trained against, normalized by the model file; a 409 when the model does not fit it.</summary>
    private Dataset TestFor(string model, ModelInput input)
    {
        Dataset test;
        string name;
        if (ImageDatasets.FromRecord(input.Training) is var (data, options) && data != "mnist")
        {
            string key = $"{data}|{options.Resize}|{options.TestSplit}|{options.Seed}";
            try { test = _tests.GetOrAdd(key, _ => new Lazy<Dataset>(() => ImageDatasets.Load(data, options).Test)).Value; }
            catch (Exception e) when (e is DataFormatException or ArgumentException)
            {
                _tests.TryRemove(key, out _);
                throw new BadRequestException(409, $"model '{model}' was trained on {data}, which cannot be read here: {e.Message}");
            }
            name = data;
        }
        else (test, name) = (Test, "MNIST");
        if (input.InputShape.Aggregate(1, (a, d) => a * d) != test.SampleLength || input.ClassNames.Count != test.Classes)
            throw new BadRequestException(409, $"model '{model}' takes {string.Join("×", input.InputShape)} inputs in {input.ClassNames.Count} classes; {name}'s test images are {test.SampleLength} values in {test.Classes} classes");
        return test.Normalization is null && input.Normalization is { IsIdentity: true, PixelScale: 255f } ? test : test.WithNormalization(input.Normalization);
    }

    private ExploreResult Compute(string model)
    {
        var (test, predicted, input) = store.With(model, (net, input) =>
        {
            var test = TestFor(model, input);
            return Tuple.Create(test, net.PredictLabels(test), input);
        })!;
        int k = test.Classes;
        var confusion = new int[k][];
        for (int i = 0; i < k; i++) confusion[i] = new int[k];
        for (int i = 0; i < predicted.Length; i++) confusion[test.Labels[i]][predicted[i]]++;
        int correct = predicted.Where((p, i) => p == test.Labels[i]).Count();
        string images = ReferenceEquals(test, Test) || input.Data == "mnist" ? "api/mnist/test/{index}.png" : $"api/explore/{Uri.EscapeDataString(model)}/{{index}}.png";
        return new ExploreResult(model, test.Labels.ToArray(), predicted, confusion, (double)correct / predicted.Length, input.ClassNames, images);
    }

    /// <summary>MNIST test image <paramref name="index"/> as a PNG (white ink on black, as MNIST stores it).</summary>
    public byte[] Png(int index)
    {
        if ((uint)index >= (uint)Test.Count) throw new BadRequestException(404, $"test image {index} does not exist (0 … {Test.Count - 1})");
        var pixels = Test.Images.ReadOnlySpan.Slice(index * 784, 784);
        var bytes = new byte[784];
        for (int i = 0; i < 784; i++) bytes[i] = (byte)Math.Round(pixels[i] * 255);
        return Imaging.PngEncoder.Encode(28, 28, 1, bytes);
    }

    /// <summary>Test image <paramref name="index"/> of the model's data as a PNG of its stored pixels (gray or RGB).</summary>
    public byte[] Png(string model, int index)
    {
        var test = store.With(model, (_, input) => TestFor(model, input)) ?? throw new BadRequestException(404, $"unknown model '{model}'");
        if ((uint)index >= (uint)test.Count) throw new BadRequestException(404, $"test image {index} does not exist (0 … {test.Count - 1})");
        var image = test.StoredImage(index) ?? throw new BadRequestException(404, $"the test images of model '{model}' are not stored as pixels");
        int plane = image.Width * image.Height;
        var interleaved = new byte[image.Pixels.Length];
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < image.Channels; c++) interleaved[p * image.Channels + c] = image.Pixels[c * plane + p];
        return Imaging.PngEncoder.Encode(image.Width, image.Height, image.Channels, interleaved);
    }
}

/// <summary>A model's predictions on its test set: labels, predictions, confusion (rows label, columns predicted), accuracy,
/// class names, and the URL of test image {index}.</summary>
public sealed record ExploreResult(string Model, int[] Labels, int[] Predictions, int[][] Confusion, double Accuracy, IReadOnlyList<string> Classes, string Images);
