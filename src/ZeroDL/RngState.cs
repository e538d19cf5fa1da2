namespace ZeroDL;

/// <summary>
/// The state of an <see cref="Rng"/>: its four xoshiro256** words <see cref="S0"/>…<see cref="S3"/> and the spare
/// Box–Muller draw (null when none is kept). A value, so reading it hands out nothing of the generator.
/// </summary>
public readonly record struct RngState(ulong S0, ulong S1, ulong S2, ulong S3, double? SpareNormal)
{
    /// <summary>Throws <see cref="ArgumentException"/> when the state cannot be a generator's: all words zero (xoshiro then draws only zeros) or a non-finite spare.</summary>
    public void Validate()
    {
        if ((S0 | S1 | S2 | S3) == 0) throw new ArgumentException("a random generator's state cannot be all zeros");
        if (SpareNormal is double d && !double.IsFinite(d)) throw new ArgumentException("a random generator's spare normal draw must be finite");
    }
}
