using System.Numerics;

namespace ZeroDL.Kernels;

/// <summary>
/// The naive triple loop, kept as the definition that <see cref="Gemm"/> is tested against.
/// Sums in double so that it is a more accurate reference than any float32 kernel.
/// </summary>
public static class GemmReference
{
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Gemm.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? double.CreateTruncating(c[i * ldc + j]) : 0.0;
                for (int p = 0; p < k; p++)
                {
                    T av = transA ? a[p * lda + i] : a[i * lda + p];
                    T bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += double.CreateTruncating(av) * double.CreateTruncating(bv);
                }
                c[i * ldc + j] = T.CreateTruncating(sum);
            }
    }
}
