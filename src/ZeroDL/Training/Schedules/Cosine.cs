namespace ZeroDL.Training;

public abstract partial record LearningRateSchedule
{
    /// <summary>
    /// Cosine decay over the run (Loshchilov and Hutter's SGDR without restarts): factor
    /// <c>Floor + (1 − Floor)·½(1 + cos(π·t/T))</c> for mini-batch t (0-based) of T, from 1 at the first mini-batch
    /// towards <paramref name="Floor"/> after the last. With Floor 0 (the default) it is exactly the rate ZeroDL's
    /// "cosine" schedule gave before schedules were typed. Text form <c>cosine</c> or <c>cosine:FLOOR</c>.
    /// </summary>
    /// <param name="Floor">The factor the curve ends at, in [0, 1).</param>
    public sealed record Cosine(double Floor = 0) : LearningRateSchedule
    {
        /// <inheritdoc/>
        public override double FactorAt(int iteration, int total, int iterationsPerEpoch) =>
            Floor + (1 - Floor) * (0.5 * (1 + Math.Cos(Math.PI * iteration / total)));

        /// <inheritdoc/>
        public override bool SpansRun => true;

        /// <inheritdoc/>
        public override void Validate()
        {
            if (!(Floor >= 0 && Floor < 1)) throw new ArgumentOutOfRangeException(nameof(Floor), Floor, "a cosine schedule's FLOOR must be in [0, 1)");
        }

        /// <summary><c>cosine</c>, or <c>cosine:FLOOR</c> with a floor.</summary>
        public override string ToString() => Floor == 0 ? "cosine" : $"cosine:{Text(Floor)}";
    }
}
