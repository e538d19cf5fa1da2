using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;
using ZeroDL.Web;
using static ZeroDL.Tests.WebTrainingTests;

namespace ZeroDL.Tests;

/// <summary>
/// Issue 19 in the web app: training runs write the CLI's checkpoints, a run the server stopped is listed as
/// interrupted after a restart and resumes to the same weights, a diverging run says why, bad checkpoint files are
/// listed or skipped (never a 500), and a run's curves can be read back.
/// </summary>
public class WebResumeTests(MnistFixture mnist) : IClassFixture<MnistFixture>
{
    /// <summary>300 mini-batches an epoch of the mlp preset: a few seconds a run.</summary>
    private const string ThreeEpochs = "{\"model\": \"mlp\", \"epochs\": 3, \"trainSamples\": 30000, \"evalSamples\": 500}";
    private const int PerEpoch = 300;

    private static async Task<JsonElement> Get(HttpClient client, string path) => await client.GetFromJsonAsync<JsonElement>(path);

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostJson(HttpClient client, string path)
    {
        var response = await client.PostAsync(path, Json("{}"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }

    /// <summary>The model file's tensors equal, bit for bit.</summary>
    private static void AssertSameTensors(string expectedPath, string actualPath)
    {
        var (expected, _) = SafeTensors.Read(expectedPath);
        var (actual, _) = SafeTensors.Read(actualPath);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, e) in expected)
        {
            Assert.Equal(e.Shape, actual[name].Shape);
            for (int i = 0; i < e.Values.Length; i++)
                if (BitConverter.SingleToInt32Bits(e.Values[i]) != BitConverter.SingleToInt32Bits(actual[name].Values[i]))
                    Assert.Fail($"{name}[{i}] is {actual[name].Values[i]:R}, the uninterrupted run's {e.Values[i]:R}");
        }
    }

    [Fact]
    public async Task A_run_the_server_stopped_is_interrupted_after_a_restart_and_resumes_to_the_uninterrupted_weights()
    {
        // The run left uninterrupted, in its own folder.
        var (reference, referenceClient, referenceFolder) = await Start();
        string referenceModel;
        JsonElement referenceCurves;
        await using (reference)
        {
            string referenceId = await StartRun(referenceClient, ThreeEpochs);
            var done = (await Events(referenceClient, referenceId))[^1];
            Assert.Equal("done", done.GetProperty("status").GetString());
            referenceModel = done.GetProperty("model").GetString()!;
            referenceCurves = await Get(referenceClient, $"/api/train/{referenceId}/curves");
            // A finished run leaves no checkpoint: it is not interrupted.
            Assert.Empty(Directory.EnumerateFiles(referenceFolder, "*.ckpt"));
            Assert.Empty((await Get(referenceClient, "/api/train/interrupted")).EnumerateArray());
        }

        // The same run, stopped by the server's shutdown in its second epoch: held after mini-batch 450 until the
        // server cancels it (reading its events to pick the moment let the run finish first on an idle machine).
        const int stoppedAt = PerEpoch + PerEpoch / 2;
        var (first, client, folder) = await Start();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        first.Services.GetRequiredService<TrainingRuns>().AfterBatch = (_, iteration, stop) =>
        {
            if (iteration != stoppedAt) return;
            held.SetResult();
            // The token the trainer checks: the run's own token wakes its waiters before this linked one is cancelled,
            // and the trainer could start mini-batch 451 in between.
            stop.WaitHandle.WaitOne(TimeSpan.FromMinutes(2));
        };
        await StartRun(client, ThreeEpochs);
        string model = (await Get(client, "/api/train")).EnumerateArray().Single().GetProperty("modelName").GetString()!;
        await held.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await first.StopAsync();
        await first.DisposeAsync();
        string checkpoint = Path.Combine(folder, model + CheckpointFile.Extension);
        Assert.True(File.Exists(checkpoint), "the stopped run wrote no checkpoint");
        Assert.Equal(stoppedAt, CheckpointFile.Load(checkpoint).Checkpoint.Iteration);

        // Started again on the folder: listed as interrupted, with its progress; resumed, it ends as the reference.
        var (second, client2, _) = await Start(o => o with { ModelDirectory = folder });
        await using var _ = second;
        var listed = (await Get(client2, "/api/train/interrupted")).EnumerateArray().Single();
        Assert.Equal(model, listed.GetProperty("id").GetString());
        Assert.Equal("interrupted", listed.GetProperty("status").GetString());
        Assert.True(listed.GetProperty("resumable").GetBoolean());
        Assert.Equal(1, listed.GetProperty("epoch").GetInt32());
        Assert.Equal(3, listed.GetProperty("epochs").GetInt32());
        Assert.Equal(stoppedAt, listed.GetProperty("iteration").GetInt32());
        Assert.Equal(3 * PerEpoch, listed.GetProperty("iterations").GetInt32());
        Assert.Equal(referenceCurves.GetProperty("epochs")[0].GetProperty("testAccuracy").GetDouble(), listed.GetProperty("testAccuracy").GetDouble());
        Assert.Equal("mlp", listed.GetProperty("request").GetProperty("model").GetString());

        var (status, body) = await PostJson(client2, $"/api/train/interrupted/{model}/resume");
        Assert.Equal(HttpStatusCode.Accepted, status);
        string resumedId = body.GetProperty("id").GetString()!;
        Assert.Equal(model, body.GetProperty("modelName").GetString());
        Assert.Equal(stoppedAt, body.GetProperty("resumedFrom").GetInt32());
        // While it trains it is not listed as interrupted (nor after: it finishes). Resuming while a run trains: see below.
        Assert.DoesNotContain((await Get(client2, "/api/train/interrupted")).EnumerateArray(), r => r.GetProperty("id").GetString() == model);
        var events = await Events(client2, resumedId);
        Assert.Equal("done", events[^1].GetProperty("status").GetString());
        Assert.Equal(stoppedAt, events[0].GetProperty("resumedFrom").GetProperty("iteration").GetInt32());

        AssertSameTensors(Path.Combine(referenceFolder, referenceModel + ".safetensors"), Path.Combine(folder, model + ".safetensors"));
        Assert.False(File.Exists(checkpoint), "a finished run's checkpoint stays");
        Assert.Empty((await Get(client2, "/api/train/interrupted")).EnumerateArray());

        // Its curves (the epochs and losses before the stop included) are the uninterrupted run's.
        var curves = await Get(client2, $"/api/train/{resumedId}/curves");
        Assert.Equal("done", curves.GetProperty("status").GetString());
        Assert.Equal(3, curves.GetProperty("epochs").GetArrayLength());
        foreach (var field in new[] { "epoch", "iteration", "meanLoss", "trainAccuracy", "testAccuracy" })
            Assert.Equal(referenceCurves.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty(field).GetDouble()),
                curves.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty(field).GetDouble()));
        Assert.Equal(3 * PerEpoch, curves.GetProperty("loss").GetArrayLength()); // under RunCurves.MaxLossPoints: one point a mini-batch
        Assert.Equal(referenceCurves.GetProperty("loss").EnumerateArray().Select(l => l.GetDouble()), curves.GetProperty("loss").EnumerateArray().Select(l => l.GetDouble()));
        Assert.Equal(Enumerable.Range(1, 3 * PerEpoch), curves.GetProperty("iterations").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal(HttpStatusCode.NotFound, (await client2.GetAsync("/api/train/99/curves")).StatusCode);

        // Its metrics log, begun by the first server and continued by this one, lists it as finished and holds the
        // same epochs (the Train page's curves of finished runs come from these logs).
        var logged = (await Get(client2, "/api/train/logs")).EnumerateArray().Single();
        Assert.Equal(model, logged.GetProperty("name").GetString());
        Assert.Equal("finished", logged.GetProperty("status").GetString());
        Assert.Equal(3, logged.GetProperty("epoch").GetInt32());
        Assert.Equal(3, logged.GetProperty("epochs").GetInt32());
        var fromLog = await Get(client2, $"/api/train/logs/{model}/curves");
        Assert.Equal("finished", fromLog.GetProperty("status").GetString());
        foreach (var field in new[] { "epoch", "iteration", "meanLoss", "trainAccuracy", "testAccuracy" })
            Assert.Equal(referenceCurves.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty(field).GetDouble()),
                fromLog.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty(field).GetDouble()));
        Assert.Equal(Enumerable.Range(1, 9).Select(i => i * MetricsLog.DefaultProgressEvery), fromLog.GetProperty("iterations").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Single(RunLog.Read(Path.Combine(folder, model + MetricsLog.FileSuffix)).Resumes);
    }

    [Fact]
    public async Task A_diverging_run_says_so_with_the_trainers_message_and_keeps_its_last_good_checkpoint()
    {
        // One mini-batch an epoch, so that every iteration ends an epoch, saves the model and writes a checkpoint.
        const double rate = 9.9;
        var (app, client, folder) = await Start();
        await using var _ = app;
        string id = await StartRun(client, $"{{\"model\": \"mlp\", \"optimizer\": \"sgd\", \"learningRate\": {rate}, \"epochs\": 20, \"trainSamples\": 100, \"evalSamples\": 100}}");
        var done = (await Events(client, id))[^1];
        Assert.Equal("diverged", done.GetProperty("status").GetString());

        // The same run in the library: the web run's message is the exception's, as the CLI prints it.
        var preset = ModelPresets.Find("mlp");
        var trainer = new Trainer(preset.Build([784], 10, seed: 1), new Sgd<float>(rate), mnist.Data.Train.Take(100), mnist.Data.Test,
            new TrainerOptions { Epochs = 20, BatchSize = preset.BatchSize, Seed = 1, EvaluationSamples = 100 });
        var expected = Assert.Throws<TrainingDivergedException>(() => trainer.Train());
        Assert.True(expected.Iteration > 1, $"the run diverged at iteration {expected.Iteration}, before any checkpoint");
        Assert.Equal(expected.Message, done.GetProperty("error").GetString());
        Assert.Equal(expected.Iteration, done.GetProperty("iteration").GetInt32());
        var status = await Get(client, $"/api/train/{id}");
        Assert.Equal("diverged", status.GetProperty("status").GetString());
        Assert.Equal(expected.Message, status.GetProperty("error").GetString());

        // The last good checkpoint stays (the reader refuses NaN: loading it proves it finite), marked diverged.
        string model = done.GetProperty("model").GetString()!;
        var kept = CheckpointFile.Load(Path.Combine(folder, model + CheckpointFile.Extension));
        Assert.Equal(expected.Iteration - 1, kept.Checkpoint.Iteration);
        Assert.Equal(expected.Message, kept.Run[RunCheckpoints.DivergedKey]);
        Assert.Equal(expected.Iteration - 1, done.GetProperty("checkpointIteration").GetInt32());
        // The web model is the last good epoch's, finite.
        var loaded = ModelFile.Load(Path.Combine(folder, model + ".safetensors"));
        Assert.Equal((expected.Iteration - 1).ToString(), JsonSerializer.Deserialize<Dictionary<string, string>>(loaded.Metadata["training"])!["epochs_completed"]);
        foreach (var (name, value) in loaded.Network.NamedTensors())
            foreach (float v in value.ReadOnlySpan) Assert.True(float.IsFinite(v), $"{name} holds {v}");
        // Listed as diverged, with the message, and not resumed (it would diverge again at the same iteration).
        var listed = (await Get(client, "/api/train/interrupted")).EnumerateArray().Single();
        Assert.Equal("diverged", listed.GetProperty("status").GetString());
        Assert.False(listed.GetProperty("resumable").GetBoolean());
        Assert.Equal(expected.Message, listed.GetProperty("reason").GetString());
        var logged = (await Get(client, "/api/train/logs")).EnumerateArray().Single();
        Assert.Equal("diverged", logged.GetProperty("status").GetString());
        Assert.Equal(expected.Message, logged.GetProperty("message").GetString());
        Assert.Equal(expected.Iteration - 1, (await Get(client, $"/api/train/logs/{model}/curves")).GetProperty("epochs").GetArrayLength());
        var (code, body) = await PostJson(client, $"/api/train/interrupted/{model}/resume");
        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Contains("diverged", body.GetProperty("error").GetString());
    }

    /// <summary>A checkpoint of <paramref name="request"/>'s run before its first mini-batch (no training needed), as a web run writes it.</summary>
    internal static TrainingCheckpoint Untrained(Dataset train, TrainingRequest request)
    {
        var preset = ModelPresets.Find(request.Model);
        var trainer = new Trainer(preset.Build([784], 10, request.Seed), Optimizer<float>.Create(preset.Optimizer, preset.LearningRate), train.Take(request.TrainSamples), train,
            new TrainerOptions { Epochs = request.Epochs, BatchSize = preset.BatchSize, Seed = request.Seed, EvaluationSamples = request.EvalSamples, Schedule = preset.TrainingSchedule });
        return trainer.SaveState();
    }

    [Fact]
    public async Task Corrupt_and_foreign_checkpoints_are_listed_as_unusable_or_skipped_and_logged_never_a_500()
    {
        string folder = TestPaths.NewTempDirectory();
        var request = new TrainingRequest(Model: "twolayer", TrainSamples: 1000, EvalSamples: 100);
        var good = Untrained(mnist.Data.Train, request);
        string Ckpt(string name) => Path.Combine(folder, name + CheckpointFile.Extension);
        CheckpointFile.Save(good, Ckpt("web-good"), RunCheckpoints.Description(request));
        CheckpointFile.Save(good, Ckpt("web-elsewhere"), RunCheckpoints.Description(request with { Data = "/no/such/folder" }));
        CheckpointFile.Save(good, Ckpt("web-cli"), new Dictionary<string, string> { ["args"] = "[\"--model\", \"twolayer\"]" }); // the CLI's, renamed
        CheckpointFile.Save(good, Ckpt("cli-default"), new Dictionary<string, string> { ["args"] = "[]" }); // zerodl train's models/NAME.ckpt
        byte[] bytes = File.ReadAllBytes(Ckpt("web-good"));
        File.WriteAllBytes(Ckpt("web-truncated"), bytes[..(bytes.Length / 2)]);
        File.WriteAllBytes(Ckpt("web-garbage"), [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 >> 3))]);
        File.WriteAllBytes(Ckpt("web-empty"), []);
        string junkLog = Path.Combine(folder, "web-junk" + MetricsLog.FileSuffix);
        File.WriteAllText(junkLog, "{\"type\": \"epoch\"}\n");
        ModelFile.Save(ModelPresets.Find("twolayer").Build([784], 10, seed: 1), Ckpt("web-model")); // a model file named .ckpt
        CheckpointFile.Save(good, Ckpt("web-badrequest"), new Dictionary<string, string> { [RunCheckpoints.SourceKey] = "web", [RunCheckpoints.RequestKey] = "{\"model\": " });

        var logs = new CapturedLogs();
        // Resuming counts as a training request (10 a minute): this test makes more.
        var (app, client, _) = await Start(o => o with { ModelDirectory = folder, RateLimits = new RateLimits { TrainLimit = 100 } }, logs);
        await using var __ = app;
        var response = await client.GetAsync("/api/train/interrupted");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var listed = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray()
            .ToDictionary(r => r.GetProperty("id").GetString()!, r => r);
        Assert.Equal(new[] { "web-badrequest", "web-cli", "web-elsewhere", "web-empty", "web-garbage", "web-good", "web-model", "web-truncated" }, listed.Keys.Order());
        Assert.Equal("interrupted", listed["web-good"].GetProperty("status").GetString());
        Assert.Equal(0, listed["web-good"].GetProperty("iteration").GetInt32());
        Assert.Equal(JsonValueKind.Null, listed["web-good"].GetProperty("testAccuracy").ValueKind);
        Assert.Equal("interrupted", listed["web-elsewhere"].GetProperty("status").GetString()); // readable; its data is the server's concern
        var unusable = new Dictionary<string, string>
        {
            ["web-cli"] = "holds no web request", ["web-model"] = "this is a model file", ["web-badrequest"] = "web request does not parse",
            ["web-truncated"] = "", ["web-garbage"] = "", ["web-empty"] = "",
        };
        foreach (var (name, reason) in unusable)
        {
            Assert.Equal("unusable", listed[name].GetProperty("status").GetString());
            Assert.False(listed[name].GetProperty("resumable").GetBoolean());
            string text = listed[name].GetProperty("reason").GetString()!;
            Assert.StartsWith(name + CheckpointFile.Extension + ": ", text); // names the file, not the server's folder
            Assert.DoesNotContain(folder, text);
            Assert.Contains(reason, text);
            // One warning naming the file (where it is) and the reason, logged when the server started.
            Assert.Single(logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains(Ckpt(name)) && e.Message.Contains(text[(name.Length + CheckpointFile.Extension.Length + 2)..]));
            var (code, body) = await PostJson(client, $"/api/train/interrupted/{name}/resume");
            Assert.Equal(HttpStatusCode.Conflict, code);
            Assert.Contains(text, body.GetProperty("error").GetString());
        }
        // The CLI's checkpoint is not listed, and the log says why.
        Assert.Single(logs.Entries, e => e.Message.Contains(Ckpt("cli-default")) && e.Message.Contains("skipped"));
        // Listing again reads nothing again and logs nothing again.
        int logged = logs.Entries.Count(e => e.Message.Contains(folder));
        Assert.Equal(8, (await Get(client, "/api/train/interrupted")).GetArrayLength());
        Assert.Equal(logged, logs.Entries.Count(e => e.Message.Contains(folder)));

        // A metrics log that cannot be read is not listed, is logged, and its curves get the reason.
        Assert.Empty((await Get(client, "/api/train/logs")).EnumerateArray());
        Assert.Single(logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains(junkLog));
        var junk = await client.GetAsync("/api/train/logs/web-junk/curves");
        Assert.Equal(HttpStatusCode.Conflict, junk.StatusCode);
        Assert.StartsWith("the metrics log of 'web-junk' cannot be read: web-junk.metrics.jsonl", JsonDocument.Parse(await junk.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        foreach (var id in new[] { "web-nope", "..", "web-..%2F..%2Fetc%2Fpasswd" })
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/train/logs/{id}/curves")).StatusCode);
        // Unknown ids, and ids reaching out of the folder: 404.
        foreach (var id in new[] { "web-nope", "cli-default", "..", "web-..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "web-good.ckpt" })
            Assert.Equal(HttpStatusCode.NotFound, (await PostJson(client, $"/api/train/interrupted/{id}/resume")).Status);
        // A run whose data this server does not offer: refused with the reason.
        var (status, error) = await PostJson(client, "/api/train/interrupted/web-elsewhere/resume");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("unknown data '/no/such/folder'", error.GetProperty("error").GetString());
        // One run at a time: no resume while another run trains.
        string running = await StartRun(client, "{\"model\": \"deepconv\", \"epochs\": 1}");
        (status, error) = await PostJson(client, "/api/train/interrupted/web-good/resume");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("already going", error.GetProperty("error").GetString());
        await client.PostAsync($"/api/train/{running}/cancel", Json("{}"));
        await Events(client, running);
        // Then it resumes, from iteration 0, and ends as a run started afresh; its checkpoint goes.
        (status, error) = await PostJson(client, "/api/train/interrupted/web-good/resume");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("done", (await Events(client, error.GetProperty("id").GetString()!))[^1].GetProperty("status").GetString());
        Assert.False(File.Exists(Ckpt("web-good")));
        Assert.True(File.Exists(Path.Combine(folder, "web-good.safetensors")));
    }

    [Fact]
    public async Task A_run_with_a_schedule_a_validation_split_and_early_stopping_trains_as_the_library_with_those_options()
    {
        var (app, client, _) = await Start();
        await using var __ = app;
        string id = await StartRun(client, "{\"model\": \"mlp\", \"epochs\": 20, \"trainSamples\": 2000, \"evalSamples\": 200, \"validationSplit\": 0.2, \"earlyStop\": 2, "
            + "\"monitor\": \"val_accuracy\", \"schedule\": {\"kind\": \"step\", \"everyEpochs\": 1, \"gamma\": 0.7, \"warmup\": 5}}");
        var events = await Events(client, id);
        var done = events[^1];
        Assert.Equal("done", done.GetProperty("status").GetString());

        var preset = ModelPresets.Find("mlp");
        var trainer = new Trainer(preset.Build([784], 10, seed: 1), Optimizer<float>.Create(preset.Optimizer, preset.LearningRate), mnist.Data.Train.Take(2000), mnist.Data.Test,
            new TrainerOptions
            {
                Epochs = 20, BatchSize = preset.BatchSize, Seed = 1, EvaluationSamples = 200, ValidationSplit = 0.2, EarlyStopPatience = 2,
                Monitor = MonitoredQuantity.ValidationAccuracy, Schedule = new LearningRateSchedule.Warmup(5, new LearningRateSchedule.Step(1, 0.7)),
            });
        var history = trainer.Train();
        Assert.True(history.StoppedEarly, "this run should stop early"); // chosen so; the web run must do the same
        Assert.True(done.GetProperty("stoppedEarly").GetBoolean());
        Assert.Contains($"stopped early after epoch {history.Epochs.Count} of 20: val_accuracy did not improve for 2 epochs", done.GetProperty("reason").GetString());
        var epochs = events.Where(e => e.GetProperty("type").GetString() == "epoch").ToList();
        Assert.Equal(history.Epochs.Count, epochs.Count);
        for (int i = 0; i < epochs.Count; i++)
        {
            var expected = history.Epochs[i];
            Assert.Equal(expected.LearningRate, epochs[i].GetProperty("learningRate").GetDouble());
            Assert.Equal(expected.ValidationAccuracy, epochs[i].GetProperty("validationAccuracy").GetDouble());
            Assert.Equal(expected.ValidationLoss, epochs[i].GetProperty("validationLoss").GetDouble());
            Assert.Equal(expected.TestAccuracy, epochs[i].GetProperty("testAccuracy").GetDouble());
        }
        // Epoch k's last mini-batch (16 an epoch, 5 of warm-up before the steps) runs at 0.7^(k-1) of the rate: the
        // schedule the request described, not the preset's constant one.
        for (int k = 1; k <= history.Epochs.Count; k++) Assert.Equal(preset.LearningRate * Math.Pow(0.7, k - 1), history.Epochs[k - 1].LearningRate, 15);
    }
}
