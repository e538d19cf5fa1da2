using System.CommandLine;
using System.Globalization;

namespace ZeroDL.Cli;

/// <summary>A bad command-line value: reported in one line with exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

internal static class Cli
{
    public const int Success = 0, FileError = 1, UsageError = 2;
    /// <summary>A signal stopped the command (Ctrl+C's code; <see cref="Termination"/> reports the signal's own: 143 for SIGTERM).</summary>
    public const int Interrupted = 130;
    /// <summary>Training stopped because the loss, a gradient or a weight became NaN or infinite (zerodl train).</summary>
    public const int Diverged = 3;

    /// <summary>
    /// "Cannot parse argument 'abc' for option '--epochs' as expected type 'System.Nullable`1[System.Int32]'" reads,
    /// for a person, "… for option '--epochs': expected a whole number".
    /// </summary>
    public static string PlainTypeNames(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @" as expected type '(?:System\.Nullable`1\[)?System\.(\w+)\]?'\.?", m => ": expected " + m.Groups[1].Value switch
        {
            "Int32" or "Int64" => "a whole number",
            "Double" or "Single" => "a number",
            "Boolean" => "true or false",
            var other => "a value of type " + other,
        });

    public static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var r = parsed.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return string.Join(' ', names);
    }

    /// <summary>Parses "0", "3..7", "1,5,9" (and mixtures) into indices, each checked against <paramref name="count"/>.</summary>
    public static List<int> ParseIndices(string text, int count)
    {
        var result = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var range = part.Split("..");
            if (range.Length > 2 || !TryIndex(range[0], out int from) || !TryIndex(range[^1], out int to) || to < from)
                throw new UsageException($"--index '{part}' is not an index or a range like 0..9");
            if (to >= count) throw new UsageException($"--index {to} is outside the test set (0..{count - 1})");
            if (to - from > 100_000) throw new UsageException($"--index range '{part}' is too long");
            for (int i = from; i <= to; i++) result.Add(i);
        }
        if (result.Count == 0) throw new UsageException("--index names no image");
        return result;

        static bool TryIndex(string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
    }

    public static int[] ParseSizes(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1 || sizes[i] > 65536)
                throw new UsageException($"{option} '{text}' must be a comma-separated list of sizes between 1 and 65536, e.g. 512,512");
        if (sizes.Length == 0) throw new UsageException($"{option} needs at least one size");
        return sizes;
    }

    /// <summary>
    /// An architecture JSON file (the schema of a model file's architecture; docs/architecture.md), checked layer by
    /// layer. A missing, unreadable or invalid file is a <see cref="ZeroDL.Data.DataFormatException"/> naming it (exit 1).
    /// </summary>
    public static ZeroDL.Models.Architecture LoadArchitecture(string path)
    {
        var bytes = ZeroDL.Data.DataFile.ReadAllBytes(path);
        string json;
        // A UTF-8 byte-order mark (as Windows editors write) is not part of the JSON; GetString would keep it as U+FEFF.
        int start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        try { json = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, start, bytes.Length - start); }
        catch (System.Text.DecoderFallbackException) { throw ZeroDL.Data.DataFormatException.For(path, "not UTF-8 text"); }
        try { return ZeroDL.Models.Architecture.FromJson(json); }
        catch (FormatException e) { throw ZeroDL.Data.DataFormatException.For(path, e.Message, e); }
    }

    /// <summary>f16 or f32 (the --dtype of train and convert).</summary>
    public static ZeroDL.Serialization.StoredType ParseStoredType(string text) => text.Trim().ToLowerInvariant() switch
    {
        "f16" or "float16" or "half" => ZeroDL.Serialization.StoredType.F16,
        "f32" or "float32" => ZeroDL.Serialization.StoredType.F32,
        _ => throw new UsageException($"unknown --dtype '{text}': use f16 or f32"),
    };

    /// <summary>A monitored value for a message: a loss to 4 decimals, in the invariant culture.</summary>
    public static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    public static string Percent(double accuracy) => (accuracy * 100).ToString("F2", CultureInfo.InvariantCulture) + " %";
}
