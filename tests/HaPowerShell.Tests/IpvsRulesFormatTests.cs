using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>IpvsRules.Format must print what `ipvsadm -S -n` (1.31) prints; expected texts come from ipvsadm's own
/// code run against a fake kernel holding the same table.</summary>
public class IpvsRulesFormatTests
{
    private static IpvsService Svc(IpvsProtocol p, string address, ushort port, string sched = "wlc") => new()
    {
        Protocol = p, Address = IPAddress.Parse(address), Port = port, AddressFamily = IPAddress.Parse(address).AddressFamily, Scheduler = sched,
    };

    private static IpvsRealServer Real(string address, ushort port, IpvsForwardingMethod fwd = IpvsForwardingMethod.DirectRouting, int weight = 1)
        => new() { Address = IPAddress.Parse(address), Port = port, ForwardingMethod = fwd, Weight = weight };

    [Fact]
    public void EmptyTable_PrintsNothing() => Assert.Equal("", IpvsRules.Format(Array.Empty<IpvsService>()));

    [Fact]
    public void ServiceWithoutRealServers_PrintsOnlyItsLine()
    {
        var s = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80);
        Assert.Equal("-A -t 192.0.2.1:80 -s wlc\n", IpvsRules.Format(new[] { s }));
        s.RealServers = new List<IpvsRealServer>();
        Assert.Equal("-A -t 192.0.2.1:80 -s wlc\n", IpvsRules.Format(new[] { s }));
    }

    [Fact]
    public void PersistenceVariants()
    {
        var a = Svc(IpvsProtocol.Tcp, "192.0.2.1", 0);
        a.PersistenceTimeout = 120;
        a.PersistenceNetmask = "255.255.0.0";
        var b = Svc(IpvsProtocol.Udp, "192.0.2.1", 0);
        b.PersistenceTimeout = 360;
        b.PersistenceNetmask = "255.255.255.255"; // the default: not printed
        var c = Svc(IpvsProtocol.Tcp, "2001:db8::80", 80, "mh");
        c.PersistenceTimeout = 60;
        c.PersistenceNetmask = "48";
        var d = Svc(IpvsProtocol.Tcp, "2001:db8::81", 80);
        d.PersistenceTimeout = 60;
        d.PersistenceNetmask = "128"; // default for IPv6
        var e = Svc(IpvsProtocol.Tcp, "192.0.2.2", 80);
        e.PersistenceNetmask = "255.255.255.0"; // not persistent: -M is only printed inside the -p branch
        var f = Svc(IpvsProtocol.Tcp, "192.0.2.3", 80);
        f.PersistenceTimeout = 10;
        f.PersistenceNetmask = "24"; // a prefix length in the model is printed as ipvsadm's dotted mask
        Assert.Equal(
            "-A -t 192.0.2.1:0 -s wlc -p 120 -M 255.255.0.0\n" +
            "-A -t 192.0.2.2:80 -s wlc\n" +
            "-A -t 192.0.2.3:80 -s wlc -p 10 -M 255.255.255.0\n" +
            "-A -u 192.0.2.1:0 -s wlc -p 360\n" +
            "-A -t [2001:db8::80]:80 -s mh -p 60 -M 48\n" +
            "-A -t [2001:db8::81]:80 -s wlc -p 60\n",
            IpvsRules.Format(new[] { a, b, c, d, e, f }));
    }

    [Fact]
    public void EngineOnePacketAndFlags_InIpvsadmOrder()
    {
        var s = Svc(IpvsProtocol.Udp, "192.0.2.1", 80);
        s.OnePacket = true;
        s.PersistenceTimeout = 360;
        s.PersistenceEngine = "sip";
        s.SchedulerFlag = new[] { "flag-3", "flag-1" };
        s.PersistenceNetmask = "255.255.255.128";
        Assert.Equal("-A -u 192.0.2.1:80 -s wlc -p 360 -M 255.255.255.128 --pe sip -o -b flag-1,flag-3\n", IpvsRules.Format(new[] { s }));
    }

    [Fact]
    public void PersistenceEngineWithoutPersistence_IsStillPrinted()
    {
        var s = Svc(IpvsProtocol.Udp, "192.0.2.1", 5060);
        s.PersistenceEngine = "sip";
        Assert.Equal("-A -u 192.0.2.1:5060 -s wlc --pe sip\n", IpvsRules.Format(new[] { s }));
    }

    [Theory]
    [InlineData("sh", "sh-port,sh-fallback", "-b sh-fallback,sh-port")]
    [InlineData("sh", "flag-2", "-b sh-port")]
    [InlineData("mh", "mh-port", "-b mh-port")]
    [InlineData("mh", "FLAG-1,mh-port", "-b mh-fallback,mh-port")]
    [InlineData("rr", "sh-port", "-b flag-2")]
    [InlineData("rr", "flag-3,flag-2,flag-1", "-b flag-1,flag-2,flag-3")]
    public void SchedulerFlags_PrintedByBitInIpvsadmsWords(string sched, string flags, string expected)
    {
        var s = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80, sched);
        s.SchedulerFlag = flags.Split(',');
        Assert.Equal($"-A -t 192.0.2.1:80 -s {sched} {expected}\n", IpvsRules.Format(new[] { s }));
    }

    [Fact]
    public void Flag3OnSh_PrintsAnEmptyDashB_LikeIpvsadm()
    {
        var s = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80, "sh");
        s.SchedulerFlag = new[] { "flag-3" };
        Assert.Equal("-A -t 192.0.2.1:80 -s sh -b \n", IpvsRules.Format(new[] { s }));
    }

    [Fact]
    public void FirewallMarkServices()
    {
        var v4 = new IpvsService { FirewallMark = 100, Scheduler = "lc" };
        var v6 = new IpvsService { FirewallMark = 100, AddressFamily = AddressFamily.InterNetworkV6, Scheduler = "rr" };
        var big = new IpvsService { FirewallMark = uint.MaxValue, Scheduler = "rr" };
        // Marks >= 2^31 are printed with %d, i.e. negative: ipvsadm's own bug, reproduced.
        Assert.Equal("-A -f -1 -s rr\n-A -f 100 -s lc\n-A -f 100 -6 -s rr\n", IpvsRules.Format(new[] { v6, v4, big }));
    }

    [Fact]
    public void RealServerForwardingAndTunnelVariants()
    {
        var s = Svc(IpvsProtocol.Tcp, "203.0.113.5", 443, "wrr");
        s.RealServers = new List<IpvsRealServer>
        {
            Real("203.0.113.10", 443, weight: 5),
            Real("203.0.113.11", 8443, IpvsForwardingMethod.Masquerade, 0),
            Real("203.0.113.12", 443, IpvsForwardingMethod.Local),
            Real("203.0.113.13", 443, IpvsForwardingMethod.Tunnel),
            new() { Address = IPAddress.Parse("203.0.113.14"), Port = 443, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.IpIp },
            new() { Address = IPAddress.Parse("203.0.113.15"), Port = 443, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080 },
            new() { Address = IPAddress.Parse("203.0.113.16"), Port = 443, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6081, TunnelChecksum = IpvsTunnelChecksum.Checksum },
            new() { Address = IPAddress.Parse("203.0.113.17"), Port = 443, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6082, TunnelChecksum = IpvsTunnelChecksum.RemoteChecksum },
            new() { Address = IPAddress.Parse("203.0.113.18"), Port = 443, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gre },
            new() { Address = IPAddress.Parse("2001:db8::19"), Port = 443, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gre, TunnelChecksum = IpvsTunnelChecksum.Checksum },
            new() { Address = IPAddress.Parse("203.0.113.20"), Port = 0 }, // port 0 = the service port
        };
        Assert.Equal(
            "-A -t 203.0.113.5:443 -s wrr\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.10:443 -g -w 5\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.11:8443 -m -w 0\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.12:443 -g -w 1\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.13:443 -i -w 1 --tun-type ipip\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.14:443 -i -w 1 --tun-type ipip\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.15:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.16:443 -i -w 1 --tun-type gue --tun-port 6081 --tun-csum\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.17:443 -i -w 1 --tun-type gue --tun-port 6082 --tun-remcsum\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.18:443 -i -w 1 --tun-type gre --tun-nocsum\n" +
            "-a -t 203.0.113.5:443 -r 203.0.113.20:443 -g -w 1\n" +
            "-a -t 203.0.113.5:443 -r [2001:db8::19]:443 -i -w 1 --tun-type gre --tun-csum\n",
            IpvsRules.Format(new[] { s }));
    }

    [Fact]
    public void ThresholdsAndStatisticsAreNotPrinted()
    {
        var s = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80);
        s.Statistics.Connections = 99;
        var r = Real("192.0.2.10", 80);
        r.UpperThreshold = 100;
        r.LowerThreshold = 10;
        r.ActiveConnections = 5;
        s.RealServers = new List<IpvsRealServer> { r };
        Assert.Equal("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1\n", IpvsRules.Format(new[] { s }));
    }

    [Fact]
    public void Ipv6AddressesAreCompressedLikeInetNtop()
    {
        var s = Svc(IpvsProtocol.Udp, "2001:0db8:0000:0000:0001:0000:0000:0053", 53);
        s.RealServers = new List<IpvsRealServer> { Real("::ffff:192.0.2.10", 53) };
        Assert.Equal("-A -u [2001:db8::1:0:0:53]:53 -s wlc\n-a -u [2001:db8::1:0:0:53]:53 -r [::ffff:192.0.2.10]:53 -g -w 1\n", IpvsRules.Format(new[] { s }));
    }

    [Fact]
    public void Format_RejectsWhatIpvsadmCouldNotPrint()
    {
        Assert.Throws<ArgumentNullException>(() => IpvsRules.Format(null!));
        Assert.Throws<ArgumentException>(() => IpvsRules.Format(new IpvsService[] { null! }));

        var flags = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80);
        flags.SchedulerFlag = new[] { "turbo" };
        Assert.Contains("turbo", Assert.Throws<ArgumentException>(() => IpvsRules.Format(new[] { flags })).Message);

        var mask = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80);
        mask.PersistenceTimeout = 5;
        mask.PersistenceNetmask = "banana";
        Assert.Throws<ArgumentException>(() => IpvsRules.Format(new[] { mask }));

        var fwd = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80);
        fwd.RealServers = new List<IpvsRealServer> { Real("192.0.2.10", 80, (IpvsForwardingMethod)7) };
        Assert.Throws<ArgumentException>(() => IpvsRules.Format(new[] { fwd }));

        var fullnat = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80);
        fullnat.RealServers = new List<IpvsRealServer> { Real("192.0.2.10", 80, IpvsForwardingMethod.FullNat) };
        Assert.Contains("FULLNAT is not in mainline Linux", Assert.Throws<ArgumentException>(() => IpvsRules.Format(new[] { fullnat })).Message);

        var csum = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80);
        csum.RealServers = new List<IpvsRealServer>
        {
            new() { Address = IPAddress.Parse("192.0.2.10"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gre, TunnelChecksum = (IpvsTunnelChecksum)3 },
        };
        Assert.Throws<ArgumentException>(() => IpvsRules.Format(new[] { csum }));

        var nullServer = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80);
        nullServer.RealServers = new List<IpvsRealServer> { null! };
        Assert.Throws<ArgumentException>(() => IpvsRules.Format(new[] { nullServer }));
    }

    [Fact]
    public void OddButRepresentableModels_DoNotThrow()
    {
        // What ipvsadm prints for values it does not know: an unknown protocol and a missing address.
        var s = new IpvsService { Protocol = (IpvsProtocol)99, Port = 1, Scheduler = null! };
        Assert.Equal("-A --xxx-service 0.0.0.0:1 -s \n", IpvsRules.Format(new[] { s }));
        var t = Svc(IpvsProtocol.Tcp, "192.0.2.1", 80);
        t.RealServers = new List<IpvsRealServer> { new() { Address = IPAddress.Parse("192.0.2.9"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = (IpvsTunnelType)9 } };
        Assert.Equal("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.9:80 -i -w 1\n", IpvsRules.Format(new[] { t }));
    }
}
