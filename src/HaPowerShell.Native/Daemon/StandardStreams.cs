using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native.Daemon;

/// <summary>What a daemon does with its standard streams once it runs in the background.</summary>
public static class StandardStreams
{
    /// <summary>
    /// Points stdin, stdout and stderr at /dev/null (a detached daemon has no terminal; a write to a closed one would
    /// fail or raise SIGPIPE). Returns 0 or the errno of the failed open/dup2.
    /// </summary>
    public static unsafe int RedirectToDevNull()
    {
        int fd;
        fixed (byte* p = "/dev/null\0"u8) fd = open(p, O_RDWR | O_CLOEXEC);
        if (fd < 0) return errno;
        try
        {
            for (int target = 0; target <= 2; target++)
                if (dup2(fd, target) < 0) return errno;
            return 0;
        }
        finally
        {
            if (fd > 2) close(fd);
        }
    }
}
