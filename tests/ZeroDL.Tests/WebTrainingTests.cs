using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using ZeroDL.Serialization;
using ZeroDL.Web;

namespace ZeroDL.Tests;

/// <summary>Training from the web app (issue 18): what a cancelled or interrupted run reports and leaves on disk.</summary>
public class WebTrainingTests
{
    private static async Task<(WebApplication App, HttpClient Client, string Models)> Start(Func<WebServerOptions, WebServerOptions>? change = null)
    {
        string models = TestPaths.NewTempDirectory();
        var options = new WebServerOptions { ModelDirectory = models, MnistDirectory = TestPaths.Mnist, RunsDirectory = TestPaths.NewTempDirectory() };
        var app = WebServer.Create(change?.Invoke(options) ?? options, configure: b => b.WebHost.UseTestServer());
        await app.StartAsync();
        return (app, app.GetTestClient(), models);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The events of a run until its stream ends (at most 3 minutes).</summary>
    private static async Task<List<JsonElement>> Events(HttpClient client, string id)
    {
        using var reader = new StreamReader(await client.GetStreamAsync($"/api/train/{id}/events"));
        var events = new List<JsonElement>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
            if (line.StartsWith("data: ")) events.Add(JsonDocument.Parse(line[6..]).RootElement);
        return events;
    }

    private static async Task<string> StartRun(HttpClient client, string json)
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
        Assert.Empty(Directory.EnumerateFileSystemEntries(models)); // no model, no temporary file
    }

    [Fact]
    public async Task Stopping_the_server_ends_a_running_run_first()
    {
        var (app, client, models) = await Start();
        string id = await StartRun(client, "{\"model\": \"mlp\", \"epochs\": 20}");
        var runs = app.Services.GetService(typeof(TrainingRuns)) as TrainingRuns;
        var run = runs!.Find(id)!;
        // Let it save at least one epoch, so that a save may be under way when the server stops.
        using var reader = new StreamReader(await client.GetStreamAsync($"/api/train/{id}/events"));
        while (await reader.ReadLineAsync() is { } line && !line.Contains("\"type\":\"epoch\"")) { }
        await app.StopAsync();
        // A run left going would be cut off by the process exit, mid-save (the web app's 0-byte temporary files).
        Assert.Equal("cancelled", run.Status);
        Assert.Empty(Directory.EnumerateFiles(models, "*.tmp"));
        Assert.All(Directory.EnumerateFiles(models), f => Assert.True(new FileInfo(f).Length > 0, f));
        await app.DisposeAsync();
    }
}
