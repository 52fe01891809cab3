using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>
/// ipvsadm's listing order. Expected orders were produced by ipvsadm 1.31's own code (ipvsadm.c + libipvs'
/// comparators + glibc 2.36 qsort) running against a fake kernel that returns services in the given order.
/// </summary>
public class IpvsSortTests
{
    private static IpvsService Tcp(string address, ushort port = 80) => new()
    {
        Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse(address), Port = port,
        AddressFamily = IPAddress.Parse(address).AddressFamily, Scheduler = "rr",
    };

    private static IpvsService Fwm(uint mark, bool v6 = false) => new()
    {
        FirewallMark = mark, AddressFamily = v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, Scheduler = "rr",
    };

    [Fact]
    public void Comparator_WrapsLikeC_192Before10()
    {
        // ntohl(192.0.2.1) - ntohl(10.0.0.1) = 0xC0000201 - 0x0A000001 = 0xB6000200, a negative int.
        Assert.True(IpvsSort.CompareServices(Tcp("192.0.2.1"), Tcp("10.0.0.1")) < 0);
        Assert.True(IpvsSort.CompareServices(Tcp("10.0.0.1"), Tcp("192.0.2.1")) > 0);
        Assert.Equal(unchecked((int)(0xC0000201u - 0x0A000001u)), IpvsSort.CompareServices(Tcp("192.0.2.1"), Tcp("10.0.0.1")));
    }

    [Fact]
    public void Format_WrapAroundOrder_MatchesIpvsadm()
    {
        // Whatever order the kernel returns them in, ipvsadm -S prints 192.0.2.1 first.
        string expected = "-A -t 192.0.2.1:80 -s rr\n-A -t 10.0.0.1:80 -s rr\n";
        Assert.Equal(expected, IpvsRules.Format(new[] { Tcp("10.0.0.1"), Tcp("192.0.2.1") }));
        Assert.Equal(expected, IpvsRules.Format(new[] { Tcp("192.0.2.1"), Tcp("10.0.0.1") }));
    }

    [Theory]
    // 10.0.0.1 < 100.64.0.1 < 192.0.2.1 < 10.0.0.1: a cycle, so the result depends on the input order and on
    // glibc's merge sort. Right-hand side: what ipvsadm printed for that kernel order.
    [InlineData("10.0.0.1 100.64.0.1 192.0.2.1", "10.0.0.1 100.64.0.1 192.0.2.1")]
    [InlineData("10.0.0.1 192.0.2.1 100.64.0.1", "10.0.0.1 100.64.0.1 192.0.2.1")]
    [InlineData("100.64.0.1 10.0.0.1 192.0.2.1", "100.64.0.1 192.0.2.1 10.0.0.1")]
    [InlineData("100.64.0.1 192.0.2.1 10.0.0.1", "100.64.0.1 192.0.2.1 10.0.0.1")]
    [InlineData("192.0.2.1 10.0.0.1 100.64.0.1", "192.0.2.1 10.0.0.1 100.64.0.1")]
    [InlineData("192.0.2.1 100.64.0.1 10.0.0.1", "192.0.2.1 10.0.0.1 100.64.0.1")]
    public void IntransitiveCycle_MatchesIpvsadmForEveryInputOrder(string kernelOrder, string ipvsadmOrder)
    {
        var sorted = IpvsSort.SortServices(kernelOrder.Split(' ').Select(a => Tcp(a)));
        Assert.Equal(ipvsadmOrder, string.Join(' ', sorted.Select(s => s.Address!.ToString())));
    }

    [Fact]
    public void ServiceOrder_FamilyProtocolPortAndFwmark_MatchesIpvsadm()
    {
        var kernel = new[]
        {
            Fwm(1), Tcp("192.0.2.1"), Fwm(2147483647),
            new IpvsService { Protocol = IpvsProtocol.Udp, Address = IPAddress.Parse("192.0.2.1"), Port = 80, Scheduler = "rr" },
            new IpvsService { Protocol = IpvsProtocol.Sctp, Address = IPAddress.Parse("192.0.2.1"), Port = 80, Scheduler = "rr" },
            Tcp("2001:db8::1"), Fwm(1, v6: true), Tcp("192.0.2.1", 443), Tcp("192.0.2.1", 8080),
        };
        Assert.Equal(
            "-A -t 192.0.2.1:80 -s rr\n" +
            "-A -t 192.0.2.1:443 -s rr\n" +
            "-A -t 192.0.2.1:8080 -s rr\n" +
            "-A -u 192.0.2.1:80 -s rr\n" +
            "-A --sctp-service 192.0.2.1:80 -s rr\n" +
            "-A -t [2001:db8::1]:80 -s rr\n" +
            "-A -f 1 -s rr\n" +
            "-A -f 1 -6 -s rr\n" +
            "-A -f 2147483647 -s rr\n",
            IpvsRules.Format(kernel));
    }

    [Fact]
    public void FwmarkDifferencesWrapToo()
    {
        // 0 - 0x80000001 = 0x7FFFFFFF > 0: a high-mark fwmark service sorts BEFORE a protocol service.
        Assert.True(IpvsSort.CompareServices(Tcp("192.0.2.1"), Fwm(0x80000001)) > 0);
        Assert.True(IpvsSort.CompareServices(Tcp("192.0.2.1"), Fwm(5)) < 0);
        Assert.Equal("-A -f -2147483647 -s rr\n-A -t 192.0.2.1:80 -s rr\n", IpvsRules.Format(new[] { Tcp("192.0.2.1"), Fwm(0x80000001) }));
    }

    [Fact]
    public void RealServersOfMixedFamilies_MatchIpvsadm()
    {
        // ipvs_cmp_dests looks at the FIRST server's family only: an IPv4 first compares one word, an IPv6 first four.
        var svc = Fwm(9);
        svc.RealServers = new[] { "192.0.2.10:80", "[2001:db8::10]:80", "10.0.0.5:80", "[ffff::1]:80", "192.0.2.10:79" }
            .Select(e =>
            {
                int colon = e.LastIndexOf(':');
                var a = IPAddress.Parse(e[..colon].Trim('[', ']'));
                return new IpvsRealServer { Address = a, Port = ushort.Parse(e[(colon + 1)..]), ForwardingMethod = IpvsForwardingMethod.Tunnel };
            }).ToList();
        Assert.Equal(
            "-A -f 9 -s rr\n" +
            "-a -f 9 -r 192.0.2.10:79 -i -w 1 --tun-type ipip\n" +
            "-a -f 9 -r 192.0.2.10:80 -i -w 1 --tun-type ipip\n" +
            "-a -f 9 -r [ffff::1]:80 -i -w 1 --tun-type ipip\n" +
            "-a -f 9 -r 10.0.0.5:80 -i -w 1 --tun-type ipip\n" +
            "-a -f 9 -r [2001:db8::10]:80 -i -w 1 --tun-type ipip\n",
            IpvsRules.Format(new[] { svc }));
    }

    [Fact]
    public void SortingTwice_CanChangeTheOrder_SoFormatCanSkipIt()
    {
        // Both orders below were printed by ipvsadm's own code: the kernel order gives `once`; if the kernel had
        // returned `once`, ipvsadm would have printed `twice`. So ipvsadm's sort must be applied exactly once, to
        // the kernel's order, and a list already in ipvsadm's order is formatted with sort: false.
        var kernel = new[] { "128.0.0.1", "32.0.0.1", "223.0.0.1", "10.0.0.2", "192.0.2.1", "1.1.1.1" }.Select(a => Tcp(a)).ToList();
        var once = IpvsSort.SortServices(kernel);
        var twice = IpvsSort.SortServices(once);
        Assert.Equal("128.0.0.1 192.0.2.1 223.0.0.1 1.1.1.1 10.0.0.2 32.0.0.1", string.Join(' ', once.Select(s => s.Address)));
        Assert.Equal("1.1.1.1 10.0.0.2 32.0.0.1 128.0.0.1 192.0.2.1 223.0.0.1", string.Join(' ', twice.Select(s => s.Address)));
        Assert.Equal(IpvsRules.Format(kernel), IpvsRules.Format(once, sort: false));
        Assert.NotEqual(IpvsRules.Format(kernel), IpvsRules.Format(once));
    }

    [Fact]
    public void FormatWithoutSort_KeepsTheGivenOrder()
    {
        var svc = Tcp("192.0.2.1");
        svc.RealServers = new() { new() { Address = IPAddress.Parse("192.0.2.12"), Port = 80 }, new() { Address = IPAddress.Parse("192.0.2.11"), Port = 80 } };
        var list = new[] { Tcp("192.0.2.9"), svc };
        Assert.Equal("-A -t 192.0.2.9:80 -s rr\n-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 192.0.2.12:80 -g -w 1\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 1\n",
            IpvsRules.Format(list, sort: false));
        Assert.Throws<ArgumentException>(() => IpvsRules.Format(new IpvsService[] { null! }, sort: false));
    }

    [Fact]
    public void MergeSort_IsStableAndTakesLeftOnTies()
    {
        var items = Enumerable.Range(0, 100).Select(i => (Key: i % 3, Index: i)).ToArray();
        IpvsSort.MergeSort(items, (a, b) => a.Key - b.Key);
        Assert.Equal(items.OrderBy(x => x.Key).ThenBy(x => x.Index), items);
    }

    [Fact]
    public void MergeSort_HandlesEmptyAndSingle()
    {
        var empty = Array.Empty<int>();
        IpvsSort.MergeSort(empty, (a, b) => a - b);
        var one = new[] { 5 };
        IpvsSort.MergeSort(one, (a, b) => a - b);
        Assert.Equal(new[] { 5 }, one);
    }

    [Fact]
    public void MergeSort_SurvivesAnInconsistentComparator()
    {
        var rnd = new Random(7);
        var items = Enumerable.Range(0, 1000).Select(_ => rnd.Next()).ToArray();
        IpvsSort.MergeSort(items, (a, b) => rnd.Next(3) - 1); // garbage, but must terminate and keep the elements
        Assert.Equal(1000, items.Length);
    }

    [Fact]
    public void SortServices_RejectsNulls()
    {
        Assert.Throws<ArgumentNullException>(() => IpvsSort.SortServices(null!));
        Assert.Throws<ArgumentException>(() => IpvsSort.SortServices(new IpvsService[] { null! }));
        Assert.Throws<ArgumentException>(() => IpvsSort.SortRealServers(null, new IpvsRealServer[] { null! }));
    }

    [Fact]
    public void EffectivePort_ZeroMeansServicePortExceptForFwmark()
    {
        var r = new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10") };
        Assert.Equal(80, IpvsSort.EffectivePort(Tcp("192.0.2.1"), r));
        Assert.Equal(0, IpvsSort.EffectivePort(Fwm(3), r));
    }
}
