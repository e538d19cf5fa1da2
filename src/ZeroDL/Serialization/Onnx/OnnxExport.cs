using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Onnx;
using ZeroDL.Data;
using ZeroDL.Layers;
using ZeroDL.Models;

namespace ZeroDL.Serialization.Onnx;

/// <summary>
/// Writes a ZeroDL network as an ONNX model (opset <see cref="OnnxFormat.Opset"/>, protobuf through Google.Protobuf)
/// that computes, in inference mode, what <see cref="Sequential{T}.PredictProbabilities"/> computes. The graph takes
/// <see cref="OnnxFormat.InputName"/>, a float batch (N, …input shape) of prepared samples with N dynamic, and gives
/// <see cref="OnnxFormat.OutputName"/>, (N, classes) probabilities. Each layer becomes:
/// <list type="bullet">
/// <item>Affine: Gemm(x, Wᵀ, b) with transB = 1, W stored transposed as (out, in) like PyTorch's Linear; input of more
/// than one axis is flattened first (Flatten axis 1).</item>
/// <item>Convolution: Conv with its stride and pad on every side, then Relu when the ReLU is fused into it.</item>
/// <item>MaxPooling: MaxPool (ONNX pads never win a window, as ZeroDL's padding does not).</item>
/// <item>ReLU, Sigmoid, Tanh: Relu, Sigmoid, Tanh.</item>
/// <item>BatchNorm on flat samples, or per channel on (C, H, W): BatchNormalization with the running statistics.</item>
/// <item>BatchNorm per activation on (C, H, W) (the book's rule): Flatten, Sub(running_mean), Mul(1/√(running_var + ε)),
/// Mul(γ), Add(β) over the C·H·W features — ZeroDL's own operations in its order, so its rounding too — and Reshape
/// back to (N, C, H, W).</item>
/// <item>Dropout, classic: Mul by the inference-time scale (1 − ratio) as ZeroDL rounds it to float32; inverted: an
/// ONNX Dropout with its ratio, which is the identity at inference.</item>
/// <item>Flatten: Flatten axis 1. The network's scores: Softmax over axis 1.</item>
/// </list>
/// Tensors keep their ZeroDL names (conv1.W, batchnorm2.running_var, …). The class names, the input normalisation and
/// the architecture go in metadata_props (<see cref="OnnxFormat.ClassesKey"/>, <see cref="OnnxFormat.NormalizationKey"/>,
/// <see cref="OnnxFormat.ArchitectureKey"/>).
/// </summary>
public static class OnnxExport
{
    /// <summary>
    /// Writes <paramref name="net"/> to <paramref name="path"/> atomically. <paramref name="classNames"/> defaults to
    /// "0", "1", …; <paramref name="normalization"/> to pixels / 255 on each input channel, as <see cref="ModelFile.Save"/>.
    /// </summary>
    public static void Write(Sequential<float> net, string path, IReadOnlyList<string>? classNames = null, InputNormalization? normalization = null)
    {
        var bytes = ToBytes(net, classNames, normalization);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>Writes a loaded model, with its class names and normalisation, to <paramref name="path"/> atomically.</summary>
    public static void Write(LoadedModel model, string path) => Write(model.Network, path, model.ClassNames, model.Normalization);

    /// <summary>The ONNX model's bytes (see <see cref="Write(Sequential{float}, string, IReadOnlyList{string}?, InputNormalization?)"/>).</summary>
    public static byte[] ToBytes(Sequential<float> net, IReadOnlyList<string>? classNames = null, InputNormalization? normalization = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        var classes = classNames ?? ModelFile.DefaultClassNames(net.OutputSize);
        if (classes.Count != net.OutputSize) throw new ArgumentException($"{classes.Count} class names for {net.OutputSize} outputs");
        var norm = normalization ?? InputNormalization.Identity(ModelFile.InputChannels(net.InputShape));
        if (norm.Channels != ModelFile.InputChannels(net.InputShape))
            throw new ArgumentException($"normalization has {norm.Channels} channel(s), the network's input {LayerConfig.ShapeText(net.InputShape)} has {ModelFile.InputChannels(net.InputShape)}");
        return Build(net, classes, norm).ToByteArray();
    }

    internal static ModelProto Build(Sequential<float> net, IReadOnlyList<string> classes, InputNormalization normalization)
    {
        var graph = new GraphProto { Name = "zerodl" };
        graph.Input.Add(ValueInfo(OnnxFormat.InputName, net.InputShape));
        var emit = new Emitter(graph);
        string current = OnnxFormat.InputName;
        var names = net.NamedLayers();
        for (int i = 0; i < net.Layers.Count; i++)
        {
            var input = i == 0 ? net.InputShape : net.OutputShapes[i - 1];
            current = EmitLayer(emit, net.Layers[i], names[i], current, input);
        }
        if (net.OutputShapes[^1].Length != 1)
            current = emit.Node("Flatten", "output.flatten", [current], [Attribute("axis", 1)]);
        emit.Node("Softmax", "softmax", [current], [Attribute("axis", 1)], output: OnnxFormat.OutputName);
        graph.Output.Add(ValueInfo(OnnxFormat.OutputName, [net.OutputSize]));

        var model = new ModelProto
        {
            IrVersion = OnnxFormat.IrVersion,
            ProducerName = "ZeroDL",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            DocString = $"{net.Architecture.Describe()}. Input: prepared samples, (pixel / pixel_scale − mean[c]) / std[c] with the values of '{OnnxFormat.NormalizationKey}'. Output: class probabilities in the order of '{OnnxFormat.ClassesKey}'.",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxFormat.Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = OnnxFormat.ClassesKey, Value = JsonSerializer.Serialize(classes) });
        model.MetadataProps.Add(new StringStringEntryProto { Key = OnnxFormat.NormalizationKey, Value = normalization.ToJson() });
        model.MetadataProps.Add(new StringStringEntryProto { Key = OnnxFormat.ArchitectureKey, Value = net.Architecture.ToJson() });
        return model;
    }

    /// <summary>Emits the nodes of one layer reading <paramref name="x"/>; returns the name of its output.</summary>
    private static string EmitLayer(Emitter emit, ILayer<float> layer, string name, string x, IReadOnlyList<int> input)
    {
        switch (layer)
        {
            case Affine<float> affine:
                if (input.Count != 1) x = emit.Node("Flatten", name + ".flatten", [x], [Attribute("axis", 1)]);
                // W transposed to (out, in) with transB = 1, as PyTorch's Linear exports: OpenCV's dnn reads only that layout.
                return emit.Node("Gemm", name, [x, emit.Weights(name + ".W", Transposed(affine.W.Value)), emit.Weights(name + ".b", affine.B.Value)],
                    [new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 }]);
            case Convolution<float> conv:
            {
                var attributes = new[]
                {
                    Attribute("kernel_shape", conv.KernelHeight, conv.KernelWidth), Attribute("strides", conv.Stride, conv.Stride),
                    Attribute("pads", conv.Pad, conv.Pad, conv.Pad, conv.Pad),
                };
                string y = emit.Node("Conv", name, [x, emit.Weights(name + ".W", conv.W.Value), emit.Weights(name + ".b", conv.B.Value)], attributes);
                return conv.Rectifies ? emit.Node("Relu", name + ".relu", [y], []) : y;
            }
            case MaxPooling<float> pool:
                return emit.Node("MaxPool", name, [x],
                [
                    Attribute("kernel_shape", pool.PoolHeight, pool.PoolWidth), Attribute("strides", pool.Stride, pool.Stride),
                    Attribute("pads", pool.Pad, pool.Pad, pool.Pad, pool.Pad),
                ]);
            case Relu<float>: return emit.Node("Relu", name, [x], []);
            case Sigmoid<float>: return emit.Node("Sigmoid", name, [x], []);
            case Tanh<float>: return emit.Node("Tanh", name, [x], []);
            case Flatten<float>: return emit.Node("Flatten", name, [x], [Attribute("axis", 1)]);
            case BatchNormalization<float> bn:
            {
                // A fused ReLU is exported as its own node after the normalisation.
                string normalized = EmitBatchNorm(emit, bn, name, x, input);
                return bn.Rectifies ? emit.Node("Relu", name + ".relu", [normalized], []) : normalized;
            }
            case Dropout<float> dropout when dropout.Mode == DropoutMode.Classic:
                // The scale exactly as Dropout<float> computes it at inference: 1 − ratio in double, rounded to float.
                return emit.Node("Mul", name, [x, emit.Scalar(name + ".scale", (float)(1.0 - dropout.Ratio))], []);
            case Dropout<float> dropout:
                return emit.Node("Dropout", name, [x, emit.Scalar(name + ".ratio", (float)dropout.Ratio)], []);
            default:
                throw new NotSupportedException($"{name}: layers of type {layer.GetType().Name} have no ONNX export");
        }
    }

    /// <summary>
    /// Emits a BatchNormalization layer's normalisation (its fused ReLU, if any, is the caller's); returns the name of
    /// its output.
    /// </summary>
    private static string EmitBatchNorm(Emitter emit, BatchNormalization<float> bn, string name, string x, IReadOnlyList<int> input)
    {
        if (input.Count == 3 && bn.Features != input[0])
        {
            // The book's per-activation rule on images, on the flattened activations in BatchNormalization<float>'s
            // own order and rounding: ((x − mean) · (1 / √(var + ε))) · γ + β per feature, then back to (N, C, H, W).
            // ONNX's BatchNormalization would compute x·s + (β − mean·s): the same formula, but where a variance is
            // near 0 its cancellation differs from ZeroDL's by far more than rounding. (Flattened first: OpenCV's dnn
            // folds a Mul right after a Conv into the Conv's per-channel weights, which per-activation factors are not.)
            x = emit.Node("Flatten", name + ".flatten", [x], [Attribute("axis", 1)]);
            x = emit.Node("Sub", name + ".center", [x, emit.Weights(name + ".running_mean", bn.RunningMean)], []);
            x = emit.Node("Mul", name + ".normalize", [x, emit.Weights(name + ".inv_std", InverseStd(bn))], []);
            x = emit.Node("Mul", name + ".scale", [x, emit.Weights(name + ".gamma", bn.Gamma.Value)], []);
            x = emit.Node("Add", name + ".shift", [x, emit.Weights(name + ".beta", bn.Beta.Value)], []);
            // Back to (N, C, H, W), the batch axis left to the runtime (−1).
            string shape = emit.Int64s(name + ".shape", [-1, input[0], input[1], input[2]]);
            return emit.Node("Reshape", name, [x, shape], []);
        }
        return emit.Node("BatchNormalization", name,
            [x, emit.Weights(name + ".gamma", bn.Gamma.Value), emit.Weights(name + ".beta", bn.Beta.Value),
             emit.Weights(name + ".running_mean", bn.RunningMean), emit.Weights(name + ".running_var", bn.RunningVar)],
            [Attribute("epsilon", (float)bn.Epsilon), Attribute("momentum", (float)bn.Momentum)]);
    }

    /// <summary>1 / √(running_var + ε) per feature, in float32 exactly as <see cref="BatchNormalization{T}"/> computes it at inference.</summary>
    internal static NDArray<float> InverseStd(BatchNormalization<float> bn)
    {
        float eps = (float)bn.Epsilon;
        var result = new NDArray<float>(bn.Features);
        var v = bn.RunningVar.ReadOnlySpan; var r = result.Span;
        for (int i = 0; i < r.Length; i++) r[i] = 1f / MathF.Sqrt(v[i] + eps);
        return result;
    }

    /// <summary>A (rows, cols) matrix as (cols, rows).</summary>
    private static NDArray<float> Transposed(NDArray<float> w)
    {
        int rows = w.Shape[0], cols = w.Shape[1];
        var t = new NDArray<float>(cols, rows);
        var source = w.ReadOnlySpan; var target = t.Span;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) target[c * rows + r] = source[r * cols + c];
        return t;
    }

    private static ValueInfoProto ValueInfo(string name, IReadOnlyList<int> sampleShape)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = OnnxFormat.BatchDimension });
        foreach (int d in sampleShape) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, params long[] values)
    {
        if (values.Length == 1 && name == "axis") return new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = values[0] };
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }

    private static AttributeProto Attribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>Adds nodes and initializers to a graph, naming each node's output after the node.</summary>
    private sealed class Emitter(GraphProto graph)
    {
        public string Node(string op, string name, string[] inputs, AttributeProto[] attributes, string? output = null)
        {
            var node = new NodeProto { OpType = op, Name = name };
            node.Input.Add(inputs);
            node.Output.Add(output ?? name);
            node.Attribute.Add(attributes);
            graph.Node.Add(node);
            return output ?? name;
        }

        public string Weights(string name, NDArray<float> value)
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian");
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(value.ReadOnlySpan)) };
            foreach (int d in value.Shape) tensor.Dims.Add(d);
            graph.Initializer.Add(tensor);
            return name;
        }

        public string Scalar(string name, float value)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            tensor.FloatData.Add(value);
            graph.Initializer.Add(tensor);
            return name;
        }

        public string Int64s(string name, long[] values)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.Add(values.Length);
            tensor.Int64Data.Add(values);
            graph.Initializer.Add(tensor);
            return name;
        }
    }
}
