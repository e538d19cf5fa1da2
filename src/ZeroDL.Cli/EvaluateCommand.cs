using System.CommandLine;
using ZeroDL.Serialization;
using System.Text;
using ZeroDL.Data;
using ZeroDL.Kernels;
using ZeroDL.Training;

namespace ZeroDL.Cli;

internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model file (safetensors) written by zerodl train", Required = true };
        var split = new Option<string>("--split") { Description = "test or train", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("test", "train");
        var data = new DataOptions();
        var seed = new Option<int>("--seed") { Description = "Seed of the --test-split draw (default: the model file's, else 1)", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Threads for matrix products", DefaultValueFactory = _ => Environment.ProcessorCount };
        var outputs = new Option<string?>("--outputs") { Description = "Also write the class probabilities of every image of the split as a float32 .npy array (images × classes, in the split's order), e.g. to compare with another runtime" };
        var command = new Command("evaluate", "Accuracy of a model on the test (or train) split of its data, with a confusion matrix. Without --data, the data the model file records (else MNIST).") { model, split, threads, seed, outputs };
        foreach (var option in data.All) command.Add(option);
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) < 1) throw new UsageException("--threads must be at least 1");
            using var limit = Gemm.LimitThreadsOnThisThread(parse.GetValue(threads));
            string modelPath = parse.GetValue(model)!;
            var loaded = ModelFile.Load(modelPath);
            var sets = data.Load(parse, parse.GetValue(seed), ModelData.TrainingSettings(loaded), modelPath);
            var set = ModelData.Fit(loaded, modelPath, parse.GetValue(split) == "train" ? sets.Train : sets.Test, sets.Name);
            var predicted = loaded.Network.PredictLabels(set);
            var confusion = new int[set.Classes, set.Classes];
            int correct = 0;
            for (int i = 0; i < predicted.Length; i++)
            {
                confusion[set.Labels[i], predicted[i]]++;
                if (predicted[i] == set.Labels[i]) correct++;
            }
            Console.WriteLine($"Model: {loaded.Description} ({loaded.StoredType})");
            Console.WriteLine($"Data: {sets.Describe()}");
            Console.WriteLine($"{parse.GetValue(split)} accuracy: {Cli.Percent((double)correct / set.Count)} ({correct} of {set.Count} correct)");
            Console.WriteLine();
            Console.WriteLine(ConfusionText(confusion, loaded.ClassNames));
            if (parse.GetValue(outputs) is string outputPath)
            {
                NpyWriter.Write(outputPath, loaded.Network.PredictProbabilities(set), [set.Count, loaded.Network.OutputSize]);
                Console.WriteLine($"Wrote the probabilities of {set.Count} images to {outputPath}");
            }
            return Cli.Success;
        });
        return command;
    }

    /// <summary>
    /// Rows are true labels, columns predictions. Classes named other than by their number are listed first (label:
    /// name), and the matrix is headed by the labels.
    /// </summary>
    public static string ConfusionText(int[,] confusion, IReadOnlyList<string>? names = null)
    {
        int k = confusion.GetLength(0);
        var sb = new StringBuilder();
        bool named = names is not null && names.Select((n, i) => n != i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Any(b => b);
        if (named)
        {
            sb.Append("Classes: ");
            sb.AppendJoin(", ", names!.Select((n, i) => $"{i}: {n}"));
            sb.Append("\n\n");
        }
        int width = Math.Max(6, confusion.Cast<int>().DefaultIfEmpty().Max().ToString(System.Globalization.CultureInfo.InvariantCulture).Length + 2);
        sb.Append("Confusion matrix (rows: label, columns: predicted)\n      ");
        for (int j = 0; j < k; j++) sb.Append(j.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width));
        sb.Append('\n');
        for (int i = 0; i < k; i++)
        {
            sb.Append($"{i,6}");
            for (int j = 0; j < k; j++) sb.Append(confusion[i, j].ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width));
            if (named) sb.Append("  ").Append(names![i]);
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
