using System.Net;
using HaPowerShell.Native.Netlink;
using Xunit;

namespace HaPowerShell.Tests;

public class NetlinkCodecTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    [Fact]
    public void GetFamilyRequest_MatchesGoldenBytes()
    {
        byte[] msg = GenericNetlinkClient.BuildGetFamily("IPVS").ToArray();
        Assert.Equal(Hex("20000000 1000 0100 00000000 00000000 03010000 0900 0200 49505653 00000000"), msg);
    }

    [Fact]
    public void Builder_PadsAttributesAndWritesByteOrders()
    {
        byte[] msg = new NetlinkMessageBuilder(0x20, NetlinkFlags.Request | NetlinkFlags.Ack)
            .PutU8(1, 0xAB).PutU16(2, 0x1234).PutU16BigEndian(3, 80).PutU32(4, 0x01020304).PutU64(5, 0x1122334455667788).PutFlag(6)
            .ToArray();
        Assert.Equal(Hex(
            "40000000 2000 0500 00000000 00000000" +
            "0500 0100 AB000000" +
            "0600 0200 34120000" +
            "0600 0300 00500000" +
            "0800 0400 04030201" +
            "0C00 0500 8877665544332211" +
            "0400 0600"), msg);
    }

    [Fact]
    public void Builder_NestsAndPadsInetAddresses()
    {
        byte[] msg = new NetlinkMessageBuilder(0x21, NetlinkFlags.Request)
            .BeginNested(1).PutInetAddress(2, IPAddress.Parse("192.0.2.1")).PutU16BigEndian(3, 443).EndNested()
            .ToArray();
        Assert.Equal(Hex(
            "30000000 2100 0100 00000000 00000000" +
            "2000 0100" +
            "1400 0200 C0000201 00000000 00000000 00000000" +
            "0600 0300 01BB0000"), msg);
    }

    [Fact]
    public void Builder_RejectsUnbalancedNesting()
    {
        var b = new NetlinkMessageBuilder(1, NetlinkFlags.Request).BeginNested(1);
        Assert.Throws<InvalidOperationException>(() => b.ToArray());
        Assert.Throws<InvalidOperationException>(() => new NetlinkMessageBuilder(1, NetlinkFlags.Request).EndNested());
    }

    [Fact]
    public void ParseAll_SplitsMessagesAndHonoursPadding()
    {
        // Two messages: one with a 5-byte payload (padded to 8), then NLMSG_DONE.
        byte[] data = Hex("15000000 1000 0200 07000000 2A000000 0102030405 000000" + "14000000 0300 0200 07000000 2A000000 00000000");
        var msgs = NetlinkMessage.ParseAll(data, "test");
        Assert.Equal(2, msgs.Count);
        Assert.Equal(0x10, msgs[0].Type);
        Assert.Equal(NetlinkFlags.Multi, msgs[0].Flags);
        Assert.Equal(7u, msgs[0].Sequence);
        Assert.Equal(42u, msgs[0].PortId);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, msgs[0].Payload.ToArray());
        Assert.Equal(NetlinkMessageType.Done, msgs[1].Type);
    }

    [Theory]
    [InlineData("100000")]                                   // shorter than a header
    [InlineData("0C000000 1000 0000 00000000 00000000")]     // length below 16
    [InlineData("40000000 1000 0000 00000000 00000000 0000")] // claims more than arrived
    [InlineData("FFFFFFFF 1000 0000 00000000 00000000")]     // absurd length
    public void ParseAll_RejectsMalformedHeaders(string hex)
    {
        var e = Assert.Throws<NetlinkProtocolException>(() => NetlinkMessage.ParseAll(Hex(hex), "parse test"));
        Assert.StartsWith("parse test:", e.Message);
    }

    [Fact]
    public void ParseAll_EmptyDatagramHasNoMessages() => Assert.Empty(NetlinkMessage.ParseAll(Array.Empty<byte>(), "t"));

    [Fact]
    public void Attributes_ParseNestedAndTypedValues()
    {
        byte[] payload = Hex("0800 0100 2A000000" + "0900 0200 6C6F0000 00000000" + "1400 0380 0600 0100 5000 0000 0500 0200 07000000");
        var a = NetlinkAttributes.Parse(payload, "t");
        Assert.Equal(42u, a.GetU32(1));
        Assert.Equal("lo", a.GetString(2));
        var n = a.GetNested(3); // NLA_F_NESTED bit is masked off
        Assert.Equal((ushort)80, n.GetU16(1));
        Assert.Equal((byte)7, n.GetU8(2));
        Assert.False(a.Has(9));
        Assert.Equal(5u, a.GetU32OrDefault(9, 5));
    }

    [Theory]
    [InlineData("0300 0100")]               // attribute length below its header
    [InlineData("0C00 0100 01000000")]      // claims 12, has 8
    [InlineData("0800 01")]                 // truncated header
    public void Attributes_RejectMalformedInput(string hex)
        => Assert.Throws<NetlinkProtocolException>(() => NetlinkAttributes.Parse(Hex(hex), "t"));

    [Fact]
    public void Attributes_WrongSizedValueIsAProtocolError()
    {
        var a = NetlinkAttributes.Parse(Hex("0600 0100 0100 0000"), "t");
        Assert.Throws<NetlinkProtocolException>(() => a.GetU32(1));
        Assert.Throws<NetlinkProtocolException>(() => a.GetU64(1));
        Assert.Throws<NetlinkProtocolException>(() => a.Get(2));
        Assert.Throws<NetlinkProtocolException>(() => a.GetAddress(1, System.Net.Sockets.AddressFamily.InterNetwork));
    }

    [Fact]
    public void Attributes_SurviveRandomInputWithoutOutOfRangeReads()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 20000; i++)
        {
            var buf = new byte[rng.Next(0, 64)];
            rng.NextBytes(buf);
            try
            {
                var a = NetlinkAttributes.Parse(buf, "fuzz");
                foreach (var (type, _) in a.Items) { _ = a.TryGetString(type, out _); try { a.GetNested(type); } catch (NetlinkProtocolException) { } }
            }
            catch (NetlinkProtocolException) { }
            try { NetlinkMessage.ParseAll(buf, "fuzz"); } catch (NetlinkProtocolException) { }
        }
    }

    [Fact]
    public void ParseError_ReadsErrnoAndExtendedAckMessage()
    {
        // NLMSG_ERROR, flags CAPPED|ACK_TLVS, error -17, original header, NLMSGERR_ATTR_MSG "exists".
        byte[] data = Hex("30000000 0200 0003 05000000 01000000" + "EFFFFFFF" + "10000000 1400 0500 05000000 00000000" + "0B00 0100 65786973747300 00");
        var m = NetlinkMessage.ParseAll(data, "t")[0];
        var (errno, text) = NetlinkMessage.ParseError(m, "t");
        Assert.Equal(17, errno);
        Assert.Equal("exists", text);
        var ex = new NetlinkException("IPVS add service", errno, text);
        Assert.Equal("EEXIST", ex.ErrnoName);
        Assert.Contains("IPVS add service", ex.Message);
        Assert.Contains("exists", ex.Message);
    }

    [Fact]
    public void FamilyReply_ParsesIdVersionAndMulticastGroups()
    {
        byte[] payload = Hex("01020000" +
            "0600 0100 2300 0000" +            // FAMILY_ID 0x23
            "0900 0200 49505653 00000000" +    // FAMILY_NAME "IPVS"
            "0800 0300 01000000" +             // VERSION 1
            "0800 0400 00000000" +             // HDRSIZE 0
            "0800 0500 0A000000" +             // MAXATTR 10
            "1800 0700 1400 0100 0800 0200 05000000 0800 0100 6D6300 00"); // group "mc" id 5
        var f = GenericNetlinkClient.ParseFamily(payload, "t");
        Assert.Equal("IPVS", f.Name);
        Assert.Equal((ushort)0x23, f.Id);
        Assert.Equal(1u, f.Version);
        Assert.Equal(10u, f.MaxAttribute);
        Assert.Equal(5u, f.MulticastGroups["mc"]);
    }
}
