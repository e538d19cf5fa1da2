using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ZeroDL.Kernels;

// Compile-time parameters of the row kernels that hold a row of C (up to 8 AVX2 vectors) in registers
// (SparseGemm, SmallGemm): a struct per value, so that the JIT folds every test on it and each instantiation
// keeps exactly the accumulators it needs.

/// <summary>Vector count of a kernel instantiation.</summary>
internal interface IVectorCount { static abstract int Vectors { get; } }
internal struct V1 : IVectorCount { public static int Vectors => 1; }
internal struct V2 : IVectorCount { public static int Vectors => 2; }
internal struct V3 : IVectorCount { public static int Vectors => 3; }
internal struct V4 : IVectorCount { public static int Vectors => 4; }
internal struct V5 : IVectorCount { public static int Vectors => 5; }
internal struct V6 : IVectorCount { public static int Vectors => 6; }
internal struct V7 : IVectorCount { public static int Vectors => 7; }
internal struct V8 : IVectorCount { public static int Vectors => 8; }

/// <summary>Whether B's rows end inside their last vector (read with a masked load) or fill it.</summary>
internal interface IRaggedEdge { static abstract bool Value { get; } }
internal struct RaggedEdge : IRaggedEdge { public static bool Value => true; }
internal struct WholeVectors : IRaggedEdge { public static bool Value => false; }

internal static unsafe class VectorRows
{
    /// <summary>Lane mask of the first <paramref name="lanes"/> lanes (1..8).</summary>
    public static Vector256<float> LaneMask(int lanes) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(lanes)).AsSingle();

    /// <summary>Writes (or adds) the first min(count, 8) lanes of <paramref name="v"/> at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Put(Vector256<float> v, float* dst, int count, bool accumulate, float* scratch)
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
