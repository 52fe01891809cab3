using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Arp;
using HaPowerShell.Native.Packet;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Hosting.Arp;

/// <summary>
/// The ARP and neighbour-discovery exchanges of <see cref="ArpEngine"/> on a real interface: each opens a packet
/// socket on the link for the exchange and closes it after (Send-GratuitousArp, Send-ArpRequest, Test-ArpAddress,
/// Add-VirtualIPAddress -SendGratuitousArp). The VRRP host keeps its own sockets for a takeover.
/// </summary>
public static class ArpExchanges
{
    /// <summary>The interface as an exchange needs it (its MAC must be known: see the ARP cmdlets' checks).</summary>
    public static ArpInterface Interface(LinkInfo link) => new(link.Name, link.Index, link.MacAddress!);

    /// <summary>Announces <paramref name="addresses"/> (<see cref="ArpEngine.Announce"/>): the first frame of each leaves at once.</summary>
    public static IReadOnlyList<GratuitousArpResult> Announce(LinkInfo link, IReadOnlyList<IPAddress> addresses, GratuitousArpMode mode,
        int count, TimeSpan interval, CancellationToken cancel = default)
    {
        using var socket = PacketSocket.Open(link.Index, link.Name, 0);
        return new ArpEngine().Announce(socket, Interface(link), addresses, mode, count, interval, cancel);
    }

    /// <summary>Asks who has <paramref name="target"/> (<see cref="ArpEngine.Request"/>); returns how many requests went out.</summary>
    public static int Request(LinkInfo link, IPAddress target, IPAddress source, int count, TimeSpan interval, TimeSpan timeout,
        Action<ArpReply> onReply, CancellationToken cancel = default)
    {
        using var socket = PacketSocket.Open(link.Index, link.Name, Protocol(target));
        return new ArpEngine().Request(socket, Interface(link), target, source, count, interval, timeout, onReply, cancel);
    }

    /// <summary>Duplicate address detection for <paramref name="target"/> (<see cref="ArpEngine.Probe"/>).</summary>
    public static ArpAddressTestResult Probe(LinkInfo link, IPAddress target, int count, TimeSpan interval, TimeSpan timeout, bool detailed,
        CancellationToken cancel = default)
    {
        using var socket = PacketSocket.Open(link.Index, link.Name, Protocol(target));
        return new ArpEngine().Probe(socket, Interface(link), target, count, interval, timeout, detailed, cancel);
    }

    /// <summary>
    /// The sender address of a request for <paramref name="target"/> when none is given: one of the interface's own
    /// addresses in the target's subnet if any, else its primary address (0.0.0.0 when it has none); for IPv6 a global
    /// address in the target's prefix, else the link-local one (null when it has neither).
    /// </summary>
    public static IPAddress? DefaultSource(RtnlClient rtnl, LinkInfo link, IPAddress target)
    {
        var own = rtnl.GetAddresses().Where(a => a.InterfaceIndex == link.Index && a.Family == target.AddressFamily)
            .Where(a => (a.Flags & VirtualIPAddress.FlagTentative) == 0).ToList();
        var inSubnet = own.Where(a => a.Scope != 254 && ArpValidation.InSubnet(target, a.Address, a.PrefixLength)).ToList();
        if (target.AddressFamily == AddressFamily.InterNetwork)
            return (inSubnet.FirstOrDefault(a => (a.Flags & VirtualIPAddress.FlagSecondary) == 0) ?? inSubnet.FirstOrDefault()
                    ?? own.FirstOrDefault(a => (a.Flags & VirtualIPAddress.FlagSecondary) == 0) ?? own.FirstOrDefault())?.Address
                   ?? IPAddress.Any;
        return (inSubnet.FirstOrDefault(a => !a.Address.IsIPv6LinkLocal) ?? own.FirstOrDefault(a => a.Address.IsIPv6LinkLocal))?.Address;
    }

    private static ushort Protocol(IPAddress target) => target.AddressFamily == AddressFamily.InterNetworkV6 ? PacketSocket.EthPIpv6 : PacketSocket.EthPArp;
}
