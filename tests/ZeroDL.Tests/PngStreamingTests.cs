using ZeroDL.Data;
using ZeroDL.Imaging;
using ZeroDL.Models;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 18: a PNG for prediction is decoded and shrunk in one streaming pass (<see cref="Png.DecodeResized"/>,
/// <see cref="ImageInput.FromPng"/>, <see cref="ImageInput.PrepareDigit"/>), giving the values the decode-then-resize
/// path gives, without holding the full-size image.
/// </summary>
public class PngStreamingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static IEnumerable<string> FixturePngs() =>
        Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "tests", "ZeroDL.Tests", "Fixtures", "png"), "*.png").Order();

    /// <summary>Generated images of every colour type, plain and Adam7, at an awkward size.</summary>
    private static IEnumerable<(string Name, byte[] Png)> Generated()
    {
        var rng = new Random(18);
        foreach (var (colorType, depth) in new[] { (0, 8), (0, 16), (0, 2), (2, 8), (4, 8), (6, 8), (6, 16) })
            foreach (bool interlace in new[] { false, true })
            {
                int perPixel = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
                var samples = new int[37 * 23 * perPixel];
                for (int i = 0; i < samples.Length; i++) samples[i] = rng.Next(1 << depth);
                yield return ($"type {colorType} depth {depth}{(interlace ? " interlaced" : "")}", PngDecoderTests.Write(37, 23, colorType, depth, samples, interlace));
            }
    }

    private static IEnumerable<(string Name, byte[] Png)> AllPngs() =>
        FixturePngs().Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).Concat(Generated());

    [Fact]
    public void Decoding_straight_to_a_size_gives_the_decode_then_resize_pixels()
    {
        int compared = 0;
        foreach (var (name, png) in AllPngs())
        {
            var full = Png.DecodePixels(png, name);
            bool interlaced = Png.ReadInfo(png, name).Interlaced;
            foreach (var (h, w) in new[] { (full.Height, full.Width), (7, 5), (3, 40), (50, 2), (full.Height * 2 + 1, full.Width / 2 + 1), (1, 1), (28, 28) })
            {
                var expected = full.Resized(h, w).Pixels;
                var actual = Png.DecodeResized(png, name, h, w, GrayImage.MaxPixels);
                Assert.Equal((full.Channels, h, w), (actual.Channels, actual.Height, actual.Width));
                if (!interlaced) Assert.True(expected.AsSpan().SequenceEqual(actual.Pixels), $"{name} at {h}×{w}: not bit for bit the same");
                else
                    for (int i = 0; i < expected.Length; i++)
                        Assert.True(Math.Abs(expected[i] - actual.Pixels[i]) <= 1, $"{name} at {h}×{w}: value {i} is {actual.Pixels[i]}, not {expected[i]}");
                compared++;
            }
        }
        Assert.True(compared > 100);
    }

    [Fact]
    public void A_model_input_from_png_bytes_is_the_input_of_the_decoded_image()
    {
        var gray = new InputNormalization([0.4f], [0.2f]);
        var colour = new InputNormalization([0.5f, 0.4f, 0.3f], [0.2f, 0.25f, 0.3f]);
        foreach (var (name, png) in AllPngs().Where(p => !Png.ReadInfo(p.Png, p.Name).Interlaced))
        {
            var image = Png.DecodePixels(png, name);
            var norm = image.Channels == 1 ? gray : colour;
            Assert.Equal(ImageInput.ToInput(image, image.Channels, 9, 13, norm, name), ImageInput.FromPng(png, image.Channels, 9, 13, norm, name));
            var other = image.Channels == 1 ? colour : gray;
            var e = Assert.Throws<DataFormatException>(() => ImageInput.FromPng(png, other.Channels, 9, 13, other, name));
            Assert.StartsWith($"{name}: is ", e.Message);
        }
    }

    [Fact]
    public void A_small_drawing_is_prepared_exactly_as_before()
    {
        foreach (var (name, png) in AllPngs())
        {
            var before = MnistPreprocessing.Prepare(Png.Decode(png, name));
            var after = ImageInput.PrepareDigit(png, name);
            Assert.Equal(before.Pixels, after.Pixels);
            Assert.Equal((before.Empty, before.InkLeft, before.InkTop, before.InkWidth, before.InkHeight), (after.Empty, after.InkLeft, after.InkTop, after.InkWidth, after.InkHeight));
        }
    }

    /// <summary>A 4096×4096 PNG of a large "7": dark ink on white paper, as a phone photo of a drawing would be.</summary>
    internal static byte[] LargeDigit(int side = 4096)
    {
        var pixels = new byte[side * side];
        Array.Fill(pixels, (byte)255);
        int stroke = side / 16;
        for (int y = side / 5; y < side / 5 + stroke; y++)
            for (int x = side / 4; x < side * 3 / 4; x++) pixels[y * side + x] = 0;
        for (int y = side / 5; y < side * 4 / 5; y++)
        {
            int x0 = side * 3 / 4 - (y - side / 5) * side / 2 / (side * 3 / 5);
            for (int x = Math.Max(0, x0 - stroke); x < x0; x++) pixels[y * side + x] = 0;
        }
        return PngEncoder.Encode(side, side, 1, pixels);
    }

    [Fact]
    public void A_4096_square_upload_costs_a_few_rows_not_its_full_size()
    {
        var png = LargeDigit();
        var norm = new InputNormalization([0.5f], [0.25f]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var input = ImageInput.FromPng(png, 1, 32, 32, norm, "upload");
        long resized = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        var digit = ImageInput.PrepareDigit(png, "upload");
        long prepared = GC.GetAllocatedBytesForCurrentThread() - before;
        // For the record: what the decode-then-resize paths allocate for the same upload.
        before = GC.GetAllocatedBytesForCurrentThread();
        ImageInput.ToInput(Png.DecodePixels(png, "upload"), 1, 32, 32, norm, "upload");
        long fullResized = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        MnistPreprocessing.Prepare(Png.Decode(png, "upload"));
        long fullPrepared = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"4096² PNG of {png.Length} bytes: FromPng allocated {resized:N0} bytes (decode then resize: {fullResized:N0}), " +
                         $"PrepareDigit {prepared:N0} (decode then prepare: {fullPrepared:N0})");
        // The decode-then-resize path holds 16 M pixels several times over (RGBA, planes: over 80 MB); streaming holds
        // the compressed data, two rows and the output (FromPng), or the 512² working image (PrepareDigit: 1 MB of
        // floats, 2 MB of sums, the recipe's own copies).
        Assert.True(resized < 2 << 20, $"FromPng allocated {resized:N0} bytes");
        Assert.True(prepared < 8 << 20, $"PrepareDigit allocated {prepared:N0} bytes");
        Assert.Equal(32 * 32, input.Length);
        Assert.False(digit.Empty);
    }

    [Fact]
    public void A_large_drawing_is_read_as_the_full_decode_reads_it()
    {
        var net = BookWeights.LoadDeepConvNet(Path.Combine(TestPaths.Reference, "deep_convnet_2016.npz"));
        foreach (int side in new[] { 600, 2048, 4096 })
        {
            var png = LargeDigit(side);
            var full = MnistPreprocessing.Prepare(Png.Decode(png, "full"));
            var streamed = ImageInput.PrepareDigit(png, "streamed");
            double maxDiff = 0;
            for (int i = 0; i < full.Pixels.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(full.Pixels[i] - streamed.Pixels[i]));
            int a = Label(net, full.Pixels), b = Label(net, streamed.Pixels);
            output.WriteLine($"{side}²: full decode reads {a}, streaming {b}; largest pixel difference {maxDiff:F4}");
            Assert.Equal(7, a);
            Assert.Equal(a, b);
            Assert.True(maxDiff < 0.25, $"{side}²: largest pixel difference {maxDiff}");
        }
    }

    private static int Label(Sequential<float> net, float[] pixels)
    {
        var p = net.PredictProbabilities(NDArray<float>.FromArray(pixels, [1, 1, 28, 28])).ReadOnlySpan;
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}
