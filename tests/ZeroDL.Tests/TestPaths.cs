namespace ZeroDL.Tests;

/// <summary>Locates the repository's data folders from the test binary's directory.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Mnist => Path.Combine(RepoRoot, "data", "mnist");
    public static string Reference => Path.Combine(RepoRoot, "data", "reference");
    public static string TorchParity => Path.Combine(Reference, "torch_parity");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "data", "mnist", "SHA256SUMS"))) return dir.FullName;
        throw new InvalidOperationException("repository root with data/mnist/SHA256SUMS not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A fresh empty directory under the system temp folder, for tests that write files.</summary>
    public static string NewTempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "zerodl-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

internal static class Check
{
    public static void Close(double expected, double actual, double tolerance, string what = "")
    {
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what} expected {expected:R}, got {actual:R} (tolerance {tolerance})");
    }

    public static void AllClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double tolerance, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0; int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        Assert.True(worst <= tolerance, $"{what}: largest difference {worst:E3} at index {at} (expected {(at >= 0 ? expected[at] : 0):R}, got {(at >= 0 ? actual[at] : 0):R}), tolerance {tolerance:E1}");
    }

    public static void AllClose<T>(NDArray<T> expected, NDArray<T> actual, double tolerance, string what = "") where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Shape, actual.Shape);
        AllClose(expected.ToDoubleArray(), actual.ToDoubleArray(), tolerance, what);
    }
}
