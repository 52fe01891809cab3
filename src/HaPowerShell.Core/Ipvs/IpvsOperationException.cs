namespace HaPowerShell.Core.Ipvs;

/// <summary>What kind of failure, so the cmdlet layer can pick the ErrorCategory.</summary>
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

/// <summary>An IPVS operation failed in a way we can explain (stable <see cref="ErrorId"/>).</summary>
public sealed class IpvsOperationException : Exception
{
    public IpvsOperationException(string errorId, IpvsFailureKind kind, string message, object? target, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public string ErrorId { get; }
    public IpvsFailureKind Kind { get; }
    public object? Target { get; }
}
