namespace ZeroDL.Fuzzing;

/// <summary>A parser returned a result that breaks its own contract: a finding, like a crash.</summary>
public sealed class FuzzInvariantException(string message) : Exception(message);
