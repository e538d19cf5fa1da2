using System.CommandLine;
using ZeroDL.Experiments;

namespace ZeroDL.Cli;

/// <summary>zerodl experiment NAME | all | list: the book's figures as runnable experiments writing runs/NAME/.</summary>
internal static class ExperimentCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "An experiment's name, all, or list (" + string.Join(", ", ExperimentCatalog.All.Select(e => e.Name)) + ")" };
        var quick = new Option<bool>("--quick") { Description = "Run at reduced size (seconds instead of minutes)" };
        var output = new Option<string>("--out") { Description = "Folder the runs/NAME/ folders go in", DefaultValueFactory = _ => "runs" };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice", DefaultValueFactory = _ => 1 };
        var data = new Option<string?>("--data") { Description = "Folder with the MNIST files (default: the bundled data/mnist)" };
        var command = new Command("experiment", "Run one of the book's figures as an experiment: CSV data, SVG/PNG figures and summary.md under runs/NAME/; 'all' also writes runs/index.html.")
        {
            name, quick, output, seed, data,
        };
        command.SetAction(parse =>
        {
            string which = parse.GetValue(name)!.Trim().ToLowerInvariant(), root = parse.GetValue(output)!;
            if (which == "list")
            {
                foreach (var e in ExperimentCatalog.All) Console.WriteLine($"{e.Name,-24} ch. {e.Chapter,-5} {e.Title}");
                return Cli.Success;
            }
            IReadOnlyList<Experiment> chosen;
            try { chosen = which == "all" ? ExperimentCatalog.All : [ExperimentCatalog.Find(which)]; }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
            foreach (var experiment in chosen)
            {
                var (_, seconds, files) = ExperimentCatalog.Run(experiment, root, parse.GetValue(quick), parse.GetValue(seed), parse.GetValue(data));
                Console.WriteLine($"{experiment.Name}: {files.Count} files in {Path.Combine(root, experiment.Name)} ({seconds:F1} s)");
            }
            ExperimentCatalog.WriteIndex(root);
            Console.WriteLine($"Index: {Path.Combine(root, "index.html")}");
            return Cli.Success;
        });
        return command;
    }
}
