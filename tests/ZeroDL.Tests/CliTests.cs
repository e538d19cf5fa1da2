using System.Diagnostics;
using System.Text;
using ZeroDL.Models;

namespace ZeroDL.Tests;

/// <summary>
/// A test that sends SIGINT to a child process: skipped, with the reason, where that cannot work — not a POSIX
/// system, or this process ignores SIGINT (as commands started in the background with &amp; by a non-interactive
/// shell do), since children inherit the ignored signal and Ctrl+C could never reach them.
/// </summary>
public sealed class SigintFactAttribute : FactAttribute
{
    public SigintFactAttribute()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) Skip = "SIGINT is a POSIX signal";
        else if (SigintIgnored()) Skip = "SIGINT is ignored in this process (started in the background?), so a child could not receive Ctrl+C";
    }

    private static bool SigintIgnored()
    {
        if (!File.Exists("/proc/self/status")) return false;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << 1)) != 0; // bit 1 = signal 2, SIGINT
    }
}

/// <summary>The zerodl command run as a user runs it: a separate process, its exit code and its output.</summary>
public class CliTests
{

    internal static (int Code, string Out, string Err) Run(params string[] args) => Run(TimeSpan.FromMinutes(5), args);

    /// <summary>Runs zerodl with <paramref name="args"/>; one that has not finished within <paramref name="limit"/> is killed and the test fails.</summary>
    internal static (int Code, string Out, string Err) Run(TimeSpan limit, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"zerodl {string.Join(' ', args)} did not finish in {limit.TotalSeconds:0} s (killed): {stdout.Result}{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Help_lists_the_verbs_and_every_verb_has_help()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("train", output); Assert.Contains("evaluate", output); Assert.Contains("predict", output);
        foreach (var verb in new[] { "train", "evaluate", "predict", "import", "convert", "misclassified", "filters", "serve", "export", "lr-find" })
        {
            Assert.Contains(verb, output);
            var (c, o, _) = Run(verb, "--help");
            Assert.Equal(0, c);
            Assert.Contains("--model", o);
        }
        foreach (var (verb, option) in new[] { ("experiment", "--quick"), ("tune", "--method"), ("runs", "--json") })
        {
            Assert.Contains(verb, output);
            var (c, o, _) = Run(verb, "--help");
            Assert.Equal(0, c);
            Assert.Contains(option, o);
        }
    }

    [Theory]
    [InlineData("train", "--epochs", "abc")]
    [InlineData("train", "--no-such-option")]
    [InlineData("train", "--model", "resnet")]
    [InlineData("train", "--optimizer", "adamw")]
    [InlineData("train", "--batch-size", "0")]
    [InlineData("train", "--hidden", "10,x")]
    [InlineData("train", "--model", "simpleconv", "--batchnorm", "true")]
    [InlineData("train", "--model", "simpleconv", "--dropout", "0.5")]
    [InlineData("train", "--model", "deepconv", "--activation", "tanh")]
    [InlineData("evaluate")]
    [InlineData("evaluate", "--model", "m.safetensors", "--split", "validation")]
    [InlineData("frobnicate")]
    [InlineData("filters")]
    [InlineData("bench", "--iterations", "0")]
    [InlineData("train", "--model", "deepconv", "--batchnorm", "true", "--batchnorm-mode", "per-pixel")]
    [InlineData("bench", "--model", "resnet")]
    [InlineData("experiment", "no-such-experiment")]
    [InlineData("filters", "--random", "resnet")]
    [InlineData("convert", "--model", "a.safetensors", "--out", "b.safetensors", "--dtype", "f8")]
    [InlineData("misclassified", "--model", "a.safetensors", "--count", "0")]
    [InlineData("train", "--rotate", "-5")]
    [InlineData("train", "--epochs", "-1")]
    [InlineData("train", "--threads", "0")]
    [InlineData("train", "--collective-timeout", "0")]
    [InlineData("train", "--collective-timeout", "4294968")] // past what a timer can wait: it crashed every rank at the first collective
    [InlineData("train", "--seed", "x")]
    [InlineData("train", "--lr", "fast")]
    [InlineData("train", "--model", "simpleconv", "--output-dropout", "false")]
    [InlineData("train", "--elastic-sigma", "0")]
    [InlineData("predict", "--model", "a.safetensors", "--image", "")]
    [InlineData("predict", "--model", "a.safetensors", "--image", "a.png", "--out", "")]
    public void Bad_arguments_exit_2_with_a_short_message(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("zerodl: ", err);
        Assert.DoesNotContain("System.", err); // no .NET type names
        Assert.DoesNotContain("   at ", err); // no stack trace
        Assert.True(err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 2, err);
    }

    [Theory]
    [InlineData("frobnicate", "frobnicate")]
    [InlineData("train --no-such-option", "--no-such-option")]
    [InlineData("evaluate --model m.safetensors extra", "extra")]
    public void A_mistyped_command_or_option_is_named_in_the_message(string line, string named)
    {
        var (code, _, err) = Run(line.Split(' '));
        Assert.Equal(2, code);
        Assert.Contains($"'{named}'", err.Split('\n')[0]);
    }

    [Fact]
    public void Missing_or_invalid_model_file_exits_1_naming_the_path()
    {
        var (code, _, err) = Run("evaluate", "--model", "no/such/model.safetensors");
        Assert.Equal(1, code);
        Assert.Contains("no/such/model.safetensors", err);
        Assert.Contains("not found", err);
        string junk = Path.Combine(TestPaths.NewTempDirectory(), "junk.safetensors");
        File.WriteAllText(junk, "this is not a model");
        (code, _, err) = Run("predict", "--model", junk, "--index", "0");
        Assert.Equal(1, code);
        Assert.Contains(junk, err);
        Assert.DoesNotContain("   at ", err);
    }

    [SigintFact]
    public void Ctrl_c_stops_training_and_keeps_the_last_finished_epoch()
    {
        string model = Path.Combine(TestPaths.NewTempDirectory(), "interrupted.safetensors");
        // A million epochs: the run cannot finish on its own however slowly this test thread reads, so the exit is the signal's.
        var (exitCode, rest, _) = Fixtures.InterruptedCli.Run(line => line.StartsWith("epoch   2", StringComparison.Ordinal),
            "train", "--model", "twolayer", "--epochs", "1000000", "--train-samples", "2000", "--eval-samples", "500", "--out", model);
        Assert.Equal(130, exitCode);
        Assert.Contains("Interrupted after", rest);
        var loaded = Serialization.ModelFile.Load(model);
        Assert.Equal("twolayer", loaded.PresetName);
        Assert.Equal(Networks.TwoLayerNet<float>(784, 50, 10, seed: 1).Architecture, loaded.Network.Architecture);
        int epochs = int.Parse(System.Text.Json.JsonDocument.Parse(loaded.Metadata["training"]).RootElement.GetProperty("epochs_completed").GetString()!);
        Assert.True(epochs >= 2, $"checkpoint holds {epochs} epochs");
    }

    [Fact]
    public void DeepConvNet_trains_from_the_command_line()
    {
        string model = Path.Combine(TestPaths.NewTempDirectory(), "dc.safetensors");
        var (code, output, err) = Run("train", "--model", "deepconv", "--iterations", "4", "--batch-size", "20", "--train-samples", "200",
            "--eval-samples", "100", "--out", model);
        Assert.True(code == 0, err + output);
        Assert.Contains("deepconv", output);
        Assert.Contains("Test accuracy:", output);
        Assert.Equal(Networks.DeepConvNet<float>(seed: 1).Architecture, Serialization.ModelFile.Load(model).Network.Architecture);
    }

    [Fact]
    public void An_output_path_that_is_a_folder_exits_1_with_one_line_naming_it()
    {
        // Each crashed with an IOException and its stack trace (exit 134) from the final rename, having done the work.
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "sample.safetensors"), folder = Path.Combine(dir, "folder");
        Directory.CreateDirectory(folder);
        var (code, _, err) = Run("import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--model", "sample", "--out", model);
        Assert.True(code == 0, err);
        string[][] commands =
        [
            ["import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--model", "sample", "--out", folder],
            ["convert", "--model", model, "--out", folder],
            ["export", "--model", model, "--out", folder],
            ["misclassified", "--model", model, "--out", folder],
            ["filters", "--random", "simpleconv", "--out", folder],
        ];
        foreach (var command in commands)
        {
            (code, _, err) = Run(command);
            Assert.True(code == 1, $"{command[0]}: exit {code}: {err}");
            Assert.Equal($"zerodl: {folder}: is a folder; name a file to write", err.Trim());
        }
        Assert.Empty(Directory.GetFileSystemEntries(folder));
        Assert.False(File.Exists(folder + ".csv"), "misclassified wrote its CSV beside a folder it then refused");
    }

    [Theory]
    [InlineData("test_split", "7", "a test split of 7 must be between 0 and 1")]
    [InlineData("resize", "0x0", "resize to 0×0")]
    public void Corrupt_data_settings_recorded_in_a_model_file_exit_1_naming_the_file(string key, string value, string expected)
    {
        // They were blamed on the command line (exit 2, "--test-split of 7 must be ..."), which gave no such option.
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "sample.safetensors"), bad = Path.Combine(dir, "bad.safetensors");
        var (code, _, err) = Run("import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--model", "sample", "--out", model);
        Assert.True(code == 0, err);
        var (stored, metadata) = ZeroDL.Serialization.SafeTensors.Read(model);
        metadata["training"] = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["data"] = "mnist", [key] = value });
        var tensors = stored.Select(t => (t.Key, new NDArray<float>(t.Value.Values, t.Value.Shape))).ToList();
        ZeroDL.Serialization.AtomicFile.Write(bad, s => ZeroDL.Serialization.SafeTensors.Write(s, tensors, metadata));
        (code, _, err) = Run("evaluate", "--model", bad);
        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.StartsWith($"zerodl: {bad}: the data it records cannot be read: ", err);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--out")]
    [InlineData("--checkpoint")]
    public void Train_refuses_an_output_folder_before_training(string option)
    {
        // Training ran to the first save, then crashed with a stack trace, losing the epoch.
        string dir = TestPaths.NewTempDirectory();
        string folder = Path.Combine(dir, "folder");
        Directory.CreateDirectory(folder);
        string[] args = option == "--out"
            ? ["train", "--model", "mlp", "--epochs", "1", "--train-samples", "600", "--out", folder]
            : ["train", "--model", "mlp", "--epochs", "1", "--train-samples", "600", "--out", Path.Combine(dir, "m.safetensors"), "--checkpoint", folder];
        var (code, output, err) = Run(args);
        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.Equal($"zerodl: {folder}: is a folder; name a file to write", err.Trim());
        Assert.DoesNotContain("epoch", output);
        Assert.Equal([folder], Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void Misclassified_reads_the_data_the_model_file_records_as_evaluate_does()
    {
        // MNIST's first images with every label shifted by one: a model of them read MNIST's own labels as wrong.
        // misclassified always read the bundled MNIST, so it reported ~90 % misclassified where evaluate saw ~80 % correct.
        string dir = TestPaths.NewTempDirectory(), data = Path.Combine(dir, "shifted");
        Directory.CreateDirectory(data);
        foreach (var (prefix, count) in new[] { ("train", 2000), ("t10k", 500) })
        {
            byte[] Read(string kind)
            {
                using var z = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(TestPaths.RepoRoot, "data", "mnist", $"{prefix}-{kind}.gz")), System.IO.Compression.CompressionMode.Decompress);
                using var m = new MemoryStream();
                z.CopyTo(m);
                return m.ToArray();
            }
            byte[] images = Read("images-idx3-ubyte"), labels = Read("labels-idx1-ubyte");
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);
            for (int i = 0; i < count; i++) labels[8 + i] = (byte)((labels[8 + i] + 1) % 10);
            File.WriteAllBytes(Path.Combine(data, $"{prefix}-images-idx3-ubyte"), images[..(16 + count * 784)]);
            File.WriteAllBytes(Path.Combine(data, $"{prefix}-labels-idx1-ubyte"), labels[..(8 + count)]);
        }
        string model = Path.Combine(dir, "m.safetensors");
        var (code, output, err) = Run("train", "--model", "mlp", "--data", data, "--epochs", "2", "--out", model);
        Assert.True(code == 0, err);
        (code, output, err) = Run("evaluate", "--model", model);
        Assert.True(code == 0, err);
        int correct = int.Parse(System.Text.RegularExpressions.Regex.Match(output, @"\((\d+) of 500 correct\)").Groups[1].Value);
        Assert.InRange(correct, 250, 500);
        (code, output, err) = Run("misclassified", "--model", model, "--out", Path.Combine(dir, "wrong.png"));
        Assert.True(code == 0, err);
        Assert.StartsWith($"{500 - correct} of 500 test images misclassified", output);
        Assert.Equal(500 - correct + 1, File.ReadAllLines(Path.Combine(dir, "wrong.csv")).Length);
    }

    [Fact]
    public void Import_the_books_weights_then_evaluate()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "sample.safetensors");
        var (code, output, err) = Run("import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--model", "sample", "--out", model);
        Assert.True(code == 0, err);
        (code, output, err) = Run("evaluate", "--model", model);
        Assert.True(code == 0, err);
        Assert.Contains("(9352 of 10000 correct)", output);
        (code, _, err) = Run("import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--model", "deepconv", "--out", model);
        Assert.Equal(1, code);
        Assert.Contains("W7", err);
    }

    [Fact]
    public void Books_DeepConvNet_as_float16_file_is_half_the_size_and_as_accurate_with_its_figures()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "dc.safetensors"), half = Path.Combine(dir, "dc16.safetensors");
        var (code, output, err) = Run("import", "--from", Path.Combine("data", "reference", "deep_convnet_2016.npz"), "--model", "deepconv", "--out", model);
        Assert.True(code == 0, err);
        (code, output, err) = Run("convert", "--model", model, "--out", half, "--dtype", "f16");
        Assert.True(code == 0, err);
        long full = new FileInfo(model).Length, small = new FileInfo(half).Length;
        Assert.InRange(small, full * 0.45, full * 0.55);
        (code, output, err) = Run("evaluate", "--model", half);
        Assert.True(code == 0, err);
        Assert.Contains("(9935 of 10000 correct)", output); // the same count as float32: within 0.05 points

        (code, output, err) = Run("misclassified", "--model", half, "--out", Path.Combine(dir, "wrong.png"));
        Assert.True(code == 0, err);
        Assert.Contains("65 of 10000 test images misclassified", output);
        Assert.Contains("indices: 445 449 450 582 726", output); // the book's list starts so
        var csv = File.ReadAllLines(Path.Combine(dir, "wrong.csv"));
        Assert.Equal(66, csv.Length);
        Assert.Equal("index,predicted,label", csv[0]);
        Assert.Equal("445,0,6", csv[1]); // the book's network reads test image 445, a 6, as 0
        // predict puts the prediction first, then the label: the seed's "6 == 5: x".
        (code, output, err) = Run("predict", "--model", model, "--index", "445,0");
        Assert.True(code == 0, err);
        var predictions = output.Trim().Split('\n');
        Assert.StartsWith("[445] 0 == 6: x  top-3: 0 ", predictions[0]);
        Assert.StartsWith("[0] 7 == 7: o  top-3: 7 ", predictions[1]);
        var png = ZeroDL.Imaging.GrayImage.Load(Path.Combine(dir, "wrong.png"));
        Assert.True(png.Width > 5 * 28 * 4 && png.Height > 4 * 28 * 4, $"{png.Width}×{png.Height}");

        (code, output, err) = Run("filters", "--model", half, "--out", Path.Combine(dir, "filters.png"));
        Assert.True(code == 0, err);
        Assert.Contains("16 filters of 3×3", output);
        (code, output, err) = Run("filters", "--random", "simpleconv", "--out", Path.Combine(dir, "random.png"));
        Assert.True(code == 0, err);
        Assert.Contains("30 filters of 5×5", output);
        Assert.True(ZeroDL.Imaging.GrayImage.Load(Path.Combine(dir, "random.png")).Width > 8 * 5 * 4);
    }

    [Fact]
    public void Train_options_augment_schedule_and_dtype_reach_the_model_file()
    {
        string dir = TestPaths.NewTempDirectory();
        string half = Path.Combine(dir, "half.safetensors"), full = Path.Combine(dir, "full.safetensors");
        var (code, output, err) = Run("train", "--model", "mlp", "--iterations", "30", "--train-samples", "1000", "--eval-samples", "200",
            "--augment", "--rotate", "5", "--schedule", "cosine", "--dtype", "f16", "--out", half);
        Assert.True(code == 0, err);
        Assert.Contains("augmentation: shift ±2 px, rotation ±5°", output);
        Assert.Contains("(schedule cosine)", output);
        var loaded = Serialization.ModelFile.Load(half);
        Assert.Equal(Serialization.StoredType.F16, loaded.StoredType);
        var training = System.Text.Json.JsonDocument.Parse(loaded.Metadata["training"]).RootElement;
        Assert.Equal("cosine", training.GetProperty("schedule").GetString());
        Assert.Contains("rotation ±5°", training.GetProperty("augmentation").GetString());
        (code, _, err) = Run("train", "--model", "mlp", "--iterations", "30", "--train-samples", "1000", "--eval-samples", "200", "--out", full);
        Assert.True(code == 0, err);
        Assert.InRange(new FileInfo(half).Length, new FileInfo(full).Length * 0.45, new FileInfo(full).Length * 0.55);
        // An explicit --augment false wins over the strengths (and over a preset that augments): no augmentation, none recorded.
        string off = Path.Combine(dir, "off.safetensors");
        (code, output, err) = Run("train", "--model", "mlp", "--iterations", "30", "--train-samples", "1000", "--eval-samples", "200",
            "--rotate", "5", "--augment", "false", "--out", off);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("augmentation", output);
        training = System.Text.Json.JsonDocument.Parse(Serialization.ModelFile.Load(off).Metadata["training"]).RootElement;
        Assert.False(training.TryGetProperty("augmentation", out _));
    }

    [Fact]
    public void The_deepconv_aug_preset_trains_with_its_augmentation_schedule_and_single_dropout()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "aug.safetensors");
        var (code, output, err) = Run("train", "--model", "deepconv-aug", "--iterations", "2", "--batch-size", "20", "--train-samples", "200",
            "--eval-samples", "50", "--out", path);
        Assert.True(code == 0, err);
        Assert.Contains("dropout 0.5 (inverted, hidden layer only)", output);
        Assert.Contains("augmentation: shift ±2 px", output);
        Assert.Contains("(schedule cosine)", output);
        var loaded = Serialization.ModelFile.Load(path);
        Assert.Equal(ModelPresets.Find("deepconv-aug").Architecture(), loaded.Network.Architecture);
        Assert.IsType<Layers.Affine<float>>(loaded.Network.Layers[^1]); // no output dropout
        Assert.Equal(6, loaded.Network.Layers.Count(l => l is Layers.BatchNormalization<float>));
        var training = System.Text.Json.JsonDocument.Parse(loaded.Metadata["training"]).RootElement;
        Assert.Equal("cosine", training.GetProperty("schedule").GetString());
    }

    [Fact]
    public void The_deepconv_best_preset_trains_augmented_with_batchnorm_and_no_dropout()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "best.safetensors");
        var (code, output, err) = Run("train", "--model", "deepconv-best", "--iterations", "2", "--batch-size", "20", "--train-samples", "200", "--out", path);
        Assert.True(code == 0, err);
        Assert.Contains("augmentation: shift ±2 px", output);
        Assert.Contains("adam lr 0.002 (schedule cosine)", output);
        var loaded = Serialization.ModelFile.Load(path);
        Assert.Equal(ModelPresets.Find("deepconv-best").Architecture(), loaded.Network.Architecture);
        Assert.Equal(6, loaded.Network.Layers.Count(l => l is Layers.BatchNormalization<float>));
        Assert.DoesNotContain(loaded.Network.Layers, l => l is Layers.Dropout<float>);
        Assert.Equal(1000, Serialization.CheckpointFile.Load(Serialization.CheckpointFile.BesideModel(path)).Checkpoint.Options.EvaluationSamples);
    }

    [Fact]
    public void A_fast_preset_scores_its_epochs_on_a_sample_unless_the_command_line_says_otherwise()
    {
        var fast = ModelPresets.Find("deepconv-fast");
        Assert.True(fast.EvaluationSamples > 0);
        Assert.Equal(0, ModelPresets.Find("deepconv").EvaluationSamples); // the book's presets score everything
        string dir = TestPaths.NewTempDirectory();
        // 52 mini-batches: more than the preset's warm-up, which a run must outlast.
        foreach (var (given, expected) in new[] { ((string[])[], fast.EvaluationSamples), (["--eval-samples", "0"], 0), (["--eval-samples", "30"], 30) })
        {
            string path = Path.Combine(dir, $"fast{expected}.safetensors");
            var (code, output, err) = Run(["train", "--model", "deepconv-fast", "--epochs", "1", "--batch-size", "50", "--train-samples", "2600", .. given, "--out", path]);
            Assert.True(code == 0, err);
            Assert.Contains("of 10000 test images", output); // the final figure: the whole test set either way
            var run = Serialization.CheckpointFile.Load(Serialization.CheckpointFile.BesideModel(path));
            Assert.Equal(expected, run.Checkpoint.Options.EvaluationSamples);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => fast with { EvaluationSamples = -1 });
    }

    [Fact]
    public async Task Serve_answers_on_loopback_until_stopped()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "sample.safetensors");
        var (code, _, err) = Run("import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--model", "sample", "--out", model);
        Assert.True(code == 0, err);
        int port = 20000 + Environment.ProcessId % 20000;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll"), "serve", "--model", model, "--port", port.ToString() })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        try
        {
            string? line = p.StandardOutput.ReadLine();
            Assert.Contains("Models: sample", line);
            Assert.Contains($"http://127.0.0.1:{port}/", p.StandardOutput.ReadLine());
            using var http = new HttpClient();
            string models = await http.GetStringAsync($"http://127.0.0.1:{port}/api/models");
            Assert.Contains("\"name\":\"sample\"", models);
            Assert.Contains("<canvas id=\"pad\"", await http.GetStringAsync($"http://127.0.0.1:{port}/"));
        }
        finally
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }

    [Fact]
    public void Bench_profile_lists_every_layer()
    {
        var (code, output, err) = Run("bench", "--model", "simpleconv", "--iterations", "2", "--profile");
        Assert.True(code == 0, err);
        Assert.Contains("ms per mini-batch", output);
        foreach (var layer in new[] { "conv1", "pool1", "affine1", "relu1", "affine2" }) Assert.Contains(layer, output);
        Assert.DoesNotContain("relu2", output); // the convolution's ReLU is fused into it (Fusion.FuseConvolutionRelu)
        // The book's FLOPs at batch 100: 3 × (conv1 86.4 M + affine1 86.4 M + affine2 0.2 M) = 0.519 G per step, and
        // every layer with multiply-adds shows its GFLOP/s and its fraction of the FMA limit measured in the process.
        Assert.Matches(@"0\.52 GFLOP per mini-batch \(the book's FLOPs\), [\d.]+ GFLOP/s: \d+ % of the FMA limit, [\d.]+ GFLOP/s \(\d+ thread\(s\), (512|256|32)-bit\)", output);
        Assert.Matches(@"layer +forward ms +GFLOP/s +of limit +backward ms +GFLOP/s +of limit +share", output);
        foreach (var layer in new[] { "conv1", "affine1", "affine2" })
            Assert.Matches($@"(?m)^{layer} +[\d.]+ +[\d.]+ +\d+ % +[\d.]+ +[\d.]+ +\d+ % ", output);
        // The pooling runs inside the convolution before it (Layers.ConvolutionPooling): its row says so, its time is conv1's.
        Assert.Matches(@"(?m)^pool1 +in conv1 +\(run inside conv1's passes", output);
        Assert.Matches(@"(?m)^step +[\d.]+ +[\d.]+ +\d+ %$", output);
        // Training reuses its buffers: a few closures per layer call at most (about 2 KB here; 17 KB before the worker pool).
        var allocated = System.Text.RegularExpressions.Regex.Match(output, @"([\d,]+) bytes allocated per mini-batch");
        Assert.True(allocated.Success, output);
        Assert.InRange(long.Parse(allocated.Groups[1].Value.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture), 0, 8192);
    }

    [Fact]
    public void Experiment_list_and_run_write_runs_folder_and_index()
    {
        var (code, output, err) = Run("experiment", "list");
        Assert.True(code == 0, err);
        Assert.Contains("optimizers-2d", output);
        string root = TestPaths.NewTempDirectory();
        (code, output, err) = Run("experiment", "gradient", "--quick", "--out", root);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(root, "gradient", "summary.md")));
        Assert.Contains("gradient/descent.svg", File.ReadAllText(Path.Combine(root, "index.html")));
    }

    [Fact]
    public void Train_evaluate_predict_round_trip()
    {
        string dir = TestPaths.NewTempDirectory();
        string model = Path.Combine(dir, "tiny.safetensors");
        var (code, output, err) = Run("train", "--model", "twolayer", "--iterations", "300", "--train-samples", "3000", "--eval-samples", "1000", "--out", model, "--seed", "4");
        Assert.True(code == 0, err);
        // Epochs were scored on 1,000 test images; the final line on all 10,000, as evaluate scores the saved file.
        var trained = System.Text.RegularExpressions.Regex.Match(output, @"Test accuracy: \d+\.\d\d % \((\d+) of 10000 test images; ");
        Assert.True(trained.Success, output);
        Assert.Contains("epoch", output);
        Assert.True(File.Exists(model));
        Assert.True(File.Exists(Path.Combine(dir, "tiny.history.csv")));

        (code, output, err) = Run("evaluate", "--model", model);
        Assert.True(code == 0, err);
        Assert.Matches(@"test accuracy: \d+\.\d\d % \(\d+ of 10000 correct\)", output);
        Assert.Contains($"({trained.Groups[1].Value} of 10000 correct)", output);
        Assert.Contains("Confusion matrix", output);

        // --outputs: the probabilities of every test image, whose row argmaxes give the same count correct.
        string probabilities = Path.Combine(dir, "probabilities.npy");
        (code, _, err) = Run("evaluate", "--model", model, "--outputs", probabilities);
        Assert.True(code == 0, err);
        var written = Serialization.Npy.ReadFile(probabilities);
        Assert.Equal([10000, 10], written.Shape);
        var (_, test) = Data.Mnist.Load(directory: TestPaths.Mnist);
        int correct = 0;
        for (int i = 0; i < 10000; i++)
        {
            var row = written.Data.AsSpan(i * 10, 10);
            double sum = 0;
            foreach (double p in row) sum += p;
            Assert.InRange(sum, 0.9999, 1.0001);
            if (row.IndexOf(row.ToArray().Max()) == test.Labels[i]) correct++;
        }
        Assert.Equal(int.Parse(trained.Groups[1].Value), correct);

        (code, output, err) = Run("predict", "--model", model, "--index", "0..2");
        Assert.True(code == 0, err);
        var lines = output.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        // "[index] prediction == label: o or x"; o exactly when they agree.
        for (int i = 0; i < 3; i++)
        {
            var line = System.Text.RegularExpressions.Regex.Match(lines[i], @"^\[(\d)\] (\d) == (\d): ([ox])  top-3: (\d) ");
            Assert.True(line.Success, lines[i]);
            Assert.Equal(i.ToString(), line.Groups[1].Value);
            Assert.Equal(test.Labels[i].ToString(), line.Groups[3].Value);
            Assert.Equal(line.Groups[2].Value == line.Groups[3].Value ? "o" : "x", line.Groups[4].Value);
            Assert.Equal(line.Groups[2].Value, line.Groups[5].Value); // the prediction is the most probable class
        }

        // A PGM file of test image 0 (a 7) gives the same answer as --index 0.
        string pgm = Path.Combine(dir, "seven.pgm");
        var pixels = test.Images.ReadOnlySpan[..784].ToArray().Select(v => (byte)Math.Round(v * 255)).ToArray();
        File.WriteAllBytes(pgm, Encoding.ASCII.GetBytes("P5 28 28 255\n").Concat(pixels).ToArray());
        (code, output, err) = Run("predict", "--model", model, "--image", pgm);
        Assert.True(code == 0, err);
        string expected = lines[0].Split(' ')[1];
        Assert.StartsWith($"{pgm}: {expected}", output);

        string wrongSize = Path.Combine(dir, "big.pgm");
        File.WriteAllText(wrongSize, "P2 3 3 255 0 0 0 0 0 0 0 0 0");
        (code, _, err) = Run("predict", "--model", model, "--image", wrongSize);
        Assert.Equal(1, code);
        Assert.Contains("28×28", err);

        (code, _, err) = Run("predict", "--model", model, "--index", "10000");
        Assert.Equal(2, code);
        Assert.Contains("outside the test set", err);
    }
}
