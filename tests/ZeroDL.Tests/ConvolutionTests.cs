using ZeroDL.Functions;
using ZeroDL.Kernels;
using ZeroDL.Layers;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

public class ConvolutionTests
{
    private static NDArray<double> Random(Rng rng, params ReadOnlySpan<int> shape)
    {
        var t = new NDArray<double>(shape);
        for (int i = 0; i < t.Size; i++) t.Data[i] = rng.NextGaussian();
        return t;
    }

    /// <summary>The definition: y[n,f,oy,ox] = b[f] + Σ_c,ky,kx W[f,c,ky,kx]·x[n,c,oy·s+ky−p, ox·s+kx−p] (0 outside).</summary>
    internal static NDArray<double> NaiveConvolution(NDArray<double> x, NDArray<double> w, NDArray<double> b, int stride, int pad)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3], fn = w.Shape[0], kh = w.Shape[2], kw = w.Shape[3];
        int oh = (h + 2 * pad - kh) / stride + 1, ow = (wd + 2 * pad - kw) / stride + 1;
        var y = new NDArray<double>(n, fn, oh, ow);
        for (int i = 0; i < n; i++)
            for (int f = 0; f < fn; f++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double s = b[f];
                        for (int ch = 0; ch < c; ch++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int yy = oy * stride + ky - pad, xx = ox * stride + kx - pad;
                                    if (yy >= 0 && yy < h && xx >= 0 && xx < wd) s += w[f, ch, ky, kx] * x[i, ch, yy, xx];
                                }
                        y[i, f, oy, ox] = s;
                    }
        return y;
    }

    [Theory]
    [InlineData(2, 3, 7, 6, 4, 3, 3, 1, 1)]
    [InlineData(1, 1, 10, 10, 10, 3, 3, 1, 0)]
    [InlineData(2, 2, 9, 9, 5, 5, 5, 2, 2)]
    [InlineData(1, 2, 7, 5, 3, 2, 3, 2, 1)]
    public void Forward_matches_the_definition_and_backward_matches_central_differences(int n, int c, int h, int w, int fn, int kh, int kw, int stride, int pad)
    {
        var rng = new Rng(n * 100 + h);
        var x = Random(rng, n, c, h, w);
        var layer = new Convolution<double>(Random(rng, fn, c, kh, kw), Random(rng, fn), stride, pad);
        var y = layer.Forward(x, true).Clone();
        Check.AllClose(NaiveConvolution(x, layer.W.Value, layer.B.Value, stride, pad), y, 1e-12, "y");
        CheckBackwardNumerically(layer, x, Random(rng, y.Shape));
    }

    [Theory]
    [InlineData(3, 1, 28, 28, 16, 3, 3, 1)]   // DeepConvNet's shapes: 16, 32 and 64 filters (whole 4-filter tiles)
    [InlineData(2, 16, 14, 14, 32, 3, 3, 2)]
    [InlineData(1, 32, 7, 7, 64, 3, 3, 1)]
    [InlineData(2, 1, 28, 28, 30, 5, 5, 0)]   // SimpleConvNet: 30 filters, the last tile half empty
    [InlineData(2, 3, 5, 9, 7, 2, 3, 0)]      // non-square, even kernel, ragged everything
    [InlineData(1, 2, 1, 1, 3, 3, 3, 1)]      // a single pixel, all padding around it
    [InlineData(1, 4, 6, 6, 5, 1, 1, 0)]      // 1×1 filters
    [InlineData(2, 3, 4, 4, 2, 3, 3, 3)]      // padding wider than the filter reach
    public void Shifted_window_convolution_matches_the_definition_and_the_im2col_gradients(int n, int c, int h, int w, int fn, int kh, int kw, int pad)
    {
        var rng = new Rng(n * 1000 + c * 100 + h + fn);
        var x = new NDArray<float>(n, c, h, w); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(fn, c, kh, kw); rng.FillUniform(wt.Data, -1, 1);
        var b = new NDArray<float>(fn); rng.FillUniform(b.Data, -1, 1);
        var shifted = new Convolution<float>(wt, b, 1, pad) { Engine = new() { Algorithm = ConvolutionAlgorithm.ShiftedWindows } };
        var im2col = new Convolution<float>(wt, b, 1, pad) { Engine = null }; // the book's layer
        var actual = shifted.Forward(x, training: false).Clone();
        var plain = im2col.Forward(x, training: false);
        var exact = NaiveConvolution(x.Cast<double>(), wt.Cast<double>(), b.Cast<double>(), 1, pad);
        double tolerance = 1e-5 * Math.Sqrt(c * kh * kw) + 1e-6;
        Check.AllClose(exact, actual.Cast<double>(), tolerance, "shifted vs definition");
        Check.AllClose(plain.Cast<double>(), actual.Cast<double>(), tolerance, "shifted vs im2col");
        // Training: the same forward, and the backward pass (dx by the flipped filters where they apply, dW by
        // correlating dout with the padded input) gives the im2col path's gradients.
        Check.AllClose(plain.Cast<double>(), shifted.Forward(x, training: true).Cast<double>(), tolerance, "training forward");
        var g = new NDArray<float>(actual.Shape); rng.FillUniform(g.Data, -1, 1);
        im2col.Forward(x, training: true);
        double gradTolerance = 1e-5 * Math.Sqrt(n * actual.Shape[2] * actual.Shape[3] * fn) + 1e-6;
        Check.AllClose(im2col.Backward(g).Cast<double>(), shifted.Backward(g).Cast<double>(), gradTolerance, "dx");
        Check.AllClose(im2col.W.Grad.Cast<double>(), shifted.W.Grad.Cast<double>(), gradTolerance, "dW");
        Check.AllClose(im2col.B.Grad.Cast<double>(), shifted.B.Grad.Cast<double>(), gradTolerance, "db");
        // As a first layer (no input gradient) the weight gradient alone, whatever the filter shape.
        shifted.W.Grad.Span.Clear();
        shifted.BackwardParameters(g);
        Check.AllClose(im2col.W.Grad.Cast<double>(), shifted.W.Grad.Cast<double>(), gradTolerance, "dW without dx");
        // Several images side by side on one grid, in chunks (the last one short) over two workers.
        var batch = new NDArray<float>(5, c, h, w); rng.FillUniform(batch.Data, -1, 1);
        var chunked = new Convolution<float>(wt, b, 1, pad) { Engine = new() { Algorithm = ConvolutionAlgorithm.ShiftedWindows, ChunkElements = 2 * c * kh * kw * h * w, Workers = 2 } };
        im2col.Forward(batch, training: true);
        var gb = new NDArray<float>(5, fn, actual.Shape[2], actual.Shape[3]); rng.FillUniform(gb.Data, -1, 1);
        Check.AllClose(im2col.Forward(batch, training: true).Cast<double>(), chunked.Forward(batch, training: true).Cast<double>(), tolerance, "chunked forward");
        Check.AllClose(im2col.Backward(gb).Cast<double>(), chunked.Backward(gb).Cast<double>(), 3 * gradTolerance, "chunked dx");
        Check.AllClose(im2col.W.Grad.Cast<double>(), chunked.W.Grad.Cast<double>(), 3 * gradTolerance, "chunked dW");
    }

    [Theory]
    [InlineData(2, 8, 6, 6, 8, 1)]      // the fewest channels that take the path, even outputs
    [InlineData(3, 9, 7, 5, 10, 1)]     // odd outputs both ways (tiles cropped), 10 filters (a ragged panel), non-square
    [InlineData(1, 16, 14, 14, 32, 2)]  // DeepConvNet's pad 2: 16×16 out, dx padded by 0
    [InlineData(2, 12, 5, 9, 6, 0)]     // no padding: dx padded by 2
    [InlineData(1, 8, 1, 1, 8, 1)]      // a single pixel: one tile, three quarters cropped
    [InlineData(2, 64, 8, 8, 64, 1)]    // DeepConvNet's last block
    [InlineData(1, 8, 30, 3, 9, 1)]     // tall and narrow: 2 tiles a row, every vector spilling
    public void Winograd_convolution_matches_the_definition_and_the_im2col_gradients(int n, int c, int h, int w, int fn, int pad)
    {
        var rng = new Rng(n * 7919 + c * 31 + h * 7 + w + fn);
        var x = new NDArray<float>(n, c, h, w); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(fn, c, 3, 3); rng.FillUniform(wt.Data, -1, 1);
        var b = new NDArray<float>(fn); rng.FillUniform(b.Data, -1, 1);
        var winograd = new Convolution<float>(wt, b, 1, pad);
        var im2col = new Convolution<float>(wt, b, 1, pad) { Engine = null }; // the book's layer
        var exact = NaiveConvolution(x.Cast<double>(), wt.Cast<double>(), b.Cast<double>(), 1, pad);
        // The transforms add a few roundings per product (coefficients ½ and sums of up to 9 terms).
        double tolerance = 4e-5 * Math.Sqrt(c * 9) + 1e-6;
        Check.AllClose(exact, winograd.Forward(x, training: false).Cast<double>(), tolerance, "winograd vs definition");
        var y = winograd.Forward(x, training: true).Clone();
        Check.AllClose(im2col.Forward(x, training: true).Cast<double>(), y.Cast<double>(), tolerance, "winograd vs im2col");
        var g = new NDArray<float>(y.Shape); rng.FillUniform(g.Data, -1, 1);
        double gradTolerance = 4e-5 * Math.Sqrt(n * y.Shape[2] * y.Shape[3] * fn) + 1e-6;
        Check.AllClose(im2col.Backward(g).Cast<double>(), winograd.Backward(g).Cast<double>(), gradTolerance, "dx");
        Check.AllClose(im2col.W.Grad.Cast<double>(), winograd.W.Grad.Cast<double>(), gradTolerance, "dW");
        Check.AllClose(im2col.B.Grad.Cast<double>(), winograd.B.Grad.Cast<double>(), gradTolerance, "db");
        // Several images in chunks (the last one short) over two workers: every image's tiles in its own place.
        var batch = new NDArray<float>(5, c, h, w); rng.FillUniform(batch.Data, -1, 1);
        var chunked = new Convolution<float>(wt, b, 1, pad) { Engine = new() { ChunkElements = 2 * c * 9 * h * w, WinogradWeightChunkElements = 2 * c * 9 * h * w, Workers = 2 } };
        var gb = new NDArray<float>(5, fn, y.Shape[2], y.Shape[3]); rng.FillUniform(gb.Data, -1, 1);
        Check.AllClose(im2col.Forward(batch, training: true).Cast<double>(), chunked.Forward(batch, training: true).Cast<double>(), tolerance, "chunked forward");
        Check.AllClose(im2col.Backward(gb).Cast<double>(), chunked.Backward(gb).Cast<double>(), 3 * gradTolerance, "chunked dx");
        Check.AllClose(im2col.W.Grad.Cast<double>(), chunked.W.Grad.Cast<double>(), 3 * gradTolerance, "chunked dW (summed per chunk in the transformed domain)");
        Check.AllClose(im2col.B.Grad.Cast<double>(), chunked.B.Grad.Cast<double>(), 3 * gradTolerance, "chunked db");
    }

    [Theory]
    [InlineData(ConvolutionAlgorithm.ShiftedWindows, 3, 1, 28, 28, 16, 3, 1)]  // DeepConvNet's first layer: long grids, 48-column tiles and tails
    [InlineData(ConvolutionAlgorithm.ShiftedWindows, 2, 3, 5, 9, 7, 3, 0)]     // ragged everything: a grid shorter than one wide tile
    [InlineData(ConvolutionAlgorithm.ShiftedWindows, 2, 1, 28, 28, 30, 5, 0)]  // SimpleConvNet: 30 filters, a half-empty panel
    [InlineData(ConvolutionAlgorithm.Winograd, 3, 9, 7, 5, 10, 3, 1)]          // odd outputs, a ragged panel
    [InlineData(ConvolutionAlgorithm.Winograd, 2, 16, 14, 14, 32, 3, 2)]       // DeepConvNet's pad 2
    [InlineData(ConvolutionAlgorithm.Winograd, 5, 64, 8, 8, 64, 3, 1)]         // DeepConvNet's last block: 80 tiles, 48 + 24 + 8; dW by Winograd
    [InlineData(ConvolutionAlgorithm.Winograd, 2, 35, 6, 7, 30, 3, 1)]         // dW by Winograd on ragged panels (30 filters) and channel groups (35)
    [InlineData(ConvolutionAlgorithm.Winograd, 3, 40, 5, 5, 26, 3, 0)]         // no padding: 27 tiles, a ragged last vector of tiles
    public void Products_on_512_bit_vectors_give_the_bits_of_the_256_bit_ones_and_both_weight_gradients_the_books(ConvolutionAlgorithm algorithm, int n, int c, int h, int w, int fn, int k, int pad)
    {
        // The 512-bit path runs where the CPU has AVX-512; elsewhere .NET's software Vector512 runs it, so this holds
        // both paths to each other and to the book's layer on every machine. Forward and dx: the same chains of
        // multiply-adds, so the same bits. dW: inner products along the positions, 16 or 8 at a time, so close.
        var rng = new Rng(n * 131 + c * 17 + h + fn);
        var x = new NDArray<float>(n, c, h, w); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(fn, c, k, k); rng.FillUniform(wt.Data, -1, 1);
        var b = new NDArray<float>(fn); rng.FillUniform(b.Data, -1, 1);
        var layers = new[] { false, true }.Select(wide => new Convolution<float>(wt.Clone(), b.Clone(), 1, pad)
        {
            Engine = new() { Algorithm = algorithm, Vector512 = wide, ChunkElements = 2 * c * k * k * h * w, WinogradWeightChunkElements = 2 * c * k * k * h * w, Workers = 2 },
        }).ToArray();
        Assert.Contains(algorithm == ConvolutionAlgorithm.Winograd ? "forward Winograd" : "forward shifted windows", layers[1].Algorithms);
        var y = layers.Select(l => l.Forward(x, training: true).Clone()).ToArray();
        Assert.Equal(y[0].Data, y[1].Data);
        var exact = NaiveConvolution(x.Cast<double>(), wt.Cast<double>(), b.Cast<double>(), 1, pad);
        Check.AllClose(exact, y[1].Cast<double>(), 4e-5 * Math.Sqrt(c * k * k) + 1e-6, "512-bit forward vs definition");
        var g = new NDArray<float>(y[0].Shape); rng.FillUniform(g.Data, -1, 1);
        var dx = layers.Select(l => l.Backward(g).Clone()).ToArray();
        Assert.Equal(dx[0].Data, dx[1].Data);
        Assert.Equal(layers[0].B.Grad.Data, layers[1].B.Grad.Data);
        // With a ReLU fused in (applied while the outputs are in registers): max(0, ·) of the same outputs, bit for bit.
        var relu = y[0].Data.Select(v => Math.Max(v, 0f)).ToArray();
        foreach (bool wide in new[] { false, true })
        {
            var rectified = new Convolution<float>(wt.Clone(), b.Clone(), 1, pad) { Rectifies = true, Engine = new() { Algorithm = algorithm, Vector512 = wide } };
            Assert.Equal(relu, rectified.Forward(x, training: true).Data); // the pass y came from (outside training Winograd keeps F(2×2))
        }
        var book = new Convolution<float>(wt.Clone(), b.Clone(), 1, pad) { Engine = null };
        book.Forward(x, training: true);
        Check.AllClose(book.Backward(g).Cast<double>(), dx[1].Cast<double>(), 4e-5 * Math.Sqrt(n * h * w * fn) + 1e-6, "dx vs the book's layer");
        foreach (var layer in layers)
            Check.AllClose(book.W.Grad.Cast<double>(), layer.W.Grad.Cast<double>(), 4e-5 * Math.Sqrt(n * y[0].Shape[2] * y[0].Shape[3]) + 1e-6, "dW vs the book's layer");
    }

    [Theory]
    [InlineData(3, 28, 28, 16, 3, 1)]  // DeepConvNet's first layer: 784 positions, whole 16- and 8-wide vectors
    [InlineData(2, 5, 9, 7, 3, 1)]     // ragged: 45 positions, a wide vector, a narrow one and 5 one by one
    [InlineData(2, 28, 28, 30, 5, 0)]  // SimpleConvNet's: 24×24 out, 30 filters
    [InlineData(1, 6, 4, 3, 3, 2)]     // padding wider than the filter's reach: 8×6 out, rows and columns of zeros
    [InlineData(2, 1, 1, 2, 3, 1)]     // a single pixel: one position, all one by one
    [InlineData(1, 7, 11, 5, 2, 0)]    // an even filter, no padding
    public void Single_channel_kernel_gives_the_shifted_windows_bits_on_both_widths_and_the_books_gradients(int n, int h, int w, int fn, int k, int pad)
    {
        var rng = new Rng(n * 97 + h * 13 + w + fn + k);
        var x = new NDArray<float>(n, 1, h, w); rng.FillUniform(x.Data, -1, 1);
        x.Data[x.Size / 2] = 0f;
        var wt = new NDArray<float>(fn, 1, k, k); rng.FillUniform(wt.Data, -1, 1);
        var b = new NDArray<float>(fn); rng.FillUniform(b.Data, -1, 1);
        int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
        var exact = NaiveConvolution(x.Cast<double>(), wt.Cast<double>(), b.Cast<double>(), 1, pad);
        float[] packed = [];
        ShiftedConvolution.PackFilters(wt.Data, fn, k * k, ref packed);
        foreach (bool rectify in new[] { false, true })
        {
            var reference = new float[n * fn * oh * ow];
            SingleChannelConvolution.ForwardReference(x.Data, n, h, w, wt.Data, b.Data, fn, k, k, pad, reference, rectify);
            var shifted = new float[reference.Length];
            ShiftedConvolution.Forward(x.Data, n, 1, h, w, packed, b.Data, fn, k, k, pad, shifted, rectify: rectify);
            Assert.Equal(shifted, reference); // the same chain of multiply-adds, + bias, max(0, ·)
            foreach (bool wide in new[] { false, true })
            {
                var y = new float[reference.Length];
                SingleChannelConvolution.Forward(x.Data, n, h, w, wt.Data, b.Data, fn, k, k, pad, y, wide, rectify);
                Assert.Equal(reference, y);
            }
            Check.AllClose(exact.Data.Select(v => rectify ? Math.Max(v, 0) : v).ToArray(), reference.Select(v => (double)v).ToArray(), 1e-5 * k + 1e-6, "vs definition");
        }
        // The layer as a first layer (no dx), with and without a fused ReLU, against the book's layer; db the same bits on both widths.
        foreach (bool rectifies in new[] { false, true })
        {
            var book = new Convolution<float>(wt.Clone(), b.Clone(), 1, pad) { Rectifies = rectifies, Engine = null };
            var yBook = book.Forward(x, training: true).Clone();
            var g = new NDArray<float>(yBook.Shape); rng.FillUniform(g.Data, -1, 1);
            book.BackwardParameters(g);
            var layers = new[] { false, true }.Select(wide => new Convolution<float>(wt.Clone(), b.Clone(), 1, pad)
            {
                Rectifies = rectifies, Engine = new() { Algorithm = ConvolutionAlgorithm.ShiftedWindows, Vector512 = wide, ChunkElements = 2 * k * k * h * w, Workers = 2 },
            }).ToArray();
            foreach (var layer in layers)
            {
                Assert.Contains("forward shifted windows (one channel)", layer.Algorithms);
                Check.AllClose(yBook, layer.Forward(x, training: true), 1e-5 * k + 1e-6, "forward vs the book's layer");
                layer.W.Grad.Span.Fill(float.NaN); layer.B.Grad.Span.Fill(float.NaN); // overwritten, not added to
                layer.BackwardParameters(g);
                double tolerance = 1e-5 * Math.Sqrt(n * oh * ow) + 1e-6;
                Check.AllClose(book.W.Grad, layer.W.Grad, tolerance, "dW");
                Check.AllClose(book.B.Grad, layer.B.Grad, tolerance, "db");
            }
            Assert.Equal(layers[0].B.Grad.Data, layers[1].B.Grad.Data);
            // Chunks of one image in slots summed in order: the same bits on one, two and three workers.
            var runs = new[] { 1, 2, 3 }.Select(workers =>
            {
                var layer = new Convolution<float>(wt.Clone(), b.Clone(), 1, pad) { Rectifies = rectifies, Engine = new() { ChunkElements = 1, Workers = workers } };
                layer.Forward(x, training: true);
                layer.BackwardParameters(g);
                return (W: layer.W.Grad.Data.ToArray(), B: layer.B.Grad.Data.ToArray());
            }).ToArray();
            foreach (var run in runs.Skip(1))
            {
                Assert.Equal(runs[0].W, run.W);
                Assert.Equal(runs[0].B, run.B);
            }
        }
    }

    [Theory]
    [InlineData(ConvolutionAlgorithm.Im2Col, 16, 12, 2, 1)]         // stride 2: the column matrix and the GEMM
    [InlineData(ConvolutionAlgorithm.ShiftedWindows, 3, 16, 1, 1)]  // dW by correlating with the padded input
    [InlineData(ConvolutionAlgorithm.Winograd, 40, 32, 1, 1)]       // dW in Winograd's transformed domain
    public void Gradients_are_the_same_bits_on_one_two_and_three_workers(ConvolutionAlgorithm algorithm, int c, int fn, int stride, int pad)
    {
        // Each chunk's partial dW and db in a slot of its own, added in chunk order: which worker ran a chunk, and how
        // many workers there were, cannot change a bit (per-worker sums added in worker order did).
        var rng = new Rng(c * 7 + fn);
        var x = new NDArray<float>(11, c, 9, 9); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(fn, c, 3, 3); rng.FillUniform(wt.Data, -1, 1);
        var b = new NDArray<float>(fn); rng.FillUniform(b.Data, -1, 1);
        NDArray<float>? g = null;
        var runs = new[] { 1, 2, 3 }.Select(workers =>
        {
            var layer = new Convolution<float>(wt.Clone(), b.Clone(), stride, pad)
            {
                Rectifies = true, Engine = new() { Algorithm = algorithm, ChunkElements = c * 9 * 81, WinogradWeightChunkElements = c * 9 * 81, Workers = workers },
            };
            var y = layer.Forward(x, training: true).Clone();
            if (g is null) { g = new NDArray<float>(y.Shape); rng.FillUniform(g.Data, -1, 1); }
            var dx = layer.Backward(g).Clone();
            Assert.Contains(algorithm switch { ConvolutionAlgorithm.Winograd => "dW Winograd", ConvolutionAlgorithm.ShiftedWindows => "dW shifted", _ => "dW im2col" }, layer.Algorithms);
            return (Y: y.Data, Dx: dx.Data, W: layer.W.Grad.Data.ToArray(), B: layer.B.Grad.Data.ToArray());
        }).ToArray();
        foreach (var run in runs.Skip(1))
        {
            Assert.Equal(runs[0].Y, run.Y);
            Assert.Equal(runs[0].Dx, run.Dx);
            Assert.Equal(runs[0].W, run.W);
            Assert.Equal(runs[0].B, run.B);
        }
    }

    [Fact]
    public void Winograd_keeps_a_nan_pixel_to_the_outputs_whose_windows_hold_it()
    {
        // The transforms mix a 4×4 window, but each output's sums use only its own 3×3: a NaN or infinite pixel must
        // spoil exactly the outputs the direct convolution spoils (forward and dx), and no neighbour in the same
        // tile. (Where the direct sum is ±∞ the transform may give NaN instead — ∞ − ∞ — still not finite.)
        var rng = new Rng(5);
        var x = new NDArray<float>(2, 8, 9, 7); rng.FillUniform(x.Data, -1, 1);
        x[1, 3, 4, 3] = float.NaN;
        x[0, 0, 0, 6] = float.PositiveInfinity;
        var wt = new NDArray<float>(8, 8, 3, 3); rng.FillUniform(wt.Data, 0.1f, 1); // no zero weights: 0·∞ would be NaN either way
        var winograd = new Convolution<float>(wt, new NDArray<float>(8), 1, 1);
        var plain = new Convolution<float>(wt, new NDArray<float>(8), 1, 1) { Engine = null };
        var y = winograd.Forward(x, training: true).Clone();
        var expected = plain.Forward(x, training: true);
        for (int i = 0; i < y.Size; i++)
            Assert.True(float.IsFinite(y.Data[i]) == float.IsFinite(expected.Data[i]) && (!float.IsNaN(expected.Data[i]) || float.IsNaN(y.Data[i])),
                $"output {i}: winograd {y.Data[i]}, direct {expected.Data[i]}");
        Assert.Contains(y.Data, float.IsNaN);
        var g = new NDArray<float>(y.Shape); rng.FillUniform(g.Data, -1, 1);
        g[0, 2, 5, 5] = float.NaN;
        var dx = winograd.Backward(g).Clone();
        var dxExpected = plain.Backward(g);
        for (int i = 0; i < dx.Size; i++)
            Assert.True(float.IsFinite(dx.Data[i]) == float.IsFinite(dxExpected.Data[i]) && (!float.IsNaN(dxExpected.Data[i]) || float.IsNaN(dx.Data[i])),
                $"dx {i}: winograd {dx.Data[i]}, direct {dxExpected.Data[i]}");
        Assert.Contains(dx.Data, float.IsNaN);
    }

    [Theory]
    [InlineData(true)]   // +∞ and −∞ in one plane of dout: the plane's sum is NaN
    [InlineData(false)]  // a lone −∞
    public void Winograd4x4_input_gradient_sends_a_chunk_with_an_infinite_output_gradient_to_the_2x2_tiles(bool both)
    {
        // F(4×4)'s dx would spread an infinite value of dout over whole tiles; the chunk holding it must go by F(2×2),
        // which spoils only the values whose windows hold it, as the direct convolution does.
        var rng = new Rng(both ? 71 : 72);
        var x = new NDArray<float>(3, 16, 14, 14); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(16, 16, 3, 3); rng.FillUniform(wt.Data, 0.1f, 1); // no zero weights: 0·∞ would be NaN either way
        var layer = new Convolution<float>(wt, new NDArray<float>(16), 1, 1) { Engine = new() { ChunkElements = 16 * 9 * 14 * 14 } };
        Assert.True(new ConvolutionEngine(16, 16, 3, 3, 1, 1).UsesWinograd4x4(14, 14));
        var plain = new Convolution<float>(wt, new NDArray<float>(16), 1, 1) { Engine = null };
        var y = layer.Forward(x, training: true);
        plain.Forward(x, training: true);
        var g = new NDArray<float>(y.Shape); rng.FillUniform(g.Data, -1, 1);
        g[1, 5, 6, 6] = float.NegativeInfinity;
        if (both) g[1, 5, 2, 9] = float.PositiveInfinity;
        var dx = layer.Backward(g).Clone();
        Assert.Contains("dx Winograd", layer.Algorithms);
        var dxExpected = plain.Backward(g);
        for (int i = 0; i < dx.Size; i++)
            Assert.True(float.IsFinite(dx.Data[i]) == float.IsFinite(dxExpected.Data[i]) && (!float.IsNaN(dxExpected.Data[i]) || float.IsNaN(dx.Data[i])),
                $"dx {i}: winograd {dx.Data[i]}, direct {dxExpected.Data[i]}");
        Assert.Contains(dx.Data, v => !float.IsFinite(v));
    }

    [Fact]
    public void Winograd_kernel_on_few_channels_and_a_large_bias_matches_the_definition()
    {
        // The layer sends fewer than 8 channels elsewhere; the kernel itself must not care. One channel, three
        // filters, a 3×3 input with padding 2 (5×5 out: odd, cropped), and a bias far from the products.
        var rng = new Rng(77);
        var x = new NDArray<float>(2, 1, 3, 3); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(3, 1, 3, 3); rng.FillUniform(wt.Data, -1, 1);
        var b = new NDArray<float>(new float[] { 100f, -3f, 0.25f }, 3);
        float[] u = [];
        WinogradConvolution.TransformFilters(wt.Data, 3, 1, ref u);
        var y = new NDArray<float>(2, 3, 5, 5);
        WinogradConvolution.Forward(x.Data, 2, 1, 3, 3, u, b.Data, 3, 2, y.Data);
        Check.AllClose(NaiveConvolution(x.Cast<double>(), wt.Cast<double>(), b.Cast<double>(), 1, 2), y.Cast<double>(), 1e-4, "y");
        Assert.Throws<ArgumentException>(() => WinogradConvolution.Forward(x.Data, 3, 1, 3, 3, u, b.Data, 3, 2, y.Data)); // 3 images in a 2-image buffer
    }

    [Theory]
    [InlineData(1)]  // one channel
    [InlineData(3)]  // shifted windows
    [InlineData(8)]  // Winograd
    public void Training_keeps_its_own_copy_of_the_input_whatever_the_caller_does_with_it_after_forward(int channels)
    {
        // The engine copies the input chunk by chunk on its workers: every chunk must be kept, before the caller reuses its tensor.
        var rng = new Rng(channels + 50);
        var x = new NDArray<float>(7, channels, 9, 8); rng.FillUniform(x.Data, -1, 1);
        var w = new NDArray<float>(6, channels, 3, 3); rng.FillUniform(w.Data, -1, 1);
        var b = new NDArray<float>(6); rng.FillUniform(b.Data, -1, 1);
        var g = new NDArray<float>(7, 6, 9, 8); rng.FillUniform(g.Data, -1, 1);
        var book = new Convolution<float>(w.Clone(), b.Clone(), 1, 1) { Rectifies = true, Engine = null };
        book.Forward(x, training: true);
        var dx = book.Backward(g);
        var layer = new Convolution<float>(w.Clone(), b.Clone(), 1, 1) { Rectifies = true, Engine = new() { ChunkElements = channels * 9 * 72, Workers = 2 } };
        var input = x.Clone();
        layer.Forward(input, training: true);
        input.Data.AsSpan().Fill(float.NaN); // the caller's buffer, reused for the next batch
        double tolerance = 1e-4;
        Check.AllClose(dx, layer.Backward(g), tolerance, "dx");
        Check.AllClose(book.W.Grad, layer.W.Grad, tolerance, "dW");
        Check.AllClose(book.B.Grad, layer.B.Grad, tolerance, "db");
    }

    [Theory]
    [InlineData(3)] // shifted windows (packed filters)
    [InlineData(8)] // Winograd (transformed filters)
    public void Weights_changed_in_place_between_calls_are_used_by_the_next_forward(int channels)
    {
        // The layer keeps its filters packed or transformed between calls while they do not change; any change must show.
        var rng = new Rng(31);
        var x = new NDArray<float>(2, channels, 9, 9); rng.FillUniform(x.Data, -1, 1);
        var w = new NDArray<float>(5, channels, 3, 3); rng.FillUniform(w.Data, -1, 1);
        var layer = new Convolution<float>(w, new NDArray<float>(5), 1, 1);
        var first = layer.Forward(x, training: false).Clone();
        Assert.Equal(first.Data, layer.Forward(x, training: false).Data);
        foreach (float value in new[] { 0.5f, -0f, float.NaN })
        {
            layer.W.Value.Data[7] = value; // in place, as an optimizer step or a loaded file writes
            var expected = new Convolution<float>(layer.W.Value.Clone(), new NDArray<float>(5), 1, 1) { Engine = null }.Forward(x, training: false);
            var actual = layer.Forward(x, training: false);
            for (int i = 0; i < actual.Size; i++)
                Assert.True(Math.Abs(expected.Data[i] - actual.Data[i]) < 1e-5 || (float.IsNaN(expected.Data[i]) && float.IsNaN(actual.Data[i])), $"{value}: element {i}");
        }
    }

    [Theory]
    [InlineData(1, 2, false)]
    [InlineData(2, 1, false)]
    [InlineData(1, 2, true)]
    [InlineData(2, 0, true)]
    public void Im2col_engine_in_chunks_over_workers_matches_the_books_layer_and_inference_refuses_backward(int stride, int pad, bool rectifies)
    {
        var rng = new Rng(21 + stride * 10 + pad);
        var x = new NDArray<float>(7, 3, 30, 30); rng.FillUniform(x.Data, -1, 1);
        var w = new NDArray<float>(7, 3, 5, 5); rng.FillUniform(w.Data, -1, 1);
        var b = new NDArray<float>(7); rng.FillUniform(b.Data, -1, 1);
        var book = new Convolution<float>(w, b, stride, pad) { Engine = null, Rectifies = rectifies };
        // 67,500 column elements per image at stride 1: chunks of 2 images, the last one ragged, over two workers.
        var chunked = new Convolution<float>(w, b, stride, pad)
        {
            Rectifies = rectifies, Engine = new() { Algorithm = ConvolutionAlgorithm.Im2Col, ChunkElements = 150_000, Workers = 2 },
        };
        Assert.Equal("im2col", book.Algorithms);
        Assert.Equal("forward im2col, dW im2col (im2col without dx), dx im2col", chunked.Algorithms);
        var expected = book.Forward(x, training: true);
        var actual = chunked.Forward(x, training: true);
        Check.AllClose(expected.Cast<double>(), actual.Cast<double>(), 1e-5, "y");
        if (rectifies) Assert.DoesNotContain(actual.Data, v => v < 0);
        var g = new NDArray<float>(expected.Shape); rng.FillUniform(g.Data, -1, 1);
        Check.AllClose(book.Backward(g).Cast<double>(), chunked.Backward(g).Cast<double>(), 1e-4, "dx");
        Check.AllClose(book.W.Grad.Cast<double>(), chunked.W.Grad.Cast<double>(), 1e-3, "dW");
        Check.AllClose(book.B.Grad.Cast<double>(), chunked.B.Grad.Cast<double>(), 1e-3, "db");
        Check.AllClose(expected.Cast<double>(), chunked.Forward(x, training: false).Cast<double>(), 1e-5, "inference");
        var e = Assert.Throws<InvalidOperationException>(() => chunked.Backward(g));
        Assert.Contains("training-mode Forward", e.Message);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 0)]
    public void Fused_relu_convolution_backward_matches_central_differences(int stride, int pad)
    {
        // max(0, conv(x)): the loss is smooth away from outputs at exactly 0, which random inputs do not hit.
        var rng = new Rng(3 + stride);
        var x = Random(rng, 2, 2, 7, 6);
        var layer = new Convolution<double>(Random(rng, 3, 2, 3, 3), Random(rng, 3), stride, pad) { Rectifies = true };
        var y = layer.Forward(x, true).Clone();
        Assert.Contains(y.Data, v => v == 0);
        Assert.Contains(y.Data, v => v > 0);
        CheckBackwardNumerically(layer, x, Random(rng, y.Shape));
    }

    [Theory]
    [InlineData(2, 3, 7, 6, 3, 3, 1, 1)]
    [InlineData(3, 2, 9, 8, 5, 5, 2, 2)]
    [InlineData(1, 2, 7, 5, 2, 3, 2, 1)]
    [InlineData(2, 1, 5, 5, 3, 3, 3, 0)]
    [InlineData(1, 1, 4, 4, 3, 3, 1, 3)]    // padding wider than the image reaches: whole rows of zeros
    [InlineData(40, 3, 16, 16, 3, 3, 1, 1)] // large enough to split the images over threads
    public void Channel_major_im2col_is_the_books_transposed_and_col2im_its_adjoint(int n, int c, int h, int w, int kh, int kw, int stride, int pad)
    {
        var rng = new Rng(n * 7 + h);
        var x = Random(rng, n, c, h, w).Data;
        int oh = ConvShape.OutputSize(h, kh, stride, pad), ow = ConvShape.OutputSize(w, kw, stride, pad);
        int rows = n * oh * ow, k = c * kh * kw;
        var col = new double[rows * k];
        Im2Col.Forward<double>(x, n, c, h, w, kh, kw, stride, pad, col);
        var colT = new double[rows * k];
        colT.AsSpan().Fill(double.NaN); // every element must be written
        Im2ColChannelMajor.Forward<double>(x, n, c, h, w, kh, kw, stride, pad, colT);
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < k; q++)
                Assert.Equal(col[r * k + q], colT[q * rows + r]);

        var dcolT = Random(rng, k, rows).Data;
        var dcol = new double[rows * k];
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < k; q++) dcol[r * k + q] = dcolT[q * rows + r];
        var expected = new double[x.Length]; var actual = new double[x.Length];
        actual.AsSpan().Fill(double.NaN); // overwritten, not accumulated into
        Im2Col.Backward<double>(dcol, n, c, h, w, kh, kw, stride, pad, expected);
        Im2ColChannelMajor.Backward<double>(dcolT, n, c, h, w, kh, kw, stride, pad, actual);
        for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i], actual[i], tolerance: 1e-12); // summation order differs
    }

    [Fact]
    public void Books_ch07_gradient_check_conv_pool_flatten_affine()
    {
        // The book's gradient_check for SimpleConvNet: input 1×1×10×10, 10 filters 3×3, hidden 10, output 10.
        var rng = new Rng(7);
        var net = new Models.Sequential<double>([1, 10, 10],
        [
            new Convolution<double>(Init.Normal<double>(0.3, rng, 10, 1, 3, 3), new NDArray<double>(10)),
            new Relu<double>(),
            new MaxPooling<double>(2, 2, 2),
            new Flatten<double>(),
            new Affine<double>(10 * 4 * 4, 10, 0.3, rng),
            new Relu<double>(),
            new Affine<double>(10, 10, 0.3, rng),
        ]);
        var x = new NDArray<double>(1, 1, 10, 10);
        for (int i = 0; i < x.Size; i++) x.Data[i] = rng.NextDouble();
        var diffs = Models.GradientCheck.Run(net, x, [1]);
        Assert.Equal(["conv1.W", "conv1.b", "affine1.W", "affine1.b", "affine2.W", "affine2.b"], diffs.Select(d => d.Name));
        Assert.All(diffs, d => Assert.True(d.MeanAbsDiff <= 1e-9, $"{d.Name}: {d.MeanAbsDiff:E2}"));
    }

    [Fact]
    public void Flatten_is_a_view_both_ways()
    {
        var x = Random(new Rng(1), 2, 3, 4, 5);
        var flatten = new Flatten<double>();
        var y = flatten.Forward(x, true);
        Assert.Equal([2, 60], y.Shape);
        Assert.Same(x.Data, y.Data);
        var dx = flatten.Backward(y);
        Assert.Equal([2, 3, 4, 5], dx.Shape);
        Assert.Throws<ArgumentException>(() => flatten.Backward(new NDArray<double>(2, 59)));
    }

    [Fact]
    public void Im2col_layout_is_the_books()
    {
        // x (1, 1, 3, 3) = 1..9, 2×2 windows, stride 1: rows (y, x) of windows, columns (ky, kx).
        var x = Enumerable.Range(1, 9).Select(v => (double)v).ToArray();
        var col = new double[4 * 4];
        Im2Col.Forward<double>(x, 1, 1, 3, 3, 2, 2, 1, 0, col);
        Assert.Equal(new double[] { 1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9 }, col);
        var back = new double[9];
        Im2Col.Backward<double>(col, 1, 1, 3, 3, 2, 2, 1, 0, back);
        Assert.Equal(new double[] { 1, 4, 3, 8, 20, 12, 7, 16, 9 }, back); // each pixel times the windows covering it
    }

    [Fact]
    public void MaxPooling_backward_matches_central_differences_and_padding_is_never_chosen()
    {
        var rng = new Rng(9);
        var x = Random(rng, 2, 3, 7, 6);
        foreach (var (k, s, p) in new[] { (2, 2, 0), (3, 2, 1), (2, 1, 0) })
        {
            var layer = new MaxPooling<double>(k, k, s, p);
            var y = layer.Forward(x, true).Clone();
            var g = Random(rng, y.Shape);
            var dx = layer.Backward(g).Clone();
            double Loss(NDArray<double> _) { var o = layer.Forward(x, true); double t = 0; for (int i = 0; i < g.Size; i++) t += g.Data[i] * o.Data[i]; return t; }
            Check.AllClose(NumericalDiff.Gradient(Loss, x), dx, 1e-7, $"pool {k}/{s}/{p} dx");
        }
        var negative = NDArray<double>.Full(-5.0, 1, 1, 2, 2);
        var padded = new MaxPooling<double>(2, 2, 2, 1).Forward(negative, false);
        Assert.All(padded.ToDoubleArray(), v => Assert.Equal(-5.0, v)); // the book's zero padding would give 0 here
    }

    [Theory]
    [InlineData(2, 2, 0)] // the unrolled 2×2 path
    [InlineData(3, 3, 1)] // the general path, with padding
    public void MaxPooling_propagates_NaN_and_breaks_ties_to_the_first(int pool, int stride, int pad)
    {
        var x = NDArray<double>.Full(1.0, 1, 1, 6, 6); // all ties: the first position of each window wins
        x[0, 0, 1, 1] = double.NaN;
        var layer = new MaxPooling<double>(pool, pool, stride, pad);
        var y = layer.Forward(x, training: true);
        Assert.True(double.IsNaN(y[0, 0, 0, 0]), "a NaN in the window must come out");
        Assert.Equal(1.0, y[0, 0, y.Shape[2] - 1, y.Shape[3] - 1]);
        var dx = layer.Backward(NDArray<double>.Full(1.0, y.Shape));
        Assert.Equal(1.0, dx[0, 0, 1, 1]); // the NaN's position took the first window's gradient
        int firstOfLast = (y.Shape[2] - 1) * stride - pad;
        Assert.Equal(1.0, dx[0, 0, firstOfLast, firstOfLast]);
    }

    [Theory]
    [InlineData(28, 28)]
    [InlineData(14, 14)]
    [InlineData(8, 8)]
    [InlineData(7, 9)]
    [InlineData(2, 34)]
    [InlineData(5, 17)]
    public void Vectorised_2x2_pooling_picks_the_same_maxima_and_positions_as_the_plain_loop(int h, int w)
    {
        // float32 takes the eight-windows-at-a-time path; float64 the plain loop. Ties (ReLU zeros), NaN and ±∞ included.
        var rng = new Rng(h * 100 + w);
        var x = new NDArray<float>(2, 3, h, w);
        for (int i = 0; i < x.Size; i++)
        {
            double u = rng.NextDouble();
            x.Data[i] = u < 0.4 ? 0f : u < 0.43 ? float.NaN : u < 0.45 ? float.NegativeInfinity : u < 0.47 ? float.PositiveInfinity : (float)rng.NextGaussian();
        }
        var fast = new MaxPooling<float>(2, 2, 2);
        var plain = new MaxPooling<double>(2, 2, 2);
        var y = fast.Forward(x, training: true);
        var expected = plain.Forward(x.Cast<double>(), training: true);
        Assert.Equal(expected.Shape, y.Shape);
        for (int i = 0; i < y.Size; i++)
            Assert.True(expected.Data[i].Equals((double)y.Data[i]), $"output {i}: {y.Data[i]} vs {expected.Data[i]}");
        var dout = new NDArray<float>(y.Shape);
        for (int i = 0; i < dout.Size; i++) dout.Data[i] = i + 1; // each output's gradient names it: dx shows which input won
        Assert.Equal(plain.Backward(dout.Cast<double>()).Data.Take(x.Size), fast.Backward(dout).Data.Take(x.Size).Select(v => (double)v));
    }

    [Theory]
    [InlineData(64, 7, 7)]    // DeepConvNet's last pooling: three windows a row, each row's vector spilling into the next two
    [InlineData(32, 14, 14)]  // seven windows a row
    [InlineData(48, 5, 11)]   // odd both ways: a dropped row and column per plane
    [InlineData(16, 28, 28)]  // DeepConvNet's first pooling: 14 windows a row, eight, four and two (backward too)
    [InlineData(24, 9, 35)]   // two vectors and one alone per row, odd both ways
    [InlineData(24, 10, 27)]  // 13 windows a row: eight, four and one
    public void Vectorised_2x2_pooling_split_over_two_threads_picks_the_plain_loops_maxima_and_positions(int c, int h, int w)
    {
        // Big enough for the planes to be split over two threads: rows shorter than a vector store their spare lanes
        // over the next row's outputs, which must never reach the other thread's range nor stay unwritten at its end.
        var rng = new Rng(c + h * 100 + w);
        var x = new NDArray<float>(100, c, h, w);
        for (int i = 0; i < x.Size; i++)
        {
            double u = rng.NextDouble();
            x.Data[i] = u < 0.4 ? 0f : u < 0.42 ? float.NaN : u < 0.44 ? float.NegativeInfinity : (float)rng.NextGaussian();
        }
        Assert.True(x.Size >= ZeroDL.Kernels.ParallelRanges.MinimumElements);
        var plain = new MaxPooling<double>(2, 2, 2);
        var expected = plain.Forward(x.Cast<double>(), training: true);
        var dout = new NDArray<float>(expected.Shape);
        // Each output's gradient names it (exact in float32); some are −0, which the routing adds to 0: +0 in dx.
        for (int i = 0; i < dout.Size; i++) dout.Data[i] = i % 7 == 0 ? -0f : i % 1000 + 1;
        var expectedDx = plain.Backward(dout.Cast<double>()).Data.Take(x.Size).Select(BitConverter.DoubleToInt64Bits).ToArray();
        using var limit = ZeroDL.Kernels.Gemm.LimitThreadsOnThisThread(2);
        var fast = new MaxPooling<float>(2, 2, 2);
        var y = fast.Forward(x, training: true);
        for (int i = 0; i < y.Size; i++)
            Assert.True(expected.Data[i].Equals((double)y.Data[i]), $"output {i}: {y.Data[i]} vs {expected.Data[i]}");
        Assert.Equal(expectedDx, fast.Backward(dout).Data.Take(x.Size).Select(v => BitConverter.DoubleToInt64Bits(v)));
    }

    [Fact]
    public void Relu_and_pooling_split_over_two_threads_match_one_thread_exactly()
    {
        // A batch big enough (≥ 2^17 elements) for the memory-bound passes to be split over the cores, with an odd
        // element count so that the split's last range is ragged; overlapping pooling windows (3×3, stride 2)
        // make the routed gradients add up within a plane.
        var rng = new Rng(31);
        var x = new NDArray<float>(7, 5, 61, 67);
        rng.FillUniform(x.Data, -1, 1);
        var dout = new NDArray<float>(x.Shape); rng.FillUniform(dout.Data, -1, 1);
        (float[] Y, float[] Dx, float[] PoolY, float[] PoolDx) Run(int threads)
        {
            using var limit = ZeroDL.Kernels.Gemm.LimitThreadsOnThisThread(threads); // this thread only: tests run side by side
            var relu = new Relu<float>();
            var y = relu.Forward(x, training: true).Data.Take(x.Size).ToArray();
            var dx = relu.Backward(dout).Data.Take(x.Size).ToArray();
            var pool = new MaxPooling<float>(3, 3, 2, 1);
            var py = pool.Forward(x, training: true);
            var pdout = new NDArray<float>(py.Shape); new Rng(77).FillUniform(pdout.Data, -1, 1);
            return (y, dx, py.Data.Take(py.Size).ToArray(), pool.Backward(pdout).Data.Take(x.Size).ToArray());
        }
        var one = Run(1);
        var two = Run(2);
        Assert.True(x.Size >= ZeroDL.Kernels.ParallelRanges.MinimumElements);
        Assert.Equal(one.Y, two.Y);
        Assert.Equal(one.Dx, two.Dx);
        Assert.Equal(one.PoolY, two.PoolY);
        Assert.Equal(one.PoolDx, two.PoolDx);
        Assert.Equal(x.Data.Take(x.Size).Select(v => Math.Max(v, 0f)), one.Y);
        Assert.Contains(one.PoolDx, v => v != 0f);
    }

    [Fact]
    public void Bad_shapes_are_refused_with_both_shapes()
    {
        var conv = new Convolution<float>(new NDArray<float>(4, 3, 3, 3), new NDArray<float>(4));
        var e = Assert.Throws<ArgumentException>(() => conv.Forward(new NDArray<float>(1, 2, 8, 8), false));
        Assert.Contains("(1, 2, 8, 8)", e.Message); Assert.Contains("(4, 3, 3, 3)", e.Message);
        Assert.Throws<ArgumentException>(() => conv.Forward(new NDArray<float>(1, 3, 2, 2), false));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPooling<float>(2, 2, 2, 2));
    }

    private static Dictionary<string, NpyArray> Case(string name) => Npy.ReadNpz(Path.Combine(TestPaths.TorchParity, name + ".npz"));

    [Theory]
    [InlineData("conv_0", 1, 0)]
    [InlineData("conv_1", 1, 1)]
    [InlineData("conv_2", 2, 2)]
    [InlineData("conv_3", 1, 2)]
    [InlineData("conv_4", 2, 1)]
    public void Convolution_matches_torch(string name, int stride, int pad)
    {
        var c = Case(name);
        var layer = new Convolution<double>(c["W"].ToNDArray<double>(), c["b"].ToNDArray<double>(), stride, pad);
        Check.AllClose(c["y"].ToNDArray<double>(), layer.Forward(c["x"].ToNDArray<double>(), true), 1e-10, "y");
        Check.AllClose(c["dx"].ToNDArray<double>(), layer.Backward(c["dout"].ToNDArray<double>()), 1e-10, "dx");
        Check.AllClose(c["dW"].ToNDArray<double>(), layer.W.Grad, 1e-10, "dW");
        Check.AllClose(c["db"].ToNDArray<double>(), layer.B.Grad, 1e-10, "db");
    }

    [Theory]
    [InlineData("maxpool_0", 2, 2, 0)]
    [InlineData("maxpool_1", 3, 2, 1)]
    [InlineData("maxpool_2", 2, 1, 0)]
    public void MaxPooling_matches_torch(string name, int kernel, int stride, int pad)
    {
        var c = Case(name);
        var layer = new MaxPooling<double>(kernel, kernel, stride, pad);
        Check.AllClose(c["y"].ToNDArray<double>(), layer.Forward(c["x"].ToNDArray<double>(), true), 1e-12, "y");
        Check.AllClose(c["dx"].ToNDArray<double>(), layer.Backward(c["dout"].ToNDArray<double>()), 1e-12, "dx");
    }

    /// <summary>
    /// The layer's backward pass for the upstream gradient <paramref name="g"/> against central differences of
    /// Σ g·forward(x), for x, W and b.
    /// </summary>
    private static void CheckBackwardNumerically(Convolution<double> layer, NDArray<double> x, NDArray<double> g)
    {
        layer.Forward(x, true);
        var dx = layer.Backward(g).Clone();
        var dW = layer.W.Grad.Clone(); var db = layer.B.Grad.Clone();
        double Loss(NDArray<double> _)
        {
            var out1 = layer.Forward(x, true);
            double s = 0;
            for (int i = 0; i < g.Size; i++) s += g.Data[i] * out1.Data[i];
            return s;
        }
        Check.AllClose(NumericalDiff.Gradient(Loss, x), dx, 1e-7, "dx");
        Check.AllClose(NumericalDiff.Gradient(Loss, layer.W.Value), dW, 1e-7, "dW");
        Check.AllClose(NumericalDiff.Gradient(Loss, layer.B.Value), db, 1e-7, "db");
    }
}
