using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZeroDL.Serialization;
using ZeroDL.Web;

namespace ZeroDL.Tests;

/// <summary>
/// The web app against a hostile page and client (issue 18): cross-site requests, a foreign Host header, framing and
/// sniffing, and the log a flood of bad requests leaves. Each server is in-process (TestServer, Host "localhost") and
/// serves one small model.
/// </summary>
public class WebSecurityTests
{
    /// <summary>A server with one untrained two-layer model, the given options and logs captured when asked.</summary>
    private static async Task<(WebApplication App, HttpClient Client)> Start(Func<WebServerOptions, WebServerOptions>? change = null, CapturedLogs? logs = null)
    {
        string models = TestPaths.NewTempDirectory();
        ModelFile.Save(Models.ModelPresets.Find("twolayer").Build([784], 10, seed: 1), Path.Combine(models, "small.safetensors"));
        var options = new WebServerOptions { ModelDirectory = models, MnistDirectory = TestPaths.Mnist, RunsDirectory = TestPaths.NewTempDirectory() };
        var app = WebServer.Create(change?.Invoke(options) ?? options, configure: b =>
        {
            b.WebHost.UseTestServer();
            if (logs is not null) b.Logging.AddProvider(logs);
        });
        await app.StartAsync();
        return (app, app.GetTestClient());
    }

    private static HttpRequestMessage Post(string path, string body, string contentType, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new(contentType);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    private static async Task<string> Error(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;

    [Fact]
    public async Task A_cross_site_request_gets_403_and_starts_no_run()
    {
        var (app, client) = await Start();
        await using var _ = app;
        const string run = "{\"model\": \"twolayer\", \"epochs\": 1}";
        // What a page elsewhere can send without a preflight: text/plain with its own Origin (issue 18: 202, a run started).
        var response = await client.SendAsync(Post("/api/train", run, "text/plain", ("Origin", "http://evil.example")));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("cross-site", await Error(response));
        // Whatever the content type, and with only a Referer, a Sec-Fetch-Site or an opaque origin to go by.
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Post("/api/train", run, "application/json", ("Origin", "http://evil.example")))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Post("/api/train", run, "application/json", ("Origin", "http://localhost.evil.example")))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Post("/api/train", run, "application/json", ("Origin", "null")))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Post("/api/train", run, "application/json", ("Referer", "http://evil.example/page.html")))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Post("/api/train", run, "application/json", ("Sec-Fetch-Site", "cross-site")))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Post("/api/train", run, "application/json", ("Origin", "http://localhost:8080")))).StatusCode); // another port is another origin
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Post("/api/train/1/cancel", "{}", "application/json", ("Origin", "http://evil.example")))).StatusCode);
        // A same-origin or header-less (curl) request must also say it is JSON: a form or text/plain body gets 415.
        response = await client.SendAsync(Post("/api/train", run, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("JSON", await Error(response));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.SendAsync(Post("/api/train", run, "application/x-www-form-urlencoded", ("Origin", "http://localhost")))).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.SendAsync(Post("/api/train/1/cancel", "", "text/plain"))).StatusCode);
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/train")).EnumerateArray()); // nothing started
        // The page's own requests pass both checks and reach the handler (here refused for its content: no such preset).
        response = await client.SendAsync(Post("/api/train", "{\"model\": \"resnet\"}", "application/json", ("Origin", "http://localhost"), ("Sec-Fetch-Site", "same-origin"), ("Referer", "http://localhost/train.html")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("resnet", await Error(response));
        // Reading is not checked: a GET with a foreign Origin is answered (the browser keeps the answer from that page).
        var get = new HttpRequestMessage(HttpMethod.Get, "/api/models");
        get.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(get)).StatusCode);
    }

    [Fact]
    public async Task A_request_for_another_host_is_refused()
    {
        var (app, client) = await Start();
        await using var _ = app;
        async Task<HttpStatusCode> Get(string host, string path = "/api/models")
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Host = host;
            return (await client.SendAsync(request)).StatusCode;
        }
        // DNS rebinding: a page at evil.example whose name now points at 127.0.0.1 sends Host: evil.example.
        Assert.Equal(HttpStatusCode.BadRequest, await Get("evil.example"));
        Assert.Equal(HttpStatusCode.BadRequest, await Get("evil.example", "/"));
        Assert.Equal(HttpStatusCode.BadRequest, await Get("evil.example:5000"));
        foreach (var host in new[] { "localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000" })
            Assert.Equal(HttpStatusCode.OK, await Get(host));
    }

    [Fact]
    public void The_accepted_hosts_are_the_bound_addresses()
    {
        Assert.Equal(["localhost", "127.0.0.1", "[::1]"], BoundHosts.For(null));
        Assert.Equal(["localhost", "127.0.0.1", "[::1]"], BoundHosts.For("http://127.0.0.1:5000"));
        var named = BoundHosts.For("http://digits.lan:8080;http://[fe80::1%25eth0]:81", ["zerodl.example"]);
        Assert.Contains("digits.lan", named);
        Assert.Contains("zerodl.example", named);
        Assert.DoesNotContain("evil.example", named);
        Assert.Equal("[::1]", BoundHosts.Host("http://[::1]:5000/"));
        Assert.Equal("*", BoundHosts.Host("http://*:80"));
        // Listening on every interface: this machine's name is accepted as well.
        Assert.Contains(System.Net.Dns.GetHostName(), BoundHosts.For("http://0.0.0.0:8080"), StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Every_response_forbids_framing_and_sniffing()
    {
        var (app, client) = await Start();
        await using var _ = app;
        var responses = new List<(string What, HttpResponseMessage Response)>();
        foreach (var path in new[] { "/", "/index.html", "/draw.js", "/app.css", "/api/models", "/api/nothing", "/missing.html" })
            responses.Add((path, await client.GetAsync(path)));
        responses.Add(("bad predict", await client.SendAsync(Post("/api/predict", "{nope", "application/json"))));
        responses.Add(("cross-site", await client.SendAsync(Post("/api/train", "{}", "text/plain", ("Origin", "http://evil.example")))));
        var foreign = new HttpRequestMessage(HttpMethod.Get, "/");
        foreign.Headers.Host = "evil.example";
        responses.Add(("foreign host", await client.SendAsync(foreign)));
        foreach (var (what, response) in responses)
        {
            Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var csp), $"{what}: no CSP");
            string policy = Assert.Single(csp);
            Assert.Contains("frame-ancestors 'none'", policy);
            Assert.Contains("script-src 'self'", policy);
            Assert.DoesNotContain("unsafe-inline", policy);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        }
    }

    [Fact]
    public void The_pages_have_no_inline_script_or_style_for_the_policy_to_block()
    {
        string wwwroot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        foreach (var page in Directory.EnumerateFiles(wwwroot, "*.html"))
        {
            string html = File.ReadAllText(page);
            Assert.DoesNotMatch(@"<script(?![^>]*\bsrc=)[^>]*>", html); // every script is a file of this server
            Assert.DoesNotContain("<style", html);
            Assert.DoesNotMatch(@"\sstyle\s*=", html);
            Assert.DoesNotMatch(@"\son[a-z]+\s*=", html); // no onclick= handlers
        }
    }

    [Fact]
    public async Task Each_bad_request_is_one_log_line_without_a_stack_trace()
    {
        var logs = new CapturedLogs();
        var (app, client) = await Start(logs: logs);
        await using var _ = app;
        var bad = new List<Func<HttpRequestMessage>>
        {
            () => Post("/api/predict", "{nope", "application/json"),
            () => Post("/api/predict", "hello", "text/plain"),
            () => Post("/api/predict", "not a png", "image/png"),
            () => Post("/api/predict", "{\"model\": \"nope\", \"pixels\": []}", "application/json"),
            () => Post("/api/train", "{\"epochs\": 0}", "application/json"),
            () => Post("/api/train", "{nope", "application/json"),
            () => new HttpRequestMessage(HttpMethod.Get, "/api/train/99/events"),
        };
        int sent = 0;
        for (int i = 0; i < 40; i++, sent++)
        {
            var response = await client.SendAsync(bad[i % bad.Count]());
            Assert.InRange((int)response.StatusCode, 400, 499);
        }
        var entries = logs.Entries;
        Assert.All(entries, e => Assert.Null(e.Exception));
        Assert.All(entries, e => Assert.InRange(e.Level, LogLevel.Information, LogLevel.Warning));
        Assert.All(entries, e => Assert.DoesNotContain('\n', e.Message));
        Assert.Equal(sent, entries.Count); // one line each (issue 18: 40 bad requests gave 234 lines, each with a stack trace)
        Assert.Contains(entries, e => e.Message.Contains("POST /api/predict -> 400") && e.Message.Contains("invalid JSON"));
    }

    private static StringContent Zeros => new("{\"pixels\": [" + string.Join(",", Enumerable.Repeat("0", 784)) + "]}", Encoding.UTF8, "application/json");

    [Fact]
    public async Task Predictions_and_training_requests_over_their_rate_get_429()
    {
        var limits = new RateLimits { PredictLimit = 5, PredictWindow = TimeSpan.FromMinutes(1), TrainLimit = 2, TrainWindow = TimeSpan.FromMinutes(1) };
        var (app, client) = await Start(o => o with { RateLimits = limits });
        await using var _ = app;
        for (int i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/predict", Zeros)).StatusCode);
        var refused = await client.PostAsync("/api/predict", Zeros);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("too many requests", await Error(refused));
        Assert.True(refused.Headers.RetryAfter is not null, "Retry-After");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/models")).StatusCode); // reading is not limited
        for (int i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(Post("/api/train", "{\"epochs\": 0}", "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SendAsync(Post("/api/train", "{\"epochs\": 0}", "application/json"))).StatusCode);
    }

    /// <summary>A body that sends its first bytes, then waits until released: the request holds its place meanwhile.</summary>
    private sealed class HeldBody(byte[] bytes, TaskCompletionSource started, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, 8));
            await stream.FlushAsync();
            started.TrySetResult();
            await release;
            await stream.WriteAsync(bytes.AsMemory(8));
        }

        protected override bool TryComputeLength(out long length) { length = 0; return false; }
    }

    [Fact]
    public async Task Predictions_beyond_the_places_and_the_queue_get_429()
    {
        var (app, client) = await Start(o => o with { RateLimits = new RateLimits { PredictConcurrency = 1, PredictQueue = 1 } });
        await using var _ = app;
        var png = Imaging.PngEncoder.Encode(28, 28, 1, new byte[784]);
        TaskCompletionSource started1 = new(), started2 = new(), release = new();
        HttpContent Held(TaskCompletionSource started) { var c = new HeldBody(png, started, release.Task); c.Headers.ContentType = new("image/png"); return c; }
        var first = client.PostAsync("/api/predict", Held(started1)); // in progress: its body is still coming
        await started1.Task;
        var second = client.PostAsync("/api/predict", Held(started2)); // waits in the queue
        // Until the limiter holds the first in its place and the second in its queue (a fixed delay failed under load).
        var limiter = app.Services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter!;
        var predict = new DefaultHttpContext();
        predict.Request.Path = "/api/predict";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (limiter.GetStatistics(predict) is not { CurrentAvailablePermits: 0, CurrentQueuedCount: 1 })
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the limiter never held one prediction and queued one: {limiter.GetStatistics(predict)?.CurrentQueuedCount} queued");
            await Task.Delay(5);
        }
        var third = await client.PostAsync("/api/predict", Zeros); // no place and no room in the queue
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Contains("busy", await Error(third));
        release.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/predict", Zeros)).StatusCode);
    }
}
