using System.Numerics;
using System.Runtime.InteropServices;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Kernels;

/// <summary>How a float32 convolution pass is computed (see <see cref="ConvolutionEngine"/>).</summary>
public enum ConvolutionAlgorithm
{
    /// <summary>A channel-major column matrix per chunk of images and one GEMM (<see cref="Im2ColChannelMajor"/>): any stride.</summary>
    Im2Col,
    /// <summary>Stride 1 without a column matrix: shifted windows of a zero-padded copy (<see cref="ShiftedConvolution"/>).</summary>
    ShiftedWindows,
    /// <summary>
    /// 3×3 filters, stride 1: Winograd's F(4×4, 3×3) or F(2×2, 3×3) (<see cref="Winograd4x4Convolution"/>,
    /// <see cref="WinogradConvolution"/>; <see cref="ConvolutionEngineOptions.WinogradTile"/>).
    /// </summary>
    Winograd,
}

/// <summary>
/// Which engine a float32 convolution layer uses and how it splits its work. <see cref="Algorithm"/> null takes the
/// fastest that applies; a value caps it (Im2Col: the column matrix everywhere; ShiftedWindows: no Winograd), so
/// that tests can compare every engine with the book's layer on the same shapes.
/// </summary>
public sealed record ConvolutionEngineOptions
{
    public static ConvolutionEngineOptions Default { get; } = new();

    /// <summary>The fastest algorithm the engine may use (null: any).</summary>
    public ConvolutionAlgorithm? Algorithm { get; init; }

    /// <summary>Target size of one chunk's column matrix, in elements (at least one whole image per chunk): a MiB of float32, so it stays in cache between being written and being multiplied.</summary>
    public int ChunkElements { get; init; } = 1 << 18;

    /// <summary>
    /// <see cref="ChunkElements"/> for a backward pass whose weight gradient goes by Winograd: 2 MiB of float32. Its
    /// 16 inner products per filter and channel run along the chunk's tiles and end in a horizontal sum each; a
    /// chunk twice as long as <see cref="ChunkElements"/> makes that sum a small share, and a chunk no longer than this
    /// keeps one position's transformed tiles, (C + F) × tiles, near a core's L2 (DeepConvNet's conv5: its backward pass
    /// about a tenth faster than with chunks twice as long).
    /// </summary>
    public int WinogradWeightChunkElements { get; init; } = 1 << 19;

    /// <summary>
    /// <see cref="ChunkElements"/> for a forward pass by F(4×4): 4 MiB of float32. F(4×4) keeps 2.25 transformed
    /// values per output and channel where the column matrix has 9, so its transformed input is then no larger than
    /// F(2×2)'s at the default; and a 8×8 image has only 4 tiles, so with smaller chunks its 36 products run on rows
    /// too short for the product kernel's widest tiles.
    /// </summary>
    public int Winograd4x4ChunkElements { get; init; } = 1 << 20;

    /// <summary>
    /// <see cref="WinogradWeightChunkElements"/> for a weight gradient by F(4×4): 4 MiB of float32. The
    /// chunk's transformed input and output gradient, 36 × (C + F) × its tiles, then come to about 2 MiB on square
    /// layers and are read back from cache; four times larger chunks wrote and read them through memory, and the
    /// input gradient, done chunk by chunk in the same pass, with them (DeepConvNet's conv4 backward measured about a
    /// quarter slower).
    /// </summary>
    public int Winograd4x4WeightChunkElements { get; init; } = 1 << 20;

    /// <summary>
    /// The largest output tile Winograd's training passes (forward and input gradient) may use: 4 lets the engine
    /// take F(4×4, 3×3) for every output size where it needs fewer products than F(2×2, 3×3) (see
    /// <see cref="ConvolutionEngine.UsesWinograd4x4"/>); 2 keeps F(2×2, 3×3) everywhere, so that tests can hold
    /// both to the direct convolution on the same shapes.
    /// </summary>
    public int WinogradTile
    {
        get => _winogradTile;
        init => _winogradTile = CheckTile(value, nameof(WinogradTile));
    }

    /// <summary>
    /// <see cref="WinogradTile"/> for a forward pass outside training (evaluation, inference): 2. F(4×4)'s outputs
    /// carry about 7 times F(2×2)'s rounding error, and a trained model's predictions are to stay what they were
    /// (the version-1 files' test counts its correct predictions exactly); SGD's noise dwarfs that error in training.
    /// </summary>
    public int InferenceWinogradTile
    {
        get => _inferenceWinogradTile;
        init => _inferenceWinogradTile = CheckTile(value, nameof(InferenceWinogradTile));
    }

    private readonly int _winogradTile = 4, _inferenceWinogradTile = 2;

    private static int CheckTile(int value, string name) =>
        value is 2 or 4 ? value : throw new ArgumentOutOfRangeException(name, value, "Winograd's output tile is 2 or 4");

    /// <summary>
    /// Whether the shifted windows' and Winograd's products (and F(4×4)'s output transform) run on 512-bit vectors: by
    /// default where the CPU runs them natively. The forward and input-gradient products give the same bits as the
    /// 256-bit ones (each output the same chain of multiply-adds), and so does the output transform; the weight
    /// gradients' inner products add their partial sums in another order (the same for any thread count). Where the
    /// CPU lacks AVX-512, .NET's software Vector512 still computes them, slowly: tests set it both ways.
    /// </summary>
    public bool Vector512 { get; init; } = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;

    /// <summary>
    /// For benchmarks: F(4×4)'s input and output-gradient transforms read each plane from a zero-padded copy, the
    /// reference way (<see cref="Winograd4x4Convolution.PaddedRows"/>): the same bits, more memory traffic.
    /// </summary>
    internal bool PaddedTransformRows { get; init; }

    /// <summary>
    /// For benchmarks and tests: the Winograd weight gradient's products by tiles of 8 filters where true, of 4 where
    /// false (<see cref="WinogradWeightProducts"/>: the same bits); null: as the vector registers allow.
    /// </summary>
    internal bool? EightFilterWeightTiles { get; init; }

    /// <summary>Fixes the number of workers (tests use it to exercise the split on small inputs); null = one per core for large work.</summary>
    public int? Workers { get; init; }
}

/// <summary>
/// A convolution layer's fast path for one element type: the layer hands it the input, the filters and its
/// buffers, and it fills the output or the gradients exactly as the book's im2col layer defines them.
/// </summary>
internal interface IConvolutionEngine<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// y = conv(x, W) + b, then max(0, y) where <paramref name="rectify"/>; <paramref name="training"/>: a training
    /// step's pass. With <paramref name="keep"/> (x's shape), x is also copied there, chunk by chunk on the workers,
    /// just before each chunk is read (training keeps its input).
    /// </summary>
    void Forward(NDArray<T> x, NDArray<T> weights, NDArray<T> bias, NDArray<T> y, bool rectify, bool training = true, NDArray<T>? keep = null);

    /// <summary>
    /// dW and db (overwritten) and, when <paramref name="dx"/> is given, dx, for the input <paramref name="x"/> and the
    /// output gradient <paramref name="dout"/>; with <paramref name="gate"/>, dout is first passed only where the
    /// output <paramref name="y"/> is &gt; 0 (a ReLU fused into the layer).
    /// </summary>
    void Backward(NDArray<T> x, NDArray<T> y, NDArray<T> dout, NDArray<T> weights, Span<T> dW, Span<T> db, NDArray<T>? dx, bool gate);

    /// <summary>
    /// <see cref="Forward"/> rectifying, followed by 2×2 max pooling with stride 2 (<see cref="Layers.MaxPooling{T}"/>'s
    /// numbers), each chunk's output pooled while in cache and never written out: <paramref name="pooled"/> gets the
    /// maxima and <paramref name="argmax"/> their flat indices in the output y that forward would have written.
    /// </summary>
    void ForwardPooled(NDArray<T> x, NDArray<T> weights, NDArray<T> bias, NDArray<T> pooled, int[] argmax, bool training = true, NDArray<T>? keep = null);

    /// <summary>
    /// <see cref="Backward"/> gated, after <see cref="ForwardPooled"/>: the output gradient is the pooling's output
    /// gradient <paramref name="dpooled"/> routed to the windows' winners and gated there by the maxima
    /// <paramref name="pooled"/> (the output at a winner), chunk by chunk, never written out.
    /// </summary>
    void BackwardPooled(NDArray<T> x, NDArray<T> dpooled, NDArray<T> pooled, int[] argmax, NDArray<T> weights, Span<T> dW, Span<T> db, NDArray<T>? dx);

    /// <summary>The algorithm of each pass, e.g. "forward Winograd, dW shifted windows, dx Winograd".</summary>
    string Describe();
}

/// <summary>
/// The float32 engine of a convolution layer, chosen once when the layer first runs on float32 input, from its
/// filter shape, stride and padding (nothing the input size changes): forward, weight gradient and input gradient
/// each by Winograd, shifted windows or the im2col product, the fastest that applies (<see cref="ConvolutionAlgorithm"/>).
/// <para>
/// The batch is worked through in chunks of whole images whose column matrix is about
/// <see cref="ConvolutionEngineOptions.ChunkElements"/> elements, the chunks dealt out in a fixed order to one worker
/// per core. Each worker has its own buffers; backward's partial dW and db go to one of a fixed number of slots (one
/// per processor), each slot summing a run of consecutive chunks on one worker, in order, and the slots added in slot
/// order, so results depend neither on timing nor on the number of threads. Backward recomputes each chunk's
/// column matrix from the layer's copy of the input instead of keeping the whole matrix from forward.
/// </para>
/// <para>
/// A rectifying layer followed by 2×2 max pooling can have each chunk's output pooled in the worker's buffer instead
/// of written out (<see cref="ForwardPooled"/>), and its backward pass then routes the pooling's gradient into the
/// chunk's gated output gradient (<see cref="BackwardPooled"/>): the same chunks, the same sums.
/// </para>
/// </summary>
internal sealed class ConvolutionEngine : IConvolutionEngine<float>
{
    /// <summary>
    /// Below this many summed channels Winograd's transforms cost more than the products they save (the first layer of a
    /// network, on one channel, stays on the shifted windows).
    /// </summary>
    internal const int WinogradMinimumChannels = 8;

    /// <summary>
    /// The weight gradient's Winograd products are F × C each, summed over the tiles: below 16 × 16 the two
    /// transforms per tile cost more than the products save. (DeepConvNet's 16 → 16 and 16 → 32 layers measured
    /// faster by Winograd than by the shifted windows' direct correlation once the transforms stopped stalling on
    /// their padded rows.)
    /// </summary>
    internal const int WinogradMinimumWeightProduct = 16 * 16;

    /// <summary>
    /// The fewest output tiles per image for which the weight gradient takes F(4×4): its transforms run 8 tiles a
    /// vector, image by image, and with fewer (8×8 outputs have 4) most of each vector is recomputed spill;
    /// DeepConvNet's 8×8 layers measured no faster than by F(2×2), whose 16 tiles fill two vectors.
    /// </summary>
    internal const int Winograd4x4MinimumWeightTiles = 8;

    private readonly int _filters, _channels, _kh, _kw, _stride, _pad, _taps;
    private readonly ConvolutionEngineOptions _options;
    private readonly ConvolutionAlgorithm _forward, _weightGradient, _inputGradient, _weightGradientAlone;
    /// <summary>Where the shifted windows run, one input channel goes by <see cref="SingleChannelConvolution"/>: forward, and dW with db without dx.</summary>
    private readonly bool _singleChannel;

    /// <summary>The engine for filters (F, C, KH, KW), the passes' algorithms decided here once.</summary>
    public ConvolutionEngine(int filters, int channels, int kh, int kw, int stride, int pad, ConvolutionEngineOptions? options = null)
    {
        _filters = filters; _channels = channels; _kh = kh; _kw = kw; _stride = stride; _pad = pad; _taps = channels * kh * kw;
        _options = options ?? ConvolutionEngineOptions.Default;
        var cap = _options.Algorithm ?? ConvolutionAlgorithm.Winograd;
        bool shifted = cap >= ConvolutionAlgorithm.ShiftedWindows && ShiftedConvolution.Applies(stride);
        bool winograd = cap >= ConvolutionAlgorithm.Winograd && WinogradConvolution.Applies(kh, kw, stride);
        bool winogradForward = winograd && channels >= WinogradMinimumChannels;
        _forward = winogradForward ? ConvolutionAlgorithm.Winograd : shifted ? ConvolutionAlgorithm.ShiftedWindows : ConvolutionAlgorithm.Im2Col;
        // Backward goes one way for both gradients: stride 1 without a column matrix where the input gradient's
        // correlation applies (or is not needed), else the im2col product for both.
        bool strideOne = shifted && ShiftedConvolution.AppliesToInputGradient(kh, kw, pad);
        var dW = winogradForward && channels * filters >= WinogradMinimumWeightProduct ? ConvolutionAlgorithm.Winograd : ConvolutionAlgorithm.ShiftedWindows;
        _weightGradient = strideOne ? dW : ConvolutionAlgorithm.Im2Col;
        _weightGradientAlone = shifted ? dW : ConvolutionAlgorithm.Im2Col;
        _inputGradient = !strideOne ? ConvolutionAlgorithm.Im2Col
            : winograd && WinogradConvolution.AppliesToInputGradient(pad) && filters >= WinogradMinimumChannels ? ConvolutionAlgorithm.Winograd
            : ConvolutionAlgorithm.ShiftedWindows;
        _singleChannel = shifted && SingleChannelConvolution.Applies(channels, stride);
        _runWorker = RunWorker;
        _forwardIm2ColChunk = ForwardIm2ColChunk;
        _forwardWinogradChunk = ForwardWinogradChunk;
        _forwardWinograd4x4Chunk = ForwardWinograd4x4Chunk;
        _forwardWinogradFallbackChunk = ForwardWinogradFallbackChunk;
        _inputGradientFallbackChunk = InputGradientFallbackChunk;
        _forwardShiftedChunk = ForwardShiftedChunk;
        _backwardStrideOneChunk = BackwardStrideOneChunk;
        _backwardIm2ColChunk = BackwardIm2ColChunk;
    }

    public string Describe() =>
        $"forward {Name(_forward, _options.InferenceWinogradTile >= 4 ? "" : "; F(2×2) outside training")}{(_singleChannel ? " (one channel)" : "")}, dW {Name(_weightGradient, "")} ({Name(_weightGradientAlone, "")}{(_singleChannel ? ", one channel," : "")} without dx), dx {Name(_inputGradient, "")}";

    /// <summary>An algorithm's name; <paramref name="tiles"/> non-null: a pass that may take F(4×4), with what more to say of it.</summary>
    private string Name(ConvolutionAlgorithm a, string? tiles = null) => a switch
    {
        ConvolutionAlgorithm.Winograd => tiles is not null && _options.WinogradTile >= 4 ? $"Winograd (F(4×4) or F(2×2) by output size{tiles})" : "Winograd F(2×2)",
        ConvolutionAlgorithm.ShiftedWindows => "shifted windows",
        _ => "im2col",
    };

    /// <summary>
    /// Whether Winograd's pass onto an <paramref name="oh"/> × <paramref name="ow"/> output (the layer's output in
    /// forward, its input in the input gradient) takes F(4×4, 3×3): where <see cref="ConvolutionEngineOptions.WinogradTile"/>
    /// allows it and its 36 products per 4×4 tile come to fewer than F(2×2)'s 16 per 2×2 tile over the cropped tiles.
    /// At equal counts (5×5, 6×6) F(2×2)'s smaller transforms win, and on 1×1 and 2×2 outputs F(4×4) would multiply
    /// mostly padding. A function of the shape alone, so every pass on a shape goes the same way.
    /// </summary>
    internal bool UsesWinograd4x4(int oh, int ow, bool training = true) => (training ? _options.WinogradTile : _options.InferenceWinogradTile) >= 4
        && 36L * Winograd4x4Convolution.TilesAlong(oh) * Winograd4x4Convolution.TilesAlong(ow) < 16L * ((oh + 1) / 2) * ((ow + 1) / 2);

    /// <summary>One worker's buffers: its chunk's column matrix, product, gated output gradient, and output when the pass pools it.</summary>
    private sealed class Worker
    {
        public float[] ColT = [], OutT = [], DcolT = [], Gated = [], Output = [];

        public static float[] Ensure(ref float[] buffer, int length)
        {
            if (buffer.Length < length) buffer = new float[length];
            return buffer;
        }
    }

    private Worker[] _workers = [];

    /// <summary>
    /// The shape of one pass: input and output sizes, chunking, partial-sum slots and worker count. Chunk c holds
    /// images [c·N / Chunks, (c + 1)·N / Chunks): sizes differ by at most one image. The chunk count is a multiple of
    /// the processor count, and there is a slot per processor (fewer for a batch of fewer images): neither depends on
    /// the thread limit, so neither do the sums. Slot s holds the consecutive chunks [FirstChunk(s), FirstChunk(s + 1))
    /// (the batch's images in order, as ranks of a distributed run split it); worker t takes slots t, t + Workers, …,
    /// so as many workers as processors get the same share.
    /// </summary>
    private readonly record struct Plan(int N, int H, int W, int OH, int OW, int K, int Chunks, int Slots, int Workers)
    {
        public int Plane => OH * OW;
        public int ChunkStart(int c) => (int)((long)c * N / Chunks);
        /// <summary>The first of slot s's chunks: slot s sums the consecutive chunks [FirstChunk(s), FirstChunk(s + 1)).</summary>
        public int FirstChunk(int s) => (int)((long)s * Chunks / Slots);
        /// <summary>The slot chunk c adds to: the last s with FirstChunk(s) ≤ c.</summary>
        public int SlotOf(int c) => (int)(((long)(c + 1) * Slots - 1) / Chunks);
    }

    private Plan MakePlan(ReadOnlySpan<int> shape) => MakePlan(shape, _options.ChunkElements);

    private Plan MakePlan(ReadOnlySpan<int> shape, int chunkElements)
    {
        int n = shape[0], h = shape[2], w = shape[3];
        int oh = ConvShape.OutputSize(h, _kh, _stride, _pad), ow = ConvShape.OutputSize(w, _kw, _stride, _pad);
        int k = _taps, plane = oh * ow;
        int perChunk = Math.Clamp(chunkElements / Math.Max(1, k * plane), 1, Math.Max(1, n));
        int chunks = (n + perChunk - 1) / perChunk;
        long work = (long)n * plane * k * _filters;
        int workers = _options.Workers ?? GemmOptions.Default.ThreadsFor(work);
        int slots = WorkerPool.Capacity;
        chunks = Math.Min(n, (chunks + slots - 1) / slots * slots);
        slots = Math.Min(slots, chunks);
        workers = Math.Max(1, Math.Min(workers, slots));
        if (_workers.Length < workers) Array.Resize(ref _workers, workers);
        for (int t = 0; t < workers; t++) _workers[t] ??= new Worker();
        return new Plan(n, h, w, oh, ow, k, chunks, slots, workers);
    }

    /// <summary>
    /// The pass in progress, read by the chunk methods below. It lives in a field, and the methods' delegates are made
    /// once per engine, so that a pass hands the worker pool no closure and allocates nothing.
    /// </summary>
    private struct Pass
    {
        public Plan Plan;
        public Action<int, int>? Work;
        public float[] Input, Output, Dout, Weights, Bias;
        public float[]? Dx, Y;
        /// <summary>Forward: where each chunk's input images are copied before the chunk runs (the layer's kept input), or null.</summary>
        public float[]? Keep;
        /// <summary>Forward by F(4×4): the kept input, copied by the chunk itself, which learns on the way whether its images are finite.</summary>
        public float[]? KeepChecked;
        /// <summary>The filters as the fast paths take them: packed, transformed, or flipped (backward).</summary>
        public float[] Filters;
        /// <summary>Forward: rectify each chunk's output. Backward: gate dout by the output first.</summary>
        public bool Rectify, Gate;
        /// <summary>
        /// Forward: each chunk's output pooled into these (2×2, stride 2) rather than written to <see cref="Output"/>.
        /// Backward: <see cref="Dout"/> is the pooling's output gradient, routed to the winners and gated by these maxima.
        /// </summary>
        public float[]? Pooled;
        public int[]? Argmax;
        /// <summary>Backward: dx and dW by Winograd; each by F(4×4).</summary>
        public bool WinogradInput, WinogradWeights, Winograd4x4Input, Winograd4x4Weights;
    }

    private Pass _pass;
    private readonly Action<int> _runWorker;
    private readonly Action<int, int> _forwardIm2ColChunk, _forwardWinogradChunk, _forwardShiftedChunk,
        _backwardStrideOneChunk, _backwardIm2ColChunk, _forwardWinograd4x4Chunk, _forwardWinogradFallbackChunk, _inputGradientFallbackChunk;

    /// <summary>
    /// The chunks of the pass that F(4×4) left to F(2×2): those holding a value that is not finite, which F(4×4)'s
    /// transforms would spread over whole tiles (<see cref="Winograd4x4Convolution"/>), while F(2×2)'s keep it to the
    /// outputs the direct convolution spoils.
    /// </summary>
    private bool[] _nonFinite = [];

    /// <summary>Clears <see cref="_nonFinite"/> for a pass of <paramref name="chunks"/> chunks.</summary>
    private void ClearNonFinite(int chunks)
    {
        if (_nonFinite.Length < chunks) _nonFinite = new bool[chunks];
        _nonFinite.AsSpan(0, chunks).Clear();
    }

    /// <summary>Runs <paramref name="work"/>(worker, chunk) for every chunk: slot s's chunks in order on worker s mod workers.</summary>
    private void ForChunks(Plan plan, Action<int, int> work)
    {
        _pass.Plan = plan;
        _pass.Work = work;
        try
        {
            if (plan.Workers == 1) RunWorker(0);
            else WorkerPool.For(plan.Workers, plan.Workers, _runWorker);
        }
        finally
        {
            _pass = default; // drop the pass's arrays
        }
    }

    /// <summary>Worker <paramref name="t"/>'s share of a pass: the chunks of slots t, t + workers, …, each slot's in order.</summary>
    private void RunWorker(int t)
    {
        using var _ = Gemm.LimitThreadsOnThisThread(1); // the workers are the parallelism
        var plan = _pass.Plan;
        var work = _pass.Work!;
        for (int slot = t; slot < plan.Slots; slot += plan.Workers)
            for (int c = plan.FirstChunk(slot); c < plan.FirstChunk(slot + 1); c++)
            {
                if (_pass.Keep is { } keep)
                {
                    // The copy on the workers, and the chunk's images then read from cache by the pass.
                    int imageSize = _channels * plan.H * plan.W, i0 = plan.ChunkStart(c), count = plan.ChunkStart(c + 1) - i0;
                    _pass.Input.AsSpan(i0 * imageSize, count * imageSize).CopyTo(keep.AsSpan(i0 * imageSize, count * imageSize));
                }
                work(t, c);
            }
    }

    public void Forward(NDArray<float> x, NDArray<float> weights, NDArray<float> bias, NDArray<float> y, bool rectify, bool training = true, NDArray<float>? keep = null) =>
        Forward(x, weights, bias, y.Data, null, null, rectify, training, keep);

    public void ForwardPooled(NDArray<float> x, NDArray<float> weights, NDArray<float> bias, NDArray<float> pooled, int[] argmax, bool training = true, NDArray<float>? keep = null)
    {
        int oh = ConvShape.OutputSize(x.Shape[2], _kh, _stride, _pad), ow = ConvShape.OutputSize(x.Shape[3], _kw, _stride, _pad);
        if (!pooled.SameShape([x.Shape[0], _filters, oh / 2, ow / 2]) || argmax.Length < pooled.Size)
            throw new ArgumentException($"convolution pooled: output {pooled.ShapeText} is not the 2×2 pooling of ({x.Shape[0]}, {_filters}, {oh}, {ow})");
        Forward(x, weights, bias, [], pooled.Data, argmax, rectify: true, training, keep);
    }

    /// <summary>The forward pass into <paramref name="output"/>, or, with <paramref name="pooled"/>, pooled chunk by chunk (see <see cref="Pass.Pooled"/>).</summary>
    private void Forward(NDArray<float> x, NDArray<float> weights, NDArray<float> bias, float[] output, float[]? pooled, int[]? argmax, bool rectify, bool training,
        NDArray<float>? keep)
    {
        bool fourByFour = _forward == ConvolutionAlgorithm.Winograd && UsesWinograd4x4(ConvShape.OutputSize(x.Shape[2], _kh, _stride, _pad),
            ConvShape.OutputSize(x.Shape[3], _kw, _stride, _pad), training);
        var plan = MakePlan(x.Shape, fourByFour ? _options.Winograd4x4ChunkElements : _options.ChunkElements);
        _pass.Input = x.Data;
        _pass.Keep = keep?.Data;
        _pass.Output = output;
        _pass.Pooled = pooled;
        _pass.Argmax = argmax;
        _pass.Weights = weights.Data;
        _pass.Bias = bias.Data;
        _pass.Rectify = rectify;
        switch (_forward)
        {
            case ConvolutionAlgorithm.Winograd when fourByFour:
                ClearNonFinite(plan.Chunks);
                _pass.KeepChecked = _pass.Keep; _pass.Keep = null;
                _pass.Filters = PreparedFilters(weights.Data, FilterForm.Winograd4x4);
                ForChunks(plan, _forwardWinograd4x4Chunk);
                if (_nonFinite.AsSpan(0, plan.Chunks).Contains(true))
                {
                    // ForChunks dropped the pass's arrays (Keep too: every chunk's input is kept already).
                    _pass.Input = x.Data; _pass.Output = output; _pass.Bias = bias.Data; _pass.Rectify = rectify;
                    _pass.Pooled = pooled; _pass.Argmax = argmax;
                    _pass.Filters = PreparedFilters(weights.Data, FilterForm.Winograd);
                    ForChunks(plan, _forwardWinogradFallbackChunk);
                }
                break;
            case ConvolutionAlgorithm.Winograd:
                _pass.Filters = PreparedFilters(weights.Data, FilterForm.Winograd);
                ForChunks(plan, _forwardWinogradChunk);
                break;
            case ConvolutionAlgorithm.ShiftedWindows:
                _pass.Filters = _singleChannel ? weights.Data : PreparedFilters(weights.Data, FilterForm.Packed);
                ForChunks(plan, _forwardShiftedChunk);
                break;
            default:
                ForChunks(plan, _forwardIm2ColChunk);
                break;
        }
    }

    /// <summary>The im2col forward pass of one chunk: colT, W·colT, + b and the reorder to (N, FN, OH, OW).</summary>
    private void ForwardIm2ColChunk(int t, int c)
    {
        int i0 = _pass.Plan.ChunkStart(c), count = _pass.Plan.ChunkStart(c + 1) - i0;
        var plan = _pass.Plan; var input = _pass.Input; var bias = _pass.Bias;
        var worker = _workers[t];
        int columns = count * plan.Plane, k = plan.K, plane = plan.Plane, imageSize = _channels * plan.H * plan.W;
        var output = ChunkOutput(t, i0, count);
        var colT = Worker.Ensure(ref worker.ColT, k * columns).AsSpan(0, k * columns);
        var outT = Worker.Ensure(ref worker.OutT, _filters * columns).AsSpan(0, _filters * columns);
        Im2ColChannelMajor.Forward<float>(input.AsSpan(i0 * imageSize, count * imageSize), count, _channels, plan.H, plan.W,
            _kh, _kw, _stride, _pad, colT);
        Gemm.Multiply<float>(false, false, _filters, columns, k, _pass.Weights.AsSpan(0, _filters * k), k, colT, columns, outT, columns);
        // (f, i, p) + b[f] → (i, f, p)
        for (int f = 0; f < _filters; f++)
            for (int i = 0; i < count; i++)
                TP.Add(outT.Slice(f * columns + i * plane, plane), bias[f], output.Slice((i * _filters + f) * plane, plane));
        Rectify(output);
        PoolChunk(t, i0, count);
    }

    /// <summary>
    /// Where the forward pass writes the output of images i0 … i0 + count: their part of y, or, when the pass pools,
    /// worker t's buffer, which <see cref="PoolChunk"/> then pools while it is in cache.
    /// </summary>
    private Span<float> ChunkOutput(int t, int i0, int count)
    {
        int outputSize = _filters * _pass.Plan.Plane;
        return _pass.Pooled is null ? _pass.Output.AsSpan(i0 * outputSize, count * outputSize)
            : Worker.Ensure(ref _workers[t].Output, count * outputSize).AsSpan(0, count * outputSize);
    }

    /// <summary>When the pass pools: the output of images i0 … i0 + count, in worker t's buffer, pooled into <see cref="Pass.Pooled"/>.</summary>
    private void PoolChunk(int t, int i0, int count)
    {
        if (_pass.Pooled is not { } pooled) return;
        var plan = _pass.Plan;
        int planes = count * _filters, windows = plan.OH / 2 * (plan.OW / 2);
        MaxPool2x2.Pool(_workers[t].Output.AsSpan(0, planes * plan.Plane), planes, plan.OH, plan.OW, pooled.AsSpan(i0 * _filters * windows, planes * windows),
            _pass.Argmax.AsSpan(i0 * _filters * windows, planes * windows), i0 * _filters * plan.Plane, _options.Vector512);
    }

    /// <summary>When the pass rectifies: a chunk's outputs become max(0, ·), by the same function the ReLU layer uses, while in cache.</summary>
    private void Rectify(Span<float> chunk)
    {
        if (_pass.Rectify) TP.Max(chunk, 0f, chunk);
    }

    /// <summary>The forms the forward filters are kept in between calls.</summary>
    private enum FilterForm { None, Packed, Winograd, Winograd4x4 }

    private float[] _preparedFilters = [];
    /// <summary>The filters <see cref="_preparedFilters"/> was made from: inference with unchanged weights prepares once.</summary>
    private float[] _preparedFrom = [];
    private FilterForm _preparedForm;

    /// <summary>
    /// The filters packed for the shifted windows or transformed for Winograd. Preparing costs about as much as a
    /// small image's convolution: redo it only when the weights changed (a comparison is several times cheaper
    /// than the packing; in training it stops at the first difference).
    /// </summary>
    private float[] PreparedFilters(float[] weights, FilterForm form)
    {
        int size = _filters * _taps;
        if (_preparedForm != form || !MemoryMarshal.Cast<float, int>(weights.AsSpan(0, size))
                .SequenceEqual(MemoryMarshal.Cast<float, int>(_preparedFrom.AsSpan(0, size)))) // bit for bit
        {
            if (form == FilterForm.Winograd) WinogradConvolution.TransformFilters(weights, _filters, _channels, ref _preparedFilters);
            else if (form == FilterForm.Winograd4x4) Winograd4x4Convolution.TransformFilters(weights, _filters, _channels, ref _preparedFilters);
            else ShiftedConvolution.PackFilters(weights, _filters, _taps, ref _preparedFilters);
            if (_preparedFrom.Length < size) _preparedFrom = new float[size];
            weights.AsSpan(0, size).CopyTo(_preparedFrom);
            _preparedForm = form;
        }
        return _preparedFilters;
    }

    /// <summary>The Winograd forward pass of one chunk, with the filters transformed in <see cref="Pass.Filters"/>.</summary>
    private void ForwardWinogradChunk(int t, int c)
    {
        int i0 = _pass.Plan.ChunkStart(c), count = _pass.Plan.ChunkStart(c + 1) - i0;
        var plan = _pass.Plan; var input = _pass.Input;
        int imageSize = _channels * plan.H * plan.W;
        WinogradConvolution.Forward(input.AsSpan(i0 * imageSize, count * imageSize), count, _channels, plan.H, plan.W, _pass.Filters,
            _pass.Bias, _filters, _pad, ChunkOutput(t, i0, count), _options.Vector512, rectify: _pass.Rectify);
        PoolChunk(t, i0, count);
    }

    /// <summary>The F(4×4) forward pass of one chunk, or, where its input is not all finite, a mark for <see cref="ForwardWinogradFallbackChunk"/>.</summary>
    private void ForwardWinograd4x4Chunk(int t, int c)
    {
        int i0 = _pass.Plan.ChunkStart(c), count = _pass.Plan.ChunkStart(c + 1) - i0;
        var plan = _pass.Plan;
        int imageSize = _channels * plan.H * plan.W;
        var input = _pass.Input.AsSpan(i0 * imageSize, count * imageSize);
        // The kept copy, where there is one, tells whether the images are finite (no pass of its own over them).
        if (!(_pass.KeepChecked is { } keep ? Winograd4x4Convolution.CopyAllFinite(input, keep.AsSpan(i0 * imageSize, count * imageSize))
                : Winograd4x4Convolution.AllFinite(input)))
        {
            _nonFinite[c] = true;
            return;
        }
        Winograd4x4Convolution.Forward(input, count, _channels, plan.H, plan.W, _pass.Filters, _pass.Bias, _filters, _pad,
            ChunkOutput(t, i0, count), _options.Vector512, rectify: _pass.Rectify, paddedRows: _options.PaddedTransformRows);
        PoolChunk(t, i0, count);
    }

    /// <summary>The chunks <see cref="ForwardWinograd4x4Chunk"/> marked, by F(2×2).</summary>
    private void ForwardWinogradFallbackChunk(int t, int c)
    {
        if (_nonFinite[c]) ForwardWinogradChunk(t, c);
    }

    /// <summary>The shifted-window forward pass of one chunk, with the filters packed in <see cref="Pass.Filters"/>.</summary>
    private void ForwardShiftedChunk(int t, int c)
    {
        int i0 = _pass.Plan.ChunkStart(c), count = _pass.Plan.ChunkStart(c + 1) - i0;
        var plan = _pass.Plan; var input = _pass.Input;
        int imageSize = _channels * plan.H * plan.W;
        var output = ChunkOutput(t, i0, count);
        if (_singleChannel)
            SingleChannelConvolution.Forward(input.AsSpan(i0 * imageSize, count * imageSize), count, plan.H, plan.W, _pass.Weights, _pass.Bias,
                _filters, _kh, _kw, _pad, output, _options.Vector512, _pass.Rectify);
        else
            ShiftedConvolution.Forward(input.AsSpan(i0 * imageSize, count * imageSize), count, _channels, plan.H, plan.W, _pass.Filters,
                _pass.Bias, _filters, _kh, _kw, _pad, output, _options.Vector512, rectify: _pass.Rectify);
        PoolChunk(t, i0, count);
    }

    public void Backward(NDArray<float> x, NDArray<float> y, NDArray<float> dout, NDArray<float> weights, Span<float> dW, Span<float> db, NDArray<float>? dx, bool gate) =>
        Backward(x, y.Data, dout, null, null, weights, dW, db, dx, gate);

    public void BackwardPooled(NDArray<float> x, NDArray<float> dpooled, NDArray<float> pooled, int[] argmax, NDArray<float> weights, Span<float> dW, Span<float> db,
        NDArray<float>? dx)
    {
        int oh = ConvShape.OutputSize(x.Shape[2], _kh, _stride, _pad), ow = ConvShape.OutputSize(x.Shape[3], _kw, _stride, _pad);
        if (!pooled.SameShape([x.Shape[0], _filters, oh / 2, ow / 2]) || !dpooled.SameShape(pooled.Shape) || argmax.Length < pooled.Size)
            throw new ArgumentException($"convolution pooled backward: gradient {dpooled.ShapeText} and maxima {pooled.ShapeText} are not the 2×2 pooling of ({x.Shape[0]}, {_filters}, {oh}, {ow})");
        Backward(x, null, dpooled, pooled.Data, argmax, weights, dW, db, dx, gate: true);
    }

    /// <summary>The backward pass, its output gradient gated by y or, with <paramref name="pooled"/>, routed from the pooling's (see <see cref="Pass.Pooled"/>).</summary>
    private void Backward(NDArray<float> x, float[]? y, NDArray<float> dout, float[]? pooled, int[]? argmax, NDArray<float> weights, Span<float> dW, Span<float> db,
        NDArray<float>? dx, bool gate)
    {
        var weightGradient = dx is null ? _weightGradientAlone : _weightGradient;
        bool winogradWeights = weightGradient == ConvolutionAlgorithm.Winograd;
        int oh = ConvShape.OutputSize(x.Shape[2], _kh, _stride, _pad), ow = ConvShape.OutputSize(x.Shape[3], _kw, _stride, _pad);
        bool weights4x4 = winogradWeights && UsesWinograd4x4(oh, ow)
            && Winograd4x4Convolution.TilesAlong(oh) * Winograd4x4Convolution.TilesAlong(ow) >= Winograd4x4MinimumWeightTiles;
        var plan = MakePlan(x.Shape, !winogradWeights ? _options.ChunkElements
            : weights4x4 ? _options.Winograd4x4WeightChunkElements : _options.WinogradWeightChunkElements);
        _pass.Input = x.Data;
        _pass.Dout = dout.Data;
        _pass.Dx = dx?.Data;
        _pass.Y = y;
        _pass.Pooled = pooled;
        _pass.Argmax = argmax;
        _pass.Weights = weights.Data;
        _pass.Gate = gate;
        int filters = _filters, k = plan.K;
        // dWᵀ (or Winograd's dU) and db summed per slot, each slot's chunks in order, the slots added in order below:
        // the same sums whatever worker ran which slot, so the same bits on any number of threads.
        _slotWeights = winogradWeights ? (weights4x4 ? 36 : 16) * filters * _channels : k * filters;
        _slotSize = _slotWeights + filters;
        Worker.Ensure(ref _slotSums, plan.Slots * _slotSize);
        if (weightGradient == ConvolutionAlgorithm.Im2Col) ForChunks(plan, _backwardIm2ColChunk);
        else BackwardStrideOne(plan, winogradWeights, weights4x4, dx is not null && _inputGradient == ConvolutionAlgorithm.Winograd);
        var total = Worker.Ensure(ref _totalSums, _slotSize).AsSpan(0, _slotSize);
        _slotSums.AsSpan(0, _slotSize).CopyTo(total);
        for (int slot = 1; slot < plan.Slots; slot++) TP.Add(total, _slotSums.AsSpan(slot * _slotSize, _slotSize), total);
        var dWt = total[.._slotWeights];
        if (winogradWeights)
        {
            dWt = Worker.Ensure(ref _transformedBack, k * filters).AsSpan(0, k * filters);
            dWt.Clear();
            if (weights4x4) Winograd4x4Convolution.WeightGradientFromTransformed(total[.._slotWeights], filters, _channels, dWt);
            else WinogradConvolution.WeightGradientFromTransformed(total[.._slotWeights], filters, _channels, dWt);
        }
        // dW = dWᵀ transposed.
        for (int q = 0; q < k; q++)
        {
            var row = dWt.Slice(q * filters, filters);
            for (int f = 0; f < row.Length; f++) dW[f * k + q] = row[f];
        }
        total.Slice(_slotWeights, filters).CopyTo(db);
    }

    /// <summary>The backward pass's partial sums per slot (<see cref="ChunkSlot"/>), their total, and Winograd's dWᵀ from it.</summary>
    private float[] _slotSums = [], _totalSums = [], _transformedBack = [];
    private int _slotSize, _slotWeights;

    /// <summary>
    /// The partial sums chunk c adds to: its slot's dWᵀ (K × F) or Winograd's dU (16 × F × C), returned, and db (F) in
    /// <paramref name="db"/>; zeroed by the slot's first chunk.
    /// </summary>
    private Span<float> ChunkSlot(int c, out Span<float> db)
    {
        int s = _pass.Plan.SlotOf(c);
        var slot = _slotSums.AsSpan(s * _slotSize, _slotSize);
        if (c == _pass.Plan.FirstChunk(s)) slot.Clear();
        db = slot[_slotWeights..];
        return slot[.._slotWeights];
    }

    private float[] _flippedFilters = [], _packedFlipped = [], _zeroBias = [];

    /// <summary>
    /// The stride-1 backward pass chunk by chunk, without a column matrix: db += Σ dout; dWᵀ += the correlation of
    /// dout with the padded input (shifted windows) or, for wide 3×3 layers, Winograd's adjoint, summed in the
    /// transformed domain and brought back to 3×3 filters once at the end; dx = dout convolved with the flipped filters.
    /// </summary>
    private void BackwardStrideOne(Plan plan, bool winogradWeights, bool weights4x4, bool winogradInput)
    {
        bool winograd4x4 = winogradInput && UsesWinograd4x4(plan.H, plan.W);
        if (_pass.Dx is not null)
        {
            if (winograd4x4) Winograd4x4Convolution.TransformFlippedFilters(_pass.Weights, _filters, _channels, ref _flippedFilters, ref _packedFlipped);
            else if (winogradInput) WinogradConvolution.TransformFlippedFilters(_pass.Weights, _filters, _channels, ref _flippedFilters, ref _packedFlipped);
            else ShiftedConvolution.PackFlippedFilters(_pass.Weights, _filters, _channels, _kh, _kw, ref _flippedFilters, ref _packedFlipped);
            if (_zeroBias.Length < _channels) _zeroBias = new float[_channels];
        }
        if (winograd4x4) ClearNonFinite(plan.Chunks);
        var pass = _pass;
        _pass.Filters = _packedFlipped;
        _pass.WinogradInput = winogradInput;
        _pass.WinogradWeights = winogradWeights;
        _pass.Winograd4x4Weights = weights4x4;
        _pass.Winograd4x4Input = winograd4x4;
        ForChunks(plan, _backwardStrideOneChunk);
        if (winograd4x4 && pass.Dx is not null && _nonFinite.AsSpan(0, plan.Chunks).Contains(true))
        {
            // The chunks whose output gradient is not all finite: their dx by F(2×2) (see _nonFinite).
            WinogradConvolution.TransformFlippedFilters(pass.Weights, _filters, _channels, ref _flippedFilters, ref _packedFlipped);
            _pass = pass;
            _pass.Filters = _packedFlipped;
            ForChunks(plan, _inputGradientFallbackChunk);
        }
    }

    /// <summary>Chunk c's output gradient as <see cref="BackwardStrideOneChunk"/> takes it: dout's images, gated by the output where the pass gates (in worker t's buffer).</summary>
    private ReadOnlySpan<float> ChunkOutputGradient(int t, int c)
    {
        int i0 = _pass.Plan.ChunkStart(c), count = _pass.Plan.ChunkStart(c + 1) - i0;
        int outputSize = _filters * _pass.Plan.Plane;
        return _pass.Gate ? GatedChunk(t, i0, count) : _pass.Dout.AsSpan(i0 * outputSize, count * outputSize);
    }

    /// <summary>
    /// The gated output gradient of images i0 … i0 + count, in worker t's buffer: dout where the output y &gt; 0, or,
    /// when the pass pools, the pooling's gradient routed to its windows' winners where their maxima are &gt; 0 — the
    /// same numbers without y, or the pooling's full-size gradient, ever being read or written
    /// (<see cref="MaxPool2x2.Route"/>).
    /// </summary>
    private Span<float> GatedChunk(int t, int i0, int count)
    {
        var plan = _pass.Plan;
        int outputSize = _filters * plan.Plane;
        var gated = Worker.Ensure(ref _workers[t].Gated, count * outputSize).AsSpan(0, count * outputSize);
        if (_pass.Pooled is { } pooled)
        {
            int planes = count * _filters, windows = plan.OH / 2 * (plan.OW / 2), first = i0 * _filters * windows;
            MaxPool2x2.Route(_pass.Dout.AsSpan(first, planes * windows), _pass.Argmax.AsSpan(first, planes * windows), pooled.AsSpan(first, planes * windows),
                planes, plan.OH, plan.OW, i0 * outputSize, gated);
        }
        else Layers.Relu<float>.Gate(_pass.Y!.AsSpan(i0 * outputSize, count * outputSize), _pass.Dout.AsSpan(i0 * outputSize, count * outputSize), gated);
        return gated;
    }

    /// <summary>The dx of a chunk that <see cref="BackwardStrideOneChunk"/> left to F(2×2), with its filters in <see cref="Pass.Filters"/>.</summary>
    private void InputGradientFallbackChunk(int t, int c)
    {
        if (!_nonFinite[c]) return;
        int i0 = _pass.Plan.ChunkStart(c), count = _pass.Plan.ChunkStart(c + 1) - i0;
        var plan = _pass.Plan;
        int imageSize = _channels * plan.H * plan.W;
        WinogradConvolution.InputGradient(ChunkOutputGradient(t, c), count, _filters, plan.OH, plan.OW, _pass.Filters, _zeroBias, _channels, _pad,
            _pass.Dx.AsSpan(i0 * imageSize, count * imageSize), _options.Vector512);
    }

    /// <summary>One chunk of <see cref="BackwardStrideOne"/>: its db and dW contributions in its slot, and its dx.</summary>
    private void BackwardStrideOneChunk(int t, int c)
    {
        int i0 = _pass.Plan.ChunkStart(c), count = _pass.Plan.ChunkStart(c + 1) - i0;
        var plan = _pass.Plan;
        var input = _pass.Input; var dout = _pass.Dout; var dx = _pass.Dx;
        int imageSize = _channels * plan.H * plan.W, outputSize = _filters * plan.Plane;
        var images = input.AsSpan(i0 * imageSize, count * imageSize);
        if (_singleChannel && dx is null && !_pass.WinogradWeights)
        {
            // A first layer: gate, db and dW in one pass over dout (a pooled gradient is routed and gated first).
            var sums = ChunkSlot(c, out var bias);
            bool gate = _pass.Gate && _pass.Pooled is null;
            SingleChannelConvolution.WeightGradient(images, _pass.Pooled is null ? dout.AsSpan(i0 * outputSize, count * outputSize) : GatedChunk(t, i0, count),
                gate ? _pass.Y.AsSpan(i0 * outputSize, count * outputSize) : default, gate, count, plan.H, plan.W, _filters, _kh, _kw, _pad, sums, bias,
                _options.Vector512);
            return;
        }
        var d = ChunkOutputGradient(t, c);
        var weightSums = ChunkSlot(c, out var db);
        // Whether d is all finite, for F(4×4)'s dx (see Winograd4x4Convolution.AllFinite), without another pass over it:
        // a plane's sum is NaN or ±∞ where one of its values is. (Finite values whose sum overflows count as not finite:
        // that chunk's dx then goes by F(2×2), which is exact as well.)
        bool finite = true;
        for (int i = 0; i < count; i++)
            for (int f = 0; f < _filters; f++)
            {
                float sum = TP.Sum(d.Slice((i * _filters + f) * plan.Plane, plan.Plane));
                db[f] += sum;
                finite &= float.IsFinite(sum);
            }
        if (_pass.Winograd4x4Weights)
            Winograd4x4Convolution.WeightGradient(images, d, count, _channels, plan.H, plan.W, _filters, _pad, weightSums, _options.Vector512,
                _options.PaddedTransformRows, _options.EightFilterWeightTiles);
        else if (_pass.WinogradWeights)
            WinogradConvolution.WeightGradient(images, d, count, _channels, plan.H, plan.W, _filters, _pad, weightSums, _options.Vector512,
                _options.EightFilterWeightTiles);
        else
            ShiftedConvolution.WeightGradient(images, d, count, _channels, plan.H, plan.W, _filters, _kh, _kw, _pad, weightSums, _options.Vector512);
        if (dx is null) return;
        if (_pass.Winograd4x4Input)
        {
            if (finite)
                Winograd4x4Convolution.InputGradient(d, count, _filters, plan.OH, plan.OW, _pass.Filters, _zeroBias, _channels, _pad,
                    dx.AsSpan(i0 * imageSize, count * imageSize), _options.Vector512, _options.PaddedTransformRows);
            else _nonFinite[c] = true;
        }
        else if (_pass.WinogradInput)
            WinogradConvolution.InputGradient(d, count, _filters, plan.OH, plan.OW, _pass.Filters, _zeroBias, _channels, _pad, dx.AsSpan(i0 * imageSize, count * imageSize), _options.Vector512);
        else
            ShiftedConvolution.InputGradient(d, count, _filters, plan.OH, plan.OW, _pass.Filters, _zeroBias, _channels, _kh, _kw, _pad,
                dx.AsSpan(i0 * imageSize, count * imageSize), _options.Vector512);
    }

    /// <summary>One chunk of the im2col backward pass: doutT and db, dWᵀ += colT·doutTᵀ, and dx = col2im(Wᵀ·doutT).</summary>
    private void BackwardIm2ColChunk(int t, int c)
    {
        int i0 = _pass.Plan.ChunkStart(c), count = _pass.Plan.ChunkStart(c + 1) - i0;
        var plan = _pass.Plan; var input = _pass.Input; var d = _pass.Dout; var dxData = _pass.Dx;
        var weights = _pass.Weights;
        var worker = _workers[t];
        int columns = count * plan.Plane, k = plan.K, plane = plan.Plane, imageSize = _channels * plan.H * plan.W;
        // (i, f, p) → doutT (f, i, p), and db[f] += its row sum
        var doutT = Worker.Ensure(ref worker.OutT, _filters * columns).AsSpan(0, _filters * columns);
        var dWt = ChunkSlot(c, out var db);
        // A pooled gradient is routed and gated for the whole chunk first, then reordered.
        ReadOnlySpan<float> routed = _pass.Pooled is null ? default : GatedChunk(t, i0, count);
        for (int f = 0; f < _filters; f++)
        {
            for (int i = 0; i < count; i++)
            {
                int at = ((i0 + i) * _filters + f) * plane;
                if (_pass.Pooled is not null) routed.Slice((i * _filters + f) * plane, plane).CopyTo(doutT.Slice(f * columns + i * plane, plane));
                else if (_pass.Gate) Layers.Relu<float>.Gate(_pass.Y!.AsSpan(at, plane), d.AsSpan(at, plane), doutT.Slice(f * columns + i * plane, plane));
                else d.AsSpan(at, plane).CopyTo(doutT.Slice(f * columns + i * plane, plane));
            }
            db[f] += TP.Sum(doutT.Slice(f * columns, columns));
        }
        var colT = Worker.Ensure(ref worker.ColT, k * columns).AsSpan(0, k * columns);
        Im2ColChannelMajor.Forward<float>(input.AsSpan(i0 * imageSize, count * imageSize), count, _channels, plan.H, plan.W,
            _kh, _kw, _stride, _pad, colT);
        // dWᵀ (k × FN) += colT · doutTᵀ: a thin product whose long rows the GEMM reads in place.
        Gemm.Multiply<float>(false, true, k, _filters, columns, colT, columns, doutT, columns, dWt, _filters, accumulate: true);
        if (dxData is null) return;
        var dcolT = Worker.Ensure(ref worker.DcolT, k * columns).AsSpan(0, k * columns);
        Gemm.Multiply<float>(true, false, k, columns, _filters, weights.AsSpan(0, _filters * k), k, doutT, columns, dcolT, columns);
        Im2ColChannelMajor.Backward<float>(dcolT, count, _channels, plan.H, plan.W, _kh, _kw, _stride, _pad,
            dxData.AsSpan(i0 * imageSize, count * imageSize));
    }
}

/// <summary>The one place a convolution layer's engine is chosen for its element type.</summary>
internal static class ConvolutionEngines
{
    /// <summary>The engine for <typeparamref name="T"/> (float32: <see cref="ConvolutionEngine"/>), or null where the book's im2col layer runs as it is.</summary>
    public static IConvolutionEngine<T>? For<T>(int filters, int channels, int kh, int kw, int stride, int pad, ConvolutionEngineOptions? options)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? (IConvolutionEngine<T>)(object)new ConvolutionEngine(filters, channels, kh, kw, stride, pad, options) : null;
}
