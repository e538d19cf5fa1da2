using ZeroDL.Distributed;

namespace ZeroDL.Tests;

/// <summary>
/// A group of ranks that are threads of this process, for testing data-parallel training without MPI: every
/// collective meets at a barrier, and sums are taken in rank order, so every rank gets the same bits.
/// </summary>
public sealed class InProcessGroup
{
    private readonly Barrier _barrier;
    private readonly double[][] _slots;

    public InProcessGroup(int size)
    {
        _barrier = new Barrier(size);
        _slots = new double[size][];
        Ranks = [.. Enumerable.Range(0, size).Select(r => new Member(this, r))];
    }

    public IReadOnlyList<ICommunicator> Ranks { get; }

    private sealed class Member(InProcessGroup group, int rank) : ICommunicator
    {
        public int Rank => rank;
        public int Size => group._slots.Length;
        public void Barrier() => group._barrier.SignalAndWait(TimeSpan.FromMinutes(2));

        public void Broadcast(Span<float> values, int root) => Copy(Exchange(ToDoubles(values), root), values);
        public void Broadcast(Span<double> values, int root) => Exchange(values.ToArray(), root).CopyTo(values);
        public void AllReduceSum(Span<float> values) => Copy(Exchange(ToDoubles(values), root: null), values);
        public void AllReduceSum(Span<double> values) => Exchange(values.ToArray(), root: null).CopyTo(values);

        private static double[] ToDoubles(ReadOnlySpan<float> values)
        {
            var result = new double[values.Length];
            for (int i = 0; i < values.Length; i++) result[i] = values[i];
            return result;
        }

        // A sum of two floats is exact in double, so rounding it to float gives the float sum's bits.
        private static void Copy(double[] from, Span<float> to)
        {
            for (int i = 0; i < to.Length; i++) to[i] = (float)from[i];
        }

        /// <summary>Publish this rank's values, wait for all, then take the root's (broadcast) or the sum in rank order.</summary>
        private double[] Exchange(double[] mine, int? root)
        {
            group._slots[rank] = mine;
            Barrier();
            var result = new double[mine.Length];
            for (int i = 0; i < mine.Length; i++)
            {
                if (root is int r) { result[i] = group._slots[r][i]; continue; }
                double sum = group._slots[0][i];
                for (int k = 1; k < Size; k++) sum += group._slots[k][i];
                result[i] = sum;
            }
            Barrier();
            return result;
        }
    }
}
