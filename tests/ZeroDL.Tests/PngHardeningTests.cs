using System.Buffers.Binary;
using ZeroDL.Data;
using ZeroDL.Imaging;

namespace ZeroDL.Tests;

/// <summary>Hostile PNGs (issue 18) through the library and the CLI: clean errors naming the file, bounded cost.</summary>
public class PngHardeningTests
{
    /// <summary>A valid 4×4 gray PNG whose IHDR then says <paramref name="width"/>×<paramref name="height"/> (CRC fixed up).</summary>
    internal static byte[] WithDeclaredSize(uint width, uint height) =>
        PngDecoderTests.Write(4, 4, 0, 8, new int[16], tamper: (type, data) =>
        {
            if (type == "IHDR") { BinaryPrimitives.WriteUInt32BigEndian(data, width); BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), height); }
            return data;
        });

    [Fact]
    public void Zerodl_predict_refuses_a_width_or_height_of_2_to_the_31_with_exit_1()
    {
        string dir = TestPaths.NewTempDirectory(), model = Path.Combine(dir, "sample.safetensors");
        var (code, _, err) = CliTests.Run("import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--model", "sample", "--out", model);
        Assert.True(code == 0, err);
        foreach (var (w, h) in new[] { (1u << 31, 1u), (1u, 1u << 31), (uint.MaxValue, uint.MaxValue) })
        {
            string png = Path.Combine(dir, $"{w}x{h}.png");
            File.WriteAllBytes(png, WithDeclaredSize(w, h));
            (code, _, err) = CliTests.Run("predict", "--model", model, "--image", png);
            Assert.Equal(1, code);
            Assert.Contains($"{png}: PNG size {w}×{h} is empty or larger than", err);
            Assert.DoesNotContain("   at ", err);
        }
    }
}
