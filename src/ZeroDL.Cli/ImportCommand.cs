using System.CommandLine;
using ZeroDL.Serialization;
using ZeroDL.Serialization.Onnx;

namespace ZeroDL.Cli;

/// <summary>
/// Turns weights made elsewhere into a ZeroDL model file, chosen by the --from file's extension: an ONNX model
/// (.onnx, which carries its own architecture) or the book's NumPy weights (.npz, whose architecture --model names).
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from")
        {
            Description = "An ONNX model (.onnx: a chain of Gemm/MatMul, Conv, MaxPool, Relu/Sigmoid/Tanh, BatchNormalization, Dropout, Flatten, Softmax), " +
                "or NumPy .npz of the book's weights (W1, b1, …; Affine W as (in, out), conv W as (out, in, kh, kw))",
            Required = true,
        };
        var model = new Option<string>("--model") { Description = "For .npz only: the architecture of those weights: simpleconv (the book's SimpleConvNet), deepconv (DeepConvNet) or sample (the ch. 3 sigmoid network)" };
        model.AcceptOnlyFromAmong("simpleconv", "deepconv", "sample");
        var output = new Option<string>("--out") { Description = "Model file to write (safetensors)", Required = true };
        var command = new Command("import", "Turn an ONNX model, or weights saved by the book's NumPy code, into a ZeroDL model file.") { from, model, output };
        command.SetAction(parse =>
        {
            string source = parse.GetValue(from)!, outPath = parse.GetValue(output)!;
            string? architecture = parse.GetValue(model);
            bool onnx = Path.GetExtension(source).Equals(".onnx", StringComparison.OrdinalIgnoreCase);
            if (onnx)
            {
                if (architecture is not null) throw new UsageException("--model is for .npz weights; an ONNX file carries its own architecture");
                var loaded = OnnxImport.Load(source);
                ModelFile.Save(loaded.Network, outPath, new Dictionary<string, string>
                {
                    ["imported_from"] = Path.GetFileName(source),
                    ["onnx_producer"] = loaded.Metadata.GetValueOrDefault("onnx_producer", ""),
                }, classNames: loaded.ClassNames, normalization: loaded.Normalization);
                Console.WriteLine($"Imported {loaded.Description} from {source} into {outPath}");
                return Cli.Success;
            }
            if (architecture is null)
                throw new UsageException($"--model is required for '{Path.GetFileName(source)}': give simpleconv, deepconv or sample for .npz weights, or import an .onnx file");
            var net = architecture switch
            {
                "simpleconv" => BookWeights.LoadSimpleConvNet(source),
                "deepconv" => BookWeights.LoadDeepConvNet(source),
                _ => BookWeights.LoadSampleWeightNetwork(source),
            };
            ModelFile.Save(net, outPath, new Dictionary<string, string> { ["imported_from"] = Path.GetFileName(source) });
            Console.WriteLine($"Imported {net.Architecture.Describe()} from {source} into {outPath}");
            return Cli.Success;
        });
        return command;
    }
}
