using System.Globalization;
using Spectre.Console;
using ZeroDL.Training;

namespace ZeroDL.Cli;

/// <summary>
/// How <c>zerodl train</c> shows a run going: on a terminal, one line that redraws (a bar, the percentage, the recent
/// loss, images per second and the ETA) under the epoch lines; when the output is redirected, plain lines only, an epoch
/// line each with the images per second and the ETA appended (programs and tests read them).
/// </summary>
internal static class TrainingProgress
{
    /// <summary>The bar's text is redrawn at most this often in mini-batches (the loss and speed change slowly; redrawing costs).</summary>
    private const int RedrawEvery = 10;

    /// <summary>
    /// Trains with <paramref name="trainer"/> (on <paramref name="samples"/> training images, going on after
    /// <paramref name="startIteration"/> mini-batches), showing the progress; <paramref name="epochLine"/> gives an epoch's line.
    /// </summary>
    public static Task<TrainingHistory> Run(Trainer trainer, int samples, int startIteration, Func<EpochResult, string> epochLine, CancellationToken cancel)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var meter = new ThroughputMeter(startIteration, trainer.TotalIterations, TimeSpan.Zero);
        var gate = new object();
        trainer.BatchCompleted += (iteration, _) =>
        {
            int images = ThroughputMeter.ImagesInBatch(iteration, samples, trainer.Options.BatchSize, trainer.IterationsPerEpoch, trainer.Options.SampleWithReplacement);
            lock (gate) meter.Add(iteration, images, clock.Elapsed);
        };
        string Speed()
        {
            lock (gate)
            {
                double rate = meter.ImagesPerSecond;
                string eta = meter.Remaining is TimeSpan left ? ThroughputMeter.Format(left) : "?";
                return double.IsFinite(rate) ? string.Create(CultureInfo.InvariantCulture, $"{rate:N0} img/s  ETA {eta}") : "";
            }
        }
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive) return Interactive(trainer, startIteration, epochLine, Speed, cancel);
        trainer.EpochCompleted += e => Console.WriteLine(epochLine(e) + "  " + Speed());
        return Task.Run(() => trainer.Train(cancel), CancellationToken.None);
    }

    private static async Task<TrainingHistory> Interactive(Trainer trainer, int startIteration, Func<EpochResult, string> epochLine, Func<string> speed, CancellationToken cancel)
    {
        TrainingHistory? history = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("training", maxValue: trainer.TotalIterations);
                task.Value = startIteration;
                double recent = double.NaN;
                trainer.BatchCompleted += (iteration, loss) =>
                {
                    task.Value = iteration;
                    // The loss smoothed over about the last RedrawEvery mini-batches, so the number shown is readable.
                    recent = double.IsNaN(recent) ? loss : recent + (loss - recent) / RedrawEvery;
                    if (iteration % RedrawEvery == 0) task.Description = string.Create(CultureInfo.InvariantCulture, $"loss {recent:F4}  {speed()}");
                };
                trainer.EpochCompleted += e => AnsiConsole.MarkupLine(Markup.Escape(epochLine(e)));
                history = await Task.Run(() => trainer.Train(cancel), CancellationToken.None);
            });
        return history!;
    }
}
