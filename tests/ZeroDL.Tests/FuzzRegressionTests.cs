using ZeroDL.Fuzzing;

namespace ZeroDL.Tests;

/// <summary>
/// The fuzz targets (fuzz/ZeroDL.Fuzz runs them under afl-fuzz) replayed in the unit suite: every seed of
/// fuzz/corpus/&lt;target&gt; is a valid file and parses, and every input the fuzzer found crashing or hanging a
/// parser, kept in tests/ZeroDL.Tests/data/fuzz/&lt;target&gt;/, now ends in a valid result or a DataFormatException,
/// within a time and allocation bound.
/// </summary>
public class FuzzRegressionTests
{
    // The fuzz harness caps the managed heap at 512 MiB (fuzz/run.sh); a file it found is held to the same bound.
    private const long MaxAllocatedBytes = 512L << 20;

    // afl-fuzz records an input as a hang after 2 s; on a loaded CI machine a finding may take a few times longer.
    private static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(10);

    private static string FindingsRoot => Path.Combine(TestPaths.RepoRoot, "tests", "ZeroDL.Tests", "data", "fuzz");
    private static string CorpusRoot => Path.Combine(TestPaths.RepoRoot, "fuzz", "corpus");

    public static TheoryData<string, string> Seeds() => Files(CorpusRoot);

    public static TheoryData<string, string> Findings() => Files(FindingsRoot);

    private static TheoryData<string, string> Files(string root)
    {
        var data = new TheoryData<string, string>();
        foreach (string target in FuzzTargets.Names)
        {
            string dir = Path.Combine(root, target);
            if (!Directory.Exists(dir)) continue;
            foreach (string file in Directory.GetFiles(dir).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
                data.Add(target, Path.GetFileName(file));
        }
        return data;
    }

    [Fact]
    public void Every_target_has_a_seed_corpus()
    {
        foreach (string target in FuzzTargets.Names)
            Assert.True(Directory.Exists(Path.Combine(CorpusRoot, target)) && Directory.GetFiles(Path.Combine(CorpusRoot, target)).Length > 0,
                $"fuzz/corpus/{target} has no seeds");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_seed_is_valid(string target, string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(CorpusRoot, target, file));
        Assert.True(bytes.Length <= 4096, $"seed {target}/{file} has {bytes.Length} bytes; afl-fuzz works best on small seeds");
        Assert.True(FuzzTargets.Run(target, bytes, TestPaths.NewTempDirectory()), $"seed {target}/{file} was refused");
    }

    [Theory]
    [MemberData(nameof(Findings))]
    public void A_fuzz_finding_is_refused_cleanly_or_parsed(string target, string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(FindingsRoot, target, file));
        string scratch = TestPaths.NewTempDirectory();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        FuzzTargets.Run(target, bytes, scratch); // throws on anything but a valid result or a DataFormatException
        clock.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= MaxAllocatedBytes, $"{target}/{file}: allocated {allocated:N0} bytes, more than {MaxAllocatedBytes:N0}");
        Assert.True(clock.Elapsed <= MaxTime, $"{target}/{file}: took {clock.Elapsed.TotalSeconds:F1} s, more than {MaxTime.TotalSeconds} s");
    }
}
