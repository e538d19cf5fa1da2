namespace ZeroDL;

/// <summary>
/// The library's one source of randomness: xoshiro256** (Blackman and Vigna) seeded through SplitMix64, with
/// uniform, integer and normal draws. The same seed gives the same sequence on every run and machine, and a
/// draw costs a few nanoseconds, which matters for dropout masks drawn per element.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    public Rng(int seed)
    {
        Seed = seed;
        ulong x = (ulong)(uint)seed ^ 0x5DEECE66DUL;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    public int Seed { get; }

    /// <summary>
    /// The generator's whole state: the four xoshiro256** words and the spare normal draw that
    /// <see cref="NextGaussian"/> keeps. A generator given a state draws exactly what the one it was read from
    /// draws next (a checkpoint stores it so a resumed run continues every random stream).
    /// </summary>
    /// <exception cref="ArgumentException">on set: all four words zero (xoshiro's one invalid state) or a non-finite spare.</exception>
    public RngState State
    {
        get => new(_s0, _s1, _s2, _s3, _spareNormal);
        set
        {
            value.Validate();
            (_s0, _s1, _s2, _s3, _spareNormal) = (value.S0, value.S1, value.S2, value.S3, value.SpareNormal);
        }
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive), without modulo bias (Lemire's multiply-and-reject).</summary>
    public int Next(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "must be positive");
        uint range = (uint)maxExclusive;
        while (true)
        {
            ulong m = (ulong)(uint)(NextUInt64() >> 32) * range;
            uint low = (uint)m;
            if (low >= range || low >= unchecked(0u - range) % range) return (int)(m >> 32);
        }
    }

    /// <summary>
    /// Fills <paramref name="values"/> with uniform draws in [low, high): value i is (float)(low + (high − low)·u) for
    /// the i-th <see cref="NextDouble"/> u — the same numbers as calling NextDouble in a loop, with the generator's
    /// state kept in registers.
    /// </summary>
    public void FillUniform(Span<float> values, double low, double high)
    {
        ulong s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        double width = high - low;
        for (int i = 0; i < values.Length; i++)
        {
            ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
            ulong t = s1 << 17;
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
            s2 ^= t;
            s3 = ulong.RotateLeft(s3, 45);
            values[i] = (float)(low + width * ((result >> 11) * (1.0 / (1UL << 53))));
        }
        _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
    }

    /// <summary>Fills <paramref name="mask"/> with <paramref name="keep"/> where a uniform draw exceeds <paramref name="ratio"/>, else 0 (a dropout mask).</summary>
    public void FillDropoutMask<T>(Span<T> mask, double ratio, T keep) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        // Two 32-bit draws per 64-bit step; u > ratio with u = bits / 2^32.
        ulong threshold = (ulong)(ratio * 4294967296.0);
        int i = 0;
        if (typeof(T) == typeof(float) && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && threshold <= uint.MaxValue)
        {
            // 8 lanes per 4 draws, compared and masked without a branch per element.
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(mask);
            var limit = System.Runtime.Intrinsics.Vector256.Create((uint)threshold);
            var keepBits = System.Runtime.Intrinsics.Vector256.AsUInt32(System.Runtime.Intrinsics.Vector256.Create(float.CreateTruncating(keep)));
            for (; i + 8 <= floats.Length; i += 8)
            {
                var bits = System.Runtime.Intrinsics.Vector256.AsUInt32(System.Runtime.Intrinsics.Vector256.Create(NextUInt64(), NextUInt64(), NextUInt64(), NextUInt64()));
                var kept = System.Runtime.Intrinsics.Vector256.GreaterThan(bits, limit);
                System.Runtime.Intrinsics.Vector256.StoreUnsafe(System.Runtime.Intrinsics.Vector256.AsSingle(kept & keepBits), ref floats[i]);
            }
        }
        for (; i + 1 < mask.Length; i += 2)
        {
            ulong bits = NextUInt64();
            mask[i] = (bits >> 32) > threshold ? keep : T.Zero;
            mask[i + 1] = (bits & 0xFFFFFFFFUL) > threshold ? keep : T.Zero;
        }
        if (i < mask.Length) mask[i] = (NextUInt64() >> 32) > threshold ? keep : T.Zero;
    }

    /// <summary>Standard normal N(0, 1) by the Box–Muller transform.</summary>
    public double NextGaussian()
    {
        if (_spareNormal is double spare) { _spareNormal = null; return spare; }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Next(i + 1);
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
    public Rng Fork() => new((int)(NextUInt64() >> 33));
}
