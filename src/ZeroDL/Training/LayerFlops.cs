using System.Numerics;
using ZeroDL.Layers;

namespace ZeroDL.Training;

/// <summary>
/// A layer's floating-point operations as the book computes them, the yardstick a training step's speed is measured
/// in against the FMA limit: a convolution's direct (im2col) product, 2·N·F·C·KH·KW·OH·OW (a multiply and an add per
/// filter tap and output), an affine layer's 2·N·in·out, and nothing for the other layers (pooling, activations,
/// dropout, the loss: memory-bound, no multiply-adds to count). The backward pass counts twice the forward (the
/// weight gradient and the input gradient, each a product of the forward's size), also for a first layer that
/// skips its input gradient, as the book's network computes it. A faster algorithm (Winograd) does fewer operations;
/// its savings count in its favour, since the yardstick stays the direct convolution's.
/// </summary>
public static class LayerFlops
{
    /// <summary>The forward pass's FLOPs of <paramref name="layer"/> producing output of <paramref name="outputShape"/> (batch first).</summary>
    /// <exception cref="ArgumentException">The output shape does not fit the layer: not (N, F, OH, OW) for a convolution, nor N × its units for an affine layer.</exception>
    public static long Forward<T>(ILayer<T> layer, ReadOnlySpan<int> outputShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (layer)
        {
            case Convolution<T> conv:
                if (outputShape.Length != 4 || outputShape[1] != conv.Filters)
                    throw new ArgumentException($"convolution with {conv.Filters} filters: output shape ({string.Join(", ", outputShape.ToArray())}) is not (N, {conv.Filters}, OH, OW)");
                return 2L * outputShape[0] * conv.Filters * conv.Channels * conv.KernelHeight * conv.KernelWidth * outputShape[2] * outputShape[3];
            case Affine<T> affine:
                if (outputShape.Length != 2 || outputShape[1] != affine.OutputSize)
                    throw new ArgumentException($"affine with {affine.OutputSize} units: output shape ({string.Join(", ", outputShape.ToArray())}) is not (N, {affine.OutputSize})");
                return 2L * outputShape[0] * affine.InputSize * affine.OutputSize;
            default:
                return 0;
        }
    }

    /// <summary>The backward pass's FLOPs: twice <see cref="Forward{T}"/> (weight gradient and input gradient).</summary>
    public static long Backward<T>(ILayer<T> layer, ReadOnlySpan<int> outputShape) where T : unmanaged, IFloatingPointIeee754<T> =>
        2 * Forward(layer, outputShape);
}
