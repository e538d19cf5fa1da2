using System.Numerics;
using ZeroDL.Kernels;

namespace ZeroDL;

/// <summary>
/// A batch of samples as a network's first layer takes it: dense (an <see cref="NDArray{T}"/>, first axis = sample),
/// or the same values compressed (a <see cref="SparseMatrix"/> of rows × features, mostly-zero images such as MNIST
/// pixels), which only a first layer that accepts it is given (<see cref="Layers.ICompressedInputLayer{T}"/>).
/// Either form gives the same outputs. The batch loader fills one and reuses it batch after batch.
/// </summary>
public sealed class InputBatch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>An empty batch, to be filled.</summary>
    public InputBatch() { }

    /// <summary>A dense batch.</summary>
    public InputBatch(NDArray<T> dense) => Dense = dense;

    /// <summary>The dense samples, or null when the batch is compressed.</summary>
    public NDArray<T>? Dense { get; private set; }

    /// <summary>The compressed samples (rows × features), or null when the batch is dense.</summary>
    public SparseMatrix? Compressed { get; private set; }

    /// <summary>Samples in the batch.</summary>
    public int Rows => Dense?.Rows ?? Compressed?.Rows ?? 0;

    /// <summary>Makes this the dense batch <paramref name="dense"/>.</summary>
    public void SetDense(NDArray<T> dense)
    {
        Dense = dense;
        Compressed = null;
    }

    /// <summary>Makes this the compressed batch <paramref name="compressed"/> (which must not change while the batch is in use).</summary>
    public void SetCompressed(SparseMatrix compressed)
    {
        Compressed = compressed;
        Dense = null;
    }
}
