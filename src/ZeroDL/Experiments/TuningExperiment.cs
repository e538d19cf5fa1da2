using ZeroDL.Charts;
using ZeroDL.Tuning;

namespace ZeroDL.Experiments;

/// <summary>Ch. 6.5: grid, random and Bayesian search for learning rate and weight decay at equal trial budgets over several seeds.</summary>
public sealed class TuningExperiment : Experiment
{
    public override string Name => "tuning";
    public override string Chapter => "6.5";
    public override string Title => "hyper-parameter search: grid vs random vs Bayesian";

    public override ExperimentResult Run(ExperimentContext context)
    {
        int trials = context.Quick ? 10 : 30, seeds = context.Quick ? 2 : 3, epochs = context.Quick ? 15 : 50;
        var curves = new Dictionary<string, double[]>();
        var rows = new List<object[]>();
        var scatters = new List<Chart>();
        var bestRates = new Dictionary<string, double>(); // mean log10 of each method's best learning rate
        foreach (string method in SearchOptions.Methods)
        {
            var mean = new double[trials];
            for (int s = 0; s < seeds; s++)
            {
                var options = new SearchOptions { Method = method, Trials = trials, Epochs = epochs, Seed = context.Seed + s };
                var result = HyperparameterSearch.Run(context.Mnist.Train, options);
                var best = TuningReport.BestSoFar(result);
                for (int i = 0; i < trials; i++) mean[i] += best[i] / seeds;
                foreach (var t in result) rows.Add([method, options.Seed, t.Index + 1, t.LearningRate, t.WeightDecay, t.ValidationAccuracy, t.TrainAccuracy]);
                if (s == 0) scatters.Add(TuningReport.Scatter(result, $"{method} (seed {options.Seed})"));
                bestRates[method] = bestRates.GetValueOrDefault(method) + Math.Log10(result.MaxBy(t => t.ValidationAccuracy)!.LearningRate) / seeds;
            }
            curves[method] = mean;
        }
        context.WriteCsv("trials.csv", "method,seed,trial,learning_rate,weight_decay,validation_accuracy,train_accuracy", rows);
        context.SaveChart("best_so_far.svg", new Chart
        {
            Title = $"Best validation accuracy so far, mean of {seeds} seeds", X = new Axis("trials"), Y = new Axis("validation accuracy"),
            Series = curves.Select(c => Series.Of(c.Key, c.Value, 1)).ToList(),
        });
        context.SaveSvg("trials.svg", SmallMultiples.ToSvg(scatters, 3, "Where each method looked (log axes)", 340, 300));
        int half = trials / 2 - 1;
        var figures = new Dictionary<string, double>();
        foreach (var (method, curve) in curves)
        {
            figures[method + "_best_half"] = curve[half];
            figures[method + "_best"] = curve[^1];
            figures[method + "_best_log10_lr"] = bestRates[method];
        }
        string winner = curves.OrderByDescending(c => c.Value[half]).First().Key;
        string summary = $"""
            Learning rate in 1e-6…1e-2 and weight decay in 1e-8…1e-4 (log scales, the book's ranges); 500 training images,
            20 % of them held out for validation (the test set is never used), 6 hidden ReLU layers of 100, SGD, {epochs}
            epochs per trial; {trials} trials per method, mean over {seeds} seeds.

            | method | best validation accuracy after {half + 1} trials | after {trials} |
            |---|---|---|
            {string.Join("\n", curves.Select(c => $"| {c.Key} | {ExperimentContext.G(c.Value[half] * 100, 3)} % | {ExperimentContext.G(c.Value[^1] * 100, 3)} % |"))}

            The learning rate matters far more than the weight decay here: every good trial has a learning rate near the top
            of the range. Grid search spends most of its trials on settings known to be bad along the unimportant axis;
            random search tries a new learning rate every time; Bayesian search (a Gaussian process with expected
            improvement, after 5 random trials) moves its trials to the promising region. With half the budget the best
            region was found first by {winner} in this run.
            """;
        return new ExperimentResult(summary, figures);
    }
}
