using System.Management.Automation;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Arp;
using HaPowerShell.Native;
using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Netlink;
using HaPowerShell.Native.Packet;

namespace HaPowerShell;

/// <summary>
/// Base of every HaPowerShell cmdlet: turns exceptions from the native layer into ErrorRecords
/// with stable ids, the right category, the target object and a message that says what to do.
/// </summary>
public abstract class HaCmdlet : PSCmdlet
{
    /// <summary>Builds the ErrorRecord for an exception thrown while working on <paramref name="target"/>.</summary>
    internal static ErrorRecord ToErrorRecord(Exception e, object? target)
    {
        switch (e)
        {
            case IpvsOperationException o:
                return new ErrorRecord(o, o.ErrorId, o.Kind switch
                {
                    IpvsFailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
                    IpvsFailureKind.AlreadyExists => ErrorCategory.ResourceExists,
                    IpvsFailureKind.NotFound => ErrorCategory.ObjectNotFound,
                    IpvsFailureKind.NotInstalled => ErrorCategory.NotInstalled,
                    IpvsFailureKind.NotSupported => ErrorCategory.NotImplemented,
                    IpvsFailureKind.KernelMismatch => ErrorCategory.InvalidResult,
                    IpvsFailureKind.PermissionDenied => ErrorCategory.PermissionDenied,
                    IpvsFailureKind.ReadError => ErrorCategory.ReadError,
                    IpvsFailureKind.Unavailable => ErrorCategory.ResourceUnavailable,
                    _ => ErrorCategory.NotSpecified,
                }, o.Target ?? target);
            case IpvsUnavailableException:
                return new ErrorRecord(e, "IpvsNotAvailable", ErrorCategory.NotInstalled, target);
            case NetlinkException n when n.Errno is Errno.EPERM or Errno.EACCES:
                return new ErrorRecord(new UnauthorizedAccessException(
                    $"{n.Operation}: permission denied. This needs root or the CAP_NET_ADMIN capability; run pwsh with sudo.", e),
                    "PermissionDenied", ErrorCategory.PermissionDenied, target);
            case NetlinkTimeoutException:
                return new ErrorRecord(e, "KernelTimeout", ErrorCategory.OperationTimeout, target);
            case NetlinkProtocolException:
                return new ErrorRecord(e, "KernelProtocolError", ErrorCategory.ProtocolError, target);
            case NetlinkException n when n.Errno is Errno.ENETUNREACH or Errno.ENETDOWN:
                return new ErrorRecord(new InvalidOperationException(
                    $"{n.Operation}: the network is unreachable ({n.ErrnoName}): an interface it needs is down or has no address; bring it up ('ip link set <name> up') and try again.", e),
                    "InterfaceDown", ErrorCategory.ResourceUnavailable, target);
            case NetlinkException n:
                return new ErrorRecord(e, "Kernel" + n.ErrnoName.Replace(" ", ""), ErrorCategory.NotSpecified, target);
            // ARP and addresses
            case ArpArgumentException a:
                return new ErrorRecord(e, a.ErrorId, ErrorCategory.InvalidArgument, target);
            case InterfaceNotFoundException:
                return new ErrorRecord(e, "InterfaceNotFound", ErrorCategory.ObjectNotFound, target);
            case InterfaceCannotArpException:
                return new ErrorRecord(e, "InterfaceCannotArp", ErrorCategory.InvalidOperation, target);
            case InterfaceDownException:
                return new ErrorRecord(e, "InterfaceDown", ErrorCategory.ResourceUnavailable, target);
            case ArpNoReplyException:
                return new ErrorRecord(e, "NoArpReply", ErrorCategory.OperationTimeout, target);
            case VirtualIPAddressConflictException:
                return new ErrorRecord(e, "VirtualIPAddressConflict", ErrorCategory.ResourceExists, target);
            case PacketSocketException p when p.Errno is Errno.EPERM or Errno.EACCES:
                return new ErrorRecord(new UnauthorizedAccessException(
                    $"{p.Operation}: permission denied. Packet sockets need root or the CAP_NET_RAW capability; run pwsh with sudo.", e),
                    "PermissionDenied", ErrorCategory.PermissionDenied, target);
            case PacketSocketException p when p.Errno is Errno.ENETDOWN or Errno.ENETUNREACH:
                return new ErrorRecord(e, "InterfaceDown", ErrorCategory.ResourceUnavailable, target);
            case PacketSocketException p:
                return new ErrorRecord(e, "Kernel" + p.ErrnoName.Replace(" ", ""), ErrorCategory.NotSpecified, target);
            case SysctlException s when s.Errno is Errno.EPERM or Errno.EACCES or 30 /* EROFS */:
                return new ErrorRecord(new UnauthorizedAccessException(
                    $"{s.Message}. Changing sysctls and /etc/sysctl.d needs root (a writable /proc/sys); run pwsh with sudo.", e),
                    "PermissionDenied", ErrorCategory.PermissionDenied, target);
            case SysctlException s when s.Errno is Errno.ENOENT:
                return new ErrorRecord(e, "SysctlNotFound", ErrorCategory.ObjectNotFound, target);
            case SysctlException:
                return new ErrorRecord(e, "SysctlFailed", ErrorCategory.WriteError, target);
            case ArgumentException:
                return new ErrorRecord(e, "InvalidArgument", ErrorCategory.InvalidArgument, target);
            // Never a .NET type name as the id users see.
            case FileNotFoundException:
                return new ErrorRecord(e, "FileNotFound", ErrorCategory.ObjectNotFound, target);
            case DirectoryNotFoundException:
                return new ErrorRecord(e, "DirectoryNotFound", ErrorCategory.ObjectNotFound, target);
            case UnauthorizedAccessException:
                return new ErrorRecord(e, "PermissionDenied", ErrorCategory.PermissionDenied, target);
            case IOException:
                return new ErrorRecord(e, "IOError", ErrorCategory.ReadError, target);
            default:
                return new ErrorRecord(e, e.GetType().Name, ErrorCategory.NotSpecified, target);
        }
    }

    /// <summary>Reports a per-item failure and carries on with the pipeline.</summary>
    protected void WriteFailure(Exception e, object? target) => WriteError(ToErrorRecord(e, target));

    /// <summary>Reports a failure that makes the rest of the command meaningless.</summary>
    protected void ThrowFailure(Exception e, object? target) => ThrowTerminatingError(ToErrorRecord(e, target));
}
