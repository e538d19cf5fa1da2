using ZeroDL.Kernels;

namespace ZeroDL.Tests;

/// <summary>
/// The float32 GEMM decides its path in one place (<see cref="GemmPlan"/>): the plan for a shape, a kernel and a
/// thread count is checked in words, and executing it is checked against the naive reference.
/// </summary>
public class GemmPlanTests
{
    public static TheoryData<int, int, int, bool, bool, GemmKernel, int, string> Plans => new()
    {
        // The dense layer's forward product on the AVX2 kernel: A read in place, its 2 last columns apart, even rows.
        { 100, 784, 50, false, false, GemmKernel.Avx2, 2, "100×784×50 → avx2 6x16, A read in place, K blocks of 392, 2 narrow columns, 2 threads: rows 50+50" },
        // The same on AVX-512: A read in place too, in the packed kernel's K blocks; rows in multiples of 4 (4 tiles and
        // 4 rows for the 4-row kernel, and 4 tiles).
        { 100, 784, 50, false, false, GemmKernel.Avx512, 2, "100×784×50 → avx512 12x32, A read in place, K blocks of 200, 2 threads: rows 52+48" },
        // A transposed A read in place on AVX-512, a row of A a step; deep, so each K block asks for the next's rows.
        { 288, 25600, 32, true, false, GemmKernel.Avx512, 2, "288×25600×32 Aᵀ → avx512 12x32, A read in place (next rows prefetched), K blocks of 256, 2 threads: shared B, rows 144+144" },
        // deepconv's affine1 on AVX-512: A's rows 1024 floats apart, read six at a time.
        { 100, 1024, 50, false, false, GemmKernel.Avx512, 2, "100×1024×50 → avx512 12x32, A read in place, 6 rows at a time (rows a multiple of 4 KB apart), K blocks of 256, 2 threads: rows 52+48" },
        // Wider than the in-place limit: packed.
        { 100, 3072, 512, false, false, GemmKernel.Avx512, 2, "100×3072×512 → avx512 12x32, K blocks of 256, 2 threads: column slabs 256+256" },
        // Few rows, whole panels that split evenly: a slab of panels each, the 4 narrow columns shared by rows.
        { 100, 4320, 100, false, false, GemmKernel.Avx2, 2, "100×4320×100 → avx2 6x16, A read in place, K blocks of 544, 4 narrow columns, 2 threads: column slabs 48+52 (narrow columns shared by rows)" },
        // The same on AVX-512: slabs of whole 16-column half panels (a 32-column panel and a half panel each), the
        // panel across their boundary split by rows instead (4 tiles, and 4 tiles and 4 rows).
        { 100, 4320, 100, false, false, GemmKernel.Avx512, 2, "100×4320×100 → avx512 12x32, A read in place, K blocks of 256, 4 narrow columns, 2 threads: column slabs 48+52 (narrow columns shared by rows), the panel between them split by rows 48+52" },
        // Wider slabs keep their half panels.
        { 100, 600, 432, false, false, GemmKernel.Avx512, 2, "100×600×432 → avx512 12x32, K blocks of 200, 2 threads: column slabs 208+224" },
        // Its dx on AVX-512 (B stored transposed, 367 half panels): the last slab takes the rest.
        { 100, 100, 5880, false, true, GemmKernel.Avx512, 2, "100×100×5880 Bᵀ → avx512 12x32, 2 threads: column slabs 736+736+736+736+736+736+736+728 (slabs taken in turn by whichever thread is free)" },
        // AVX2, 367 panels: the last slab takes the rest.
        { 100, 100, 5880, false, true, GemmKernel.Avx2, 2, "100×100×5880 Bᵀ → avx2 6x16, 2 threads: column slabs 736+736+736+736+736+736+736+728 (slabs taken in turn by whichever thread is free)" },
        // Large and square: the threads share one packed B.
        { 1024, 1024, 1024, false, false, GemmKernel.Avx512, 2, "1024×1024×1024 → avx512 12x32, K blocks of 512, 2 threads: shared B, rows 512+512" },
        // Large on both sides: K blocks up to 512 deep (C's tiles stored half as often); a side under 512 keeps 256.
        { 600, 1000, 520, false, false, GemmKernel.Avx2, 1, "600×1000×520 → avx2 6x16, K blocks of 504, 1 thread" },
        { 600, 1000, 500, false, true, GemmKernel.Avx2, 1, "600×1000×500 Bᵀ → avx2 6x16, K blocks of 256, 4 narrow columns, 1 thread" },
        // Wider than tall: slabs of whole 32-column panels.
        { 150, 20, 600, false, false, GemmKernel.Avx512, 2, "150×20×600 → avx512 12x32, 2 threads: columns 320+280" },
        // Tall and thin on one thread: A streamed in place, its next rows asked for ahead.
        { 25600, 288, 32, false, false, GemmKernel.Avx2, 1, "25600×288×32 → avx2 6x16, A read in place (next rows prefetched), 1 thread" },
        // A transposed A read in place keeps the shallow K blocks.
        { 784, 100, 50, true, false, GemmKernel.Avx2, 1, "784×100×50 Aᵀ → avx2 6x16, A read in place, 2 narrow columns, 1 thread" },
        // Few rows on AVX2: B's strips read in place.
        { 40, 600, 36, false, false, GemmKernel.Avx2, 1, "40×600×36 → avx2 6x16, A read in place, B read in place, K blocks of 200, 4 narrow columns, 1 thread" },
        // A network's last layer: no packing at all.
        { 100, 50, 10, false, false, GemmKernel.Avx2, 2, "100×50×10 → small product, rows in registers" },
        // The scalar kernel has no narrow-column or small-product kernels.
        { 100, 50, 10, false, true, GemmKernel.Scalar, 1, "100×50×10 Bᵀ → scalar 6x16, 1 thread" },
    };

    [Theory]
    [MemberData(nameof(Plans))]
    public void Plan_is_the_rule_in_words_and_its_execution_matches_the_reference(int m, int k, int n, bool ta, bool tb, GemmKernel kernel, int threads, string expected)
    {
        var options = new GemmOptions { Kernel = kernel, Threads = threads };
        var plan = Gemm.Plan(ta, tb, m, n, k, options);
        Assert.Equal(expected, plan.ToString());
        Assert.Equal(kernel, plan.Kernel);

        var rng = new Random(m + n + k);
        int lda = ta ? m : k, ldb = tb ? k : n;
        var a = Random(rng, m * k); var b = Random(rng, k * n);
        var c = Random(rng, m * n); var reference = (float[])c.Clone();
        Gemm.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, c, n, accumulate: true, options: options);
        GemmReference.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, reference, n, accumulate: true);
        Check.AllClose(reference.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k, expected);
    }

    [Fact]
    public void Slabs_cover_the_product_once()
    {
        foreach (var (m, n, k) in new[] { (100, 50, 784), (1001, 97, 40), (150, 600, 20), (100, 100, 4320), (1024, 1024, 1024), (3072, 512, 100), (5880, 100, 100), (2000, 130, 160) })
            foreach (var kernel in new[] { GemmKernel.Avx2, GemmKernel.Avx512 })
                foreach (int threads in new[] { 2, 3 })
                {
                    var plan = Gemm.Plan(false, false, m, n, k, new GemmOptions { Kernel = kernel, Threads = threads });
                    if (plan.Split == GemmSplit.None) continue;
                    int extent = plan.Split is GemmSplit.Rows or GemmSplit.SharedB ? m : n, next = 0;
                    for (int p = 0; p < plan.Parts; p++)
                    {
                        var (start, length) = plan.Slab(p);
                        if (length == 0) continue;
                        Assert.Equal(next, start);
                        next = start + length;
                    }
                    Assert.True(next == extent, plan.ToString());
                }
    }

    [Fact]
    public void Large_row_splits_of_a_packed_A_are_cut_into_whole_tile_slabs_taken_in_turn()
    {
        foreach (var kernel in new[] { GemmKernel.Avx512, GemmKernel.Avx2 })
        {
            var options = new GemmOptions { Kernel = kernel, Threads = 2 };
            // The dense layer's dW (3072×100×512 Aᵀ): A packed, 100 deep, 8 slabs of whole register tiles.
            var tall = Gemm.Plan(true, false, 3072, 512, 100, options);
            Assert.Equal((GemmSplit.Rows, 8, 384), (tall.Split, tall.Parts, tall.Chunk));
            Assert.EndsWith(": rows 384+384+384+384+384+384+384+384 (slabs taken in turn by whichever thread is free)", tall.ToString());
            var ragged = Gemm.Plan(false, false, 2000, 130, 160, options);
            Assert.Equal(GemmSplit.Rows, ragged.Split);
            Assert.True(ragged.Parts > ragged.Threads, ragged.ToString());
            Assert.Equal(0, ragged.Chunk % Sgemm.MR(kernel));
            // A read in place (thin products) and shallow products keep one slab a thread, as do small products.
            foreach (var (ta, tb, m, n, k) in new[] { (false, false, 25600, 32, 288), (false, false, 6400, 64, 576), (false, true, 25600, 288, 32), (true, false, 5880, 100, 100), (true, false, 784, 50, 100) })
            {
                var plan = Gemm.Plan(ta, tb, m, n, k, options);
                Assert.Equal((GemmSplit.Rows, 2), (plan.Split, plan.Parts));
                Assert.DoesNotContain("taken in turn", plan.ToString());
            }
        }
    }

    [Fact]
    public void Below_the_threshold_a_product_stays_on_one_thread()
    {
        var options = new GemmOptions { Kernel = GemmKernel.Avx512, Threads = 2 };
        Assert.Equal(1, Gemm.Plan(false, false, 100, 100, 100, options).Threads);            // 10^6 multiply-adds: below 2^20
        Assert.Equal(2, Gemm.Plan(false, false, 100, 100, 100, options with { ParallelThreshold = 0 }).Threads);
        using (Gemm.LimitThreadsOnThisThread(1))
            Assert.Equal(1, Gemm.Plan(false, false, 1024, 1024, 1024, GemmOptions.Default).Threads);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GemmOptions { Threads = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GemmOptions { ParallelThreshold = -1 });
    }

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
