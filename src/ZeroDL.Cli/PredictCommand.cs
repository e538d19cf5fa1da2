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
        var index = new Option<string?>("--index") { Description = "Test images of the model's data by index: 7, 0..9 or 1,5,9" };
        var image = new Option<string[]>("--image")
        {
            Description = "A PNG image file (repeatable), resized to the model's input size. For an MNIST digit model also PGM, 28×28, dark-on-light inverted",
            AllowMultipleArgumentsPerToken = true,
        };
        var data = new DataOptions();
        var seed = new Option<int>("--seed") { Description = "Seed of the --test-split draw (default: the model file's, else 1)", DefaultValueFactory = _ => 1 };
        var command = new Command("predict", "Classify test images of the model's data or image files: 'prediction == label: o/x' (the prediction first) and the top-3 probabilities.") { model, index, image, seed };
        foreach (var option in data.All) command.Add(option);
        command.SetAction(parse =>
        {
            string? indexText = parse.GetValue(index);
            string[] images = parse.GetValue(image) ?? [];
            if (indexText is null && images.Length == 0) throw new UsageException("give --index N (test images) or --image FILE");
            string modelPath = parse.GetValue(model)!;
            var loaded = ModelFile.Load(modelPath);
            var net = loaded.Network;
            var names = loaded.ClassNames;
            int classes = names.Count;
            if (indexText is not null)
            {
                var sets = data.Load(parse, parse.GetValue(seed), ModelData.TrainingSettings(loaded));
                var test = ModelData.Fit(loaded, modelPath, sets.Test, sets.Name);
                var indices = Cli.ParseIndices(indexText, test.Count);
                var batch = test.Select(indices.ToArray());
                var probabilities = net.PredictProbabilities(Evaluation.AsInput(net, batch.Images));
                for (int r = 0; r < indices.Count; r++)
                {
                    var row = probabilities.ReadOnlySpan.Slice(r * classes, classes);
                    int predicted = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);
                    int label = batch.Labels[r];
                    Console.WriteLine($"[{indices[r]}] {names[predicted]} == {names[label]}: {(label == predicted ? "o" : "x")}  {Top3(row, names)}");
                }
            }
            foreach (var path in images)
            {
                var x = ImageInputFor(loaded, path);
                var row = net.PredictProbabilities(Evaluation.AsInput(net, x)).ReadOnlySpan;
                Console.WriteLine($"{path}: {names[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row)]}  {Top3(row, names)}");
            }
            return Cli.Success;
        });
        return command;
    }

    /// <summary>
    /// One image file as the model's input (a batch of one). A model of MNIST digits (<see cref="ModelInput.IsMnistDigits"/>)
    /// reads it as before: PNG or PGM, 28×28, dark ink on light paper inverted. Any other model reads a PNG, resized to
    /// its input size and normalized by the model file (<see cref="ModelInput.FromPng"/>).
    /// </summary>
    internal static NDArray<float> ImageInputFor(LoadedModel loaded, string path)
    {
        var model = ModelInput.Of(loaded);
        if (model.IsMnistDigits)
        {
            var img = GrayImage.Load(path);
            if (img.Width != 28 || img.Height != 28)
                throw DataFormatException.For(path, $"image is {img.Width}×{img.Height}; predict takes 28×28 digit images as in MNIST");
            return new NDArray<float>(img.AsLightOnDark().Pixels, 1, 784);
        }
        var values = model.FromPng(DataFile.ReadAllBytes(path), path);
        return new NDArray<float>(values, 1, values.Length);
    }

    private static string Top3(ReadOnlySpan<float> probabilities, IReadOnlyList<string> names)
    {
        var order = Enumerable.Range(0, probabilities.Length).ToArray();
        var p = probabilities.ToArray();
        Array.Sort(order, (a, b) => p[b].CompareTo(p[a]));
        return "top-3: " + string.Join("  ", order.Take(3).Select(i => string.Create(CultureInfo.InvariantCulture, $"{names[i]} {p[i]:P1}")));
    }
}
