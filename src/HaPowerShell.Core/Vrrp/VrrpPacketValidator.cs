using System.Net;
using System.Net.Sockets;

namespace HaPowerShell.Core.Vrrp;

/// <summary>
/// A VRRP message as a socket received it: the message without IP header, plus what the IP layer said
/// (source, destination, TTL / hop limit). For IPv4, <see cref="FromIPv4Datagram"/> splits a raw datagram.
/// </summary>
public sealed record VrrpReceivedPacket(AddressFamily AddressFamily, IPAddress Source, IPAddress Destination, int HopLimit, ReadOnlyMemory<byte> Message)
{
    /// <summary>When the packet arrived, on the engine's clock (microseconds); null: when it is handled.
    /// Timers an advert resets (Master_Down) run from its arrival.</summary>
    public long? ArrivedAtMicroseconds { get; init; }

    /// <summary>Splits a raw IPv4 datagram (IP header included, as a raw IPv4 socket delivers it).</summary>
    public static VrrpRejectReason FromIPv4Datagram(ReadOnlyMemory<byte> datagram, out VrrpReceivedPacket? packet)
    {
        packet = null;
        var reason = VrrpCodec.TryParseIPv4(datagram.Span, out var h);
        if (reason != VrrpRejectReason.None) return reason;
        packet = new VrrpReceivedPacket(AddressFamily.InterNetwork, h.Source, h.Destination, h.Ttl,
            datagram.Slice(h.HeaderLength, h.TotalLength - h.HeaderLength));
        return VrrpRejectReason.None;
    }

    public bool IsMulticast => Destination.AddressFamily == AddressFamily.InterNetworkV6
        ? Destination.IsIPv6Multicast
        : (Destination.GetAddressBytes()[0] & 0xf0) == 0xe0;
}

/// <summary>
/// The receive checks of RFC 3768 §7.1 / RFC 5798 §7.1 against one instance's configuration, in this
/// order: family, own advert, header length, TTL 255 (multicast), version, type, VRID, length vs count,
/// checksum, v2 auth, interval, unicast/multicast, unicast source, address list. Never throws.
/// </summary>
public static class VrrpPacketValidator
{
    public static VrrpRejectReason Validate(VrrpInstanceConfig config, IPAddress? ownAddress, VrrpReceivedPacket packet, out VrrpAdvertisement? advertisement)
    {
        advertisement = null;
        try
        {
            return ValidateCore(config, ownAddress, packet, out advertisement);
        }
        catch (Exception)
        {
            // Defensive: nothing below should throw, but a received packet must never take the engine down.
            advertisement = null;
            return VrrpRejectReason.LengthMismatch;
        }
    }

    private static VrrpRejectReason ValidateCore(VrrpInstanceConfig config, IPAddress? ownAddress, VrrpReceivedPacket packet, out VrrpAdvertisement? advertisement)
    {
        advertisement = null;
        var family = config.AddressFamily;
        var msg = packet.Message.Span;
        if (packet.AddressFamily != family || packet.Source is null || packet.Destination is null ||
            packet.Source.AddressFamily != family || packet.Destination.AddressFamily != family)
            return VrrpRejectReason.AddressFamilyMismatch;
        if (ownAddress is not null && packet.Source.Equals(ownAddress)) return VrrpRejectReason.OwnAdvertisement;
        if (msg.Length < VrrpCodec.HeaderLength) return VrrpRejectReason.Truncated;
        bool multicast = packet.IsMulticast;
        if (multicast && packet.HopLimit != VrrpCodec.RequiredTtl) return VrrpRejectReason.TtlInvalid;
        if (msg[0] >> 4 != (int)config.Version) return VrrpRejectReason.VersionMismatch;
        if ((msg[0] & 0x0f) != VrrpCodec.TypeAdvertisement) return VrrpRejectReason.TypeInvalid;
        if (msg[1] != config.VirtualRouterId) return VrrpRejectReason.VridUnknown;

        var reason = VrrpCodec.TryDecode(msg, family, out var adv);
        if (reason != VrrpRejectReason.None) return reason == VrrpRejectReason.Truncated ? VrrpRejectReason.LengthMismatch : reason;

        if (!VrrpCodec.VerifyChecksum(msg, config.Version, family, packet.Source, packet.Destination, config.ChecksumMode))
            return VrrpRejectReason.ChecksumInvalid;

        if (config.Version == VrrpVersion.V2)
        {
            if (adv!.AuthType is not (VrrpAuthType.None or VrrpAuthType.SimpleText or VrrpAuthType.IpAuthenticationHeader))
                return VrrpRejectReason.AuthTypeInvalid;
            var ours = config.AuthenticationPassword is null ? VrrpAuthType.None : VrrpAuthType.SimpleText;
            if (adv.AuthType != ours) return VrrpRejectReason.AuthTypeMismatch;
            if (ours == VrrpAuthType.SimpleText &&
                !VrrpCodec.ConstantTimeEquals(adv.AuthData, VrrpCodec.PasswordToAuthData(config.AuthenticationPassword)))
                return VrrpRejectReason.AuthFailure;
            if (adv.IntervalUnits != config.AdvertisementIntervalUnits) return VrrpRejectReason.IntervalMismatch;
        }
        else if (adv!.IntervalUnits == 0)
            return VrrpRejectReason.IntervalInvalid;

        if (multicast == config.IsUnicast) return VrrpRejectReason.UnicastMulticastMismatch;
        if (config.IsUnicast && config.CheckUnicastSource && !config.UnicastPeers.Contains(packet.Source))
            return VrrpRejectReason.UnknownUnicastSource;

        if (adv.Priority != 255 && !SameAddresses(adv.Addresses, config.VirtualAddresses))
            return VrrpRejectReason.AddressListMismatch;

        advertisement = adv;
        return VrrpRejectReason.None;
    }

    private static bool SameAddresses(IReadOnlyList<IPAddress> received, IReadOnlyList<VrrpVirtualAddress> ours)
    {
        if (received.Count != ours.Count) return false;
        var set = new HashSet<IPAddress>(ours.Select(v => v.Address));
        return received.All(set.Contains) && new HashSet<IPAddress>(received).Count == set.Count;
    }

    /// <summary>Unsigned big-endian comparison of two addresses of one family (the RFC's tie-break on equal priority).</summary>
    public static int CompareAddresses(IPAddress a, IPAddress b)
    {
        Span<byte> x = stackalloc byte[16], y = stackalloc byte[16];
        a.TryWriteBytes(x, out int nx);
        b.TryWriteBytes(y, out int ny);
        if (nx != ny) return nx.CompareTo(ny);
        return x[..nx].SequenceCompareTo(y[..ny]);
    }
}
