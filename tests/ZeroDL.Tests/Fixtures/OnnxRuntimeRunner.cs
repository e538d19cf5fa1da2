using Microsoft.ML.OnnxRuntime;

namespace ZeroDL.Tests.Fixtures;

/// <summary>Runs an ONNX model in ONNX Runtime (the real runtime, not ZeroDL's reader) on a float batch.</summary>
public sealed class OnnxRuntimeRunner : IDisposable
{
    private readonly InferenceSession _session;

    public OnnxRuntimeRunner(byte[] model)
    {
        // Two threads: the machine's cores are shared with the other tests.
        using var options = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        _session = new InferenceSession(model, options);
    }

    public IReadOnlyList<string> InputNames => [.. _session.InputMetadata.Keys];
    public IReadOnlyList<string> OutputNames => [.. _session.OutputMetadata.Keys];

    /// <summary>The first output for <paramref name="batch"/>, whose first axis is the batch (the rest as <paramref name="sampleShape"/>).</summary>
    public float[] Run(ReadOnlySpan<float> batch, IReadOnlyList<int> sampleShape)
    {
        long sample = sampleShape.Aggregate(1L, (a, d) => a * d);
        long[] shape = [batch.Length / sample, .. sampleShape.Select(d => (long)d)];
        using var input = OrtValue.CreateTensorValueFromMemory(batch.ToArray(), shape);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [InputNames[0]], [input], [OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>The argmax of every row of the first output, run over <paramref name="images"/> in batches.</summary>
    public int[] PredictLabels(NDArray<float> images, IReadOnlyList<int> sampleShape, int batchSize = 500)
    {
        int n = images.Rows, row = images.RowLength;
        var labels = new int[n];
        for (int start = 0; start < n; start += batchSize)
        {
            int count = Math.Min(batchSize, n - start);
            var output = Run(images.ReadOnlySpan.Slice(start * row, count * row), sampleShape);
            int classes = output.Length / count;
            for (int i = 0; i < count; i++)
            {
                var r = output.AsSpan(i * classes, classes);
                int best = 0;
                for (int c = 1; c < classes; c++) if (r[c] > r[best]) best = c;
                labels[start + i] = best;
            }
        }
        return labels;
    }

    public void Dispose() => _session.Dispose();
}
