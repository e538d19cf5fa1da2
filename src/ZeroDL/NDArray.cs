using System.Numerics;
using System.Runtime.CompilerServices;

namespace ZeroDL;

/// <summary>
/// A dense, row-major N-d array of <typeparamref name="T"/> (float32 by default, float64 where exactness
/// matters). The shape and a contiguous buffer; <see cref="Reshape"/> is a view over the same buffer.
/// The buffer may be longer than <see cref="Size"/> so that layers can reuse one buffer for mini-batches
/// of different sizes without allocating; <see cref="Span"/> always covers exactly the elements.
/// </summary>
public sealed class NDArray<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The backing buffer; elements live in <c>Data[0 .. Size)</c>.</summary>
    public T[] Data { get; }
    /// <summary>The dimensions, outermost first (a read-only view: an array's shape changes only by <see cref="Reshape"/>, a new view).</summary>
    public ReadOnlySpan<int> Shape => _shape;
    private readonly int[] _shape;
    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public int Size { get; }

    public NDArray(params ReadOnlySpan<int> shape) : this(new T[CheckedSize(shape)], shape) { }

    /// <summary>Wraps <paramref name="data"/> (not copied). It must hold at least the shape's element count.</summary>
    public NDArray(T[] data, params ReadOnlySpan<int> shape)
    {
        int size = CheckedSize(shape);
        if (data.Length < size)
            throw new ArgumentException($"buffer of {data.Length} elements is too small for shape {ShapeString(shape)} ({size} elements)");
        Data = data;
        _shape = shape.ToArray();
        Size = size;
    }

    public int Rank => Shape.Length;
    public Span<T> Span => Data.AsSpan(0, Size);
    public ReadOnlySpan<T> ReadOnlySpan => new(Data, 0, Size);

    /// <summary>Rows when the tensor is seen as a matrix (first axis) × everything else.</summary>
    public int Rows => Rank == 0 ? 1 : Shape[0];
    /// <summary>Elements per row: the product of all axes but the first.</summary>
    public int RowLength => Rank == 0 ? 1 : Size / Math.Max(1, Shape[0]);

    public T this[int i]
    {
        get => Data[CheckIndex(i)];
        set => Data[CheckIndex(i)] = value;
    }

    public T this[int i, int j]
    {
        get => Data[Offset2(i, j)];
        set => Data[Offset2(i, j)] = value;
    }

    public T this[params int[] index]
    {
        get => Data[Offset(index)];
        set => Data[Offset(index)] = value;
    }

    public string ShapeText => ShapeString(Shape);

    public static NDArray<T> FromArray(T[] values, params ReadOnlySpan<int> shape) => new((T[])values.Clone(), shape.Length == 0 ? [values.Length] : shape);

    public static NDArray<T> From(double[] values, params ReadOnlySpan<int> shape)
    {
        var data = new T[values.Length];
        for (int i = 0; i < values.Length; i++) data[i] = T.CreateTruncating(values[i]);
        return new NDArray<T>(data, shape.Length == 0 ? [values.Length] : shape);
    }

    public static NDArray<T> From(double[,] values)
    {
        int r = values.GetLength(0), c = values.GetLength(1);
        var t = new NDArray<T>(r, c);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) t.Data[i * c + j] = T.CreateTruncating(values[i, j]);
        return t;
    }

    public static NDArray<T> Zeros(params ReadOnlySpan<int> shape) => new(shape);

    public static NDArray<T> Full(T value, params ReadOnlySpan<int> shape)
    {
        var t = new NDArray<T>(shape);
        t.Span.Fill(value);
        return t;
    }

    /// <summary>A view with another shape over the same buffer. One axis may be -1 (inferred).</summary>
    public NDArray<T> Reshape(params ReadOnlySpan<int> newShape)
    {
        var shape = newShape.ToArray();
        int infer = Array.IndexOf(shape, -1);
        if (infer >= 0)
        {
            int known = 1;
            for (int i = 0; i < shape.Length; i++) if (i != infer) known *= shape[i];
            if (known == 0 || Size % known != 0)
                throw new ArgumentException($"cannot reshape {ShapeText} into {ShapeString(shape)}");
            shape[infer] = Size / known;
        }
        if (CheckedSize(shape) != Size)
            throw new ArgumentException($"cannot reshape {ShapeText} ({Size} elements) into {ShapeString(shape)}");
        return new NDArray<T>(Data, shape);
    }

    public NDArray<T> Clone() => new((T[])Span.ToArray(), Shape);

    public NDArray<TOut> Cast<TOut>() where TOut : unmanaged, IFloatingPointIeee754<TOut>
    {
        var result = new NDArray<TOut>(Shape);
        var src = ReadOnlySpan;
        var dst = result.Span;
        for (int i = 0; i < src.Length; i++) dst[i] = TOut.CreateTruncating(src[i]);
        return result;
    }

    /// <summary>Rounds every element to IEEE half precision (round-to-nearest-even).</summary>
    public Half[] ToHalf()
    {
        var result = new Half[Size];
        var src = ReadOnlySpan;
        for (int i = 0; i < src.Length; i++) result[i] = Half.CreateTruncating(src[i]);
        return result;
    }

    public static NDArray<T> FromHalf(ReadOnlySpan<Half> values, params int[] shape)
    {
        var t = new NDArray<T>(shape);
        if (values.Length != t.Size)
            throw new ArgumentException($"{values.Length} half values do not fill shape {t.ShapeText}");
        for (int i = 0; i < values.Length; i++) t.Data[i] = T.CreateTruncating(values[i]);
        return t;
    }

    public double[] ToDoubleArray()
    {
        var result = new double[Size];
        for (int i = 0; i < Size; i++) result[i] = double.CreateTruncating(Data[i]);
        return result;
    }

    /// <summary>Index of the largest element in each row (first on ties), as the book's np.argmax(y, axis=1).</summary>
    public int[] ArgMaxRows()
    {
        int rows = Rows, len = RowLength;
        var result = new int[rows];
        for (int r = 0; r < rows; r++)
            result[r] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax<T>(Data.AsSpan(r * len, len));
        return result;
    }

    /// <summary>Throws unless <paramref name="other"/> has exactly this shape; the message names both shapes.</summary>
    public void RequireSameShape(NDArray<T> other, string what = "tensors")
    {
        if (!Shape.SequenceEqual(other.Shape))
            throw new ArgumentException($"shape mismatch in {what}: {ShapeText} vs {other.ShapeText}");
    }

    public bool SameShape(ReadOnlySpan<int> shape) => Shape.SequenceEqual(shape);

    /// <summary>
    /// Returns <paramref name="buffer"/> reshaped to <paramref name="shape"/> when its backing array is large
    /// enough, otherwise a new tensor: the way layers keep one buffer across mini-batches. The shape is a span, so
    /// a call with the buffer's own shape (every mini-batch after the first) allocates nothing.
    /// </summary>
    public static NDArray<T> Reuse(NDArray<T>? buffer, params ReadOnlySpan<int> shape)
    {
        int size = CheckedSize(shape);
        if (buffer is not null)
        {
            if (buffer.SameShape(shape)) return buffer;
            if (buffer.Data.Length >= size) return new NDArray<T>(buffer.Data, shape);
        }
        return new NDArray<T>(shape);
    }

    /// <summary><see cref="Reuse"/> for <paramref name="shape"/> with its first axis set to <paramref name="rows"/>.</summary>
    internal static NDArray<T> ReuseWithRows(NDArray<T>? buffer, ReadOnlySpan<int> shape, int rows)
    {
        Span<int> resized = shape.Length <= 8 ? stackalloc int[shape.Length] : new int[shape.Length];
        shape.CopyTo(resized);
        resized[0] = rows;
        return Reuse(buffer, resized);
    }

    public override string ToString()
    {
        int show = Math.Min(Size, 8);
        var items = new string[show];
        for (int i = 0; i < show; i++) items[i] = Data[i].ToString("G6", null);
        return $"NDArray<{typeof(T).Name}>{ShapeText} [{string.Join(", ", items)}{(Size > show ? ", …" : "")}]";
    }

    public static string ShapeString(ReadOnlySpan<int> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";

    internal static int CheckedSize(ReadOnlySpan<int> shape)
    {
        long size = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape {ShapeString(shape)}");
            size *= d;
            if (size > Array.MaxLength) throw new ArgumentException($"shape {ShapeString(shape)} is too large");
        }
        return (int)size;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CheckIndex(int i)
    {
        if ((uint)i >= (uint)Size) throw new IndexOutOfRangeException($"index {i} outside tensor of shape {ShapeText}");
        return i;
    }

    private int Offset2(int i, int j)
    {
        if (Rank != 2) throw new ArgumentException($"two indices given for a tensor of shape {ShapeText}");
        if ((uint)i >= (uint)Shape[0] || (uint)j >= (uint)Shape[1])
            throw new IndexOutOfRangeException($"index ({i}, {j}) outside tensor of shape {ShapeText}");
        return i * Shape[1] + j;
    }

    private int Offset(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"{index.Length} indices given for a tensor of shape {ShapeText}");
        int offset = 0;
        for (int d = 0; d < Rank; d++)
        {
            if ((uint)index[d] >= (uint)Shape[d])
                throw new IndexOutOfRangeException($"index {ShapeString(index)} outside tensor of shape {ShapeText}");
            offset = offset * Shape[d] + index[d];
        }
        return offset;
    }
}

/// <summary>Row-wise copies used for mini-batching (no per-batch allocation when a buffer is passed back in).</summary>
public static class NDArrayRows
{
    /// <summary>Copies rows <paramref name="indices"/> of <paramref name="source"/> (first axis) into a reusable buffer.</summary>
    public static NDArray<T> Gather<T>(NDArray<T> source, ReadOnlySpan<int> indices, NDArray<T>? buffer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = NDArray<T>.ReuseWithRows(buffer, source.Shape, indices.Length);
        int len = source.RowLength;
        var src = source.ReadOnlySpan; var dst = result.Span;
        for (int i = 0; i < indices.Length; i++)
        {
            int r = indices[i];
            if ((uint)r >= (uint)source.Rows) throw new IndexOutOfRangeException($"row {r} outside tensor of shape {source.ShapeText}");
            src.Slice(r * len, len).CopyTo(dst.Slice(i * len, len));
        }
        return result;
    }

    /// <summary>Copies the contiguous rows [start, start + count) into a reusable buffer.</summary>
    public static NDArray<T> Slice<T>(NDArray<T> source, int start, int count, NDArray<T>? buffer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (start < 0 || count < 0 || start + count > source.Rows)
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) outside tensor of shape {source.ShapeText}");
        var result = NDArray<T>.ReuseWithRows(buffer, source.Shape, count);
        int len = source.RowLength;
        source.ReadOnlySpan.Slice(start * len, count * len).CopyTo(result.Span);
        return result;
    }
}
