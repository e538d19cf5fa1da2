namespace ZeroDL.Tests;

public class TensorTests
{
    [Fact]
    public void Reshape_is_a_view_and_infers_one_axis()
    {
        var t = NDArray<float>.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var r = t.Reshape(3, -1);
        Assert.Equal(new[] { 3, 2 }, r.Shape);
        r[0, 1] = 42;
        Assert.Equal(42, t[0, 1]);
    }

    [Fact]
    public void Bad_reshape_and_shape_mismatch_name_both_shapes()
    {
        var t = new NDArray<float>(2, 3);
        var e = Assert.Throws<ArgumentException>(() => t.Reshape(4, 2));
        Assert.Contains("(2, 3)", e.Message); Assert.Contains("(4, 2)", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => t.RequireSameShape(new NDArray<float>(3, 2)));
        Assert.Contains("(2, 3)", e2.Message); Assert.Contains("(3, 2)", e2.Message);
    }

    [Fact]
    public void Index_out_of_range_names_the_shape()
    {
        var t = new NDArray<double>(2, 2);
        var e = Assert.Throws<IndexOutOfRangeException>(() => t[2, 0]);
        Assert.Contains("(2, 2)", e.Message);
    }

    [Fact]
    public void Half_round_trip_rounds_to_nearest_even()
    {
        var t = NDArray<float>.FromArray([1f, 0.1f, 65504f, -2.5f, 1e-8f]);
        var h = t.ToHalf();
        var back = NDArray<float>.FromHalf(h, 5);
        Assert.Equal(1f, back[0]);
        Assert.Equal((float)(Half)0.1f, back[1]);
        Assert.Equal(0.0999755859375f, back[1]);
        Assert.Equal(65504f, back[2]);
        Assert.Equal(-2.5f, back[3]);
        Assert.Equal(0f, back[4]); // below half's smallest subnormal
    }

    [Fact]
    public void Float64_tensors_work_and_cast()
    {
        var d = NDArray<double>.From([0.1, 0.2, 0.3]);
        var f = d.Cast<float>();
        Assert.Equal(0.1f, f[0]);
        Assert.Equal(0.1, d[0]);
    }

    [Fact]
    public void Reuse_keeps_the_buffer_for_smaller_shapes()
    {
        var big = new NDArray<float>(100, 10);
        var small = NDArray<float>.Reuse(big, 50, 10);
        Assert.Same(big.Data, small.Data);
        Assert.Equal(500, small.Size);
        var bigger = NDArray<float>.Reuse(big, 200, 10);
        Assert.NotSame(big.Data, bigger.Data);
    }

    [Fact]
    public void ArgMax_takes_the_first_maximum_per_row()
    {
        var t = NDArray<float>.FromArray([0.1f, 0.8f, 0.1f, 0.3f, 0.1f, 0.6f, 0.5f, 0.5f, 0f], 3, 3);
        Assert.Equal(new[] { 1, 2, 0 }, t.ArgMaxRows());
    }
}
