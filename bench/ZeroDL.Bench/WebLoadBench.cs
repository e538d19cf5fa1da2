using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ZeroDL.Data;
using ZeroDL.Web;

namespace ZeroDL.Bench;

/// <summary>
/// Concurrent clients against POST /api/predict of a real server on loopback, for a fixed time: requests per
/// second, p50 / p99 latency, errors, and the process's peak resident memory (server and clients share the
/// process). Each request is one MNIST test image as JSON.
/// </summary>
internal static class WebLoadBench
{
    public static async Task<int> Run(string modelFile, int clients, double seconds)
    {
        string models = Path.Combine(Path.GetTempPath(), "zerodl-webload-" + Environment.ProcessId);
        Directory.CreateDirectory(models);
        await using var app = WebServer.Create(new WebServerOptions { ModelDirectory = models, ModelFiles = [modelFile] }, ["--urls", "http://127.0.0.1:0"]);
        await app.StartAsync();
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/api/predict";
        var (_, test) = Mnist.Load();
        var bodies = Enumerable.Range(0, 100).Select(i => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { pixels = test.Images.ReadOnlySpan.Slice(i * 784, 784).ToArray() }))).ToArray();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients });
        async Task<long> One(int k)
        {
            var content = new ByteArrayContent(bodies[k % bodies.Length]);
            content.Headers.ContentType = new("application/json");
            long start = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync(url, content);
            await response.Content.ReadAsByteArrayAsync();
            if (!response.IsSuccessStatusCode) throw new HttpRequestException($"status {(int)response.StatusCode}");
            return Stopwatch.GetTimestamp() - start;
        }
        for (int i = 0; i < 200; i++) await One(i); // warm-up
        var latencies = new List<long>[clients];
        int errors = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            latencies[c] = [];
            for (int k = c; clock.Elapsed.TotalSeconds < seconds; k += clients)
            {
                try { latencies[c].Add(await One(k)); }
                catch (HttpRequestException) { Interlocked.Increment(ref errors); }
            }
        }));
        double elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine($"clients {clients}");
        Console.WriteLine($"requests {all.Length}");
        Console.WriteLine($"requests_per_second {all.Length / elapsed:F0}");
        Console.WriteLine($"latency_p50_ms {Ms(all[all.Length / 2]):F2}");
        Console.WriteLine($"latency_p99_ms {Ms(all[(int)(all.Length * 0.99)]):F2}");
        Console.WriteLine($"errors {errors}");
        Console.WriteLine($"peak_resident_mib {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}");
        Directory.Delete(models, recursive: true);
        return errors == 0 ? 0 : 1;
    }
}
