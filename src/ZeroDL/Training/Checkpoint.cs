using System.Collections.Immutable;
using ZeroDL.Models;
using ZeroDL.Optimizers;

namespace ZeroDL.Training;

/// <summary>
/// Everything a training run needs to go on from a point between two mini-batches, so that a <see cref="Trainer"/>
/// given it (<see cref="Trainer.Restore"/>) ends with the same weights, bit for bit, as the run it was taken from:
/// <list type="bullet">
/// <item>the model (<see cref="Model"/>: its architecture, weights and running statistics; the checkpoint's own copy);</item>
/// <item>the optimizer's state (<see cref="Optimizer"/>: moments, step count) and the base learning rate;</item>
/// <item>the position: <see cref="Iteration"/> mini-batches done, <see cref="Epoch"/> epochs done;</item>
/// <item>the data order of the current epoch and the shuffling generator's state (<see cref="Data"/>);</item>
/// <item>each dropout layer's generator state (<see cref="Dropout"/>; augmentation draws from a generator keyed by the
/// image's position in the run, so it has no state to keep);</item>
/// <item>the schedule's state: <see cref="TrainerOptions.Schedule"/>, the base rate, the iterations its curve spans
/// (<see cref="ScheduleIterations"/>) and reduce-on-plateau's state (<see cref="Plateau"/>);</item>
/// <item>early stopping's and keep-best's state (<see cref="Monitored"/>) and the best model so far (<see cref="BestModel"/>);</item>
/// <item>the history so far (<see cref="Loss"/>, <see cref="Epochs"/>, <see cref="Elapsed"/>);</item>
/// <item>the exact options of the run (<see cref="Options"/>).</item>
/// </list>
/// </summary>
public sealed record TrainingCheckpoint
{
    /// <summary>Mini-batches completed (0 … the run's total).</summary>
    public required int Iteration { get; init; }
    /// <summary>Epochs completed.</summary>
    public required int Epoch { get; init; }
    public required TrainerOptions Options { get; init; }
    /// <summary>The network as it was after <see cref="Iteration"/> mini-batches (a copy, not the trained network).</summary>
    public required Sequential<float> Model { get; init; }
    public required OptimizerState<float> Optimizer { get; init; }
    /// <summary>The optimizer's own learning rate (a schedule scales it per mini-batch).</summary>
    public required double LearningRate { get; init; }
    /// <summary>The iterations the learning-rate schedule spans (the run's total when it was taken; the cosine curve depends on it).</summary>
    public required int ScheduleIterations { get; init; }
    public required LoaderPosition Data { get; init; }
    /// <summary>Each dropout layer's generator state, by layer name ("dropout1", …).</summary>
    public required ImmutableDictionary<string, RngState> Dropout { get; init; }
    /// <summary>The loss of every mini-batch so far, in order.</summary>
    public required ImmutableArray<double> Loss { get; init; }
    /// <summary>Every finished epoch's evaluation so far, in order.</summary>
    public required ImmutableArray<EpochResult> Epochs { get; init; }
    /// <summary>Training time so far (a resumed run's clock goes on from it).</summary>
    public required TimeSpan Elapsed { get; init; }
    /// <summary>The monitored validation quantity's record (<see cref="Trainer.Monitored"/>); null when the run has no validation split.</summary>
    public MonitorState? Monitored { get; init; }
    /// <summary>Reduce-on-plateau's state (<see cref="Trainer.Plateau"/>); null when the schedule has no plateau.</summary>
    public PlateauState? Plateau { get; init; }
    /// <summary>
    /// The network after the best epoch so far (<see cref="Trainer.BestModel"/>, the checkpoint's own copy): with
    /// <see cref="KeptWeights.Best"/> once an epoch improved, else null.
    /// </summary>
    public Sequential<float>? BestModel { get; init; }
}
