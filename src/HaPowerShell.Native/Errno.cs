using System.Runtime.InteropServices;

namespace HaPowerShell.Native;

/// <summary>errno names and texts (Linux, x86-64 numbering) for messages users can act on.</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, EBADF = 9,
        EAGAIN = 11, ENOMEM = 12, EACCES = 13, EBUSY = 16, EEXIST = 17, ENODEV = 19, ENOTDIR = 20, EINVAL = 22,
        EMFILE = 24, ENOSPC = 28, EROFS = 30, ERANGE = 34, ENOSYS = 38, ELOOP = 40, EMSGSIZE = 90,
        EPROTONOSUPPORT = 93, EOPNOTSUPP = 95, EAFNOSUPPORT = 97, EADDRINUSE = 98, EADDRNOTAVAIL = 99,
        ENETDOWN = 100, ENETUNREACH = 101, ECONNRESET = 104, ENOBUFS = 105, ETIMEDOUT = 110,
        ECONNREFUSED = 111, EHOSTUNREACH = 113, EINPROGRESS = 115;

    private static readonly Dictionary<int, string> Names = new()
    {
        [EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR", [EIO] = "EIO",
        [ENXIO] = "ENXIO", [EBADF] = "EBADF", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
        [EACCES] = "EACCES", [EBUSY] = "EBUSY", [EEXIST] = "EEXIST", [ENODEV] = "ENODEV",
        [ENOTDIR] = "ENOTDIR", [EINVAL] = "EINVAL", [EMFILE] = "EMFILE", [ENOSPC] = "ENOSPC",
        [EROFS] = "EROFS", [ERANGE] = "ERANGE", [ENOSYS] = "ENOSYS", [ELOOP] = "ELOOP",
        [EMSGSIZE] = "EMSGSIZE", [EPROTONOSUPPORT] = "EPROTONOSUPPORT", [EOPNOTSUPP] = "EOPNOTSUPP",
        [EAFNOSUPPORT] = "EAFNOSUPPORT", [EADDRINUSE] = "EADDRINUSE", [EADDRNOTAVAIL] = "EADDRNOTAVAIL",
        [ENETDOWN] = "ENETDOWN", [ENETUNREACH] = "ENETUNREACH", [ECONNRESET] = "ECONNRESET",
        [ENOBUFS] = "ENOBUFS", [ETIMEDOUT] = "ETIMEDOUT", [ECONNREFUSED] = "ECONNREFUSED",
        [EHOSTUNREACH] = "EHOSTUNREACH", [EINPROGRESS] = "EINPROGRESS",
    };

    public static string Name(int errno) => Names.TryGetValue(errno, out var n) ? n : $"errno {errno}";

    /// <summary>"File exists (EEXIST)".</summary>
    public static string Describe(int errno)
    {
        if (errno == 0) return "success";
        string text = Marshal.GetPInvokeErrorMessage(errno);
        return $"{text} ({Name(errno)})";
    }
}
