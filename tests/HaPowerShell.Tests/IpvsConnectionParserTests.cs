using System.Net;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>/proc/net/ip_vs_conn parsing, and `ipvsadm -Lnc` output (expected texts from ipvsadm 1.31's own code
/// reading the same file).</summary>
public class IpvsConnectionParserTests
{
    private const string Proc =
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" +
        "TCP C0000264 C822 C0000201 0050 C000020A 0050 ESTABLISHED     897\n" +
        "UDP C6336401 0035 C0000201 0035 C000020B 0035 UDP             299\n" +
        "TCP 2001:0db8:0000:0000:0000:0000:0000:0064 D431 2001:0db8:0000:0000:0000:0000:0000:0001 01BB C000020A 01BB SYN_RECV         59\n" +
        "TCP C0000264 0000 C0000201 0000 C000020A 0000 NONE          36000\n" +
        "UDP C0000264 13C4 C0000201 13C4 C000020A 13C4 UDP              12 sip a84b4c76e66710@pc33.example.com\n" +
        "UDP C0000265 13C4 C0000201 13C4 C000020A 13C4 UDP              12 sip \n" +
        "IP  00000000 0000 C0000201 0000 2001:0db8:0000:0000:0000:0000:0000:000a 0000 NONE              0\n";

    [Fact]
    public void Parse_KernelFormat()
    {
        var list = IpvsConnectionParser.Parse(Proc);
        Assert.Equal(7, list.Count);
        var c = list[0];
        Assert.Equal("TCP", c.Protocol);
        Assert.Equal(IPAddress.Parse("192.0.2.100"), c.SourceAddress);
        Assert.Equal(51234, c.SourcePort);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), c.VirtualAddress);
        Assert.Equal(80, c.VirtualPort);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), c.DestinationAddress);
        Assert.Equal(80, c.DestinationPort);
        Assert.Equal("ESTABLISHED", c.State);
        Assert.Equal(TimeSpan.FromSeconds(897), c.Expires);
        Assert.Null(c.PersistenceEngine);
        Assert.Null(c.PersistenceData);

        var v6 = list[2];
        Assert.Equal(IPAddress.Parse("2001:db8::64"), v6.SourceAddress);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), v6.VirtualAddress);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), v6.DestinationAddress); // a different family: tunnelling
        Assert.Equal(443, v6.VirtualPort);

        Assert.Equal("sip", list[4].PersistenceEngine);
        Assert.Equal("a84b4c76e66710@pc33.example.com", list[4].PersistenceData);
        Assert.Equal("sip", list[5].PersistenceEngine);
        Assert.Equal("", list[5].PersistenceData);
        Assert.Equal(IPAddress.Parse("2001:db8::a"), list[6].DestinationAddress);
        Assert.Equal("IP", list[6].Protocol);
        Assert.Equal(TimeSpan.FromHours(10), list[3].Expires);
    }

    [Fact]
    public void FormatLikeIpvsadm_MatchesIpvsadmLnc()
    {
        Assert.Equal(
            "IPVS connection entries\n" +
            "pro expire state       source             virtual            destination\n" +
            "TCP 14:57  ESTABLISHED 192.0.2.100:51234  192.0.2.1:80       192.0.2.10:80\n" +
            "UDP 04:59  UDP         198.51.100.1:53    192.0.2.1:53       192.0.2.11:53\n" +
            "TCP 00:59  SYN_RECV    [2001:db8::64]:54321 [2001:db8::1]:443  192.0.2.10:443\n" +
            "TCP 600:00 NONE        192.0.2.100:0      192.0.2.1:0        192.0.2.10:0\n" +
            "UDP 00:12  UDP         192.0.2.100:5060   192.0.2.1:5060     192.0.2.10:5060\n" +
            "UDP 00:12  UDP         192.0.2.101:5060   192.0.2.1:5060     192.0.2.10:5060\n" +
            "IP  00:00  NONE        0.0.0.0:0          192.0.2.1:0        [2001:db8::a]:0\n",
            IpvsConnectionParser.FormatLikeIpvsadm(IpvsConnectionParser.Parse(Proc)));
    }

    [Fact]
    public void FormatLikeIpvsadm_PersistentConnLayout()
    {
        Assert.Equal(
            "IPVS connection entries\n" +
            "pro expire state       source             virtual            destination        pe name          pe_data\n" +
            "TCP 14:57  ESTABLISHED 192.0.2.100:51234  192.0.2.1:80       192.0.2.10:80\n" +
            "UDP 04:59  UDP         198.51.100.1:53    192.0.2.1:53       192.0.2.11:53\n" +
            "TCP 00:59  SYN_RECV    [2001:db8::64]:54321 [2001:db8::1]:443  192.0.2.10:443\n" +
            "TCP 600:00 NONE        192.0.2.100:0      192.0.2.1:0        192.0.2.10:0\n" +
            "UDP 00:12  UDP         192.0.2.100:5060   192.0.2.1:5060     192.0.2.10:5060  sip                a84b4c76e66710@pc33.example.com\n" +
            "UDP 00:12  UDP         192.0.2.101:5060   192.0.2.1:5060     192.0.2.10:5060\n" +
            "IP  00:00  NONE        0.0.0.0:0          192.0.2.1:0        [2001:db8::a]:0\n",
            IpvsConnectionParser.FormatLikeIpvsadm(IpvsConnectionParser.Parse(Proc), persistenceEngineColumns: true));
    }

    [Fact]
    public void EmptyTable()
    {
        Assert.Empty(IpvsConnectionParser.Parse(""));
        Assert.Empty(IpvsConnectionParser.Parse("Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"));
        Assert.Equal("IPVS connection entries\npro expire state       source             virtual            destination\n",
            IpvsConnectionParser.FormatLikeIpvsadm(Array.Empty<IpvsConnection>()));
    }

    [Fact]
    public void HeaderIsOptional_AndCrLfTolerated()
    {
        var list = IpvsConnectionParser.Parse("TCP C0000264 C822 C0000201 0050 C000020A 0050 ESTABLISHED     897\r\n\r\n");
        Assert.Equal(IPAddress.Parse("192.0.2.100"), Assert.Single(list).SourceAddress);
    }

    [Fact]
    public void DottedAndLowercaseHex_AreRead()
    {
        var c = Assert.Single(IpvsConnectionParser.Parse("TCP c0000264 c822 192.0.2.1 50 C000020A 0050 CLOSE 1"));
        Assert.Equal(IPAddress.Parse("192.0.2.100"), c.SourceAddress);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), c.VirtualAddress);
        Assert.Equal(0x50, c.VirtualPort);
    }

    [Fact]
    public void HugeExpires_IsClamped()
    {
        var c = Assert.Single(IpvsConnectionParser.Parse("TCP C0000264 C822 C0000201 0050 C000020A 0050 CLOSE 18446744073709551615"));
        Assert.Equal(TimeSpan.FromSeconds(uint.MaxValue), c.Expires);
        var d = Assert.Single(IpvsConnectionParser.Parse("TCP C0000264 C822 C0000201 0050 C000020A 0050 CLOSE 99999999999999999999999999"));
        Assert.Equal(TimeSpan.FromSeconds(uint.MaxValue), d.Expires);
    }

    [Theory]
    [InlineData("TCP C0000264 C822 C0000201 0050 C000020A 0050 ESTABLISHED", "at least 9 fields")]
    [InlineData("TCP C00002 C822 C0000201 0050 C000020A 0050 ESTABLISHED 1", "client address")]
    [InlineData("TCP C0000264 C8220 C0000201 0050 C000020A 0050 ESTABLISHED 1", "client port")]
    [InlineData("TCP C0000264 C822 C0000201 0050 C000020A 0050 ESTABLISHED -1", "Expires")]
    [InlineData("TCP C0000264 C822 C0000201 0050 C000020A 0050 ESTABLISHED 1.5", "Expires")]
    [InlineData("TCP C0000264 C822 C0000201 zz50 C000020A 0050 ESTABLISHED 1", "virtual port")]
    [InlineData("TCP C0000264 C822 C0000201 0050 2001:db8::g 0050 ESTABLISHED 1", "destination address")]
    [InlineData("TCP 2001:0db8:0000:0000:0000:0000:0000:0064 D431 C0000201 01BB C000020A 01BB SYN_RECV 59", "different families")]
    [InlineData("Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires", "ip_vs_conn_sync")]
    public void MalformedLines_NameTheLine(string line, string message)
    {
        var e = Assert.Throws<FormatException>(() => IpvsConnectionParser.Parse("Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" + line + "\n"));
        Assert.StartsWith("line 2: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Arguments()
    {
        Assert.Throws<ArgumentNullException>(() => IpvsConnectionParser.Parse(null!));
        Assert.Throws<ArgumentNullException>(() => IpvsConnectionParser.FormatLikeIpvsadm(null!));
        Assert.Throws<ArgumentException>(() => IpvsConnectionParser.FormatLikeIpvsadm(new IpvsConnection[] { null! }));
    }

    [Fact]
    public void Format_OddModels()
    {
        var c = new IpvsConnection { Protocol = null!, State = null!, SourceAddress = null!, Expires = TimeSpan.FromSeconds(-5) };
        Assert.EndsWith("    00:00  " + new string(' ', 11) + " 0.0.0.0:0          255.255.255.255:0  255.255.255.255:0\n", IpvsConnectionParser.FormatLikeIpvsadm(new[] { c }));
        var big = new IpvsConnection { Expires = TimeSpan.MaxValue };
        Assert.Contains("71582788:15", IpvsConnectionParser.FormatLikeIpvsadm(new[] { big }));
    }

    [Fact]
    public void HostileInput_OnlyFormatException()
    {
        var rnd = new Random(99);
        string[] pieces = { "TCP", "UDP", "C0000264", "C822", "0050", "2001:0db8:0000:0000:0000:0000:0000:0064", "ESTABLISHED", "12", "sip", " ", "\t", "\n", "\r", "::", "ffffffff", "-", "Pro", "FromIP", "\0", "99999999999999999999" };
        for (int i = 0; i < 3000; i++)
        {
            var sb = new System.Text.StringBuilder();
            for (int k = rnd.Next(1, 25); k > 0; k--)
            {
                sb.Append(rnd.Next(15) == 0 ? ((char)rnd.Next(0x20, 0x3000)).ToString() : pieces[rnd.Next(pieces.Length)]);
                if (rnd.Next(3) > 0) sb.Append(' ');
            }
            try
            {
                IpvsConnectionParser.FormatLikeIpvsadm(IpvsConnectionParser.Parse(sb.ToString()), rnd.Next(2) == 0);
            }
            catch (FormatException e)
            {
                Assert.Matches(@"^line \d+: ", e.Message);
            }
        }
    }
}
