using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;
using ZeroDL.Serialization;
using ZeroDL.Training;
using ZeroDL.Web;

namespace ZeroDL.Tests;

/// <summary>Training from the web app (issue 18): what a cancelled or interrupted run reports and leaves on disk.</summary>
public class WebTrainingTests
{
    internal static async Task<(WebApplication App, HttpClient Client, string Models)> Start(Func<WebServerOptions, WebServerOptions>? change = null, CapturedLogs? logs = null)
    {
        string models = TestPaths.NewTempDirectory();
        var options = new WebServerOptions { ModelDirectory = models, MnistDirectory = TestPaths.Mnist, RunsDirectory = TestPaths.NewTempDirectory() };
        options = change?.Invoke(options) ?? options;
        var app = WebServer.Create(options, configure: b =>
        {
            b.WebHost.UseTestServer();
            if (logs is not null) b.Logging.AddProvider(logs);
        });
        await app.StartAsync();
        return (app, app.GetTestClient(), options.ModelDirectory);
    }

    internal static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The events of a run until its stream ends (at most 3 minutes).</summary>
    internal static async Task<List<JsonElement>> Events(HttpClient client, string id)
    {
        using var reader = new StreamReader(await client.GetStreamAsync($"/api/train/{id}/events"));
        var events = new List<JsonElement>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
            if (line.StartsWith("data: ")) events.Add(JsonDocument.Parse(line[6..]).RootElement);
        return events;
    }

    internal static async Task<string> StartRun(HttpClient client, string json)
    {
        var response = await client.PostAsync("/api/train", Json(json));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task A_run_cancelled_before_its_first_epoch_reports_cancelled_and_leaves_no_file()
    {
        var (app, client, models) = await Start();
        await using var _ = app;
        string id = await StartRun(client, "{\"model\": \"deepconv\", \"epochs\": 1}"); // minutes to its first epoch
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/train/{id}/cancel", Json("{}"))).StatusCode);
        var events = await Events(client, id);
        var done = events[^1];
        Assert.Equal("done", done.GetProperty("type").GetString());
        // Issue 18: "failed: … infinity cannot be written as valid JSON" (the accuracy of no epoch is NaN).
        Assert.Equal("cancelled", done.GetProperty("status").GetString());
        Assert.False(done.TryGetProperty("error", out var error), error.ToString());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("model").ValueKind);
        Assert.Equal(JsonValueKind.Null, done.GetProperty("testAccuracy").ValueKind);
        var runs = await client.GetFromJsonAsync<JsonElement>("/api/train");
        Assert.Equal("cancelled", runs.EnumerateArray().Single().GetProperty("status").GetString());
        // No model and no temporary file; the run's metrics log, and at most the checkpoint of where it stopped (issue 19: it can be resumed).
        Assert.All(Directory.EnumerateFileSystemEntries(models), f => Assert.True(f.EndsWith(CheckpointFile.Extension) || f.EndsWith(MetricsLog.FileSuffix), f));
    }

    [Fact]
    public async Task Stopping_the_server_ends_a_running_run_first()
    {
        // More epochs than a run gets through in any plausible delay between its first epoch and the stop: with 20, a
        // quick host finished the run first and the test saw "done".
        var (app, client, models) = await Start(o => o with { Training = o.Training with { MaxEpochs = 1000 } });
        string id = await StartRun(client, "{\"model\": \"mlp\", \"epochs\": 1000}");
        var runs = app.Services.GetService(typeof(TrainingRuns)) as TrainingRuns;
        var run = runs!.Find(id)!;
        // Let it save at least one epoch, so that a save may be under way when the server stops.
        using var reader = new StreamReader(await client.GetStreamAsync($"/api/train/{id}/events"));
        while (await reader.ReadLineAsync() is { } line && !line.Contains("\"type\":\"epoch\"")) { }
        await app.StopAsync();
        // A run left going would be cut off by the process exit, mid-save (the web app's 0-byte temporary files).
        Assert.Equal("cancelled", run.Status);
        // Only the model, its checkpoint and its metrics log: no temporary file (AtomicFile's .zerodl-tmp, or an earlier version's .tmp) and nothing empty.
        Assert.Equal([run.ModelName + CheckpointFile.Extension, run.ModelName + MetricsLog.FileSuffix, run.ModelName + ".safetensors"],
            Directory.EnumerateFiles(models).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(Directory.EnumerateFiles(models), f => Assert.True(new FileInfo(f).Length > 0, f));
        await app.DisposeAsync();
    }

    /// <summary>Saves an untrained two-layer network as <paramref name="name"/>.safetensors, written <paramref name="age"/> ago.</summary>
    private static string SaveSmall(string folder, string name, TimeSpan age)
    {
        string path = Path.Combine(folder, name + ".safetensors");
        ModelFile.Save(Models.ModelPresets.Find("twolayer").Build([784], 10, seed: 1), path);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return path;
    }

    private static StringContent Zeros => Json("{\"pixels\": [" + string.Join(",", Enumerable.Repeat("0", 784)) + "]}");

    [Fact]
    public async Task A_newly_trained_model_does_not_become_the_default()
    {
        string folder = TestPaths.NewTempDirectory();
        SaveSmall(folder, "small", TimeSpan.FromHours(1));
        var (app, client, models) = await Start(o => o with { ModelDirectory = folder });
        await using var _ = app;
        string id = await StartRun(client, "{\"model\": \"mlp\", \"epochs\": 1, \"trainSamples\": 1000, \"evalSamples\": 200}");
        Assert.Equal("done", (await Events(client, id))[^1].GetProperty("status").GetString());
        var listed = (await client.GetFromJsonAsync<JsonElement>("/api/models")).EnumerateArray().ToList();
        Assert.Equal(2, listed.Count);
        string trained = listed.Single(m => m.GetProperty("name").GetString() != "small").GetProperty("name").GetString()!;
        Assert.StartsWith(TrainingRuns.ModelPrefix, trained);
        // The newest file is the trained one; the default stays the model the server started with (issue 18: the
        // newest file became the default, and a "7" was answered 6).
        Assert.True(File.GetLastWriteTimeUtc(Path.Combine(folder, trained + ".safetensors")) > File.GetLastWriteTimeUtc(Path.Combine(folder, "small.safetensors")));
        Assert.Equal("small", listed[0].GetProperty("name").GetString());
        Assert.True(listed[0].GetProperty("default").GetBoolean());
        Assert.False(listed[1].GetProperty("default").GetBoolean());
        var answer = await client.PostAsync("/api/predict", Zeros);
        Assert.Equal("small", JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("model").GetString());
        // The trained model is there for whoever picks it.
        answer = await client.PostAsync($"/api/predict?model={trained}", Zeros);
        Assert.Equal(trained, JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("model").GetString());
        // Started again on that folder, the server still prefers the model not trained from the web page; --model wins.
        Assert.Equal("small", new ModelStore(folder).Default);
        string other = SaveSmall(TestPaths.NewTempDirectory(), "picked", TimeSpan.FromDays(1));
        Assert.Equal("picked", new ModelStore(folder, [other]).Default);
        Assert.Equal(trained, new ModelStore(folder, [other], defaultModel: trained).Default);
    }

    [Fact]
    public async Task Training_requests_are_held_to_the_limits()
    {
        var (app, client, models) = await Start(o => o with { Training = new TrainingLimits { MaxParameters = 130_000 } });
        await using var _ = app;
        async Task<(HttpStatusCode, string)> Train(string json)
        {
            var response = await client.PostAsync("/api/train", Json(json));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        // Issue 18: {"model": "deepconv", "epochs": 100} was accepted (hours of CPU).
        var (code, text) = await Train("{\"model\": \"deepconv\", \"epochs\": 100}");
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Contains("between 1 and 20", text);
        Assert.Equal(HttpStatusCode.BadRequest, (await Train("{\"epochs\": 21}")).Item1);
        (code, text) = await Train("{\"model\": \"dense\", \"epochs\": 1}"); // 671,754 parameters
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Contains("671,754 parameters", text);
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/train")).EnumerateArray());
        // One run at a time.
        string id = await StartRun(client, "{\"model\": \"deepconv\", \"epochs\": 1}"); // 123,552 parameters, minutes an epoch
        (code, text) = await Train("{\"model\": \"twolayer\"}");
        Assert.Equal(HttpStatusCode.Conflict, code);
        await client.PostAsync($"/api/train/{id}/cancel", Json("{}"));
        await Events(client, id);
    }

    [Fact]
    public async Task A_run_stops_at_the_time_limit_and_says_so()
    {
        var (app, client, _) = await Start(o => o with { Training = new TrainingLimits { MaxRunTime = TimeSpan.FromSeconds(2) } });
        await using var __ = app;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string id = await StartRun(client, "{\"model\": \"deepconv\", \"epochs\": 20}");
        var done = (await Events(client, id))[^1];
        Assert.Equal("cancelled", done.GetProperty("status").GetString());
        Assert.Contains("time limit", done.GetProperty("reason").GetString());
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"{clock.Elapsed}");
    }

    [Fact]
    public async Task The_oldest_web_trained_models_are_deleted_beyond_the_disk_budget()
    {
        string folder = TestPaths.NewTempDirectory();
        SaveSmall(folder, "small", TimeSpan.FromDays(3)); // not trained from the web page: never pruned
        var old = Enumerable.Range(1, 4).Select(i => SaveSmall(folder, $"{TrainingRuns.ModelPrefix}old-{i}", TimeSpan.FromHours(10 - i))).ToList();
        // A checkpoint left by an older run (issue 19) counts too, and goes first.
        string stale = Path.Combine(folder, $"{TrainingRuns.ModelPrefix}stale{CheckpointFile.Extension}");
        File.Copy(old[0], stale);
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - TimeSpan.FromDays(1));
        long each = new FileInfo(old[0]).Length;
        long budget = 2 * each + (each / 2); // room for the new model (twolayer, the same size) and one of the old ones
        var (app, client, _) = await Start(o => o with { ModelDirectory = folder, Training = new TrainingLimits { MaxModelBytes = budget } });
        await using var __ = app;
        string id = await StartRun(client, "{\"model\": \"twolayer\", \"epochs\": 1, \"trainSamples\": 600, \"evalSamples\": 100}");
        var done = (await Events(client, id))[^1];
        Assert.Equal("done", done.GetProperty("status").GetString());
        string trained = done.GetProperty("model").GetString()!;
        var web = Directory.EnumerateFiles(folder, TrainingRuns.ModelPrefix + "*.safetensors").Select(Path.GetFileNameWithoutExtension).Order().ToList();
        Assert.Equal(new[] { $"{TrainingRuns.ModelPrefix}old-4", trained }.Order(), web); // the newest old one is kept, the three oldest went
        Assert.True(File.Exists(Path.Combine(folder, "small.safetensors")));
        Assert.False(File.Exists(stale));
        Assert.True(web.Sum(n => new FileInfo(Path.Combine(folder, n + ".safetensors")).Length) <= budget);
    }

    [Fact]
    public async Task Schedules_validation_splits_and_early_stopping_are_checked_before_a_run_starts()
    {
        var (app, client, _) = await Start(o => o with { RateLimits = new RateLimits { TrainLimit = 100 } });
        await using var __ = app;
        var refused = new (string Json, string Message)[]
        {
            ("{\"schedule\": {\"kind\": \"exponential\"}}", "unknown schedule 'exponential': use constant, step, cosine, plateau"),
            ("{\"schedule\": {\"kind\": \"step\", \"gamma\": 0.5}}", "schedule: the step schedule needs everyEpochs"),
            ("{\"schedule\": {\"kind\": \"step\", \"everyEpochs\": 2, \"gamma\": 1.5}}", "GAMMA must be in (0, 1]"),
            ("{\"schedule\": {\"kind\": \"step\", \"everyEpochs\": 0, \"gamma\": 0.5}}", "decays every 1 or more epochs"),
            ("{\"schedule\": {\"kind\": \"cosine\", \"gamma\": 0.5}}", "schedule: gamma is a parameter of the step schedule, not of cosine"),
            ("{\"schedule\": {\"kind\": \"cosine\", \"floor\": 1}}", "FLOOR must be in [0, 1)"),
            ("{\"schedule\": {\"kind\": \"plateau\", \"factor\": 0.5}}", "the plateau schedule needs patience"),
            ("{\"schedule\": {\"kind\": \"plateau\", \"factor\": 1, \"patience\": 2}}", "FACTOR must be in (0, 1)"),
            ("{\"schedule\": {\"kind\": \"plateau\", \"factor\": 0.5, \"patience\": 2, \"monitor\": \"val_accuracy\"}}", "needs a validation split"),
            ("{\"schedule\": {\"kind\": \"plateau\", \"factor\": 0.5, \"patience\": 2, \"monitor\": \"test_accuracy\"}}", "monitor 'test_accuracy' is not one of"),
            ("{\"schedule\": {\"kind\": \"constant\", \"warmup\": 0}}", "a warm-up lasts at least 1 iteration"),
            ("{\"epochs\": 1, \"trainSamples\": 1000, \"schedule\": {\"kind\": \"cosine\", \"warmup\": 10}}", "the warm-up of 10 iterations is not shorter than the run (at most 10 iterations)"),
            ("{\"schedule\": {\"kind\": \"step\", \"everyEpochs\": 1.5, \"gamma\": 0.5}}", "invalid JSON"),
            ("{\"validationSplit\": 1.5}", "the validation split must be a fraction between 0 and 1"),
            ("{\"validationSplit\": 0}", "the validation split must be a fraction between 0 and 1"),
            ("{\"earlyStop\": 3}", "early stopping needs a validation split"),
            ("{\"validationSplit\": 0.1, \"earlyStop\": 0}", "patience must be at least 1 epoch"),
            ("{\"validationSplit\": 0.1, \"earlyStop\": 2, \"monitor\": \"loss\"}", "early stopping and keep-best monitor val_loss or val_accuracy"),
            ("{\"monitor\": \"accuracy\"}", "monitor 'accuracy' is not one of val_loss, val_accuracy, loss"),
        };
        foreach (var (json, message) in refused)
        {
            var response = await client.PostAsync("/api/train", Json(json));
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{json}: {(int)response.StatusCode} {body}");
            Assert.Contains(message, JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        }
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/train")).EnumerateArray());
    }
}
