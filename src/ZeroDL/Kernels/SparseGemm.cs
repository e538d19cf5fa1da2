using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// A float matrix in compressed sparse row form: for row r, the pairs (Index[q], Value[q]) with
/// Start[r] ≤ q &lt; Start[r+1] are its non-zero columns and values, in column order. Buffers are kept and reused,
/// so compressing a batch of the same size again allocates nothing.
/// </summary>
public sealed class SparseMatrix
{
    private int[] _start = new int[1];
    private int[] _index = [];
    private float[] _value = [];
    private int[] _fill = [];
    private float[] _padded = [];
    /// <summary>The padded copy of C, on the pinned heap so that its start can be aligned to 32 bytes (see <see cref="AlignedPadded"/>).</summary>
    private float[] _cPadded = [];

    /// <summary>
    /// <paramref name="length"/> floats of the padded copy of C starting at a 32-byte boundary: with rows of whole
    /// vectors, every vector load and store of the scatter then stays inside one cache line (a managed array
    /// starts wherever the heap puts it, and a vector straddling two lines costs two accesses).
    /// </summary>
    private unsafe Span<float> AlignedPadded(int length)
    {
        if (_cPadded.Length < length + 8) _cPadded = GC.AllocateArray<float>(Math.Max(length + 8, _cPadded.Length * 3 / 2), pinned: true);
        fixed (float* p = _cPadded)
        {
            int skip = (int)((32 - ((nuint)p & 31)) & 31) / sizeof(float);
            return _cPadded.AsSpan(skip, length);
        }
    }

    /// <summary>
    /// Sizes the buffer <see cref="MultiplyTransposed"/> needs for products with <paramref name="n"/> columns, so that
    /// the first such product (a layer's backward pass after its input turned sparse mid-training) allocates nothing.
    /// </summary>
    internal void ReserveTransposedProduct(int n)
    {
        int npad = (n + 7) & ~7;
        if (npad != n) AlignedPadded(Columns * npad);
    }

    public int Rows { get; private set; }
    public int Columns { get; private set; }
    public int NonZeros { get; private set; }
    public ReadOnlySpan<int> Start => _start.AsSpan(0, Rows + 1);
    public ReadOnlySpan<int> Index => _index.AsSpan(0, NonZeros);
    public ReadOnlySpan<float> Value => _value.AsSpan(0, NonZeros);

    private static void Ensure<TItem>(ref TItem[] buffer, long length)
    {
        if (length > Array.MaxLength) throw new ArgumentException("sparse matrix too large");
        if (buffer.Length < length) buffer = new TItem[Math.Max(length, buffer.Length * 3L / 2)];
    }

    /// <summary>Compresses the row-major rows×columns matrix <paramref name="a"/> (leading dimension <paramref name="lda"/>).</summary>
    public unsafe void CompressRows(ReadOnlySpan<float> a, int rows, int columns, int lda)
    {
        if (rows < 0 || columns < 0 || lda < columns || (rows > 0 && (long)(rows - 1) * lda + columns > a.Length))
            throw new ArgumentException($"sparse compress: {a.Length} elements do not hold ({rows}, {columns}) with leading dimension {lda}");
        Rows = rows; Columns = columns;
        Ensure(ref _start, rows + 1L);
        Ensure(ref _index, (long)rows * columns + 8);
        Ensure(ref _value, (long)rows * columns + 8);
        fixed (float* pa = a) fixed (int* ps = _start) fixed (int* pi = _index) fixed (float* pv = _value)
            NonZeros = Compress(pa, rows, columns, lda, ps, pi, pv);
    }

    /// <summary>
    /// Compresses the row-major rows×columns bytes <paramref name="a"/> as the floats byte·<paramref name="scale"/>
    /// (the values <c>(float)b * scale</c>, as pixels are converted), 8 at a time as <see cref="Compress"/> packs
    /// floats. The same matrix as converting to floats and <see cref="CompressRows"/>,
    /// from a quarter of the memory and without writing the floats.
    /// </summary>
    public unsafe void CompressBytes(ReadOnlySpan<byte> a, int rows, int columns, float scale)
    {
        if (rows < 0 || columns < 0 || (long)rows * columns > a.Length)
            throw new ArgumentException($"sparse compress: {a.Length} bytes do not hold ({rows}, {columns})");
        PrepareRows(rows, columns);
        int q = 0;
        fixed (byte* pa = a) fixed (int* start = _start) fixed (int* index = _index) fixed (float* value = _value) fixed (int* table = CompactTable)
        {
            for (int r = 0; r < rows; r++)
            {
                start[r] = q;
                q = CompressByteRow(pa + (long)r * columns, columns, scale, q, index, value, table);
            }
            start[rows] = q;
        }
        NonZeros = q;
    }

    /// <summary>
    /// Like <see cref="CompressBytes"/> for the rows <paramref name="rows"/>[0], [1], … of the row-major byte matrix
    /// <paramref name="source"/> (rows of <paramref name="columns"/> bytes), in that order: a mini-batch gathered and
    /// compressed in one pass, straight from a dataset's stored pixels.
    /// </summary>
    public unsafe void CompressByteRows(ReadOnlySpan<byte> source, ReadOnlySpan<int> rows, int columns, float scale)
    {
        if (columns < 0) throw new ArgumentException($"sparse compress: {columns} columns");
        long available = columns == 0 ? long.MaxValue : source.Length / columns;
        foreach (int r in rows)
            if (r < 0 || r >= available) throw new ArgumentOutOfRangeException(nameof(rows), $"sparse compress: row {r} outside {available} rows of {columns} bytes");
        PrepareRows(rows.Length, columns);
        int q = 0;
        fixed (byte* pa = source) fixed (int* start = _start) fixed (int* index = _index) fixed (float* value = _value) fixed (int* table = CompactTable)
        {
            for (int i = 0; i < rows.Length; i++)
            {
                start[i] = q;
                q = CompressByteRow(pa + (long)rows[i] * columns, columns, scale, q, index, value, table);
            }
            start[rows.Length] = q;
        }
        NonZeros = q;
    }

    private void PrepareRows(int rows, int columns)
    {
        Rows = rows; Columns = columns;
        Ensure(ref _start, rows + 1L);
        Ensure(ref _index, (long)rows * columns + 8);
        Ensure(ref _value, (long)rows * columns + 8);
    }

    /// <summary>Appends the non-zeros of one row of bytes at q; returns the new q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int CompressByteRow(byte* row, int columns, float scale, int q, int* index, float* value, int* table)
    {
        int p = 0;
        if (Avx2.IsSupported)
        {
            var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var s = Vector256.Create(scale);
            // 32 bytes at a time: skipped at once when all are zero (an image's margins), else 8 at a time,
            // widened to floats and packed as in Compress (no branch per block).
            for (; p + 32 <= columns; p += 32)
            {
                if (Vector256.Load(row + p) == Vector256<byte>.Zero) continue;
                for (int b = p; b < p + 32; b += 8) q = PackBlock(LoadBytes(row, b, s), b, q, index, value, table, lanes);
            }
            for (; p + 8 <= columns; p += 8) q = PackBlock(LoadBytes(row, p, s), p, q, index, value, table, lanes);
        }
        for (; p < columns; p++)
            if (row[p] != 0) { index[q] = p; value[q] = row[p] * scale; q++; }
        return q;
    }

    /// <summary>Writes the matrix as dense rows (Rows × Columns, row-major) into <paramref name="dense"/>, zeros included.</summary>
    public void Expand(Span<float> dense)
    {
        if (dense.Length < (long)Rows * Columns) throw new ArgumentException($"sparse expand: {dense.Length} floats cannot hold ({Rows}, {Columns})");
        dense[..(Rows * Columns)].Clear();
        for (int r = 0; r < Rows; r++)
        {
            var row = dense.Slice(r * Columns, Columns);
            for (int q = _start[r]; q < _start[r + 1]; q++) row[_index[q]] = _value[q];
        }
    }

    /// <summary>Makes this matrix the transpose of <paramref name="source"/> (a counting sort of its pairs by column).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void TransposeOf(SparseMatrix source)
    {
        if (ReferenceEquals(source, this)) throw new ArgumentException("cannot transpose a sparse matrix into itself");
        int m = source.Columns, k = source.Rows, nnz = source.NonZeros;
        Rows = m; Columns = k; NonZeros = nnz;
        Ensure(ref _start, m + 1L);
        Ensure(ref _index, nnz + 8L);
        Ensure(ref _value, nnz + 8L);
        Ensure(ref _fill, m + 1L);
        fixed (int* start = _start) fixed (int* next = _fill) fixed (int* index = _index) fixed (float* value = _value)
        fixed (int* sStart = source._start) fixed (int* sIndex = source._index) fixed (float* sValue = source._value)
        {
            // Count the entries of each column, turn the counts into start offsets, then place every entry.
            new Span<int>(start, m + 1).Clear();
            for (int q = 0; q < nnz; q++) start[sIndex[q] + 1]++;
            for (int r = 0; r < m; r++) start[r + 1] += start[r];
            new Span<int>(start, m).CopyTo(new Span<int>(next, m));
            for (int p = 0; p < k; p++)
            {
                int q1 = sStart[p + 1];
                for (int q = sStart[p]; q < q1; q++)
                {
                    int slot = next[sIndex[q]]++;
                    index[slot] = p;
                    value[slot] = sValue[q];
                }
            }
        }
    }

    /// <summary>
    /// C (Rows×n) = this·B (or += with <paramref name="accumulate"/>), B Columns×n with leading dimension ldb, its rows
    /// split over threads as <paramref name="options"/> allow (null: <see cref="GemmOptions.Default"/>).
    /// </summary>
    public unsafe void Multiply(ReadOnlySpan<float> b, int n, int ldb, Span<float> c, int ldc, bool accumulate = false, GemmOptions? options = null)
    {
        if (n < 0 || ldb < n || ldc < n || (Columns > 0 && (long)(Columns - 1) * ldb + n > b.Length) || (Rows > 0 && (long)(Rows - 1) * ldc + n > c.Length))
            throw new ArgumentException($"sparse multiply: B ({b.Length} elements, ld {ldb}) or C ({c.Length}, ld {ldc}) too small for ({Rows}×{Columns})·({Columns}×{n})");
        if (Rows == 0 || n == 0) return;
        int k = Columns;
        PadWithoutMaskedLoads(ref b, ref ldb, k, n);
        int m = Rows;
        fixed (float* pb = b) fixed (float* pc = c) fixed (int* pi = _index) fixed (float* pv = _value) fixed (int* ps = _start)
        {
            long work = (long)NonZeros * n;
            int threads = (options ?? GemmOptions.Default).ThreadsFor(work);
            if (threads <= 1 || m < 2)
            {
                RowsKernel(0, m, n, ps, pi, pv, pb, ldb, pc, ldc, accumulate);
                return;
            }
            RowsParallel(m, n, ps, pi, pv, pb, ldb, pc, ldc, accumulate, threads);
        }
    }

    /// <summary>Rows split over threads, one contiguous range each.</summary>
    private static unsafe void RowsParallel(int m, int n, int* ps, int* pi, float* pv, float* pb, int ldb, float* pc, int ldc, bool accumulate, int threads)
    {
        var job = t_rowsJob ??= new RowsJob();
        job.M = m; job.N = n; job.Start = ps; job.Index = pi; job.Value = pv; job.B = pb; job.Ldb = ldb; job.C = pc; job.Ldc = ldc;
        job.Accumulate = accumulate;
        job.Chunk = (m + threads - 1) / threads;
        WorkerPool.For(threads, threads, job.Run);
    }

    /// <summary>One threaded product's operands, kept per calling thread with its delegate, so that a call allocates nothing.</summary>
    private sealed unsafe class RowsJob
    {
        public int M, N, Ldb, Ldc, Chunk;
        public bool Accumulate;
        public int* Start, Index;
        public float* Value, B, C;
        public readonly Action<int> Run;

        public RowsJob() => Run = Part;

        private void Part(int t)
        {
            int r0 = t * Chunk, r1 = Math.Min(M, r0 + Chunk);
            if (r0 < r1) RowsKernel(r0, r1, N, Start, Index, Value, B, Ldb, C, Ldc, Accumulate);
        }
    }

    [ThreadStatic] private static RowsJob? t_rowsJob;

    /// <summary>
    /// Without AVX masked loads the kernels read whole 8-float vectors only: then B (rows×n) is copied with its
    /// rows padded to a multiple of 8. With AVX the last, ragged vector of a row is read with a masked load.
    /// </summary>
    private void PadWithoutMaskedLoads(ref ReadOnlySpan<float> b, ref int ldb, int rows, int n)
    {
        int npad = (n + 7) & ~7;
        if (Avx.IsSupported || npad == ldb) return;
        Ensure(ref _padded, (long)rows * npad);
        for (int p = 0; p < rows; p++)
        {
            b.Slice(p * ldb, n).CopyTo(_padded.AsSpan(p * npad, n));
            _padded.AsSpan(p * npad + n, npad - n).Clear();
        }
        b = _padded.AsSpan(0, rows * npad);
        ldb = npad;
    }

    /// <summary>
    /// C (Columns×n) = thisᵀ·B (or += with <paramref name="accumulate"/>), B Rows×n: for each row p of this matrix,
    /// B's row p is held in registers and scattered into the C rows its non-zero columns name. This is how the
    /// weight gradient xᵀ·dout of a layer with sparse input is formed without transposing anything.
    /// </summary>
    public unsafe void MultiplyTransposed(ReadOnlySpan<float> b, int n, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        if (n < 0 || ldb < n || ldc < n || (Rows > 0 && (long)(Rows - 1) * ldb + n > b.Length) || (Columns > 0 && (long)(Columns - 1) * ldc + n > c.Length))
            throw new ArgumentException($"sparse multiply: B ({b.Length} elements, ld {ldb}) or C ({c.Length}, ld {ldc}) too small for ({Columns}×{Rows})·({Rows}×{n})");
        if (Rows == 0 || n == 0 || Columns == 0)
        {
            if (!accumulate) for (int r = 0; r < Columns; r++) c.Slice(r * ldc, n).Clear();
            return;
        }
        int m = Rows;
        PadWithoutMaskedLoads(ref b, ref ldb, m, n);
        // C's rows are updated a whole vector at a time: when they end inside a vector, the work goes to a copy of C
        // with rows padded to whole vectors (B's padding lanes are read as zeros), copied back at the end.
        int npad = (n + 7) & ~7;
        var target = c;
        int ldt = ldc;
        if (npad != n)
        {
            target = AlignedPadded(Columns * npad);
            ldt = npad;
            for (int r = 0; r < Columns; r++)
            {
                var row = target.Slice(r * npad, npad);
                if (accumulate) { c.Slice(r * ldc, n).CopyTo(row); row.Slice(n).Clear(); }
                else row.Clear();
            }
        }
        else if (!accumulate)
            for (int r = 0; r < Columns; r++) c.Slice(r * ldc, n).Clear();
        ScatterAll(b, n, ldb, target, ldt);
        if (npad != n)
            for (int r = 0; r < Columns; r++) target.Slice(r * npad, n).CopyTo(c.Slice(r * ldc, n));
    }

    private unsafe void ScatterAll(ReadOnlySpan<float> b, int n, int ldb, Span<float> c, int ldc)
    {
        int m = Rows;
        fixed (float* pb = b) fixed (float* pc = c) fixed (int* pi = _index) fixed (float* pv = _value) fixed (int* ps = _start)
        {
            for (int j = 0; j < n; j += 64)
            {
                int width = Math.Min(64, n - j);
                bool ragged = width % 8 != 0 && Avx.IsSupported;
                var mask = VectorRows.LaneMask(width - (width - 1) / 8 * 8);
                switch ((width + 7) / 8 * 2 + (ragged ? 1 : 0))
                {
                    case 2: ScatterChunk<V1, WholeVectors>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 3: ScatterChunk<V1, RaggedEdge>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 4: ScatterChunk<V2, WholeVectors>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 5: ScatterChunk<V2, RaggedEdge>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 6: ScatterChunk<V3, WholeVectors>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 7: ScatterChunk<V3, RaggedEdge>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 8: ScatterChunk<V4, WholeVectors>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 9: ScatterChunk<V4, RaggedEdge>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 10: ScatterChunk<V5, WholeVectors>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 11: ScatterChunk<V5, RaggedEdge>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 12: ScatterChunk<V6, WholeVectors>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 13: ScatterChunk<V6, RaggedEdge>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 14: ScatterChunk<V7, WholeVectors>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 15: ScatterChunk<V7, RaggedEdge>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 16: ScatterChunk<V8, WholeVectors>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                    case 17: ScatterChunk<V8, RaggedEdge>(m, j, width, mask, ps, pi, pv, pb, ldb, pc, ldc); break;
                }
            }
        }
    }

    /// <summary>
    /// C[index, j..j+width) += value · B[p, j..j+width) for every entry (p, index, value): B's row p is held in
    /// registers while it is scattered. C's rows must hold whole vectors (the caller pads them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ScatterChunk<TW, TR>(int m, int j, int width, Vector256<float> mask, int* start, int* index, float* value, float* b, int ldb, float* c, int ldc)
        where TW : struct, IVectorCount where TR : struct, IRaggedEdge
    {
        for (int p = 0; p < m; p++)
        {
            int q = start[p], qEnd = start[p + 1];
            float* brow = b + (long)p * ldb + j;
            var d0 = TR.Value && TW.Vectors == 1 ? Avx.MaskLoad(brow, mask) : Vector256.Load(brow);
            var d1 = TW.Vectors > 1 ? (TR.Value && TW.Vectors == 2 ? Avx.MaskLoad(brow + 8, mask) : Vector256.Load(brow + 8)) : default;
            var d2 = TW.Vectors > 2 ? (TR.Value && TW.Vectors == 3 ? Avx.MaskLoad(brow + 16, mask) : Vector256.Load(brow + 16)) : default;
            var d3 = TW.Vectors > 3 ? (TR.Value && TW.Vectors == 4 ? Avx.MaskLoad(brow + 24, mask) : Vector256.Load(brow + 24)) : default;
            var d4 = TW.Vectors > 4 ? (TR.Value && TW.Vectors == 5 ? Avx.MaskLoad(brow + 32, mask) : Vector256.Load(brow + 32)) : default;
            var d5 = TW.Vectors > 5 ? (TR.Value && TW.Vectors == 6 ? Avx.MaskLoad(brow + 40, mask) : Vector256.Load(brow + 40)) : default;
            var d6 = TW.Vectors > 6 ? (TR.Value && TW.Vectors == 7 ? Avx.MaskLoad(brow + 48, mask) : Vector256.Load(brow + 48)) : default;
            var d7 = TW.Vectors > 7 ? (TR.Value && TW.Vectors == 8 ? Avx.MaskLoad(brow + 56, mask) : Vector256.Load(brow + 56)) : default;
            for (; q < qEnd; q++)
            {
                var v = Vector256.Create(value[q]);
                float* crow = c + (long)index[q] * ldc + j;
                if (TW.Vectors > 1) Vector256.FusedMultiplyAdd(v, d0, Vector256.Load(crow)).Store(crow);
                if (TW.Vectors > 2) Vector256.FusedMultiplyAdd(v, d1, Vector256.Load(crow + 8)).Store(crow + 8);
                if (TW.Vectors > 3) Vector256.FusedMultiplyAdd(v, d2, Vector256.Load(crow + 16)).Store(crow + 16);
                if (TW.Vectors > 4) Vector256.FusedMultiplyAdd(v, d3, Vector256.Load(crow + 24)).Store(crow + 24);
                if (TW.Vectors > 5) Vector256.FusedMultiplyAdd(v, d4, Vector256.Load(crow + 32)).Store(crow + 32);
                if (TW.Vectors > 6) Vector256.FusedMultiplyAdd(v, d5, Vector256.Load(crow + 40)).Store(crow + 40);
                if (TW.Vectors > 7) Vector256.FusedMultiplyAdd(v, d6, Vector256.Load(crow + 48)).Store(crow + 48);
                if (TW.Vectors > 8) Vector256.FusedMultiplyAdd(v, d7, Vector256.Load(crow + 56)).Store(crow + 56);
                float* last = crow + (TW.Vectors - 1) * 8;
                var dl = TW.Vectors switch { 1 => d0, 2 => d1, 3 => d2, 4 => d3, 5 => d4, 6 => d5, 7 => d6, _ => d7 };
                Vector256.FusedMultiplyAdd(v, dl, Vector256.Load(last)).Store(last); // C's rows are padded to whole vectors
            }
        }
    }


    /// <summary>
    /// For each 8-bit mask of non-zero lanes, the lane numbers of its set bits first: a permutation that packs
    /// the non-zero lanes of a vector to its front (AVX2 has no compress instruction).
    /// </summary>
    private static readonly int[] CompactTable = BuildCompactTable();

    private static int[] BuildCompactTable()
    {
        var table = new int[256 * 8];
        for (int mask = 0; mask < 256; mask++)
        {
            int o = 0;
            for (int lane = 0; lane < 8; lane++) if ((mask & (1 << lane)) != 0) table[mask * 8 + o++] = lane;
        }
        return table;
    }

    /// <summary>
    /// The non-zeros of <paramref name="v"/> (the values of columns p … p + 7) appended at q: compare, pack by the
    /// table's permutation, store all 8 lanes; returns the new q.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int PackBlock(Vector256<float> v, int p, int q, int* index, float* value, int* table, Vector256<int> lanes)
    {
        uint mask = ~Vector256.Equals(v, Vector256<float>.Zero).ExtractMostSignificantBits() & 0xFF;
        var perm = Vector256.Load(table + mask * 8);
        Avx2.PermuteVar8x32(v, perm).Store(value + q);
        Avx2.PermuteVar8x32(lanes + Vector256.Create(p), perm).Store(index + q);
        return q + System.Numerics.BitOperations.PopCount(mask);
    }

    /// <summary>Bytes row[p … p + 8) as floats × scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> LoadBytes(byte* row, int p, Vector256<float> scale) =>
        Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(row + p)) * scale;

    /// <summary>
    /// Non-zeros of each row, 8 at a time: a vector compare gives the mask of non-zero lanes, a table
    /// permutation packs them to the front, and all 8 lanes are stored while the write position advances by the
    /// mask's population count — no branch per element (whether one block of 8 is empty is unpredictable; whether
    /// a run of 32 is, at an image's margins, is not, so those are tested first). index/value need 8 spare slots.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int Compress(float* a, int m, int k, int lda, int* start, int* index, float* value)
    {
        int q = 0;
        bool avx2 = Avx2.IsSupported;
        fixed (int* table = CompactTable)
        {
            var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            for (int r = 0; r < m; r++)
            {
                start[r] = q;
                float* row = a + (long)r * lda;
                int p = 0;
                if (avx2)
                {
                    // 32 values at a time: skipped at once when their bits are all zero (+0.0; images have empty
                    // margins, so this branch is predictable), else packed 8 at a time, then the last whole blocks.
                    for (; p + 32 <= k; p += 32)
                    {
                        if ((Vector256.Load(row + p) | Vector256.Load(row + p + 8) | Vector256.Load(row + p + 16)
                            | Vector256.Load(row + p + 24)).AsUInt32() == Vector256<uint>.Zero)
                            continue;
                        for (int b = p; b < p + 32; b += 8) q = PackBlock(Vector256.Load(row + b), b, q, index, value, table, lanes);
                    }
                    for (; p + 8 <= k; p += 8) q = PackBlock(Vector256.Load(row + p), p, q, index, value, table, lanes);
                }
                for (; p < k; p++)
                    if (row[p] != 0f) { index[q] = p; value[q] = row[p]; q++; }
            }
        }
        start[m] = q;
        return q;
    }




    /// <summary>Columns per pass of <see cref="RowsKernel"/>: 64 (eight vector accumulators) measured best.</summary>
    private const int ChunkColumns = 64;

    /// <summary>
    /// Rows r0..r1 of C. Columns go 64 at a time (8 accumulators) and the rest in one pass of exactly as many
    /// vectors as remain, so each row's list of non-zeros is read once per 64 columns. A ragged last vector of B
    /// is read with a masked load (or B was padded) and written to C through a scratch buffer.
    /// </summary>

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RowsKernel(int r0, int r1, int n, int* start, int* index, float* value, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        for (int j = 0; j < n; j += ChunkColumns)
        {
            int width = Math.Min(ChunkColumns, n - j);
            bool ragged = width % 8 != 0 && Avx.IsSupported;
            var mask = VectorRows.LaneMask(width - (width - 1) / 8 * 8);
            switch ((width + 7) / 8 * 2 + (ragged ? 1 : 0))
            {
                case 2: Chunk<V1, WholeVectors>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 3: Chunk<V1, RaggedEdge>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 4: Chunk<V2, WholeVectors>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 5: Chunk<V2, RaggedEdge>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 6: Chunk<V3, WholeVectors>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 7: Chunk<V3, RaggedEdge>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 8: Chunk<V4, WholeVectors>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 9: Chunk<V4, RaggedEdge>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 10: Chunk<V5, WholeVectors>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 11: Chunk<V5, RaggedEdge>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 12: Chunk<V6, WholeVectors>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 13: Chunk<V6, RaggedEdge>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 14: Chunk<V7, WholeVectors>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 15: Chunk<V7, RaggedEdge>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 16: Chunk<V8, WholeVectors>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 17: Chunk<V8, RaggedEdge>(r0, r1, j, width, mask, start, index, value, b, ldb, c, ldc, accumulate); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Chunk<TW, TR>(int r0, int r1, int j, int width, Vector256<float> mask, int* start, int* index, float* value, float* b, int ldb, float* c, int ldc, bool accumulate)
        where TW : struct, IVectorCount where TR : struct, IRaggedEdge
    {
        float* scratch = stackalloc float[8];
        for (int r = r0; r < r1; r++)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            int q1 = start[r + 1];
            for (int q = start[r]; q < q1; q++)
            {
                var v = Vector256.Create(value[q]);
                float* brow = b + (long)index[q] * ldb + j;
                s0 = Vector256.FusedMultiplyAdd(v, TR.Value && TW.Vectors == 1 ? Avx.MaskLoad(brow, mask) : Vector256.Load(brow), s0);
                if (TW.Vectors > 1) s1 = Vector256.FusedMultiplyAdd(v, TR.Value && TW.Vectors == 2 ? Avx.MaskLoad(brow + 8, mask) : Vector256.Load(brow + 8), s1);
                if (TW.Vectors > 2) s2 = Vector256.FusedMultiplyAdd(v, TR.Value && TW.Vectors == 3 ? Avx.MaskLoad(brow + 16, mask) : Vector256.Load(brow + 16), s2);
                if (TW.Vectors > 3) s3 = Vector256.FusedMultiplyAdd(v, TR.Value && TW.Vectors == 4 ? Avx.MaskLoad(brow + 24, mask) : Vector256.Load(brow + 24), s3);
                if (TW.Vectors > 4) s4 = Vector256.FusedMultiplyAdd(v, TR.Value && TW.Vectors == 5 ? Avx.MaskLoad(brow + 32, mask) : Vector256.Load(brow + 32), s4);
                if (TW.Vectors > 5) s5 = Vector256.FusedMultiplyAdd(v, TR.Value && TW.Vectors == 6 ? Avx.MaskLoad(brow + 40, mask) : Vector256.Load(brow + 40), s5);
                if (TW.Vectors > 6) s6 = Vector256.FusedMultiplyAdd(v, TR.Value && TW.Vectors == 7 ? Avx.MaskLoad(brow + 48, mask) : Vector256.Load(brow + 48), s6);
                if (TW.Vectors > 7) s7 = Vector256.FusedMultiplyAdd(v, TR.Value && TW.Vectors == 8 ? Avx.MaskLoad(brow + 56, mask) : Vector256.Load(brow + 56), s7);
            }
            float* crow = c + (long)r * ldc + j;
            VectorRows.Put(s0, crow, width, accumulate, scratch);
            if (TW.Vectors > 1) VectorRows.Put(s1, crow + 8, width - 8, accumulate, scratch);
            if (TW.Vectors > 2) VectorRows.Put(s2, crow + 16, width - 16, accumulate, scratch);
            if (TW.Vectors > 3) VectorRows.Put(s3, crow + 24, width - 24, accumulate, scratch);
            if (TW.Vectors > 4) VectorRows.Put(s4, crow + 32, width - 32, accumulate, scratch);
            if (TW.Vectors > 5) VectorRows.Put(s5, crow + 40, width - 40, accumulate, scratch);
            if (TW.Vectors > 6) VectorRows.Put(s6, crow + 48, width - 48, accumulate, scratch);
            if (TW.Vectors > 7) VectorRows.Put(s7, crow + 56, width - 56, accumulate, scratch);
        }
    }


}

/// <summary>
/// C = op(A)·B when op(A) is mostly zeros, as MNIST pixels are (about 81 % of them): A is compressed to a
/// <see cref="SparseMatrix"/> and only its non-zeros are multiplied, so the cost falls with the density.
/// <see cref="Gemm"/>'s dense kernel stays faster above roughly 30 % non-zeros. Results equal the dense product
/// up to float rounding (another summation order).
/// </summary>
public static class SparseGemm
{
    /// <summary>Fraction of non-zeros at or below which callers should prefer this path.</summary>
    public const double DensityThreshold = 0.3;

    /// <summary>Fraction of non-zero elements.</summary>
    public static double Density(ReadOnlySpan<float> a) => a.Length == 0 ? 0 : 1.0 - (double)CountZeros(a) / a.Length;

    private static int CountZeros(ReadOnlySpan<float> a)
    {
        int zeros = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float r = ref MemoryMarshal.GetReference(a);
            for (; i + 8 <= a.Length; i += 8)
                zeros += BitOperationsCount(Vector256.Equals(Vector256.LoadUnsafe(ref r, (nuint)i), Vector256<float>.Zero).ExtractMostSignificantBits());
        }
        for (; i < a.Length; i++) if (a[i] == 0f) zeros++;
        return zeros;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BitOperationsCount(uint bits) => System.Numerics.BitOperations.PopCount(bits);

    [ThreadStatic] private static SparseMatrix? t_a, t_aT;

    /// <summary>C (m×n) = op(A)·B (or += with <paramref name="accumulate"/>); A is m×k, or k×m when <paramref name="transA"/>.</summary>
    public static void Multiply(bool transA, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false, GemmOptions? options = null)
    {
        Gemm.Validate(transA, false, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        var sparse = t_a ??= new SparseMatrix();
        if (!transA)
        {
            sparse.CompressRows(a, m, k, lda);
            sparse.Multiply(b, n, ldb, c, ldc, accumulate, options);
        }
        else
        {
            sparse.CompressRows(a, k, m, lda);
            var transposed = t_aT ??= new SparseMatrix();
            transposed.TransposeOf(sparse);
            transposed.Multiply(b, n, ldb, c, ldc, accumulate, options);
        }
    }
}
