namespace HaPowerShell.Native.Packet;

/// <summary>
/// A packet-socket system call failed. <see cref="Errno"/> is the positive errno value; the
/// message names the operation and the interface so a user can act on it.
/// </summary>
public sealed class PacketSocketException : Exception
{
    public PacketSocketException(string operation, int errno)
        : base($"{operation}: {Native.Errno.Describe(errno)}")
    {
        Operation = operation;
        Errno = errno;
    }

    /// <summary>What we were doing, e.g. "open packet socket on eth0".</summary>
    public string Operation { get; }

    /// <summary>Positive errno.</summary>
    public int Errno { get; }

    /// <summary>The symbolic errno name, e.g. "EPERM".</summary>
    public string ErrnoName => Native.Errno.Name(Errno);
}
