using System.Net;
using HaPowerShell.Core.Arp;
using Xunit;

namespace HaPowerShell.Tests;

public class AddressRemovalGuardTests
{
    private static VirtualIPAddress A(string cidr, bool secondary = false, string ifName = "eth0")
    {
        var parts = cidr.Split('/');
        return new VirtualIPAddress(ifName, 2, IPAddress.Parse(parts[0]), int.Parse(parts[1]), null, 0,
            secondary ? VirtualIPAddress.FlagSecondary : 0, null);
    }

    private static readonly VirtualIPAddress[] Eth0 =
    {
        A("192.0.2.11/24"), A("198.51.100.5/32"), A("192.0.2.30/24", secondary: true),
        A("2001:db8:1::11/64"), A("fe80::1/64"),
    };

    [Theory]
    [InlineData("127.0.0.1/8", "a loopback address")]
    [InlineData("127.0.0.2/32", "a loopback address")]
    [InlineData("::1/128", "a loopback address")]
    [InlineData("fe80::1/64", "an IPv6 link-local address")]
    [InlineData("169.254.7.1/16", "an IPv4 link-local address")]
    [InlineData("192.0.2.11/24", "the interface's primary IPv4 address")]
    public void Protected(string cidr, string why) => Assert.Equal(why, AddressRemovalGuard.WhyProtected(A(cidr), Eth0));

    [Theory]
    [InlineData("192.0.2.30/24")]     // a secondary (eth0:0 VIP)
    [InlineData("198.51.100.5/32")]   // a primary of another subnet, not the interface's first
    [InlineData("2001:db8:1::11/64")] // IPv6 has no primary address
    public void NotProtected(string cidr) => Assert.Null(AddressRemovalGuard.WhyProtected(A(cidr), Eth0));

    [Fact]
    public void TheErrorSaysForce()
    {
        var e = new AddressRemovalNeedsForceException(A("127.0.0.1/8", ifName: "lo"), "lo", "a loopback address");
        Assert.Equal("AddressRemovalNeedsForce", e.ErrorId);
        Assert.Contains("127.0.0.1/8 on lo is a loopback address", e.Message);
        Assert.Contains("-Force", e.Message);
    }
}
