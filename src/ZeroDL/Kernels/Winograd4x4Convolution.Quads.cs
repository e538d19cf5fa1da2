using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZeroDL.Kernels;

/// <summary>
/// F(4×4)'s input transform four images at a time where an image has 2 × 2 tiles (DeepConvNet's 8×8 layers). Paired,
/// a row pass's vector holds two images' rows of 2 tiles each, half of its lanes past the row's tiles; here each
/// 128-bit half holds two images' rows, [P0 P0 P2 P2 | P1 P1 P3 P3] for images P0 … P3, so no lane is wasted, and
/// the results are stored whole. The column pass then takes P0 and P1's tiles (in-lane 64-bit unpacks of two row
/// slots' low quarters) into one vector and P2 and P3's into another, the very vectors the paired pass builds for
/// those images: every lane runs the same operations on the same values, so the bits are the same.
/// Only with <see cref="MaskedRows"/>, so that <see cref="PaddedRows"/> stays the paired reference; the last one to
/// three images of a batch go paired, and so do four whose rows would be read from copies (<see cref="PlaneRows"/>).
/// DeepConvNet's 8×8 transforms measured about twice as fast so (ZeroDL.Bench winograd-rows, against the padded
/// pairs). The output-gradient transform has no such path: the engine takes such
/// small images' weight gradients by F(2×2) (<see cref="ConvolutionEngine.Winograd4x4MinimumWeightTiles"/>).
/// </summary>
internal static unsafe partial class Winograd4x4Convolution
{
    /// <summary>Whether the input transform takes images four at a time: 2 × 2 tiles an image.</summary>
    internal static bool QuadsImages(int tilesY, int tilesX) => tilesY == 2 && tilesX == 2;

    /// <summary>Floats of a quad's row transforms: [phase][k][slot][8], 3 slots (rows 4ty + m, ty + m / 4).</summary>
    private const int QuadRowsLength = 4 * 6 * 3 * Lanes;

    /// <summary>
    /// V of the four images whose channel planes start at <paramref name="plane"/>, <paramref name="planeStride"/>
    /// floats apart (2 × 2 tiles each): row pass into <paramref name="pr"/>, then the column pass to
    /// <paramref name="vdst"/> (the first image's tiles; the four images' 16 tiles are consecutive).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransformInputQuad<TSource>(float* plane, long planeStride, int h, int w, int pad, Vector128<float>* masks, float* zero,
        float* pr, float* vdst, long vBlock) where TSource : struct, IRowSource
    {
        const int Slots = 3;
        for (int r = 0; r < 10; r++)
        {
            float* s0, s1, s2, s3;
            int xr = r - pad;
            if ((uint)xr < (uint)h) { s0 = plane + (long)xr * w - pad; s1 = s0 + planeStride; s2 = s1 + planeStride; s3 = s2 + planeStride; }
            else s0 = s1 = s2 = s3 = zero - pad;
            // Lanes: P0's tiles 0 and 1, P2's tiles 0 and 1 | the same of P1 and P3; a tile's columns 4 and 5 are the
            // next group's first two.
            var a = Vector256.Create(TSource.Load(s0, masks), TSource.Load(s1, masks));
            var b = Vector256.Create(TSource.Load(s0 + 4, masks + 1), TSource.Load(s1 + 4, masks + 1));
            var c = Vector256.Create(TSource.Load(s2, masks), TSource.Load(s3, masks));
            var d = Vector256.Create(TSource.Load(s2 + 4, masks + 1), TSource.Load(s3 + 4, masks + 1));
            var e = Vector256.Create(TSource.Load(s0 + 8, masks + 2), TSource.Load(s1 + 8, masks + 2));
            var f = Vector256.Create(TSource.Load(s2 + 8, masks + 2), TSource.Load(s3 + 8, masks + 2));
            var ab0 = Avx.UnpackLow(a, b).AsDouble(); var ab1 = Avx.UnpackHigh(a, b).AsDouble();
            var cd0 = Avx.UnpackLow(c, d).AsDouble(); var cd1 = Avx.UnpackHigh(c, d).AsDouble();
            var be0 = Avx.UnpackLow(b, e).AsDouble(); var df0 = Avx.UnpackLow(d, f).AsDouble();
            InputTransform(Avx.UnpackLow(ab0, cd0).AsSingle(), Avx.UnpackHigh(ab0, cd0).AsSingle(),
                Avx.UnpackLow(ab1, cd1).AsSingle(), Avx.UnpackHigh(ab1, cd1).AsSingle(),
                Avx.UnpackLow(be0, df0).AsSingle(), Avx.UnpackHigh(be0, df0).AsSingle(),
                out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
            StoreRows(pr + ((r & 3) * 6 * Slots + (r >> 2)) * Lanes, Slots * Lanes, z0, z1, z2, z3, z4, z5);
        }
        for (int k = 0; k < 6; k++) // Bᵀ · : tile row ty = 0 in a slot's quarters 0 and 2, ty = 1 in the next slot's
        {
            float* s = pr + k * Slots * Lanes;
            QuadColumn(s, 0, out var l0, out var h0); QuadColumn(s, 1, out var l1, out var h1); QuadColumn(s, 2, out var l2, out var h2);
            QuadColumn(s, 3, out var l3, out var h3); QuadColumn(s + Lanes, 0, out var l4, out var h4); QuadColumn(s + Lanes, 1, out var l5, out var h5);
            InputTransform(l0, l1, l2, l3, l4, l5, out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
            StoreTransformed(z0, z1, z2, z3, z4, z5, vdst + k * vBlock, vBlock);
            InputTransform(h0, h1, h2, h3, h4, h5, out z0, out z1, out z2, out z3, out z4, out z5);
            StoreTransformed(z0, z1, z2, z3, z4, z5, vdst + Lanes + k * vBlock, vBlock);
        }
    }

    /// <summary>
    /// Row phase <paramref name="phase"/> of a quad's column pass, from its slot at <paramref name="s"/> and the next:
    /// P0's 4 tiles | P1's (<paramref name="low"/>), P2's | P3's (<paramref name="high"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuadColumn(float* s, int phase, out Vector256<float> low, out Vector256<float> high)
    {
        var first = Vector256.Load(s + phase * 6 * 3 * Lanes).AsDouble();
        var next = Vector256.Load(s + phase * 6 * 3 * Lanes + Lanes).AsDouble();
        low = Avx.UnpackLow(first, next).AsSingle();
        high = Avx.UnpackHigh(first, next).AsSingle();
    }
}
