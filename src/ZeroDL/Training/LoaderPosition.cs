using System.Collections.Immutable;

namespace ZeroDL.Training;

/// <summary>
/// Where a <see cref="BatchLoader"/>'s sequence of batches stands after <see cref="Iteration"/> batches: the data
/// order of the epoch that batch belongs to (<see cref="Order"/>, a permutation of the dataset's sample indices; the
/// next epoch's order is shuffled from it) and the state of the generator that shuffles, or draws with replacement
/// (<see cref="Random"/>). That is all a loader needs to draw the batches that followed, exactly.
/// </summary>
public sealed record LoaderPosition(int Iteration, ImmutableArray<int> Order, RngState Random)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming what does not fit a dataset of <paramref name="samples"/> and a run of <paramref name="totalIterations"/>.</summary>
    public void Validate(int samples, int totalIterations)
    {
        if (Iteration < 0 || Iteration > totalIterations) throw new ArgumentException($"position after iteration {Iteration}, outside a run of {totalIterations}");
        if (Order.IsDefault || Order.Length != samples) throw new ArgumentException($"the data order has {(Order.IsDefault ? 0 : Order.Length)} entries, the dataset {samples} samples");
        var seen = new bool[samples];
        foreach (int i in Order)
        {
            if ((uint)i >= (uint)samples) throw new ArgumentException($"the data order names sample {i}, outside 0…{samples - 1}");
            if (seen[i]) throw new ArgumentException($"the data order names sample {i} twice");
            seen[i] = true;
        }
        Random.Validate();
    }
}
