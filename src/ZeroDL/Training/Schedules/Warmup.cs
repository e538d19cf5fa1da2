namespace ZeroDL.Training;

public abstract partial record LearningRateSchedule
{
    /// <summary>
    /// Linear warm-up (Goyal et al. 2017) followed by another schedule: factor <c>(t + 1) / Iterations</c> for the first
    /// <paramref name="Iterations"/> mini-batches (t = 0, 1, …: from 1/Iterations up to 1), then <paramref name="Then"/>'s
    /// curve as if its run started there: <c>Then.FactorAt(t − Iterations, T − Iterations, E)</c>. Text form
    /// <c>warmup:ITERATIONS+SCHEDULE</c> (the CLI's <c>--warmup N</c>).
    /// </summary>
    /// <param name="Iterations">Mini-batches of warm-up, at least 1 (and fewer than the run's, checked when the run starts).</param>
    /// <param name="Then">The schedule after the warm-up: constant, step, cosine or reduce-on-plateau.</param>
    public sealed record Warmup(int Iterations, LearningRateSchedule Then) : LearningRateSchedule
    {
        /// <inheritdoc/>
        public override double FactorAt(int iteration, int total, int iterationsPerEpoch) =>
            iteration < Iterations ? (iteration + 1) / (double)Iterations : Then.FactorAt(iteration - Iterations, total - Iterations, iterationsPerEpoch);

        /// <inheritdoc/>
        public override bool SpansRun => Then.SpansRun;

        /// <inheritdoc/>
        public override ReduceOnPlateau? Plateau => Then.Plateau;

        /// <inheritdoc/>
        public override void Validate()
        {
            if (Iterations < 1) throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "a warm-up lasts at least 1 iteration");
            ArgumentNullException.ThrowIfNull(Then);
            if (Then is Warmup) throw new ArgumentOutOfRangeException(nameof(Then), Then, "a warm-up leads into constant, step, cosine or plateau, not another warm-up");
            Then.Validate();
        }

        /// <summary><c>warmup:ITERATIONS+SCHEDULE</c>.</summary>
        public override string ToString() => $"warmup:{Iterations}+{Then}";
    }
}
