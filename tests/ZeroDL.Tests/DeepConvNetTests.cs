using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary>The book's trained DeepConvNet (data/reference/deep_convnet_2016.npz) on the 10,000 MNIST test images.</summary>
public class DeepConvNetTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    private static readonly int[] BookErrors =
    [
        445, 449, 450, 582, 726, 900, 947, 1014, 1182, 1226, 1232, 1260, 1393, 1527, 1621, 1901, 2070, 2118, 2129, 2130,
        2182, 2414, 2447, 2454, 2597, 2654, 2927, 2953, 3030, 3073, 3422, 3520, 3767, 3808, 4027, 4053, 4078, 4199, 4201,
        4284, 4536, 4571, 4575, 4699, 4761, 4823, 4874, 5331, 5937, 6166, 6173, 6572, 6576, 6597, 6625, 6783, 7856, 7928,
        8316, 8382, 8408, 9009, 9015, 9729, 9839,
    ];

    private static string WeightsPath => Path.Combine(TestPaths.Reference, "deep_convnet_2016.npz");

    private int[] Misclassified(Models.Sequential<float> net, NDArray<float> images)
    {
        var predicted = net.PredictLabels(images.Reshape(-1, 1, 28, 28), batchSize: 100);
        var labels = mnist.Data.Test.Labels.ToArray();
        return Enumerable.Range(0, labels.Length).Where(i => predicted[i] != labels[i]).ToArray();
    }

    [Fact]
    public void Book_weights_give_9935_correct_and_the_65_listed_errors()
    {
        var net = BookWeights.LoadDeepConvNet(WeightsPath);
        var errors = Misclassified(net, mnist.Data.Test.Images);
        Assert.Equal(BookErrors, errors);
        Assert.Equal(9935, 10000 - errors.Length);
        // The first of them as (label, predicted), as the book lists them: (6,0) (3,5) (3,5).
        var first = net.PredictLabels(NDArrayRows.Gather(mnist.Data.Test.Images, [445, 449, 450], null).Reshape(-1, 1, 28, 28));
        Assert.Equal(new[] { 0, 5, 5 }, first);
    }

    [Fact]
    public void Weights_and_inputs_rounded_to_float16_still_give_9935()
    {
        var net = BookWeights.LoadDeepConvNet(WeightsPath);
        foreach (var (_, value) in net.NamedTensors())
            for (int i = 0; i < value.Size; i++) value.Data[i] = (float)(Half)value.Data[i];
        var images = mnist.Data.Test.Images.Clone();
        for (int i = 0; i < images.Size; i++) images.Data[i] = (float)(Half)images.Data[i];
        Assert.Equal(65, Misclassified(net, images).Length);
    }

    [Fact]
    public void Wrong_arrays_are_refused_by_name()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "sample.npz");
        File.Copy(Path.Combine(TestPaths.Reference, "sample_weight.npz"), path);
        var e = Assert.Throws<Data.DataFormatException>(() => BookWeights.LoadDeepConvNet(path));
        Assert.Contains("W7", e.Message);
    }
}
