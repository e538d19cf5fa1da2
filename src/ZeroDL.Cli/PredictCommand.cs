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
            Description = "A PNG image file, or a folder: every PNG below it in path order, hidden files left out (repeatable). Resized to the model's input size; " +
                          "for an MNIST digit model PNG or PGM, 28×28, dark-on-light inverted",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string?>("--out")
        {
            Description = "Write the predictions to this CSV (atomically) instead of a line each: source (a file, or test[i]), label (test images), " +
                          "prediction, its probability, then every class's probability. The last digits of a probability can differ with the batch it was computed in",
        };
        var data = new DataOptions();
        var seed = new Option<int>("--seed") { Description = "Seed of the --test-split draw (default: the model file's, else 1)", DefaultValueFactory = _ => 1 };
        var command = new Command("predict", "Classify test images of the model's data, image files or folders of them: 'prediction == label: o/x' (the prediction first) " +
            "and the top-3 probabilities, or with --out a CSV of every prediction.") { model, index, image, output, seed };
        foreach (var option in data.All) command.Add(option);
        command.SetAction(parse =>
        {
            string? indexText = parse.GetValue(index);
            string[] images = parse.GetValue(image) ?? [];
            if (indexText is null && images.Length == 0) throw new UsageException("give --index N (test images) or --image FILE|FOLDER");
            if (images.Any(string.IsNullOrWhiteSpace)) throw new UsageException("--image needs a file or folder name");
            string? csvPath = parse.GetValue(output);
            if (csvPath is not null && string.IsNullOrWhiteSpace(csvPath)) throw new UsageException("--out needs a file name");
            if (csvPath is not null && Directory.Exists(csvPath)) throw new UsageException($"--out {csvPath} is a folder: give a file name, e.g. {Path.Combine(csvPath, "predictions.csv")}");
            string modelPath = parse.GetValue(model)!;
            var loaded = ModelFile.Load(modelPath);
            var names = loaded.ClassNames;
            // The files first: a folder without images or with a link loop is refused before any work.
            var files = ImageFiles(images, ModelInput.Of(loaded).IsMnistDigits);
            Dataset? test = null;
            if (indexText is not null)
            {
                var sets = data.Load(parse, parse.GetValue(seed), ModelData.TrainingSettings(loaded), modelPath);
                test = ModelData.Fit(loaded, modelPath, sets.Test, sets.Name);
            }
            IReadOnlyList<int> indices = test is null ? [] : Cli.ParseIndices(indexText!, test.Count);
            if (csvPath is null)
            {
                Classify(loaded, test, indices, files, (source, label, p) =>
                {
                    int predicted = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p);
                    Console.WriteLine(label < 0
                        ? $"{source}: {names[predicted]}  {Top3(p, names)}"
                        : $"[{source}] {names[predicted]} == {names[label]}: {(label == predicted ? "o" : "x")}  {Top3(p, names)}");
                });
                return Cli.Success;
            }
            var counts = new int[names.Count];
            try
            {
                AtomicFile.Write(csvPath, stream =>
                {
                    using var csv = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
                    csv.WriteLine("source,label,prediction,probability," + string.Join(',', names.Select(CsvField)));
                    var line = new StringBuilder();
                    Classify(loaded, test, indices, files, (source, label, p) =>
                    {
                        int predicted = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p);
                        counts[predicted]++;
                        line.Clear().Append(CsvField(label < 0 ? source : $"test[{source}]")).Append(',').Append(label < 0 ? "" : CsvField(names[label]))
                            .Append(',').Append(CsvField(names[predicted])).Append(',').Append(p[predicted].ToString("R", CultureInfo.InvariantCulture));
                        foreach (float v in p) line.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
                        csv.WriteLine(line);
                    });
                });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw DataFormatException.For(csvPath, $"cannot write: {e.Message}", e); }
            int total = counts.Sum();
            var byClass = Enumerable.Range(0, names.Count).Where(c => counts[c] > 0).Select(c => $"{names[c]}: {counts[c]}");
            Console.WriteLine($"Classified {total} image{(total == 1 ? "" : "s")} ({string.Join(", ", byClass)}); wrote {csvPath}");
            return Cli.Success;
        });
        return command;
    }

    /// <summary>One prediction: its source (a file, or a test image's index), its label (−1: none) and its class probabilities.</summary>
    private delegate void Prediction(string source, int label, ReadOnlySpan<float> probabilities);

    /// <summary>Images classified per call of the network (the training batch's size: the products' sweet spot).</summary>
    private const int PredictBatch = 100;

    /// <summary>
    /// Classifies the test images <paramref name="indices"/> of <paramref name="test"/>, then <paramref name="files"/>,
    /// a batch at a time, handing each prediction to <paramref name="emit"/> in that order; nothing is kept, so a folder
    /// of any size runs in the memory of one batch.
    /// </summary>
    private static void Classify(LoadedModel loaded, Dataset? test, IReadOnlyList<int> indices, IReadOnlyList<string> files, Prediction emit)
    {
        var net = loaded.Network;
        int classes = loaded.ClassNames.Count;
        for (int start = 0; start < indices.Count; start += PredictBatch)
        {
            var chosen = indices.Skip(start).Take(PredictBatch).ToArray();
            var batch = test!.Select(chosen);
            var probabilities = net.PredictProbabilities(Evaluation.AsInput(net, batch.Images));
            for (int r = 0; r < chosen.Length; r++)
                emit(chosen[r].ToString(CultureInfo.InvariantCulture), batch.Labels[r], probabilities.ReadOnlySpan.Slice(r * classes, classes));
        }
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
            for (int i = 0; i < count; i++) emit(files[start + i], -1, probabilities.ReadOnlySpan.Slice(i * classes, classes));
        }
    }

    /// <summary>
    /// The files <paramref name="arguments"/> name: a file as given; a folder as every PNG below it (and PGM, for a
    /// digit model), as <see cref="ImageFolder.FilesUnder"/> walks it (in path order, hidden files left out, a link
    /// loop and a named pipe, socket or device with an image's name refused; other files are ignored), so that the
    /// output's order does not depend on the file system.
    /// </summary>
    /// <exception cref="DataFormatException">a folder holds no such image, cannot be listed, loops, or holds a file that is not a regular file.</exception>
    internal static List<string> ImageFiles(IEnumerable<string> arguments, bool digits)
    {
        var files = new List<string>();
        foreach (string argument in arguments)
        {
            if (!Directory.Exists(argument)) { files.Add(argument); continue; }
            var found = ImageFolder.FilesUnder(argument,
                f => Path.GetExtension(f).ToLowerInvariant() is ".png" || (digits && Path.GetExtension(f).ToLowerInvariant() is ".pgm")).ToList();
            if (found.Count == 0) throw DataFormatException.For(argument, $"no {(digits ? "PNG or PGM" : "PNG")} images in this folder");
            files.AddRange(found);
        }
        return files;
    }

    /// <summary>A CSV field: quoted (quotes doubled) where it holds a comma, a quote or a line break.</summary>
    private static string CsvField(string text) => text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

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
