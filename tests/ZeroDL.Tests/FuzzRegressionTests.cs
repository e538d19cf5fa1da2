using ZeroDL.Fuzzing;

namespace ZeroDL.Tests;

/// <summary>
/// The fuzz targets (fuzz/ZeroDL.Fuzz runs them under afl-fuzz) in the unit suite: every seed of
/// fuzz/corpus/&lt;target&gt; is a small valid file that its target parses.
/// </summary>
public class FuzzRegressionTests
{
    private static string CorpusRoot => Path.Combine(TestPaths.RepoRoot, "fuzz", "corpus");

    public static TheoryData<string, string> Seeds() => Files(CorpusRoot);

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
}
