using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native.Processes;

/// <summary>lstat(2) of one path: what script-safety decisions and input-file checks need.</summary>
public sealed record FileStatus(string Path, uint Mode, uint Uid, uint Gid, string? LinkTarget, long Size = 0)
{
    public const uint TypeMask = 0xF000, Fifo = 0x1000, CharacterDevice = 0x2000, Directory = 0x4000, BlockDevice = 0x6000,
        Regular = 0x8000, SymbolicLink = 0xA000, Socket = 0xC000;

    public bool IsDirectory => (Mode & TypeMask) == Directory;
    public bool IsRegularFile => (Mode & TypeMask) == Regular;
    public bool IsSymbolicLink => (Mode & TypeMask) == SymbolicLink;
    public bool IsFifo => (Mode & TypeMask) == Fifo;

    /// <summary>"character device" (/dev/zero), "block device", "socket", ...: the kind of file, in words.</summary>
    public string KindName => (Mode & TypeMask) switch
    {
        Fifo => "named pipe", CharacterDevice => "character device", Directory => "directory", BlockDevice => "block device",
        Regular => "regular file", SymbolicLink => "symbolic link", Socket => "socket", _ => "special file",
    };

    /// <summary>Permission bits (07777).</summary>
    public uint Permissions => Mode & 0xFFF;

    /// <summary>lstat of a path; null when it does not exist. Symbolic links are not followed (their target is read).</summary>
    public static FileStatus? Lstat(string path) => Get(path, follow: false);

    /// <summary>stat of a path (symbolic links followed); null when it or a link's target does not exist.</summary>
    public static FileStatus? Stat(string path) => Get(path, follow: true);

    private static unsafe FileStatus? Get(string path, bool follow)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        stat st;
        fixed (byte* p = bytes)
        {
            if ((follow ? stat(p, &st) : lstat(p, &st)) != 0)
            {
                int e = errno;
                if (e is Errno.ENOENT or Errno.ENOTDIR or Errno.ELOOP) return null;
                throw new IOException($"{(follow ? "stat" : "lstat")} {path}: {Errno.Describe(e)}");
            }
        }
        uint mode = (uint)st.st_mode;
        string? target = null;
        if ((mode & TypeMask) == SymbolicLink) target = new FileInfo(path).LinkTarget;
        return new FileStatus(path, mode, (uint)st.st_uid, (uint)st.st_gid, target, st.st_size);
    }
}
