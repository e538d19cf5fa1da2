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

    /// <summary>One update of every parameter from its current gradient.</summary>
    public virtual void Step(IEnumerable<Parameter<T>> parameters)
    {
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
