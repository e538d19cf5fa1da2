// How a product is shared out over threads: the sizes the split rule (GemmPlan) asks about, and the product whose
// threads share one packed B. Slabs of rows or columns need nothing here: each is a whole product of its own (Serial).
using System.Runtime.InteropServices;

namespace ZeroDL.Kernels;

internal static unsafe partial class Sgemm
{
    /// <summary>
    /// Whether a threaded product shares its packed B (<see cref="SharedB"/>) rather than giving every thread a slab
    /// of rows and all of B to pack: when B is packed at all (more than <see cref="DirectBMaxRows"/> rows) and big
    /// enough (2^16 floats, tens of µs to pack) for halving its packing to beat the threads' extra meeting.
    /// </summary>
    internal static bool SharesB(int m, int n, int k) => m > DirectBMaxRows && (long)k * n >= 1 << 16;

    /// <summary>
    /// The columns each thread takes when a product has few rows (m ≤ 128), or 0 to split otherwise. A row split
    /// would give each thread 50 rows, 8 tiles and 2 rows computed at half rate, and the threads would meet to share
    /// the packed B; a column slab gives every thread all 100 rows and its own B to pack, with no meeting. The slabs
    /// are whole <see cref="ColumnSlabUnit"/>-column steps, the last slab taking the rest: 100×4320×100 splits 48 + 52
    /// (AVX-512: a 32-column panel each and the panel between them split by rows, <see cref="SplitPanelRowsFor"/>;
    /// AVX2: 3 panels each; the 4 narrow columns shared out by rows), 100×3072×512 256 + 256. A wide product's share
    /// is cut into several slabs of whole panels (<see cref="ColumnSlabsPerThread"/>: 100×100×5880 into 8). Every tile
    /// of a kernel sums an element in the same order, so where a slab's panels begin changes no bit.
    /// </summary>
    internal static int ColumnSlabsFor(GemmKernel kind, int m, int n, int threads)
    {
        int units = n / ColumnSlabUnit;
        return m > 128 || units < 2 * threads ? 0 : units / threads * ColumnSlabUnit;
    }

    /// <summary>
    /// How many column slabs each thread's share of a column split is cut into (<see cref="GemmSplit.ColumnSlabs"/>),
    /// taken in turn from the pool's counter as a row split's are (<see cref="RowSlabsPerThread"/>): a thread that
    /// loses its core for a while (a shared host) then leaves the other thread its remaining slabs rather than a half
    /// of the product to wait for, and a slab's packed B and columns of C stay in L2 where a thread's whole share of a
    /// wide product would not. Each slab packs all of A again, so all slabs but the last (which takes the rest) are at
    /// least <see cref="MinColumnSlabColumns"/> wide and <see cref="MinColumnSlabMultiplyAdds"/>, and a thread takes
    /// at most <see cref="MaxSlabsPerThread"/>.
    /// </summary>
    internal static int ColumnSlabsPerThread(int m, int n, int k, int threads) =>
        (int)Math.Clamp(Math.Min(n / (threads * MinColumnSlabColumns), (long)m * n * k / ((long)threads * MinColumnSlabMultiplyAdds)), 1, MaxSlabsPerThread);

    /// <summary>
    /// The narrowest column slab, all but the last, of a split cut finer than one slab a thread: a float of A packed
    /// costs about as much as a few of the multiply-adds it feeds, so a slab this wide spends under 2 % of its time
    /// packing A.
    /// </summary>
    internal const int MinColumnSlabColumns = 512;

    /// <summary>The fewest multiply-adds in a column slab of a split cut finer than one slab a thread (tens of µs of work).</summary>
    internal const long MinColumnSlabMultiplyAdds = 1 << 21;

    /// <summary>
    /// Where two column slabs of the AVX-512 kernel meet in the middle of a 32-column panel and the slabs are narrow (at
    /// most <see cref="SplitPanelMaxChunk"/> columns: 100×4320×100 as 48 + 52), the rows of the first thread's share of
    /// that panel; 0 where no panel is split. A half panel is computed by the 12×16 tile, one broadcast of A per
    /// multiply-add, at about two thirds of the 12×32 tile's rate; split by rows instead, the panel runs on the 12×32
    /// tile in both threads (each then packs 16 columns of B more). The first thread's rows are whole 12-row tiles,
    /// about half of them.
    /// </summary>
    internal static int SplitPanelRowsFor(GemmKernel kind, int m, int chunk, int threads) =>
        kind == GemmKernel.Avx512 && threads == 2 && chunk % 32 == 16 && chunk <= SplitPanelMaxChunk && m >= 24
            ? m / 2 / 12 * 12 : 0;

    /// <summary>
    /// The widest first slab whose middle panel is split by rows (<see cref="SplitPanelRowsFor"/>): where a slab holds
    /// many panels, one half panel costs little, and splitting it would cost each thread a second pass over A.
    /// </summary>
    internal const int SplitPanelMaxChunk = 128;

    /// <summary>
    /// The column slabs' multiple of columns: an AVX2 panel, half an AVX-512 one (a half panel costs half a whole one,
    /// by the 12×16 tile, so slabs of half panels balance the threads within 16 columns).
    /// </summary>
    internal const int ColumnSlabUnit = 16;

    /// <summary>
    /// A product on the plan's threads that share one packed B, as BLIS does: the threads first pack B's panels
    /// between them, then each multiplies its own contiguous rows of C against all of it. Splitting C into slabs
    /// instead would have every thread pack all of B. When the whole of B fits the shared buffer (k × n up to about
    /// half a million floats: every dense layer here) it is packed at once; otherwise one K block (or a thin product's
    /// group of them) at a time. The work is taken in pieces from counters (<see cref="SharedBJob"/>), so that a
    /// thread that finishes its own rows early takes the rest of another's instead of waiting for it. The same tiles
    /// and the same order over K as the serial product, so the result is bit for bit the same.
    /// </summary>
    public static void SharedB(in GemmPlan plan, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        var kind = plan.Kernel;
        int nr = NR(kind), narrow = plan.NarrowColumns, k = plan.K;
        var job = t_sharedJob ??= new SharedBJob();
        job.Kind = kind; job.TransA = plan.TransA; job.TransB = plan.TransB; job.Accumulate = accumulate;
        job.M = plan.M; job.N = plan.N - narrow; job.K = k; job.Narrow = narrow; job.Nr = nr; job.Threads = plan.Threads;
        job.A = a; job.Lda = lda; job.B = b; job.Ldb = ldb; job.C = c; job.Ldc = ldc;
        job.RowsPerThread = plan.Chunk;
        job.Direct = plan.ReadsAInPlace;
        job.KStep = plan.KBlock;
        job.StreamsAhead = plan.PrefetchesRowsOfA;
        job.SixRows = plan.ReadsAliasedRowsSixAtATime;
        int threads = plan.Threads;
        for (int jc = 0; jc < job.N; jc += NC)
        {
            job.Jc = jc;
            job.Nc = Math.Min(NC, job.N - jc);
            job.Panels = (job.Nc + nr - 1) / nr;
            job.Width = job.Panels * nr;
            // K blocks packed per meeting: all of them when they fit; else, for a thin product (A read in place), as
            // many as fit (fewer meetings of the threads); else one (a K block of an NC block always fits).
            int kGroup = (long)k * job.Width <= SharedFloats ? k
                : job.Direct ? Math.Max(1, SharedFloats / job.Width / job.KStep) * job.KStep : job.KStep;
            for (int pg = 0; pg < k; pg += kGroup)
            {
                job.Pg = pg;
                job.PgEnd = Math.Min(k, pg + kGroup);
                job.Start();
                WorkerPool.For(threads, threads, job.RunPart);
            }
        }
    }

    /// <summary>
    /// One <see cref="SharedB"/> call's operands, its current block of B and the counters its pieces of work are taken
    /// from, kept per calling thread with the delegate the threads run, so that a threaded product hands the worker
    /// pool no new closure.
    /// </summary>
    private sealed class SharedBJob
    {
        public GemmKernel Kind;
        public bool TransA, TransB, Accumulate, Direct, StreamsAhead, SixRows;
        public int M, N, K, Narrow, Nr, Threads, RowsPerThread, KStep, Lda, Ldb, Ldc;
        public float* A, B, C;
        /// <summary>The block being worked: columns [Jc, Jc + Nc) in Panels panels of Width floats a row, K rows [Pg, PgEnd).</summary>
        public int Jc, Nc, Panels, Width, Pg, PgEnd;
        /// <summary>
        /// Pieces of the packing (<see cref="PackBBandRows"/> rows of one K block, or where B is not packed in bands
        /// PackBGroupColumns columns of it): per K block how many, the next to take, per K block how many are done.
        /// </summary>
        private int _packGroups, _packPieces, _packNext;
        /// <summary>B's K blocks are packed in bands of whole rows (<see cref="PacksBInBands"/>).</summary>
        private bool _bands;
        private int[] _packDone = new int[4];
        /// <summary>K blocks in the group being worked.</summary>
        private int _kBlocks;
        /// <summary>B's block already lies packed (<see cref="LiesPacked"/>): its K blocks are read from B itself.</summary>
        private bool _inPlace;
        /// <summary>
        /// The last K block's pieces are column parts of a block of rows: how many (1 to <see cref="MaxLastParts"/>),
        /// and the columns of each (whole panels, at least <see cref="MinPartColumns"/>, so that packing the block's A
        /// once per part stays cheap).
        /// </summary>
        private int _lastParts, _partColumns;
        /// <summary>The first row of each block of rows (MC rows at most, the same blocks in every K block), then M.</summary>
        private int[] _rowStart = new int[16];
        /// <summary>Per block of rows, how many of its K blocks are done.</summary>
        private int[] _rowDone = new int[16];
        /// <summary>Part t's blocks of rows are _partFirst[t] … _partFirst[t + 1] − 1.</summary>
        private int[] _partFirst = new int[3];
        /// <summary>Part t's next piece to take: K block by K block, block by block (index kb · blocks + its block).</summary>
        private int[] _partNext = new int[2];
        public readonly float* Shared = (float*)NativeMemory.AlignedAlloc((nuint)(SharedFloats * sizeof(float)), 64);
        public readonly Action<int> RunPart;

        public SharedBJob() => RunPart = Run;

        ~SharedBJob() => NativeMemory.AlignedFree(Shared);

        /// <summary>
        /// Readies the pieces and counters for the current block, before the threads start on it. The arrays only
        /// grow, so a product no larger than one before allocates nothing.
        /// </summary>
        public void Start()
        {
            _kBlocks = (PgEnd - Pg + KStep - 1) / KStep;
            _bands = PacksBInBands(TransB, Nc, Nr);
            _packGroups = _bands ? (KStep + PackBBandRows - 1) / PackBBandRows : (Width + PackBGroupColumns - 1) / PackBGroupColumns;
            _inPlace = LiesPacked(TransB, Ldb, Nc, Nr);
            // B read where it lies: nothing to pack, every K block ready from the start.
            _packPieces = _inPlace ? 0 : _packGroups * _kBlocks;
            _packNext = 0;
            _lastParts = Math.Clamp(Nc / MinPartColumns, 1, MaxLastParts);
            _partColumns = (Panels + _lastParts - 1) / _lastParts * Nr;
            if (_packDone.Length < _kBlocks) _packDone = new int[_kBlocks];
            if (_inPlace) Array.Fill(_packDone, _packGroups, 0, _kBlocks);
            else Array.Clear(_packDone, 0, _kBlocks);
            int blocks = 0;
            for (int t = 0; t < Threads; t++)
            {
                int start = Math.Min(M, t * RowsPerThread), end = Math.Min(M, start + RowsPerThread);
                blocks += (end - start + MC - 1) / MC;
            }
            if (_rowStart.Length < blocks + 1) { _rowStart = new int[blocks + 1]; _rowDone = new int[blocks + 1]; }
            if (_partFirst.Length < Threads + 1) { _partFirst = new int[Threads + 1]; _partNext = new int[Threads]; }
            blocks = 0;
            for (int t = 0; t < Threads; t++)
            {
                _partFirst[t] = blocks;
                _partNext[t] = 0;
                int start = Math.Min(M, t * RowsPerThread), end = Math.Min(M, start + RowsPerThread);
                for (int ic = start; ic < end; ic += MC) _rowStart[blocks++] = ic;
            }
            _partFirst[Threads] = blocks;
            _rowStart[blocks] = M;
            Array.Clear(_rowDone, 0, blocks);
        }

        /// <summary>
        /// Part <paramref name="part"/>: pieces of the packing until none is left; then its own rows, K block by K
        /// block (the serial product's order, each packed K block of B streamed past all the part's rows before the
        /// next); then the other parts' pieces not yet taken, in their order. A piece waits for its K block of B to be
        /// packed and for its rows' previous K block, that is only for pieces that a running thread has taken (pieces
        /// are taken in order), so parts run one after another on one thread (a busy pool) never wait.
        /// </summary>
        private void Run(int part)
        {
            int piece;
            while ((piece = Interlocked.Increment(ref _packNext) - 1) < _packPieces)
            {
                // Counted done even when it throws, so that the other threads do not wait for it forever (the pool
                // rethrows the exception once every part has returned).
                try { Pack(piece); }
                finally { Interlocked.Increment(ref _packDone[piece / _packGroups]); }
            }
            // The K block and block of rows whose A this thread's buffer holds packed: the last K block's column parts
            // of one block of rows mostly run one after another on one thread, which then packs their A once.
            var packedA = (Kb: -1, Block: -1);
            for (int i = 0; i < Threads; i++)
            {
                int owner = (part + i) % Threads, pieces = PiecesOf(owner);
                // Its own pieces, each taken in turn, waiting where its rows' K block before is still being multiplied;
                // then another part's the same way where that part has two blocks of rows or more: an owner that has
                // lost its core for a while (a shared host) then leaves this thread the rest of its rows, the two
                // threads on different blocks. A part of one block is one chain of pieces, which two threads would
                // only take in turns (each waiting for the other, the look-ahead for A on the wrong core): of that,
                // only the pieces ready now.
                bool waits = i == 0 || _partFirst[owner + 1] - _partFirst[owner] >= 2;
                while (true)
                {
                    if (waits)
                    {
                        if ((piece = Interlocked.Increment(ref _partNext[owner]) - 1) >= pieces) break;
                        var (kb, block, columns) = Decode(owner, piece);
                        WaitUntilReady(kb, block);
                        RunPiece(kb, block, columns, ref packedA);
                    }
                    else
                    {
                        if ((piece = Volatile.Read(ref _partNext[owner])) >= pieces) break;
                        var (kb, block, columns) = Decode(owner, piece);
                        if (!Ready(kb, block)) break;
                        if (Interlocked.CompareExchange(ref _partNext[owner], piece + 1, piece) == piece) RunPiece(kb, block, columns, ref packedA);
                    }
                }
            }
        }

        /// <summary>How many pieces part <paramref name="owner"/>'s rows are cut into: every K block but the last per block of rows, then the last's column parts.</summary>
        private int PiecesOf(int owner) => (_partFirst[owner + 1] - _partFirst[owner]) * (_kBlocks - 1 + _lastParts);

        /// <summary>
        /// Piece <paramref name="piece"/> of part <paramref name="owner"/>: its K block, its block of rows, and its
        /// column part (−1: all the columns; the last K block is in column parts, so that the pieces the threads'
        /// last moments are shared in are short).
        /// </summary>
        private (int Kb, int Block, int Columns) Decode(int owner, int piece)
        {
            int first = _partFirst[owner], blocks = _partFirst[owner + 1] - first, whole = blocks * (_kBlocks - 1);
            return piece < whole
                ? (piece / blocks, first + piece % blocks, -1)
                : (_kBlocks - 1, first + (piece - whole) / _lastParts, (piece - whole) % _lastParts);
        }

        /// <summary>Whether K block <paramref name="kb"/> of B is packed and the block of rows has its previous K blocks done.</summary>
        private bool Ready(int kb, int block) =>
            Volatile.Read(ref _packDone[kb]) >= _packGroups && Volatile.Read(ref _rowDone[block]) >= kb;

        /// <summary>
        /// Waits for <see cref="Ready"/>: polled without yielding at first (as WorkerPool waits), since a yield can
        /// hand the core to another process for a time slice while the piece waited for is usually a moment from done.
        /// </summary>
        private void WaitUntilReady(int kb, int block)
        {
            var spin = new SpinWait();
            long until = 0;
            while (!Ready(kb, block))
            {
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                if (until == 0) until = now + WorkerPool.PollTicks;
                if (now < until) Thread.SpinWait(8);
                else spin.SpinOnce(sleep1Threshold: -1);
            }
        }

        /// <summary>One piece; its block of rows counted done for K block <paramref name="kb"/> even when it throws (nobody then waits forever).</summary>
        private void RunPiece(int kb, int block, int columns, ref (int Kb, int Block) packedA)
        {
            try
            {
                bool aPacked = packedA == (kb, block);
                // Cleared first: a piece that throws part way leaves the buffer claimed by nobody.
                packedA = (-1, -1);
                if (Multiply(kb, _rowStart[block], _rowStart[block + 1], columns, aPacked)) packedA = (kb, block);
            }
            finally { if (columns < 0) Volatile.Write(ref _rowDone[block], kb + 1); }
        }

        /// <summary>Packs one piece: a band of PackBBandRows rows, or PackBGroupColumns columns (whole panels), of one K block of the group.</summary>
        private void Pack(int piece)
        {
            int pc = Pg + piece / _packGroups * KStep, kc = Math.Min(KStep, K - pc);
            float* block = Shared + (long)(pc - Pg) * Width;
            if (_bands)
            {
                int row = piece % _packGroups * PackBBandRows, rows = Math.Min(PackBBandRows, kc - row);
                if (rows > 0) PackBBand(B, Ldb, pc, row, rows, kc, Jc, Nc, block);
                return;
            }
            int col = piece % _packGroups * PackBGroupColumns, cols = Math.Min(PackBGroupColumns, Nc - col);
            if (cols <= 0) return;
            PackB(TransB, B, Ldb, pc, Jc + col, kc, cols, Nr, block + (long)col * kc);
        }

        /// <summary>
        /// Rows [start, end) of C (at most MC) against K block <paramref name="kb"/> of the packed group: all its
        /// columns, or (<paramref name="part"/> ≥ 0) one of its last K block's column parts.
        /// </summary>
        /// <returns>Whether the thread's A buffer now holds this piece's A block packed.</returns>
        private bool Multiply(int kb, int start, int end, int part, bool aPacked)
        {
            var buffers = t_buffers ??= new PackBuffers();
            int pc = Pg + kb * KStep, kc = Math.Min(KStep, K - pc);
            bool acc = Accumulate || pc > 0;
            int col = 0, nc = Nc;
            if (part >= 0)
            {
                col = _partColumns * part;
                nc = Math.Min(_partColumns, Nc - col);
            }
            float* block = (_inPlace ? B + (long)pc * Ldb + Jc : Shared + (long)(pc - Pg) * Width) + (long)col * kc;
            int mc = end - start;
            if (nc > 0)
            {
                if (Direct && Kind == GemmKernel.Avx512) DirectBlock512(TransA, A, Lda, start, pc, mc, kc, nc, Jc + col, block, C, Ldc, acc, buffers, StreamsAhead, SixRows, Math.Min(KStep, K - pc - kc));
                else if (Direct) DirectBlock(TransA, A, Lda, start, pc, mc, kc, nc, Jc + col, block, C, Ldc, acc, buffers, StreamsAhead);
                else MacroKernel(Kind, TransA, A, Lda, M, start, mc, pc, kc, Jc + col, nc, block, C, Ldc, acc, buffers, aPacked: aPacked);
            }
            // The narrow columns sum over all of K themselves: with the last K block of the last NC block.
            if (Narrow > 0 && Jc + NC >= N && PgEnd == K && kb == _kBlocks - 1 && part == 0)
                NarrowColumnsProduct(TransA, TransB, start, end, Narrow, N, K, A, Lda, B, Ldb, C, Ldc, Accumulate);
            // An A read in place leaves the buffer to the edge rows' own packing.
            return !Direct && (nc > 0 || aPacked);
        }
    }

    [ThreadStatic] private static SharedBJob? t_sharedJob;

    /// <summary>The most column parts a <see cref="SharedB"/> product's last K block is cut into, per block of rows.</summary>
    private const int MaxLastParts = 4;

    /// <summary>The fewest columns of a column part of the last K block (a part packs its rows' A block again).</summary>
    private const int MinPartColumns = 256;

    /// <summary>
    /// Floats in the shared packed-B buffer (about 4 MB): one K block of an NC block, as deep as any, so that it always
    /// fits; then too the whole of a B of up to 1024 × 1024 floats is packed at once, so that 1024³ has its threads meet
    /// once a call rather than once per K block (a meeting waits for the slower thread, which on a shared host may have
    /// lost its core for a while).
    /// </summary>
    private const int SharedFloats = DeepKC * (NC + 32);
}
