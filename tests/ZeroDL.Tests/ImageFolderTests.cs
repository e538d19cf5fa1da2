using System.IO.Compression;
using ZeroDL.Data;
using ZeroDL.Imaging;

namespace ZeroDL.Tests;

public class ImageFolderTests
{
    /// <summary>Writes an RGB (or gray) PNG of one colour per channel, <paramref name="width"/>×<paramref name="height"/>.</summary>
    internal static void WritePng(string path, int width, int height, params byte[] colour)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var interleaved = new byte[width * height * colour.Length];
        for (int i = 0; i < interleaved.Length; i++) interleaved[i] = colour[i % colour.Length];
        File.WriteAllBytes(path, PngEncoder.Encode(width, height, colour.Length, interleaved));
    }

    [Fact]
    public void Train_and_test_trees_give_planes_labels_class_names_and_the_training_splits_normalization()
    {
        string dir = TestPaths.NewTempDirectory();
        WritePng(Path.Combine(dir, "train", "dog", "a.png"), 4, 3, 200, 100, 0);
        WritePng(Path.Combine(dir, "train", "dog", "sub", "b.png"), 4, 3, 100, 100, 50);
        WritePng(Path.Combine(dir, "train", "cat", "c.png"), 4, 3, 0, 0, 250);
        WritePng(Path.Combine(dir, "test", "cat", "d.png"), 4, 3, 10, 20, 30);
        File.WriteAllText(Path.Combine(dir, "train", "cat", ".DS_Store"), "hidden files are skipped");

        var (train, test) = ImageFolder.Load(dir);
        Assert.Equal(["cat", "dog"], train.ClassNames); // ordinal order of the folder names
        Assert.Equal(["cat", "dog"], test.ClassNames);
        Assert.Equal(2, test.Classes);
        Assert.Equal([0, 1, 1], train.Labels);             // cat/c, dog/a, dog/sub/b
        Assert.Equal([0], test.Labels);
        Assert.Equal([3, 3, 4], train.SampleShape.ToArray());
        Assert.Equal((3, 3, 4), train.ImageShape);

        // Mean and std per channel over the training images only (12 pixels each): R = 0, 200, 100.
        var n = train.Normalization!;
        Assert.Same(n, test.Normalization);
        double[] red = [0, 200, 100];
        double mean = red.Average() / 255, std = Math.Sqrt(red.Select(v => (v / 255 - mean) * (v / 255 - mean)).Average());
        Assert.Equal(mean, n.Mean[0], 5);
        Assert.Equal(std, n.Std[0], 5);
        Assert.Equal((250 + 0 + 50) / 255.0 / 3, n.Mean[2], 5);

        // The images the network sees: ((byte / 255) − mean) / std per channel, the same through every path.
        var images = test.Images.ReadOnlySpan;
        float Expected(byte b, int c) => (b * (1f / 255f) - n.Mean[c]) / n.Std[c];
        Assert.Equal(Expected(10, 0), images[0]);
        Assert.Equal(Expected(20, 1), images[12]);
        Assert.Equal(Expected(30, 2), images[35]);
        var gathered = train.GatherImages([2, 0], null);
        Assert.Equal(train.Images.ReadOnlySpan.Slice(2 * 36, 36).ToArray(), gathered.ReadOnlySpan[..36].ToArray());
        Assert.Equal(train.Images.ReadOnlySpan[..36].ToArray(), gathered.ReadOnlySpan[36..].ToArray());
        Assert.False(train.HasStoredPixels); // normalized bytes are not compressed as MNIST's are
        // Density counts the normalized values: b.png's red 100 is the red mean, so its 12 red values are 0.
        Assert.Equal(1 - 12 / 108.0, train.Density, 12);
        Assert.Equal(0f, train.Images.ReadOnlySpan[2 * 36]);
    }

    [Fact]
    public void One_tree_is_split_per_class_by_a_seeded_draw()
    {
        string dir = TestPaths.NewTempDirectory();
        for (int i = 0; i < 10; i++) WritePng(Path.Combine(dir, "a", $"{i:D2}.png"), 2, 2, (byte)i);
        for (int i = 0; i < 5; i++) WritePng(Path.Combine(dir, "b", $"{i:D2}.png"), 2, 2, (byte)(100 + i));
        var (train, test) = ImageFolder.Load(dir, new ImageFolderOptions { TestSplit = 0.2, Seed = 3 });
        Assert.Equal(2, test.Labels.Count(0));
        Assert.Equal(1, test.Labels.Count(1));
        Assert.Equal(12, train.Count);
        Assert.Equal(1, train.SampleShape[0]); // gray images: one channel
        // Every image lands in exactly one split.
        static IEnumerable<float> Firsts(Dataset d) => Enumerable.Range(0, d.Count).Select(i => d.Images.ReadOnlySpan[i * 4]);
        Assert.Equal(15, Firsts(train).Concat(Firsts(test)).Distinct().Count());
        var again = ImageFolder.Load(dir, new ImageFolderOptions { TestSplit = 0.2, Seed = 3 });
        Assert.Equal(test.Images.ReadOnlySpan.ToArray(), again.Test.Images.ReadOnlySpan.ToArray());
        var other = ImageFolder.Load(dir, new ImageFolderOptions { TestSplit = 0.2, Seed = 4 });
        Assert.NotEqual(test.Images.ReadOnlySpan.ToArray(), other.Test.Images.ReadOnlySpan.ToArray());
        Assert.Throws<ArgumentException>(() => ImageFolder.Load(dir)); // one tree needs a split
    }

    [Fact]
    public void Mixed_sizes_are_refused_naming_both_files_unless_resized()
    {
        string dir = TestPaths.NewTempDirectory();
        WritePng(Path.Combine(dir, "train", "x", "a.png"), 8, 8, 10, 20, 30);
        WritePng(Path.Combine(dir, "train", "x", "b.png"), 6, 4, 10, 20, 30);
        WritePng(Path.Combine(dir, "test", "x", "c.png"), 8, 8, 10, 20, 30);
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir));
        Assert.StartsWith(Path.Combine(dir, "train", "x", "b.png") + ": is 4×6 but " + Path.Combine(dir, "train", "x", "a.png") + " is 8×8", e.Message);
        var (train, test) = ImageFolder.Load(dir, new ImageFolderOptions { Resize = (5, 7) });
        Assert.Equal([3, 5, 7], train.SampleShape.ToArray());
        Assert.Equal([3, 5, 7], test.SampleShape.ToArray());
    }

    [Fact]
    public void Gray_and_colour_are_not_mixed()
    {
        string dir = TestPaths.NewTempDirectory();
        WritePng(Path.Combine(dir, "train", "x", "a.png"), 2, 2, 10, 20, 30);
        WritePng(Path.Combine(dir, "test", "x", "gray.png"), 2, 2, 40);
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir));
        Assert.Matches(@"gray\.png: is gray \(1 channel\) but .*a\.png is colour \(3 channels\)", e.Message);
    }

    public static TheoryData<string, string> Broken() => new()
    {
        { "empty-class", "holds no images" },
        { "text-file", "not a PNG image (the file does not start with the PNG signature)" },
        { "jpeg-named-png", "not a PNG image (it is a JPEG; convert it to PNG)" },
        { "bad-crc", "CRC mismatch" },
        { "truncated", "truncated PNG" },
        { "unknown-test-class", "class 'bird' is not one of the training classes (cat, dog)" },
        { "no-classes", "no class folders" },
        { "stray-file", "a file outside the class folders" },
        { "empty-file", "the file is empty" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Broken_trees_are_refused_naming_the_path(string kind, string problem)
    {
        string dir = TestPaths.NewTempDirectory();
        WritePng(Path.Combine(dir, "train", "cat", "a.png"), 3, 3, 1, 2, 3);
        WritePng(Path.Combine(dir, "train", "dog", "b.png"), 3, 3, 4, 5, 6);
        WritePng(Path.Combine(dir, "test", "cat", "c.png"), 3, 3, 7, 8, 9);
        string culprit = Path.Combine(dir, "train", "dog", "z.png");
        switch (kind)
        {
            case "empty-class": culprit = Path.Combine(dir, "train", "emu"); Directory.CreateDirectory(culprit); break;
            case "text-file": culprit = Path.Combine(dir, "train", "dog", "notes.txt"); File.WriteAllText(culprit, "hello"); break;
            case "jpeg-named-png": File.WriteAllBytes(culprit, [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 74, 70, 73, 70]); break;
            case "bad-crc": var png = File.ReadAllBytes(Path.Combine(dir, "train", "cat", "a.png")); png[^20] ^= 1; File.WriteAllBytes(culprit, png); break;
            case "truncated": File.WriteAllBytes(culprit, File.ReadAllBytes(Path.Combine(dir, "train", "cat", "a.png"))[..40]); break;
            case "unknown-test-class": culprit = Path.Combine(dir, "test", "bird"); WritePng(Path.Combine(culprit, "d.png"), 3, 3, 0, 0, 0); break;
            case "no-classes":
                culprit = Path.Combine(dir, "train");
                Directory.Delete(culprit, recursive: true); Directory.CreateDirectory(culprit); break;
            case "stray-file": culprit = Path.Combine(dir, "train", "loose.png"); WritePng(culprit, 3, 3, 1, 1, 1); break;
            case "empty-file": File.WriteAllBytes(culprit, []); break;
        }
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir));
        Assert.StartsWith(culprit + ": ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void With_several_bad_files_the_first_in_order_is_named()
    {
        string dir = TestPaths.NewTempDirectory();
        for (int i = 0; i < 40; i++) WritePng(Path.Combine(dir, "train", "a", $"{i:D2}.png"), 2, 2, 1, 2, 3);
        WritePng(Path.Combine(dir, "test", "a", "t.png"), 2, 2, 1, 2, 3);
        foreach (int bad in new[] { 31, 17, 25 }) File.WriteAllText(Path.Combine(dir, "train", "a", $"{bad:D2}.png"), "not an image");
        for (int run = 0; run < 5; run++)
            Assert.StartsWith(Path.Combine(dir, "train", "a", "17.png") + ":", Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir)).Message);
    }

    [Fact]
    public void Byte_statistics_equal_the_float_ones()
    {
        var rng = new Rng(5);
        var bytes = new byte[6 * 3 * 20];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)rng.Next(256);
        var floats = new float[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) floats[i] = bytes[i] * (1f / 255f);
        var fromBytes = InputNormalization.Compute(bytes, channels: 3, plane: 20);
        var fromFloats = InputNormalization.Compute(floats, channels: 3, plane: 20);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(fromFloats.Mean[c], fromBytes.Mean[c], 6);
            Assert.Equal(fromFloats.Std[c], fromBytes.Std[c], 6);
        }
        var json = fromBytes.ToJson();
        var back = InputNormalization.FromJson(json);
        Assert.Equal(fromBytes.Mean, back.Mean);
        Assert.Equal(fromBytes.Std, back.Std);
        Assert.Equal(255f, back.PixelScale);
        Assert.Throws<FormatException>(() => InputNormalization.FromJson("""{"pixel_scale":255,"mean":[0.5],"std":[0]}"""));
        Assert.Throws<FormatException>(() => InputNormalization.FromJson("""{"pixel_scale":255,"mean":[0.5]}"""));
        Assert.Throws<FormatException>(() => InputNormalization.FromJson("[1,2"));
    }

    [Fact]
    public void Idx_folders_load_as_a_dataset_with_their_own_class_count()
    {
        string dir = TestPaths.NewTempDirectory();
        static byte[] Idx(byte[] data, params int[] dims)
        {
            var header = new List<byte> { 0, 0, 8, (byte)dims.Length };
            foreach (int d in dims) header.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(d)));
            return [.. header, .. data];
        }
        static byte[] Gzip(byte[] data)
        {
            var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
            return ms.ToArray();
        }
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Gzip(Idx(new byte[3 * 2 * 5], 3, 2, 5)));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), Idx([0, 4, 2], 3));
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), Idx(new byte[2 * 2 * 5], 2, 2, 5));
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"), Gzip(Idx([1, 3], 2)));
        var (train, test) = ImageDatasets.Load(dir);
        Assert.Equal(5, train.Classes);
        Assert.Equal((1, 2, 5), train.ImageShape);
        Assert.Equal(2, test.Count);
        Assert.Null(train.Normalization); // IDX keeps the book's pixels / 255
        Assert.Throws<ArgumentException>(() => ImageDatasets.Load(dir, new ImageFolderOptions { Resize = (4, 4) }));
        Assert.StartsWith(Path.Combine(dir, "nothing") + ": data folder not found", Assert.Throws<DataFormatException>(() => ImageDatasets.Load(Path.Combine(dir, "nothing"))).Message);
        // An empty test split is an error, not a silent 0 % at evaluation.
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), Idx([], 0, 2, 5));
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"), Gzip(Idx([], 0)));
        Assert.Equal(Path.Combine(dir, "t10k-images-idx3-ubyte") + ": holds no images", Assert.Throws<DataFormatException>(() => ImageDatasets.Load(dir)).Message);
    }

    [Fact]
    public void A_gzip_idx_header_that_promises_more_than_the_file_holds_allocates_nothing_for_it()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "images.gz");
        var idx = new byte[16 + 10];
        idx[2] = 8; idx[3] = 3;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(idx.AsSpan(4), 1_000_000); // 1e6 × 28 × 28: 784 MB
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(idx.AsSpan(8), 28);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(idx.AsSpan(12), 28);
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(idx);
        File.WriteAllBytes(path, ms.ToArray());
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => Idx.Read(path, 3));
        Assert.Contains("need 784000000 data bytes, file has 10", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void Fashion_mnist_by_name_with_its_class_names()
    {
        if (!File.Exists(Path.Combine(ImageDatasets.FashionMnistDirectory, "train-images-idx3-ubyte.gz")))
        {
            var e = Assert.Throws<DataFormatException>(() => ImageDatasets.Load(ImageDatasets.FashionMnistName));
            Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
            return;
        }
        var (train, test) = ImageDatasets.Load(ImageDatasets.FashionMnistName);
        Assert.Equal((60000, 10000), (train.Count, test.Count));
        Assert.Equal((1, 28, 28), train.ImageShape);
        Assert.Equal("Ankle boot", train.ClassName(9));
        Assert.Equal("Ankle boot", test.ClassName(test.Labels[0])); // Fashion-MNIST's first test image is an ankle boot
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(6000, train.Labels.Count(c)));
    }

    [Fact]
    public void A_dataset_larger_than_one_array_is_refused_naming_the_folder()
    {
        Assert.Equal(3 * 784, ImageFolder.DatasetBytes(3, 784, "data"));
        // 40,000 colour 256×256 images: 7.9 GB, past what one byte array holds.
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.DatasetBytes(40_000, 3 * 256 * 256, "data/train"));
        Assert.StartsWith("data/train: 40000 images of 196608 bytes would hold 7864320000 bytes, more than one array holds", e.Message);
    }

    [Fact]
    public void A_folder_that_cannot_be_listed_is_refused_naming_it()
    {
        // Root reads every folder whatever its mode, so a folder that is gone stands in for one without permission.
        string gone = Path.Combine(TestPaths.NewTempDirectory(), "train", "cat");
        foreach (bool folders in new[] { false, true })
            Assert.StartsWith(gone + ": cannot list the folder", Assert.Throws<DataFormatException>(() => ImageFolder.Entries(gone, folders)).Message);
    }

    [Fact]
    public void A_pixel_budget_outside_one_to_the_decoders_limit_is_refused()
    {
        foreach (long max in new[] { 0L, -1L, GrayImage.MaxPixels + 1, long.MaxValue })
            Assert.Throws<ArgumentException>(() => new ImageFolderOptions { MaxPixels = max }.Validated());
        foreach (long max in new[] { 1L, GrayImage.MaxPixels })
            Assert.Equal(max, new ImageFolderOptions { MaxPixels = max }.Validated().MaxPixels);
        string dir = TestPaths.NewTempDirectory();
        WritePng(Path.Combine(dir, "train", "a", "0.png"), 2, 2, 9);
        WritePng(Path.Combine(dir, "test", "a", "0.png"), 2, 2, 9);
        Assert.Throws<ArgumentException>(() => ImageFolder.Load(dir, new ImageFolderOptions { MaxPixels = int.MaxValue + 1L }));
    }
}
