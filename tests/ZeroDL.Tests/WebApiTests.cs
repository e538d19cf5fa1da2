using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using ZeroDL.Imaging;
using ZeroDL.Serialization;
using ZeroDL.Web;

namespace ZeroDL.Tests;

/// <summary>The web app in-process (TestServer): one server with the book's DeepConvNet as its only model.</summary>
public sealed class WebFixture : IAsyncLifetime
{
    public string ModelDirectory { get; } = TestPaths.NewTempDirectory();
    public string RunsDirectory { get; } = TestPaths.NewTempDirectory();
    public WebApplication App { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public Models.Sequential<float> Network { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Network = BookWeights.LoadDeepConvNet(Path.Combine(TestPaths.Reference, "deep_convnet_2016.npz"));
        ModelFile.Save(Network, Path.Combine(ModelDirectory, "book-deepconv.safetensors"));
        ZeroDL.Experiments.ExperimentCatalog.Run(ZeroDL.Experiments.ExperimentCatalog.Find("gates"), RunsDirectory, quick: true);
        App = WebServer.Create(new WebServerOptions { ModelDirectory = ModelDirectory, RunsDirectory = RunsDirectory, MnistDirectory = TestPaths.Mnist },
            configure: b => b.WebHost.UseTestServer());
        await App.StartAsync();
        Client = App.GetTestClient();
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

public class WebApiTests(WebFixture web, MnistFixture mnist) : IClassFixture<WebFixture>, IClassFixture<MnistFixture>
{
    private record Answer(string Model, int Label, float[] Probabilities, float[] Image, bool Preprocessed, bool Empty);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private async Task<(HttpStatusCode Status, string Body)> Post(HttpContent content, string query = "")
    {
        var response = await web.Client.PostAsync("/api/predict" + query, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static HttpContent JsonBody(string json) => new StringContent(json, Encoding.UTF8, "application/json");
    private static HttpContent PngBody(byte[] bytes) { var c = new ByteArrayContent(bytes); c.Headers.ContentType = new("image/png"); return c; }

    [Fact]
    public async Task Predictions_for_mnist_test_images_equal_the_libraries_and_the_cli()
    {
        var images = NDArrayRows.Slice(mnist.Data.Test.Images, 0, 30, null);
        var expected = web.Network.PredictLabels(images.Reshape(30, 1, 28, 28));
        for (int i = 0; i < 30; i++)
        {
            var pixels = images.ReadOnlySpan.Slice(i * 784, 784).ToArray();
            var (status, body) = await Post(JsonBody(JsonSerializer.Serialize(new { pixels })));
            Assert.Equal(HttpStatusCode.OK, status);
            var answer = JsonSerializer.Deserialize<Answer>(body, Json)!;
            Assert.Equal(expected[i], answer.Label);
            Assert.Equal("book-deepconv", answer.Model);
            Assert.Equal(1.0, answer.Probabilities.Sum(), 4);
            Assert.Equal(pixels, answer.Image); // no preprocessing unless asked
        }
        // The 28×28 form gives the same answer as the flat one.
        var rows = Enumerable.Range(0, 28).Select(r => images.ReadOnlySpan.Slice(r * 28, 28).ToArray()).ToArray();
        var (s2, b2) = await Post(JsonBody(JsonSerializer.Serialize(new { image = rows })));
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal(expected[0], JsonSerializer.Deserialize<Answer>(b2, Json)!.Label);
    }

    [Fact]
    public async Task A_drawn_png_is_prepared_like_mnist_and_recognised()
    {
        // A dark "1" on white paper, far from centred and much larger than MNIST's digits.
        int w = 300, h = 240;
        var gray = Enumerable.Repeat((byte)255, w * h).ToArray();
        for (int y = 40; y < 200; y++) for (int x = 200; x < 214; x++) gray[y * w + x] = 0;
        var (status, body) = await Post(PngBody(PngEncoder.Encode(w, h, 1, gray)));
        Assert.Equal(HttpStatusCode.OK, status);
        var answer = JsonSerializer.Deserialize<Answer>(body, Json)!;
        Assert.Equal(1, answer.Label);
        Assert.True(answer.Preprocessed);
        Assert.Equal(784, answer.Image.Length);
        // A blank page is reported as empty rather than guessed at.
        (status, body) = await Post(PngBody(PngEncoder.Encode(w, h, 1, Enumerable.Repeat((byte)255, w * h).ToArray())));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(JsonSerializer.Deserialize<Answer>(body, Json)!.Empty);
    }

    public static TheoryData<string, string, string, int, string> BadInputs => new()
    {
        { "not an image", "image/png", "hello, I am text", 415, "not a PNG" },
        { "empty body", "application/json", "", 400, "empty" },
        { "invalid JSON", "application/json", "{\"pixels\": [0, 0", 400, "invalid JSON" },
        { "JSON not an object", "application/json", "[1, 2, 3]", 400, "object" },
        { "wrong length", "application/json", "{\"pixels\": [" + string.Join(",", Enumerable.Repeat("0", 783)) + "]}", 400, "784" },
        { "wrong rows", "application/json", "{\"image\": [[0]]}", 400, "28 rows" },
        { "out of range", "application/json", "{\"pixels\": [" + string.Join(",", Enumerable.Repeat("0", 783)) + ", 1.5]}", 400, "[0, 1]" },
        { "not numbers", "application/json", "{\"pixels\": [" + string.Join(",", Enumerable.Repeat("\"a\"", 784)) + "]}", 400, "numbers" },
        { "no pixels", "application/json", "{\"picture\": 1}", 400, "needs" },
        { "unknown model", "application/json", "{\"model\": \"nope\", \"pixels\": [" + string.Join(",", Enumerable.Repeat("0", 784)) + "]}", 404, "unknown model" },
        { "wrong content type", "text/plain", "0,0,0", 415, "PNG" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_gets_a_4xx_with_a_json_error(string what, string contentType, string body, int status, string message)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new(contentType);
        var (code, text) = await Post(content);
        Assert.True((int)code == status, $"{what}: {(int)code} {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task Corrupt_pngs_and_oversized_bodies_are_refused()
    {
        var png = PngEncoder.Encode(4, 4, 1, new byte[16]);
        var corrupt = (byte[])png.Clone();
        corrupt[^20] ^= 0xFF; // inside IDAT: CRC mismatch
        var (code, text) = await Post(PngBody(corrupt));
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Contains("CRC", text);
        var truncated = png.AsSpan(0, 30).ToArray();
        (code, text) = await Post(PngBody(truncated));
        Assert.Equal(HttpStatusCode.BadRequest, code);
        (code, text) = await Post(PngBody(new byte[(1 << 20) + 1]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, code);
        Assert.Contains("larger than", text);
    }

    [Fact]
    public async Task Models_are_listed_and_the_page_is_served()
    {
        var models = await web.Client.GetFromJsonAsync<JsonElement>("/api/models");
        Assert.Equal("book-deepconv", models[0].GetProperty("name").GetString());
        Assert.Equal("deepconv", models[0].GetProperty("kind").GetString());
        var page = await web.Client.GetStringAsync("/");
        Assert.Contains("<canvas id=\"pad\"", page);
        Assert.Contains("draw.js", await web.Client.GetStringAsync("/index.html"));
        var missing = await web.Client.GetAsync("/api/nothing");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("error", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Concurrent_requests_get_the_same_answers_as_serial_ones()
    {
        var images = NDArrayRows.Slice(mnist.Data.Test.Images, 100, 16, null);
        var expected = web.Network.PredictLabels(images.Reshape(16, 1, 28, 28));
        var tasks = Enumerable.Range(0, 64).Select(async k =>
        {
            var pixels = images.ReadOnlySpan.Slice(k % 16 * 784, 784).ToArray();
            var response = await web.Client.PostAsync("/api/predict", JsonBody(JsonSerializer.Serialize(new { pixels })));
            return (k, JsonSerializer.Deserialize<Answer>(await response.Content.ReadAsStringAsync(), Json)!.Label);
        });
        foreach (var (k, label) in await Task.WhenAll(tasks)) Assert.Equal(expected[k % 16], label);
    }

    [Fact]
    public async Task Every_page_and_the_vendored_chart_library_are_served()
    {
        foreach (var page in new[] { "/index.html", "/explore.html", "/train.html", "/experiments.html", "/lib/uplot/uPlot.iife.min.js", "/draw.js", "/train.js" })
        {
            var response = await web.Client.GetAsync(page);
            Assert.True(response.IsSuccessStatusCode, page);
        }
        Assert.DoesNotContain("http", (await web.Client.GetStringAsync("/train.html")).Replace("http-equiv", "")); // no CDN: works offline
    }

    [Fact]
    public async Task Explore_gives_the_confusion_matrix_and_the_images_behind_it()
    {
        var result = await web.Client.GetFromJsonAsync<JsonElement>("/api/explore");
        var confusion = result.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        Assert.Equal(10000, confusion.Sum(r => r.Sum()));
        Assert.Equal(9935, Enumerable.Range(0, 10).Sum(i => confusion[i][i])); // the book's DeepConvNet
        Assert.Equal(0.9935, result.GetProperty("accuracy").GetDouble(), 10);
        var png = await web.Client.GetByteArrayAsync("/api/mnist/test/445.png");
        var image = Png.Decode(png, "445.png");
        Assert.Equal((28, 28), (image.Width, image.Height));
        Assert.Equal(HttpStatusCode.NotFound, (await web.Client.GetAsync("/api/mnist/test/10000.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await web.Client.GetAsync("/api/explore?model=nope")).StatusCode);
    }

    [Fact]
    public async Task Experiments_written_by_zerodl_experiment_are_listed_with_their_figures()
    {
        var list = await web.Client.GetFromJsonAsync<JsonElement>("/api/experiments");
        var gates = list.EnumerateArray().Single();
        Assert.Equal("gates", gates.GetProperty("name").GetString());
        string figure = gates.GetProperty("figures")[0].GetString()!;
        Assert.Equal("/runs/gates/gates.svg", figure);
        Assert.Contains("<svg", await web.Client.GetStringAsync(figure));
    }

    [Fact]
    public async Task A_run_reported_finished_already_holds_its_last_event()
    {
        // The event stream closes once the run reads as finished with nothing new, so by then the "done" event must be
        // among the events. A reader races a writer that publishes an epoch and finishes, many times over. (When the
        // status was set before the last event was published, a stream once closed after the epoch.)
        for (int round = 0; round < 3000; round++)
        {
            var run = new TrainingRun { Id = "1", Request = new TrainingRequest(), ModelName = "m" };
            using var go = new ManualResetEventSlim();
            var writer = Task.Run(() =>
            {
                go.Wait();
                run.Publish(new { type = "epoch" });
                run.Finish("done", new { type = "done", status = "done" });
            });
            var seen = new List<string>();
            go.Set();
            while (true)
            {
                var (events, _, finished) = run.Read(seen.Count);
                seen.AddRange(events);
                if (finished && events.Count == 0) break;
            }
            await writer;
            Assert.Equal("done", run.Status);
            Assert.Equal(2, seen.Count);
            Assert.Equal("done", JsonDocument.Parse(seen[^1]).RootElement.GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task A_training_run_streams_its_events_and_its_model_becomes_selectable()
    {
        // A server of its own: the run adds a model, which would change the shared server's default.
        await using var app = WebServer.Create(new WebServerOptions { ModelDirectory = TestPaths.NewTempDirectory(), MnistDirectory = TestPaths.Mnist },
            configure: b => b.WebHost.UseTestServer());
        await app.StartAsync();
        var client = app.GetTestClient();
        var bad = await client.PostAsync("/api/train", JsonBody("{\"model\": \"resnet\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/api/train", JsonBody("{\"epochs\": 0}"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/api/train", JsonBody("{nope"))).StatusCode);

        var start = await client.PostAsync("/api/train", JsonBody("{\"model\": \"mlp\", \"epochs\": 2, \"trainSamples\": 2000, \"evalSamples\": 500}"));
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var started = JsonDocument.Parse(await start.Content.ReadAsStringAsync()).RootElement;
        string id = started.GetProperty("id").GetString()!, modelName = started.GetProperty("modelName").GetString()!;
        var second = await client.PostAsync("/api/train", JsonBody("{\"model\": \"twolayer\"}"));
        Assert.True(second.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Accepted); // 409 while the first still runs
        if (second.StatusCode == HttpStatusCode.Accepted) // the first finished already: stop the second
            await client.PostAsync($"/api/train/{JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()}/cancel", JsonBody("{}"));

        using var stream = await client.GetStreamAsync($"/api/train/{id}/events");
        using var reader = new StreamReader(stream);
        var events = new List<JsonElement>();
        var timeout = Task.Delay(TimeSpan.FromMinutes(3));
        while (true)
        {
            var line = reader.ReadLineAsync();
            Assert.NotSame(timeout, await Task.WhenAny(line, timeout));
            var text = await line;
            if (text is null) break;
            if (text.StartsWith("data: ")) events.Add(JsonDocument.Parse(text[6..]).RootElement);
        }
        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal("start", types[0]);
        Assert.Equal("done", types[^1]);
        Assert.Equal(2, types.Count(t => t == "epoch"));
        Assert.Contains("batch", types);
        Assert.Equal("done", events[^1].GetProperty("status").GetString());
        double accuracy = events[^1].GetProperty("testAccuracy").GetDouble();
        Assert.True(accuracy > 0.75, $"test accuracy {accuracy}");
        var models = await client.GetFromJsonAsync<JsonElement>("/api/models");
        Assert.Contains(models.EnumerateArray(), m => m.GetProperty("name").GetString() == modelName);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/train/999/events")).StatusCode);
    }

    [Fact]
    public async Task With_no_model_the_server_trains_the_default_one_first()
    {
        await using var app = WebServer.Create(new WebServerOptions { ModelDirectory = TestPaths.NewTempDirectory(), MnistDirectory = TestPaths.Mnist, TrainWhenEmpty = true },
            configure: b => b.WebHost.UseTestServer());
        await app.StartAsync();
        var client = app.GetTestClient();
        var runs = await client.GetFromJsonAsync<JsonElement>("/api/train");
        var run = runs.EnumerateArray().Single();
        Assert.Equal("dense", run.GetProperty("request").GetProperty("model").GetString());
        await client.PostAsync($"/api/train/{run.GetProperty("id").GetString()}/cancel", JsonBody("{}")); // the test needs only the start
        var predict = await client.PostAsync("/api/predict", JsonBody("{\"pixels\": [" + string.Join(",", Enumerable.Repeat("0", 784)) + "]}"));
        Assert.True(predict.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.OK); // 404 "no model" until an epoch has finished
    }

    [Fact]
    public async Task Api_answers_equal_the_zerodl_predict_commands()
    {
        string model = Path.Combine(web.ModelDirectory, "book-deepconv.safetensors");
        var (code, output, err) = CliTests.Run("predict", "--model", model, "--index", "0..39");
        Assert.True(code == 0, err);
        // Lines "[i] predicted == label: o|x  top 3": the prediction is the word before "==".
        var cli = output.Split('\n').Where(l => l.StartsWith('[')).Select(l => int.Parse(l.Split(' ')[1])).ToArray();
        Assert.Equal(40, cli.Length);
        for (int i = 0; i < 40; i++)
        {
            var pixels = mnist.Data.Test.Images.ReadOnlySpan.Slice(i * 784, 784).ToArray();
            var (status, body) = await Post(JsonBody(JsonSerializer.Serialize(new { pixels })));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(cli[i], JsonSerializer.Deserialize<Answer>(body, Json)!.Label);
        }
    }

    /// <summary>A PNG from its parts: IHDR of the given size (8-bit gray), the IDAT payload as given, IEND; CRCs right.</summary>
    private static byte[] HandMadePng(uint width, uint height, byte[] idat, uint? idatLength = null)
    {
        using var png = new MemoryStream();
        png.Write(Png.Signature);
        void Chunk(string type, byte[] data, uint? length = null)
        {
            var head = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(head, length ?? (uint)data.Length);
            Encoding.ASCII.GetBytes(type, head.AsSpan(4));
            png.Write(head);
            png.Write(data);
            var crc = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Compute([.. head.AsSpan(4), .. data]));
            png.Write(crc);
        }
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (gray), no interlace
        Chunk("IHDR", ihdr);
        Chunk("IDAT", idat, idatLength);
        Chunk("IEND", []);
        return png.ToArray();
    }

    private static byte[] Zlib(int zeros)
    {
        using var output = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(output, System.IO.Compression.CompressionLevel.SmallestSize)) z.Write(new byte[zeros]);
        return output.ToArray();
    }

    [Fact]
    public async Task Hostile_uploads_and_bodies_over_the_limit_get_a_4xx_never_a_500()
    {
        var uploads = new (string What, byte[] Png)[]
        {
            ("width 2^31 (issue 18: OverflowException, 500)", HandMadePng(0x8000_0000, 1, Zlib(2))),
            ("width 2^32 - 1", HandMadePng(uint.MaxValue, uint.MaxValue, Zlib(2))),
            ("100,000 × 100,000", HandMadePng(100_000, 100_000, Zlib(1000))),
            ("width 0", HandMadePng(0, 28, Zlib(28))),
            ("IDAT inflating to 64 MB for a 28 × 28 image", HandMadePng(28, 28, Zlib(64 << 20))),
            ("IDAT short of the rows", HandMadePng(28, 28, Zlib(100))),
            ("IDAT length 2^31", HandMadePng(28, 28, Zlib(28 * 29), idatLength: 0x8000_0000)),
            ("IDAT not zlib", HandMadePng(28, 28, new byte[100])),
            ("signature only", Png.Signature.ToArray()),
        };
        foreach (var (what, png) in uploads)
        {
            var (code, text) = await Post(PngBody(png));
            Assert.True((int)code is >= 400 and < 500, $"{what}: {(int)code} {text}");
            Assert.True(JsonDocument.Parse(text).RootElement.TryGetProperty("error", out _), what);
            var form = new MultipartFormDataContent { { new ByteArrayContent(png) { Headers = { ContentType = new("image/png") } }, "image", "digit.png" } };
            (code, text) = await Post(form);
            Assert.True((int)code is >= 400 and < 500, $"{what} as a form: {(int)code} {text}");
        }
        // Over the 1 MiB body limit: declared, undeclared (chunked), and as a form.
        var big = new byte[(1 << 20) + 1];
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Post(PngBody(big))).Status);
        var chunked = new StreamContent(new MemoryStream(big));
        chunked.Headers.ContentType = new("image/png");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/predict") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await web.Client.SendAsync(request)).StatusCode);
        var (status, body) = await Post(new MultipartFormDataContent { { new ByteArrayContent(big), "image", "big.png" } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("larger than", body);
        var json = new StringContent("{\"pixels\": [" + string.Join(",", Enumerable.Repeat("0.5", 300_000)) + "]}", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Post(json)).Status);
    }

    [Fact]
    public async Task A_png_uploaded_as_a_browser_form_gets_the_same_answer_as_a_png_body()
    {
        int w = 300, h = 240; // a dark "1" on white paper, as in A_drawn_png_is_prepared_like_mnist_and_recognised
        var gray = Enumerable.Repeat((byte)255, w * h).ToArray();
        for (int y = 40; y < 200; y++) for (int x = 200; x < 214; x++) gray[y * w + x] = 0;
        var png = PngEncoder.Encode(w, h, 1, gray);
        var (status, body) = await Post(PngBody(png));
        Assert.Equal(HttpStatusCode.OK, status);
        var direct = JsonSerializer.Deserialize<Answer>(body, Json)!;
        // What a browser sends for <form method="post" enctype="multipart/form-data"><input type="file" name="image">
        // (issue 18: 415), and curl -F image=@digit.png -F model=book-deepconv.
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(png) { Headers = { ContentType = new("image/png") } }, "image", "digit.png" },
            { new StringContent("book-deepconv"), "model" },
        };
        (status, body) = await Post(form);
        Assert.Equal(HttpStatusCode.OK, status);
        var uploaded = JsonSerializer.Deserialize<Answer>(body, Json)!;
        Assert.Equal(1, uploaded.Label);
        Assert.Equal("book-deepconv", uploaded.Model);
        Assert.Equal(direct.Probabilities, uploaded.Probabilities);
        // The file field missing, a file that is not a PNG, a form that is not multipart, a broken multipart body.
        (status, body) = await Post(new MultipartFormDataContent { { new ByteArrayContent(png), "picture", "digit.png" } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\\\"image\\\"", body);
        (status, _) = await Post(new MultipartFormDataContent { { new ByteArrayContent("GIF89a"u8.ToArray()), "image", "digit.gif" } });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        (status, _) = await Post(new FormUrlEncodedContent([new("image", "x")]));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        var broken = new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\nabc"u8.ToArray());
        broken.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");
        (status, body) = await Post(broken);
        Assert.True(status == HttpStatusCode.BadRequest, $"{(int)status} {body}");
    }
}
