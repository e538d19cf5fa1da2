using ZeroDL.Imaging;
using ZeroDL.Models;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

public class PreprocessingTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    private static readonly Lazy<Sequential<float>> Network = new(() => BookWeights.LoadDeepConvNet(Path.Combine(TestPaths.Reference, "deep_convnet_2016.npz")));

    private static int Predict(float[] pixels) => Network.Value.PredictLabels(NDArray<float>.FromArray(pixels, 1, 1, 28, 28))[0];

    /// <summary>A canvas of paper (1) with dark ink strokes: segments of the given thickness, anti-aliased by distance.</summary>
    private static GrayImage Draw(int width, int height, double thickness, params (double X0, double Y0, double X1, double Y1)[] segments)
    {
        var pixels = new float[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double d = segments.Min(s => Distance(x, y, s.X0, s.Y0, s.X1, s.Y1));
                pixels[y * width + x] = 1 - (float)Math.Clamp(thickness / 2 - d + 0.5, 0, 1);
            }
        return new GrayImage(width, height, pixels);
    }

    private static double Distance(double px, double py, double x0, double y0, double x1, double y1)
    {
        double dx = x1 - x0, dy = y1 - y0, t = Math.Clamp(((px - x0) * dx + (py - y0) * dy) / Math.Max(1e-12, dx * dx + dy * dy), 0, 1);
        return Math.Sqrt(Math.Pow(px - x0 - t * dx, 2) + Math.Pow(py - y0 - t * dy, 2));
    }

    private static (double, double, double, double)[] Ring(double cx, double cy, double rx, double ry) =>
        Enumerable.Range(0, 24).Select(i => (cx + rx * Math.Cos(i * Math.PI / 12), cy + ry * Math.Sin(i * Math.PI / 12),
            cx + rx * Math.Cos((i + 1) * Math.PI / 12), cy + ry * Math.Sin((i + 1) * Math.PI / 12))).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(0)]
    public void Drawn_digit_is_recognised_wherever_and_however_large_it_is_drawn(int digit)
    {
        foreach (var (ox, oy, size, thick) in new[] { (20.0, 20.0, 60.0, 6.0), (150, 90, 60, 6), (40, 30, 160, 14), (90, 120, 30, 3), (60, 40, 110, 22) })
        {
            var strokes = digit switch
            {
                1 => new[] { (ox + size * 0.5, oy, ox + size * 0.45, oy + size) },
                7 => new[] { (ox + size * 0.1, oy, ox + size * 0.75, oy), (ox + size * 0.75, oy, ox + size * 0.3, oy + size) },
                _ => Ring(ox + size * 0.35, oy + size * 0.5, size * 0.3, size * 0.48),
            };
            var prepared = MnistPreprocessing.Prepare(Draw(320, 300, thick, strokes));
            Assert.False(prepared.Empty);
            Assert.Equal(digit, Predict(prepared.Pixels));
        }
    }

    [Fact]
    public void Mnist_digits_redrawn_large_and_off_centre_keep_their_prediction()
    {
        int agree = 0, total = 0;
        for (int i = 0; i < 40; i++)
        {
            var original = mnist.Data.Test.Images.ReadOnlySpan.Slice(i * 784, 784).ToArray();
            int expected = Predict(original);
            foreach (var (zoom, ox, oy) in new[] { (3, 0, 0), (5, 100, 20), (8, 10, 60) })
            {
                // Dark ink on white paper, enlarged by nearest neighbour and moved.
                int w = 28 * zoom + 130, h = 28 * zoom + 90;
                var paper = Enumerable.Repeat(1f, w * h).ToArray();
                for (int y = 0; y < 28 * zoom; y++)
                    for (int x = 0; x < 28 * zoom; x++) paper[(y + oy) * w + x + ox] = 1 - original[y / zoom * 28 + x / zoom];
                var prepared = MnistPreprocessing.Prepare(new GrayImage(w, h, paper));
                total++;
                if (Predict(prepared.Pixels) == expected) agree++;
            }
        }
        Assert.True(agree >= total * 0.95, $"{agree} of {total} redrawn digits kept their prediction");
    }

    [Fact]
    public void Output_is_mnist_shaped_centred_and_twenty_pixels_on_the_longer_side()
    {
        var prepared = MnistPreprocessing.Prepare(Draw(200, 100, 8, (30, 20, 170, 80)));
        Assert.Equal(784, prepared.Pixels.Length);
        Assert.All(prepared.Pixels, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(1f, prepared.Pixels.Max());
        double mass = 0, cx = 0, cy = 0;
        int minX = 28, maxX = -1;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
            {
                float v = prepared.Pixels[y * 28 + x];
                mass += v; cx += v * x; cy += v * y;
                if (v > 0.05f) { minX = Math.Min(minX, x); maxX = Math.Max(maxX, x); }
            }
        Assert.InRange(cx / mass, 13, 14);
        Assert.InRange(cy / mass, 13, 14);
        Assert.InRange(maxX - minX + 1, 19, 20);
    }

    [Fact]
    public void Blank_and_light_on_dark_and_invalid_input()
    {
        Assert.True(MnistPreprocessing.Prepare(new GrayImage(50, 50, Enumerable.Repeat(1f, 2500).ToArray())).Empty);
        Assert.True(MnistPreprocessing.Prepare(new GrayImage(50, 50, new float[2500])).Empty);
        var lightOnDark = Draw(100, 100, 8, (50, 10, 50, 90));
        var inverted = new GrayImage(100, 100, lightOnDark.Pixels.Select(p => 1 - p).ToArray());
        Assert.Equal(MnistPreprocessing.Prepare(lightOnDark).Pixels, MnistPreprocessing.Prepare(inverted).Pixels);
        Assert.Throws<ArgumentException>(() => MnistPreprocessing.Prepare(new GrayImage(2, 2, [0, 0.5f, 2, 0])));
        Assert.Throws<ArgumentException>(() => MnistPreprocessing.Prepare(new GrayImage(2, 2, [0, float.NaN, 0, 0])));
        Assert.Throws<ArgumentException>(() => MnistPreprocessing.Prepare(new GrayImage(3, 2, [0, 0])));
    }
}
