// For each model given (a ZeroDL model file, or an .onnx file to import), on the 10,000 MNIST test images: ZeroDL's
// accuracy, ONNX Runtime's accuracy on the exported (or original) ONNX file, how many predictions differ, and the
// largest |ONNX Runtime − ZeroDL| class probability. A model file's export is written beside it as NAME.onnx for
// bench/python/onnx_crosscheck.py.
// Usage: dotnet run -c Release --project bench/OnnxCheck -- MODEL.safetensors|MODEL.onnx ...
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using ZeroDL;
using ZeroDL.Data;
using ZeroDL.Serialization;
using ZeroDL.Serialization.Onnx;

var (_, test) = Mnist.Load(directory: Path.Combine(FindRoot(), "data", "mnist"));
Console.WriteLine("model | layers | ZeroDL correct | ONNX Runtime correct | predictions differing | largest probability difference");
Console.WriteLine("--- | --- | ---: | ---: | ---: | ---:");
foreach (var path in args)
{
    bool isOnnx = path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
    var model = isOnnx ? OnnxImport.Load(path) : ModelFile.Load(path);
    byte[] onnx = isOnnx ? File.ReadAllBytes(path) : OnnxExport.ToBytes(model.Network, model.ClassNames, model.Normalization);
    if (!isOnnx) File.WriteAllBytes(Path.ChangeExtension(path, ".onnx"), onnx);
    var data = model.Normalization.IsIdentity && model.Normalization.PixelScale == 255f ? test : test.WithNormalization(model.Normalization);
    var images = data.Images;
    var net = model.Network;
    using var options = new SessionOptions { IntraOpNumThreads = 2 };
    using var session = new InferenceSession(onnx, options);
    string inputName = session.InputMetadata.Keys.First(), outputName = session.OutputMetadata.Keys.First();
    int rows = images.Rows, row = images.RowLength, batch = 500;
    int zCorrect = 0, oCorrect = 0, differ = 0;
    double worst = 0;
    var labels = data.Labels.ToArray();
    for (int start = 0; start < rows; start += batch)
    {
        int count = Math.Min(batch, rows - start);
        var x = NDArrayRows.Slice(images, start, count, null).Reshape([count, .. net.InputShape]);
        var zerodl = net.PredictProbabilities(x);
        using var input = OrtValue.CreateTensorValueFromMemory(x.ReadOnlySpan.ToArray(), [count, .. net.InputShape.Select(d => (long)d)]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [input], [outputName]);
        var ort = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        int classes = ort.Length / count;
        if (isOnnx) Softmax(ort, classes); // a foreign graph may end in scores
        for (int i = 0; i < count; i++)
        {
            var z = zerodl.ReadOnlySpan.Slice(i * classes, classes);
            var o = ort.AsSpan(i * classes, classes);
            int zBest = ArgMax(z), oBest = ArgMax(o);
            if (zBest == labels[start + i]) zCorrect++;
            if (oBest == labels[start + i]) oCorrect++;
            if (zBest != oBest) differ++;
            for (int c = 0; c < classes; c++) worst = Math.Max(worst, Math.Abs(z[c] - o[c]));
        }
    }
    Console.WriteLine($"{Path.GetFileName(path)} | {net.Layers.Count} | {zCorrect} | {oCorrect} | {differ} | {worst.ToString("E2", CultureInfo.InvariantCulture)}");
}
return 0;

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
    return best;
}

static void Softmax(float[] scores, int classes)
{
    // Idempotent enough to tell: rows that already sum to 1 with no negative value are probabilities.
    for (int r = 0; r < scores.Length; r += classes)
    {
        var row = scores.AsSpan(r, classes);
        float sum = 0; bool probabilities = true;
        foreach (float v in row) { sum += v; if (v < 0) probabilities = false; }
        if (probabilities && Math.Abs(sum - 1) < 1e-4f) continue;
        System.Numerics.Tensors.TensorPrimitives.SoftMax(row, row);
    }
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "data", "mnist", "SHA256SUMS"))) return dir.FullName;
    throw new InvalidOperationException("repository root with data/mnist/SHA256SUMS not found");
}
