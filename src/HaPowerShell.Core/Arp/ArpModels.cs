using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace HaPowerShell.Core.Arp;

/// <summary>Address family of an address, neighbour or virtual IP.</summary>
public enum IPAddressFamily
{
    IPv4 = 2,
    IPv6 = 10,
}

/// <summary>Neighbour-table states (the kernel's NUD_* values, as `ip neigh` names them).</summary>
public enum ArpEntryState
{
    None = 0x00,
    Incomplete = 0x01,
    Reachable = 0x02,
    Stale = 0x04,
    Delay = 0x08,
    Probe = 0x10,
    Failed = 0x20,
    NoArp = 0x40,
    Permanent = 0x80,
}

/// <summary>How gratuitous ARP frames are sent: as requests (arping -U) or as replies (arping -A).</summary>
public enum GratuitousArpMode
{
    Request,
    Reply,
}

/// <summary>What was put on the wire to announce an address.</summary>
public enum AnnouncementKind
{
    /// <summary>Gratuitous ARP request (arping -U).</summary>
    ArpRequest,
    /// <summary>Gratuitous ARP reply (arping -A).</summary>
    ArpReply,
    /// <summary>Unsolicited IPv6 Neighbor Advertisement with the Override flag.</summary>
    NeighborAdvertisement,
}

/// <summary>How another host claimed an address during a duplicate-address test.</summary>
public enum ArpClaimKind
{
    /// <summary>It answered our probe (ARP reply, or a Neighbor Advertisement for IPv6).</summary>
    Reply,
    /// <summary>It announced the address itself (gratuitous ARP / unsolicited NA) during the test.</summary>
    Announcement,
    /// <summary>It probed for the same address at the same time (RFC 5227 / RFC 4862 simultaneous probe).</summary>
    Probe,
}

/// <summary>Text forms shared by the ARP objects and cmdlets.</summary>
public static class Mac
{
    /// <summary>"02:aa:bb:cc:dd:ee", as ip(8) prints link-layer addresses.</summary>
    public static string? Format(PhysicalAddress? mac)
    {
        if (mac is null) return null;
        var b = mac.GetAddressBytes();
        return b.Length == 0 ? null : string.Join(":", b.Select(x => x.ToString("x2")));
    }

    internal static IPAddressFamily Family(IPAddress a)
        => a.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddressFamily.IPv6 : IPAddressFamily.IPv4;
}

/// <summary>One neighbour-table entry (what `arp -a` and `ip neigh` show): the JSON face (text address, state name).</summary>
public abstract class ArpEntryJson
{
    private protected readonly IPAddress ipAddress;
    private protected readonly ArpEntryState state;

    private protected ArpEntryJson(string interfaceName, int interfaceIndex, IPAddress ipAddress, PhysicalAddress? linkLayerAddress,
        ArpEntryState state, bool isRouter, bool isProxy)
    {
        InterfaceName = interfaceName;
        InterfaceIndex = interfaceIndex;
        this.ipAddress = ipAddress;
        LinkLayerAddress = Mac.Format(linkLayerAddress);
        this.state = state;
        IsRouter = isRouter;
        IsProxy = isProxy;
    }

    public string InterfaceName { get; }
    public int InterfaceIndex { get; }
    public string IPAddress => ipAddress.ToString();

    /// <summary>IPv4 or IPv6.</summary>
    public string AddressFamily => Mac.Family(ipAddress).ToString();

    /// <summary>The neighbour's MAC ("02:00:5e:00:00:01"), or null while unresolved (INCOMPLETE, FAILED).</summary>
    public string? LinkLayerAddress { get; }

    /// <summary>The neighbour state's name (<see cref="ArpEntryState"/>: Reachable, Stale, Permanent, ...).</summary>
    public string State => state.ToString();

    /// <summary>The neighbour said it is a router (IPv6 NTF_ROUTER).</summary>
    public bool IsRouter { get; }

    /// <summary>A proxy entry (answered on behalf of another host, NTF_PROXY).</summary>
    public bool IsProxy { get; }

    /// <summary>The `ip neigh` line: "192.0.2.12 dev eth0 lladdr 02:00:00:00:00:02 REACHABLE".</summary>
    public override string ToString()
        => $"{IPAddress} dev {InterfaceName}" + (LinkLayerAddress is null ? "" : $" lladdr {LinkLayerAddress}") +
           (IsRouter ? " router" : "") + $" {State.ToUpperInvariant()}";
}

/// <summary>One neighbour-table entry; the typed values are the internal twins of the JSON face.</summary>
public sealed class ArpEntry : ArpEntryJson
{
    public ArpEntry(string interfaceName, int interfaceIndex, IPAddress ipAddress, PhysicalAddress? linkLayerAddress,
        ArpEntryState state, bool isRouter, bool isProxy)
        : base(interfaceName, interfaceIndex, ipAddress, linkLayerAddress, state, isRouter, isProxy) { }

    internal new IPAddress IPAddress => ipAddress;
    internal new IPAddressFamily AddressFamily => Mac.Family(ipAddress);
    internal new ArpEntryState State => state;
}

/// <summary>An address on an interface (a VIP such as eth0:0 or lo:0, or any other address): the JSON face.</summary>
public abstract class VirtualIPAddressJson
{
    public const uint FlagSecondary = 0x01, FlagNoDad = 0x02, FlagTentative = 0x40, FlagPermanent = 0x80, FlagDadFailed = 0x08;

    private protected readonly IPAddress ipAddress;
    private protected readonly IPAddress? broadcast;

    private protected VirtualIPAddressJson(string interfaceName, int interfaceIndex, IPAddress ipAddress, int prefixLength, string? label,
        byte scope, uint flags, IPAddress? broadcast)
    {
        InterfaceName = interfaceName;
        InterfaceIndex = interfaceIndex;
        this.ipAddress = ipAddress;
        PrefixLength = prefixLength;
        Label = label;
        ScopeId = scope;
        Flags = flags;
        this.broadcast = broadcast;
    }

    public string InterfaceName { get; }
    public int InterfaceIndex { get; }
    public string IPAddress => ipAddress.ToString();
    public int PrefixLength { get; }

    /// <summary>The IPv4 label ("eth0:0", "lo:0"); null for IPv6 addresses, which have none.</summary>
    public string? Label { get; }

    /// <summary>IPv4 or IPv6.</summary>
    public string AddressFamily => Mac.Family(ipAddress).ToString();
    public string? Broadcast => broadcast?.ToString();

    /// <summary>Raw scope (0 global, 200 site, 253 link, 254 host).</summary>
    public byte ScopeId { get; }

    public string Scope => ScopeId switch { 0 => "global", 200 => "site", 253 => "link", 254 => "host", 255 => "nowhere", _ => ScopeId.ToString() };

    /// <summary>IFA_F_* flags.</summary>
    public uint Flags { get; }

    public bool IsSecondary => (Flags & FlagSecondary) != 0;
    public bool IsTentative => (Flags & FlagTentative) != 0;

    /// <summary>"192.0.2.30/24".</summary>
    public string Cidr => $"{IPAddress}/{PrefixLength}";

    /// <summary>The `ip addr` line: "inet 192.0.2.30/24 brd 192.0.2.255 scope global secondary eth0:0".</summary>
    public override string ToString()
    {
        var parts = new List<string> { ipAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "inet6" : "inet", Cidr };
        if (broadcast is not null) { parts.Add("brd"); parts.Add(broadcast.ToString()); }
        parts.Add("scope"); parts.Add(Scope);
        if (IsSecondary) parts.Add("secondary");
        if ((Flags & FlagNoDad) != 0) parts.Add("nodad");
        if (IsTentative) parts.Add("tentative");
        parts.Add(Label ?? InterfaceName);
        return string.Join(" ", parts);
    }
}

/// <summary>An address on an interface; the typed values are the internal twins of the JSON face.</summary>
public sealed class VirtualIPAddress : VirtualIPAddressJson
{
    public VirtualIPAddress(string interfaceName, int interfaceIndex, IPAddress ipAddress, int prefixLength, string? label,
        byte scope, uint flags, IPAddress? broadcast)
        : base(interfaceName, interfaceIndex, ipAddress, prefixLength, label, scope, flags, broadcast) { }

    internal new IPAddress IPAddress => ipAddress;
    internal new IPAddressFamily AddressFamily => Mac.Family(ipAddress);
    internal new IPAddress? Broadcast => broadcast;
}

/// <summary>What Send-GratuitousArp put on the wire for one address: the JSON face.</summary>
public abstract class GratuitousArpResultJson
{
    private protected readonly IPAddress ipAddress;
    private protected readonly AnnouncementKind kind;

    private protected GratuitousArpResultJson(string interfaceName, IPAddress ipAddress, PhysicalAddress linkLayerAddress, AnnouncementKind kind)
    {
        InterfaceName = interfaceName;
        this.ipAddress = ipAddress;
        LinkLayerAddress = Mac.Format(linkLayerAddress)!;
        this.kind = kind;
    }

    public string InterfaceName { get; }
    public string IPAddress => ipAddress.ToString();

    /// <summary>The MAC announced for the address (the interface's own).</summary>
    public string LinkLayerAddress { get; }

    /// <summary>ArpRequest, ArpReply or NeighborAdvertisement (<see cref="AnnouncementKind"/>).</summary>
    public string Kind => kind.ToString();
    public int FramesSent { get; internal set; }

    /// <summary>UTC time the first frame was handed to the kernel.</summary>
    public DateTime? FirstSent { get; internal set; }

    public DateTime? LastSent { get; internal set; }

    public override string ToString() => $"{IPAddress} is-at {LinkLayerAddress} on {InterfaceName} ({Kind} x{FramesSent})";
}

/// <summary>What Send-GratuitousArp put on the wire for one address; typed internal twins.</summary>
public sealed class GratuitousArpResult : GratuitousArpResultJson
{
    public GratuitousArpResult(string interfaceName, IPAddress ipAddress, PhysicalAddress linkLayerAddress, AnnouncementKind kind)
        : base(interfaceName, ipAddress, linkLayerAddress, kind) { }

    internal new IPAddress IPAddress => ipAddress;
    internal new AnnouncementKind Kind => kind;
}

/// <summary>One answer to Send-ArpRequest (one line of arping's output): the JSON face.</summary>
public abstract class ArpReplyJson
{
    private protected readonly IPAddress ipAddress, sourceAddress;
    private protected readonly TimeSpan roundTripTime;

    private protected ArpReplyJson(string interfaceName, IPAddress ipAddress, PhysicalAddress linkLayerAddress, IPAddress sourceAddress,
        int sequence, TimeSpan roundTripTime, bool unicast, DateTime received)
    {
        InterfaceName = interfaceName;
        this.ipAddress = ipAddress;
        LinkLayerAddress = Mac.Format(linkLayerAddress)!;
        this.sourceAddress = sourceAddress;
        Sequence = sequence;
        this.roundTripTime = roundTripTime;
        Unicast = unicast;
        Received = received;
    }

    public string InterfaceName { get; }

    /// <summary>The address that answered (the one asked for).</summary>
    public string IPAddress => ipAddress.ToString();

    /// <summary>Its MAC.</summary>
    public string LinkLayerAddress { get; }

    /// <summary>The sender address our request carried (what the peer learnt).</summary>
    public string SourceAddress => sourceAddress.ToString();

    /// <summary>Which request (1-based) was the most recent when this reply came.</summary>
    public int Sequence { get; }

    /// <summary>Seconds from the request to this reply.</summary>
    public double RoundTripTime => JsonShape.Seconds(roundTripTime);
    public double RoundTripMilliseconds => roundTripTime.TotalMilliseconds;

    /// <summary>True when the reply was addressed to our MAC, false for a broadcast reply.</summary>
    public bool Unicast { get; }

    public DateTime Received { get; }

    /// <summary>arping's line: "Unicast reply from 192.0.2.12 [02:00:00:00:00:02]  0.612ms".</summary>
    public override string ToString()
        => $"{(Unicast ? "Unicast" : "Broadcast")} reply from {IPAddress} [{LinkLayerAddress.ToUpperInvariant()}]  {RoundTripMilliseconds:0.000}ms";
}

/// <summary>One answer to Send-ArpRequest; typed internal twins.</summary>
public sealed class ArpReply : ArpReplyJson
{
    public ArpReply(string interfaceName, IPAddress ipAddress, PhysicalAddress linkLayerAddress, IPAddress sourceAddress,
        int sequence, TimeSpan roundTripTime, bool unicast, DateTime received)
        : base(interfaceName, ipAddress, linkLayerAddress, sourceAddress, sequence, roundTripTime, unicast, received) { }

    internal new IPAddress IPAddress => ipAddress;
    internal new IPAddress SourceAddress => sourceAddress;
    internal new TimeSpan RoundTripTime => roundTripTime;
}

/// <summary>A host that claimed an address during Test-ArpAddress: the JSON face.</summary>
public abstract class ArpClaimJson
{
    private protected readonly ArpClaimKind kind;
    private protected readonly IPAddress senderAddress;

    private protected ArpClaimJson(PhysicalAddress linkLayerAddress, ArpClaimKind kind, IPAddress senderAddress, DateTime seen)
    {
        LinkLayerAddress = Mac.Format(linkLayerAddress)!;
        this.kind = kind;
        this.senderAddress = senderAddress;
        Seen = seen;
    }

    public string LinkLayerAddress { get; }

    /// <summary>Reply, Announcement or Probe (<see cref="ArpClaimKind"/>).</summary>
    public string Kind => kind.ToString();

    /// <summary>The sender protocol address of the frame (0.0.0.0 / :: for a probe).</summary>
    public string SenderAddress => senderAddress.ToString();

    public DateTime Seen { get; }

    public override string ToString() => $"{LinkLayerAddress} ({Kind})";
}

/// <summary>A host that claimed an address during Test-ArpAddress; typed internal twins.</summary>
public sealed class ArpClaim : ArpClaimJson
{
    public ArpClaim(PhysicalAddress linkLayerAddress, ArpClaimKind kind, IPAddress senderAddress, DateTime seen)
        : base(linkLayerAddress, kind, senderAddress, seen) { }

    internal new ArpClaimKind Kind => kind;
    internal new IPAddress SenderAddress => senderAddress;
}

/// <summary>The outcome of a duplicate-address test (Test-ArpAddress -Detailed): the JSON face.</summary>
public abstract class ArpAddressTestResultJson
{
    private protected readonly IPAddress ipAddress;

    private protected ArpAddressTestResultJson(string interfaceName, IPAddress ipAddress, int probesSent, IReadOnlyList<ArpClaim> claims)
    {
        InterfaceName = interfaceName;
        this.ipAddress = ipAddress;
        ProbesSent = probesSent;
        Claims = claims.ToArray();
    }

    public string InterfaceName { get; }
    public string IPAddress => ipAddress.ToString();

    /// <summary>True when no other host claimed the address.</summary>
    public bool IsAvailable => Claims.Length == 0;

    public int ProbesSent { get; }
    public ArpClaim[] Claims { get; }

    /// <summary>The distinct MACs that claimed the address.</summary>
    public string[] ClaimedBy => Claims.Select(c => c.LinkLayerAddress).Distinct().ToArray();

    public override string ToString()
        => IsAvailable ? $"{IPAddress} is free on {InterfaceName}" : $"{IPAddress} is in use on {InterfaceName} by {string.Join(", ", ClaimedBy)}";
}

/// <summary>The outcome of a duplicate-address test; typed internal twin.</summary>
public sealed class ArpAddressTestResult : ArpAddressTestResultJson
{
    public ArpAddressTestResult(string interfaceName, IPAddress ipAddress, int probesSent, IReadOnlyList<ArpClaim> claims)
        : base(interfaceName, ipAddress, probesSent, claims) { }

    internal new IPAddress IPAddress => ipAddress;
}

/// <summary>arp_ignore and arp_announce of one interface (or of 'all' / 'default').</summary>
public class ArpSuppression
{
    public ArpSuppression(string interfaceName, int arpIgnore, int arpAnnounce, int? effectiveArpIgnore, int? effectiveArpAnnounce)
    {
        InterfaceName = interfaceName;
        ArpIgnore = arpIgnore;
        ArpAnnounce = arpAnnounce;
        EffectiveArpIgnore = effectiveArpIgnore;
        EffectiveArpAnnounce = effectiveArpAnnounce;
    }

    /// <summary>'all', 'default', 'lo', 'eth0', ...</summary>
    public string InterfaceName { get; }

    /// <summary>net.ipv4.conf.&lt;if&gt;.arp_ignore as written.</summary>
    public int ArpIgnore { get; }

    /// <summary>net.ipv4.conf.&lt;if&gt;.arp_announce as written.</summary>
    public int ArpAnnounce { get; }

    /// <summary>What the kernel applies on this interface: the larger of its own value and 'all'. Null for 'default' (a template).</summary>
    public int? EffectiveArpIgnore { get; }

    public int? EffectiveArpAnnounce { get; }

    /// <summary>True when the interface neither answers ARP for addresses on other interfaces nor uses them as ARP sources (the LVS-DR real-server setting or stricter).</summary>
    public bool IsSuppressed => (EffectiveArpIgnore ?? ArpIgnore) >= 1 && (EffectiveArpAnnounce ?? ArpAnnounce) >= 2;

    public string ArpIgnoreMeaning => ArpSuppressionPolicy.DescribeIgnore(ArpIgnore);
    public string ArpAnnounceMeaning => ArpSuppressionPolicy.DescribeAnnounce(ArpAnnounce);

    public override string ToString() => $"{InterfaceName}: arp_ignore={ArpIgnore} arp_announce={ArpAnnounce}";
}

/// <summary>What Set-ArpSuppression did on one interface.</summary>
public sealed class ArpSuppressionResult : ArpSuppression
{
    public ArpSuppressionResult(string interfaceName, int arpIgnore, int arpAnnounce, int? effectiveArpIgnore, int? effectiveArpAnnounce,
        int previousArpIgnore, int previousArpAnnounce, bool changed, string? persistPath)
        : base(interfaceName, arpIgnore, arpAnnounce, effectiveArpIgnore, effectiveArpAnnounce)
    {
        PreviousArpIgnore = previousArpIgnore;
        PreviousArpAnnounce = previousArpAnnounce;
        Changed = changed;
        PersistPath = persistPath;
    }

    public int PreviousArpIgnore { get; }
    public int PreviousArpAnnounce { get; }

    /// <summary>
    /// True when its values were written, or the -Persist drop-in was (a drop-in holds every interface of the call, so
    /// all results of that call say so); under -WhatIf, true when they would be. False when everything was already in place.
    /// </summary>
    public bool Changed { get; }

    /// <summary>The sysctl.d drop-in that holds the setting across reboots, when -Persist was used.</summary>
    public string? PersistPath { get; }
}
