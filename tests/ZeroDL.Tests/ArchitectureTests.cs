using ZeroDL.Data;
using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary>Layer configurations, architectures as JSON, shapes checked at construction, summaries and self-describing model files.</summary>
public class ArchitectureTests
{
    /// <summary>Every layer type once, each field away from its default, on input that every layer can take.</summary>
    private static Architecture EveryLayer() => new([3, 12, 10],
    [
        new ConvConfig { Filters = 4, Kernel = new WindowSize(3, 2), Stride = 1, Pad = 1, Init = WeightInit.Xavier, Activation = Activation.Relu },
        new BatchNormConfig { Mode = BatchNormMode.PerChannel, Momentum = 0.8, Epsilon = 1e-5 },
        new MaxPoolConfig { Size = WindowSize.Square(2), Stride = 2 },
        new ConvConfig { Filters = 5, Kernel = WindowSize.Square(3), Stride = 2, Init = WeightInit.Std(0.05) },
        new BatchNormConfig(),
        new DropoutConfig { Ratio = 0.25, Mode = DropoutMode.Inverted },
        new FlattenConfig(),
        new AffineConfig { Units = 7, Init = WeightInit.Std(0.01) },
        new SigmoidConfig(),
        new AffineConfig { Units = 6 },
        new TanhConfig(),
        new AffineConfig { Units = 3, Init = WeightInit.Xavier },
        new ReluConfig(),
    ], weightDecay: 0.01);

    [Fact]
    public void Every_layer_config_round_trips_through_json_and_through_the_layer_it_builds()
    {
        var arch = EveryLayer();
        string json = arch.ToJson();
        Assert.Equal(arch, Architecture.FromJson(json));
        Assert.Equal(arch, Architecture.FromJson(arch.ToJson(indented: true)));
        var net = arch.Build<double>(seed: 2);
        Assert.Equal(arch, net.Architecture); // each layer reports the config it was built from
        Assert.Equal(json, net.Architecture.ToJson());
        foreach (var layer in arch.Layers)
        {
            string one = Architecture.ToJson(layer);
            Assert.StartsWith("{\"type\":\"", one);
            Assert.Equal(layer, Architecture.FromJson($"{{\"input_shape\":[3,12,10],\"layers\":[{one}]}}").Layers[0]);
        }
        // The spellings are the human ones.
        foreach (var word in new[] { "\"type\":\"max_pool\"", "\"kernel\":[3,2]", "\"activation\":\"relu\"", "\"init\":\"xavier\"", "\"init\":0.05",
                                     "\"mode\":\"per-channel\"", "\"mode\":\"per-activation\"", "\"mode\":\"inverted\"", "\"weight_decay\":0.01", "\"input_shape\":[3,12,10]" })
            Assert.Contains(word, json);
        // Shapes: conv keeps 12×10 (pad 1, 3×2 kernel → 12×11), pool halves, conv stride 2, flatten.
        Assert.Equal([[4, 12, 11], [4, 12, 11], [4, 6, 5], [5, 2, 2], [5, 2, 2], [5, 2, 2], [20], [7], [7], [6], [6], [3], [3]],
            net.OutputShapes.Select(s => s.ToArray()));
        var y = net.Predict(new NDArray<double>(2, 3, 12, 10));
        Assert.Equal([2, 3], y.Shape.ToArray());
    }

    [Fact]
    public void Hand_built_layers_report_their_configs()
    {
        var rng = new Rng(1);
        var conv = new Convolution<float>(Init.Normal<float>(0.1, rng, 4, 2, 3, 3), new NDArray<float>(4), stride: 2, pad: 1);
        Assert.Equal(new ConvConfig { Filters = 4, Kernel = WindowSize.Square(3), Stride = 2, Pad = 1 }, conv.Config);
        Assert.Equal(new AffineConfig { Units = 5, Init = WeightInit.Std(0.3) }, new Affine<float>(6, 5, 0.3, rng).Config);
        Assert.Equal(new AffineConfig { Units = 5 }, new Affine<float>(new NDArray<float>(6, 5), new NDArray<float>(5)).Config);
        Assert.Equal(new MaxPoolConfig { Size = new WindowSize(2, 3), Stride = 1, Pad = 1 }, new MaxPooling<float>(2, 3, 1, 1).Config);
        Assert.Equal(new DropoutConfig { Ratio = 0.3, Mode = DropoutMode.Inverted }, new Dropout<float>(0.3, DropoutMode.Inverted, rng).Config);
        Assert.Equal(new BatchNormConfig { Mode = BatchNormMode.PerChannel, Momentum = 0.5, Epsilon = 1e-3 },
            new BatchNormalization<float>(4, BatchNormMode.PerChannel, 0.5, 1e-3).Config);
    }

    [Fact]
    public void A_layer_that_cannot_take_the_shape_before_it_fails_at_construction_naming_it_and_both_shapes()
    {
        var rng = new Rng(1);
        var e = Assert.Throws<ArgumentException>(() => new Sequential<float>([784],
            [new Affine<float>(784, 50, 0.01, rng), new Relu<float>(), new Affine<float>(40, 10, 0.01, rng)]));
        Assert.Contains("affine2", e.Message);
        Assert.Contains("(50,)", e.Message);      // what it gets
        Assert.Contains("W (50, 10)", e.Message); // what that input needs
        Assert.Contains("W (40, 10)", e.Message); // what it has

        e = Assert.Throws<ArgumentException>(() => new Sequential<float>([784], [new Convolution<float>(new NDArray<float>(4, 1, 3, 3), new NDArray<float>(4))]));
        Assert.Contains("conv1", e.Message);
        Assert.Contains("(784,)", e.Message);
        Assert.Contains("(C, H, W)", e.Message);

        // Seven Affine layers, the seventh wrong: its name is the one given.
        var layers = new List<ILayer<float>>();
        for (int i = 0; i < 6; i++) { layers.Add(new Affine<float>(8, 8, 0.1, rng)); layers.Add(new Relu<float>()); }
        layers.Add(new Affine<float>(9, 2, 0.1, rng));
        Assert.Contains("affine7: input (8,) needs W (8, 2), the layer has W (9, 2)", Assert.Throws<ArgumentException>(() => new Sequential<float>([8], layers)).Message);

        // From configs: a pool on a 1×1 map.
        var tiny = Assert.Throws<ArgumentException>(() => Networks.DeepConvNet<float>(seed: 1, inputShape: [1, 3, 3]));
        Assert.Contains("pool3", tiny.Message);     // 3 → 3 → 1 → 1 → 3 → 1 → 1 → 1: no 2×2 window fits
        Assert.Contains("(64, 1, 1)", tiny.Message);
        Assert.Throws<ArgumentException>(() => ModelPresets.Find("deepconv").Build([784], 10, seed: 1)); // a conv preset on flat samples
    }

    [Fact]
    public void DeepConvNet_has_the_parameter_count_of_the_same_network_in_PyTorch()
    {
        // bench/python/deepconv_params.py builds the network in PyTorch and prints sum(p.numel()): 123,552 for
        // 1×28×28 and 10 classes, 123,534 for 3×32×32 and 4 (PyTorch 1.13, Debian's python3-torch). By hand:
        // conv 160 + 2,320 + 4,640 + 9,248 + 18,496 + 36,928, Affine 51,250 + 510 = 123,552.
        var summary = Networks.DeepConvNet<float>(seed: 1).Architecture.Summarize();
        Assert.Equal(123_552, summary.TotalParameters);
        Assert.Equal([160, 2320, 4640, 9248, 18496, 36928, 51250, 510], summary.Rows.Where(r => r.Parameters > 0).Select(r => r.Parameters));
        Assert.Equal(summary.TotalParameters, Networks.DeepConvNet<float>(seed: 1).Parameters.Sum(p => (long)p.Value.Size));
        // Multiply-adds per sample: each convolution's output positions × its filters' taps, and the Affine products.
        long convs = 28L * 28 * 16 * 9 + 28L * 28 * 16 * 144 + 14L * 14 * 32 * 144 + 16L * 16 * 32 * 288 + 8L * 8 * 64 * 288 + 8L * 8 * 64 * 576;
        Assert.Equal(convs + 1024 * 50 + 50 * 10, summary.TotalMultiplyAdds);
        string text = Networks.DeepConvNet<float>(seed: 1).Summary();
        Assert.Contains("parameters: 123,552", text);
        Assert.Contains("conv1", text);
        Assert.Contains("(16, 28, 28)", text);
        Assert.Contains("(64, 4, 4)", text);
        // BatchNorm's running statistics are state, not parameters (PyTorch's buffers): γ and β count.
        var bn = Networks.DeepConvNetSpec() with { BatchNorm = true };
        Assert.Equal(123_552 + 2 * (16 + 16 + 32 + 32 + 64 + 64), bn.ToArchitecture([1, 28, 28], 10).Summarize().TotalParameters);
        Assert.Equal(123_534, Networks.DeepConvNet<float>(seed: 1, inputShape: [3, 32, 32], classes: 4).Architecture.Summarize().TotalParameters);
    }

    [Fact]
    public void The_presets_follow_the_datas_shape_and_classes()
    {
        var net = ModelPresets.Find("deepconv").Build([3, 32, 32], classes: 4, seed: 1);
        var tensors = net.NamedTensors().ToDictionary(t => t.Name, t => t.Value.Shape.ToArray());
        Assert.Equal([16, 3, 3, 3], tensors["conv1.W"]);
        Assert.Equal([1024, 50], tensors["affine1.W"]); // 32 → 16 → 18 → 9 → 4: the same 64·4·4 as 28×28
        Assert.Equal([50, 4], tensors["affine2.W"]);
        Assert.Equal([2, 4], net.Predict(new NDArray<float>(2, 3, 32, 32)).Shape.ToArray());
        // The dense presets flatten whatever comes.
        var dense = ModelPresets.Find("dense").Build([3, 32, 32], classes: 4, seed: 1);
        Assert.Equal([3 * 32 * 32, 512], dense.NamedTensors().First().Value.Shape.ToArray());
        var simple = ModelPresets.Find("simpleconv").Build([3, 20, 20], classes: 5, seed: 1);
        Assert.Equal([30 * 8 * 8, 100], simple.NamedTensors().First(t => t.Name == "affine1.W").Value.Shape.ToArray());
        // MNIST by default, as before.
        Assert.Equal(Networks.DeepConvNet<float>(seed: 1).Architecture, ModelPresets.Find("deepconv").Architecture());
        Assert.IsAssignableFrom<IReadOnlyList<ModelPreset>>(ModelPresets.All);
        Assert.False(ModelPresets.All is ModelPreset[]);
    }

    [Fact]
    public void Documented_DeepConvNet_json_builds_the_books_network()
    {
        var arch = Architecture.FromJson(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "deepconv.json")));
        var fromFile = arch.Build<float>(seed: 3);
        var book = Networks.DeepConvNet<float>(seed: 3);
        Assert.Equal(book.NamedTensors().Select(t => (t.Name, t.Value.ToDoubleArray())), fromFile.NamedTensors().Select(t => (t.Name, t.Value.ToDoubleArray())));
        var x = new NDArray<float>(3, 1, 28, 28);
        new Rng(9).FillUniform(x.Data, 0, 1);
        Assert.Equal(book.Predict(x).Clone().Data, fromFile.Predict(x).Clone().Data);
        Assert.Equal(123_552, arch.Summarize().TotalParameters);
    }

    [Theory]
    [InlineData("{not json", "architecture")]
    [InlineData("null", "null")]
    [InlineData("{\"layers\":[{\"type\":\"relu\"}]}", "input_shape")]                                             // missing field
    [InlineData("{\"input_shape\":[4]}", "layers")]
    [InlineData("{\"input_shape\":[4],\"layers\":[]}", "at least one layer")]
    [InlineData("{\"input_shape\":[4],\"layers\":[null]}", "null")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"gelu\"}]}", "gelu")]                               // unknown type
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"units\":3}]}", "type")]                                     // no type
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\",\"units\":3,\"size\":2}]}", "size")]      // unknown key
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\",\"units\":3}],\"optimizer\":\"adam\"}", "optimizer")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\"}]}", "units")]                            // missing required key
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\",\"units\":-3}]}", "units must be ≥ 1")]   // negative size
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\",\"units\":3.5}]}", "units")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\",\"units\":99999999999}]}", "units")]
    [InlineData("{\"input_shape\":[-4],\"layers\":[{\"type\":\"relu\"}]}", "≤ 0")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\",\"units\":3,\"init\":\"lecun\"}]}", "lecun")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\",\"units\":3,\"init\":-1}]}", "-1")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"dropout\",\"ratio\":1.5}]}", "ratio")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"dropout\",\"ratio\":0.5,\"mode\":\"Classic\"}]}", "Classic")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"batchnorm\",\"mode\":\"per-pixel\"}]}", "per-pixel")]
    [InlineData("{\"input_shape\":[1,8,8],\"layers\":[{\"type\":\"conv\",\"filters\":2,\"kernel\":[3]}]}", "kernel")]
    [InlineData("{\"input_shape\":[1,8,8],\"layers\":[{\"type\":\"conv\",\"filters\":2,\"kernel\":3,\"activation\":\"tanh\"}]}", "activation")]
    [InlineData("{\"input_shape\":[1,8,8],\"layers\":[{\"type\":\"conv\",\"filters\":2,\"kernel\":9}]}", "conv1")]   // does not fit
    [InlineData("{\"input_shape\":[1,8,8],\"layers\":[{\"type\":\"max_pool\",\"size\":2,\"stride\":0}]}", "stride")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\",\"units\":3,\"units\":4}]}", "units")]     // duplicate key
    [InlineData("{\"input_shape\":[30000],\"layers\":[{\"type\":\"affine\",\"units\":30000},{\"type\":\"affine\",\"units\":30000}]}", "more than")]
    [InlineData("{\"input_shape\":[65536,65536],\"layers\":[{\"type\":\"relu\"}]}", "more than")]
    [InlineData("{\"input_shape\":[4],\"layers\":[{\"type\":\"affine\",\"units\":3}],\"weight_decay\":-1}", "weight decay")]
    public void Bad_architecture_json_is_refused_with_a_message_naming_the_problem(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => Architecture.FromJson(json));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_type_key_may_come_anywhere_in_a_layer()
    {
        var arch = Architecture.FromJson("{\"layers\":[{\"units\":3,\"type\":\"affine\"}],\"input_shape\":[4]}");
        Assert.Equal(new AffineConfig { Units = 3 }, arch.Layers[0]);
        Assert.Equal(0, arch.WeightDecay);
    }

    [Fact]
    public void Any_hand_built_network_saves_and_loads_with_bit_identical_predictions_class_names_and_normalization()
    {
        var rng = new Rng(11);
        var net = new Sequential<float>([3, 16, 16],
        [
            new Convolution<float>(Init.Normal<float>(0.2, rng, 6, 3, 5, 5), new NDArray<float>(6), stride: 2, pad: 2),
            new BatchNormalization<float>(6, BatchNormMode.PerChannel),
            new Tanh<float>(),
            new MaxPooling<float>(3, 3, 2, 1),
            new Convolution<float>(Init.Normal<float>(0.2, rng, 4, 6, 3, 3), new NDArray<float>(4), pad: 1) { Rectifies = true },
            new Flatten<float>(),
            new Dropout<float>(0.2, DropoutMode.Inverted, rng.Fork()),
            new Affine<float>(4 * 4 * 4, 12, 0.1, rng),
            new Sigmoid<float>(),
            new Affine<float>(new NDArray<float>(12, 3), NDArray<float>.From([0.5f, -0.25f, 1f], 3)),
        ], weightDecay: 0.001);
        var x = new NDArray<float>(8, 3, 16, 16);
        rng.FillUniform(x.Data, 0, 1);
        net.Gradient(x, [0, 1, 2, 0, 1, 2, 0, 1]); // running statistics away from their start
        rng.FillUniform(((Affine<float>)net.Layers[^1]).W.Value.Data, -1, 1);
        var before = net.Predict(x).Clone();
        string path = Path.Combine(TestPaths.NewTempDirectory(), "hand.safetensors");
        var normalization = new InputNormalization([0.5f, 0.4f, 0.3f], [0.2f, 0.25f, 0.3f]);
        ModelFile.Save(net, path, classNames: ["cat", "dog", "fox"], normalization: normalization);
        var loaded = ModelFile.Load(path);
        Assert.Equal(before.Data, loaded.Network.Predict(x).Data);
        Assert.Equal(net.Architecture, loaded.Network.Architecture);
        Assert.Equal(["cat", "dog", "fox"], loaded.ClassNames);
        Assert.Equal(normalization.Mean, loaded.Normalization.Mean);
        Assert.Equal(normalization.Std, loaded.Normalization.Std);
        Assert.Equal(255f, loaded.Normalization.PixelScale);
        Assert.Equal("2", loaded.Metadata["format_version"]);
        Assert.Equal(0.001, loaded.Network.WeightDecay);
        // Defaults: class names 0…n−1, pixels / 255 per input channel.
        ModelFile.Save(net, path);
        var plain = ModelFile.Load(path);
        Assert.Equal(["0", "1", "2"], plain.ClassNames);
        Assert.True(plain.Normalization.IsIdentity);
        Assert.Equal(3, plain.Normalization.Channels);
        // Names or channels that do not fit the network are refused when saving.
        Assert.Throws<ArgumentException>(() => ModelFile.Save(net, path, classNames: ["cat", "dog"]));
        Assert.Throws<ArgumentException>(() => ModelFile.Save(net, path, classNames: ["cat", "cat", "dog"]));
        Assert.Throws<ArgumentException>(() => ModelFile.Save(net, path, normalization: InputNormalization.Identity(1)));
    }

    [Fact]
    public void The_csharp_example_of_docs_architecture_md_runs()
    {
        // The example as docs/architecture.md gives it, writing to a temporary folder.
        string path = Path.Combine(TestPaths.NewTempDirectory(), "net.safetensors");
        var rng = new Rng(1);
        var net = new Sequential<float>([3, 32, 32],
        [
            new Convolution<float>(Init.Normal<float>(0.1, rng, 8, 3, 3, 3), new NDArray<float>(8), stride: 1, pad: 1) { Rectifies = true },
            new MaxPooling<float>(2, 2, stride: 2),
            new Affine<float>(8 * 16 * 16, 4, 0.01, rng),
        ]);
        Assert.Contains("parameters: 8,420", net.Summary()); // 8·3·9 + 8 + 2048·4 + 4
        ModelFile.Save(net, path, classNames: ["cat", "dog", "fox", "owl"]);
        var loaded = ModelFile.Load(path);
        var x = new NDArray<float>(2, 3, 32, 32);
        rng.FillUniform(x.Data, 0, 1);
        Assert.Equal(net.Predict(x).Clone().Data, loaded.Network.Predict(x).Data);
        Assert.Contains("new Sequential<float>([3, 32, 32],", File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "architecture.md")));
    }

    [Fact]
    public void A_cloned_hand_built_network_copies_state_and_predicts_the_same()
    {
        var rng = new Rng(2);
        var net = new Sequential<float>([1, 8, 8],
        [
            new Convolution<float>(Init.Normal<float>(0.3, rng, 3, 1, 3, 3), new NDArray<float>(3), stride: 2, pad: 1),
            new Relu<float>(),
            new Affine<float>(3 * 4 * 4, 4, 0.2, rng),
        ]);
        var copy = net.CloneArchitecture();
        copy.CopyStateFrom(net);
        var x = new NDArray<float>(2, 64); // flat samples, viewed as (1, 8, 8)
        rng.FillUniform(x.Data, 0, 1);
        var input = net.InSampleShape(x);
        Assert.Equal([2, 1, 8, 8], input.Shape.ToArray());
        Assert.Same(input, net.InSampleShape(x)); // the view is kept
        Assert.Equal(net.Predict(input).Clone().Data, copy.Predict(copy.InSampleShape(x)).Data);
        Assert.Contains("(1, 8, 8)", Assert.Throws<ArgumentException>(() => net.InSampleShape(new NDArray<float>(2, 63))).Message);
    }

    /// <summary>A model file with a replaced metadata entry (the tensors kept).</summary>
    private static string Rewritten(Sequential<float> net, string key, string value)
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "m.safetensors");
        ModelFile.Save(net, path);
        var (_, metadata) = SafeTensors.Read(path);
        metadata[key] = value;
        string output = Path.Combine(dir, "edited.safetensors");
        AtomicFile.Write(output, s => SafeTensors.Write(s, net.NamedTensors(), metadata));
        return output;
    }

    [Fact]
    public void A_file_declaring_a_huge_layer_is_refused_before_anything_is_allocated()
    {
        var net = Networks.TwoLayerNet<float>(784, 50, 10, seed: 1);
        // A 15000×15000 layer: 225 million values, 0.9 GB, were it allocated (within Architecture.MaxValues).
        string json = "{\"input_shape\":[15000],\"layers\":[{\"type\":\"affine\",\"units\":15000},{\"type\":\"affine\",\"units\":10}]}";
        string path = Rewritten(net, "architecture", json);
        // This thread's allocations only: tests running beside this one allocate too. No time limit: speed is for bench/.
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => ModelFile.Load(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 50_000_000, "the refusal allocated the network");
        Assert.Contains("affine1.W", e.Message);
        Assert.Contains("(784, 50)", e.Message);
        Assert.Contains("(15000, 15000)", e.Message);
    }

    [Theory]
    [InlineData("{\"kind\":\"mlp\",\"activation\":null}", "'activation' is null")]
    [InlineData("{\"kind\":\"mlp\",\"dropout_mode\":null}", "'dropout_mode' is null")]
    [InlineData("{\"kind\":\"mlp\",\"hidden_sizes\":[100000,100000]}", "invalid architecture")]
    public void Hostile_version_1_architectures_are_refused_naming_the_file(string recipe, string expected)
    {
        var net = Networks.TwoLayerNet<float>(784, 50, 10, seed: 1);
        string path = Path.Combine(TestPaths.NewTempDirectory(), "v1.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "zerodl", ["format_version"] = "1", ["architecture"] = recipe };
        AtomicFile.Write(path, s => SafeTensors.Write(s, net.NamedTensors(), metadata));
        var e = Assert.Throws<DataFormatException>(() => ModelFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("format_version", "3", "format_version '3'")]
    [InlineData("architecture", "{\"input_shape\":[784],\"layers\":[{\"type\":\"affine\",\"units\":50,\"colour\":1}]}", "colour")]
    [InlineData("architecture", "{\"input_shape\":[784],\"layers\":[{\"type\":\"softmax\"}]}", "softmax")]
    [InlineData("classes", "[\"a\",\"b\"]", "2 class names for 10 outputs")]
    [InlineData("classes", "{\"a\":1}", "classes")]
    [InlineData("normalization", "{\"pixel_scale\":255,\"mean\":[0.5,0.5],\"std\":[1,1]}", "2 channel(s)")]
    [InlineData("normalization", "{\"pixel_scale\":255,\"mean\":[0.5],\"std\":[0]}", "std")]
    [InlineData("normalization", "{\"pixel_scale\":255,\"mean\":[0.5]}", "std")]
    public void Bad_metadata_is_refused_naming_the_file(string key, string value, string expected)
    {
        var net = Networks.TwoLayerNet<float>(784, 50, 10, seed: 1);
        string path = Rewritten(net, key, value);
        var e = Assert.Throws<DataFormatException>(() => ModelFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }
}
