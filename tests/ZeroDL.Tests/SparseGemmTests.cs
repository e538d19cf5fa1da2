using ZeroDL.Kernels;
using ZeroDL.Layers;

namespace ZeroDL.Tests;

public class SparseGemmTests
{
    private static float[] SparseRandom(Random rng, int count, double density)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++) a[i] = rng.NextDouble() < density ? (float)(rng.NextDouble() * 2 - 1) : 0f;
        return a;
    }

    [Theory]
    [InlineData(1, 1, 1, 0.5)]
    [InlineData(3, 7, 5, 0.3)]
    [InlineData(100, 50, 784, 0.19)]
    [InlineData(17, 64, 33, 0.2)]
    [InlineData(9, 65, 40, 0.2)]
    [InlineData(20, 130, 17, 0.1)]
    [InlineData(5, 13, 100, 0.0)]
    [InlineData(31, 8, 11, 1.0)]
    public void Matches_reference_for_both_layouts_and_accumulate(int m, int n, int k, double density)
    {
        var rng = new Random(m + 31 * n + 7 * k);
        foreach (bool transA in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
            {
                var a = SparseRandom(rng, m * k, density);
                var b = SparseRandom(rng, k * n, 1.0);
                var c = SparseRandom(rng, m * n, 1.0);
                var expected = (float[])c.Clone();
                int lda = transA ? m : k;
                SparseGemm.Multiply(transA, m, n, k, a, lda, b, n, c, n, accumulate);
                GemmReference.Multiply<float>(transA, false, m, n, k, a, lda, b, n, expected, n, accumulate);
                Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * Math.Max(1, k),
                    $"m={m} n={n} k={k} transA={transA} accumulate={accumulate}");
            }
    }

    [Theory]
    [InlineData(100, 50, 784, 50, 50)]   // the first layer's weight gradient: C rows end inside a vector
    [InlineData(7, 8, 30, 8, 8)]
    [InlineData(13, 130, 21, 131, 140)]  // several 64-column chunks, the last ragged; strided B and C
    [InlineData(4, 3, 9, 5, 3)]
    [InlineData(6, 60, 17, 61, 64)]      // the last of 8 vectors ragged, C wider than the product
    [InlineData(0, 5, 6, 5, 5)]          // no rows: C is cleared (or kept when accumulating)
    public void Scattered_transpose_product_matches_reference_and_leaves_the_rest_of_C_alone(int rows, int n, int columns, int ldb, int ldc)
    {
        var rng = new Random(rows * 7 + n);
        foreach (bool accumulate in new[] { false, true })
        {
            var a = SparseRandom(rng, rows * columns, 0.2);
            var b = SparseRandom(rng, Math.Max(rows, 1) * ldb, 1.0);
            var c = SparseRandom(rng, columns * ldc, 1.0);
            var expected = (float[])c.Clone();
            var sparse = new SparseMatrix();
            sparse.CompressRows(a, rows, columns, columns);
            sparse.MultiplyTransposed(b, n, ldb, c, ldc, accumulate);
            // C (columns×n) = Aᵀ·B with A rows×columns.
            GemmReference.Multiply<float>(true, false, columns, n, rows, a, columns, b, ldb, expected, ldc, accumulate);
            for (int r = 0; r < columns; r++)
                for (int j = n; j < ldc; j++) Assert.Equal(expected[r * ldc + j], c[r * ldc + j]); // outside the product: untouched
            Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * Math.Max(1, rows),
                $"rows={rows} n={n} columns={columns} accumulate={accumulate}");
        }
    }

    [Fact]
    public void Strided_b_and_c_and_two_threads()
    {
        var rng = new Random(11);
        int m = 300, n = 45, k = 200, ldb = 50, ldc = 60;
        var a = SparseRandom(rng, m * k, 0.2);
        var b = SparseRandom(rng, k * ldb, 1.0);
        var c = new float[m * ldc]; var expected = new float[m * ldc];
        SparseGemm.Multiply(false, m, n, k, a, k, b, ldb, c, ldc, options: new GemmOptions { Threads = 2, ParallelThreshold = 0 });
        GemmReference.Multiply<float>(false, false, m, n, k, a, k, b, ldb, expected, ldc);
        Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-4, "strided");
    }

    [Fact]
    public void Density_counts_non_zeros()
    {
        Assert.Equal(0.25, SparseGemm.Density([0f, 1f, 0f, 0f, 0f, 0f, 2f, 0f, 0f, 0f, 0f, 3f]));
        Assert.Equal(0.0, SparseGemm.Density([]));
    }

    [Fact]
    public void Affine_gives_the_same_result_with_and_without_the_sparse_path()
    {
        var rng = new Random(4);
        var x = new NDArray<float>(SparseRandom(rng, 64 * 100, 0.15), 64, 100);
        var dout = new NDArray<float>(SparseRandom(rng, 64 * 30, 1.0), 64, 30);
        var sparse = new Affine<float>(100, 30, 0.1, new Rng(1));
        var dense = new Affine<float>(100, 30, 0.1, new Rng(1)) { UseSparseInput = false };
        Check.AllClose(dense.Forward(x, true).Clone(), sparse.Forward(x, true), 1e-5, "y");
        Check.AllClose(dense.Backward(dout).Clone(), sparse.Backward(dout), 1e-5, "dx");
        Check.AllClose(dense.W.Grad, sparse.W.Grad, 1e-5, "dW");
        // Alternating dense and sparse inputs on the same layer: each pass takes the right path.
        var denseInput = new NDArray<float>(SparseRandom(rng, 64 * 100, 1.0), 64, 100);
        foreach (var input in new[] { denseInput, x, denseInput, x })
        {
            Check.AllClose(dense.Forward(input, true).Clone(), sparse.Forward(input, true), 1e-5, "y");
            Check.AllClose(dense.Backward(dout).Clone(), sparse.Backward(dout), 1e-5, "dx");
            Check.AllClose(dense.W.Grad, sparse.W.Grad, 1e-5, "dW");
        }
    }
}

public class SparseCompressionTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(7, 33)]
    [InlineData(10, 784)]
    [InlineData(4, 64)]
    public void Compressing_bytes_gives_the_matrix_of_their_floats(int rows, int columns)
    {
        var rng = new Random(rows * 100 + columns);
        var bytes = new byte[rows * columns];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = rng.NextDouble() < 0.3 ? (byte)rng.Next(1, 256) : (byte)0;
        const float scale = 1f / 255f;
        var floats = bytes.Select(b => b * scale).ToArray();
        var expected = new SparseMatrix(); expected.CompressRows(floats, rows, columns, columns);
        var actual = new SparseMatrix(); actual.CompressBytes(bytes, rows, columns, scale);
        Assert.Equal(expected.NonZeros, actual.NonZeros);
        Assert.Equal(expected.Start.ToArray(), actual.Start.ToArray());
        Assert.Equal(expected.Index.ToArray(), actual.Index.ToArray());
        Assert.Equal(expected.Value.ToArray(), actual.Value.ToArray());
        Assert.Throws<ArgumentException>(() => actual.CompressBytes(bytes, rows + 1, columns, scale));
    }

    [Theory]
    [InlineData(784)]
    [InlineData(100)]
    [InlineData(70)]
    public void Rows_with_empty_runs_compress_to_exactly_their_non_zeros(int columns)
    {
        // Image-like rows: long zero margins, a block of ink, -0.0 (counted as zero) and lone values near the ends.
        var rng = new Random(columns);
        const int rows = 6;
        var bytes = new byte[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            int from = rng.Next(columns / 2), to = Math.Min(columns, from + rng.Next(1, 40));
            for (int j = from; j < to; j++) bytes[r * columns + j] = (byte)rng.Next(0, 256);
            bytes[r * columns + columns - 1] = (byte)(r % 2 == 0 ? 7 : 0);
        }
        const float scale = 1f / 255f;
        var floats = bytes.Select(b => b * scale).ToArray(); // as pixels are converted
        floats[3] = -0f;
        var expectedIndex = new List<int>(); var expectedValue = new List<float>(); var expectedStart = new List<int> { 0 };
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < columns; j++)
                if (floats[r * columns + j] != 0f) { expectedIndex.Add(j); expectedValue.Add(floats[r * columns + j]); }
            expectedStart.Add(expectedIndex.Count);
        }
        var fromFloats = new SparseMatrix(); fromFloats.CompressRows(floats, rows, columns, columns);
        var fromBytes = new SparseMatrix(); fromBytes.CompressBytes(bytes, rows, columns, scale);
        foreach (var m in new[] { fromFloats, fromBytes })
        {
            Assert.Equal(expectedStart, m.Start.ToArray());
            Assert.Equal(expectedIndex, m.Index.ToArray());
            Assert.Equal(expectedValue, m.Value.ToArray());
        }
    }

    [Fact]
    public void Evaluation_from_compressed_bytes_predicts_what_the_network_predicts_on_floats()
    {
        var test = mnist.Data.Test.Take(2500);
        var net = ZeroDL.Models.Networks.TwoLayerNet<float>(784, 50, 10, seed: 3);
        var fast = ZeroDL.Training.Evaluation.PredictLabels(net, test, batchSize: 1000);  // from the stored bytes
        var plain = net.PredictLabels(test.Images, batchSize: 1000);                       // from the float images
        Assert.Equal(plain, fast);
        Assert.True(test.TryCompressImages(0, 10, new SparseMatrix()));
        var copy = new ZeroDL.Data.Dataset(test.Images, test.Labels.ToArray(), 10);                  // no stored bytes
        Assert.False(copy.TryCompressImages(0, 10, new SparseMatrix()));
        Assert.Equal(plain, ZeroDL.Training.Evaluation.PredictLabels(net, copy, batchSize: 1000));
    }
    [Theory]
    [InlineData(1, 784)]
    [InlineData(9, 37)]
    [InlineData(25, 64)]
    public void Compressing_listed_rows_equals_compressing_them_gathered(int rows, int columns)
    {
        var rng = new Random(rows + columns);
        const int stored = 40;
        var bytes = new byte[stored * columns];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = rng.NextDouble() < 0.25 ? (byte)rng.Next(1, 256) : (byte)0;
        var pick = Enumerable.Range(0, rows).Select(_ => rng.Next(stored)).ToArray();
        pick[0] = stored - 1; // the last stored row, and (for rows > 1) repeats are allowed
        var gathered = pick.SelectMany(r => bytes.Skip(r * columns).Take(columns)).ToArray();
        const float scale = 1f / 255f;
        var expected = new SparseMatrix(); expected.CompressBytes(gathered, rows, columns, scale);
        var actual = new SparseMatrix(); actual.CompressByteRows(bytes, pick, columns, scale);
        Assert.Equal((rows, columns), (actual.Rows, actual.Columns));
        Assert.Equal(expected.Start.ToArray(), actual.Start.ToArray());
        Assert.Equal(expected.Index.ToArray(), actual.Index.ToArray());
        Assert.Equal(expected.Value.ToArray(), actual.Value.ToArray());
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => actual.CompressByteRows(bytes, [0, stored], columns, scale));
        Assert.Contains($"row {stored} outside {stored} rows", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => actual.CompressByteRows(bytes, [-1], columns, scale));
    }

    [Fact]
    public void A_dataset_compresses_a_gathered_batch_as_the_layer_would_compress_its_floats()
    {
        var train = mnist.Data.Train;
        int[] indices = [59999, 0, 17, 17, 31415];
        var compressed = new SparseMatrix();
        Assert.True(train.TryCompressImages(indices, compressed));
        var floats = train.GatherImages(indices, null);
        var expected = new SparseMatrix(); expected.CompressRows(floats.ReadOnlySpan, indices.Length, 784, 784);
        Assert.Equal(expected.Start.ToArray(), compressed.Start.ToArray());
        Assert.Equal(expected.Index.ToArray(), compressed.Index.ToArray());
        Assert.Equal(expected.Value.ToArray(), compressed.Value.ToArray());
        Assert.Throws<IndexOutOfRangeException>(() => train.TryCompressImages([60000], compressed));
        Assert.False(new ZeroDL.Data.Dataset(floats, [0, 1, 2, 3, 4]).TryCompressImages([0], compressed)); // no stored bytes
        Assert.InRange(train.Density, 0.18, 0.20); // MNIST: about 19 % of the pixels are ink
        Assert.Equal(0.4, new ZeroDL.Data.Dataset(new NDArray<float>([0f, 1f, 0f, 2f, 0f], 1, 5), [0]).Density, 12);
    }
}
