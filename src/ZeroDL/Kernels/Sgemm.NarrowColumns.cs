// The last few columns of a product whose width is not a whole number of register-tile panels: 100×784×50 is
// three 16-column panels and 2 columns more, and a zero-padded fourth panel would compute 16 columns for those 2
// (a quarter of the whole product's arithmetic). Here they are split off and cost what they are: dot products
// along k when A's rows are contiguous, 8 rows of C at a time when A is stored transposed.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

internal static unsafe partial class Sgemm
{
    /// <summary>At most this many leftover columns are split off (more fill enough of a panel to keep it).</summary>
    public const int MaxNarrowColumns = 4;

    /// <summary>
    /// How many of a product's n columns the narrow kernels take: n mod NR when that is 1 … <see cref="MaxNarrowColumns"/>
    /// and whole panels remain; 0 for the scalar kernel, which has no vectors to spare. (Counting the AVX-512 kernel's
    /// columns in 16-column halves would let its 12×16 tile take n = 50 as 32 + 16 + 2, but the narrow kernels sum in
    /// another order than the tiles, and the results would change in their last bits.)
    /// </summary>
    internal static int NarrowColumns(GemmKernel kind, int n)
    {
        if (kind == GemmKernel.Scalar || !Avx2.IsSupported || !Fma.IsSupported) return 0;
        int nr = NR(kind), r = n % nr;
        return n > nr && r <= MaxNarrowColumns ? r : 0;
    }

    /// <summary>
    /// Rows i0 … i1 of the plan's narrow columns (its last <see cref="GemmPlan.NarrowColumns"/>, or none), for a
    /// caller that shares them out by rows: each element is computed as <see cref="Serial(in GemmPlan, int, int, float*, int, float*, int, float*, int, bool, bool, long)"/> computes it.
    /// </summary>
    public static void NarrowColumnRows(in GemmPlan plan, int i0, int i1, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        int narrow = plan.NarrowColumns;
        if (narrow > 0 && i0 < i1 && plan.K > 0)
            NarrowColumnsProduct(plan.TransA, plan.TransB, i0, i1, narrow, plan.N - narrow, plan.K, a, lda, b, ldb, c, ldc, accumulate);
    }

    /// <summary>op(B)'s narrow columns as rows: 2 or 4 rows (unused ones zero) of k floats, zero-padded to whole vectors.</summary>
    [ThreadStatic] private static float[]? t_narrowB;

    /// <summary>
    /// C[i0 … i1, col0 … col0 + r) = (or +=) op(A)[i0 … i1, :] · op(B)[:, col0 … col0 + r), r ≤ <see cref="MaxNarrowColumns"/>.
    /// Every element is computed the same way whichever rows share the call, so a split over threads changes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowColumnsProduct(bool transA, bool transB, int i0, int i1, int r, int col0, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool acc)
    {
        int width = r <= 2 ? 2 : 4;
        long need = (long)width * (((long)k + 7) & ~7L);
        if (need > Array.MaxLength)
            throw new ArgumentException($"gemm: an inner dimension of {k} is too long for the narrow-column kernels' buffer");
        int kpad = (k + 7) & ~7;
        var buffer = t_narrowB is { } existing && existing.Length >= need ? existing : t_narrowB = new float[Math.Max((int)need, 1024)];
        fixed (float* bt = buffer)
        {
            for (int j = 0; j < width; j++)
            {
                float* row = bt + (long)j * kpad;
                int p = 0;
                if (j < r)
                {
                    if (transB) for (float* src = b + (long)(col0 + j) * ldb; p < k; p++) row[p] = src[p];
                    else for (float* src = b + col0 + j; p < k; p++) row[p] = src[(long)p * ldb];
                }
                for (; p < kpad; p++) row[p] = 0f;
            }
            // Three or four columns: all at once, so that A (the large operand) is read once.
            if (r > 2)
            {
                if (transA) TransposedRowsTimesQuad(i0, i1, k, a, lda, bt, kpad, c + col0, ldc, r, acc);
                else RowsDotQuad(i0, i1, k, a, lda, bt, kpad, c + col0, ldc, r, acc);
                return;
            }
            for (int j = 0; j < r; j += 2)
            {
                float* pair = bt + (long)j * kpad;
                int cols = Math.Min(2, r - j);
                if (transA) TransposedRowsTimesPair(i0, i1, k, a, lda, pair, kpad, c + col0 + j, ldc, cols, acc);
                else RowsDotPair(i0, i1, k, a, lda, pair, kpad, c + col0 + j, ldc, cols, acc);
            }
        }
    }

    /// <summary>
    /// A stored m×k: C[i, 0 … cols) (+)= A[i, :] · pair[0 … cols), four rows at a time (8 sums in flight), each a
    /// dot product of 8-float slices, the last slice masked. Rows past i1 in the last group repeat row i1 − 1 and
    /// are not written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsDotPair(int i0, int i1, int k, float* a, int lda, float* pair, int kpad, float* c, int ldc, int cols, bool acc)
    {
        float* sums = stackalloc float[8 * 8];
        for (int i = i0; i < i1; i += 4)
        {
            int rows = Math.Min(4, i1 - i);
            float* x0 = a + (long)i * lda;
            DotFourRowsByPair(k, x0, a + (long)(i + Math.Min(1, rows - 1)) * lda, a + (long)(i + Math.Min(2, rows - 1)) * lda,
                a + (long)(i + Math.Min(3, rows - 1)) * lda, pair, pair + kpad, sums);
            for (int r = 0; r < rows; r++)
            {
                float* row = c + (long)(i + r) * ldc;
                for (int j = 0; j < cols; j++)
                {
                    float x = Vector256.Sum(Vector256.Load(sums + (r * 2 + j) * 8));
                    row[j] = acc ? row[j] + x : x;
                }
            }
        }
    }

    /// <summary>
    /// A stored m×k: C[i, 0 … cols) (+)= A[i, :] · quad[0 … cols) for 3 or 4 columns (quad: 4 rows of kpad floats, an
    /// unused one zero), two rows at a time. Each element is summed exactly as <see cref="RowsDotPair"/> sums it (8-float
    /// slices in order, the last masked, then the 8 lanes by <see cref="Vector256.Sum{T}(Vector256{T})"/>), so the
    /// results are its bits; A is read once rather than once per pair of columns. A last single row repeats itself and
    /// is written once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsDotQuad(int i0, int i1, int k, float* a, int lda, float* quad, int kpad, float* c, int ldc, int cols, bool acc)
    {
        float* sums = stackalloc float[8 * 8];
        for (int i = i0; i < i1; i += 2)
        {
            int rows = Math.Min(2, i1 - i);
            float* x0 = a + (long)i * lda;
            DotTwoRowsByQuad(k, x0, rows > 1 ? x0 + lda : x0, quad, kpad, sums);
            for (int r = 0; r < rows; r++)
            {
                float* row = c + (long)(i + r) * ldc;
                for (int j = 0; j < cols; j++)
                {
                    float x = Vector256.Sum(Vector256.Load(sums + (r * 4 + j) * 8));
                    row[j] = acc ? row[j] + x : x;
                }
            }
        }
    }

    /// <summary>
    /// The 8 partial-sum vectors (row r, column j at sums + (4r + j)·8) of rows x0 and x1 against the quad's 4 rows
    /// (kpad apart) over k. A kernel of its own, so that the JIT keeps the sums in registers (14 vectors in all).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTwoRowsByQuad(int k, float* x0, float* x1, float* quad, int kpad, float* sums)
    {
        Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector256<float> s10 = default, s11 = default, s12 = default, s13 = default;
        float* b0 = quad, b1 = quad + kpad, b2 = quad + 2 * kpad, b3 = quad + 3 * kpad;
        int whole = k & ~7, p = 0;
        for (; p < whole; p += 8)
        {
            var y0 = Vector256.Load(x0 + p); var y1 = Vector256.Load(x1 + p);
            var v = Vector256.Load(b0 + p); s00 = Fma.MultiplyAdd(y0, v, s00); s10 = Fma.MultiplyAdd(y1, v, s10);
            v = Vector256.Load(b1 + p); s01 = Fma.MultiplyAdd(y0, v, s01); s11 = Fma.MultiplyAdd(y1, v, s11);
            v = Vector256.Load(b2 + p); s02 = Fma.MultiplyAdd(y0, v, s02); s12 = Fma.MultiplyAdd(y1, v, s12);
            v = Vector256.Load(b3 + p); s03 = Fma.MultiplyAdd(y0, v, s03); s13 = Fma.MultiplyAdd(y1, v, s13);
        }
        if (p < k)
        {
            // The masked lanes read nothing and give 0 · 0 (the quad is zero there too).
            var tail = ColumnMask(k - p);
            var y0 = Avx.MaskLoad(x0 + p, tail); var y1 = Avx.MaskLoad(x1 + p, tail);
            var v = Vector256.Load(b0 + p); s00 = Fma.MultiplyAdd(y0, v, s00); s10 = Fma.MultiplyAdd(y1, v, s10);
            v = Vector256.Load(b1 + p); s01 = Fma.MultiplyAdd(y0, v, s01); s11 = Fma.MultiplyAdd(y1, v, s11);
            v = Vector256.Load(b2 + p); s02 = Fma.MultiplyAdd(y0, v, s02); s12 = Fma.MultiplyAdd(y1, v, s12);
            v = Vector256.Load(b3 + p); s03 = Fma.MultiplyAdd(y0, v, s03); s13 = Fma.MultiplyAdd(y1, v, s13);
        }
        s00.Store(sums); s01.Store(sums + 8); s02.Store(sums + 16); s03.Store(sums + 24);
        s10.Store(sums + 32); s11.Store(sums + 40); s12.Store(sums + 48); s13.Store(sums + 56);
    }

    /// <summary>
    /// The 8 partial-sum vectors (row r, column j at sums + (2r + j)·8) of rows x0 … x3 against b0 and b1 over k.
    /// A kernel of its own, so that the JIT keeps the sums in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotFourRowsByPair(int k, float* x0, float* x1, float* x2, float* x3, float* b0, float* b1, float* sums)
    {
        Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default;
        Vector256<float> s20 = default, s21 = default, s30 = default, s31 = default;
        int whole = k & ~7, p = 0;
        for (; p < whole; p += 8)
        {
            var v0 = Vector256.Load(b0 + p); var v1 = Vector256.Load(b1 + p);
            var y0 = Vector256.Load(x0 + p); s00 = Fma.MultiplyAdd(y0, v0, s00); s01 = Fma.MultiplyAdd(y0, v1, s01);
            var y1 = Vector256.Load(x1 + p); s10 = Fma.MultiplyAdd(y1, v0, s10); s11 = Fma.MultiplyAdd(y1, v1, s11);
            var y2 = Vector256.Load(x2 + p); s20 = Fma.MultiplyAdd(y2, v0, s20); s21 = Fma.MultiplyAdd(y2, v1, s21);
            var y3 = Vector256.Load(x3 + p); s30 = Fma.MultiplyAdd(y3, v0, s30); s31 = Fma.MultiplyAdd(y3, v1, s31);
        }
        if (p < k)
        {
            // The masked lanes read nothing and give 0 · 0 (the pair is zero there too).
            var tail = ColumnMask(k - p);
            var v0 = Vector256.Load(b0 + p); var v1 = Vector256.Load(b1 + p);
            var y0 = Avx.MaskLoad(x0 + p, tail); s00 = Fma.MultiplyAdd(y0, v0, s00); s01 = Fma.MultiplyAdd(y0, v1, s01);
            var y1 = Avx.MaskLoad(x1 + p, tail); s10 = Fma.MultiplyAdd(y1, v0, s10); s11 = Fma.MultiplyAdd(y1, v1, s11);
            var y2 = Avx.MaskLoad(x2 + p, tail); s20 = Fma.MultiplyAdd(y2, v0, s20); s21 = Fma.MultiplyAdd(y2, v1, s21);
            var y3 = Avx.MaskLoad(x3 + p, tail); s30 = Fma.MultiplyAdd(y3, v0, s30); s31 = Fma.MultiplyAdd(y3, v1, s31);
        }
        s00.Store(sums); s01.Store(sums + 8); s10.Store(sums + 16); s11.Store(sums + 24);
        s20.Store(sums + 32); s21.Store(sums + 40); s30.Store(sums + 48); s31.Store(sums + 56);
    }

    /// <summary>
    /// A stored k×m (op(A) = Aᵀ, so A's row p holds op(A)'s column p): C[i … i+32, 0 … cols) (+)= Σ_p A[p, i … i+32] ·
    /// pair[·][p], 32 rows of C (4 vectors) × 2 columns in flight; the last group's vectors masked to the rows left.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposedRowsTimesPair(int i0, int i1, int k, float* a, int lda, float* pair, int kpad, float* c, int ldc, int cols, bool acc)
    {
        float* sums = stackalloc float[8 * 8]; // column j of rows q = 0 … 31 at sums + j·32 + q
        for (int i = i0; i < i1; i += 32)
        {
            int rows = Math.Min(32, i1 - i);
            ThirtyTwoRowsByPair(k, a + i, lda, rows, pair, pair + kpad, sums);
            for (int q = 0; q < rows; q++)
            {
                float* row = c + (long)(i + q) * ldc;
                for (int j = 0; j < cols; j++) row[j] = acc ? row[j] + sums[j * 32 + q] : sums[j * 32 + q];
            }
        }
    }

    /// <summary>
    /// Σ_p x[p·lda + q] · b_j[p] for the first <paramref name="rows"/> of 32 lanes q and j = 0, 1, into sums + j·32 + q;
    /// short groups read through masks. A kernel of its own, so that the JIT keeps the sums in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ThirtyTwoRowsByPair(int k, float* x, int lda, int rows, float* b0, float* b1, float* sums)
    {
        Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default;
        Vector256<float> s20 = default, s21 = default, s30 = default, s31 = default;
        if (rows == 32)
        {
            for (int p = 0; p < k; p++, x += lda)
            {
                var v0 = Vector256.Create(b0[p]); var v1 = Vector256.Create(b1[p]);
                var y0 = Vector256.Load(x); s00 = Fma.MultiplyAdd(y0, v0, s00); s01 = Fma.MultiplyAdd(y0, v1, s01);
                var y1 = Vector256.Load(x + 8); s10 = Fma.MultiplyAdd(y1, v0, s10); s11 = Fma.MultiplyAdd(y1, v1, s11);
                var y2 = Vector256.Load(x + 16); s20 = Fma.MultiplyAdd(y2, v0, s20); s21 = Fma.MultiplyAdd(y2, v1, s21);
                var y3 = Vector256.Load(x + 24); s30 = Fma.MultiplyAdd(y3, v0, s30); s31 = Fma.MultiplyAdd(y3, v1, s31);
            }
        }
        else
        {
            // Lanes past the rows read nothing (and are never written out).
            Vector256<float> m0 = ColumnMask(rows), m1 = ColumnMask(rows - 8), m2 = ColumnMask(rows - 16), m3 = ColumnMask(rows - 24);
            for (int p = 0; p < k; p++, x += lda)
            {
                var v0 = Vector256.Create(b0[p]); var v1 = Vector256.Create(b1[p]);
                var y0 = Avx.MaskLoad(x, m0); s00 = Fma.MultiplyAdd(y0, v0, s00); s01 = Fma.MultiplyAdd(y0, v1, s01);
                var y1 = Avx.MaskLoad(x + 8, m1); s10 = Fma.MultiplyAdd(y1, v0, s10); s11 = Fma.MultiplyAdd(y1, v1, s11);
                var y2 = Avx.MaskLoad(x + 16, m2); s20 = Fma.MultiplyAdd(y2, v0, s20); s21 = Fma.MultiplyAdd(y2, v1, s21);
                var y3 = Avx.MaskLoad(x + 24, m3); s30 = Fma.MultiplyAdd(y3, v0, s30); s31 = Fma.MultiplyAdd(y3, v1, s31);
            }
        }
        s00.Store(sums); s10.Store(sums + 8); s20.Store(sums + 16); s30.Store(sums + 24);
        s01.Store(sums + 32); s11.Store(sums + 40); s21.Store(sums + 48); s31.Store(sums + 56);
    }

    /// <summary>
    /// A stored k×m (op(A) = Aᵀ): C[i … i+16, 0 … cols) (+)= Σ_p A[p, i … i+16] · quad[·][p] for 3 or 4 columns, 16 rows
    /// of C (2 vectors) × 4 columns in flight, so that each row of A is read once for all the columns; every element is
    /// summed over p in order, as <see cref="TransposedRowsTimesPair"/> sums it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposedRowsTimesQuad(int i0, int i1, int k, float* a, int lda, float* quad, int kpad, float* c, int ldc, int cols, bool acc)
    {
        float* sums = stackalloc float[4 * 16]; // column j of rows q = 0 … 15 at sums + j·16 + q
        for (int i = i0; i < i1; i += 16)
        {
            int rows = Math.Min(16, i1 - i);
            SixteenRowsByQuad(k, a + i, lda, rows, quad, kpad, sums);
            for (int q = 0; q < rows; q++)
            {
                float* row = c + (long)(i + q) * ldc;
                for (int j = 0; j < cols; j++) row[j] = acc ? row[j] + sums[j * 16 + q] : sums[j * 16 + q];
            }
        }
    }

    /// <summary>
    /// Σ_p x[p·lda + q] · b_j[p] for the first <paramref name="rows"/> of 16 lanes q and j = 0 … 3 (b_j at quad + j·kpad),
    /// into sums + j·16 + q; a short group reads through masks. Eight sums, two loads and four broadcasts a step: 14 of
    /// AVX2's 16 registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SixteenRowsByQuad(int k, float* x, int lda, int rows, float* quad, int kpad, float* sums)
    {
        float* b0 = quad, b1 = quad + kpad, b2 = quad + 2 * kpad, b3 = quad + 3 * kpad;
        Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector256<float> s10 = default, s11 = default, s12 = default, s13 = default;
        if (rows == 16)
        {
            for (int p = 0; p < k; p++, x += lda)
            {
                var y0 = Vector256.Load(x); var y1 = Vector256.Load(x + 8);
                var v = Vector256.Create(b0[p]); s00 = Fma.MultiplyAdd(y0, v, s00); s10 = Fma.MultiplyAdd(y1, v, s10);
                v = Vector256.Create(b1[p]); s01 = Fma.MultiplyAdd(y0, v, s01); s11 = Fma.MultiplyAdd(y1, v, s11);
                v = Vector256.Create(b2[p]); s02 = Fma.MultiplyAdd(y0, v, s02); s12 = Fma.MultiplyAdd(y1, v, s12);
                v = Vector256.Create(b3[p]); s03 = Fma.MultiplyAdd(y0, v, s03); s13 = Fma.MultiplyAdd(y1, v, s13);
            }
        }
        else
        {
            // Lanes past the rows read nothing (and are never written out).
            Vector256<float> m0 = ColumnMask(rows), m1 = ColumnMask(rows - 8);
            for (int p = 0; p < k; p++, x += lda)
            {
                var y0 = Avx.MaskLoad(x, m0); var y1 = Avx.MaskLoad(x + 8, m1);
                var v = Vector256.Create(b0[p]); s00 = Fma.MultiplyAdd(y0, v, s00); s10 = Fma.MultiplyAdd(y1, v, s10);
                v = Vector256.Create(b1[p]); s01 = Fma.MultiplyAdd(y0, v, s01); s11 = Fma.MultiplyAdd(y1, v, s11);
                v = Vector256.Create(b2[p]); s02 = Fma.MultiplyAdd(y0, v, s02); s12 = Fma.MultiplyAdd(y1, v, s12);
                v = Vector256.Create(b3[p]); s03 = Fma.MultiplyAdd(y0, v, s03); s13 = Fma.MultiplyAdd(y1, v, s13);
            }
        }
        s00.Store(sums); s10.Store(sums + 8); s01.Store(sums + 16); s11.Store(sums + 24);
        s02.Store(sums + 32); s12.Store(sums + 40); s03.Store(sums + 48); s13.Store(sums + 56);
    }
}
