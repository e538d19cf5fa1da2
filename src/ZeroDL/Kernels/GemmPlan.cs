using System.Globalization;
using System.Text;

namespace ZeroDL.Kernels;

/// <summary>How a float32 product is split over threads.</summary>
public enum GemmSplit
{
    /// <summary>The whole product on the calling thread.</summary>
    None,
    /// <summary>The threads pack B's panels between them, then each multiplies its own rows of C against all of it.</summary>
    SharedB,
    /// <summary>
    /// Contiguous slabs of rows, each a whole product on its own (B packed by every thread, once a call where it is one
    /// block): one per thread, or for a large product of a packed A a few per thread, taken from the pool's counter.
    /// </summary>
    Rows,
    /// <summary>One contiguous slab of columns per thread (products wider than tall).</summary>
    Columns,
    /// <summary>
    /// Few rows (at most 128): a slab of whole 16-column steps (an AVX2 panel, half an AVX-512 one) per thread, or for
    /// a wide product a few slabs of whole panels per thread, taken from the pool's counter; the last slab taking the
    /// rest; every thread all the rows, the product's narrow columns shared out by rows.
    /// </summary>
    ColumnSlabs,
}

/// <summary>
/// Every choice a float32 product's execution makes, decided once by <see cref="Gemm.Plan"/> from the shape and the
/// <see cref="GemmOptions"/>: the kernel, whether the small-product path takes it, whether A or B is read in place
/// instead of packed, the depth of the K blocks, the narrow columns, the split over threads. The choices that decide
/// how each element is summed (kernel, K blocks, narrow columns) are the whole product's, whatever the split, so a
/// threaded product gives the same bits as on one thread. <see cref="ToString"/> says it in words, e.g.
/// "100×784×50 → avx2 6x16, A read in place, K blocks of 200, 2 narrow columns, 2 threads: rows 50+50".
/// </summary>
public readonly record struct GemmPlan
{
    public int M { get; init; }
    public int N { get; init; }
    public int K { get; init; }
    public bool TransA { get; init; }
    public bool TransB { get; init; }
    /// <summary>The micro-kernel (never <see cref="GemmKernel.Auto"/>).</summary>
    public GemmKernel Kernel { get; init; }
    /// <summary>Rows formed in registers without packing (<see cref="SmallGemm"/>); the fields below then do not apply.</summary>
    public bool Small { get; init; }
    /// <summary>Threads the product runs on (1: the calling thread alone).</summary>
    public int Threads { get; init; }
    public GemmSplit Split { get; init; }
    /// <summary>
    /// Slabs: how many (a large row split several per thread, taken in turn by whichever thread is free); rows or
    /// columns in each but the last (which takes the rest); <see cref="GemmSplit.SharedB"/>: rows per thread.
    /// </summary>
    public int Parts { get; init; }
    public int Chunk { get; init; }
    /// <summary>The last columns (n mod the panel width, up to 4) computed apart by the narrow-column kernels.</summary>
    public int NarrowColumns { get; init; }
    /// <summary>
    /// <see cref="GemmSplit.ColumnSlabs"/> on two threads whose slabs meet in the middle of a 32-column AVX-512 panel:
    /// the first thread computes that panel's rows 0 … SplitPanelRows, the second the rest (0: no panel is split).
    /// </summary>
    public int SplitPanelRows { get; init; }
    /// <summary>A read where it lies (thin products), 6 rows at a time on AVX2, 12 (or 6) on AVX-512, instead of packed.</summary>
    public bool ReadsAInPlace { get; init; }
    /// <summary>B's 16-column strips read where they lie (AVX2, at most 48 rows), instead of packed.</summary>
    public bool ReadsBInPlace { get; init; }
    /// <summary>The depth of the K blocks (k split into blocks of equal depth).</summary>
    public int KBlock { get; init; }
    /// <summary>
    /// A row-major A read in place whose rows alias in L1 (AVX-512, rows a multiple of 1024 floats apart) is read six
    /// rows at a time rather than twelve (<see cref="Sgemm.ReadsAliasedRowsSixAtATime"/>); the sums are the same.
    /// </summary>
    public bool ReadsAliasedRowsSixAtATime { get; init; }
    /// <summary>A tall A read in place asks for its next rows ahead of the kernel (a deep transposed A: its next K block's).</summary>
    public bool PrefetchesRowsOfA { get; init; }

    /// <summary>
    /// The plan for an m×k by k×n product whose A has leading dimension <paramref name="lda"/> (0: A's rows packed
    /// tight, m with <paramref name="transA"/>, else k). <paramref name="split"/> forces a split (tests use it to run a
    /// shape the rule would keep on one thread through the threaded paths); null takes the rule's.
    /// </summary>
    internal static GemmPlan Make(bool transA, bool transB, int m, int n, int k, GemmOptions? options, bool allowSmall = true, GemmSplit? split = null, int lda = 0)
    {
        if (lda <= 0) lda = transA ? m : k;
        options ??= GemmOptions.Default;
        var kernel = options.Kernel == GemmKernel.Auto ? Sgemm.BestKernel : options.Kernel;
        var plan = new GemmPlan { M = m, N = n, K = k, TransA = transA, TransB = transB, Kernel = kernel, Threads = 1, Parts = 1 };
        // The small-product kernel is a vector kernel: a forced scalar kernel stays on the scalar tiles.
        if (allowSmall && split is null && kernel != GemmKernel.Scalar && SmallGemm.Applies(m, n, k))
            return plan with { Small = true, Chunk = m };
        int narrow = Sgemm.NarrowColumns(kernel, n);
        bool direct = Sgemm.ReadsAInPlace(kernel, transA, n - narrow) && !Sgemm.PacksAliasedA(kernel, transA, m, k, lda);
        bool directB = !transB && kernel == GemmKernel.Avx2 && m <= Sgemm.DirectBMaxRows;
        plan = plan with
        {
            NarrowColumns = narrow,
            ReadsAInPlace = direct,
            ReadsAliasedRowsSixAtATime = direct && Sgemm.ReadsAliasedRowsSixAtATime(kernel, transA, lda),
            ReadsBInPlace = directB,
            KBlock = k == 0 ? 0 : Sgemm.KBlock(k, direct && !directB ? Sgemm.InPlaceKBlockLimit(kernel, transA) : Sgemm.PackedKBlockLimit(m, n - narrow)),
            Chunk = m,
        };
        int threads = split is null ? options.ThreadsFor((long)m * n * k) : Math.Max(2, options.Threads ?? 2);
        var how = split ?? Choose(kernel, m, n, k, threads);
        if (how == GemmSplit.None)
            return plan with { PrefetchesRowsOfA = direct && Sgemm.Streams(kernel, transA, m, n - narrow, k) };
        plan = plan with { Threads = threads, Split = how };
        switch (how)
        {
            case GemmSplit.SharedB:
            {
                int rowSplit = Sgemm.RowSplit(kernel);
                int rows = ((m + threads - 1) / threads + rowSplit - 1) / rowSplit * rowSplit;
                return plan with { Parts = threads, Chunk = rows, PrefetchesRowsOfA = direct && Sgemm.Streams(kernel, transA, m, n - narrow, k) };
            }
            case GemmSplit.ColumnSlabs:
            {
                int chunk = Sgemm.ColumnSlabsFor(kernel, m, n, threads), parts = threads;
                int slabs = Sgemm.ColumnSlabsPerThread(m, n - narrow, k, threads);
                if (slabs > 1)
                {
                    // Several slabs a thread, taken in turn: whole panels of the kernel, all but the last at least
                    // MinColumnSlabColumns wide, the last taking the rest (and the narrow columns after it).
                    int pieces = threads * slabs, nr = Sgemm.NR(kernel), wide = n - narrow;
                    chunk = ((wide + pieces - 1) / pieces + nr - 1) / nr * nr;
                    parts = (wide + chunk - 1) / chunk;
                }
                return plan with
                {
                    Parts = parts, Chunk = chunk, PrefetchesRowsOfA = direct && Sgemm.Streams(kernel, transA, m, chunk, k),
                    SplitPanelRows = parts > threads ? 0 : Sgemm.SplitPanelRowsFor(kernel, m, chunk, threads),
                };
            }
            default:
            {
                bool rows = how == GemmSplit.Rows;
                int extent = rows ? m : n;
                // Rows in whole pairs (AVX2's edge kernels) or whole tiles, columns in whole panels of the widest kernel;
                // rows cut into several slabs a thread in whole register tiles, so that the cuts add no ragged tiles.
                int pieces = rows ? threads * Sgemm.RowSlabsPerThread(direct, m, n, k, threads) : threads;
                int align = !rows ? 32 : pieces > threads ? Sgemm.MR(kernel) : Sgemm.RowSplit(kernel);
                int chunk = ((extent + pieces - 1) / pieces + align - 1) / align * align;
                int parts = Math.Max(1, Math.Min(pieces, (extent + chunk - 1) / chunk));
                bool streams = direct && (rows ? Sgemm.Streams(kernel, transA, chunk, n - narrow, k) : Sgemm.Streams(kernel, transA, m, chunk, k));
                return plan with { Parts = parts, Chunk = chunk, PrefetchesRowsOfA = streams };
            }
        }
    }

    /// <summary>The split rule: column slabs for few rows, else one packed B shared when it is large, else slabs of the larger side.</summary>
    private static GemmSplit Choose(GemmKernel kernel, int m, int n, int k, int threads)
    {
        if (threads <= 1) return GemmSplit.None;
        if (Sgemm.ColumnSlabsFor(kernel, m, n, threads) > 0) return GemmSplit.ColumnSlabs;
        if (Sgemm.SharesB(m, n, k)) return GemmSplit.SharedB;
        return m >= n ? GemmSplit.Rows : GemmSplit.Columns;
    }

    /// <summary>Where part <paramref name="part"/>'s rows (or columns) start and how many it has.</summary>
    internal (int Start, int Length) Slab(int part)
    {
        int extent = Split is GemmSplit.Rows or GemmSplit.SharedB ? M : N;
        int start = Math.Min(extent, part * Chunk);
        int length = part == Parts - 1 && Split != GemmSplit.SharedB ? extent - start : Math.Min(Chunk, extent - start);
        return (start, length);
    }

    /// <summary>The plan in words: the shape (M×K×N, as the benches name products), then every choice.</summary>
    public override string ToString()
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{M}×{K}×{N}{(TransA ? " Aᵀ" : "")}{(TransB ? " Bᵀ" : "")} → ");
        if (Small) return s.Append("small product, rows in registers").ToString();
        s.Append(Sgemm.KernelName(Kernel));
        if (ReadsAInPlace) s.Append(", A read in place");
        if (PrefetchesRowsOfA) s.Append(" (next rows prefetched)");
        if (ReadsAliasedRowsSixAtATime) s.Append(", 6 rows at a time (rows a multiple of 4 KB apart)");
        if (ReadsBInPlace) s.Append(", B read in place");
        if (KBlock > 0 && KBlock < K) s.Append(CultureInfo.InvariantCulture, $", K blocks of {KBlock}");
        if (NarrowColumns > 0) s.Append(CultureInfo.InvariantCulture, $", {NarrowColumns} narrow column{(NarrowColumns > 1 ? "s" : "")}");
        if (Split == GemmSplit.None) return s.Append(", 1 thread").ToString();
        s.Append(CultureInfo.InvariantCulture, $", {Threads} threads: ");
        s.Append(Split switch
        {
            GemmSplit.SharedB => "shared B, rows ",
            GemmSplit.Rows => "rows ",
            GemmSplit.Columns => "columns ",
            _ => "column slabs ",
        });
        for (int p = 0; p < Parts; p++) s.Append(p > 0 ? "+" : "").Append(Slab(p).Length.ToString(CultureInfo.InvariantCulture));
        if (Split is GemmSplit.Rows or GemmSplit.ColumnSlabs && Parts > Threads) s.Append(" (slabs taken in turn by whichever thread is free)");
        if (Split == GemmSplit.ColumnSlabs && NarrowColumns > 0) s.Append(" (narrow columns shared by rows)");
        if (SplitPanelRows > 0)
            s.Append(CultureInfo.InvariantCulture, $", the panel between them split by rows {SplitPanelRows}+{M - SplitPanelRows}");
        return s.ToString();
    }
}
