using System.Collections.Immutable;
using System.Text.Json;
using ZeroDL.Data;
using ZeroDL.Layers;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>
/// The JSON a training run writes while it trains — a checkpoint's state and run objects, a model file's class names,
/// normalization and training settings — is written field by field with a <see cref="Utf8JsonWriter"/> (so that the
/// reflection-based serializer builds nothing during the run) and must be the text the serializer wrote before, byte
/// for byte: the readers, and every file already written, go by it.
/// </summary>
public class WrittenJsonTests
{
    /// <summary>A checkpoint of a small network with every optional part set or left out as <paramref name="variant"/> says.</summary>
    private static TrainingCheckpoint Checkpoint(int variant)
    {
        var rng = new Rng(4 + variant);
        var net = new Sequential<float>([4], [new Affine<float>(4, 3, 0.5, rng), new Dropout<float>(0.2, DropoutMode.Classic, rng.Fork()),
            new Affine<float>(3, 3, 0.5, rng), new Dropout<float>(0.1, DropoutMode.Inverted, rng.Fork()), new Affine<float>(3, 2, 0.5, rng)]);
        var adam = new Adam<float>();
        var x = NDArray<float>.From([1, 2, 3, 4, 4, 3, 2, 1], 2, 4);
        for (int i = 0; i < 3; i++) { net.Gradient(x, [0, 1]); adam.Step(net.Parameters); }
        var withNormal = new Rng(6);
        withNormal.NextGaussian(); // leaves a spare normal in the state
        bool full = variant % 2 == 1;
        var options = new TrainerOptions
        {
            Epochs = 2, BatchSize = 4, Seed = -17 + variant,
            // '+' and '<' are among what the serializer's default encoder escapes.
            Schedule = full ? LearningRateSchedule.Parse("warmup:2+plateau:0.5:1", MonitoredQuantity.ValidationLoss) : LearningRateSchedule.Parse("warmup:2+cosine:0.1"),
            Iterations = full ? 6 : null, Threads = full ? 3 : null, CheckpointEvery = full ? 2 : null,
            ValidationSplit = full ? 0.1 : null, EarlyStopPatience = full ? 2 : null, Keep = full ? KeptWeights.Best : KeptWeights.Last,
            Monitor = full ? MonitoredQuantity.ValidationAccuracy : MonitoredQuantity.ValidationLoss,
            Augmentation = full ? new AugmentationOptions { Shift = 2, Rotation = 12.5, Scale = 0.1, ElasticAlpha = 34, ElasticSigma = 4 } : null,
            SampleWithReplacement = full, BackgroundLoading = !full, BackgroundEvaluation = full, CompressedInput = !full, StopOnDivergence = !full,
            EvaluationSamples = full ? 1000 : 0,
        };
        return new TrainingCheckpoint
        {
            Iteration = 3, Epoch = 2, Options = options, Model = net, Optimizer = adam.SaveState(net.NamedParameters()),
            LearningRate = 0.1 + 0.2, ScheduleIterations = 6,
            Data = new LoaderPosition(3, [.. new Rng(5).Permutation(10)], full ? withNormal.State : new Rng(8).State),
            Dropout = ImmutableDictionary.CreateRange(StringComparer.Ordinal,
                [KeyValuePair.Create("dropout2", withNormal.State), KeyValuePair.Create("dropout1", new Rng(7).State)]),
            // Every kind of double the history holds: NaN and infinities (a diverged run), −0, the smallest subnormal, long fractions.
            Loss = [2.5, double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, 1e300, 1.0 / 3, 0.1 * 3],
            Epochs =
            [
                new EpochResult(1, 2, 0.5, double.NaN, 2.25, TimeSpan.FromTicks(12_345_678)) { LearningRate = 0.00075 },
                new EpochResult(2, 3, 1.0 / 7, 0.96, double.PositiveInfinity, TimeSpan.FromSeconds(3.25)) { ValidationLoss = 0.07, ValidationAccuracy = 0.98 },
            ],
            Elapsed = TimeSpan.FromTicks(98_765_432_109),
            Monitored = full ? new MonitorState(0.0123, 2, 0) : null,
            Plateau = full ? new PlateauState(double.NaN, 1, 0.5) : null,
        };
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void A_checkpoints_state_is_the_text_the_serializer_wrote(int variant)
    {
        var checkpoint = Checkpoint(variant);
        string expected = CheckpointFile.ReferenceStateJson(checkpoint);
        Assert.Equal(expected, CheckpointFile.StateJson(checkpoint));
        // What the check covers: escaped characters, the named non-finite numbers, and nulls where the variant leaves parts out.
        Assert.Contains("\\u002B", expected);
        Assert.Contains("\"NaN\"", expected);
        Assert.Contains("\"-Infinity\"", expected);
        Assert.Equal(variant == 0, expected.Contains("\"monitored\":null", StringComparison.Ordinal));
    }

    [Fact]
    public void A_checkpoint_file_holds_the_serializers_state_and_run_text()
    {
        // (Its history is not one a run could have, so the reader would refuse it: the text is what is compared.)
        var checkpoint = Checkpoint(1);
        var run = new Dictionary<string, string> { ["args"] = "[\"--model\",\"deepconv-fast\"]", ["data"] = "mnist: 60000 × 28×28 <ä>" };
        string dir = Directory.CreateTempSubdirectory("zerodl-json").FullName;
        try
        {
            string path = Path.Combine(dir, "c.ckpt");
            CheckpointFile.Save(checkpoint, path, run);
            var metadata = SafeTensors.Read(path).Metadata;
            Assert.Equal(CheckpointFile.ReferenceStateJson(checkpoint), metadata["state"]);
            Assert.Equal(JsonSerializer.Serialize<IReadOnlyDictionary<string, string>>(run), metadata["run"]);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Every layer type with values off its defaults, and each optional part both set and left out.</summary>
    private static readonly LayerConfig[] EveryLayer =
    [
        new ConvConfig { Filters = 6, Kernel = new WindowSize(5, 3), Stride = 2, Pad = 1, Init = WeightInit.Std(0.01), Activation = Activation.Relu },
        new ConvConfig { Filters = 4, Kernel = WindowSize.Square(3), Init = WeightInit.Xavier },
        new BatchNormConfig { Mode = BatchNormMode.PerChannel, Momentum = 0.95, Epsilon = 1e-5 },
        new MaxPoolConfig { Size = new WindowSize(2, 3), Stride = 2, Pad = 1 },
        new SigmoidConfig(),
        new TanhConfig(),
        new FlattenConfig(),
        new AffineConfig { Units = 30, Init = WeightInit.Std(1.0 / 3) },
        new BatchNormConfig(),
        new ReluConfig(),
        new DropoutConfig { Ratio = 0.25, Mode = DropoutMode.Inverted },
        new AffineConfig { Units = 10 },
        new DropoutConfig { Ratio = 0.5 },
    ];

    [Fact]
    public void An_architecture_is_the_text_the_serializer_wrote_for_every_layer_type_and_preset()
    {
        // Every type the format knows (LayerConfig's derived types) is among those compared.
        var known = typeof(LayerConfig).GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonDerivedTypeAttribute), false)
            .Cast<System.Text.Json.Serialization.JsonDerivedTypeAttribute>().Select(a => a.DerivedType).ToHashSet();
        Assert.Subset(EveryLayer.Select(l => l.GetType()).ToHashSet(), known);
        Assert.Subset(known, EveryLayer.Select(l => l.GetType()).ToHashSet());
        var architectures = new List<Architecture> { new([3, 20, 18], EveryLayer, weightDecay: 5e-4), new([3, 20, 18], EveryLayer) };
        architectures.AddRange(ModelPresets.All.Select(p => p.Architecture()));
        foreach (var architecture in architectures)
        {
            string expected = architecture.ReferenceJson();
            Assert.Equal(expected, architecture.ToJson());
            Assert.Equal(architecture, Architecture.FromJson(architecture.ToJson()));
        }
    }

    [Fact]
    public void A_model_files_classes_normalization_and_settings_are_the_text_the_serializer_wrote()
    {
        var net = new Sequential<float>([3, 2, 2], [new Flatten<float>(), new Affine<float>(12, 4, 0.5, new Rng(1))]);
        IReadOnlyList<string> classes = ["cat", "größe", "<b>\"x\"</b>", "日本"];
        var normalization = new InputNormalization([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f], 255f);
        IReadOnlyDictionary<string, string> training = new Dictionary<string, string> { ["model"] = "x", ["schedule"] = "warmup:50+cosine", ["note"] = "a & b" };
        Assert.Equal(ModelFile.ReferenceNormalizationJson(normalization), ModelFile.NormalizationJson(normalization));
        string dir = Directory.CreateTempSubdirectory("zerodl-json").FullName;
        try
        {
            string path = Path.Combine(dir, "m.safetensors");
            ModelFile.Save(net, path, training, StoredType.F32, classes, normalization);
            var metadata = SafeTensors.Read(path).Metadata;
            Assert.Equal(JsonSerializer.Serialize(classes), metadata["classes"]);
            Assert.Equal(JsonSerializer.Serialize(training), metadata["training"]);
            Assert.Equal(ModelFile.ReferenceNormalizationJson(normalization), metadata["normalization"]);
            var loaded = ModelFile.Load(path);
            Assert.Equal(classes, loaded.ClassNames);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
