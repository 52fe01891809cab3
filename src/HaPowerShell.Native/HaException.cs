namespace HaPowerShell.Native;

/// <summary>
/// What kind of failure an <see cref="HaException"/> is. Native has no PowerShell types, so this is our own list; each
/// front end maps it to its own vocabulary (the cmdlets to <c>System.Management.Automation.ErrorCategory</c>, whose
/// names these are, a daemon to log priorities and exit codes).
/// </summary>
public enum HaErrorCategory
{
    NotSpecified,
    /// <summary>A value the caller gave is not acceptable; nothing was changed.</summary>
    InvalidArgument,
    /// <summary>The operation does not apply in the current state.</summary>
    InvalidOperation,
    /// <summary>Something named does not exist (an interface, a service, a file).</summary>
    ObjectNotFound,
    /// <summary>What would be created exists already.</summary>
    ResourceExists,
    /// <summary>Something needed is there but cannot be used now (an interface that is down).</summary>
    ResourceUnavailable,
    /// <summary>Not allowed: root or a capability is needed.</summary>
    PermissionDenied,
    /// <summary>Refused for safety (a script anyone could change).</summary>
    SecurityError,
    /// <summary>A kernel feature or module is missing.</summary>
    NotInstalled,
    /// <summary>Asked for something the kernel or this module does not do.</summary>
    NotImplemented,
    /// <summary>No answer in time.</summary>
    OperationTimeout,
    /// <summary>A peer or the kernel broke the protocol.</summary>
    ProtocolError,
    /// <summary>The outcome differs from what was asked for.</summary>
    InvalidResult,
    /// <summary>Writing failed.</summary>
    WriteError,
}

/// <summary>
/// The base of every exception HaPowerShell raises on purpose: a stable <see cref="ErrorId"/> (what scripts and
/// docs match on; it never changes for a condition), a <see cref="Category"/>, the object the failure is about
/// (<see cref="Target"/>, when the thrower knows it) and a message that says what to do. Front ends turn it into
/// their own error form (the cmdlets: one ErrorRecord per <see cref="Problems"/> entry) without knowing the
/// concrete type.
/// </summary>
public class HaException : Exception
{
    public HaException(string errorId, HaErrorCategory category, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorId);
        ErrorId = errorId;
        Category = category;
        Target = target;
    }

    /// <summary>The stable id users see (ErrorRecord.FullyQualifiedErrorId starts with it).</summary>
    public string ErrorId { get; }

    public HaErrorCategory Category { get; }

    /// <summary>What the failure is about; null when the thrower does not know (the front end then names its own).</summary>
    public object? Target { get; }

    /// <summary>
    /// Each problem to report on its own: an exception that gathers several validation problems lists one
    /// exception per problem (in order); every other exception lists itself.
    /// </summary>
    public virtual IReadOnlyList<HaException> Problems => new[] { this };
}
