using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

public class VrrpCodecTests
{
    private static readonly IPAddress Src4 = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Vip4 = IPAddress.Parse("192.0.2.10");
    private static readonly IPAddress Src6 = IPAddress.Parse("fe80::1");
    private static readonly IPAddress Vip6 = IPAddress.Parse("2001:db8::10");

    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", ""));

    // RFC 3768 §5.1 by hand: 0x21 (v2, ADVERTISEMENT), VRID 51, prio 100, 1 address, auth 1 (PASS),
    // interval 1 s, checksum, 192.0.2.10, "secret" zero-padded to 8 bytes (keepalived's auth_data layout).
    // Checksum worked by hand: words 2133+6401+0101+c000+020a+7365+6372+6574 = 0x2848a -> 0x848c -> ~ = 0x7b73.
    private const string GoldenV2Pass = "21 33 64 01 01 01 7b73 c000020a 7365637265740000";

    // RFC 5798 §5.1: 0x31, VRID 51, prio 100, 1 address, rsvd|max adver int = 100 cs, checksum, 192.0.2.10.
    // Pseudo-header 192.0.2.1 -> 224.0.0.18, 0, 112, length 12: sum 0x2fa31 -> 0xfa33 -> ~ = 0x05cc.
    private const string GoldenV3IPv4 = "31 33 64 01 0064 05cc c000020a";

    // Same message, VRRPv2-style checksum (message only): 0x157a2 -> 0x57a3 -> ~ = 0xa85c.
    private const string GoldenV3IPv4V2Style = "31 33 64 01 0064 a85c c000020a";

    // IPv6: fe80::1 -> ff02::12, RFC 2460 §8.1 pseudo-header (32-bit length 24, next header 112).
    private const string GoldenV3IPv6 = "31 33 64 01 0064 3e7f 20010db8000000000000000000000010";

    private static VrrpAdvertisement V2() => new()
    {
        Version = VrrpVersion.V2, VirtualRouterId = 51, Priority = 100, IntervalUnits = 1,
        AuthType = VrrpAuthType.SimpleText, AuthData = VrrpCodec.PasswordToAuthData("secret"), Addresses = new[] { Vip4 },
    };

    private static VrrpAdvertisement V3(AddressFamily f = AddressFamily.InterNetwork) => new()
    {
        Version = VrrpVersion.V3, AddressFamily = f, VirtualRouterId = 51, Priority = 100, IntervalUnits = 100,
        Addresses = new[] { f == AddressFamily.InterNetwork ? Vip4 : Vip6 },
    };

    [Fact]
    public void V2_pass_golden_bytes()
        => Assert.Equal(Hex(GoldenV2Pass), VrrpCodec.Encode(V2()));

    [Fact]
    public void V3_ipv4_golden_bytes_with_pseudo_header()
        => Assert.Equal(Hex(GoldenV3IPv4), VrrpCodec.Encode(V3(), Src4, VrrpCodec.MulticastIPv4));

    [Fact]
    public void V3_ipv4_golden_bytes_v2_style()
        => Assert.Equal(Hex(GoldenV3IPv4V2Style), VrrpCodec.Encode(V3(), Src4, VrrpCodec.MulticastIPv4, VrrpChecksumMode.V2Style));

    [Fact]
    public void V3_ipv6_golden_bytes()
        => Assert.Equal(Hex(GoldenV3IPv6), VrrpCodec.Encode(V3(AddressFamily.InterNetworkV6), Src6, VrrpCodec.MulticastIPv6));

    [Fact]
    public void V3_unicast_checksum_uses_the_peer_as_destination()
    {
        var msg = VrrpCodec.Encode(V3(), Src4, IPAddress.Parse("192.0.2.2"));
        Assert.Equal(0x23, msg[6]);
        Assert.Equal(0xdc, msg[7]);
        Assert.True(VrrpCodec.VerifyChecksum(msg, VrrpVersion.V3, AddressFamily.InterNetwork, Src4, IPAddress.Parse("192.0.2.2")));
        Assert.False(VrrpCodec.VerifyChecksum(msg, VrrpVersion.V3, AddressFamily.InterNetwork, Src4, VrrpCodec.MulticastIPv4));
    }

    [Fact]
    public void IPv4_datagram_as_keepalived_builds_it()
    {
        var dg = VrrpCodec.BuildIPv4Datagram(Src4, VrrpCodec.MulticastIPv4, Hex(GoldenV2Pass));
        // ihl 5, tos 0xc0, len 40, id 0, frag 0, ttl 255, proto 112, header checksum, src, dst
        Assert.Equal(Hex("45 c0 0028 0000 0000 ff 70 1892 c0000201 e0000012" + GoldenV2Pass), dg);
        Assert.Equal(VrrpRejectReason.None, VrrpCodec.TryParseIPv4(dg, out var h));
        Assert.Equal(255, h.Ttl);
        Assert.Equal(Src4, h.Source);
        Assert.Equal(VrrpCodec.MulticastIPv4, h.Destination);
    }

    [Fact]
    public void Decode_round_trips_every_field()
    {
        Assert.Equal(VrrpRejectReason.None, VrrpCodec.TryDecode(Hex(GoldenV2Pass), AddressFamily.InterNetwork, out var a));
        Assert.Equal(VrrpVersion.V2, a!.Version);
        Assert.Equal(51, a.VirtualRouterId);
        Assert.Equal(100, a.Priority);
        Assert.Equal(1, a.IntervalUnits);
        Assert.Equal(1_000_000, a.IntervalMicroseconds);
        Assert.Equal(VrrpAuthType.SimpleText, a.AuthType);
        Assert.Equal(VrrpCodec.PasswordToAuthData("secret"), a.AuthData);
        Assert.Equal(new[] { Vip4 }, a.Addresses);
        Assert.Equal(0x7b73, a.Checksum);

        Assert.Equal(VrrpRejectReason.None, VrrpCodec.TryDecode(Hex(GoldenV3IPv6), AddressFamily.InterNetworkV6, out var b));
        Assert.Equal(VrrpVersion.V3, b!.Version);
        Assert.Equal(100, b.IntervalUnits);
        Assert.Equal(1_000_000, b.IntervalMicroseconds);
        Assert.Equal(new[] { Vip6 }, b.Addresses);
        Assert.True(VrrpCodec.VerifyChecksum(Hex(GoldenV3IPv6), VrrpVersion.V3, AddressFamily.InterNetworkV6, Src6, VrrpCodec.MulticastIPv6));
    }

    [Fact]
    public void V3_reserved_bits_are_ignored_on_receive()
    {
        var m = Hex(GoldenV3IPv4);
        m[4] |= 0xf0;
        Assert.Equal(VrrpRejectReason.None, VrrpCodec.TryDecode(m, AddressFamily.InterNetwork, out var a));
        Assert.Equal(100, a!.IntervalUnits);
    }

    [Theory]
    [InlineData("", VrrpRejectReason.Truncated)]
    [InlineData("31 33 64 01 0064 05", VrrpRejectReason.Truncated)]
    [InlineData("41 33 64 01 0064 05cc c000020a", VrrpRejectReason.VersionMismatch)]
    [InlineData("32 33 64 01 0064 05cc c000020a", VrrpRejectReason.TypeInvalid)]
    [InlineData("31 33 64 02 0064 05cc c000020a", VrrpRejectReason.Truncated)]
    [InlineData("31 33 64 01 0064 05cc c000020a 00", VrrpRejectReason.LengthMismatch)]
    [InlineData("21 33 64 01 01 01 7b73 c000020a", VrrpRejectReason.Truncated)] // v2 without its auth data
    public void Decode_rejects_malformed(string hex, VrrpRejectReason expected)
        => Assert.Equal(expected, VrrpCodec.TryDecode(Hex(hex), AddressFamily.InterNetwork, out _));

    [Theory]
    [InlineData("45", VrrpRejectReason.Truncated)]
    [InlineData("65 c0 0028 0000 0000 ff 70 0000 c0000201 e0000012", VrrpRejectReason.IpHeaderInvalid)] // version 6
    [InlineData("44 c0 0028 0000 0000 ff 70 0000 c0000201 e0000012", VrrpRejectReason.IpHeaderInvalid)] // ihl 4
    [InlineData("45 c0 0010 0000 0000 ff 70 0000 c0000201 e0000012", VrrpRejectReason.IpHeaderInvalid)] // tot_len < ihl
    [InlineData("45 c0 0028 0000 0000 ff 70 0000 c0000201 e0000012", VrrpRejectReason.Truncated)]       // tot_len > buffer
    [InlineData("45 c0 0014 0000 2000 ff 70 0000 c0000201 e0000012", VrrpRejectReason.IpHeaderInvalid)] // MF
    [InlineData("45 c0 0014 0000 0000 ff 33 0000 c0000201 e0000012", VrrpRejectReason.NotVrrp)]         // AH
    public void IPv4_header_checks(string hex, VrrpRejectReason expected)
        => Assert.Equal(expected, VrrpCodec.TryParseIPv4(Hex(hex), out _));

    [Fact]
    public void Ethernet_padding_after_total_length_is_ignored()
    {
        var dg = VrrpCodec.BuildIPv4Datagram(Src4, VrrpCodec.MulticastIPv4, Hex(GoldenV3IPv4)).Concat(new byte[14]).ToArray();
        Assert.Equal(VrrpRejectReason.None, VrrpReceivedPacket.FromIPv4Datagram(dg, out var p));
        Assert.Equal(12, p!.Message.Length);
    }

    [Fact]
    public void Checksum_verifies_any_single_bit_flip_as_bad()
    {
        var good = Hex(GoldenV3IPv4);
        for (int bit = 0; bit < good.Length * 8; bit++)
        {
            var m = (byte[])good.Clone();
            m[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(VrrpCodec.VerifyChecksum(m, VrrpVersion.V3, AddressFamily.InterNetwork, Src4, VrrpCodec.MulticastIPv4), $"bit {bit}");
        }
    }

    [Fact]
    public void Timing_formulas_to_the_microsecond()
    {
        // v2: Skew = (256 - 100)/256 s = 0.609375 s; MDI = 3 s + skew.
        Assert.Equal(609_375, VrrpTiming.SkewTime(VrrpVersion.V2, 100, 1_000_000));
        Assert.Equal(3_609_375, VrrpTiming.MasterDownInterval(VrrpVersion.V2, 100, 1_000_000));
        // v2's skew does not scale with the interval.
        Assert.Equal(15_609_375, VrrpTiming.MasterDownInterval(VrrpVersion.V2, 100, 5_000_000));
        // v3 at 100 ms: 156 * 100000 / 256 = 60937.5 -> 60937 µs (keepalived truncates the same way).
        Assert.Equal(60_937, VrrpTiming.SkewTime(VrrpVersion.V3, 100, 100_000));
        Assert.Equal(360_937, VrrpTiming.MasterDownInterval(VrrpVersion.V3, 100, 100_000));
        // v3 at the 10 ms limit, priority 254: 2 * 10000 / 256 = 78.125 -> 78.
        Assert.Equal(30_078, VrrpTiming.MasterDownInterval(VrrpVersion.V3, 254, 10_000));
        Assert.Equal(10_000, VrrpTiming.UnitsToMicroseconds(VrrpVersion.V3, 1));
        Assert.Equal(40_950_000, VrrpTiming.UnitsToMicroseconds(VrrpVersion.V3, 4095));
    }
}
