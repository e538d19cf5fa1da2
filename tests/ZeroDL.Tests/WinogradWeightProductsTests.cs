using ZeroDL.Kernels;
using ZeroDL.Layers;

namespace ZeroDL.Tests;

/// <summary>
/// The Winograd weight gradient's products by 8 × 3 tiles give the bits of the 4 × 3 tiles (each sum the same chain
/// of multiply-adds, fold and horizontal sum), on both vector widths, whatever the ISA (on AVX2 alone the 512-bit
/// vectors are software ones, and the 24 accumulators spill: slower, the same bits).
/// </summary>
public unsafe class WinogradWeightProductsTests
{
    [Theory]
    [InlineData(64, 32, 400)]  // DeepConvNet's conv5 chunk: whole 8 × 3 tiles, a last group of 2 channels
    [InlineData(64, 64, 208)]  // conv6: 13 vectors of 16, a last group of 1 channel
    [InlineData(16, 16, 448)]  // conv2 by F(4×4)
    [InlineData(12, 5, 24)]    // 8 filters, then a panel of 4; a 512-bit step and a last 8
    [InlineData(30, 35, 40)]   // ragged: 3 tiles of 8, then 6 filters in panels of 4 (2 zero rows)
    [InlineData(4, 3, 8)]      // no 8 × 3 tile at all
    [InlineData(8, 1, 8)]      // one channel, repeated twice in its group
    public void Eight_by_three_tiles_give_the_bits_of_the_four_by_three_tiles(int filters, int c, int length)
    {
        int rows = WinogradConvolution.PaddedFilters(filters);
        var rng = new Random(filters * 1000 + c * 10 + length);
        // dM and V with a gap after each row, as the engine's blocks have, so that a wrong stride shows.
        long ld = length + 16;
        var dm = new float[rows * ld]; var v = new float[c * ld];
        for (int f = 0; f < filters; f++) for (int j = 0; j < length; j++) dm[f * ld + j] = (float)(rng.NextDouble() - 0.5) * (j % 7 == 0 ? 1e3f : 1f);
        for (int ch = 0; ch < c; ch++) for (int j = 0; j < length; j++) v[ch * ld + j] = (float)(rng.NextDouble() - 0.5) * (j % 5 == 0 ? 1e-3f : 1f);
        float* sums = stackalloc float[24];
        foreach (bool wide in new[] { false, true })
        {
            var start = new float[filters * c]; for (int i = 0; i < start.Length; i++) start[i] = (float)rng.NextDouble();
            var expected = (float[])start.Clone(); var actual = (float[])start.Clone();
            fixed (float* pm = dm) fixed (float* pv = v) fixed (float* pe = expected) fixed (float* pa = actual)
            {
                WinogradWeightProducts.AddByFourByThree(length, pm, pv, ld, filters, c, pe, sums, wide);
                WinogradWeightProducts.Add(length, pm, pv, ld, filters, c, pa, sums, wide, eight: true);
            }
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
            Assert.NotEqual(start, actual);
        }
    }

    [Theory]
    [InlineData(5, 32, 8, 8, 64, 1)]    // DeepConvNet's conv5: dW by F(2×2)
    [InlineData(3, 16, 14, 14, 32, 1)]  // conv3: dW by F(4×4)
    [InlineData(2, 35, 6, 7, 30, 1)]    // ragged filters and channel groups
    public void Layer_weight_gradient_has_the_same_bits_by_either_tile(int n, int c, int h, int w, int fn, int pad)
    {
        var rng = new Rng(n * 31 + c * 7 + fn);
        var x = new NDArray<float>(n, c, h, w); rng.FillUniform(x.Data, -1, 1);
        var wt = new NDArray<float>(fn, c, 3, 3); rng.FillUniform(wt.Data, -1, 1);
        foreach (bool wide in new[] { false, true })
        {
            var layers = new[] { false, true }.Select(eight => new Convolution<float>(wt.Clone(), new NDArray<float>(fn), 1, pad)
            {
                Engine = new() { Algorithm = ConvolutionAlgorithm.Winograd, Vector512 = wide, EightFilterWeightTiles = eight, Workers = 2 },
            }).ToArray();
            Assert.Contains("dW Winograd", layers[1].Algorithms);
            var y = layers[0].Forward(x, training: true);
            layers[1].Forward(x, training: true);
            var g = new NDArray<float>(y.Shape); rng.FillUniform(g.Data, -1, 1);
            foreach (var layer in layers) layer.Backward(g);
            Assert.Equal(layers[0].W.Grad.Data.Select(BitConverter.SingleToInt32Bits), layers[1].W.Grad.Data.Select(BitConverter.SingleToInt32Bits));
        }
    }
}
