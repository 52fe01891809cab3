using System.Management.Automation;
using HaPowerShell.Native;
using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Netlink;

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
            case NetlinkException n:
                return new ErrorRecord(e, "Kernel" + n.ErrnoName.Replace(" ", ""), ErrorCategory.NotSpecified, target);
            case ArgumentException:
                return new ErrorRecord(e, "InvalidArgument", ErrorCategory.InvalidArgument, target);
            default:
                return new ErrorRecord(e, e.GetType().Name, ErrorCategory.NotSpecified, target);
        }
    }

    /// <summary>Reports a per-item failure and carries on with the pipeline.</summary>
    protected void WriteFailure(Exception e, object? target) => WriteError(ToErrorRecord(e, target));

    /// <summary>Reports a failure that makes the rest of the command meaningless.</summary>
    protected void ThrowFailure(Exception e, object? target) => ThrowTerminatingError(ToErrorRecord(e, target));
}
