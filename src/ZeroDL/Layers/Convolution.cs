using System.Numerics;
using ZeroDL.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace ZeroDL.Layers;

/// <summary>
/// Convolution (book ch. 7.4.3) on (N, C, H, W) input with filters W (FN, C, FH, FW) and bias b (FN), any stride
/// and padding. The book writes it as im2col, one product col·Wᵀ and a reorder to (N, FN, OH, OW). We compute the
/// same product transposed, W·colT, with the channel-major column matrix colT = colᵀ
/// (<see cref="Im2ColChannelMajor"/>), whose rows are shifted copies of input rows and whose product comes out as
/// (FN, images·OH·OW), a copy of whole planes away from NCHW. Backward: db = Σ dout, dW = (colT·doutTᵀ)ᵀ,
/// dx = col2im(Wᵀ·doutT). With stride 1 on AVX2 (every network in the book) the layer skips the column matrix
/// altogether and convolves through shifted windows of a zero-padded copy (<see cref="ShiftedConvolution"/>), and
/// 3×3 filters on at least 8 channels go through Winograd's F(2×2, 3×3) (<see cref="WinogradConvolution"/>); the
/// im2col product above stays for other strides and as the reference the tests compare against.
/// <para>
/// The batch is worked through in chunks of whole images whose column matrix is about
/// <see cref="ChunkElements"/> elements (a MiB of float32, so it stays in cache between being written and being
/// multiplied), the chunks dealt out in a fixed order to one worker per core; each worker has its own buffers and
/// its own partial dW and db, added up in worker order, so results do not depend on timing. Backward recomputes
/// each chunk's column matrix from a copy of the input instead of keeping the whole matrix from Forward.
/// </para>
/// </summary>
public sealed class Convolution<T> : ILayer<T>, IFirstLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NDArray<T>? _x, _y, _dx;
    private Worker[] _workers = [];
    private bool _trained;

    public Convolution(NDArray<T> w, NDArray<T> b, int stride = 1, int pad = 0)
    {
        if (w.Rank != 4 || b.Rank != 1 || b.Size != w.Shape[0])
            throw new ArgumentException($"convolution: W must be (FN, C, FH, FW) and b (FN); got W {w.ShapeText}, b {b.ShapeText}");
        if (stride < 1 || pad < 0) throw new ArgumentOutOfRangeException(nameof(stride), $"stride {stride} must be ≥ 1 and pad {pad} ≥ 0");
        W = new Parameter<T>("W", w, isWeight: true);
        B = new Parameter<T>("b", b, isWeight: false);
        Stride = stride;
        Pad = pad;
        _runWorker = RunWorker;
        _forwardIm2ColChunk = ForwardIm2ColChunk;
        _forwardWinogradChunk = ForwardWinogradChunk;
        _forwardShiftedChunk = ForwardShiftedChunk;
        _backwardStrideOneChunk = BackwardStrideOneChunk;
        _backwardIm2ColChunk = BackwardIm2ColChunk;
    }

    public string Kind => "conv";
    public Parameter<T> W { get; }
    public Parameter<T> B { get; }
    public int Stride { get; }
    public int Pad { get; }
    public int Filters => W.Value.Shape[0];
    public int Channels => W.Value.Shape[1];
    public int KernelHeight => W.Value.Shape[2];
    public int KernelWidth => W.Value.Shape[3];
    public IReadOnlyList<Parameter<T>> Parameters => [W, B];
    public IReadOnlyList<(string Name, NDArray<T> Value)> State => [];

    /// <summary>Target size of one chunk's column matrix, in elements (at least one whole image per chunk).</summary>
    internal int ChunkElements { get; set; } = 1 << 18;

    /// <summary>Fixes the number of workers (tests use it to exercise the split on small inputs); null = one per core for large work.</summary>
    internal int? WorkerCount { get; set; }

    private int TapCount => Channels * KernelHeight * KernelWidth;

    /// <summary>One worker's buffers: its chunk's column matrix, product, and partial parameter gradients.</summary>
    private sealed class Worker
    {
        public T[] ColT = [], OutT = [], DcolT = [], DWt = [], Db = [], DU = [], Gated = [];

        public static T[] Ensure(ref T[] buffer, int length)
        {
            if (buffer.Length < length) buffer = new T[length];
            return buffer;
        }
    }

    /// <summary>The shape of one pass: input and output sizes, chunking and worker count.</summary>
    private readonly record struct Plan(int N, int H, int W, int OH, int OW, int K, int ImagesPerChunk, int Workers)
    {
        public int Plane => OH * OW;
        public int Chunks => (N + ImagesPerChunk - 1) / ImagesPerChunk;
    }

    private Plan MakePlan(ReadOnlySpan<int> shape)
    {
        int n = shape[0], h = shape[2], w = shape[3];
        int oh = ConvShape.OutputSize(h, KernelHeight, Stride, Pad), ow = ConvShape.OutputSize(w, KernelWidth, Stride, Pad);
        int k = TapCount, plane = oh * ow;
        int perChunk = Math.Clamp(ChunkElements / Math.Max(1, k * plane), 1, Math.Max(1, n));
        int chunks = (n + perChunk - 1) / perChunk;
        long work = (long)n * plane * k * Filters;
        int workers = WorkerCount ?? (GemmOptions.Default.ThreadsFor(work));
        workers = Math.Max(1, Math.Min(workers, chunks));
        if (_workers.Length < workers) Array.Resize(ref _workers, workers);
        for (int t = 0; t < workers; t++) _workers[t] ??= new Worker();
        return new Plan(n, h, w, oh, ow, k, perChunk, workers);
    }

    /// <summary>
    /// The pass in progress, read by the chunk methods below (<see cref="ForwardIm2ColChunk"/> and the rest). It lives in
    /// a field, and the methods' delegates are made once per layer, so that a pass hands the worker pool no closure
    /// and allocates nothing.
    /// </summary>
    private struct Pass
    {
        public Plan Plan;
        public Action<int, int, int>? Work;
        public T[] Input, Output, Dout;
        public T[]? Dx;
        /// <summary>The filters as the fast paths take them: packed, transformed, or flipped (backward).</summary>
        public float[] Filters;
        /// <summary>Backward: dx by Winograd, and dW by Winograd.</summary>
        public bool WinogradInput, WinogradWeights;
        /// <summary>Backward: dout is first gated by this layer's output (a ReLU after it folded in; see <see cref="BackwardGated"/>).</summary>
        public bool Gate;
    }

    private Pass _pass;
    private readonly Action<int> _runWorker;
    private readonly Action<int, int, int> _forwardIm2ColChunk, _forwardWinogradChunk, _forwardShiftedChunk,
        _backwardStrideOneChunk, _backwardIm2ColChunk;

    /// <summary>Runs <paramref name="work"/>(worker, first image, image count) for every chunk: chunk c on worker c mod workers.</summary>
    private void ForChunks(Plan plan, Action<int, int, int> work)
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

    /// <summary>Worker <paramref name="t"/>'s share of a pass: chunks t, t + workers, ….</summary>
    private void RunWorker(int t)
    {
        using var _ = Gemm.LimitThreadsOnThisThread(1); // the workers are the parallelism
        var plan = _pass.Plan;
        var work = _pass.Work!;
        for (int c = t; c < plan.Chunks; c += plan.Workers)
        {
            int i0 = c * plan.ImagesPerChunk;
            work(t, i0, Math.Min(plan.ImagesPerChunk, plan.N - i0));
        }
    }

    public NDArray<T> Forward(NDArray<T> x, bool training) => Forward(x, training, rectify: false);

    /// <summary>
    /// The forward pass, with <paramref name="rectify"/> giving max(0, output): each chunk of images rectified while it
    /// is still in cache, so that a ReLU after this layer need not pass over the batch again
    /// (<see cref="Models.Sequential{T}"/> does this; <see cref="Relu{T}.ForwardRectified"/> takes the result).
    /// </summary>
    internal NDArray<T> Forward(NDArray<T> x, bool training, bool rectify)
    {
        _rectify = rectify;
        if (x.Rank != 4 || x.Shape[1] != Channels)
            throw new ArgumentException($"convolution: input {x.ShapeText} is not (N, {Channels}, H, W) for filters {W.Value.ShapeText}");
        var plan = MakePlan(x.Shape);
        _y = NDArray<T>.Reuse(_y, plan.N, Filters, plan.OH, plan.OW);
        if (training)
        {
            _x = NDArray<T>.Reuse(_x, x.Shape); // Backward recomputes the column matrix from this copy
            x.ReadOnlySpan.CopyTo(_x.Span);
        }
        _trained = training;
        _pass.Input = x.Data;
        _pass.Output = _y.Data;
        if (typeof(T) == typeof(float) && WinogradForward)
        {
            _pass.Filters = PreparedFilters((float[])(object)W.Value.Data, FilterForm.Winograd);
            ForChunks(plan, _forwardWinogradChunk);
        }
        else if (typeof(T) == typeof(float) && UseShiftedWindows && ShiftedConvolution.Applies(Stride))
        {
            _pass.Filters = PreparedFilters((float[])(object)W.Value.Data, FilterForm.Packed);
            ForChunks(plan, _forwardShiftedChunk);
        }
        else ForChunks(plan, _forwardIm2ColChunk);
        return _y;
    }

    /// <summary>The im2col forward pass of one chunk: colT, W·colT, + b and the reorder to (N, FN, OH, OW).</summary>
    private void ForwardIm2ColChunk(int t, int i0, int count)
    {
        var plan = _pass.Plan; var input = _pass.Input; var output = _pass.Output;
        var weights = W.Value.Data; var bias = B.Value.Data;
        var worker = _workers[t];
        int columns = count * plan.Plane, k = plan.K, plane = plan.Plane, imageSize = Channels * plan.H * plan.W;
        var colT = Worker.Ensure(ref worker.ColT, k * columns).AsSpan(0, k * columns);
        var outT = Worker.Ensure(ref worker.OutT, Filters * columns).AsSpan(0, Filters * columns);
        Im2ColChannelMajor.Forward<T>(input.AsSpan(i0 * imageSize, count * imageSize), count, Channels, plan.H, plan.W,
            KernelHeight, KernelWidth, Stride, Pad, colT);
        Gemm.Multiply<T>(false, false, Filters, columns, k, weights.AsSpan(0, Filters * k), k, colT, columns, outT, columns);
        // (f, i, p) + b[f] → (i, f, p)
        for (int f = 0; f < Filters; f++)
            for (int i = 0; i < count; i++)
                TP.Add(outT.Slice(f * columns + i * plane, plane), bias[f], output.AsSpan(((i0 + i) * Filters + f) * plane, plane));
        if (_rectify)
        {
            var chunk = output.AsSpan(i0 * Filters * plane, count * Filters * plane);
            TP.Max(chunk, T.Zero, chunk);
        }
    }

    /// <summary>Whether the current forward pass rectifies its output (see the internal Forward overload).</summary>
    private bool _rectify;

    /// <summary>When the pass rectifies: a chunk's outputs become max(0, ·), by the same function the ReLU layer uses.</summary>
    private void Rectify(Span<float> chunk)
    {
        if (_rectify) TP.Max(chunk, 0f, chunk);
    }

    /// <summary>
    /// Stride 1 on AVX2: each chunk of images is convolved from a zero-padded copy through shifted windows
    /// (<see cref="ShiftedConvolution"/>), without a column matrix, forward and backward; false always takes the
    /// im2col product (tests compare the two).
    /// </summary>
    internal bool UseShiftedWindows { get; set; } = true;

    /// <summary>
    /// 3×3 filters, stride 1: the convolution by Winograd's F(2×2, 3×3) (<see cref="WinogradConvolution"/>), forward
    /// and for the input gradient, where the summed dimension (input channels forward, filters for dx) is at least
    /// <see cref="WinogradMinimumChannels"/>; false always takes the shifted windows (tests compare the two).
    /// </summary>
    internal bool UseWinograd { get; set; } = true;

    /// <summary>
    /// Below this many summed channels the transforms cost more than the products they save (the first layer of a
    /// network, on one channel, stays on the shifted windows).
    /// </summary>
    internal const int WinogradMinimumChannels = 8;

    private bool WinogradForward => UseWinograd && WinogradConvolution.Applies(KernelHeight, KernelWidth, Stride) && Channels >= WinogradMinimumChannels;

    private bool WinogradInputGradient => UseWinograd && WinogradConvolution.Applies(KernelHeight, KernelWidth, Stride)
        && WinogradConvolution.AppliesToInputGradient(Pad) && Filters >= WinogradMinimumChannels;

    /// <summary>
    /// The weight gradient's 16 products are F × C each, summed over the tiles: below 32 × 32 packing them costs
    /// more than the direct correlation (measured with <c>ZeroDL.Bench winograd</c>: DeepConvNet's 16-filter layers
    /// are faster on the shifted windows, its 32- and 64-filter layers on Winograd).
    /// </summary>
    private bool WinogradWeightGradient => WinogradForward && Channels * Filters >= WinogradMinimumWeightProduct;

    internal const int WinogradMinimumWeightProduct = 32 * 32;

    /// <summary>The forms the forward filters are kept in between calls.</summary>
    private enum FilterForm { None, Packed, Winograd }

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
        int size = Filters * TapCount;
        if (_preparedForm != form || !System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(weights.AsSpan(0, size))
                .SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(_preparedFrom.AsSpan(0, size)))) // bit for bit
        {
            if (form == FilterForm.Winograd) WinogradConvolution.TransformFilters(weights, Filters, Channels, ref _preparedFilters);
            else ShiftedConvolution.PackFilters(weights, Filters, TapCount, ref _preparedFilters);
            if (_preparedFrom.Length < size) _preparedFrom = new float[size];
            weights.AsSpan(0, size).CopyTo(_preparedFrom);
            _preparedForm = form;
        }
        return _preparedFilters;
    }

    /// <summary>The Winograd forward pass of one chunk (float32), with the filters transformed in <see cref="Pass.Filters"/>.</summary>
    private void ForwardWinogradChunk(int t, int i0, int count)
    {
        var plan = _pass.Plan; var input = (float[])(object)_pass.Input; var output = (float[])(object)_pass.Output;
        int imageSize = Channels * plan.H * plan.W, outputSize = Filters * plan.Plane;
        WinogradConvolution.Forward(input.AsSpan(i0 * imageSize, count * imageSize), count, Channels, plan.H, plan.W, _pass.Filters,
            (float[])(object)B.Value.Data, Filters, Pad, output.AsSpan(i0 * outputSize, count * outputSize));
        Rectify(output.AsSpan(i0 * outputSize, count * outputSize));
    }

    /// <summary>The shifted-window forward pass of one chunk (float32), with the filters packed in <see cref="Pass.Filters"/>.</summary>
    private void ForwardShiftedChunk(int t, int i0, int count)
    {
        var plan = _pass.Plan; var input = (float[])(object)_pass.Input; var output = (float[])(object)_pass.Output;
        int imageSize = Channels * plan.H * plan.W, outputSize = Filters * plan.Plane;
        ShiftedConvolution.Forward(input.AsSpan(i0 * imageSize, count * imageSize), count, Channels, plan.H, plan.W, _pass.Filters,
            (float[])(object)B.Value.Data, Filters, KernelHeight, KernelWidth, Pad, output.AsSpan(i0 * outputSize, count * outputSize));
        Rectify(output.AsSpan(i0 * outputSize, count * outputSize));
    }

    private float[] _flippedFilters = [], _packedFlipped = [], _zeroBias = [];

    /// <summary>
    /// The stride-1 backward pass chunk by chunk, without a column matrix: db += Σ dout; dWᵀ += the correlation of
    /// dout with the padded input (<see cref="ShiftedConvolution"/>) or, for wide 3×3 layers, Winograd's adjoint;
    /// dx = dout convolved with the flipped filters, by Winograd where the forward pass goes that way.
    /// </summary>
    private void BackwardStrideOne(Plan plan, float[] input, float[] dout, float[] weights, float[]? dx)
    {
        bool winograd = dx is not null && WinogradInputGradient;
        if (dx is not null)
        {
            if (winograd) WinogradConvolution.TransformFlippedFilters(weights, Filters, Channels, ref _flippedFilters, ref _packedFlipped);
            else ShiftedConvolution.PackFlippedFilters(weights, Filters, Channels, KernelHeight, KernelWidth, ref _flippedFilters, ref _packedFlipped);
            if (_zeroBias.Length < Channels) _zeroBias = new float[Channels];
        }
        // dW by Winograd where the forward pass goes that way and the products are wide enough: summed per worker in
        // the transformed domain, brought back to 3×3 filters once at the end.
        bool winogradWeights = WinogradWeightGradient;
        int transformedSize = 16 * Filters * Channels;
        if (winogradWeights)
            for (int t = 0; t < plan.Workers; t++) Worker.Ensure(ref _workers[t].DU, transformedSize).AsSpan(0, transformedSize).Clear();
        _pass.Input = (T[])(object)input;
        _pass.Dout = (T[])(object)dout;
        _pass.Dx = (T[]?)(object?)dx;
        _pass.Filters = _packedFlipped;
        _pass.WinogradInput = winograd;
        _pass.WinogradWeights = winogradWeights;
        ForChunks(plan, _backwardStrideOneChunk);
        if (winogradWeights)
            for (int t = 0; t < plan.Workers; t++)
                WinogradConvolution.WeightGradientFromTransformed((float[])(object)_workers[t].DU, Filters, Channels, (float[])(object)_workers[t].DWt);
    }

    /// <summary>One chunk of <see cref="BackwardStrideOne"/>: its db and dW contributions to the worker's sums, and its dx.</summary>
    private void BackwardStrideOneChunk(int t, int i0, int count)
    {
        var plan = _pass.Plan;
        var input = (float[])(object)_pass.Input; var dout = (float[])(object)_pass.Dout; var dx = (float[]?)(object?)_pass.Dx;
        int imageSize = Channels * plan.H * plan.W, outputSize = Filters * plan.Plane;
        var worker = _workers[t];
        var dWt = (float[])(object)worker.DWt;
        var db = (float[])(object)worker.Db;
        var images = input.AsSpan(i0 * imageSize, count * imageSize);
        ReadOnlySpan<float> d = dout.AsSpan(i0 * outputSize, count * outputSize);
        if (_pass.Gate)
        {
            var gated = ((float[])(object)Worker.Ensure(ref worker.Gated, count * outputSize)).AsSpan(0, count * outputSize);
            Relu<float>.Gate(((float[])(object)_y!.Data).AsSpan(i0 * outputSize, count * outputSize), d, gated);
            d = gated;
        }
        for (int i = 0; i < count; i++)
            for (int f = 0; f < Filters; f++) db[f] += TP.Sum(d.Slice((i * Filters + f) * plan.Plane, plan.Plane));
        if (_pass.WinogradWeights)
            WinogradConvolution.WeightGradient(images, d, count, Channels, plan.H, plan.W, Filters, Pad, (float[])(object)worker.DU);
        else
            ShiftedConvolution.WeightGradient(images, d, count, Channels, plan.H, plan.W, Filters, KernelHeight, KernelWidth, Pad, dWt);
        if (dx is null) return;
        if (_pass.WinogradInput)
            WinogradConvolution.InputGradient(d, count, Filters, plan.OH, plan.OW, _pass.Filters, _zeroBias, Channels, Pad, dx.AsSpan(i0 * imageSize, count * imageSize));
        else
            ShiftedConvolution.InputGradient(d, count, Filters, plan.OH, plan.OW, _pass.Filters, _zeroBias, Channels, KernelHeight, KernelWidth, Pad,
                dx.AsSpan(i0 * imageSize, count * imageSize));
    }

    public NDArray<T> Backward(NDArray<T> dout) => BackwardCore(dout, inputGradient: true, gate: false)!;

    /// <summary>The gradients of W and b only — all a network's first layer needs, since nothing uses ∂L/∂input.</summary>
    public void BackwardParameters(NDArray<T> dout) => BackwardCore(dout, inputGradient: false, gate: false);

    /// <summary>
    /// The backward pass of this layer and the ReLU after it together: <paramref name="dout"/> is the gradient at the
    /// ReLU's output, gated (passed where this layer's output is &gt; 0, else 0, by the ReLU's own function) chunk by
    /// chunk while in cache, instead of in a pass of the ReLU's over the whole batch. Either way of running the forward
    /// pass leaves the same mask: max(0, y) &gt; 0 exactly where y &gt; 0. Null without <paramref name="inputGradient"/>.
    /// </summary>
    internal NDArray<T>? BackwardGated(NDArray<T> dout, bool inputGradient) => BackwardCore(dout, inputGradient, gate: true);

    private NDArray<T>? BackwardCore(NDArray<T> dout, bool inputGradient, bool gate)
    {
        if (!_trained || _x is null) throw new InvalidOperationException("convolution: Backward needs a training-mode Forward first");
        _y!.RequireSameShape(dout, "convolution backward (y vs dout)");
        var plan = MakePlan(_x.Shape);
        if (inputGradient) _dx = NDArray<T>.Reuse(_dx, _x.Shape);
        var input = _x.Data; var d = dout.Data; var weights = W.Value.Data;
        var dxData = inputGradient ? _dx!.Data : null;
        for (int t = 0; t < plan.Workers; t++)
        {
            Worker.Ensure(ref _workers[t].DWt, plan.K * Filters).AsSpan(0, plan.K * Filters).Clear();
            Worker.Ensure(ref _workers[t].Db, Filters).AsSpan(0, Filters).Clear();
        }
        if (typeof(T) == typeof(float) && UseShiftedWindows && ShiftedConvolution.Applies(Stride)
            && (!inputGradient || ShiftedConvolution.AppliesToInputGradient(KernelHeight, KernelWidth, Pad)))
        {
            _pass.Gate = gate;
            BackwardStrideOne(plan, (float[])(object)input, (float[])(object)d, (float[])(object)weights, (float[]?)(object?)dxData);
        }
        else
        {
            _pass.Input = input;
            _pass.Dout = d;
            _pass.Dx = dxData;
            _pass.Gate = gate;
            ForChunks(plan, _backwardIm2ColChunk);
        }
        // Partial sums in worker order; dW = dWᵀ transposed.
        var dW = W.Grad.Span; var db = B.Grad.Span;
        dW.Clear(); db.Clear();
        int filters = Filters, k = plan.K; // read once: the loop below is F·K long
        for (int t = 0; t < plan.Workers; t++)
        {
            var dWt = _workers[t].DWt.AsSpan(0, k * filters);
            for (int q = 0; q < k; q++)
            {
                var row = dWt.Slice(q * filters, filters);
                for (int f = 0; f < row.Length; f++) dW[f * k + q] += row[f];
            }
            TP.Add(db, _workers[t].Db.AsSpan(0, filters), db);
        }
        return inputGradient ? _dx : null;
    }

    /// <summary>One chunk of the im2col backward pass: doutT and db, dWᵀ += colT·doutTᵀ, and dx = col2im(Wᵀ·doutT).</summary>
    private void BackwardIm2ColChunk(int t, int i0, int count)
    {
        var plan = _pass.Plan; var input = _pass.Input; var d = _pass.Dout; var dxData = _pass.Dx;
        var weights = W.Value.Data;
        var worker = _workers[t];
        int columns = count * plan.Plane, k = plan.K, plane = plan.Plane, imageSize = Channels * plan.H * plan.W;
        // (i, f, p) → doutT (f, i, p), and db[f] += its row sum
        var doutT = Worker.Ensure(ref worker.OutT, Filters * columns).AsSpan(0, Filters * columns);
        for (int f = 0; f < Filters; f++)
        {
            for (int i = 0; i < count; i++)
            {
                int at = ((i0 + i) * Filters + f) * plane;
                if (_pass.Gate) Relu<T>.Gate(_y!.Data.AsSpan(at, plane), d.AsSpan(at, plane), doutT.Slice(f * columns + i * plane, plane));
                else d.AsSpan(at, plane).CopyTo(doutT.Slice(f * columns + i * plane, plane));
            }
            worker.Db[f] += TP.Sum(doutT.Slice(f * columns, columns));
        }
        var colT = Worker.Ensure(ref worker.ColT, k * columns).AsSpan(0, k * columns);
        Im2ColChannelMajor.Forward<T>(input.AsSpan(i0 * imageSize, count * imageSize), count, Channels, plan.H, plan.W,
            KernelHeight, KernelWidth, Stride, Pad, colT);
        // dWᵀ (k × FN) += colT · doutTᵀ: a thin product whose long rows the GEMM reads in place.
        Gemm.Multiply<T>(false, true, k, Filters, columns, colT, columns, doutT, columns, worker.DWt.AsSpan(0, k * Filters), Filters, accumulate: true);
        if (dxData is null) return;
        var dcolT = Worker.Ensure(ref worker.DcolT, k * columns).AsSpan(0, k * columns);
        Gemm.Multiply<T>(true, false, k, columns, Filters, weights.AsSpan(0, Filters * k), k, doutT, columns, dcolT, columns);
        Im2ColChannelMajor.Backward<T>(dcolT, count, Channels, plan.H, plan.W, KernelHeight, KernelWidth, Stride, Pad,
            dxData.AsSpan(i0 * imageSize, count * imageSize));
    }
}
