using System.Buffers.Binary;
using System.IO.Compression;
using ZeroDL.Data;

namespace ZeroDL.Tests;

public class MnistFixture
{
    public (Dataset Train, Dataset Test) Data { get; } = Mnist.Load(directory: TestPaths.Mnist);
}

public class MnistTests(MnistFixture fixture) : IClassFixture<MnistFixture>
{
    [Fact]
    public void A_dataset_read_from_idx_makes_its_float_images_only_when_asked()
    {
        // Its own copy: the shared fixture's tensors are made by other tests.
        var (train, test) = Mnist.Load(directory: TestPaths.Mnist);
        var subset = train.Take(300);
        Assert.Equal(784, train.SampleLength);
        Assert.Equal(784, subset.SampleLength);
        // Training a CNN (dense and augmented batches, background evaluation) and evaluating gather from the bytes.
        var net = Models.ModelPresets.Find("simpleconv").Spec.Build<float>(1);
        new Training.Trainer(net, new Optimizers.Adam<float>(), subset, test.Take(200), new Training.TrainerOptions { Epochs = 1, BatchSize = 100 }).Train();
        var dense = Models.ModelPresets.Find("dense").Spec.Build<float>(1);
        new Training.Trainer(dense, new Optimizers.Adam<float>(), subset, test.Take(200),
            new Training.TrainerOptions { Epochs = 1, BatchSize = 100, Augmentation = new AugmentationOptions() }).Train();
        Assert.InRange(Training.Evaluation.Accuracy(net, test), 0.1, 1.0);
        Assert.False(train.HasFloatImages || subset.HasFloatImages || test.HasFloatImages, "a float copy of the images was made");
        // Made on request: once, whichever thread asks first, with the values the batches were gathered with.
        var seen = new NDArray<float>[4];
        Parallel.For(0, seen.Length, i => seen[i] = subset.Images);
        Assert.All(seen, t => Assert.Same(seen[0], t));
        Assert.Equal(new[] { 300, 784 }, subset.Images.Shape);
        var gathered = subset.GatherImages([0, 299], null);
        Assert.Equal(gathered.Data[..784], subset.Images.Data[..784]);
        Assert.Equal(gathered.Data[784..], subset.Images.Data[(299 * 784)..]);
        Assert.Equal(train.Images.Data[..(300 * 784)], subset.Images.Data);
        Assert.Equal(train.Images.Data[..(5 * 784)], train.Take(5).Images.Data);
    }

    [Fact]
    public void Loads_with_the_books_semantics()
    {
        var (train, test) = fixture.Data;
        Assert.Equal(new[] { 60000, 784 }, train.Images.Shape);
        Assert.Equal(new[] { 10000, 784 }, test.Images.Shape);
        Assert.Equal(new[] { 5, 0, 4, 1, 9 }, train.Labels[..5]);
        Assert.Equal(new[] { 7, 2, 1, 0, 4 }, test.Labels[..5]);
        Assert.InRange(train.Images.ReadOnlySpan.ToArray().Max(), 0.999f, 1.0f);
        Assert.Equal(0f, train.Images.ReadOnlySpan.ToArray().Min());
        var oneHot = test.OneHot();
        Assert.Equal(new[] { 10000, 10 }, oneHot.Shape);
        Assert.Equal(1f, oneHot[0, 7]);
        Assert.Equal(1f, oneHot.ReadOnlySpan[..10].ToArray().Sum());
    }

    [Fact]
    public void Batches_gathered_from_the_stored_bytes_equal_the_float_images_bit_for_bit()
    {
        var test = fixture.Data.Test;
        int[] indices = [9999, 0, 17, 17, 4242];
        var batch = test.GatherImages(indices, null);
        Assert.Equal(new[] { 5, 784 }, batch.Shape);
        for (int i = 0; i < indices.Length; i++)
            Assert.Equal(test.Images.ReadOnlySpan.Slice(indices[i] * 784, 784).ToArray(), batch.ReadOnlySpan.Slice(i * 784, 784).ToArray());
        var subset = test.Take(100);
        Assert.Equal(subset.Images.ReadOnlySpan.Slice(99 * 784, 784).ToArray(), subset.GatherImages([99], null).ReadOnlySpan.ToArray());
        Assert.Throws<IndexOutOfRangeException>(() => subset.GatherImages([100], null));
    }

    [Fact]
    public void Unflattened_and_unnormalised_shapes()
    {
        var (_, test) = Mnist.Load(normalize: false, flatten: false, oneHot: true, directory: TestPaths.Mnist);
        Assert.Equal(new[] { 10000, 1, 28, 28 }, test.Images.Shape);
        Assert.NotNull(test.OneHotLabels);
        Assert.Equal(1f, test.OneHotLabels![0, 7]);
        Assert.Null(fixture.Data.Test.OneHotLabels);
        Assert.Equal(255f, test.Images.ReadOnlySpan.ToArray().Max());
        Assert.Equal(fixture.Data.Test.Images[0, 200] * 255f, test.Images.Data[200], 3);
    }

    [Fact]
    public void General_idx_directory_loader_reads_raw_and_gzip_pairs()
    {
        string dir = TestPaths.NewTempDirectory();
        WriteIdxImages(Path.Combine(dir, "train-images-idx3-ubyte"), 3, 2, 2, gzip: false);
        WriteIdxLabels(Path.Combine(dir, "train-labels-idx1-ubyte"), [1, 2, 3], gzip: false);
        WriteIdxImages(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), 2, 2, 2, gzip: true);
        WriteIdxLabels(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"), [4, 5], gzip: true);
        var (train, test) = Dataset.LoadIdxDirectory(dir);
        Assert.Equal(new[] { 3, 4 }, train.Images.Shape);
        Assert.Equal(new[] { 4, 5 }, test.Labels);
        Assert.Equal(1f / 255f, train.Images[0, 1], 6);
    }

    [Fact]
    public void Content_hash_tells_apart_datasets_that_differ_in_one_label_one_pixel_or_one_image()
    {
        var (train, _) = fixture.Data;
        var small = train.Take(300);
        Assert.Equal(small.ContentHash(), train.Take(300).ContentHash());
        Assert.NotEqual(small.ContentHash(), train.Take(299).ContentHash());
        var labels = small.Labels.ToArray();
        labels[7] = (labels[7] + 1) % 10;
        var floats = new Dataset(small.Images, small.Labels.ToArray());
        Assert.Equal(floats.ContentHash(), new Dataset(small.Images, small.Labels.ToArray()).ContentHash());
        Assert.NotEqual(floats.ContentHash(), new Dataset(small.Images, labels).ContentHash());
        var image = small.Images.Clone();
        image.Data[123] += 1f / 255f;
        Assert.NotEqual(floats.ContentHash(), new Dataset(image, small.Labels.ToArray()).ContentHash());
    }

    // Corrupt and hostile files: one clear error naming the file and the problem.

    private static string CopyOfMnist()
    {
        string dir = TestPaths.NewTempDirectory();
        foreach (var f in Directory.GetFiles(TestPaths.Mnist)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    private static DataFormatException LoadFails(string dir) => Assert.Throws<DataFormatException>(() => Mnist.Load(directory: dir));

    [Fact]
    public void Missing_file_is_named()
    {
        string dir = CopyOfMnist();
        File.Delete(Path.Combine(dir, Mnist.TestLabels));
        var e = LoadFails(dir);
        Assert.Contains(Mnist.TestLabels, e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void Checksum_mismatch_is_named()
    {
        string dir = CopyOfMnist();
        var path = Path.Combine(dir, Mnist.TrainLabels);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        var e = LoadFails(dir);
        Assert.Contains(Mnist.TrainLabels, e.Message);
        Assert.Contains("checksum mismatch", e.Message);
    }

    [Fact]
    public void Truncated_gzip_is_reported_when_no_checksum_applies()
    {
        string dir = CopyOfMnist();
        File.Delete(Path.Combine(dir, "SHA256SUMS"));
        var path = Path.Combine(dir, Mnist.TestImages);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = LoadFails(dir);
        Assert.Contains(Mnist.TestImages, e.Message);
        Assert.Matches("truncated|corrupt", e.Message);
    }

    [Fact]
    public void Truncated_raw_idx_names_needed_and_present_bytes()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "images");
        WriteIdxImages(path, 10, 28, 28, gzip: false);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        var e = Assert.Throws<DataFormatException>(() => Idx.Read(path, 3));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("7840", e.Message);
    }

    [Fact]
    public void Wrong_magic_is_reported()
    {
        string dir = TestPaths.NewTempDirectory();
        string images = Path.Combine(dir, "images"), labels = Path.Combine(dir, "labels");
        WriteIdxImages(images, 2, 2, 2, gzip: false);
        WriteIdxLabels(labels, [1, 2], gzip: false);
        // Labels where images are expected: 1 dimension instead of 3.
        var e = Assert.Throws<DataFormatException>(() => Idx.ReadPair(labels, images));
        Assert.Contains("wrong magic", e.Message);
        var junk = Path.Combine(dir, "junk");
        File.WriteAllText(junk, "hello, this is not IDX");
        Assert.Contains("wrong magic", Assert.Throws<DataFormatException>(() => Idx.Read(junk, 3)).Message);
        File.WriteAllBytes(junk, [0, 0, 0x0D, 3]);
        Assert.Contains("data type", Assert.Throws<DataFormatException>(() => Idx.Read(junk, 3)).Message);
    }

    [Fact]
    public void Wrong_count_between_images_and_labels_is_reported()
    {
        string dir = TestPaths.NewTempDirectory();
        string images = Path.Combine(dir, "images"), labels = Path.Combine(dir, "labels");
        WriteIdxImages(images, 3, 2, 2, gzip: false);
        WriteIdxLabels(labels, [1, 2], gzip: false);
        var e = Assert.Throws<DataFormatException>(() => Idx.ReadPair(images, labels));
        Assert.Contains("wrong count", e.Message);
        Assert.Contains("labels", e.Message);
    }

    [Fact]
    public void Hostile_dimensions_and_labels_are_refused_without_allocating()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "huge");
        var header = new byte[16];
        header[2] = 8; header[3] = 3;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), 2);
        File.WriteAllBytes(path, header);
        Assert.Contains($"more than {Idx.MaxDataBytes} data bytes", Assert.Throws<DataFormatException>(() => Idx.Read(path, 3)).Message);

        string dir = TestPaths.NewTempDirectory();
        WriteIdxImages(Path.Combine(dir, "i"), 2, 2, 2, gzip: false);
        WriteIdxLabels(Path.Combine(dir, "l"), [1, 12], gzip: false);
        Assert.Contains("label 12", Assert.Throws<DataFormatException>(() => Idx.ReadPair(Path.Combine(dir, "i"), Path.Combine(dir, "l"))).Message);
    }

    [Fact]
    public void Trailing_bytes_and_malformed_checksum_lines_are_reported()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "labels");
        WriteIdxLabels(path, [1, 2], gzip: false);
        File.AppendAllText(path, "xx");
        Assert.Contains("unexpected bytes", Assert.Throws<DataFormatException>(() => Idx.Read(path, 1)).Message);
        string dir = CopyOfMnist();
        File.WriteAllText(Path.Combine(dir, "SHA256SUMS"), "nonsense\n");
        Assert.Contains("malformed checksum", LoadFails(dir).Message);
    }

    internal static void WriteIdxImages(string path, int n, int rows, int cols, bool gzip)
    {
        var bytes = new byte[16 + n * rows * cols];
        bytes[2] = 8; bytes[3] = 3;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), n);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        for (int i = 16; i < bytes.Length; i++) bytes[i] = (byte)(i - 16);
        Write(path, bytes, gzip);
    }

    internal static void WriteIdxLabels(string path, byte[] labels, bool gzip)
    {
        var bytes = new byte[8 + labels.Length];
        bytes[2] = 8; bytes[3] = 1;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        Write(path, bytes, gzip);
    }

    private static void Write(string path, byte[] bytes, bool gzip)
    {
        if (!gzip) { File.WriteAllBytes(path, bytes); return; }
        using var f = File.Create(path);
        using var z = new GZipStream(f, CompressionLevel.Fastest);
        z.Write(bytes);
    }
}
