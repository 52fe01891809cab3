using System.Management.Automation;

namespace HaPowerShell;

/// <summary>
/// Base of every HaPowerShell cmdlet: failures become ErrorRecords through <see cref="ErrorRecords"/> (stable ids,
/// the right category, the target object and a message that says what to do).
/// </summary>
public abstract class HaCmdlet : PSCmdlet
{
    /// <summary>Reports a per-item failure (one record per problem it carries) and carries on with the pipeline.</summary>
    protected internal void WriteFailure(Exception e, object? target)
    {
        foreach (var r in ErrorRecords.From(e, target)) WriteError(r);
    }

    /// <summary>Reports a failure that makes the rest of the command meaningless (the last of its problems terminates).</summary>
    protected internal void ThrowFailure(Exception e, object? target)
    {
        var records = ErrorRecords.From(e, target);
        for (int i = 0; i < records.Count - 1; i++) WriteError(records[i]);
        ThrowTerminatingError(records[^1]);
    }
}
