using System.CommandLine;
using ZeroDL.Imaging;
using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Serialization;

namespace ZeroDL.Cli;

/// <summary>The book's ch. 7 figure of the first convolution layer's filters, before training (--random) and after.</summary>
internal static class FiltersCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Model file (safetensors) of a convolutional network" };
        var random = new Option<string?>("--random") { Description = "Instead of a file: a freshly initialised network of this kind (simpleconv or deepconv), as before training" };
        random.AcceptOnlyFromAmong("simpleconv", "deepconv");
        var seed = new Option<int>("--seed") { Description = "Seed of the random initialisation (with --random)", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "PNG to write (default: <model>.filters.png, or filters-<kind>-random.png)" };
        var columns = new Option<int>("--columns") { Description = "Filters per row", DefaultValueFactory = _ => 8 };
        var command = new Command("filters", "Draw the first convolution layer's filters as a PNG grid (dark = large weight, as the book's figure).")
        {
            model, random, seed, output, columns,
        };
        command.SetAction(parse =>
        {
            string? file = parse.GetValue(model), kind = parse.GetValue(random);
            if ((file is null) == (kind is null)) throw new UsageException("give either --model FILE or --random simpleconv|deepconv");
            if (parse.GetValue(columns) < 1) throw new UsageException("--columns must be at least 1");
            var net = file is not null ? ModelFile.Load(file).Network
                : kind == "simpleconv" ? Networks.SimpleConvNet<float>(parse.GetValue(seed)) : Networks.DeepConvNet<float>(parse.GetValue(seed));
            var conv = net.Layers.OfType<Convolution<float>>().FirstOrDefault()
                ?? throw new UsageException($"{file} has no convolution layer (it is {net.Architecture.Describe()})");
            string pngPath = parse.GetValue(output) ?? (file is not null ? Path.ChangeExtension(file, null) + ".filters.png" : $"filters-{kind}-random.png");
            int kh = conv.KernelHeight, kw = conv.KernelWidth, size = kh * kw;
            var weights = conv.W.Value.ReadOnlySpan;
            var cells = new List<GridCell>();
            for (int f = 0; f < conv.Filters; f++)
            {
                // The first input channel of each filter, scaled to its own range as matplotlib's imshow does.
                var pixels = weights.Slice(f * conv.Channels * size, size).ToArray();
                cells.Add(new GridCell(pixels, kw, kh) { Low = pixels.Min(), High = pixels.Max(), Inverted = true });
            }
            int zoom = Math.Max(4, 48 / Math.Max(kh, kw));
            ImageGrid.Build(cells, parse.GetValue(columns), zoom, margin: 4).SavePng(pngPath);
            Console.WriteLine($"Wrote {pngPath}: {conv.Filters} filters of {kh}×{kw}{(conv.Channels > 1 ? " (first input channel)" : "")}");
            return Cli.Success;
        });
        return command;
    }
}
