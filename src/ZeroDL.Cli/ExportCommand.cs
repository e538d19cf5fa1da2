using System.CommandLine;
using ZeroDL.Serialization;
using ZeroDL.Serialization.Onnx;

namespace ZeroDL.Cli;

/// <summary>Writes a ZeroDL model file as an ONNX model (docs/onnx.md) that ONNX Runtime, OpenCV and others run.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model file (safetensors) to export", Required = true };
        var output = new Option<string>("--out") { Description = "ONNX file to write (opset 13, dynamic batch; class names and input normalisation in its metadata)", Required = true };
        var command = new Command("export", "Write a model as ONNX: its input is the prepared image batch (N, …), its output the class probabilities.") { model, output };
        command.SetAction(parse =>
        {
            string source = parse.GetValue(model)!, target = parse.GetValue(output)!;
            var loaded = ModelFile.Load(source);
            OnnxExport.Write(loaded, target);
            Console.WriteLine($"Exported {loaded.Description} to {target}: {new FileInfo(target).Length:N0} bytes, opset {OnnxFormat.Opset}");
            return Cli.Success;
        });
        return command;
    }
}
