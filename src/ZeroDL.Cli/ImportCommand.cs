using System.CommandLine;
using ZeroDL.Serialization;

namespace ZeroDL.Cli;

internal static class ImportCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "NumPy .npz of the book's weights (W1, b1, …; Affine W as (in, out), conv W as (out, in, kh, kw))", Required = true };
        var model = new Option<string>("--model") { Description = "Architecture of those weights: simpleconv (the book's SimpleConvNet), deepconv (DeepConvNet) or sample (the ch. 3 sigmoid network)", Required = true };
        model.AcceptOnlyFromAmong("simpleconv", "deepconv", "sample");
        var output = new Option<string>("--out") { Description = "Model file to write (safetensors)", Required = true };
        var command = new Command("import", "Turn weights saved by the book's NumPy code into a ZeroDL model file.") { from, model, output };
        command.SetAction(parse =>
        {
            string source = parse.GetValue(from)!;
            var net = parse.GetValue(model) switch
            {
                "simpleconv" => BookWeights.LoadSimpleConvNet(source),
                "deepconv" => BookWeights.LoadDeepConvNet(source),
                _ => BookWeights.LoadSampleWeightNetwork(source),
            };
            string outPath = parse.GetValue(output)!;
            ModelFile.Save(net, outPath, new Dictionary<string, string> { ["imported_from"] = Path.GetFileName(source) });
            Console.WriteLine($"Imported {net.Architecture.Describe()} from {source} into {outPath}");
            return Cli.Success;
        });
        return command;
    }
}
