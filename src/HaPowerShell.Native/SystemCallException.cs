namespace HaPowerShell.Native;

/// <summary>
/// A system call (or the kernel's answer to a request) failed with an errno. The error id and category follow from
/// the errno: EPERM and EACCES are <c>PermissionDenied</c> (and the message says which privilege is needed), others
/// are <c>Kernel&lt;ERRNO&gt;</c> unless the subclass names the condition (<see cref="PacketSocketException"/>: ENETDOWN
/// is <c>InterfaceDown</c>; <see cref="SysctlException"/>: its own ids).
/// </summary>
public abstract class SystemCallException : HaException
{
    /// <summary>
    /// An errno failure. <paramref name="errorId"/> and <paramref name="category"/> override the ones the errno gives;
    /// <paramref name="privilegeHint"/> (which privilege the call needs) is appended to the message of a permission failure.
    /// </summary>
    protected SystemCallException(string operation, int errno, string message, string privilegeHint, Exception? inner = null,
        string? errorId = null, HaErrorCategory? category = null)
        : base(errorId ?? (IsPrivilegeErrno(errno) ? PermissionDeniedId : KernelErrorId(errno)),
            category ?? DefaultCategory(errno),
            (category ?? DefaultCategory(errno)) == HaErrorCategory.PermissionDenied ? $"{message}. {privilegeHint}" : message, null, inner)
    {
        Operation = operation;
        Errno = errno;
    }

    /// <summary>A failure that is not an errno (Errno 0), with its own id.</summary>
    protected SystemCallException(string errorId, HaErrorCategory category, string operation, string message, Exception? inner = null)
        : base(errorId, category, message, null, inner)
    {
        Operation = operation;
    }

    /// <summary>The id of a refusal for lack of privilege, whichever call it was.</summary>
    public const string PermissionDeniedId = "PermissionDenied";

    /// <summary>What we were doing, e.g. "IPVS get info" or "open packet socket on eth0".</summary>
    public string Operation { get; }

    /// <summary>Positive errno, or 0 when the failure is not an errno.</summary>
    public int Errno { get; }

    /// <summary>The symbolic errno name, e.g. "EEXIST".</summary>
    public string ErrnoName => Native.Errno.Name(Errno);

    /// <summary>EPERM or EACCES: the caller lacks a privilege (root or a capability).</summary>
    public static bool IsPrivilegeErrno(int errno) => errno is Native.Errno.EPERM or Native.Errno.EACCES;

    private static HaErrorCategory DefaultCategory(int errno)
        => IsPrivilegeErrno(errno) ? HaErrorCategory.PermissionDenied : HaErrorCategory.NotSpecified;

    /// <summary>"Kernel" and the errno's name ("KernelEEXIST"; "Kernelerrno123" for a number without a name).</summary>
    public static string KernelErrorId(int errno) => "Kernel" + Native.Errno.Name(errno).Replace(" ", "");
}
