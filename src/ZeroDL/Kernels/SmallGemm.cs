using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// float32 products too small for packing to pay (a network's last layers: 100×50 · 50×10 and its two backward
/// products; a dense layer at batch size 1): each row of C is formed in registers,
/// C[i, :] = Σ_p op(A)[i, p] · op(B)[p, :], and written once. B's rows are read in place (a ragged last vector
/// with a masked load); a transposed B is first copied to k rows padded to whole vectors. The sum runs over p in
/// order from zero, as the packed kernel's does for k ≤ its block depth.
/// </summary>
internal static unsafe class SmallGemm
{
    /// <summary>Largest product (m·n·k multiply-adds) taken here; C rows up to <see cref="MaxColumns"/> wide.</summary>
    public const long MaxWork = 1L << 16;
    public const int MaxColumns = 64;

    public static bool Applies(int m, int n, int k) =>
        Avx2.IsSupported && Fma.IsSupported && n <= MaxColumns && k > 0 && (long)m * n * k <= MaxWork;

    [ThreadStatic] private static float[]? t_b;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        if (m == 0 || n == 0) return;
        int npad = (n + 7) & ~7;
        if (!transB)
        {
            if (n % 8 == 0) Dispatch<WholeVectors>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            else Dispatch<RaggedEdge>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        var buffer = t_b is { } existing && existing.Length >= k * npad ? existing : t_b = new float[Math.Max(k * npad, 1024)];
        fixed (float* pb = buffer)
        {
            // op(B) = Bᵀ as k rows of npad floats, the padding zero (it only ever meets the padding lanes of C).
            for (int p = 0; p < k; p++)
            {
                float* row = pb + (long)p * npad;
                for (int j = 0; j < n; j++) row[j] = b[(long)j * ldb + p];
                for (int j = n; j < npad; j++) row[j] = 0f;
            }
            Dispatch<WholeVectors>(transA, m, n, k, a, lda, pb, npad, c, ldc, accumulate);
        }
    }

    private static void Dispatch<TR>(bool transA, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        where TR : struct, IRaggedEdge
    {
        switch ((n + 7) / 8)
        {
            case 1: Rows<V1, TR>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case 2: Rows<V2, TR>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case 3: Rows<V3, TR>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case 4: Rows<V4, TR>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case 5: Rows<V5, TR>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case 6: Rows<V6, TR>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case 7: Rows<V7, TR>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            default: Rows<V8, TR>(transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
        }
    }


    /// <summary>Vector <paramref name="v"/> (0-based) of a B row of a kernel <typeparamref name="TW"/> vectors wide: the last one masked when ragged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LoadB<TW, TR>(float* row, int v, Vector256<float> mask) where TW : struct, IVectorCount where TR : struct, IRaggedEdge =>
        TR.Value && v == TW.Vectors - 1 ? Avx.MaskLoad(row + v * 8, mask) : Vector256.Load(row + v * 8);


    /// <summary>
    /// Rows of C. Each multiply-add chain waits for the previous one (4 cycles), so a row of one or two vectors
    /// alone would leave the FMA units mostly idle: such narrow rows go four at a time (8 chains in flight).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TW, TR>(bool transA, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        where TW : struct, IVectorCount where TR : struct, IRaggedEdge
    {
        float* scratch = stackalloc float[8];
        var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(n - (n - 1) / 8 * 8)).AsSingle();
        long stepP = transA ? lda : 1, stepI = transA ? 1 : lda;
        int i = 0;
        if (TW.Vectors <= 2)
            for (; i + 4 <= m; i += 4)
            {
                Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
                float* a0 = a + i * stepI, a1 = a0 + stepI, a2 = a1 + stepI, a3 = a2 + stepI;
                float* brow = b;
                for (int p = 0; p < k; p++, brow += ldb)
                {
                    long o = p * stepP;
                    var b0 = LoadB<TW, TR>(brow, 0, mask);
                    var b1 = TW.Vectors > 1 ? LoadB<TW, TR>(brow, 1, mask) : default;
                    var v0 = Vector256.Create(a0[o]); var v1 = Vector256.Create(a1[o]);
                    var v2 = Vector256.Create(a2[o]); var v3 = Vector256.Create(a3[o]);
                    s00 = Vector256.FusedMultiplyAdd(v0, b0, s00);
                    s10 = Vector256.FusedMultiplyAdd(v1, b0, s10);
                    s20 = Vector256.FusedMultiplyAdd(v2, b0, s20);
                    s30 = Vector256.FusedMultiplyAdd(v3, b0, s30);
                    if (TW.Vectors > 1)
                    {
                        s01 = Vector256.FusedMultiplyAdd(v0, b1, s01);
                        s11 = Vector256.FusedMultiplyAdd(v1, b1, s11);
                        s21 = Vector256.FusedMultiplyAdd(v2, b1, s21);
                        s31 = Vector256.FusedMultiplyAdd(v3, b1, s31);
                    }
                }
                float* crow = c + (long)i * ldc;
                VectorRows.Put(s00, crow, n, accumulate, scratch); if (TW.Vectors > 1) VectorRows.Put(s01, crow + 8, n - 8, accumulate, scratch);
                crow += ldc;
                VectorRows.Put(s10, crow, n, accumulate, scratch); if (TW.Vectors > 1) VectorRows.Put(s11, crow + 8, n - 8, accumulate, scratch);
                crow += ldc;
                VectorRows.Put(s20, crow, n, accumulate, scratch); if (TW.Vectors > 1) VectorRows.Put(s21, crow + 8, n - 8, accumulate, scratch);
                crow += ldc;
                VectorRows.Put(s30, crow, n, accumulate, scratch); if (TW.Vectors > 1) VectorRows.Put(s31, crow + 8, n - 8, accumulate, scratch);
            }
        for (; i < m; i++)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            float* ai = a + i * stepI;
            float* brow = b;
            for (int p = 0; p < k; p++, brow += ldb)
            {
                var v = Vector256.Create(ai[p * stepP]);
                s0 = Vector256.FusedMultiplyAdd(v, LoadB<TW, TR>(brow, 0, mask), s0);
                if (TW.Vectors > 1) s1 = Vector256.FusedMultiplyAdd(v, LoadB<TW, TR>(brow, 1, mask), s1);
                if (TW.Vectors > 2) s2 = Vector256.FusedMultiplyAdd(v, LoadB<TW, TR>(brow, 2, mask), s2);
                if (TW.Vectors > 3) s3 = Vector256.FusedMultiplyAdd(v, LoadB<TW, TR>(brow, 3, mask), s3);
                if (TW.Vectors > 4) s4 = Vector256.FusedMultiplyAdd(v, LoadB<TW, TR>(brow, 4, mask), s4);
                if (TW.Vectors > 5) s5 = Vector256.FusedMultiplyAdd(v, LoadB<TW, TR>(brow, 5, mask), s5);
                if (TW.Vectors > 6) s6 = Vector256.FusedMultiplyAdd(v, LoadB<TW, TR>(brow, 6, mask), s6);
                if (TW.Vectors > 7) s7 = Vector256.FusedMultiplyAdd(v, LoadB<TW, TR>(brow, 7, mask), s7);
            }
            float* crow = c + (long)i * ldc;
            VectorRows.Put(s0, crow, n, accumulate, scratch);
            if (TW.Vectors > 1) VectorRows.Put(s1, crow + 8, n - 8, accumulate, scratch);
            if (TW.Vectors > 2) VectorRows.Put(s2, crow + 16, n - 16, accumulate, scratch);
            if (TW.Vectors > 3) VectorRows.Put(s3, crow + 24, n - 24, accumulate, scratch);
            if (TW.Vectors > 4) VectorRows.Put(s4, crow + 32, n - 32, accumulate, scratch);
            if (TW.Vectors > 5) VectorRows.Put(s5, crow + 40, n - 40, accumulate, scratch);
            if (TW.Vectors > 6) VectorRows.Put(s6, crow + 48, n - 48, accumulate, scratch);
            if (TW.Vectors > 7) VectorRows.Put(s7, crow + 56, n - 56, accumulate, scratch);
        }
    }

}
