using System.CommandLine;
using System.Globalization;
using ZeroDL.Charts;
using ZeroDL.Data;
using ZeroDL.Tuning;

namespace ZeroDL.Cli;

/// <summary>zerodl tune: the book's ch. 6.5 hyper-parameter search, by grid, random or Bayesian search.</summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        var defaults = new SearchOptions();
        var method = new Option<string>("--method") { Description = "grid, random or bayes (Gaussian process with expected improvement)", DefaultValueFactory = _ => "random" };
        method.AcceptOnlyFromAmong([.. SearchOptions.Methods]);
        var trials = new Option<int>("--trials") { Description = "Settings to try", DefaultValueFactory = _ => defaults.Trials };
        var samples = new Option<int>("--train-samples") { Description = "Training images used (20 % of them held out for validation)", DefaultValueFactory = _ => defaults.TrainingSamples };
        var validation = new Option<double>("--validation") { Description = "Fraction held out for validation", DefaultValueFactory = _ => defaults.ValidationFraction };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per trial", DefaultValueFactory = _ => defaults.Epochs };
        var seed = new Option<int>("--seed") { Description = "Seed of the split, the proposals and the trials", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Folder for trials.csv, figures and summary.md (default runs/tune-METHOD)" };
        var data = new Option<string?>("--data") { Description = "Folder with the MNIST files (default: the bundled data/mnist)" };
        var command = new Command("tune", "Search learning rate and weight decay (log scales) for the book's 6-hidden-layer net on a validation split; the test set is never used.")
        {
            method, trials, samples, validation, epochs, seed, output, data,
        };
        command.SetAction(parse =>
        {
            var options = new SearchOptions
            {
                Method = parse.GetValue(method)!, Trials = parse.GetValue(trials), TrainingSamples = parse.GetValue(samples),
                ValidationFraction = parse.GetValue(validation), Epochs = parse.GetValue(epochs), Seed = parse.GetValue(seed),
            };
            try { options.Validated(); }
            catch (ArgumentOutOfRangeException e) { throw new UsageException(e.Message.Split(" (Parameter")[0].Split("\nActual value")[0]); }
            string dir = parse.GetValue(output) ?? Path.Combine("runs", "tune-" + options.Method);
            Directory.CreateDirectory(dir);
            var (train, _) = Mnist.Load(directory: parse.GetValue(data));
            Console.WriteLine($"{options.Method} search, {options.Trials} trials of {options.Epochs} epochs on {options.TrainingSamples} images ({options.ValidationFraction:P0} for validation), {options.Parallelism} at a time");
            var results = HyperparameterSearch.Run(train, options, t => Console.WriteLine(HyperparameterSearch.Describe(t)));
            var csv = "trial,learning_rate,weight_decay,validation_accuracy,train_accuracy\n" + string.Concat(results.Select(t =>
                string.Create(CultureInfo.InvariantCulture, $"{t.Index + 1},{t.LearningRate:R},{t.WeightDecay:R},{t.ValidationAccuracy:R},{t.TrainAccuracy:R}\n")));
            Serialization.AtomicFile.WriteAllText(Path.Combine(dir, "trials.csv"), csv);
            Serialization.AtomicFile.WriteAllText(Path.Combine(dir, "trials.svg"), TuningReport.Scatter(results, $"{options.Method} search: validation accuracy").ToSvg());
            Serialization.AtomicFile.WriteAllText(Path.Combine(dir, "best_so_far.svg"), new Chart
            {
                Title = "Best validation accuracy so far", X = new Axis("trials"), Y = new Axis("validation accuracy"),
                Series = [Series.Of(options.Method, TuningReport.BestSoFar(results), 1)],
            }.ToSvg());
            var best = results.OrderByDescending(t => t.ValidationAccuracy).Take(5).ToList();
            string table = "| rank | learning rate | weight decay | validation | train |\n|---|---|---|---|---|\n" + string.Concat(best.Select((t, i) =>
                string.Create(CultureInfo.InvariantCulture, $"| {i + 1} | {t.LearningRate:0.###e0} | {t.WeightDecay:0.###e0} | {t.ValidationAccuracy:P1} | {t.TrainAccuracy:P1} |\n")));
            Serialization.AtomicFile.WriteAllText(Path.Combine(dir, "summary.md"), $"# tune: {options.Method} search\n\n{table}\nFiles: trials.csv, trials.svg, best_so_far.svg\n");
            Console.WriteLine();
            Console.WriteLine("Best trials:");
            Console.Write(table);
            Console.WriteLine($"Wrote {dir}/trials.csv, trials.svg, best_so_far.svg and summary.md");
            return Cli.Success;
        });
        return command;
    }
}
