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

/// <summary>One neighbour-table entry (what `arp -a` and `ip neigh` show).</summary>
public sealed class ArpEntry
{
    public ArpEntry(string interfaceName, int interfaceIndex, IPAddress ipAddress, PhysicalAddress? linkLayerAddress,
        ArpEntryState state, bool isRouter, bool isProxy)
    {
        InterfaceName = interfaceName;
        InterfaceIndex = interfaceIndex;
        IPAddress = ipAddress;
        LinkLayerAddress = Mac.Format(linkLayerAddress);
        State = state;
        IsRouter = isRouter;
        IsProxy = isProxy;
    }

    public string InterfaceName { get; }
    public int InterfaceIndex { get; }
    public IPAddress IPAddress { get; }
    public IPAddressFamily AddressFamily => Mac.Family(IPAddress);

    /// <summary>The neighbour's MAC ("02:00:5e:00:00:01"), or null while unresolved (INCOMPLETE, FAILED).</summary>
    public string? LinkLayerAddress { get; }

    public ArpEntryState State { get; }

    /// <summary>The neighbour said it is a router (IPv6 NTF_ROUTER).</summary>
    public bool IsRouter { get; }

    /// <summary>A proxy entry (answered on behalf of another host, NTF_PROXY).</summary>
    public bool IsProxy { get; }

    /// <summary>The `ip neigh` line: "192.0.2.12 dev eth0 lladdr 02:00:00:00:00:02 REACHABLE".</summary>
    public override string ToString()
        => $"{IPAddress} dev {InterfaceName}" + (LinkLayerAddress is null ? "" : $" lladdr {LinkLayerAddress}") +
           (IsRouter ? " router" : "") + $" {State.ToString().ToUpperInvariant()}";
}

/// <summary>An address on an interface (a VIP such as eth0:0 or lo:0, or any other address).</summary>
public sealed class VirtualIPAddress
{
    public const uint FlagSecondary = 0x01, FlagNoDad = 0x02, FlagTentative = 0x40, FlagPermanent = 0x80, FlagDadFailed = 0x08;

    public VirtualIPAddress(string interfaceName, int interfaceIndex, IPAddress ipAddress, int prefixLength, string? label,
        byte scope, uint flags, IPAddress? broadcast)
    {
        InterfaceName = interfaceName;
        InterfaceIndex = interfaceIndex;
        IPAddress = ipAddress;
        PrefixLength = prefixLength;
        Label = label;
        ScopeId = scope;
        Flags = flags;
        Broadcast = broadcast;
    }

    public string InterfaceName { get; }
    public int InterfaceIndex { get; }
    public IPAddress IPAddress { get; }
    public int PrefixLength { get; }

    /// <summary>The IPv4 label ("eth0:0", "lo:0"); null for IPv6 addresses, which have none.</summary>
    public string? Label { get; }

    public IPAddressFamily AddressFamily => Mac.Family(IPAddress);
    public IPAddress? Broadcast { get; }

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
        var parts = new List<string> { AddressFamily == IPAddressFamily.IPv6 ? "inet6" : "inet", Cidr };
        if (Broadcast is not null) { parts.Add("brd"); parts.Add(Broadcast.ToString()); }
        parts.Add("scope"); parts.Add(Scope);
        if (IsSecondary) parts.Add("secondary");
        if ((Flags & FlagNoDad) != 0) parts.Add("nodad");
        if (IsTentative) parts.Add("tentative");
        parts.Add(Label ?? InterfaceName);
        return string.Join(" ", parts);
    }
}

/// <summary>What Send-GratuitousArp put on the wire for one address.</summary>
public sealed class GratuitousArpResult
{
    public GratuitousArpResult(string interfaceName, IPAddress ipAddress, PhysicalAddress linkLayerAddress, AnnouncementKind kind)
    {
        InterfaceName = interfaceName;
        IPAddress = ipAddress;
        LinkLayerAddress = Mac.Format(linkLayerAddress)!;
        Kind = kind;
    }

    public string InterfaceName { get; }
    public IPAddress IPAddress { get; }

    /// <summary>The MAC announced for the address (the interface's own).</summary>
    public string LinkLayerAddress { get; }

    public AnnouncementKind Kind { get; }
    public int FramesSent { get; internal set; }

    /// <summary>UTC time the first frame was handed to the kernel.</summary>
    public DateTime? FirstSent { get; internal set; }

    public DateTime? LastSent { get; internal set; }

    public override string ToString() => $"{IPAddress} is-at {LinkLayerAddress} on {InterfaceName} ({Kind} x{FramesSent})";
}

/// <summary>One answer to Send-ArpRequest (one line of arping's output).</summary>
public sealed class ArpReply
{
    public ArpReply(string interfaceName, IPAddress ipAddress, PhysicalAddress linkLayerAddress, IPAddress sourceAddress,
        int sequence, TimeSpan roundTripTime, bool unicast, DateTime received)
    {
        InterfaceName = interfaceName;
        IPAddress = ipAddress;
        LinkLayerAddress = Mac.Format(linkLayerAddress)!;
        SourceAddress = sourceAddress;
        Sequence = sequence;
        RoundTripTime = roundTripTime;
        Unicast = unicast;
        Received = received;
    }

    public string InterfaceName { get; }

    /// <summary>The address that answered (the one asked for).</summary>
    public IPAddress IPAddress { get; }

    /// <summary>Its MAC.</summary>
    public string LinkLayerAddress { get; }

    /// <summary>The sender address our request carried (what the peer learnt).</summary>
    public IPAddress SourceAddress { get; }

    /// <summary>Which request (1-based) was the most recent when this reply came.</summary>
    public int Sequence { get; }

    public TimeSpan RoundTripTime { get; }
    public double RoundTripMilliseconds => RoundTripTime.TotalMilliseconds;

    /// <summary>True when the reply was addressed to our MAC, false for a broadcast reply.</summary>
    public bool Unicast { get; }

    public DateTime Received { get; }

    /// <summary>arping's line: "Unicast reply from 192.0.2.12 [02:00:00:00:00:02]  0.612ms".</summary>
    public override string ToString()
        => $"{(Unicast ? "Unicast" : "Broadcast")} reply from {IPAddress} [{LinkLayerAddress.ToUpperInvariant()}]  {RoundTripMilliseconds:0.000}ms";
}

/// <summary>A host that claimed an address during Test-ArpAddress.</summary>
public sealed class ArpClaim
{
    public ArpClaim(PhysicalAddress linkLayerAddress, ArpClaimKind kind, IPAddress senderAddress, DateTime seen)
    {
        LinkLayerAddress = Mac.Format(linkLayerAddress)!;
        Kind = kind;
        SenderAddress = senderAddress;
        Seen = seen;
    }

    public string LinkLayerAddress { get; }
    public ArpClaimKind Kind { get; }

    /// <summary>The sender protocol address of the frame (0.0.0.0 / :: for a probe).</summary>
    public IPAddress SenderAddress { get; }

    public DateTime Seen { get; }

    public override string ToString() => $"{LinkLayerAddress} ({Kind})";
}

/// <summary>The outcome of a duplicate-address test (Test-ArpAddress -Detailed).</summary>
public sealed class ArpAddressTestResult
{
    public ArpAddressTestResult(string interfaceName, IPAddress ipAddress, int probesSent, IReadOnlyList<ArpClaim> claims)
    {
        InterfaceName = interfaceName;
        IPAddress = ipAddress;
        ProbesSent = probesSent;
        Claims = claims.ToArray();
    }

    public string InterfaceName { get; }
    public IPAddress IPAddress { get; }

    /// <summary>True when no other host claimed the address.</summary>
    public bool IsAvailable => Claims.Length == 0;

    public int ProbesSent { get; }
    public ArpClaim[] Claims { get; }

    /// <summary>The distinct MACs that claimed the address.</summary>
    public string[] ClaimedBy => Claims.Select(c => c.LinkLayerAddress).Distinct().ToArray();

    public override string ToString()
        => IsAvailable ? $"{IPAddress} is free on {InterfaceName}" : $"{IPAddress} is in use on {InterfaceName} by {string.Join(", ", ClaimedBy)}";
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
