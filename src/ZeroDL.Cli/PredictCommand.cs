using System.CommandLine;
using ZeroDL.Serialization;
using System.Globalization;
using ZeroDL.Data;
using ZeroDL.Imaging;
using ZeroDL.Training;

namespace ZeroDL.Cli;

internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model file (safetensors) written by zerodl train", Required = true };
        var index = new Option<string?>("--index") { Description = "MNIST test images by index: 7, 0..9 or 1,5,9" };
        var image = new Option<string[]>("--image") { Description = "A 28×28 PNG or PGM image of a digit (repeatable); dark-on-light images are inverted", AllowMultipleArgumentsPerToken = true };
        var data = new Option<string?>("--data") { Description = "Folder with the MNIST files (default: the bundled data/mnist)" };
        var command = new Command("predict", "Classify MNIST test images or image files: 'prediction == label: o/x' (the prediction first) and the top-3 probabilities.") { model, index, image, data };
        command.SetAction(parse =>
        {
            string? indexText = parse.GetValue(index);
            string[] images = parse.GetValue(image) ?? [];
            if (indexText is null && images.Length == 0) throw new UsageException("give --index N (MNIST test images) or --image FILE");
            var loaded = ModelFile.Load(parse.GetValue(model)!);
            var net = loaded.Network;
            if (indexText is not null)
            {
                var (_, test) = Mnist.Load(directory: parse.GetValue(data));
                var indices = Cli.ParseIndices(indexText, test.Count);
                var batch = test.Select(indices.ToArray());
                var probabilities = net.PredictProbabilities(Evaluation.AsInput(net, batch.Images));
                for (int r = 0; r < indices.Count; r++)
                {
                    var row = probabilities.ReadOnlySpan.Slice(r * 10, 10);
                    int predicted = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);
                    int label = batch.Labels[r];
                    Console.WriteLine($"[{indices[r]}] {predicted} == {label}: {(label == predicted ? "o" : "x")}  {Top3(row)}");
                }
            }
            foreach (var path in images)
            {
                var img = GrayImage.Load(path);
                if (img.Width != 28 || img.Height != 28)
                    throw DataFormatException.For(path, $"image is {img.Width}×{img.Height}; predict takes 28×28 digit images as in MNIST");
                var x = new NDArray<float>(img.AsLightOnDark().Pixels, 1, 784);
                var row = net.PredictProbabilities(Evaluation.AsInput(net, x)).ReadOnlySpan;
                Console.WriteLine($"{path}: {System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row)}  {Top3(row)}");
            }
            return Cli.Success;
        });
        return command;
    }

    private static string Top3(ReadOnlySpan<float> probabilities)
    {
        var order = Enumerable.Range(0, probabilities.Length).ToArray();
        var p = probabilities.ToArray();
        Array.Sort(order, (a, b) => p[b].CompareTo(p[a]));
        return "top-3: " + string.Join("  ", order.Take(3).Select(i => string.Create(CultureInfo.InvariantCulture, $"{i} {p[i]:P1}")));
    }
}
