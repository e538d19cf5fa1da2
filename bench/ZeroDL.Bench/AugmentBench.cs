using System.Diagnostics;
using ZeroDL.Data;

namespace ZeroDL.Bench;

/// <summary>
/// Time of <see cref="Augmenter.Apply"/> with the default strengths on batches of 100 MNIST training images,
/// one thread (or without the elastic distortion, to see its share): the median over timed batches, in
/// milliseconds per batch and microseconds per image.
/// </summary>
internal static class AugmentBench
{
    public static int Run(int batches, bool withoutElastic)
    {
        var (train, _) = Mnist.Load();
        var augmenter = new Augmenter(withoutElastic ? new AugmentationOptions { ElasticAlpha = 0 } : new AugmentationOptions(), seed: 1);
        var images = new float[100 * 784];
        var times = new List<double>();
        for (int b = -10; b < batches; b++)
        {
            int first = (b + 10) * 100 % (train.Count - 100);
            train.Images.ReadOnlySpan.Slice(first * 784, 100 * 784).CopyTo(images);
            var clock = Stopwatch.StartNew();
            augmenter.Apply(images, 100, first);
            if (b >= 0) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        Console.WriteLine($"augment_ms_per_batch_of_100 {median:F3}");
        Console.WriteLine($"augment_us_per_image {median * 10:F1}");
        return 0;
    }
}
