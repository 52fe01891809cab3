using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Arp;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Commands.Arp;

/// <summary>
/// Shared plumbing of the ARP and address cmdlets: interface lookup through the session's
/// rtnetlink socket (with the list of existing interfaces in the error), ARP capability checks,
/// and a cancellation token that Ctrl+C (StopProcessing) fires.
/// </summary>
public abstract class ArpCmdlet : HaCmdlet
{
    private readonly CancellationTokenSource _cancel = new();
    private IReadOnlyList<LinkInfo>? _links;

    protected CancellationToken Cancellation => _cancel.Token;

    protected override void StopProcessing()
    {
        _cancel.Cancel();
        base.StopProcessing();
    }

    /// <summary>The interfaces of this network namespace (read once per command).</summary>
    protected IReadOnlyList<LinkInfo> Links => _links ??= KernelSession.Rtnl.GetLinks();

    protected void RefreshLinks() => _links = null;

    /// <summary>Finds an interface by name ("eth0:0" finds eth0); the error lists the interfaces that exist.</summary>
    protected LinkInfo ResolveLink(string name)
    {
        var (device, _) = ArpValidation.SplitAlias(name);
        return Links.FirstOrDefault(l => l.Name == device)
            ?? throw new InterfaceNotFoundException(device, Links.OrderBy(l => l.Index).Select(l => l.Name));
    }

    protected string LinkName(int index) => Links.FirstOrDefault(l => l.Index == index)?.Name ?? $"if{index}";

    /// <summary>Refuses loopback, NOARP and non-Ethernet links, naming the interfaces that could be used.</summary>
    protected void RequireArp(LinkInfo link)
    {
        if (link.CanArp && link.MacAddress is { } m && m.GetAddressBytes().Length == 6) return;
        string reason = link.IsLoopback ? "it is a loopback interface, with no link layer to send frames on"
            : (link.Flags & LinkInfo.IffNoArp) != 0 ? "it has the NOARP flag"
            : $"its link type ({link.HardwareType}) is not Ethernet";
        throw new InterfaceCannotArpException(link.Name, reason,
            Links.Where(l => l.CanArp && l.MacAddress is not null).OrderBy(l => l.Index).Select(l => l.Name));
    }

    protected static void RequireUp(LinkInfo link)
    {
        if (!link.IsUp) throw new InterfaceDownException(link.Name);
    }

    /// <summary>The address actions over the session's rtnetlink socket (shared with the VRRP host's way of adding VIPs).</summary>
    protected static AddressActions Addresses => new(KernelSession.Rtnl);

    /// <summary>Parses the seconds a user gave into a TimeSpan after a range check.</summary>
    protected static TimeSpan Seconds(string parameter, double value, double min, double max)
    {
        ArpValidation.CheckRange(parameter, value, min, max, " s");
        return TimeSpan.FromSeconds(value);
    }
}
