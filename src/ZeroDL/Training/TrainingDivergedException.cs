using System.Globalization;

namespace ZeroDL.Training;

/// <summary>What was found not finite when a run diverged.</summary>
public enum DivergedQuantity
{
    /// <summary>The mini-batch's loss (every gradient and weight was finite).</summary>
    Loss,
    /// <summary>A parameter's gradient, before the optimizer used it (the weights were not changed).</summary>
    Gradient,
    /// <summary>A parameter's value, after the optimizer's step.</summary>
    Parameter,
}

/// <summary>
/// A run stopped because a mini-batch's loss, a gradient or a weight was NaN or infinite (issue 19 §3's divergence
/// guard): <see cref="Iteration"/> is the mini-batch (from 1), <see cref="Layer"/> and <see cref="Parameter"/> the first
/// in layer order where a non-finite value was found (null when only the loss was), <see cref="Quantity"/> what it
/// was. No checkpoint is handed out for that iteration or after it, so the last one handed out is the last good state.
/// The message suggests a lower learning rate.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    public TrainingDivergedException(int iteration, DivergedQuantity quantity, string? layer, string? parameter, double loss, double learningRate)
        : base(Describe(iteration, quantity, layer, parameter, loss, learningRate))
    {
        Iteration = iteration; Quantity = quantity; Layer = layer; Parameter = parameter; Loss = loss; LearningRate = learningRate;
    }

    public int Iteration { get; }
    public DivergedQuantity Quantity { get; }
    /// <summary>The layer's name ("affine2"), or null.</summary>
    public string? Layer { get; }
    /// <summary>The parameter's full name ("affine2.W"), or null.</summary>
    public string? Parameter { get; }
    /// <summary>The mini-batch's loss (may itself be finite when a gradient or weight was not).</summary>
    public double Loss { get; }
    /// <summary>The learning rate the optimizer was set to (before any schedule).</summary>
    public double LearningRate { get; }

    private static string Describe(int iteration, DivergedQuantity quantity, string? layer, string? parameter, double loss, double rate)
    {
        var inv = CultureInfo.InvariantCulture;
        string where = quantity switch
        {
            DivergedQuantity.Loss => $"the loss is {loss.ToString(inv)} (every gradient and weight finite)",
            DivergedQuantity.Gradient => $"the gradient of {parameter} (layer {layer}) is not finite{(double.IsFinite(loss) ? "" : $", the loss is {loss.ToString(inv)}")}",
            _ => $"the weights of {parameter} (layer {layer}) are not finite after the optimizer's step",
        };
        return $"training diverged at iteration {iteration}: {where}; try a lower learning rate than {rate.ToString("G", inv)}, e.g. {(rate / 10).ToString("G3", inv)}";
    }
}
