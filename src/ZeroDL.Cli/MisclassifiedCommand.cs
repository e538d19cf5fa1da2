using System.CommandLine;
using System.Globalization;
using System.Text;
using ZeroDL.Data;
using ZeroDL.Imaging;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Cli;

/// <summary>The book's ch. 8 figure of misclassified test digits: a PNG grid with prediction and label under each, and a CSV of all of them.</summary>
internal static class MisclassifiedCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model file (safetensors)", Required = true };
        var output = new Option<string?>("--out") { Description = "PNG to write (default: <model>.misclassified.png); a .csv of every misclassified image is written beside it" };
        var count = new Option<int>("--count") { Description = "Images in the figure (the book shows 20)", DefaultValueFactory = _ => 20 };
        var columns = new Option<int>("--columns") { Description = "Images per row of the figure", DefaultValueFactory = _ => 5 };
        var split = new Option<string>("--split") { Description = "test or train", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("test", "train");
        var seed = new Option<int>("--seed") { Description = "Seed of the --test-split draw (default: the model file's, else 1)", DefaultValueFactory = _ => 1 };
        var data = new DataOptions();
        var command = new Command("misclassified", "Find the images a model gets wrong: print their count and indices, draw the first ones as a PNG grid captioned index: prediction != label. Without --data, the data the model file records (else MNIST).")
        {
            model, output, count, columns, split, seed,
        };
        foreach (var option in data.All) command.Add(option);
        command.SetAction(parse =>
        {
            int shown = parse.GetValue(count), perRow = parse.GetValue(columns);
            if (shown < 1 || perRow < 1) throw new UsageException("--count and --columns must be at least 1");
            string modelPath = parse.GetValue(model)!;
            string pngPath = parse.GetValue(output) ?? Path.ChangeExtension(modelPath, null) + ".misclassified.png";
            string csvPath = Path.ChangeExtension(pngPath, ".csv");
            // Before the evaluation, so that a wrong --out costs nothing and leaves no CSV beside it.
            AtomicFile.CheckDestination(pngPath);
            AtomicFile.CheckDestination(csvPath);
            var loaded = ModelFile.Load(modelPath);
            // The data evaluate reads (the model file's record unless --data is given), checked to fit the model.
            var sets = data.Load(parse, parse.GetValue(seed), ModelData.TrainingSettings(loaded), modelPath);
            var stored = parse.GetValue(split) == "train" ? sets.Train : sets.Test;
            var set = ModelData.Fit(loaded, modelPath, stored, sets.Name);
            var predicted = loaded.Network.PredictLabels(set);
            var wrong = Enumerable.Range(0, set.Count).Where(i => predicted[i] != set.Labels[i]).ToList();

            Console.WriteLine($"{wrong.Count} of {set.Count} {parse.GetValue(split)} images misclassified ({Cli.Percent((double)(set.Count - wrong.Count) / set.Count)} correct)");
            Console.WriteLine("indices: " + string.Join(" ", wrong));
            var csv = new StringBuilder("index,predicted,label\n");
            foreach (int i in wrong) csv.Append(CultureInfo.InvariantCulture, $"{i},{predicted[i]},{set.Labels[i]}\n");
            AtomicFile.WriteAllText(csvPath, csv.ToString());
            if (wrong.Count == 0)
            {
                Console.WriteLine($"Nothing to draw; wrote {csvPath}");
                return Cli.Success;
            }
            var shownIndices = wrong.Take(shown).ToList();
            ImageGrid.Misclassified(stored, predicted, shownIndices, perRow).SavePng(pngPath);
            Console.WriteLine($"Wrote {pngPath} (first {shownIndices.Count}, captioned index: prediction != label) and {csvPath}");
            return Cli.Success;
        });
        return command;
    }
}
