namespace ZeroDL.Tests;

public class RngTests
{
    [Fact]
    public void Same_seed_same_sequence_other_seed_other_sequence()
    {
        var a = new Rng(7); var b = new Rng(7); var c = new Rng(8);
        var sa = Enumerable.Range(0, 20).Select(_ => a.NextUInt64()).ToArray();
        Assert.Equal(sa, Enumerable.Range(0, 20).Select(_ => b.NextUInt64()).ToArray());
        Assert.NotEqual(sa, Enumerable.Range(0, 20).Select(_ => c.NextUInt64()).ToArray());
    }

    [Fact]
    public void Bounded_draws_stay_in_range_and_cover_it_evenly()
    {
        var rng = new Rng(1);
        var counts = new int[10];
        for (int i = 0; i < 100_000; i++) counts[rng.Next(10)]++;
        Assert.All(counts, n => Assert.InRange(n, 9_500, 10_500));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.Next(0));
        for (int i = 0; i < 1000; i++) Assert.InRange(rng.NextDouble(), 0.0, 0.9999999999999999);
    }

    [Fact]
    public void Gaussian_has_mean_zero_and_unit_variance()
    {
        var rng = new Rng(2);
        var xs = Enumerable.Range(0, 200_000).Select(_ => rng.NextGaussian()).ToArray();
        Assert.InRange(xs.Average(), -0.01, 0.01);
        Assert.InRange(xs.Select(x => x * x).Average(), 0.98, 1.02);
    }

    [Fact]
    public void Permutation_is_a_permutation()
    {
        var p = new Rng(3).Permutation(1000);
        Assert.Equal(Enumerable.Range(0, 1000), p.OrderBy(v => v));
        Assert.NotEqual(Enumerable.Range(0, 1000), p);
    }

    [Theory]
    [InlineData(0.5, 1003)]
    [InlineData(0.2, 9)]
    [InlineData(0.0, 16)]
    public void Dropout_mask_keeps_the_expected_fraction_in_float_and_double(double ratio, int length)
    {
        var f = new float[length * 100];
        new Rng(4).FillDropoutMask<float>(f, ratio, 2f);
        Assert.All(f, v => Assert.True(v == 0f || v == 2f));
        Assert.InRange(f.Count(v => v == 0f) / (double)f.Length, ratio - 0.03, ratio + 0.03);
        var d = new double[length * 100];
        new Rng(4).FillDropoutMask<double>(d, ratio, 1.0);
        Assert.InRange(d.Count(v => v == 0.0) / (double)d.Length, ratio - 0.03, ratio + 0.03);
    }
}
