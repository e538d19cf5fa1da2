using System.Numerics;

namespace ZeroDL.Layers;

/// <summary>
/// (N, d1, d2, …) → (N, d1·d2·…), the step between convolutional and dense layers. A view of the same data both
/// ways (no copy). <see cref="Affine{T}"/> flattens its input by itself, as the book's Affine does, so the book's
/// networks do not need this layer; it is here for networks written layer by layer.
/// </summary>
public sealed class Flatten<T> : StatelessLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private int[]? _inputShape;

    public override string Kind => "flatten";
    public override LayerConfig Config => new FlattenConfig();

    public override NDArray<T> Forward(NDArray<T> x, bool training)
    {
        if (x.Rank < 1) throw new ArgumentException($"flatten: input {x.ShapeText} has no batch axis");
        if (!x.SameShape(_inputShape)) _inputShape = x.Shape.ToArray(); // kept across batches of one shape: no allocation
        return x.Reshape(x.Rows, x.RowLength);
    }

    public override NDArray<T> Backward(NDArray<T> dout)
    {
        var shape = _inputShape ?? throw new InvalidOperationException($"{Kind}: Backward called before Forward");
        if (dout.Size != shape.Aggregate(1, (a, b) => a * b))
            throw new ArgumentException($"flatten backward: dout {dout.ShapeText} does not match the input {NDArray<T>.ShapeString(shape)}");
        return dout.Reshape(shape);
    }
}
