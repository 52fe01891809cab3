using System.Management.Automation;
using System.Net.Sockets;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Commands.Arp;

/// <summary>Get-VirtualIPAddress: the addresses on interfaces (ip addr), with their labels (eth0:0, lo:0).</summary>
[Cmdlet(VerbsCommon.Get, "VirtualIPAddress")]
[OutputType(typeof(VirtualIPAddress))]
public sealed class GetVirtualIPAddressCommand : ArpCmdlet
{
    /// <summary>Interfaces ("eth0"), or labels in ifconfig form ("eth0:0").</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("InterfaceAlias")]
    public string[]? InterfaceName { get; set; }

    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string[]? IPAddress { get; set; }

    /// <summary>Labels, wildcards allowed ("eth0:*").</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Label { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public IPAddressFamily[]? AddressFamily { get; set; }

    protected override void ProcessRecord()
    {
        List<AddressSpec> filters;
        try { filters = (IPAddress ?? Array.Empty<string>()).Select(a => ArpValidation.ParseAddress(a)).ToList(); }
        catch (ArpArgumentException e) { ThrowFailure(e, IPAddress); return; }

        var indexes = new Dictionary<int, HashSet<string>?>();
        if (InterfaceName is not null)
        {
            foreach (var name in InterfaceName)
            {
                try
                {
                    var (device, label) = ArpValidation.SplitAlias(name);
                    var link = ResolveLink(device);
                    if (label is null) indexes[link.Index] = null;
                    else if (!indexes.TryGetValue(link.Index, out var set) || set is not null)
                    {
                        set ??= new HashSet<string>(StringComparer.Ordinal);
                        set.Add(label);
                        indexes[link.Index] = set;
                    }
                }
                catch (Exception e) when (e is InterfaceNotFoundException or ArpArgumentException) { WriteFailure(e, name); }
            }
            if (indexes.Count == 0) return;
        }

        IReadOnlyList<AddressInfo> addresses;
        try { addresses = KernelSession.Rtnl.GetAddresses(); }
        catch (Exception e) when (e is not PipelineStoppedException) { ThrowFailure(e, "addresses"); return; }

        var labels = Label?.Select(l => new WildcardPattern(l, WildcardOptions.None)).ToList();
        foreach (var a in addresses)
        {
            var vip = AddressActions.ToVirtualIPAddress(a, LinkName(a.InterfaceIndex));
            if (InterfaceName is not null)
            {
                if (!indexes.TryGetValue(a.InterfaceIndex, out var only)) continue;
                if (only is not null && (vip.Label is null || !only.Contains(vip.Label))) continue;
            }
            if (AddressFamily is not null && !AddressFamily.Contains(vip.AddressFamily)) continue;
            if (labels is not null && (vip.Label is null || !labels.Any(p => p.IsMatch(vip.Label)))) continue;
            if (filters.Count > 0 && !filters.Any(f => f.Address.Equals(a.Address) && (f.PrefixLength is null || f.PrefixLength == a.PrefixLength))) continue;
            WriteObject(vip);
        }
    }
}
