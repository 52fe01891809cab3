using System.Net;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>Address text must match glibc byte for byte (expected values taken from glibc 2.36 inet_ntop/inet_pton).</summary>
public class IpvsInetTests
{
    [Theory]
    [InlineData("::1.2.3.4", "::1.2.3.4")]
    [InlineData("::ffff:1.2.3.4", "::ffff:1.2.3.4")]
    [InlineData("::ffff:0:0", "::ffff:0.0.0.0")]
    [InlineData("2001:db8::", "2001:db8::")]
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("1::", "1::")]
    [InlineData("0:0:1::", "0:0:1::")]
    [InlineData("::0.1.2.3", "::0.1.2.3")]
    [InlineData("1:0:0:2:0:0:0:3", "1:0:0:2::3")]
    [InlineData("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0")]
    [InlineData("::1:0:0:0:0:0:0", "0:1::")]
    [InlineData("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1")]
    [InlineData("fe80::1:2", "fe80::1:2")]
    // The two below are where .NET's IPAddress.ToString differs from glibc ("::ffff:0:0", "::ffff:0:1.2.3.4").
    [InlineData("::ffff:0:102:304", "::ffff:0:102:304")]
    [InlineData("0:0:0:0:0:ffff:0:0", "::ffff:0.0.0.0")]
    public void Ntop6_MatchesGlibc(string input, string expected)
    {
        var a = IpvsInet.ParseIPv6(input);
        Assert.NotNull(a);
        Assert.Equal(expected, IpvsInet.Ntop(a));
    }

    [Theory]
    [InlineData("")]
    [InlineData(":")]
    [InlineData(":1::")]
    [InlineData("1::2::3")]
    [InlineData(":::")]
    [InlineData("1:")]
    [InlineData("12345::")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7::8")]
    [InlineData("::1.2.3")]
    [InlineData("::1.2.3.04")]
    [InlineData("::256.1.1.1")]
    [InlineData("fe80::1%eth0")]
    [InlineData("[::1]")]
    [InlineData("g::")]
    [InlineData("::1.2.3.4:5")]
    public void Pton6_RejectsWhatGlibcRejects(string input) => Assert.Null(IpvsInet.ParseIPv6(input));

    [Theory]
    [InlineData("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0")]
    [InlineData("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8")]
    [InlineData("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304")]
    public void Pton6_AcceptsEdgeForms(string input, string expected)
        => Assert.Equal(IPAddress.Parse(expected), IpvsInet.ParseIPv6(input));

    [Theory]
    [InlineData("192.0.2.1", 0xC0000201u)]
    [InlineData("10.1", 0x0A000001u)]
    [InlineData("10.1.2", 0x0A010002u)]
    [InlineData("0x0a000001", 0x0A000001u)]
    [InlineData("010.0.0.1", 0x08000001u)]
    [InlineData("4294967295", 0xFFFFFFFFu)]
    [InlineData("24", 24u)]
    [InlineData("0", 0u)]
    [InlineData("255.255.65535", 0xFFFFFFFFu)]
    public void InetAton_ReadsLikeGlibc(string input, uint expected)
    {
        Assert.True(IpvsInet.TryInetAton(input, out uint v));
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a.b.c.d")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.0.0.1")]
    [InlineData("08")]
    [InlineData("0x")]
    [InlineData("4294967296")]
    [InlineData("1.16777216")]
    [InlineData("1..2")]
    [InlineData(".1")]
    [InlineData("+1")]
    [InlineData("1.2.3.4x")]
    public void InetAton_RejectsWhatGlibcRejects(string input) => Assert.False(IpvsInet.TryInetAton(input, out _));

    [Theory]
    [InlineData("01.2.3.4")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.")]
    [InlineData("256.1.1.1")]
    [InlineData("0x1.1.1.1")]
    public void Pton4_IsStrict(string input) => Assert.Null(IpvsInet.ParseIPv4Strict(input));

    [Theory]
    [InlineData(false, null, 0xFFFFFFFFu)]
    [InlineData(false, "255.255.255.0", 0xFFFFFF00u)]
    [InlineData(false, "24", 0xFFFFFF00u)]
    [InlineData(false, "/16", 0xFFFF0000u)]
    [InlineData(true, null, 128u)]
    [InlineData(true, "64", 64u)]
    [InlineData(true, "/48", 48u)]
    public void NetmaskValue_ReadsBothShapes(bool v6, string? text, uint expected)
    {
        Assert.True(IpvsInet.TryNetmaskValue(v6, text, out uint v));
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData(false, "33")]
    [InlineData(false, "0")]
    [InlineData(false, "x")]
    [InlineData(true, "129")]
    [InlineData(true, "0")]
    [InlineData(true, "255.255.255.0")]
    public void NetmaskValue_RejectsNonsense(bool v6, string text) => Assert.False(IpvsInet.TryNetmaskValue(v6, text, out _));
}
