using System.Net;
using HaPowerShell.Core.Arp;
using Xunit;

namespace HaPowerShell.Tests;

public class ArpValidationTests
{
    [Theory]
    [InlineData("192.0.2.30", "192.0.2.30", null)]
    [InlineData(" 192.0.2.30/24 ", "192.0.2.30", 24)]
    [InlineData("192.0.2.30/0", "192.0.2.30", 0)]
    [InlineData("2001:db8::30/64", "2001:db8::30", 64)]
    [InlineData("fe80::1", "fe80::1", null)]
    [InlineData("2001:db8::1/128", "2001:db8::1", 128)]
    public void ParseAddress_Accepts(string text, string address, int? prefix)
    {
        var spec = ArpValidation.ParseAddress(text);
        Assert.Equal(IPAddress.Parse(address), spec.Address);
        Assert.Equal(prefix, spec.PrefixLength);
    }

    [Theory]
    [InlineData("", "InvalidIPAddress")]
    [InlineData("   ", "InvalidIPAddress")]
    [InlineData("10.1", "InvalidIPAddress")]           // inet_aton shorthand is not an address here
    [InlineData("1", "InvalidIPAddress")]
    [InlineData("192.0.2.256", "InvalidIPAddress")]
    [InlineData("192.0.2.030", "InvalidIPAddress")]    // octal-looking
    [InlineData("0x7f.1.1.1", "InvalidIPAddress")]
    [InlineData("192.0.2.1/33", "InvalidPrefixLength")]
    [InlineData("192.0.2.1/-1", "InvalidPrefixLength")]
    [InlineData("192.0.2.1/", "InvalidPrefixLength")]
    [InlineData("192.0.2.1/2x", "InvalidPrefixLength")]
    [InlineData("2001:db8::1/129", "InvalidPrefixLength")]
    [InlineData("fe80::1%eth0", "InvalidIPAddress")]
    [InlineData("::ffff:192.0.2.1", "InvalidIPAddress")]
    [InlineData("eth0", "InvalidIPAddress")]
    [InlineData("192.0.2.1 192.0.2.2", "InvalidIPAddress")]
    public void ParseAddress_Rejects(string text, string errorId)
    {
        var e = Assert.Throws<ArpArgumentException>(() => ArpValidation.ParseAddress(text));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Contains("-IPAddress", e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);
    }

    [Theory]
    [InlineData("192.0.2", "write all four numbers")]
    [InlineData("1", "write all four numbers")]
    [InlineData("192.0.2.030", "write all four numbers")]
    [InlineData("0x7f.1.1.1", "is not an IPv4 or IPv6 address")]
    public void ParseAddress_ExplainsShorthandWithoutLead_WhenNoParameterName(string text, string says)
    {
        var e = Assert.Throws<ArpArgumentException>(() => ArpValidation.ParseAddress(text, parameterName: ""));
        Assert.Equal("InvalidIPAddress", e.ErrorId);
        Assert.Contains(says, e.Message);
        Assert.StartsWith("'", e.Message); // no "-Name: " lead: PowerShell's binding error names the parameter
    }

    [Fact]
    public void ParseAddress_WithoutPrefixWhenAsked()
    {
        var e = Assert.Throws<ArpArgumentException>(() => ArpValidation.ParseAddress("192.0.2.1/24", "SourceAddress", allowPrefix: false));
        Assert.Contains("-SourceAddress", e.Message);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.18")]
    [InlineData("239.1.1.1")]
    [InlineData("127.0.0.1")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("ff02::1")]
    public void CheckUnicast_RejectsNonUnicast(string address)
        => Assert.Equal("InvalidIPAddress", Assert.Throws<ArpArgumentException>(() => ArpValidation.CheckUnicast(IPAddress.Parse(address))).ErrorId);

    [Theory]
    [InlineData("192.0.2.30")]
    [InlineData("2001:db8::30")]
    [InlineData("fe80::1")]
    public void CheckUnicast_AcceptsUnicast(string address) => ArpValidation.CheckUnicast(IPAddress.Parse(address));

    [Theory]
    [InlineData("eth0")]
    [InlineData("lo")]
    [InlineData("eth0.100")]
    [InlineData("br-0123456789a")]
    public void InterfaceName_Accepts(string name) => ArpValidation.CheckInterfaceName(name);

    [Theory]
    [InlineData("")]
    [InlineData("a234567890123456")] // 16 characters
    [InlineData("eth/0")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("eth 0")]
    [InlineData("eth0:0")]
    [InlineData("eth\n")]
    public void InterfaceName_Rejects(string name)
        => Assert.Equal("InvalidInterfaceName", Assert.Throws<ArpArgumentException>(() => ArpValidation.CheckInterfaceName(name)).ErrorId);

    [Fact]
    public void SplitAlias_HandlesIfconfigAliases()
    {
        Assert.Equal(("eth0", (string?)"eth0:0"), ArpValidation.SplitAlias("eth0:0"));
        Assert.Equal(("lo", (string?)"lo:vip1"), ArpValidation.SplitAlias("lo:vip1"));
        Assert.Equal(("eth0", (string?)null), ArpValidation.SplitAlias("eth0"));
        Assert.Throws<ArpArgumentException>(() => ArpValidation.SplitAlias("eth0:"));
        Assert.Throws<ArpArgumentException>(() => ArpValidation.SplitAlias(":0"));
        Assert.Throws<ArpArgumentException>(() => ArpValidation.SplitAlias("eth0:0123456789ab")); // 16 characters
    }

    [Theory]
    [InlineData("eth0", "eth0", true)]
    [InlineData("eth0:0", "eth0", true)]
    [InlineData("eth0:vip", "eth0", true)]
    [InlineData("eth1:0", "eth0", false)]
    [InlineData("eth00", "eth0", false)]
    [InlineData("eth0:", "eth0", false)]
    [InlineData("eth0:a b", "eth0", false)]
    [InlineData("eth0:01234567890", "eth0", false)]
    public void CheckLabel(string label, string device, bool ok)
    {
        if (ok) ArpValidation.CheckLabel(label, device);
        else Assert.Equal("InvalidLabel", Assert.Throws<ArpArgumentException>(() => ArpValidation.CheckLabel(label, device)).ErrorId);
    }

    [Fact]
    public void Errors_NameWhatExists()
    {
        var e = new InterfaceNotFoundException("eth9", new[] { "lo", "eth0" });
        Assert.Contains("'eth9'", e.Message);
        Assert.Contains("lo, eth0", e.Message);
        var c = new InterfaceCannotArpException("lo", "it is a loopback interface", new[] { "eth0" });
        Assert.Contains("eth0", c.Message);
        var n = new ArpNoReplyException("eth0", IPAddress.Parse("192.0.2.99"), 3, TimeSpan.FromSeconds(1));
        Assert.Contains("No reply from 192.0.2.99 on eth0 to 3 requests", n.Message);
    }
}

public class ArpSuppressionPolicyTests
{
    [Fact]
    public void Effective_IsTheLargerOfAllAndTheInterface()
    {
        Assert.Equal(1, ArpSuppressionPolicy.Effective("eth0", 0, 1));
        Assert.Equal(2, ArpSuppressionPolicy.Effective("eth0", 2, 1));
        Assert.Equal(0, ArpSuppressionPolicy.Effective("all", 0, 5));
        Assert.Null(ArpSuppressionPolicy.Effective("default", 1, 1));
    }

    [Theory]
    [InlineData(0, true)] [InlineData(1, true)] [InlineData(2, true)] [InlineData(3, true)] [InlineData(8, true)]
    [InlineData(4, false)] [InlineData(7, false)] [InlineData(9, false)] [InlineData(-1, false)]
    public void ArpIgnoreValues(int value, bool ok)
    {
        if (ok) ArpSuppressionPolicy.CheckArpIgnore(value);
        else Assert.Equal("InvalidArpIgnore", Assert.Throws<ArpArgumentException>(() => ArpSuppressionPolicy.CheckArpIgnore(value)).ErrorId);
    }

    [Theory]
    [InlineData(0, true)] [InlineData(2, true)] [InlineData(3, false)] [InlineData(-1, false)]
    public void ArpAnnounceValues(int value, bool ok)
    {
        if (ok) ArpSuppressionPolicy.CheckArpAnnounce(value);
        else Assert.Throws<ArpArgumentException>(() => ArpSuppressionPolicy.CheckArpAnnounce(value));
    }

    [Fact]
    public void DropIn_GoldenText()
    {
        var settings = new Dictionary<(string, string), int>
        {
            [("lo", "arp_announce")] = 2,
            [("eth0.100", "arp_ignore")] = 1,
            [("lo", "arp_ignore")] = 1,
            [("all", "arp_announce")] = 2,
            [("all", "arp_ignore")] = 1,
        };
        string text = ArpSuppressionPolicy.RenderDropIn(settings);
        Assert.Equal(
            "# Written by HaPowerShell Set-ArpSuppression -Persist. Applied at boot by systemd-sysctl\n" +
            "# (or 'sysctl --system'); settings for an interface apply when it appears.\n" +
            "# arp_ignore=1: answer ARP only for addresses on the receiving interface.\n" +
            "# arp_announce=2: always use the outgoing interface's best address as ARP source.\n" +
            "net.ipv4.conf.all.arp_ignore = 1\n" +
            "net.ipv4.conf.all.arp_announce = 2\n" +
            "net.ipv4.conf.lo.arp_ignore = 1\n" +
            "net.ipv4.conf.lo.arp_announce = 2\n" +
            "net.ipv4.conf.eth0/100.arp_ignore = 1\n", text);
        Assert.True(ArpSuppressionPolicy.IsOurDropIn(text));
        var back = ArpSuppressionPolicy.ParseDropIn(text);
        Assert.Equal(settings.OrderBy(k => k.Key).ToList(), back.OrderBy(k => k.Key).ToList());
    }

    [Fact]
    public void DropIn_ParsesBothSyntaxesAndIgnoresTheRest()
    {
        var parsed = ArpSuppressionPolicy.ParseDropIn(
            "; comment\n# another\nnet/ipv4/conf/eth0.100/arp_announce=2\r\n-net.ipv4.conf.lo.arp_ignore = 1\n" +
            "net.ipv4.ip_forward = 1\nnet.ipv4.conf.lo.rp_filter = 2\nnet.ipv4.conf.eth0.arp_ignore = x\ngarbage\n=\n");
        Assert.Equal(2, parsed.Count);
        Assert.Equal(2, parsed[("eth0.100", "arp_announce")]);
        Assert.Equal(1, parsed[("lo", "arp_ignore")]);
        Assert.Empty(ArpSuppressionPolicy.ParseDropIn(null));
        Assert.False(ArpSuppressionPolicy.IsOurDropIn("net.ipv4.conf.all.arp_ignore=1\n"));
        Assert.True(ArpSuppressionPolicy.IsOurDropIn(null));
    }
}
