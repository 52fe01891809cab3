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

    /// <summary>Runs one pipeline item; a failure to run the check is reported and the pipeline goes on.</summary>
    protected void PerItem(object? target, Action action)
    {
        try { action(); }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested) { throw new PipelineStoppedException(); }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteFailure(e, target);
        }
    }
}
