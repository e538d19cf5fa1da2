using System.Diagnostics;
using ZeroDL.Kernels;

namespace ZeroDL.Bench;

/// <summary>Times the pieces of one convolution layer's training step (im2col, the three products, col2im) for DeepConvNet's shapes.</summary>
internal static class ConvPartsBench
{
    public static int Run()
    {
        {
            var pool = new ZeroDL.Layers.MaxPooling<float>(2, 2, 2);
            var px = new NDArray<float>(100, 30, 24, 24);
            var r = new Random(2); for (int i = 0; i < px.Size; i++) px.Data[i] = (float)r.NextDouble();
            pool.Forward(px, true);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 20; i++) pool.Forward(px, true);
            Console.WriteLine($"pool 100x30x24x24 forward {sw.Elapsed.TotalMilliseconds / 20:F2} ms");
        }
        foreach (var (c, h, fn, pad) in new[] { (16, 28, 16, 1), (32, 14, 32, 2), (64, 8, 64, 1) })
        {
            int n = 100, w = h, k = c * 9, oh = h + 2 * pad - 2, cols = n * oh * oh;
            var x = new float[n * c * h * w]; var colT = new float[cols * k]; var wt = new float[fn * k]; var outT = new float[cols * fn];
            var rng = new Random(1); for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
            for (int i = 0; i < wt.Length; i++) wt[i] = (float)rng.NextDouble();
            Console.WriteLine($"# conv {c}x{h}x{w} -> {fn}, pad {pad}: M={fn} N={cols} K={k}");
            void Time(string name, double flop, Action a)
            {
                a(); var s = Stopwatch.StartNew(); for (int r = 0; r < 10; r++) a();
                double ms = s.Elapsed.TotalMilliseconds / 10;
                Console.WriteLine($"{name,-28} {ms,7:F2} ms {(flop > 0 ? $"{flop / ms / 1e6,6:F1} GFLOP/s" : "")}");
            }
            double flops = 2.0 * fn * cols * k;
            Time("im2col (channel-major)", 0, () => Im2ColChannelMajor.Forward<float>(x, n, c, h, w, 3, 3, 1, pad, colT));
            Time("W*colT (NN)", flops, () => Gemm.Multiply(false, false, fn, cols, k, wt, k, colT, cols, outT, cols));
            Time("dW = doutT*colT^T (NT)", flops, () => Gemm.Multiply(false, true, fn, k, cols, outT, cols, colT, cols, wt, k));
            var dWt = new float[k * fn];
            Time("dW^T = colT*doutT^T (NT)", flops, () => Gemm.Multiply(false, true, k, fn, cols, colT, cols, outT, cols, dWt, fn));
            Time("dcolT = W^T*doutT (TN)", flops, () => Gemm.Multiply(true, false, k, cols, fn, wt, k, outT, cols, colT, cols));
            Time("col2im (channel-major)", 0, () => Im2ColChannelMajor.Backward<float>(colT, n, c, h, w, 3, 3, 1, pad, x));
            // The layer's own passes (shifted windows for stride 1), one worker, GFLOP/s counted on the valid outputs.
            var layer = new ZeroDL.Layers.Convolution<float>(new NDArray<float>(wt, fn, c, 3, 3), new NDArray<float>(fn), 1, pad) { Engine = new() { Workers = 1 } };
            var xt = new NDArray<float>(x, n, c, h, w);
            var dout = new NDArray<float>(n, fn, h + 2 * pad - 2, w + 2 * pad - 2);
            for (int i = 0; i < dout.Size; i++) dout.Data[i] = (float)rng.NextDouble() - 0.5f;
            float[] packed = [];
            ShiftedConvolution.PackFilters(wt, fn, k, ref packed);
            var bias = new float[fn];
            Time("shifted forward kernel", flops, () => ShiftedConvolution.Forward(x, n, c, h, w, packed, bias, fn, 3, 3, pad, outT));
            Time("shifted dW kernel", flops, () => ShiftedConvolution.WeightGradient(x, outT, n, c, h, w, fn, 3, 3, pad, dWt));
            Time("layer forward, 1 worker", flops, () => layer.Forward(xt, training: true));
            Time("layer backward, 1 worker", 2 * flops, () => layer.Backward(dout));
        }
        return 0;
    }

    /// <summary>
    /// The layer's training passes (forward, backward, and the weight gradient alone) through the shifted windows,
    /// Winograd's F(2×2) and F(4×4), alternating in one process, medians and fastest (one worker): DeepConvNet's 3×3
    /// shapes at batch 100, and at batch 1.
    /// <paramref name="vector512"/> false holds the products to 256-bit vectors (the AVX2 path).
    /// </summary>
    public static int CompareWinograd(int reps, bool vector512)
    {
        Console.WriteLine($"one worker, products on {(vector512 ? 512 : 256)}-bit vectors; ms median (fastest)");
        foreach (var (c, h, fn, pad, n) in new[] { (16, 28, 16, 1, 100), (16, 14, 32, 1, 100), (32, 14, 32, 2, 100), (32, 8, 64, 1, 100), (64, 8, 64, 1, 100),
            (16, 28, 16, 1, 1), (16, 14, 32, 1, 1), (32, 14, 32, 2, 1), (32, 8, 64, 1, 1), (64, 8, 64, 1, 1) })
        {
            var rng = new Random(1);
            var wt = new NDArray<float>(fn, c, 3, 3); for (int i = 0; i < wt.Size; i++) wt.Data[i] = (float)rng.NextDouble() - 0.5f;
            var x = new NDArray<float>(n, c, h, h); for (int i = 0; i < x.Size; i++) x.Data[i] = (float)rng.NextDouble();
            var options = new ConvolutionEngineOptions[]
            {
                new() { Algorithm = ConvolutionAlgorithm.ShiftedWindows, Workers = 1, Vector512 = vector512 },
                new() { WinogradTile = 2, Workers = 1, Vector512 = vector512 },
                new() { WinogradTile = 4, Workers = 1, Vector512 = vector512 },
            };
            string[] names = ["shifted", "F(2x2)", "F(4x4)"];
            var layers = options.Select(o => new ZeroDL.Layers.Convolution<float>(wt.Clone(), new NDArray<float>(fn), 1, pad) { Engine = o }).ToArray();
            var y = layers[0].Forward(x, training: true);
            var dout = new NDArray<float>(y.Shape); for (int i = 0; i < dout.Size; i++) dout.Data[i] = (float)rng.NextDouble() - 0.5f;
            var times = new List<double>[3 * layers.Length]; for (int i = 0; i < times.Length; i++) times[i] = new();
            int rounds = n == 1 ? reps * 100 : reps;
            for (int rep = 0; rep < rounds; rep++)
                for (int v = 0; v < layers.Length; v++)
                {
                    layers[v].W.Value.Data[0] = 1e-3f * (rep % 7); // weights changed as by a training step: the filter transforms count
                    var s = Stopwatch.StartNew();
                    layers[v].Forward(x, training: true);
                    times[v].Add(s.Elapsed.TotalMilliseconds);
                    s.Restart();
                    layers[v].Backward(dout);
                    times[layers.Length + v].Add(s.Elapsed.TotalMilliseconds);
                    s.Restart();
                    layers[v].BackwardParameters(dout);
                    times[2 * layers.Length + v].Add(s.Elapsed.TotalMilliseconds);
                }
            string Med(List<double> l) { l.Sort(); return $"{l[l.Count / 2]:F3} ({l[0]:F3})"; }
            Console.WriteLine($"conv {n}x{c}x{h}x{h} -> {fn} pad {pad}: forward " + string.Join(", ", names.Select((name, v) => $"{name} {Med(times[v])}"))
                + "; backward " + string.Join(", ", names.Select((name, v) => $"{name} {Med(times[layers.Length + v])}"))
                + "; dW alone " + string.Join(", ", names.Select((name, v) => $"{name} {Med(times[2 * layers.Length + v])}")));
        }
        return 0;
    }

    /// <summary>
    /// F(4×4)'s training forward pass over a batch of 100 images of each DeepConvNet 3×3 shape, chunk by chunk as the
    /// engine cuts it (each chunk's kept copy and check, then the pass), one thread, 512-bit products, with the output
    /// transform on 256-bit vectors and on 512-bit ones alternating: ms median (fastest), and the ratio of the medians.
    /// </summary>
    public static int CompareTransforms(int reps)
    {
        var options = ConvolutionEngineOptions.Default;
        Console.WriteLine("one thread, 512-bit products, batch 100; forward with the 256-bit / 512-bit output transform, ms median (fastest)");
        foreach (var (c, h, fn, pad) in new[] { (16, 28, 16, 1), (16, 14, 32, 1), (32, 14, 32, 2), (32, 8, 64, 1), (64, 8, 64, 1) })
        {
            const int batch = 100;
            int oh = h + 2 * pad - 2, imageSize = c * h * h, outputSize = fn * oh * oh;
            int n = Math.Max(1, options.Winograd4x4ChunkElements / (c * 9 * oh * oh));
            var rng = new Random(1);
            var wt = new float[fn * c * 9]; for (int i = 0; i < wt.Length; i++) wt[i] = (float)rng.NextDouble() - 0.5f;
            var x = new float[batch * imageSize]; for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
            var keep = new float[x.Length];
            var bias = new float[fn]; var y = new float[batch * outputSize];
            float[] u = [];
            Winograd4x4Convolution.TransformFilters(wt, fn, c, ref u);
            var times = new List<double>[2]; for (int i = 0; i < 2; i++) times[i] = new();
            for (int rep = -2; rep < reps; rep++) // two untimed rounds: the JIT and the buffers' first allocation
                for (int v = 0; v < 2; v++)
                {
                    var s = Stopwatch.StartNew();
                    for (int i0 = 0; i0 < batch; i0 += n)
                    {
                        int count = Math.Min(n, batch - i0);
                        var input = x.AsSpan(i0 * imageSize, count * imageSize);
                        if (Winograd4x4Convolution.CopyAllFinite(input, keep.AsSpan(i0 * imageSize, count * imageSize)))
                            Winograd4x4Convolution.Forward(input, count, c, h, h, u, bias, fn, pad, y.AsSpan(i0 * outputSize, count * outputSize),
                                wide: true, rectify: true, wideOutput: v == 1);
                    }
                    if (rep >= 0) times[v].Add(s.Elapsed.TotalMilliseconds);
                }
            foreach (var l in times) l.Sort();
            string Med(List<double> l) => $"{l[l.Count / 2]:F3} ({l[0]:F3})";
            Console.WriteLine($"{batch}x{c}x{h}x{h} -> {fn} pad {pad}, chunks of {n}: {Med(times[0])} / {Med(times[1])} = {times[1][reps / 2] / times[0][reps / 2]:F3}");
        }
        return 0;
    }

    /// <summary>
    /// F(4×4)'s input transform (forward and dx) and output-gradient transform (dW) of each DeepConvNet shape over a
    /// batch of 100, chunk by chunk as the engine cuts the forward pass, one thread: the rows read from a zero-padded
    /// copy of each plane (the reference) and straight from the plane with masks, alternating every ~50 ms. Per shape:
    /// the median ms a batch of each, and the median of the rounds' ratios (masked / padded) with its interquartile range.
    /// </summary>
    public static unsafe int CompareRowSources(int reps)
    {
        Console.WriteLine("one thread, batch 100; padded copy / masked loads, ms a batch (median), ratio median [IQR] over the rounds");
        var shapes = new (string Name, bool Input, int C, int H, int Pad, int Taps)[]
        {
            ("conv2 x", true, 16, 28, 1, 16), ("conv3 x", true, 16, 14, 1, 16), ("conv4 x", true, 32, 14, 2, 32),
            ("conv5 x", true, 32, 8, 1, 32), ("conv6 x", true, 64, 8, 1, 64),
            ("conv2 dx", true, 16, 28, 1, 16), ("conv3 dx", true, 32, 14, 1, 16), ("conv4 dx", true, 32, 16, 0, 32),
            ("conv5 dx", true, 64, 8, 1, 32), ("conv6 dx", true, 64, 8, 1, 64),
            // (conv5 and conv6 take their weight gradients by F(2×2): 2 × 2 tiles an image are too few for F(4×4)'s.)
            ("conv2 dW", false, 16, 28, 1, 16), ("conv3 dW", false, 32, 14, 1, 16), ("conv4 dW", false, 32, 16, 1, 32),
        };
        foreach (var (name, input, c, h, pad, taps) in shapes)
        {
            const int batch = 100;
            int oh = h + 2 * pad - 2, imageSize = c * h * h;
            int n = Math.Max(1, ConvolutionEngineOptions.Default.Winograd4x4ChunkElements / (taps * 9 * oh * oh));
            var rng = new Random(1);
            var x = new float[batch * imageSize]; for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
            long block = Winograd4x4Convolution.TransformedBlock(n, c, h, h, pad);
            var buffer = new WinogradConvolution.AlignedBuffer();
            float* v = buffer.Get(36 * block);
            void Batch(bool padded)
            {
                for (int i0 = 0; i0 < batch; i0 += n)
                {
                    int count = Math.Min(n, batch - i0);
                    Winograd4x4Convolution.Transform(input, padded, x.AsSpan(i0 * imageSize, count * imageSize), count, c, h, h, pad, v, block);
                }
            }
            // Batches a round: about 50 ms of the reference.
            Batch(true); Batch(false);
            var probe = Stopwatch.StartNew(); Batch(true);
            int perRound = Math.Max(1, (int)(50 / Math.Max(0.01, probe.Elapsed.TotalMilliseconds)));
            var times = new List<double>[] { new(), new() };
            var ratios = new List<double>();
            for (int rep = 0; rep < reps; rep++)
            {
                var t = new double[2];
                foreach (int variant in rep % 2 == 0 ? new[] { 0, 1 } : new[] { 1, 0 })
                {
                    var s = Stopwatch.StartNew();
                    for (int k = 0; k < perRound; k++) Batch(variant == 0);
                    t[variant] = s.Elapsed.TotalMilliseconds / perRound;
                    times[variant].Add(t[variant]);
                }
                ratios.Add(t[1] / t[0]);
            }
            GC.KeepAlive(buffer); // only its pointer is used above: its finalizer would free v mid-run
            foreach (var l in times) l.Sort();
            ratios.Sort();
            Console.WriteLine($"{name,-9} {c}x{h}x{h} pad {pad}, chunks of {n}: {times[0][reps / 2]:F3} / {times[1][reps / 2]:F3} ms, "
                + $"ratio {ratios[reps / 2]:F3} [{ratios[reps / 4]:F3}, {ratios[3 * reps / 4]:F3}]");
        }
        return 0;
    }

    /// <summary>
    /// Each DeepConvNet convolution's passes at batch 100 on one worker — forward, the weight gradient alone (as a first
    /// layer runs it) and the whole backward — with the 512-bit products and without, alternating in one process,
    /// the fastest of the repetitions, and GFLOP/s in the book's FLOPs (2·N·F·C·9·OH·OW a pass; the dx share is the whole backward's less dW's).
    /// </summary>
    public static int ComparePasses(int reps, int chunkElements, bool paddedRows = false, bool weightTiles = false)
    {
        foreach (var (c, h, fn, pad) in new[] { (1, 28, 16, 1), (16, 28, 16, 1), (16, 14, 32, 1), (32, 14, 32, 2), (32, 8, 64, 1), (64, 8, 64, 1) })
        {
            const int n = 100;
            var rng = new Random(1);
            var wt = new NDArray<float>(fn, c, 3, 3); for (int i = 0; i < wt.Size; i++) wt.Data[i] = (float)rng.NextDouble() - 0.5f;
            var x = new NDArray<float>(n, c, h, h); for (int i = 0; i < x.Size; i++) x.Data[i] = (float)rng.NextDouble();
            var layers = new[] { false, true }.Select(b => new ZeroDL.Layers.Convolution<float>(wt.Clone(), new NDArray<float>(fn), 1, pad)
            {
                Engine = weightTiles ? new() { EightFilterWeightTiles = b, Workers = 1 }
                    : paddedRows ? new() { PaddedTransformRows = !b, Workers = 1 }
                    : chunkElements > 0 ? new() { ChunkElements = b ? chunkElements : ConvolutionEngineOptions.Default.ChunkElements, Workers = 1 }
                    : new() { Vector512 = b, Workers = 1 },
            }).ToArray();
            var y = layers[0].Forward(x, training: true);
            int oh = y.Shape[2];
            double flops = 2.0 * n * fn * c * 9 * oh * oh;
            var dout = new NDArray<float>(y.Shape); for (int i = 0; i < dout.Size; i++) dout.Data[i] = (float)rng.NextDouble() - 0.5f;
            var times = new List<double>[6]; for (int i = 0; i < 6; i++) times[i] = new();
            // One untimed round first, so that no timing holds the JIT's compilation or the buffers' first allocation.
            for (int rep = -1; rep < reps; rep++)
                for (int v = 0; v < 2; v++)
                {
                    var s = Stopwatch.StartNew();
                    layers[v].Forward(x, training: true);
                    double forward = s.Elapsed.TotalMilliseconds;
                    s.Restart();
                    layers[v].BackwardParameters(dout);
                    double dW = s.Elapsed.TotalMilliseconds;
                    s.Restart();
                    layers[v].Backward(dout);
                    double backward = s.Elapsed.TotalMilliseconds;
                    if (rep < 0) continue;
                    times[v].Add(forward); times[2 + v].Add(dW); times[4 + v].Add(backward);
                }
            double Fastest(List<double> l) => l.Min(); // on a shared machine, the least disturbed
            // dx is a difference of two timings: where noise makes it come out at or below 0 it is not measured.
            string Pass(string name, double ms256, double ms512, double f) =>
                ms256 <= 0 || ms512 <= 0 ? $"{name} not resolved (the difference of two noisy timings; raise --reps)" : $"{name} {ms256,6:F2} / {ms512,6:F2} ms ({f / ms512 / 1e6,5:F1} GFLOP/s)";
            double dx256 = Fastest(times[4]) - Fastest(times[2]), dx512 = Fastest(times[5]) - Fastest(times[3]);
            string variants = weightTiles ? "Winograd dW products by 4 × 3 / 8 × 3 tiles" : paddedRows ? "F(4×4) transforms from padded copies / masked rows" : chunkElements > 0 ? $"default chunks / {chunkElements} elements" : "256-bit / 512-bit products";
            Console.WriteLine($"conv {n}x{c}x{h}x{h} -> {fn} pad {pad} [{layers[1].Algorithms}], {variants}:");
            Console.WriteLine($"  {Pass("forward", Fastest(times[0]), Fastest(times[1]), flops)}  {Pass("dW", Fastest(times[2]), Fastest(times[3]), flops)}  {Pass("dx", dx256, dx512, flops)}");
            // The rounds' ratios (second / first variant), median [interquartile range]: forward, dW alone, the whole backward.
            string Ratios(int first)
            {
                var r = times[first].Zip(times[first + 1], (a, b) => b / a).Order().ToList();
                return $"{r[r.Count / 2]:F3} [{r[r.Count / 4]:F3}, {r[3 * r.Count / 4]:F3}]";
            }
            Console.WriteLine($"  ratios: forward {Ratios(0)}, dW {Ratios(2)}, backward {Ratios(4)}");
        }
        return 0;
    }

    /// <summary>
    /// The parts of DeepConvNet's step outside the wide products, layer by layer (every worker, the ReLU fused; the
    /// network itself pools inside the convolutions, <see cref="PoolingPairs"/>): the first convolution's forward and its
    /// weight gradient alone, the second's passes, and each pooling layer's forward and backward, at batch 100; the
    /// fastest of the repetitions (on a shared machine, the least disturbed).
    /// </summary>
    public static int StepParts(int reps)
    {
        var rng = new Random(1);
        var wt = new NDArray<float>(16, 1, 3, 3); for (int i = 0; i < wt.Size; i++) wt.Data[i] = (float)rng.NextDouble() - 0.5f;
        var bias = new NDArray<float>(16); for (int i = 0; i < bias.Size; i++) bias.Data[i] = (float)rng.NextDouble() - 0.5f;
        var x = new NDArray<float>(100, 1, 28, 28); for (int i = 0; i < x.Size; i++) x.Data[i] = (float)rng.NextDouble();
        var conv = new ZeroDL.Layers.Convolution<float>(wt, bias, 1, 1) { Rectifies = true };
        var y = conv.Forward(x, training: true);
        var dout = new NDArray<float>(y.Shape); for (int i = 0; i < dout.Size; i++) dout.Data[i] = (float)rng.NextDouble() - 0.5f;
        double Best(Action a) { a(); double best = double.MaxValue; for (int r = 0; r < reps; r++) { var s = Stopwatch.StartNew(); a(); best = Math.Min(best, s.Elapsed.TotalMilliseconds); } return best; }
        Console.WriteLine($"conv1 100x1x28x28 -> 16 [{conv.Algorithms}]: forward {Best(() => conv.Forward(x, training: true)):F3} ms, dW and db {Best(() => conv.BackwardParameters(dout)):F3} ms");
        var w2 = new NDArray<float>(16, 16, 3, 3); for (int i = 0; i < w2.Size; i++) w2.Data[i] = (float)rng.NextDouble() - 0.5f;
        var conv2 = new ZeroDL.Layers.Convolution<float>(w2, new NDArray<float>(16), 1, 1) { Rectifies = true };
        var y2 = conv2.Forward(y, training: true);
        var dout2 = new NDArray<float>(y2.Shape); for (int i = 0; i < dout2.Size; i++) dout2.Data[i] = (float)rng.NextDouble() - 0.5f;
        Console.WriteLine($"conv2 100x16x28x28 -> 16 [{conv2.Algorithms}]: forward {Best(() => conv2.Forward(y, training: true)):F3} ms, backward {Best(() => conv2.Backward(dout2)):F3} ms");
        foreach (var (c, h) in new[] { (16, 28), (32, 14), (64, 7) })
        {
            var pool = new ZeroDL.Layers.MaxPooling<float>(2, 2, 2);
            var px = new NDArray<float>(100, c, h, h); for (int i = 0; i < px.Size; i++) px.Data[i] = Math.Max(0f, (float)rng.NextDouble() - 0.3f);
            var py = pool.Forward(px, training: true);
            var pd = new NDArray<float>(py.Shape); for (int i = 0; i < pd.Size; i++) pd.Data[i] = (float)rng.NextDouble() - 0.5f;
            Console.WriteLine($"pool 100x{c}x{h}x{h}: forward {Best(() => pool.Forward(px, training: true)):F3} ms, backward {Best(() => pool.Backward(pd)):F3} ms");
        }
        return 0;
    }

    /// <summary>
    /// Each convolution → pooling pair of DeepConvNet or SimpleConvNet at batch 100, as the network runs it (the
    /// convolution pooling its own output, <see cref="ZeroDL.Layers.ConvolutionPooling{T}"/>) and as two layers (a twin
    /// convolution with the same weights, then a pooling layer), alternating which goes first; each way's fastest and
    /// median forward and backward milliseconds, and the convolution's forward alone.
    /// </summary>
    public static int PoolingPairs(string model, int reps)
    {
        var spec = model switch
        {
            "simpleconv" => Models.Networks.SimpleConvNetSpec(),
            "deepconv" => Models.Networks.DeepConvNetSpec(),
            _ => throw new ArgumentException($"unknown model '{model}': use simpleconv or deepconv"),
        };
        var net = spec.Build<float>(seed: 1);
        var rng = new Rng(3);
        for (int i = 0; i + 1 < net.Layers.Count; i++)
        {
            if (net.StepLength(i) != 2) continue;
            var conv = (ZeroDL.Layers.Convolution<float>)net.Layers[i];
            var pool = (ZeroDL.Layers.MaxPooling<float>)net.Layers[i + 1];
            var twin = new ZeroDL.Layers.Convolution<float>(conv.W.Value, conv.B.Value, conv.Stride, conv.Pad) { Rectifies = true };
            var twinPool = new ZeroDL.Layers.MaxPooling<float>(2, 2, 2);
            int[] inShape = i == 0 ? [100, .. net.InputShape] : [100, .. net.OutputShapes[i - 1]];
            var x = new NDArray<float>(inShape); rng.FillUniform(x.Data, -0.2, 1);
            for (int k = 0; k < x.Size; k++) x.Data[k] = Math.Max(0, x.Data[k]); // a ReLU's output, as in the network
            var d = new NDArray<float>([100, .. net.OutputShapes[i + 1]]); rng.FillUniform(d.Data, -1, 1);
            bool first = i == 0; // no input gradient
            List<double> fusedForward = [], apartForward = [], convForward = [], fusedBackward = [], apartBackward = [];
            for (int r = 0; r < reps; r++)
            {
                if (r % 2 == 0) { Fused(); Apart(); }
                else { Apart(); Fused(); }
            }
            static string Times(List<double> t) { var o = t.Order().ToList(); return $"{o[0]:F3} / {o[o.Count / 2]:F3}"; }
            Console.WriteLine($"{net.NamedLayers()[i]} {string.Join("×", inShape)} → {net.NamedLayers()[i + 1]} (fastest / median ms): forward fused {Times(fusedForward)}, "
                + $"apart {Times(apartForward)} (the convolution {Times(convForward)}); backward fused {Times(fusedBackward)}, apart {Times(apartBackward)}");

            void Fused()
            {
                var s = Stopwatch.StartNew();
                conv.ForwardPooled(x, pool, training: true);
                fusedForward.Add(s.Elapsed.TotalMilliseconds);
                s.Restart();
                conv.BackwardPooled(d, pool, inputGradient: !first);
                fusedBackward.Add(s.Elapsed.TotalMilliseconds);
            }

            void Apart()
            {
                var s = Stopwatch.StartNew();
                var y = twin.Forward(x, training: true);
                convForward.Add(s.Elapsed.TotalMilliseconds);
                twinPool.Forward(y, training: true);
                apartForward.Add(s.Elapsed.TotalMilliseconds);
                s.Restart();
                var g = twinPool.Backward(d);
                if (first) twin.BackwardParameters(g);
                else twin.Backward(g);
                apartBackward.Add(s.Elapsed.TotalMilliseconds);
            }
        }
        return 0;
    }
}
