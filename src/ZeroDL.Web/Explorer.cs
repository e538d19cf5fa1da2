using System.Collections.Concurrent;
using ZeroDL.Data;
using ZeroDL.Training;

namespace ZeroDL.Web;

/// <summary>The MNIST test set with a model's predictions and confusion matrix, computed once per model and kept.</summary>
public sealed class Explorer(ModelStore store, string? mnistDirectory)
{
    private readonly Lazy<Dataset> _test = new(() => Mnist.Load(directory: mnistDirectory).Test);
    private readonly ConcurrentDictionary<string, Lazy<ExploreResult>> _results = new();

    public Dataset Test => _test.Value;

    public ExploreResult? For(string model) =>
        store.With(model, _ => "exists") is null ? null : _results.GetOrAdd(model, m => new Lazy<ExploreResult>(() => Compute(m))).Value;

    private ExploreResult Compute(string model)
    {
        var predicted = store.With(model, net => net.PredictLabels(Test))!;
        var confusion = new int[10][];
        for (int i = 0; i < 10; i++) confusion[i] = new int[10];
        for (int i = 0; i < predicted.Length; i++) confusion[Test.Labels[i]][predicted[i]]++;
        int correct = predicted.Where((p, i) => p == Test.Labels[i]).Count();
        return new ExploreResult(model, Test.Labels, predicted, confusion, (double)correct / predicted.Length);
    }

    /// <summary>Test image <paramref name="index"/> as a PNG (white ink on black, as MNIST stores it).</summary>
    public byte[] Png(int index)
    {
        if ((uint)index >= (uint)Test.Count) throw new BadRequestException(404, $"test image {index} does not exist (0 … {Test.Count - 1})");
        var pixels = Test.Images.ReadOnlySpan.Slice(index * 784, 784);
        var bytes = new byte[784];
        for (int i = 0; i < 784; i++) bytes[i] = (byte)Math.Round(pixels[i] * 255);
        return Imaging.PngEncoder.Encode(28, 28, 1, bytes);
    }
}

public sealed record ExploreResult(string Model, int[] Labels, int[] Predictions, int[][] Confusion, double Accuracy);
