using System.Management.Automation;
using HaPowerShell.Native;

namespace HaPowerShell;

/// <summary>
/// The one place exceptions become ErrorRecords. An <see cref="HaException"/> brings its stable id, its category and
/// (when it knows it) its target; an exception that gathers several problems becomes one record per problem. A
/// refusal for lack of privilege from a system call also says how to get it in PowerShell, and is an
/// UnauthorizedAccessException so that <c>catch [UnauthorizedAccessException]</c> works. Any other .NET exception gets
/// a stable id for its kind of failure (never its type name): InvalidArgument, PermissionDenied, PathNotFound,
/// IOError, OperationTimeout, InvalidOperation, NotSupported, InvalidFormat, and UnexpectedError for the rest.
/// </summary>
public static class ErrorRecords
{
    /// <summary>The records for <paramref name="e"/>, thrown while working on <paramref name="target"/> (used when the exception names no target of its own).</summary>
    public static IReadOnlyList<ErrorRecord> From(Exception e, object? target)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        if (e is not HaException h) return new[] { FromOther(e, target) };
        var problems = h.Problems;
        var records = new ErrorRecord[problems.Count];
        for (int i = 0; i < problems.Count; i++) records[i] = FromHa(problems[i], target);
        return records;
    }

    private static ErrorRecord FromHa(HaException h, object? target)
    {
        Exception shown = h is SystemCallException { Category: HaErrorCategory.PermissionDenied }
            ? new UnauthorizedAccessException($"{h.Message} Run pwsh as root (sudo) or with that capability.", h)
            : h;
        return new ErrorRecord(shown, h.ErrorId, ToCategory(h.Category), h.Target ?? target);
    }

    private static ErrorRecord FromOther(Exception e, object? target)
    {
        var (id, category) = e switch
        {
            ArgumentException => ("InvalidArgument", ErrorCategory.InvalidArgument),
            UnauthorizedAccessException => (SystemCallException.PermissionDeniedId, ErrorCategory.PermissionDenied),
            FileNotFoundException or DirectoryNotFoundException => ("PathNotFound", ErrorCategory.ObjectNotFound),
            IOException => ("IOError", ErrorCategory.NotSpecified),
            TimeoutException => ("OperationTimeout", ErrorCategory.OperationTimeout),
            InvalidOperationException => ("InvalidOperation", ErrorCategory.InvalidOperation),
            NotSupportedException => ("NotSupported", ErrorCategory.NotImplemented),
            FormatException => ("InvalidFormat", ErrorCategory.InvalidData),
            _ => ("UnexpectedError", ErrorCategory.NotSpecified),
        };
        return new ErrorRecord(e, id, category, target);
    }

    /// <summary>Our category in PowerShell's vocabulary (the names are the same).</summary>
    public static ErrorCategory ToCategory(HaErrorCategory category) => category switch
    {
        HaErrorCategory.InvalidArgument => ErrorCategory.InvalidArgument,
        HaErrorCategory.InvalidOperation => ErrorCategory.InvalidOperation,
        HaErrorCategory.ObjectNotFound => ErrorCategory.ObjectNotFound,
        HaErrorCategory.ResourceExists => ErrorCategory.ResourceExists,
        HaErrorCategory.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        HaErrorCategory.PermissionDenied => ErrorCategory.PermissionDenied,
        HaErrorCategory.SecurityError => ErrorCategory.SecurityError,
        HaErrorCategory.NotInstalled => ErrorCategory.NotInstalled,
        HaErrorCategory.NotImplemented => ErrorCategory.NotImplemented,
        HaErrorCategory.OperationTimeout => ErrorCategory.OperationTimeout,
        HaErrorCategory.ProtocolError => ErrorCategory.ProtocolError,
        HaErrorCategory.InvalidResult => ErrorCategory.InvalidResult,
        HaErrorCategory.WriteError => ErrorCategory.WriteError,
        _ => ErrorCategory.NotSpecified,
    };
}
