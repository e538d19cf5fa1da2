using System.Diagnostics;
using ZeroDL.Data;
using ZeroDL.Kernels;

namespace ZeroDL.Bench;

/// <summary>
/// The sparse kernels of the first layer of the book's ch. 5 network, on batches of 100 MNIST training images:
/// compress (from the float batch, or from the stored bytes), y = x·W (100×784 · 784×50), and the weight gradient xᵀ·dout scattered (the layer's way) or
/// gathered after a transpose (also timed apart). Variants alternate within one process; medians in microseconds.
/// </summary>
internal static class SparseBench
{
    public static int Run(int rounds)
    {
        var (train, _) = Mnist.Load();
        const int m = 100, k = 784, n = 50;
        var rng = new Rng(1);
        var w = new float[k * n]; rng.FillUniform(w, -0.1, 0.1);
        var dout = new float[m * n]; rng.FillUniform(dout, -1, 1);
        var y = new float[m * n]; var dw = new float[k * n];
        var x = new SparseMatrix(); var xT = new SparseMatrix();
        NDArray<float>? floats = null;
        var names = new[] { "compress floats", "compress bytes", "forward x·W", "dW = xᵀ·dout scattered", "dW transpose + gather", "  (transpose alone)", "  (gather alone)" };
        var times = names.Select(_ => new List<double>()).ToArray();
        for (int round = -20; round < rounds; round++)
        {
            int first = (round + 20) * m % (train.Count - m);
            floats = train.GatherImages(Enumerable.Range(first, m).ToArray(), floats);
            for (int v = 0; v < names.Length; v++)
            {
                var clock = Stopwatch.StartNew();
                switch (v)
                {
                    case 0: x.CompressRows(floats!.ReadOnlySpan, m, k, k); break;
                    case 1: train.TryCompressImages(first, m, x); break;
                    case 2: x.Multiply(w, n, n, y, n); break;
                    case 3: x.MultiplyTransposed(dout, n, n, dw, n); break;
                    case 4: xT.TransposeOf(x); xT.Multiply(dout, n, n, dw, n); break;
                    case 5: xT.TransposeOf(x); break;
                    case 6: xT.Multiply(dout, n, n, dw, n); break;
                }
                if (round >= 0) times[v].Add(clock.Elapsed.TotalMicroseconds);
            }
        }
        for (int v = 0; v < names.Length; v++)
        {
            times[v].Sort();
            Console.WriteLine($"{names[v],-24} {times[v][times[v].Count / 2],8:F1} us");
        }
        return 0;
    }
}
