using System.Net;
using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Netlink;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>Golden bytes of every IPVS request we build, and parsing of kernel-shaped replies.</summary>
public class IpvsMessageTests
{
    private static readonly GenericNetlinkFamily Ipvs = new("IPVS", 0x1C, 1, 0, 17, new Dictionary<string, uint>());
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    private const string SvcTcpIdentity =
        "0600 0100 0200 0000" +                                   // AF_INET
        "0600 0200 0600 0000" +                                   // IPPROTO_TCP
        "1400 0300 C0000201 00000000 00000000 00000000" +         // 192.0.2.1 in nf_inet_addr
        "0600 0400 0050 0000";                                    // port 80, network order

    [Fact]
    public void GetInfo() => Assert.Equal(Hex("14000000 1C00 0100 00000000 00000000 0F010000"), IpvsClient.BuildGetInfo(Ipvs));

    [Fact]
    public void NewService_CarriesEverySetting()
    {
        var s = new IpvsServiceEntry { Protocol = 6, Address = IPAddress.Parse("192.0.2.1"), Port = 80, Scheduler = "wlc" };
        Assert.Equal(Hex(
            "68000000 1C00 0100 00000000 00000000 01010000" +
            "5400 0100" + SvcTcpIdentity +
            "0800 0600 776C6300" +                                // "wlc"
            "0C00 0700 00000000 FFFFFFFF" +                       // flags 0, mask all
            "0800 0800 00000000" +                                // timeout 0
            "0800 0900 FFFFFFFF"),                                // netmask 255.255.255.255
            IpvsClient.BuildServiceCommand(Ipvs, IpvsCommand.NewService, s));
    }

    [Fact]
    public void NewService_PersistentIpv6WithEngineAndFlags()
    {
        var s = new IpvsServiceEntry
        {
            Family = AddressFamilyNumber.Inet6, Protocol = 17, Address = IPAddress.Parse("2001:db8::1"), Port = 5060,
            Scheduler = "sh", PersistenceEngine = "sip", Flags = IpvsServiceFlags.Persistent | IpvsServiceFlags.Sched2 | IpvsServiceFlags.Hashed,
            Timeout = 300, Netmask = 64,
        };
        Assert.Equal(Hex(
            "70000000 1C00 0100 00000000 00000000 01010000" +
            "5C00 0100" +
            "0600 0100 0A00 0000" + "0600 0200 1100 0000" +
            "1400 0300 20010DB8 00000000 00000000 00000001" +
            "0600 0400 13C4 0000" +
            "0700 0600 736800 00" +                               // "sh"
            "0800 0B00 73697000" +                                // pe "sip"
            "0C00 0700 11000000 FFFFFFFF" +                       // persistent|sched2; HASHED never sent
            "0800 0800 2C010000" +                                // 300
            "0800 0900 40000000"),                                // prefix 64 as a plain number
            IpvsClient.BuildServiceCommand(Ipvs, IpvsCommand.NewService, s));
    }

    [Fact]
    public void DeleteService_FirewallMarkIdentityOnly()
    {
        var s = new IpvsServiceEntry { FirewallMark = 5, Scheduler = "rr" };
        Assert.Equal(Hex("28000000 1C00 0100 00000000 00000000 03010000" + "1400 0100 0600 0100 0200 0000 0800 0500 05000000"),
            IpvsClient.BuildServiceCommand(Ipvs, IpvsCommand.DelService, s));
    }

    [Fact]
    public void NewDest_TunnelGue()
    {
        var s = new IpvsServiceEntry { Protocol = 6, Address = IPAddress.Parse("192.0.2.1"), Port = 80 };
        var d = new IpvsDestEntry
        {
            Address = IPAddress.Parse("192.0.2.10"), Port = 80, ForwardMethod = 2, Weight = 3, UpperThreshold = 100, LowerThreshold = 10,
            TunnelType = 1, TunnelPort = 6080, TunnelFlags = 1,
        };
        Assert.Equal(Hex(
            "A4000000 1C00 0100 00000000 00000000 05010000" +
            "3000 0100" + SvcTcpIdentity +
            "6000 0200" +
            "1400 0100 C000020A 00000000 00000000 00000000" +
            "0600 0200 0050 0000" +
            "0600 0B00 0200 0000" +                               // ADDR_FAMILY
            "0800 0300 02000000" +                                // tunnel
            "0800 0400 03000000" +                                // weight 3
            "0800 0500 64000000" + "0800 0600 0A000000" +         // thresholds
            "0500 0D00 01000000" +                                // GUE
            "0600 0E00 17C0 0000" +                               // port 6080, network order
            "0600 0F00 0100 0000"),                               // checksum
            IpvsClient.BuildDestCommand(Ipvs, IpvsCommand.NewDest, s, d));
    }

    [Fact]
    public void WriteChange_ReusedBuilderWritesWhatAFreshOneBuilds()
    {
        var tunnel = new IpvsServiceEntry { Protocol = 6, Address = IPAddress.Parse("192.0.2.1"), Port = 80, Scheduler = "wlc", PersistenceEngine = "sip" };
        var d = new IpvsDestEntry { Address = IPAddress.Parse("192.0.2.10"), Port = 80, Weight = 1, TunnelType = 1, TunnelPort = 6080 };
        var changes = new[]
        {
            new IpvsChange(IpvsChangeKind.NewDest, tunnel, d), // the longest first: what follows must not keep its tail
            new IpvsChange(IpvsChangeKind.NewService, tunnel),
            new IpvsChange(IpvsChangeKind.DeleteService, new IpvsServiceEntry { FirewallMark = 5 }),
            new IpvsChange(IpvsChangeKind.SetDest, tunnel, d with { TunnelType = null }),
            new IpvsChange(IpvsChangeKind.DeleteDest, tunnel, d),
            new IpvsChange(IpvsChangeKind.SetService, tunnel with { PersistenceEngine = null }),
        };
        var builder = new NetlinkMessageBuilder(0, NetlinkFlags.Request);
        var batch = new NetlinkRequestBatch(capacityBytes: 16, capacityRequests: 1); // both grow
        foreach (var c in changes)
        {
            var written = IpvsClient.WriteChange(builder, Ipvs, c).ToArray();
            Assert.Equal(IpvsClient.BuildChange(Ipvs, c), written);
            batch.Add(written);
        }
        Assert.Equal(changes.Length, batch.Count);
    }

    [Fact]
    public void DeleteDest_IdentityOnly()
    {
        var s = new IpvsServiceEntry { Protocol = 6, Address = IPAddress.Parse("192.0.2.1"), Port = 80 };
        var d = new IpvsDestEntry { Address = IPAddress.Parse("192.0.2.10"), Port = 80, Weight = 1 };
        Assert.Equal(Hex("6C000000 1C00 0100 00000000 00000000 07010000" + "3000 0100" + SvcTcpIdentity +
                         "2800 0200 1400 0100 C000020A 00000000 00000000 00000000 0600 0200 0050 0000 0600 0B00 0200 0000"),
            IpvsClient.BuildDestCommand(Ipvs, IpvsCommand.DelDest, s, d));
    }

    [Fact]
    public void GetServicesAndDests_AreDumps()
    {
        Assert.Equal(Hex("14000000 1C00 0103 00000000 00000000 04010000"), IpvsClient.BuildGetServices(Ipvs));
        var s = new IpvsServiceEntry { Protocol = 6, Address = IPAddress.Parse("192.0.2.1"), Port = 80 };
        Assert.Equal(Hex("44000000 1C00 0103 00000000 00000000 08010000" + "3000 0100" + SvcTcpIdentity), IpvsClient.BuildGetDests(Ipvs, s));
    }

    [Fact]
    public void Timeouts_ZeroMeansLeaveUnchanged()
    {
        Assert.Equal(Hex("2C000000 1C00 0100 00000000 00000000 0C010000" + "0800 0400 1E000000 0800 0500 05000000 0800 0600 3C000000"),
            IpvsClient.BuildSetTimeouts(Ipvs, new IpvsTimeouts(30, 5, 60)));
        Assert.Equal(Hex("1C000000 1C00 0100 00000000 00000000 0C010000" + "0800 0600 3C000000"),
            IpvsClient.BuildSetTimeouts(Ipvs, new IpvsTimeouts(0, 0, 60)));
    }

    [Fact]
    public void Daemon_StartAndStop()
    {
        var d = new IpvsDaemonEntry { State = 1, InterfaceName = "eth0", SyncId = 7, MaxLength = 1400, Group = IPAddress.Parse("224.0.0.81"), Port = 8848, Ttl = 2 };
        Assert.Equal(Hex("54000000 1C00 0100 00000000 00000000 09010000" +
                         "4000 0300" +
                         "0800 0100 01000000" + "0900 0200 65746830 00000000" + "0800 0300 07000000" +
                         "0600 0400 7805 0000" + "0800 0500 E0000051" + "0600 0700 9022 0000" + "0500 0800 02000000"),
            IpvsClient.BuildNewDaemon(Ipvs, d));
        Assert.Equal(Hex("20000000 1C00 0100 00000000 00000000 0A010000" + "0C00 0300 0800 0100 02000000"), IpvsClient.BuildDelDaemon(Ipvs, 2));
    }

    [Fact]
    public void ZeroAndFlush()
    {
        Assert.Equal(Hex("14000000 1C00 0100 00000000 00000000 10010000"), IpvsClient.BuildZero(Ipvs, null));
        var s = new IpvsServiceEntry { FirewallMark = 5 };
        Assert.Equal(Hex("28000000 1C00 0100 00000000 00000000 10010000" + "1400 0100 0600 0100 0200 0000 0800 0500 05000000"),
            IpvsClient.BuildZero(Ipvs, s));
    }

    [Fact]
    public void ServiceReply_ParsesEveryFieldAndMasksHashed()
    {
        // A reply as the kernel sends it: genl header, nested service with stats64.
        byte[] payload = Hex("01010000" +
            "9400 0100" + SvcTcpIdentity +
            "0700 0600 727200 00" +                               // "rr"
            "0C00 0700 07000000 FFFFFFFF" +                       // persistent|hashed|onepacket
            "0800 0800 14000000" +                                // 20 s
            "0800 0900 FFFFFF00" +                                // 255.255.255.0 (network order)
            "4000 0C00" +                                         // STATS64
            "0C00 0100 0500000000000000" + "0C00 0200 0A00000000000000" + "0C00 0300 0B00000000000000" +
            "0C00 0400 0004000000000000" + "0C00 0500 0008000000000000");
        var s = IpvsClient.ParseService(payload, "t");
        Assert.Equal(AddressFamilyNumber.Inet, s.Family);
        Assert.Equal(6, s.Protocol);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), s.Address);
        Assert.Equal(80, s.Port);
        Assert.Equal("rr", s.Scheduler);
        Assert.Equal(IpvsServiceFlags.Persistent | IpvsServiceFlags.OnePacket, s.Flags);
        Assert.Equal(20u, s.Timeout);
        Assert.Equal(0xFFFFFF00u, s.Netmask);
        Assert.Equal(5ul, s.Stats.Conns);
        Assert.Equal(2048ul, s.Stats.OutBytes);
    }

    [Fact]
    public void DestReply_RoundTripsThroughTheBuilder()
    {
        var s = new IpvsServiceEntry { Protocol = 6, Address = IPAddress.Parse("192.0.2.1"), Port = 80 };
        var d = new IpvsDestEntry { Family = AddressFamilyNumber.Inet6, Address = IPAddress.Parse("2001:db8::10"), Port = 8080, ForwardMethod = 2, Weight = 65535, TunnelType = 2, TunnelFlags = 2 };
        byte[] msg = IpvsClient.BuildDestCommand(Ipvs, IpvsCommand.NewDest, s, d);
        var parsed = IpvsClient.ParseDest(msg.AsMemory(16), AddressFamilyNumber.Inet, "t");
        Assert.Equal(d.Address, parsed.Address);
        Assert.Equal(d.Port, parsed.Port);
        Assert.Equal(2u, parsed.ForwardMethod);
        Assert.Equal(65535, parsed.Weight);
        Assert.Equal((byte)2, parsed.TunnelType);
        Assert.Equal((ushort)2, parsed.TunnelFlags);
    }

    [Fact]
    public void Replies_MissingRequiredAttributes_AreProtocolErrors()
    {
        Assert.Throws<NetlinkProtocolException>(() => IpvsClient.ParseService(Hex("0101"), "t"));
        Assert.Throws<NetlinkProtocolException>(() => IpvsClient.ParseService(Hex("01010000"), "t"));
        Assert.Throws<NetlinkProtocolException>(() => IpvsClient.ParseService(Hex("01010000 0C00 0100 0600 0100 0200 0000"), "t")); // no flags/scheduler
        Assert.Throws<NetlinkProtocolException>(() => IpvsClient.ParseDest(Hex("01010000 0800 0200 0400 0100"), 2, "t"));
        Assert.Throws<NetlinkProtocolException>(() => IpvsClient.ParseInfo(Hex("0F010000 0800 0100 01020100"), "t"));
    }

    [Fact]
    public void InfoReply_Parses()
    {
        var info = IpvsClient.ParseInfo(Hex("0E010000 0800 0100 01020100 0800 0200 00100000"), "t");
        Assert.Equal(0x010201u, info.VersionCode);
        Assert.Equal(4096u, info.ConnectionTableSize);
    }
}
