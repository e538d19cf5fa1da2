using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using ZeroDL.Serialization;
using ZeroDL.Web;

namespace ZeroDL.Tests;

/// <summary>A test that needs Debian's Chromium; skipped, with the reason, where it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Chromium)) Skip = $"Chromium is not installed at {Chromium} (apt-get install chromium); the browser test needs it";
    }
}

public class BrowserTests
{
    private static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    /// <summary>Where screenshots go: ZERODL_SCREENSHOTS if set (docs/screenshots is made so), else a temporary folder.</summary>
    private static string ScreenshotDirectory => Environment.GetEnvironmentVariable("ZERODL_SCREENSHOTS") is { Length: > 0 } dir
        ? Directory.CreateDirectory(dir).FullName : TestPaths.NewTempDirectory();

    /// <summary>The Explore, Train and Experiments pages in a real browser: each shows its content, and a short run trains live.</summary>
    [ChromiumFact]
    public async Task Explore_train_and_experiments_pages_work_in_a_browser()
    {
        string models = TestPaths.NewTempDirectory(), runs = TestPaths.NewTempDirectory();
        ModelFile.Save(BookWeights.LoadDeepConvNet(Path.Combine(TestPaths.Reference, "deep_convnet_2016.npz")), Path.Combine(models, "book-deepconv.safetensors"));
        // Issue 19: an interrupted run to resume (checkpointed before its first mini-batch: ten to go) and a damaged checkpoint.
        var paused = new TrainingRequest(Model: "twolayer", TrainSamples: 1000, EvalSamples: 100);
        CheckpointFile.Save(WebResumeTests.Untrained(Data.Mnist.Load(directory: TestPaths.Mnist).Train, paused), Path.Combine(models, "web-paused.ckpt"), RunCheckpoints.Description(paused));
        File.WriteAllText(Path.Combine(models, "web-broken.ckpt"), "not a checkpoint");
        foreach (var name in new[] { "optimizers-2d", "weight-init-histograms" })
            ZeroDL.Experiments.ExperimentCatalog.Run(ZeroDL.Experiments.ExperimentCatalog.Find(name), runs, quick: true);
        await using var app = WebServer.Create(new WebServerOptions { ModelDirectory = models, RunsDirectory = runs, MnistDirectory = TestPaths.Mnist },
            ["--urls", "http://127.0.0.1:0"]);
        await app.StartAsync();
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumFactAttribute.Chromium, Headless = true, Args = ChromiumArgs });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var blocked = PolicyViolations(page);
        string shots = ScreenshotDirectory;

        await page.GotoAsync(url + "/explore.html");
        await WaitFor(page, "document.querySelectorAll('#confusion td').length === 100", 60000);
        Assert.Contains("99.35 %", await page.Locator("#summary").TextContentAsync());
        await page.Locator("#confusion tr").Nth(7).Locator("td").Nth(2).ClickAsync(); // label 6, predicted 1 … any off-diagonal cell
        await page.Locator("#wrong").CheckAsync();
        await page.Locator("#confusion tr").Nth(1).Locator("td").Nth(6).ClickAsync(); // label 0, predicted 6
        Assert.Contains("label 0, predicted 6", await page.Locator("#filter").TextContentAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "explore.png") });

        await page.GotoAsync(url + "/train.html");
        await WaitFor(page, "document.querySelectorAll('#preset option').length > 0");
        // A schedule shows its own parameters, and a bad one gets the server's reason.
        Assert.False(await page.Locator("#gamma").IsVisibleAsync());
        await page.SelectOptionAsync("#schedule", "step");
        Assert.True(await page.Locator("#gamma").IsVisibleAsync());
        Assert.False(await page.Locator("#floor").IsVisibleAsync());
        await page.FillAsync("#gamma", "2");
        await page.ClickAsync("#start");
        await WaitFor(page, "document.getElementById('status').textContent !== ''");
        Assert.Contains("GAMMA must be in (0, 1]", await page.Locator("#status").TextContentAsync());
        await page.SelectOptionAsync("#schedule", "");
        // The interrupted runs: one to resume, one unusable with the reason.
        await WaitFor(page, "document.querySelectorAll('#interrupted tr').length === 2");
        Assert.Contains("unusable", await page.Locator("#interrupted tr[data-id='web-broken']").TextContentAsync());
        Assert.Contains("epoch 0 of 1, iteration 0 of 10", await page.Locator("#interrupted tr[data-id='web-paused']").TextContentAsync());
        await page.ClickAsync("#interrupted tr[data-id='web-paused'] button.resume");
        await WaitFor(page, "document.getElementById('info').textContent.includes('Done')", 60000);
        Assert.Contains("Resumed after iteration 0", await page.Locator("#info").TextContentAsync());
        Assert.Contains("saved as model web-paused", await page.Locator("#info").TextContentAsync());
        await WaitFor(page, "document.querySelectorAll('#interrupted tr').length === 1"); // resumed to its end, it is no longer interrupted
        // A diverging run shows the trainer's message.
        await page.SelectOptionAsync("#preset", "mlp");
        await page.SelectOptionAsync("#optimizer", "sgd");
        await page.FillAsync("#lr", "9.9");
        await page.ClickAsync("#start");
        await WaitFor(page, "document.getElementById('status').textContent !== ''", 60000);
        Assert.StartsWith("diverged: training diverged at iteration ", await page.Locator("#status").TextContentAsync());
        Assert.Contains("try a lower learning rate than 9.9", await page.Locator("#status").TextContentAsync());
        await page.SelectOptionAsync("#optimizer", "");
        await page.FillAsync("#lr", "");
        await page.SelectOptionAsync("#preset", "twolayer");
        await page.ClickAsync("#start");
        await WaitFor(page, "document.getElementById('info').textContent.includes('Done')", 120000);
        Assert.Contains("saved as model web-twolayer", await page.Locator("#info").TextContentAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "train.png") });
        // A finished run's curves, drawn again from its metrics log: the resumed run's one epoch.
        await WaitFor(page, "document.querySelectorAll('#runs button.curves').length === 3");
        Assert.Contains("diverged: training diverged at iteration", await page.Locator("#runs").TextContentAsync());
        await page.ClickAsync("#runs tr[data-id='web-paused'] button.curves");
        await WaitFor(page, "document.getElementById('info').textContent.startsWith('Curves of web-paused')");
        Assert.Contains("Curves of web-paused (finished): 1 epochs, last test", await page.Locator("#info").TextContentAsync());
        // Cancel, before the first epoch of a long run: the page says so (issue 18: "failed: … infinity …").
        await page.SelectOptionAsync("#preset", "deepconv");
        await page.ClickAsync("#start");
        await WaitFor(page, "!document.getElementById('cancel').disabled");
        await page.ClickAsync("#cancel");
        await WaitFor(page, "document.getElementById('status').textContent !== ''", 60000);
        // "cancelled", and when a mini-batch was done before the cancel, that its checkpoint is listed under Interrupted runs.
        Assert.Matches("^cancelled(; it is listed under Interrupted runs)?$", await page.Locator("#status").TextContentAsync());

        await page.GotoAsync(url + "/experiments.html");
        await WaitFor(page, "document.querySelectorAll('.figure img').length >= 4");
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "experiments.png"), FullPage = false });
        Assert.Equal(2, await page.Locator(".figure h3").CountAsync());
        Assert.Empty(blocked); // the pages work under the server's Content-Security-Policy
    }

    /// <summary>
    /// Waits until <paramref name="expression"/> is true in the page. Playwright's WaitForFunction compiles its predicate
    /// inside the page, which the server's Content-Security-Policy (no 'unsafe-eval') forbids; evaluating through the
    /// DevTools protocol, as this does, is not the page's own script.
    /// </summary>
    private static async Task WaitFor(IPage page, string expression, int timeoutMs = 30000)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await page.EvaluateAsync<bool>(expression))
        {
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"{timeoutMs} ms waiting for {expression}");
            await Task.Delay(50);
        }
    }

    /// <summary>What the browser reports it blocked under the Content-Security-Policy, as it happens.</summary>
    private static List<string> PolicyViolations(IPage page)
    {
        var blocked = new List<string>();
        page.Console += (_, m) => { if (m.Text.Contains("Content Security Policy")) lock (blocked) blocked.Add(m.Text); };
        return blocked;
    }

    /// <summary>Draws a 7 with mouse moves on the Draw page of a real server and reads the network's answer from the page.</summary>
    [ChromiumFact]
    public async Task Drawing_a_seven_on_the_page_gets_the_answer_seven()
    {
        string models = TestPaths.NewTempDirectory();
        ModelFile.Save(BookWeights.LoadDeepConvNet(Path.Combine(TestPaths.Reference, "deep_convnet_2016.npz")), Path.Combine(models, "book-deepconv.safetensors"));
        await using var app = WebServer.Create(new WebServerOptions { ModelDirectory = models }, ["--urls", "http://127.0.0.1:0"]);
        await app.StartAsync();
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumFactAttribute.Chromium, Headless = true, Args = ChromiumArgs });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1000, Height = 720 } });
        var blocked = PolicyViolations(page);
        await page.GotoAsync(url + "/");
        await WaitFor(page, "document.querySelectorAll('#model option').length > 0");
        var box = (await page.Locator("#pad").BoundingBoxAsync())!;
        async Task Stroke(params (float X, float Y)[] points)
        {
            await page.Mouse.MoveAsync(box.X + points[0].X, box.Y + points[0].Y);
            await page.Mouse.DownAsync();
            for (int i = 1; i < points.Length; i++)
                await page.Mouse.MoveAsync(box.X + points[i].X, box.Y + points[i].Y, new() { Steps = 12 });
            await page.Mouse.UpAsync();
        }
        await Stroke((70, 60), (210, 60), (120, 240));
        await WaitFor(page, "document.getElementById('answer').textContent === '7'", 15000);
        Assert.Equal("7", await page.Locator("#answer").TextContentAsync());
        Assert.Equal(10, await page.Locator("#bars .bar").CountAsync());
        string shot = Path.Combine(ScreenshotDirectory, "draw.png");
        await page.ScreenshotAsync(new() { Path = shot });
        Assert.True(new FileInfo(shot).Length > 10_000);
        Console.WriteLine($"screenshot: {shot}");
        // Clear empties the answer.
        await page.ClickAsync("#clear");
        Assert.Equal("…", await page.Locator("#answer").TextContentAsync());
        Assert.Empty(blocked);
    }
}
