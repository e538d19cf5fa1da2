using System.Collections.Concurrent;
using ZeroDL.Data;

namespace ZeroDL.Training;

/// <summary>One mini-batch: its samples as the network takes them (<see cref="Input"/>), their labels and indices.</summary>
public sealed class Batch
{
    /// <summary>The samples, gathered into a reusable tensor or compressed (see <see cref="BatchLoader"/>).</summary>
    public InputBatch<float> Input { get; } = new(new NDArray<float>(0, 1));
    /// <summary>The samples as a dense tensor (a batch of a loader that compresses has none).</summary>
    public NDArray<float> Images => Input.Dense ?? throw new InvalidOperationException("this batch is compressed: use Input");
    /// <summary>The buffer a compressing loader fills.</summary>
    internal Kernels.SparseMatrix? Compressed;
    public int[] Labels { get; internal set; } = [];
    /// <summary>Which samples of the dataset the batch holds, in order.</summary>
    public int[] Indices { get; internal set; } = [];
    public int Count { get; internal set; }
    /// <summary>The size of the global mini-batch this one is a shard of (<see cref="Count"/> when not sharded).</summary>
    public int GlobalCount { get; internal set; }
    /// <summary>The training iteration this batch is for, counted from 1.</summary>
    public int Iteration { get; internal set; }
    /// <summary>The shuffling generator's state right after this batch was drawn.</summary>
    internal RngState RandomAfter;
    /// <summary>The data order of this batch's epoch (never changed once a batch refers to it: a new epoch's order is a new array).</summary>
    internal int[] Order = [];
    /// <summary>Where the batch sequence stands once this batch is drawn: a loader resumed there draws the batches that followed it.</summary>
    public LoaderPosition PositionAfter => new(Iteration, [.. Order], RandomAfter);
    public ReadOnlySpan<int> LabelSpan => Labels.AsSpan(0, Count);
    public ReadOnlySpan<int> IndexSpan => Indices.AsSpan(0, Count);
}

/// <summary>
/// Produces the mini-batches of a run in order: shuffled without replacement per epoch (a new permutation each
/// epoch) or drawn with replacement as the book's code does. With <c>background</c> the next batches are
/// gathered on a separate thread while the current one trains; the sequence of batches is the same either way.
/// Batches come from a small pool and go back to it with <see cref="Release"/>, so nothing is allocated per batch.
/// A loader that compresses (<see cref="Compresses"/>) reads each batch's samples from the dataset's stored bytes
/// straight into compressed form on the caller's thread, and has the next batch's rows fetched into cache meanwhile.
/// </summary>
public sealed class BatchLoader : IDisposable
{
    private const int Prefetch = 2;
    private readonly Dataset _data;
    private readonly int _batchSize, _perEpoch, _total;
    private readonly bool _withReplacement;
    private readonly Rng _rng;
    private int[] _order;
    private readonly int[] _indices;
    private readonly BlockingCollection<Batch>? _ready, _free;
    private readonly Thread? _producer;
    private readonly CancellationTokenSource _stop = new();
    private Batch _single = new();
    /// <summary>Without gathering: the batch after the one last returned, drawn one step early so its samples can be prefetched.</summary>
    private Batch? _ahead;
    private readonly Augmenter? _augmenter;
    private readonly bool _gatherImages, _compress;
    private Exception? _failure;
    private int _produced;
    private readonly (int Rank, int Count) _shard;

    /// <summary>
    /// Batches of <paramref name="batchSize"/> from <paramref name="data"/> for <paramref name="totalIterations"/> iterations;
    /// an <paramref name="augmenter"/>, when given, distorts every batch after gathering (on the loader's thread in the
    /// background mode), keyed by each image's position in the run. With <paramref name="gatherImages"/> false the
    /// batches carry only indices and labels (the images stay empty), for a consumer that reads the samples itself.
    /// With <paramref name="compressFor"/> a network that <see cref="Compresses"/> this dataset, the batches come
    /// compressed (on the caller's thread, whatever <paramref name="background"/> says). With <paramref name="resume"/>
    /// (a batch's <see cref="Batch.PositionAfter"/>) the loader draws the batches that followed that one, exactly: the
    /// first it returns is for iteration <see cref="LoaderPosition.Iteration"/> + 1, and <paramref name="rng"/> is set
    /// to the position's state.
    /// <para>
    /// With <paramref name="shard"/> (rank r of n), every rank's loader draws the same global batches of
    /// <paramref name="batchSize"/> and returns only the r-th of n nearly equal slices of each (data-parallel
    /// training); an augmented image is distorted as it would be in the global batch.
    /// </para>
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="resume"/>'s order is not a permutation of the dataset's samples, its iteration is outside 0…<paramref name="totalIterations"/>, or its generator state is invalid.</exception>
    public BatchLoader(Dataset data, int batchSize, bool withReplacement, int iterationsPerEpoch, int totalIterations, Rng rng, bool background,
        Augmenter? augmenter = null, bool gatherImages = true, Models.Sequential<float>? compressFor = null, LoaderPosition? resume = null,
        (int Rank, int Count)? shard = null)
    {
        _shard = shard ?? (0, 1);
        if (_shard.Count < 1 || _shard.Rank < 0 || _shard.Rank >= _shard.Count) throw new ArgumentOutOfRangeException(nameof(shard), shard, "a shard is rank r of n ranks, 0 ≤ r < n");
        if (!gatherImages && augmenter is not null) throw new ArgumentException("augmentation needs the images gathered");
        _augmenter = augmenter;
        _compress = gatherImages && augmenter is null && compressFor is not null && Compresses(compressFor, data);
        _gatherImages = gatherImages && !_compress;
        background &= !_compress;
        _data = data;
        _batchSize = Math.Min(batchSize, data.Count);
        _withReplacement = withReplacement;
        _perEpoch = iterationsPerEpoch;
        _total = totalIterations;
        _rng = rng;
        if (resume is null) _order = rng.Permutation(data.Count);
        else
        {
            resume.Validate(data.Count, totalIterations);
            _order = [.. resume.Order];
            rng.State = resume.Random;
            _produced = resume.Iteration;
        }
        _indices = new int[_batchSize];
        if (!background) return;
        _ready = new BlockingCollection<Batch>(Prefetch);
        _free = new BlockingCollection<Batch>(Prefetch + 1);
        for (int i = 0; i < Prefetch + 1; i++) _free.Add(new Batch());
        _producer = new Thread(Produce) { IsBackground = true, Name = "ZeroDL batch loader" };
        _producer.Start();
    }

    /// <summary>
    /// Whether <paramref name="net"/> takes <paramref name="data"/>'s batches compressed: the dataset holds its samples
    /// as stored bytes (read from IDX) and the network's first layer takes compressed batches of such samples at the
    /// dataset's density (<see cref="Models.Sequential{T}.TakesCompressed"/>). The same numbers either way.
    /// </summary>
    public static bool Compresses(Models.Sequential<float> net, Dataset data) =>
        data.HasStoredPixels && net.TakesCompressed(data.SampleLength, data.Density);

    /// <summary>Whether this loader's batches come compressed (see <see cref="Compresses"/>).</summary>
    public bool CompressesBatches => _compress;

    /// <summary>
    /// Fills <paramref name="input"/> with samples start … start + count − 1 of <paramref name="data"/>, in order:
    /// compressed when <paramref name="compress"/> (see <see cref="Compresses"/>), else gathered into
    /// <paramref name="dense"/> (reused).
    /// </summary>
    internal static void Read(Dataset data, int start, int count, bool compress, InputBatch<float> input, ref Kernels.SparseMatrix? compressed,
        ref NDArray<float>? dense, ref int[]? indices)
    {
        if (compress)
        {
            data.TryCompressImages(start, count, compressed ??= new Kernels.SparseMatrix());
            input.SetCompressed(compressed);
            return;
        }
        if (indices is null || indices.Length < count) indices = new int[count];
        for (int i = 0; i < count; i++) indices[i] = start + i;
        dense = data.GatherImages(indices.AsSpan(0, count), dense);
        input.SetDense(dense);
    }

    /// <summary>The batch of the next iteration (blocks until it is ready). Call <see cref="Release"/> when done with it.</summary>
    public Batch Next()
    {
        if (_ready is null)
        {
            if (_gatherImages)
            {
                Fill(_single, ++_produced);
                return _single;
            }
            // Indices only: keep one batch ahead (the same sequence, drawn a step earlier) for Upcoming.
            bool first = _ahead is null;
            if (first) { _ahead = new Batch(); Fill(_single, ++_produced); }
            else (_single, _ahead) = (_ahead!, _single);
            if (_produced < _total) Fill(_ahead!, ++_produced); else _ahead!.Count = 0;
            if (_compress)
            {
                // This batch's rows were asked for a step ago (but the first's); the next batch's are asked for now,
                // to be in cache when it comes.
                _data.TryCompressImages(_single.IndexSpan, _single.Compressed ??= new Kernels.SparseMatrix(), prefetched: !first);
                _single.Input.SetCompressed(_single.Compressed);
                _data.PrefetchImages(Upcoming);
            }
            return _single;
        }
        try { return _ready.Take(_stop.Token); }
        catch (InvalidOperationException) when (_failure is not null) { throw new InvalidOperationException("batch loader failed: " + _failure.Message, _failure); }
    }

    /// <summary>
    /// When the loader does not gather images and runs in the caller's thread: the indices of the batch after the
    /// one <see cref="Next"/> returned last (empty after the last), so the caller can prefetch those samples.
    /// </summary>
    public ReadOnlySpan<int> Upcoming => _ahead is null ? [] : _ahead.IndexSpan;

    public void Release(Batch batch)
    {
        if (_free is not null && !ReferenceEquals(batch, _single)) _free.Add(batch);
    }

    private void Produce()
    {
        try
        {
            for (int iter = _produced + 1; iter <= _total; iter++)
            {
                var batch = _free!.Take(_stop.Token);
                Fill(batch, iter);
                _ready!.Add(batch, _stop.Token);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { _failure = e; }
        finally { _ready!.CompleteAdding(); }
    }

    private void Fill(Batch batch, int iteration)
    {
        int position = (iteration - 1) % _perEpoch;
        int count = _batchSize;
        if (_withReplacement)
            for (int i = 0; i < count; i++) _indices[i] = _rng.Next(_data.Count);
        else
        {
            if (position == 0 && iteration > 1)
            {
                // A new array: batches of the epoch before (still queued, or held for a checkpoint) keep theirs.
                _order = (int[])_order.Clone();
                _rng.Shuffle(_order);
            }
            int start = position * _batchSize;
            count = Math.Min(_batchSize, _data.Count - start);
            Array.Copy(_order, start, _indices, 0, count);
        }
        int global = count, first = (int)((long)global * _shard.Rank / _shard.Count);
        count = (int)((long)global * (_shard.Rank + 1) / _shard.Count) - first;
        var idx = _indices.AsSpan(first, count);
        if (_gatherImages)
        {
            var images = _data.GatherImages(idx, batch.Input.Dense is { Size: > 0 } reused ? reused : null);
            batch.Input.SetDense(images);
            _augmenter?.Apply(images.Span, count, (long)(iteration - 1) * _batchSize + first);
        }
        if (batch.Labels.Length < _batchSize) batch.Labels = new int[_batchSize];
        if (batch.Indices.Length < _batchSize) batch.Indices = new int[_batchSize];
        idx.CopyTo(batch.Indices);
        for (int i = 0; i < count; i++) batch.Labels[i] = _data.Labels[idx[i]];
        batch.Count = count;
        batch.GlobalCount = global;
        batch.Iteration = iteration;
        batch.RandomAfter = _rng.State;
        batch.Order = _order;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _producer?.Join();
        _stop.Dispose();
    }
}
