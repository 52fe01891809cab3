using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native;

/// <summary>
/// A read or write of a sysctl (or of a sysctl.d file) failed; carries the errno. Error ids: <c>PermissionDenied</c>
/// (EPERM, EACCES, EROFS: root and a writable /proc/sys are needed), <c>SysctlNotFound</c> (ENOENT), <c>SysctlFailed</c>
/// for anything else (other errnos, unreadable content).
/// </summary>
public sealed class SysctlException : SystemCallException
{
    private const string PrivilegeHint = "Changing sysctls and /etc/sysctl.d needs root (a writable /proc/sys).";

    public SysctlException(string operation, string path, int errno)
        : base(operation, errno, $"{operation} ({path}): {Native.Errno.Describe(errno)}", PrivilegeHint, null,
            errno switch
            {
                Native.Errno.EROFS => PermissionDeniedId,
                Native.Errno.ENOENT => "SysctlNotFound",
                _ when IsPrivilegeErrno(errno) => null,
                _ => "SysctlFailed",
            },
            errno switch
            {
                Native.Errno.EROFS => HaErrorCategory.PermissionDenied,
                Native.Errno.ENOENT => HaErrorCategory.ObjectNotFound,
                _ when IsPrivilegeErrno(errno) => null,
                _ => HaErrorCategory.WriteError,
            })
    {
        Path = path;
    }

    public SysctlException(string operation, string path, string problem)
        : base("SysctlFailed", HaErrorCategory.WriteError, operation, $"{operation} ({path}): {problem}")
    {
        Path = path;
    }

    public string Path { get; }
}

/// <summary>
/// Reads and writes per-interface IPv4 sysctls under /proc/sys/net/ipv4/conf/&lt;interface&gt;/
/// (arp_ignore, arp_announce, ...) of the calling thread's network namespace, and writes sysctl.d
/// drop-in files atomically. Every failure carries the errno (EACCES without root, ENOENT for an
/// interface the kernel does not know). The root directory is a test seam.
/// </summary>
public sealed unsafe class SysctlStore
{
    public SysctlStore(string procSysRoot = "/proc/sys") => Root = procSysRoot.TrimEnd('/');

    /// <summary>The /proc/sys directory (a temporary folder in tests).</summary>
    public string Root { get; }

    public string Ipv4ConfDirectory => Root + "/net/ipv4/conf";

    /// <summary>Path of one per-interface IPv4 setting; rejects names that could leave the directory.</summary>
    public string Ipv4ConfPath(string interfaceName, string key)
    {
        CheckSegment(interfaceName, nameof(interfaceName));
        CheckSegment(key, nameof(key));
        return $"{Ipv4ConfDirectory}/{interfaceName}/{key}";
    }

    /// <summary>True when the kernel has an IPv4 conf directory for the name ('all', 'default', 'lo', 'eth0', ...).</summary>
    public bool HasIpv4Conf(string interfaceName)
    {
        CheckSegment(interfaceName, nameof(interfaceName));
        return Directory.Exists($"{Ipv4ConfDirectory}/{interfaceName}");
    }

    /// <summary>Names with an IPv4 conf directory ('all' and 'default' included), sorted.</summary>
    public IReadOnlyList<string> ListIpv4ConfNames()
    {
        try
        {
            return Directory.GetDirectories(Ipv4ConfDirectory).Select(System.IO.Path.GetFileName).OfType<string>()
                .OrderBy(n => n, StringComparer.Ordinal).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            throw new SysctlException("list IPv4 interface settings", Ipv4ConfDirectory, Errno.ENOENT);
        }
    }

    public int ReadIpv4Conf(string interfaceName, string key) => ReadInt(Ipv4ConfPath(interfaceName, key));

    public void WriteIpv4Conf(string interfaceName, string key, int value) => WriteInt(Ipv4ConfPath(interfaceName, key), value);

    /// <summary>Reads an integer sysctl.</summary>
    public int ReadInt(string path)
    {
        string text = ReadText(path, "read sysctl").Trim();
        if (!int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int v))
            throw new SysctlException("read sysctl", path, $"expected an integer, found '{Truncate(text)}'");
        return v;
    }

    /// <summary>Writes an integer sysctl (one write of "value\n", as sysctl(8) does).</summary>
    public void WriteInt(string path, int value)
    {
        byte[] data = Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
        int fd = OpenPath(path, O_WRONLY | O_CLOEXEC | O_TRUNC, 0, "write sysctl");
        try { WriteAll(fd, data, path, "write sysctl"); }
        finally { close(fd); }
    }

    /// <summary>Whether this process may write the file (access(2) W_OK): checked before changing anything.</summary>
    public bool CanWrite(string path)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p) return access(pp, W_OK) == 0;
    }

    /// <summary>Whole text of a file; null when it does not exist.</summary>
    public string? ReadFileOrNull(string path)
    {
        try { return ReadText(path, "read file"); }
        catch (SysctlException e) when (e.Errno == Errno.ENOENT) { return null; }
    }

    /// <summary>
    /// Writes a file atomically: a temporary file in the same directory (mode 0644), fsync, rename.
    /// A reader (systemd-sysctl at boot) sees the old or the new content, never half of it.
    /// </summary>
    public void WriteFileAtomically(string path, string content)
    {
        string full = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(full) ?? "/";
        if (!Directory.Exists(dir)) throw new SysctlException("write sysctl.d file", full, Errno.ENOENT);
        string temp = System.IO.Path.Combine(dir, "." + System.IO.Path.GetFileName(full) + ".haps-" + Guid.NewGuid().ToString("N")[..8]);
        int fd = OpenPath(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0x1A4 /* 0644 */, "write sysctl.d file");
        bool renamed = false;
        try
        {
            WriteAll(fd, Encoding.UTF8.GetBytes(content), temp, "write sysctl.d file");
            if (fsync(fd) < 0) throw new SysctlException("write sysctl.d file", temp, errno);
            close(fd);
            fd = -1;
            try { File.Move(temp, full, overwrite: true); } // rename(2) within one directory
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SysctlException("write sysctl.d file", full, e.Message);
            }
            renamed = true;
        }
        finally
        {
            if (fd >= 0) close(fd);
            if (!renamed)
            {
                byte[] tp = Encoding.UTF8.GetBytes(temp + "\0");
                fixed (byte* t = tp) unlink(t);
            }
        }
    }

    private string ReadText(string path, string operation)
    {
        int fd = OpenPath(path, O_RDONLY | O_CLOEXEC, 0, operation);
        try
        {
            var ms = new MemoryStream();
            byte[] chunk = new byte[4096];
            fixed (byte* c = chunk)
            {
                while (true)
                {
                    long n = read(fd, c, (size_t)(ulong)chunk.Length);
                    if (n < 0)
                    {
                        int e = errno;
                        if (e == Errno.EINTR) continue;
                        throw new SysctlException(operation, path, e);
                    }
                    if (n == 0) break;
                    ms.Write(chunk, 0, (int)n);
                    if (ms.Length > 1 << 20) throw new SysctlException(operation, path, "file larger than 1 MiB");
                }
            }
            return Encoding.UTF8.GetString(ms.ToArray());
        }
        finally { close(fd); }
    }

    private static int OpenPath(string path, int flags, int mode, string operation)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        while (true)
        {
            int fd;
            fixed (byte* pp = p) fd = open(pp, flags, (mode_t)(uint)mode);
            if (fd >= 0) return fd;
            int e = errno;
            if (e == Errno.EINTR) continue;
            throw new SysctlException(operation, path, e);
        }
    }

    private static void WriteAll(int fd, byte[] data, string path, string operation)
    {
        int done = 0;
        fixed (byte* d = data)
        {
            while (done < data.Length)
            {
                long n = write(fd, d + done, (size_t)(ulong)(data.Length - done));
                if (n < 0)
                {
                    int e = errno;
                    if (e == Errno.EINTR) continue;
                    throw new SysctlException(operation, path, e);
                }
                done += (int)n;
            }
        }
    }

    private static void CheckSegment(string value, string name)
    {
        if (string.IsNullOrEmpty(value) || value == "." || value == ".." || value.IndexOfAny(new[] { '/', '\0' }) >= 0 || value.Length > 64)
            throw new ArgumentException($"'{value}' is not a valid sysctl path segment.", name);
    }

    private static string Truncate(string s) => s.Length > 40 ? s[..40] + "..." : s;
}
