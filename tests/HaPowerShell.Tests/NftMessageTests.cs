using System.Net;
using HaPowerShell.Native.Netfilter;
using HaPowerShell.Native.Netlink;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The nf_tables messages behind -NoAccept: golden bytes for the fixed ones, and the rule expressions read back.</summary>
public class NftMessageTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    [Fact]
    public void BatchBegin_MatchesGoldenBytes()
    {
        // NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST; nfgenmsg AF_UNSPEC, v0, res_id NFNL_SUBSYS_NFTABLES (big-endian)
        Assert.Equal(Hex("14000000 1000 0100 00000000 00000000 00 00 000A"), VipInputFilter.Batch(0x10));
    }

    [Fact]
    public void NewTable_IsInetAndOwned()
    {
        // NFT_MSG_NEWTABLE (0x0a00), REQUEST|CREATE; NFPROTO_INET; NFTA_TABLE_NAME "t", NFTA_TABLE_FLAGS NFT_TABLE_F_OWNER (big-endian)
        Assert.Equal(Hex("24000000 000A 0104 00000000 00000000 01 00 0000 0600 0100 74000000 0800 0200 00000002"), VipInputFilter.NewTable("t"));
    }

    [Fact]
    public void DelChain_NamesTableAndChain()
    {
        Assert.Equal(Hex("24000000 050A 0100 00000000 00000000 01 00 0000 0600 0100 74000000 0600 0300 63000000"), VipInputFilter.DelChain("t", "c"));
    }

    private static NetlinkMessage Single(byte[] bytes) => Assert.Single(NetlinkMessage.ParseAll(bytes, "test"));

    private static NetlinkAttributes Attributes(NetlinkMessage m) => NetlinkAttributes.Parse(m.Payload[4..], "test");

    /// <summary>(name, data) of each expression of a NEWRULE message.</summary>
    private static List<(string Name, NetlinkAttributes Data)> Expressions(byte[] rule)
    {
        var m = Single(rule);
        Assert.Equal(0x0a06, m.Type);
        var a = Attributes(m);
        Assert.Equal("t", a.GetString(1));
        Assert.Equal("c", a.GetString(2));
        return a.GetNested(4).GetAll(1)
            .Select(e => NetlinkAttributes.Parse(e, "test"))
            .Select(e => (e.GetString(1), e.GetNested(2)))
            .ToList();
    }

    private static byte[] CmpValue(NetlinkAttributes cmp) => cmp.GetNested(3).Get(1).ToArray();

    [Fact]
    public void Install_IPv4_HookedChainThenDaddrDrop()
    {
        var msgs = VipInputFilter.InstallMessages("t", "c", replace: false, new[] { IPAddress.Parse("192.0.2.160") });
        Assert.Equal(2, msgs.Count);

        var chain = Single(msgs[0]);
        Assert.Equal(0x0a03, chain.Type);
        var ca = Attributes(chain);
        Assert.Equal("c", ca.GetString(3));
        Assert.Equal("filter", ca.GetString(7));
        Assert.Equal(1u, ca.GetU32BigEndian(5));                   // policy accept
        Assert.Equal(1u, ca.GetNested(4).GetU32BigEndian(1));      // NF_INET_LOCAL_IN
        Assert.Equal(0u, ca.GetNested(4).GetU32BigEndian(2));      // priority filter

        var e = Expressions(msgs[1]);
        Assert.Equal(new[] { "meta", "cmp", "payload", "cmp", "immediate" }, e.Select(x => x.Name));
        Assert.Equal(15u, e[0].Data.GetU32BigEndian(2));           // NFT_META_NFPROTO
        Assert.Equal(new byte[] { 2 }, CmpValue(e[1].Data));       // NFPROTO_IPV4
        Assert.Equal(1u, e[2].Data.GetU32BigEndian(2));            // network header
        Assert.Equal(16u, e[2].Data.GetU32BigEndian(3));           // daddr
        Assert.Equal(4u, e[2].Data.GetU32BigEndian(4));
        Assert.Equal(0u, e[3].Data.GetU32BigEndian(2));            // NFT_CMP_EQ
        Assert.Equal(new byte[] { 192, 0, 2, 160 }, CmpValue(e[3].Data));
        Assert.Equal(0u, e[4].Data.GetU32BigEndian(1));            // verdict register
        Assert.Equal(0u, e[4].Data.GetNested(2).GetNested(2).GetU32BigEndian(1)); // NF_DROP
    }

    [Fact]
    public void Install_IPv6_LetsNeighborDiscoveryThroughBeforeTheDrop_AndReplacesAnOldChain()
    {
        var vip = IPAddress.Parse("2001:db8:1::300");
        var msgs = VipInputFilter.InstallMessages("t", "c", replace: true, new[] { vip });
        Assert.Equal(4, msgs.Count);
        Assert.Equal(0x0a05, Single(msgs[0]).Type);                // the old chain goes first, in the same batch
        Assert.Equal(0x0a03, Single(msgs[1]).Type);

        var nd = Expressions(msgs[2]);
        Assert.Equal(new[] { "meta", "cmp", "payload", "cmp", "meta", "cmp", "payload", "cmp", "cmp", "immediate" }, nd.Select(x => x.Name));
        Assert.Equal(new byte[] { 10 }, CmpValue(nd[1].Data));     // NFPROTO_IPV6
        Assert.Equal(24u, nd[2].Data.GetU32BigEndian(3));
        Assert.Equal(16u, nd[2].Data.GetU32BigEndian(4));
        Assert.Equal(vip.GetAddressBytes(), CmpValue(nd[3].Data));
        Assert.Equal(16u, nd[4].Data.GetU32BigEndian(2));          // NFT_META_L4PROTO
        Assert.Equal(new byte[] { 58 }, CmpValue(nd[5].Data));     // ICMPv6
        Assert.Equal(2u, nd[6].Data.GetU32BigEndian(2));           // transport header, type byte
        Assert.Equal(5u, nd[7].Data.GetU32BigEndian(2));           // NFT_CMP_GTE
        Assert.Equal(new byte[] { 135 }, CmpValue(nd[7].Data));    // Neighbor Solicitation
        Assert.Equal(3u, nd[8].Data.GetU32BigEndian(2));           // NFT_CMP_LTE
        Assert.Equal(new byte[] { 136 }, CmpValue(nd[8].Data));    // Neighbor Advertisement
        Assert.Equal(1u, nd[9].Data.GetNested(2).GetNested(2).GetU32BigEndian(1));                       // NF_ACCEPT

        var drop = Expressions(msgs[3]);
        Assert.Equal(new[] { "meta", "cmp", "payload", "cmp", "immediate" }, drop.Select(x => x.Name));
        Assert.Equal(0u, drop[4].Data.GetNested(2).GetNested(2).GetU32BigEndian(1));
    }
}
