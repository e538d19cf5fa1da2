using System.Runtime.Intrinsics;
using Xunit.Abstractions;
using ZeroDL.Kernels;
using ZeroDL.Layers;

namespace ZeroDL.Tests;

/// <summary>Winograd's F(4×4, 3×3) against the definition in double, against F(2×2, 3×3), on both vector widths.</summary>
public class Winograd4x4Tests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(3, 9, 7, 5, 10, 1)]     // odd outputs both ways (tiles cropped), 10 filters (a ragged panel), non-square
    [InlineData(2, 13, 11, 9, 6, 0)]    // no padding: 9×7 out; dx padded by 2 onto 11×9
    [InlineData(5, 20, 14, 14, 18, 1)]  // 14×14: the last tile half cropped; 5 images in chunks of 2
    [InlineData(3, 16, 14, 14, 32, 2)]  // DeepConvNet's pad 2: 16×16 out, dx padded by 0
    [InlineData(4, 35, 8, 8, 30, 1)]    // DeepConvNet's last blocks: 4 tiles an image, every vector spilling into the next images
    [InlineData(1, 8, 30, 3, 9, 1)]     // tall and narrow: one tile a row
    [InlineData(2, 17, 28, 28, 5, 1)]   // 28×28: 49 tiles an image
    [InlineData(2, 8, 7, 7, 8, 3)]      // padding 3: 11×11 out (dx then by im2col: Winograd's would pad by −1)
    public void Forward_and_input_gradient_match_the_definition_on_both_vector_widths(int n, int c, int h, int w, int fn, int pad)
    {
        var rng = new Rng(n * 7919 + c * 31 + h * 7 + w + fn);
        var x = new NDArray<float>(n, c, h, w); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(fn, c, 3, 3); rng.FillUniform(wt.Data, -1, 1);
        var b = new NDArray<float>(fn); rng.FillUniform(b.Data, -1, 1);
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        var engine = new ConvolutionEngine(fn, c, 3, 3, 1, pad);
        Assert.True(engine.UsesWinograd4x4(oh, ow), "forward by F(4×4)");
        Assert.True(engine.UsesWinograd4x4(h, w), "dx by F(4×4) where it goes by Winograd");
        bool winogradDx = fn >= ConvolutionEngine.WinogradMinimumChannels && pad <= 2;
        var exact = new Convolution<double>(wt.Cast<double>(), b.Cast<double>(), 1, pad) { Engine = null };
        var yExact = exact.Forward(x.Cast<double>(), training: true).Clone();
        var g = new NDArray<float>(n, fn, oh, ow); rng.FillUniform(g.Data, -1, 1);
        var dxExact = exact.Backward(g.Cast<double>()).Clone();
        var y = new NDArray<float>[2]; var dx = new NDArray<float>[2];
        foreach (int tile in new[] { 2, 4 })
            foreach (bool wide in new[] { false, true })
            {
                // Chunks of 2 images (the last one short) over two workers.
                var layer = new Convolution<float>(wt.Clone(), b.Clone(), 1, pad)
                {
                    Engine = new() { WinogradTile = tile, Vector512 = wide, ChunkElements = 2 * c * 9 * h * w, WinogradWeightChunkElements = 2 * c * 9 * h * w, Workers = 2 },
                };
                var yi = layer.Forward(x, training: true).Clone();
                var dxi = layer.Backward(g).Clone();
                double ey = Worst(yExact, yi), edx = Worst(dxExact, dxi);
                output.WriteLine($"F({tile}×{tile}) {(wide ? 512 : 256)}-bit: forward {ey:E2}, dx {edx:E2}");
                // The sums' scale grows as √(terms): C·9 products of size ⅓ (uniform [−1, 1] times uniform [−1, 1]).
                // F(2×2) measured within 3e-7 of it, F(4×4) within 5e-6 (its transforms' coefficients up to 8 and 25).
                double bound = tile == 4 ? 1e-5 : 1e-6;
                Assert.True(ey <= bound * Math.Sqrt(c * 9), $"F({tile}×{tile}) forward {ey:E2}");
                Assert.True(edx <= (tile == 4 && winogradDx ? bound : 1e-6) * Math.Sqrt(fn * 9), $"F({tile}×{tile}) dx {edx:E2}");
                if (tile == 4) { y[wide ? 1 : 0] = yi; dx[wide ? 1 : 0] = dxi; }
            }
        Assert.Equal(y[0].Data, y[1].Data);
        Assert.Equal(dx[0].Data, dx[1].Data);
    }

    [Theory]
    [InlineData(3, 16, 14, 14, 16, 1)]  // 14×14: 16 tiles an image, the last row and column of tiles half cropped
    [InlineData(2, 20, 11, 9, 13, 1)]   // 9 tiles an image; 13 filters (a ragged panel), 20 channels (a ragged group of 3)
    [InlineData(5, 17, 16, 16, 32, 0)]  // no padding; 5 images in chunks of 2
    [InlineData(2, 32, 14, 14, 32, 2)]  // DeepConvNet's pad 2
    public void Weight_gradient_matches_the_definition_on_both_vector_widths(int n, int c, int h, int w, int fn, int pad)
    {
        var rng = new Rng(n * 31 + c * 7 + h + w * 3 + fn);
        var x = new NDArray<float>(n, c, h, w); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(fn, c, 3, 3); rng.FillUniform(wt.Data, -1, 1);
        var b = new NDArray<float>(fn); rng.FillUniform(b.Data, -1, 1);
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        var exact = new Convolution<double>(wt.Cast<double>(), b.Cast<double>(), 1, pad) { Engine = null };
        exact.Forward(x.Cast<double>(), training: true);
        var g = new NDArray<float>(n, fn, oh, ow); rng.FillUniform(g.Data, -1, 1);
        exact.Backward(g.Cast<double>());
        foreach (int tile in new[] { 2, 4 })
            foreach (bool wide in new[] { false, true })
            {
                var layer = new Convolution<float>(wt.Clone(), b.Clone(), 1, pad)
                {
                    Engine = new() { WinogradTile = tile, Vector512 = wide, WinogradWeightChunkElements = 2 * c * 9 * h * w, Winograd4x4WeightChunkElements = 2 * c * 9 * h * w, Workers = 2 },
                };
                layer.Forward(x, training: true);
                layer.Backward(g);
                Assert.Contains("dW Winograd", layer.Algorithms);
                double worst = Worst(exact.W.Grad, layer.W.Grad), worstBias = Worst(exact.B.Grad, layer.B.Grad);
                output.WriteLine($"F({tile}×{tile}) {(wide ? 512 : 256)}-bit: dW {worst:E2}");
                // n·OH·OW products of size ⅓ a sum: F(2×2) measured within 3e-7 of its √, F(4×4) within 4e-6.
                Assert.True(worst <= (tile == 4 ? 1e-5 : 1e-6) * Math.Sqrt(n * oh * ow), $"F({tile}×{tile}) dW {worst:E2}");
                Assert.True(worstBias <= 1e-6 * Math.Sqrt(n * oh * ow), $"db {worstBias:E2}");
            }
    }

    [Theory]
    [InlineData(7, 10, 8, 8, 11, 1)]   // 4 tiles an image: the output transform takes 2 images a vector, the last alone
    [InlineData(7, 9, 7, 4, 6, 1)]     // 7 × 4 out, 2 tiles an image: 4 images a vector, then 3
    [InlineData(5, 8, 5, 5, 9, 0)]     // 3 × 3 out, one tile an image: all 5 images in one vector
    public void Forward_of_several_images_gives_the_bits_of_one_image_at_a_time(int n, int c, int h, int w, int fn, int pad)
    {
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2, perImage = Winograd4x4Convolution.TilesAlong(oh) * Winograd4x4Convolution.TilesAlong(ow);
        Assert.True(Winograd4x4Convolution.ImagesPerOutputVector(perImage, 8) > 1); // several images' planes in a vector of the output transform
        AssertBatchGivesTheBitsOfOneImageAtATime(n, c, h, w, fn, pad);
    }

    [Fact]
    public unsafe void Four_vectors_are_stored_lane_by_lane_at_either_width()
    {
        // The one step of the output transform that differs by width, alone: lane l of y_i lands at 4l + i. Run once more
        // with DOTNET_EnableAVX512=0 for the 512-bit store's fallback by halves.
        output.WriteLine($"AVX-512F: {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}");
        var narrow = new float[4 * 8]; var wide = new float[4 * 16];
        fixed (float* p = narrow)
            Float8.StoreInterleaved4(Vector256.Create(Lane(8, 0)), Vector256.Create(Lane(8, 1)), Vector256.Create(Lane(8, 2)), Vector256.Create(Lane(8, 3)), p);
        fixed (float* p = wide)
            Float16.StoreInterleaved4(Vector512.Create(Lane(16, 0)), Vector512.Create(Lane(16, 1)), Vector512.Create(Lane(16, 2)), Vector512.Create(Lane(16, 3)), p);
        Assert.Equal(Enumerable.Range(0, 32).Select(k => 100f * (k % 4) + k / 4), narrow);
        Assert.Equal(Enumerable.Range(0, 64).Select(k => 100f * (k % 4) + k / 4), wide);

        static float[] Lane(int lanes, int i) => Enumerable.Range(0, lanes).Select(l => 100f * i + l).ToArray();
    }

    [Theory]
    [InlineData(9, 16, 28, 28, 16, 1)] // 28×28: 49 tiles an image, 4 vectors of 16 (the last spilling into the next image)
    [InlineData(5, 7, 14, 14, 9, 1)]   // 14×14: 16 tiles an image, one vector
    [InlineData(3, 5, 14, 14, 6, 2)]   // 16×16 out
    [InlineData(9, 6, 8, 8, 5, 1)]     // 8×8: 4 tiles an image, 4 images a vector, the last alone
    [InlineData(7, 4, 7, 4, 3, 1)]     // 7×4: 2 tiles an image, 8 images a vector, then none left for a second
    [InlineData(5, 3, 5, 5, 7, 0)]     // 3×3 out: one tile an image, all 5 images in one vector
    [InlineData(3, 5, 11, 13, 4, 1)]   // 11×13: 3 × 4 tiles, the last row and column cropped
    [InlineData(5, 3, 8, 16, 5, 1)]    // 8×16: 8 tiles an image, two images a vector
    public void Wide_output_transform_gives_the_bits_of_the_256_bit_one(int n, int c, int h, int w, int fn, int pad)
    {
        // Run once more with DOTNET_EnableAVX512=0 on an AVX-512 machine for .NET's software Vector512 (the shuffles' fallback;
        // .NET 10 ignores DOTNET_EnableAVX512F).
        output.WriteLine($"Vector512 hardware-accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, AVX-512F: {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}");
        var (x, _, b, u) = RandomLayer(new Rng(n * 101 + c * 13 + h * 5 + w + fn), n, c, h, w, fn);
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        foreach (bool wideProducts in new[] { false, true })
            foreach (bool rectify in new[] { false, true })
            {
                var narrow = new float[n * fn * oh * ow]; var wide = new float[n * fn * oh * ow];
                Winograd4x4Convolution.Forward(x, n, c, h, w, u, b, fn, pad, narrow, wideProducts, rectify, wideOutput: false);
                Winograd4x4Convolution.Forward(x, n, c, h, w, u, b, fn, pad, wide, wideProducts, rectify, wideOutput: true);
                Assert.Equal(narrow.Select(BitConverter.SingleToInt32Bits), wide.Select(BitConverter.SingleToInt32Bits));
            }
    }

    [Theory]
    [InlineData(7, 6, 8, 8, 5, 1)]     // 8×8 (conv5, conv6 and their dx): 2 tiles a row, 4 an image: rows and columns two images a vector
    [InlineData(5, 7, 14, 14, 9, 1)]   // 14×14 (conv3, conv4's dx): 4 tiles a row, 16 an image
    [InlineData(3, 5, 14, 14, 6, 2)]   // 16×16 out (conv4)
    [InlineData(6, 4, 7, 4, 3, 1)]     // 7×4: one tile a row, 2 an image
    [InlineData(4, 3, 5, 5, 7, 0)]     // 3×3 out: one tile an image
    [InlineData(3, 5, 11, 13, 4, 1)]   // 11×13: 3 × 4 tiles, the last row and column cropped
    [InlineData(5, 3, 8, 16, 5, 1)]    // 8×16: 8 tiles an image, two images a vector
    public void Input_transform_of_paired_images_gives_the_bits_of_one_image_at_a_time(int n, int c, int h, int w, int fn, int pad)
    {
        Assert.True(Winograd4x4Convolution.PairsImages(Winograd4x4Convolution.TilesAlong(w + 2 * pad - 2))); // two images a row transform
        AssertBatchGivesTheBitsOfOneImageAtATime(n, c, h, w, fn, pad);
    }

    [Theory]
    [InlineData(7, 3, 8, 8, 1)]     // 8×8: 2 tiles a row, 4 an image: rows and columns two images a vector, the last image alone
    [InlineData(5, 2, 14, 14, 1)]   // 14×14: 4 tiles a row
    [InlineData(3, 2, 14, 14, 2)]   // 16×16 out
    [InlineData(6, 3, 7, 4, 1)]     // one tile a row, 2 an image
    [InlineData(5, 2, 5, 5, 0)]     // 3×3 out: one tile an image
    [InlineData(3, 2, 11, 13, 1)]   // 3 × 4 tiles, cropped
    [InlineData(3, 2, 28, 28, 1)]   // 7 tiles a row: one image at a time
    [InlineData(3, 1, 9, 30, 1)]    // 8 tiles a row
    public void Input_and_output_gradient_transforms_of_a_batch_give_the_bits_of_one_image_at_a_time(int n, int c, int h, int w, int pad)
    {
        var rng = new Rng(n * 17 + c * 5 + h * 3 + w + pad);
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2, tilesY = Winograd4x4Convolution.TilesAlong(oh), tilesX = Winograd4x4Convolution.TilesAlong(ow);
        int perImage = tilesY * tilesX;
        var x = new float[n * c * h * w]; rng.FillUniform(x, -1, 1);
        var dout = new float[n * c * oh * ow]; rng.FillUniform(dout, -1, 1);
        double[] bt = [4, 0, -5, 0, 1, 0, 0, -4, -4, 1, 1, 0, 0, 4, -4, -1, 1, 0, 0, -2, -1, 2, 1, 0, 0, 2, -1, -2, 1, 0, 0, 4, 0, -5, 0, 1];
        double[] at = [1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 0, 0, 1, 1, 4, 4, 0, 0, 1, -1, 8, -8, 1];
        foreach (bool input in new[] { true, false })
        {
            float[] values = input ? x : dout;
            int planeSize = input ? h * w : oh * ow;
            var batch = new float[36 * c * n * perImage];
            Winograd4x4Convolution.Transformed(input, values, n, c, h, w, pad, batch);
            var alone = new float[36 * c * perImage];
            for (int i = 0; i < n; i++)
            {
                Winograd4x4Convolution.Transformed(input, values.AsSpan(i * c * planeSize, c * planeSize), 1, c, h, w, pad, alone);
                for (int xi = 0; xi < 36; xi++)
                    for (int ch = 0; ch < c; ch++)
                        Assert.Equal(alone.AsSpan((xi * c + ch) * perImage, perImage).ToArray(),
                            batch.AsSpan(((xi * c + ch) * n + i) * perImage, perImage).ToArray());
            }
            // Against the definition in double: Bᵀ d B of each 6×6 window of the padded input, A dY Aᵀ of each 4×4 tile of dout.
            double worst = 0;
            for (int i = 0; i < n; i++)
                for (int ch = 0; ch < c; ch++)
                    for (int ty = 0; ty < tilesY; ty++)
                        for (int tx = 0; tx < tilesX; tx++)
                            for (int m = 0; m < 6; m++)
                                for (int k = 0; k < 6; k++)
                                {
                                    double sum = 0;
                                    for (int a = 0; a < (input ? 6 : 4); a++)
                                        for (int b = 0; b < (input ? 6 : 4); b++)
                                        {
                                            int r = input ? 4 * ty - pad + a : 4 * ty + a, col = input ? 4 * tx - pad + b : 4 * tx + b;
                                            int rows = input ? h : oh, cols = input ? w : ow;
                                            if (r < 0 || r >= rows || col < 0 || col >= cols) continue;
                                            double v = values[((i * c + ch) * rows + r) * cols + col];
                                            sum += input ? bt[m * 6 + a] * v * bt[k * 6 + b] : at[a * 6 + m] * v * at[b * 6 + k];
                                        }
                                    float got = batch[(((m * 6 + k) * c + ch) * n + i) * perImage + ty * tilesX + tx];
                                    worst = Math.Max(worst, Math.Abs(got - sum));
                                }
            Assert.True(worst <= 1e-4, $"{(input ? "input" : "output gradient")} transform: {worst:E2}"); // values up to about 100 in float
        }
    }

    [Theory]
    [InlineData(5, 3, 8, 8, 1)]     // 8×8: 2 × 2 tiles: four images, then one alone
    [InlineData(11, 2, 8, 8, 1)]    // two quads, then a pair and one alone
    [InlineData(4, 2, 10, 10, 0)]   // 8×8 out, no padding: one quad
    [InlineData(6, 2, 6, 6, 2)]     // 8×8 out, pad 2: a quad, then a pair
    [InlineData(7, 3, 7, 5, 1)]     // 7×5 out: 2 × 2 tiles cropped both ways; a quad, a pair, one alone
    [InlineData(5, 2, 14, 14, 1)]   // 14×14: 4 tiles a row, the last one half past the plane
    [InlineData(3, 2, 14, 14, 2)]   // pad 2: two columns and rows of zeros each side
    [InlineData(3, 2, 16, 16, 0)]   // no padding: every group inside the plane on the left
    [InlineData(4, 3, 9, 5, 1)]     // odd sizes: one tile a row, three rows, groups past the row's end
    [InlineData(2, 2, 9, 11, 3)]    // pad 3: a whole group of zeros on the left
    [InlineData(3, 2, 28, 28, 1)]   // 7 tiles a row: one image at a time, one vector a row
    [InlineData(2, 2, 13, 37, 1)]   // 10 tiles a row: a second vector of tiles, mostly past the plane
    [InlineData(1, 1, 3, 70, 0)]    // 17 tiles a row, one tile row: three vectors a row
    [InlineData(3, 1, 1, 1, 1)]     // 1×1 input: every group but one lane masked
    [InlineData(6, 2, 8, 8, 1, true)] // −0, NaN and ±Inf among the values (a quad, then a pair)
    public void Masked_rows_give_the_bits_of_the_padded_copy(int n, int c, int h, int w, int pad, bool specials = false)
    {
        output.WriteLine($"AVX-512F: {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}"); // run once more with DOTNET_EnableAVX512=0
        var rng = new Rng(n * 23 + c * 7 + h * 5 + w + pad);
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2, used = n * Winograd4x4Convolution.TilesAlong(oh) * Winograd4x4Convolution.TilesAlong(ow);
        var x = new float[n * c * h * w]; rng.FillUniform(x, -1, 1);
        var dout = new float[n * c * oh * ow]; rng.FillUniform(dout, -1, 1);
        float[] special = [-0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        if (specials)
            foreach (var values in new[] { x, dout })
                for (int i = 0; i < values.Length; i += 7) values[i] = special[i / 7 % special.Length];
        foreach (bool input in new[] { true, false })
        {
            var padded = new float[36 * c * used]; var masked = new float[36 * c * used];
            Winograd4x4Convolution.Transformed(input, input ? x : dout, n, c, h, w, pad, padded, padded: true);
            Winograd4x4Convolution.Transformed(input, input ? x : dout, n, c, h, w, pad, masked);
            Assert.Equal(padded.Select(BitConverter.SingleToInt32Bits), masked.Select(BitConverter.SingleToInt32Bits));
        }
    }

    /// <summary>
    /// No masked row load reaches outside the span it reads, not even with every lane masked off (AMD may fault on
    /// those): every load of the masked transforms, watched through <see cref="WatchedRows"/>, for a sweep of shapes,
    /// with the span in native memory between margins that no other buffer can share; and the bits are the reference's.
    /// </summary>
    [Fact]
    public unsafe void Masked_rows_load_nothing_outside_the_span()
    {
        const int Margin = 1024; // floats each side: a page
        var rng = new Rng(40);
        int checkedShapes = 0;
        foreach (var (n, c) in new[] { (1, 1), (2, 1), (5, 2) })
            foreach (int pad in new[] { 0, 1, 2, 3 })
                foreach (int h in new[] { 1, 2, 3, 5, 8, 9, 14, 16 })
                    foreach (int w in new[] { 1, 2, 3, 5, 8, 9, 13, 14, 16, 28, 37 })
                        foreach (bool input in new[] { true, false })
                        {
                            int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
                            if (oh < 1 || ow < 1) continue;
                            int length = n * c * (input ? h * w : oh * ow);
                            float* all = (float*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)(length + 2 * Margin) * sizeof(float));
                            try
                            {
                                new Span<float>(all, length + 2 * Margin).Fill(float.NaN);
                                var values = new Span<float>(all + Margin, length);
                                rng.FillUniform(values, -1, 1);
                                long block = Winograd4x4Convolution.TransformedBlock(n, c, h, w, pad);
                                var watched = new float[36 * block]; var reference = new float[36 * block];
                                WatchedRows.Start = (nint)(all + Margin); WatchedRows.End = (nint)(all + Margin + length); WatchedRows.Outside = 0;
                                fixed (float* pw = watched) fixed (float* pr = reference)
                                {
                                    Winograd4x4Convolution.Transform<WatchedRows>(input, values, n, c, h, w, pad, pw, block);
                                    Winograd4x4Convolution.Transform(input, true, values, n, c, h, w, pad, pr, block);
                                }
                                string shape = $"{(input ? "x" : "dout")} of n {n}, c {c}, {h}×{w}, pad {pad}";
                                Assert.True(WatchedRows.Outside == 0, $"{shape}: {WatchedRows.Outside} loads outside the span");
                                int used = n * Winograd4x4Convolution.TilesAlong(oh) * Winograd4x4Convolution.TilesAlong(ow);
                                int tiles = (int)((block - 16) / c);
                                for (int xi = 0; xi < 36; xi++)
                                    for (int ch = 0; ch < c; ch++)
                                        for (int t = 0; t < used; t++)
                                        {
                                            long at = xi * block + (long)ch * tiles + t;
                                            Assert.True(BitConverter.SingleToInt32Bits(watched[at]) == BitConverter.SingleToInt32Bits(reference[at]), $"{shape}: ξ {xi}, channel {ch}, tile {t}");
                                        }
                                checkedShapes++;
                            }
                            finally { System.Runtime.InteropServices.NativeMemory.Free(all); }
                        }
        output.WriteLine($"{checkedShapes} transforms watched");
    }

    /// <summary>
    /// <see cref="Winograd4x4Convolution.MaskedRows"/> that counts the loads whose 4 floats touch the page before
    /// <see cref="Start"/> or the page from <see cref="End"/> on.
    /// </summary>
    private unsafe struct WatchedRows : Winograd4x4Convolution.IRowSource
    {
        [ThreadStatic] public static nint Start, End;
        [ThreadStatic] public static int Outside;

        public static bool Padded => false;

        public static System.Runtime.Intrinsics.Vector128<float> Load(float* p, System.Runtime.Intrinsics.Vector128<float>* mask)
        {
            nint from = (nint)p, to = from + 4 * sizeof(float), page = 4096;
            if ((to > Start - page && from < Start) || (from < End + page && to > End)) Outside++;
            return System.Runtime.Intrinsics.X86.Avx.MaskLoad(p, *mask);
        }
    }

    /// <summary>
    /// Forward, the input gradient and the weight gradient give the same bits with the transforms' rows masked as
    /// padded (<see cref="Winograd4x4Convolution.PaddedRows"/>), on both vector widths of the products.
    /// </summary>
    [Theory]
    [InlineData(7, 3, 8, 8, 1, 5)]    // 8×8: a quad, then a pair and one alone (dx too)
    [InlineData(5, 4, 14, 14, 1, 6)]  // 14×14: paired, the last image alone
    public void Passes_give_the_same_bits_by_masked_and_padded_rows(int n, int c, int h, int w, int pad, int fn)
    {
        var rng = new Rng(n * 41 + c * 13 + h + fn);
        var (x, wt, b, u) = RandomLayer(rng, n, c, h, w, fn);
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        var dout = new float[n * fn * oh * ow]; rng.FillUniform(dout, -1, 1);
        float[] flipped = [], uFlipped = [];
        Winograd4x4Convolution.TransformFlippedFilters(wt, fn, c, ref flipped, ref uFlipped);
        foreach (bool wide in new[] { false, true })
        {
            var results = new List<float[]>[2];
            foreach (bool padded in new[] { false, true })
            {
                var y = new float[n * fn * oh * ow]; var dx = new float[n * c * h * w]; var dU = new float[36 * fn * c];
                Winograd4x4Convolution.Forward(x, n, c, h, w, u, b, fn, pad, y, wide, paddedRows: padded);
                Winograd4x4Convolution.InputGradient(dout, n, fn, oh, ow, uFlipped, new float[c], c, pad, dx, wide, padded);
                Winograd4x4Convolution.WeightGradient(x, dout, n, c, h, w, fn, pad, dU, wide, padded);
                results[padded ? 1 : 0] = [y, dx, dU];
            }
            for (int k = 0; k < 3; k++)
                Assert.True(results[0][k].Select(BitConverter.SingleToInt32Bits).SequenceEqual(results[1][k].Select(BitConverter.SingleToInt32Bits)),
                    $"{new[] { "forward", "input gradient", "weight gradient" }[k]}, wide {wide}");
        }
    }

    /// <summary>Input (n × c × h × w), 3×3 filters (fn × c), bias, all uniform in [−1, 1] drawn in that order, and the filters transformed.</summary>
    private static (float[] X, float[] Weights, float[] Bias, float[] Transformed) RandomLayer(Rng rng, int n, int c, int h, int w, int fn)
    {
        var x = new float[n * c * h * w]; rng.FillUniform(x, -1, 1);
        var wt = new float[fn * c * 9]; rng.FillUniform(wt, -1, 1);
        var b = new float[fn]; rng.FillUniform(b, -1, 1);
        float[] u = [];
        Winograd4x4Convolution.TransformFilters(wt, fn, c, ref u);
        return (x, wt, b, u);
    }

    /// <summary>
    /// F(4×4)'s forward pass of n images in one call gives the bits of n calls of one image, on both vector widths, with
    /// and without the fused ReLU, and stays within F(4×4)'s bound of the definition in double.
    /// </summary>
    private static void AssertBatchGivesTheBitsOfOneImageAtATime(int n, int c, int h, int w, int fn, int pad)
    {
        var (x, wt, b, u) = RandomLayer(new Rng(n * 131 + c * 17 + h + w + fn), n, c, h, w, fn);
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        var exact = new Convolution<double>(new NDArray<float>(wt, fn, c, 3, 3).Cast<double>(), new NDArray<float>(b, fn).Cast<double>(), 1, pad) { Engine = null }
            .Forward(new NDArray<float>(x, n, c, h, w).Cast<double>(), training: true);
        var ys = new List<float[]>();
        foreach (bool wide in new[] { false, true })
            foreach (bool rectify in new[] { false, true })
            {
                var blocked = new float[n * fn * oh * ow];
                Winograd4x4Convolution.Forward(x, n, c, h, w, u, b, fn, pad, blocked, wide, rectify);
                var alone = new float[n * fn * oh * ow];
                for (int i = 0; i < n; i++)
                    Winograd4x4Convolution.Forward(x.AsSpan(i * c * h * w, c * h * w), 1, c, h, w, u, b, fn, pad, alone.AsSpan(i * fn * oh * ow, fn * oh * ow), wide, rectify);
                Assert.Equal(alone, blocked);
                double worst = 0;
                for (int i = 0; i < exact.Size; i++) worst = Math.Max(worst, Math.Abs((rectify ? Math.Max(0, exact.Data[i]) : exact.Data[i]) - blocked[i]));
                Assert.True(worst <= 1e-5 * Math.Sqrt(c * 9), $"{(wide ? 512 : 256)}-bit: {worst:E2}"); // as the test above bounds F(4×4)
                if (!rectify) ys.Add(blocked);
            }
        Assert.Equal(ys[0], ys[1]);
    }

    [Theory]
    [InlineData(0, -1, 0f)]
    [InlineData(5, -1, 0f)]                          // the scalar tail only, all finite
    [InlineData(37, 3, float.NaN)]                   // in the vector part
    [InlineData(37, 35, float.PositiveInfinity)]     // in the tail
    [InlineData(48, 20, float.NegativeInfinity)]
    [InlineData(48, -1, 0f)]
    [InlineData(1000, -1, 0f)]                       // many streaming stores
    [InlineData(1000, 3, float.NaN)]                 // before the destination's first 32-byte boundary, or after
    [InlineData(1000, 998, float.PositiveInfinity)]  // in the tail
    public void CopyAllFinite_copies_the_bits_and_tells_what_AllFinite_tells(int length, int at, float value)
    {
        var rng = new Rng(length * 3 + at);
        var values = new float[length]; rng.FillUniform(values, -1e30f, 1e30f);
        if (length > 1) values[length / 2] = -0f;
        if (at >= 0) values[at] = value;
        // Every offset of the destination from a 32-byte boundary: the streaming stores start at the first one.
        for (int offset = 0; offset < 8; offset++)
        {
            var buffer = new float[length + 11]; buffer.AsSpan().Fill(7f);
            bool finite = Winograd4x4Convolution.CopyAllFinite(values, buffer.AsSpan(offset, length + 3));
            Assert.Equal(Winograd4x4Convolution.AllFinite(values), finite);
            Assert.Equal(at < 0, finite);
            Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), buffer.Skip(offset).Take(length).Select(BitConverter.SingleToInt32Bits));
            Assert.All(buffer.Take(offset).Concat(buffer.Skip(offset + length)), v => Assert.Equal(7f, v)); // nothing written outside the copy
        }
    }

    [Fact]
    public void Training_passes_take_the_4x4_tiles_and_inference_keeps_the_2x2_bits()
    {
        // A trained model's predictions stay F(2×2)'s (InferenceWinogradTile); a training step's forward takes F(4×4).
        var rng = new Rng(404);
        var x = new NDArray<float>(3, 12, 10, 10); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(9, 12, 3, 3); rng.FillUniform(wt.Data, -1, 1);
        var b = new NDArray<float>(9); rng.FillUniform(b.Data, -1, 1);
        Convolution<float> Layer(ConvolutionEngineOptions options) => new(wt.Clone(), b.Clone(), 1, 1) { Engine = options };
        var f2 = Layer(new() { WinogradTile = 2 }).Forward(x, training: true).Clone();
        var f4 = Layer(new() { InferenceWinogradTile = 4 }).Forward(x, training: false).Clone();
        Assert.NotEqual(f2.Data, f4.Data);
        var layer = Layer(new());
        Assert.Equal(f2.Data, layer.Forward(x, training: false).Data);
        Assert.Equal(f4.Data, layer.Forward(x, training: true).Data);
        Assert.Contains("F(2×2) outside training", layer.Algorithms);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvolutionEngineOptions { WinogradTile = 3 });
    }

    [Theory]
    [InlineData(1, 1, false)]   // one tile: F(4×4) would multiply 36 positions for one output
    [InlineData(2, 2, false)]
    [InlineData(3, 3, true)]    // 36 products against 4 × 16
    [InlineData(5, 5, false)]   // 4 × 36 = 9 × 16: a tie goes to F(2×2)'s smaller transforms
    [InlineData(6, 6, false)]
    [InlineData(7, 7, true)]    // 4 × 36 against 16 × 16
    [InlineData(8, 8, true)]
    [InlineData(14, 14, true)]  // 16 × 36 against 49 × 16
    [InlineData(28, 28, true)]
    [InlineData(30, 3, true)]
    public void The_tile_is_chosen_from_the_output_size(int oh, int ow, bool fourByFour)
    {
        Assert.Equal(fourByFour, new ConvolutionEngine(16, 16, 3, 3, 1, 1).UsesWinograd4x4(oh, ow));
        Assert.False(new ConvolutionEngine(16, 16, 3, 3, 1, 1, new() { WinogradTile = 2 }).UsesWinograd4x4(oh, ow));
        Assert.False(new ConvolutionEngine(16, 16, 3, 3, 1, 1).UsesWinograd4x4(oh, ow, training: false));
    }

    [Theory]
    [InlineData(16, 16)]  // DeepConvNet's conv2: U[ξ] 1 KiB apart
    [InlineData(32, 32)]  // 4 KiB apart
    [InlineData(10, 7)]   // a ragged panel of filters, a last group of 3 channels
    [InlineData(3, 1)]
    [InlineData(64, 33)]
    public void Filter_transform_gives_the_bits_of_the_scalar_definition(int filters, int c)
    {
        var rng = new Rng(filters * 100 + c);
        var wt = new float[filters * c * 9]; rng.FillUniform(wt, -1, 1);
        float[] u = [];
        Winograd4x4Convolution.TransformFilters(wt, filters, c, ref u);
        int padded = (filters + 3) / 4 * 4, block = padded * c;
        // G g Gᵀ in double, each step as the kernel writes it, rounded once; the layout [ξ][panel][c][4].
        static (double, double, double, double, double, double) G(double g0, double g1, double g2)
        {
            double even = g0 + g2, q = (g0 + g2 * 4.0) * (1.0 / 24), r = g1 * (1.0 / 12);
            return (g0 * 0.25, (even + g1) * (-1.0 / 6), (g1 - even) * (1.0 / 6), q + r, q - r, g2);
        }
        static double[] Six((double, double, double, double, double, double) t) => [t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6];
        for (int f = 0; f < padded; f++)
            for (int ch = 0; ch < c; ch++)
            {
                double Tap(int t) => f < filters ? wt[(f * c + ch) * 9 + t] : 0.0;
                var cols = new double[3][];
                for (int col = 0; col < 3; col++) cols[col] = Six(G(Tap(col), Tap(3 + col), Tap(6 + col)));
                for (int a = 0; a < 6; a++)
                {
                    var row = Six(G(cols[0][a], cols[1][a], cols[2][a]));
                    for (int b = 0; b < 6; b++)
                    {
                        float expected = (float)row[b], actual = u[(6 * a + b) * block + (f / 4) * 4 * c + ch * 4 + f % 4];
                        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"f {f}, c {ch}, ξ {6 * a + b}: {actual} for {expected}");
                    }
                }
            }
    }

    /// <summary>The largest difference from the double-precision result.</summary>
    private static double Worst(NDArray<double> exact, NDArray<float> actual)
    {
        Assert.Equal(exact.Shape, actual.Shape);
        double worst = 0;
        for (int i = 0; i < exact.Size; i++) worst = Math.Max(worst, Math.Abs(exact.Data[i] - actual.Data[i]));
        return worst;
    }
}
