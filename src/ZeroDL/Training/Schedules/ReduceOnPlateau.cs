namespace ZeroDL.Training;

public abstract partial record LearningRateSchedule
{
    /// <summary>
    /// Reduce-on-plateau (Keras' ReduceLROnPlateau, PyTorch's ReduceLROnPlateau): at every epoch's end the trainer
    /// shows it the <paramref name="Monitor"/>ed quantity (<see cref="Observe"/>); after <paramref name="Patience"/>
    /// epochs in a row without improvement on the best so far, the rate's factor is multiplied by
    /// <paramref name="Factor"/>, never below <paramref name="MinimumFactor"/>, and the count starts again. Its own
    /// curve is flat (<see cref="LearningRateSchedule.FactorAt"/> = 1); the factor is state (<see cref="PlateauState"/>),
    /// kept in checkpoints. Text form <c>plateau:FACTOR:PATIENCE[:MIN_FACTOR[:MONITOR]]</c>.
    /// </summary>
    /// <param name="Factor">The multiplier at each reduction, in (0, 1).</param>
    /// <param name="Patience">Epochs without improvement before a reduction, at least 1.</param>
    /// <param name="Monitor">The quantity watched; the validation ones need <see cref="TrainerOptions.ValidationSplit"/>.</param>
    /// <param name="MinimumFactor">The factor is never reduced below this (Keras' min_lr as a fraction of the optimizer's rate), in [0, 1).</param>
    public sealed record ReduceOnPlateau(double Factor, int Patience, MonitoredQuantity Monitor = MonitoredQuantity.ValidationLoss, double MinimumFactor = 0)
        : LearningRateSchedule
    {
        /// <summary>1: the rate moves only by the factor in <see cref="PlateauState"/>.</summary>
        public override double FactorAt(int iteration, int total, int iterationsPerEpoch) => 1;

        /// <inheritdoc/>
        public override bool SpansRun => false;

        /// <inheritdoc/>
        public override ReduceOnPlateau? Plateau => this;

        /// <inheritdoc/>
        public override void Validate()
        {
            if (!(Factor > 0 && Factor < 1)) throw new ArgumentOutOfRangeException(nameof(Factor), Factor, "a plateau schedule's FACTOR must be in (0, 1)");
            if (Patience < 1) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "a plateau schedule's PATIENCE must be at least 1 epoch");
            if (!(MinimumFactor >= 0 && MinimumFactor < 1)) throw new ArgumentOutOfRangeException(nameof(MinimumFactor), MinimumFactor, "a plateau schedule's MIN_FACTOR must be in [0, 1)");
            if (!Enum.IsDefined(Monitor)) throw new ArgumentOutOfRangeException(nameof(Monitor), Monitor, "unknown monitored quantity");
        }

        /// <summary>
        /// The state after an epoch whose monitored quantity was <paramref name="value"/>: a strict improvement on the
        /// best (<see cref="MonitoredQuantities.Improves"/>) becomes the best and clears the count; else the count grows,
        /// and on reaching <see cref="Patience"/> the factor is reduced (to max(factor · Factor, MinimumFactor)) and the
        /// count cleared. A NaN value never improves.
        /// </summary>
        public PlateauState Observe(PlateauState state, double value)
        {
            if (Monitor.Improves(value, state.Best)) return state with { Best = value, BadEpochs = 0 };
            int bad = state.BadEpochs + 1;
            return bad < Patience ? state with { BadEpochs = bad }
                : state with { BadEpochs = 0, Factor = Math.Max(state.Factor * Factor, MinimumFactor) };
        }

        /// <summary><c>plateau:FACTOR:PATIENCE:MIN_FACTOR:MONITOR</c>.</summary>
        public override string ToString() => $"plateau:{Text(Factor)}:{Patience}:{Text(MinimumFactor)}:{Monitor.Name()}";
    }
}
