using System.Net;
using System.Net.NetworkInformation;
using HaPowerShell.Core.Arp;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>
/// Golden bytes for every ARP and neighbour-discovery frame we build and parse. The ARP frames were
/// captured with tcpdump from iputils arping (20221126) in the namespace lab; the NA/NS frames from
/// the Linux kernel (its DAD defence and solicited NA) and from our own builder as answered by the kernel.
/// </summary>
public class ArpCodecTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));
    private static readonly PhysicalAddress Mac1 = PhysicalAddress.Parse("02-33-C8-0D-00-01");
    private static readonly PhysicalAddress Mac2 = PhysicalAddress.Parse("02-33-C8-0D-00-02");
    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    // arping -U -c 1 -I eth0 192.0.2.30
    private const string ArpingU = "ffffffffffff 0233c80d0001 0806 0001 0800 06 04 0001 0233c80d0001 c000021e ffffffffffff c000021e";
    // arping -A -c 1 -I eth0 192.0.2.31
    private const string ArpingA = "ffffffffffff 0233c80d0001 0806 0001 0800 06 04 0002 0233c80d0001 c000021f 0233c80d0001 c000021f";
    // arping -c 1 -I eth0 -s 192.0.2.30 192.0.2.12
    private const string ArpingRequest = "ffffffffffff 0233c80d0001 0806 0001 0800 06 04 0001 0233c80d0001 c000021e ffffffffffff c000020c";
    // arping -D -c 1 -I eth0 192.0.2.12
    private const string ArpingD = "ffffffffffff 0233c80d0001 0806 0001 0800 06 04 0001 0233c80d0001 00000000 ffffffffffff c000020c";
    // the kernel's reply from 192.0.2.12 to the request above
    private const string KernelReply = "0233c80d0001 0233c80d0002 0806 0001 0800 06 04 0002 0233c80d0002 c000020c 0233c80d0001 c000021e";

    [Fact]
    public void GratuitousRequest_MatchesArpingU() =>
        Assert.Equal(Hex(ArpingU), ArpCodec.BuildGratuitousRequest(Mac1, Ip("192.0.2.30")));

    [Fact]
    public void GratuitousReply_MatchesArpingA() =>
        Assert.Equal(Hex(ArpingA), ArpCodec.BuildGratuitousReply(Mac1, Ip("192.0.2.31")));

    [Fact]
    public void Request_MatchesArpingWithSource() =>
        Assert.Equal(Hex(ArpingRequest), ArpCodec.BuildRequest(Mac1, Ip("192.0.2.30"), Ip("192.0.2.12")));

    [Fact]
    public void Probe_MatchesArpingD() =>
        Assert.Equal(Hex(ArpingD), ArpCodec.BuildProbe(Mac1, Ip("192.0.2.12")));

    [Fact]
    public void Parse_KernelReply()
    {
        Assert.True(ArpCodec.TryParse(Hex(KernelReply), out var p, out var problem), problem);
        Assert.Equal(ArpOperation.Reply, p!.Operation);
        Assert.Equal(Mac1, p.EthernetDestination);
        Assert.Equal(Mac2, p.EthernetSource);
        Assert.Equal(Mac2, p.SenderHardwareAddress);
        Assert.Equal(Ip("192.0.2.12"), p.SenderProtocolAddress);
        Assert.Equal(Mac1, p.TargetHardwareAddress);
        Assert.Equal(Ip("192.0.2.30"), p.TargetProtocolAddress);
        Assert.False(p.IsGratuitous);
        Assert.False(p.IsProbe);
    }

    [Theory]
    [InlineData(ArpingU)]
    [InlineData(ArpingA)]
    [InlineData(ArpingRequest)]
    [InlineData(ArpingD)]
    [InlineData(KernelReply)]
    public void ParseThenBuild_RoundTrips(string hex)
    {
        Assert.True(ArpCodec.TryParse(Hex(hex), out var p, out _));
        Assert.Equal(Hex(hex), ArpCodec.Build(p!));
    }

    [Fact]
    public void Parse_ClassifiesProbeAndAnnouncement()
    {
        ArpCodec.TryParse(Hex(ArpingD), out var probe, out _);
        Assert.True(probe!.IsProbe);
        ArpCodec.TryParse(Hex(ArpingU), out var garp, out _);
        Assert.True(garp!.IsGratuitous);
    }

    [Fact]
    public void Parse_AcceptsEthernetPadding()
    {
        var padded = Hex(KernelReply).Concat(new byte[18]).ToArray(); // 60-byte minimum frame
        Assert.True(ArpCodec.TryParse(padded, out var p, out _));
        Assert.Equal(Ip("192.0.2.12"), p!.SenderProtocolAddress);
    }

    [Theory]
    [InlineData(0, "shorter")]                 // empty
    [InlineData(41, "shorter")]                // one byte short
    public void Parse_RejectsTruncated(int length, string reason)
    {
        var frame = Hex(KernelReply)[..length];
        Assert.False(ArpCodec.TryParse(frame, out var p, out var problem));
        Assert.Null(p);
        Assert.Contains(reason, problem);
    }

    [Theory]
    [InlineData(12, 0x08, "EtherType")]   // 0x0806 -> 0x0808
    [InlineData(15, 0x06, "hardware type")] // htype 6 (IEEE 802)
    [InlineData(17, 0xDD, "protocol type")]
    [InlineData(18, 0x08, "address lengths")]
    [InlineData(19, 0x10, "address lengths")]
    [InlineData(21, 0x03, "opcode")]         // RARP request
    [InlineData(21, 0x00, "opcode")]
    public void Parse_RejectsWrongFields(int offset, byte value, string reason)
    {
        var frame = Hex(KernelReply);
        frame[offset] = value;
        if (offset == 12) frame[13] = 0x08;
        Assert.False(ArpCodec.TryParse(frame, out _, out var problem));
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void Parse_SurvivesRandomInput()
    {
        var rng = new Random(826);
        for (int i = 0; i < 20000; i++)
        {
            var frame = new byte[rng.Next(0, 80)];
            rng.NextBytes(frame);
            if (frame.Length > 13 && rng.Next(2) == 0) { frame[12] = 0x08; frame[13] = 0x06; }
            ArpCodec.TryParse(frame, out _, out _);
            if (frame.Length > 13 && rng.Next(2) == 0) { frame[12] = 0x86; frame[13] = 0xDD; }
            NdpCodec.TryParse(frame, out _, out _);
        }
    }

    [Fact]
    public void Build_RejectsWrongAddressKinds()
    {
        Assert.Throws<ArgumentException>(() => ArpCodec.BuildGratuitousRequest(Mac1, Ip("2001:db8::1")));
        Assert.Throws<ArgumentException>(() => ArpCodec.BuildGratuitousRequest(new PhysicalAddress(new byte[8]), Ip("192.0.2.1")));
        Assert.Throws<ArgumentException>(() => NdpCodec.BuildUnsolicitedAdvertisement(Mac1, Ip("192.0.2.1")));
    }

    // ---- IPv6 ---------------------------------------------------------------------------------

    private static readonly PhysicalAddress MacA = PhysicalAddress.Parse("02-D3-DF-A8-00-01");
    private static readonly PhysicalAddress MacB = PhysicalAddress.Parse("02-D3-DF-A8-00-02");

    // Linux defending 2001:db8:1::12 against a DAD probe: NA to ff02::1, Override set (checksum by the kernel).
    private const string KernelUnsolicitedNa =
        "333300000001 02d3dfa80002 86dd 60000000 0020 3a ff 20010db8000100000000000000000012 ff020000000000000000000000000001" +
        "88 00 188a 20000000 20010db8000100000000000000000012 02 01 02d3dfa80002";
    // Linux answering our solicitation: solicited + override, unicast.
    private const string KernelSolicitedNa =
        "02d3dfa80001 02d3dfa80002 86dd 60000000 0020 3a ff 20010db8000100000000000000000012 20010db8000100000000000000000011" +
        "88 00 a9c2 60000000 20010db8000100000000000000000012 02 01 02d3dfa80002";
    // Our Neighbor Solicitation from 2001:db8:1::11 for ::12 (the kernel answered it, so its checksum is right).
    private const string OurSolicitation =
        "3333ff000012 02d3dfa80001 86dd 60000000 0020 3a ff 20010db8000100000000000000000011 ff0200000000000000000001ff000012" +
        "87 00 3b79 00000000 20010db8000100000000000000000012 01 01 02d3dfa80001";
    // Our DAD probe from :: for ::12.
    private const string OurDadProbe =
        "3333ff000012 02d3dfa80001 86dd 60000000 0018 3a ff 00000000000000000000000000000000 ff0200000000000000000001ff000012" +
        "87 00 4cca 00000000 20010db8000100000000000000000012";
    // The kernel's router solicitation: ICMPv6 but not neighbour discovery.
    private const string KernelRouterSolicitation =
        "333300000002 02d3dfa80002 86dd 60000000 0010 3a ff fe8000000000000000d3dffffea80002 ff020000000000000000000000000002" +
        "85 00 ba32 00000000 01 01 02d3dfa80002";

    [Fact]
    public void UnsolicitedAdvertisement_MatchesKernelBytes() =>
        Assert.Equal(Hex(KernelUnsolicitedNa), NdpCodec.BuildUnsolicitedAdvertisement(MacB, Ip("2001:db8:1::12")));

    [Fact]
    public void Solicitation_MatchesGolden() =>
        Assert.Equal(Hex(OurSolicitation), NdpCodec.BuildSolicitation(MacA, Ip("2001:db8:1::11"), Ip("2001:db8:1::12")));

    [Fact]
    public void DadProbe_MatchesGolden() =>
        Assert.Equal(Hex(OurDadProbe), NdpCodec.BuildSolicitation(MacA, IPAddress.IPv6None, Ip("2001:db8:1::12")));

    [Fact]
    public void SolicitedAdvertisement_MatchesKernelBytes() =>
        Assert.Equal(Hex(KernelSolicitedNa), NdpCodec.BuildAdvertisement(MacB, Ip("2001:db8:1::12"), Ip("2001:db8:1::12"),
            Ip("2001:db8:1::11"), MacA, router: false, solicited: true, @override: true));

    [Fact]
    public void Parse_KernelAdvertisements()
    {
        Assert.True(NdpCodec.TryParse(Hex(KernelSolicitedNa), out var na, out var problem), problem);
        Assert.Equal(NdpMessageType.NeighborAdvertisement, na!.Type);
        Assert.True(na.Solicited);
        Assert.True(na.Override);
        Assert.False(na.Router);
        Assert.Equal(Ip("2001:db8:1::12"), na.Target);
        Assert.Equal(MacB, na.LinkLayerAddressOption);
        Assert.Equal(255, na.HopLimit);

        Assert.True(NdpCodec.TryParse(Hex(KernelUnsolicitedNa), out var una, out _));
        Assert.False(una!.Solicited);
        Assert.True(una.Override);
        Assert.Equal(NdpCodec.AllNodes, una.Destination);
    }

    [Fact]
    public void Parse_OurSolicitations()
    {
        Assert.True(NdpCodec.TryParse(Hex(OurSolicitation), out var ns, out _));
        Assert.Equal(NdpMessageType.NeighborSolicitation, ns!.Type);
        Assert.Equal(MacA, ns.LinkLayerAddressOption);
        Assert.False(ns.IsDadProbe);
        Assert.True(NdpCodec.TryParse(Hex(OurDadProbe), out var dad, out _));
        Assert.True(dad!.IsDadProbe);
        Assert.Null(dad.LinkLayerAddressOption);
    }

    [Fact]
    public void Parse_RejectsOtherIcmpv6() 
    {
        Assert.False(NdpCodec.TryParse(Hex(KernelRouterSolicitation), out _, out var problem));
        Assert.Contains("type 133", problem);
    }

    [Theory]
    [InlineData(21, 0x40, "hop limit")]          // hop limit 64: may come from off-link
    [InlineData(55, 0x01, "code")]               // ICMPv6 code 1
    [InlineData(57, 0x00, "checksum")]           // checksum byte changed
    [InlineData(14, 0x40, "version")]            // IPv4 header in an IPv6 frame
    [InlineData(20, 0x11, "next header")]        // UDP
    [InlineData(19, 0x40, "payload length")]     // claims more than present
    [InlineData(79, 0x00, "option with length 0")]
    [InlineData(62, 0xff, "multicast")]          // target ff..
    public void Parse_RejectsHostileNd(int offset, byte value, string reason)
    {
        var frame = Hex(KernelSolicitedNa);
        frame[offset] = value;
        if (reason == "multicast")
        {
            // keep the checksum valid so the multicast check is what fails
            var icmp = frame.AsSpan(54);
            icmp[2] = 0; icmp[3] = 0;
            ushort sum = NdpCodec.Checksum(frame.AsSpan(22, 16), frame.AsSpan(38, 16), icmp);
            icmp[2] = (byte)(sum >> 8); icmp[3] = (byte)sum;
        }
        if (reason == "option with length 0")
        {
            var icmp = frame.AsSpan(54);
            ushort sum = NdpCodec.Checksum(frame.AsSpan(22, 16), frame.AsSpan(38, 16), icmp);
            icmp[2] = (byte)(sum >> 8); icmp[3] = (byte)sum;
        }
        Assert.False(NdpCodec.TryParse(frame, out _, out var problem));
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void Parse_RejectsTruncatedOption()
    {
        var frame = Hex(KernelSolicitedNa)[..^4];
        frame[19] = 0x1c; // payload length 28: a 4-byte option left
        var icmp = frame.AsSpan(54);
        ushort sum = NdpCodec.Checksum(frame.AsSpan(22, 16), frame.AsSpan(38, 16), icmp);
        icmp[2] = (byte)(sum >> 8); icmp[3] = (byte)sum;
        Assert.False(NdpCodec.TryParse(frame, out _, out var problem));
        Assert.Contains("option", problem);
    }

    [Fact]
    public void SolicitedNodeGroupAndMac()
    {
        Assert.Equal(Ip("ff02::1:ff00:12"), NdpCodec.SolicitedNodeMulticast(Ip("2001:db8:1::12")));
        Assert.Equal(Ip("ff02::1:ffab:cdef"), NdpCodec.SolicitedNodeMulticast(Ip("fe80::1:23ab:cdef")));
        Assert.Equal(PhysicalAddress.Parse("33-33-FF-AB-CD-EF"), NdpCodec.MulticastMac(Ip("ff02::1:ffab:cdef")));
    }
}
