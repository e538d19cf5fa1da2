using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Experiments;

/// <summary>Small training loops the ch. 6 experiments share: loss per iteration, accuracy per epoch, and the book's curve smoothing.</summary>
internal static class ExperimentTraining
{
    /// <summary>The book's MultiLayerNet: hidden layers of 100 ReLU units (or another activation) with the given init.</summary>
    public static Sequential<float> Mlp(int hiddenLayers, WeightInit init, int seed, bool batchNorm = false, double weightDecay = 0, double dropout = 0)
    {
        var spec = new ModelSpec
        {
            Kind = batchNorm || dropout > 0 ? NetworkKind.MlpExtend : NetworkKind.Mlp, HiddenSizes = [.. Enumerable.Repeat(100, hiddenLayers)],
            WeightInit = init, BatchNorm = batchNorm, WeightDecay = weightDecay, Dropout = dropout, DropoutMode = Layers.DropoutMode.Classic,
        };
        return spec.Build<float>(seed);
    }

    /// <summary>Mini-batch loss of each of <paramref name="iterations"/> steps, batches drawn with replacement as the book's scripts do.</summary>
    public static double[] Losses(Sequential<float> net, Optimizer<float> optimizer, Dataset train, int iterations, int batchSize, int seed)
    {
        var options = new TrainerOptions { Iterations = iterations, BatchSize = batchSize, SampleWithReplacement = true, Seed = seed, EvaluationSamples = 1, BackgroundEvaluation = false,
            StopOnDivergence = false }; // the book's figures show diverging runs as they go
        return [.. new Trainer(net, optimizer, train, train.Take(1), options).Train().Loss];
    }

    /// <summary>Train and test accuracy after each epoch, optionally with augmented training batches.</summary>
    public static (double[] Train, double[] Test) Accuracies(Sequential<float> net, Optimizer<float> optimizer, Dataset train, Dataset test, int epochs,
        int batchSize, int seed, Augmenter? augmenter = null)
    {
        var options = new TrainerOptions
        {
            Epochs = epochs, BatchSize = batchSize, Seed = seed, BackgroundEvaluation = false,
            Augmentation = augmenter?.Options,
            StopOnDivergence = false, // the book's figures show diverging runs as they go (fig. 6-18)
        };
        var history = new Trainer(net, optimizer, train, test, options).Train();
        return (history.Epochs.Select(e => e.TrainAccuracy).ToArray(), history.Epochs.Select(e => e.TestAccuracy).ToArray());
    }

    /// <summary>Centred moving average over <paramref name="window"/> points (shorter at the ends), for noisy loss curves.</summary>
    public static double[] Smooth(IReadOnlyList<double> values, int window = 21)
    {
        var result = new double[values.Count];
        int half = window / 2;
        for (int i = 0; i < values.Count; i++)
        {
            int a = Math.Max(0, i - half), b = Math.Min(values.Count - 1, i + half);
            double sum = 0;
            for (int j = a; j <= b; j++) sum += values[j];
            result[i] = sum / (b - a + 1);
        }
        return result;
    }
}
