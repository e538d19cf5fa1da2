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
