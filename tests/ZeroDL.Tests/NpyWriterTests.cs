using System.Text;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

public class NpyWriterTests
{
    [Fact]
    public void The_header_is_numpys_own_and_the_data_starts_on_a_64_byte_boundary()
    {
        byte[] bytes = NpyWriter.Encode([1, 2, 3, 4, 5, 6], [2, 3]);
        int length = BitConverter.ToUInt16(bytes, 8);
        string header = Encoding.ASCII.GetString(bytes, 10, length);
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", header.TrimEnd(' ', '\n'));
        Assert.EndsWith("\n", header);
        Assert.Equal(0, (10 + length) % 64);
        Assert.Equal(10 + length + 6 * 4, bytes.Length);

        string vector = Encoding.ASCII.GetString(NpyWriter.Encode([7f], [1]), 10, 64 - 10);
        Assert.Contains("'shape': (1,)", vector);
    }

    [Fact]
    public void What_it_writes_reads_back_value_for_value()
    {
        float[] values = [0f, -1.5f, float.Epsilon, 3.4028235e38f, 1e-7f, 0.1f];
        string path = Path.Combine(Path.GetTempPath(), $"npywriter-{Guid.NewGuid():N}.npy");
        try
        {
            NpyWriter.Write(path, values, [3, 2]);
            var read = Npy.ReadFile(path);
            Assert.Equal("<f4", read.Dtype);
            Assert.Equal([3, 2], read.Shape);
            Assert.Equal(values.Select(v => (double)v), read.Data);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData(new[] { 2, 2 }, 3)]
    [InlineData(new[] { -1, 3 }, 3)]
    public void A_shape_that_does_not_hold_the_values_is_refused(int[] shape, int count) =>
        Assert.Throws<ArgumentException>(() => NpyWriter.Encode(new float[count], shape));
}
