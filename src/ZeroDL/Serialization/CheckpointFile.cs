using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Serialization;

/// <summary>A checkpoint read from a file, with the free-form run description its writer stored beside it (the CLI's options).</summary>
public sealed record LoadedCheckpoint(TrainingCheckpoint Checkpoint, IReadOnlyDictionary<string, string> Run);

/// <summary>
/// Training checkpoint files (<c>.ckpt</c>, format_version 2): safetensors, read by the same reader as model files
/// (<see cref="SafeTensors"/>, with all its checks on lengths, offsets and overlaps), holding
/// <list type="bullet">
/// <item>tensors <c>model/NAME</c>: the network's tensors as a model file names them (affine1.W, batchnorm1.running_mean, …), F32;</item>
/// <item>tensors <c>optimizer/NAME/SLOT</c>: the optimizer's arrays per parameter (Adam's m and v, …), F32;</item>
/// <item>tensors <c>best/NAME</c>: the best epoch's network (<see cref="TrainingCheckpoint.BestModel"/>), when the run keeps it, F32;</item>
/// <item>metadata <c>format</c> = <c>zerodl-checkpoint</c>, <c>format_version</c> = 2, <c>architecture</c> (the
/// <see cref="Architecture"/> JSON), <c>state</c> (JSON: iteration, epoch, the trainer's options, learning rate, the
/// schedule's span and plateau state, the monitor state, the optimizer's name, step count and state names, the data order
/// and every generator's state, the history) and <c>run</c> (a JSON object of strings the writer adds, e.g. the command line's options).</item>
/// </list>
/// Floating-point values in the JSON are written in their shortest round-trip form, so every double comes back
/// bit for bit. The reader checks every field and refuses another format version; errors are
/// <see cref="DataFormatException"/> naming the file. Files are written atomically (<see cref="AtomicFile"/>).
/// </summary>
public static class CheckpointFile
{
    public const string FormatName = "zerodl-checkpoint";
    /// <summary>
    /// 2 since the history records each epoch's learning rate and the run's schedule is a typed record with state
    /// (issue 19 §2). Version 1 files are refused with a message that says so: their runs cannot be continued exactly.
    /// </summary>
    public const int FormatVersion = 2;
    /// <summary>The extension of checkpoint files.</summary>
    public const string Extension = ".ckpt";
    private const string ModelPrefix = "model/", OptimizerPrefix = "optimizer/", BestPrefix = "best/";

    /// <summary>The default checkpoint beside a model file: <c>m.safetensors</c> → <c>m.ckpt</c>.</summary>
    public static string BesideModel(string modelPath) => Path.ChangeExtension(modelPath, Extension);

    /// <summary>Writes <paramref name="checkpoint"/> to <paramref name="path"/> atomically: a reader sees the old file or the new one, never a part.</summary>
    public static void Save(TrainingCheckpoint checkpoint, string path, IReadOnlyDictionary<string, string>? run = null) =>
        AtomicFile.Write(path, s => Write(s, checkpoint, run));

    /// <summary>Writes the checkpoint's bytes to <paramref name="output"/> (<see cref="Save"/> writes them through a temporary file).</summary>
    public static void Write(Stream output, TrainingCheckpoint checkpoint, IReadOnlyDictionary<string, string>? run = null)
    {
        var tensors = new List<(string, NDArray<float>)>();
        foreach (var (name, value) in checkpoint.Model.NamedTensors()) tensors.Add((ModelPrefix + name, value));
        if (checkpoint.BestModel is { } best)
        {
            if (!best.Architecture.Equals(checkpoint.Model.Architecture)) throw new ArgumentException("the checkpoint's best model is not of its model's architecture");
            foreach (var (name, value) in best.NamedTensors()) tensors.Add((BestPrefix + name, value));
        }
        var optimizer = checkpoint.Optimizer;
        var shapes = checkpoint.Model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Value.Shape.ToArray(), StringComparer.Ordinal);
        foreach (string name in optimizer.ParameterNames)
            for (int slot = 0; slot < optimizer.StateNames.Count; slot++)
                tensors.Add(($"{OptimizerPrefix}{name}/{optimizer.StateNames[slot]}", new NDArray<float>(optimizer.Slot(name, slot).ToArray(), shapes[name])));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["architecture"] = checkpoint.Model.Architecture.ToJson(),
            ["state"] = StateJson(checkpoint),
            ["run"] = JsonText.Write(w => JsonText.WriteStrings(w, run ?? new Dictionary<string, string>())),
        };
        SafeTensors.Write(output, tensors, metadata);
    }

    /// <summary>
    /// The metadata's <c>state</c>: the checkpoint's <see cref="StateDocument"/> in the JSON that <see cref="Json"/>'s
    /// reflection-based serializer writes (<see cref="ReferenceStateJson"/>), written field by field with a
    /// <see cref="Utf8JsonWriter"/>. A run's first checkpoint is written while its training goes on, and the serializer
    /// builds its converters on first use, compiling a few hundred methods and emitted accessors on a core the training
    /// uses; this writer compiles a handful. Tests hold the two texts equal, byte for byte.
    /// </summary>
    internal static string StateJson(TrainingCheckpoint checkpoint) => JsonText.Write(StateDocument.From(checkpoint).Write);

    /// <summary><see cref="StateJson"/>'s reference: the same document through the reflection-based serializer, as written before.</summary>
    internal static string ReferenceStateJson(TrainingCheckpoint checkpoint) => JsonSerializer.Serialize(StateDocument.From(checkpoint), Json);

    /// <summary>Reads a checkpoint. Throws <see cref="DataFormatException"/> naming the file and the first problem found.</summary>
    public static LoadedCheckpoint Load(string path) => Read(Container(() => SafeTensors.Read(path), path), path);

    /// <summary>Reads a checkpoint from its bytes; <paramref name="source"/> names them in errors.</summary>
    public static LoadedCheckpoint Parse(byte[] bytes, string source) => Read(Container(() => SafeTensors.Parse(bytes, source), source), source);

    /// <summary>
    /// The safetensors container, with what its reader may still let through on hostile headers (invalid UTF-8 in a
    /// string, a repeated key: issue 18) turned into the <see cref="DataFormatException"/> every bad checkpoint gets.
    /// </summary>
    private static (Dictionary<string, StoredTensor>, Dictionary<string, string>) Container(Func<(Dictionary<string, StoredTensor>, Dictionary<string, string>)> read, string source)
    {
        try { return read(); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException) { throw DataFormatException.For(source, $"malformed header: {e.Message}", e); }
    }

    private static LoadedCheckpoint Read((Dictionary<string, StoredTensor> Tensors, Dictionary<string, string> Metadata) file, string source)
    {
        var (tensors, metadata) = file;
        if (metadata.GetValueOrDefault("format") != FormatName)
            throw DataFormatException.For(source, metadata.GetValueOrDefault("format") == ModelFile.FormatName
                ? "this is a model file, not a training checkpoint (.ckpt)" : $"not a ZeroDL training checkpoint: the safetensors metadata has no format={FormatName}");
        string version = metadata.GetValueOrDefault("format_version") ?? "(none)";
        if (version == "1")
            throw DataFormatException.For(source, $"checkpoint format_version 1 was written by an older ZeroDL (before typed learning-rate schedules); this one reads {FormatVersion}: start the run again");
        if (version != FormatVersion.ToString(CultureInfo.InvariantCulture))
            throw DataFormatException.For(source, $"checkpoint format_version '{version}' is not one this ZeroDL reads ({FormatVersion}); a newer ZeroDL wrote it?");
        try { return ReadChecked(tensors, metadata, source); }
        catch (FormatException e) { throw DataFormatException.For(source, e.Message, e); }
        catch (ArgumentException e) { throw DataFormatException.For(source, e.Message.Split(" (Parameter")[0], e); }
    }

    private static LoadedCheckpoint ReadChecked(Dictionary<string, StoredTensor> tensors, Dictionary<string, string> metadata, string source)
    {
        var architecture = Architecture.FromJson(metadata.GetValueOrDefault("architecture") ?? throw new FormatException("no architecture in the metadata"));
        var state = Deserialize<StateDocument>(metadata.GetValueOrDefault("state") ?? throw new FormatException("no state in the metadata"), "state");
        var run = Deserialize<Dictionary<string, string>>(metadata.GetValueOrDefault("run") ?? "{}", "run");

        // The model (and the best model, when kept): every tensor the architecture needs, of its shape, finite; checked
        // before the network is built.
        var plans = architecture.Plan();
        var expected = new List<string>();
        var options = state.Options.ToOptions();
        bool bestKept = options.Keep == KeptWeights.Best && state.Monitored is { BestEpoch: > 0 };
        foreach (string prefix in bestKept ? new[] { ModelPrefix, BestPrefix } : [ModelPrefix])
            foreach (var plan in plans)
                foreach (var t in plan.Tensors)
                {
                    string name = $"{plan.Name}.{t.Name}";
                    expected.Add(prefix + name);
                    var stored = tensors.GetValueOrDefault(prefix + name) ?? throw new FormatException($"tensor '{prefix}{name}' required by the architecture is missing");
                    CheckTensor(stored, [.. t.Shape]);
                }

        // The optimizer: its name, step count, state names, and per named parameter one tensor per state name.
        var o = state.Optimizer;
        Optimizer<float> kind;
        try { kind = Optimizer<float>.Create(o.Name); }
        catch (ArgumentException) { throw new FormatException($"unknown optimizer '{o.Name}'"); }
        if (!o.StateNames.SequenceEqual(kind.StateNames)) throw new FormatException($"optimizer {o.Name} keeps [{string.Join(", ", kind.StateNames)}], the state names [{string.Join(", ", o.StateNames)}]");
        if (o.Steps < 0) throw new FormatException($"optimizer step count {o.Steps} is negative");
        var parameterShapes = plans.SelectMany(p => p.Tensors.Where(t => t.IsParameter).Select(t => (Name: $"{p.Name}.{t.Name}", t.Shape)))
            .ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        var slots = new Dictionary<string, IReadOnlyList<float[]>>(StringComparer.Ordinal);
        foreach (string name in o.Parameters)
        {
            if (!parameterShapes.TryGetValue(name, out var shape)) throw new FormatException($"optimizer state for '{name}', which is not a parameter of the architecture");
            if (slots.ContainsKey(name)) throw new FormatException($"optimizer state for '{name}' given twice");
            var arrays = new List<float[]>();
            foreach (string slot in o.StateNames)
            {
                string key = $"{OptimizerPrefix}{name}/{slot}";
                var stored = tensors.GetValueOrDefault(key) ?? throw new FormatException($"tensor '{key}' is missing");
                CheckTensor(stored, [.. shape]);
                if (kind.NonNegativeStateNames.Contains(slot) && Array.FindIndex(stored.Values, v => v < 0) is int at and >= 0)
                    throw new FormatException($"tensor '{key}' holds {stored.Values[at].ToString(CultureInfo.InvariantCulture)} at index {at}; {o.Name}'s {slot} accumulates squared gradients and cannot be negative");
                expected.Add(key);
                arrays.Add(stored.Values);
            }
            slots.Add(name, arrays);
        }
        var extra = tensors.Keys.Except(expected, StringComparer.Ordinal).ToList();
        if (extra.Count > 0) throw new FormatException($"tensors that are neither the model's nor the optimizer's: {string.Join(", ", extra.Take(5))}");
        if (!(state.LearningRate > 0) || !double.IsFinite(state.LearningRate)) throw new FormatException($"learning rate {state.LearningRate} is not a positive number");
        if (state.Iteration < 0 || state.Epoch < 0) throw new FormatException($"iteration {state.Iteration} and epoch {state.Epoch} must not be negative");
        if (state.ScheduleIterations < 1 || state.Iteration > state.ScheduleIterations) throw new FormatException($"iteration {state.Iteration} outside the run's {state.ScheduleIterations}");
        if (state.Loss.Length != state.Iteration) throw new FormatException($"{state.Loss.Length} losses for {state.Iteration} iterations");
        if (state.Epochs.Length != state.Epoch) throw new FormatException($"{state.Epochs.Length} epoch results for {state.Epoch} epochs");
        for (int e = 0; e < state.Epochs.Length; e++)
            if (state.Epochs[e].Epoch != e + 1 || state.Epochs[e].Iteration < 1 || state.Epochs[e].Iteration > state.Iteration || state.Epochs[e].Seconds is < 0 or double.NaN)
                throw new FormatException($"epoch result {e + 1} is inconsistent (epoch {state.Epochs[e].Epoch}, iteration {state.Epochs[e].Iteration})");
        if (state.ElapsedTicks < 0) throw new FormatException("negative elapsed time");
        var data = new LoaderPosition(state.Iteration, [.. state.Order], state.Random.ToState());
        data.Validate(state.Order.Length, state.ScheduleIterations);
        var dropoutNames = plans.Where(p => p.Config is Layers.DropoutConfig).Select(p => p.Name).Order(StringComparer.Ordinal);
        if (!dropoutNames.SequenceEqual(state.Dropout.Keys.Order(StringComparer.Ordinal)))
            throw new FormatException($"generator states for dropout layers [{string.Join(", ", state.Dropout.Keys)}], the architecture has [{string.Join(", ", dropoutNames)}]");

        if ((state.Monitored is null) != (options.ValidationSplit is null))
            throw new FormatException(state.Monitored is null ? "no monitor state for the run's validation split" : "monitor state for a run without a validation split");
        var monitored = state.Monitored is { } md ? new MonitorState(md.Best, md.BestEpoch, md.EpochsSinceBest) : null;
        monitored?.Validate(state.Epoch);
        if ((state.Plateau is null) != (options.Schedule.Plateau is null))
            throw new FormatException(state.Plateau is null ? "no state for the plateau schedule" : "plateau state for a schedule without a plateau");
        var plateau = state.Plateau is { } pd ? new PlateauState(pd.Best, pd.BadEpochs, pd.Factor) : null;
        if (options.Schedule.Plateau is { } schedule) plateau!.Validate(schedule);

        var net = Built(ModelPrefix);
        var best = bestKept ? Built(BestPrefix) : null;
        var checkpoint = new TrainingCheckpoint
        {
            Iteration = state.Iteration, Epoch = state.Epoch, Options = options, Model = net,
            Optimizer = new OptimizerState<float>(o.Name, o.Steps, o.StateNames, slots),
            LearningRate = state.LearningRate, ScheduleIterations = state.ScheduleIterations, Data = data,
            Dropout = state.Dropout.ToImmutableDictionary(d => d.Key, d => d.Value.ToState(), StringComparer.Ordinal),
            Loss = [.. state.Loss], Epochs = [.. state.Epochs.Select(e => e.ToResult())], Elapsed = TimeSpan.FromTicks(state.ElapsedTicks),
            Monitored = monitored, Plateau = plateau, BestModel = best,
        };
        return new LoadedCheckpoint(checkpoint, run);

        Sequential<float> Built(string prefix)
        {
            var built = architecture.Build<float>(seed: 0);
            foreach (var (name, value) in built.NamedTensors()) tensors[prefix + name].Values.CopyTo(value.Span);
            return built;
        }
    }

    private static void CheckTensor(StoredTensor stored, int[] shape)
    {
        if (stored.Type != StoredType.F32) throw new FormatException($"tensor '{stored.Name}' is {stored.Type}; a checkpoint holds F32 (exact) values");
        if (!stored.Shape.AsSpan().SequenceEqual(shape)) throw new FormatException($"tensor '{stored.Name}' has shape {NDArray<float>.ShapeString(stored.Shape)}, {NDArray<float>.ShapeString(shape)} expected");
        foreach (float v in stored.Values)
            if (!float.IsFinite(v)) throw new FormatException($"tensor '{stored.Name}' contains NaN or infinity");
    }

    private static T Deserialize<T>(string json, string what)
    {
        try { return JsonSerializer.Deserialize<T>(json, Json) ?? throw new FormatException($"{what} is null"); }
        catch (JsonException e) { throw new FormatException($"{what}: {e.Message}", e); }
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        // A diverging run's loss is NaN or infinite, and an empty test split's accuracy NaN.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    // Each document below is read by the serializer (Json's options: snake_case names, in declaration order) and written
    // by its Write, which must give the serializer's text: the same names in the same order, null for a missing object,
    // and non-finite doubles as the strings AllowNamedFloatingPointLiterals writes (JsonText.Number).

    private sealed record StateDocument(int Iteration, int Epoch, OptionsDocument Options, double LearningRate, int ScheduleIterations,
        OptimizerDocument Optimizer, int[] Order, RandomDocument Random, Dictionary<string, RandomDocument> Dropout,
        double[] Loss, EpochDocument[] Epochs, long ElapsedTicks, MonitorDocument? Monitored, PlateauDocument? Plateau)
    {
        public static StateDocument From(TrainingCheckpoint checkpoint)
        {
            var optimizer = checkpoint.Optimizer;
            return new(checkpoint.Iteration, checkpoint.Epoch, OptionsDocument.From(checkpoint.Options), checkpoint.LearningRate, checkpoint.ScheduleIterations,
                new OptimizerDocument(optimizer.Optimizer, optimizer.Steps, [.. optimizer.StateNames], [.. optimizer.ParameterNames]),
                [.. checkpoint.Data.Order], RandomDocument.From(checkpoint.Data.Random),
                checkpoint.Dropout.OrderBy(d => d.Key, StringComparer.Ordinal).ToDictionary(d => d.Key, d => RandomDocument.From(d.Value), StringComparer.Ordinal),
                [.. checkpoint.Loss], [.. checkpoint.Epochs.Select(EpochDocument.From)], checkpoint.Elapsed.Ticks,
                checkpoint.Monitored is { } m ? new MonitorDocument(m.Best, m.BestEpoch, m.EpochsSinceBest) : null,
                checkpoint.Plateau is { } p ? new PlateauDocument(p.Best, p.BadEpochs, p.Factor) : null);
        }

        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteNumber("iteration", Iteration);
            w.WriteNumber("epoch", Epoch);
            w.WritePropertyName("options");
            Options.Write(w);
            JsonText.Number(w, "learning_rate", LearningRate);
            w.WriteNumber("schedule_iterations", ScheduleIterations);
            w.WritePropertyName("optimizer");
            Optimizer.Write(w);
            w.WriteStartArray("order");
            foreach (int i in Order) w.WriteNumberValue(i);
            w.WriteEndArray();
            w.WritePropertyName("random");
            Random.Write(w);
            w.WriteStartObject("dropout");
            foreach (var (name, random) in Dropout)
            {
                w.WritePropertyName(name);
                random.Write(w);
            }
            w.WriteEndObject();
            w.WriteStartArray("loss");
            foreach (double loss in Loss) JsonText.Number(w, loss);
            w.WriteEndArray();
            w.WriteStartArray("epochs");
            foreach (var epoch in Epochs) epoch.Write(w);
            w.WriteEndArray();
            w.WriteNumber("elapsed_ticks", ElapsedTicks);
            w.WritePropertyName("monitored");
            if (Monitored is null) w.WriteNullValue(); else Monitored.Write(w);
            w.WritePropertyName("plateau");
            if (Plateau is null) w.WriteNullValue(); else Plateau.Write(w);
            w.WriteEndObject();
        }
    }

    private sealed record MonitorDocument(double Best, int BestEpoch, int EpochsSinceBest)
    {
        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            JsonText.Number(w, "best", Best);
            w.WriteNumber("best_epoch", BestEpoch);
            w.WriteNumber("epochs_since_best", EpochsSinceBest);
            w.WriteEndObject();
        }
    }

    private sealed record PlateauDocument(double Best, int BadEpochs, double Factor)
    {
        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            JsonText.Number(w, "best", Best);
            w.WriteNumber("bad_epochs", BadEpochs);
            JsonText.Number(w, "factor", Factor);
            w.WriteEndObject();
        }
    }

    private sealed record OptimizerDocument(string Name, int Steps, string[] StateNames, string[] Parameters)
    {
        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteString("name", Name);
            w.WriteNumber("steps", Steps);
            w.WritePropertyName("state_names");
            JsonText.WriteStrings(w, StateNames);
            w.WritePropertyName("parameters");
            JsonText.WriteStrings(w, Parameters);
            w.WriteEndObject();
        }
    }

    private sealed record RandomDocument(ulong[] Words, double? SpareNormal)
    {
        public static RandomDocument From(RngState s) => new([s.S0, s.S1, s.S2, s.S3], s.SpareNormal);

        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteStartArray("words");
            foreach (ulong word in Words) w.WriteNumberValue(word);
            w.WriteEndArray();
            JsonText.Number(w, "spare_normal", SpareNormal);
            w.WriteEndObject();
        }

        public RngState ToState()
        {
            if (Words.Length != 4) throw new FormatException($"a generator state has 4 words, not {Words.Length}");
            var state = new RngState(Words[0], Words[1], Words[2], Words[3], SpareNormal);
            state.Validate();
            return state;
        }
    }

    private sealed record EpochDocument(int Epoch, int Iteration, double TrainAccuracy, double TestAccuracy, double MeanLoss, double Seconds, double LearningRate,
        double ValidationLoss, double ValidationAccuracy)
    {
        public static EpochDocument From(EpochResult r) => new(r.Epoch, r.Iteration, r.TrainAccuracy, r.TestAccuracy, r.MeanLoss, r.Elapsed.TotalSeconds, r.LearningRate,
            r.ValidationLoss, r.ValidationAccuracy);
        public EpochResult ToResult() => new(Epoch, Iteration, TrainAccuracy, TestAccuracy, MeanLoss, TimeSpan.FromSeconds(Seconds))
            { LearningRate = LearningRate, ValidationLoss = ValidationLoss, ValidationAccuracy = ValidationAccuracy };

        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteNumber("epoch", Epoch);
            w.WriteNumber("iteration", Iteration);
            JsonText.Number(w, "train_accuracy", TrainAccuracy);
            JsonText.Number(w, "test_accuracy", TestAccuracy);
            JsonText.Number(w, "mean_loss", MeanLoss);
            JsonText.Number(w, "seconds", Seconds);
            JsonText.Number(w, "learning_rate", LearningRate);
            JsonText.Number(w, "validation_loss", ValidationLoss);
            JsonText.Number(w, "validation_accuracy", ValidationAccuracy);
            w.WriteEndObject();
        }
    }

    private sealed record AugmentationDocument(double Shift, double Rotation, double Scale, double ElasticAlpha, double ElasticSigma)
    {
        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            JsonText.Number(w, "shift", Shift);
            JsonText.Number(w, "rotation", Rotation);
            JsonText.Number(w, "scale", Scale);
            JsonText.Number(w, "elastic_alpha", ElasticAlpha);
            JsonText.Number(w, "elastic_sigma", ElasticSigma);
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// Every field of <see cref="TrainerOptions"/>, all required (a file that lacks one is refused, not defaulted); the
    /// schedule in its text form (<see cref="LearningRateSchedule.Parse"/>), the monitor and kept weights by name.
    /// </summary>
    private sealed record OptionsDocument(int Epochs, int? Iterations, int BatchSize, bool SampleWithReplacement, int EvaluationSamples, int Seed,
        int? Threads, bool BackgroundLoading, bool BackgroundEvaluation, string Schedule, AugmentationDocument? Augmentation, bool CompressedInput, int? CheckpointEvery, bool StopOnDivergence,
        double? ValidationSplit, int? EarlyStopPatience, string Monitor, string Keep)
    {
        public static OptionsDocument From(TrainerOptions o) => new(o.Epochs, o.Iterations, o.BatchSize, o.SampleWithReplacement, o.EvaluationSamples, o.Seed,
            o.Threads, o.BackgroundLoading, o.BackgroundEvaluation, o.Schedule.ToString(),
            o.Augmentation is { } a ? new AugmentationDocument(a.Shift, a.Rotation, a.Scale, a.ElasticAlpha, a.ElasticSigma) : null, o.CompressedInput, o.CheckpointEvery, o.StopOnDivergence,
            o.ValidationSplit, o.EarlyStopPatience, o.Monitor.Name(), o.Keep == KeptWeights.Best ? "best" : "last");

        public TrainerOptions ToOptions()
        {
            if (!MonitoredQuantities.TryParse(Monitor, out var monitor)) throw new FormatException($"unknown monitored quantity '{Monitor}'");
            var options = new TrainerOptions
            {
                Epochs = Epochs, Iterations = Iterations, BatchSize = BatchSize, SampleWithReplacement = SampleWithReplacement, EvaluationSamples = EvaluationSamples,
                Seed = Seed, Threads = Threads, BackgroundLoading = BackgroundLoading, BackgroundEvaluation = BackgroundEvaluation,
                // A plateau's text names its monitor: the default argument is never used for a file's schedule.
                Schedule = LearningRateSchedule.Parse(Schedule),
                Augmentation = Augmentation is { } a ? new AugmentationOptions { Shift = a.Shift, Rotation = a.Rotation, Scale = a.Scale, ElasticAlpha = a.ElasticAlpha, ElasticSigma = a.ElasticSigma } : null,
                CompressedInput = CompressedInput, CheckpointEvery = CheckpointEvery, StopOnDivergence = StopOnDivergence,
                ValidationSplit = ValidationSplit, EarlyStopPatience = EarlyStopPatience, Monitor = monitor,
                Keep = Keep switch { "best" => KeptWeights.Best, "last" => KeptWeights.Last, _ => throw new FormatException($"kept weights '{Keep}' are neither best nor last") },
            };
            options.Validate();
            return options;
        }

        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteNumber("epochs", Epochs);
            JsonText.Number(w, "iterations", Iterations);
            w.WriteNumber("batch_size", BatchSize);
            w.WriteBoolean("sample_with_replacement", SampleWithReplacement);
            w.WriteNumber("evaluation_samples", EvaluationSamples);
            w.WriteNumber("seed", Seed);
            JsonText.Number(w, "threads", Threads);
            w.WriteBoolean("background_loading", BackgroundLoading);
            w.WriteBoolean("background_evaluation", BackgroundEvaluation);
            w.WriteString("schedule", Schedule);
            w.WritePropertyName("augmentation");
            if (Augmentation is null) w.WriteNullValue(); else Augmentation.Write(w);
            w.WriteBoolean("compressed_input", CompressedInput);
            JsonText.Number(w, "checkpoint_every", CheckpointEvery);
            w.WriteBoolean("stop_on_divergence", StopOnDivergence);
            JsonText.Number(w, "validation_split", ValidationSplit);
            JsonText.Number(w, "early_stop_patience", EarlyStopPatience);
            w.WriteString("monitor", Monitor);
            w.WriteString("keep", Keep);
            w.WriteEndObject();
        }
    }
}
