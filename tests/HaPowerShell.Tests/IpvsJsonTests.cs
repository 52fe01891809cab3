using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

public class IpvsJsonTests
{
    private static List<IpvsService> Sample() => new()
    {
        new()
        {
            Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("192.0.2.1"), Port = 80, Scheduler = "wrr",
            PersistenceTimeout = 300, PersistenceNetmask = "255.255.255.0", Statistics = { Connections = 42 },
            RealServers = new()
            {
                new() { Address = IPAddress.Parse("192.0.2.10"), Port = 80, Weight = 5, UpperThreshold = 100, LowerThreshold = 10, ActiveConnections = 7 },
                new() { Address = IPAddress.Parse("2001:db8::10"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080, TunnelChecksum = IpvsTunnelChecksum.RemoteChecksum },
            },
        },
        new() { FirewallMark = 7, AddressFamily = AddressFamily.InterNetworkV6, Scheduler = "sh", SchedulerFlag = new[] { "sh-port" }, OnePacket = true },
        new() { Protocol = IpvsProtocol.Udp, Address = IPAddress.Parse("2001:0db8::53"), AddressFamily = AddressFamily.InterNetworkV6, Port = 53, PersistenceEngine = "sip", PersistenceTimeout = 60, PersistenceNetmask = "64" },
    };

    [Fact]
    public void Serialize_WritesTheDocumentedShape()
    {
        string json = IpvsJson.Serialize(Sample(), new IpvsTimeout { Tcp = 900, TcpFin = 120, Udp = 300 });
        Assert.Equal(
"""
{
  "services": [
    {
      "protocol": "tcp",
      "address": "192.0.2.1",
      "port": 80,
      "firewallMark": 0,
      "addressFamily": "ipv4",
      "scheduler": "wrr",
      "persistenceTimeout": 300,
      "persistenceNetmask": "255.255.255.0",
      "persistenceEngine": null,
      "onePacket": false,
      "schedulerFlags": [],
      "realServers": [
        {
          "address": "192.0.2.10",
          "port": 80,
          "forwardingMethod": "DirectRouting",
          "weight": 5,
          "upperThreshold": 100,
          "lowerThreshold": 10,
          "tunnelType": null,
          "tunnelPort": 0,
          "tunnelChecksum": "NoChecksum"
        },
        {
          "address": "2001:db8::10",
          "port": 80,
          "forwardingMethod": "Tunnel",
          "weight": 1,
          "upperThreshold": 0,
          "lowerThreshold": 0,
          "tunnelType": "Gue",
          "tunnelPort": 6080,
          "tunnelChecksum": "RemoteChecksum"
        }
      ]
    },
    {
      "protocol": null,
      "address": null,
      "port": 0,
      "firewallMark": 7,
      "addressFamily": "ipv6",
      "scheduler": "sh",
      "persistenceTimeout": 0,
      "persistenceNetmask": null,
      "persistenceEngine": null,
      "onePacket": true,
      "schedulerFlags": [
        "sh-port"
      ],
      "realServers": []
    },
    {
      "protocol": "udp",
      "address": "2001:db8::53",
      "port": 53,
      "firewallMark": 0,
      "addressFamily": "ipv6",
      "scheduler": "wlc",
      "persistenceTimeout": 60,
      "persistenceNetmask": "64",
      "persistenceEngine": "sip",
      "onePacket": false,
      "schedulerFlags": [],
      "realServers": []
    }
  ],
  "timeout": {
    "tcp": 900,
    "tcpFin": 120,
    "udp": 300
  }
}
""".ReplaceLineEndings("\n"), json.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("statistic", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("active", json, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void RoundTrip_KeepsEverySetting()
    {
        var timeout = new IpvsTimeout { Tcp = 1, TcpFin = 2, Udp = 3 };
        string json = IpvsJson.Serialize(Sample(), timeout);
        var (services, t) = IpvsJson.Deserialize(json);
        Assert.Equal(json, IpvsJson.Serialize(services, t));
        Assert.Equal(IpvsRules.Format(Sample()), IpvsRules.Format(services));
        Assert.All(services, s => Assert.All(s.RealServers!, r => Assert.Same(s, r.Service)));
        Assert.Equal(0ul, services[0].Statistics.Connections);
        Assert.Equal(AddressFamily.InterNetworkV6, services[0].RealServers![1].AddressFamily);
    }

    [Fact]
    public void RoundTrip_LargeTable()
    {
        var table = IpvsLargeTable.Generate(1000);
        var (services, t) = IpvsJson.Deserialize(IpvsJson.Serialize(table, null));
        Assert.Null(t);
        Assert.Equal(IpvsRules.Format(table), IpvsRules.Format(services));
    }

    [Fact]
    public void Deserialize_HumanWritten_DefaultsCaseAndComments()
    {
        var (services, timeout) = IpvsJson.Deserialize("""
            {
              // my load balancer
              "Services": [
                { "Protocol": "TCP", "Address": "192.0.2.1", "Port": 80,
                  "realservers": [ { "address": "192.0.2.10" }, { "ADDRESS": "192.0.2.11", "forwardingmethod": "masquerade", "port": 8080 }, ] },
                { "firewallMark": 5, "addressFamily": "IPv6", "persistenceTimeout": 60, "persistenceNetmask": 64 },
                /* block comment */
                { "protocol": "udp", "address": "2001:db8::1", "port": 53, "schedulerFlags": null, "realServers": null, "tunnelless": null },
              ],
            }
            """.Replace(", \"tunnelless\": null", ""));
        Assert.Null(timeout);
        Assert.Equal(3, services.Count);
        var s = services[0];
        Assert.Equal((IpvsProtocol.Tcp, "wlc", AddressFamily.InterNetwork, 0u, false), (s.Protocol!.Value, s.Scheduler, s.AddressFamily, s.PersistenceTimeout, s.OnePacket));
        Assert.Empty(s.SchedulerFlag);
        var r = s.RealServers![0];
        Assert.Equal((0, IpvsForwardingMethod.DirectRouting, 1, (IpvsTunnelType?)null, IpvsTunnelChecksum.NoChecksum), (r.Port, r.ForwardingMethod, r.Weight, r.TunnelType, r.TunnelChecksum));
        Assert.Equal(IpvsForwardingMethod.Masquerade, s.RealServers[1].ForwardingMethod);
        Assert.Equal("64", services[1].PersistenceNetmask);
        Assert.Equal(AddressFamily.InterNetworkV6, services[1].AddressFamily);
        Assert.Null(services[1].Protocol);
        Assert.Equal(AddressFamily.InterNetworkV6, services[2].AddressFamily); // follows the address
        Assert.Empty(services[2].RealServers!);
        Assert.Equal("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1\n-a -t 192.0.2.1:80 -r 192.0.2.11:8080 -m -w 1\n",
            IpvsRules.Format(new[] { services[0] }));
    }

    [Fact]
    public void Deserialize_MinimalDocuments()
    {
        Assert.Empty(IpvsJson.Deserialize("{}").Services);
        Assert.Empty(IpvsJson.Deserialize("{\"services\": null, \"timeout\": null}").Services);
        var t = IpvsJson.Deserialize("{\"timeout\": {\"tcp\": 7}}").Timeout!;
        Assert.Equal((7u, 0u, 0u), (t.Tcp, t.TcpFin, t.Udp));
    }

    [Theory]
    [InlineData("", "$: not valid JSON")]
    [InlineData("{", "not valid JSON")]
    [InlineData("42", "$: expected an object, got 42")]
    [InlineData("{\"services\": {}}", "$.services: expected an array of services, got an object")]
    [InlineData("{\"services\": [1]}", "$.services[0]: expected an object, got 1")]
    [InlineData("{\"servces\": []}", "$: unknown property \"servces\"")]
    [InlineData("{\"services\": [], \"SERVICES\": []}", "$.services: given more than once")]
    [InlineData("{\"services\": [{\"protocol\": \"icmp\"}]}", "$.services[0].protocol: expected \"tcp\", \"udp\", \"sctp\" or null, got \"icmp\"")]
    [InlineData("{\"services\": [{\"protocol\": 6}]}", "$.services[0].protocol: expected a string, got 6")]
    [InlineData("{\"services\": [{\"address\": \"192.0.2\"}]}", "$.services[0].address: expected an IPv4 address")]
    [InlineData("{\"services\": [{\"address\": \"fe80::1%eth0\"}]}", "$.services[0].address")]
    [InlineData("{\"services\": [{\"port\": 65536}]}", "$.services[0].port: expected an integer from 0 to 65535, got 65536")]
    [InlineData("{\"services\": [{\"port\": -1}]}", "$.services[0].port")]
    [InlineData("{\"services\": [{\"port\": 80.5}]}", "$.services[0].port")]
    [InlineData("{\"services\": [{\"port\": \"80\"}]}", "$.services[0].port")]
    [InlineData("{\"services\": [{\"firewallMark\": 4294967296}]}", "$.services[0].firewallMark")]
    [InlineData("{\"services\": [{\"addressFamily\": \"ipx\"}]}", "$.services[0].addressFamily")]
    [InlineData("{\"services\": [{\"onePacket\": \"yes\"}]}", "$.services[0].onePacket: expected true or false")]
    [InlineData("{\"services\": [{\"schedulerFlags\": \"sh-port\"}]}", "$.services[0].schedulerFlags: expected an array")]
    [InlineData("{\"services\": [{\"schedulerFlags\": [1]}]}", "$.services[0].schedulerFlags[0]: expected a string")]
    [InlineData("{\"services\": [{\"persistenceNetmask\": 129}]}", "$.services[0].persistenceNetmask")]
    [InlineData("{\"services\": [{\"realServers\": [{}]}]}", "$.services[0].realServers[0].address: a real server needs an address")]
    [InlineData("{\"services\": [{\"realServers\": [{\"address\": \"192.0.2.10\", \"weight\": 70000}]}]}", "$.services[0].realServers[0].weight: expected an integer from 0 to 65535, got 70000")]
    [InlineData("{\"services\": [{\"realServers\": [{\"address\": \"192.0.2.10\", \"wieght\": 1}]}]}", "$.services[0].realServers[0]: unknown property \"wieght\"")]
    [InlineData("{\"services\": [{\"realServers\": [{\"address\": \"192.0.2.10\", \"forwardingMethod\": \"FullNat\"}]}]}", "$.services[0].realServers[0].forwardingMethod: FULLNAT is not in mainline Linux")]
    [InlineData("{\"services\": [{\"realServers\": [{\"address\": \"192.0.2.10\", \"forwardingMethod\": \"route\"}]}]}", "$.services[0].realServers[0].forwardingMethod: expected \"DirectRouting\", \"Tunnel\" or \"Masquerade\", got \"route\"")]
    [InlineData("{\"services\": [{\"realServers\": [{\"address\": \"192.0.2.10\", \"forwardingMethod\": \"3\"}]}]}", "forwardingMethod: expected")]
    [InlineData("{\"services\": [{\"realServers\": [{\"address\": \"192.0.2.10\", \"tunnelType\": \"vxlan\"}]}]}", "$.services[0].realServers[0].tunnelType")]
    [InlineData("{\"services\": [{\"realServers\": [{\"address\": \"192.0.2.10\", \"tunnelChecksum\": 1}]}]}", "$.services[0].realServers[0].tunnelChecksum: expected a string")]
    [InlineData("{\"services\": [{\"realServers\": {}}]}", "$.services[0].realServers: expected an array")]
    [InlineData("{\"timeout\": []}", "$.timeout: expected an object")]
    [InlineData("{\"timeout\": {\"tcp\": -5}}", "$.timeout.tcp")]
    [InlineData("{\"timeout\": {\"sctp\": 5}}", "$.timeout: unknown property \"sctp\"")]
    public void Deserialize_ErrorsCarryTheJsonPath(string json, string message)
        => Assert.Contains(message, Assert.Throws<FormatException>(() => IpvsJson.Deserialize(json)).Message);

    [Fact]
    public void Deserialize_DeepNestingAndGarbage_OnlyFormatException()
    {
        Assert.Throws<FormatException>(() => IpvsJson.Deserialize(new string('[', 10000) + new string(']', 10000)));
        Assert.Throws<FormatException>(() => IpvsJson.Deserialize("{\"services\": [" + new string('{', 5000)));
        Assert.Throws<ArgumentNullException>(() => IpvsJson.Deserialize(null!));
        var rnd = new Random(5);
        string[] pieces = { "{", "}", "[", "]", ",", ":", "\"services\"", "\"realServers\"", "\"address\"", "\"192.0.2.1\"", "1", "-1", "null", "true", "\"port\"", "1e999", "\"\\u0000\"", "//", "/*", "*/" };
        for (int i = 0; i < 3000; i++)
        {
            string text = string.Concat(Enumerable.Range(0, rnd.Next(1, 30)).Select(_ => pieces[rnd.Next(pieces.Length)]));
            try { IpvsJson.Deserialize(text); }
            catch (FormatException) { }
        }
    }

    [Fact]
    public void Serialize_Arguments()
    {
        Assert.Throws<ArgumentNullException>(() => IpvsJson.Serialize(null!, null));
        Assert.Throws<ArgumentException>(() => IpvsJson.Serialize(new IpvsService[] { null! }, null));
        Assert.Throws<ArgumentException>(() => IpvsJson.Serialize(new[] { new IpvsService { FirewallMark = 1, RealServers = new() { null! } } }, null));
        Assert.Equal("{\n  \"services\": []\n}", IpvsJson.Serialize(Array.Empty<IpvsService>(), null).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Serialize_UsesInetNtopForIpv6()
    {
        var s = new IpvsService { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("2001:db8:0:0:1:0:0:1"), AddressFamily = AddressFamily.InterNetworkV6, Port = 1 };
        Assert.Contains("\"address\": \"2001:db8::1:0:0:1\"", IpvsJson.Serialize(new[] { s }, null));
    }
}
