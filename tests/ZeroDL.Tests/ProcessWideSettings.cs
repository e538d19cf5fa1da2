namespace ZeroDL.Tests;

/// <summary>
/// Tests that change a process-wide setting (the forced micro-kernel, <c>Gemm.MaxThreads</c>,
/// <c>Gemm.ParallelThreshold</c>), count something process-wide (garbage collections) or need the worker pool to
/// themselves belong to this collection, which xUnit runs alone after the parallel ones. Run beside other tests, a
/// forced kernel changed the tile shape under another test's product (its split and its slabs could read different
/// kernels), and two tests saving and restoring the same setting could leave each other's value behind. Tests
/// elsewhere limit threads with <c>Gemm.LimitThreadsOnThisThread</c>, which touches only their own thread.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideSettings
{
    public const string Name = "process-wide kernel settings";
}
