using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace ZeroDL.Web;

/// <summary>Where the server finds its models and pages.</summary>
public sealed record WebServerOptions
{
    /// <summary>Folder of model files (models/ by default, where zerodl train writes).</summary>
    public string ModelDirectory { get; init; } = "models";
    /// <summary>Extra model files to serve (zerodl serve --model FILE).</summary>
    public IReadOnlyList<string> ModelFiles { get; init; } = [];
    /// <summary>Folder of experiment results (runs/, written by zerodl experiment), shown when present.</summary>
    public string RunsDirectory { get; init; } = "runs";
    /// <summary>Folder with the MNIST files (null = the bundled data/mnist).</summary>
    public string? MnistDirectory { get; init; }
    /// <summary>Data folders (IDX or ImageFolder) the Train page offers besides MNIST and Fashion-MNIST (zerodl serve --train-data).</summary>
    public IReadOnlyList<string> TrainingData { get; init; } = [];
    /// <summary>With no model at all, start training the default model at once (its progress shows on the Draw page).</summary>
    public bool TrainWhenEmpty { get; init; }
    /// <summary>Largest request body accepted.</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;
    /// <summary>
    /// Host names accepted besides the bound addresses (<see cref="BoundHosts"/>), e.g. a DNS name of this machine when
    /// it listens on 0.0.0.0 (zerodl serve --allowed-hosts).
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];
    /// <summary>The model a request that names none gets; null: the first of <see cref="ModelFiles"/>, else as <see cref="ModelStore"/> says.</summary>
    public string? DefaultModel { get; init; }
    /// <summary>What a training request may cost (epochs, parameters, time, disk).</summary>
    public TrainingLimits Training { get; init; } = new();
    /// <summary>Request rates and concurrent predictions (ASP.NET Core's rate limiter).</summary>
    public RateLimits RateLimits { get; init; } = new();
}

/// <summary>
/// The ZeroDL web app: static pages from wwwroot and a JSON API. POST /api/predict takes a PNG (for a model of MNIST
/// digits prepared as MNIST's digits are; for any other model resized to its input and normalized as its training data
/// was) or JSON pixels (MNIST digit models) and returns the probabilities, the label, the class names and the input the
/// network saw; GET /api/models
/// lists the model files. Bad input gets a 4xx with {"error": "..."}, never a 500.
/// </summary>
public static class WebServer
{
    /// <summary>
    /// How long stopping the server waits for a training run to end: a run stops after its current mini-batch (well
    /// under a second for the presets here) or, when it is saving, after the save.
    /// </summary>
    public static readonly TimeSpan StopWait = TimeSpan.FromSeconds(30);

    public static WebApplication Create(WebServerOptions options, string[]? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter(typeof(RequestErrors).FullName, LogLevel.Information); // one line per 4xx
        builder.Logging.AddFilter(typeof(TrainingRuns).FullName, LogLevel.Information); // one line per checkpoint file skipped
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        var hosts = BoundHosts.For(builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey), options.AllowedHosts);
        builder.Services.AddHostFiltering(h => h.AllowedHosts = [.. hosts]);
        // First, so that it wraps the host filtering the web host's defaults add in front of the app (OuterPipeline).
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IStartupFilter>(new OuterPipeline(options.MaxBodyBytes)));
        options.RateLimits.AddTo(builder.Services);
        var store = new ModelStore(options.ModelDirectory, options.ModelFiles, options.DefaultModel);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(services => new TrainingRuns(options.ModelDirectory, options.MnistDirectory, options.TrainingData, options.Training, store,
            services.GetRequiredService<ILoggerFactory>().CreateLogger<TrainingRuns>()));
        builder.Services.AddSingleton(new Explorer(store, options.MnistDirectory));
        configure?.Invoke(builder);
        var app = builder.Build();
        var training = app.Services.GetRequiredService<TrainingRuns>();
        // At start, the checkpoints of runs that did not finish and the runs' logs: each unusable file (and each checkpoint
        // not the web's) is logged once here.
        training.Interrupted();
        training.Logged();
        app.Lifetime.ApplicationStopping.Register(() => training.StopAll(StopWait));
        if (options.TrainWhenEmpty && store.Default is null)
            app.Lifetime.ApplicationStarted.Register(() =>
                // Started with no model at all, the server says it trains the default one: that model becomes the default.
                store.AdoptDefault(training.Start(new TrainingRequest(Epochs: Models.ModelPresets.Find(Models.ModelPresets.Default).Epochs, EvalSamples: 10000)).ModelName));

        app.Use((context, next) => SameOriginPolicy.Refusal(context.Request) is { } refusal ? throw new BadRequestException(403, refusal) : next(context));

        string wwwroot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (Directory.Exists(wwwroot))
        {
            var files = new PhysicalFileProvider(wwwroot);
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        }
        app.UseRouting();
        app.UseRateLimiter();

        app.MapGet("/api/models", (ModelStore store) => Results.Json(store.List()));
        app.MapPost("/api/predict", async (HttpContext context, ModelStore store) =>
        {
            string type = context.Request.ContentType ?? "";
            string? model = context.Request.Query["model"];
            bool png = type.StartsWith("image/png", StringComparison.OrdinalIgnoreCase);
            byte[] body;
            if (type.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                (body, var formModel) = await MultipartUpload.Read(context, options.MaxBodyBytes);
                (png, model) = (true, formModel ?? model);
            }
            else if (png || type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)) body = await ReadBody(context, options.MaxBodyBytes);
            else throw new BadRequestException(415, "send a PNG (Content-Type: image/png), JSON (Content-Type: application/json) or a form with a file field \"image\" (multipart/form-data)");
            float[]? pixels = null; bool preprocess = false;
            if (!png)
            {
                (pixels, preprocess, var jsonModel) = Prediction.FromJson(body);
                model = jsonModel ?? model;
            }
            model ??= store.Default ?? throw new BadRequestException(404, "no model is available: train one with zerodl train, or start zerodl serve --model FILE");
            var result = store.With(model, (net, input) =>
            {
                bool empty = false;
                if (png && input.IsMnistDigits) { pixels = Prediction.FromPng(body, out empty); preprocess = true; }
                else if (png) pixels = Prediction.FromPng(body, input);
                else if (!input.IsMnistDigits)
                    throw new BadRequestException(400, $"model '{model}' takes {string.Join("×", input.InputShape)} images: send it a PNG (JSON pixels are for MNIST digit models)");
                else if (preprocess)
                {
                    var prepared = Imaging.MnistPreprocessing.Prepare(new Imaging.GrayImage(28, 28, pixels!));
                    pixels = prepared.Pixels;
                    empty = prepared.Empty;
                }
                return Prediction.Run(net, model, pixels!, preprocess, empty, input.ClassNames);
            }) ?? throw new BadRequestException(404, $"unknown model '{model}'");
            return Results.Json(result);
        }).RequireRateLimiting(RateLimits.PredictPolicy);
        app.MapGet("/api/datasets", (TrainingRuns runs) => Results.Json(runs.Datasets));
        app.MapGet("/api/presets", () => Results.Json(Models.ModelPresets.All.Select(p => new { p.Name, p.Summary, p.Optimizer, p.LearningRate, p.Epochs, Description = p.Spec.Describe() })));
        app.MapPost("/api/train", async (HttpContext context, TrainingRuns runs) =>
        {
            var body = await ReadBody(context, options.MaxBodyBytes);
            TrainingRequest? request;
            try { request = body.Length == 0 ? new TrainingRequest() : JsonSerializer.Deserialize<TrainingRequest>(body, JsonSerializerOptions.Web); }
            catch (JsonException e) { throw new BadRequestException(400, "invalid JSON: " + e.Message); }
            var run = runs.Start(request ?? new TrainingRequest());
            return Results.Json(new { run.Id, run.ModelName, events = $"/api/train/{run.Id}/events" }, statusCode: 202);
        }).RequireJson().RequireRateLimiting(RateLimits.TrainPolicy);
        app.MapGet("/api/train", (TrainingRuns runs) => Results.Json(runs.All.Select(Describe)));
        app.MapGet("/api/train/interrupted", (TrainingRuns runs) => Results.Json(runs.Interrupted()));
        app.MapGet("/api/train/logs", (TrainingRuns runs) => Results.Json(runs.Logged()));
        app.MapGet("/api/train/logs/{name}/curves", (string name, TrainingRuns runs) => Results.Json(runs.LoggedCurves(name)));
        app.MapPost("/api/train/interrupted/{id}/resume", (string id, TrainingRuns runs) =>
        {
            var run = runs.Resume(id);
            return Results.Json(new { run.Id, run.ModelName, run.ResumedFrom, events = $"/api/train/{run.Id}/events" }, statusCode: 202);
        }).RequireJson().RequireRateLimiting(RateLimits.TrainPolicy);
        app.MapGet("/api/train/{id}", (string id, TrainingRuns runs) => Results.Json(Describe(runs.Find(id) ?? throw new BadRequestException(404, $"no training run '{id}'"))));
        app.MapGet("/api/train/{id}/curves", (string id, TrainingRuns runs) => Results.Json((runs.Find(id) ?? throw new BadRequestException(404, $"no training run '{id}'")).Curves()));
        app.MapPost("/api/train/{id}/cancel", (string id, TrainingRuns runs) =>
        {
            var run = runs.Find(id) ?? throw new BadRequestException(404, $"no training run '{id}'");
            run.RequestCancel();
            return Results.Json(new { run.Id, run.Status });
        }).RequireJson();
        app.MapGet("/api/train/{id}/events", async (string id, HttpContext context, TrainingRuns runs) =>
        {
            var run = runs.Find(id) ?? throw new BadRequestException(404, $"no training run '{id}'");
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            int sent = 0;
            while (!context.RequestAborted.IsCancellationRequested)
            {
                var (events, changed, finished) = run.Read(sent);
                foreach (var e in events) await context.Response.WriteAsync($"data: {e}\n\n", context.RequestAborted);
                sent += events.Count;
                await context.Response.Body.FlushAsync(context.RequestAborted);
                if (finished && events.Count == 0) break;
                if (!finished) await Task.WhenAny(changed, Task.Delay(15000, context.RequestAborted)).ContinueWith(_ => { });
            }
        });
        app.MapGet("/api/explore", (string? model, ModelStore models, Explorer explorer) =>
        {
            string name = model ?? models.Default ?? throw new BadRequestException(404, "no model is available: train one first");
            return Results.Json(explorer.For(name) ?? throw new BadRequestException(404, $"unknown model '{name}'"));
        });
        app.MapGet("/api/mnist/test/{index:int}.png", (int index, Explorer explorer) => Results.File(explorer.Png(index), "image/png"));
        app.MapGet("/api/explore/{model}/{index:int}.png", (string model, int index, Explorer explorer) => Results.File(explorer.Png(model, index), "image/png"));
        app.MapGet("/api/experiments", () => Results.Json(Experiments(options.RunsDirectory)));
        if (Directory.Exists(options.RunsDirectory))
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(Path.GetFullPath(options.RunsDirectory)), RequestPath = "/runs" });
        app.MapFallback("/api/{**rest}", () => Results.Json(new { error = "no such API endpoint" }, statusCode: 404));
        return app;
    }

    /// <summary>A run as GET /api/train lists it: id, status ("running", "done", "cancelled", "failed", "diverged"), its error, model and request.</summary>
    private static object Describe(TrainingRun r) => new { r.Id, r.Status, r.Error, r.ModelName, r.ResumedFrom, r.Request };

    /// <summary>Experiments written by zerodl experiment under <paramref name="runs"/>: name, figures (URLs under /runs/) and summary.</summary>
    private static IEnumerable<object> Experiments(string runs)
    {
        if (!Directory.Exists(runs)) yield break;
        foreach (var experiment in ZeroDL.Experiments.ExperimentCatalog.All)
        {
            string dir = Path.Combine(runs, experiment.Name), summary = Path.Combine(dir, "summary.md");
            if (!File.Exists(summary)) continue;
            var figures = Directory.EnumerateFiles(dir).Select(Path.GetFileName).Where(f => f!.EndsWith(".svg") || f.EndsWith(".png")).Order()
                .Select(f => $"/runs/{experiment.Name}/{f}").ToList();
            yield return new { experiment.Name, experiment.Title, experiment.Chapter, Figures = figures, Summary = File.ReadAllText(summary) };
        }
    }

    /// <summary>The whole body, refused with 413 above the limit (also when the client sends no Content-Length).</summary>
    private static async Task<byte[]> ReadBody(HttpContext context, long limit)
    {
        if (context.Request.ContentLength > limit) throw new BadRequestException(413, $"the body is larger than {limit:N0} bytes");
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit) throw new BadRequestException(413, $"the body is larger than {limit:N0} bytes");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
