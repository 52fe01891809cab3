using System.Net;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

public class IpvsServiceIdTests
{
    [Theory]
    [InlineData("TCP 192.0.2.1:80", "192.0.2.1", 80)]
    [InlineData("udp/[2001:db8::1]:53", "2001:db8::1", 53)]
    [InlineData("-t 198.51.100.7:443", "198.51.100.7", 443)]
    public void Parses_service_names(string text, string address, int port)
    {
        Assert.True(IpvsServiceId.TryParse(text, out var s, out var error), error);
        Assert.Equal(IPAddress.Parse(address), s.Address);
        Assert.Equal(port, s.Port);
    }

    [Theory]
    [InlineData("TCP 192.0.2:80", "write all four numbers")]   // IPAddress.Parse would read 192.0.0.2
    [InlineData("TCP 1:80", "write all four numbers")]         // ... and 0.0.0.1
    [InlineData("TCP 192.0.2.010:80", "write all four numbers")]
    [InlineData("udp [fe80::1%eth0]:53", "zone id")]
    [InlineData("TCP 192.0.2.1:70000", "not a port")]
    public void Refuses_loose_addresses(string text, string says)
    {
        Assert.False(IpvsServiceId.TryParse(text, out _, out var error));
        Assert.Contains(says, error);
    }
}
