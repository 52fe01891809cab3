using System.Net;
using HaPowerShell.Core.Arp;
using HaPowerShell.Native.Packet;

namespace HaPowerShell.Hosting.Vrrp;

/// <summary>Gratuitous ARP / unsolicited NA: one send-only packet socket per interface, primed ahead of a takeover.</summary>
public sealed partial class VrrpHost
{
    // ---- announcements (engine thread) -----------------------------------------------------

    private readonly Dictionary<string, Task> _announceChain = new(StringComparer.Ordinal);
    private readonly Dictionary<int, Announcer> _announcers = new();

    /// <summary>A send-only packet socket and the interface's MAC, kept per interface so the first gratuitous
    /// ARP of a new Master leaves from the engine thread with no lookup and no thread hop; dropped on every
    /// link change (the MAC or the link may have changed).</summary>
    private sealed record Announcer(PacketSocket Socket, ArpInterface Interface);

    /// <summary>The interface's announcer, or null when it cannot ARP (no MAC, NOARP, not Ethernet).</summary>
    private Announcer? GetAnnouncer(int ifindex, string ifname)
    {
        if (_announcers.TryGetValue(ifindex, out var a)) return a;
        var link = _rtnl.GetLink(ifindex);
        if (link?.MacAddress is null || !link.CanArp) return null;
        a = new Announcer(PacketSocket.Open(ifindex, ifname, 0), new ArpInterface(ifname, ifindex, link.MacAddress));
        _announcers[ifindex] = a;
        return a;
    }

    /// <summary>Opens the interface's GARP socket ahead of a takeover and builds its frames once, sending nothing.
    /// A failure here is left to the takeover, which tries again and counts it.</summary>
    private void PrimeAnnouncer(int ifindex, string ifname, IPAddress[] addresses)
    {
        try
        {
            if (GetAnnouncer(ifindex, ifname) is { } a)
                new ArpEngine().Announce(DiscardingChannel.Instance, a.Interface, addresses, GratuitousArpMode.Request, 1, TimeSpan.Zero);
        }
        catch (Exception) { /* see above: the takeover retries and counts the error */ }
    }

    /// <summary>After a link change dropped them, the GARP sockets of the running instances' interfaces are opened again.</summary>
    private void PrimeAnnouncers()
    {
        foreach (var i in _engine.Instances)
            if (_socketOf.TryGetValue(i.Name, out var entry))
                PrimeAnnouncer(entry.Socket.InterfaceIndex, entry.InterfaceName, i.Config.VirtualAddresses.Select(v => v.Address).ToArray());
    }

    /// <summary>A frame channel that sends nothing (for building GARP frames ahead of a takeover).</summary>
    private sealed class DiscardingChannel : IFrameChannel
    {
        public static readonly DiscardingChannel Instance = new();
        public DateTime Send(ReadOnlySpan<byte> frame) => DateTime.UtcNow;
        public ReceivedFrame? Receive(TimeSpan timeout) => null;
        public void Dispose() { }
    }

    private void DropAnnouncers()
    {
        foreach (var a in _announcers.Values) a.Socket.Dispose();
        _announcers.Clear();
    }
}
