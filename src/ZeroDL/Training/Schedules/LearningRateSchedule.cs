using System.Globalization;

namespace ZeroDL.Training;

/// <summary>
/// How the learning rate moves over a run: a small closed family of records (<see cref="Constant"/>,
/// <see cref="Step"/>, <see cref="Cosine"/>, <see cref="Warmup"/> followed by any of the others, and
/// <see cref="ReduceOnPlateau"/>). The rate of mini-batch t (counted from 0) of a run of T mini-batches, E per epoch, is
/// <c>base · FactorAt(t, T, E) · p</c>, where base is the optimizer's own rate and p is reduce-on-plateau's current factor
/// (<see cref="PlateauState.Factor"/>; 1 for the schedules without one). <see cref="FactorAt"/> is a pure function of
/// (t, T, E); only reduce-on-plateau has state, which the trainer keeps and checkpoints.
/// </summary>
/// <remarks>
/// Each schedule has a text form (<see cref="ToString"/>) that <see cref="Parse"/> reads back to an equal record — the
/// CLI's <c>--schedule</c> grammar, and what model files and checkpoints record:
/// <c>constant</c>, <c>step:EVERY_EPOCHS:GAMMA</c>, <c>cosine</c> or <c>cosine:FLOOR</c>,
/// <c>plateau:FACTOR:PATIENCE[:MIN_FACTOR[:MONITOR]]</c>, and <c>warmup:ITERATIONS+SCHEDULE</c>.
/// </remarks>
public abstract partial record LearningRateSchedule
{
    private protected LearningRateSchedule() { }

    /// <summary>
    /// The multiplier of the optimizer's rate for mini-batch <paramref name="iteration"/> (0-based: the mini-batches
    /// done before it) of a run of <paramref name="total"/>, <paramref name="iterationsPerEpoch"/> per epoch, before
    /// reduce-on-plateau's factor.
    /// </summary>
    public abstract double FactorAt(int iteration, int total, int iterationsPerEpoch);

    /// <summary>
    /// Whether the curve depends on the run's length T (cosine does, so a run's epochs cannot be raised on resume without
    /// changing the rates already used); false for the schedules that depend only on the iteration and the epoch.
    /// </summary>
    public abstract bool SpansRun { get; }

    /// <summary>The reduce-on-plateau part of this schedule (itself, or what a warm-up leads into), or null.</summary>
    public virtual ReduceOnPlateau? Plateau => null;

    /// <summary>Checks the parameters; throws <see cref="ArgumentOutOfRangeException"/> naming the first one out of range.</summary>
    public abstract void Validate();

    /// <summary>
    /// The rate the schedule gives mini-batch <paramref name="iteration"/> (0-based) from <paramref name="baseRate"/>:
    /// <c>baseRate · FactorAt(t, T, E) · plateauFactor</c>.
    /// </summary>
    public double Rate(double baseRate, int iteration, int total, int iterationsPerEpoch, double plateauFactor = 1) =>
        baseRate * FactorAt(iteration, total, iterationsPerEpoch) * plateauFactor;

    /// <summary>
    /// Reads the text form (see the remarks): <c>constant</c>, <c>step:2:0.5</c>, <c>cosine</c>, <c>cosine:0.01</c>,
    /// <c>plateau:0.5:3</c>, <c>plateau:0.1:2:0.001:val_accuracy</c>, <c>warmup:500+cosine</c>. A plateau without a
    /// monitor watches <paramref name="monitor"/>.
    /// </summary>
    /// <exception cref="FormatException">the text is not a schedule, or a parameter is out of range (one line saying which).</exception>
    public static LearningRateSchedule Parse(string text, MonitoredQuantity monitor = MonitoredQuantity.ValidationLoss)
    {
        ArgumentNullException.ThrowIfNull(text);
        LearningRateSchedule schedule;
        string t = text.Trim().ToLowerInvariant();
        int plus = t.IndexOf('+');
        if (plus >= 0)
        {
            var head = t[..plus].Split(':');
            if (head is not ["warmup", var w] || !int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out int iterations))
                throw new FormatException($"schedule '{text}': a warm-up is written warmup:ITERATIONS+SCHEDULE, e.g. warmup:500+cosine");
            var then = Parse(t[(plus + 1)..], monitor);
            if (then is Warmup) throw new FormatException($"schedule '{text}': a warm-up leads into constant, step, cosine or plateau, not another warm-up");
            schedule = new Warmup(iterations, then);
        }
        else
        {
            var parts = t.Split(':');
            schedule = parts switch
            {
                ["constant"] => new Constant(),
                ["step", var every, var gamma] => new Step(Integer(every, "EVERY_EPOCHS"), Number(gamma, "GAMMA")),
                ["cosine"] => new Cosine(),
                ["cosine", var floor] => new Cosine(Number(floor, "FLOOR")),
                ["plateau", var f, var p] => new ReduceOnPlateau(Number(f, "FACTOR"), Integer(p, "PATIENCE"), monitor),
                ["plateau", var f, var p, var min] => new ReduceOnPlateau(Number(f, "FACTOR"), Integer(p, "PATIENCE"), monitor, Number(min, "MIN_FACTOR")),
                ["plateau", var f, var p, var min, var m] => new ReduceOnPlateau(Number(f, "FACTOR"), Integer(p, "PATIENCE"), Monitored(m), Number(min, "MIN_FACTOR")),
                _ => throw new FormatException($"unknown schedule '{text}': use constant, step:EVERY_EPOCHS:GAMMA, cosine[:FLOOR], plateau:FACTOR:PATIENCE[:MIN_FACTOR] or warmup:ITERATIONS+one of them"),
            };
        }
        try { schedule.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new FormatException($"schedule '{text}': {e.Message.Split(" (Parameter")[0]}"); }
        return schedule;

        int Integer(string s, string name) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v
            : throw new FormatException($"schedule '{text}': {name} '{s}' is not a whole number");
        double Number(string s, string name) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new FormatException($"schedule '{text}': {name} '{s}' is not a number");
        MonitoredQuantity Monitored(string s) => MonitoredQuantities.TryParse(s, out var m) ? m
            : throw new FormatException($"schedule '{text}': monitor '{s}' is not one of {MonitoredQuantities.Names}");
    }

    /// <summary>Shortest round-trip text of a number, as <see cref="Parse"/> reads it.</summary>
    private protected static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
