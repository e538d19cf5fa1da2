using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// F(4×4, 3×3)'s output transform on 512-bit vectors, 16 tiles a vector: each lane runs the very operations of the
/// 256-bit one (<see cref="OutputTransform(Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, out Vector256{float}, out Vector256{float}, out Vector256{float}, out Vector256{float})"/>),
/// so the bits are its bits whatever the width; only which tiles share a vector differs. Where the products run on
/// native 512-bit vectors it takes half the instructions per tile, and DeepConvNet's F(4×4) forward passes measured
/// about 5 % faster (the transform reads M and writes y at the memory's pace, which the width does not change). The
/// input transform stays on 256-bit vectors: a 512-bit one measured no faster (its row pass builds each vector from
/// four 128-bit pieces, and its column pass stores the same bytes). The in-lane shuffles fall back to two 256-bit
/// halves where Vector512 is .NET's software one (tests run that on AVX2 too).
/// </summary>
internal static unsafe partial class Winograd4x4Convolution
{
    private const int WideVectorLanes = 16;

    /// <summary>As <see cref="ImagesPerOutputVector"/> for 16 tiles a vector (four images for 8×8 outputs).</summary>
    internal static int ImagesPerWideOutputVector(int perImage) =>
        perImage < WideVectorLanes && WideVectorLanes % perImage == 0 ? WideVectorLanes / perImage : 1;

    /// <summary>
    /// <see cref="TransformOutput"/> on 512-bit vectors: the same column and row passes, 16 tiles a vector, a filter's
    /// planes taken <see cref="ImagesPerWideOutputVector"/> images at a time, in the same order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputWide(float* pm, long mBlock, int images, int filters, int oh, int ow, int tilesY, int tilesX, int tiles,
        ReadOnlySpan<float> bias, Span<float> y, Buffers buffers, bool rectify)
    {
        const int L = WideVectorLanes;
        int perImage = tilesY * tilesX, group = ImagesPerWideOutputVector(perImage), groupTiles = group * perImage;
        long outBlock = 4L * ((groupTiles + L - 1) / L * L);
        float* po = buffers.Out.Get(8 * outBlock);
        float* unaligned = stackalloc float[24 * L + 16];
        float* scratch = (float*)(((nint)unaligned + 63) & ~(nint)63);
        fixed (float* py = y)
        {
            int groups = (images + group - 1) / group, steps = groups * filters;
            for (int q = 0; q <= steps; q++)
            {
                if (q < steps) // step q: the images of group q mod groups, filter q / groups
                {
                    int i0 = q % groups * group, f = q / groups, count = Math.Min(group, images - i0);
                    float* src = pm + (long)f * tiles + (long)i0 * perImage;
                    float* dst = po + (q & 1) * 4 * outBlock;
                    var b = Vector512.Create(bias[f]);
                    for (int t = 0; t < count * perImage; t += L)
                    {
                        float* s = src + t;
                        for (int k = 0; k < 6; k++, s += mBlock) // Aᵀ · : column k of the 6×6 tile
                        {
                            OutputTransform(Vector512.Load(s), Vector512.Load(s + 6 * mBlock), Vector512.Load(s + 12 * mBlock),
                                Vector512.Load(s + 18 * mBlock), Vector512.Load(s + 24 * mBlock), Vector512.Load(s + 30 * mBlock),
                                out var s0, out var s1, out var s2, out var s3);
                            s0.Store(scratch + k * L);
                            s1.Store(scratch + (6 + k) * L);
                            s2.Store(scratch + (12 + k) * L);
                            s3.Store(scratch + (18 + k) * L);
                        }
                        for (int a = 0; a < 4; a++) // · A: row a
                        {
                            float* r = scratch + 6 * a * L;
                            OutputTransform(Vector512.Load(r), Vector512.Load(r + L), Vector512.Load(r + 2 * L), Vector512.Load(r + 3 * L),
                                Vector512.Load(r + 4 * L), Vector512.Load(r + 5 * L), out var y0, out var y1, out var y2, out var y3);
                            y0 += b; y1 += b; y2 += b; y3 += b;
                            if (rectify)
                            {
                                y0 = Vector512.Max(y0, Vector512<float>.Zero); y1 = Vector512.Max(y1, Vector512<float>.Zero);
                                y2 = Vector512.Max(y2, Vector512<float>.Zero); y3 = Vector512.Max(y3, Vector512<float>.Zero);
                            }
                            StoreInterleaved4(y0, y1, y2, y3, dst + a * outBlock + 4 * t);
                        }
                    }
                }
                if (q > 0)
                {
                    int i0 = (q - 1) % groups * group, f = (q - 1) / groups, count = Math.Min(group, images - i0);
                    for (int j = 0; j < count; j++)
                    {
                        float* plane = py + ((long)(i0 + j) * filters + f) * oh * ow;
                        float* from = po + ((q - 1) & 1) * 4 * outBlock + 4L * j * perImage;
                        for (int ty = 0; ty < tilesY; ty++)
                            for (int a = 0; a < 4 && 4 * ty + a < oh; a++)
                                WinogradConvolution.Copy(from + a * outBlock + 4L * ty * tilesX, plane + (long)(4 * ty + a) * ow, ow);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> UnpackLow(Vector512<float> a, Vector512<float> b) => Avx512F.IsSupported ? Avx512F.UnpackLow(a, b)
        : Vector512.Create(Avx.UnpackLow(a.GetLower(), b.GetLower()), Avx.UnpackLow(a.GetUpper(), b.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> UnpackHigh(Vector512<float> a, Vector512<float> b) => Avx512F.IsSupported ? Avx512F.UnpackHigh(a, b)
        : Vector512.Create(Avx.UnpackHigh(a.GetLower(), b.GetLower()), Avx.UnpackHigh(a.GetUpper(), b.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> UnpackLow(Vector512<double> a, Vector512<double> b) => Avx512F.IsSupported ? Avx512F.UnpackLow(a, b)
        : Vector512.Create(Avx.UnpackLow(a.GetLower(), b.GetLower()), Avx.UnpackLow(a.GetUpper(), b.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> UnpackHigh(Vector512<double> a, Vector512<double> b) => Avx512F.IsSupported ? Avx512F.UnpackHigh(a, b)
        : Vector512.Create(Avx.UnpackHigh(a.GetLower(), b.GetLower()), Avx.UnpackHigh(a.GetUpper(), b.GetUpper()));

    /// <summary>The 256-bit output transform (y = Aᵀ m), operation for operation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTransform(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4,
        Vector512<float> m5, out Vector512<float> y0, out Vector512<float> y1, out Vector512<float> y2, out Vector512<float> y3)
    {
        var sum12 = m1 + m2; var diff12 = m1 - m2; var sum34 = m3 + m4; var diff34 = m3 - m4;
        y0 = m0 + sum12 + sum34;
        y1 = Vector512.FusedMultiplyAdd(Vector512.Create(2f), diff34, diff12);
        y2 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), sum34, sum12);
        y3 = Vector512.FusedMultiplyAdd(Vector512.Create(8f), diff34, diff12) + m5;
    }

    /// <summary>
    /// Stores [y0[l] y1[l] y2[l] y3[l]] at p + 4l for the 16 lanes l: in-lane 4×4 transposes, then the 128-bit
    /// blocks gathered four to a store.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved4(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3, float* p)
    {
        var u0 = UnpackLow(y0, y1).AsDouble(); var u1 = UnpackHigh(y0, y1).AsDouble();
        var u2 = UnpackLow(y2, y3).AsDouble(); var u3 = UnpackHigh(y2, y3).AsDouble();
        var r0 = UnpackLow(u0, u2).AsSingle();  // lanes 0 | 4 | 8 | 12
        var r1 = UnpackHigh(u0, u2).AsSingle(); // lanes 1 | 5 | 9 | 13
        var r2 = UnpackLow(u1, u3).AsSingle();  // lanes 2 | 6 | 10 | 14
        var r3 = UnpackHigh(u1, u3).AsSingle(); // lanes 3 | 7 | 11 | 15
        if (Avx512F.IsSupported)
        {
            var t0 = Avx512F.Shuffle4x128(r0, r1, 0x44); var t1 = Avx512F.Shuffle4x128(r2, r3, 0x44); // blocks 0, 1 of r0 and r1 | of r2 and r3
            var t2 = Avx512F.Shuffle4x128(r0, r1, 0xEE); var t3 = Avx512F.Shuffle4x128(r2, r3, 0xEE); // blocks 2, 3
            Avx512F.Shuffle4x128(t0, t1, 0x88).Store(p);
            Avx512F.Shuffle4x128(t0, t1, 0xDD).Store(p + 16);
            Avx512F.Shuffle4x128(t2, t3, 0x88).Store(p + 32);
            Avx512F.Shuffle4x128(t2, t3, 0xDD).Store(p + 48);
        }
        else
            for (int q = 0; q < 4; q++)
            {
                Block(r0, q).Store(p + 16 * q); Block(r1, q).Store(p + 16 * q + 4);
                Block(r2, q).Store(p + 16 * q + 8); Block(r3, q).Store(p + 16 * q + 12);
            }
    }

    /// <summary>The 128-bit block <paramref name="q"/> of <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Block(Vector512<float> v, int q) => q switch
    {
        0 => v.GetLower().GetLower(),
        1 => v.GetLower().GetUpper(),
        2 => v.GetUpper().GetLower(),
        _ => v.GetUpper().GetUpper(),
    };
}
