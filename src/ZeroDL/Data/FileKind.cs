using System.Runtime.InteropServices;

namespace ZeroDL.Data;

/// <summary>
/// Whether a path names something other than a regular file, asked of the file system without opening it: opening a
/// named pipe for reading waits in open(2) until a writer comes, and a device such as /dev/zero reads without end, so
/// a reader must know before it opens.
/// </summary>
/// <remarks>
/// .NET 10 has no public API for a file's type: <see cref="FileSystemInfo.Attributes"/> says Normal for a pipe, a
/// socket and a device alike, <see cref="File.GetUnixFileMode(string)"/> masks the type bits out, and
/// <c>SafeFileHandle.Type</c> (a later .NET) needs the handle that the open would block to get. So this asks Linux's
/// statx(2), whose struct has one layout on every architecture (unlike stat(2)'s), through the C library's wrapper.
/// Elsewhere (another OS, a C library without statx) the kind is not known and the file is read as before.
/// </remarks>
internal static unsafe partial class FileKind
{
    /// <summary>
    /// "a named pipe", "a socket", "a character device" or "a block device" (after "a symbolic link to " when
    /// <paramref name="path"/> is a link to one) when <paramref name="path"/> names one; null for a regular file, a
    /// directory, a path that does not exist (the open then says so), or where the kind cannot be asked.
    /// </summary>
    public static string? NotRegular(string path)
    {
        string? kind = Type(path) switch
        {
            null or IsRegular or IsDirectory => null,
            IsFifo => "a named pipe",
            IsSocket => "a socket",
            IsCharacterDevice => "a character device",
            IsBlockDevice => "a block device",
            _ => "a special file",
        };
        if (kind is null) return null;
        return new FileInfo(path).LinkTarget is null ? kind : "a symbolic link to " + kind;
    }

    // The S_IF* values of a mode's type bits, the same on every Linux architecture.
    private const int IsRegular = 0x8000, IsDirectory = 0x4000, IsFifo = 0x1000, IsSocket = 0xC000, IsCharacterDevice = 0x2000, IsBlockDevice = 0x6000;

    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>The type bits (S_IFMT) of <paramref name="path"/>'s mode, links followed; null when they cannot be asked or it does not exist.</summary>
    private static int? Type(string path)
    {
        if (Volatile.Read(ref _unavailable)) return null;
        byte* status = stackalloc byte[StatxSize];
        try
        {
            // A file system that cannot give the type says so by clearing the bit in stx_mask, the first field.
            if (Statx(AtCurrentDirectory, path, AtNoAutomount | AtStatxDontSync, StatxType, status) != 0 || (*(uint*)status & StatxType) == 0) return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref _unavailable, true);
            return null;
        }
        return *(ushort*)(status + ModeOffset) & 0xF000;
    }

    // struct statx (linux/stat.h), the same on every architecture: its size, and where the 16-bit stx_mode lies.
    private const int StatxSize = 256, ModeOffset = 28;
    private const int AtCurrentDirectory = -100; // AT_FDCWD
    private const int AtNoAutomount = 0x800;     // AT_NO_AUTOMOUNT, as stat(2) behaves
    private const int AtStatxDontSync = 0x4000;  // AT_STATX_DONT_SYNC: a file's type never changes, so a network file system need not be asked afresh
    private const uint StatxType = 0x1;          // STATX_TYPE

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte* status);
}
