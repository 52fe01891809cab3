using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core;
using HaPowerShell.Core.Arp;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The objects' JSON faces (docs/architecture.md, "Objects and JSON") and the IPVS readers taking the objects' JSON.</summary>
public class JsonShapeTests
{
    [Fact]
    public void Shapes_AreText_Names_AndSeconds_AndParseBack()
    {
        Assert.Equal("2001:db8::1", JsonShape.Text(IPAddress.Parse("2001:0db8::1")));
        Assert.Equal(IPAddress.Parse("192.0.2.1"), JsonShape.Address("192.0.2.1"));
        Assert.Null(JsonShape.Address(null));
        Assert.Throws<FormatException>(() => JsonShape.Address("192.0.2.300"));
        Assert.Equal(IpvsForwardingMethod.Tunnel, JsonShape.Enum<IpvsForwardingMethod>("tunnel"));
        var e = Assert.Throws<FormatException>(() => JsonShape.Enum<IpvsForwardingMethod>("Teleport"));
        Assert.Contains("DirectRouting", e.Message);
        Assert.Throws<FormatException>(() => JsonShape.Enum<IpvsForwardingMethod>("7")); // a number that names no member
        Assert.Equal(0.0015, JsonShape.Seconds(TimeSpan.FromTicks(15_000)));
        Assert.Equal(TimeSpan.FromMilliseconds(1.5), JsonShape.Duration(0.0015));
        Assert.Equal(899.5, JsonShape.Seconds(JsonShape.Duration(899.5)));
    }

    [Fact]
    public void Face_ShowsText_TwinKeepsTheTypedValue()
    {
        var rs = new IpvsRealServer { Address = IPAddress.Parse("2001:db8::10"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Masquerade };
        IpvsRealServerJson face = rs;
        Assert.Equal("2001:db8::10", face.Address);
        Assert.Equal("InterNetworkV6", face.AddressFamily);
        Assert.Equal("Masquerade", face.ForwardingMethod);
        face.ForwardingMethod = "Tunnel";
        face.Address = "192.0.2.10";
        Assert.Equal(IpvsForwardingMethod.Tunnel, rs.ForwardingMethod);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), rs.Address);
        Assert.Equal(AddressFamily.InterNetwork, rs.AddressFamily);

        var entry = new ArpEntry("eth0", 2, IPAddress.Parse("192.0.2.12"), null, ArpEntryState.Stale, false, false);
        ArpEntryJson entryFace = entry;
        Assert.Equal("Stale", entryFace.State);
        Assert.Equal("IPv4", entryFace.AddressFamily);
        Assert.Equal(ArpEntryState.Stale, entry.State);
    }

    [Fact]
    public void Readers_TakeTheObjectsJson_AnArrayOrOneService()
    {
        // what `Get-IpvsService | ConvertTo-Json` writes (PascalCase, read-only values, family names, RealServers null)
        const string array = """
        [
          { "Protocol": "Tcp", "Address": "192.0.2.1", "Port": 80, "FirewallMark": 0, "AddressFamily": "InterNetwork",
            "Scheduler": "wrr", "PersistenceTimeout": 0, "PersistenceNetmask": null, "PersistenceEngine": null, "OnePacket": false,
            "SchedulerFlag": [], "Statistics": { "Connections": 5 }, "Rate": { "ConnectionsPerSecond": 0 }, "RealServers": null,
            "IsFirewallMark": false, "IsPersistent": false, "Name": "TCP  192.0.2.1:80" },
          { "Protocol": null, "Address": null, "Port": 0, "FirewallMark": 7, "AddressFamily": "InterNetworkV6", "Scheduler": "sh",
            "SchedulerFlag": ["sh-port"], "RealServers": [
              { "Service": "FWM  7 IPv6", "Address": "2001:db8::10", "Port": 0, "AddressFamily": "InterNetworkV6",
                "ForwardingMethod": "Tunnel", "Weight": 2, "UpperThreshold": 0, "LowerThreshold": 0, "ActiveConnections": 3,
                "InactiveConnections": 1, "PersistentConnections": 0, "TunnelType": "Gue", "TunnelPort": 6080,
                "TunnelChecksum": "NoChecksum", "Statistics": {}, "Rate": {}, "Endpoint": "[2001:db8::10]:0" } ] }
        ]
        """;
        var (services, timeout) = IpvsJson.Deserialize(array);
        Assert.Null(timeout);
        Assert.Equal(2, services.Count);
        Assert.Equal(IpvsProtocol.Tcp, services[0].Protocol);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), services[0].Address);
        Assert.Null(services[0].RealServers); // stated no real servers: Sync keeps the current ones
        Assert.Equal(AddressFamily.InterNetworkV6, services[1].AddressFamily);
        Assert.Equal(new[] { "sh-port" }, services[1].SchedulerFlag);
        var rs = Assert.Single(services[1].RealServers!);
        Assert.Equal(IpvsForwardingMethod.Tunnel, rs.ForwardingMethod);
        Assert.Equal(IpvsTunnelType.Gue, rs.TunnelType);
        Assert.Equal(0u, rs.ActiveConnections); // counters are not read

        var (one, _) = IpvsJson.Deserialize("""{ "Protocol": "Udp", "Address": "2001:db8::53", "Port": 53 }""");
        Assert.Equal("UDP [2001:db8::53]:53", Assert.Single(one).ToString());

        // the configuration document reads as before: an omitted or null realServers is none
        var (doc, _) = IpvsJson.Deserialize("""{ "services": [ { "protocol": "tcp", "address": "192.0.2.1", "port": 80, "realServers": null } ] }""");
        Assert.Empty(Assert.Single(doc).RealServers!);
        Assert.Empty(IpvsJson.Deserialize("[]").Services);
        Assert.Throws<FormatException>(() => IpvsJson.Deserialize("""[ { "Address": "192.0.2.1", "Shceduler": "rr" } ]"""));
        Assert.Throws<FormatException>(() => IpvsJson.Deserialize("""{ "Address": "192.0.2.1", "SchedulerFlag": [], "schedulerFlags": [] }"""));
    }
}
