using System.CommandLine;
using ZeroDL.Web;

namespace ZeroDL.Cli;

/// <summary>zerodl serve: the web app (draw a digit, the network answers) on 127.0.0.1.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string[]>("--model") { Description = "Model file(s) to serve besides those in --models; the first is the default model (else the newest in --models not trained from the web page)", AllowMultipleArgumentsPerToken = true };
        var models = new Option<string>("--models") { Description = "Folder of model files", DefaultValueFactory = _ => "models" };
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1", DefaultValueFactory = _ => 5000 };
        var runs = new Option<string>("--runs") { Description = "Folder of experiment results shown on the Experiments page", DefaultValueFactory = _ => "runs" };
        var data = new Option<string?>("--data") { Description = "Folder with the MNIST files (default: the bundled data/mnist)" };
        var trainData = new Option<string[]>("--train-data") { Description = "Data folders (ImageFolder trees or IDX folders) the Train page offers besides MNIST and Fashion-MNIST (repeatable)", AllowMultipleArgumentsPerToken = true };
        var urls = new Option<string?>("--urls") { Description = "Where to listen instead, e.g. http://0.0.0.0:8080 (reachable from other machines)" };
        var allowedHosts = new Option<string[]>("--allowed-hosts") { Description = "Host names the server answers besides the addresses it listens on (e.g. this machine's DNS name with --urls http://0.0.0.0:8080); other Host headers are refused", AllowMultipleArgumentsPerToken = true };
        var command = new Command("serve", "Serve the web app: draw a digit and a trained network answers, with a JSON API (POST /api/predict, GET /api/models).")
        {
            model, models, port, urls, allowedHosts, runs, data, trainData,
        };
        command.SetAction(async (parse, cancel) =>
        {
            int p = parse.GetValue(port);
            if (p is < 1 or > 65535) throw new UsageException("--port must be between 1 and 65535");
            var files = parse.GetValue(model) ?? [];
            foreach (var f in files) if (!File.Exists(f)) throw new UsageException($"--model {f}: file not found");
            var trainingData = (parse.GetValue(trainData) ?? []).Select(Path.GetFullPath).ToArray();
            foreach (var d in trainingData) if (!Directory.Exists(d)) throw new UsageException($"--train-data {d}: folder not found");
            string address = parse.GetValue(urls) ?? $"http://127.0.0.1:{p}";
            var options = new WebServerOptions
            {
                ModelDirectory = parse.GetValue(models)!, ModelFiles = files, RunsDirectory = parse.GetValue(runs)!, MnistDirectory = parse.GetValue(data),
                TrainWhenEmpty = true, TrainingData = trainingData, AllowedHosts = parse.GetValue(allowedHosts) ?? [],
            };
            var app = WebServer.Create(options, ["--urls", address]);
            await app.StartAsync(cancel); // listening before we say so
            var store = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<ModelStore>(app.Services);
            var available = store.List();
            Console.WriteLine(available.Count == 0
                ? $"No model in {options.ModelDirectory}/ yet: training the default one now (progress on the page; the first epoch makes it usable)."
                : $"Models: {string.Join(", ", available.Select(m => m.Name))} (default {store.Default ?? "none"})");
            Console.WriteLine($"Open {address}/ — Ctrl+C (or SIGTERM) stops the server.");
            try { await Task.Delay(Timeout.Infinite, cancel); }
            catch (OperationCanceledException) { }
            // Asked to stop (Ctrl+C, SIGTERM, SIGHUP): requests in flight finish, web training runs stop and write their
            // checkpoints (TrainingRuns.StopAll); a server that stopped when told has succeeded: it exits 0, as ASP.NET's host does.
            await app.StopAsync(CancellationToken.None);
            Console.WriteLine("Server stopped.");
            return Cli.Success;
        });
        return command;
    }
}
