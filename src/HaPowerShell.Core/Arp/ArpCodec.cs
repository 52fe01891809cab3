using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace HaPowerShell.Core.Arp;

/// <summary>ARP opcodes (RFC 826). RARP and InARP opcodes are not ours and are rejected by the parser.</summary>
public enum ArpOperation : ushort
{
    Request = 1,
    Reply = 2,
}

/// <summary>An Ethernet frame carrying an ARP packet for IPv4 over Ethernet.</summary>
public sealed record ArpPacket(
    PhysicalAddress EthernetDestination,
    PhysicalAddress EthernetSource,
    ArpOperation Operation,
    PhysicalAddress SenderHardwareAddress,
    IPAddress SenderProtocolAddress,
    PhysicalAddress TargetHardwareAddress,
    IPAddress TargetProtocolAddress)
{
    /// <summary>A probe (RFC 5227): a request whose sender protocol address is 0.0.0.0.</summary>
    public bool IsProbe => Operation == ArpOperation.Request && SenderProtocolAddress.Equals(IPAddress.Any);

    /// <summary>Gratuitous (announcement): sender and target protocol addresses are the same.</summary>
    public bool IsGratuitous => SenderProtocolAddress.Equals(TargetProtocolAddress) && !IsProbe;
}

/// <summary>
/// Builds and parses ARP frames (Ethernet II, EtherType 0x0806, hardware type 1, protocol 0x0800).
/// The builders reproduce the fields iputils arping puts on the wire in each of its modes; the
/// parser checks every fixed field and never reads past the data it was given.
/// </summary>
public static class ArpCodec
{
    public const ushort EtherTypeArp = 0x0806, EtherTypeIpv4 = 0x0800, HardwareTypeEthernet = 1;

    /// <summary>14-byte Ethernet header + 28-byte ARP packet. Short-frame padding is the driver's job, as for the kernel's own ARP.</summary>
    public const int FrameLength = 42;

    public static readonly PhysicalAddress Broadcast = new(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff });
    public static readonly PhysicalAddress Zero = new(new byte[6]);

    /// <summary>Gratuitous ARP request, like <c>arping -U</c>: who-has IP tell IP, target MAC ff:ff:ff:ff:ff:ff, to broadcast.</summary>
    public static byte[] BuildGratuitousRequest(PhysicalAddress mac, IPAddress address)
        => Build(new ArpPacket(Broadcast, mac, ArpOperation.Request, mac, address, Broadcast, address));

    /// <summary>Gratuitous ARP reply, like <c>arping -A</c>: IP is-at MAC, target MAC = our MAC, to broadcast.</summary>
    public static byte[] BuildGratuitousReply(PhysicalAddress mac, IPAddress address)
        => Build(new ArpPacket(Broadcast, mac, ArpOperation.Reply, mac, address, mac, address));

    /// <summary>An ordinary request, like <c>arping -s source target</c>: broadcast, target MAC ff:ff:ff:ff:ff:ff.</summary>
    public static byte[] BuildRequest(PhysicalAddress mac, IPAddress source, IPAddress target)
        => Build(new ArpPacket(Broadcast, mac, ArpOperation.Request, mac, source, Broadcast, target));

    /// <summary>A duplicate-address probe, like <c>arping -D</c>: sender protocol address 0.0.0.0.</summary>
    public static byte[] BuildProbe(PhysicalAddress mac, IPAddress target)
        => BuildRequest(mac, IPAddress.Any, target);

    public static byte[] Build(ArpPacket p)
    {
        var frame = new byte[FrameLength];
        var s = frame.AsSpan();
        PutMac(s, p.EthernetDestination, nameof(p.EthernetDestination));
        PutMac(s[6..], p.EthernetSource, nameof(p.EthernetSource));
        BinaryPrimitives.WriteUInt16BigEndian(s[12..], EtherTypeArp);
        BinaryPrimitives.WriteUInt16BigEndian(s[14..], HardwareTypeEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(s[16..], EtherTypeIpv4);
        s[18] = 6;
        s[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(s[20..], (ushort)p.Operation);
        PutMac(s[22..], p.SenderHardwareAddress, nameof(p.SenderHardwareAddress));
        PutIpv4(s[28..], p.SenderProtocolAddress, nameof(p.SenderProtocolAddress));
        PutMac(s[32..], p.TargetHardwareAddress, nameof(p.TargetHardwareAddress));
        PutIpv4(s[38..], p.TargetProtocolAddress, nameof(p.TargetProtocolAddress));
        return frame;
    }

    /// <summary>Parses an ARP frame; false (with the reason) for anything that is not IPv4-over-Ethernet ARP.</summary>
    public static bool TryParse(ReadOnlySpan<byte> frame, out ArpPacket? packet, out string? problem)
    {
        packet = null;
        if (frame.Length < FrameLength) { problem = $"frame of {frame.Length} bytes is shorter than {FrameLength}"; return false; }
        if (BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != EtherTypeArp) { problem = "EtherType is not ARP (0x0806)"; return false; }
        if (BinaryPrimitives.ReadUInt16BigEndian(frame[14..]) != HardwareTypeEthernet) { problem = "hardware type is not Ethernet (1)"; return false; }
        if (BinaryPrimitives.ReadUInt16BigEndian(frame[16..]) != EtherTypeIpv4) { problem = "protocol type is not IPv4 (0x0800)"; return false; }
        if (frame[18] != 6 || frame[19] != 4) { problem = $"address lengths {frame[18]}/{frame[19]} are not 6/4"; return false; }
        ushort op = BinaryPrimitives.ReadUInt16BigEndian(frame[20..]);
        if (op is not (1 or 2)) { problem = $"opcode {op} is neither request (1) nor reply (2)"; return false; }
        packet = new ArpPacket(
            new PhysicalAddress(frame[..6].ToArray()), new PhysicalAddress(frame[6..12].ToArray()), (ArpOperation)op,
            new PhysicalAddress(frame[22..28].ToArray()), new IPAddress(frame[28..32]),
            new PhysicalAddress(frame[32..38].ToArray()), new IPAddress(frame[38..42]));
        problem = null;
        return true;
    }

    internal static void PutMac(Span<byte> dest, PhysicalAddress mac, string name)
    {
        var b = mac.GetAddressBytes();
        if (b.Length != 6) throw new ArgumentException($"{name}: an Ethernet address has 6 bytes, not {b.Length}.", name);
        b.CopyTo(dest);
    }

    private static void PutIpv4(Span<byte> dest, IPAddress address, string name)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork) throw new ArgumentException($"{name}: ARP carries IPv4 addresses; {address} is not one.", name);
        address.TryWriteBytes(dest, out _);
    }
}
