using System.CommandLine;
using ZeroDL.Data;
using ZeroDL.Kernels;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Cli;

/// <summary>zerodl bench: the training speed of a model, and with --profile each layer's forward and backward time.</summary>
internal static class BenchCommand
{
    /// <summary>Seconds of each FMA-limit probe: long enough for a steady figure (a few percent), short beside the step's timing.</summary>
    private const double FmaProbeSeconds = 0.25;

    private static string Speed(long flops, double gflops) => flops > 0 ? gflops.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : "-";

    private static string Fraction(double gflops, double limit) => limit > 0 ? (gflops / limit).ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "-";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model to time: " + string.Join(", ", ModelPresets.All.Select(p => p.Name)), DefaultValueFactory = _ => "deepconv" };
        var iterations = new Option<int>("--iterations") { Description = "Timed mini-batches (after 3 untimed ones)", DefaultValueFactory = _ => 30 };
        var batchSize = new Option<int>("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => 100 };
        var profile = new Option<bool>("--profile") { Description = "Print each layer's forward and backward milliseconds, GFLOP/s in the book's FLOPs and fraction of the FMA limit, and allocated bytes per iteration" };
        var threads = new Option<int>("--threads") { Description = "Threads for matrix products", DefaultValueFactory = _ => Environment.ProcessorCount };
        var data = new Option<string?>("--data") { Description = "Folder with the MNIST files (default: the bundled data/mnist)" };
        var command = new Command("bench", "Time training steps of a model: seconds per mini-batch and per epoch, and with --profile where each layer's time goes.")
        {
            model, iterations, batchSize, profile, threads, data,
        };
        command.SetAction(parse =>
        {
            ModelPreset preset;
            try { preset = ModelPresets.Find(parse.GetValue(model)!); }
            catch (ArgumentException e) { throw new UsageException(e.Message.Replace("unknown model", "unknown --model")); }
            int n = parse.GetValue(iterations), batch = parse.GetValue(batchSize), t = parse.GetValue(threads);
            if (n < 1 || batch < 1 || t < 1) throw new UsageException("--iterations, --batch-size and --threads must be at least 1");
            using var limit = Gemm.LimitThreadsOnThisThread(t);
            var (train, _) = Mnist.Load(directory: parse.GetValue(data));
            var net = preset.Spec.Build<float>(seed: 1);
            // The ceiling measured in this process, on the threads the step runs on, before and after the step: the
            // larger, since a moment of other load on a shared machine only lowers it.
            double fmaLimit = FmaLimit.Measure(t, FmaProbeSeconds);
            var result = LayerProfile.Measure(net, Optimizer<float>.Create(preset.Optimizer, preset.LearningRate), train, n, batch);
            fmaLimit = Math.Max(fmaLimit, FmaLimit.Measure(t, FmaProbeSeconds));
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            Console.WriteLine($"{preset.Name}: {preset.Spec.Describe()}; {preset.Optimizer}, batch {batch}, {t} thread(s), GEMM {Gemm.KernelName}");
            Console.WriteLine($"{result.SecondsPerIteration * 1000:F1} ms per mini-batch, {result.SecondsPerIteration * Math.Ceiling(train.Count / (double)batch):F1} s per epoch of {train.Count} images, {result.AllocatedBytesPerIteration.ToString("N0", invariant)} bytes allocated per mini-batch, {result.Gen0Collections} garbage collection(s) in {n} timed mini-batches");
            Console.WriteLine($"{result.FlopsPerIteration / 1e9:F2} GFLOP per mini-batch (the book's FLOPs), {result.Gflops:F1} GFLOP/s: {Fraction(result.Gflops, fmaLimit)} of the FMA limit, {fmaLimit:F1} GFLOP/s ({t} thread(s), {FmaLimit.VectorBits}-bit)");
            if (parse.GetValue(profile))
            {
                double sum = result.Layers.Sum(l => l.ForwardMs + l.BackwardMs);
                Console.WriteLine();
                Console.WriteLine("layer          forward ms  GFLOP/s  of limit  backward ms  GFLOP/s  of limit   share   bytes fwd   bytes bwd");
                foreach (var l in result.Layers)
                    if (l.RunsIn is { } into) Console.WriteLine($"{l.Layer,-14} {"in " + into,10}  (run inside {into}'s passes: its times are in that row)");
                    else Console.WriteLine($"{l.Layer,-14} {l.ForwardMs,10:F2}  {Speed(l.ForwardFlops, l.ForwardGflops),7}  {(l.ForwardFlops > 0 ? Fraction(l.ForwardGflops, fmaLimit) : "-"),8}"
                        + $"  {l.BackwardMs,11:F2}  {Speed(l.BackwardFlops, l.BackwardGflops),7}  {(l.BackwardFlops > 0 ? Fraction(l.BackwardGflops, fmaLimit) : "-"),8}"
                        + $"  {(l.ForwardMs + l.BackwardMs) / sum,6:P0}  {l.ForwardBytes,10}  {l.BackwardBytes,10}");
                Console.WriteLine($"{"optimizer etc.",-14} {result.SecondsPerIteration * 1000 - sum,10:F2}");
                Console.WriteLine($"{"step",-14} {result.SecondsPerIteration * 1000,10:F2}  {result.Gflops,7:F1}  {Fraction(result.Gflops, fmaLimit),8}");
            }
            return Cli.Success;
        });
        return command;
    }
}
