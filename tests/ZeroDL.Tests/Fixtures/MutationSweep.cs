using System.Buffers.Binary;
using System.Diagnostics;
using ZeroDL.Data;

namespace ZeroDL.Tests.Fixtures;

/// <summary>A size or count field of a format: where it sits in the seed file, how wide it is, and its byte order.</summary>
public sealed record SizeField(string Name, int Offset, int Width, bool BigEndian);

/// <summary>What a sweep did: how many cases, how many parsed, how many were refused, and the worst allocation seen.</summary>
public sealed record SweepReport(int Cases, int Parsed, int Refused, long MaxAllocatedBytes, string WorstCase, TimeSpan Slowest);

/// <summary>
/// A deterministic mutation sweep of a parser: from a valid seed file it derives cases by truncation at every region,
/// size fields set to 0, −1, 2³¹ and 2⁶³, single and multiple bit flips, and overwritten bytes, all from one seeded
/// generator so a failure reproduces. Each case must either parse or throw <see cref="DataFormatException"/>; any
/// other exception type fails the sweep, as does a case that allocates more than the stated bound on this thread.
/// </summary>
public static class MutationSweep
{
    /// <summary>The cases of a sweep, named so that a failure says which mutation it was.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Cases(byte[] seed, IReadOnlyList<SizeField> sizeFields, int count, int rngSeed = 18)
    {
        var rng = new Random(rngSeed);
        int produced = 0;

        // Truncation at every length for a small seed, else at every region boundary and its neighbours plus a spread.
        var cuts = new SortedSet<int>();
        if (seed.Length <= 2048) for (int n = 0; n < seed.Length; n++) cuts.Add(n);
        else
        {
            for (int n = 0; n < 1024; n++) cuts.Add(n);
            for (int k = 0; k < 512; k++) cuts.Add((int)((long)seed.Length * k / 512));
            foreach (var f in sizeFields)
                for (int d = -2; d <= f.Width + 2; d++) cuts.Add(Math.Clamp(f.Offset + d, 0, seed.Length - 1));
        }
        foreach (int n in cuts) { yield return ($"truncated to {n} bytes", seed[..n]); produced++; }

        // Every size field set to each hostile value, in its own width and byte order.
        ulong[] hostile = [0, ulong.MaxValue, 1UL << 31, 1UL << 63, (1UL << 31) - 1, (1UL << 32) - 1, 1UL << 32];
        foreach (var f in sizeFields)
            foreach (ulong v in hostile)
            {
                var b = (byte[])seed.Clone();
                WriteField(b, f, v);
                yield return ($"{f.Name} (offset {f.Offset}) set to {v}", b);
                produced++;
            }

        // Pairs of size fields set together, so a check on one cannot be passed by the other's consistency.
        for (int i = 0; i < sizeFields.Count; i++)
            for (int j = i + 1; j < sizeFields.Count; j++)
            {
                var b = (byte[])seed.Clone();
                WriteField(b, sizeFields[i], 1UL << 31);
                WriteField(b, sizeFields[j], 1UL << 31);
                yield return ($"{sizeFields[i].Name} and {sizeFields[j].Name} set to 2^31", b);
                produced++;
            }

        // The rest: 1 to 4 bit flips, or a run of bytes overwritten with 0x00, 0xFF or random values.
        while (produced < count)
        {
            var b = (byte[])seed.Clone();
            string name;
            if (b.Length == 0) { name = "empty"; }
            else if (rng.Next(3) > 0)
            {
                int flips = 1 + rng.Next(4);
                var where = new List<string>();
                for (int k = 0; k < flips; k++)
                {
                    int at = rng.Next(b.Length), bit = rng.Next(8);
                    b[at] ^= (byte)(1 << bit);
                    where.Add($"{at}.{bit}");
                }
                name = $"bits flipped at {string.Join(", ", where)}";
            }
            else
            {
                int at = rng.Next(b.Length), len = Math.Min(1 + rng.Next(8), b.Length - at), kind = rng.Next(3);
                for (int k = 0; k < len; k++) b[at + k] = kind switch { 0 => 0x00, 1 => 0xFF, _ => (byte)rng.Next(256) };
                name = $"{len} bytes at {at} overwritten ({(kind == 0 ? "0x00" : kind == 1 ? "0xFF" : "random")})";
            }
            yield return (name, b);
            produced++;
        }
    }

    /// <summary>
    /// Runs <paramref name="parse"/> on every case. Throws (failing the test) on an exception other than
    /// <see cref="DataFormatException"/>, or when a case allocates more than <paramref name="maxAllocatedBytes"/>.
    /// </summary>
    public static SweepReport Run(byte[] seed, IReadOnlyList<SizeField> sizeFields, Action<byte[]> parse, long maxAllocatedBytes,
        int count = 10_000, int rngSeed = 18)
    {
        int cases = 0, parsed = 0, refused = 0;
        long worst = 0;
        string worstName = "";
        var slowest = TimeSpan.Zero;
        foreach (var (name, bytes) in Cases(seed, sizeFields, count, rngSeed))
        {
            cases++;
            long before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            try
            {
                parse(bytes);
                parsed++;
            }
            catch (DataFormatException) { refused++; }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"case {cases} ({name}): {e.GetType().Name} instead of a DataFormatException: {e.Message}");
            }
            clock.Stop();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > worst) { worst = allocated; worstName = name; }
            if (clock.Elapsed > slowest) slowest = clock.Elapsed;
            if (allocated > maxAllocatedBytes)
                throw new Xunit.Sdk.XunitException($"case {cases} ({name}): allocated {allocated:N0} bytes, above the bound of {maxAllocatedBytes:N0}");
        }
        return new SweepReport(cases, parsed, refused, worst, worstName, slowest);
    }

    private static void WriteField(byte[] b, SizeField f, ulong v)
    {
        if (f.Offset + f.Width > b.Length) return;
        var span = b.AsSpan(f.Offset, f.Width);
        switch (f.Width)
        {
            case 1: span[0] = (byte)v; break;
            case 2: if (f.BigEndian) BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)v); break;
            case 4: if (f.BigEndian) BinaryPrimitives.WriteUInt32BigEndian(span, (uint)v); else BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)v); break;
            case 8: if (f.BigEndian) BinaryPrimitives.WriteUInt64BigEndian(span, v); else BinaryPrimitives.WriteUInt64LittleEndian(span, v); break;
            default: throw new ArgumentException($"a size field is 1, 2, 4 or 8 bytes wide, not {f.Width}");
        }
    }
}
