namespace ZeroDL.Training;

public abstract partial record LearningRateSchedule
{
    /// <summary>
    /// Step decay (PyTorch's StepLR, by epochs): the rate is multiplied by <paramref name="Gamma"/> after every
    /// <paramref name="EveryEpochs"/> epochs — factor <c>Gamma^⌊⌊t / E⌋ / EveryEpochs⌋</c> for mini-batch t (0-based), E
    /// mini-batches per epoch. Text form <c>step:EVERY_EPOCHS:GAMMA</c>.
    /// </summary>
    /// <param name="EveryEpochs">Epochs between two decays, at least 1.</param>
    /// <param name="Gamma">The multiplier at each decay, in (0, 1].</param>
    public sealed record Step(int EveryEpochs, double Gamma) : LearningRateSchedule
    {
        /// <inheritdoc/>
        public override double FactorAt(int iteration, int total, int iterationsPerEpoch) =>
            Math.Pow(Gamma, iteration / iterationsPerEpoch / EveryEpochs);

        /// <inheritdoc/>
        public override bool SpansRun => false;

        /// <inheritdoc/>
        public override void Validate()
        {
            if (EveryEpochs < 1) throw new ArgumentOutOfRangeException(nameof(EveryEpochs), EveryEpochs, "a step schedule decays every 1 or more epochs");
            if (!(Gamma > 0 && Gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, "a step schedule's GAMMA must be in (0, 1]");
        }

        /// <summary><c>step:EVERY_EPOCHS:GAMMA</c>.</summary>
        public override string ToString() => $"step:{EveryEpochs}:{Text(Gamma)}";
    }
}
