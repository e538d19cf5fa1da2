using ZeroDL.Kernels;

namespace ZeroDL.Tests;

public class GemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 7, 1 }, { 2, 3, 5 }, { 7, 11, 13 }, { 13, 17, 31 }, { 6, 16, 8 }, { 12, 32, 16 },
        { 31, 37, 41 }, { 33, 65, 17 }, { 100, 50, 784 }, { 97, 101, 257 }, { 145, 33, 300 }, { 3, 200, 1 }, { 200, 3, 2 },
        { 150, 70, 600 }, { 40, 20, 9 }, { 70, 35, 33 }, { 37, 66, 1 },
        { 120, 64, 576 }, { 130, 48, 577 }, // A read in place: one K block as deep as it goes, and just past it (two)
        { 4100, 20, 256 },                  // A read in place and streamed: its next rows asked for ahead
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float_matches_reference_for_every_transpose(int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                {
                    var a = RandomArray(rng, m * k); var b = RandomArray(rng, k * n);
                    var c = RandomArray(rng, m * n); var expected = (float[])c.Clone();
                    int lda = ta ? m : k, ldb = tb ? k : n;
                    Gemm.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, c, n, accumulate);
                    GemmReference.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, expected, n, accumulate);
                    // float32 sums of k products of values in [-1, 1]: error grows like sqrt(k)·eps.
                    Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * Math.Max(1, k),
                        $"m={m} n={n} k={k} transA={ta} transB={tb} accumulate={accumulate}");
                }
    }

    [Theory]
    [InlineData(GemmKernel.Avx512)]
    [InlineData(GemmKernel.Avx2)]
    [InlineData(GemmKernel.Scalar)]
    public void Every_micro_kernel_matches_reference_even_where_the_cpu_lacks_it(GemmKernel kernel)
    {
        // A kernel the CPU cannot run natively still runs, through .NET's software Vector512/Vector256.
        var rng = new Random(77);
        {
            foreach (var (m, n, k) in new[] { (1, 1, 1), (13, 33, 7), (25, 65, 300), (12, 32, 16), (37, 19, 258) })
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                    {
                        var a = RandomArray(rng, m * k); var b = RandomArray(rng, k * n);
                        var c = RandomArray(rng, m * n); var expected = (float[])c.Clone();
                        Packed(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n, accumulate: true, kernel); // not the small-product path
                        GemmReference.Multiply<float>(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, expected, n, accumulate: true);
                        Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k,
                            $"{kernel} m={m} n={n} k={k} {ta} {tb}");
                    }
        }
    }

    [Theory]
    [InlineData(GemmKernel.Avx512)]
    [InlineData(GemmKernel.Avx2)]
    public void Thin_products_read_A_in_place_and_match_the_reference_on_both_vector_kernels(GemmKernel kernel)
    {
        // Thin products read A where it lies (rows, or a transposed A a row a step) on both vector kernels. Ragged rows:
        // fewer than a tile in the whole product (packed), 1–4 past whole tiles (the 4-row kernels) and 5–11 (a tile
        // overlapping rows already computed); ragged and narrow columns; two K blocks; A's next rows prefetched; C added
        // to; leading dimensions wider than the operands.
        var rng = new Random(2201);
        foreach (var (m, n, k) in new[] { (5, 40, 30), (12, 32, 16), (13, 33, 7), (16, 50, 300), (23, 64, 9), (52, 36, 700),
                     (100, 50, 784), (100, 100, 61), (4100, 20, 256), (40, 56, 300), (29, 82, 270), (36, 30, 25), (25, 59, 100) })
            foreach (bool ta in new[] { false, true })
            {
                var options = new GemmOptions { Kernel = kernel, Threads = 1 };
                var plan = GemmPlan.Make(ta, false, m, n, k, options, allowSmall: false);
                Assert.True(plan.ReadsAInPlace, plan.ToString());
                int lda = (ta ? m : k) + 3, ldb = n + 5, ldc = n + 2;
                var a = RandomArray(rng, (ta ? k : m) * lda); var b = RandomArray(rng, k * ldb);
                var c = RandomArray(rng, m * ldc); var expected = (float[])c.Clone();
                unsafe
                {
                    fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
                        Sgemm.Serial(plan, m, n, pa, lda, pb, ldb, pc, ldc, accumulate: true, holdsLastColumns: true);
                }
                GemmReference.Multiply<float>(ta, false, m, n, k, a, lda, b, ldb, expected, ldc, accumulate: true);
                Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k,
                    $"{kernel} m={m} n={n} k={k} transA={ta}");
            }
    }

    [Fact]
    public void Avx512_reading_A_in_place_gives_the_packed_products_bits()
    {
        // On the AVX-512 kernel a thin product's A read in place is summed exactly as a packed A is (the same K blocks,
        // each element in the same order), so a model's outputs are those of the packed kernel before it: every tile
        // kind (whole, 4-row, overlapping, 16-column, packed for few rows), C added to. (The AVX2 kernel reads A in
        // place in deeper K blocks than its packing buffer holds, so it has no packed twin to compare with.)
        const GemmKernel kernel = GemmKernel.Avx512;
        var rng = new Random(2202);
        // Last panels of 17–24 columns (the 12×24 tile: 50, 56, 82), rows of A 1024 floats apart (read six at a time,
        // with ragged rows past whole tiles), a deep transposed A whose next K blocks are asked for ahead, and last
        // panels of 25–31 columns written into C through masks (30, 62, 59).
        foreach (var (m, n, k) in new[] { (5, 40, 30), (13, 33, 7), (16, 48, 300), (23, 64, 9), (100, 50, 784), (52, 96, 600),
                     (37, 50, 300), (25, 56, 700), (100, 82, 40), (30, 50, 1024), (100, 50, 1024), (23, 56, 2048), (288, 32, 3700),
                     (100, 30, 25), (40, 62, 300), (24, 59, 16) })
            foreach (bool ta in new[] { false, true })
            {
                var plan = GemmPlan.Make(ta, false, m, n, k, new GemmOptions { Kernel = kernel, Threads = 1 }, allowSmall: false);
                Assert.True(plan.ReadsAInPlace && plan.KBlock <= Sgemm.KC, plan.ToString());
                Assert.Equal(!ta && k % 1024 == 0, plan.ReadsAliasedRowsSixAtATime);
                Assert.Equal(ta && (long)m * k >= 1 << 20, plan.PrefetchesRowsOfA);
                var packed = plan with { ReadsAInPlace = false, ReadsBInPlace = false, PrefetchesRowsOfA = false, ReadsAliasedRowsSixAtATime = false };
                int lda = ta ? m : k;
                var a = RandomArray(rng, m * k); var b = RandomArray(rng, k * n);
                // C added to, and C overwritten (NaN in C before: a tile that read it would leave NaN).
                foreach (bool accumulate in new[] { true, false })
                {
                    var inPlace = accumulate ? RandomArray(rng, m * n) : Enumerable.Repeat(float.NaN, m * n).ToArray();
                    var viaPacking = (float[])inPlace.Clone();
                    unsafe
                    {
                        fixed (float* pa = a) fixed (float* pb = b) fixed (float* p1 = inPlace) fixed (float* p2 = viaPacking)
                        {
                            Sgemm.Serial(plan, m, n, pa, lda, pb, n, p1, n, accumulate, holdsLastColumns: true);
                            Sgemm.Serial(packed, m, n, pa, lda, pb, n, p2, n, accumulate, holdsLastColumns: true);
                        }
                    }
                    Assert.True(inPlace.SequenceEqual(viaPacking), $"{kernel} m={m} n={n} k={k} transA={ta} accumulate={accumulate}");
                    Assert.True(accumulate || inPlace.All(float.IsFinite), $"m={m} n={n} k={k} transA={ta}: C read when overwritten");
                }
            }
    }

    [Fact]
    public void Avx512_rows_of_A_4KB_apart_read_six_at_a_time_give_the_twelve_row_tiles_bits_on_one_and_two_threads()
    {
        // A row-major A whose rows lie 1024 floats apart is read by 6-row tiles (its 12 rows would evict each other
        // from one L1 set): the same sums as the 12-row tiles, in place or packed, on one thread or two; and the
        // naive product's values. Ragged rows (1–4 by the 4-row kernel, 5–11 by an overlapping tile), 32-, 24- and
        // 16-column panels, C added to.
        const GemmKernel kernel = GemmKernel.Avx512;
        var rng = new Random(3201);
        const int lda = 1024;
        foreach (var (m, n, k) in new[] { (12, 32, 200), (30, 50, 300), (100, 50, 1000), (49, 56, 40), (61, 48, 260), (100, 82, 513) })
        {
            var one = new GemmOptions { Kernel = kernel, Threads = 1 };
            var plan = GemmPlan.Make(false, false, m, n, k, one, allowSmall: false, lda: lda);
            Assert.True(plan.ReadsAInPlace && plan.ReadsAliasedRowsSixAtATime, plan.ToString());
            Assert.Contains("6 rows at a time", plan.ToString());
            var a = RandomArray(rng, (m - 1) * lda + k); var b = RandomArray(rng, k * n);
            var c0 = RandomArray(rng, m * n);
            // C overwritten first (NaN in C before: a tile that read it would leave NaN), then C added to.
            foreach (bool accumulate in new[] { false, true })
            {
                var start = accumulate ? c0 : Enumerable.Repeat(float.NaN, m * n).ToArray();
                var six = (float[])start.Clone(); var twelve = (float[])start.Clone(); var packed = (float[])start.Clone();
                unsafe
                {
                    fixed (float* pa = a) fixed (float* pb = b) fixed (float* p1 = six) fixed (float* p2 = twelve) fixed (float* p3 = packed)
                    {
                        Sgemm.Serial(plan, m, n, pa, lda, pb, n, p1, n, accumulate, holdsLastColumns: true);
                        Sgemm.Serial(plan with { ReadsAliasedRowsSixAtATime = false }, m, n, pa, lda, pb, n, p2, n, accumulate, holdsLastColumns: true);
                        Sgemm.Serial(plan with { ReadsAInPlace = false, ReadsAliasedRowsSixAtATime = false }, m, n, pa, lda, pb, n, p3, n, accumulate, holdsLastColumns: true);
                    }
                }
                Assert.True(six.SequenceEqual(twelve), $"m={m} n={n} k={k} accumulate={accumulate}: six rows vs twelve");
                Assert.True(six.SequenceEqual(packed), $"m={m} n={n} k={k} accumulate={accumulate}: six rows vs packed");
                Assert.True(accumulate || six.All(float.IsFinite), $"m={m} n={n} k={k}: C read when overwritten");
            }
            var sixRows = (float[])c0.Clone();
            unsafe
            {
                fixed (float* pa = a) fixed (float* pb = b) fixed (float* p1 = sixRows)
                    Sgemm.Serial(plan, m, n, pa, lda, pb, n, p1, n, accumulate: true, holdsLastColumns: true);
            }
            var expected = (float[])c0.Clone();
            GemmReference.Multiply<float>(false, false, m, n, k, a, lda, b, n, expected, n, accumulate: true);
            Check.AllClose(expected.Select(v => (double)v).ToArray(), sixRows.Select(v => (double)v).ToArray(), 1e-5 * k, $"m={m} n={n} k={k}");
            var threaded = (float[])c0.Clone();
            Gemm.Multiply<float>(false, false, m, n, k, a, lda, b, n, threaded, n, accumulate: true,
                options: new GemmOptions { Kernel = kernel, Threads = 2, ParallelThreshold = 0 });
            Assert.True(threaded.SequenceEqual(sixRows), $"m={m} n={n} k={k}: two threads");
        }
    }

    [Theory]
    [InlineData(GemmKernel.Avx2)]
    [InlineData(GemmKernel.Avx512)]
    [InlineData(GemmKernel.Scalar)]
    public void Transposed_A_packed_a_row_at_a_time_matches_the_reference_and_the_in_place_bits(GemmKernel kernel)
    {
        // A transposed A is packed a row of A at a time into all its whole panels, the ragged last panel apart. On
        // the AVX2 kernel a thin product whose A rows lie a multiple of 512 floats apart is packed rather than read in
        // place (PacksAliasedA), and must give the in-place bits: whole and ragged panels (m = 515: 85 panels and 5
        // rows), 1–4 ragged rows, fewer rows than a panel, narrow columns, two K blocks, C added to, on 1 and 2 threads.
        // An aliased A too big to pack (500 × 2100) stays in place, prefetched fewer steps ahead.
        var rng = new Random(2203);
        foreach (var (m, n, k, lda) in new[] { (1024, 50, 100, 1024), (515, 50, 100, 1024), (100, 40, 300, 512), (4, 33, 7, 512),
                     (26, 16, 9, 512), (97, 101, 257, 97), (150, 130, 40, 1024), (500, 20, 2100, 512) })
        {
            var options = new GemmOptions { Kernel = kernel, Threads = 1 };
            var plan = GemmPlan.Make(true, false, m, n, k, options, allowSmall: false, lda: lda);
            var tight = GemmPlan.Make(true, false, m, n, k, options, allowSmall: false, lda: m + 1);
            bool thin = n - plan.NarrowColumns <= 96 && kernel != GemmKernel.Scalar;
            if (kernel == GemmKernel.Avx2 && thin && lda % 512 == 0 && (long)m * k < 1 << 20)
                Assert.True(!plan.ReadsAInPlace && tight.ReadsAInPlace && plan.KBlock == tight.KBlock, plan + " / " + tight);
            else Assert.Equal(thin, plan.ReadsAInPlace);
            var a = RandomArray(rng, k * lda); var b = RandomArray(rng, k * n);
            var c = RandomArray(rng, m * n); var expected = (float[])c.Clone(); var inPlace = (float[])c.Clone();
            unsafe
            {
                fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c) fixed (float* p2 = inPlace)
                {
                    Sgemm.Serial(plan, m, n, pa, lda, pb, n, pc, n, accumulate: true, holdsLastColumns: true);
                    Sgemm.Serial(tight, m, n, pa, lda, pb, n, p2, n, accumulate: true, holdsLastColumns: true);
                }
            }
            GemmReference.Multiply<float>(true, false, m, n, k, a, lda, b, n, expected, n, accumulate: true);
            Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k,
                $"{kernel} m={m} n={n} k={k} lda={lda}");
            Assert.True(c.SequenceEqual(inPlace), $"{kernel} m={m} n={n} k={k} lda={lda}: packed and in-place bits differ");
            // Through Gemm.Multiply (which plans with the actual lda): two threads give one thread's bits.
            var two = new float[m * n]; var one = new float[m * n];
            var run = new GemmOptions { Kernel = kernel, Threads = 2, ParallelThreshold = 0 };
            Gemm.Multiply<float>(true, false, m, n, k, a, lda, b, n, two, n, options: run);
            Gemm.Multiply<float>(true, false, m, n, k, a, lda, b, n, one, n, options: run with { Threads = 1 });
            Assert.True(two.SequenceEqual(one), $"{kernel} m={m} n={n} k={k} lda={lda}: 2 threads differ from 1");
        }
    }

    private static unsafe void Packed(bool ta, bool tb, int m, int n, int k, float[] a, int lda, float[] b, int ldb, float[] c, int ldc, bool accumulate,
        GemmKernel kernel = GemmKernel.Auto)
    {
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            Sgemm.Serial(kernel == GemmKernel.Auto ? Sgemm.BestKernel : kernel, ta, tb, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
    }

    private static unsafe void Small(bool ta, bool tb, int m, int n, int k, float[] a, int lda, float[] b, int ldb, float[] c, int ldc, bool accumulate)
    {
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            SmallGemm.Multiply(ta, tb, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(100, 10, 50)]   // a last layer's forward
    [InlineData(100, 50, 10)]   // its input gradient
    [InlineData(50, 10, 100)]   // its weight gradient
    [InlineData(7, 8, 3)]
    [InlineData(9, 9, 17)]
    [InlineData(3, 64, 5)]
    [InlineData(2, 63, 40)]
    public void Small_product_kernel_matches_reference_and_the_packed_kernel(int m, int n, int k)
    {
        var rng = new Random(m * 7 + n * 3 + k);
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                {
                    // Leading dimensions wider than the matrices, and a C row gap that must stay untouched.
                    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 5;
                    var a = RandomArray(rng, (ta ? k : m) * lda); var b = RandomArray(rng, (tb ? n : k) * ldb);
                    var c = RandomArray(rng, m * ldc); var expected = (float[])c.Clone(); var packed = (float[])c.Clone();
                    Small(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                    GemmReference.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, expected, ldc, accumulate);
                    Packed(ta, tb, m, n, k, a, lda, b, ldb, packed, ldc, accumulate);
                    string what = $"m={m} n={n} k={k} transA={ta} transB={tb} accumulate={accumulate}";
                    Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k, what);
                    Check.AllClose(packed.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k, what);
                    for (int i = 0; i < m; i++)
                        for (int j = n; j < ldc && i * ldc + j < c.Length; j++) Assert.Equal(expected[i * ldc + j], c[i * ldc + j]);
                }
        Assert.True(SmallGemm.Applies(100, 10, 50));
        Assert.False(SmallGemm.Applies(100, 65, 5));        // rows of C wider than 8 vectors
        Assert.False(SmallGemm.Applies(100, 50, 784));      // too much work: the packed kernel pays
    }

    [Theory]
    [InlineData(GemmKernel.Avx512)]
    [InlineData(GemmKernel.Avx2)]
    [InlineData(GemmKernel.Scalar)]
    public void Row_major_B_packed_in_groups_of_panels_matches_the_reference(GemmKernel kernel)
    {
        // A row-major B is packed row by row, 128 columns of whole panels side by side (8 of 16 columns, 4 of 32), then
        // the ragged last panel apart: a group and a part of one with a ragged panel (149 = 128 + 16 + 5; on AVX-512
        // 128 + 21), whole groups (256 columns a thread in column slabs), two NC blocks; two K blocks; on one thread and
        // two. On a CPU without AVX-512 the 32-column panels go through the software Vector512. The gaps between B's
        // rows are NaN, so that a group reading past its columns shows.
        var rng = new Random(3101);
        foreach (var (m, n, k) in new[] { (60, 149, 301), (100, 512, 40), (49, 2100, 7), (100, 600, 300) })
            foreach (int threads in new[] { 1, 2 })
            {
                var options = new GemmOptions { Kernel = kernel, Threads = threads, ParallelThreshold = 0 };
                var plan = Gemm.Plan(false, false, m, n, k, options);
                Assert.False(plan.Small || plan.ReadsBInPlace || plan.ReadsAInPlace, plan.ToString());
                int ldb = n + 3;
                var a = RandomArray(rng, m * k);
                var b = RandomArray(rng, k * ldb);
                for (int p = 0; p < k; p++)
                    for (int j = n; j < ldb; j++) b[p * ldb + j] = float.NaN;
                var c = RandomArray(rng, m * n); var expected = (float[])c.Clone();
                Gemm.Multiply<float>(false, false, m, n, k, a, k, b, ldb, c, n, accumulate: true, options: options);
                GemmReference.Multiply<float>(false, false, m, n, k, a, k, b, ldb, expected, n, accumulate: true);
                Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k,
                    $"{kernel} m={m} n={n} k={k} threads={threads}");
            }
    }

    [Fact]
    public void Packing_respects_leading_dimensions_for_every_transpose()
    {
        // The packing routines read op(A) and op(B) in 8×8 (and 6×8) blocks transposed in registers; strided
        // operands, a k split over two blocks (256 + 45) and ragged panels must all land where the plain loops put them.
        var rng = new Random(15);
        int m = 37, n = 41, k = 301;
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5;
                var a = RandomArray(rng, (ta ? k : m) * lda); var b = RandomArray(rng, (tb ? n : k) * ldb);
                var c = RandomArray(rng, m * n); var expected = (float[])c.Clone();
                Packed(ta, tb, m, n, k, a, lda, b, ldb, c, n, accumulate: true);
                GemmReference.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, expected, n, accumulate: true);
                Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k, $"transA={ta} transB={tb}");
            }
    }

    [Theory]
    [InlineData(100, 50, 13)]    // A read in place, 2 narrow columns, a masked last slice of k
    [InlineData(100, 50, 784)]   // the dense layer's product, k over several blocks
    [InlineData(45, 36, 21)]     // few rows (B read in place), 4 narrow columns
    [InlineData(70, 100, 30)]    // packed panels and 4 narrow columns
    public void Values_between_rows_never_reach_the_product(int m, int n, int k)
    {
        // Operands with leading dimensions wider than their rows, the gaps filled with NaN: kernels that read whole
        // vectors past a row's end (masked or into slack) must never let them into C, on one thread or two.
        var rng = new Random(m + n + k);
        {
            foreach (int threads in new[] { 1, 2 })
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                    {
                        var options = new GemmOptions { Threads = threads, ParallelThreshold = 0 };
                        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
                        int lda = aCols + 5, ldb = bCols + 3;
                        var a = WithNaNGaps(rng, aRows, aCols, lda); var b = WithNaNGaps(rng, bRows, bCols, ldb);
                        var c = new float[m * n]; var expected = new float[m * n];
                        Gemm.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, c, n, options: options);
                        GemmReference.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, expected, n);
                        Assert.All(c, v => Assert.True(float.IsFinite(v)));
                        Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k,
                            $"m={m} n={n} k={k} transA={ta} transB={tb} threads={threads}");
                    }
        }

        static float[] WithNaNGaps(Random rng, int rows, int cols, int ld)
        {
            var x = new float[rows * ld];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < ld; j++) x[r * ld + j] = j < cols ? (float)rng.NextDouble() * 2 - 1 : float.NaN;
            return x;
        }
    }

    [Fact]
    public void Respects_leading_dimensions_larger_than_the_width()
    {
        var rng = new Random(5);
        int m = 19, n = 23, k = 29, lda = 40, ldb = 31, ldc = 50;
        var a = RandomArray(rng, m * lda); var b = RandomArray(rng, k * ldb);
        var c = new float[m * ldc]; var expected = new float[m * ldc];
        Array.Fill(c, 7f); Array.Fill(expected, 7f);
        Gemm.Multiply<float>(false, false, m, n, k, a, lda, b, ldb, c, ldc);
        GemmReference.Multiply<float>(false, false, m, n, k, a, lda, b, ldb, expected, ldc);
        Check.AllClose(expected.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-4, "strided");
        Assert.Equal(7f, c[n]); // padding between rows is untouched
    }

    [Theory]
    [InlineData(300, 200, 301, 2)]   // two K blocks (152 + 149) packed at once, ragged panels on both sides
    [InlineData(1001, 97, 40, 2)]    // rows split unevenly, more than one MC block per thread
    [InlineData(49, 2100, 7, 3)]     // just past the direct-B rows, two NC blocks, three parts on two cores
    [InlineData(100, 50, 784, 2)]    // a dense layer: A read in place (unless transposed), 4 K blocks, ragged rows per thread
    [InlineData(60, 2100, 600, 2)]   // the first NC block too big to pack whole (one K block per meeting), the second whole
    [InlineData(100, 32, 40000, 2)]  // thin and too deep to pack whole: as many K blocks per meeting as fit, then the rest
    [InlineData(200, 1024, 1024, 2)] // 1024 × 1024 of B, the most packed whole: four K blocks, one meeting
    [InlineData(1030, 130, 520, 2)]  // 4 MC blocks a thread, 2 narrow columns on AVX2, 3 K blocks
    [InlineData(300, 1000, 300, 2)]  // the last K block in 3 column parts, the last ragged (one K block before it)
    [InlineData(400, 1100, 200, 3)]  // one K block, all in 4 column parts, three parts on two cores
    [InlineData(100, 50, 1024, 2)]   // A's rows 1024 floats apart: read six at a time on AVX-512
    [InlineData(900, 300, 600, 3)]   // 3 blocks of rows a part, 3 K blocks: a thread done with its rows takes another's, waiting where needed
    public void Threads_sharing_one_packed_B_match_one_thread_bit_for_bit(int m, int n, int k, int threads)
    {
        // The threaded path packs B between the threads (all of it, or one K block at a time) and splits the rows of
        // C; it must give exactly the single-thread product, for every transpose, with accumulation, on both vector
        // kernels (the AVX2 one runs on an AVX-512 machine too).
        var rng = new Random(m + n + k);
        foreach (var kernel in new[] { GemmKernel.Avx512, GemmKernel.Avx2 })
        {
            if (kernel == GemmKernel.Avx512 && Sgemm.BestKernel != GemmKernel.Avx512) continue;
            if (kernel == GemmKernel.Avx2 && Sgemm.BestKernel == GemmKernel.Scalar) continue;
            foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var a = RandomArray(rng, m * k); var b = RandomArray(rng, k * n);
                var start = RandomArray(rng, m * n);
                var one = (float[])start.Clone(); var shared = (float[])start.Clone();
                int lda = ta ? m : k, ldb = tb ? k : n;
                Packed(ta, tb, m, n, k, a, lda, b, ldb, one, n, accumulate: true, kernel);
                var plan = GemmPlan.Make(ta, tb, m, n, k, new GemmOptions { Kernel = kernel, Threads = threads }, split: GemmSplit.SharedB);
                Assert.Equal(GemmSplit.SharedB, plan.Split);
                unsafe
                {
                    fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = shared)
                        Sgemm.SharedB(plan, pa, lda, pb, ldb, pc, n, accumulate: true);
                }
                Assert.Equal(one, shared);
            }
        }
    }

    [Theory]
    [InlineData(100, 50, 784, 2)]
    [InlineData(1030, 130, 520, 2)]
    [InlineData(400, 1100, 200, 3)]
    [InlineData(900, 300, 600, 3)]   // parts of 3 blocks of rows: part 0 takes the others' pieces in the order that waits
    public async Task Shared_B_parts_run_one_after_another_on_one_thread_never_wait_and_give_the_same_bits(int m, int n, int k, int threads)
    {
        // Called from inside a pool part, the product's parts run in order on the calling thread: a part may then
        // wait only for pieces that an earlier part already took and finished, or the call would hang here.
        var rng = new Random(m * 7 + k);
        var a = RandomArray(rng, m * k); var b = RandomArray(rng, k * n);
        var one = new float[m * n]; var nested = new float[m * n];
        var kernel = Sgemm.BestKernel == GemmKernel.Scalar ? GemmKernel.Scalar : GemmKernel.Avx2;
        foreach (var kind in new[] { kernel, Sgemm.BestKernel }.Distinct())
        {
            Packed(false, false, m, n, k, a, k, b, n, one, n, accumulate: false, kind);
            var plan = GemmPlan.Make(false, false, m, n, k, new GemmOptions { Kernel = kind, Threads = threads }, split: GemmSplit.SharedB);
            var run = Task.Run(() => WorkerPool.For(1, 1, _ =>
            {
                unsafe
                {
                    fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = nested)
                        Sgemm.SharedB(plan, pa, k, pb, n, pc, n, accumulate: false);
                }
            }));
            await run.WaitAsync(TimeSpan.FromSeconds(60)); // throws TimeoutException if a part waits for a piece nobody runs
            Assert.Equal(one, nested);
        }
    }

    [Theory]
    [InlineData(300, 200, 150)]   // packed A and B
    [InlineData(100, 50, 784)]    // A read in place: 50 + 50 rows, each thread ending on 2 rows that one thread computes in a 6-row tile
    [InlineData(98, 40, 33)]      // 50 + 48 rows: the second part takes the unpacked-B path
    [InlineData(98, 40, 300)]     // … while the whole product reads A in place, in K blocks of its own depth
    [InlineData(60, 200, 300)]    // wider than tall: slabs of columns, one narrow enough to read A in place alone
    [InlineData(100, 100, 4320)]  // few rows: 3 panels a thread, the 4 narrow columns in the last slab
    [InlineData(100, 512, 512)]   // few rows: 16 panels a thread
    [InlineData(100, 36, 300)]    // AVX-512, A read in place: 52 + 48 rows, the first thread's last 4 rows by the 4-row kernel
    [InlineData(25, 300, 40)]     // the transposed product: slabs of columns, 25 rows as 2 tiles and 1 row by the 4-row kernel
    public void Multithreaded_split_matches_single_thread_bit_for_bit(int m, int n, int k)
    {
        var rng = new Random(9);
        var a = RandomArray(rng, m * k); var b = RandomArray(rng, k * n);
        var one = new float[m * n]; var two = new float[m * n];
        // The same product transposed (Cᵀ = Bᵀ·Aᵀ, n × m): wider than tall, so it is split over columns.
        var oneT = new float[n * m]; var twoT = new float[n * m];
        var single = new GemmOptions { Threads = 1, ParallelThreshold = 0 };
        var pair = new GemmOptions { Threads = 2, ParallelThreshold = 0 };
        Gemm.Multiply<float>(false, false, m, n, k, a, k, b, n, one, n, options: single);
        Gemm.Multiply<float>(true, true, n, m, k, b, n, a, k, oneT, m, options: single);
        Gemm.Multiply<float>(false, false, m, n, k, a, k, b, n, two, n, options: pair);
        Gemm.Multiply<float>(true, true, n, m, k, b, n, a, k, twoT, m, options: pair);
        Assert.NotEqual(GemmSplit.None, Gemm.Plan(false, false, m, n, k, pair).Split);
        Assert.Equal(one, two);
        Assert.Equal(oneT, twoT);
        Assert.NotEqual(0f, one.Select(Math.Abs).Max());
    }

    [Theory]
    [InlineData(GemmKernel.Avx512, false, true)]
    [InlineData(GemmKernel.Avx2, false, true)]
    [InlineData(GemmKernel.Avx512, false, false)]
    [InlineData(GemmKernel.Avx2, false, false)]
    [InlineData(GemmKernel.Avx512, true, true)]
    [InlineData(GemmKernel.Avx2, true, true)]
    [InlineData(GemmKernel.Avx512, true, false)]
    [InlineData(GemmKernel.Avx2, true, false)]
    public void Four_narrow_columns_at_once_give_the_bits_of_two_pairs(GemmKernel kernel, bool transA, bool accumulate)
    {
        // 3 or 4 narrow columns are summed in one pass over A (a row-major A 2 rows × 4 columns at a time, a transposed
        // one 16 rows × 4 columns); each element must be summed as the 2-column kernels sum it. The 36- and 35-column
        // products' last columns against two 34-column products whose last 2 columns (narrow pairs) are the same
        // columns of B; a ragged depth; rows: 7 (the last one alone) for a row-major A, 37 (two whole groups of 16 and
        // 5 rows through masks) for a transposed one; C added to or overwritten (NaN before).
        int m = transA ? 37 : 7, k = transA ? 101 : 301, lda = transA ? m : k;
        var rng = new Random(36);
        var a = RandomArray(rng, m * k); var b36 = RandomArray(rng, k * 36);
        var b34a = new float[k * 34]; var b34b = new float[k * 34];
        for (int p = 0; p < k; p++)
        {
            Array.Copy(b36, p * 36, b34a, p * 34, 34);
            Array.Copy(b36, p * 36, b34b, p * 34, 32);
            b34b[p * 34 + 32] = b36[p * 36 + 34]; b34b[p * 34 + 33] = b36[p * 36 + 35];
        }
        var options = new GemmOptions { Kernel = kernel, Threads = 1 };
        foreach (int n in new[] { 36, 35 })
        {
            Assert.Equal(n - 32, Gemm.Plan(transA, false, m, n, k, options with { ParallelThreshold = 0 }).NarrowColumns % 16);
            var bn = new float[k * n];
            for (int p = 0; p < k; p++) Array.Copy(b36, p * 36, bn, p * n, n);
            var cn = accumulate ? RandomArray(rng, m * n) : Enumerable.Repeat(float.NaN, m * n).ToArray();
            var reference = accumulate ? (float[])cn.Clone() : new float[m * n];
            var c34a = new float[m * 34]; var c34b = new float[m * 34];
            for (int i = 0; i < m; i++)
            {
                Array.Copy(cn, i * n + 32, c34a, i * 34 + 32, 2);
                Array.Copy(cn, i * n + 34, c34b, i * 34 + 32, n - 34);
            }
            Packed(transA, false, m, n, k, a, lda, bn, n, cn, n, accumulate, kernel);
            Packed(transA, false, m, 34, k, a, lda, b34a, 34, c34a, 34, accumulate, kernel);
            Packed(transA, false, m, 34, k, a, lda, b34b, 34, c34b, 34, accumulate, kernel);
            GemmReference.Multiply<float>(transA, false, m, n, k, a, lda, bn, n, reference, n, accumulate);
            Check.AllClose(reference.Select(v => (double)v).ToArray(), cn.Select(v => (double)v).ToArray(), 1e-5 * k, $"{kernel} n={n}");
            for (int i = 0; i < m; i++)
                for (int j = 32; j < n; j++)
                {
                    float pair = j < 34 ? c34a[i * 34 + j] : c34b[i * 34 + j - 2];
                    Assert.True(BitConverter.SingleToInt32Bits(pair) == BitConverter.SingleToInt32Bits(cn[i * n + j]), $"{kernel} n={n} row {i} column {j}");
                }
        }
    }

    [Theory]
    [InlineData(100, 100, 600, false, false)]  // a dense layer's forward: 48 + 52 columns, 4 narrow columns shared by rows; on AVX-512 the panel across the slabs split by rows 48 + 52
    [InlineData(100, 100, 600, true, false)]   // the same with A stored transposed
    [InlineData(100, 1000, 100, false, true)]  // its dx (B stored transposed): 496 + 504 columns, the last panel ragged
    [InlineData(37, 250, 70, false, false)]    // ragged rows (3 tiles and 1 row) and a ragged last panel; on AVX-512 the split panel's rows 12 + 25
    [InlineData(100, 100, 600, false, true)]   // B stored transposed, the split panel too
    [InlineData(100, 1000, 100, true, true)]   // both transposed
    public void Column_slabs_match_one_thread_bit_for_bit_and_the_reference_on_both_vector_kernels(int m, int n, int k, bool ta, bool tb)
    {
        // Few rows: each thread takes a slab of whole 16-column steps, the last slab the rest: on AVX-512 half panels,
        // so a slab may begin in the middle of what one thread computes as a 32-column panel; on AVX2 whole panels that
        // need not split evenly. Every tile sums an element in the same order, so 1, 2 and 3 threads give the same bits.
        foreach (var kernel in new[] { GemmKernel.Avx512, GemmKernel.Avx2 })
            ColumnSlabsMatchOneThread(kernel, m, n, k, ta, tb, (plan, threads) =>
            {
                if (kernel == GemmKernel.Avx512 && threads == 2) Assert.Equal(n <= 256, plan.SplitPanelRows > 0);
                // On 2 threads the second slab begins in the middle of a 32-column panel (an odd number of 16-column panels).
                if (threads == 2) Assert.True(plan.Slab(0).Length % 32 == 16, plan.ToString());
            });
    }

    [Theory]
    [InlineData(100, 5880, 100, false, true)]   // simpleconv's dx: 8 slabs of 736 columns on 2 threads, 9 on 3 (the others: one a thread on 3)
    [InlineData(60, 2051, 150, false, false)]   // 10 whole tiles, 3 narrow columns after the last slab
    [InlineData(100, 3000, 64, true, true)]     // both transposed, a ragged last panel
    public void Column_slabs_cut_finer_than_one_a_thread_match_one_thread_bit_for_bit(int m, int n, int k, bool ta, bool tb)
    {
        // A wide product of few rows is cut into several column slabs a thread, whole panels of the kernel each, taken
        // in turn by whichever thread is free; every tile still sums an element in the same order.
        foreach (var kernel in new[] { GemmKernel.Avx512, GemmKernel.Avx2 })
            ColumnSlabsMatchOneThread(kernel, m, n, k, ta, tb, (plan, threads) =>
            {
                if (threads == 2) Assert.True(plan.Parts > plan.Threads, plan.ToString());
                if (plan.Parts > plan.Threads) Assert.Equal(0, plan.Chunk % Sgemm.NR(kernel));
                Assert.Equal(n, Enumerable.Range(0, plan.Parts).Sum(p => plan.Slab(p).Length));
                Assert.True(plan.Slab(plan.Parts - 1).Length > plan.NarrowColumns, plan.ToString());
            });
    }

    [Fact]
    public void Only_wide_column_slabs_are_cut_finer()
    {
        // Each slab packs all of A again: slabs at least 512 columns wide, at most 4 a thread.
        Assert.Equal(4, Sgemm.ColumnSlabsPerThread(100, 5880, 100, 2));
        Assert.Equal(1, Sgemm.ColumnSlabsPerThread(100, 512, 3072, 2));
        Assert.Equal(1, Sgemm.ColumnSlabsPerThread(100, 1000, 100, 2));
        Assert.Equal(1, Sgemm.ColumnSlabsPerThread(10, 4096, 16, 2));
        Assert.Equal(2, Sgemm.ColumnSlabsPerThread(100, 2048, 256, 2));
    }

    /// <summary>The product on 1, 2 and 3 threads: column slabs on more than one, each result the reference's within
    /// rounding and all three the same bits; <paramref name="checkPlan"/> checks each split plan.</summary>
    private static void ColumnSlabsMatchOneThread(GemmKernel kernel, int m, int n, int k, bool ta, bool tb, Action<GemmPlan, int> checkPlan)
    {
        var rng = new Random(m * 7 + n + k);
        int lda = ta ? m : k, ldb = tb ? k : n;
        var a = RandomArray(rng, m * k); var b = RandomArray(rng, k * n);
        var start = RandomArray(rng, m * n);
        var reference = (float[])start.Clone();
        GemmReference.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, reference, n, accumulate: true);
        float[]? one = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var options = new GemmOptions { Kernel = kernel, Threads = threads, ParallelThreshold = 0 };
            var plan = Gemm.Plan(ta, tb, m, n, k, options);
            if (threads > 1)
            {
                Assert.Equal(GemmSplit.ColumnSlabs, plan.Split);
                checkPlan(plan, threads);
            }
            var c = (float[])start.Clone();
            Gemm.Multiply<float>(ta, tb, m, n, k, a, lda, b, ldb, c, n, accumulate: true, options: options);
            Check.AllClose(reference.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray(), 1e-5 * k, plan.ToString());
            if (one is null) one = c;
            else Assert.True(one.SequenceEqual(c), plan.ToString());
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 3)]
    [InlineData(17, 9, 33)]
    public void Double_matches_reference(int m, int n, int k)
    {
        var rng = new Random(3);
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var a = Enumerable.Range(0, m * k).Select(_ => rng.NextDouble() - 0.5).ToArray();
                var b = Enumerable.Range(0, k * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
                var c = new double[m * n]; var expected = new double[m * n];
                Gemm.Multiply<double>(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n);
                GemmReference.Multiply<double>(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, expected, n);
                Check.AllClose(expected, c, 1e-12, $"double m={m} n={n} k={k} {ta} {tb}");
            }
    }

    [Fact]
    public void Thread_limit_applies_to_the_calling_thread_only_and_is_restored()
    {
        int before = Gemm.EffectiveThreads;
        int other = -1;
        using (Gemm.LimitThreadsOnThisThread(1))
        {
            Assert.Equal(1, Gemm.EffectiveThreads);
            var t = new Thread(() => other = Gemm.EffectiveThreads);
            t.Start(); t.Join();
        }
        Assert.Equal(Environment.ProcessorCount, other);
        Assert.Equal(before, Gemm.EffectiveThreads);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.LimitThreadsOnThisThread(0));
    }

    [Fact]
    public void Zero_inner_dimension_gives_zeros_or_leaves_c()
    {
        var c = new float[] { 1, 2, 3, 4 };
        Gemm.Multiply<float>(false, false, 2, 2, 0, [], 0, [], 2, c, 2, accumulate: true);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, c);
        Gemm.Multiply<float>(false, false, 2, 2, 0, [], 0, [], 2, c, 2);
        Assert.Equal(new float[4], c);
    }

    [Fact]
    public void Too_short_buffers_are_refused_with_the_sizes()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply<float>(false, false, 3, 3, 3, new float[8], 3, new float[9], 3, new float[9], 3));
        Assert.Contains("A holds 8 elements", e.Message);
    }

    [Fact]
    public void MatMul_names_both_shapes_on_mismatch()
    {
        var a = new NDArray<float>(2, 3);
        var b = new NDArray<float>(4, 5);
        var e = Assert.Throws<ArgumentException>(() => Gemm.MatMul(a, b));
        Assert.Contains("(2, 3)", e.Message);
        Assert.Contains("(4, 5)", e.Message);
    }

    [Theory]
    [InlineData(100, 512, 300, false, 1)]   // the dense layer's shape, smaller: whole panels copied by the first tile, two K blocks
    [InlineData(100, 512, 300, false, 2)]   // … in column slabs
    [InlineData(13, 200, 70, true, 1)]      // a ragged last panel (8 columns) packed apart, 1 row past a whole tile
    [InlineData(150, 160, 600, true, 1)]    // two blocks of rows: the second reads the panels the first copied
    [InlineData(12, 128, 16, false, 1)]     // one tile of rows only
    [InlineData(3072, 160, 64, true, 2)]    // rows split (each thread copies its own B), transposed A
    [InlineData(100, 64, 600, false, 1)]    // A read in place (its 12-row tile copies B), three K blocks
    [InlineData(100, 64, 600, false, 2)]    // … in column slabs of one panel each
    [InlineData(37, 56, 300, false, 1)]     // … a last panel of 24 columns packed apart, ragged rows
    [InlineData(150, 96, 300, false, 1)]    // … two blocks of rows
    [InlineData(100, 96, 600, false, 2)]    // … column slabs of 48 whose middle panel is split by rows, each part copying it
    [InlineData(12, 2080, 16, false, 1)]    // a second block of columns (past NC): B's panels copied from column 2048 on
    public void Avx512_tiles_copying_B_give_each_sum_in_the_kernels_order(int m, int n, int k, bool ta, int threads)
    {
        // The AVX-512 paths (A packed, or read in place twelve rows at a time) copy B's whole panels inside each panel's
        // first tile instead of packing them first.
        var plan = GemmPlan.Make(ta, false, m, n, k, new GemmOptions { Kernel = GemmKernel.Avx512, Threads = threads, ParallelThreshold = 0 }, allowSmall: false);
        Assert.Equal(n <= 96 && !ta, plan.ReadsAInPlace);
        TilesCopyingBGiveEachSumInTheKernelsOrder(plan, m, n, k, ta);
    }

    [Theory]
    [InlineData(100, 512, 300, false, 1)]   // the dense layer's shape, smaller: whole panels copied by the first tile, two K blocks
    [InlineData(100, 512, 300, false, 2)]   // … in column slabs
    [InlineData(55, 200, 70, true, 1)]      // a ragged last panel (8 columns) packed apart, 1 row past a whole tile
    [InlineData(300, 160, 600, true, 1)]    // three blocks of rows: the later ones read the panels the first copied
    [InlineData(3072, 160, 64, true, 2)]    // rows split (each thread copies its own B), transposed A
    [InlineData(100, 2080, 16, false, 1)]   // a second block of columns (past NC): B's panels copied from column 2048 on
    public void Avx2_tiles_copying_B_give_each_sum_in_the_kernels_order(int m, int n, int k, bool ta, int threads)
    {
        // The AVX2 path with A packed copies B's whole panels inside each panel's first 6×16 tile instead of packing
        // them first (its tiles reading A or B in place do not copy).
        var plan = GemmPlan.Make(ta, false, m, n, k, new GemmOptions { Kernel = GemmKernel.Avx2, Threads = threads, ParallelThreshold = 0 }, allowSmall: false);
        Assert.False(plan.ReadsAInPlace);
        Assert.False(plan.ReadsBInPlace);
        TilesCopyingBGiveEachSumInTheKernelsOrder(plan, m, n, k, ta);
    }

    [Theory]
    [InlineData(GemmKernel.Avx2, 600, 1024, 1024, false)]   // two K blocks, the last in four column parts; 300 rows a thread (144 + 144 + 12)
    [InlineData(GemmKernel.Avx2, 600, 1000, 1024, true)]    // transposed A, K blocks of 504
    [InlineData(GemmKernel.Avx512, 600, 1024, 1024, false)]
    [InlineData(GemmKernel.Avx2, 302, 200, 1024, false)]    // one K block (the calls' blocks of A alike but for their call), 152 + 150 rows
    [InlineData(GemmKernel.Avx2, 200, 600, 520, false)]     // 100 rows a thread (ragged tiles), two parts of the last K block
    public void Shared_B_column_parts_reusing_a_packed_A_block_give_each_sum_in_the_kernels_order(GemmKernel kernel, int m, int k, int n, bool ta)
    {
        // The last K block of a shared-B product is multiplied in column parts, each part's block of rows one after the
        // other on one thread, which packs that block of A once. A second call with new values in the same arrays must
        // pack them again: the thread's record of what its buffer holds lasts one meeting of the threads.
        if (kernel == GemmKernel.Avx512 && Sgemm.BestKernel != GemmKernel.Avx512 || Sgemm.BestKernel == GemmKernel.Scalar) return;
        var plan = GemmPlan.Make(ta, false, m, n, k, new GemmOptions { Kernel = kernel, Threads = 2, ParallelThreshold = 0 }, allowSmall: false);
        Assert.Equal(GemmSplit.SharedB, plan.Split);
        var rng = new Random(m + k + n);
        int lda = ta ? m : k, ldc = n;
        var a = RandomArray(rng, (ta ? k : m) * lda); var b = RandomArray(rng, k * n);
        for (int call = 0; call < 3; call++)
        {
            bool accumulate = call == 1;
            var c = accumulate ? RandomArray(rng, m * ldc) : Enumerable.Repeat(float.NaN, m * ldc).ToArray();
            var expected = (float[])c.Clone();
            OrderedSums(ta, m, n, k, plan.KBlock, a, lda, b, n, expected, ldc, accumulate);
            Gemm.Execute(plan, a, lda, b, n, c, ldc, accumulate);
            Assert.True(expected.SequenceEqual(c), $"{plan} call {call}");
            for (int i = 0; i < a.Length; i += 7) a[i] = -a[i] * 0.5f;
        }
    }

    /// <summary>
    /// A product whose tiles copy B (<see cref="Sgemm.CopiesB"/>): every element must still be the K blocks' sums in
    /// the kernels' order (each block summed from zero by multiply-adds, then added to C), on one thread or two, C
    /// added to or overwritten (NaN before).
    /// </summary>
    private static void TilesCopyingBGiveEachSumInTheKernelsOrder(GemmPlan plan, int m, int n, int k, bool ta)
    {
        var kernel = plan.Kernel;
        Assert.Equal(0, plan.NarrowColumns);
        Assert.True(Sgemm.CopiesB(kernel, ta, false, plan.ReadsAInPlace, plan.ReadsAliasedRowsSixAtATime, m), plan.ToString());
        AssertEachSumInTheKernelsOrder(plan, ta, m, n, k, new Random(m * 31 + n + k));
    }

    /// <summary>
    /// The product of random A and B (A transposed with <paramref name="ta"/>; every leading dimension padded) under
    /// <paramref name="plan"/>, accumulated and not, equals bit for bit the K blocks' ordered sums (<see cref="OrderedSums"/>).
    /// </summary>
    /// <summary>The plan's product, accumulating onto random C and overwriting NaN, against <see cref="OrderedSums"/> bit for
    /// bit; A, B and C with gaps (B's rows <paramref name="ldb"/> apart, by default 5 past their length).</summary>
    private static void AssertEachSumInTheKernelsOrder(GemmPlan plan, bool ta, int m, int n, int k, Random rng, bool tb = false, int? ldb = null)
    {
        int lda = (ta ? m : k) + 3, ldB = ldb ?? (tb ? k : n) + 5, ldc = n + 2;
        var a = RandomArray(rng, (ta ? k : m) * lda); var b = RandomArray(rng, (tb ? n : k) * ldB);
        foreach (bool accumulate in new[] { true, false })
        {
            var c = accumulate ? RandomArray(rng, m * ldc) : Enumerable.Repeat(float.NaN, m * ldc).ToArray();
            var expected = (float[])c.Clone();
            OrderedSums(ta, m, n, k, plan.KBlock, a, lda, b, ldB, expected, ldc, accumulate, tb);
            Gemm.Execute(plan, a, lda, b, ldB, c, ldc, accumulate);
            Assert.True(expected.SequenceEqual(c), $"{plan} accumulate={accumulate}");
        }
    }

    [Fact]
    public void Large_products_sum_in_deeper_K_blocks_that_fill_the_packing_buffers()
    {
        // 512 rows (the least that takes the deeper blocks) by 1024 deep, 2080 wide: two K blocks of 512, the first
        // block of columns NC wide, so that each thread's packed B and the shared one are at their largest. Every
        // vector kernel and split must give each element as the K blocks' sums in the kernels' order (the scalar
        // kernel's multiplies and adds round apart: within rounding of them).
        const int m = 512, k = 1024, n = 2080;
        Assert.Equal(Sgemm.KC, GemmPlan.Make(false, false, m - 1, n, k, null, allowSmall: false).KBlock);
        var rng = new Random(5);
        var a = RandomArray(rng, m * k); var b = RandomArray(rng, k * n); var start = RandomArray(rng, m * n);
        foreach (bool accumulate in new[] { true, false })
        {
            var expected = accumulate ? (float[])start.Clone() : new float[m * n];
            OrderedSums(false, m, n, k, Sgemm.DeepKC, a, k, b, n, expected, n, accumulate);
            foreach (var (kernel, threads) in new[] { (GemmKernel.Avx2, 1), (GemmKernel.Avx2, 2), (GemmKernel.Avx512, 1), (GemmKernel.Avx512, 2), (GemmKernel.Scalar, 1) })
            {
                var plan = GemmPlan.Make(false, false, m, n, k, new GemmOptions { Kernel = kernel, Threads = threads, ParallelThreshold = 0 }, allowSmall: false);
                Assert.Equal(Sgemm.DeepKC, plan.KBlock);
                var c = accumulate ? (float[])start.Clone() : Enumerable.Repeat(float.NaN, m * n).ToArray();
                Gemm.Execute(plan, a, k, b, n, c, n, accumulate);
                if (kernel == GemmKernel.Scalar)
                    for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c[i] - expected[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"{plan} [{i}]");
                else Assert.True(expected.SequenceEqual(c), $"{plan} accumulate={accumulate}");
            }
        }
    }

    [Theory]
    [InlineData(GemmKernel.Avx512, 288, 32, 4000, true, 1)]   // a convolution's dW: deep transposed A, its next K blocks asked for in the tile
    [InlineData(GemmKernel.Avx512, 288, 32, 4000, true, 2)]   // … on two threads sharing B (nothing to pack)
    [InlineData(GemmKernel.Avx512, 300, 32, 600, false, 2)]   // row-major A, rows split
    [InlineData(GemmKernel.Avx512, 37, 32, 300, true, 1)]     // ragged rows (the 4-row and overlapping tiles)
    [InlineData(GemmKernel.Avx2, 50, 16, 300, false, 1)]      // the AVX2 panel, 16 wide
    [InlineData(GemmKernel.Avx2, 288, 16, 3000, true, 2)]
    public void B_exactly_a_panel_wide_is_read_where_it_lies_with_the_packed_bits(GemmKernel kernel, int m, int n, int k, bool ta, int threads)
    {
        // A row-major B one panel wide with ldb = n lies as PackB would pack it and is read in place: the same bits as
        // the same B held in a wider array (packed), and each element the K blocks' sums in the kernels' order.
        var rng = new Random(m * 17 + n + k);
        var options = new GemmOptions { Kernel = kernel, Threads = threads, ParallelThreshold = 0 };
        var plan = GemmPlan.Make(ta, false, m, n, k, options, allowSmall: false, split: threads > 1 && ta ? GemmSplit.SharedB : null);
        Assert.True(Sgemm.LiesPacked(false, n, n, Sgemm.NR(kernel)));
        // Read in place, B is never copied by the tiles (they would store B onto itself: B may be read-only memory).
        Assert.Equal(0, Sgemm.CopyColumns(kernel, ta, false, plan.ReadsAInPlace, plan.ReadsAliasedRowsSixAtATime, m, n, n, Sgemm.NR(kernel)));
        if (kernel == GemmKernel.Avx512 && !ta)
            Assert.Equal(n, Sgemm.CopyColumns(kernel, ta, false, plan.ReadsAInPlace, plan.ReadsAliasedRowsSixAtATime, m, n + 7, n, Sgemm.NR(kernel)));
        Assert.Equal(kernel == GemmKernel.Avx512 && ta && (long)m * k >= 1 << 20, plan.PrefetchesRowsOfA);
        Assert.Equal(0, plan.NarrowColumns);
        int lda = ta ? m : k, wide = n + 7;
        var a = RandomArray(rng, m * k); var b = RandomArray(rng, k * n);
        var bWide = new float[k * wide];
        for (int p = 0; p < k; p++) Array.Copy(b, p * n, bWide, p * wide, n);
        foreach (bool accumulate in new[] { true, false })
        {
            var inPlace = accumulate ? RandomArray(rng, m * n) : Enumerable.Repeat(float.NaN, m * n).ToArray();
            var packed = (float[])inPlace.Clone(); var expected = (float[])inPlace.Clone();
            Gemm.Execute(plan, a, lda, b, n, inPlace, n, accumulate);
            Gemm.Execute(plan, a, lda, bWide, wide, packed, n, accumulate);
            OrderedSums(ta, m, n, k, plan.KBlock, a, lda, b, n, expected, n, accumulate);
            Assert.True(packed.SequenceEqual(inPlace), $"{plan} accumulate={accumulate}: in place differs from packed");
            Assert.True(expected.SequenceEqual(inPlace), $"{plan} accumulate={accumulate}: not the kernels' order");
        }
    }

    [Theory]
    [InlineData(100, 160, 300, false, 1)]  // A's last panel 4 rows (8 · 12 + 4, 16 · 6 + 4), K blocks of 152 and 148 (18 · 8 + 4)
    [InlineData(100, 160, 300, false, 2)]  // … in column slabs, every thread packing all of A
    [InlineData(100, 128, 100, true, 1)]   // a transposed B 100 deep: 12 · 8 steps, then 4 by the 8×4 transpose
    [InlineData(100, 128, 100, true, 2)]
    [InlineData(52, 136, 103, true, 1)]    // 103 deep: the 8×4 transpose, then 3 steps the plain way; a ragged last panel
    [InlineData(52, 136, 103, true, 2)]
    [InlineData(40, 160, 300, false, 1)]   // AVX2: B read in place, A packed for it (6 · 6 + 4 rows)
    [InlineData(40, 160, 300, false, 2)]
    public void Short_panels_of_A_and_transposed_B_steps_packed_by_vectors_give_each_sum_in_the_kernels_order(int m, int n, int k, bool tb, int threads)
    {
        // PackA transposes a last panel of 4 rows 8 columns at a time, and PackB a transposed B's 4 steps after its last
        // whole 8 by an 8×4 transpose: both must put the same floats where the plain loops put them, on both vector
        // kernels, on one thread and in column slabs. A, B and C have gaps (NaN in C before an overwrite).
        foreach (var kernel in new[] { GemmKernel.Avx512, GemmKernel.Avx2 })
        {
            var plan = GemmPlan.Make(false, tb, m, n, k, new GemmOptions { Kernel = kernel, Threads = threads, ParallelThreshold = 0 }, allowSmall: false);
            Assert.False(plan.ReadsAInPlace, plan.ToString());
            Assert.Equal(0, plan.NarrowColumns);
            Assert.Equal(threads, plan.Threads);
            if (threads > 1) Assert.Equal(GemmSplit.ColumnSlabs, plan.Split);
            AssertEachSumInTheKernelsOrder(plan, false, m, n, k, new Random(m * 31 + n + k + threads), tb);
        }
    }

    [Theory]
    [InlineData(1000, 300, 120)]   // one K block: each thread packs B for its first slab (whole panels copied, the ragged one packed) and reuses it
    [InlineData(1536, 256, 100)]   // the dense layer's dW, smaller: A packed from its transpose
    [InlineData(2000, 130, 160)]   // 2 narrow columns per slab, one K block
    [InlineData(600, 200, 600)]    // three K blocks: B packed again for every slab
    public void Rows_cut_into_several_slabs_a_thread_match_one_thread_bit_for_bit(int m, int n, int k)
    {
        // A large row split of a packed A gives each thread several slabs, taken from the pool's counter; where B is one
        // block, a thread packs it for its first slab of a call only. Every transpose, both vector kernels, C added to
        // and overwritten, two calls in a row with different B (a thread must not take the first call's packed B for
        // the second's), and once with all the slabs on the calling thread (called from inside a pool part).
        var rng = new Random(m * 3 + n + k);
        foreach (var kernel in new[] { GemmKernel.Avx512, GemmKernel.Avx2 })
        {
            if (kernel == GemmKernel.Avx512 && Sgemm.BestKernel != GemmKernel.Avx512) continue;
            if (kernel == GemmKernel.Avx2 && Sgemm.BestKernel == GemmKernel.Scalar) continue;
            foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var plan = GemmPlan.Make(ta, tb, m, n, k, new GemmOptions { Kernel = kernel, Threads = 2 }, allowSmall: false, split: GemmSplit.Rows);
                Assert.Equal(GemmSplit.Rows, plan.Split);
                Assert.False(plan.ReadsAInPlace, plan.ToString());
                Assert.True(plan.Parts > plan.Threads, plan.ToString());
                Assert.Equal(0, plan.Chunk % Sgemm.MR(kernel));
                int lda = ta ? m : k, ldb = tb ? k : n;
                var a = RandomArray(rng, m * k);
                foreach (var (nested, accumulate) in new[] { (false, true), (false, false), (true, true), (false, true) })
                {
                    var b = RandomArray(rng, k * n);
                    var start = accumulate ? RandomArray(rng, m * n) : Enumerable.Repeat(float.NaN, m * n).ToArray();
                    var one = (float[])start.Clone(); var split = (float[])start.Clone();
                    Packed(ta, tb, m, n, k, a, lda, b, ldb, one, n, accumulate, kernel);
                    if (nested) WorkerPool.For(1, 1, _ => Gemm.Execute(plan, a, lda, b, ldb, split, n, accumulate));
                    else Gemm.Execute(plan, a, lda, b, ldb, split, n, accumulate);
                    Assert.True(one.SequenceEqual(split), $"{plan} nested={nested} accumulate={accumulate}: differs from one thread");
                    if (tb || plan.NarrowColumns > 0 || nested) continue;
                    var expected = (float[])start.Clone();
                    OrderedSums(ta, m, n, k, plan.KBlock, a, lda, b, ldb, expected, n, accumulate);
                    Assert.True(expected.SequenceEqual(split), $"{plan} accumulate={accumulate}: not the kernels' order");
                }
            }
        }
    }

    [Theory]
    [InlineData(512, 96)]    // a K block of 512 in 8 bands
    [InlineData(100, 64)]    // a band of 64 rows, then one of 36
    [InlineData(37, 1024)]   // one short band, B 1024 wide
    public unsafe void Bands_of_B_rows_pack_every_float_where_PackB_puts_it(int kc, int nc)
    {
        // A shared-B product packs a row-major B in bands of whole rows (PackBBand) into 32-wide panels rather than in
        // groups of columns: the bands together must lay out each K block exactly as PackB does, from a B with a gap
        // after each row, a K block starting past B's first row and a block of columns past its first column.
        const int pc = 3, jc = 5, nr = 32;
        int ldb = jc + nc + 7;
        var rng = new Random(kc + nc);
        var b = RandomArray(rng, (pc + kc) * ldb);
        var packed = Enumerable.Repeat(float.NaN, kc * nc).ToArray();
        var banded = Enumerable.Repeat(float.NaN, kc * nc).ToArray();
        Assert.True(Sgemm.PacksBInBands(false, nc, nr));
        Assert.False(Sgemm.PacksBInBands(false, nc, 16));
        fixed (float* pb = b) fixed (float* pp = packed) fixed (float* pd = banded)
        {
            Sgemm.PackB(false, pb, ldb, pc, jc, kc, nc, nr, pp);
            for (int row = 0; row < kc; row += Sgemm.PackBBandRows)
                Sgemm.PackBBand(pb, ldb, pc, row, Math.Min(Sgemm.PackBBandRows, kc - row), kc, jc, nc, pd);
        }
        Assert.Equal(packed, banded);
    }

    [Theory]
    [InlineData(GemmKernel.Avx512, 300, 1024, 1024, 2)]  // four K blocks of 256, each in 4 bands, all packed at once
    [InlineData(GemmKernel.Avx512, 200, 640, 600, 3)]    // K blocks of 200: 64 + 64 + 64 + 8 rows a block
    [InlineData(GemmKernel.Avx512, 150, 160, 301, 2)]    // two K blocks of 152 and 149
    [InlineData(GemmKernel.Avx512, 300, 1000, 600, 2)]   // a ragged last panel: packed in groups of columns instead
    [InlineData(GemmKernel.Avx512, 300, 2080, 257, 2)]   // two NC blocks (2048 + 32 columns), more threads than a K block has bands
    [InlineData(GemmKernel.Avx512, 300, 1024, 1100, 3)]  // three threads, K blocks of 368: 64 × 5 + 48 rows a block
    [InlineData(GemmKernel.Avx512, 300, 1026, 257, 2)]   // 1024 columns in bands and 2 narrow columns
    [InlineData(GemmKernel.Avx512, 600, 4100, 300, 2)]   // two NC blocks in bands and 4 narrow columns
    [InlineData(GemmKernel.Avx2, 300, 1024, 1024, 2)]    // the AVX2 kernel's panels: in groups of columns
    public void Shared_B_packed_in_bands_of_rows_gives_each_sum_in_the_kernels_order(GemmKernel kernel, int m, int n, int k, int threads)
    {
        // A row-major B whose columns are whole AVX-512 panels is packed by the threads in bands of its rows: every element
        // must still be the K blocks' sums in the kernels' order, C added to or overwritten (NaN before), with gaps
        // after the rows of B and C. The narrow columns sum over all of K in their own kernels' order, whichever rows
        // share them: they must be the bits of those kernels called on all the rows at once.
        if (Sgemm.BestKernel == GemmKernel.Scalar) return;
        var plan = GemmPlan.Make(false, false, m, n, k, new GemmOptions { Kernel = kernel, Threads = threads }, allowSmall: false, split: GemmSplit.SharedB);
        Assert.Equal(GemmSplit.SharedB, plan.Split);
        // Decided per NC block of the columns the tiles take, as the job decides it.
        int wide = n - plan.NarrowColumns;
        for (int jc = 0; jc < wide; jc += Sgemm.NC)
        {
            int nc = Math.Min(Sgemm.NC, wide - jc);
            Assert.Equal(kernel == GemmKernel.Avx512 && nc % 32 == 0, Sgemm.PacksBInBands(false, nc, Sgemm.NR(kernel)));
            Assert.False(Sgemm.PacksBInBands(true, nc, Sgemm.NR(kernel)));
        }
        var rng = new Random(m + n * 3 + k);
        int lda = k + 1, ldb = n + 3, ldc = n + 2;
        var a = RandomArray(rng, m * lda); var b = RandomArray(rng, k * ldb);
        foreach (bool accumulate in new[] { true, false })
        {
            var c = accumulate ? RandomArray(rng, m * ldc) : Enumerable.Repeat(float.NaN, m * ldc).ToArray();
            var expected = (float[])c.Clone();
            OrderedSums(false, m, wide, k, plan.KBlock, a, lda, b, ldb, expected, ldc, accumulate);
            unsafe
            {
                fixed (float* pa = a) fixed (float* pb = b) fixed (float* pe = expected)
                    Sgemm.NarrowColumnRows(plan, 0, m, pa, lda, pb, ldb, pe, ldc, accumulate);
            }
            Gemm.Execute(plan, a, lda, b, ldb, c, ldc, accumulate);
            Assert.True(expected.SequenceEqual(c), $"{plan} accumulate={accumulate}");
        }
    }

    [Fact]
    public void The_last_two_whole_tiles_of_a_deep_panel_ask_for_the_next_panel_one_half_each()
    {
        // 144 rows (12 tiles) of a K block of 512: tiles 10 and 11 ask for the next panel's halves, on every panel but
        // the block's last; a block of one whole tile asks for the first half; panels shallower than KC ask for nothing.
        // The AVX2 kernel's 6×16 tile asks for the whole next panel from the block's last whole tile but one.
        var kind = GemmKernel.Avx512;
        for (int ir = 0; ir < 144; ir += 12)
            Assert.Equal(ir == 120 ? 0 : ir == 132 ? 1 : -1, Sgemm.NextPanelHalf(kind, 512, ir, 144, 0, 1024));
        Assert.Equal(-1, Sgemm.NextPanelHalf(kind, 512, 132, 144, 992, 1024));
        Assert.Equal(1, Sgemm.NextPanelHalf(kind, 512, 132, 144, 960, 1000));
        Assert.Equal(0, Sgemm.NextPanelHalf(kind, 256, 0, 16, 0, 64));
        Assert.Equal(-1, Sgemm.NextPanelHalf(kind, 256, 12, 16, 0, 64));
        Assert.Equal(1, Sgemm.NextPanelHalf(kind, 256, 60, 80, 0, 64));
        Assert.Equal(-1, Sgemm.NextPanelHalf(kind, Sgemm.KC - 8, 132, 144, 0, 1024));
        for (int ir = 0; ir < 144; ir += 6)
            Assert.Equal(ir == 132 ? 0 : -1, Sgemm.NextPanelHalf(GemmKernel.Avx2, 512, ir, 144, 0, 1024));
        Assert.Equal(0, Sgemm.NextPanelHalf(GemmKernel.Avx2, 256, 84, 100, 0, 512));
        Assert.Equal(-1, Sgemm.NextPanelHalf(GemmKernel.Avx2, 256, 84, 100, 496, 512));
        Assert.Equal(0, Sgemm.NextPanelHalf(GemmKernel.Avx2, 256, 0, 8, 0, 512));
        Assert.Equal(-1, Sgemm.NextPanelHalf(GemmKernel.Scalar, 512, 132, 144, 0, 1024));
    }

    [Fact]
    public void The_next_panel_is_asked_for_exactly_once_by_two_halves_inside_it()
    {
        // A prefetch never faults nor changes a sum, so only this can catch a wrong address: over a block's tiles each
        // panel but the last asks for the next one's kc · 32 floats, a cache line (16 floats) a step for kc steps a
        // tile, every line once and none outside it (a block of one whole tile: the first half); the last panel, a
        // shallow K block and a next panel still to be packed by its first tile (PackedACopiesB) ask for nothing.
        AssertNextPanelAskedForExactly(GemmKernel.Avx512);
    }

    [Fact]
    public void The_6x16_tiles_ask_for_the_next_panel_exactly_once_inside_it()
    {
        // The AVX2 kernel's packed panel row of 16 floats is one cache line: one tile of kc steps asks for the whole
        // next panel, every line once and none outside it.
        AssertNextPanelAskedForExactly(GemmKernel.Avx2);
    }

    private static void AssertNextPanelAskedForExactly(GemmKernel kind)
    {
        const int line = 16;
        int nr = Sgemm.NR(kind), mr = Sgemm.MR(kind);
        foreach (int kc in new[] { Sgemm.KC, Sgemm.KC + 1, 300, 368, 511, 512, Sgemm.DeepKC })
            foreach (int mc in new[] { 6, 12, 16, 24, 40, 100, 116, 144 })
                foreach (int nc in new[] { 64, 100, 1000, 1024 })
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        if (mc < mr) continue;
                        var asked = new List<long>();
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            long at = Sgemm.NextPanelAsk(kind, kc, ir, mc, jr, nc);
                            if (at >= 0) for (long step = 0; step < kc; step++) asked.Add(at + step * line);
                            Assert.Equal(-1, Sgemm.NextPanelAsk(kind, kc, ir, mc, jr, nc, copyColumns: jr + 2 * nr));
                            Assert.Equal(-1, Sgemm.NextPanelAsk(kind, Sgemm.KC - 1, ir, mc, jr, nc));
                        }
                        string where = $"{kind} kc={kc} mc={mc} nc={nc} jr={jr}";
                        if (jr + nr >= nc) { Assert.True(asked.Count == 0, where); continue; }
                        // Offsets from this panel's start: the next panel's lines are kc·nr … 2·kc·nr (the 12×32
                        // tile's block of one whole tile: its first half).
                        int lineCount = kind == GemmKernel.Avx512 && mc < 24 ? kc : kc * nr / line;
                        var lines = Enumerable.Range(0, lineCount).Select(i => (long)nr * kc + (long)i * line);
                        Assert.True(lines.SequenceEqual(asked.Order()), where);
                        Assert.True(asked.Distinct().Count() == asked.Count, where);
                        int lastAsker = kind == GemmKernel.Avx512 ? mc / mr * mr - mr : Math.Max(0, mc / mr * mr - 2 * mr);
                        Assert.True(Sgemm.NextPanelAsk(kind, kc, lastAsker, mc, jr, nc, copyColumns: jr + nr) >= 0, where);
                    }
    }

    [Fact]
    public void The_6x16_tile_before_a_blocks_last_whole_one_asks_for_the_rows_the_next_panel_copies()
    {
        // 100 rows (16 whole tiles and 4 rows): the tile at row 84 asks for the rows of a row-major B that the next
        // panel's first tile copies, at any depth; the last copied panel, the other tiles, the copying tile itself (a
        // block of one whole tile) and the AVX-512 kernel ask for none, and a packed next panel is asked for instead
        // by NextPanelAsk.
        for (int ir = 0; ir < 100; ir += 6)
            foreach (int kc in new[] { 64, 256, 512 })
            {
                Assert.Equal(ir == 84 ? 16 : -1, Sgemm.NextRowsAsk(GemmKernel.Avx2, kc, ir, 100, 0, 512, 512));
                Assert.Equal(-1, Sgemm.NextPanelAsk(GemmKernel.Avx2, kc, ir, 100, 0, 512, 512));
            }
        Assert.Equal(-1, Sgemm.NextRowsAsk(GemmKernel.Avx2, 256, 84, 100, 496, 512, 512));
        Assert.Equal(480, Sgemm.NextRowsAsk(GemmKernel.Avx2, 256, 84, 100, 464, 512, 496));
        Assert.Equal(-1, Sgemm.NextRowsAsk(GemmKernel.Avx2, 256, 84, 100, 480, 512, 496));
        Assert.Equal(-1, Sgemm.NextRowsAsk(GemmKernel.Avx2, 256, 0, 8, 0, 512, 512));
        Assert.Equal(-1, Sgemm.NextRowsAsk(GemmKernel.Avx512, 256, 84, 100, 0, 512, 512));
    }

    [Fact]
    public void The_6x16_tiles_ask_for_the_rows_of_the_next_copied_panel_exactly_once()
    {
        // A prefetch never faults nor changes a sum, so only this can catch a wrong address: over a block's tiles each
        // panel whose next panel is still to be copied asks, once and from a tile other than the copying one, for the
        // column that next panel's copying tile reads (MacroKernel hands it rawB + its own jr); no other panel asks,
        // no tile asks for both the rows and a packed panel (NextPanelAsk), and the AVX-512 kernel never asks.
        const int nr = 16, mr = 6;
        foreach (int kc in new[] { 8, 64, Sgemm.KC - 1, Sgemm.KC, 300, 512, Sgemm.DeepKC })
            foreach (int mc in new[] { 6, 12, 16, 18, 24, 40, 100, 116, 144 })
                foreach (int nc in new[] { 32, 64, 100, 1000, 1024 })
                    foreach (int copyColumns in new[] { 0, nr, nc / nr / 2 * nr, nc / nr * nr })
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            string where = $"kc={kc} mc={mc} nc={nc} copy={copyColumns} jr={jr}";
                            var asked = new List<int>();
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                int column = Sgemm.NextRowsAsk(GemmKernel.Avx2, kc, ir, mc, jr, nc, copyColumns);
                                Assert.Equal(-1, Sgemm.NextRowsAsk(GemmKernel.Avx512, kc, ir, mc, jr, nc, copyColumns));
                                if (column < 0) continue;
                                asked.Add(column);
                                Assert.True(ir > 0 && ir + mr <= mc, where);
                                Assert.Equal(-1, Sgemm.NextPanelAsk(GemmKernel.Avx2, kc, ir, mc, jr, nc, copyColumns));
                            }
                            // The next panel's first tile copies (ir == 0 && jr + nr < copyColumns) and reads from
                            // column jr + nr; a block of at least three whole tiles has a tile to ask for it.
                            bool nextCopied = jr + nr < copyColumns && jr + nr < nc;
                            Assert.Equal(nextCopied && mc / mr >= 3 ? new[] { jr + nr } : [], asked.ToArray());
                        }
    }

    [Theory]
    [InlineData(100, 512, 600, false, 512, 1)]   // B's rows 512 floats apart, copied by the tiles: K blocks of 200, rows asked for
    [InlineData(100, 512, 600, false, 517, 2)]   // the same with rows not aliased, on two threads (column slabs)
    [InlineData(150, 200, 512, true, 515, 1)]    // Bᵀ packed by PackB: K blocks of 256, the next packed panel asked for, a ragged last panel
    [InlineData(530, 520, 1030, false, 520, 2)]  // deep K blocks, threads sharing B
    public void Six_by_sixteen_tiles_asking_for_the_next_panel_give_each_sum_in_the_kernels_order(int m, int n, int k, bool tb, int ldb, int threads)
    {
        // The AVX2 tiles that ask for the next panel's rows of B or packed panel as they go (and the copying tiles of a
        // B whose rows alias in L1) must sum exactly as the other tiles do.
        if (Sgemm.BestKernel == GemmKernel.Scalar) return;
        var plan = GemmPlan.Make(false, tb, m, n, k, new GemmOptions { Kernel = GemmKernel.Avx2, Threads = threads, ParallelThreshold = 0 }, allowSmall: false);
        Assert.False(plan.ReadsAInPlace, plan.ToString());
        Assert.False(plan.ReadsBInPlace, plan.ToString());
        int mc = Math.Min(m, Sgemm.MC), asker = mc / 6 * 6 - 12, copy = Sgemm.CopiesB(GemmKernel.Avx2, false, tb, false, false, m) ? n / 16 * 16 : 0;
        Assert.True(Sgemm.NextRowsAsk(GemmKernel.Avx2, plan.KBlock, asker, mc, 0, n, copy) >= 0 || Sgemm.NextPanelAsk(GemmKernel.Avx2, plan.KBlock, asker, mc, 0, n, copy) >= 0, plan.ToString());
        AssertEachSumInTheKernelsOrder(plan, false, m, n, k, new Random(m * 7 + n + k), tb, ldb);
    }

    [Theory]
    [InlineData(300, 200, 512, false, 1)]   // K blocks of 256, blocks of 144, 144 and 12 rows, a ragged last panel
    [InlineData(300, 200, 512, true, 2)]    // transposed A, on two threads sharing B
    [InlineData(520, 600, 1100, false, 2)]  // K blocks of 368, 260 rows a thread: blocks of 144 and 116 (9 whole tiles and 8 rows)
    [InlineData(40, 128, 512, false, 1)]    // few rows: one block of 40 (3 whole tiles and 4 rows), 4 panels
    public void Tiles_asking_for_the_next_panel_give_each_sum_in_the_kernels_order(int m, int n, int k, bool ta, int threads)
    {
        // The AVX-512 tiles that ask for the next B panel as they go (a deep K block's last two whole tiles of a
        // panel) must sum exactly as the other tiles do: each element the K blocks' sums in the kernels' order. The
        // software Vector512 runs the kernel where the CPU lacks AVX-512.
        if (Sgemm.BestKernel == GemmKernel.Scalar) return;
        var plan = GemmPlan.Make(ta, false, m, n, k, new GemmOptions { Kernel = GemmKernel.Avx512, Threads = threads, ParallelThreshold = 0 }, allowSmall: false);
        Assert.False(plan.ReadsAInPlace, plan.ToString());
        Assert.True(plan.KBlock >= Sgemm.KC, plan.ToString());
        Assert.True(Sgemm.NextPanelHalf(GemmKernel.Avx512, plan.KBlock, Math.Min(m, Sgemm.MC) / 12 * 12 - 12, Math.Min(m, Sgemm.MC), 0, n) == 1, plan.ToString());
        AssertEachSumInTheKernelsOrder(plan, ta, m, n, k, new Random(m * 5 + n + k));
    }

    /// <summary>
    /// C (+)= op(A)·B summed as the vector kernels sum each element: per K block of <paramref name="kBlock"/> steps a
    /// multiply-add chain from zero in k order, then added to C (or stored, for the first block without accumulate).
    /// </summary>
    private static void OrderedSums(bool ta, int m, int n, int k, int kBlock, float[] a, int lda, float[] b, int ldb, float[] c, int ldc, bool accumulate, bool tb = false)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int pc = 0; pc < k; pc += kBlock)
                {
                    float s = 0;
                    for (int p = pc; p < Math.Min(k, pc + kBlock); p++)
                        s = MathF.FusedMultiplyAdd(ta ? a[p * lda + i] : a[i * lda + p], tb ? b[j * ldb + p] : b[p * ldb + j], s);
                    c[i * ldc + j] = accumulate || pc > 0 ? c[i * ldc + j] + s : s;
                }
    }

    private static float[] RandomArray(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
