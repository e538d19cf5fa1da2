using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using ZeroDL.Imaging;
using ZeroDL.Web;

namespace ZeroDL.Tests;

/// <summary>
/// An ImageFolder of RGB 32×32 PNGs made here (four classes: a colour and a stripe direction each, with noise) taken
/// through the whole tool: train --data DIR --arch FILE → evaluate → predict on one image → the web API predicts the
/// same label for the same file.
/// </summary>
public class ImageFolderEndToEndTests
{
    private static readonly (string Name, byte[] Colour, Func<int, int, bool> Stripe)[] Classes =
    [
        ("red", [220, 40, 40], (x, y) => y % 4 < 2),
        ("green", [40, 200, 60], (x, y) => x % 4 < 2),
        ("blue", [40, 60, 220], (x, y) => (x + y) % 6 < 3),
        ("yellow", [230, 210, 40], (x, y) => (x / 4 + y / 4) % 2 == 0),
    ];

    /// <summary>Writes DIR/{train,test}/&lt;class&gt;/i.png: the class's colour on its stripes, dark elsewhere, ± 40 of noise.</summary>
    internal static string MakeTree(int trainPerClass = 30, int testPerClass = 8)
    {
        string dir = TestPaths.NewTempDirectory();
        var rng = new Rng(17);
        foreach (var (split, count) in new[] { ("train", trainPerClass), ("test", testPerClass) })
            foreach (var (name, colour, stripe) in Classes)
            {
                Directory.CreateDirectory(Path.Combine(dir, split, name));
                for (int i = 0; i < count; i++)
                {
                    var rgb = new byte[32 * 32 * 3];
                    for (int y = 0; y < 32; y++)
                        for (int x = 0; x < 32; x++)
                            for (int c = 0; c < 3; c++)
                                rgb[(y * 32 + x) * 3 + c] = (byte)Math.Clamp((stripe(x, y) ? colour[c] : colour[c] / 4) + rng.Next(81) - 40, 0, 255);
                    File.WriteAllBytes(Path.Combine(dir, split, name, $"{i}.png"), PngEncoder.Encode(32, 32, 3, rgb));
                }
            }
        return dir;
    }

    private const string TinyNet = """
        {"input_shape": [3, 32, 32], "layers": [
          {"type": "conv", "filters": 6, "kernel": [3, 3], "pad": 1, "init": "he", "activation": "relu"},
          {"type": "max_pool", "size": [4, 4], "stride": 4},
          {"type": "affine", "units": 16, "init": "he"},
          {"type": "relu"},
          {"type": "affine", "units": 4, "init": "he"}], "weight_decay": 0}
        """;

    [Fact]
    public void Predict_classifies_a_folder_of_images_into_a_csv()
    {
        string data = MakeTree(trainPerClass: 10, testPerClass: 3);
        // A class whose name holds a comma and a quote, so that the CSV must quote it.
        const string odd = "red, \"ish\"";
        foreach (string split in new[] { "train", "test" }) Directory.Move(Path.Combine(data, split, "red"), Path.Combine(data, split, odd));
        string work = TestPaths.NewTempDirectory();
        string arch = Path.Combine(work, "tiny.json"), model = Path.Combine(work, "tiny.safetensors"), csv = Path.Combine(work, "predictions.csv");
        File.WriteAllText(arch, TinyNet);
        var (code, output, error) = CliTests.Run("train", "--data", data, "--arch", arch, "--epochs", "2", "--batch-size", "16", "--out", model);
        Assert.True(code == 0, output + error);

        // 108 images (past one batch of 100) in a folder whose name holds a comma, some in a sub-folder, beside a
        // text file and a hidden file that are not read.
        string folder = Path.Combine(work, "new, unlabelled");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        var files = Directory.GetFiles(Path.Combine(data, "test"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        for (int i = 0; i < 9 * files.Length; i++) File.Copy(files[i % files.Length], Path.Combine(folder, i % 2 == 0 ? "sub" : "", $"{i:D3}.png"));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not an image");
        File.WriteAllText(Path.Combine(folder, "._000.png"), "a hidden file");
        (code, output, error) = CliTests.Run("predict", "--model", model, "--index", "0..1", "--image", folder, "--out", csv);
        Assert.True(code == 0, output + error);
        Assert.Matches(@"^Classified 110 images \(.+\); wrote ", output);

        var lines = File.ReadAllLines(csv);
        string[] classes = ["blue", "green", odd, "yellow"];
        Assert.Equal(["source", "label", "prediction", "probability", .. classes], CsvFields(lines[0]));
        Assert.Equal("source,label,prediction,probability,blue,green,\"red, \"\"ish\"\"\",yellow", lines[0]);
        var expected = Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(108, expected.Length);
        Assert.Equal(1 + 2 + expected.Length, lines.Length);
        var rows = lines.Skip(1).Select(CsvFields).ToList();
        Assert.Equal(["test[0]", "test[1]", .. expected], rows.Select(r => r[0]));
        Assert.Equal("blue", rows[0][1]); // the test split's first images, in class order
        Assert.All(rows.Skip(2), r => Assert.Equal("", r[1]));
        foreach (var r in rows)
        {
            var p = r[4..].Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(4, p.Length);
            Assert.Equal(1.0, p.Sum(), 1e-5);
            int best = Array.IndexOf(p, p.Max());
            Assert.Equal(classes[best], r[2]);
            Assert.Equal(p[best], double.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture));
        }

        // One file alone (a batch of one) gets the label and, to the printed digits, the probability of its row.
        string one = expected[103]; // in the second batch
        (code, output, error) = CliTests.Run("predict", "--model", model, "--image", one);
        Assert.True(code == 0, error);
        var alone = System.Text.RegularExpressions.Regex.Match(output, @"\.png: (.+?)  top-3: .+? ([\d.]+) %");
        var row = rows[2 + 103];
        Assert.Equal(row[2], alone.Groups[1].Value);
        Assert.Equal(double.Parse(row[3], System.Globalization.CultureInfo.InvariantCulture) * 100, double.Parse(alone.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), 0.051);

        // A corrupt image stops the run naming it, and the CSV before it stays as it was; a folder without images is refused.
        string corrupt = Path.Combine(folder, "sub", "zz.png");
        File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 1, 2, 3]);
        (code, _, error) = CliTests.Run("predict", "--model", model, "--image", folder, "--out", csv);
        Assert.Equal(1, code);
        Assert.Contains(corrupt, error);
        Assert.Equal(lines, File.ReadAllLines(csv));
        string empty = Path.Combine(work, "empty");
        Directory.CreateDirectory(empty);
        (code, _, error) = CliTests.Run("predict", "--model", model, "--image", empty);
        Assert.Equal(1, code);
        Assert.Contains($"{empty}: no PNG images in this folder", error);
    }

    /// <summary>The fields of one CSV line (RFC 4180: a quoted field may hold commas, a doubled quote is a quote).</summary>
    private static string[] CsvFields(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return [.. fields];
    }

    [Fact]
    public void Misclassified_draws_the_test_split_of_the_seed_it_is_given_as_evaluate_does()
    {
        // A flat tree split by --test-split: the images tested depend on --seed. A barely trained model errs on many.
        string data = Path.Combine(MakeTree(), "train"), work = TestPaths.NewTempDirectory();
        string arch = Path.Combine(work, "tiny.json"), model = Path.Combine(work, "tiny.safetensors");
        File.WriteAllText(arch, TinyNet);
        var (code, output, error) = CliTests.Run("train", "--data", data, "--test-split", "0.5", "--arch", arch, "--iterations", "1", "--lr", "0.0001", "--out", model);
        Assert.True(code == 0, output + error);
        string Wrong(string seed)
        {
            var (c, text, err) = CliTests.Run("misclassified", "--model", model, "--data", data, "--test-split", "0.5", "--seed", seed, "--out", Path.Combine(work, seed + ".png"));
            Assert.True(c == 0, err);
            var (e, evaluated, evaluateError) = CliTests.Run("evaluate", "--model", model, "--data", data, "--test-split", "0.5", "--seed", seed);
            Assert.True(e == 0, evaluateError);
            // The same split as evaluate's: the same accuracy.
            string percent = System.Text.RegularExpressions.Regex.Match(text, @"\(([\d.]+ %) correct\)").Groups[1].Value;
            Assert.NotEmpty(percent);
            Assert.Contains($"test accuracy: {percent}", evaluated);
            // The figure draws the misclassified images themselves (noisy, each unlike the others), not their indices
            // within the split, which a model that errs on whole classes shares between splits.
            return Convert.ToBase64String(File.ReadAllBytes(Path.Combine(work, seed + ".png")));
        }
        Assert.NotEqual(Wrong("3"), Wrong("4"));
    }

    [Fact]
    public async Task Train_evaluate_predict_and_serve_an_rgb_imagefolder()
    {
        string data = MakeTree();
        string work = TestPaths.NewTempDirectory();
        string arch = Path.Combine(work, "tiny.json"), model = Path.Combine(work, "tiny.safetensors");
        File.WriteAllText(arch, TinyNet);

        var (code, output, error) = CliTests.Run("train", "--data", data, "--arch", arch, "--epochs", "10", "--batch-size", "16", "--lr", "0.01", "--out", model);
        Assert.True(code == 0, output + error);
        Assert.Contains("120 training and 32 test images of 3×32×32, 4 classes", output);
        var accuracy = double.Parse(System.Text.RegularExpressions.Regex.Match(output, @"Test accuracy: ([\d.]+) %").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(accuracy >= 90, output);

        // evaluate finds the data the model file records, and names the classes (ordinal order of the folders).
        (code, output, error) = CliTests.Run("evaluate", "--model", model);
        Assert.True(code == 0, error);
        Assert.Contains("Classes: 0: blue, 1: green, 2: red, 3: yellow", output);
        Assert.Contains($"test accuracy: {accuracy.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)} %", output);

        string image = Path.Combine(data, "test", "yellow", "3.png");
        (code, output, error) = CliTests.Run("predict", "--model", model, "--image", image);
        Assert.True(code == 0, error);
        string cliLabel = System.Text.RegularExpressions.Regex.Match(output, @"\.png: (\w+)  top-3").Groups[1].Value;
        Assert.Equal("yellow", cliLabel);
        (code, output, _) = CliTests.Run("predict", "--model", model, "--index", "0..1");
        Assert.Equal(0, code);
        Assert.Matches(@"\[0\] \w+ == blue: [ox]", output);

        // A model/data mismatch exits 1 naming the model file; a gray image for an RGB model too.
        (code, _, error) = CliTests.Run("evaluate", "--model", model, "--data", "mnist");
        Assert.Equal(1, code);
        Assert.Contains($"{model}: the model takes inputs of 3×32×32, mnist has images of 1×28×28", error);
        string gray = Path.Combine(work, "gray.png");
        File.WriteAllBytes(gray, PngEncoder.Encode(32, 32, 1, new byte[1024]));
        (code, _, error) = CliTests.Run("predict", "--model", model, "--image", gray);
        Assert.Equal(1, code);
        Assert.Contains("is gray (1 channel) but the model takes colour (3 channels)", error);

        // The web app: the same file posted as a PNG gets the same label, by name.
        await using var app = WebServer.Create(new WebServerOptions { ModelDirectory = TestPaths.NewTempDirectory(), ModelFiles = [model], MnistDirectory = TestPaths.Mnist },
            configure: b => b.WebHost.UseTestServer());
        await app.StartAsync();
        var client = app.GetTestClient();
        var content = new ByteArrayContent(File.ReadAllBytes(image));
        content.Headers.ContentType = new("image/png");
        var response = await client.PostAsync("/api/predict?model=tiny", content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(cliLabel, json.RootElement.GetProperty("className").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("probabilities").GetArrayLength());
        Assert.Equal(["blue", "green", "red", "yellow"], json.RootElement.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));

        // A larger RGB PNG is resized to the model's 32×32; a gray one is refused with a 400 that says why.
        var big = new byte[64 * 48 * 3];
        for (int i = 0; i < big.Length; i += 3) { big[i] = 230; big[i + 1] = 210; big[i + 2] = 40; }
        content = new ByteArrayContent(PngEncoder.Encode(64, 48, 3, big));
        content.Headers.ContentType = new("image/png");
        response = await client.PostAsync("/api/predict?model=tiny", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        content = new ByteArrayContent(File.ReadAllBytes(gray));
        content.Headers.ContentType = new("image/png");
        response = await client.PostAsync("/api/predict?model=tiny", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("gray (1 channel)", await response.Content.ReadAsStringAsync());

        // Explore: the model's own test set, its accuracy as evaluate's, its images as RGB PNGs.
        response = await client.GetAsync("/api/explore?model=tiny");
        body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var explore = JsonDocument.Parse(body);
        Assert.Equal(accuracy / 100, explore.RootElement.GetProperty("accuracy").GetDouble(), 6);
        Assert.Equal(32, explore.RootElement.GetProperty("labels").GetArrayLength());
        string url = explore.RootElement.GetProperty("images").GetString()!.Replace("{index}", "5");
        var png = await client.GetByteArrayAsync("/" + url);
        var shown = Png.DecodePixels(png, "explore image");
        Assert.Equal((3, 32, 32), (shown.Channels, shown.Height, shown.Width));
    }

    [Fact]
    public void The_deepconv_preset_adapts_to_the_datas_shape_and_class_count()
    {
        string data = MakeTree(trainPerClass: 3, testPerClass: 1);
        string model = Path.Combine(TestPaths.NewTempDirectory(), "deep.safetensors");
        var (code, output, error) = CliTests.Run("train", "--model", "deepconv", "--data", data, "--iterations", "1", "--out", model);
        Assert.True(code == 0, output + error);
        // The book's layers: the first filters 3 deep for RGB, the first Affine 64×4×4 after three pools of 32×32
        // (32 → 16 → 18 with the pad-2 convolution → 9 → 4), four outputs.
        Assert.Contains("Training deepconv: 3×32×32 → conv 16 3×3 pad 1 relu", output);
        Assert.Contains("affine 4", output);
        var loaded = ZeroDL.Serialization.ModelFile.Load(model);
        Assert.Equal([3, 32, 32], loaded.Network.InputShape.ToArray());
        Assert.Equal([16, 3, 3, 3], loaded.Network.NamedTensors().First().Value.Shape.ToArray());
        Assert.Equal(["blue", "green", "red", "yellow"], loaded.ClassNames);
        Assert.Equal(3, loaded.Normalization.Channels);
        Assert.False(loaded.Normalization.IsIdentity);
    }
}
