using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Onnx;
using ZeroDL.Data;
using ZeroDL.Layers;
using ZeroDL.Models;

namespace ZeroDL.Serialization.Onnx;

/// <summary>
/// Reads an ONNX model whose graph is one chain of the operators <see cref="OnnxExport"/> writes into a ZeroDL network:
/// <list type="bullet">
/// <item>Gemm (alpha = beta = 1, transA = 0, transB 0 or 1, bias of (units) or (1, units)), or MatMul by a weight matrix
/// with an optional Add of a bias right after it → Affine (a Flatten right before it is folded in: Affine flattens);</item>
/// <item>Conv (2-D, one stride and one pad for every side, dilation 1, group 1) → Convolution, and a Relu right after it
/// is fused into it as ZeroDL's networks do; MaxPool (2-D, likewise, ceil_mode 0, one output) → MaxPooling;</item>
/// <item>Relu, Sigmoid, Tanh; Flatten (axis 1), or a Reshape to (N, features) → Flatten;</item>
/// <item>BatchNormalization in inference mode → BatchNorm, per channel on (C, H, W); Sub(mean) → Mul(1/√(var + ε)) →
/// Mul(γ) → Add(β) with constants of the sample's shape → BatchNorm per activation; either on flattened images followed
/// by a Reshape back to (C, H, W) → BatchNorm per activation on the images (the book's rule, as <see cref="OnnxExport"/>
/// writes it);</item>
/// <item>Dropout (inference: identity) → inverted dropout with its ratio; Mul by a scalar s in (0, 1] → classic dropout
/// of ratio 1 − s (its inference-time scale); Identity → nothing;</item>
/// <item>Softmax as the last node → nothing (ZeroDL's outputs are scores; probabilities and the argmax follow from them).</item>
/// </list>
/// Constants may be initializers or Constant nodes. The class names and normalisation are read from metadata_props
/// (<see cref="OnnxFormat.ClassesKey"/>, <see cref="OnnxFormat.NormalizationKey"/>) when present, else "0", "1", … and
/// pixels / 255. Anything else is refused with a <see cref="DataFormatException"/> naming the file and the first
/// unsupported operator or attribute; hostile input (a corrupt protobuf, shapes that do not fit, huge declared
/// dimensions, external data, NaN weights) is refused the same way, before anything is allocated in proportion to
/// what the file declares rather than what it holds.
/// </summary>
public static class OnnxImport
{
    /// <summary>Reads the ONNX file at <paramref name="path"/> (<see cref="Parse"/>); a missing file is a <see cref="DataFormatException"/> naming it.</summary>
    public static LoadedModel Load(string path) => Parse(DataFile.ReadAllBytes(path), path);

    /// <summary>Reads an ONNX model from its bytes; <paramref name="source"/> names it in messages.</summary>
    public static LoadedModel Parse(byte[] bytes, string source)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw DataFormatException.For(source, $"not a valid ONNX file (protobuf: {e.Message})", e); }
        return new Reader(model, source).Read();
    }

    /// <summary>The walk along the chain of one model's graph.</summary>
    private sealed class Reader(ModelProto model, string source)
    {
        private readonly Dictionary<string, TensorProto> _constants = new(StringComparer.Ordinal);
        private readonly List<(LayerConfig Config, float[][] Tensors, string Node)> _layers = [];
        private int[] _shape = [], _inputShape = [];
        private string _current = "";
        /// <summary>The (C, H, W) a Flatten took, while the layers after it may still be a per-activation BatchNorm.</summary>
        private int[]? _flattenedImage;
        private bool _matMulOpen;
        /// <summary>Nodes after the current one that its layer took in as well (Sub → Mul → Mul → Add).</summary>
        private int _consumed;

        public LoadedModel Read()
        {
            CheckModel();
            var graph = model.Graph ?? throw Bad("has no graph");
            if (graph.Node.Count > OnnxFormat.MaxNodes || graph.Initializer.Count > OnnxFormat.MaxNodes)
                throw Bad($"has {graph.Node.Count} nodes and {graph.Initializer.Count} initializers, more than the {OnnxFormat.MaxNodes} each that ZeroDL reads");
            if (graph.SparseInitializer.Count > 0) throw Bad("has sparse initializers, which ZeroDL does not read");
            foreach (var t in graph.Initializer)
                if (!_constants.TryAdd(t.Name, t)) throw Bad($"has two initializers named '{OnnxTensors.Printable(t.Name)}'");
            ReadInput(graph);
            if (graph.Output.Count != 1) throw Bad($"has {graph.Output.Count} outputs; ZeroDL imports a graph with one output (the class scores or probabilities)");
            bool softmax = false;
            for (int i = 0; i < graph.Node.Count; i++)
            {
                var node = graph.Node[i];
                if (softmax) throw Unsupported(node, i, "follows the Softmax; ZeroDL imports Softmax only as the last node");
                if (node.Domain is not ("" or "ai.onnx")) throw Unsupported(node, i, $"is in domain '{OnnxTensors.Printable(node.Domain)}'; ZeroDL imports operators of the default ONNX domain only");
                if (node.OpType == "Constant") { ReadConstant(node, i); continue; }
                softmax = ReadNode(node, i, graph.Node);
                i += _consumed;
                _consumed = 0;
            }
            if (graph.Output[0].Name != _current)
                throw Bad($"the graph's output '{OnnxTensors.Printable(graph.Output[0].Name)}' is not the end of the chain of layers from its input ('{OnnxTensors.Printable(_current)}')");
            return Build();
        }

        private void CheckModel()
        {
            int? opset = null;
            foreach (var o in model.OpsetImport)
            {
                if (o.Domain is "" or "ai.onnx") opset = (int)Math.Clamp(o.Version, int.MinValue, int.MaxValue);
                // Other domains may be listed by exporters without being used; a node using one is refused by name.
            }
            if (opset is null) throw Bad("imports no opset of the default ONNX domain");
            if (opset < OnnxFormat.MinImportOpset || opset > OnnxFormat.MaxImportOpset)
                throw Bad($"uses opset {opset}; ZeroDL reads opsets {OnnxFormat.MinImportOpset} to {OnnxFormat.MaxImportOpset}");
            if (model.Functions.Count > 0) throw Bad("defines functions, which ZeroDL does not import");
        }

        /// <summary>The one graph input that is not an initializer: a float (N, features) or (N, C, H, W) tensor.</summary>
        private void ReadInput(GraphProto graph)
        {
            var inputs = graph.Input.Where(v => !_constants.ContainsKey(v.Name)).ToList();
            if (inputs.Count != 1) throw Bad($"has {inputs.Count} inputs besides its weights; ZeroDL imports a graph with one input");
            var input = inputs[0];
            var tensor = input.Type?.TensorType ?? throw Bad($"input '{OnnxTensors.Printable(input.Name)}' is not a tensor");
            if (tensor.ElemType != (int)TensorProto.Types.DataType.Float) throw Bad($"input '{OnnxTensors.Printable(input.Name)}' is not float32 (element type {tensor.ElemType})");
            var dims = tensor.Shape?.Dim ?? throw Bad($"input '{OnnxTensors.Printable(input.Name)}' has no shape");
            if (dims.Count is not (2 or 4)) throw Bad($"input '{OnnxTensors.Printable(input.Name)}' has {dims.Count} dimensions; ZeroDL takes (N, features) or (N, C, H, W)");
            var shape = new int[dims.Count - 1];
            for (int d = 1; d < dims.Count; d++)
            {
                var dim = dims[d];
                if (dim.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || dim.DimValue < 1 || dim.DimValue > LayerConfig.MaxSize)
                    throw Bad($"input '{OnnxTensors.Printable(input.Name)}' dimension {d} is {(dim.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? dim.DimValue.ToString(CultureInfo.InvariantCulture) : "not a number")}; every dimension but the batch must be a size from 1 to {LayerConfig.MaxSize}");
                shape[d - 1] = (int)dim.DimValue;
            }
            CheckSample(shape, $"input '{OnnxTensors.Printable(input.Name)}'");
            _shape = shape;
            _inputShape = shape;
            _current = input.Name;
        }

        private void ReadConstant(NodeProto node, int index)
        {
            if (node.Output.Count != 1 || node.Attribute.Count != 1 || node.Attribute[0].Name != "value" || node.Attribute[0].T is null)
                throw Unsupported(node, index, "is a Constant without one tensor 'value'; ZeroDL reads constant tensors only");
            if (!_constants.TryAdd(node.Output[0], node.Attribute[0].T)) throw Unsupported(node, index, $"redefines '{OnnxTensors.Printable(node.Output[0])}'");
        }

        /// <summary>Turns one node into a layer (or folds it into the last); returns true for the final Softmax.</summary>
        private bool ReadNode(NodeProto node, int index, IList<NodeProto> nodes)
        {
            var data = node.Input.Where(n => n.Length > 0 && !_constants.ContainsKey(n)).ToList();
            if (data.Count != 1 || data[0] != _current)
                throw Unsupported(node, index, $"does not continue the chain from the input (it reads {string.Join(", ", node.Input.Select(n => $"'{OnnxTensors.Printable(n)}'"))}, the chain is at '{OnnxTensors.Printable(_current)}'); ZeroDL imports a single chain of layers");
            foreach (var a in node.Attribute)
                if (a.RefAttrName.Length > 0) throw Unsupported(node, index, $"attribute '{OnnxTensors.Printable(a.Name)}' refers to a function's attribute");
            bool matMulOpen = _matMulOpen;
            _matMulOpen = false;
            bool last = false;
            switch (node.OpType)
            {
                case "Gemm": Gemm(node, index); break;
                case "MatMul": MatMul(node, index); break;
                case "Add" when matMulOpen: AddBias(node, index); break;
                case "Conv": Conv(node, index); break;
                case "MaxPool": MaxPool(node, index); break;
                case "Relu": Attributes(node, index); Add(new ReluConfig(), [], node, index); break;
                case "Sigmoid": Attributes(node, index); Add(new SigmoidConfig(), [], node, index); break;
                case "Tanh": Attributes(node, index); Add(new TanhConfig(), [], node, index); break;
                case "Flatten":
                    if (Attributes(node, index, "axis").Int("axis", 1) != 1) throw Unsupported(node, index, "attribute axis must be 1 (flatten each sample)");
                    Flatten(node, index);
                    break;
                case "Reshape": Reshape(node, index); break;
                case "BatchNormalization": BatchNorm(node, index); break;
                case "Dropout": Dropout(node, index, nodes); break;
                case "Mul": ScaleDropout(node, index); break;
                case "Sub": NormalizeSteps(node, index, nodes); break;
                case "Identity": Attributes(node, index); break;
                case "Softmax":
                {
                    long axis = Attributes(node, index, "axis").Int("axis", -1);
                    if (_shape.Length != 1 || axis is not (1 or -1)) throw Unsupported(node, index, $"with axis {axis} on samples {LayerConfig.ShapeText(_shape)}; ZeroDL imports Softmax only over the classes of (N, classes) scores");
                    last = true;
                    break;
                }
                default:
                    throw Unsupported(node, index, "is not an operator ZeroDL imports (Gemm, MatMul, Add after MatMul, Conv, MaxPool, Relu, Sigmoid, Tanh, BatchNormalization, Sub → Mul → Mul → Add, Dropout, Mul by a scalar, Flatten, Reshape, Identity, Softmax last, Constant)");
            }
            if (node.OpType != "Dropout" && node.Output.Count != 1) throw Unsupported(node, index, $"has {node.Output.Count} outputs; ZeroDL imports operators with one output");
            _current = nodes[index + _consumed].Output[0];
            return last;
        }

        private void Gemm(NodeProto node, int index)
        {
            var a = Attributes(node, index, "alpha", "beta", "transA", "transB");
            if (a.Float("alpha", 1f) != 1f || a.Float("beta", 1f) != 1f) throw Unsupported(node, index, "attribute alpha or beta is not 1");
            if (a.Int("transA", 0) != 0) throw Unsupported(node, index, "attribute transA = 1 (the input is not transposed in ZeroDL's Affine)");
            long transB = a.Int("transB", 0);
            if (transB is not (0 or 1)) throw Unsupported(node, index, $"attribute transB = {transB}");
            if (node.Input.Count < 2 || node.Input[0] != _current) throw Unsupported(node, index, "does not take the chain's value as its first input A");
            var (w, shape) = Constant(node, index, node.Input[1], "B");
            if (shape.Length != 2) throw Unsupported(node, index, $"weight B has shape {LayerConfig.ShapeText(shape)}, not a matrix");
            if (transB == 1) { w = Transpose(w, shape[0], shape[1]); shape = [shape[1], shape[0]]; }
            CheckAffine(node, index, shape);
            var b = node.Input.Count > 2 && node.Input[2].Length > 0 ? Bias(node, index, node.Input[2], shape[1]) : new float[shape[1]];
            Affine(node, index, w, shape, b);
        }

        private void MatMul(NodeProto node, int index)
        {
            Attributes(node, index);
            if (node.Input.Count != 2 || node.Input[0] != _current) throw Unsupported(node, index, "does not multiply the chain's value by a weight matrix (x · W)");
            var (w, shape) = Constant(node, index, node.Input[1], "W");
            if (shape.Length != 2) throw Unsupported(node, index, $"weight has shape {LayerConfig.ShapeText(shape)}, not a matrix");
            Affine(node, index, w, shape, new float[shape[1]]);
            _matMulOpen = true;
        }

        private void AddBias(NodeProto node, int index)
        {
            Attributes(node, index);
            string other = node.Input.Count == 2 ? node.Input[0] == _current ? node.Input[1] : node.Input[0] : "";
            var affine = (AffineConfig)_layers[^1].Config;
            var b = Bias(node, index, other, affine.Units);
            _layers[^1].Tensors[1] = b;
        }

        /// <summary>Checks a weight matrix (in, out) against the chain's samples, before its bias is read.</summary>
        private void CheckAffine(NodeProto node, int index, int[] shape)
        {
            int features = LayerConfig.Elements(_shape);
            if (shape[0] != features) throw Unsupported(node, index, $"weight has {shape[0]} rows, the input {LayerConfig.ShapeText(_shape)} has {features} features per sample");
            if (shape[1] < 1 || shape[1] > LayerConfig.MaxSize) throw Unsupported(node, index, $"has {shape[1]} outputs; ZeroDL's Affine has 1 to {LayerConfig.MaxSize}");
        }

        private void Affine(NodeProto node, int index, float[] w, int[] shape, float[] b)
        {
            CheckAffine(node, index, shape);
            // ZeroDL's Affine flattens its input itself: a Flatten just before it is folded in.
            if (_layers.Count > 0 && _layers[^1].Config is FlattenConfig) { _layers.RemoveAt(_layers.Count - 1); _shape = _beforeFlatten!; }
            Add(new AffineConfig { Units = shape[1] }, [w, b], node, index);
        }

        private float[] Bias(NodeProto node, int index, string name, int units)
        {
            var (b, shape) = Constant(node, index, name, "bias");
            if (!(shape.SequenceEqual([units]) || shape.SequenceEqual([1, units])))
                throw Unsupported(node, index, $"bias has shape {LayerConfig.ShapeText(shape)}; ZeroDL's Affine needs ({units},)");
            return b;
        }

        private void Conv(NodeProto node, int index)
        {
            var a = Attributes(node, index, "kernel_shape", "strides", "pads", "dilations", "group", "auto_pad");
            if (a.Int("group", 1) != 1) throw Unsupported(node, index, $"attribute group = {a.Int("group", 1)}; ZeroDL's convolution has one group");
            CheckAutoPad(node, index, a);
            if (a.Ints("dilations") is { } dilations && dilations.Any(d => d != 1)) throw Unsupported(node, index, $"attribute dilations {OnnxTensors.ShapeText(dilations)}; ZeroDL's convolution has dilation 1");
            if (node.Input.Count is < 2 or > 3 || node.Input[0] != _current) throw Unsupported(node, index, "does not take the chain's value as its input X");
            var (w, shape) = Constant(node, index, node.Input[1], "W");
            if (shape.Length != 4) throw Unsupported(node, index, $"weight has shape {LayerConfig.ShapeText(shape)}; ZeroDL's convolution is 2-D (filters, C, kh, kw)");
            if (a.Ints("kernel_shape") is { } k && !k.SequenceEqual([(long)shape[2], shape[3]])) throw Unsupported(node, index, $"attribute kernel_shape {OnnxTensors.ShapeText(k)} does not match the weight {LayerConfig.ShapeText(shape)}");
            if (_shape.Length != 3 || shape[1] != _shape[0]) throw Unsupported(node, index, $"weight {LayerConfig.ShapeText(shape)} does not fit input samples {LayerConfig.ShapeText(_shape)}");
            var b = node.Input.Count == 3 && node.Input[2].Length > 0 ? Constant(node, index, node.Input[2], "B") : (new float[shape[0]], [shape[0]]);
            if (!b.Item2.SequenceEqual([shape[0]])) throw Unsupported(node, index, $"bias has shape {LayerConfig.ShapeText(b.Item2)}, not ({shape[0]},)");
            int stride = OneValue(node, index, a, "strides", 2, 1), pad = OneValue(node, index, a, "pads", 4, 0);
            Add(new ConvConfig { Filters = shape[0], Kernel = new WindowSize(shape[2], shape[3]), Stride = stride, Pad = pad }, [w, b.Item1], node, index);
        }

        private void MaxPool(NodeProto node, int index)
        {
            var a = Attributes(node, index, "kernel_shape", "strides", "pads", "dilations", "ceil_mode", "storage_order", "auto_pad");
            CheckAutoPad(node, index, a);
            if (a.Int("ceil_mode", 0) != 0) throw Unsupported(node, index, "attribute ceil_mode = 1; ZeroDL's pooling rounds the output size down");
            if (a.Int("storage_order", 0) != 0) throw Unsupported(node, index, "attribute storage_order is not 0");
            if (a.Ints("dilations") is { } dilations && dilations.Any(d => d != 1)) throw Unsupported(node, index, $"attribute dilations {OnnxTensors.ShapeText(dilations)}; ZeroDL's pooling has dilation 1");
            if (node.Output.Count != 1) throw Unsupported(node, index, "has an Indices output, which ZeroDL does not compute");
            var k = a.Ints("kernel_shape") ?? throw Unsupported(node, index, "has no attribute kernel_shape");
            if (k.Count != 2 || k.Any(v => v < 1 || v > LayerConfig.MaxSize)) throw Unsupported(node, index, $"attribute kernel_shape {OnnxTensors.ShapeText(k)}; ZeroDL pools 2-D windows of 1 to {LayerConfig.MaxSize}");
            int stride = OneValue(node, index, a, "strides", 2, 1), pad = OneValue(node, index, a, "pads", 4, 0);
            Add(new MaxPoolConfig { Size = new WindowSize((int)k[0], (int)k[1]), Stride = stride, Pad = pad }, [], node, index);
        }

        private int[]? _beforeFlatten;

        private void Flatten(NodeProto node, int index)
        {
            _beforeFlatten = _shape;
            var flattenedFrom = _shape;
            Add(new FlattenConfig(), [], node, index);
            _flattenedImage = flattenedFrom.Length == 3 ? flattenedFrom : null;
        }

        private void Reshape(NodeProto node, int index)
        {
            if (Attributes(node, index, "allowzero").Int("allowzero", 0) != 0) throw Unsupported(node, index, "attribute allowzero = 1");
            if (node.Input.Count != 2 || node.Input[0] != _current) throw Unsupported(node, index, "does not reshape the chain's value by a constant shape");
            var target = _constants.TryGetValue(node.Input[1], out var t) ? OnnxTensors.Int64s(t, source) : throw Unsupported(node, index, "shape is not a constant");
            // The batch axis: −1 (inferred) or 0 (copied from the input); the rest must be the sample's new shape.
            if (target.Length < 2 || target[0] is not (-1 or 0)) throw Unsupported(node, index, $"to {OnnxTensors.ShapeText(target)}; ZeroDL reshapes only each sample, the batch axis given as -1 or 0");
            var sample = target[1..];
            if (sample.Length == 1 && sample[0] == LayerConfig.Elements(_shape))
            {
                Flatten(node, index);
                return;
            }
            // Flatten → BatchNormalization over C·H·W features → Reshape back to (C, H, W): the book's per-activation BatchNorm.
            if (_flattenedImage is { } image && sample.SequenceEqual(image.Select(d => (long)d)) && _layers.Count >= 2
                && _layers[^1].Config is BatchNormConfig bn && _layers[^2].Config is FlattenConfig)
            {
                var tensors = _layers[^1].Tensors;
                _layers.RemoveRange(_layers.Count - 2, 2);
                _shape = image;
                Add(bn with { Mode = BatchNormMode.PerActivation }, tensors, node, index);
                _flattenedImage = null;
                return;
            }
            throw Unsupported(node, index, $"to {OnnxTensors.ShapeText(target)} from samples {LayerConfig.ShapeText(_shape)}; ZeroDL imports Reshape only as a flatten, or as the end of a per-activation BatchNorm on flattened images");
        }

        private void BatchNorm(NodeProto node, int index)
        {
            var a = Attributes(node, index, "epsilon", "momentum", "training_mode");
            if (a.Int("training_mode", 0) != 0) throw Unsupported(node, index, "attribute training_mode = 1; ZeroDL imports the inference graph");
            if (node.Input.Count != 5 || node.Input[0] != _current) throw Unsupported(node, index, "does not have inputs X, scale, B, mean and var");
            if (node.Output.Count != 1) throw Unsupported(node, index, "has running-statistics outputs (training mode)");
            int features = _shape.Length == 3 ? _shape[0] : LayerConfig.Elements(_shape);
            string[] names = ["scale", "B", "mean", "var"];
            var tensors = new float[4][];
            for (int t = 0; t < 4; t++)
            {
                var (values, shape) = Constant(node, index, node.Input[t + 1], names[t]);
                if (!shape.SequenceEqual([features])) throw Unsupported(node, index, $"{names[t]} has shape {LayerConfig.ShapeText(shape)}; samples {LayerConfig.ShapeText(_shape)} need ({features},)");
                tensors[t] = values;
            }
            if (tensors[3].Any(v => v < 0)) throw Unsupported(node, index, "var holds a negative variance");
            double epsilon = a.Float("epsilon", 1e-5f), momentum = a.Float("momentum", 0.9f);
            var mode = _shape.Length == 3 ? BatchNormMode.PerChannel : BatchNormMode.PerActivation;
            var flattened = _flattenedImage;
            Add(new BatchNormConfig { Mode = mode, Epsilon = epsilon, Momentum = momentum }, tensors, node, index);
            _flattenedImage = flattened; // a Reshape back may follow
        }

        private void Dropout(NodeProto node, int index, IList<NodeProto> nodes)
        {
            var a = Attributes(node, index, "ratio", "seed");
            double ratio = a.Float("ratio", 0.5f);
            if (node.Input.Count > 1 && node.Input[1].Length > 0)
            {
                var (r, shape) = Constant(node, index, node.Input[1], "ratio");
                if (r.Length != 1) throw Unsupported(node, index, $"ratio has shape {LayerConfig.ShapeText(shape)}, not a scalar");
                ratio = r[0];
            }
            if (node.Input.Count > 2 && node.Input[2].Length > 0)
            {
                var t = _constants[node.Input[2]];
                if (t.DataType != (int)TensorProto.Types.DataType.Bool || (t.Int32Data.Count == 1 ? t.Int32Data[0] : t.RawData.Length == 1 ? t.RawData[0] : 1) != 0)
                    throw Unsupported(node, index, "training_mode is not the constant false; ZeroDL imports the inference graph");
            }
            if (node.Output.Count == 0 || node.Output.Count > 2) throw Unsupported(node, index, $"has {node.Output.Count} outputs");
            if (node.Output.Count == 2 && node.Output[1].Length > 0 && (nodes.Any(n => n.Input.Contains(node.Output[1])) || model.Graph.Output.Any(o => o.Name == node.Output[1])))
                throw Unsupported(node, index, "its mask output is used; ZeroDL imports the inference graph");
            if (!(ratio >= 0 && ratio < 1)) throw Unsupported(node, index, $"ratio {ratio} is outside [0, 1)");
            // The file holds the ratio as a float32: the shortest decimal that rounds to it (0.4, not 0.4000000059604645).
            Add(new DropoutConfig { Ratio = Shortest(ratio, r => (float)r == (float)ratio), Mode = DropoutMode.Inverted }, [], node, index);
        }

        /// <summary>
        /// Sub(mean) → Mul(a) → Mul(γ) → Add(β), every constant of the sample's shape: a per-activation BatchNorm in
        /// inference, as <see cref="OnnxExport"/> writes the book's rule on images, with a = 1/√(var + ε). The variance
        /// is recovered for ε = 10⁻⁶ (ZeroDL's default; smaller if some a is above 1/√(2·10⁻⁶)) as a float32 that gives
        /// back exactly a, so the imported layer computes the same numbers.
        /// </summary>
        private void NormalizeSteps(NodeProto node, int index, IList<NodeProto> nodes)
        {
            string[] ops = ["Sub", "Mul", "Mul", "Add"];
            string[] what = ["mean", "1/√(var + ε)", "γ", "β"];
            int features = LayerConfig.Elements(_shape);
            var values = new float[4][];
            string chain = _current;
            for (int k = 0; k < 4; k++)
            {
                if (index + k >= nodes.Count || nodes[index + k].OpType != ops[k])
                    throw Unsupported(node, index, "does not start Sub → Mul → Mul → Add (a per-activation BatchNorm); ZeroDL imports Sub only so");
                var step = nodes[index + k];
                Attributes(step, index + k);
                if (step.Input.Count != 2 || step.Output.Count != 1 || (step.Input[0] != chain && (k == 0 || step.Input[1] != chain)))
                    throw Unsupported(step, index + k, "does not continue the per-activation BatchNorm's Sub → Mul → Mul → Add");
                var (v, shape) = Constant(step, index + k, step.Input[0] == chain ? step.Input[1] : step.Input[0], what[k]);
                if (!shape.SequenceEqual(_shape) && !(shape.Length == 1 && _shape.Length == 1 && shape[0] == features))
                    throw Unsupported(step, index + k, $"{what[k]} has shape {LayerConfig.ShapeText(shape)}; a per-activation BatchNorm needs the sample's {LayerConfig.ShapeText(_shape)}");
                values[k] = v;
                chain = step.Output[0];
            }
            var a = values[1];
            if (a.Any(v => !(v > 0) || !float.IsFinite(v))) throw Unsupported(nodes[index + 1], index + 1, "1/√(var + ε) holds a value that is not a positive finite number");
            float max = a.Max();
            float eps = max > 1 / MathF.Sqrt(2e-6f) ? 0.5f / (max * max) : 1e-6f;
            var variance = new float[a.Length];
            for (int i = 0; i < a.Length; i++) variance[i] = VarianceFor(a[i], eps);
            var config = new BatchNormConfig { Mode = BatchNormMode.PerActivation, Epsilon = eps };
            var flattened = _flattenedImage;
            Add(config, [values[2], values[3], values[0], variance], node, index);
            _flattenedImage = flattened; // a Reshape back to the image may follow
            _consumed = 3;
        }

        /// <summary>A variance v ≥ 0 with 1f / √(v + ε) == a in float32 (the nearest found when none gives it exactly).</summary>
        private static float VarianceFor(float a, float eps)
        {
            float estimate = (float)Math.Max(0, 1.0 / ((double)a * a) - eps);
            float best = estimate; double bestError = double.MaxValue;
            float v = estimate;
            for (int k = 0; k < 64; k++) v = MathF.BitDecrement(v) < 0 ? 0 : MathF.BitDecrement(v);
            for (int k = 0; k < 129; k++, v = MathF.BitIncrement(v))
            {
                float back = 1f / MathF.Sqrt(v + eps);
                if (back == a) return v;
                double error = Math.Abs((double)back - a);
                if (error < bestError) { bestError = error; best = v; }
            }
            return best;
        }

        /// <summary>x · s with a scalar s in (0, 1]: the inference-time scale of a classic dropout of ratio 1 − s.</summary>
        private void ScaleDropout(NodeProto node, int index)
        {
            Attributes(node, index);
            string other = node.Input.Count == 2 ? node.Input[0] == _current ? node.Input[1] : node.Input[0] : "";
            var (s, shape) = Constant(node, index, other, "factor");
            if (s.Length != 1) throw Unsupported(node, index, $"by a tensor of shape {LayerConfig.ShapeText(shape)}; ZeroDL imports Mul only by a scalar in (0, 1], as classic dropout's inference-time scale");
            if (!(s[0] > 0 && s[0] <= 1)) throw Unsupported(node, index, $"by {s[0].ToString("R", CultureInfo.InvariantCulture)}; ZeroDL imports Mul only by a scalar in (0, 1], as classic dropout's inference-time scale");
            // The shortest decimal ratio for which Dropout<float> multiplies by (float)(1 − ratio) == s exactly (0.3 for
            // 0.7f); 1 − s in double always qualifies.
            float scale = s[0];
            Add(new DropoutConfig { Ratio = Shortest(1.0 - scale, r => (float)(1.0 - r) == scale), Mode = DropoutMode.Classic }, [], node, index);
        }

        /// <summary><paramref name="value"/> rounded to the fewest decimal places that still satisfy <paramref name="exact"/> (else itself).</summary>
        private static double Shortest(double value, Func<double, bool> exact)
        {
            for (int digits = 1; digits <= 15; digits++)
            {
                double r = Math.Round(value, digits);
                if (r >= 0 && r < 1 && exact(r)) return r;
            }
            return value;
        }

        /// <summary>Appends a layer, checking that it takes the chain's current shape; its tensors in <see cref="LayerConfig.Tensors"/> order.</summary>
        private void Add(LayerConfig config, float[][] tensors, NodeProto node, int index)
        {
            if (_layers.Count >= Architecture.MaxLayers) throw Bad($"has more than the {Architecture.MaxLayers} layers a network may have");
            try
            {
                config.Validate();
                var output = config.OutputShape(_shape);
                if (LayerConfig.Elements(output) > Architecture.MaxSampleValues)
                    throw new ArgumentException($"its output {LayerConfig.ShapeText(output)} has more than the {Architecture.MaxSampleValues} values per sample a network may have");
                _shape = output;
            }
            catch (ArgumentException e) { throw Unsupported(node, index, $"cannot become a ZeroDL layer: {e.Message.Split(" (Parameter")[0]}"); }
            _layers.Add((config, tensors, node.Name));
            _flattenedImage = null;
        }

        private LoadedModel Build()
        {
            if (_layers.Count == 0) throw Bad("has no layer ZeroDL can run (the chain from the input to the output is empty)");
            var configs = Fusion.FuseRelus(_layers.Select(l => l.Config));
            // Fusion only removes ReLUs (merged into the layer before them), so the layers still there are found in
            // order by kind; a removed ReLU's tensor list (empty, as every ReLU's) is dropped alongside.
            var tensors = new List<float[][]>();
            foreach (var (config, held, _) in _layers)
                if (tensors.Count < configs.Count && configs[tensors.Count].Kind == config.Kind) tensors.Add(held);
            var architecture = new Architecture(_inputShape, configs);
            try { architecture.Plan(); }
            catch (ArgumentException e) { throw Bad($"the network does not fit ZeroDL's limits: {e.Message}"); }
            var net = architecture.Build<float>(seed: 0);
            var names = net.NamedLayers();
            for (int i = 0; i < net.Layers.Count; i++)
            {
                var layer = net.Layers[i];
                var held = layer.Parameters.Select(p => p.Value).Concat(layer.State.Select(s => s.Value)).ToList();
                for (int t = 0; t < held.Count; t++)
                {
                    if (tensors[i][t].Length != held[t].Size) throw Bad($"{names[i]}: tensor {t} has {tensors[i][t].Length} values, the layer needs {held[t].Size}");
                    ModelFile.RequireFinite(tensors[i][t], $"{names[i]}.{(t < layer.Parameters.Count ? layer.Parameters[t].Name : layer.State[t - layer.Parameters.Count].Name)}", source);
                    tensors[i][t].CopyTo(held[t].Span);
                }
            }
            var metadata = model.MetadataProps.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
            var classes = ReadClasses(metadata, net.OutputSize);
            var normalization = ReadNormalization(metadata, ModelFile.InputChannels(net.InputShape));
            metadata["onnx_producer"] = $"{model.ProducerName} {model.ProducerVersion}".Trim();
            return new LoadedModel(net, classes, normalization, metadata, StoredType.F32);
        }

        private IReadOnlyList<string> ReadClasses(Dictionary<string, string> metadata, int outputs)
        {
            if (!metadata.TryGetValue(OnnxFormat.ClassesKey, out var json)) return ModelFile.DefaultClassNames(outputs);
            string[]? classes;
            try { classes = JsonSerializer.Deserialize<string[]>(json); }
            catch (JsonException e) { throw Bad($"metadata {OnnxFormat.ClassesKey} is not a JSON array of strings: {e.Message}"); }
            if (classes is null || classes.Length != outputs) throw Bad($"metadata {OnnxFormat.ClassesKey} names {classes?.Length ?? 0} classes for {outputs} outputs");
            if (classes.Any(string.IsNullOrWhiteSpace) || classes.Distinct(StringComparer.Ordinal).Count() != classes.Length)
                throw Bad($"metadata {OnnxFormat.ClassesKey}: class names must be non-empty and distinct");
            return classes;
        }

        private InputNormalization ReadNormalization(Dictionary<string, string> metadata, int channels)
        {
            if (!metadata.TryGetValue(OnnxFormat.NormalizationKey, out var json)) return InputNormalization.Identity(channels);
            InputNormalization n;
            try { n = InputNormalization.FromJson(json); }
            catch (FormatException e) { throw Bad($"metadata {OnnxFormat.NormalizationKey}: {e.Message}"); }
            if (n.Channels != channels) throw Bad($"metadata {OnnxFormat.NormalizationKey} has {n.Channels} channel(s), the input has {channels}");
            return n;
        }

        private void CheckSample(int[] shape, string what)
        {
            long values = shape.Aggregate(1L, (a, d) => a * d);
            if (values > Architecture.MaxSampleValues) throw Bad($"{what} has {values} values per sample, more than the {Architecture.MaxSampleValues} a network may take");
        }

        private (float[] Values, int[] Shape) Constant(NodeProto node, int index, string name, string what)
        {
            if (name.Length == 0 || !_constants.TryGetValue(name, out var t)) throw Unsupported(node, index, $"input {what} ('{OnnxTensors.Printable(name)}') is not a constant (an initializer or a Constant node)");
            return OnnxTensors.Floats(t, source);
        }

        private int OneValue(NodeProto node, int index, AttributeReader a, string name, int count, int fallback)
        {
            var values = a.Ints(name);
            if (values is null) return fallback;
            if (values.Count != count || values.Any(v => v != values[0]) || values[0] < (name == "pads" ? 0 : 1) || values[0] > LayerConfig.MaxSize)
                throw Unsupported(node, index, $"attribute {name} {OnnxTensors.ShapeText(values)}; ZeroDL takes {count} equal values from {(name == "pads" ? 0 : 1)} to {LayerConfig.MaxSize} (one {(name == "pads" ? "pad" : "stride")} for every side)");
            return (int)values[0];
        }

        private void CheckAutoPad(NodeProto node, int index, AttributeReader a)
        {
            string autoPad = a.String("auto_pad", "NOTSET");
            if (autoPad is not ("NOTSET" or "VALID" or "")) throw Unsupported(node, index, $"attribute auto_pad = {OnnxTensors.Printable(autoPad)}; ZeroDL takes explicit pads");
            if (autoPad == "VALID" && a.Ints("pads") is { } pads && pads.Any(p => p != 0)) throw Unsupported(node, index, "attribute auto_pad = VALID with non-zero pads");
        }

        /// <summary>The node's attributes, refusing any not in <paramref name="allowed"/> by name.</summary>
        private AttributeReader Attributes(NodeProto node, int index, params string[] allowed)
        {
            foreach (var a in node.Attribute)
                if (!allowed.Contains(a.Name)) throw Unsupported(node, index, $"attribute '{OnnxTensors.Printable(a.Name)}' is not supported");
            return new AttributeReader(node, this, index);
        }

        private sealed class AttributeReader(NodeProto node, Reader reader, int index)
        {
            private AttributeProto? Find(string name, AttributeProto.Types.AttributeType type)
            {
                var a = node.Attribute.LastOrDefault(x => x.Name == name);
                if (a is null) return null;
                if (a.Type != type && a.Type != AttributeProto.Types.AttributeType.Undefined) throw reader.Unsupported(node, index, $"attribute {name} is of type {a.Type}, not {type}");
                return a;
            }

            public long Int(string name, long fallback) => Find(name, AttributeProto.Types.AttributeType.Int)?.I ?? fallback;
            public float Float(string name, float fallback) => Find(name, AttributeProto.Types.AttributeType.Float)?.F ?? fallback;
            public IReadOnlyList<long>? Ints(string name) => Find(name, AttributeProto.Types.AttributeType.Ints)?.Ints;
            public string String(string name, string fallback) => Find(name, AttributeProto.Types.AttributeType.String)?.S.ToStringUtf8() ?? fallback;
        }

        private static float[] Transpose(float[] w, int rows, int cols)
        {
            var t = new float[w.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
            return t;
        }

        private DataFormatException Bad(string problem) => DataFormatException.For(source, $"ONNX model {problem}");

        private DataFormatException Unsupported(NodeProto node, int index, string problem) =>
            DataFormatException.For(source, $"node {index} '{OnnxTensors.Printable(node.Name)}' ({OnnxTensors.Printable(node.OpType)}) {problem}");
    }
}
