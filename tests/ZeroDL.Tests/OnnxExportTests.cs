using Xunit.Abstractions;
using ZeroDL.Data;
using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Serialization;
using ZeroDL.Serialization.Onnx;
using ZeroDL.Tests.Fixtures;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 20 §1: every kind of ZeroDL network exported to ONNX runs in ONNX Runtime and gives ZeroDL's outputs; the
/// book's DeepConvNet exported gives its 9935 of 10,000 there.
/// </summary>
public class OnnxExportTests(MnistFixture mnist, ITestOutputHelper output) : IClassFixture<MnistFixture>
{
    /// <summary>The bar for ONNX Runtime's outputs against ZeroDL's (probabilities, absolute).</summary>
    private const double Tolerance = 1e-5;

    public static TheoryData<string> Kinds() => [.. OnnxNetworks.All().Select(k => k.Name)];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_network_kind_runs_in_onnx_runtime_with_zerodls_outputs(string kind)
    {
        var net = OnnxNetworks.All().Single(k => k.Name == kind).Net;
        var x = OnnxNetworks.Inputs(net, mnist.Data.Test, 200);
        var expected = net.PredictProbabilities(x);
        using var runtime = new OnnxRuntimeRunner(OnnxExport.ToBytes(net));
        Assert.Equal([OnnxFormat.InputName], runtime.InputNames);
        Assert.Equal([OnnxFormat.OutputName], runtime.OutputNames);
        var actual = runtime.Run(x.ReadOnlySpan, net.InputShape);
        Assert.Equal(expected.Size, actual.Length);
        double worst = 0;
        for (int i = 0; i < actual.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected.Data[i]));
        output.WriteLine($"{kind}: largest |ONNX Runtime − ZeroDL| over {x.Rows}×{net.OutputSize} probabilities: {worst:E2}");
        Assert.True(worst <= Tolerance, $"{kind}: largest difference {worst:E3} > {Tolerance:E0}");
        // The batch is dynamic: one sample at a time gives the same first row.
        var one = runtime.Run(x.ReadOnlySpan[..x.RowLength], net.InputShape);
        for (int c = 0; c < one.Length; c++) Assert.True(Math.Abs(one[c] - expected.Data[c]) <= Tolerance);
    }

    [Fact]
    public void The_books_deepconvnet_gives_9935_in_onnx_runtime()
    {
        var net = BookWeights.LoadDeepConvNet(Path.Combine(TestPaths.Reference, "deep_convnet_2016.npz"));
        using var runtime = new OnnxRuntimeRunner(OnnxExport.ToBytes(net));
        var test = mnist.Data.Test;
        var predicted = runtime.PredictLabels(test.Images, net.InputShape);
        var labels = test.Labels.ToArray();
        var errors = Enumerable.Range(0, labels.Length).Where(i => predicted[i] != labels[i]).ToArray();
        Assert.Equal(9935, labels.Length - errors.Length);
        // The same 65 images as ZeroDL gets wrong.
        var zerodl = net.PredictLabels(test.Images.Reshape(-1, 1, 28, 28), batchSize: 500);
        Assert.Equal(Enumerable.Range(0, labels.Length).Where(i => zerodl[i] != labels[i]).ToArray(), errors);
    }

    [Fact]
    public void Class_names_normalisation_and_the_dynamic_batch_are_in_the_model()
    {
        var net = OnnxNetworks.All().First(k => k.Name == "strides-pads-tanh-flatten").Net;
        string[] classes = ["a", "b", "c", "d", "e", "f", "g"];
        var normalization = new InputNormalization([0.1f, 0.2f, 0.3f], [0.5f, 0.6f, 0.7f]);
        var model = Onnx.ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(net, classes, normalization));
        Assert.True(model.OpsetImport.Single(o => o.Domain == "").Version >= 13);
        var props = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(classes, System.Text.Json.JsonSerializer.Deserialize<string[]>(props[OnnxFormat.ClassesKey]));
        Assert.Equal(normalization.ToJson(), props[OnnxFormat.NormalizationKey]);
        Assert.Equal(OnnxFormat.BatchDimension, model.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(OnnxFormat.BatchDimension, model.Graph.Output[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal("Softmax", model.Graph.Node[^1].OpType);
        // Classic dropout as its scale (1 − 0.25), inverted as ONNX's Dropout (the identity at inference), per-activation
        // BatchNorm on images as ZeroDL computes it: ((x − mean) · 1/√(var + ε)) · γ + β.
        var ops = model.Graph.Node.Select(n => n.OpType).ToList();
        Assert.Contains("Mul", ops);
        Assert.Contains("Dropout", ops);
        Assert.Equal(0.75f, model.Graph.Initializer.Single(t => t.Name == "dropout1.scale").FloatData.Single());
        Assert.Equal(["Flatten", "Sub", "Mul", "Mul", "Add", "Reshape"], model.Graph.Node.SkipWhile(n => n.Name != "batchnorm2.flatten").Take(6).Select(n => n.OpType));
    }

    [Fact]
    public void Export_refuses_class_names_that_do_not_fit()
    {
        var net = OnnxNetworks.All().First(k => k.Name == "twolayer").Net;
        Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(net, ["a", "b"]));
        Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(net, null, InputNormalization.Identity(3)));
    }
}
