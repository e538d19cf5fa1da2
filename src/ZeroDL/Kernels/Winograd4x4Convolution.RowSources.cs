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
/// DeepConvNet's shapes both transforms measured about a tenth faster so (ZeroDL.Bench winograd-rows).
/// <para>No masked load reaches outside the span it reads, not even with lanes masked off: AMD leaves their faults
/// implementation dependent, and the span may end at unmapped native memory. A row's groups run from its column −pad
/// to past its end, so the rows whose groups would start before the span or end after it (the first rows of its first
/// plane, the last of its last) are read from a zero-padded copy in the row scratch instead (<see cref="PlaneRows"/>;
/// a quad of images holding such rows goes paired, <see cref="TransformInputQuad{TSource}"/>).</para>
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
    /// The row scratch of a pass whose rows are <paramref name="rowLength"/> floats, set up as <typeparamref name="TSource"/>
    /// reads: for <see cref="PaddedRows"/>, <paramref name="planes"/> zeroed padded planes of <paramref name="planeLength"/>
    /// floats (returned; the pass copies each plane's interior in); for <see cref="MaskedRows"/>, <paramref name="rows"/>
    /// over the <paramref name="length"/> floats at <paramref name="start"/>, whose row passes read at most
    /// <paramref name="reach"/> floats from a row's column −<paramref name="pad"/>.
    /// </summary>
    private static float* RowScratch<TSource>(Buffers buffers, int planes, long planeLength, int rowLength, int pad, int w, float* start,
        long length, int reach, out PlaneRows rows) where TSource : struct, IRowSource
    {
        rows = default;
        if (TSource.Padded)
        {
            // The whole padded plane is copied before its rows are read: a row read right after its copy would load
            // across the copy's still-pending stores, which cannot be forwarded, and stall.
            float* pp = buffers.RowScratch.Get(planes * planeLength);
            new Span<float>(pp, (int)(planes * planeLength)).Clear(); // the padding: only the interior changes
            return pp;
        }
        rows = new PlaneRows(buffers.RowScratch.Get((2 + PlaneRows.Copies) * (long)rowLength), rowLength, pad, w, start, length, reach);
        return null;
    }

    /// <summary>
    /// Where <see cref="MaskedRows"/> read a pass's rows: a row's column masks, a zero row for the padding rows, and
    /// zero-padded copies (as the reference's rows) of the rows whose groups would reach outside the span.
    /// </summary>
    internal readonly struct PlaneRows
    {
        /// <summary>Rows a row pass reads at once (a pair's two images; quads go paired where they would need copies): each its own copy.</summary>
        public const int Copies = 2;

        /// <summary>A row's groups' masks (<see cref="ColumnMasks"/>).</summary>
        public readonly Vector128<float>* Masks;

        /// <summary>A row of zeros, <c>rowLength</c> floats, after the masks: a padding row starts at its column −pad.</summary>
        public readonly float* Zero;

        private readonly float* _copies, _first, _last;
        private readonly int _rowLength, _pad, _w;

        /// <summary>Over 2 + <see cref="Copies"/> rows at <paramref name="scratch"/>: the masks, the zero row, the copies.</summary>
        public PlaneRows(float* scratch, int rowLength, int pad, int w, float* start, long length, int reach)
        {
            Masks = (Vector128<float>*)scratch;
            ColumnMasks(Masks, rowLength / 4, pad, w);
            Zero = scratch + rowLength;
            new Span<float>(Zero, rowLength).Clear();
            _copies = Zero + rowLength;
            (_rowLength, _pad, _w) = (rowLength, pad, w);
            // A row read in place starts at the span's start or after it and ends, reach floats on, at its end or before.
            _first = start;
            _last = start + length - reach;
        }

        /// <summary>
        /// Whether the rows whose columns −pad run from <paramref name="first"/> to <paramref name="last"/> are all read
        /// in place: checked once a plane (or a pair of them), so that the rows of the others take no further check.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool InPlace(float* first, float* last) => first >= _first && last <= _last;

        /// <summary>
        /// The row whose column −pad is at <paramref name="row"/> (its columns 0 … w − 1 in the span), to be read by
        /// masks: itself, or where its groups would reach outside the span, its copy in slot <paramref name="slot"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float* Inside(float* row, int slot) => row >= _first && row <= _last ? row : Copy(row, slot);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private float* Copy(float* row, int slot)
        {
            float* to = _copies + slot * _rowLength;
            new Span<float>(to, _rowLength).Clear();
            WinogradConvolution.Copy(row + _pad, to + _pad, _w);
            return to;
        }
    }

    /// <summary>
    /// Floats a row pass reads from a row's column −pad: <paramref name="groups"/> 4-float groups from the start of the
    /// last half vector of tiles it reads (4 tiles of 4 columns; the row's start where images are paired,
    /// <see cref="PairsImages"/>; a quad reads fewer).
    /// </summary>
    private static int RowReach(int tilesX, int groups) =>
        (PairsImages(tilesX) ? 0 : 4 * ((tilesX - 1) / Lanes * Lanes) + 16) + 4 * groups;

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
