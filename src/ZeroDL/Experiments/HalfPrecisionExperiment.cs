using ZeroDL.Charts;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Experiments;

/// <summary>Ch. 8.3.4: the book's trained DeepConvNet stored as float32 and as float16 — file size and accuracy.</summary>
public sealed class HalfPrecisionExperiment : Experiment
{
    public override string Name => "half-precision";
    public override string Chapter => "8.3.4";
    public override string Title => "float32 vs float16 weights: file size and accuracy";

    public override ExperimentResult Run(ExperimentContext context)
    {
        var test = context.Quick ? context.Mnist.Test.Take(2000) : context.Mnist.Test;
        var net = BookWeights.LoadDeepConvNet(BookWeightsPath(context, "deep_convnet_2016.npz"));
        string f32 = Path.Combine(context.Directory, "deepconv_f32.safetensors"), f16 = Path.Combine(context.Directory, "deepconv_f16.safetensors");
        ModelFile.Save(net, f32, type: StoredType.F32);
        ModelFile.Save(net, f16, type: StoredType.F16);
        var rows = new List<object[]>();
        var perClass = new List<Series>();
        var figures = new Dictionary<string, double>();
        foreach (var (name, path) in new[] { ("float32", f32), ("float16", f16) })
        {
            var model = ModelFile.Load(path).Network;
            var predicted = model.PredictLabels(test);
            int correct = predicted.Where((p, i) => p == test.Labels[i]).Count();
            long bytes = new FileInfo(path).Length;
            rows.Add([name, bytes, correct, test.Count, (double)correct / test.Count]);
            figures[name + "_bytes"] = bytes;
            figures[name + "_accuracy"] = (double)correct / test.Count;
            var classAccuracy = Enumerable.Range(0, 10).Select(c =>
            {
                var idx = Enumerable.Range(0, test.Count).Where(i => test.Labels[i] == c).ToList();
                return idx.Count(i => predicted[i] == c) / (double)Math.Max(1, idx.Count);
            }).ToArray();
            perClass.Add(new Series(name, Enumerable.Range(0, 10).Select(c => (double)c).ToArray(), classAccuracy) { Markers = true, Dashed = name == "float16" });
        }
        context.WriteCsv("half_precision.csv", "dtype,file_bytes,correct,images,accuracy", rows);
        context.SaveChart("per_class_accuracy.svg", new Chart
        {
            Title = "The book's DeepConvNet: test accuracy per digit, float32 vs float16 weights",
            X = new Axis("digit") { Min = -0.5, Max = 9.5 }, Y = new Axis("accuracy") { Min = 0.97, Max = 1.0 }, Series = perClass,
        });
        string summary = $"""
            | weights | file size | accuracy on {test.Count} test images |
            |---|---|---|
            | float32 | {figures["float32_bytes"]:N0} bytes | {ExperimentContext.G(figures["float32_accuracy"] * 100, 5)} % |
            | float16 | {figures["float16_bytes"]:N0} bytes | {ExperimentContext.G(figures["float16_accuracy"] * 100, 5)} % |

            Stored as float16 (half precision: 10 bits of mantissa) the model file is half the size and classifies the
            test images exactly as well — the book's point that deep learning needs few bits of precision. The network
            still computes in float32; only storage is halved.
            """;
        return new ExperimentResult(summary, figures);
    }

    /// <summary>The book's weights beside the MNIST data: data/reference/NAME.</summary>
    internal static string BookWeightsPath(ExperimentContext context, string name) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(context.MnistDirectory ?? Data.Mnist.DefaultDirectory()).TrimEnd(Path.DirectorySeparatorChar))!, "reference", name);
}
