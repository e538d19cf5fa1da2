using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ZeroDL.Kernels;

/// <summary>
/// The operations on float vectors of one width <typeparamref name="TV"/> (Vector256 or Vector512 of float), as a type
/// parameter: a kernel written once over <c>TV</c> and <c>TOps</c> is compiled by the JIT once per width
/// (<see cref="Float8"/>, <see cref="Float16"/>), its locals the bare hardware vectors. .NET's own ISimdVector is not
/// public; and a struct wrapping the vector costs a register copy per multiply-add and the broadcast folded into it.
/// </summary>
internal unsafe interface IFloatVectors<TV> where TV : struct
{
    /// <summary>Floats in one vector.</summary>
    static abstract int Count { get; }
    static abstract TV Zero { get; }
    static abstract TV Load(float* source);
    /// <summary>Every lane the float at <paramref name="source"/>.</summary>
    static abstract TV Broadcast(float* source);
    /// <summary>a·b + c, rounded once.</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);
    static abstract TV Add(TV a, TV b);
    /// <summary>max(v, 0) as TensorPrimitives.Max(v, 0) gives it: NaN stays NaN, −0 becomes +0.</summary>
    static abstract TV Rectified(TV v);
    static abstract void Store(TV v, float* destination);

    // A row of a GEMM register tile: two vectors (lo, hi) of one row of C. The micro-kernels spell a tile out row by
    // row, since the JIT keeps no array of vectors in registers; these keep each row to one line. The tile's
    // vectors are locals passed by ref, which the JIT keeps in registers once the call is inlined.
    /// <summary>lo += a·b0, hi += a·b1, the float at <paramref name="a"/> broadcast.</summary>
    static abstract void MultiplyAddRow(float* a, TV b0, TV b1, ref TV lo, ref TV hi);
    // The row is given as c, row and ld rather than as a pointer to it, so that the JIT folds row·ld into both
    // accesses' addresses (a row pointer passed in costs a register and an instruction a row).
    /// <summary>lo += the first vector of row <paramref name="row"/> of c (leading dimension ld), hi += the vector after it.</summary>
    static abstract void AddRow(ref TV lo, ref TV hi, float* c, int row, int ld);
    /// <summary>lo and hi stored to the first two vectors of row <paramref name="row"/> of c (leading dimension ld).</summary>
    static abstract void StoreRow(TV lo, TV hi, float* c, int row, int ld);

    // The convolution kernels' further steps.
    /// <summary>v where y &gt; 0, +0 elsewhere (a NaN y too): an output gradient gated by a ReLU's output.</summary>
    static abstract TV WherePositive(TV v, TV y);
    /// <summary>
    /// <paramref name="sum"/> + v's 256-bit halves, one after the other from the lowest: a sum kept in 8 lanes takes
    /// the same additions on either width, so it has the same bits.
    /// </summary>
    static abstract Vector256<float> AddHalves(Vector256<float> sum, TV v);
    /// <summary>v's 256-bit halves added (v itself on 8 floats): a sum folded to 8 lanes.</summary>
    static abstract Vector256<float> Folded(TV v);
    /// <summary>The 8 floats at <paramref name="source"/>, the lanes past them zero.</summary>
    static abstract TV LoadEight(float* source);
    static abstract TV Subtract(TV a, TV b);
    static abstract TV Negate(TV v);
    /// <summary>
    /// Vector256/Vector512.Max(v, 0): the values of <see cref="Rectified"/>, other instructions (the zero has to be
    /// a constant in the call for the JIT's short form).
    /// </summary>
    static abstract TV MaxZero(TV v);
    /// <summary>Every lane <paramref name="value"/>.</summary>
    static abstract TV Create(float value);
    /// <summary>The even and the odd elements of the 2·Count floats at <paramref name="source"/>, each in order.</summary>
    static abstract (TV Even, TV Odd) Deinterleave(float* source);
    /// <summary>Stores [e0 o0 e1 o1 …] (2·Count floats) at <paramref name="destination"/>.</summary>
    static abstract void StoreInterleaved(TV even, TV odd, float* destination);
    /// <summary>Stores [y0[l] y1[l] y2[l] y3[l]] at <paramref name="destination"/> + 4l for every lane l (4·Count floats).</summary>
    static abstract void StoreInterleaved4(TV y0, TV y1, TV y2, TV y3, float* destination);
}

/// <summary>Eight floats: 256-bit (AVX2) vectors.</summary>
internal readonly unsafe struct Float8 : IFloatVectors<Vector256<float>>
{
    public static int Count => 8;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float* source) => Vector256.Create(*source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Rectified(Vector256<float> v) => Vector256.AndNot(v, Vector256.LessThanOrEqual(v, Vector256<float>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> v, float* destination) => v.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAddRow(float* a, Vector256<float> b0, Vector256<float> b1, ref Vector256<float> lo, ref Vector256<float> hi)
    { var x = Broadcast(a); lo = MultiplyAdd(x, b0, lo); hi = MultiplyAdd(x, b1, hi); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddRow(ref Vector256<float> lo, ref Vector256<float> hi, float* c, int row, int ld) { lo = Add(lo, Load(c + row * ld)); hi = Add(hi, Load(c + row * ld + 8)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreRow(Vector256<float> lo, Vector256<float> hi, float* c, int row, int ld) { Store(lo, c + row * ld); Store(hi, c + row * ld + 8); }

    // The convolution kernels' further steps.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> WherePositive(Vector256<float> v, Vector256<float> y) => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), v, Vector256<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> AddHalves(Vector256<float> sum, Vector256<float> v) => sum + v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Folded(Vector256<float> v) => v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> LoadEight(float* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Negate(Vector256<float> v) => -v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MaxZero(Vector256<float> v) => Vector256.Max(v, Vector256<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Create(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(float* source) => VectorShuffles.Deinterleave(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreInterleaved(Vector256<float> even, Vector256<float> odd, float* destination) => VectorShuffles.StoreInterleaved(even, odd, destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInterleaved4(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3, float* destination) =>
        VectorShuffles.StoreInterleaved4(y0, y1, y2, y3, destination);
}

/// <summary>Sixteen floats: 512-bit (AVX-512, or two 256-bit halves in software) vectors.</summary>
internal readonly unsafe struct Float16 : IFloatVectors<Vector512<float>>
{
    public static int Count => 16;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* source) => Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float* source) => Vector512.Create(*source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Rectified(Vector512<float> v) => Vector512.AndNot(v, Vector512.LessThanOrEqual(v, Vector512<float>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> v, float* destination) => v.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAddRow(float* a, Vector512<float> b0, Vector512<float> b1, ref Vector512<float> lo, ref Vector512<float> hi)
    { var x = Broadcast(a); lo = MultiplyAdd(x, b0, lo); hi = MultiplyAdd(x, b1, hi); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddRow(ref Vector512<float> lo, ref Vector512<float> hi, float* c, int row, int ld) { lo = Add(lo, Load(c + row * ld)); hi = Add(hi, Load(c + row * ld + 16)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreRow(Vector512<float> lo, Vector512<float> hi, float* c, int row, int ld) { Store(lo, c + row * ld); Store(hi, c + row * ld + 16); }

    // The convolution kernels' further steps.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> WherePositive(Vector512<float> v, Vector512<float> y) => Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), v, Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> AddHalves(Vector256<float> sum, Vector512<float> v) => sum + v.GetLower() + v.GetUpper();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Folded(Vector512<float> v) => v.GetLower() + v.GetUpper();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> LoadEight(float* source) => Vector512.Create(Vector256.Load(source), Vector256<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Negate(Vector512<float> v) => -v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MaxZero(Vector512<float> v) => Vector512.Max(v, Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Create(float value) => Vector512.Create(value);

    /// <summary>Two 256-bit deinterleaves joined: the same code with or without AVX-512 (its software Vector512 elsewhere).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Even, Vector512<float> Odd) Deinterleave(float* source)
    {
        var (e0, o0) = VectorShuffles.Deinterleave(source);
        var (e1, o1) = VectorShuffles.Deinterleave(source + 16);
        return (Vector512.Create(e0, e1), Vector512.Create(o0, o1));
    }

    /// <summary>By halves, as <see cref="Deinterleave"/> reads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInterleaved(Vector512<float> even, Vector512<float> odd, float* destination)
    {
        VectorShuffles.StoreInterleaved(even.GetLower(), odd.GetLower(), destination);
        VectorShuffles.StoreInterleaved(even.GetUpper(), odd.GetUpper(), destination + 16);
    }

    /// <summary>Native 512-bit shuffles where AVX-512F is, else by halves (<see cref="VectorShuffles.StoreInterleaved4(Vector512{float}, Vector512{float}, Vector512{float}, Vector512{float}, float*)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInterleaved4(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3, float* destination) =>
        VectorShuffles.StoreInterleaved4(y0, y1, y2, y3, destination);
}
