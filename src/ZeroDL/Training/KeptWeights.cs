namespace ZeroDL.Training;

/// <summary>Which weights a run hands out as its result (<see cref="TrainerOptions.Keep"/>, <see cref="Trainer.KeptModel"/>; the CLI's <c>--keep</c>).</summary>
public enum KeptWeights
{
    /// <summary>The weights after the last epoch (the book's, and what every run kept before this option).</summary>
    Last,
    /// <summary>The weights after the epoch with the best <see cref="TrainerOptions.Monitor"/>ed validation quantity (needs <see cref="TrainerOptions.ValidationSplit"/>).</summary>
    Best,
}
