using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using ZeroDL.Data;
using ZeroDL.Kernels;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Cli;

internal static class TrainCommand
{
    public static Command Create()
    {
        var recipe = new ModelOptions();
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the training data" };
        var iterations = new Option<int?>("--iterations") { Description = "Stop after this many mini-batches instead (the book's iters_num)" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Mini-batch size" };
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd, momentum, nesterov, adagrad, rmsprop or adam" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate" };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice (weights, shuffling, dropout)", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Model file to write (safetensors); a .history.csv and a JSON Lines metrics log, .metrics.jsonl (docs/metrics-log.md), are written beside it. Default models/<model>.safetensors" };
        var evalSamples = new Option<int?>("--eval-samples") { Description = "Samples of each split evaluated per epoch (0 = all; default: the model's, all but for deepconv-fast and deepconv-best); the final test accuracy is always the whole test set's" };
        var trainSamples = new Option<int>("--train-samples") { Description = "Train on the first N training images only (0 = all 60,000)", DefaultValueFactory = _ => 0 };
        var replacement = new Option<bool>("--with-replacement") { Description = "Sample mini-batches with replacement, as the book's code does" };
        var threads = new Option<int>("--threads") { Description = "Threads for matrix products", DefaultValueFactory = _ => Environment.ProcessorCount };
        var data = new DataOptions();
        var schedule = new Option<string?>("--schedule")
        {
            Description = "Learning rate over the run, as a multiple of --lr: constant (the book's; the default except where the model names cosine); " +
                          "step:EVERY_EPOCHS:GAMMA (× GAMMA every EVERY_EPOCHS epochs, e.g. step:5:0.5); cosine or cosine:FLOOR (½(1 + cos(π·t/T)) from 1 down to FLOOR, default 0, by the last batch); " +
                          "plateau:FACTOR:PATIENCE[:MIN_FACTOR] (× FACTOR after PATIENCE epochs in a row without improvement of --monitor, or of the training loss without --val-split; never below MIN_FACTOR, default 0)",
        };
        var warmup = new Option<int?>("--warmup") { Description = "Linear warm-up over the first N mini-batches (iterations, not epochs): the rate rises from lr/N to lr, then --schedule starts" };
        var valSplit = new Option<double?>("--val-split") { Description = "Hold out this fraction of the training data (e.g. 0.1) as a validation split, stratified by class and drawn with --seed; every epoch reports its loss and accuracy (book ch. 6.5)" };
        var earlyStop = new Option<int?>("--early-stop") { Description = "Stop when --monitor has not improved for PATIENCE epochs in a row (needs --val-split: the test set is never monitored)" };
        var monitor = new Option<string?>("--monitor") { Description = "What --early-stop, --keep best and a plateau schedule watch: val_loss (the default) or val_accuracy (needs --val-split)" };
        monitor.AcceptOnlyFromAmong("val_loss", "val_accuracy");
        var keep = new Option<string>("--keep") { Description = "Which weights --out holds: last (the default: the last epoch's) or best (the epoch with the best --monitor; needs --val-split)", DefaultValueFactory = _ => "last" };
        keep.AcceptOnlyFromAmong("last", "best");
        var dtype = new Option<string>("--dtype") { Description = "How the model file stores weights: f32, or f16 for half the size (training itself is float32)", DefaultValueFactory = _ => "f32" };
        dtype.AcceptOnlyFromAmong("f32", "f16");
        var augmentOptions = new AugmentOptions();
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file, written atomically at every epoch's end (and with --checkpoint-every, and when Ctrl+C, SIGTERM or SIGHUP stops the run): everything to resume the run exactly. Default: beside --out as NAME.ckpt; with --resume, the file resumed" };
        var checkpointEvery = new Option<int?>("--checkpoint-every") { Description = "Also write the checkpoint every N mini-batches" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run a checkpoint holds, with the options it was started with, to the same weights bit for bit as if never stopped. --epochs may be raised; --out, --checkpoint, --checkpoint-every, --threads and --collective-timeout may be set" };
        var distributed = new Option<bool>("--distributed") { Description = "Run as one rank of an Open MPI job: mpirun -np N zerodl train --distributed … Each rank trains on its share of every global mini-batch of N × --batch-size images, gradients are averaged by allreduce, rank 0 prints and saves (docs/scale-out.md)" };
        var collectiveTimeout = new Option<int>("--collective-timeout")
        {
            Description = "With --distributed: seconds one collective (allreduce, broadcast) may wait for the other ranks (one frozen, or lost without MPI noticing) before the job is aborted; it must exceed rank 0's work at an epoch's end (evaluation, files). May be set with --resume",
            DefaultValueFactory = _ => DistributedRun.DefaultCollectiveTimeoutSeconds,
        };
        var holdAt = new Option<string?>("--hold-at") { Hidden = true, Description = "Tests: stop and wait at a point (iteration:N, checkpoint-writing:N, checkpoint-written:N), announced on stdout" };

        var command = new Command("train", "Train a model (on MNIST unless --data names other images), print per-epoch accuracy and the final test accuracy, and save it.")
        {
            recipe.Model, recipe.Arch, recipe.Hidden, recipe.Activation, recipe.Init, epochs, iterations, batchSize, optimizer, lr, recipe.WeightDecay, recipe.Dropout, recipe.DropoutMode,
            recipe.Batchnorm, recipe.BatchnormMode, recipe.OutputDropout, seed, output, evalSamples, trainSamples, replacement, threads,
            dtype, schedule, warmup, valSplit, earlyStop, monitor, keep, checkpoint, checkpointEvery, resume, distributed, collectiveTimeout, holdAt,
        };
        foreach (var option in data.All) command.Add(option);
        foreach (var option in augmentOptions.All) command.Add(option);
        // What --resume lets the command line set: where files go and how fast, never what is computed.
        Option[] settable = [output, checkpoint, checkpointEvery, threads, collectiveTimeout];
        command.SetAction(async (parse, cancel) =>
        {
            // Off the main thread at once, so that Program can give up on a run still stopping a minute after a
            // signal (Termination) even while data are loading; a signal then stops training before its first batch.
            await Task.Yield();
            if (parse.GetValue(collectiveTimeout) is < 1 or > MaxCollectiveTimeoutSeconds)
                throw new UsageException($"--collective-timeout must be from 1 to {MaxCollectiveTimeoutSeconds} seconds (a week)");
            using var ranks = DistributedRun.Start(parse.GetValue(distributed), TimeSpan.FromSeconds(parse.GetValue(collectiveTimeout)));
            var hold = TrainingHold.Parse(parse.GetValue(holdAt));
            string? resumePath = parse.GetValue(resume);
            LoadedCheckpoint? resumed = null;
            if (resumePath is not null) (parse, resumed) = ResumeParse(command, parse, resumePath, settable, epochs, [resume, holdAt]);
            var choice = recipe.Resolve(parse);
            var preset = choice.Preset;
            // The data first: a preset takes its input shape and class count from it.
            var loadedData = data.Load(parse, parse.GetValue(seed));
            var (train, test) = (loadedData.Train, loadedData.Test);
            var architecture = choice.Architecture(loadedData);

            var augmentation = augmentOptions.Resolve(parse, preset.Augment);

            double? validationSplit = parse.GetValue(valSplit);
            if (validationSplit is double vf && !(vf > 0 && vf < 1)) throw new UsageException($"--val-split {vf.ToString(CultureInfo.InvariantCulture)} must be a fraction between 0 and 1 (exclusive), e.g. 0.1");
            int? patience = parse.GetValue(earlyStop);
            if (patience is < 1) throw new UsageException("--early-stop must be at least 1 epoch");
            bool keepBest = parse.GetValue(keep) == "best";
            string? monitorName = parse.GetValue(monitor);
            if (validationSplit is null)
            {
                if (patience is not null) throw new UsageException("--early-stop needs --val-split: the test set is never monitored");
                if (keepBest) throw new UsageException("--keep best needs --val-split to judge the epochs by: the test set is never monitored");
                if (monitorName is not null) throw new UsageException("--monitor watches the validation split: give --val-split");
            }
            var monitored = monitorName == "val_accuracy" ? MonitoredQuantity.ValidationAccuracy : MonitoredQuantity.ValidationLoss;
            LearningRateSchedule learningSchedule;
            try
            {
                // A plateau watches --monitor; without a validation split, the training loss.
                learningSchedule = parse.GetValue(schedule) is string text
                    ? LearningRateSchedule.Parse(text, validationSplit is null ? MonitoredQuantity.TrainingLoss : monitored)
                    : preset.TrainingSchedule;
            }
            catch (FormatException e) { throw new UsageException("--schedule: " + e.Message); }
            if (parse.GetValue(warmup) is int warmupIterations)
            {
                if (learningSchedule is LearningRateSchedule.Warmup)
                    throw new UsageException("give the warm-up once: --warmup N, or warmup:N+SCHEDULE in --schedule, not both");
                if (warmupIterations < 1) throw new UsageException("--warmup must be at least 1 iteration");
                learningSchedule = new LearningRateSchedule.Warmup(warmupIterations, learningSchedule);
            }
            int? everyN = parse.GetValue(checkpointEvery);
            if (everyN is < 1) throw new UsageException("--checkpoint-every must be at least 1");
            int? ep = parse.GetValue(epochs);
            int? iters = parse.GetValue(iterations) ?? (ep is null ? preset.Iterations : null);
            var options = new TrainerOptions
            {
                Epochs = ep ?? preset.Epochs,
                Iterations = iters,
                BatchSize = parse.GetValue(batchSize) ?? preset.BatchSize,
                SampleWithReplacement = parse.GetValue(replacement),
                EvaluationSamples = parse.GetValue(evalSamples) ?? preset.EvaluationSamples,
                Seed = parse.GetValue(seed),
                Augmentation = augmentation,
                Schedule = learningSchedule,
                CheckpointEvery = everyN,
                ValidationSplit = validationSplit,
                EarlyStopPatience = patience,
                Monitor = monitored,
                Keep = keepBest ? KeptWeights.Best : KeptWeights.Last,
            };
            try { options.Validate(); }
            catch (ArgumentOutOfRangeException e) { throw new UsageException(e.Message.Split(" (Parameter")[0]); }
            int threadCount = ranks is not null && parse.GetResult(threads) is not { Implicit: false } ? DistributedRun.ThreadsPerRank : parse.GetValue(threads);
            if (threadCount < 1) throw new UsageException("--threads must be at least 1");
            options = options with { Threads = threadCount };
            int trainCount = parse.GetValue(trainSamples);
            if (trainCount < 0) throw new UsageException("--train-samples must be ≥ 0");

            string optimizerName = parse.GetValue(optimizer) ?? preset.Optimizer;
            double learningRate = parse.GetValue(lr) ?? (parse.GetValue(optimizer) is null ? preset.LearningRate : DefaultRate(optimizerName));
            Optimizer<float> opt;
            try { opt = Optimizer<float>.Create(optimizerName, learningRate); }
            catch (ArgumentException e) { throw new UsageException(e.Message.Split(" (Parameter")[0]); }

            var storedType = Cli.ParseStoredType(parse.GetValue(dtype)!);
            string modelName = choice.Name;
            string outPath = parse.GetValue(output) ?? Path.Combine("models", modelName + ".safetensors");
            string historyPath = Path.ChangeExtension(outPath, null) + ".history.csv";
            string checkpointPath = parse.GetValue(checkpoint) ?? resumePath ?? CheckpointFile.BesideModel(outPath);
            // Only the process that writes them (rank 0 of a distributed run) checks them: another machine's paths may differ.
            if (ranks?.IsRoot ?? true)
                foreach (var path in new[] { outPath, historyPath, checkpointPath, MetricsLog.BesideModel(outPath) }) AtomicFile.CheckDestination(path);
            // A preset bounded by iterations (twolayer) runs epochs once --epochs is given: not the same run.
            if (resumed is not null && options.Iterations != resumed.Checkpoint.Options.Iterations)
                throw new UsageException($"--epochs cannot extend {resumePath}: its run is bounded by iterations ({resumed.Checkpoint.Options.Iterations})");

            if (trainCount > 0) train = train.Take(trainCount);
            choice.CheckFits(architecture, loadedData, train);
            var input = architecture.InputShape;
            var classNames = train.ClassNames ?? ModelFile.DefaultClassNames(train.Classes);
            var normalization = train.Normalization ?? InputNormalization.Identity(ModelFile.InputChannels(input));
            var net = architecture.Build<float>(options.Seed);
            Trainer trainer;
            try { trainer = new Trainer(net, opt, train, test, options) { Group = ranks?.Mpi ?? (Distributed.ICommunicator)new Distributed.SingleProcess() }; }
            catch (ArgumentException e) { throw new UsageException(e.Message.Split(" (Parameter")[0].Replace("a validation split of", "--val-split").Replace("the warm-up of", "--warmup")); }
            bool writes = ranks?.IsRoot ?? true; // only rank 0 of a distributed run writes files
            if (resumed is not null)
            {
                try { trainer.Restore(resumed.Checkpoint); }
                catch (ArgumentException e) { throw DataFormatException.For(resumePath!, $"does not fit the run its options describe: {e.Message.Split(" (Parameter")[0]}"); }
            }
            var settings = new Dictionary<string, string>
            {
                ["model"] = modelName, ["optimizer"] = opt.Name, ["learning_rate"] = learningRate.ToString("R", CultureInfo.InvariantCulture),
                ["batch_size"] = options.BatchSize.ToString(CultureInfo.InvariantCulture), ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
                ["iterations"] = trainer.TotalIterations.ToString(CultureInfo.InvariantCulture), ["train_samples"] = train.Count.ToString(CultureInfo.InvariantCulture),
            };

            DataOptions.Record(loadedData, settings);
            if (augmentation is not null) settings["augmentation"] = augmentation.Describe();
            settings["schedule"] = options.Schedule.ToString();
            if (options.ValidationSplit is double held)
            {
                settings["validation_split"] = held.ToString("R", CultureInfo.InvariantCulture);
                settings["validation_samples"] = trainer.ValidationSet!.Count.ToString(CultureInfo.InvariantCulture);
                settings["monitor"] = options.Monitor.Name();
                settings["keep"] = keepBest ? "best" : "last";
                if (options.EarlyStopPatience is int p) settings["early_stop"] = p.ToString(CultureInfo.InvariantCulture);
            }
            Console.WriteLine($"Data: {loadedData.Describe()}");
            Console.WriteLine($"Training {modelName}: {choice.Describe(loadedData, architecture)}");
            if (augmentation is not null) Console.WriteLine($"  augmentation: {augmentation.Describe()}");
            Console.WriteLine($"  {opt.Name} lr {learningRate.ToString("G", CultureInfo.InvariantCulture)}{(options.Schedule is LearningRateSchedule.Constant ? "" : $" (schedule {options.Schedule})")}, batch {options.BatchSize}, {trainer.TotalIterations} iterations ({trainer.IterationsPerEpoch} per epoch), {train.Count} training images, seed {options.Seed}, {Math.Min(threadCount, Environment.ProcessorCount)} thread(s), GEMM {Gemm.KernelName}");
            // The options to resume with: this run's command line as the parser understood it (--resume and --hold-at aside).
            var run = new Dictionary<string, string> { ["args"] = JsonSerializer.Serialize(GivenArgs(command, parse, [resume, holdAt, collectiveTimeout])) };
            ranks?.CheckSameRun(GivenArgs(command, parse, [holdAt]), [train.ContentHash(), test.ContentHash()], resumePath);
            if (ranks is not null) Console.WriteLine($"  distributed: {ranks.Mpi.Size} ranks × batch {options.BatchSize} = global batch {trainer.GlobalBatchSize}, {threadCount} thread(s) per rank");
            int written = 0, checkpointed = -1;
            if (writes) trainer.CheckpointReady += c =>
            {
                int n = ++written;
                checkpointed = c.Iteration;
                AtomicFile.Write(checkpointPath, s =>
                {
                    CheckpointFile.Write(s, c, run);
                    s.Flush();
                    hold.Reach("checkpoint-writing", n);
                });
                hold.Reach("checkpoint-written", n);
            };
            trainer.BatchCompleted += (iter, _) => hold.Reach("iteration", iter);
            if (resumed is not null)
                Console.WriteLine($"Resuming {resumePath} after iteration {resumed.Checkpoint.Iteration} of {trainer.TotalIterations} ({resumed.Checkpoint.Epoch} epochs done)");
            if (options.ValidationSplit is not null)
                Console.WriteLine($"  validation: {trainer.ValidationSet!.Count} images held out of {train.Count} ({options.ValidationSplit.Value.ToString("R", CultureInfo.InvariantCulture)} of each class)" +
                                  (options.EarlyStopPatience is int stopAfter ? $", early stop after {stopAfter} epochs without a better {options.Monitor.Name()}" : "") +
                                  $", keeping the {(keepBest ? $"best epoch by {options.Monitor.Name()}" : "last epoch")}");
            if (writes) trainer.EpochCompleted += e =>
            {
                // A model file per epoch, written atomically: an interrupted run keeps its last finished epoch, or with
                // --keep best the best so far (rewritten only when an epoch improves on it).
                settings["epochs_completed"] = e.Epoch.ToString(CultureInfo.InvariantCulture);
                if (trainer.Monitored is { } m) settings["best_epoch"] = m.BestEpoch.ToString(CultureInfo.InvariantCulture);
                if (!keepBest) ModelFile.Save(trainer.EvaluatedModel, outPath, settings, storedType, classNames, normalization);
                else if (trainer.Monitored?.BestEpoch == e.Epoch && trainer.BestModel is { } best) ModelFile.Save(best, outPath, settings, storedType, classNames, normalization);
            };

            using var metrics = !writes ? null : TrainMetrics.Open(MetricsLog.BesideModel(outPath), new MetricsRun
            {
                Model = modelName, Architecture = choice.Describe(loadedData, architecture),
                Data = loadedData.Describe(), Seed = options.Seed, BatchSize = options.BatchSize, TrainSamples = train.Count,
                IterationsPerEpoch = trainer.IterationsPerEpoch, TotalIterations = trainer.TotalIterations, Started = DateTimeOffset.UtcNow,
                Options = new Dictionary<string, string>(settings) { ["args"] = run["args"] },
            }, resumed?.Checkpoint, trainer);

            TrainingHistory history;
            try
            {
                history = await TrainingProgress.Run(trainer, train.Count, resumed?.Checkpoint.Iteration ?? 0, EpochLine, cancel);
            }
            catch (TrainingDivergedException e)
            {
                metrics?.End(MetricsRunStatus.Diverged, e.Iteration - 1, message: e.Message);
                // The trainer stopped before the bad values reached a checkpoint or a model file: what is on disk is good.
                Console.Error.WriteLine($"zerodl: {e.Message}");
                Console.Error.WriteLine(File.Exists(checkpointPath)
                    ? $"zerodl: the last good checkpoint is {checkpointPath}{(checkpointed >= 0 ? $" (iteration {checkpointed})" : "")}" + (File.Exists(outPath) ? $"; {outPath} holds a finished epoch's model" : "")
                    : "zerodl: no checkpoint was written before it");
                return Cli.Diverged;
            }
            // The trainer hands out a checkpoint of the point where a signal (Ctrl+C, SIGTERM, SIGHUP) stopped it (when a mini-batch was done since the last).
            string resumeHint = checkpointed == history.Loss.Count && history.Cancelled
                ? $"the checkpoint {checkpointPath} holds iteration {checkpointed}: zerodl train --resume {checkpointPath} goes on from there" : "";
            if (history.Cancelled) metrics?.End(MetricsRunStatus.Interrupted, history.Loss.Count, history.Elapsed);
            if (history.Cancelled && history.Epochs.Count == 0)
            {
                // No epoch ended, so no model was written: the files at these paths (if any) are an earlier run's,
                // and an empty history must not replace that run's.
                Console.WriteLine($"Interrupted after {history.Loss.Count} iterations, before the first epoch ended: nothing was saved"
                    + (resumeHint.Length > 0 ? " but the checkpoint" : "")
                    + (File.Exists(outPath) ? $" ({outPath} is an earlier run's, left as it was)" : $" ({outPath} was not written)"));
                if (resumeHint.Length > 0) Console.WriteLine(char.ToUpperInvariant(resumeHint[0]) + resumeHint[1..]);
                ranks?.StopTogether();
                return Cli.Interrupted;
            }
            if (writes) AtomicFile.WriteAllText(historyPath, history.EpochsCsv());
            if (history.Cancelled)
            {
                Console.WriteLine(keepBest
                    ? $"Interrupted after {history.Loss.Count} iterations; the best model so far, of epoch {trainer.Monitored!.BestEpoch}, is in {outPath}"
                    : $"Interrupted after {history.Loss.Count} iterations; the model of epoch {history.Epochs[^1].Epoch}, the last finished, is in {outPath}");
                if (resumeHint.Length > 0) Console.WriteLine(char.ToUpperInvariant(resumeHint[0]) + resumeHint[1..]);
                ranks?.StopTogether();
                return Cli.Interrupted;
            }
            if (history.StoppedEarly)
                Console.WriteLine($"Stopped early after epoch {history.Epochs[^1].Epoch}: {options.Monitor.Name()} has not improved for {options.EarlyStopPatience} epochs " +
                                  $"since epoch {trainer.Monitored!.BestEpoch} ({Cli.Number(trainer.Monitored.Best)})");
            int keptEpoch = history.Epochs[^1].Epoch;
            if (keepBest && trainer.Monitored is { BestEpoch: > 0 } bestSoFar)
            {
                keptEpoch = bestSoFar.BestEpoch;
                Console.WriteLine($"Kept the best epoch by {options.Monitor.Name()}: epoch {keptEpoch} ({Cli.Number(bestSoFar.Best)})");
            }
            // With --eval-samples the epochs were scored on the first N test images; the final figure is always the
            // whole test set (the saved model, as `zerodl evaluate` would score it).
            // In the evaluation's batches, whose buffers the model has (the scores do not depend on the batch size).
            double accuracy = options.EvaluationSamples > 0 && options.EvaluationSamples < test.Count
                ? trainer.KeptModel.Accuracy(test, options.EvaluationBatchSize) : history.Epochs[keptEpoch - 1].TestAccuracy;
            metrics?.End(MetricsRunStatus.Finished, history.Loss.Count, history.Elapsed, accuracy,
                history.StoppedEarly ? $"stopped early after epoch {history.Epochs[^1].Epoch}; the model kept is epoch {keptEpoch}'s" : null);
            Console.WriteLine($"Test accuracy: {Cli.Percent(accuracy)} ({(int)Math.Round(accuracy * test.Count)} of {test.Count} test images; {history.Elapsed.TotalSeconds:F1} s of training)");
            Console.WriteLine($"Saved {outPath}, {historyPath} and {MetricsLog.BesideModel(outPath)} (checkpoint {checkpointPath})");
            ranks?.Finish();
            return Cli.Success;
        });
        return command;
    }

    /// <summary>
    /// The options given on a command line, as arguments that parse to the same values: each option given (not
    /// defaulted) as its name followed by its tokens, in the command's order, except <paramref name="excluded"/>.
    /// </summary>
    private static List<string> GivenArgs(Command command, ParseResult parse, IReadOnlyCollection<Option> excluded)
    {
        var args = new List<string>();
        foreach (var option in command.Options)
        {
            if (excluded.Contains(option) || parse.GetResult(option) is not { Implicit: false } given) continue;
            args.Add(option.Name);
            args.AddRange(given.Tokens.Select(t => t.Value));
        }
        return args;
    }

    /// <summary>The longest --collective-timeout: a week, well inside what a timer can wait.</summary>
    private const int MaxCollectiveTimeoutSeconds = 7 * 24 * 3600;

    /// <summary>
    /// The command line a resumed run goes on with: the one stored in the checkpoint, with what <paramref name="settable"/>
    /// names and <paramref name="epochs"/> taken from this command line. Any other option given now must repeat the
    /// stored one exactly; else a one-line refusal (exit 2).
    /// </summary>
    private static (ParseResult, LoadedCheckpoint) ResumeParse(Command command, ParseResult parse, string path, Option[] settable, Option<int?> epochs, Option[] excluded)
    {
        var loaded = CheckpointFile.Load(path);
        string[] stored;
        try { stored = JsonSerializer.Deserialize<string[]>(loaded.Run.GetValueOrDefault("args") ?? "null") ?? throw new JsonException("no args"); }
        catch (JsonException) { throw DataFormatException.For(path, "holds no command line of zerodl train (run.args), so it cannot be resumed from the command line"); }
        var before = command.Parse(stored);
        if (before.Errors.Count > 0) throw DataFormatException.For(path, $"its stored options do not parse: {before.Errors[0].Message}");
        foreach (var option in command.Options)
        {
            if (excluded.Contains(option) || settable.Contains(option) || option == epochs || parse.GetResult(option) is not { Implicit: false } now) continue;
            if (before.GetResult(option) is { Implicit: false } then && then.Tokens.Select(t => t.Value).SequenceEqual(now.Tokens.Select(t => t.Value))) continue;
            throw new UsageException($"{option.Name} would change the run {path} holds; --resume goes on with the options it was started with " +
                                     "(--epochs may be raised; --out, --checkpoint, --checkpoint-every, --threads and --collective-timeout may be set)");
        }
        // Checked here, before the data is read, as the one option that may change: raised, only where that is the same run made longer.
        if (parse.GetResult(epochs) is { Implicit: false } && parse.GetValue(epochs) is int raised)
        {
            var was = loaded.Checkpoint.Options;
            if (was.Iterations is int bound) throw new UsageException($"--epochs cannot extend {path}: its run is bounded by --iterations ({bound})");
            if (raised < was.Epochs) throw new UsageException($"--epochs may be raised, not lowered: {path} runs {was.Epochs} epochs");
            if (raised != was.Epochs && was.Schedule.SpansRun) throw new UsageException($"--epochs cannot change: the {was.Schedule} schedule of {path} spans its {was.Epochs} epochs");
        }
        var mine = settable.Append(epochs).Where(o => parse.GetResult(o) is { Implicit: false }).ToList();
        var args = GivenArgs(command, before, [.. excluded, .. mine]);
        args.AddRange(GivenArgs(command, parse, [.. command.Options.Except(mine)]));
        var effective = command.Parse(args);
        if (effective.Errors.Count > 0) throw new UsageException(effective.Errors[0].Message);
        return (effective, loaded);
    }

    private static double DefaultRate(string optimizer) => optimizer.Trim().ToLowerInvariant() == "adam" ? 0.001 : 0.01;

    private static string EpochLine(EpochResult e) =>
        string.Create(CultureInfo.InvariantCulture, $"epoch {e.Epoch,3}  iter {e.Iteration,6}  loss {e.MeanLoss:F4}  train {Cli.Percent(e.TrainAccuracy)}") +
        (double.IsNaN(e.ValidationLoss) ? "" : string.Create(CultureInfo.InvariantCulture, $"  val loss {e.ValidationLoss:F4} acc {Cli.Percent(e.ValidationAccuracy)}")) +
        string.Create(CultureInfo.InvariantCulture, $"  test {Cli.Percent(e.TestAccuracy)}  {e.Elapsed.TotalSeconds:F1} s");
}
