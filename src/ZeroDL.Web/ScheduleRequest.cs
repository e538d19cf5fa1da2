using System.Collections.Immutable;
using ZeroDL.Training;

namespace ZeroDL.Web;

/// <summary>
/// The learning-rate schedule a training request asks for (the Train form's choice): one of the typed family
/// <see cref="LearningRateSchedule"/>, by <see cref="Kind"/> and the parameters of that kind, optionally after a
/// linear warm-up. A parameter of another kind, a missing one or one out of range is refused with 400 and a one-line
/// reason (<see cref="ToSchedule"/>).
/// </summary>
/// <param name="Kind">"constant", "step", "cosine" or "plateau".</param>
/// <param name="EveryEpochs">step: epochs between two decays (≥ 1).</param>
/// <param name="Gamma">step: the multiplier at each decay, in (0, 1].</param>
/// <param name="Floor">cosine: the factor the curve ends at, in [0, 1) (default 0).</param>
/// <param name="Factor">plateau: the multiplier at each reduction, in (0, 1).</param>
/// <param name="Patience">plateau: epochs without improvement before a reduction (≥ 1).</param>
/// <param name="MinFactor">plateau: the factor is never reduced below this, in [0, 1) (default 0).</param>
/// <param name="Monitor">plateau: "val_loss", "val_accuracy" (both need a validation split) or "loss" (default: the request's monitor, else val_loss with a validation split and loss without).</param>
/// <param name="Warmup">Mini-batches of linear warm-up before the schedule (≥ 1), or null for none.</param>
public sealed record ScheduleRequest(string Kind = "constant", int? EveryEpochs = null, double? Gamma = null, double? Floor = null,
    double? Factor = null, int? Patience = null, double? MinFactor = null, string? Monitor = null, int? Warmup = null)
{
    /// <summary>The kinds a request may name, in the Train form's order.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ImmutableArray.Create("constant", "step", "cosine", "plateau");

    /// <summary>The schedule, checked; <paramref name="monitor"/> is what a plateau without its own monitor watches.</summary>
    /// <exception cref="BadRequestException">400: an unknown kind, a parameter of another kind, a missing or out-of-range one.</exception>
    public LearningRateSchedule ToSchedule(MonitoredQuantity monitor)
    {
        string kind = (Kind ?? "").Trim().ToLowerInvariant();
        if (!Kinds.Contains(kind)) throw new BadRequestException(400, $"unknown schedule '{Kind}': use {string.Join(", ", Kinds)}");
        var given = new (string Name, bool Set, string Of)[]
        {
            ("everyEpochs", EveryEpochs is not null, "step"), ("gamma", Gamma is not null, "step"), ("floor", Floor is not null, "cosine"),
            ("factor", Factor is not null, "plateau"), ("patience", Patience is not null, "plateau"), ("minFactor", MinFactor is not null, "plateau"),
            ("monitor", Monitor is not null, "plateau"),
        };
        if (given.FirstOrDefault(g => g.Set && g.Of != kind) is { Name: not null } stray)
            throw new BadRequestException(400, $"schedule: {stray.Name} is a parameter of the {stray.Of} schedule, not of {kind}");
        var watched = monitor;
        if (Monitor is not null && !MonitoredQuantities.TryParse(Monitor, out watched))
            throw new BadRequestException(400, $"schedule: monitor '{Monitor}' is not one of {MonitoredQuantities.Names}");
        try
        {
            LearningRateSchedule schedule = kind switch
            {
                "step" => new LearningRateSchedule.Step(EveryEpochs ?? throw Missing("everyEpochs"), Gamma ?? throw Missing("gamma")),
                "cosine" => new LearningRateSchedule.Cosine(Floor ?? 0),
                "plateau" => new LearningRateSchedule.ReduceOnPlateau(Factor ?? throw Missing("factor"), Patience ?? throw Missing("patience"), watched, MinFactor ?? 0),
                _ => new LearningRateSchedule.Constant(),
            };
            if (Warmup is int w) schedule = new LearningRateSchedule.Warmup(w, schedule);
            schedule.Validate();
            return schedule;
        }
        catch (ArgumentOutOfRangeException e) { throw new BadRequestException(400, "schedule: " + e.Message.Split(" (Parameter")[0]); }

        BadRequestException Missing(string name) => new(400, $"schedule: the {kind} schedule needs {name}");
    }
}
