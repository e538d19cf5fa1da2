using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// AVX2 (and AVX-512) lane shuffles shared by the kernels: splitting 16 floats into even and odd positions (2×2 pooling,
/// Winograd's 2-wide tiles), the reverse, four vectors stored lane by lane (Winograd's 4-wide tiles, also on 512-bit
/// vectors), and an 8×8 transpose in registers (GEMM packing). Callers check <see cref="Avx2.IsSupported"/>; the
/// 512-bit ones fall back to two 256-bit halves without AVX-512F, where Vector512 is .NET's software one (tests run
/// that on AVX2 too).
/// </summary>
internal static unsafe class VectorShuffles
{
    /// <summary>The even and the odd elements of the 16 floats at <paramref name="p"/>, each in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(float* p)
    {
        var a = Vector256.Load(p); var b = Vector256.Load(p + 8);
        var even = Avx.Shuffle(a, b, 0b10_00_10_00); // a0 a2 b0 b2 | a4 a6 b4 b6
        var odd = Avx.Shuffle(a, b, 0b11_01_11_01);
        return (Avx2.Permute4x64(even.AsDouble(), 0b11_01_10_00).AsSingle(), Avx2.Permute4x64(odd.AsDouble(), 0b11_01_10_00).AsSingle());
    }

    /// <summary>Stores [e0 o0 e1 o1 … e7 o7] at <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInterleaved(Vector256<float> even, Vector256<float> odd, float* p)
    {
        var lo = Avx.UnpackLow(even, odd);   // e0 o0 e1 o1 | e4 o4 e5 o5
        var hi = Avx.UnpackHigh(even, odd);  // e2 o2 e3 o3 | e6 o6 e7 o7
        Avx.Permute2x128(lo, hi, 0x20).Store(p);
        Avx.Permute2x128(lo, hi, 0x31).Store(p + 8);
    }

    /// <summary>Stores [y0[l] y1[l] y2[l] y3[l]] at p + 4l for the 8 lanes l: in-lane 4×4 transposes, then 128-bit stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInterleaved4(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3, float* p)
    {
        var u0 = Avx.UnpackLow(y0, y1).AsDouble(); var u1 = Avx.UnpackHigh(y0, y1).AsDouble();
        var u2 = Avx.UnpackLow(y2, y3).AsDouble(); var u3 = Avx.UnpackHigh(y2, y3).AsDouble();
        var r0 = Avx.UnpackLow(u0, u2).AsSingle();  // lanes 0 | 4
        var r1 = Avx.UnpackHigh(u0, u2).AsSingle(); // lanes 1 | 5
        var r2 = Avx.UnpackLow(u1, u3).AsSingle();  // lanes 2 | 6
        var r3 = Avx.UnpackHigh(u1, u3).AsSingle(); // lanes 3 | 7
        Avx.Permute2x128(r0, r1, 0x20).Store(p);
        Avx.Permute2x128(r2, r3, 0x20).Store(p + 8);
        Avx.Permute2x128(r0, r1, 0x31).Store(p + 16);
        Avx.Permute2x128(r2, r3, 0x31).Store(p + 24);
    }

    /// <summary>
    /// Stores [y0[l] y1[l] y2[l] y3[l]] at p + 4l for the 16 lanes l: in-lane 4×4 transposes, then the 128-bit
    /// blocks gathered four to a store; by 256-bit halves without AVX-512F.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInterleaved4(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3, float* p)
    {
        if (!Avx512F.IsSupported)
        {
            StoreInterleaved4(y0.GetLower(), y1.GetLower(), y2.GetLower(), y3.GetLower(), p);
            StoreInterleaved4(y0.GetUpper(), y1.GetUpper(), y2.GetUpper(), y3.GetUpper(), p + 32);
            return;
        }
        var u0 = Avx512F.UnpackLow(y0, y1).AsDouble(); var u1 = Avx512F.UnpackHigh(y0, y1).AsDouble();
        var u2 = Avx512F.UnpackLow(y2, y3).AsDouble(); var u3 = Avx512F.UnpackHigh(y2, y3).AsDouble();
        var r0 = Avx512F.UnpackLow(u0, u2).AsSingle();  // lanes 0 | 4 | 8 | 12
        var r1 = Avx512F.UnpackHigh(u0, u2).AsSingle(); // lanes 1 | 5 | 9 | 13
        var r2 = Avx512F.UnpackLow(u1, u3).AsSingle();  // lanes 2 | 6 | 10 | 14
        var r3 = Avx512F.UnpackHigh(u1, u3).AsSingle(); // lanes 3 | 7 | 11 | 15
        var t0 = Avx512F.Shuffle4x128(r0, r1, 0x44); var t1 = Avx512F.Shuffle4x128(r2, r3, 0x44); // blocks 0, 1 of r0 and r1 | of r2 and r3
        var t2 = Avx512F.Shuffle4x128(r0, r1, 0xEE); var t3 = Avx512F.Shuffle4x128(r2, r3, 0xEE); // blocks 2, 3
        Avx512F.Shuffle4x128(t0, t1, 0x88).Store(p);
        Avx512F.Shuffle4x128(t0, t1, 0xDD).Store(p + 16);
        Avx512F.Shuffle4x128(t2, t3, 0x88).Store(p + 32);
        Avx512F.Shuffle4x128(t2, t3, 0xDD).Store(p + 48);
    }

    /// <summary>Transposes 8 rows of 8 floats in registers (unpack, shuffle, then swap 128-bit halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
        ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0b01_00_01_00); var u1 = Avx.Shuffle(t0, t2, 0b11_10_11_10);
        var u2 = Avx.Shuffle(t1, t3, 0b01_00_01_00); var u3 = Avx.Shuffle(t1, t3, 0b11_10_11_10);
        var u4 = Avx.Shuffle(t4, t6, 0b01_00_01_00); var u5 = Avx.Shuffle(t4, t6, 0b11_10_11_10);
        var u6 = Avx.Shuffle(t5, t7, 0b01_00_01_00); var u7 = Avx.Shuffle(t5, t7, 0b11_10_11_10);
        r0 = Avx.Permute2x128(u0, u4, 0x20); r1 = Avx.Permute2x128(u1, u5, 0x20);
        r2 = Avx.Permute2x128(u2, u6, 0x20); r3 = Avx.Permute2x128(u3, u7, 0x20);
        r4 = Avx.Permute2x128(u0, u4, 0x31); r5 = Avx.Permute2x128(u1, u5, 0x31);
        r6 = Avx.Permute2x128(u2, u6, 0x31); r7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}
