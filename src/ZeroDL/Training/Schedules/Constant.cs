namespace ZeroDL.Training;

public abstract partial record LearningRateSchedule
{
    /// <summary>The book's schedule: the optimizer's rate for every mini-batch (factor 1). Text form <c>constant</c>.</summary>
    public sealed record Constant : LearningRateSchedule
    {
        /// <inheritdoc/>
        public override double FactorAt(int iteration, int total, int iterationsPerEpoch) => 1;

        /// <inheritdoc/>
        public override bool SpansRun => false;

        /// <inheritdoc/>
        public override void Validate() { }

        /// <summary><c>constant</c>.</summary>
        public override string ToString() => "constant";
    }
}
