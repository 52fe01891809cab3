using System.Management.Automation;
using HaPowerShell.Core.Health;

namespace HaPowerShell.Commands.Health;

/// <summary>Base of the health-check cmdlets: Ctrl+C cancels a running check; check errors become ErrorRecords.</summary>
public abstract class HealthCmdlet : HaCmdlet
{
    private readonly CancellationTokenSource _cancel = new();

    protected CancellationToken Cancellation => _cancel.Token;

    protected override void StopProcessing()
    {
        _cancel.Cancel();
        base.StopProcessing();
    }

    /// <summary>ErrorRecords for checks that could not run; everything else goes through <see cref="HaCmdlet.ToErrorRecord"/>.</summary>
    internal static ErrorRecord ToHealthErrorRecord(Exception e, object? target) => e switch
    {
        HealthCheckException h => new ErrorRecord(h, h.ErrorId, h.Kind switch
        {
            HealthCheckFailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
            HealthCheckFailureKind.NotFound => ErrorCategory.ObjectNotFound,
            HealthCheckFailureKind.NotExecutable => ErrorCategory.PermissionDenied,
            HealthCheckFailureKind.Insecure => ErrorCategory.SecurityError,
            HealthCheckFailureKind.PermissionDenied => ErrorCategory.PermissionDenied,
            _ => ErrorCategory.NotSpecified,
        }, h.Target ?? target),
        _ => ToErrorRecord(e, target),
    };

    /// <summary>Runs one pipeline item; a failure to run the check is reported and the pipeline goes on.</summary>
    protected void PerItem(object? target, Action action)
    {
        try { action(); }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested) { throw new PipelineStoppedException(); }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteError(ToHealthErrorRecord(e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerException! : e, target));
        }
    }
}
