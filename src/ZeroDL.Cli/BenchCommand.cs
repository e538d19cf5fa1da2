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
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model to time: " + string.Join(", ", ModelPresets.All.Select(p => p.Name)), DefaultValueFactory = _ => "deepconv" };
        var iterations = new Option<int>("--iterations") { Description = "Timed mini-batches (after 3 untimed ones)", DefaultValueFactory = _ => 30 };
        var batchSize = new Option<int>("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => 100 };
        var profile = new Option<bool>("--profile") { Description = "Print each layer's forward and backward milliseconds and allocated bytes per iteration" };
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
            var result = LayerProfile.Measure(net, Optimizer<float>.Create(preset.Optimizer, preset.LearningRate), train, n, batch);
            Console.WriteLine($"{preset.Name}: {preset.Spec.Describe()}; {preset.Optimizer}, batch {batch}, {t} thread(s), GEMM {Gemm.KernelName}");
            Console.WriteLine($"{result.SecondsPerIteration * 1000:F1} ms per mini-batch, {result.SecondsPerIteration * Math.Ceiling(train.Count / (double)batch):F1} s per epoch of {train.Count} images, {result.AllocatedBytesPerIteration.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} bytes allocated per mini-batch, {result.Gen0Collections} garbage collection(s) in {n} timed mini-batches");
            if (parse.GetValue(profile))
            {
                double sum = result.Layers.Sum(l => l.ForwardMs + l.BackwardMs);
                Console.WriteLine();
                Console.WriteLine("layer          forward ms  backward ms   share   bytes fwd   bytes bwd");
                foreach (var l in result.Layers)
                    Console.WriteLine($"{l.Layer,-14} {l.ForwardMs,10:F2}  {l.BackwardMs,11:F2}  {(l.ForwardMs + l.BackwardMs) / sum,6:P0}  {l.ForwardBytes,10}  {l.BackwardBytes,10}");
                Console.WriteLine($"{"optimizer etc.",-14} {result.SecondsPerIteration * 1000 - sum,10:F2}");
            }
            return Cli.Success;
        });
        return command;
    }
}
