using System.Collections.Immutable;
using System.Numerics;
using System.Text.Json.Serialization;

namespace ZeroDL.Layers;

/// <summary>
/// A layer's configuration: everything but its weights, enough to build the layer again (Keras' get_config). A
/// config knows, for the shape of one input sample (without the batch axis: (features) or (C, H, W)), the shape of
/// the layer's output, the tensors the layer holds, and its multiply-adds per sample — all without building it, so
/// that an architecture can be checked and summarised before anything is allocated. In JSON a config is an object
/// whose "type" names the layer ("affine", "conv", "max_pool", "relu", "sigmoid", "tanh", "batchnorm", "dropout",
/// "flatten"); the other keys are the record's properties in snake case.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(AffineConfig), "affine")]
[JsonDerivedType(typeof(ConvConfig), "conv")]
[JsonDerivedType(typeof(MaxPoolConfig), "max_pool")]
[JsonDerivedType(typeof(ReluConfig), "relu")]
[JsonDerivedType(typeof(SigmoidConfig), "sigmoid")]
[JsonDerivedType(typeof(TanhConfig), "tanh")]
[JsonDerivedType(typeof(BatchNormConfig), "batchnorm")]
[JsonDerivedType(typeof(DropoutConfig), "dropout")]
[JsonDerivedType(typeof(FlattenConfig), "flatten")]
public abstract record LayerConfig
{
    /// <summary>
    /// The largest size a config or an input shape may give one dimension: units, filters, a kernel or pooling side,
    /// stride, pad, and each input dimension. 65,536, as the CLI's --hidden allows; far above any network of the book,
    /// and small enough that products of two sizes cannot overflow the checks that follow.
    /// </summary>
    public const int MaxSize = 1 << 16;

    /// <summary>The most dimensions a sample's shape may have: 8 (ZeroDL's layers take (features) or (C, H, W)).</summary>
    public const int MaxRank = 8;

    /// <summary>The built layer's <see cref="ILayer{T}.Kind"/>: the prefix of its name in a network ("conv1", "affine2").</summary>
    [JsonIgnore]
    public abstract string Kind { get; }

    /// <summary>
    /// The shape of one output sample for input samples of shape <paramref name="input"/>. Throws
    /// <see cref="ArgumentException"/> saying why when the layer cannot take that input.
    /// </summary>
    public abstract int[] OutputShape(IReadOnlyList<int> input);

    /// <summary>
    /// The tensors the layer holds for that input, in the order of its <see cref="ILayer{T}.Parameters"/> then its
    /// <see cref="ILayer{T}.State"/>: what a model file stores under "name.tensor".
    /// </summary>
    public virtual IReadOnlyList<TensorShape> Tensors(IReadOnlyList<int> input) => [];

    /// <summary>Multiply-adds of one sample's forward pass (0 for layers that do no products: pooling, activations).</summary>
    public virtual long MultiplyAdds(IReadOnlyList<int> input) => 0;

    /// <summary>Trainable values (<see cref="Tensors"/> that are parameters, not state such as running statistics).</summary>
    public long ParameterCount(IReadOnlyList<int> input) => Tensors(input).Where(t => t.IsParameter).Sum(t => t.Elements);

    /// <summary>
    /// A new layer for that input, its initial weights drawn from <paramref name="rng"/> in the order the book's
    /// networks draw them (weights row-major, then nothing for the bias), or a generator forked from it (dropout).
    /// </summary>
    public abstract ILayer<T> Build<T>(IReadOnlyList<int> input, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field out of range.</summary>
    public virtual void Validate() { }

    /// <summary>A short description such as "conv 16 3×3 pad 1".</summary>
    public abstract string Describe();

    /// <summary>"(1, 28, 28)".</summary>
    public static string ShapeText(IReadOnlyList<int> shape) => "(" + string.Join(", ", shape) + (shape.Count == 1 ? ",)" : ")");

    /// <summary>The number of values in a sample of this shape; <see cref="ArgumentException"/> past 2³¹ − 1 (an array's limit).</summary>
    public static int Elements(IReadOnlyList<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d <= 0) throw new ArgumentException($"shape {ShapeText(shape)} has a dimension ≤ 0");
            n *= d;
            if (n > Array.MaxLength) throw new ArgumentException($"shape {ShapeText(shape)} has more than {Array.MaxLength} values");
        }
        return (int)n;
    }

    /// <summary>(C, H, W) of <paramref name="input"/>, else <see cref="ArgumentException"/> naming the layer kind.</summary>
    protected static (int C, int H, int W) Image(IReadOnlyList<int> input, string what) =>
        input.Count == 3 ? (input[0], input[1], input[2])
        : throw new ArgumentException($"{what} needs (C, H, W) samples, not {ShapeText(input)}");

    /// <summary>Throws <see cref="ArgumentException"/> unless 1 ≤ <paramref name="value"/> ≤ <see cref="MaxSize"/> (0 allowed when <paramref name="zero"/>).</summary>
    protected static void RequireSize(int value, string what, bool zero = false)
    {
        if (value < (zero ? 0 : 1) || value > MaxSize)
            throw new ArgumentException($"{what} must be {(zero ? "≥ 0" : "≥ 1")} and at most {MaxSize} (got {value})");
    }

    protected static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}

/// <summary>One tensor a layer holds: its name in the layer ("W", "running_mean"), its shape, and whether it is trained.</summary>
public sealed record TensorShape(string Name, ImmutableArray<int> Shape, bool IsParameter)
{
    public long Elements => Shape.Aggregate(1L, (a, d) => a * d);
}
