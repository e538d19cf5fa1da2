using System.Runtime.InteropServices;

namespace ZeroDL.Serialization;

/// <summary>
/// Makes a rename durable. On Linux a rename changes its folder, and a folder is written back to disk on its own
/// schedule: after a power loss the old file (or none) can come back although the new file's content was flushed.
/// fsync(2) of the folder writes the change back.
/// </summary>
/// <remarks>
/// .NET has no API for it: a folder cannot be opened as a FileStream or through File.OpenHandle. So this calls the C
/// library's open(2), fsync(2) and close(2), as <see cref="Data.FileKind"/> calls statx(2). Elsewhere (another OS, a C
/// library without them) this does nothing, and a save there does not make its rename durable: on Windows that would
/// take MoveFileEx with MOVEFILE_WRITE_THROUGH, on macOS an fsync of the folder; a power cut can still bring back the
/// old file.
/// </remarks>
internal static partial class DirectorySync
{
    /// <summary>What <see cref="Sync"/> returns where folders cannot be synced this way.</summary>
    public const int Unavailable = -1;

    private static bool _unavailable = !OperatingSystem.IsLinux();

    // O_DIRECTORY makes open fail (ENOTDIR) on anything but a folder, so a named pipe put in its place cannot block it.
    // Its value differs between architectures; O_CLOEXEC's does not, on those .NET runs on.
    private static readonly int OpenFlags = 0x80000 /* O_CLOEXEC */ | RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm or Architecture.Armv6 or Architecture.Arm64 or Architecture.Ppc64le => 0x4000,
        _ => 0x10000,
    };

    /// <summary>Test-only: raised with the folder each time <see cref="Sync"/> is asked to sync one.</summary>
    internal static Action<string>? Synced;

    /// <summary>
    /// fsyncs <paramref name="directory"/>. Returns 0 when it did, the error number (errno) when the folder could not be
    /// opened or synced (some file systems refuse: EINVAL or ENOTSUP), and <see cref="Unavailable"/> where it cannot
    /// be asked. Never throws.
    /// </summary>
    public static int Sync(string directory)
    {
        Synced?.Invoke(directory);
        if (Volatile.Read(ref _unavailable)) return Unavailable;
        try
        {
            int fd = Open(directory, OpenFlags, 0);
            if (fd < 0) return Marshal.GetLastPInvokeError();
            try { return FileSync(fd) == 0 ? 0 : Marshal.GetLastPInvokeError(); }
            finally { Close(fd); }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref _unavailable, true);
            return Unavailable;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FileSync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
