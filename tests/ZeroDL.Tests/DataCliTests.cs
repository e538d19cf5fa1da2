using ZeroDL.Data;
using ZeroDL.Imaging;

namespace ZeroDL.Tests;

/// <summary>The data options of the CLI (zerodl data) and ImageInput, the single-image path of predict and serve.</summary>
public class DataCliTests
{
    [Fact]
    public void A_file_becomes_the_input_its_dataset_row_is()
    {
        string dir = TestPaths.NewTempDirectory();
        ImageFolderTests.WritePng(Path.Combine(dir, "train", "a", "1.png"), 6, 4, 10, 200, 30);
        ImageFolderTests.WritePng(Path.Combine(dir, "train", "b", "2.png"), 6, 4, 90, 20, 130);
        ImageFolderTests.WritePng(Path.Combine(dir, "test", "b", "3.png"), 8, 8, 50, 60, 70);
        var (train, test) = ImageFolder.Load(dir, new ImageFolderOptions { Resize = (4, 6) });
        var image = PixelImage.Load(Path.Combine(dir, "test", "b", "3.png"));
        var input = ImageInput.ToInput(image, 3, 4, 6, train.Normalization!, "3.png");
        Assert.Equal(test.Images.ReadOnlySpan.ToArray(), input);

        var gray = new PixelImage(6, 4, 1, new byte[24]);
        var e = Assert.Throws<DataFormatException>(() => ImageInput.ToInput(gray, 3, 4, 6, train.Normalization!, "g.png"));
        Assert.Equal("g.png: is gray (1 channel) but the model takes colour (3 channels) images of 4×6: convert the image", e.Message);
    }

    [Fact]
    public void Zerodl_data_describes_a_tree_and_refuses_bad_ones_with_exit_1_or_2()
    {
        string dir = TestPaths.NewTempDirectory();
        for (int i = 0; i < 5; i++)
        {
            ImageFolderTests.WritePng(Path.Combine(dir, "red", $"{i}.png"), 5, 5, 250, 0, 0);
            ImageFolderTests.WritePng(Path.Combine(dir, "blue", $"{i}.png"), 5, 5, 0, 0, 250);
        }
        var (code, output, error) = CliTests.Run("data", "--data", dir, "--test-split", "0.4", "--resize", "3", "4");
        Assert.True(code == 0, error);
        Assert.Contains("6 training and 4 test images of 3×3×4, 2 classes", output);
        Assert.Matches(@"0  blue\s+3\s+2", output);
        Assert.Contains("mean 0.4902 std 0.4902", output); // red: half the training images 250/255, half 0

        (code, _, error) = CliTests.Run("data", "--data", dir);
        Assert.Equal(2, code);
        Assert.Contains("--test-split", error);
        (code, _, error) = CliTests.Run("data", "--data", dir, "--test-split", "0.4", "--resize", "0", "4");
        Assert.Equal(2, code);
        File.WriteAllText(Path.Combine(dir, "red", "notes.txt"), "not an image");
        (code, _, error) = CliTests.Run("data", "--data", dir, "--test-split", "0.4");
        Assert.Equal(1, code);
        Assert.Contains(Path.Combine(dir, "red", "notes.txt") + ": not a PNG image", error);
        (code, _, error) = CliTests.Run("data", "--data", Path.Combine(dir, "missing"));
        Assert.Equal(1, code);
        Assert.Contains("data folder not found", error);
    }

    [Fact]
    public void A_preset_too_deep_for_the_images_is_refused_with_exit_1_naming_the_layer()
    {
        string dir = TestPaths.NewTempDirectory();
        for (int i = 0; i < 3; i++)
            foreach (var (split, name, r, b) in new[] { ("train", "red", 250, 0), ("train", "blue", 0, 250), ("test", "red", 250, 0), ("test", "blue", 0, 250) })
                ImageFolderTests.WritePng(Path.Combine(dir, split, name, $"{i}.png"), 5, 5, (byte)r, 0, (byte)b);
        // DeepConvNet pools three times: a 1×1 image cannot be pooled once.
        var (code, _, error) = CliTests.Run("train", "--model", "deepconv", "--data", dir, "--resize", "1", "1", "--epochs", "1",
            "--out", Path.Combine(dir, "m.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("deepconv does not fit 3×1×1 images: pool1", error);
    }
}
