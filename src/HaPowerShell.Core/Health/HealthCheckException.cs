using HaPowerShell.Native;

namespace HaPowerShell.Core.Health;

public enum HealthCheckFailureKind
{
    InvalidArgument,
    NotFound,
    NotExecutable,
    Insecure,
    PermissionDenied,
}

/// <summary>
/// A check could not be run at all (as opposed to a check that ran and failed, which is a result). Stable ids:
/// InvalidPort, InvalidTimeout, ScriptNotFound, ScriptNotExecutable, InsecureScript, ...
/// </summary>
public sealed class HealthCheckException : HaException
{
    public HealthCheckException(string errorId, HealthCheckFailureKind kind, string message, object? target = null, Exception? inner = null)
        : base(errorId, CategoryOf(kind), message, target, inner)
    {
        Kind = kind;
    }

    public HealthCheckFailureKind Kind { get; }

    /// <summary>A refused argument (<see cref="HealthCheckFailureKind.InvalidArgument"/>).</summary>
    public static HealthCheckException Argument(string id, string message, object? target = null)
        => new(id, HealthCheckFailureKind.InvalidArgument, message, target);

    private static HaErrorCategory CategoryOf(HealthCheckFailureKind kind) => kind switch
    {
        HealthCheckFailureKind.InvalidArgument => HaErrorCategory.InvalidArgument,
        HealthCheckFailureKind.NotFound => HaErrorCategory.ObjectNotFound,
        HealthCheckFailureKind.NotExecutable => HaErrorCategory.PermissionDenied,
        HealthCheckFailureKind.Insecure => HaErrorCategory.SecurityError,
        HealthCheckFailureKind.PermissionDenied => HaErrorCategory.PermissionDenied,
        _ => HaErrorCategory.NotSpecified,
    };
}

/// <summary>Argument checks shared by every checker.</summary>
public static class HealthValidation
{
    public static void Port(int port, string parameter = "-Port")
    {
        if (port is < 1 or > 65535)
            throw HealthCheckException.Argument("InvalidPort", $"{parameter} must be between 1 and 65535; {port} is not a TCP port.", port);
    }

    public static void Timeout(double seconds, string parameter)
    {
        if (double.IsNaN(seconds) || seconds <= 0 || seconds > 86400)
            throw HealthCheckException.Argument("InvalidTimeout", $"{parameter} must be a positive number of seconds (at most 86400); {seconds} is not.", seconds);
    }

    public static void Retry(int retry)
    {
        if (retry is < 0 or > 1000)
            throw HealthCheckException.Argument("InvalidRetry", $"-Retry must be between 0 and 1000; {retry} is not.", retry);
    }

    public static void Delay(double seconds, string parameter)
    {
        if (double.IsNaN(seconds) || seconds < 0 || seconds > 86400)
            throw HealthCheckException.Argument("InvalidDelay", $"{parameter} must be 0 or more seconds (at most 86400); {seconds} is not.", seconds);
    }
}
