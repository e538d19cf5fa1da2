using Google.Protobuf;
using Onnx;
using Xunit.Abstractions;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Serialization;
using ZeroDL.Serialization.Onnx;
using ZeroDL.Tests.Fixtures;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 20 §2: an ONNX graph of the exported operators becomes a ZeroDL network giving the same outputs bit for bit;
/// any other graph is refused naming the first unsupported operator or attribute; hostile files are refused with a
/// <see cref="DataFormatException"/>, never another exception or a large allocation.
/// </summary>
public class OnnxImportTests(MnistFixture mnist, ITestOutputHelper output) : IClassFixture<MnistFixture>
{
    public static TheoryData<string> Kinds() => [.. OnnxNetworks.All().Select(k => k.Name)];

    private static Sequential<float> Net(string kind) => OnnxNetworks.All().Single(k => k.Name == kind).Net;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Export_then_import_gives_identical_outputs(string kind)
    {
        var net = Net(kind);
        var classes = ModelFile.DefaultClassNames(net.OutputSize).Select(c => "class " + c).ToArray();
        var normalization = InputNormalization.Identity(ModelFile.InputChannels(net.InputShape), 65535f);
        var imported = OnnxImport.Parse(OnnxExport.ToBytes(net, classes, normalization), "test.onnx");
        Assert.Equal(net.Architecture.Describe(), imported.Description);
        Assert.Equal(classes, imported.ClassNames);
        Assert.Equal(normalization.ToJson(), imported.Normalization.ToJson());
        var x = OnnxNetworks.Inputs(net, mnist.Data.Test, 100);
        var expected = net.Predict(x).ReadOnlySpan.ToArray();
        Assert.Equal(expected, imported.Network.Predict(x).ReadOnlySpan.ToArray());
    }

    [Fact]
    public void BatchNormalization_then_Relu_nodes_import_as_fused_layers_with_the_same_outputs()
    {
        // deepconv-best with each per-channel BatchNorm and its ReLU as layers of their own exports as separate
        // BatchNormalization and Relu nodes, as other exporters write them; the import fuses each pair (Fusion), and
        // the fused network must give the same outputs bit for bit.
        var fused = ModelPresets.Find("deepconv-best").Spec.ToArchitecture([1, 28, 28], 10);
        var apart = new Architecture(fused.InputShape.ToArray(), fused.Layers.SelectMany(l => l is Layers.BatchNormConfig { Activation: not null } b
            ? new Layers.LayerConfig[] { b with { Activation = null }, new Layers.ReluConfig() } : [l]), fused.WeightDecay);
        var net = OnnxNetworks.Randomized(apart.Build<float>(seed: 7), seed: 11);
        var imported = OnnxImport.Parse(OnnxExport.ToBytes(net), "apart.onnx");
        Assert.Equal(fused.Describe(), imported.Network.Architecture.Describe());
        Assert.Equal(net.Layers.Count - 6, imported.Network.Layers.Count);
        var x = OnnxNetworks.Inputs(net, mnist.Data.Test, 100);
        var scores = net.Predict(x).ReadOnlySpan.ToArray();
        Assert.All(scores, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(scores, imported.Network.Predict(x).ReadOnlySpan.ToArray());
    }

    [Fact]
    public void Other_exporters_spellings_import_to_the_same_network()
    {
        // twolayer rewritten as other exporters write it: MatMul + Add for the first Affine, an Identity, a Gemm with
        // transB = 0 whose weight (in, out) comes from a Constant node, and a Reshape to (-1, features) as a flatten.
        var net = Net("twolayer");
        var model = Model("twolayer");
        var graph = model.Graph;
        int first = graph.Node.IndexOf(graph.Node.Single(n => n.Name == "affine1"));
        graph.Node[first] = Node("MatMul", "mm", [OnnxFormat.InputName, "affine1.W"], "mm.out");
        graph.Node.Insert(first + 1, Node("Add", "bias", ["affine1.b", "mm.out"], "affine1"));
        var relu = graph.Node.Single(n => n.Name == "relu1");
        relu.Output[0] = "relu1.raw";
        graph.Node.Insert(graph.Node.IndexOf(relu) + 1, Node("Identity", "same", ["relu1.raw"], "relu1"));
        // Export writes W as (out, in) with transB = 1: give affine1's MatMul and affine2's Gemm (transB = 0, its W from
        // a Constant node) the (in, out) layout instead.
        var w1 = graph.Initializer.Single(t => t.Name == "affine1.W");
        graph.Initializer.Remove(w1);
        graph.Initializer.Add(Transposed(w1, "affine1.W"));
        var w2 = graph.Initializer.Single(t => t.Name == "affine2.W");
        graph.Initializer.Remove(w2);
        var constant = Node("Constant", "w2.const", [], "w2");
        constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = Transposed(w2, "w2") });
        graph.Node.Insert(0, constant);
        var gemm = graph.Node.Single(n => n.Name == "affine2");
        gemm.Input[1] = "w2";
        gemm.Attribute.Single(a => a.Name == "transB").I = 0;
        gemm.Input[0] = "flat";
        graph.Initializer.Add(new TensorProto { Name = "shape", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { -1, 50 } });
        graph.Node.Insert(graph.Node.IndexOf(gemm), Node("Reshape", "as-flat", ["relu1", "shape"], "flat"));

        var imported = OnnxImport.Parse(model.ToByteArray(), "foreign.onnx");
        Assert.Equal(net.Architecture.Describe(), imported.Description); // the Reshape as a flatten folds into the Affine
        var x = OnnxNetworks.Inputs(net, mnist.Data.Test, 50);
        Assert.Equal(net.Predict(x).ReadOnlySpan.ToArray(), imported.Network.Predict(x).ReadOnlySpan.ToArray());
    }

    /// <summary>A float matrix initializer transposed, in float_data rather than raw_data.</summary>
    private static TensorProto Transposed(TensorProto w, string name)
    {
        int rows = (int)w.Dims[0], cols = (int)w.Dims[1];
        var raw = w.RawData.ToByteArray();
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, Dims = { cols, rows } };
        var values = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) values[c * rows + r] = BitConverter.ToSingle(raw, (r * cols + c) * 4);
        t.FloatData.Add(values);
        return t;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.Add(inputs);
        node.Output.Add(output);
        return node;
    }

    /// <summary>An exported model of <paramref name="kind"/>, as protobuf classes to edit.</summary>
    private static ModelProto Model(string kind = "strides-pads-tanh-flatten") => ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(Net(kind)));

    private static DataFormatException Refused(ModelProto model) =>
        Assert.Throws<DataFormatException>(() => OnnxImport.Parse(model.ToByteArray(), "m.onnx"));

    [Fact]
    public void An_unsupported_operator_is_refused_by_name()
    {
        var model = Model();
        model.Graph.Node.Single(n => n.Name == "tanh1").OpType = "LRN";
        var e = Refused(model);
        Assert.StartsWith("m.onnx: ", e.Message);
        Assert.Contains("'tanh1' (LRN) is not an operator ZeroDL imports", e.Message);
    }

    [Theory]
    [InlineData("conv1", "group", 2L, "attribute group = 2")]
    [InlineData("pool1", "ceil_mode", 1L, "attribute ceil_mode = 1")]
    [InlineData("relu1", "alpha", 1L, "attribute 'alpha' is not supported")]
    [InlineData("affine1", "transA", 1L, "attribute transA = 1")]
    [InlineData("batchnorm1", "training_mode", 1L, "attribute training_mode = 1")]
    public void An_unsupported_attribute_is_refused_by_name(string node, string attribute, long value, string message)
    {
        var model = Model();
        model.Graph.Node.Single(n => n.Name == node).Attribute.Add(new AttributeProto { Name = attribute, Type = AttributeProto.Types.AttributeType.Int, I = value });
        var e = Refused(model);
        Assert.Contains($"'{node}'", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Unequal_strides_or_pads_are_refused_by_attribute()
    {
        var model = Model();
        var strides = model.Graph.Node.Single(n => n.Name == "conv1").Attribute.Single(a => a.Name == "strides");
        strides.Ints[1] = 1;
        Assert.Contains("attribute strides [2, 1]", Refused(model).Message);
        model = Model();
        model.Graph.Node.Single(n => n.Name == "pool1").Attribute.Single(a => a.Name == "pads").Ints[3] = 0;
        Assert.Contains("attribute pads [1, 1, 1, 0]", Refused(model).Message);
    }

    [Fact]
    public void A_graph_that_is_not_one_chain_is_refused()
    {
        var model = Model("twolayer");
        var relu = model.Graph.Node.Single(n => n.Name == "relu1");
        relu.Input[0] = OnnxFormat.InputName; // a branch from the input
        Assert.Contains("does not continue the chain", Refused(model).Message);
        model = Model("twolayer");
        model.Graph.Output.Add(model.Graph.Output[0].Clone());
        Assert.Contains("has 2 outputs", Refused(model).Message);
    }

    [Fact]
    public void A_corrupt_protobuf_is_refused()
    {
        var bytes = OnnxExport.ToBytes(Net("twolayer"));
        var e = Assert.Throws<DataFormatException>(() => OnnxImport.Parse(bytes[..(bytes.Length / 2)], "cut.onnx"));
        Assert.Contains("cut.onnx: not a valid ONNX file", e.Message);
        Assert.Throws<DataFormatException>(() => OnnxImport.Parse([0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "junk.onnx"));
        Assert.Contains("imports no opset", Assert.Throws<DataFormatException>(() => OnnxImport.Parse([], "empty.onnx")).Message);
    }

    [Fact]
    public void Weights_of_the_wrong_shape_are_refused()
    {
        var model = Model("twolayer");
        var w = model.Graph.Initializer.Single(t => t.Name == "affine1.W");
        (w.Dims[0], w.Dims[1]) = (w.Dims[1], w.Dims[0]); // same count, transposed shape
        var message = Refused(model).Message;
        Assert.True(message.Contains("weight has 50 rows, the input (784,) has 784 features"), message);
        model = Model("twolayer");
        w = model.Graph.Initializer.Single(t => t.Name == "affine1.b");
        w.Dims[0] = 49;
        Assert.Contains("tensor 'affine1.b' declares shape [49] (49 values) but holds 200 bytes", Refused(model).Message);
    }

    [Fact]
    public void Huge_declared_dimensions_are_refused_without_allocating_them()
    {
        var model = Model("twolayer");
        var w = model.Graph.Initializer.Single(t => t.Name == "affine1.W");
        w.Dims.Clear();
        w.Dims.Add([1L << 20, 1L << 20]);
        var bytes = model.ToByteArray();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => OnnxImport.Parse(bytes, "m.onnx"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 * bytes.Length + (1 << 20));
        Assert.Contains("declares shape [1048576, 1048576], more than the", e.Message);

        model = Model("twolayer");
        model.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue = 1L << 40;
        Assert.Contains("dimension 1 is 1099511627776", Refused(model).Message);
    }

    [Fact]
    public void External_data_is_refused()
    {
        var model = Model("twolayer");
        var w = model.Graph.Initializer.Single(t => t.Name == "affine1.W");
        w.RawData = ByteString.Empty;
        w.DataLocation = TensorProto.Types.DataLocation.External;
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "/etc/passwd" });
        var e = Refused(model);
        Assert.Contains("tensor 'affine1.W' refers to external data (/etc/passwd)", e.Message);
    }

    [Fact]
    public void Non_finite_weights_and_bad_metadata_are_refused()
    {
        var model = Model("twolayer");
        var b = model.Graph.Initializer.Single(t => t.Name == "affine2.b");
        var values = b.RawData.ToByteArray();
        BitConverter.GetBytes(float.NaN).CopyTo(values, 8);
        b.RawData = ByteString.CopyFrom(values);
        Assert.Contains("tensor 'affine2.b' holds NaN at index 2", Refused(model).Message);
        model = Model("twolayer");
        model.MetadataProps.Single(p => p.Key == OnnxFormat.ClassesKey).Value = "[\"a\"]";
        Assert.Contains("names 1 classes for 10 outputs", Refused(model).Message);
    }

    [Fact]
    public void A_mutation_sweep_of_an_onnx_file_parses_or_refuses_every_case()
    {
        var seed = OnnxExport.ToBytes(Net("strides-pads-tanh-flatten"));
        // Protobuf keeps its sizes in varints, not fixed-width fields: the truncations, bit flips and overwritten runs
        // reach them; Huge_declared_dimensions_… sets the declared sizes one by one.
        var report = MutationSweep.Run(seed, [], bytes => OnnxImport.Parse(bytes, "sweep.onnx"), maxAllocatedBytes: 64 * seed.Length + (4 << 20));
        output.WriteLine($"{report.Cases} cases of a {seed.Length}-byte ONNX file: {report.Parsed} parsed, {report.Refused} refused; most allocated {report.MaxAllocatedBytes:N0} bytes ({report.WorstCase}); slowest {report.Slowest.TotalMilliseconds:F1} ms");
        Assert.True(report.Cases >= 10_000);
        Assert.True(report.Refused > 0 && report.Parsed > 0);
    }
}
