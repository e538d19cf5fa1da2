using System.Diagnostics;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Bench;

/// <summary>
/// The book's ch. 5 run as its train_neuralnet.py does it: TwoLayerNet 784-50-10, SGD lr 0.1, batch 100 drawn
/// with replacement, 10,000 iterations, train and test accuracy on the full sets every 600 iterations.
/// Prints the final test accuracy and the seconds the training loop took (data loading excluded, as in the peer).
/// </summary>
internal static class TwoLayerBench
{
    /// <param name="evaluationSamples">Samples of each split evaluated per epoch (0 = all, as the book; a few to time training alone).</param>
    /// <param name="backgroundEvaluation">Evaluate on a second thread while training goes on (false: in turn, as the book).</param>
    /// <param name="compressedInput">Mini-batches compressed from the stored bytes on the training thread (false: gathered as floats on a loader thread).</param>
    public static int Run(int iterations, int evaluationSamples, bool backgroundEvaluation, bool compressedInput)
    {
        var (train, test) = Mnist.Load();
        var net = Networks.TwoLayerNet<float>(784, 50, 10, seed: 1);
        var options = new TrainerOptions { Iterations = iterations, BatchSize = 100, SampleWithReplacement = true, Seed = 1, EvaluationSamples = evaluationSamples, BackgroundEvaluation = backgroundEvaluation, CompressedInput = compressedInput };
        var trainer = new Trainer(net, new Sgd<float>(0.1), train, test, options);
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var history = trainer.Train();
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"test_accuracy {history.FinalTestAccuracy:F4}");
        Console.WriteLine($"seconds {seconds:F2}");
        Console.WriteLine($"gc_collections gen0 {GC.CollectionCount(0) - gen0} gen1 {GC.CollectionCount(1) - gen1} gen2 {GC.CollectionCount(2) - gen2}");
        Console.WriteLine($"allocated_mib {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1048576.0:F1}");
        return 0;
    }
}
