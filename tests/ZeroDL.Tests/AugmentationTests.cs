using ZeroDL.Data;
using ZeroDL.Training;

namespace ZeroDL.Tests;

public class AugmentationTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    private float[] FirstImages(int count) => mnist.Data.Train.Images.ReadOnlySpan.Slice(0, count * 784).ToArray();

    [Fact]
    public void Same_seed_and_key_give_the_same_images_and_other_keys_or_seeds_differ()
    {
        var a = FirstImages(8); var b = FirstImages(8); var c = FirstImages(8); var d = FirstImages(8);
        new Augmenter(new AugmentationOptions(), seed: 5).Apply(a, 8, firstKey: 100);
        new Augmenter(new AugmentationOptions(), seed: 5).Apply(b, 8, firstKey: 100);
        new Augmenter(new AugmentationOptions(), seed: 5).Apply(c, 8, firstKey: 108);
        new Augmenter(new AugmentationOptions(), seed: 6).Apply(d, 8, firstKey: 100);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, d);
        Assert.NotEqual(FirstImages(8), a); // it did distort
    }

    [Fact]
    public void Zero_strengths_leave_images_exactly_as_they_are()
    {
        var images = FirstImages(4);
        var none = new AugmentationOptions { Shift = 0, Rotation = 0, Scale = 0, ElasticAlpha = 0 };
        new Augmenter(none, seed: 1).Apply(images, 4, 0);
        Assert.Equal(FirstImages(4), images);
    }

    [Theory]
    [InlineData(2, 0, 0, 0)]
    [InlineData(0, 15, 0, 0)]
    [InlineData(0, 0, 0.2, 0)]
    [InlineData(0, 0, 0, 10)]
    [InlineData(3, 20, 0.2, 20)]
    public void Pixel_range_is_kept_and_the_ink_moves_but_stays(double shift, double rotation, double scale, double elastic)
    {
        const int count = 50;
        var original = FirstImages(count);
        var images = (float[])original.Clone();
        new Augmenter(new AugmentationOptions { Shift = shift, Rotation = rotation, Scale = scale, ElasticAlpha = elastic }, seed: 3).Apply(images, count, 0);
        Assert.All(images, v => Assert.InRange(v, 0f, 1f));
        Assert.NotEqual(original, images);
        for (int i = 0; i < count; i++)
        {
            double before = original.AsSpan(i * 784, 784).ToArray().Sum(), after = images.AsSpan(i * 784, 784).ToArray().Sum();
            // Mild distortions keep most of the ink in the field (scaling changes the area by up to (1 ± s)², the elastic field a little more).
            Assert.InRange(after / before, 0.5, 1.7);
        }
    }

    [Fact]
    public void Strengths_out_of_range_are_refused_by_name()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationOptions { Rotation = -1 }.Validated());
        Assert.Contains("rotation", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationOptions { Scale = double.NaN }.Validated());
        Assert.Contains("scale", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationOptions { ElasticSigma = 0 }.Validated());
        Assert.Contains("sigma", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Batches_keep_their_labels_and_are_the_same_in_background_or_not(bool background)
    {
        var data = mnist.Data.Train.Take(1000);
        var options = new AugmentationOptions();
        using var plain = new BatchLoader(data, 100, false, 10, 20, new Rng(9), background: false);
        using var augmented = new BatchLoader(data, 100, false, 10, 20, new Rng(9), background, new Augmenter(options, 9));
        using var again = new BatchLoader(data, 100, false, 10, 20, new Rng(9), background: !background, new Augmenter(options, 9));
        for (int it = 0; it < 20; it++)
        {
            var p = plain.Next(); var a = augmented.Next(); var g = again.Next();
            Assert.Equal(p.LabelSpan.ToArray(), a.LabelSpan.ToArray());
            Assert.NotEqual(p.Images.ToDoubleArray(), a.Images.ToDoubleArray());
            Assert.Equal(a.Images.ToDoubleArray(), g.Images.ToDoubleArray());
            plain.Release(p); augmented.Release(a); again.Release(g);
        }
    }
}

public class AugmentationKernelTests
{
    [Theory]
    [InlineData(1, 0.5)]
    [InlineData(7, 1.0)]
    [InlineData(13, 2.5)]
    [InlineData(28, 4.0)]
    [InlineData(33, 3.0)]
    [InlineData(40, 6.0)]
    public void Fast_smoothing_equals_the_per_pixel_reference_bit_for_bit(int side, double sigma)
    {
        var rng = new Rng(side);
        var field = new float[side * side];
        rng.FillUniform(field, -1, 1);
        var expected = (float[])field.Clone();
        var smoothing = new GaussianSmoothing(sigma, side);
        smoothing.Apply(field, 3f);
        smoothing.ApplyReference(expected, 3f);
        Assert.Equal(expected, field);
        Assert.Equal(1.0, smoothing.Kernel.ToArray().Sum(k => (double)k), 5);
    }

    [Fact]
    public void Smoothing_a_constant_field_keeps_it_and_a_wrong_size_is_refused()
    {
        var smoothing = new GaussianSmoothing(2, 10);
        var field = Enumerable.Repeat(0.5f, 100).ToArray();
        smoothing.Apply(field);
        Assert.All(field, v => Assert.Equal(0.5f, v, 5));
        var e = Assert.Throws<ArgumentException>(() => smoothing.Apply(new float[99]));
        Assert.Contains("10×10", e.Message);
    }

    [Fact]
    public void FillUniform_gives_the_same_numbers_as_NextDouble()
    {
        var a = new Rng(42); var b = new Rng(42);
        var values = new float[1001];
        a.FillUniform(values, -1, 1);
        for (int i = 0; i < values.Length; i++) Assert.Equal((float)(2 * b.NextDouble() - 1), values[i]);
        Assert.Equal(b.NextUInt64(), a.NextUInt64()); // and leaves the generator where the loop would
    }

    [Theory]
    [InlineData(28, 2, 10, 0.1, 10, 4)]
    [InlineData(28, 0, 0, 0, 34, 2)]
    [InlineData(16, 3, 30, 0.3, 20, 1.5)]
    [InlineData(41, 1, 5, 0.05, 8, 5)]
    public void Fast_augmentation_equals_the_plain_reference_bit_for_bit(int side, double shift, double rotation, double scale, double alpha, double sigma)
    {
        var options = new AugmentationOptions { Shift = shift, Rotation = rotation, Scale = scale, ElasticAlpha = alpha, ElasticSigma = sigma };
        var rng = new Rng(side);
        var images = new float[6 * side * side];
        rng.FillUniform(images, 0, 1);
        var expected = (float[])images.Clone();
        new Augmenter(options, seed: 9, side).Apply(images, 6, 1000);
        new Augmenter(options, seed: 9, side).ApplyReference(expected, 6, 1000);
        Assert.Equal(expected, images);
    }

    [Theory]
    [InlineData(3, 32, 32)]
    [InlineData(3, 20, 32)]
    [InlineData(2, 31, 9)]
    public void Every_channel_of_an_image_gets_the_same_transform(int channels, int height, int width)
    {
        var options = new AugmentationOptions { Shift = 3, Rotation = 20, Scale = 0.2, ElasticAlpha = 12, ElasticSigma = 3 };
        int plane = height * width, count = 4;
        var rng = new Rng(height * width);
        var first = new float[count * plane];
        rng.FillUniform(first, 0, 1);
        // Channel c of image i is first-channel × 2^-c: halving is exact in float, and so is every bilinear step on it.
        var images = new float[count * channels * plane];
        for (int i = 0; i < count; i++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++) images[(i * channels + c) * plane + p] = first[i * plane + p] * MathF.Pow(2, -c);
        var original = (float[])images.Clone();
        var augmenter = new Augmenter(options, seed: 3, channels, height, width);
        augmenter.Apply(images, count, firstKey: 50);
        var gray = (float[])first.Clone();
        new Augmenter(options, seed: 3, 1, height, width).Apply(gray, count, firstKey: 50);
        Assert.NotEqual(original, images);
        for (int i = 0; i < count; i++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++)
                    Assert.Equal(gray[i * plane + p] * MathF.Pow(2, -c), images[(i * channels + c) * plane + p]);
        var reference = (float[])original.Clone();
        augmenter.ApplyReference(reference, count, firstKey: 50);
        Assert.Equal(reference, images);
        Assert.All(images, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void A_square_one_channel_image_is_transformed_as_by_the_side_constructor()
    {
        var rng = new Rng(28);
        var a = new float[5 * 784];
        rng.FillUniform(a, 0, 1);
        var b = (float[])a.Clone();
        new Augmenter(new AugmentationOptions(), seed: 2).Apply(a, 5, 9);
        new Augmenter(new AugmentationOptions(), seed: 2, channels: 1, height: 28, width: 28).Apply(b, 5, 9);
        Assert.Equal(a, b);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Augmenter(new AugmentationOptions(), 1, channels: 0, height: 8, width: 8));
        Assert.Throws<ArgumentException>(() => new Augmenter(new AugmentationOptions(), 1, 3, 8, 8).Apply(new float[3 * 64 - 1], 1, 0));
    }
}
