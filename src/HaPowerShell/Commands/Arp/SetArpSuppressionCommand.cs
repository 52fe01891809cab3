using System.Management.Automation;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native;

namespace HaPowerShell.Commands.Arp;

/// <summary>
/// Set-ArpSuppression: sets arp_ignore / arp_announce. With no values it applies the LVS-DR
/// real-server setting (arp_ignore=1, arp_announce=2 on lo and all). Only values that differ are
/// written; permissions are checked for every write before the first one; -Persist writes a
/// sysctl.d drop-in so the setting survives a reboot.
/// </summary>
[Cmdlet(VerbsCommon.Set, "ArpSuppression", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ArpSuppressionResult))]
public sealed class SetArpSuppressionCommand : ArpCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("InterfaceAlias")]
    public string[]? InterfaceName { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(int))]
    public int? ArpIgnore { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(int))]
    public int? ArpAnnounce { get; set; }

    [Parameter]
    public SwitchParameter Persist { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PersistPath { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var sysctl = new ArpSuppressionActions();
        int? ignore = ArpIgnore, announce = ArpAnnounce;
        if (ignore is null && announce is null)
        {
            ignore = ArpSuppressionPolicy.RealServerArpIgnore;
            announce = ArpSuppressionPolicy.RealServerArpAnnounce;
        }
        var requested = InterfaceName ?? ArpSuppressionPolicy.RealServerInterfaces.ToArray();

        // 1. Validate everything and read the current values; nothing is written if any of this fails.
        ArpSuppressionPlan plan;
        string? persistPath = null;
        try
        {
            if (PersistPath is not null && !Persist)
                throw new ArpArgumentException("InvalidArgument", "-PersistPath: give -Persist as well to write a sysctl.d drop-in.", nameof(PersistPath));
            if (Persist)
            {
                persistPath = Path.GetFullPath(PersistPath ?? ArpSuppressionPolicy.DefaultPersistPath);
                if (!persistPath.EndsWith(".conf", StringComparison.Ordinal))
                    throw new ArpArgumentException("InvalidArgument", $"-PersistPath: '{persistPath}' must end in .conf, or systemd-sysctl ignores it.", nameof(PersistPath));
                if (Directory.Exists(persistPath))
                    throw new ArpArgumentException("InvalidArgument", $"-PersistPath: '{persistPath}' is a directory; give a file name in it.", nameof(PersistPath));
                // A missing directory is not a permission problem (access(2) says ENOENT, not "needs root").
                if (Path.GetDirectoryName(persistPath) is { } parent && !Directory.Exists(parent))
                    throw new ArpArgumentException("PersistDirectoryNotFound",
                        $"-PersistPath: the directory '{parent}' does not exist; create it (mkdir -p {parent}) or give a file in an existing directory.", nameof(PersistPath));
            }
            plan = sysctl.Plan(requested, ignore, announce, ResolveLink);
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, requested);
            return;
        }

        // 2. Ask (ShouldProcess) for each write; 3. check permission for all approved writes first.
        // A write declined only because of -WhatIf is one that would be made: the results report it as Changed.
        var approved = new List<ArpSuppressionWrite>();
        var wouldWrite = new List<ArpSuppressionWrite>();
        bool dropInChanged = false;
        foreach (var (name, _, writes) in plan.Interfaces)
        {
            if (writes.Count == 0) WriteVerbose($"{name}: arp_ignore/arp_announce already as asked; nothing to change.");
            foreach (var w in writes)
            {
                if (ShouldProcess(w.SysctlKey, $"Set to {w.To} (now {w.From})", out bool whatIf)) approved.Add(w);
                else if (whatIf) wouldWrite.Add(w);
            }
        }
        try
        {
            sysctl.CheckWritable(approved);
            string? dropIn = null;
            if (persistPath is not null)
            {
                dropIn = sysctl.DropIn(persistPath, plan, ignore, announce);
                if (dropIn is null) WriteVerbose($"{persistPath} already holds these settings.");
                else if (!ShouldProcess(persistPath, "Write sysctl.d drop-in", out bool whatIf)) { dropInChanged = whatIf; dropIn = null; }
                else { sysctl.CheckDropInWritable(persistPath); dropInChanged = true; }
            }

            // 4. Write.
            foreach (var w in approved)
            {
                sysctl.Write(w);
                WriteVerbose($"{w.SysctlKey}: {w.From} -> {w.To}");
            }
            if (dropIn is not null)
            {
                sysctl.WriteDropIn(persistPath!, dropIn);
                WriteVerbose($"Wrote {persistPath}.");
            }
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, requested);
            return;
        }

        if (!PassThru) return;
        foreach (var (name, before, _) in plan.Interfaces)
        {
            var now = sysctl.Read(name);
            // Changed: its values were (or, under -WhatIf, would be) written, or the drop-in that holds them was.
            bool changed = dropInChanged || approved.Any(w => w.Name == name) || wouldWrite.Any(w => w.Name == name);
            WriteObject(new ArpSuppressionResult(name, now.ArpIgnore, now.ArpAnnounce, now.EffectiveArpIgnore, now.EffectiveArpAnnounce,
                before.ArpIgnore, before.ArpAnnounce, changed, persistPath));
        }
    }
}
