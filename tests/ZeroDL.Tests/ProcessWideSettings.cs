namespace ZeroDL.Tests;

/// <summary>
/// Tests that count something process-wide (garbage collections, bytes allocated) or need the worker pool to
/// themselves belong to this collection, which xUnit runs alone after the parallel ones. The kernels have no
/// process-wide settings: a test that wants another kernel or thread count passes <c>GemmOptions</c> or limits its
/// own thread with <c>Gemm.LimitThreadsOnThisThread</c>.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideSettings
{
    public const string Name = "process-wide measurements";
}
