using ZeroDL.Distributed;
using ZeroDL.Models;

namespace ZeroDL.Training;

/// <summary>
/// What one rank of a data-parallel run does beyond training alone, on its <see cref="ICommunicator"/>: start from
/// rank 0's weights, and after every backward pass turn its shard's gradient into the global batch's by one
/// allreduce of a flat buffer. Each rank's gradient is the mean over its shard; weighting it by the shard's share of
/// the global batch and summing over ranks gives the mean over the global batch, which is what one process with the
/// global batch computes (up to the order of the float sums). BatchNorm's batch statistics stay per rank, as
/// PyTorch's DistributedDataParallel without SyncBatchNorm; its running statistics are averaged at epoch ends.
/// </summary>
internal sealed class DataParallel(ICommunicator group, Sequential<float> net)
{
    private readonly float[] _flat = new float[net.Parameters.Sum(p => p.Grad.Size)];
    private readonly double[] _scalars = new double[2];

    public ICommunicator Group => group;

    /// <summary>Time spent in <see cref="Reduce"/>'s collectives so far (waiting for the slowest rank included).</summary>
    public TimeSpan CommunicationTime => _clock.Elapsed;
    private readonly System.Diagnostics.Stopwatch _clock = new();

    /// <summary>Every rank's weights and running statistics become rank 0's.</summary>
    public void BroadcastState()
    {
        foreach (var (_, tensor) in net.NamedTensors()) group.Broadcast(tensor.Span, root: 0);
    }

    /// <summary>
    /// Replaces this rank's gradients by the global batch's and returns the global batch's loss, and whether any
    /// rank asked to stop (all ranks then stop after this same mini-batch, so their collectives stay in step).
    /// </summary>
    public (double Loss, bool Stop) Reduce(double loss, int count, int globalCount, bool stop)
    {
        float share = (float)count / globalCount;
        int offset = 0;
        foreach (var p in net.Parameters)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad.ReadOnlySpan, share, _flat.AsSpan(offset, p.Grad.Size));
            offset += p.Grad.Size;
        }
        _clock.Start();
        group.AllReduceSum(_flat);
        _clock.Stop();
        offset = 0;
        foreach (var p in net.Parameters)
        {
            _flat.AsSpan(offset, p.Grad.Size).CopyTo(p.Grad.Span);
            offset += p.Grad.Size;
        }
        _scalars[0] = loss * count / globalCount;
        _scalars[1] = stop ? 1 : 0;
        _clock.Start();
        group.AllReduceSum(_scalars);
        _clock.Stop();
        return (_scalars[0], _scalars[1] > 0);
    }

    /// <summary>Averages every layer's state (BatchNorm's running mean and variance) over the ranks.</summary>
    public void AverageState()
    {
        var parameters = net.Parameters.Select(p => p.Value).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var (_, tensor) in net.NamedTensors())
        {
            if (parameters.Contains(tensor)) continue; // weights are equal on every rank already
            group.AllReduceSum(tensor.Span);
            System.Numerics.Tensors.TensorPrimitives.Multiply(tensor.ReadOnlySpan, 1f / group.Size, tensor.Span);
        }
    }
}
