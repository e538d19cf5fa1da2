using System.CommandLine;
using System.Globalization;
using ZeroDL.Data;

namespace ZeroDL.Cli;

/// <summary><c>zerodl data</c>: reads a dataset as train would, and describes it (splits, classes, shape, normalization, time).</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var options = new DataOptions();
        var seed = new Option<int>("--seed") { Description = "Seed of the --test-split draw (train's --seed)", DefaultValueFactory = _ => 1 };
        var command = new Command("data", "Read a dataset as train would and describe it: splits, classes, image shape and the per-channel normalization of its training split.") { seed };
        foreach (var option in options.All) command.Add(option);
        command.SetAction(parse =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var data = options.Load(parse, parse.GetValue(seed));
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(data.Describe());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Read in {seconds:F1} s; the images take {(long)(data.Train.Count + data.Test.Count) * data.Train.SampleLength / 1e6:F1} MB as bytes"));
            var n = data.Train.Normalization;
            Console.WriteLine(n is null
                ? "Input: pixels / 255 (no per-channel normalization, as the book's MNIST)"
                : "Input: (pixels / 255 − mean) / std per channel, from the training split: " + string.Join("; ", Enumerable.Range(0, n.Channels).Select(c =>
                    string.Create(CultureInfo.InvariantCulture, $"mean {n.Mean[c]:F4} std {n.Std[c]:F4}"))));
            Console.WriteLine();
            Console.WriteLine($"{"label",5}  {"class",-24}{"train",8}{"test",8}");
            for (int c = 0; c < data.Train.Classes; c++)
                Console.WriteLine($"{c,5}  {data.Train.ClassName(c),-24}{data.Train.Labels.Count(c),8}{data.Test.Labels.Count(c),8}");
            return Cli.Success;
        });
        return command;
    }
}
