namespace ZeroDL.Distributed;

/// <summary>
/// The collective operations data-parallel training needs from a group of <see cref="Size"/> processes, each knowing
/// its <see cref="Rank"/> (0 … Size − 1). Every rank must make the same calls in the same order. <see cref="OpenMpi"/>
/// is the implementation for real jobs; <see cref="SingleProcess"/> is the group of one.
/// </summary>
public interface ICommunicator
{
    int Rank { get; }
    int Size { get; }
    void Barrier();
    /// <summary>Every rank's <paramref name="values"/> become <paramref name="root"/>'s.</summary>
    void Broadcast(Span<float> values, int root);
    void Broadcast(Span<double> values, int root);
    /// <summary>Every rank's <paramref name="values"/> become the element-wise sum over all ranks (the same on every rank).</summary>
    void AllReduceSum(Span<float> values);
    void AllReduceSum(Span<double> values);
}

/// <summary>The group of one process: every collective leaves the values as they are.</summary>
public sealed class SingleProcess : ICommunicator
{
    public int Rank => 0;
    public int Size => 1;
    public void Barrier() { }
    public void Broadcast(Span<float> values, int root) { }
    public void Broadcast(Span<double> values, int root) { }
    public void AllReduceSum(Span<float> values) { }
    public void AllReduceSum(Span<double> values) { }
}
