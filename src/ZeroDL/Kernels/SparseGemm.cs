using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// C = op(A)·B when op(A) is mostly zeros, as MNIST pixels are (about 81 % of them). Each row r of op(A) is
/// turned into a list of its non-zero (column, value) pairs, then C[r, :] = Σ value·B[column, :] is accumulated
/// in registers 32 columns at a time. The multiply-adds done are only those of non-zero elements, so the cost
/// falls with the density; <see cref="Gemm"/>'s dense kernel stays faster above roughly 30 % non-zeros.
/// Results equal the dense product up to float rounding (a different summation order).
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

    [ThreadStatic] private static int[]? t_start;
    [ThreadStatic] private static int[]? t_index;
    [ThreadStatic] private static float[]? t_value;
    [ThreadStatic] private static float[]? t_padded;
    [ThreadStatic] private static int[]? t_rowStart, t_rowIndex, t_fill;
    [ThreadStatic] private static float[]? t_rowValue;

    private static TItem[] Scratch<TItem>(ref TItem[]? slot, int length) =>
        slot is { } s && s.Length >= length ? s : slot = new TItem[Math.Max(length, 1024)];

    /// <summary>C (m×n) = op(A)·B (or += with <paramref name="accumulate"/>); A is m×k, or k×m when <paramref name="transA"/>.</summary>
    public static unsafe void Multiply(bool transA, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        Gemm.Validate(transA, false, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        // Compressed rows of op(A): start[r] .. start[r+1] index the (column, value) pairs of row r.
        var start = t_start is { } s && s.Length >= m + 1 ? s : t_start = new int[Math.Max(m + 1, 1024)];
        long maxNnz = (long)m * k;
        int capacity = (int)Math.Min(maxNnz + 8, int.MaxValue);
        var index = t_index is { } ix && ix.Length >= capacity ? ix : t_index = new int[capacity];
        var value = t_value is { } vx && vx.Length >= capacity ? vx : t_value = new float[capacity];
        int nnz;
        fixed (float* pa = a) fixed (int* ps = start) fixed (int* pi = index) fixed (float* pv = value)
        {
            if (!transA) nnz = CompressRows(pa, m, k, lda, ps, pi, pv);
            else nnz = CompressColumns(pa, m, k, lda, ps, pi, pv);
        }

        // The kernel works on whole 8-float vectors: give it B with its row length padded to a multiple of 8.
        int npad = (n + 7) & ~7;
        if (npad != n || ldb != n)
        {
            var padded = t_padded is { } pb0 && pb0.Length >= k * npad ? pb0 : t_padded = new float[Math.Max(k * npad, 4096)];
            for (int p = 0; p < k; p++)
            {
                b.Slice(p * ldb, n).CopyTo(padded.AsSpan(p * npad, n));
                padded.AsSpan(p * npad + n, npad - n).Clear();
            }
            b = padded;
            ldb = npad;
        }
        fixed (float* pb = b) fixed (float* pc = c) fixed (int* pi = index) fixed (float* pv = value) fixed (int* ps = start)
        {
            long work = (long)nnz * n;
            int threads = work < Gemm.ParallelThreshold / 4 ? 1 : Math.Min(Gemm.MaxThreads, Environment.ProcessorCount);
            if (threads <= 1 || m < 2)
            {
                Rows(0, m, n, ps, pi, pv, pb, ldb, pc, ldc, accumulate);
                return;
            }
            nint ib = (nint)pb, ic = (nint)pc, ii = (nint)pi, iv = (nint)pv, istart = (nint)ps;
            int chunk = (m + threads - 1) / threads;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int r0 = t * chunk, r1 = Math.Min(m, r0 + chunk);
                if (r0 < r1) Rows(r0, r1, n, (int*)istart, (int*)ii, (float*)iv, (float*)ib, ldb, (float*)ic, ldc, accumulate);
            });
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
    /// Non-zeros of each row of a row-major m×k matrix, 8 at a time: a vector compare gives the mask of
    /// non-zero lanes, a table permutation packs them to the front, and all 8 lanes are stored while the write
    /// position advances by the mask's population count — no branch per element. index/value need 8 spare slots.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int CompressRows(float* a, int m, int k, int lda, int* start, int* index, float* value)
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
                    for (; p + 8 <= k; p += 8)
                    {
                        var v = Vector256.Load(row + p);
                        uint mask = ~Vector256.Equals(v, Vector256<float>.Zero).ExtractMostSignificantBits() & 0xFF;
                        if (mask == 0) continue;
                        var perm = Vector256.Load(table + mask * 8);
                        Avx2.PermuteVar8x32(v, perm).Store(value + q);
                        Avx2.PermuteVar8x32(lanes + Vector256.Create(p), perm).Store(index + q);
                        q += System.Numerics.BitOperations.PopCount(mask);
                    }
                }
                for (; p < k; p++)
                    if (row[p] != 0f) { index[q] = p; value[q] = row[p]; q++; }
            }
        }
        start[m] = q;
        return q;
    }

    /// <summary>Non-zeros of each column of a row-major k×m matrix (the rows of its transpose), in row order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int CompressColumns(float* a, int m, int k, int lda, int* start, int* index, float* value)
    {
        // Compress the rows of A first (row p: its non-zero columns r), then count per column and scatter.
        int total = (int)Math.Min((long)m * k + 8, int.MaxValue);
        var rowStart = Scratch(ref t_rowStart, k + 1);
        var rowIndex = Scratch(ref t_rowIndex, total);
        var rowValue = Scratch(ref t_rowValue, total);
        var fill = Scratch(ref t_fill, m);
        fixed (int* rs = rowStart) fixed (int* ri = rowIndex) fixed (float* rv = rowValue)
        {
            int nnz = CompressRows(a, k, m, lda, rs, ri, rv);
            new Span<int>(start, m + 1).Clear();
            for (int q = 0; q < nnz; q++) start[ri[q] + 1]++;
            for (int r = 0; r < m; r++) start[r + 1] += start[r];
            Array.Clear(fill, 0, m);
            for (int p = 0; p < k; p++)
                for (int q = rs[p]; q < rs[p + 1]; q++)
                {
                    int r = ri[q];
                    int slot = start[r] + fill[r]++;
                    index[slot] = p; value[slot] = rv[q];
                }
            return nnz;
        }
    }

    /// <summary>Vector count of a kernel instantiation; a struct per width so the JIT folds every test on it.</summary>
    private interface IWidth { static abstract int Vectors { get; } }
    private struct W1 : IWidth { public static int Vectors => 1; }
    private struct W2 : IWidth { public static int Vectors => 2; }
    private struct W3 : IWidth { public static int Vectors => 3; }
    private struct W4 : IWidth { public static int Vectors => 4; }
    private struct W5 : IWidth { public static int Vectors => 5; }
    private struct W6 : IWidth { public static int Vectors => 6; }
    private struct W7 : IWidth { public static int Vectors => 7; }
    private struct W8 : IWidth { public static int Vectors => 8; }

    /// <summary>
    /// Rows r0..r1 of C. B's rows are padded to whole vectors (ldb a multiple of 8). Columns go 64 at a time
    /// (8 accumulators) and the rest in one pass of exactly as many vectors as remain, so each row's list of
    /// non-zeros is read once per 64 columns. A ragged last vector is written through a scratch buffer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rows(int r0, int r1, int n, int* start, int* index, float* value, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        for (int j = 0; j < n; j += 64)
        {
            int width = Math.Min(64, n - j);
            switch ((width + 7) / 8)
            {
                case 1: Chunk<W1>(r0, r1, j, width, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 2: Chunk<W2>(r0, r1, j, width, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 3: Chunk<W3>(r0, r1, j, width, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 4: Chunk<W4>(r0, r1, j, width, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 5: Chunk<W5>(r0, r1, j, width, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 6: Chunk<W6>(r0, r1, j, width, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 7: Chunk<W7>(r0, r1, j, width, start, index, value, b, ldb, c, ldc, accumulate); break;
                case 8: Chunk<W8>(r0, r1, j, width, start, index, value, b, ldb, c, ldc, accumulate); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Chunk<TW>(int r0, int r1, int j, int width, int* start, int* index, float* value, float* b, int ldb, float* c, int ldc, bool accumulate)
        where TW : struct, IWidth
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
                s0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(brow), s0);
                if (TW.Vectors > 1) s1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(brow + 8), s1);
                if (TW.Vectors > 2) s2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(brow + 16), s2);
                if (TW.Vectors > 3) s3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(brow + 24), s3);
                if (TW.Vectors > 4) s4 = Vector256.FusedMultiplyAdd(v, Vector256.Load(brow + 32), s4);
                if (TW.Vectors > 5) s5 = Vector256.FusedMultiplyAdd(v, Vector256.Load(brow + 40), s5);
                if (TW.Vectors > 6) s6 = Vector256.FusedMultiplyAdd(v, Vector256.Load(brow + 48), s6);
                if (TW.Vectors > 7) s7 = Vector256.FusedMultiplyAdd(v, Vector256.Load(brow + 56), s7);
            }
            float* crow = c + (long)r * ldc + j;
            Put(s0, crow, width, accumulate, scratch);
            if (TW.Vectors > 1) Put(s1, crow + 8, width - 8, accumulate, scratch);
            if (TW.Vectors > 2) Put(s2, crow + 16, width - 16, accumulate, scratch);
            if (TW.Vectors > 3) Put(s3, crow + 24, width - 24, accumulate, scratch);
            if (TW.Vectors > 4) Put(s4, crow + 32, width - 32, accumulate, scratch);
            if (TW.Vectors > 5) Put(s5, crow + 40, width - 40, accumulate, scratch);
            if (TW.Vectors > 6) Put(s6, crow + 48, width - 48, accumulate, scratch);
            if (TW.Vectors > 7) Put(s7, crow + 56, width - 56, accumulate, scratch);
        }
    }

    /// <summary>Writes (or adds) the first min(count, 8) lanes of <paramref name="v"/> at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Put(Vector256<float> v, float* dst, int count, bool accumulate, float* scratch)
    {
        if (count >= 8)
        {
            if (accumulate) v += Vector256.Load(dst);
            v.Store(dst);
            return;
        }
        v.Store(scratch);
        for (int t = 0; t < count; t++) dst[t] = accumulate ? dst[t] + scratch[t] : scratch[t];
    }

}
