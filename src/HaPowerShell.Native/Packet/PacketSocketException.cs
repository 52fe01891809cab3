namespace HaPowerShell.Native.Packet;

/// <summary>
/// A packet- or raw-socket system call failed (also the descriptors the VRRP loop polls). The message names the
/// operation and the interface so a user can act on it. Error ids: <c>PermissionDenied</c> (EPERM, EACCES: root or
/// CAP_NET_RAW is needed), <c>InterfaceDown</c> (ENETDOWN), <c>Kernel&lt;ERRNO&gt;</c> for any other errno.
/// </summary>
public sealed class PacketSocketException : SystemCallException
{
    public PacketSocketException(string operation, int errno)
        : base(operation, errno, $"{operation}: {Native.Errno.Describe(errno)}",
            "Packet and raw sockets need root or the CAP_NET_RAW capability.", null,
            errno == Native.Errno.ENETDOWN ? "InterfaceDown" : null,
            errno == Native.Errno.ENETDOWN ? HaErrorCategory.ResourceUnavailable : null)
    {
    }
}
