namespace ZeroDL.Data;

/// <summary>Images as a float32 tensor (first axis = sample) with one integer label per sample.</summary>
public sealed class Dataset
{
    public Dataset(Tensor<float> images, int[] labels, int classes = 10)
    {
        if (images.Rows != labels.Length)
            throw new ArgumentException($"dataset: {labels.Length} labels for {images.Rows} images {images.ShapeText}");
        Images = images;
        Labels = labels;
        Classes = classes;
    }

    public Tensor<float> Images { get; }
    public int[] Labels { get; }
    public int Classes { get; }
    public int Count => Labels.Length;

    /// <summary>Labels as one-hot rows (Count × Classes).</summary>
    public Tensor<float> OneHot()
    {
        var t = new Tensor<float>(Count, Classes);
        for (int i = 0; i < Count; i++) t.Data[i * Classes + Labels[i]] = 1f;
        return t;
    }

    /// <summary>The first <paramref name="count"/> samples (copied).</summary>
    public Dataset Take(int count)
    {
        count = Math.Clamp(count, 0, Count);
        return new Dataset(TensorRows.Slice(Images, 0, count, null), Labels[..count], Classes);
    }

    /// <summary>The samples at <paramref name="indices"/> (copied), in that order.</summary>
    public Dataset Select(ReadOnlySpan<int> indices)
    {
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++) labels[i] = Labels[indices[i]];
        return new Dataset(TensorRows.Gather(Images, indices, null), labels, Classes);
    }

    /// <summary>
    /// Builds a dataset from an IDX image/label pair: pixels as float32, divided by 255 when
    /// <paramref name="normalize"/>, shaped N×(rows·cols) when <paramref name="flatten"/> else N×1×rows×cols.
    /// </summary>
    public static Dataset FromIdx(IdxArray images, IdxArray labels, bool normalize, bool flatten, int classes = 10)
    {
        int n = images.Dimensions[0], rows = images.Dimensions[1], cols = images.Dimensions[2];
        var data = new float[images.Data.Length];
        float scale = normalize ? 1f / 255f : 1f;
        for (int i = 0; i < data.Length; i++) data[i] = images.Data[i] * scale;
        var tensor = flatten ? new Tensor<float>(data, n, rows * cols) : new Tensor<float>(data, n, 1, rows, cols);
        var intLabels = new int[labels.Data.Length];
        for (int i = 0; i < intLabels.Length; i++) intLabels[i] = labels.Data[i];
        return new Dataset(tensor, intLabels, classes);
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
