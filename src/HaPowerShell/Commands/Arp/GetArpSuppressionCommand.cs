using System.Management.Automation;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
using HaPowerShell.Native;

namespace HaPowerShell.Commands.Arp;

/// <summary>Get-ArpSuppression: arp_ignore and arp_announce of 'all', 'default', lo and every interface (or the ones named).</summary>
[Cmdlet(VerbsCommon.Get, "ArpSuppression")]
[OutputType(typeof(ArpSuppression))]
public sealed class GetArpSuppressionCommand : ArpCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? InterfaceName { get; set; }

    internal static ArpSuppression Read(SysctlStore store, string name)
    {
        int ignore = store.ReadIpv4Conf(name, ArpSuppressionPolicy.IgnoreKey);
        int announce = store.ReadIpv4Conf(name, ArpSuppressionPolicy.AnnounceKey);
        int allIgnore = name == "all" ? ignore : store.ReadIpv4Conf("all", ArpSuppressionPolicy.IgnoreKey);
        int allAnnounce = name == "all" ? announce : store.ReadIpv4Conf("all", ArpSuppressionPolicy.AnnounceKey);
        return new ArpSuppression(name, ignore, announce,
            ArpSuppressionPolicy.Effective(name, ignore, allIgnore), ArpSuppressionPolicy.Effective(name, announce, allAnnounce));
    }

    /// <summary>Checks a name: 'all', 'default', or an interface that exists and has IPv4 settings.</summary>
    internal string ResolveConfName(SysctlStore store, string name)
    {
        if (name is "all" or "default") return name;
        var link = ResolveLink(name);
        if (!store.HasIpv4Conf(link.Name))
            throw new InterfaceNotFoundException(link.Name, store.ListIpv4ConfNames());
        return link.Name;
    }

    protected override void ProcessRecord()
    {
        var store = new SysctlStore();
        IEnumerable<string> names;
        if (InterfaceName is null)
        {
            try
            {
                var present = store.ListIpv4ConfNames().ToHashSet(StringComparer.Ordinal);
                names = new[] { "all", "default" }.Concat(Links.OrderBy(l => l.Index).Select(l => l.Name)).Where(present.Contains).Distinct().ToList();
            }
            catch (Exception e) when (e is not PipelineStoppedException) { ThrowFailure(e, "arp_ignore/arp_announce"); return; }
        }
        else names = InterfaceName;

        foreach (var requested in names)
        {
            try
            {
                string name = ResolveConfName(store, requested);
                WriteObject(Read(store, name));
            }
            catch (Exception e) when (e is ArpArgumentException or InterfaceNotFoundException or SysctlException)
            {
                WriteFailure(e, requested);
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                ThrowFailure(e, requested);
            }
        }
    }
}
