using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// Where F(4×4)'s row passes (<see cref="TransformInput{TSource}"/>, <see cref="TransformOutputGradient{TSource}"/>)
/// read a plane's rows. <see cref="PaddedRows"/>, the reference: each plane first copied into a zeroed buffer, then
/// read with plain loads. <see cref="MaskedRows"/>, the one the passes take: each 4-float group loaded straight from
/// the plane with a mask that zeroes the columns outside it, the rows outside it read from a zero row; the row pass
/// sees the same values, so the bits are the reference's. It saves the copy's stores and their loads again: on
/// DeepConvNet's shapes both transforms measured about a tenth faster so (ZeroDL.Bench winograd-rows). Masked-off
/// lanes do not fault, so a group may reach past the plane's ends.
/// </summary>
internal static unsafe partial class Winograd4x4Convolution
{
    /// <summary>A 4-float group of a row for the row passes: the lanes its mask clears read as zero.</summary>
    internal interface IRowSource
    {
        /// <summary>Whether the planes are copied into a padded buffer first (then <see cref="Load"/> ignores the mask).</summary>
        static abstract bool Padded { get; }

        static abstract Vector128<float> Load(float* p, Vector128<float>* mask);
    }

    /// <summary>The reference: rows of a zero-padded copy of the plane, read whole.</summary>
    internal struct PaddedRows : IRowSource
    {
        public static bool Padded => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Load(float* p, Vector128<float>* mask) => Vector128.Load(p);
    }

    /// <summary>Rows of the plane itself, each group masked to the plane's columns.</summary>
    internal struct MaskedRows : IRowSource
    {
        public static bool Padded => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Load(float* p, Vector128<float>* mask) => Avx.MaskLoad(p, *mask);
    }

    /// <summary>
    /// The masks of a row's <paramref name="groups"/> 4-float groups, group q holding columns 4q − <paramref name="pad"/>
    /// … 4q − pad + 3: all ones where a column falls in 0 … <paramref name="w"/> − 1, else zero.
    /// </summary>
    private static void ColumnMasks(Vector128<float>* masks, int groups, int pad, int w)
    {
        int* lanes = (int*)masks;
        for (int q = 0; q < groups; q++)
            for (int e = 0; e < 4; e++) lanes[4 * q + e] = (uint)(4 * q + e - pad) < (uint)w ? -1 : 0;
    }
}
