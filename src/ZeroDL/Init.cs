using System.Globalization;
using System.Numerics;

namespace ZeroDL;

/// <summary>
/// Weight initialisation (book ch. 6.2): a fixed standard deviation, Xavier √(1/n) or He √(2/n), where n is
/// the number of inputs to a unit (the layer's fan-in).
/// </summary>
public readonly record struct WeightInit(string Scheme, double FixedStd)
{
    public static WeightInit He => new("he", 0);
    public static WeightInit Xavier => new("xavier", 0);
    public static WeightInit Std(double std) => new("std", std);

    /// <summary>The standard deviation for a layer with <paramref name="fanIn"/> inputs per unit.</summary>
    public double StdFor(int fanIn) => Scheme switch
    {
        "he" => Math.Sqrt(2.0 / fanIn),
        "xavier" => Math.Sqrt(1.0 / fanIn),
        _ => FixedStd,
    };

    /// <summary>Parses "he" (alias "relu"), "xavier" (alias "sigmoid") or a number such as "0.01", as the book's weight_init_std.</summary>
    public static WeightInit Parse(string text)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "he": case "relu": return He;
            case "xavier": case "sigmoid": return Xavier;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double std) && std >= 0 && double.IsFinite(std))
            return Std(std);
        throw new FormatException($"weight init '{text}' is not 'he', 'xavier' or a non-negative number");
    }

    public override string ToString() => Scheme == "std" ? FixedStd.ToString("R", CultureInfo.InvariantCulture) : Scheme;
}

public static class Init
{
    /// <summary>A tensor of the given shape with elements drawn from N(0, std²).</summary>
    public static NDArray<T> Normal<T>(double std, Rng rng, params ReadOnlySpan<int> shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new NDArray<T>(shape);
        for (int i = 0; i < t.Size; i++) t.Data[i] = T.CreateTruncating(std * rng.NextGaussian());
        return t;
    }
}
