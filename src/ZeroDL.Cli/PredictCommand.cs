using System.CommandLine;
using System.Globalization;
using System.Text;
using ZeroDL.Serialization;
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
            Description = "A PNG image file, or a folder: every PNG below it, in path order (repeatable), resized to the model's input size. For an MNIST digit model also PGM, 28×28, dark-on-light inverted",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string?>("--out")
        {
            Description = "Write every prediction to this CSV instead of one line each: source (a file, or test[i]), prediction, its probability, then every class's probability",
        };
        var data = new DataOptions();
        var seed = new Option<int>("--seed") { Description = "Seed of the --test-split draw (default: the model file's, else 1)", DefaultValueFactory = _ => 1 };
        var command = new Command("predict", "Classify test images of the model's data or image files: 'prediction == label: o/x' (the prediction first) and the top-3 probabilities.") { model, index, image, output, seed };
        foreach (var option in data.All) command.Add(option);
        command.SetAction(parse =>
        {
            string? indexText = parse.GetValue(index);
            string[] images = parse.GetValue(image) ?? [];
            if (indexText is null && images.Length == 0) throw new UsageException("give --index N (test images) or --image FILE");
            string? csvPath = parse.GetValue(output);
            string modelPath = parse.GetValue(model)!;
            var loaded = ModelFile.Load(modelPath);
            var net = loaded.Network;
            var names = loaded.ClassNames;
            int classes = names.Count;
            var rows = new List<(string Source, float[] Probabilities)>();
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
                    if (csvPath is null) Console.WriteLine($"[{indices[r]}] {names[predicted]} == {names[label]}: {(label == predicted ? "o" : "x")}  {Top3(row, names)}");
                    rows.Add(($"test[{indices[r]}]", row.ToArray()));
                }
            }
            var files = ImageFiles(images, ModelInput.Of(loaded).IsMnistDigits);
            // A batch at a time: a folder of thousands runs at the network's batch speed, not one image per call.
            for (int start = 0; start < files.Count; start += PredictBatch)
            {
                int count = Math.Min(PredictBatch, files.Count - start);
                NDArray<float>? x = null;
                for (int i = 0; i < count; i++)
                {
                    var one = ImageInputFor(loaded, files[start + i]);
                    x ??= new NDArray<float>(count, one.Shape[1]);
                    one.ReadOnlySpan.CopyTo(x.Span.Slice(i * one.Shape[1]));
                }
                var probabilities = net.PredictProbabilities(Evaluation.AsInput(net, x!));
                for (int i = 0; i < count; i++)
                {
                    var row = probabilities.ReadOnlySpan.Slice(i * classes, classes);
                    if (csvPath is null) Console.WriteLine($"{files[start + i]}: {names[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row)]}  {Top3(row, names)}");
                    rows.Add((files[start + i], row.ToArray()));
                }
            }
            if (csvPath is not null)
            {
                try { AtomicFile.WriteAllText(csvPath, Csv(rows, names)); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw DataFormatException.For(csvPath, $"cannot write: {e.Message}", e); }
                var counts = rows.GroupBy(r => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(r.Probabilities)).OrderBy(g => g.Key)
                    .Select(g => $"{names[g.Key]}: {g.Count()}");
                Console.WriteLine($"Classified {rows.Count} image{(rows.Count == 1 ? "" : "s")} ({string.Join(", ", counts)}); wrote {csvPath}");
            }
            return Cli.Success;
        });
        return command;
    }

    /// <summary>Images classified per call of the network (the training batch's size: the products' sweet spot).</summary>
    private const int PredictBatch = 100;

    /// <summary>
    /// The files <paramref name="arguments"/> name: a file as given; a folder as every PNG below it (and PGM, for a
    /// digit model), sorted by path so that the output's order does not depend on the file system.
    /// </summary>
    /// <exception cref="DataFormatException">a folder holds no such image.</exception>
    internal static List<string> ImageFiles(IEnumerable<string> arguments, bool digits)
    {
        var files = new List<string>();
        foreach (string argument in arguments)
        {
            if (!Directory.Exists(argument)) { files.Add(argument); continue; }
            var found = Directory.EnumerateFiles(argument, "*", SearchOption.AllDirectories)
                .Where(f => Path.GetExtension(f).ToLowerInvariant() is ".png" || (digits && Path.GetExtension(f).ToLowerInvariant() is ".pgm"))
                .Order(StringComparer.Ordinal).ToList();
            if (found.Count == 0) throw DataFormatException.For(argument, $"no {(digits ? "PNG or PGM" : "PNG")} images in this folder");
            files.AddRange(found);
        }
        return files;
    }

    /// <summary>The predictions as CSV: a header of the class names, a row a source, a field quoted where it holds a comma, quote or line break.</summary>
    private static string Csv(List<(string Source, float[] Probabilities)> rows, IReadOnlyList<string> names)
    {
        static string Field(string text) => text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";
        var csv = new StringBuilder("source,prediction,probability");
        foreach (string name in names) csv.Append(',').Append(Field(name));
        csv.Append('\n');
        foreach (var (source, p) in rows)
        {
            int predicted = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p);
            csv.Append(Field(source)).Append(',').Append(Field(names[predicted])).Append(',').Append(p[predicted].ToString("R", CultureInfo.InvariantCulture));
            foreach (float v in p) csv.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            csv.Append('\n');
        }
        return csv.ToString();
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
