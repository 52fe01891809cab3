using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace HaPowerShell.Core.Arp;

/// <summary>ICMPv6 neighbour discovery message types (RFC 4861) that we build and read.</summary>
public enum NdpMessageType : byte
{
    NeighborSolicitation = 135,
    NeighborAdvertisement = 136,
}

/// <summary>An Ethernet frame carrying an IPv6 Neighbor Solicitation or Advertisement.</summary>
public sealed record NdpPacket(
    PhysicalAddress EthernetDestination,
    PhysicalAddress EthernetSource,
    IPAddress Source,
    IPAddress Destination,
    byte HopLimit,
    NdpMessageType Type,
    IPAddress Target,
    bool Router,
    bool Solicited,
    bool Override,
    PhysicalAddress? LinkLayerAddressOption)
{
    /// <summary>A duplicate-address-detection solicitation (source ::).</summary>
    public bool IsDadProbe => Type == NdpMessageType.NeighborSolicitation && Source.Equals(IPAddress.IPv6None);
}

/// <summary>
/// Builds and parses Ethernet + IPv6 + ICMPv6 neighbour discovery frames: unsolicited Neighbor
/// Advertisements (the IPv6 gratuitous ARP), Neighbor Solicitations (address resolution and DAD).
/// Every frame has hop limit 255 and a correct ICMPv6 checksum; the parser enforces both, as a
/// receiving host must (RFC 4861 section 7.1.2), and never reads past the data it was given.
/// </summary>
public static class NdpCodec
{
    public const ushort EtherTypeIpv6 = 0x86DD;
    public const byte NextHeaderIcmpv6 = 58, HopLimit = 255;
    private const byte OptionSourceLinkLayer = 1, OptionTargetLinkLayer = 2;
    private const int EthernetHeader = 14, Ipv6Header = 40, NdBody = 24, LinkLayerOption = 8;

    public static readonly IPAddress AllNodes = IPAddress.Parse("ff02::1");

    /// <summary>Unsolicited NA (RFC 4861 7.2.6): to ff02::1, from the target itself, Override set, Solicited clear, with the target link-layer option.</summary>
    public static byte[] BuildUnsolicitedAdvertisement(PhysicalAddress mac, IPAddress target)
        => BuildAdvertisement(mac, target, target, AllNodes, MulticastMac(AllNodes), router: false, solicited: false, @override: true);

    public static byte[] BuildAdvertisement(PhysicalAddress mac, IPAddress source, IPAddress target, IPAddress destination,
        PhysicalAddress ethernetDestination, bool router, bool solicited, bool @override)
    {
        byte flags = (byte)((router ? 0x80 : 0) | (solicited ? 0x40 : 0) | (@override ? 0x20 : 0));
        return Build(mac, ethernetDestination, source, destination, NdpMessageType.NeighborAdvertisement, flags, target,
            OptionTargetLinkLayer, mac);
    }

    /// <summary>
    /// Neighbor Solicitation for <paramref name="target"/> to its solicited-node multicast group. With
    /// source :: it is a DAD probe (RFC 4862) and carries no source link-layer option.
    /// </summary>
    public static byte[] BuildSolicitation(PhysicalAddress mac, IPAddress source, IPAddress target)
    {
        var group = SolicitedNodeMulticast(target);
        bool dad = source.Equals(IPAddress.IPv6None);
        return Build(mac, MulticastMac(group), source, group, NdpMessageType.NeighborSolicitation, 0, target,
            dad ? (byte)0 : OptionSourceLinkLayer, dad ? null : mac);
    }

    /// <summary>ff02::1:ffXX:XXXX for the low 24 bits of an address.</summary>
    public static IPAddress SolicitedNodeMulticast(IPAddress address)
    {
        var a = Ipv6Bytes(address, nameof(address));
        var g = new byte[16];
        g[0] = 0xff; g[1] = 0x02; g[11] = 0x01; g[12] = 0xff;
        g[13] = a[13]; g[14] = a[14]; g[15] = a[15];
        return new IPAddress(g);
    }

    /// <summary>33:33 + the low 32 bits of an IPv6 multicast group (RFC 2464).</summary>
    public static PhysicalAddress MulticastMac(IPAddress group)
    {
        var a = Ipv6Bytes(group, nameof(group));
        return new PhysicalAddress(new byte[] { 0x33, 0x33, a[12], a[13], a[14], a[15] });
    }

    private static byte[] Build(PhysicalAddress mac, PhysicalAddress ethDst, IPAddress source, IPAddress destination,
        NdpMessageType type, byte flags, IPAddress target, byte optionType, PhysicalAddress? optionMac)
    {
        int icmpLength = NdBody + (optionMac is null ? 0 : LinkLayerOption);
        var frame = new byte[EthernetHeader + Ipv6Header + icmpLength];
        var s = frame.AsSpan();
        ArpCodec.PutMac(s, ethDst, "ethernetDestination");
        ArpCodec.PutMac(s[6..], mac, nameof(mac));
        BinaryPrimitives.WriteUInt16BigEndian(s[12..], EtherTypeIpv6);
        var ip = s[EthernetHeader..];
        ip[0] = 0x60; // version 6, traffic class 0, flow label 0
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)icmpLength);
        ip[6] = NextHeaderIcmpv6;
        ip[7] = HopLimit;
        Ipv6Bytes(source, nameof(source)).CopyTo(ip[8..]);
        Ipv6Bytes(destination, nameof(destination)).CopyTo(ip[24..]);
        var icmp = ip[Ipv6Header..];
        icmp[0] = (byte)type;
        icmp[4] = flags;
        Ipv6Bytes(target, nameof(target)).CopyTo(icmp[8..]);
        if (optionMac is not null)
        {
            icmp[24] = optionType;
            icmp[25] = 1; // length in units of 8 bytes
            ArpCodec.PutMac(icmp[26..], optionMac, nameof(optionMac));
        }
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum(ip[8..24], ip[24..40], icmp));
        return frame;
    }

    /// <summary>ICMPv6 checksum over the IPv6 pseudo-header and the message (checksum field counted as 0).</summary>
    public static ushort Checksum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> icmp)
    {
        ulong sum = 0;
        sum += SumWords(source);
        sum += SumWords(destination);
        sum += (uint)icmp.Length >> 16;
        sum += (uint)icmp.Length & 0xffff;
        sum += NextHeaderIcmpv6;
        for (int i = 0; i + 1 < icmp.Length; i += 2)
            if (i != 2) sum += BinaryPrimitives.ReadUInt16BigEndian(icmp[i..]);
        if ((icmp.Length & 1) != 0) sum += (uint)icmp[^1] << 8;
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        ushort result = (ushort)~sum;
        return result;
    }

    private static ulong SumWords(ReadOnlySpan<byte> b)
    {
        ulong sum = 0;
        for (int i = 0; i + 1 < b.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(b[i..]);
        return sum;
    }

    /// <summary>
    /// Parses a neighbour discovery frame. False (with the reason) for other traffic and for messages a
    /// host must drop: hop limit other than 255, ICMP code not 0, bad checksum, truncated or
    /// zero-length options, a multicast target.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> frame, out NdpPacket? packet, out string? problem)
    {
        packet = null;
        if (frame.Length < EthernetHeader + Ipv6Header) { problem = $"frame of {frame.Length} bytes is too short for Ethernet + IPv6"; return false; }
        if (BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != EtherTypeIpv6) { problem = "EtherType is not IPv6 (0x86DD)"; return false; }
        var ip = frame[EthernetHeader..];
        if (ip[0] >> 4 != 6) { problem = $"IP version {ip[0] >> 4} is not 6"; return false; }
        int payload = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (ip[6] != NextHeaderIcmpv6) { problem = $"next header {ip[6]} is not ICMPv6 (58)"; return false; }
        if (payload > ip.Length - Ipv6Header) { problem = $"IPv6 payload length {payload} exceeds the {ip.Length - Ipv6Header} bytes present"; return false; }
        var icmp = ip.Slice(Ipv6Header, payload);
        if (icmp.Length < 4) { problem = $"ICMPv6 message of {icmp.Length} bytes is too short"; return false; }
        byte type = icmp[0];
        if (type is not (135 or 136)) { problem = $"ICMPv6 type {type} is not a neighbour solicitation or advertisement"; return false; }
        if (icmp.Length < NdBody) { problem = $"ICMPv6 message of {icmp.Length} bytes is too short for neighbour discovery"; return false; }
        if (ip[7] != HopLimit) { problem = $"hop limit {ip[7]} is not 255 (the message may come from off-link)"; return false; }
        if (icmp[1] != 0) { problem = $"ICMPv6 code {icmp[1]} is not 0"; return false; }
        ushort expected = Checksum(ip[8..24], ip[24..40], icmp);
        ushort actual = BinaryPrimitives.ReadUInt16BigEndian(icmp[2..]);
        if (expected != actual) { problem = $"ICMPv6 checksum 0x{actual:x4} is wrong (expected 0x{expected:x4})"; return false; }
        var target = new IPAddress(icmp[8..24]);
        if (target.IsIPv6Multicast) { problem = "target address is multicast"; return false; }
        PhysicalAddress? lla = null;
        byte wanted = type == 135 ? OptionSourceLinkLayer : OptionTargetLinkLayer;
        var options = icmp[NdBody..];
        while (options.Length > 0)
        {
            if (options.Length < 2) { problem = "truncated option"; return false; }
            int len = options[1] * 8;
            if (len == 0) { problem = "option with length 0"; return false; }
            if (len > options.Length) { problem = $"option of {len} bytes exceeds the {options.Length} bytes left"; return false; }
            if (options[0] == wanted && len >= 8) lla = new PhysicalAddress(options.Slice(2, 6).ToArray());
            options = options[len..];
        }
        byte flags = icmp[4];
        packet = new NdpPacket(
            new PhysicalAddress(frame[..6].ToArray()), new PhysicalAddress(frame[6..12].ToArray()),
            new IPAddress(ip[8..24]), new IPAddress(ip[24..40]), ip[7], (NdpMessageType)type, target,
            type == 136 && (flags & 0x80) != 0, type == 136 && (flags & 0x40) != 0, type == 136 && (flags & 0x20) != 0, lla);
        problem = null;
        return true;
    }

    private static byte[] Ipv6Bytes(IPAddress a, string name)
    {
        if (a.AddressFamily != AddressFamily.InterNetworkV6) throw new ArgumentException($"{name}: {a} is not an IPv6 address.", name);
        return a.GetAddressBytes();
    }
}
