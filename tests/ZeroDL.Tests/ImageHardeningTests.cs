using System.Text;
using ZeroDL.Data;
using ZeroDL.Imaging;

namespace ZeroDL.Tests;

/// <summary>Issue 18: hostile PGM files and ImageFolder trees get clean errors naming the file, at a bounded cost.</summary>
public class ImageHardeningTests
{
    private static DataFormatException Refused(string text, byte[]? payload = null) =>
        Assert.Throws<DataFormatException>(() => Pgm.Decode([.. Encoding.ASCII.GetBytes(text), .. payload ?? []], "x.pgm"));

    [Fact]
    public void A_pgm_declaring_more_pixels_than_it_holds_is_refused_before_allocating_them()
    {
        // 4096 × 4096 declared (within the 16 MP bound) in files of a few bytes: the 64 MB float array was allocated
        // before the payload was found missing.
        foreach (var (text, expected) in new[]
        {
            ("P5 4096 4096 255\n", "x.pgm: truncated PGM: 4096×4096 needs 16777216 bytes of pixels, 0 present"),
            ("P5 4096 4096 65535\n\x01\x02", "x.pgm: truncated PGM: 4096×4096 needs 33554432 bytes of pixels, 2 present"),
            ("P2 4096 4096 255\n1 2 3", "x.pgm: truncated PGM: 4096×4096 needs at least 33554431 bytes of ASCII pixels, 6 present"),
        })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal(expected, Refused(text).Message);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, text);
        }
    }

    [Fact]
    public void Pgm_sizes_and_maxval_are_checked()
    {
        Assert.Equal("x.pgm: PGM size 4097×4096 is empty or larger than 16777216 pixels", Refused("P5 4097 4096 255\n").Message);
        Assert.Equal("x.pgm: PGM size 0×5 is empty or larger than 16777216 pixels", Refused("P5 0 5 255\n").Message);
        Assert.Equal("x.pgm: PGM width '4294967296' is not a non-negative integer", Refused("P5 4294967296 1 255\n").Message);
        Assert.Equal("x.pgm: PGM width '-1' is not a non-negative integer", Refused("P5 -1 1 255\n").Message);
        Assert.Equal("x.pgm: PGM maxval 0 outside 1..65535", Refused("P5 1 1 0\n", [0]).Message);
        Assert.Equal("x.pgm: PGM maxval 65536 outside 1..65535", Refused("P5 1 1 65536\n", [0, 0]).Message);
        Assert.Equal("x.pgm: PGM pixel 1 value 201 exceeds maxval 200", Refused("P5 2 1 200\n", [200, 201]).Message);
        Assert.Equal("x.pgm: PGM pixel 0 value 256 exceeds maxval 255", Refused("P2 1 1 255\n256").Message);
        Assert.Equal("x.pgm: corrupt PGM: no whitespace after maxval", Refused("P5 1 1 255#", [7]).Message);
        Assert.Equal("x.pgm: truncated PGM header", Refused("P2 2 1 255\n1   ").Message);
        Assert.Equal(new[] { 0f, 1f }, Pgm.Decode([.. "P5 2 1 65535\n"u8, 0, 0, 255, 255], "x.pgm").Pixels);
    }

    /// <summary>A new two-class ImageFolder ("a" and "b"), two 4×4 RGB PNGs in each.</summary>
    internal static string Tree()
    {
        string dir = TestPaths.NewTempDirectory();
        for (int i = 0; i < 2; i++)
        {
            ImageFolderTests.WritePng(Path.Combine(dir, "a", $"{i}.png"), 4, 4, 10, 20, 30);
            ImageFolderTests.WritePng(Path.Combine(dir, "b", $"{i}.png"), 4, 4, 200, 100, 0);
        }
        return dir;
    }

    private static DataFormatException LoadFails(string dir) =>
        Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir, new ImageFolderOptions { TestSplit = 0.5 }));

    [Fact]
    public void Hostile_files_in_an_image_folder_are_refused_naming_the_file()
    {
        string dir = Tree(), bad = Path.Combine(dir, "b", "1.png");
        File.WriteAllText(bad, "#!/bin/sh\necho not an image\n");
        Assert.Equal($"{bad}: not a PNG image (the file does not start with the PNG signature)", LoadFails(dir).Message);
        File.WriteAllBytes(bad, []);
        Assert.Equal($"{bad}: not a PNG image (the file is empty)", LoadFails(dir).Message);
        File.WriteAllBytes(bad, PngHardeningTests.WithDeclaredSize(1u << 31, 1u << 31));
        Assert.StartsWith($"{bad}: PNG size 2147483648×2147483648 is empty or larger than", LoadFails(dir).Message);
        // 8192 × 2048 (16 MP, within the budget) declared by a 70-byte file: refused before its 64 MB of RGBA exist.
        File.WriteAllBytes(bad, PngHardeningTests.WithDeclaredSize(8192, 2048));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.StartsWith($"{bad}: corrupt PNG: ", LoadFails(dir).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
    }

    [Fact]
    public void A_symbolic_link_loop_in_an_image_folder_is_refused_naming_the_link()
    {
        string dir = Tree();
        string loop = Path.Combine(dir, "a", "again");
        Directory.CreateSymbolicLink(loop, Path.Combine(dir, "a"));
        Directory.CreateSymbolicLink(Path.Combine(dir, "a", "more"), Path.Combine(dir, "a"));
        var e = LoadFails(dir);
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(Path.Combine(dir, "a"))}/(again|more): is a symbolic link to .*, a folder already read", e.Message);
        // A link to a folder outside the tree is read as a folder of the class.
        Directory.Delete(loop); Directory.Delete(Path.Combine(dir, "a", "more"));
        string outside = TestPaths.NewTempDirectory();
        ImageFolderTests.WritePng(Path.Combine(outside, "x.png"), 4, 4, 1, 2, 3);
        Directory.CreateSymbolicLink(Path.Combine(dir, "a", "linked"), outside);
        var (train, test) = ImageFolder.Load(dir, new ImageFolderOptions { TestSplit = 0.5 });
        Assert.Equal(5, train.Count + test.Count);
    }
}
