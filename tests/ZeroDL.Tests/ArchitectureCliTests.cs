using ZeroDL.Models;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary><c>zerodl summary</c> and <c>zerodl train --arch</c>, run as a user runs them.</summary>
public class ArchitectureCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliTests.Run(args);

    [Fact]
    public void Summary_of_a_preset_an_architecture_file_and_a_model_file()
    {
        var (code, output, err) = Run("summary", "--model", "deepconv");
        Assert.True(code == 0, err);
        Assert.Contains("parameters: 123,552", output);
        Assert.Contains("conv6", output);
        Assert.Contains("(64, 4, 4)", output);

        (code, output, err) = Run("summary", "--arch", Path.Combine("docs", "deepconv.json"));
        Assert.True(code == 0, err);
        Assert.Contains("parameters: 123,552", output);

        (code, output, err) = Run("summary", "--model", "deepconv", "--input-shape", "3,32,32", "--classes", "4");
        Assert.True(code == 0, err);
        Assert.Contains("(16, 32, 32)", output);
        Assert.Contains("(4,)", output);

        string model = Path.Combine(TestPaths.NewTempDirectory(), "two.safetensors");
        ModelFile.Save(Networks.TwoLayerNet<float>(784, 50, 10, seed: 1), model);
        (code, output, err) = Run("summary", model);
        Assert.True(code == 0, err);
        Assert.Contains("parameters: 39,760", output); // 784·50 + 50 + 50·10 + 10
    }

    [Fact]
    public void Convert_keeps_the_class_names_and_normalization()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "m.safetensors"), half = Path.Combine(dir, "m16.safetensors");
        var net = Networks.SimpleConvNet<float>(seed: 1, inputShape: [3, 12, 12], classes: 3);
        var normalization = new Data.InputNormalization([0.5f, 0.4f, 0.3f], [0.2f, 0.25f, 0.3f]);
        ModelFile.Save(net, model, classNames: ["cat", "dog", "fox"], normalization: normalization);
        var (code, _, err) = Run("convert", "--model", model, "--out", half, "--dtype", "f16");
        Assert.True(code == 0, err);
        var loaded = ModelFile.Load(half);
        Assert.Equal(["cat", "dog", "fox"], loaded.ClassNames);
        Assert.Equal(normalization.Mean, loaded.Normalization.Mean);
        Assert.Equal(net.Architecture, loaded.Network.Architecture);
    }

    [Fact]
    public void An_architecture_file_with_a_utf8_byte_order_mark_is_read()
    {
        // As Windows editors save JSON; it was refused as "'0xEF' is an invalid start of a value".
        string path = Path.Combine(TestPaths.NewTempDirectory(), "bom.json");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "docs", "deepconv.json"))]);
        var (code, output, err) = Run("summary", "--arch", path);
        Assert.True(code == 0, err);
        Assert.Contains("parameters: 123,552", output);
    }

    [Fact]
    public void Summary_refuses_bad_arguments_and_files()
    {
        Assert.Equal(2, Run("summary").Code);
        Assert.Equal(2, Run("summary", "--model", "deepconv", "--arch", "x.json").Code);
        Assert.Equal(2, Run("summary", "--model", "nosuch").Code);
        var (code, _, err) = Run("summary", "--model", "deepconv", "--input-shape", "1,2,2");
        Assert.Equal(2, code);
        Assert.Contains("pool", err);
        string dir = TestPaths.NewTempDirectory();
        string bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(bad, "{\"input_shape\":[4],\"layers\":[{\"type\":\"gelu\"}]}");
        (code, _, err) = Run("summary", "--arch", bad);
        Assert.Equal(1, code);
        Assert.Contains(bad, err);
        Assert.Contains("gelu", err);
        (code, _, err) = Run("summary", "--arch", Path.Combine(dir, "missing.json"));
        Assert.Equal(1, code);
        Assert.Contains("missing.json", err);
    }

    [Fact]
    public void Train_a_network_defined_in_json_then_load_it()
    {
        string dir = TestPaths.NewTempDirectory();
        string arch = Path.Combine(dir, "small.json");
        File.WriteAllText(arch, """
            {
              "input_shape": [1, 28, 28],
              "layers": [
                {"type": "conv", "filters": 4, "kernel": [5, 5], "stride": 2, "activation": "relu"},
                {"type": "max_pool", "size": [2, 2], "stride": 2},
                {"type": "flatten"},
                {"type": "affine", "units": 20},
                {"type": "tanh"},
                {"type": "affine", "units": 10, "init": "xavier"}
              ]
            }
            """);
        string model = Path.Combine(dir, "small.safetensors");
        var (code, output, err) = Run("train", "--arch", arch, "--iterations", "5", "--batch-size", "20", "--train-samples", "200", "--eval-samples", "100", "--out", model);
        Assert.True(code == 0, err + output);
        Assert.Contains("Training small: 1×28×28 → conv 4 5×5 stride 2 relu → max_pool 2×2 stride 2", output);
        Assert.Contains("Test accuracy:", output);
        var loaded = ModelFile.Load(model);
        Assert.Equal(Architecture.FromJson(File.ReadAllText(arch)), loaded.Network.Architecture);
        Assert.Equal("small", loaded.PresetName);
        (code, output, err) = Run("evaluate", "--model", model);
        Assert.True(code == 0, err);
        Assert.Contains("conv 4 5×5", output);

        // --arch gives the layers: the preset switches that change them are refused; a bad file is a file error.
        (code, _, err) = Run("train", "--arch", arch, "--hidden", "30", "--iterations", "1");
        Assert.Equal(2, code);
        Assert.Contains("--hidden", err);
        File.WriteAllText(arch, "{\"input_shape\":[784],\"layers\":[{\"type\":\"affine\",\"units\":0}]}");
        (code, _, err) = Run("train", "--arch", arch, "--iterations", "1");
        Assert.Equal(1, code);
        Assert.Contains("units must be ≥ 1", err);
        // A network that does not fit the data is a model/data mismatch: exit 1, naming the file and both shapes.
        File.WriteAllText(arch, "{\"input_shape\":[3,32,32],\"layers\":[{\"type\":\"affine\",\"units\":10}]}");
        (code, _, err) = Run("train", "--arch", arch, "--iterations", "1");
        Assert.Equal(1, code);
        Assert.Contains(arch, err);
        Assert.Contains("mnist has 1×28×28", err);
    }
}
