using ZeroDL.Data;
using ZeroDL.Models;

namespace ZeroDL.Training;

/// <summary>
/// Predictions and accuracy of a network over a whole <see cref="Dataset"/>, in batches gathered from the
/// dataset's stored bytes where it has them (a quarter of the memory traffic of copying float rows).
/// </summary>
public static class Evaluation
{
    [ThreadStatic] private static NDArray<float>? t_dense;
    [ThreadStatic] private static int[]? t_indices;
    [ThreadStatic] private static Kernels.SparseMatrix? t_compressed;
    [ThreadStatic] private static InputBatch<float>? t_input;

    /// <summary>
    /// The predicted class of every sample, in batches of <paramref name="batchSize"/> read as the training loader
    /// reads them (compressed where the network takes that: <see cref="BatchLoader.Compresses"/>; the same predictions
    /// either way).
    /// </summary>
    public static int[] PredictLabels(this Sequential<float> net, Dataset data, int batchSize = 1000)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        var result = new int[data.Count];
        bool compress = BatchLoader.Compresses(net, data);
        var input = t_input ??= new InputBatch<float>();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            BatchLoader.Read(data, start, count, compress, input, ref t_compressed, ref t_dense, ref t_indices);
            net.Predict(input).ArgMaxRows().CopyTo(result, start);
        }
        return result;
    }

    /// <summary>
    /// The class probabilities (softmax of the scores, as <see cref="Sequential{T}.PredictProbabilities"/>) of every
    /// sample, row-major: sample i's probabilities are [i·classes, (i + 1)·classes). Read in batches as
    /// <see cref="PredictLabels"/> reads them, so the argmax of each row is the label it predicts.
    /// </summary>
    public static float[] PredictProbabilities(this Sequential<float> net, Dataset data, int batchSize = 1000)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        int classes = net.OutputSize;
        var result = new float[(long)data.Count * classes];
        bool compress = BatchLoader.Compresses(net, data);
        var input = t_input ??= new InputBatch<float>();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            BatchLoader.Read(data, start, count, compress, input, ref t_compressed, ref t_dense, ref t_indices);
            Functions.Softmax.Apply(net.Predict(input)).ReadOnlySpan.CopyTo(result.AsSpan(start * classes, count * classes));
        }
        return result;
    }

    /// <summary>The batch viewed in the sample shape the network's architecture expects (e.g. N×1×28×28 for a CNN).</summary>
    public static NDArray<float> AsInput(Sequential<float> net, NDArray<float> batch) => net.InSampleShape(batch);

    /// <summary>
    /// The mean loss and the accuracy over the whole dataset in inference mode, in batches of <paramref name="batchSize"/>
    /// read as <see cref="PredictLabels"/> reads them: the loss is the network's loss layer (softmax cross-entropy)
    /// averaged over every sample, plus the weight-decay term (the quantity training reports per mini-batch). The same
    /// two numbers, bit for bit, for the same weights and data. (NaN, NaN) for an empty set.
    /// </summary>
    public static (double Loss, double Accuracy) LossAndAccuracy(this Sequential<float> net, Dataset data, int batchSize = 1000)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        if (data.Count == 0) return (double.NaN, double.NaN);
        bool compress = BatchLoader.Compresses(net, data);
        var input = t_input ??= new InputBatch<float>();
        double lossSum = 0;
        int correct = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            BatchLoader.Read(data, start, count, compress, input, ref t_compressed, ref t_dense, ref t_indices);
            var scores = net.Predict(input);
            var labels = data.Labels.Slice(start, count);
            var predicted = scores.ArgMaxRows();
            for (int i = 0; i < count; i++) if (predicted[i] == labels[i]) correct++;
            lossSum += net.LossLayer.Forward(scores, labels) * count;
        }
        return (lossSum / data.Count + net.WeightDecayLoss(), (double)correct / data.Count);
    }

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
