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
        var data = new Option<string?>("--data") { Description = "Folder with the MNIST files (default: the bundled data/mnist)" };
        var threads = new Option<int>("--threads") { Description = "Threads for matrix products", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("evaluate", "Accuracy of a model on the MNIST test (or train) split, with a confusion matrix.") { model, split, data, threads };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) < 1) throw new UsageException("--threads must be at least 1");
            using var limit = Gemm.LimitThreadsOnThisThread(parse.GetValue(threads));
            var loaded = ModelFile.Load(parse.GetValue(model)!);
            var (train, test) = Mnist.Load(directory: parse.GetValue(data));
            var set = parse.GetValue(split) == "train" ? train : test;
            var predicted = loaded.Network.PredictLabels(set);
            var confusion = new int[set.Classes, set.Classes];
            int correct = 0;
            for (int i = 0; i < predicted.Length; i++)
            {
                confusion[set.Labels[i], predicted[i]]++;
                if (predicted[i] == set.Labels[i]) correct++;
            }
            Console.WriteLine($"Model: {loaded.Description} ({loaded.StoredType})");
            Console.WriteLine($"{parse.GetValue(split)} accuracy: {Cli.Percent((double)correct / set.Count)} ({correct} of {set.Count} correct)");
            Console.WriteLine();
            Console.WriteLine(ConfusionText(confusion));
            return Cli.Success;
        });
        return command;
    }

    /// <summary>Rows are true labels, columns predictions.</summary>
    public static string ConfusionText(int[,] confusion)
    {
        int k = confusion.GetLength(0);
        var sb = new StringBuilder("Confusion matrix (rows: label, columns: predicted)\n      ");
        for (int j = 0; j < k; j++) sb.Append($"{j,6}");
        sb.Append('\n');
        for (int i = 0; i < k; i++)
        {
            sb.Append($"{i,6}");
            for (int j = 0; j < k; j++) sb.Append($"{confusion[i, j],6}");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
