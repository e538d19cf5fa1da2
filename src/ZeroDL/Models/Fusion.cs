using System.Numerics;
using ZeroDL.Layers;

namespace ZeroDL.Models;

/// <summary>
/// Passes over a list of layers that merge neighbours into one layer computing the same numbers faster. The book's
/// networks are built from the plain layers and then put through these (<see cref="Networks"/>); a hand-built list
/// runs as it is unless its builder applies them too.
/// </summary>
public static class Fusion
{
    /// <summary>
    /// Every <see cref="Convolution{T}"/> followed by a <see cref="Relu{T}"/> becomes one convolution that
    /// <see cref="Convolution{T}.Rectifies"/> its own output (chunk by chunk while in cache, one pass over the
    /// activations fewer each way) and the ReLU is dropped. The same outputs and gradients: max(0, y) &gt; 0 exactly
    /// where y &gt; 0, so the fused backward pass gates dout where the ReLU would. The new convolution holds the same
    /// weight and bias tensors; apply the pass before training starts (an optimizer's state refers to parameters).
    /// </summary>
    public static List<ILayer<T>> FuseConvolutionRelu<T>(IEnumerable<ILayer<T>> layers) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var fused = new List<ILayer<T>>();
        foreach (var layer in layers)
        {
            if (layer is Relu<T> && fused.Count > 0 && fused[^1] is Convolution<T> { Rectifies: false } conv)
                fused[^1] = new Convolution<T>(conv.W.Value, conv.B.Value, conv.Stride, conv.Pad) { Rectifies = true, Engine = conv.Engine, WeightInit = conv.WeightInit };
            else fused.Add(layer);
        }
        return fused;
    }

    /// <summary>
    /// The same pass over layer configurations: a <see cref="ConvConfig"/> without an activation followed by a
    /// <see cref="ReluConfig"/> becomes one with <see cref="ConvConfig.Activation"/> ReLU. The layers built from the
    /// result draw the same weights in the same order (a ReLU draws none).
    /// </summary>
    public static List<LayerConfig> FuseConvolutionRelu(IEnumerable<LayerConfig> layers)
    {
        var fused = new List<LayerConfig>();
        foreach (var layer in layers)
        {
            if (layer is ReluConfig && fused.Count > 0 && fused[^1] is ConvConfig { Activation: null } conv)
                fused[^1] = conv with { Activation = Activation.Relu };
            else fused.Add(layer);
        }
        return fused;
    }

    /// <summary>
    /// A per-channel <see cref="BatchNormConfig"/> without an activation followed by a <see cref="ReluConfig"/> becomes
    /// one with <see cref="BatchNormConfig.Activation"/> ReLU (<see cref="BatchNormalization{T}.Rectifies"/>): the same
    /// outputs and gradients, the ReLU's passes done inside BatchNorm's own. The layers built from the result draw the
    /// same weights in the same order.
    /// </summary>
    public static List<LayerConfig> FuseBatchNormRelu(IEnumerable<LayerConfig> layers)
    {
        var fused = new List<LayerConfig>();
        foreach (var layer in layers)
        {
            if (layer is ReluConfig && fused.Count > 0 && fused[^1] is BatchNormConfig { Activation: null, Mode: BatchNormMode.PerChannel } bn)
                fused[^1] = bn with { Activation = Activation.Relu };
            else fused.Add(layer);
        }
        return fused;
    }

    /// <summary>Every ReLU that can be fused into the convolution or per-channel BatchNorm before it, fused.</summary>
    public static List<LayerConfig> FuseRelus(IEnumerable<LayerConfig> layers) => FuseBatchNormRelu(FuseConvolutionRelu(layers));

    /// <summary>
    /// <paramref name="architecture"/> with its ReLUs fused (<see cref="FuseRelus(IEnumerable{LayerConfig})"/>). Two
    /// architectures equal after it compute the same numbers with the same named tensors (a ReLU has none), so a
    /// checkpoint written before a fusion existed, with its ReLUs as layers of their own, still fits the fused network
    /// built from the same preset now.
    /// </summary>
    public static Architecture FuseRelus(Architecture architecture) =>
        new(architecture.InputShape, FuseRelus(architecture.Layers), architecture.WeightDecay);
}
