using System.CommandLine;
using ZeroDL.Serialization;

namespace ZeroDL.Cli;

/// <summary>Re-stores a model file's tensors as float16 (half the size, book ch. 8.3.4) or float32.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model file (safetensors) to read", Required = true };
        var output = new Option<string>("--out") { Description = "Model file to write", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f16 (half precision) or f32", DefaultValueFactory = _ => "f16" };
        dtype.AcceptOnlyFromAmong("f16", "f32");
        var command = new Command("convert", "Store a model's weights as float16 (half the file) or float32.") { model, output, dtype };
        command.SetAction(parse =>
        {
            string source = parse.GetValue(model)!, target = parse.GetValue(output)!;
            var loaded = ModelFile.Load(source);
            var type = Cli.ParseStoredType(parse.GetValue(dtype)!);
            var training = new Dictionary<string, string>();
            if (loaded.Metadata.TryGetValue("training", out var json))
            {
                try { training = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? training; }
                catch (System.Text.Json.JsonException) { } // unreadable training notes are dropped, the weights are what matters
            }
            training["converted_from"] = Path.GetFileName(source);
            ModelFile.Save(loaded.Network, target, training, type, loaded.ClassNames, loaded.Normalization);
            long before = new FileInfo(source).Length, after = new FileInfo(target).Length;
            Console.WriteLine($"Wrote {target} as {parse.GetValue(dtype)}: {after:N0} bytes ({before:N0} before)");
            return Cli.Success;
        });
        return command;
    }
}
