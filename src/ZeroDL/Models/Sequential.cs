using System.Collections.Immutable;
using System.Numerics;
using ZeroDL.Layers;

namespace ZeroDL.Models;

/// <summary>
/// A chain of layers ending in softmax-with-loss, with optional L2 weight decay (book ch. 6.4.2):
/// loss = data loss + 0.5·λ·ΣW² over weight matrices, and ∂/∂W gains λ·W. Every parameter gets a stable
/// name "kindN.param" (affine1.W, batchnorm1.gamma, …) numbered per layer kind in order. The network knows the
/// shape of its input samples, (features) or (C, H, W), and checks at construction that every layer takes what the
/// layer before gives it. It runs a rectifying convolution and a 2×2, stride-2 pooling after it as one pass
/// (<see cref="ConvolutionPooling{T}"/>), the same numbers as the two layers one after the other.
/// </summary>
public sealed class Sequential<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<ILayer<T>> _layers;
    private readonly List<string> _layerNames = [];
    private NDArray<T>? _batchBuffer;

    /// <summary>
    /// A network of <paramref name="layers"/> taking samples of <paramref name="inputShape"/> (without the batch axis).
    /// Throws <see cref="ArgumentException"/> naming the first layer that cannot take the output of the one before
    /// (or the input), with both shapes.
    /// </summary>
    public Sequential(IReadOnlyList<int> inputShape, IEnumerable<ILayer<T>> layers, double weightDecay = 0)
    {
        _layers = [.. layers];
        if (_layers.Count == 0) throw new ArgumentException("a network needs at least one layer");
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be a finite number ≥ 0");
        _layerNames.AddRange(Architecture.LayerNames(_layers.Select(l => l.Kind)));
        InputShape = [.. inputShape];
        _sampleShape = [.. inputShape];
        _sampleSize = NDArray<T>.CheckedSize(_sampleShape);
        if (InputShape.Length == 0) throw new ArgumentException("a network's input shape needs at least one dimension");
        var shapes = new List<ImmutableArray<int>>(_layers.Count);
        var shape = InputShape;
        for (int i = 0; i < _layers.Count; i++)
        {
            var config = _layers[i].Config;
            int[] output;
            try { output = config.OutputShape(shape); }
            catch (ArgumentException e) { throw new ArgumentException($"{_layerNames[i]} ({config.Describe()}) cannot take input {LayerConfig.ShapeText(shape)}: {e.Message}"); }
            var held = _layers[i].Parameters.Select(p => (p.Name, Shape: p.Value.Shape.ToArray()))
                .Concat(_layers[i].State.Select(st => (st.Name, Shape: st.Value.Shape.ToArray()))).ToList();
            var needed = config.Tensors(shape);
            for (int t = 0; t < Math.Max(held.Count, needed.Count); t++)
            {
                if (t < held.Count && t < needed.Count && held[t].Name == needed[t].Name && held[t].Shape.AsSpan().SequenceEqual(needed[t].Shape.AsSpan())) continue;
                string want = t < needed.Count ? $"{needed[t].Name} {LayerConfig.ShapeText(needed[t].Shape)}" : "nothing more";
                string have = t < held.Count ? $"{held[t].Name} {LayerConfig.ShapeText(held[t].Shape)}" : "nothing";
                throw new ArgumentException($"{_layerNames[i]}: input {LayerConfig.ShapeText(shape)} needs {want}, the layer has {have}");
            }
            shape = [.. output];
            shapes.Add(shape);
        }
        OutputShapes = shapes;
        WeightDecay = weightDecay;
        _parameters = [.. _layers.SelectMany(l => l.Parameters)];
        _pooling = new ConvolutionPooling<T>?[_layers.Count];
        for (int i = 0; i + 1 < _layers.Count; i++) _pooling[i] = ConvolutionPooling<T>.Of(_layers[i], _layers[i + 1]);
    }

    /// <summary>
    /// At a rectifying convolution followed by a 2×2, stride-2 pooling, the two run as one pass
    /// (<see cref="ConvolutionPooling{T}"/>); found once, here. The layers and everything said of them stay as they are.
    /// </summary>
    private readonly ConvolutionPooling<T>?[] _pooling;

    /// <summary>How many layers the step at layer <paramref name="i"/> runs: 2 where a convolution pools its own output, else 1.</summary>
    internal int StepLength(int i) => _pooling[i] is null ? 1 : 2;

    /// <summary>The first layer of the step that ends at layer <paramref name="last"/>.</summary>
    internal int StepStart(int last) => last > 0 && _pooling[last - 1] is not null ? last - 1 : last;

    /// <summary>The forward pass of the step at layer <paramref name="i"/> (<see cref="StepLength"/> layers).</summary>
    internal NDArray<T> ForwardStep(int i, NDArray<T> x, bool training) =>
        _pooling[i] is { } pair ? pair.Forward(x, training) : _layers[i].Forward(x, training);

    /// <summary>
    /// The backward pass of the step starting at layer <paramref name="first"/>: the gradient with respect to its
    /// input, except for the network's first layer, which computes its parameters' gradients only where it can
    /// (<see cref="IFirstLayer{T}"/>; null then): nothing uses the gradient with respect to the data.
    /// </summary>
    internal NDArray<T>? BackwardStep(int first, NDArray<T> d)
    {
        if (_pooling[first] is { } pair) return pair.Backward(d, inputGradient: first > 0);
        if (first == 0 && _layers[0] is IFirstLayer<T> layer)
        {
            layer.BackwardParameters(d);
            return null;
        }
        return _layers[first].Backward(d);
    }

    /// <summary>
    /// The forward pass from layer <paramref name="start"/> on: step by step where <paramref name="paired"/>, else
    /// layer by layer (each layer's own state then ready for its own Backward).
    /// </summary>
    private NDArray<T> ForwardFrom(int start, NDArray<T> x, bool training, bool paired)
    {
        if (!paired)
        {
            for (int i = start; i < _layers.Count; i++) x = _layers[i].Forward(x, training);
            return x;
        }
        for (int i = start; i < _layers.Count; i += StepLength(i)) x = ForwardStep(i, x, training);
        return x;
    }

    public IReadOnlyList<ILayer<T>> Layers => _layers;
    public SoftmaxWithLoss<T> LossLayer { get; } = new();
    public double WeightDecay { get; }

    /// <summary>The shape of one input sample: (features) or (C, H, W).</summary>
    public ImmutableArray<int> InputShape { get; }

    /// <summary>The shape of one sample after each layer, in layer order.</summary>
    public IReadOnlyList<ImmutableArray<int>> OutputShapes { get; }

    /// <summary>The number of scores per sample: the last layer's output size (the classes).</summary>
    public int OutputSize => OutputShapes[^1].Aggregate(1, (a, d) => a * d);

    /// <summary>The input shape, every layer's configuration and the weight decay: what rebuilds this network (without its weights).</summary>
    public Architecture Architecture => new(InputShape, _layers.Select(l => l.Config), WeightDecay);

    /// <summary>A table of every layer's output shape, parameters and multiply-adds per sample, then the totals (see <see cref="NetworkSummary"/>).</summary>
    public string Summary() => Architecture.Summarize().ToString();

    /// <summary>Each layer's name ("conv1", "relu2", …) in order: the prefix of its parameters' names.</summary>
    public IReadOnlyList<string> NamedLayers() => _layerNames;

    /// <summary>Every trainable parameter with its full name, in layer order.</summary>
    public IEnumerable<(string Name, Parameter<T> Parameter)> NamedParameters()
    {
        for (int i = 0; i < _layers.Count; i++)
            foreach (var p in _layers[i].Parameters) yield return ($"{_layerNames[i]}.{p.Name}", p);
    }

    /// <summary>Every tensor a model file holds: parameters, then state such as running statistics.</summary>
    public IEnumerable<(string Name, NDArray<T> Value)> NamedTensors()
    {
        for (int i = 0; i < _layers.Count; i++)
        {
            foreach (var p in _layers[i].Parameters) yield return ($"{_layerNames[i]}.{p.Name}", p.Value);
            foreach (var (name, value) in _layers[i].State) yield return ($"{_layerNames[i]}.{name}", value);
        }
    }

    /// <summary>A new network of the same architecture (weights drawn afresh from seed 0), with its own buffers.</summary>
    public Sequential<T> CloneArchitecture() => Architecture.Build<T>(seed: 0);

    /// <summary>Copies every parameter and state tensor (running statistics) from a network of the same architecture.</summary>
    public void CopyStateFrom(Sequential<T> source)
    {
        using var mine = NamedTensors().GetEnumerator();
        foreach (var (name, value) in source.NamedTensors())
        {
            if (!mine.MoveNext() || mine.Current.Name != name || !mine.Current.Value.SameShape(value.Shape))
                throw new ArgumentException($"cannot copy '{name}' {value.ShapeText}: the networks differ in architecture");
            value.ReadOnlySpan.CopyTo(mine.Current.Value.Span);
        }
        if (mine.MoveNext()) throw new ArgumentException("cannot copy state: the networks differ in architecture");
    }

    /// <summary>
    /// <paramref name="batch"/> viewed in the <see cref="InputShape"/> (a flat N×784 batch as N×1×28×28, say). The view
    /// is kept: the same batch buffer viewed again (every mini-batch of a training run) allocates nothing.
    /// </summary>
    internal NDArray<T> InSampleShape(NDArray<T> batch)
    {
        var sample = _sampleShape;
        if (batch.Rank == sample.Length + 1 && batch.Shape[1..].SequenceEqual(sample)) return batch;
        if (batch.Rank < 1 || batch.RowLength != _sampleSize)
            throw new ArgumentException($"input {batch.ShapeText} does not hold samples of the network's input shape {LayerConfig.ShapeText(sample)}");
        if (_sampleView is { } view && ReferenceEquals(view.Data, batch.Data) && view.Size == batch.Size && view.Shape[0] == batch.Rows)
            return view;
        return _sampleView = batch.Reshape([batch.Rows, .. sample]);
    }

    private readonly int[] _sampleShape;
    /// <summary>Values per sample, the product of <see cref="InputShape"/> (read every mini-batch).</summary>
    private readonly int _sampleSize;
    private NDArray<T>? _sampleView;

    /// <summary>Every layer's parameters in order, listed once when the network is built (a layer's parameters are fixed objects).</summary>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    private readonly Parameter<T>[] _parameters;

    /// <summary>
    /// Scores (logits) for a batch. The returned tensor is the last layer's buffer: copy it to keep it. A
    /// training-mode pass asked for here runs layer by layer, so that the caller may walk the layers' own Backward
    /// after it (a loss of its own); inference and the network's own steps (<see cref="Gradient(NDArray{T}, ReadOnlySpan{int})"/>)
    /// run each convolution → pooling pair as one pass.
    /// </summary>
    public NDArray<T> Predict(NDArray<T> x, bool training = false) => ForwardFrom(0, x, training, paired: !training);

    /// <summary>Loss of a batch against integer labels, including the weight-decay term.</summary>
    public double Loss(NDArray<T> x, ReadOnlySpan<int> labels, bool training = true) =>
        LossLayer.Forward(Predict(x, training), labels) + WeightDecayLoss();

    public double Loss(NDArray<T> x, NDArray<T> oneHot, bool training = true) =>
        LossLayer.Forward(Predict(x, training), oneHot) + WeightDecayLoss();

    /// <summary>Forward and backward on a batch: fills every parameter's gradient and returns the loss.</summary>
    public double Gradient(NDArray<T> x, ReadOnlySpan<int> labels)
    {
        double loss = LossLayer.Forward(ForwardFrom(0, x, training: true, paired: true), labels) + WeightDecayLoss();
        Backward();
        return loss;
    }

    public double Gradient(NDArray<T> x, NDArray<T> oneHot)
    {
        double loss = LossLayer.Forward(ForwardFrom(0, x, training: true, paired: true), oneHot) + WeightDecayLoss();
        Backward();
        return loss;
    }

    /// <summary>
    /// Scores (logits) for a batch in either form: a compressed batch goes to the first layer as it is (which must
    /// take it: <see cref="TakesCompressed"/>), a dense one in the network's sample shape. The same scores either way.
    /// </summary>
    public NDArray<T> Predict(InputBatch<T> x, bool training = false) => Forward(x, training, paired: !training);

    /// <summary><see cref="Predict(InputBatch{T}, bool)"/>, its pairs run as one pass where <paramref name="paired"/> (see <see cref="ForwardFrom"/>).</summary>
    private NDArray<T> Forward(InputBatch<T> x, bool training, bool paired)
    {
        if (x.Compressed is { } compressed)
            return ForwardFrom(1, _layers[0] is ICompressedInputLayer<T> first ? first.Forward(compressed, training)
                : throw new InvalidOperationException($"a compressed batch needs a first layer that takes it; this network starts with {_layers[0].Kind}"), training, paired);
        return ForwardFrom(0, InSampleShape(x.Dense ?? throw new ArgumentException("the batch is empty", nameof(x))), training, paired);
    }

    /// <summary>Forward and backward on a batch in either form (see <see cref="Predict(InputBatch{T}, bool)"/>): fills every parameter's gradient and returns the loss.</summary>
    public double Gradient(InputBatch<T> x, ReadOnlySpan<int> labels)
    {
        double loss = LossLayer.Forward(Forward(x, training: true, paired: true), labels) + WeightDecayLoss();
        Backward();
        return loss;
    }

    /// <summary>
    /// Whether batches of samples of <paramref name="features"/> values, a fraction <paramref name="density"/> of them
    /// non-zero, may be given to this network compressed: its first layer takes them (<see cref="ICompressedInputLayer{T}"/>).
    /// </summary>
    public bool TakesCompressed(int features, double density) =>
        _layers[0] is ICompressedInputLayer<T> first && first.TakesCompressed(features, density);

    /// <summary>
    /// The backward pass, in reverse layer order (step by step, <see cref="BackwardStep"/>). The first layer computes
    /// its parameters' gradients only when it can (<see cref="IFirstLayer{T}"/>): nothing uses the gradient with
    /// respect to the data.
    /// </summary>
    private void Backward()
    {
        var d = LossLayer.Backward(1.0);
        for (int last = _layers.Count - 1; last >= 0;)
        {
            int first = StepStart(last);
            d = BackwardStep(first, d)!; // null only after the first layer
            last = first - 1;
        }
        if (WeightDecay > 0)
        {
            T lambda = T.CreateTruncating(WeightDecay);
            foreach (var p in _parameters)
                if (p.IsWeight) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(p.Value.ReadOnlySpan, lambda, p.Grad.ReadOnlySpan, p.Grad.Span);
        }
    }

    /// <summary>0.5·λ·ΣW² over weight matrices (0 without weight decay).</summary>
    public double WeightDecayLoss()
    {
        if (WeightDecay == 0) return 0;
        double sum = 0;
        foreach (var p in _parameters)
            if (p.IsWeight) sum += double.CreateTruncating(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(p.Value.ReadOnlySpan));
        return 0.5 * WeightDecay * sum;
    }

    /// <summary>Predicted class of every row of <paramref name="x"/>, computed in batches (inference mode).</summary>
    public int[] PredictLabels(NDArray<T> x, int batchSize = 1000)
    {
        var result = new int[x.Rows];
        for (int start = 0; start < x.Rows; start += batchSize)
        {
            int count = Math.Min(batchSize, x.Rows - start);
            _batchBuffer = NDArrayRows.Slice(x, start, count, _batchBuffer);
            Predict(_batchBuffer).ArgMaxRows().CopyTo(result, start);
        }
        return result;
    }

    /// <summary>Class probabilities (softmax of the scores) of every row, in inference mode.</summary>
    public NDArray<T> PredictProbabilities(NDArray<T> x) => Functions.Softmax.Apply(Predict(x));

    /// <summary>Fraction of rows whose predicted class equals the label.</summary>
    public double Accuracy(NDArray<T> x, ReadOnlySpan<int> labels, int batchSize = 1000)
    {
        if (labels.Length != x.Rows) throw new ArgumentException($"{labels.Length} labels for {x.Rows} samples");
        if (labels.Length == 0) return 0;
        var predicted = PredictLabels(x, batchSize);
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++) if (predicted[i] == labels[i]) correct++;
        return (double)correct / labels.Length;
    }
}
