using System.Diagnostics;
using ZeroDL.Data;
using ZeroDL.Serialization;

namespace ZeroDL.Bench;

/// <summary>
/// Inference throughput of the book's trained DeepConvNet (data/reference/deep_convnet_2016.npz) on the MNIST
/// test images, in batches of 100: images per second over the whole test set after one warm-up batch, and the
/// number correct (9935 expected); then the latency of one image at a time on one thread (as the web app serves a
/// request), the median over the first 2,000 test images after 200 warm-up ones.
/// </summary>
internal static class InferenceBench
{
    public static int Run()
    {
        var (_, test) = Mnist.Load();
        string weights = Path.Combine(Path.GetDirectoryName(Mnist.DefaultDirectory())!, "reference", "deep_convnet_2016.npz");
        var net = BookWeights.LoadDeepConvNet(weights);
        var images = test.Images.Reshape(-1, 1, 28, 28);
        net.PredictLabels(NDArrayRows.Slice(test.Images, 0, 100, null).Reshape(-1, 1, 28, 28), 100);
        var clock = Stopwatch.StartNew();
        var predicted = net.PredictLabels(images, batchSize: 100);
        double seconds = clock.Elapsed.TotalSeconds;
        int correct = predicted.Where((p, i) => p == test.Labels[i]).Count();
        Console.WriteLine($"correct {correct}");
        Console.WriteLine($"images_per_second {test.Count / seconds:F0}");
        using (ZeroDL.Kernels.Gemm.LimitThreadsOnThisThread(1))
        {
            var latencies = new List<double>();
            for (int i = -200; i < 2000; i++)
            {
                var one = NDArrayRows.Slice(test.Images, Math.Abs(i), 1, null).Reshape(1, 1, 28, 28);
                long t0 = Stopwatch.GetTimestamp();
                net.Predict(one);
                if (i >= 0) latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            latencies.Sort();
            Console.WriteLine($"batch1_latency_ms_median {latencies[latencies.Count / 2]:F3}");
            // Where the batch-1 time goes: each layer's forward pass, mean over the same 2,000 images (layer by layer).
            var names = net.NamedLayers();
            var seconds1 = new double[net.Layers.Count];
            for (int i = 0; i < 2000; i++)
            {
                var x = NDArrayRows.Slice(test.Images, i, 1, null).Reshape(1, 1, 28, 28);
                for (int l = 0; l < net.Layers.Count; l++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    x = net.Layers[l].Forward(x, training: false);
                    seconds1[l] += Stopwatch.GetElapsedTime(t0).TotalSeconds;
                }
            }
            Console.WriteLine("batch1_layer_us " + string.Join(" ", names.Select((n, l) => $"{n}={seconds1[l] / 2000 * 1e6:F0}")));
        }
        return 0;
    }
}
