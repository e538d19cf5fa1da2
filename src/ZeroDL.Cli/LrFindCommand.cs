using System.CommandLine;
using System.Globalization;
using ZeroDL.Charts;
using ZeroDL.Data;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Cli;

/// <summary>
/// zerodl lr-find: Leslie Smith's learning-rate range test for the network and data <c>train</c> would use. The rate
/// grows exponentially over a few hundred mini-batches; the loss curve goes to CSV and SVG, and a rate is suggested.
/// </summary>
internal static class LrFindCommand
{
    /// <summary>A progress line every this many mini-batches (a DeepConvNet sweep takes about a minute on two cores).</summary>
    private const int ReportEvery = 50;

    /// <summary>Fewer points than this (the loss diverged at once) leave no curve to read a rate from: exit 3, as a diverged training.</summary>
    private const int MinimumPoints = 3;

    public static Command Create()
    {
        var defaults = new LearningRateFinderOptions();
        var recipe = new ModelOptions();
        var data = new DataOptions();
        var augmentOptions = new AugmentOptions();
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd, momentum, nesterov, adagrad, rmsprop or adam (default: the model's)" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Mini-batch size (default: the model's)" };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights, the data order and dropout", DefaultValueFactory = _ => 1 };
        var trainSamples = new Option<int>("--train-samples") { Description = "Use the first N training images only (0 = all)", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Threads for matrix products", DefaultValueFactory = _ => Environment.ProcessorCount };
        var start = new Option<double>("--start") { Description = "The first mini-batch's learning rate", DefaultValueFactory = _ => defaults.Start };
        var end = new Option<double>("--end") { Description = "The last mini-batch's learning rate", DefaultValueFactory = _ => defaults.End };
        var iterations = new Option<int>("--iterations") { Description = "Mini-batches of the sweep; the rate of the i-th (from 0) is start·(end/start)^(i/(iterations−1))", DefaultValueFactory = _ => defaults.Iterations };
        var output = new Option<string?>("--out") { Description = "The curve's CSV (iteration,learning_rate,loss,smoothed_loss); its SVG is written beside it (.svg). Default models/<model>.lr-find.csv" };
        var command = new Command("lr-find", "Learning-rate range test (Leslie Smith, 2017): train a copy of the model for a few hundred mini-batches while the learning rate grows " +
            $"exponentially from --start to --end, stopping early once the smoothed loss exceeds {defaults.DivergenceFactor}× its best; write the loss against the rate as CSV and SVG " +
            "(log axis) and suggest a rate: the one where the smoothed loss was lowest, divided by 10 (a decade below where the loss stops falling).")
        {
            recipe.Model, recipe.Arch, recipe.Hidden, recipe.Activation, recipe.Init, recipe.WeightDecay, recipe.Dropout, recipe.DropoutMode,
            recipe.Batchnorm, recipe.BatchnormMode, recipe.OutputDropout, optimizer, batchSize, seed, trainSamples, threads, start, end, iterations, output,
        };
        foreach (var option in data.All) command.Add(option);
        foreach (var option in augmentOptions.All) command.Add(option);
        command.SetAction(async (parse, cancel) =>
        {
            await Task.Yield(); // off the main thread, as in train: Ctrl+C or SIGTERM is a clean stop throughout
            var choice = recipe.Resolve(parse);
            var options = new LearningRateFinderOptions
            {
                Start = parse.GetValue(start), End = parse.GetValue(end), Iterations = parse.GetValue(iterations),
                BatchSize = parse.GetValue(batchSize) ?? choice.Preset.BatchSize, Seed = parse.GetValue(seed), Threads = parse.GetValue(threads),
                Augmentation = augmentOptions.Resolve(parse, choice.Preset.Augment),
            };
            try { options.Validated(); }
            catch (ArgumentOutOfRangeException e) { throw new UsageException(e.Message.Split(" (Parameter")[0].Replace("start rate", "--start").Replace("end rate", "--end")); }
            int trainCount = parse.GetValue(trainSamples);
            if (trainCount < 0) throw new UsageException("--train-samples must be ≥ 0");
            string optimizerName = parse.GetValue(optimizer) ?? choice.Preset.Optimizer;
            Optimizer<float> opt;
            try { opt = Optimizer<float>.Create(optimizerName, options.Start); }
            catch (ArgumentException e) { throw new UsageException(e.Message.Split(" (Parameter")[0]); }

            var loaded = data.Load(parse, options.Seed);
            var architecture = choice.Architecture(loaded);
            var train = trainCount > 0 ? loaded.Train.Take(trainCount) : loaded.Train;
            choice.CheckFits(architecture, loaded, train);
            string csvPath = parse.GetValue(output) ?? Path.Combine("models", choice.Name + ".lr-find.csv");
            string svgPath = Path.ChangeExtension(csvPath, ".svg");
            Console.WriteLine($"Data: {loaded.Describe()}");
            Console.WriteLine($"Range test on {choice.Name}: {choice.Describe(loaded, architecture)}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {opt.Name}, batch {options.BatchSize}, rate {options.Start:G3} → {options.End:G3} over {options.Iterations} mini-batches, {train.Count} training images, seed {options.Seed}"));
            if (options.Augmentation is not null) Console.WriteLine($"  augmentation: {options.Augmentation.Describe()}");

            var net = architecture.Build<float>(options.Seed);
            var sweep = await Task.Run(() => LearningRateFinder.Run(net, opt, train, options, cancel, p =>
            {
                if (p.Iteration % ReportEvery == 0)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  mini-batch {p.Iteration,4}  rate {p.LearningRate,-9:G3}  loss {p.Loss:F4}  smoothed {p.SmoothedLoss:F4}"));
            }), CancellationToken.None);
            if (sweep.Ending == LearningRateSweepEnd.Cancelled)
            {
                Console.WriteLine($"Interrupted after {sweep.Points.Count} mini-batches: nothing written");
                return Cli.Interrupted;
            }
            var last = sweep.Points.Count > 0 ? sweep.Points[^1] : null;
            Console.WriteLine(sweep.Ending switch
            {
                LearningRateSweepEnd.Diverged => Invariant($"Stopped after {sweep.Points.Count} mini-batches at rate {last!.LearningRate:G3}: the smoothed loss passed {options.DivergenceFactor}× its best"),
                LearningRateSweepEnd.NotFinite => Invariant($"Stopped after {sweep.Points.Count} mini-batches: the loss of the next, at rate {LearningRateFinder.RateAt(options, sweep.Points.Count):G3}, was not finite"),
                _ => Invariant($"Swept all {sweep.Points.Count} mini-batches up to rate {options.End:G3}"),
            });
            if (sweep.Points.Count < MinimumPoints)
            {
                Console.Error.WriteLine($"zerodl: the loss diverged within {sweep.Points.Count + 1} mini-batches: no curve to read a rate from; try a lower --start");
                return Cli.Diverged;
            }
            var lowest = sweep.Points.MinBy(p => p.SmoothedLoss)!;
            Console.WriteLine(Invariant($"Lowest smoothed loss {lowest.SmoothedLoss:F4} at rate {lowest.LearningRate:G3}; steepest descent at rate {sweep.SteepestRate:G3}"));
            if (lowest == last && sweep.Ending == LearningRateSweepEnd.Completed)
                Console.WriteLine("The loss was still falling at --end: raise it to see where it turns");
            AtomicFile.WriteAllText(csvPath, sweep.Csv());
            sweep.Chart($"Learning-rate range test: {choice.Name}, {opt.Name}, batch {options.BatchSize}").Save(svgPath);
            Console.WriteLine(Invariant($"Suggested learning rate: {sweep.SuggestedRate:G3} (the lowest loss's rate / 10)"));
            Console.WriteLine($"Wrote {csvPath} and {svgPath}");
            return Cli.Success;
        });
        return command;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
