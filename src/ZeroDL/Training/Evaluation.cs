using ZeroDL.Data;
using ZeroDL.Models;

namespace ZeroDL.Training;

/// <summary>
/// Predictions and accuracy of a network over a whole <see cref="Dataset"/>, in batches gathered from the
/// dataset's stored bytes where it has them (a quarter of the memory traffic of copying float rows).
/// </summary>
public static class Evaluation
{
    [ThreadStatic] private static NDArray<float>? t_batch;
    [ThreadStatic] private static int[]? t_indices;
    [ThreadStatic] private static Kernels.SparseMatrix? t_compressed;

    public static int[] PredictLabels(this Sequential<float> net, Dataset data, int batchSize = 1000)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        var result = new int[data.Count];
        if (PredictCompressed(net, data, batchSize, result)) return result;
        var indices = t_indices is { } ix && ix.Length >= batchSize ? ix : t_indices = new int[batchSize];
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            for (int i = 0; i < count; i++) indices[i] = start + i;
            t_batch = data.GatherImages(indices.AsSpan(0, count), t_batch);
            net.Predict(AsInput(net, t_batch)).ArgMaxRows().CopyTo(result, start);
        }
        return result;
    }

    /// <summary>
    /// The fast path for a dense network whose first layer is an Affine that takes sparse input (MNIST pixels are
    /// about 81 % zeros): each batch is compressed straight from the dataset's bytes, never converted to a float
    /// matrix, and the first layer multiplies the compressed form — the same kernel on the same numbers as its
    /// own sparse path, so the same predictions. False (nothing done) where it does not apply or a batch is dense.
    /// </summary>
    private static bool PredictCompressed(Sequential<float> net, Dataset data, int batchSize, int[] result)
    {
        if (net.Layers.Count == 0 || net.Layers[0] is not Layers.Affine<float> { UseSparseInput: true } first || first.OutputSize < 8 || data.SampleLength != first.InputSize)
            return false;
        var compressed = t_compressed ??= new Kernels.SparseMatrix();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            if (!data.TryCompressImages(start, count, compressed)) return false;
            if (compressed.NonZeros > Kernels.SparseGemm.DensityThreshold * count * first.InputSize) return false;
            var y = first.ForwardCompressed(compressed);
            for (int i = 1; i < net.Layers.Count; i++) y = net.ForwardLayer(i, y, training: false);
            y.ArgMaxRows().CopyTo(result, start);
        }
        return true;
    }

    /// <summary>The batch viewed in the sample shape the network's architecture expects (e.g. N×1×28×28 for a CNN).</summary>
    public static NDArray<float> AsInput(Sequential<float> net, NDArray<float> batch) => net.InSampleShape(batch);

    /// <summary>Fraction of the dataset's samples whose predicted class equals the label (0 for an empty set).</summary>
    public static double Accuracy(this Sequential<float> net, Dataset data, int batchSize = 1000)
    {
        if (data.Count == 0) return 0;
        var predicted = net.PredictLabels(data, batchSize);
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++) if (predicted[i] == data.Labels[i]) correct++;
        return (double)correct / data.Count;
    }
}
