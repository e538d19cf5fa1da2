using System.Numerics;

namespace ZeroDL.Optimizers;

/// <summary>
/// What an optimizer carries from one step to the next (PyTorch's optimizer <c>state_dict</c>): which optimizer
/// (<see cref="Optimizer"/>, its <see cref="Optimizer{T}.Name"/>), how many steps it took (<see cref="Steps"/>; Adam's
/// bias correction depends on it), the names of the arrays it keeps per parameter (<see cref="StateNames"/>) and,
/// per parameter name, those arrays in that order (<see cref="Parameters"/>; a parameter never stepped has none).
/// Hyper-parameters (learning rate, β) are the run's options, not state. The arrays are the state's own copies:
/// the constructor copies what it is given and <see cref="Slot"/> hands out read-only views.
/// </summary>
public sealed class OptimizerState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<string, T[][]> _parameters;

    /// <exception cref="ArgumentException">a negative step count, or a parameter whose array count is not the number of state names.</exception>
    public OptimizerState(string optimizer, int steps, IReadOnlyList<string> stateNames, IReadOnlyDictionary<string, IReadOnlyList<T[]>> parameters)
    {
        if (steps < 0) throw new ArgumentException($"step count {steps} is negative");
        Optimizer = optimizer;
        Steps = steps;
        StateNames = [.. stateNames];
        _parameters = new Dictionary<string, T[][]>(StringComparer.Ordinal);
        foreach (var (name, slots) in parameters)
        {
            if (slots.Count != StateNames.Count) throw new ArgumentException($"parameter '{name}': {slots.Count} arrays for {StateNames.Count} state names");
            _parameters.Add(name, [.. slots.Select(a => (T[])a.Clone())]);
        }
    }

    public string Optimizer { get; }
    public int Steps { get; }
    public IReadOnlyList<string> StateNames { get; }

    /// <summary>The parameters that have state, in the order they were given.</summary>
    public IReadOnlyList<string> ParameterNames => [.. _parameters.Keys];

    /// <summary>Parameter name → its arrays in <see cref="StateNames"/> order (copies: changing them changes nothing here).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<T[]>> Parameters =>
        _parameters.ToDictionary(p => p.Key, p => (IReadOnlyList<T[]>)[.. p.Value.Select(a => (T[])a.Clone())], StringComparer.Ordinal);

    /// <summary>One array of one parameter, read-only (no copy): <paramref name="slot"/> indexes <see cref="StateNames"/>.</summary>
    public ReadOnlyMemory<T> Slot(string parameter, int slot) => _parameters[parameter][slot];
}
