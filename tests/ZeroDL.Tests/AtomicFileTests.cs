using System.Diagnostics;
using ZeroDL.Data;
using ZeroDL.Serialization;

namespace ZeroDL.Tests;

/// <summary>
/// Atomic writes leave nothing behind: a failed write removes its temporary file, and the temporary files of a
/// writer that was killed (its PID dead, or reused by a later process) are removed by the next write to that folder,
/// while a live writer's are kept.
/// </summary>
public class AtomicFileTests
{
    /// <summary>A process that has been started and then killed with SIGKILL: its PID is dead (until reused).</summary>
    private static int DeadProcessId()
    {
        using var p = Process.Start(new ProcessStartInfo("sleep", "60"))!;
        int pid = p.Id;
        p.Kill();
        Assert.True(p.WaitForExit(10_000));
        return pid;
    }

    [Fact]
    public void A_throwing_write_leaves_the_old_file_and_no_temporary_file()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "model.safetensors");
        File.WriteAllText(path, "old");
        string? seen = null;
        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100_000]);
            // What a kill at this point would leave: the temporary file, named so the next write recognises it.
            seen = Assert.Single(Directory.GetFiles(dir, "*" + AtomicFile.TemporarySuffix));
            throw new InvalidOperationException("disk on fire");
        }));
        Assert.Equal("disk on fire", e.Message);
        Assert.NotNull(seen);
        Assert.StartsWith(".model.safetensors.", Path.GetFileName(seen));
        Assert.True(AtomicFile.TryParseTemporaryName(Path.GetFileName(seen), out int pid));
        Assert.Equal(Environment.ProcessId, pid);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir));
    }

    [Fact]
    public void The_next_write_removes_a_dead_writers_temporary_files_and_keeps_a_live_ones()
    {
        string dir = TestPaths.NewTempDirectory();
        string target = Path.Combine(dir, "dense.safetensors");
        string dead = AtomicFile.TemporaryPath(target, DeadProcessId());
        File.WriteAllBytes(dead, new byte[1000]);
        // An earlier version's name for the same thing (.NAME.PID.GUID.tmp), left by a killed save.
        string legacy = Path.Combine(dir, $".dense.safetensors.{DeadProcessId()}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(legacy, []);
        using var live = Process.Start(new ProcessStartInfo("sleep", "60"))!;
        try
        {
            Thread.Sleep(50);
            string alive = AtomicFile.TemporaryPath(target, live.Id);
            File.WriteAllBytes(alive, new byte[10]);
            string ours = AtomicFile.TemporaryPath(Path.Combine(dir, "other.csv"), Environment.ProcessId);
            File.WriteAllBytes(ours, []);
            // Files that merely look similar are not ours to delete.
            string[] bystanders = [Path.Combine(dir, ".bashrc"), Path.Combine(dir, "notes.tmp"), Path.Combine(dir, ".x.123.tmp"),
                Path.Combine(dir, $"..{DeadProcessId()}.{Guid.NewGuid():N}{AtomicFile.TemporarySuffix}")];
            foreach (var b in bystanders) File.WriteAllText(b, "keep");

            AtomicFile.WriteAllText(Path.Combine(dir, "history.csv"), "epoch\n");

            Assert.False(File.Exists(dead), "a dead writer's temporary file survived the next write");
            Assert.False(File.Exists(legacy), "an earlier version's orphan survived the next write");
            Assert.True(File.Exists(alive), "a live writer's temporary file was removed");
            Assert.True(File.Exists(ours), "this process's own temporary file was removed");
            foreach (var b in bystanders) Assert.True(File.Exists(b), b + " was removed");
            Assert.Equal("epoch\n", File.ReadAllText(Path.Combine(dir, "history.csv")));
        }
        finally
        {
            live.Kill();
            live.WaitForExit(10_000);
        }
    }

    [Fact]
    public void A_temporary_file_older_than_the_process_holding_its_pid_is_stale()
    {
        // In a container every run can be PID 1: the PID is alive, but the process that has it started after the
        // file was last written, so it is not the writer.
        string dir = TestPaths.NewTempDirectory();
        string reused = AtomicFile.TemporaryPath(Path.Combine(dir, "m.safetensors"), Environment.ProcessId);
        File.WriteAllBytes(reused, new byte[10]);
        File.SetLastWriteTimeUtc(reused, Process.GetCurrentProcess().StartTime.ToUniversalTime() - TimeSpan.FromMinutes(5));
        Assert.Equal(1, AtomicFile.RemoveStaleTemporaryFiles(dir));
        Assert.False(File.Exists(reused));
    }

    [Fact]
    public void A_writer_killed_with_sigkill_mid_write_leaves_only_a_file_the_next_write_removes()
    {
        if (!OperatingSystem.IsLinux()) return; // `sh` and `kill -9` as below
        string dir = TestPaths.NewTempDirectory();
        string target = Path.Combine(dir, "big.bin");
        // A child that plays a writer: it creates its temporary file under its own PID, writes, and is killed mid-way.
        using var child = Process.Start(new ProcessStartInfo("sh", ["-c", "echo $$; exec sleep 60"]) { RedirectStandardOutput = true })!;
        int pid = int.Parse(child.StandardOutput.ReadLine()!);
        string temp = AtomicFile.TemporaryPath(target, pid);
        File.WriteAllBytes(temp, new byte[1 << 20]);
        Assert.Equal(0, AtomicFile.RemoveStaleTemporaryFiles(dir)); // its writer runs: kept
        child.Kill(); // SIGKILL
        Assert.True(child.WaitForExit(10_000));
        AtomicFile.Write(target, s => s.Write(new byte[] { 1, 2, 3 }));
        Assert.Equal([target], Directory.GetFiles(dir));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(target));
    }

    [Fact]
    public void A_destination_that_is_a_folder_is_refused_naming_it_before_anything_is_written()
    {
        // It was an IOException from the final rename, after the whole file had been written (a crash with a stack
        // trace in the CLI, after training).
        string dir = TestPaths.NewTempDirectory();
        string target = Path.Combine(dir, "model.safetensors");
        Directory.CreateDirectory(target);
        bool called = false;
        var e = Assert.Throws<DataFormatException>(() => AtomicFile.Write(target, _ => called = true));
        Assert.Equal($"{target}: is a folder; name a file to write", e.Message);
        Assert.False(called);
        Assert.Equal([target], Directory.GetFileSystemEntries(dir));
        Assert.Empty(Directory.GetFileSystemEntries(target));
    }

    [Fact]
    public void A_destination_that_cannot_be_written_is_a_clean_error_naming_it()
    {
        // The folder to write in is a file: no temporary file can be made there.
        string dir = TestPaths.NewTempDirectory();
        string file = Path.Combine(dir, "plain");
        File.WriteAllText(file, "x");
        string target = Path.Combine(file, "model.safetensors");
        var e = Assert.Throws<DataFormatException>(() => AtomicFile.WriteAllText(target, "new"));
        Assert.StartsWith($"{target}: cannot write: ", e.Message);
        Assert.Equal("x", File.ReadAllText(file));
        Assert.Equal([file], Directory.GetFileSystemEntries(dir));
    }
    [Fact]
    public void A_save_replaces_the_file_and_syncs_its_folder()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "model.safetensors");
        File.WriteAllText(path, "old");
        AtomicFile.WriteAllText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir));
        // The folder can be synced here (bench/fsync-dir.sh shows the save's own fsync of it under strace).
        if (OperatingSystem.IsLinux()) Assert.Equal(0, DirectorySync.Sync(dir));
        Assert.Equal([dir], SyncedBy(() => AtomicFile.WriteAllText(path, "newer"), dir));
    }

    [Fact]
    public void A_save_that_creates_folders_also_syncs_the_parent_of_each()
    {
        // A new folder is an entry in its parent: without syncing the parent, a power cut can lose the folder and so
        // the saved file in it.
        string dir = TestPaths.NewTempDirectory();
        string a = Path.Combine(dir, "a"), b = Path.Combine(a, "b");
        Assert.Equal([b, a, dir], SyncedBy(() => AtomicFile.WriteAllText(Path.Combine(b, "m.txt"), "x"), dir));
        Assert.Equal([b], SyncedBy(() => AtomicFile.WriteAllText(Path.Combine(b, "m.txt"), "y"), dir));
    }

    /// <summary>The folders at or under <paramref name="root"/> that <paramref name="save"/> asked to sync, in order.</summary>
    private static List<string> SyncedBy(Action save, string root)
    {
        var synced = new List<string>();
        // Other tests save in parallel: only this test's folders count.
        Action<string> record = d => { if (d == root || d.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) lock (synced) synced.Add(d); };
        DirectorySync.Synced += record;
        try { save(); }
        finally { DirectorySync.Synced -= record; }
        return synced;
    }

    [Fact]
    public void A_folder_that_cannot_be_synced_is_reported_not_thrown()
    {
        if (!OperatingSystem.IsLinux()) { Assert.Equal(DirectorySync.Unavailable, DirectorySync.Sync(Path.GetTempPath())); return; }
        // procfs has no fsync for its folders: EINVAL, as on the file systems that cannot sync one.
        Assert.Equal(22, DirectorySync.Sync("/proc"));
        string dir = TestPaths.NewTempDirectory();
        Assert.Equal(2, DirectorySync.Sync(Path.Combine(dir, "missing")));   // ENOENT
        string file = Path.Combine(dir, "plain");
        File.WriteAllText(file, "x");
        Assert.Equal(20, DirectorySync.Sync(file));                           // ENOTDIR: opened as a folder only
    }
}
