using System.Diagnostics;
using ZeroDL.Distributed;
using ZeroDL.Models;
using ZeroDL.Training;

namespace ZeroDL.Bench;

/// <summary>
/// Time per data-parallel step, split into the gradient allreduce and the rest (compute): run it as
/// <c>mpirun -np N ZeroDL.Bench distributed-step --model M</c> for N ranks (N = 1 without mpirun), one thread per
/// rank, per-rank batch 100. Rank 0 prints the medians of a few runs.
/// </summary>
internal static class DistributedStepBench
{
    public static int Run(string model, string hidden, int iterations, int rounds)
    {
        using var mpi = OpenMpi.LaunchedByMpirun ? OpenMpi.Initialize(TimeSpan.FromMinutes(5)) : null;
        ICommunicator group = (ICommunicator?)mpi ?? new SingleProcess();
        var (train, test) = Data.Mnist.Load();
        var preset = ModelPresets.Find(model);
        var spec = hidden.Length == 0 ? preset.Spec : preset.Spec with { HiddenSizes = [.. hidden.Split(',').Select(int.Parse)] };
        var steps = new List<(double Step, double Reduce)>();
        for (int round = 0; round < rounds; round++)
        {
            var net = spec.Build<float>(seed: 1);
            var options = new TrainerOptions { Iterations = iterations, BatchSize = 100, Seed = 1, Threads = 1, EvaluationSamples = 100, BackgroundEvaluation = false, BackgroundLoading = false };
            var trainer = new Trainer(net, Optimizers.Optimizer<float>.Create(preset.Optimizer, preset.LearningRate), train, test, options) { Group = group };
            var clock = Stopwatch.StartNew();
            trainer.Train();
            steps.Add((clock.Elapsed.TotalMilliseconds / iterations, trainer.CommunicationTime.TotalMilliseconds / iterations));
        }
        if (group.Rank != 0) return 0;
        var step = steps.Select(s => s.Step).Order().ElementAt(rounds / 2);
        var reduce = steps.Select(s => s.Reduce).Order().ElementAt(rounds / 2);
        int parameters = spec.Build<float>(seed: 1).Parameters.Sum(p => p.Value.Size);
        Console.WriteLine($"{model}{(hidden.Length > 0 ? " hidden " + hidden : "")} ({parameters:N0} parameters), {group.Size} rank(s) x batch 100, 1 thread each, {iterations} steps, median of {rounds}: " +
                          $"{step:F2} ms per step = {step - reduce:F2} ms compute + {reduce:F3} ms allreduce ({reduce / step:P2})");
        return 0;
    }
}
