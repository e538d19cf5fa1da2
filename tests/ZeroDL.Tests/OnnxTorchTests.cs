using System.Text.Json;
using ZeroDL.Serialization.Onnx;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 20 §2's bar: a network trained in PyTorch and exported with torch.onnx.export (the committed fixture
/// tests/ZeroDL.Tests/data/onnx/torch_mnist.onnx, made by bench/python/onnx_torch.py) is imported, and ZeroDL then
/// classifies every MNIST test image as PyTorch did (torch_mnist.json beside it: PyTorch's count and its errors).
/// </summary>
public class OnnxTorchTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    private static string Fixture(string name) => Path.Combine(TestPaths.RepoRoot, "tests", "ZeroDL.Tests", "data", "onnx", name);

    private sealed record TorchResult(int Correct, int Total, int[] Misclassified, string Torch);

    [Fact]
    public void A_pytorch_network_imported_from_onnx_gets_pytorchs_accuracy_to_the_image()
    {
        var torch = JsonSerializer.Deserialize<TorchResult>(File.ReadAllText(Fixture("torch_mnist.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
        Assert.True(new FileInfo(Fixture("torch_mnist.onnx")).Length < 1 << 20, "the fixture must stay under 1 MB");
        var model = OnnxImport.Load(Fixture("torch_mnist.onnx"));
        Assert.StartsWith("pytorch", model.Metadata["onnx_producer"]);
        var test = mnist.Data.Test;
        Assert.Equal(torch.Total, test.Count);
        var predicted = model.Network.PredictLabels(test.Images.Reshape([test.Count, .. model.Network.InputShape]), batchSize: 500);
        var labels = test.Labels.ToArray();
        var errors = Enumerable.Range(0, labels.Length).Where(i => predicted[i] != labels[i]).ToArray();
        Assert.Equal(torch.Misclassified, errors);
        Assert.Equal(torch.Correct, labels.Length - errors.Length);
    }
}
