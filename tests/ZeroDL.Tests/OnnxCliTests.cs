using ZeroDL.Serialization;
using ZeroDL.Serialization.Onnx;

namespace ZeroDL.Tests;

/// <summary>Issue 20: `zerodl export` and `zerodl import --from m.onnx` as a user runs them, with their exit codes.</summary>
public class OnnxCliTests
{
    [Fact]
    public void The_books_deepconvnet_exported_and_imported_back_evaluates_to_9935()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "dc.safetensors"), onnx = Path.Combine(dir, "dc.onnx"), back = Path.Combine(dir, "back.safetensors");
        var (code, _, err) = CliTests.Run("import", "--from", Path.Combine("data", "reference", "deep_convnet_2016.npz"), "--model", "deepconv", "--out", model);
        Assert.True(code == 0, err);
        (code, var output, err) = CliTests.Run("export", "--model", model, "--out", onnx);
        Assert.True(code == 0, err);
        Assert.Contains($"opset {OnnxFormat.Opset}", output);
        (code, output, err) = CliTests.Run("import", "--from", onnx, "--out", back);
        Assert.True(code == 0, err);
        Assert.Contains("Imported", output);
        (code, output, err) = CliTests.Run("evaluate", "--model", back);
        Assert.True(code == 0, err);
        Assert.Contains("(9935 of 10000 correct)", output);
        // The same network and weights as the model file it came from.
        var (before, after) = (ModelFile.Load(model).Network, ModelFile.Load(back).Network);
        Assert.Equal(before.Architecture.Describe(), after.Architecture.Describe());
        Assert.Equal(before.NamedTensors().Select(t => t.Value.ReadOnlySpan.ToArray()), after.NamedTensors().Select(t => t.Value.ReadOnlySpan.ToArray()));
    }

    [Fact]
    public void Bad_import_arguments_and_files_give_exit_2_and_1()
    {
        string dir = TestPaths.NewTempDirectory();
        string junk = Path.Combine(dir, "junk.onnx");
        File.WriteAllBytes(junk, [0x08, 0xFF, 0xFF, 0xFF]);
        var (code, _, err) = CliTests.Run("import", "--from", junk, "--out", Path.Combine(dir, "m.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains($"{junk}: not a valid ONNX file", err);
        (code, _, err) = CliTests.Run("import", "--from", junk, "--model", "deepconv", "--out", Path.Combine(dir, "m.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--model is for .npz weights", err);
        (code, _, err) = CliTests.Run("import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--out", Path.Combine(dir, "m.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--model is required", err);
        (code, _, err) = CliTests.Run("export", "--model", Path.Combine(dir, "missing.safetensors"), "--out", Path.Combine(dir, "m.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("missing.safetensors: file not found", err);
        Assert.False(File.Exists(Path.Combine(dir, "m.safetensors")));
    }
}
