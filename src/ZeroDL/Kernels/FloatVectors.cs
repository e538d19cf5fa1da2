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
}
