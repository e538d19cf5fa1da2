using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// Single-precision GEMM in the BLIS style: C (m×n) = op(A) (m×k) · op(B) (k×n), optionally added to C.
/// Loops, outermost first: columns of C in blocks of NC; k in blocks of KC (B block packed into NR-wide
/// panels, kept in L3/L2); rows of C in blocks of MC (A block packed into MR-high panels, kept in L2);
/// then an MR×NR register tile per micro-kernel call (one B panel stays in L1 across the row panels).
/// Transposition is handled entirely by the packing routines, so op(A) and op(B) cost the same.
/// Ragged edges are packed with zeros and the micro-kernel writes them through a small scratch tile; with the AVX2
/// kernel, ragged rows take the 4- and 2-row kernels of Sgemm.RowEdgeKernels.cs instead of a whole 6-row tile, with
/// the AVX-512 kernel the 4×32, 12×24 and 12×16 tiles of Sgemm.InPlaceA512.cs. This file holds the loops of one
/// product; the packing is in Sgemm.Packing.cs, the register tiles in Sgemm.MicroKernels.cs, and a product whose
/// threads share one packed B in Sgemm.SharedB.cs.
/// </summary>
internal static unsafe partial class Sgemm
{
    internal const int KC = 256, MC = 144, NC = 2048;

    /// <summary>
    /// The deepest K block of a packed product at least <see cref="DeepKMinSide"/> on both sides: C's tiles are then
    /// loaded, added to and stored once per 512 steps of k instead of 256. A product that large is bound by that
    /// traffic more than by its B panel spilling out of L1. The presets' products are thinner (a side of at most 100
    /// or 64 columns, or k ≤ 64) and keep <see cref="KC"/>, so their sums, and the trainings that run them, kept their
    /// bits; a wider network on larger batches (hidden 1024, batch 512) sums its products in the deeper blocks.
    /// </summary>
    internal const int DeepKC = 512, DeepKMinSide = 512;

    /// <summary>The deepest K block of a packed product of m×n (<see cref="KC"/>, or <see cref="DeepKC"/> for a large one).</summary>
    internal static int PackedKBlockLimit(int m, int n) => m >= DeepKMinSide && n >= DeepKMinSide ? DeepKC : KC;

    private static readonly bool HasAvx512 = Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
    private static readonly bool HasAvx2 = Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    /// <summary>The best micro-kernel this CPU runs.</summary>
    public static GemmKernel BestKernel { get; } = HasAvx512 ? GemmKernel.Avx512 : HasAvx2 ? GemmKernel.Avx2 : GemmKernel.Scalar;

    /// <summary>A kernel's name and register tile: "avx512 12x32", "avx2 6x16" or "scalar 6x16".</summary>
    public static string KernelName(GemmKernel kind) => kind switch
    {
        GemmKernel.Avx512 => "avx512 12x32",
        GemmKernel.Avx2 => "avx2 6x16",
        GemmKernel.Scalar => "scalar 6x16",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a plan's kernel is never Auto"),
    };

    /// <summary>How many of a wholeN-wide product's last columns the narrow kernels take (0 to <see cref="MaxNarrowColumns"/>).</summary>
    public static int NarrowColumnCount(GemmKernel kind, int wholeN) => NarrowColumns(kind, wholeN);

    internal static int MR(GemmKernel k) => k == GemmKernel.Avx512 ? 12 : 6;
    /// <summary>The columns of one panel of B (16 for AVX2 and scalar, 32 for AVX-512).</summary>
    internal static int NR(GemmKernel k) => k == GemmKernel.Avx512 ? 32 : 16;

    /// <summary>Per-thread packing buffers, 64-byte aligned, allocated once per thread and kept.</summary>
    private sealed class PackBuffers
    {
        public readonly float* A = (float*)NativeMemory.AlignedAlloc((nuint)(MC * DeepKC * sizeof(float)), 64);
        public readonly float* B = (float*)NativeMemory.AlignedAlloc((nuint)(DeepKC * (NC + 32) * sizeof(float)), 64);
        public readonly float* Tile = (float*)NativeMemory.AlignedAlloc((nuint)(12 * 32 * sizeof(float)), 64);
        /// <summary>The call whose whole B <see cref="B"/> holds packed (see <see cref="Serial(in GemmPlan, int, int, float*, int, float*, int, float*, int, bool, bool, long)"/>), 0 for none.</summary>
        public long PackedBOfCall;
        ~PackBuffers()
        {
            NativeMemory.AlignedFree(A);
            NativeMemory.AlignedFree(B);
            NativeMemory.AlignedFree(Tile);
        }
    }

    [ThreadStatic] private static PackBuffers? t_buffers;

    /// <summary>Runs the whole product on the calling thread with <paramref name="kind"/>, packed (never the small-product path).</summary>
    public static void Serial(GemmKernel kind, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        var plan = GemmPlan.Make(transA, transB, m, n, k, new GemmOptions { Kernel = kind, Threads = 1 }, allowSmall: false, lda: lda);
        Serial(plan, m, n, a, lda, b, ldb, c, ldc, accumulate, holdsLastColumns: true);
    }

    /// <summary>
    /// Runs an m × n slab (rows or columns) of <paramref name="plan"/>'s product on the calling thread. The choices
    /// that decide how each element is summed (the kernel, the depth of the K blocks, which columns the narrow kernels
    /// take) are the whole product's, from the plan, so that a product split into slabs over threads gives the same
    /// bits as on one thread: the plan's narrow columns are computed only in the slab that
    /// <paramref name="holdsLastColumns"/>.
    /// </summary>
    /// <remarks>
    /// A nonzero <paramref name="call"/> names the call this slab belongs to, whose slabs all multiply the same B (slabs
    /// of rows): where B is packed as one block, a thread packs it for its first slab of the call and multiplies its
    /// later slabs by that packed copy.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Serial(in GemmPlan plan, int m, int n, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, bool holdsLastColumns,
        long call = 0)
    {
        bool transA = plan.TransA, transB = plan.TransB;
        int k = plan.K;
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) new Span<float>(c + (long)i * ldc, n).Clear();
            return;
        }
        var buffers = t_buffers ??= new PackBuffers();
        var kind = plan.Kernel;
        int narrow = holdsLastColumns ? plan.NarrowColumns : 0;
        if (narrow > n) throw new ArgumentException($"gemm: a slab of {n} columns cannot hold the product's last {narrow}");
        if (narrow > 0)
        {
            n -= narrow;
            NarrowColumnsProduct(transA, transB, 0, m, narrow, n, k, a, lda, b, ldb, c, ldc, accumulate);
        }
        bool direct = plan.ReadsAInPlace, directB = plan.ReadsBInPlace, streamsA = plan.PrefetchesRowsOfA, sixRows = plan.ReadsAliasedRowsSixAtATime;
        int nr = NR(kind), kStep = plan.KBlock;
        bool oneBlock = call != 0 && !directB && n <= NC && kStep >= k;
        bool packed = oneBlock && buffers.PackedBOfCall == call;
        // Cleared while the buffer is written: a slab that throws part way leaves no claim to a whole packed B.
        buffers.PackedBOfCall = 0;
        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += kStep)
            {
                int kc = Math.Min(kStep, k - pc);
                bool acc = accumulate || pc > 0;
                // Products with few rows: packing B would cost about as much as the arithmetic it feeds, so
                // whole 16-column strips of a row-major B are read in place (AVX2 kernel only).
                if (directB)
                {
                    DirectBBlock(transA, a, lda, b, ldb, m, pc, kc, nc, jc, c, ldc, acc, buffers);
                    continue;
                }
                // Thin products: read A in place rather than packing it (the vector kernels). B is read from packed
                // panels (its strips read in place are slower, docs/benchmarks.md): B's own rows where they already lie
                // as panels, else panels the tiles pack as they go (the first tile of each), else PackB's.
                bool liesPacked = LiesPacked(transB, ldb, nc, nr);
                float* packedB = liesPacked ? b + (long)pc * ldb + jc : buffers.B;
                // B packed by this thread's earlier slab of the call: neither copied by the tiles nor packed again.
                int copyColumns = packed ? 0 : CopyColumns(kind, transA, transB, direct, sixRows, m, ldb, nc, nr);
                if (!packed && !liesPacked && copyColumns < nc) PackB(transB, b, ldb, pc, jc + copyColumns, kc, nc - copyColumns, nr, packedB + (long)copyColumns * kc);
                for (int ic = 0; ic < m; ic += MC)
                {
                    int mc = Math.Min(MC, m - ic);
                    if (direct)
                    {
                        if (kind == GemmKernel.Avx512)
                            DirectBlock512(transA, a, lda, ic, pc, mc, kc, nc, jc, packedB, c, ldc, acc, buffers, streamsA, sixRows, Math.Min(kStep, k - pc - kc),
                                ic == 0 ? copyColumns : 0, b + (long)pc * ldb + jc, ldb);
                        else DirectBlock(transA, a, lda, ic, pc, mc, kc, nc, jc, packedB, c, ldc, acc, buffers, streamsA);
                        continue;
                    }
                    MacroKernel(kind, transA, a, lda, m, ic, mc, pc, kc, jc, nc, packedB, c, ldc, acc, buffers,
                        ic == 0 ? copyColumns : 0, b + (long)pc * ldb + jc, ldb);
                }
            }
        }
        if (oneBlock) buffers.PackedBOfCall = call;
    }

    /// <summary>
    /// How many slabs of rows each thread's share of a row split is cut into (<see cref="GemmSplit.Rows"/>): the
    /// threads take the slabs in turn from the pool's counter, so that a thread that loses its core for a while (a
    /// shared host) leaves the other thread its remaining slabs rather than a half of the product to wait for. Each
    /// slab at least <see cref="MinRowSlabMultiplyAdds"/>, at most <see cref="MaxSlabsPerThread"/> per thread: a
    /// thread packs B once a call (where it is one block) but A's ragged blocks and the narrow columns once a slab.
    /// Only where A is packed and at least <see cref="MinRowSlabDepth"/> deep: an A read in place (thin products) and
    /// a shallow product, both bound by streaming A and C through memory, measured slower cut finer on a quiet host.
    /// </summary>
    internal static int RowSlabsPerThread(bool direct, int m, int n, int k, int threads) =>
        direct || k < MinRowSlabDepth ? 1 : (int)Math.Clamp((long)m * n * k / ((long)threads * MinRowSlabMultiplyAdds), 1, MaxSlabsPerThread);

    /// <summary>The shallowest product whose row split is cut into several slabs a thread.</summary>
    internal const int MinRowSlabDepth = 64;

    /// <summary>The fewest multiply-adds in a slab of a row split cut finer than one slab a thread (tens of µs of work).</summary>
    internal const long MinRowSlabMultiplyAdds = 1 << 23;

    /// <summary>
    /// The most slabs per thread of a split cut finer than one slab a thread, by rows (<see cref="RowSlabsPerThread"/>)
    /// or by columns (<see cref="ColumnSlabsPerThread"/>): each slab packs again what the thread's share would pack once.
    /// </summary>
    internal const int MaxSlabsPerThread = 4;

    /// <summary>
    /// Whether the vector tiles pack a row-major B's whole panels themselves, each panel's first tile storing the rows
    /// it reads (<see cref="PackedACopiesB"/>, <see cref="CopyingB"/>), rather than a pass of PackB before the tiles:
    /// the copy's loads and stores then run between the multiply-adds. The product's first block of rows must hold a
    /// whole tile (12 or 6 rows); an A read in place must be read by the AVX-512 kernel twelve rows at a time (the
    /// tile that copies; the AVX2 kernel's tiles reading A in place do not copy).
    /// </summary>
    internal static bool CopiesB(GemmKernel kind, bool transA, bool transB, bool direct, bool sixRows, int m) =>
        !transB && m >= MR(kind) && kind switch
        {
            GemmKernel.Avx512 => !direct || !transA && !sixRows,
            GemmKernel.Avx2 => !direct,
            _ => false,
        };

    /// <summary>
    /// How many of a block's <paramref name="nc"/> columns the tiles pack themselves (its whole panels, where
    /// <see cref="CopiesB"/>): none where B already lies packed, which a copy would store onto itself.
    /// </summary>
    internal static int CopyColumns(GemmKernel kind, bool transA, bool transB, bool direct, bool sixRows, int m, int ldb, int nc, int nr) =>
        LiesPacked(transB, ldb, nc, nr) || !CopiesB(kind, transA, transB, direct, sixRows, m) ? 0 : nc / nr * nr;

    /// <summary>
    /// Whether a row-major B of one whole panel, exactly a panel wide (ldb = nr: a convolution's 32-channel output
    /// gradient in its weight gradient), already lies as PackB would pack it: its K blocks are then read where they lie,
    /// the same floats in the same places, instead of copied.
    /// </summary>
    internal static bool LiesPacked(bool transB, int ldb, int nc, int nr) => !transB && nc == nr && ldb == nr;

    /// <summary>
    /// The depth of k blocks for a product of depth k: k split into ⌈k / KC⌉ blocks of equal depth, rounded up to
    /// whole 8-column steps of the packing, rather than KC-deep blocks and a short last one (784 = 3·256 + 16 would
    /// end on a block whose 16 steps barely pay for loading and storing the C tiles).
    /// </summary>
    internal static int KBlock(int k, int limit = KC)
    {
        int blocks = (k + limit - 1) / limit;
        return Math.Min(limit, ((k + blocks - 1) / blocks + 7) & ~7);
    }

    /// <summary>
    /// The multiple of rows a threaded split gives each thread: 2 with the AVX2 kernel, whose 4- and 2-row edge
    /// kernels compute ragged rows at their own cost (100 rows split 50 + 50 rather than 54 + 46, 8⅓ tiles each
    /// rather than 9 and 8); 4 with the AVX-512 kernel, whose 4-row kernel does the same (100 rows: 52 + 48, 4⅓ and 4
    /// tiles rather than 5 and 4); whole register tiles otherwise.
    /// </summary>
    public static int RowSplit(GemmKernel kind) => kind switch { GemmKernel.Avx2 => 2, GemmKernel.Avx512 => 4, _ => MR(kind) };

    /// <summary>
    /// One MC-row block of C (rows ic…, columns jc…) += its A block (packed here) times a packed B block (kc × nc):
    /// the register tiles, one B panel at a time kept in L1 across the A panels.
    /// </summary>
    /// <remarks>
    /// The first <paramref name="copyColumns"/> columns' panels are not packed yet: each panel's first tile (a whole one,
    /// <see cref="CopiesB"/>) reads them from the row-major B at <paramref name="rawB"/> (this K block's first row,
    /// column jc) and packs them as it goes. With <paramref name="aPacked"/> the caller's previous call on this thread
    /// packed this same A block into the buffer, so it is not packed again.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernel(GemmKernel kind, bool transA, float* a, int lda, int m, int ic, int mc, int pc, int kc, int jc, int nc,
        float* packedB, float* c, int ldc, bool acc, PackBuffers buffers, int copyColumns = 0, float* rawB = null, int ldb = 0,
        bool aPacked = false)
    {
        int mr = MR(kind), nr = NR(kind);
        if (!aPacked) PackA(transA, a, lda, m, ic, pc, mc, kc, mr, buffers.A);
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nValid = Math.Min(nr, nc - jr);
            float* bPanel = packedB + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mValid = Math.Min(mr, mc - ir);
                float* aPanel = buffers.A + (long)ir * kc;
                float* cTile = c + (long)(ic + ir) * ldc + jc + jr;
                if (ir == 0 && jr < copyColumns)
                {
                    if (kind == GemmKernel.Avx512) Kernel12x32Avx512<PackedACopiesB>(kc, aPanel, 12, rawB + jr, cTile, ldc, acc, ldb, bPanel);
                    else Kernel6x16Avx2<PackedACopiesB>(kc, aPanel, 6, rawB + jr, ldb, cTile, ldc, acc, bPanel);
                }
                else if (mValid == mr && nValid == nr)
                {
                    long next = NextPanelAsk(kind, kc, ir, mc, jr, nc, copyColumns);
                    if (next >= 0 && kind == GemmKernel.Avx512) Kernel12x32Avx512<PackedANextPanel>(kc, aPanel, 12, bPanel, cTile, ldc, acc, bNext: bPanel + next);
                    else if (next >= 0) Kernel6x16Avx2<PackedANextPanel>(kc, aPanel, 6, bPanel, 16, cTile, ldc, acc, bNext: bPanel + next);
                    else if (NextRowsAsk(kind, kc, ir, mc, jr, nc, copyColumns) is var column and >= 0)
                        Kernel6x16Avx2<PackedANextRows>(kc, aPanel, 6, bPanel, 16, cTile, ldc, acc, bNext: rawB + column, bNextStride: ldb);
                    else Kernel(kind, kc, aPanel, bPanel, cTile, ldc, acc);
                }
                else
                    EdgeTile(kind, kc, aPanel, bPanel, cTile, ldc, acc, mValid, nValid, buffers.Tile, nr);
            }
        }
    }

    /// <summary>
    /// Which part of the next B panel the whole tile at row <paramref name="ir"/> of an <paramref name="mc"/>-row block
    /// asks for as it goes (<see cref="PackedANextPanel"/>), or −1 for none, on every panel but the block's last
    /// (column <paramref name="jr"/> of <paramref name="nc"/>). The 12×32 tile's packed panel row of 32 floats is two
    /// cache lines, one asked for a step: the block's last two whole tiles ask for a half each (its only one: the
    /// first half), so that two tiles of kc steps ask for the whole kc-deep panel, whatever the K block's depth. The
    /// 6×16 tile's row of 16 floats is one line: the block's last whole tile but one (its only one) asks for the whole
    /// panel (0), leaving a tile's time for its last lines to arrive. Only panels at least <see cref="KC"/> deep: a
    /// shallower one fits in L1 beside its A panel, and a shallow product's packed B stays in L2, where asking would
    /// cost the instructions and bring nothing.
    /// </summary>
    internal static int NextPanelHalf(GemmKernel kind, int kc, int ir, int mc, int jr, int nc)
    {
        if (kind is not (GemmKernel.Avx512 or GemmKernel.Avx2) || kc < KC) return -1;
        int mr = MR(kind), nr = NR(kind), askers = kind == GemmKernel.Avx512 ? 2 : 1;
        int first = Math.Max(0, mc / mr * mr - 2 * mr);
        return jr + nr < nc && ir >= first && ir < first + askers * mr && ir + mr <= mc ? (ir - first) / mr : -1;
    }

    /// <summary>
    /// Where the whole tile at row <paramref name="ir"/> of panel <paramref name="jr"/> starts asking for the next
    /// panel (<see cref="NextPanelHalf"/>), in floats from its own panel's start, or −1 for none. None either while the
    /// next panel is among the first <paramref name="copyColumns"/>, not packed yet: its first tile reads the row-major
    /// B and writes the packed lines itself (<see cref="PackedACopiesB"/>), so asking for them would bring in nothing used
    /// (the 6×16 tile asks for those rows of B instead, <see cref="NextRowsAsk"/>).
    /// </summary>
    internal static long NextPanelAsk(GemmKernel kind, int kc, int ir, int mc, int jr, int nc, int copyColumns = 0)
    {
        int nr = NR(kind);
        int half = jr + nr < copyColumns ? -1 : NextPanelHalf(kind, kc, ir, mc, jr, nc);
        return half < 0 ? -1 : (long)nr * kc + half * (nr / 2L) * kc;
    }

    /// <summary>
    /// Which column of the row-major B at this K block's first row (the next panel's first, <paramref name="jr"/> + nr)
    /// the whole 6×16 tile at row <paramref name="ir"/> of panel <paramref name="jr"/> asks for, a row a step for kc
    /// rows a leading dimension apart, or −1 for none (<see cref="PackedANextRows"/>): the rows that the next panel's
    /// first tile will read and copy (<see cref="PackedACopiesB"/>). Asked for by the tile that would ask for a packed
    /// next panel (<see cref="NextPanelHalf"/>, at any depth, as those rows come from L3 or memory) where the next
    /// panel is among the first <paramref name="copyColumns"/>, and never by the copying tile itself. Unasked, the
    /// copying tile of a few-row product waited on memory for each step's row and took about 2½ times as long as the others.
    /// </summary>
    internal static int NextRowsAsk(GemmKernel kind, int kc, int ir, int mc, int jr, int nc, int copyColumns)
    {
        int nr = NR(kind);
        return kind == GemmKernel.Avx2 && ir > 0 && jr + nr < copyColumns && NextPanelHalf(kind, Math.Max(kc, KC), ir, mc, jr, nc) == 0
            ? jr + nr : -1;
    }

    /// <summary>Products with at most this many rows take the unpacked-B path (<see cref="DirectBBlock"/>).</summary>
    internal const int DirectBMaxRows = 48;

    /// <summary>
    /// All m (≤ <see cref="DirectBMaxRows"/>) rows of C for one kc×nc block: A packed once, full 16-column strips of B
    /// read in place by the kernel, the ragged last strip packed and written through the scratch tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectBBlock(bool transA, float* a, int lda, float* b, int ldb, int m, int pc, int kc, int nc, int jc,
        float* c, int ldc, bool acc, PackBuffers buffers)
    {
        const int mr = 6, nr = 16;
        PackA(transA, a, lda, m, 0, pc, m, kc, mr, buffers.A);
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nValid = Math.Min(nr, nc - jr);
            float* bStrip = b + (long)pc * ldb + jc + jr;
            long bStride = ldb;
            if (nValid < nr)
            {
                PackB(false, b, ldb, pc, jc + jr, kc, nValid, nr, buffers.B);
                bStrip = buffers.B;
                bStride = nr;
            }
            for (int ir = 0; ir < m; ir += mr)
            {
                int mValid = Math.Min(mr, m - ir);
                float* aPanel = buffers.A + (long)ir * kc;
                float* cTile = c + (long)ir * ldc + jc + jr;
                if (mValid == mr && nValid == nr)
                {
                    Kernel6x16Avx2<PackedA>(kc, aPanel, 6, bStrip, bStride, cTile, ldc, acc);
                    continue;
                }
                if (mValid <= 4) RowEdgeKernel(mValid, kc, aPanel, 1, 6, bStrip, bStride, buffers.Tile, nr, false);
                else Kernel6x16Avx2<PackedA>(kc, aPanel, 6, bStrip, bStride, buffers.Tile, nr, false);
                WriteTile(buffers.Tile, nr, cTile, ldc, mValid, nValid, acc);
            }
        }
    }

    /// <summary>
    /// Products at most this wide (after the narrow columns are split off) read A in place (<see cref="DirectBlock"/>):
    /// each A element then feeds up to 6 panels from L1 instead of being packed once.
    /// </summary>
    private const int DirectMaxColumns = 96;

    /// <summary>
    /// The deepest K block when A is read in place with its rows contiguous: 576 rather than <see cref="KC"/>, so that
    /// 25600×288×32 runs as one K block (each 6-row tile of A then one sequential stream, and C written once instead of
    /// stored and reloaded). A transposed A read in place keeps <see cref="KC"/>, where the deeper block was slower.
    /// The AVX-512 kernel keeps <see cref="KC"/> either way: its products then sum in the same K blocks whether A is
    /// read in place or packed, so reading A in place changed no bit of any result (the models' saved predictions hold).
    /// </summary>
    private const int InPlaceKC = 576;

    internal static int InPlaceKBlockLimit(GemmKernel kind, bool transA) => !transA && kind != GemmKernel.Avx512 ? InPlaceKC : KC;

    /// <summary>Whether thin products (n ≤ <see cref="DirectMaxColumns"/>) read A in place: the AVX2 and AVX-512 kernels, A stored either way.</summary>
    internal static bool ReadsAInPlace(GemmKernel kind, bool transA, int n) => kind is GemmKernel.Avx2 or GemmKernel.Avx512 && n <= DirectMaxColumns;

    /// <summary>
    /// Whether a thin product packs a transposed A that it would otherwise read in place (AVX2 kernel): when A's rows
    /// lie a multiple of 512 floats apart, the 6 floats each k step reads from them all fall into one or two of L1's
    /// 64 sets, whose 8 or 16 lines cannot hold the steps the kernel prefetches ahead, so every step misses L1, on
    /// every panel (1024×100×50 Aᵀ ran at half the rate of 1040×100×50 Aᵀ). Packed once, A is read from its packed
    /// copy, a row of A at a time. Only where A is small enough to stay in the caches (under 2^20 floats, as
    /// <see cref="StreamsA"/> counts): a deep A streamed from memory packs slower than the misses cost. The AVX-512
    /// kernel, 24 multiply-adds a step, hides the misses and keeps reading in place. Packed or in place, every element
    /// is summed in the same order.
    /// </summary>
    internal static bool PacksAliasedA(GemmKernel kind, bool transA, int m, int k, int lda) =>
        kind == GemmKernel.Avx2 && transA && lda % 512 == 0 && (long)m * k < 1 << 20;

    /// <summary>
    /// Rows ic … ic+mc of C against a packed B block, A read in place: six of its rows at a time, or with
    /// <paramref name="transA"/> six consecutive floats of each of its rows pc … pc+kc (a thin product's A is then
    /// the large operand, streamed once from memory rather than packed first). Ragged rows are formed by the last
    /// whole tile of rows (see below).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectBlock(bool transA, float* a, int lda, int ic, int pc, int mc, int kc, int nc, int jc, float* packedB,
        float* c, int ldc, bool acc, PackBuffers buffers, bool prefetchRows)
    {
        const int mr = 6, nr = 16;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nValid = Math.Min(nr, nc - jr);
            float* bPanel = packedB + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mValid = Math.Min(mr, mc - ir);
                float* cTile = c + (long)(ic + ir) * ldc + jc + jr;
                int back = mValid == mr ? 0 : mr - mValid;
                if (mValid < mr && ic + ir + mValid < mr)
                {
                    // Fewer than 6 rows in the whole product: a packed, zero-padded panel.
                    PackA(transA, a, lda, ic + ir + mValid, ic + ir, pc, mValid, kc, mr, buffers.A);
                    EdgeTile(GemmKernel.Avx2, kc, buffers.A, bPanel, cTile, ldc, acc, mValid, nValid, buffers.Tile, nr);
                    continue;
                }
                // Ragged rows: 4 or 2 rows (3 or 1 with one row before them recomputed) by the edge kernels.
                int rows = mValid <= 2 ? 2 : 4, before = rows - mValid;
                if (mValid <= 4 && ic + ir >= before)
                {
                    int first = ic + ir - before;
                    bool exact = before == 0 && nValid == nr;
                    if (transA) RowEdgeKernel(rows, kc, a + (long)pc * lda + first, 1, lda, bPanel, nr, exact ? cTile : buffers.Tile, exact ? ldc : nr, exact && acc);
                    else RowEdgeKernel(rows, kc, a + (long)first * lda + pc, lda, 1, bPanel, nr, exact ? cTile : buffers.Tile, exact ? ldc : nr, exact && acc);
                    if (!exact) WriteTile(buffers.Tile + before * nr, nr, cTile, ldc, mValid, nValid, acc);
                    continue;
                }
                // Otherwise a ragged last tile is formed from the product's last 6 rows, some already computed; only
                // its new rows are written (no packing of the ragged rows).
                int row = ic + ir - back;
                bool whole = back == 0 && nValid == nr;
                float* dst = whole ? cTile : buffers.Tile;
                int ld = whole ? ldc : nr;
                if (transA) Kernel6x16Avx2<StridedA>(kc, a + (long)pc * lda + row, lda, bPanel, nr, dst, ld, whole && acc);
                else
                {
                    if (jr == 0 && prefetchRows && ir + 2 * mr <= mc)
                        PrefetchRows(a + (long)(row + mr) * lda + pc, lda, mr, kc);
                    Kernel6x16Avx2Direct(kc, a + (long)row * lda + pc, lda, bPanel, dst, ld, whole && acc);
                }
                if (!whole) WriteTile(buffers.Tile + back * nr, nr, cTile, ldc, mValid, nValid, acc);
            }
        }
    }

    /// <summary>
    /// Whether a product read with A in place streams A from memory faster than the hardware prefetcher keeps up,
    /// so that the next 6 rows are asked for ahead (<see cref="PrefetchRows"/>): A too big for the caches (2^20
    /// floats and more), at most two 16-column panels (each row feeds little arithmetic), and K blocks of 64 to 384
    /// floats (rows of 4 to 24 cache lines: streams too short for the prefetcher to get ahead of, long enough to
    /// pay for asking).
    /// </summary>
    internal static bool StreamsA(int m, int n, int k) =>
        n <= 32 && (long)m * k >= 1 << 20 && KBlock(k, InPlaceKC) is >= 64 and <= 384;

    /// <summary>
    /// Whether a product whose transposed A is read in place by the AVX-512 kernel asks for the next K block's rows of
    /// A ahead (<see cref="DirectBlock512"/>): A too big for the caches (2^20 floats and more) and one 32-column panel
    /// (288×25600×32 Aᵀ, a convolution's weight gradient), so that A's rows arrive from memory faster than the
    /// little arithmetic each feeds would let the hardware prefetcher fetch them.
    /// </summary>
    internal static bool StreamsTransposedA(GemmKernel kind, int m, int n, int k) =>
        kind == GemmKernel.Avx512 && n <= 32 && (long)m * k >= 1 << 20;

    /// <summary>Whether a product read with A in place asks for A ahead: <see cref="StreamsA"/> or <see cref="StreamsTransposedA"/>.</summary>
    internal static bool Streams(GemmKernel kind, bool transA, int m, int n, int k) =>
        transA ? StreamsTransposedA(kind, m, n, k) : StreamsA(m, n, k);

    /// <summary>Asks for rows × kc floats of A (rows lda apart) to be brought into L2, a cache line at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRows(float* a, int lda, int rows, int kc)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < rows; r++)
        {
            float* row = a + (long)r * lda;
            for (int q = 0; q < kc; q += 16) Sse.Prefetch1(row + q);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(GemmKernel kind, int kc, float* a, float* b, float* c, int ldc, bool acc)
    {
        if (kind == GemmKernel.Avx512) Kernel12x32Avx512<PackedA>(kc, a, 12, b, c, ldc, acc);
        else if (kind == GemmKernel.Avx2) Kernel6x16Avx2<PackedA>(kc, a, 6, b, 16, c, ldc, acc);
        else KernelScalar(kc, a, b, c, ldc, acc, MR(kind), NR(kind));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EdgeTile(GemmKernel kind, int kc, float* a, float* b, float* c, int ldc, bool acc, int mValid, int nValid, float* tile, int nr)
    {
        if (kind == GemmKernel.Avx2 && mValid <= 4) RowEdgeKernel(mValid, kc, a, 1, 6, b, 16, tile, nr, false);
        else if (kind == GemmKernel.Avx512 && mValid <= 4) Kernel4x32Avx512(kc, a, 1, 12, b, tile, nr, false);
        else if (kind == GemmKernel.Avx512 && nValid <= 16)
        {
            Kernel12x16Avx512(kc, a, 1, 12, b, 32, tile, 16, false);
            WriteTile(tile, 16, c, ldc, mValid, nValid, acc);
            return;
        }
        else Kernel(kind, kc, a, b, tile, nr, false);
        WriteTile(tile, nr, c, ldc, mValid, nValid, acc);
    }

    /// <summary>Stores (or adds) the valid rows × cols corner of a scratch tile into C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteTile(float* tile, int nr, float* c, int ldc, int rows, int cols, bool acc)
    {
        if (nr is 16 or 32 && Avx.IsSupported)
        {
            // A ragged 16-wide panel (57600×25×30: 14 columns in its second): 8, 4 and 1 floats at a time, where
            // one at a time cost a fifth of that product in perf.
            for (int i = 0; i < rows; i++)
            {
                float* src = tile + i * nr;
                float* dst = c + (long)i * ldc;
                int j = 0;
                for (; j + 8 <= cols; j += 8)
                {
                    var v = Vector256.Load(src + j);
                    (acc ? v + Vector256.Load(dst + j) : v).Store(dst + j);
                }
                if (j + 4 <= cols)
                {
                    var v = Vector128.Load(src + j);
                    (acc ? v + Vector128.Load(dst + j) : v).Store(dst + j);
                    j += 4;
                }
                for (; j < cols; j++) dst[j] = acc ? dst[j] + src[j] : src[j];
            }
            return;
        }
        for (int i = 0; i < rows; i++)
        {
            float* src = tile + i * nr;
            float* dst = c + (long)i * ldc;
            if (acc) for (int j = 0; j < cols; j++) dst[j] += src[j];
            else for (int j = 0; j < cols; j++) dst[j] = src[j];
        }
    }

    private static void KernelScalar(int kc, float* a, float* b, float* c, int ldc, bool acc, int mr, int nr)
    {
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
            {
                float s = 0;
                for (int p = 0; p < kc; p++) s += a[p * mr + i] * b[p * nr + j];
                c[i * ldc + j] = acc ? c[i * ldc + j] + s : s;
            }
    }
}
