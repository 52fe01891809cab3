using HaPowerShell.Native;

namespace HaPowerShell.Core.Ipvs;

/// <summary>What kind of IPVS failure; it decides the <see cref="HaException.Category"/>.</summary>
public enum IpvsFailureKind
{
    InvalidArgument,
    AlreadyExists,
    NotFound,
    NotInstalled,
    NotSupported,
    KernelMismatch,
    Failed,
    PermissionDenied,
    ReadError,
    Unavailable,
}

/// <summary>An IPVS operation failed in a way we can explain (stable <see cref="HaException.ErrorId"/>).</summary>
public sealed class IpvsOperationException : HaException
{
    public IpvsOperationException(string errorId, IpvsFailureKind kind, string message, object? target, Exception? inner = null)
        : base(errorId, CategoryOf(kind), message, target, inner)
    {
        Kind = kind;
    }

    public IpvsFailureKind Kind { get; }

    private static HaErrorCategory CategoryOf(IpvsFailureKind kind) => kind switch
    {
        IpvsFailureKind.InvalidArgument => HaErrorCategory.InvalidArgument,
        IpvsFailureKind.AlreadyExists => HaErrorCategory.ResourceExists,
        IpvsFailureKind.NotFound => HaErrorCategory.ObjectNotFound,
        IpvsFailureKind.NotInstalled => HaErrorCategory.NotInstalled,
        IpvsFailureKind.NotSupported => HaErrorCategory.NotImplemented,
        IpvsFailureKind.KernelMismatch => HaErrorCategory.InvalidResult,
        _ => HaErrorCategory.NotSpecified,
    };
}
