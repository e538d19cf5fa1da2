using System.Diagnostics;
using ZeroDL.Kernels;

namespace ZeroDL.Bench;

/// <summary>
/// The Winograd weight gradient's products alone (<see cref="WinogradWeightProducts"/>), for DeepConvNet's
/// convolutions at batch 100: one chunk's transformed dM and V as the engine sizes it (its default chunk elements,
/// F(2×2) or F(4×4) as it picks), every position in turn, on one thread; 4 × 3 tiles against the fast path,
/// alternating, and the sums checked bit for bit.
/// </summary>
internal static unsafe class WinogradWeightBench
{
    public static int Run(int reps, bool wide)
    {
        float* sums = stackalloc float[24];
        Console.WriteLine($"Winograd dW products, {(wide ? 512 : 256)}-bit, one thread; 8 × 3 tiles: {WinogradWeightProducts.EightFilterTiles}");
        foreach (var (name, c, h, fn, pad) in new[] { ("conv2", 16, 28, 16, 1), ("conv3", 16, 14, 32, 1), ("conv4", 32, 14, 32, 2), ("conv5", 32, 8, 64, 1), ("conv6", 64, 8, 64, 1) })
        {
            const int n = 100;
            int oh = h + 2 * pad - 2;
            var options = ConvolutionEngineOptions.Default;
            bool fourByFour = new ConvolutionEngine(fn, c, 3, 3, 1, pad).UsesWinograd4x4(oh, oh)
                && Winograd4x4Convolution.TilesAlong(oh) * Winograd4x4Convolution.TilesAlong(oh) >= ConvolutionEngine.Winograd4x4MinimumWeightTiles;
            int chunkElements = fourByFour ? options.Winograd4x4WeightChunkElements : options.WinogradWeightChunkElements;
            // The engine's chunks: as many images as fill the chunk elements, the count rounded to the worker slots.
            int perChunk = Math.Clamp(chunkElements / (c * 9 * oh * oh), 1, n);
            int chunks = (n + perChunk - 1) / perChunk;
            chunks = Math.Min(n, (chunks + WorkerPool.Capacity - 1) / WorkerPool.Capacity * WorkerPool.Capacity);
            int images = (n + chunks - 1) / chunks;
            int perImage = fourByFour ? Winograd4x4Convolution.TilesAlong(oh) * Winograd4x4Convolution.TilesAlong(oh) : (oh + 1) / 2 * ((oh + 1) / 2);
            int positions = fourByFour ? 36 : 16, used = images * perImage, tiles = (used + 7) / 8 * 8;
            int rows = WinogradConvolution.PaddedFilters(fn);
            long mBlock = (long)rows * tiles + 16, vBlock = (long)c * tiles + 16;
            var rng = new Random(1);
            var m = new float[positions * mBlock]; var v = new float[positions * vBlock];
            for (int xi = 0; xi < positions; xi++)
            {
                for (int f = 0; f < fn; f++) for (int j = 0; j < used; j++) m[xi * mBlock + f * tiles + j] = (float)rng.NextDouble() - 0.5f;
                for (int ch = 0; ch < c; ch++) for (int j = 0; j < used; j++) v[xi * vBlock + ch * tiles + j] = (float)rng.NextDouble() - 0.5f;
            }
            var du = new float[2][]; du[0] = new float[positions * fn * c]; du[1] = new float[positions * fn * c];
            var times = new List<double>[2]; times[0] = new(); times[1] = new();
            fixed (float* pm = m) fixed (float* pv = v) fixed (float* d0 = du[0]) fixed (float* d1 = du[1])
            {
                for (int rep = -1; rep < reps; rep++)
                    for (int variant = 0; variant < 2; variant++)
                    {
                        float* pu = variant == 0 ? d0 : d1;
                        new Span<float>(pu, positions * fn * c).Clear();
                        var s = Stopwatch.StartNew();
                        for (int xi = 0; xi < positions; xi++)
                            if (variant == 0) WinogradWeightProducts.AddByFourByThree(tiles, pm + xi * mBlock, pv + xi * vBlock, tiles, fn, c, pu + (long)xi * fn * c, sums, wide);
                            else WinogradWeightProducts.Add(tiles, pm + xi * mBlock, pv + xi * vBlock, tiles, fn, c, pu + (long)xi * fn * c, sums, wide, true);
                        if (rep >= 0) times[variant].Add(s.Elapsed.TotalMilliseconds);
                    }
            }
            bool same = du[0].AsSpan().SequenceEqual(du[1]);
            double flops = 2.0 * positions * fn * c * tiles;
            var ratios = times[0].Zip(times[1], (a, b) => b / a).Order().ToList();
            Console.WriteLine($"{name} {c}->{fn} {(fourByFour ? "F(4x4)" : "F(2x2)")}, {images} images a chunk, {tiles} tiles: 4x3 {times[0].Min():F3} ms ({flops / times[0].Min() / 1e6:F1} GFLOP/s), "
                + $"fast {times[1].Min():F3} ms ({flops / times[1].Min() / 1e6:F1} GFLOP/s); fast/4x3 median {ratios[ratios.Count / 2]:F3} "
                + $"[{ratios[ratios.Count / 4]:F3}, {ratios[3 * ratios.Count / 4]:F3}]; same bits: {same}");
        }
        return 0;
    }
}
