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
        var model = new Option<string>("--model") { Description = "Model to train: " + string.Join("; ", ModelPresets.All.Select(p => $"{p.Name} = {p.Summary}")), DefaultValueFactory = _ => ModelPresets.Default };
        var arch = new Option<string?>("--arch") { Description = "Train the network a JSON file describes (input_shape, layers, weight_decay: the schema of docs/architecture.md) instead of --model's; the training settings still come from --model" };
        var hidden = new Option<string?>("--hidden") { Description = "Hidden layer sizes, e.g. 512,512 (overrides the model's)" };
        var activation = new Option<string?>("--activation") { Description = "relu, sigmoid or tanh (overrides the model's)" };
        var init = new Option<string?>("--init") { Description = "Weight init: he, xavier or a standard deviation such as 0.01" };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the training data" };
        var iterations = new Option<int?>("--iterations") { Description = "Stop after this many mini-batches instead (the book's iters_num)" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Mini-batch size" };
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd, momentum, nesterov, adagrad, rmsprop or adam" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate" };
        var weightDecay = new Option<double?>("--weight-decay") { Description = "L2 weight decay λ (loss + 0.5·λ·ΣW²)" };
        var dropout = new Option<double?>("--dropout") { Description = "Dropout ratio after each hidden layer (a dense model becomes mlp-bn; deepconv keeps its layers)" };
        var dropoutMode = new Option<string?>("--dropout-mode") { Description = "classic (the book's) or inverted" };
        var batchnorm = new Option<bool?>("--batchnorm") { Description = "Add BatchNorm after each hidden Affine, or for deepconv a per-channel BatchNorm after each convolution (true/false)" };
        var batchnormMode = new Option<string?>("--batchnorm-mode") { Description = "For deepconv with --batchnorm: per-channel (PyTorch's BatchNorm2d, the default) or per-activation (the book's rule)" };
        batchnormMode.AcceptOnlyFromAmong("per-channel", "per-activation");
        var outputDropout = new Option<bool?>("--output-dropout") { Description = "For deepconv: keep the book's Dropout after the output layer (true) or drop it, leaving only the hidden layer's (false)" };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice (weights, shuffling, dropout)", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Model file to write (safetensors); a .history.csv is written beside it. Default models/<model>.safetensors" };
        var evalSamples = new Option<int>("--eval-samples") { Description = "Samples of each split evaluated per epoch (0 = all)", DefaultValueFactory = _ => 0 };
        var trainSamples = new Option<int>("--train-samples") { Description = "Train on the first N training images only (0 = all 60,000)", DefaultValueFactory = _ => 0 };
        var replacement = new Option<bool>("--with-replacement") { Description = "Sample mini-batches with replacement, as the book's code does" };
        var threads = new Option<int>("--threads") { Description = "Threads for matrix products", DefaultValueFactory = _ => Environment.ProcessorCount };
        var data = new DataOptions();
        var schedule = new Option<string?>("--schedule") { Description = "Learning rate over the run: constant (the book's; the default except where the model names cosine) or cosine (decays to 0 by the last batch)" };
        schedule.AcceptOnlyFromAmong("constant", "cosine");
        var dtype = new Option<string>("--dtype") { Description = "How the model file stores weights: f32, or f16 for half the size (training itself is float32)", DefaultValueFactory = _ => "f32" };
        dtype.AcceptOnlyFromAmong("f32", "f16");
        var defaults = new AugmentationOptions();
        var augment = new Option<bool>("--augment") { Description = $"Distort every training batch at random (book ch. 8.2.3): {defaults.Describe()} unless set below" };
        var shift = new Option<double?>("--shift") { Description = "Augmentation: largest shift in pixels (implies --augment; 0 = none)" };
        var rotate = new Option<double?>("--rotate") { Description = "Augmentation: largest rotation in degrees (implies --augment; 0 = none)" };
        var scale = new Option<double?>("--scale") { Description = "Augmentation: largest relative scaling, e.g. 0.1 for ±10 % (implies --augment; 0 = none)" };
        var elastic = new Option<double?>("--elastic") { Description = "Augmentation: elastic distortion strength α (implies --augment; 0 = none)" };
        var elasticSigma = new Option<double?>("--elastic-sigma") { Description = "Augmentation: smoothness σ of the elastic field in pixels (implies --augment)" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file, written atomically at every epoch's end (and with --checkpoint-every): everything to resume the run exactly. Default: beside --out as NAME.ckpt; with --resume, the file resumed" };
        var checkpointEvery = new Option<int?>("--checkpoint-every") { Description = "Also write the checkpoint every N mini-batches" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run a checkpoint holds, with the options it was started with, to the same weights bit for bit as if never stopped. --epochs may be raised; --out, --checkpoint, --checkpoint-every and --threads may be set" };
        var distributed = new Option<bool>("--distributed") { Description = "Run as one rank of an Open MPI job: mpirun -np N zerodl train --distributed … Each rank trains on its share of every global mini-batch of N × --batch-size images, gradients are averaged by allreduce, rank 0 prints and saves (docs/scale-out.md)" };
        var holdAt = new Option<string?>("--hold-at") { Hidden = true, Description = "Tests: stop and wait at a point (iteration:N, checkpoint-writing:N, checkpoint-written:N), announced on stdout" };

        var command = new Command("train", "Train a model (on MNIST unless --data names other images), print per-epoch accuracy and the final test accuracy, and save it.")
        {
            model, arch, hidden, activation, init, epochs, iterations, batchSize, optimizer, lr, weightDecay, dropout, dropoutMode,
            batchnorm, batchnormMode, outputDropout, seed, output, evalSamples, trainSamples, replacement, threads,
            augment, shift, rotate, scale, elastic, elasticSigma, dtype, schedule, checkpoint, checkpointEvery, resume, distributed, holdAt,
        };
        foreach (var option in data.All) command.Add(option);
        // What --resume lets the command line set: where files go and how fast, never what is computed.
        Option[] settable = [output, checkpoint, checkpointEvery, threads];
        command.SetAction(async (parse, cancel) =>
        {
            // System.CommandLine installs its Ctrl+C handler once this action first yields; until then Ctrl+C kills
            // the process outright. Yielding at once makes Ctrl+C during data loading a clean stop like any other.
            await Task.Yield();
            using var ranks = DistributedRun.Start(parse.GetValue(distributed));
            var hold = TrainingHold.Parse(parse.GetValue(holdAt));
            string? resumePath = parse.GetValue(resume);
            LoadedCheckpoint? resumed = null;
            if (resumePath is not null) (parse, resumed) = ResumeParse(command, parse, resumePath, settable, epochs, [resume, holdAt]);
            ModelPreset preset;
            try { preset = ModelPresets.Find(parse.GetValue(model)!); }
            catch (ArgumentException e) { throw new UsageException(e.Message.Replace("unknown model", "unknown --model")); }
            string? archPath = parse.GetValue(arch);
            if (archPath is not null)
            {
                var recipeOptions = new (Option Option, bool Given)[]
                {
                    (hidden, parse.GetValue(hidden) is not null), (activation, parse.GetValue(activation) is not null), (init, parse.GetValue(init) is not null),
                    (dropout, parse.GetValue(dropout) is not null), (dropoutMode, parse.GetValue(dropoutMode) is not null), (batchnorm, parse.GetValue(batchnorm) is not null),
                    (batchnormMode, parse.GetValue(batchnormMode) is not null), (outputDropout, parse.GetValue(outputDropout) is not null),
                    (weightDecay, parse.GetValue(weightDecay) is not null),
                };
                if (recipeOptions.FirstOrDefault(o => o.Given).Option is { } clash)
                    throw new UsageException($"{clash.Name} changes a preset's layers; with --arch the file gives them");
            }
            var spec = preset.Spec;
            try
            {
                if (parse.GetValue(hidden) is string h) spec = spec with { HiddenSizes = [.. Cli.ParseSizes(h, "--hidden")] };
                if (parse.GetValue(activation) is string a) spec = spec with { Activation = ZeroDL.Layers.ActivationLayers.Parse(a) };
                if (parse.GetValue(init) is string i) spec = spec with { WeightInit = WeightInit.Parse(i) };
                if (parse.GetValue(weightDecay) is double wd) spec = spec with { WeightDecay = wd };
                bool dense = spec.Kind is NetworkKind.TwoLayer or NetworkKind.Mlp or NetworkKind.MlpExtend;
                if (parse.GetValue(dropout) is double d) spec = spec with { Kind = dense ? NetworkKind.MlpExtend : spec.Kind, Dropout = d };
                if (parse.GetValue(dropoutMode) is string dm) spec = spec with { DropoutMode = ZeroDL.Layers.Dropout<float>.ParseMode(dm) };
                if (parse.GetValue(batchnorm) is bool bn)
                {
                    if (spec.Kind == NetworkKind.DeepConv) spec = spec with { BatchNorm = bn }; // BatchNorm after each convolution
                    else if (!dense) throw new UsageException($"--batchnorm applies to the dense models and deepconv, not {ModelSpec.KindName(spec.Kind)}");
                    else spec = spec with
                    {
                        Kind = bn || spec.Dropout > 0 ? NetworkKind.MlpExtend : spec.Kind == NetworkKind.MlpExtend ? NetworkKind.Mlp : spec.Kind, BatchNorm = bn,
                    };
                }
                if (parse.GetValue(batchnormMode) is string bm) spec = spec with { BatchNormMode = ZeroDL.Layers.BatchNormalization<float>.ParseMode(bm) };
                if (parse.GetValue(outputDropout) is bool od)
                {
                    if (spec.Kind != NetworkKind.DeepConv) throw new UsageException($"--output-dropout applies to deepconv, not {ModelSpec.KindName(spec.Kind)}");
                    spec = spec with { OutputDropout = od };
                }
                spec = spec.Validated();
            }
            catch (FormatException e) { throw new UsageException(e.Message); }
            catch (ArgumentException e) { throw new UsageException(e.Message.Split(" (Parameter")[0]); }
            // The data first: a preset takes its input shape and class count from it.
            var loadedData = data.Load(parse, parse.GetValue(seed));
            var (train, test) = (loadedData.Train, loadedData.Test);
            Architecture architecture;
            if (archPath is not null) architecture = Cli.LoadArchitecture(archPath);
            else
            {
                try
                {
                    architecture = spec.ToArchitecture(ModelData.InputShape(train, spec.IsConvolutional), train.Classes);
                    architecture.Plan(); // every layer must take the one before's output: too small an image fails here
                }
                catch (ArgumentException e) { throw DataFormatException.For(loadedData.Name, $"{preset.Name} does not fit {loadedData.ShapeText} images: {e.Message.Split(" (Parameter")[0]}"); }
            }

            AugmentationOptions? augmentation = null;
            if (parse.GetValue(augment) || preset.Augment || parse.GetValue(shift) is not null || parse.GetValue(rotate) is not null || parse.GetValue(scale) is not null
                || parse.GetValue(elastic) is not null || parse.GetValue(elasticSigma) is not null)
            {
                augmentation = new AugmentationOptions
                {
                    Shift = parse.GetValue(shift) ?? defaults.Shift, Rotation = parse.GetValue(rotate) ?? defaults.Rotation,
                    Scale = parse.GetValue(scale) ?? defaults.Scale, ElasticAlpha = parse.GetValue(elastic) ?? defaults.ElasticAlpha,
                    ElasticSigma = parse.GetValue(elasticSigma) ?? defaults.ElasticSigma,
                };
                try { augmentation.Validated(); }
                catch (ArgumentOutOfRangeException e) { throw new UsageException("augmentation: " + e.Message.Split(" (Parameter")[0]); }
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
                EvaluationSamples = parse.GetValue(evalSamples),
                Seed = parse.GetValue(seed),
                Augmentation = augmentation,
                Schedule = parse.GetValue(schedule) ?? preset.Schedule,
                CheckpointEvery = everyN,
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
            string modelName = archPath is not null ? Path.GetFileNameWithoutExtension(archPath) : preset.Name;
            string outPath = parse.GetValue(output) ?? Path.Combine("models", modelName + ".safetensors");
            string historyPath = Path.ChangeExtension(outPath, null) + ".history.csv";
            string checkpointPath = parse.GetValue(checkpoint) ?? resumePath ?? CheckpointFile.BesideModel(outPath);
            // A preset bounded by iterations (twolayer) runs epochs once --epochs is given: not the same run.
            if (resumed is not null && options.Iterations != resumed.Checkpoint.Options.Iterations)
                throw new UsageException($"--epochs cannot extend {resumePath}: its run is bounded by iterations ({resumed.Checkpoint.Options.Iterations})");

            if (trainCount > 0) train = train.Take(trainCount);
            int sampleLength = train.SampleLength;
            var input = architecture.InputShape;
            if (!ModelData.Fits(input, train))
                throw DataFormatException.For(archPath ?? preset.Name, $"the network takes samples of {ZeroDL.Layers.LayerConfig.ShapeText(input)}, {loadedData.Name} has {loadedData.ShapeText}");
            int classCount = architecture.OutputShape.Aggregate(1, (x, y) => x * y);
            if (classCount != train.Classes) throw DataFormatException.For(archPath ?? preset.Name, $"the network has {classCount} outputs, {loadedData.Name} has {train.Classes} classes");
            var classNames = train.ClassNames ?? ModelFile.DefaultClassNames(train.Classes);
            var normalization = train.Normalization ?? InputNormalization.Identity(ModelFile.InputChannels(input));
            var net = architecture.Build<float>(options.Seed);
            var trainer = new Trainer(net, opt, train, test, options) { Group = ranks?.Mpi ?? (Distributed.ICommunicator)new Distributed.SingleProcess() };
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
            settings["schedule"] = options.Schedule;
            Console.WriteLine($"Data: {loadedData.Describe()}");
            Console.WriteLine($"Training {modelName}: {(archPath is null && loadedData.Name == "mnist" ? spec.Describe() : architecture.Describe())}");
            if (augmentation is not null) Console.WriteLine($"  augmentation: {augmentation.Describe()}");
            Console.WriteLine($"  {opt.Name} lr {learningRate.ToString("G", CultureInfo.InvariantCulture)}{(options.Schedule == "cosine" ? " (cosine decay)" : "")}, batch {options.BatchSize}, {trainer.TotalIterations} iterations ({trainer.IterationsPerEpoch} per epoch), {train.Count} training images, seed {options.Seed}, {Math.Min(threadCount, Environment.ProcessorCount)} thread(s), GEMM {Gemm.KernelName}");
            // The options to resume with: this run's command line as the parser understood it (--resume and --hold-at aside).
            var run = new Dictionary<string, string> { ["args"] = JsonSerializer.Serialize(GivenArgs(command, parse, [resume, holdAt])) };
            ranks?.CheckSameOptions(GivenArgs(command, parse, [holdAt]));
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
            if (writes) trainer.EpochCompleted += e =>
            {
                // A checkpoint per epoch, written atomically: an interrupted run keeps its last finished epoch.
                settings["epochs_completed"] = e.Epoch.ToString(CultureInfo.InvariantCulture);
                ModelFile.Save(trainer.EvaluatedModel, outPath, settings, storedType, classNames, normalization);
            };

            TrainingHistory history;
            try
            {
                if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
                    history = await RunWithProgress(trainer, cancel);
                else
                {
                    trainer.EpochCompleted += e => Console.WriteLine(EpochLine(e));
                    history = await Task.Run(() => trainer.Train(cancel), CancellationToken.None);
                }
            }
            catch (TrainingDivergedException e)
            {
                // The trainer stopped before the bad values reached a checkpoint or a model file: what is on disk is good.
                Console.Error.WriteLine($"zerodl: {e.Message}");
                Console.Error.WriteLine(File.Exists(checkpointPath)
                    ? $"zerodl: the last good checkpoint is {checkpointPath}{(checkpointed >= 0 ? $" (iteration {checkpointed})" : "")}" + (File.Exists(outPath) ? $"; {outPath} holds a finished epoch's model" : "")
                    : "zerodl: no checkpoint was written before it");
                return Cli.Diverged;
            }
            // The trainer hands out a checkpoint of the point where Ctrl+C stopped it (when a mini-batch was done since the last).
            string resumeHint = checkpointed == history.Loss.Count && history.Cancelled
                ? $"the checkpoint {checkpointPath} holds iteration {checkpointed}: zerodl train --resume {checkpointPath} goes on from there" : "";
            if (history.Cancelled && history.Epochs.Count == 0)
            {
                // No epoch ended, so no model was written: the files at these paths (if any) are an earlier run's,
                // and an empty history must not replace that run's.
                Console.WriteLine($"Interrupted after {history.Loss.Count} iterations, before the first epoch ended: nothing was saved"
                    + (resumeHint.Length > 0 ? " but the checkpoint" : "")
                    + (File.Exists(outPath) ? $" ({outPath} is an earlier run's, left as it was)" : $" ({outPath} was not written)"));
                if (resumeHint.Length > 0) Console.WriteLine(char.ToUpperInvariant(resumeHint[0]) + resumeHint[1..]);
                return Cli.Interrupted;
            }
            if (writes) AtomicFile.WriteAllText(historyPath, history.EpochsCsv());
            if (history.Cancelled)
            {
                Console.WriteLine($"Interrupted after {history.Loss.Count} iterations; the model of epoch {history.Epochs[^1].Epoch}, the last finished, is in {outPath}");
                if (resumeHint.Length > 0) Console.WriteLine(char.ToUpperInvariant(resumeHint[0]) + resumeHint[1..]);
                return Cli.Interrupted;
            }
            // With --eval-samples the epochs were scored on the first N test images; the final figure is always the
            // whole test set (the saved model, as `zerodl evaluate` would score it).
            double accuracy = options.EvaluationSamples > 0 && options.EvaluationSamples < test.Count
                ? trainer.EvaluatedModel.Accuracy(test) : history.FinalTestAccuracy;
            Console.WriteLine($"Test accuracy: {Cli.Percent(accuracy)} ({(int)Math.Round(accuracy * test.Count)} of {test.Count} test images; {history.Elapsed.TotalSeconds:F1} s of training)");
            Console.WriteLine($"Saved {outPath} and {historyPath} (checkpoint {checkpointPath})");
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
                                     "(--epochs may be raised; --out, --checkpoint, --checkpoint-every and --threads may be set)");
        }
        // Checked here, before the data is read, as the one option that may change: raised, only where that is the same run made longer.
        if (parse.GetResult(epochs) is { Implicit: false } && parse.GetValue(epochs) is int raised)
        {
            var was = loaded.Checkpoint.Options;
            if (was.Iterations is int bound) throw new UsageException($"--epochs cannot extend {path}: its run is bounded by --iterations ({bound})");
            if (raised < was.Epochs) throw new UsageException($"--epochs may be raised, not lowered: {path} runs {was.Epochs} epochs");
            if (raised != was.Epochs && was.Schedule != "constant") throw new UsageException($"--epochs cannot change: the {was.Schedule} schedule of {path} spans its {was.Epochs} epochs");
        }
        var mine = settable.Append(epochs).Where(o => parse.GetResult(o) is { Implicit: false }).ToList();
        var args = GivenArgs(command, before, [.. excluded, .. mine]);
        args.AddRange(GivenArgs(command, parse, [.. command.Options.Except(mine)]));
        var effective = command.Parse(args);
        if (effective.Errors.Count > 0) throw new UsageException(effective.Errors[0].Message);
        return (effective, loaded);
    }

    private static double DefaultRate(string optimizer) => optimizer.Trim().ToLowerInvariant() == "adam" ? 0.001 : 0.01;

    private static string EpochLine(EpochResult e) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {e.Epoch,3}  iter {e.Iteration,6}  loss {e.MeanLoss:F4}  train {Cli.Percent(e.TrainAccuracy)}  test {Cli.Percent(e.TestAccuracy)}  {e.Elapsed.TotalSeconds:F1} s");

    private static async Task<TrainingHistory> RunWithProgress(Trainer trainer, CancellationToken cancel)
    {
        TrainingHistory? history = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("training", maxValue: trainer.TotalIterations);
                trainer.BatchCompleted += (iter, loss) =>
                {
                    task.Value = iter;
                    if (iter % 50 == 0) task.Description = string.Create(CultureInfo.InvariantCulture, $"loss {loss:F4}");
                };
                trainer.EpochCompleted += e => AnsiConsole.MarkupLine(Markup.Escape(EpochLine(e)));
                history = await Task.Run(() => trainer.Train(cancel), CancellationToken.None);
            });
        return history!;
    }
}
