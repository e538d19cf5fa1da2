using System.Diagnostics;
using System.Globalization;
using ZeroDL.Data;

namespace ZeroDL.Serialization;

/// <summary>
/// Writes a file so that an interrupted run never leaves a half-written one: the content goes to a temporary
/// file in the same directory, is flushed to disk, and then replaces the target in one rename, which an fsync of the
/// folder (and of the parent of each folder the save created) makes durable on Linux.
/// </summary>
/// <remarks>
/// The temporary file is named <c>.NAME.PID.RANDOM.zerodl-tmp</c> (<c>PID</c> the writing process, <c>RANDOM</c> 32 hex
/// digits), next to its destination: a rename within one folder is atomic, and a user who finds one knows what it is.
/// A write that throws deletes its temporary file; one killed outright (SIGKILL, power loss) cannot, so every write
/// first removes the stale temporary files of its destination folder, those whose writer is gone (see
/// <see cref="RemoveStaleTemporaryFiles"/>). Cleaning there rather than at a program's start covers every writer
/// (CLI, web app, experiments) and touches only folders ZeroDL writes to.
/// </remarks>
public static class AtomicFile
{
    /// <summary>The suffix of every temporary file this class writes.</summary>
    public const string TemporarySuffix = ".zerodl-tmp";

    // The name earlier versions used (.NAME.PID.GUID.tmp): their orphans are cleaned up too.
    private const string LegacySuffix = ".tmp";

    // A process whose start is later than a temporary file's last write (by more than this margin, which covers the
    // coarse clock /proc start times are derived from) cannot have written it: the PID was reused.
    private static readonly TimeSpan StartTimeMargin = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/> atomically: readers see the old file or the
    /// complete new one, never a part. Creates the folder if needed. If <paramref name="write"/> throws, the
    /// temporary file is deleted, the target is left as it was, and the exception propagates.
    /// </summary>
    /// <exception cref="DataFormatException"><paramref name="path"/> is a folder (refused before <paramref name="write"/>
    /// runs), or the file cannot be written there (no room, no permission, a file where a folder should be): the message
    /// names the path.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        CheckDestination(path);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string? temp = null;
        try
        {
            var created = MissingFolders(dir);
            Directory.CreateDirectory(dir);
            RemoveStaleTemporaryFiles(dir);
            temp = TemporaryPath(full, Environment.ProcessId);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            temp = null;
            // The rename is durable only once the folder is synced (Linux only, see DirectorySync). Its errors are
            // ignored: a folder that cannot be synced (a file system that refuses, no permission to open it) is no
            // reason to fail a save that readers already see, although a power cut may then undo it.
            DirectorySync.Sync(dir);
            // A folder this save created is itself an entry in its parent, which a power cut can lose likewise.
            foreach (string folder in created) DirectorySync.Sync(Path.GetDirectoryName(folder)!);
        }
        catch (Exception e)
        {
            if (temp is not null) try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (e is IOException or UnauthorizedAccessException) throw DataFormatException.For(path, $"cannot write: {e.Message}", e);
            throw;
        }
    }

    /// <summary><paramref name="dir"/> and those of its ancestors that do not exist, deepest first.</summary>
    private static List<string> MissingFolders(string dir)
    {
        var missing = new List<string>();
        for (string? d = dir; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Add(d);
        return missing;
    }

    /// <summary>
    /// Throws a <see cref="DataFormatException"/> naming <paramref name="path"/> when it cannot be the destination of a
    /// <see cref="Write"/>: a folder (the rename would fail only after the whole file was written), a named pipe, a
    /// socket or a device (the rename would replace it with a regular file). A command that works
    /// long before it saves (training) calls this first, so that a wrong --out costs nothing.
    /// </summary>
    public static void CheckDestination(string path)
    {
        if (Directory.Exists(path)) throw DataFormatException.For(path, "is a folder; name a file to write");
        // The rename would replace a named pipe or a device (as root, /dev/null itself) with a regular file.
        if (FileKind.NotRegular(path) is { } kind) throw DataFormatException.For(path, $"is {kind}, not a regular file; name a file to write");
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark) through <see cref="Write"/>.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { var bytes = System.Text.Encoding.UTF8.GetBytes(text); s.Write(bytes); });

    /// <summary>The temporary file a write of <paramref name="fullPath"/> by process <paramref name="processId"/> uses.</summary>
    internal static string TemporaryPath(string fullPath, int processId) =>
        Path.Combine(Path.GetDirectoryName(fullPath)!,
            $".{Path.GetFileName(fullPath)}.{processId.ToString(CultureInfo.InvariantCulture)}.{Guid.NewGuid():N}{TemporarySuffix}");

    /// <summary>
    /// Deletes the temporary files in <paramref name="directory"/> (this class's, and the <c>.NAME.PID.GUID.tmp</c>
    /// of earlier versions) whose writer is gone: no process has that PID, or the process that has it started after
    /// the file was last written (a reused PID, as in containers where every run is PID 1). A file whose writer may
    /// still run is kept. Files that vanish or cannot be deleted meanwhile are skipped. Returns how many it deleted.
    /// </summary>
    /// <remarks>
    /// Liveness is judged on this machine: a folder shared with another machine or PID namespace could see a live
    /// writer there judged dead here; that writer's rename then fails with an exception, it never leaves a bad file.
    /// </remarks>
    public static int RemoveStaleTemporaryFiles(string directory)
    {
        int removed = 0;
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(directory, ".*").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
        foreach (string file in candidates)
        {
            if (!TryParseTemporaryName(Path.GetFileName(file), out int pid)) continue;
            try
            {
                if (WriterMayBeAlive(pid, File.GetLastWriteTimeUtc(file))) continue;
                File.Delete(file);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>
    /// Whether <paramref name="fileName"/> is a temporary file of this class (or of earlier versions), and the PID of
    /// its writer: <c>.NAME.PID.HEX32.zerodl-tmp</c> or <c>.NAME.PID.HEX32.tmp</c>, NAME non-empty.
    /// </summary>
    internal static bool TryParseTemporaryName(string fileName, out int processId)
    {
        processId = 0;
        string stem;
        if (fileName.EndsWith(TemporarySuffix, StringComparison.Ordinal)) stem = fileName[..^TemporarySuffix.Length];
        else if (fileName.EndsWith(LegacySuffix, StringComparison.Ordinal)) stem = fileName[..^LegacySuffix.Length];
        else return false;
        if (!stem.StartsWith('.')) return false;
        int lastDot = stem.LastIndexOf('.');
        if (lastDot < 0 || stem.Length - lastDot - 1 != 32 || !stem[(lastDot + 1)..].All(char.IsAsciiHexDigit)) return false;
        int pidDot = stem.LastIndexOf('.', lastDot - 1);
        if (pidDot <= 1) return false; // the name between the leading dot and the PID is empty
        string pid = stem[(pidDot + 1)..lastDot];
        return pid.Length > 0 && pid.All(char.IsAsciiDigit)
            && int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out processId) && processId > 0;
    }

    private static bool WriterMayBeAlive(int processId, DateTime lastWriteUtc)
    {
        if (processId == Environment.ProcessId)
        {
            using var self = Process.GetCurrentProcess();
            return self.StartTime.ToUniversalTime() <= lastWriteUtc + StartTimeMargin;
        }
        try
        {
            using var process = Process.GetProcessById(processId);
            if (process.HasExited) return false;
            return process.StartTime.ToUniversalTime() <= lastWriteUtc + StartTimeMargin;
        }
        catch (ArgumentException) { return false; }                 // no process has this PID
        catch (InvalidOperationException) { return false; }         // it exited while we looked
        catch (System.ComponentModel.Win32Exception) { return true; } // not ours to inspect: assume it runs
        catch (NotSupportedException) { return true; }
    }
}
