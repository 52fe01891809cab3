using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace HaPowerShell.Core.Vrrp;

/// <summary>
/// One VRRP ADVERTISEMENT as carried on the wire (RFC 3768 §5.1, RFC 5798 §5.1), without the IP header.
/// The interval is in the version's unit: seconds for v2, centiseconds for v3.
/// </summary>
public sealed record VrrpAdvertisement
{
    public VrrpVersion Version { get; init; } = VrrpVersion.V3;
    public AddressFamily AddressFamily { get; init; } = AddressFamily.InterNetwork;
    public byte VirtualRouterId { get; init; }
    public byte Priority { get; init; }

    /// <summary>Advert interval in the version's unit: v2 seconds (8 bits), v3 centiseconds (12 bits).</summary>
    public int IntervalUnits { get; init; }

    /// <summary>v2 only.</summary>
    public VrrpAuthType AuthType { get; init; }

    /// <summary>v2 only: the 8 authentication bytes (the password, zero padded, for PASS).</summary>
    public byte[] AuthData { get; init; } = new byte[VrrpCodec.AuthDataLength];

    public IReadOnlyList<IPAddress> Addresses { get; init; } = Array.Empty<IPAddress>();

    /// <summary>The checksum as read from the wire (decode) or as written (after <see cref="VrrpCodec.Encode"/>).</summary>
    public ushort Checksum { get; init; }

    /// <summary>The interval in microseconds.</summary>
    public long IntervalMicroseconds => VrrpTiming.UnitsToMicroseconds(Version, IntervalUnits);
}

/// <summary>An IPv4 header as the raw socket hands it over (IP_HDRINCL-style receive).</summary>
public readonly record struct VrrpIPv4Header(int HeaderLength, int TotalLength, byte Ttl, byte Protocol, IPAddress Source, IPAddress Destination, byte TypeOfService);

/// <summary>
/// VRRP encode/decode and checksums. Every decode path returns a <see cref="VrrpRejectReason"/> instead
/// of throwing: hostile input is counted and dropped, never an exception.
/// </summary>
public static class VrrpCodec
{
    public const int ProtocolNumber = 112;
    public const int HeaderLength = 8;
    public const int AuthDataLength = 8;
    public const byte RequiredTtl = 255;
    public const byte TypeAdvertisement = 1;
    public const int MaxV3IntervalUnits = 0x0FFF;

    /// <summary>224.0.0.18</summary>
    public static readonly IPAddress MulticastIPv4 = IPAddress.Parse("224.0.0.18");

    /// <summary>ff02::12</summary>
    public static readonly IPAddress MulticastIPv6 = IPAddress.Parse("ff02::12");

    public static IPAddress MulticastGroup(AddressFamily family)
        => family == AddressFamily.InterNetworkV6 ? MulticastIPv6 : MulticastIPv4;

    public static int AddressLength(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? 16 : 4;

    /// <summary>The length of a VRRP message with <paramref name="count"/> addresses.</summary>
    public static int MessageLength(VrrpVersion version, AddressFamily family, int count)
        => HeaderLength + count * AddressLength(family) + (version == VrrpVersion.V2 ? AuthDataLength : 0);

    // ---- encode ---------------------------------------------------------------------------

    /// <summary>
    /// Builds the VRRP message with its checksum. For v3 with <see cref="VrrpChecksumMode.PseudoHeader"/>
    /// the IP source and destination go into the pseudo-header, so they are required; the destination is
    /// the multicast group, or the unicast peer the message is sent to.
    /// </summary>
    public static byte[] Encode(VrrpAdvertisement adv, IPAddress? source = null, IPAddress? destination = null,
        VrrpChecksumMode checksumMode = VrrpChecksumMode.PseudoHeader)
    {
        ArgumentNullException.ThrowIfNull(adv);
        if (adv.Version == VrrpVersion.V2 && adv.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException("VRRPv2 carries IPv4 only.", nameof(adv));
        if (adv.Addresses.Count > 255) throw new ArgumentException("At most 255 addresses fit in an advertisement.", nameof(adv));
        int alen = AddressLength(adv.AddressFamily);
        var buf = new byte[MessageLength(adv.Version, adv.AddressFamily, adv.Addresses.Count)];
        buf[0] = (byte)(((int)adv.Version << 4) | TypeAdvertisement);
        buf[1] = adv.VirtualRouterId;
        buf[2] = adv.Priority;
        buf[3] = (byte)adv.Addresses.Count;
        if (adv.Version == VrrpVersion.V2)
        {
            if (adv.IntervalUnits is < 0 or > 255) throw new ArgumentException("A v2 interval is 0-255 seconds.", nameof(adv));
            buf[4] = (byte)adv.AuthType;
            buf[5] = (byte)adv.IntervalUnits;
        }
        else
        {
            if (adv.IntervalUnits is < 0 or > MaxV3IntervalUnits) throw new ArgumentException("A v3 interval is 0-4095 centiseconds.", nameof(adv));
            BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(4), (ushort)adv.IntervalUnits); // top 4 bits reserved = 0
        }
        int off = HeaderLength;
        foreach (var a in adv.Addresses)
        {
            if (a.AddressFamily != adv.AddressFamily) throw new ArgumentException($"Address {a} is not of the advertisement's family.", nameof(adv));
            a.TryWriteBytes(buf.AsSpan(off, alen), out _);
            off += alen;
        }
        if (adv.Version == VrrpVersion.V2)
        {
            var auth = adv.AuthData ?? Array.Empty<byte>();
            auth.AsSpan(0, Math.Min(auth.Length, AuthDataLength)).CopyTo(buf.AsSpan(off));
        }
        ushort sum = ComputeChecksum(buf, adv.Version, adv.AddressFamily, source, destination, checksumMode);
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(6), sum);
        return buf;
    }

    /// <summary>PASS authentication data: the password's bytes, zero padded to 8 (keepalived's layout).</summary>
    internal static byte[] PasswordToAuthData(VrrpPassword? password) => PasswordToAuthData(password?.Reveal());

    /// <summary>PASS authentication data: the password's bytes, zero padded to 8 (keepalived's layout).</summary>
    public static byte[] PasswordToAuthData(string? password)
    {
        var data = new byte[AuthDataLength];
        if (!string.IsNullOrEmpty(password))
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes(password);
            bytes.AsSpan(0, Math.Min(bytes.Length, AuthDataLength)).CopyTo(data);
        }
        return data;
    }

    /// <summary>
    /// An IPv4 datagram around <paramref name="message"/> as keepalived builds it: TOS 0xc0 (internetwork
    /// control), id 0, no fragment flags, TTL 255, protocol 112, header checksum filled in.
    /// </summary>
    public static byte[] BuildIPv4Datagram(IPAddress source, IPAddress destination, ReadOnlySpan<byte> message, byte ttl = RequiredTtl)
    {
        if (source.AddressFamily != AddressFamily.InterNetwork || destination.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException("IPv4 addresses are required.");
        var buf = new byte[20 + message.Length];
        buf[0] = 0x45;
        buf[1] = 0xc0;
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(2), (ushort)buf.Length);
        buf[8] = ttl;
        buf[9] = ProtocolNumber;
        source.TryWriteBytes(buf.AsSpan(12, 4), out _);
        destination.TryWriteBytes(buf.AsSpan(16, 4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(10), Fold(Sum(buf.AsSpan(0, 20), 0)));
        message.CopyTo(buf.AsSpan(20));
        return buf;
    }

    // ---- decode ---------------------------------------------------------------------------

    /// <summary>
    /// Splits an IPv4 datagram (as a raw IPv4 socket delivers it). Trailing bytes past the total length
    /// (Ethernet padding) are ignored; fragments and non-VRRP protocols are rejected.
    /// </summary>
    public static VrrpRejectReason TryParseIPv4(ReadOnlySpan<byte> datagram, out VrrpIPv4Header header)
    {
        header = default;
        if (datagram.Length < 20) return VrrpRejectReason.Truncated;
        if (datagram[0] >> 4 != 4) return VrrpRejectReason.IpHeaderInvalid;
        int ihl = (datagram[0] & 0x0f) * 4;
        if (ihl < 20) return VrrpRejectReason.IpHeaderInvalid;
        if (ihl > datagram.Length) return VrrpRejectReason.Truncated;
        int total = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if (total < ihl) return VrrpRejectReason.IpHeaderInvalid;
        if (total > datagram.Length) return VrrpRejectReason.Truncated;
        ushort frag = BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]);
        if ((frag & 0x3fff) != 0) return VrrpRejectReason.IpHeaderInvalid; // MF set or non-zero offset
        header = new VrrpIPv4Header(ihl, total, datagram[8], datagram[9],
            new IPAddress(datagram.Slice(12, 4)), new IPAddress(datagram.Slice(16, 4)), datagram[1]);
        return datagram[9] == ProtocolNumber ? VrrpRejectReason.None : VrrpRejectReason.NotVrrp;
    }

    /// <summary>
    /// Structural decode of a VRRP message (no IP header): header present, version 2 or 3, type 1,
    /// length exactly as the address count (and v2 auth data) require. Checksum, auth and everything
    /// that depends on configuration are checked by <see cref="VrrpPacketValidator"/>.
    /// </summary>
    public static VrrpRejectReason TryDecode(ReadOnlySpan<byte> message, AddressFamily family, out VrrpAdvertisement? advertisement)
    {
        advertisement = null;
        if (message.Length < HeaderLength) return VrrpRejectReason.Truncated;
        int version = message[0] >> 4;
        if (version is not (2 or 3)) return VrrpRejectReason.VersionMismatch;
        if (version == 2 && family != AddressFamily.InterNetwork) return VrrpRejectReason.VersionMismatch;
        if ((message[0] & 0x0f) != TypeAdvertisement) return VrrpRejectReason.TypeInvalid;
        var v = (VrrpVersion)version;
        int count = message[3];
        int expected = MessageLength(v, family, count);
        if (message.Length != expected) return message.Length < expected ? VrrpRejectReason.Truncated : VrrpRejectReason.LengthMismatch;
        int alen = AddressLength(family);
        var addrs = new IPAddress[count];
        for (int i = 0; i < count; i++) addrs[i] = new IPAddress(message.Slice(HeaderLength + i * alen, alen));
        advertisement = new VrrpAdvertisement
        {
            Version = v,
            AddressFamily = family,
            VirtualRouterId = message[1],
            Priority = message[2],
            IntervalUnits = v == VrrpVersion.V2 ? message[5] : BinaryPrimitives.ReadUInt16BigEndian(message[4..]) & MaxV3IntervalUnits,
            AuthType = v == VrrpVersion.V2 ? (VrrpAuthType)message[4] : VrrpAuthType.None,
            AuthData = v == VrrpVersion.V2 ? message.Slice(HeaderLength + count * alen, AuthDataLength).ToArray() : new byte[AuthDataLength],
            Addresses = addrs,
            Checksum = BinaryPrimitives.ReadUInt16BigEndian(message[6..]),
        };
        return VrrpRejectReason.None;
    }

    // ---- checksums ------------------------------------------------------------------------

    /// <summary>
    /// The checksum the message should carry (its own checksum field counts as zero). v2 and v3 in
    /// <see cref="VrrpChecksumMode.V2Style"/>: over the VRRP message only. v3 otherwise: with the IPv4
    /// pseudo-header (src, dst, 0, 112, length) or the IPv6 one of RFC 2460 §8.1 (src, dst, 32-bit length,
    /// 3 zero bytes, next header 112).
    /// </summary>
    public static ushort ComputeChecksum(ReadOnlySpan<byte> message, VrrpVersion version, AddressFamily family,
        IPAddress? source, IPAddress? destination, VrrpChecksumMode mode = VrrpChecksumMode.PseudoHeader)
    {
        uint acc = PseudoHeaderSum(message.Length, version, family, source, destination, mode);
        acc = Sum(message[..Math.Min(6, message.Length)], acc);
        if (message.Length > 8) acc = Sum(message[8..], acc);
        return Fold(acc);
    }

    /// <summary>Whether the checksum in the message is right.</summary>
    public static bool VerifyChecksum(ReadOnlySpan<byte> message, VrrpVersion version, AddressFamily family,
        IPAddress? source, IPAddress? destination, VrrpChecksumMode mode = VrrpChecksumMode.PseudoHeader)
    {
        if (message.Length < HeaderLength) return false;
        if (version == VrrpVersion.V3 && mode == VrrpChecksumMode.PseudoHeader && (source is null || destination is null)) return false;
        uint acc = PseudoHeaderSum(message.Length, version, family, source, destination, mode);
        return Fold(Sum(message, acc)) == 0;
    }

    private static uint PseudoHeaderSum(int length, VrrpVersion version, AddressFamily family, IPAddress? source, IPAddress? destination, VrrpChecksumMode mode)
    {
        if (version == VrrpVersion.V2 || mode == VrrpChecksumMode.V2Style) return 0;
        if (source is null || destination is null)
            throw new ArgumentException("A VRRPv3 checksum with the pseudo-header needs the IP source and destination.");
        if (source.AddressFamily != family || destination.AddressFamily != family)
            throw new ArgumentException("The source and destination must be of the advertisement's address family.");
        Span<byte> ph = stackalloc byte[40];
        int n;
        if (family == AddressFamily.InterNetwork)
        {
            source.TryWriteBytes(ph[..4], out _);
            destination.TryWriteBytes(ph.Slice(4, 4), out _);
            ph[8] = 0;
            ph[9] = ProtocolNumber;
            BinaryPrimitives.WriteUInt16BigEndian(ph[10..], (ushort)length);
            n = 12;
        }
        else
        {
            source.TryWriteBytes(ph[..16], out _);
            destination.TryWriteBytes(ph.Slice(16, 16), out _);
            BinaryPrimitives.WriteUInt32BigEndian(ph[32..], (uint)length);
            ph[36] = ph[37] = ph[38] = 0;
            ph[39] = ProtocolNumber;
            n = 40;
        }
        return Sum(ph[..n], 0);
    }

    /// <summary>One's-complement accumulation (RFC 1071), 16-bit big-endian words, odd byte padded.</summary>
    internal static uint Sum(ReadOnlySpan<byte> data, uint acc)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2) acc += (uint)(data[i] << 8 | data[i + 1]);
        if (i < data.Length) acc += (uint)(data[i] << 8);
        // keep the accumulator from overflowing on long inputs
        while (acc > 0xffff_0000u) acc = (acc & 0xffff) + (acc >> 16);
        return acc;
    }

    internal static ushort Fold(uint acc)
    {
        while (acc >> 16 != 0) acc = (acc & 0xffff) + (acc >> 16);
        return (ushort)~acc;
    }

    internal static bool ConstantTimeEquals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
        => CryptographicOperations.FixedTimeEquals(a, b);
}
