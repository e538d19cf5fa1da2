using System.CommandLine;
using ZeroDL.Models;
using ZeroDL.Serialization;

namespace ZeroDL.Cli;

/// <summary>
/// <c>zerodl summary MODEL | --model PRESET | --arch FILE</c>: a network layer by layer (output shape, parameters,
/// multiply-adds per sample) and the totals, as Keras' model.summary() prints them. Only a model file is read in
/// full; a preset or an architecture file is summarised without building the network.
/// </summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("MODEL") { Description = "Model file (safetensors) to summarise", Arity = ArgumentArity.ZeroOrOne };
        var preset = new Option<string?>("--model") { Description = "A preset instead: " + string.Join(", ", ModelPresets.All.Select(p => p.Name)) };
        var arch = new Option<string?>("--arch") { Description = "An architecture JSON file instead (the schema of docs/architecture.md)" };
        var input = new Option<string?>("--input-shape") { Description = "With --model: the samples' shape, e.g. 3,32,32 (default MNIST's: 1,28,28 or 784)" };
        var classes = new Option<int>("--classes") { Description = "With --model: the number of classes", DefaultValueFactory = _ => 10 };
        var command = new Command("summary", "Print a network's layers with their output shapes, parameter counts and multiply-adds per sample, then the totals.")
        {
            file, preset, arch, input, classes,
        };
        command.SetAction(parse =>
        {
            string? path = parse.GetValue(file), presetName = parse.GetValue(preset), archPath = parse.GetValue(arch);
            if ((path is null ? 0 : 1) + (presetName is null ? 0 : 1) + (archPath is null ? 0 : 1) != 1)
                throw new UsageException("give one of MODEL (a model file), --model PRESET or --arch FILE");
            if (presetName is null && (parse.GetValue(input) is not null || parse.GetResult(classes) is { Implicit: false }))
                throw new UsageException("--input-shape and --classes apply to --model PRESET");
            Architecture architecture;
            string title;
            if (path is not null)
            {
                var loaded = ModelFile.Load(path);
                architecture = loaded.Network.Architecture;
                title = $"{path} ({loaded.StoredType}, classes {string.Join(", ", loaded.ClassNames.Take(12))}{(loaded.ClassNames.Count > 12 ? ", …" : "")})";
            }
            else if (archPath is not null)
            {
                architecture = Cli.LoadArchitecture(archPath);
                title = archPath;
            }
            else
            {
                ModelPreset p;
                try { p = ModelPresets.Find(presetName!); }
                catch (ArgumentException e) { throw new UsageException(e.Message.Replace("unknown model", "unknown --model")); }
                int[]? shape = parse.GetValue(input) is string s ? Cli.ParseSizes(s, "--input-shape") : null;
                if (parse.GetValue(classes) < 1) throw new UsageException("--classes must be at least 1");
                try { architecture = p.Architecture(shape, parse.GetValue(classes)); architecture.Plan(); }
                catch (ArgumentException e) { throw new UsageException($"{p.Name} on {string.Join("×", shape ?? [.. p.Spec.MnistInputShape])}: {e.Message.Split(" (Parameter")[0]}"); }
                title = $"{p.Name}: {p.Spec.Describe()}";
            }
            Console.WriteLine(title);
            Console.WriteLine();
            Console.WriteLine(architecture.Summarize());
            if (architecture.WeightDecay > 0) Console.WriteLine($"weight decay: {architecture.WeightDecay}");
            return Cli.Success;
        });
        return command;
    }
}
