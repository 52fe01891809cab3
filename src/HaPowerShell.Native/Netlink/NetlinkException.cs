namespace HaPowerShell.Native.Netlink;

/// <summary>
/// A netlink operation failed. <see cref="SystemCallException.Errno"/> is the positive errno value the kernel (or a
/// system call) reported, or 0 when the failure is not an errno (protocol violation, timeout). Error ids:
/// <c>PermissionDenied</c> (EPERM, EACCES: root or CAP_NET_ADMIN is needed), <c>Kernel&lt;ERRNO&gt;</c> for any
/// other errno, <c>KernelTimeout</c> and <c>KernelProtocolError</c> for the subclasses.
/// </summary>
public class NetlinkException : SystemCallException
{
    public NetlinkException(string operation, int errno, string? kernelMessage = null, Exception? inner = null)
        : base(operation, errno, Format(operation, errno, kernelMessage), "This needs root or the CAP_NET_ADMIN capability.", inner,
            IsNetworkDown(errno) ? "InterfaceDown" : null, IsNetworkDown(errno) ? HaErrorCategory.ResourceUnavailable : null)
    {
        KernelMessage = kernelMessage;
    }

    protected NetlinkException(string errorId, HaErrorCategory category, string operation, string message, Exception? inner = null)
        : base(errorId, category, operation, $"{operation}: {message}", inner)
    {
    }

    /// <summary>The extended-ACK message the kernel attached, when there was one.</summary>
    public string? KernelMessage { get; }

    /// <summary>ENETUNREACH or ENETDOWN: an interface the request needs is down or has no address.</summary>
    private static bool IsNetworkDown(int errno) => errno is Native.Errno.ENETUNREACH or Native.Errno.ENETDOWN;

    private static string Format(string operation, int errno, string? kernelMessage)
    {
        string text = $"{operation}: {Native.Errno.Describe(errno)}";
        if (IsNetworkDown(errno))
            text += ": an interface it needs is down or has no address; bring it up ('ip link set <name> up') and try again";
        return string.IsNullOrEmpty(kernelMessage) ? text : $"{text} (kernel: {kernelMessage})";
    }
}

/// <summary>A reply broke the netlink wire format: truncated, misaligned or inconsistent lengths.</summary>
public sealed class NetlinkProtocolException : NetlinkException
{
    public NetlinkProtocolException(string operation, string message)
        : base("KernelProtocolError", HaErrorCategory.ProtocolError, operation, message) { }
}

/// <summary>No reply arrived within the socket's receive timeout.</summary>
public sealed class NetlinkTimeoutException : NetlinkException
{
    public NetlinkTimeoutException(string operation, TimeSpan timeout)
        : base("KernelTimeout", HaErrorCategory.OperationTimeout, operation, $"no reply from the kernel within {timeout.TotalMilliseconds:0} ms")
    {
        Timeout = timeout;
    }

    public TimeSpan Timeout { get; }
}
