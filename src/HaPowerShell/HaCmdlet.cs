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

    /// <summary>
    /// ShouldProcess that also says whether a "no" came from -WhatIf: a change declined only because of -WhatIf is one
    /// that would be made, and -PassThru results report it as Changed (what Ansible's check mode reads).
    /// </summary>
    protected internal bool ShouldProcess(string target, string action, out bool whatIf)
    {
        bool go = ShouldProcess($"Performing the operation \"{action}\" on target \"{target}\".",
            $"Are you sure you want to perform this action?\nPerforming the operation \"{action}\" on target \"{target}\".",
            "Confirm", out ShouldProcessReason reason);
        whatIf = !go && (reason & ShouldProcessReason.WhatIf) != 0;
        return go;
    }

    /// <summary>Writes a -PassThru result with a Changed note: true when the command changed something for it or, under -WhatIf, would have.</summary>
    protected internal void WriteChanged(object result, bool changed)
    {
        var o = PSObject.AsPSObject(result);
        o.Properties.Remove("Changed");
        o.Properties.Add(new PSNoteProperty("Changed", changed));
        WriteObject(o);
    }
}
