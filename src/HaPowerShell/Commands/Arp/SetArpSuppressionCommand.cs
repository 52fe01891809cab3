using System.Management.Automation;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
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
        var store = new SysctlStore();
        int? ignore = ArpIgnore, announce = ArpAnnounce;
        if (ignore is null && announce is null)
        {
            ignore = ArpSuppressionPolicy.RealServerArpIgnore;
            announce = ArpSuppressionPolicy.RealServerArpAnnounce;
        }
        var requested = InterfaceName ?? ArpSuppressionPolicy.RealServerInterfaces.ToArray();

        // 1. Validate everything and read the current values; nothing is written if any of this fails.
        var plan = new List<(string Name, ArpSuppression Before, List<(string Key, int From, int To)> Writes)>();
        string? persistPath = null;
        try
        {
            if (ignore is { } i) ArpSuppressionPolicy.CheckArpIgnore(i);
            if (announce is { } a) ArpSuppressionPolicy.CheckArpAnnounce(a);
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
            foreach (var raw in requested.Distinct())
            {
                string name = ResolveConfNameOrThrow(store, raw);
                if (plan.Any(p => p.Name == name)) continue;
                var before = GetArpSuppressionCommand.Read(store, name);
                var writes = new List<(string, int, int)>();
                if (ignore is { } vi && before.ArpIgnore != vi) writes.Add((ArpSuppressionPolicy.IgnoreKey, before.ArpIgnore, vi));
                if (announce is { } va && before.ArpAnnounce != va) writes.Add((ArpSuppressionPolicy.AnnounceKey, before.ArpAnnounce, va));
                plan.Add((name, before, writes));
            }
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, requested);
            return;
        }

        // 2. Ask (ShouldProcess) for each write; 3. check permission for all approved writes first.
        var approved = new List<(string Name, string Key, int From, int To)>();
        foreach (var (name, _, writes) in plan)
        {
            if (writes.Count == 0) WriteVerbose($"{name}: arp_ignore/arp_announce already as asked; nothing to change.");
            foreach (var (key, from, to) in writes)
                if (ShouldProcess(ArpSuppressionPolicy.SysctlKey(name, key), $"Set to {to} (now {from})"))
                    approved.Add((name, key, from, to));
        }
        try
        {
            foreach (var w in approved)
            {
                string path = store.Ipv4ConfPath(w.Name, w.Key);
                if (!store.CanWrite(path)) throw new SysctlException($"set {ArpSuppressionPolicy.SysctlKey(w.Name, w.Key)}", path, Errno.EACCES);
            }
            string? dropIn = null;
            string? existing = null;
            if (persistPath is not null)
            {
                existing = store.ReadFileOrNull(persistPath);
                if (!ArpSuppressionPolicy.IsOurDropIn(existing))
                    throw new ArpArgumentException("PersistFileNotOurs",
                        $"-PersistPath: '{persistPath}' exists and was not written by HaPowerShell; choose another file so it is not overwritten.", nameof(PersistPath));
                var settings = ArpSuppressionPolicy.ParseDropIn(existing);
                foreach (var (name, _, _) in plan)
                {
                    if (ignore is { } vi) settings[(name, ArpSuppressionPolicy.IgnoreKey)] = vi;
                    if (announce is { } va) settings[(name, ArpSuppressionPolicy.AnnounceKey)] = va;
                }
                dropIn = ArpSuppressionPolicy.RenderDropIn(settings);
                if (dropIn == existing) { WriteVerbose($"{persistPath} already holds these settings."); dropIn = null; }
                else if (!ShouldProcess(persistPath, "Write sysctl.d drop-in")) dropIn = null;
                else
                {
                    string dir = Path.GetDirectoryName(persistPath)!;
                    if (!store.CanWrite(dir)) throw new SysctlException("write sysctl.d drop-in", dir, Errno.EACCES);
                }
            }

            // 4. Write.
            foreach (var w in approved)
            {
                store.WriteIpv4Conf(w.Name, w.Key, w.To);
                WriteVerbose($"{ArpSuppressionPolicy.SysctlKey(w.Name, w.Key)}: {w.From} -> {w.To}");
            }
            if (dropIn is not null)
            {
                store.WriteFileAtomically(persistPath!, dropIn);
                WriteVerbose($"Wrote {persistPath}.");
            }
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, requested);
            return;
        }

        if (!PassThru) return;
        foreach (var (name, before, _) in plan)
        {
            var now = GetArpSuppressionCommand.Read(store, name);
            bool changed = approved.Any(w => w.Name == name);
            WriteObject(new ArpSuppressionResult(name, now.ArpIgnore, now.ArpAnnounce, now.EffectiveArpIgnore, now.EffectiveArpAnnounce,
                before.ArpIgnore, before.ArpAnnounce, changed, persistPath));
        }
    }

    private string ResolveConfNameOrThrow(SysctlStore store, string name)
    {
        if (name is "all" or "default") return name;
        var link = ResolveLink(name);
        if (!store.HasIpv4Conf(link.Name)) throw new InterfaceNotFoundException(link.Name, store.ListIpv4ConfNames());
        return link.Name;
    }
}
