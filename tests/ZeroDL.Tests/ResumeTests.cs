using System.Diagnostics;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 19's bar, as a user meets it: <c>zerodl train</c> killed with SIGKILL and then run with <c>--resume</c> ends
/// with the same model file tensors, bit for bit, as the same run left alone. The kill points are deterministic: the
/// hidden <c>--hold-at</c> option stops the process at a named point and says so on stdout, and only then is it
/// killed — mid-epoch, right after a checkpoint is in place, and while a checkpoint's bytes are in its temporary file
/// (not yet renamed over the previous one). Plain, augmented, dropout (with BatchNorm) and validated (reduce-on-plateau,
/// early stopping and keep-best, whose state the checkpoint carries) runs.
/// </summary>
public class ResumeTests
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "zerodl-cli.dll");

    // Small and fast: 300 images in batches of 50 (6 per epoch), 3 epochs = 18 iterations, a checkpoint every 4
    // iterations and at every epoch's end: after iterations 4, 6, 8, 12, 16, 18 (the 1st … 6th checkpoint). A kill at
    // "iteration:N" comes after the first epoch's end, where the trainer waits for the checkpoints before it: one exists.
    private static readonly string[] Common = ["--epochs", "3", "--batch-size", "50", "--train-samples", "300", "--eval-samples", "100", "--checkpoint-every", "4"];

    public static TheoryData<string, string[], string[]> Variants => new()
    {
        // variant, its options, kill points (each a --hold-at, killed there, then resumed)
        { "plain", ["--model", "mlp", "--hidden", "32"], ["iteration:10", "checkpoint-written:2", "checkpoint-writing:3"] },
        { "augmented", ["--model", "mlp", "--hidden", "32", "--augment"], ["iteration:9", "checkpoint-writing:2"] },
        { "dropout", ["--model", "dense", "--hidden", "32,32", "--optimizer", "momentum", "--lr", "0.05"], ["checkpoint-writing:4", "iteration:11"] },
        // 60 of the 300 held out for validation (5 iterations per epoch, checkpoints after 4, 5, 8, 10, 12, 15): the
        // plateau's factor, early stopping's record and the best model (what --out holds) must survive the kill.
        { "validated", ["--model", "mlp", "--hidden", "32", "--val-split", "0.2", "--early-stop", "2", "--keep", "best", "--monitor", "val_accuracy",
            "--schedule", "plateau:0.5:1", "--warmup", "3"], ["checkpoint-writing:2", "iteration:12"] },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task A_run_killed_at_any_point_and_resumed_ends_bit_for_bit_as_the_uninterrupted_run(string variant, string[] options, string[] killPoints)
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            // The runs are independent processes in their own files: run them side by side.
            string reference = Path.Combine(dir, "full.safetensors");
            var uninterrupted = Task.Run(() => Finish("uninterrupted", [.. options, .. Common, "--out", reference]));
            var resumed = killPoints.Select((point, i) => Task.Run(() =>
            {
                string model = Path.Combine(dir, $"k{i}.safetensors"), checkpoint = Path.ChangeExtension(model, ".ckpt");
                KillAt(point, [.. options, .. Common, "--out", model]);
                Assert.True(File.Exists(checkpoint), $"{variant}, killed at {point}: no checkpoint {checkpoint}");
                // Resumed with another thread count: how fast, not what is computed.
                Finish($"resumed after a kill at {point}", ["--resume", checkpoint, "--threads", "1"]);
                return (point, model);
            })).ToList();
            await uninterrupted;
            foreach (var task in resumed)
            {
                var (point, model) = await task;
                AssertSameTensors(reference, model, $"{variant}, killed at {point}");
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task A_resumed_run_killed_again_resumes_again_to_the_same_weights_and_its_epochs_may_be_raised()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string[] options = ["--model", "dense", "--hidden", "24", "--train-samples", "200", "--batch-size", "50", "--eval-samples", "50", "--checkpoint-every", "2"];
            string four = Path.Combine(dir, "four.safetensors"), model = Path.Combine(dir, "m.safetensors"), checkpoint = Path.Combine(dir, "m.ckpt");
            var reference = Task.Run(() => Finish("four epochs", [.. options, "--epochs", "4", "--out", four]));
            // Killed right after its first checkpoint (iteration 2), resumed and killed again mid-epoch (iteration 7),
            // resumed to the end of its 2 epochs, then raised to 4.
            KillAt("checkpoint-written:1", [.. options, "--epochs", "2", "--out", model]);
            KillAt("iteration:7", ["--resume", checkpoint]);
            string output = Finish("resumed twice", ["--resume", checkpoint]);
            Assert.Contains("Resuming", output);
            Assert.Contains("(2 epochs done)", Finish("raised", ["--resume", checkpoint, "--epochs", "4"]));
            await reference;
            AssertSameTensors(four, model, "two epochs killed twice, then raised to four");
            Assert.Equal(5, File.ReadAllLines(Path.Combine(dir, "m.history.csv")).Length); // header and four epochs
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Resume_refuses_in_one_line_what_would_change_the_run_and_names_a_bad_file()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string model = Path.Combine(dir, "m.safetensors"), checkpoint = Path.Combine(dir, "m.ckpt");
            Finish("a short run", ["--model", "mlp", "--hidden", "16", "--epochs", "2", "--train-samples", "100", "--eval-samples", "50", "--schedule", "cosine", "--out", model]);
            foreach (var (args, expected) in new (string[], string)[]
            {
                (["--lr", "0.1"], "--lr would change the run"),
                (["--hidden", "17"], "--hidden would change the run"),
                (["--epochs", "1"], "may be raised, not lowered"),
                (["--epochs", "3"], "cosine schedule"),
                (["--checkpoint-every", "0"], "--checkpoint-every must be at least 1"),
            })
            {
                var (code, _, err) = CliTests.Run(["train", "--resume", checkpoint, .. args]);
                Assert.Equal(2, code);
                Assert.Contains(expected, err);
                Assert.Single(err.Trim().Split('\n'), l => !l.StartsWith("Run '"));
            }
            // Repeating an option with the value it had is not a change.
            Assert.Equal(0, CliTests.Run("train", "--resume", checkpoint, "--hidden", "16", "--model", "mlp").Code);

            var (c1, _, e1) = CliTests.Run("train", "--resume", model);
            Assert.Equal(1, c1);
            Assert.Contains($"{model}: this is a model file, not a training checkpoint", e1);
            var (c2, _, e2) = CliTests.Run("train", "--resume", Path.Combine(dir, "missing.ckpt"));
            Assert.Equal(1, c2);
            Assert.Contains("missing.ckpt", e2);
            var bytes = File.ReadAllBytes(checkpoint);
            string cut = Path.Combine(dir, "cut.ckpt");
            File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
            var (c3, _, e3) = CliTests.Run("train", "--resume", cut);
            Assert.Equal(1, c3);
            Assert.Contains("cut.ckpt", e3);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Runs zerodl train to its end; returns stdout.</summary>
    private static string Finish(string what, string[] args)
    {
        var (code, output, err) = CliTests.Run(["train", .. args]);
        Assert.True(code == 0, $"{what}: exit {code}: {err}");
        return output;
    }

    /// <summary>Starts zerodl train holding at <paramref name="point"/>, waits until it says it is there, and kills it (SIGKILL).</summary>
    internal static void KillAt(string point, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        foreach (var a in (string[])[Dll, "train", .. args, "--hold-at", point]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var seen = new System.Text.StringBuilder();
        var reading = Task.Run(() =>
        {
            while (p.StandardOutput.ReadLine() is string line)
            {
                seen.AppendLine(line);
                if (line.StartsWith("HOLD ", StringComparison.Ordinal)) return true;
            }
            return false;
        });
        bool held = reading.Wait(TimeSpan.FromMinutes(3)) && reading.Result;
        p.Kill(entireProcessTree: true); // SIGKILL: no handler, no flush, no finally
        p.WaitForExit(30_000);
        Assert.True(held, $"zerodl never reached {point}: {seen}{stderr.Result}");
    }

    private static void AssertSameTensors(string expectedPath, string actualPath, string what)
    {
        var (expected, _) = SafeTensors.Read(expectedPath);
        var (actual, _) = SafeTensors.Read(actualPath);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            Assert.Equal(e.Shape, a.Shape);
            for (int i = 0; i < e.Values.Length; i++)
                if (BitConverter.SingleToInt32Bits(e.Values[i]) != BitConverter.SingleToInt32Bits(a.Values[i]))
                    Assert.Fail($"{what}: {name}[{i}] is {a.Values[i]:R}, the uninterrupted run's {e.Values[i]:R}");
        }
    }
}
