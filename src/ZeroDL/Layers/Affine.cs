using System.Numerics;
using System.Runtime.InteropServices;
using ZeroDL.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>
/// Fully connected layer y = x·W + b (book ch. 5.6), W of shape (in, out). Input of any rank is flattened to
/// (N, in) as the book's Affine does for 4-D tensors; Backward returns dx in the input's original shape.
/// </summary>
public sealed class Affine<T> : ILayer<T>, IFirstLayer<T>, ICompressedInputLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _x, _y, _dx;
    private int[]? _inputShape;
    private bool _sparseInput;
    private SparseMatrix? _xSparse;
    /// <summary>The compressed input the backward pass uses: the layer's own buffer, or a batch given already compressed.</summary>
    private SparseMatrix? _sparse;
    private bool _lastInputDense;
    /// <summary>A compressed batch too dense for the sparse kernel, expanded to take the dense path.</summary>
    private NDArray<T>? _expanded;

    public Affine(NDArray<T> w, NDArray<T> b)
    {
        if (w.Rank != 2 || b.Rank != 1 || b.Size != w.Shape[1])
            throw new ArgumentException($"affine: W must be (in, out) and b (out); got W {w.ShapeText}, b {b.ShapeText}");
        W = new Parameter<T>("W", w, isWeight: true);
        B = new Parameter<T>("b", b, isWeight: false);
    }

    /// <summary>W ~ N(0, std²) drawn from <paramref name="rng"/>, b = 0.</summary>
    public Affine(int inputSize, int outputSize, double weightStd, Rng rng)
        : this(Init.Normal<T>(weightStd, rng, inputSize, outputSize), new NDArray<T>(outputSize)) => WeightInit = WeightInit.Std(weightStd);

    public string Kind => "affine";

    /// <summary>How the initial weights were drawn, as <see cref="Config"/> reports it (He when the weights were given).</summary>
    public WeightInit WeightInit { get; init; } = WeightInit.He;

    public LayerConfig Config => new AffineConfig { Units = OutputSize, Init = WeightInit };
    public Parameter<T> W { get; }
    public Parameter<T> B { get; }
    public int InputSize => W.Value.Shape[0];
    public int OutputSize => W.Value.Shape[1];
    public IReadOnlyList<Parameter<T>> Parameters => [W, B];
    public IReadOnlyList<(string Name, NDArray<T> Value)> State => [];

    /// <summary>
    /// When true (default), float32 input that is mostly zeros (MNIST pixels, ReLU outputs) is multiplied by the
    /// sparse kernel, which skips the zeros; set false to always use the dense GEMM.
    /// </summary>
    public bool UseSparseInput { get; set; } = true;

    public NDArray<T> Forward(NDArray<T> x, bool training)
    {
        if (x.RowLength != InputSize)
            throw new ArgumentException($"affine: input {x.ShapeText} has {x.RowLength} features per sample, W {W.Value.ShapeText} expects {InputSize}");
        _x = x;
        if (!x.SameShape(_inputShape)) _inputShape = x.Shape.ToArray(); // kept across batches of one shape: no allocation
        int n = x.Rows;
        _y = NDArray<T>.Reuse(_y, n, OutputSize);
        _sparseInput = false;
        if (typeof(T) == typeof(float) && UseSparseInput && OutputSize >= 8)
        {
            // A layer whose last input was dense (hidden activations usually are) first counts the zeros, which
            // writes nothing; otherwise it compresses straight away and decides from the count, since the
            // compressed form is what both passes then use.
            var input = AsFloat(x.ReadOnlySpan);
            if (!_lastInputDense || SparseGemm.Density(input) <= SparseGemm.DensityThreshold)
            {
                if (_xSparse is null)
                {
                    _xSparse = new SparseMatrix();
                    _xSparse.CompressRows(input, n, InputSize, InputSize);
                    _xSparse.ReserveTransposedProduct(OutputSize); // the backward pass's first sparse product then allocates nothing
                }
                else _xSparse.CompressRows(input, n, InputSize, InputSize);
                _sparseInput = _xSparse.NonZeros <= SparseGemm.DensityThreshold * x.Size;
            }
            _lastInputDense = !_sparseInput;
        }
        _sparse = _sparseInput ? _xSparse : null;
        if (_sparseInput)
            _xSparse!.Multiply(AsFloat(W.Value.ReadOnlySpan), OutputSize, OutputSize, AsFloat(_y.Span), OutputSize);
        else
            Gemm.Multiply(false, false, n, OutputSize, InputSize, x.ReadOnlySpan, InputSize, W.Value.ReadOnlySpan, OutputSize, _y.Span, OutputSize);
        AddBias(n);
        return _y;
    }

    /// <summary>
    /// Whether compressed batches suit this layer: float32, <see cref="UseSparseInput"/>, at least 8 outputs (fewer
    /// leave the sparse kernel's vectors idle), samples of <see cref="InputSize"/> values and a density at most
    /// <see cref="SparseGemm.DensityThreshold"/>.
    /// </summary>
    public bool TakesCompressed(int features, double density) =>
        typeof(T) == typeof(float) && UseSparseInput && OutputSize >= 8 && features == InputSize && density <= SparseGemm.DensityThreshold;

    /// <summary>
    /// y = x·W + b for input already compressed (rows × InputSize): exactly what <see cref="Forward(NDArray{T}, bool)"/>
    /// computes for the dense batch of the same values — by the sparse kernel, or, for a batch denser than
    /// <see cref="SparseGemm.DensityThreshold"/>, by the dense path on the batch expanded. With
    /// <paramref name="training"/> the layer keeps <paramref name="x"/> (which must not change until the backward
    /// pass) for the weight gradient, as the book's layer keeps its input; without, it leaves the training state alone.
    /// </summary>
    public NDArray<T> Forward(SparseMatrix x, bool training)
    {
        if (typeof(T) != typeof(float)) throw new NotSupportedException("affine: compressed input is float32 only");
        if (x.Columns != InputSize) throw new ArgumentException($"affine: compressed input has {x.Columns} features per sample, W {W.Value.ShapeText} expects {InputSize}");
        int n = x.Rows;
        if (x.NonZeros > SparseGemm.DensityThreshold * ((long)n * InputSize))
        {
            _expanded = NDArray<T>.Reuse(_expanded, n, InputSize);
            x.Expand(AsFloat(_expanded.Span));
            return Forward(_expanded, training);
        }
        if (training)
        {
            _x = null;
            if (_inputShape is not [var rows, var features] || rows != n || features != InputSize) _inputShape = [n, InputSize];
            _sparseInput = true;
            _sparse = x;
        }
        _y = NDArray<T>.Reuse(_y, n, OutputSize);
        x.Multiply(AsFloat(W.Value.ReadOnlySpan), OutputSize, OutputSize, AsFloat(_y.Span), OutputSize);
        AddBias(n);
        return _y;
    }

    private void AddBias(int rows)
    {
        var bias = B.Value.ReadOnlySpan;
        var y = _y!.Span;
        int outputs = bias.Length;
        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * outputs, outputs);
            TP.Add(row, bias, row);
        }
    }

    /// <summary>dx = dout·Wᵀ (in the input's shape), and the parameter gradients (see <see cref="BackwardParameters"/>).</summary>
    public NDArray<T> Backward(NDArray<T> dout)
    {
        BackwardParameters(dout);
        _dx = NDArray<T>.Reuse(_dx, _inputShape!);
        Gemm.Multiply(false, true, _dx.Rows, InputSize, OutputSize, dout.ReadOnlySpan, OutputSize, W.Value.ReadOnlySpan, OutputSize, _dx.Span, InputSize);
        return _dx;
    }

    /// <summary>
    /// dW = xᵀ·dout and db = Σ_rows dout only, without dx: what the first layer of a network needs, since
    /// nothing consumes the gradient with respect to the data.
    /// </summary>
    public void BackwardParameters(NDArray<T> dout)
    {
        var shape = _inputShape ?? throw new InvalidOperationException("affine: Backward called before Forward");
        int n = shape[0];
        if (dout.Rows != n || dout.RowLength != OutputSize)
            throw new ArgumentException($"affine: dout {dout.ShapeText} does not match output ({n}, {OutputSize})");
        if (_sparseInput)
            _sparse!.MultiplyTransposed(AsFloat(dout.ReadOnlySpan), OutputSize, OutputSize, AsFloat(W.Grad.Span), OutputSize);
        else
            Gemm.Multiply(true, false, InputSize, OutputSize, n, _x!.ReadOnlySpan, InputSize, dout.ReadOnlySpan, OutputSize, W.Grad.Span, OutputSize);
        var db = B.Grad.Span;
        db.Clear();
        var d = dout.ReadOnlySpan;
        int outputs = db.Length;
        for (int r = 0; r < n; r++) TP.Add(db, d.Slice(r * outputs, outputs), db);
    }

    private static ReadOnlySpan<float> AsFloat(ReadOnlySpan<T> s) => MemoryMarshal.Cast<T, float>(s);
    private static Span<float> AsFloat(Span<T> s) => MemoryMarshal.Cast<T, float>(s);
}
