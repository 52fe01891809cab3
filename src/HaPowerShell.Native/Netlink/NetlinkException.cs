namespace HaPowerShell.Native.Netlink;

/// <summary>
/// A netlink operation failed. <see cref="Errno"/> is the positive errno value the kernel (or a
/// system call) reported, or 0 when the failure is not an errno (protocol violation, timeout).
/// </summary>
public class NetlinkException : Exception
{
    public NetlinkException(string operation, int errno, string? kernelMessage = null, Exception? inner = null)
        : base(Format(operation, errno, kernelMessage), inner)
    {
        Operation = operation;
        Errno = errno;
        KernelMessage = kernelMessage;
    }

    protected NetlinkException(string operation, string message, Exception? inner = null)
        : base($"{operation}: {message}", inner)
    {
        Operation = operation;
    }

    /// <summary>What we were doing, e.g. "IPVS get info".</summary>
    public string Operation { get; }

    /// <summary>Positive errno, or 0.</summary>
    public int Errno { get; }

    /// <summary>The extended-ACK message the kernel attached, when there was one.</summary>
    public string? KernelMessage { get; }

    /// <summary>The symbolic errno name, e.g. "EEXIST".</summary>
    public string ErrnoName => Native.Errno.Name(Errno);

    private static string Format(string operation, int errno, string? kernelMessage)
    {
        string text = $"{operation}: {Native.Errno.Describe(errno)}";
        return string.IsNullOrEmpty(kernelMessage) ? text : $"{text} (kernel: {kernelMessage})";
    }
}

/// <summary>A reply broke the netlink wire format: truncated, misaligned or inconsistent lengths.</summary>
public sealed class NetlinkProtocolException : NetlinkException
{
    public NetlinkProtocolException(string operation, string message) : base(operation, message) { }
}

/// <summary>No reply arrived within the socket's receive timeout.</summary>
public sealed class NetlinkTimeoutException : NetlinkException
{
    public NetlinkTimeoutException(string operation, TimeSpan timeout)
        : base(operation, $"no reply from the kernel within {timeout.TotalMilliseconds:0} ms")
    {
        Timeout = timeout;
    }

    public TimeSpan Timeout { get; }
}
