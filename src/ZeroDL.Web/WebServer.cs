using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
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
    /// <summary>Largest request body accepted.</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;
}

/// <summary>
/// The ZeroDL web app: static pages from wwwroot and a JSON API. POST /api/predict takes a PNG (prepared as MNIST
/// digits are) or JSON pixels and returns the probabilities, the label and the image the network saw; GET /api/models
/// lists the model files. Bad input gets a 4xx with {"error": "..."}, never a 500.
/// </summary>
public static class WebServer
{
    public static WebApplication Create(WebServerOptions options, string[]? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        builder.Services.AddSingleton(new ModelStore(options.ModelDirectory, options.ModelFiles));
        configure?.Invoke(builder);
        var app = builder.Build();

        app.UseExceptionHandler(errors => errors.Run(async context =>
        {
            var failure = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            var (status, message) = failure switch
            {
                BadRequestException bad => (bad.Status, bad.Message),
                Microsoft.AspNetCore.Http.BadHttpRequestException http => (http.StatusCode, http.StatusCode == 413 ? $"the body is larger than {options.MaxBodyBytes:N0} bytes" : http.Message),
                _ => (500, "internal error"),
            };
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = message });
        }));

        string wwwroot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (Directory.Exists(wwwroot))
        {
            var files = new PhysicalFileProvider(wwwroot);
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        }

        app.MapGet("/api/models", (ModelStore store) => Results.Json(store.List()));
        app.MapPost("/api/predict", async (HttpContext context, ModelStore store) =>
        {
            var body = await ReadBody(context, options.MaxBodyBytes);
            string type = context.Request.ContentType ?? "";
            float[] pixels; bool preprocess, empty = false; string? model = context.Request.Query["model"];
            if (type.StartsWith("image/png", StringComparison.OrdinalIgnoreCase))
            {
                pixels = Prediction.FromPng(body, out empty);
                preprocess = true;
            }
            else if (type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            {
                (pixels, preprocess, var jsonModel) = Prediction.FromJson(body);
                model = jsonModel ?? model;
                if (preprocess)
                {
                    var prepared = Imaging.MnistPreprocessing.Prepare(new Imaging.GrayImage(28, 28, pixels));
                    pixels = prepared.Pixels;
                    empty = prepared.Empty;
                }
            }
            else throw new BadRequestException(415, "send a PNG (Content-Type: image/png) or JSON (Content-Type: application/json)");
            model ??= store.Default ?? throw new BadRequestException(404, "no model is available: train one with zerodl train, or start zerodl serve --model FILE");
            var result = store.With(model, net => Prediction.Run(net, model, pixels, preprocess, empty))
                ?? throw new BadRequestException(404, $"unknown model '{model}'");
            return Results.Json(result);
        });
        app.MapFallback("/api/{**rest}", () => Results.Json(new { error = "no such API endpoint" }, statusCode: 404));
        return app;
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
