using System.Numerics;

namespace ZeroDL.Layers;

/// <summary>
/// A layer of a network: <see cref="Forward"/> maps a batch (first axis = batch) to a batch, caching only what
/// <see cref="Backward"/> needs; <see cref="Backward"/> maps ∂L/∂output to ∂L/∂input and fills the gradients of
/// its <see cref="Parameters"/>. Layers own their output buffers and reuse them across batches, so a returned
/// tensor is valid until the layer's next call. A layer may keep a reference to its input rather than a copy (ReLU,
/// per-channel BatchNorm), so the caller leaves that input unchanged until the matching <see cref="Backward"/>.
/// </summary>
public interface ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Short lower-case name of the layer type, used in parameter names ("affine", "relu", …).</summary>
    string Kind { get; }
    /// <summary>
    /// The layer's configuration: everything but its weights, from which <see cref="LayerConfig.Build{T}"/> makes a
    /// layer like it. A layer built from given weights reports the sizes of those weights.
    /// </summary>
    LayerConfig Config { get; }
    NDArray<T> Forward(NDArray<T> x, bool training);
    NDArray<T> Backward(NDArray<T> dout);
    /// <summary>Trainable parameters with their gradients (empty for parameter-free layers).</summary>
    IReadOnlyList<Parameter<T>> Parameters { get; }
    /// <summary>Non-trainable state that must be saved with the model (e.g. BatchNorm running statistics).</summary>
    IReadOnlyList<(string Name, NDArray<T> Value)> State { get; }
}

/// <summary>A trainable tensor, its gradient, and its name within the layer ("W", "b", "gamma", …).</summary>
public sealed class Parameter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Parameter(string name, NDArray<T> value, bool isWeight)
    {
        Name = name;
        Value = value;
        Grad = new NDArray<T>(value.Shape);
        IsWeight = isWeight;
    }

    public string Name { get; }
    public NDArray<T> Value { get; }
    public NDArray<T> Grad { get; }
    /// <summary>True for weight matrices, the only parameters weight decay applies to (as in the book).</summary>
    public bool IsWeight { get; }
}

/// <summary>Base for layers without parameters or state.</summary>
public abstract class StatelessLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public abstract string Kind { get; }
    public abstract LayerConfig Config { get; }
    public abstract NDArray<T> Forward(NDArray<T> x, bool training);
    public abstract NDArray<T> Backward(NDArray<T> dout);
    public IReadOnlyList<Parameter<T>> Parameters => [];
    public IReadOnlyList<(string Name, NDArray<T> Value)> State => [];

    protected static void RequireForward(object? cached, string kind)
    {
        if (cached is null) throw new InvalidOperationException($"{kind}: Backward called before Forward");
    }
}

/// <summary>
/// A layer that can skip computing ∂L/∂input when it is the first of a network (nothing uses the gradient with
/// respect to the data), filling only its parameters' gradients.
/// </summary>
public interface IFirstLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    void BackwardParameters(NDArray<T> dout);
}

/// <summary>
/// A layer that can take a compressed batch (<see cref="InputBatch{T}.Compressed"/>) as a network's first layer and
/// gives the same outputs and gradients as for the dense batch of the same values.
/// </summary>
public interface ICompressedInputLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether compressed batches of samples of <paramref name="features"/> values, of which a fraction
    /// <paramref name="density"/> is non-zero, are worth giving this layer: the one test of eligibility.
    /// </summary>
    bool TakesCompressed(int features, double density);

    /// <summary>The forward pass of a compressed batch; <paramref name="x"/> must not change until the backward pass has run.</summary>
    NDArray<T> Forward(Kernels.SparseMatrix x, bool training);
}
