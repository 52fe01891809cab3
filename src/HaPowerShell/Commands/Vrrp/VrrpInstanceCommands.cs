using System.Management.Automation;
using HaPowerShell.Completers;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting.Vrrp;
using HaPowerShell.Native;

namespace HaPowerShell.Commands.Vrrp;

/// <summary>Get-VrrpInstance: the instances this process runs, as live views.</summary>
[Cmdlet(VerbsCommon.Get, "VrrpInstance")]
[OutputType(typeof(VrrpRunningInstance))]
public sealed class GetVrrpInstanceCommand : VrrpCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VrrpInstanceNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [Alias("InterfaceAlias")]
    public string? InterfaceName { get; set; }

    [Parameter]
    public VrrpState? State { get; set; }

    protected override void ProcessRecord()
    {
        IEnumerable<VrrpRunningInstance> found = Name is null
            ? ExistingHost?.Instances ?? Array.Empty<VrrpRunningInstance>()
            : Name.SelectMany(Resolve).Distinct();
        foreach (var i in found)
        {
            if (!string.IsNullOrEmpty(InterfaceName) && i.InterfaceName != InterfaceName) continue;
            if (State is { } s && i.State != s) continue;
            WriteObject(i);
        }
    }
}

/// <summary>Set-VrrpInstance: changes a running instance's priority (keepalived needs a reload for this).</summary>
[Cmdlet(VerbsCommon.Set, "VrrpInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VrrpRunningInstance))]
public sealed class SetVrrpInstanceCommand : VrrpCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VrrpInstanceNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange(1, 255)]
    public int Priority { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var i in Name.SelectMany(Resolve).Distinct())
        {
            // Changed: true exactly when the priority differs (under -WhatIf: when it would be set).
            if (i.Priority == Priority)
            {
                WriteVerbose($"VRRP instance '{i.Name}' already has priority {Priority}; nothing to change.");
                if (PassThru) WriteChanged(i, false);
                continue;
            }
            if (!ShouldProcess($"VRRP instance '{i.Name}' (priority {i.Priority})", $"Set priority to {Priority}", out bool whatIf))
            {
                if (whatIf && PassThru) WriteChanged(i, true);
                continue;
            }
            try
            {
                i.GetHost().SetPriority(i.Name, Priority);
                if (PassThru) WriteChanged(i, true);
            }
            catch (Exception e) { WriteVrrpFailure(e, i); }
        }
    }
}

/// <summary>Stop-VrrpInstance: stops gracefully (a Master sends priority 0 and removes its addresses).</summary>
[Cmdlet(VerbsLifecycle.Stop, "VrrpInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VrrpRunningInstance))]
public sealed class StopVrrpInstanceCommand : VrrpCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VrrpInstanceNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var i in Name.SelectMany(Resolve).Distinct())
        {
            // Changed: true when this call stopped it (under -WhatIf: it runs, so it would); false when it had stopped meanwhile.
            if (!ShouldProcess($"VRRP instance '{i.Name}' ({i.State}, VRID {i.VirtualRouterId} on {i.InterfaceName})", "Stop", out bool whatIf))
            {
                if (whatIf && PassThru) WriteChanged(i, true);
                continue;
            }
            try
            {
                bool stopped = i.GetHost().Stop(i.Name);
                if (!stopped) WriteVerbose($"VRRP instance '{i.Name}' had stopped meanwhile; nothing to stop.");
                if (PassThru) WriteChanged(i, stopped);
            }
            catch (Exception e) { WriteVrrpFailure(e, i); }
        }
    }
}

/// <summary>Wait-VrrpInstance: waits until instances reach a state (Master by default).</summary>
[Cmdlet(VerbsLifecycle.Wait, "VrrpInstance")]
[OutputType(typeof(VrrpRunningInstance))]
public sealed class WaitVrrpInstanceCommand : VrrpCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VrrpInstanceNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter(Position = 1)]
    public VrrpState State { get; set; } = VrrpState.Master;

    [Parameter]
    [ValidateRange(-1, int.MaxValue)]
    public double Timeout { get; set; } = 30;

    protected override void ProcessRecord()
    {
        foreach (var i in Name.SelectMany(Resolve).Distinct())
        {
            var limit = Timeout < 0 ? TimeSpan.FromDays(3650) : TimeSpan.FromSeconds(Timeout);
            bool ok = i.GetHost().WaitFor(i, x => x.State == State || !x.IsRunning, limit, Cancellation);
            if (Cancellation.IsCancellationRequested) return;
            if (ok && i.State == State)
            {
                WriteObject(i);
                continue;
            }
            string why = i.IsRunning ? $"it is {i.State} after {Timeout:0.###} s" : "it was stopped";
            WriteFailure(new HaException(i.IsRunning ? "VrrpWaitTimeout" : "VrrpInstanceStopped",
                i.IsRunning ? HaErrorCategory.OperationTimeout : HaErrorCategory.InvalidOperation,
                $"VRRP instance '{i.Name}' did not reach {State}: {why}. Raise -Timeout, or check Get-VrrpInstance '{i.Name}' (master address, counters, FaultReasons).", i), i);
        }
    }
}
