using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>IpvsRules.Parse reads what `ipvsadm -R` accepts and refuses what it refuses. Where a test states what
/// ipvsadm does, that was observed with ipvsadm 1.31's own code.</summary>
public class IpvsRulesParseTests
{
    private static IpvsRuleCommand One(string line)
    {
        var set = IpvsRules.Parse(line);
        return Assert.Single(set.Commands);
    }

    private static IpvsRuleParseException Fails(string text) => Assert.Throws<IpvsRuleParseException>(() => IpvsRules.Parse(text));

    /// <summary>Parse one line, replay it, print it: the -S line(s) ipvsadm would show for the resulting table.</summary>
    private static string Saved(string text) => IpvsRules.Format(IpvsRules.ToTable(IpvsRules.Parse(text)));

    [Fact]
    public void AddService_Defaults()
    {
        var c = One("-A -t 192.0.2.1:80");
        Assert.Equal(IpvsRuleCommandKind.AddService, c.Kind);
        Assert.Equal(1, c.LineNumber);
        Assert.Equal("-A -t 192.0.2.1:80", c.Text);
        var s = c.Service!;
        Assert.Equal(IpvsProtocol.Tcp, s.Protocol);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), s.Address);
        Assert.Equal(80, s.Port);
        Assert.Equal(AddressFamily.InterNetwork, s.AddressFamily);
        Assert.Equal("wlc", s.Scheduler);
        Assert.Equal(0u, s.PersistenceTimeout);
        Assert.Null(s.PersistenceNetmask);
        Assert.Null(s.PersistenceEngine);
        Assert.False(s.OnePacket);
        Assert.Empty(s.SchedulerFlag);
        Assert.Null(c.RealServer);
        Assert.Null(c.Timeout);
    }

    [Fact]
    public void PersistentWithoutValue_Is360Seconds_AsIpvsadmCode()
    {
        // The man page says 300; IPVS_SVC_PERSISTENT_TIMEOUT in libipvs.h (and Debian's binary) is 6*60.
        Assert.Equal(360u, One("-A -t 192.0.2.1:80 -p").Service!.PersistenceTimeout);
        Assert.Equal(360u, One("-A -t 192.0.2.1:80 -p -s rr").Service!.PersistenceTimeout);
        Assert.Equal(100u, One("-A -t 192.0.2.1:80 -p 100 -s rr").Service!.PersistenceTimeout);
        Assert.Equal(100u, One("-A -t 192.0.2.1:80 -p100").Service!.PersistenceTimeout);
        Assert.Equal(100u, One("-A -t 192.0.2.1:80 -p=100").Service!.PersistenceTimeout);
        Assert.Equal(100u, One("-A -t 192.0.2.1:80 --persistent=100").Service!.PersistenceTimeout);
        Assert.Equal(100u, One("-A -t 192.0.2.1:80 --persistent 100").Service!.PersistenceTimeout);
    }

    [Theory]
    [InlineData("-At 192.0.2.1:80", "-A -t 192.0.2.1:80 -s wlc\n")]
    [InlineData("-At192.0.2.1:80", "-A -t 192.0.2.1:80 -s wlc\n")]
    [InlineData("--add-service --tcp-service=192.0.2.1:80 --scheduler rr", "-A -t 192.0.2.1:80 -s rr\n")]
    [InlineData("ipvsadm -A -t 192.0.2.1:80", "-A -t 192.0.2.1:80 -s wlc\n")]
    [InlineData("/sbin/ipvsadm -A -t 192.0.2.1:80", "-A -t 192.0.2.1:80 -s wlc\n")]
    [InlineData("  \t-A\t-t   192.0.2.1:80  \r", "-A -t 192.0.2.1:80 -s wlc\n")]
    [InlineData("-A -t 192.0.2.1:80 -s rr # web front", "-A -t 192.0.2.1:80 -s rr\n")]
    [InlineData("-A -t 10.1:80", "-A -t 10.0.0.1:80 -s wlc\n")]
    [InlineData("-A -t 0x0a000001:80", "-A -t 10.0.0.1:80 -s wlc\n")]
    [InlineData("-A -t 010.0.0.1:80", "-A -t 8.0.0.1:80 -s wlc\n")]
    [InlineData("-A -t 2001:db8::1 -p", "-A -t [2001:db8::1]:0 -s wlc -p 360\n")]
    [InlineData("-A -t 2001:db8::1:80 -p", "-A -t [2001:db8::1:80]:0 -s wlc -p 360\n")]
    [InlineData("-A -t [2001:DB8::1]:80", "-A -t [2001:db8::1]:80 -s wlc\n")]
    [InlineData("-A -t [::ffff:192.0.2.1]:80", "-A -t [::ffff:192.0.2.1]:80 -s wlc\n")]
    [InlineData("-A -t 1.2.3.4:+80", "-A -t 1.2.3.4:80 -s wlc\n")]
    [InlineData("-A -t 1.2.3.4:-0 -p", "-A -t 1.2.3.4:0 -s wlc -p 360\n")]
    [InlineData("-A -f 5 -M 64 -6 -p", "-A -f 5 -6 -s wlc -p 360\n")]
    [InlineData("-A -f 5 -6 -M 64 -p", "-A -f 5 -6 -s wlc -p 360 -M 64\n")]
    [InlineData("-A -M 255.255.0.0 -t 192.0.2.1:80 -p", "-A -t 192.0.2.1:80 -s wlc -p 360 -M 255.255.0.0\n")]
    [InlineData("-A -t 192.0.2.1:80 -M 24 -p", "-A -t 192.0.2.1:80 -s wlc -p 360 -M 0.0.0.24\n")]
    [InlineData("-A -t [2001:db8::1]:80 -M 64abc -p", "-A -t [2001:db8::1]:80 -s wlc -p 360 -M 64\n")]
    [InlineData("-A -t 192.0.2.1:80 -M 255.255.255.0", "-A -t 192.0.2.1:80 -s wlc\n")]
    [InlineData("-A -f +7", "-A -f 7 -s wlc\n")]
    [InlineData("-A -f 4294967295", "-A -f -1 -s wlc\n")]
    [InlineData("-A -f -1", "-A -f -1 -s wlc\n")]
    [InlineData("-A -f 1 -6 -6", "-A -f 1 -6 -s wlc\n")]
    [InlineData("-A -t 192.0.2.1:80 -s -p", "-A -t 192.0.2.1:80 -s -p\n")]
    [InlineData("-A -t 192.0.2.1:80 -s=rr", "-A -t 192.0.2.1:80 -s rr\n")]
    [InlineData("-A -t 192.0.2.1:80 -b sh-port -s sh", "-A -t 192.0.2.1:80 -s sh -b sh-port\n")]
    [InlineData("-A -t 192.0.2.1:80 -s sh -b flag-1,,flag-2", "-A -t 192.0.2.1:80 -s sh -b sh-fallback,sh-port\n")]
    [InlineData("-A -t 192.0.2.1:80 --pe=sip", "-A -t 192.0.2.1:80 -s wlc --pe sip\n")]
    [InlineData("-A -u 192.0.2.1:80 -o -p --pe sip -b flag-1,flag-3 -M 255.255.255.128", "-A -u 192.0.2.1:80 -s wlc -p 360 -M 255.255.255.128 --pe sip -o -b flag-1,flag-3\n")]
    [InlineData("-A -f 3 -o", "-A -f 3 -s wlc -o\n")]
    public void Accepted_LikeIpvsadm(string line, string saved) => Assert.Equal(saved, Saved(line));

    [Theory]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1\n")]
    // -g and -i always get the service port (ipvsadm silently replaces 8080), -m keeps it.
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10:8080", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1\n")]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10:8080 -i", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -i -w 1 --tun-type ipip\n")]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10:8080 -m", "-a -t 192.0.2.1:80 -r 192.0.2.10:8080 -m -w 1\n")]
    // A real server without a port takes the service port known at that point of the line: here none yet, so
    // ipvsadm sends port 0 (and then saves ":0"). In our model port 0 on a non-fwmark service means "the service
    // port" (as IpvsMapping writes it to the kernel), so we save ":80" — a deliberate difference for this quirk.
    [InlineData("-A -t 192.0.2.1:80;-a -r 192.0.2.10 -t 192.0.2.1:80 -m", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -m -w 1\n")]
    [InlineData("-A -f 3;-a -f 3 -r 192.0.2.10", "-a -f 3 -r 192.0.2.10:0 -g -w 1\n")]
    [InlineData("-A -f 3;-a -f 3 -r 192.0.2.10:8080 -g", "-a -f 3 -r 192.0.2.10:8080 -g -w 1\n")]
    [InlineData("-A -f 3;-a -f 3 -r [2001:db8::5]:8080 -i", "-a -f 3 -r [2001:db8::5]:8080 -i -w 1 --tun-type ipip\n")]
    [InlineData("-A -f 3 -6;-a -f 3 -6 -r [2001:db8::5]:8080 -g", "-a -f 3 -6 -r [2001:db8::5]:8080 -g -w 1\n")]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type gue --tun-port 5555", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -i -w 1 --tun-type gue --tun-port 5555 --tun-nocsum\n")]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type gue --tun-port 5555 --tun-remcsum", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -i -w 1 --tun-type gue --tun-port 5555 --tun-remcsum\n")]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type gre --tun-nocsum", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -i -w 1 --tun-type gre --tun-nocsum\n")]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10 -w5 --weight=3 -x 0", null)]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10;-e -t 192.0.2.1:80 -r 192.0.2.10 -w 7", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 7\n")]
    // -e sends every setting: what the line leaves out returns to ipvsadm's default (-g, weight 1).
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10 -m -w 3;-e -t 192.0.2.1:80 -r 192.0.2.10 -w 7", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 7\n")]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type gue --tun-port 1 --tun-csum -w 4 -x 10 -y 2;-e -t 192.0.2.1:80 -r 192.0.2.10 -m", "-a -t 192.0.2.1:80 -r 192.0.2.10:80 -m -w 1\n")]
    [InlineData("-A -t 192.0.2.1:80;-a -t 192.0.2.1:80 -r 192.0.2.10 -m;-d -t 192.0.2.1:80 -r 192.0.2.10", "")]
    public void RealServerLines_LikeIpvsadm(string lines, string? savedRealServers)
    {
        string text = lines.Replace(';', '\n');
        if (savedRealServers is null)
        {
            Assert.Throws<IpvsRuleParseException>(() => IpvsRules.Parse(text));
            return;
        }
        string saved = Saved(text);
        Assert.Equal(savedRealServers, string.Concat(saved.Split('\n').Skip(1).Where(l => l.Length > 0).Select(l => l + "\n")));
    }

    [Fact]
    public void RealServerCommand_CarriesIpvsadmsDefaults()
    {
        var c = One("-a -t 192.0.2.1:80 -r 192.0.2.10");
        Assert.Equal(IpvsRuleCommandKind.AddServer, c.Kind);
        var r = c.RealServer!;
        Assert.Same(c.Service, r.Service);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), r.Address);
        Assert.Equal(80, r.Port);
        Assert.Equal(IpvsForwardingMethod.DirectRouting, r.ForwardingMethod);
        Assert.Equal(1, r.Weight);
        Assert.Null(r.TunnelType);
        var t = One("-a -t [2001:db8::1]:80 -r 192.0.2.10 -i -x 10 -y 5 -w 0").RealServer!;
        Assert.Equal(IpvsTunnelType.IpIp, t.TunnelType);
        Assert.Equal(AddressFamily.InterNetwork, t.AddressFamily);
        Assert.Equal(10u, t.UpperThreshold);
        Assert.Equal(5u, t.LowerThreshold);
        Assert.Equal(0, t.Weight);
    }

    [Theory]
    [InlineData("-A -t 192.0.2.1:80 -p 2678401", "timeout")]
    [InlineData("-A -t 192.0.2.1:80 -p 0", "timeout")]
    [InlineData("-A -t 192.0.2.1:80 -s rr -p abc", "timeout")]
    [InlineData("-A -t 192.0.2.1:80 -p -5", "unknown option '-5'")]
    [InlineData("-A -t -s", "illegal virtual server")]
    [InlineData("-t 192.0.2.1:80 -A", "first option must be a command")]
    [InlineData("-A -A -t 192.0.2.1:80", "more than one command")]
    [InlineData("-A -t 192.0.2.1:80 -- -s", "unexpected argument '-s'")]
    [InlineData("-A -t 192.0.2.1:80 foo", "unexpected argument 'foo'")]
    [InlineData("-A -t 192.0.2.1:80 -", "unexpected argument '-'")]
    [InlineData("-A 192.0.2.9 -t 192.0.2.1:80", "unexpected argument '192.0.2.9'")]
    [InlineData("-A --tcp-serv 192.0.2.1:80", "unknown option '--tcp-serv'")]
    [InlineData("-A -t 192.0.2.1:80 --foo", "unknown option '--foo'")]
    [InlineData("-A -t 192.0.2.1:80 -q", "unknown option '-q'")]
    [InlineData("-A -t 192.0.2.1:80 -o=1", "does not take a value")]
    [InlineData("-A -t 192.0.2.1:80 --ops=1", "does not take a value")]
    [InlineData("-A -t 192.0.2.1:80 -sp rr", "unexpected argument 'rr'")]
    [InlineData("-A -t 192.0.2.1:80 -ps", "timeout")]
    [InlineData("-A -t [2001:db8::1] -p", "[address]:port")]
    [InlineData("-A -t [1.2.3.4]:80 -p", "brackets are for IPv6 only")]
    [InlineData("-A -t 1.2.3.4:", "illegal virtual server")]
    [InlineData("-A -t 80", "illegal virtual server")]
    [InlineData("-A -t 1.2.3.4:70000", "0 to 65535")]
    [InlineData("-A -t 300.1.1.1:80", "not a numeric address")]
    [InlineData("-A -t www.example.com:80", "host names are not resolved")]
    [InlineData("-A -t 1.2.3.4:http", "service names are not resolved")]
    [InlineData("-A -t 192.0.2.1:80 -t 192.0.2.2:80", "more than one 'service-address'")]
    [InlineData("-A -f 1 -6 -t 192.0.2.1:80", "more than one 'service-address'")]
    [InlineData("-A -t 192.0.2.1:80 -s rr -s wlc", "more than one 'scheduler'")]
    [InlineData("-A -t 192.0.2.1:80 -6", "-6 (--ipv6) is only valid after -f")]
    [InlineData("-A -t 192.0.2.1:80 -6 -f 1", "-6 (--ipv6) is only valid after -f")]
    [InlineData("-A -f 0", "invalid fwmark")]
    [InlineData("-A -f 4294967296", "invalid fwmark")]
    [InlineData("-A -f -2147483649", "invalid fwmark")]
    [InlineData("-A -f x", "invalid fwmark")]
    [InlineData("-A -t 192.0.2.1:0", "Zero port specified for non-persistent service")]
    [InlineData("-A -t 192.0.2.1:80 -o", "only for UDP")]
    [InlineData("-A -u 192.0.2.1:80 -o -w 1", "'-w' (weight) is not allowed with the add-service (-A) command")]
    [InlineData("-A -t 192.0.2.1:80 -n", "'-n' (numeric) is not allowed")]
    [InlineData("-A -t 192.0.2.1:80 -r 192.0.2.10", "'-r' (real-server) is not allowed")]
    [InlineData("-A", "needs a virtual service")]
    [InlineData("-A -t 192.0.2.1:80 -s abcdefghijklmnop", "longer than 15 characters")]
    [InlineData("-A -t 192.0.2.1:80 --pe abcdefghijklmnopq", "longer than 16 characters")]
    [InlineData("-A -t 192.0.2.1:80 -s sh -b ,", "empty scheduler flags")]
    [InlineData("-A -t 192.0.2.1:80 -s sh -b flag-3", "no meaning for the sh scheduler")]
    [InlineData("-A -t 192.0.2.1:80 -b sh-port", "needs -s sh")]
    [InlineData("-A -t 192.0.2.1:80 -s rr -b mh-port", "needs -s mh")]
    [InlineData("-A -t 192.0.2.1:80 -b fullnat", "invalid scheduler flag 'fullnat'")]
    [InlineData("-A -t 192.0.2.1:80 -b", "needs a value")]
    [InlineData("-A -t 192.0.2.1:80 -p -M 255.255.255.0.1", "persistent mask")]
    [InlineData("-A -t [2001:db8::1]:80 -p -M 129", "ipv6 netmask")]
    [InlineData("-A -t [2001:db8::1]:80 -p -M /64", "ipv6 netmask")]
    [InlineData("-D -t 192.0.2.1:80 -s rr", "not allowed with the delete-service (-D) command")]
    [InlineData("-C -t 192.0.2.1:80", "not allowed with the clear (-C) command")]
    [InlineData("-Z -t 192.0.2.1:80 -s rr", "not allowed with the zero (-Z) command")]
    [InlineData("-a -t 192.0.2.1:80", "needs a real server")]
    [InlineData("-a -r 192.0.2.10", "needs a virtual service")]
    [InlineData("-a -t 192.0.2.1:80 -r 80", "illegal real server")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -g -m", "more than one 'forwarding-method'")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -w 65536", "illegal weight")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -w -1", "illegal weight")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -x 2147483648", "upper threshold")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -y x", "lower threshold")]
    [InlineData("-a -t 192.0.2.1:80 -r [2001:db8::10]:80", "Different address family is allowed only for tunneling servers")]
    [InlineData("-a -f 3 -r [2001:db8::5]:8080 -g", "Different address family")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 --tun-type gre", "Tunnel options conflict with forward method")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type gue", "needs --tun-port")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type gue --tun-port 0", "tunnel port")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type gre --tun-port 1", "'--tun-port' is not allowed with the gre tunnel type")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type gre --tun-remcsum", "'--tun-remcsum' is not allowed with the gre tunnel type")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-nocsum", "not allowed with the ipip tunnel type")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type gue --tun-port 5555 --tun-remcsum --tun-csum", "conflict")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -i --tun-type vxlan", "illegal tunnel type")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 --tun-csum --tun-csum -i --tun-type gre", "more than one 'tun-csum'")]
    [InlineData("-d -t 192.0.2.1:80 -r 192.0.2.10 -m", "'-m' (forwarding-method) is not allowed with the delete-server (-d) command")]
    [InlineData("--set 1 2", "--set needs 3 timeout values")]
    [InlineData("--set 1 2 3 4", "unexpected argument '4'")]
    [InlineData("--set 1 2 2678401", "udp timeout")]
    [InlineData("--set 1 x 3", "tcpfin timeout")]
    [InlineData("--set -t 192.0.2.1:80 1 2 3", "not allowed with the --set command")]
    [InlineData("-L -n", "not a rule command")]
    [InlineData("-S", "not a rule command")]
    [InlineData("-R", "not a rule command")]
    [InlineData("--start-daemon master", "not a rule command")]
    [InlineData("192.0.2.1", "no command")]
    public void Refused_WithAClearMessage(string line, string expectedInMessage)
    {
        var e = Fails(line);
        Assert.Equal(1, e.LineNumber);
        Assert.StartsWith("line 1: ", e.Message);
        Assert.Contains(expectedInMessage, e.Message);
        Assert.Equal(line, e.LineText);
    }

    [Fact]
    public void ErrorNamesTheLine()
    {
        var e = Fails("# a comment\n\n-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80 --foo\n");
        Assert.Equal(4, e.LineNumber);
        Assert.Equal("line 4: unknown option '--foo'", e.Message);
    }

    [Theory]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 --fullnat", "--fullnat")]
    [InlineData("-A -t 192.0.2.1:80 --synproxy enable", "--synproxy")]
    [InlineData("-P -t 192.0.2.1:80 -z 192.0.2.50", "-P")]
    [InlineData("-A -t 192.0.2.1:80 -j enable", "-j")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -b", "-b")]
    [InlineData("-a -t 192.0.2.1:80 -r 192.0.2.10 -b -w 1", "-b")]
    public void FullNat_IsExplained(string line, string option)
    {
        var e = Fails(line);
        Assert.Contains(option, e.Message);
        Assert.Contains("FULLNAT is not in mainline Linux", e.Message);
        Assert.Contains("Alibaba", e.Message);
        Assert.Contains("2.6.32", e.Message);
    }

    [Fact]
    public void AllCommandKinds()
    {
        var set = IpvsRules.Parse(
            "-A -t 192.0.2.1:80\n-E -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 192.0.2.10\n-e -t 192.0.2.1:80 -r 192.0.2.10 -w 2\n" +
            "-d -t 192.0.2.1:80 -r 192.0.2.10\n-Z\n-Z -t 192.0.2.1:80\n-D -t 192.0.2.1:80\n-C\n--set 900 120 300\n" +
            "--add-service --udp-service 192.0.2.1:53\n--edit-service --udp-service 192.0.2.1:53\n--delete-service --udp-service 192.0.2.1:53\n" +
            "--zero\n--clear\n");
        Assert.Equal(new[]
        {
            IpvsRuleCommandKind.AddService, IpvsRuleCommandKind.EditService, IpvsRuleCommandKind.AddServer,
            IpvsRuleCommandKind.EditServer, IpvsRuleCommandKind.DeleteServer, IpvsRuleCommandKind.Zero, IpvsRuleCommandKind.Zero,
            IpvsRuleCommandKind.DeleteService, IpvsRuleCommandKind.Clear, IpvsRuleCommandKind.SetTimeout,
            IpvsRuleCommandKind.AddService, IpvsRuleCommandKind.EditService, IpvsRuleCommandKind.DeleteService,
            IpvsRuleCommandKind.Zero, IpvsRuleCommandKind.Clear,
        }, set.Commands.Select(c => c.Kind));
        Assert.Null(set.Commands[5].Service);
        Assert.NotNull(set.Commands[6].Service);
        var t = set.Commands[9].Timeout!;
        Assert.Equal((900u, 120u, 300u), (t.Tcp, t.TcpFin, t.Udp));
        Assert.Equal(10, set.Commands[9].LineNumber);
    }

    [Fact]
    public void SetTimeout_ArgumentsMayComeAnywhere()
    {
        var t = One("900 --set 120 300").Timeout!;
        Assert.Equal((900u, 120u, 300u), (t.Tcp, t.TcpFin, t.Udp));
        t = One("--set 0 0 0").Timeout!;
        Assert.Equal((0u, 0u, 0u), (t.Tcp, t.TcpFin, t.Udp));
    }

    [Fact]
    public void BlankLinesCommentsAndCrLf_AreSkipped()
    {
        var set = IpvsRules.Parse("\r\n# saved by ipvsadm-save\r\n   \r\n\t# indented comment\r\n-A -t 192.0.2.1:80 -s rr\r\nipvsadm\r\n");
        var c = Assert.Single(set.Commands);
        Assert.Equal(5, c.LineNumber);
        Assert.Equal("-A -t 192.0.2.1:80 -s rr", c.Text);
    }

    [Fact]
    public void EmptyText_GivesNoCommands()
    {
        Assert.Empty(IpvsRules.Parse("").Commands);
        Assert.Throws<ArgumentNullException>(() => IpvsRules.Parse(null!));
    }

    [Fact]
    public void SchedulerFlagsAreStoredInTheSchedulersWords()
    {
        Assert.Equal(new[] { "sh-fallback", "sh-port" }, One("-A -t 192.0.2.1:80 -s sh -b flag-2,flag-1").Service!.SchedulerFlag);
        Assert.Equal(new[] { "mh-port" }, One("-A -t 192.0.2.1:80 -s mh -b mh-port").Service!.SchedulerFlag);
        Assert.Equal(new[] { "flag-1", "flag-3" }, One("-A -t 192.0.2.1:80 -s rr -b flag-3,flag-1").Service!.SchedulerFlag);
    }

    [Fact]
    public void NetmasksAreStoredNormalised()
    {
        Assert.Equal("255.255.255.0", One("-A -t 192.0.2.1:80 -p -M 0xffffff00").Service!.PersistenceNetmask);
        Assert.Equal("48", One("-A -t [2001:db8::1]:80 -p -M 48").Service!.PersistenceNetmask);
        Assert.Null(One("-A -t [2001:db8::1]:80 -p -M 128").Service!.PersistenceNetmask);
        Assert.Null(One("-A -t 192.0.2.1:80 -p -M 255.255.255.255").Service!.PersistenceNetmask);
    }

    [Fact]
    public void FirewallMarkService_HasNoProtocolAddressOrPort()
    {
        var s = One("-A -f 42 -6 -s rr").Service!;
        Assert.Equal(42u, s.FirewallMark);
        Assert.Null(s.Protocol);
        Assert.Null(s.Address);
        Assert.Equal(0, s.Port);
        Assert.Equal(AddressFamily.InterNetworkV6, s.AddressFamily);
    }

    [Fact]
    public void HostileInput_OnlyEverThrowsTheDocumentedException()
    {
        var rnd = new Random(12345);
        string[] pieces =
        {
            "-A", "-E", "-D", "-a", "-e", "-d", "-C", "-Z", "--set", "-t", "-u", "-f", "-6", "-s", "-p", "-M", "-r", "-g", "-i", "-m",
            "-w", "-x", "-y", "-o", "--pe", "-b", "--tun-type", "--tun-port", "--tun-csum", "--sctp-service", "192.0.2.1:80",
            "[2001:db8::1]:80", "2001:db8::1", "[", "]", ":", "::", "0", "-1", "99999999999999999999999", "sh", "flag-3", ",", "=",
            "--", "-", "#", "ipvsadm", "\u00e9", "\0", "\t", "-At", "-w=", "--weight=", "0x", "1.2.3.4.5", "%", "--=", "-=",
        };
        for (int i = 0; i < 3000; i++)
        {
            var sb = new System.Text.StringBuilder();
            int n = rnd.Next(1, 12);
            for (int k = 0; k < n; k++)
            {
                if (rnd.Next(10) == 0) sb.Append((char)rnd.Next(0, 0x3000));
                else sb.Append(pieces[rnd.Next(pieces.Length)]);
                sb.Append(rnd.Next(6) == 0 ? "" : rnd.Next(8) == 0 ? "\n" : " ");
            }
            try
            {
                var set = IpvsRules.Parse(sb.ToString());
                IpvsRules.Format(IpvsRules.ToTable(set));
            }
            catch (IpvsRuleParseException e)
            {
                Assert.Matches(@"^line \d+: ", e.Message);
            }
        }
    }

    [Fact]
    public void VeryLongLine_IsHandled()
    {
        // Up to ipvsadm's 4096 characters a line is read and checked as usual ...
        string line = "-A -t 192.0.2.1:80 " + string.Concat(Enumerable.Repeat("-s rr ", 600));
        Assert.True(line.Length <= IpvsRules.MaxLineLength);
        Assert.Contains("more than one 'scheduler'", Fails(line).Message);
        Assert.Contains("illegal virtual server", Fails("-A -t " + new string('9', 4000) + "x").Message);
        // ... a longer one is refused before it is split into words.
        Assert.Contains("longer than 4096 characters", Fails("-A -t 192.0.2.1:80 " + string.Concat(Enumerable.Repeat("-s rr ", 10000))).Message);
        Assert.Contains("longer than 4096 characters", Fails("\n-A -t " + new string('9', 100000) + "x").Message);
        Assert.StartsWith("line 2:", Fails("\n-A -t " + new string('9', 100000) + "x").Message);
    }
}
