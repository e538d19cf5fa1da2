using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>
/// The learning-rate schedules (issue 19 §2): each curve against its formula, written out here independently of the
/// code; cosine bit for bit against the formula ZeroDL used before schedules were typed (the presets' results must not
/// move); reduce-on-plateau's reductions on a constructed sequence; the text form read back and bad text refused.
/// </summary>
public class ScheduleTests
{
    private const int PerEpoch = 10;

    [Fact]
    public void Constant_is_one_everywhere()
    {
        var schedule = new LearningRateSchedule.Constant();
        foreach (int t in new[] { 0, 1, 57, 99 }) Assert.Equal(1.0, schedule.FactorAt(t, 100, PerEpoch));
        Assert.Equal(0.25, schedule.Rate(0.25, 42, 100, PerEpoch));
    }

    [Fact]
    public void Step_multiplies_by_gamma_every_n_epochs()
    {
        var schedule = new LearningRateSchedule.Step(EveryEpochs: 2, Gamma: 0.5);
        // Epochs 1–2 (mini-batches 0…19) at 1, epochs 3–4 at ½, epoch 5 at ¼.
        for (int t = 0; t < 50; t++)
        {
            double expected = t < 20 ? 1 : t < 40 ? 0.5 : 0.25;
            Assert.Equal(expected, schedule.FactorAt(t, 50, PerEpoch));
        }
        Assert.Equal(Math.Pow(0.1, 3), new LearningRateSchedule.Step(1, 0.1).FactorAt(35, 100, PerEpoch));
    }

    [Theory]
    [InlineData(0.001, 1200)]
    [InlineData(0.003, 1200)]
    [InlineData(0.1, 10)]
    [InlineData(0.05, 7)]
    public void Cosine_gives_exactly_the_rates_of_the_string_schedule_it_replaces(double baseRate, int total)
    {
        var schedule = new LearningRateSchedule.Cosine();
        for (int iter = 1; iter <= total; iter++)
        {
            // The expression Trainer used for Schedule = "cosine" (iter counted from 1), bit for bit.
            double before = baseRate * 0.5 * (1 + Math.Cos(Math.PI * (iter - 1) / total));
            Assert.Equal(before, schedule.Rate(baseRate, iter - 1, total, PerEpoch));
        }
    }

    [Fact]
    public void Cosine_with_a_floor_ends_at_the_floor()
    {
        var schedule = new LearningRateSchedule.Cosine(Floor: 0.1);
        Assert.Equal(1.0, schedule.FactorAt(0, 40, PerEpoch));
        Assert.Equal(0.1 + 0.9 * 0.5, schedule.FactorAt(20, 40, PerEpoch), 15);
        for (int t = 0; t < 40; t++)
            Assert.Equal(0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * t / 40)), schedule.FactorAt(t, 40, PerEpoch), 15);
        Assert.True(schedule.FactorAt(39, 40, PerEpoch) > 0.1);
        Assert.True(schedule.SpansRun);
    }

    [Fact]
    public void Warmup_rises_linearly_then_runs_the_next_schedule_from_its_start()
    {
        var cosine = new LearningRateSchedule.Warmup(5, new LearningRateSchedule.Cosine());
        for (int t = 0; t < 5; t++) Assert.Equal((t + 1) / 5.0, cosine.FactorAt(t, 45, PerEpoch));
        // After the warm-up, cosine over the remaining 40 mini-batches: 1 at its first, ½ halfway.
        Assert.Equal(1.0, cosine.FactorAt(5, 45, PerEpoch));
        Assert.Equal(0.5, cosine.FactorAt(25, 45, PerEpoch), 15);
        for (int t = 5; t < 45; t++) Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * (t - 5) / 40)), cosine.FactorAt(t, 45, PerEpoch), 15);

        var step = new LearningRateSchedule.Warmup(3, new LearningRateSchedule.Step(1, 0.1));
        Assert.Equal(1 / 3.0, step.FactorAt(0, 100, PerEpoch));
        Assert.Equal(1.0, step.FactorAt(3, 100, PerEpoch));
        Assert.Equal(1.0, step.FactorAt(12, 100, PerEpoch));      // 9 mini-batches after the warm-up: still its first epoch
        Assert.Equal(0.1, step.FactorAt(13, 100, PerEpoch), 15); // 10 after: the second
        Assert.True(cosine.SpansRun);
        Assert.False(step.SpansRun);
    }

    [Fact]
    public void Reduce_on_plateau_cuts_the_factor_after_patience_epochs_without_improvement()
    {
        var schedule = new LearningRateSchedule.ReduceOnPlateau(Factor: 0.5, Patience: 2, MonitoredQuantity.ValidationLoss, MinimumFactor: 0.2);
        Assert.Equal(1.0, schedule.FactorAt(123, 200, PerEpoch));
        // Losses per epoch → the factor after each epoch.
        double[] losses = [1.0, 0.9, 0.95, 0.91, 0.8, 0.8, 0.85, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76];
        double[] factors = [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2];
        var state = PlateauState.Start;
        for (int e = 0; e < losses.Length; e++)
        {
            state = schedule.Observe(state, losses[e]);
            Assert.Equal(factors[e], state.Factor, 15);
        }
        Assert.Equal(0.7, state.Best);

        // Accuracy: higher is better; a tie is no improvement.
        var accuracy = new LearningRateSchedule.ReduceOnPlateau(0.1, 1, MonitoredQuantity.ValidationAccuracy);
        var s = accuracy.Observe(PlateauState.Start, 0.9);
        s = accuracy.Observe(s, 0.95);
        Assert.Equal(1.0, s.Factor);
        s = accuracy.Observe(s, 0.95);
        Assert.Equal(0.1, s.Factor, 15);
        s = accuracy.Observe(s, double.NaN);
        Assert.Equal(0.01, s.Factor, 15);
    }

    public static TheoryData<string, LearningRateSchedule> Texts => new()
    {
        { "constant", new LearningRateSchedule.Constant() },
        { "step:5:0.5", new LearningRateSchedule.Step(5, 0.5) },
        { "cosine", new LearningRateSchedule.Cosine() },
        { "cosine:0.01", new LearningRateSchedule.Cosine(0.01) },
        { "plateau:0.5:3:0:val_loss", new LearningRateSchedule.ReduceOnPlateau(0.5, 3) },
        { "plateau:0.1:2:0.001:val_accuracy", new LearningRateSchedule.ReduceOnPlateau(0.1, 2, MonitoredQuantity.ValidationAccuracy, 0.001) },
        { "warmup:500+cosine", new LearningRateSchedule.Warmup(500, new LearningRateSchedule.Cosine()) },
        { "warmup:3+plateau:0.5:1:0:loss", new LearningRateSchedule.Warmup(3, new LearningRateSchedule.ReduceOnPlateau(0.5, 1, MonitoredQuantity.TrainingLoss)) },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Every_schedule_writes_a_text_that_reads_back_to_an_equal_record(string text, LearningRateSchedule schedule)
    {
        Assert.Equal(text, schedule.ToString());
        Assert.Equal(schedule, LearningRateSchedule.Parse(text));
    }

    [Fact]
    public void A_plateau_without_a_monitor_watches_the_one_given()
    {
        Assert.Equal(new LearningRateSchedule.ReduceOnPlateau(0.5, 2, MonitoredQuantity.TrainingLoss), LearningRateSchedule.Parse("plateau:0.5:2", MonitoredQuantity.TrainingLoss));
        Assert.Equal(new LearningRateSchedule.ReduceOnPlateau(0.5, 2, MonitoredQuantity.ValidationAccuracy, 0.1), LearningRateSchedule.Parse("Plateau:0.5:2:0.1", MonitoredQuantity.ValidationAccuracy));
    }

    [Theory]
    [InlineData("linear", "unknown schedule")]
    [InlineData("step:0:0.5", "every 1 or more epochs")]
    [InlineData("step:2", "unknown schedule")]
    [InlineData("step:2:1.5", "GAMMA")]
    [InlineData("step:x:0.5", "not a whole number")]
    [InlineData("cosine:1", "FLOOR")]
    [InlineData("cosine:nan", "not a number")]
    [InlineData("plateau:1:3", "FACTOR")]
    [InlineData("plateau:0.5:0", "PATIENCE")]
    [InlineData("plateau:0.5:2:0:test_accuracy", "monitor")]
    [InlineData("warmup:0+cosine", "at least 1")]
    [InlineData("warmup:5+warmup:5+cosine", "not another warm-up")]
    [InlineData("warmup+cosine", "warmup:ITERATIONS+SCHEDULE")]
    public void Bad_text_is_refused_in_one_line_saying_what(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => LearningRateSchedule.Parse(text));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_cosine_presets_name_the_typed_cosine()
    {
        Assert.Equal(new LearningRateSchedule.Warmup(50, new LearningRateSchedule.Cosine()), Models.ModelPresets.Find("deepconv-fast").TrainingSchedule);
        Assert.Equal("warmup:50+cosine", Models.ModelPresets.Find("deepconv-fast").TrainingSchedule.ToString());
        Assert.Equal(new LearningRateSchedule.Cosine(), Models.ModelPresets.Find("deepconv-aug").TrainingSchedule);
        Assert.Equal(new LearningRateSchedule.Cosine(), Models.ModelPresets.Find("deepconv-best").TrainingSchedule);
        Assert.Equal(new LearningRateSchedule.Constant(), Models.ModelPresets.Find("deepconv").TrainingSchedule);
    }
}
