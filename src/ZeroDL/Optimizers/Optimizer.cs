using System.Numerics;
using ZeroDL.Layers;

namespace ZeroDL.Optimizers;

/// <summary>
/// Updates parameters from their gradients (book ch. 6.1). Per-parameter state (velocities, squared-gradient
/// sums, moments) is created on first use, as in the book, and kept by parameter identity.
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<Parameter<T>, T[][]> _state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(double learningRate)
    {
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning rate must be a positive number");
        LearningRate = learningRate;
    }

    public double LearningRate { get; set; }
    public abstract string Name { get; }

    /// <summary>Steps taken so far (calls of <see cref="Step"/>; <see cref="LoadState"/> sets it).</summary>
    public int Steps { get; private set; }

    /// <summary>
    /// The names of the per-element arrays kept for each parameter, in slot order (Adam: "m", "v"; Momentum and
    /// Nesterov: "v"; AdaGrad and RMSprop: "h"; SGD: none). An optimizer that does not name them gets "state0", ….
    /// </summary>
    public virtual IReadOnlyList<string> StateNames => [.. Enumerable.Range(0, StateSlots).Select(i => $"state{i}")];

    /// <summary>
    /// The <see cref="StateNames"/> that accumulate squared gradients and so are never negative (Adam's "v", AdaGrad's
    /// and RMSprop's "h"): a saved state with a negative one is corrupt, and its square root would make the next step NaN.
    /// </summary>
    public virtual IReadOnlyList<string> NonNegativeStateNames => [];

    /// <summary>One update of every parameter from its current gradient.</summary>
    public virtual void Step(IEnumerable<Parameter<T>> parameters)
    {
        Steps++;
        BeginStep();
        if (parameters is IReadOnlyList<Parameter<T>> list) // a network's list: indexed, so a step allocates nothing
            for (int i = 0; i < list.Count; i++) Update(list[i]);
        else
            foreach (var p in parameters) Update(p);
    }

    private void Update(Parameter<T> p)
    {
        if (!_state.TryGetValue(p, out var state))
        {
            state = new T[StateSlots][];
            for (int i = 0; i < state.Length; i++) state[i] = new T[p.Value.Size];
            _state[p] = state;
        }
        Update(p.Value.Span, p.Grad.ReadOnlySpan, state);
    }

    /// <summary>
    /// A copy of the optimizer's state: its step count and, for each of <paramref name="parameters"/> that has state
    /// (those stepped at least once), its <see cref="StateNames"/> arrays, keyed by the parameter's name. Later steps
    /// do not change the copy.
    /// </summary>
    public OptimizerState<T> SaveState(IEnumerable<(string Name, Parameter<T> Parameter)> parameters)
    {
        var saved = new Dictionary<string, IReadOnlyList<T[]>>(StringComparer.Ordinal);
        foreach (var (name, p) in parameters)
            if (_state.TryGetValue(p, out var slots)) saved.Add(name, [.. slots.Select(a => (T[])a.Clone())]);
        return new OptimizerState<T>(Name, Steps, StateNames, saved);
    }

    /// <summary>
    /// Replaces the optimizer's state with a copy of <paramref name="state"/> (as <see cref="SaveState"/> wrote it for
    /// parameters of the same names): the next <see cref="Step"/> then does exactly what the saved optimizer's next
    /// step did. Throws <see cref="ArgumentException"/> when the state is another optimizer's, names a parameter not
    /// in <paramref name="parameters"/>, or an array's length differs from its parameter's size; on a throw nothing
    /// changed.
    /// </summary>
    public void LoadState(OptimizerState<T> state, IEnumerable<(string Name, Parameter<T> Parameter)> parameters)
    {
        if (state.Optimizer != Name) throw new ArgumentException($"the state is {state.Optimizer}'s, this optimizer is {Name}");
        if (!state.StateNames.SequenceEqual(StateNames)) throw new ArgumentException($"the state keeps [{string.Join(", ", state.StateNames)}], {Name} keeps [{string.Join(", ", StateNames)}]");
        var byName = new Dictionary<string, Parameter<T>>(StringComparer.Ordinal);
        foreach (var (name, p) in parameters) byName[name] = p;
        var loaded = new Dictionary<Parameter<T>, T[][]>(ReferenceEqualityComparer.Instance);
        foreach (string name in state.ParameterNames)
        {
            if (!byName.TryGetValue(name, out var p)) throw new ArgumentException($"the optimizer state names parameter '{name}', which the network does not have");
            var slots = new T[StateSlots][];
            for (int i = 0; i < slots.Length; i++)
            {
                var saved = state.Slot(name, i);
                if (saved.Length != p.Value.Size) throw new ArgumentException($"parameter '{name}': a state array of {saved.Length} values for {p.Value.Size} weights");
                slots[i] = saved.ToArray();
            }
            loaded.Add(p, slots);
        }
        _state.Clear();
        foreach (var (p, slots) in loaded) _state.Add(p, slots);
        Steps = state.Steps;
    }

    /// <summary>Called once per step before the parameters are updated (Adam counts its steps here).</summary>
    protected virtual void BeginStep() { }

    /// <summary>How many arrays of per-element state this optimizer keeps per parameter.</summary>
    protected abstract int StateSlots { get; }

    protected abstract void Update(Span<T> param, ReadOnlySpan<T> grad, T[][] state);

    /// <summary>Creates an optimizer by name (sgd, momentum, nesterov, adagrad, rmsprop, adam); null learning rate = the book's default.</summary>
    public static Optimizer<T> Create(string name, double? learningRate = null) => name.Trim().ToLowerInvariant() switch
    {
        "sgd" => new Sgd<T>(learningRate ?? 0.01),
        "momentum" => new Momentum<T>(learningRate ?? 0.01),
        "nesterov" => new Nesterov<T>(learningRate ?? 0.01),
        "adagrad" => new AdaGrad<T>(learningRate ?? 0.01),
        "rmsprop" => new RmsProp<T>(learningRate ?? 0.01),
        "adam" => new Adam<T>(learningRate ?? 0.001),
        _ => throw new ArgumentException($"unknown optimizer '{name}': use one of {string.Join(", ", Names)}"),
    };

    public static IReadOnlyList<string> Names { get; } = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"];
}
