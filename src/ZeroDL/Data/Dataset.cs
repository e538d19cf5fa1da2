namespace ZeroDL.Data;

/// <summary>Images as a float32 tensor (first axis = sample) with one integer label per sample.</summary>
public sealed class Dataset
{
    public Dataset(NDArray<float> images, int[] labels, int classes = 10)
    {
        if (images.Rows != labels.Length)
            throw new ArgumentException($"dataset: {labels.Length} labels for {images.Rows} images {images.ShapeText}");
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "a dataset needs at least one class");
        foreach (int label in labels)
            if ((uint)label >= (uint)classes) throw new ArgumentException($"dataset: label {label} is not one of the {classes} classes 0..{classes - 1}");
        _images = images;
        _shape = images.Shape.ToArray();
        SampleLength = images.RowLength;
        _labels = [.. labels]; // the caller's array stays the caller's
        Classes = classes;
    }

    /// <summary>A dataset of stored bytes (images = pixels × scale, in <paramref name="shape"/>), its float32 tensor made on first use.</summary>
    private Dataset(byte[] pixels, float scale, int[] shape, int[] labels, int classes, IReadOnlyList<string>? classNames = null, InputNormalization? normalization = null)
    {
        int size = NDArray<float>.CheckedSize(shape);
        if (shape.Length < 2 || shape[0] != labels.Length || pixels.Length != size)
            throw new ArgumentException($"dataset: {pixels.Length} pixels and {labels.Length} labels for images {NDArray<float>.ShapeString(shape)}");
        _shape = shape;
        SampleLength = NDArray<float>.CheckedSize(shape.AsSpan(1));
        _pixels = pixels;
        _pixelScale = scale;
        _labels = labels;
        Classes = classes;
        ClassNames = CheckedNames(classNames, classes);
        if (normalization is not null)
        {
            if (shape.Length == 4 ? shape[1] != normalization.Channels : normalization.Channels != 1)
                throw new ArgumentException($"a normalization of {normalization.Channels} channel(s) does not fit images {NDArray<float>.ShapeString(shape)} (N×C×H×W, or flat with one channel)");
            if (scale != 1f / normalization.PixelScale)
                throw new ArgumentException($"the normalization's pixel scale {normalization.PixelScale} is not the dataset's (1/{1 / scale})");
            Normalization = normalization;
        }
        foreach (int label in labels)
            if ((uint)label >= (uint)classes) throw new ArgumentException($"dataset: label {label} is not below {classes} classes");
    }

    private static IReadOnlyList<string>? CheckedNames(IReadOnlyList<string>? names, int classes)
    {
        if (names is null) return null;
        if (names.Count != classes) throw new ArgumentException($"dataset: {names.Count} class names for {classes} classes");
        return Array.AsReadOnly(names.ToArray());
    }

    /// <summary>
    /// A dataset of 8-bit images stored as bytes, <paramref name="shape"/> N×C×H×W (or N×features), one label per
    /// image below <paramref name="classNames"/>.Count (or below <paramref name="classes"/> when no names are given).
    /// The network sees each value as (byte / PixelScale − Mean[c]) / Std[c] of <paramref name="normalization"/>, or
    /// byte / 255 without one; the bytes are kept (not copied) and converted a mini-batch at a time.
    /// </summary>
    public static Dataset FromPixels(byte[] pixels, ReadOnlySpan<int> shape, int[] labels, IReadOnlyList<string>? classNames,
        InputNormalization? normalization = null, int classes = 0)
    {
        int count = classNames?.Count ?? classes;
        if (count < 1) throw new ArgumentException("dataset: give the class names or a class count");
        return new Dataset(pixels, 1f / (normalization?.PixelScale ?? 255f), shape.ToArray(), labels, count, classNames, normalization);
    }

    /// <summary>
    /// This dataset (its bytes shared, not copied) with <paramref name="normalization"/> applied to every image, e.g.
    /// a test split given the mean and std of its training split. Only for datasets stored as bytes (N×C×H×W, or flat
    /// samples of one channel).
    /// </summary>
    public Dataset WithNormalization(InputNormalization normalization)
    {
        if (_pixels is null) throw new InvalidOperationException("only a dataset stored as bytes can take a normalization");
        return new Dataset(_pixels, 1f / normalization.PixelScale, (int[])_shape.Clone(), _labels, Classes, ClassNames, normalization) { ImageShape = _imageShape };
    }

    /// <summary>This dataset (its data shared, not copied) with names for its classes (index = label).</summary>
    public Dataset WithClassNames(IReadOnlyList<string> classNames)
    {
        var copy = _pixels is not null
            ? new Dataset(_pixels, _pixelScale, (int[])_shape.Clone(), _labels, Classes, classNames, Normalization) { ImageShape = _imageShape }
            : new Dataset(Images, _labels, Classes) { ClassNames = CheckedNames(classNames, Classes), ImageShape = _imageShape };
        copy.OneHotLabels = OneHotLabels;
        return copy;
    }

    /// <summary>The name of each class (index = label), e.g. the ImageFolder's folder names; null when the data has none (MNIST: the digits).</summary>
    public IReadOnlyList<string>? ClassNames { get; private init; }

    /// <summary>The name of class <paramref name="label"/>: its <see cref="ClassNames"/> entry, else the number.</summary>
    public string ClassName(int label) => ClassNames is { } names && (uint)label < (uint)names.Count ? names[label] : label.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The per-channel normalization applied to the stored bytes (see <see cref="FromPixels"/>), or null when the images
    /// are the bytes times a scale (MNIST: pixels / 255, the book's input).
    /// </summary>
    public InputNormalization? Normalization { get; }

    /// <summary>
    /// Channels × height × width of one image, also for images stored flat (MNIST read with flatten: 1×28×28); null
    /// for samples that are not images (a tensor of other rank).
    /// </summary>
    public (int Channels, int Height, int Width)? ImageShape
    {
        get => _imageShape ?? (_shape.Length == 4 ? (_shape[1], _shape[2], _shape[3]) : null);
        private init => _imageShape = value;
    }

    private readonly (int, int, int)? _imageShape;

    /// <summary>
    /// Sample <paramref name="index"/> as the 8-bit image it was stored as (a copy of its bytes), or null when the dataset
    /// holds no bytes or its samples are not images.
    /// </summary>
    public Imaging.PixelImage? StoredImage(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"sample outside a dataset of {Count}");
        if (_pixels is null || ImageShape is not { } shape || _pixelScale != 1f / 255f) return null;
        return new Imaging.PixelImage(shape.Width, shape.Height, shape.Channels, _pixels.AsSpan(index * SampleLength, SampleLength).ToArray());
    }

    /// <summary>The shape of one sample: C×H×W for images kept as planes, (features) for flattened ones (MNIST's 784).</summary>
    public ReadOnlySpan<int> SampleShape => _shape.AsSpan(1);

    /// <summary>Values in one channel plane of a sample (H·W), or the sample's length when it is flat.</summary>
    private int Plane => _shape.Length == 4 ? _shape[2] * _shape[3] : SampleLength;

    private NDArray<float>? _images;
    private readonly int[] _shape;
    private readonly object _imagesLock = new();

    /// <summary>
    /// The images as float32, first axis = sample. A dataset read from IDX holds its bytes and makes this tensor from
    /// them on first use (as many floats as pixels, four times their memory): training and evaluation gather their
    /// mini-batches from the bytes, so a run that never asks for the whole tensor never holds it (for MNIST, 220 MB).
    /// </summary>
    public NDArray<float> Images => Volatile.Read(ref _images) ?? MakeImages();

    private NDArray<float> MakeImages()
    {
        lock (_imagesLock)
        {
            if (_images is null)
            {
                var data = new float[_pixels!.Length];
                PixelConversion.ToFloat(_pixels, _pixelScale, data);
                Normalization?.Apply(data, Plane);
                Volatile.Write(ref _images, new NDArray<float>(data, (int[])_shape.Clone()));
            }
            return _images!;
        }
    }

    /// <summary>Whether <see cref="Images"/> has been made (always, for a dataset built from a tensor).</summary>
    internal bool HasFloatImages => Volatile.Read(ref _images) is not null;

    /// <summary>Values per sample (784 for MNIST), known without making <see cref="Images"/>.</summary>
    public int SampleLength { get; }

    /// <summary>One class index per sample (a read-only view: the dataset's own array is never handed out).</summary>
    public ReadOnlySpan<int> Labels => _labels;
    private readonly int[] _labels;

    /// <summary>
    /// The images as the bytes they were stored as, when the dataset came from IDX (Images = Pixels × scale).
    /// Mini-batches are gathered from these: a quarter of the memory traffic of gathering floats.
    /// </summary>
    private readonly byte[]? _pixels;
    private readonly float _pixelScale;
    public int Classes { get; }
    public int Count => Labels.Length;

    /// <summary>The labels as one-hot rows (Count × Classes) when loaded with one-hot labels (the book's one_hot_label=True), else null.</summary>
    public NDArray<float>? OneHotLabels { get; private set; }

    /// <summary>Computes and keeps <see cref="OneHotLabels"/>; returns this dataset.</summary>
    public Dataset WithOneHotLabels()
    {
        OneHotLabels ??= OneHot();
        return this;
    }

    /// <summary>Labels as one-hot rows (Count × Classes).</summary>
    public NDArray<float> OneHot()
    {
        var t = new NDArray<float>(Count, Classes);
        for (int i = 0; i < Count; i++) t.Data[i * Classes + Labels[i]] = 1f;
        return t;
    }

    /// <summary>
    /// A SHA-256 of what training reads from this dataset: the shape, the classes, the labels, the normalization and
    /// the images (their stored bytes, or the float tensor). Processes that must hold the same data (the ranks of a
    /// distributed run, each reading its own copy) compare it.
    /// </summary>
    public byte[] ContentHash()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_shape.AsSpan()));
        hash.AppendData(BitConverter.GetBytes(Classes));
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_labels.AsSpan()));
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(Normalization?.ToJson() ?? ""));
        if (_pixels is not null)
        {
            hash.AppendData(BitConverter.GetBytes(_pixelScale));
            hash.AppendData(_pixels);
        }
        else hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Images.ReadOnlySpan));
        return hash.GetHashAndReset();
    }

    /// <summary>The first <paramref name="count"/> samples (copied; the stored bytes only, where the dataset has them).</summary>
    public Dataset Take(int count)
    {
        count = Math.Clamp(count, 0, Count);
        if (_pixels is not null) return new Dataset(_pixels[..(count * SampleLength)], _pixelScale, ShapeWithRows(count), _labels[..count], Classes, ClassNames, Normalization) { ImageShape = _imageShape };
        return new Dataset(NDArrayRows.Slice(Images, 0, count, null), _labels[..count], Classes) { ClassNames = ClassNames, ImageShape = _imageShape };
    }

    private int[] ShapeWithRows(int rows)
    {
        var shape = (int[])_shape.Clone();
        shape[0] = rows;
        return shape;
    }

    /// <summary>
    /// The samples at <paramref name="indices"/> (copied), in that order, with the class names and the image shape. A
    /// dataset stored as bytes gives one stored as bytes, with its normalization (the same images, a quarter of the memory).
    /// </summary>
    public Dataset Select(ReadOnlySpan<int> indices)
    {
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++) labels[i] = Labels[indices[i]];
        if (_pixels is not null)
        {
            int len = SampleLength;
            var pixels = new byte[(long)indices.Length * len];
            for (int i = 0; i < indices.Length; i++) _pixels.AsSpan(indices[i] * len, len).CopyTo(pixels.AsSpan(i * len, len));
            return new Dataset(pixels, _pixelScale, ShapeWithRows(indices.Length), labels, Classes, ClassNames, Normalization) { ImageShape = _imageShape };
        }
        return new Dataset(GatherImages(indices, null), labels, Classes) { ClassNames = ClassNames, ImageShape = _imageShape };
    }

    /// <summary>
    /// Compresses images start … start + count − 1 (flattened) into <paramref name="target"/> straight from the stored
    /// bytes, with the values <see cref="Images"/> holds. False when the dataset has no stored bytes.
    /// </summary>
    internal bool TryCompressImages(int start, int count, Kernels.SparseMatrix target)
    {
        if (!HasStoredPixels) return false;
        if (start < 0 || count < 0 || start + count > Count) throw new ArgumentOutOfRangeException(nameof(count), $"images {start}..{start + count} outside a dataset of {Count}");
        int len = SampleLength;
        target.CompressBytes(_pixels!.AsSpan(start * len, count * len), count, len, _pixelScale);
        return true;
    }

    /// <summary>
    /// Compresses the images at <paramref name="indices"/> (flattened, in that order) into <paramref name="target"/>
    /// straight from the stored bytes — a mini-batch gathered and compressed at once, the values those of
    /// <see cref="GatherImages"/>. False when the dataset has no stored bytes. The rows are prefetched first unless
    /// <paramref name="prefetched"/> says the caller already asked for them (<see cref="PrefetchImages"/>).
    /// </summary>
    internal bool TryCompressImages(ReadOnlySpan<int> indices, Kernels.SparseMatrix target, bool prefetched = false)
    {
        if (!HasStoredPixels) return false;
        foreach (int r in indices)
            if ((uint)r >= (uint)Count) throw new IndexOutOfRangeException($"sample {r} outside a dataset of {Count}");
        int len = SampleLength;
        if (!prefetched) PixelConversion.Prefetch(_pixels!, indices, len);
        target.CompressByteRows(_pixels!, indices, len, _pixelScale);
        return true;
    }

    /// <summary>
    /// Asks the memory system for the stored bytes of the images at <paramref name="indices"/> without waiting for
    /// them, so that reading them later (the next mini-batch) finds them in cache. Does nothing without stored bytes.
    /// </summary>
    internal void PrefetchImages(ReadOnlySpan<int> indices)
    {
        if (_pixels is null) return;
        foreach (int r in indices)
            if ((uint)r >= (uint)Count) throw new IndexOutOfRangeException($"sample {r} outside a dataset of {Count}");
        // Into L2, not L1: a batch's rows (about 80 KB for MNIST) would not survive a training step in L1.
        PixelConversion.Prefetch(_pixels, indices, SampleLength, intoL2Only: true);
    }

    /// <summary>
    /// Whether the images are also held as the bytes they were stored as, with Images = bytes × scale (datasets read
    /// from IDX). False for a dataset with a <see cref="Normalization"/>: its bytes are not its values times a scale.
    /// </summary>
    internal bool HasStoredPixels => _pixels is not null && Normalization is not { IsIdentity: false };

    private double? _density;

    /// <summary>Fraction of non-zero values over all images (computed once).</summary>
    internal double Density => _density ??= ComputeDensity();

    private double ComputeDensity()
    {
        long size = (long)Count * SampleLength;
        if (size == 0) return 0;
        long nonZeros = _pixels is null ? size - System.MemoryExtensions.Count(Images.ReadOnlySpan, 0f)
            : Normalization is { IsIdentity: false } normalization ? NonZerosNormalized(normalization)
            : _pixels.Length - System.MemoryExtensions.Count(_pixels.AsSpan(), (byte)0);
        return (double)nonZeros / size;
    }

    /// <summary>Non-zero values of the normalized images, counted on the bytes: per channel, which of the 256 byte values map to 0.</summary>
    private long NonZerosNormalized(InputNormalization normalization)
    {
        int plane = Plane, channels = normalization.Channels;
        var zero = new bool[channels, 256];
        Span<float> value = stackalloc float[1];
        for (int c = 0; c < channels; c++)
            for (int b = 0; b < 256; b++)
            {
                value[0] = b * _pixelScale;
                normalization.ApplyToChannel(value, c);
                zero[c, b] = value[0] == 0;
            }
        long zeros = 0;
        for (int at = 0; at < _pixels!.Length; at += channels * plane)
            for (int c = 0; c < channels; c++)
                foreach (byte b in _pixels.AsSpan(at + c * plane, plane))
                    if (zero[c, b]) zeros++;
        return _pixels.Length - zeros;
    }

    /// <summary>
    /// Copies the images at <paramref name="indices"/> into a reusable tensor (first axis = batch): from the stored
    /// bytes when the dataset has them (converted exactly as <see cref="Images"/> was), else from <see cref="Images"/>.
    /// </summary>
    public NDArray<float> GatherImages(ReadOnlySpan<int> indices, NDArray<float>? buffer)
    {
        if (_pixels is null) return NDArrayRows.Gather(Images, indices, buffer);
        var result = NDArray<float>.ReuseWithRows(buffer, _shape, indices.Length);
        int len = SampleLength;
        var dst = result.Span;
        foreach (int r in indices)
            if ((uint)r >= (uint)Count) throw new IndexOutOfRangeException($"sample {r} outside a dataset of {Count}");
        // Random rows of a large array: ask for all their cache lines first, so the misses overlap.
        PixelConversion.Prefetch(_pixels, indices, len);
        for (int i = 0; i < indices.Length; i++)
            PixelConversion.ToFloat(_pixels.AsSpan(indices[i] * len, len), _pixelScale, dst.Slice(i * len, len));
        Normalization?.Apply(dst[..(indices.Length * len)], Plane);
        return result;
    }

    /// <summary>
    /// Builds a dataset from an IDX image/label pair: pixels as float32, divided by 255 when
    /// <paramref name="normalize"/>, shaped N×(rows·cols) when <paramref name="flatten"/> else N×1×rows×cols.
    /// </summary>
    public static Dataset FromIdx(IdxArray images, IdxArray labels, bool normalize, bool flatten, int classes = 10)
    {
        int n = images.Dimensions[0], rows = images.Dimensions[1], cols = images.Dimensions[2];
        float scale = normalize ? 1f / 255f : 1f;
        int[] shape = flatten ? [n, rows * cols] : [n, 1, rows, cols];
        var intLabels = new int[labels.Data.Length];
        for (int i = 0; i < intLabels.Length; i++) intLabels[i] = labels.Data[i];
        return new Dataset(images.Data, scale, shape, intLabels, classes) { ImageShape = (1, rows, cols) };
    }

    /// <summary>
    /// Loads any IDX pair from a directory laid out as MNIST is (train-images-idx3-ubyte[.gz],
    /// train-labels-idx1-ubyte[.gz], t10k-images-…, t10k-labels-…), e.g. Fashion-MNIST.
    /// </summary>
    public static (Dataset Train, Dataset Test) LoadIdxDirectory(string directory, bool normalize = true, bool flatten = true)
    {
        if (!Directory.Exists(directory)) throw DataFormatException.For(directory, "data directory not found");
        Dataset Load(string prefix)
        {
            var (images, labels) = Idx.ReadPair(Find(directory, $"{prefix}-images-idx3-ubyte"), Find(directory, $"{prefix}-labels-idx1-ubyte"));
            return FromIdx(images, labels, normalize, flatten);
        }
        return (Load("train"), Load("t10k"));
    }

    internal static string Find(string directory, string baseName)
    {
        foreach (var candidate in new[] { baseName + ".gz", baseName })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        return Path.Combine(directory, baseName + ".gz");
    }
}

/// <summary>bytes → float32 × scale, 8 at a time where AVX2 is available; the same values as the scalar loop.</summary>
internal static class PixelConversion
{
    /// <summary>Software prefetch of every 64-byte line of the given rows (no effect where SSE is unavailable).</summary>
    public static unsafe void Prefetch(byte[] data, ReadOnlySpan<int> rows, int rowLength, bool intoL2Only = false)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || rowLength == 0) return;
        fixed (byte* p = data)
            foreach (int r in rows)
            {
                byte* row = p + (long)r * rowLength;
                // Every cache line the row touches: from its first byte in 64-byte steps, and its last byte.
                if (intoL2Only)
                {
                    for (int o = 0; o < rowLength; o += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch1(row + o);
                    System.Runtime.Intrinsics.X86.Sse.Prefetch1(row + rowLength - 1);
                }
                else
                {
                    for (int o = 0; o < rowLength; o += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + o);
                    System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + rowLength - 1);
                }
            }
    }

    public static unsafe void ToFloat(ReadOnlySpan<byte> source, float scale, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination too short");
        int i = 0;
        fixed (byte* src = source) fixed (float* dst = destination)
        {
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                var s = System.Runtime.Intrinsics.Vector256.Create(scale);
                for (; i + 8 <= source.Length; i += 8)
                {
                    var ints = System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(src + i);
                    System.Runtime.Intrinsics.Vector256.Store(System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Single(ints) * s, dst + i);
                }
            }
            for (; i < source.Length; i++) dst[i] = src[i] * scale;
        }
    }
}
