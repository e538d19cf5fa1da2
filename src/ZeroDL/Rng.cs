namespace ZeroDL;

/// <summary>
/// The library's one source of randomness: a seeded generator with uniform and normal draws.
/// The same seed gives the same sequence on every run and machine (System.Random with a seed is stable).
/// </summary>
public sealed class Rng
{
    private readonly Random _random;
    private double? _spareNormal;

    public Rng(int seed) { Seed = seed; _random = new Random(seed); }

    public int Seed { get; }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => _random.NextDouble();

    /// <summary>Uniform integer in [0, maxExclusive).</summary>
    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    /// <summary>Standard normal N(0, 1) by the Box–Muller transform.</summary>
    public double NextGaussian()
    {
        if (_spareNormal is double spare) { _spareNormal = null; return spare; }
        double u1;
        do u1 = _random.NextDouble(); while (u1 <= double.Epsilon);
        double u2 = _random.NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = _random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A permutation of 0..n−1.</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Shuffle(p);
        return p;
    }

    /// <summary>Derives an independent generator (e.g. one per dropout layer) from this one.</summary>
    public Rng Fork() => new(_random.Next());
}
