namespace ZeroDL.Data;

/// <summary>
/// A stratified, seeded hold-out (book ch. 6.5, with each class held out in proportion): of each class's n samples,
/// round(fraction · n) (halves away from zero, at most n − 1, so every class keeps one sample) are held out, chosen by a
/// shuffle of that class's sample indices, the classes drawn in label order from one generator. The same labels,
/// fraction and generator state give the same split on every machine.
/// </summary>
public static class StratifiedSplit
{
    /// <summary>
    /// The indices kept and held out, each in ascending order (disjoint, together every index once).
    /// </summary>
    /// <param name="labels">One class index in 0 … <paramref name="classes"/> − 1 per sample.</param>
    /// <param name="classes">The number of classes.</param>
    /// <param name="fraction">The fraction of each class held out, in (0, 1).</param>
    /// <param name="rng">The generator the shuffles draw from (advanced by the call).</param>
    /// <exception cref="ArgumentOutOfRangeException">the fraction is not in (0, 1) or a label is out of range.</exception>
    public static (int[] Kept, int[] HeldOut) Indices(ReadOnlySpan<int> labels, int classes, double fraction, Rng rng)
    {
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "a split fraction must be between 0 and 1 (exclusive)");
        var members = new List<int>[classes];
        for (int c = 0; c < classes; c++) members[c] = [];
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"label of sample {i} is not one of {classes} classes");
            members[labels[i]].Add(i);
        }
        var held = new bool[labels.Length];
        int heldCount = 0;
        for (int c = 0; c < classes; c++)
        {
            var ofClass = members[c].ToArray();
            int take = HeldOutOf(ofClass.Length, fraction);
            rng.Shuffle(ofClass);
            for (int k = 0; k < take; k++) held[ofClass[k]] = true;
            heldCount += take;
        }
        int[] kept = new int[labels.Length - heldCount], heldOut = new int[heldCount];
        for (int i = 0, a = 0, b = 0; i < held.Length; i++)
            if (held[i]) heldOut[b++] = i; else kept[a++] = i;
        return (kept, heldOut);
    }

    /// <summary>How many of a class's <paramref name="count"/> samples are held out: round(fraction · count), at most count − 1 (0 for an empty class).</summary>
    public static int HeldOutOf(int count, double fraction) =>
        Math.Max(0, Math.Min((int)Math.Round(fraction * count, MidpointRounding.AwayFromZero), count - 1));
}
