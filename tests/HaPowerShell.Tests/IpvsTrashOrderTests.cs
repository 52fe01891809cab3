using System.Net;
using System.Text;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Keepalived;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Health;
using HaPowerShell.Hosting.Keepalived;
using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Processes;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>
/// The order of a start's real-server additions and of a stop's service removals (IpvsTrashOrder), and hapd's IPVS
/// host using them against a kernel that keeps deleted real servers in a trash list as IPVS does.
/// </summary>
public class IpvsTrashOrderTests
{
    private static IpvsService Svc(int i) => new() { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse($"192.0.2.{i}"), Port = 80, Scheduler = "rr" };

    private static IpvsRules.ServiceKey Key(IpvsService s) => IpvsRules.ServiceKey.Of(s);

    [Fact]
    public void AddingTakesTheListedServicesInReverseThenTheUnlistedInTheirOrder()
    {
        var services = Enumerable.Range(1, 5).Select(Svc).ToList();
        // The dump lists 3, an unrelated service, 1, 5; 2 and 4 are not listed.
        var dump = new[] { Key(services[2]), Key(Svc(99)), Key(services[0]), Key(services[4]) };
        Assert.Equal(new[] { 4, 0, 2, 1, 3 }, IpvsTrashOrder.ServiceOrderForAdding(services, dump));
        Assert.Equal(new[] { 2, 0, 4, 1, 3 }, IpvsTrashOrder.ServiceOrderForRemoval(services, dump));
    }

    [Fact]
    public void AListedServicesKeyIsItsConfigurationsKey()
    {
        var services = new[]
        {
            Svc(1),
            new IpvsService { Protocol = IpvsProtocol.Udp, Address = IPAddress.Parse("2001:db8::5"), AddressFamily = System.Net.Sockets.AddressFamily.InterNetworkV6, Port = 53, Scheduler = "rr" },
            new IpvsService { FirewallMark = 7, AddressFamily = System.Net.Sockets.AddressFamily.InterNetworkV6, Scheduler = "wlc" },
        };
        foreach (var s in services)
            Assert.Equal(Key(s), IpvsRules.ServiceKey.Of(IpvsMapping.ToEntry(s)));
        Assert.NotEqual(Key(services[0]), IpvsRules.ServiceKey.Of(IpvsMapping.ToEntry(services[1])));
    }

    [Fact]
    public void EveryIndexAppearsOnceWhateverTheDumpHolds()
    {
        var services = Enumerable.Range(1, 4).Select(Svc).ToList();
        var twice = new[] { Key(services[1]), Key(services[1]), Key(services[3]) };
        Assert.Equal(new[] { 3, 1, 0, 2 }, IpvsTrashOrder.ServiceOrderForAdding(services, twice));
        Assert.Equal(new[] { 0, 1, 2, 3 }, IpvsTrashOrder.ServiceOrderForAdding(services, Array.Empty<IpvsRules.ServiceKey>()));
        Assert.Empty(IpvsTrashOrder.ServiceOrderForRemoval(Array.Empty<IpvsService>(), twice));
    }

    // ------------------------------------------------------------------ the host against a kernel with a trash list

    private sealed class Sink : IHostEventSink
    {
        public readonly List<HostLogEntry> Entries = new();
        public void VrrpStateChanged(HaPowerShell.Hosting.Vrrp.VrrpStateChangedEventArgs change) { }
        public void HealthCheckEvent(HealthCheckEvent e) { }
        public void Log(HostLogEntry entry) { lock (Entries) Entries.Add(entry); }
    }

    /// <summary>A kernel whose hash order is not the file's (a bucket from the address's last bytes, as IPVS's hash).</summary>
    private static FakeIpvsKernel Kernel() => new()
    {
        Bucket = e => e.FirewallMark != 0 ? (int)(e.FirewallMark * 7 % 32) : (e.Address!.GetAddressBytes()[^1] ^ (e.Address.GetAddressBytes()[^2] * 5) ^ e.Port) & 31,
    };

    private static KeepalivedIpvsHost Host(FakeIpvsKernel k, Sink sink)
    {
        var admin = new IpvsAdmin(k, FakeModules.Mainline);
        var checks = new HealthCheckHost(sink, () => admin, ProcessGroupRunner.Instance, LocalMiscCheck.Create, () => true);
        return new KeepalivedIpvsHost(sink, () => admin, checks, TimeSpan.Zero, () => DateTime.UtcNow);
    }

    /// <summary>200 TCP services with 2 real servers each (three of them fwmark services), and global_defs <paramref name="global"/>.</summary>
    private static KeepalivedIpvsPlan Plan(string global = "")
    {
        var sb = new StringBuilder($"global_defs {{\n    router_id t\n{global}}}\n");
        for (int i = 0; i < 200; i++)
        {
            string head = i % 70 == 5 ? $"virtual_server fwmark {i + 1}" : $"virtual_server 10.1.{i / 256}.{i % 256} 80";
            sb.Append($"{head} {{\n    lb_algo rr\n    lb_kind NAT\n{(i % 70 == 5 ? "" : "    protocol TCP\n")}");
            sb.Append($"    real_server 172.16.{i / 256}.{i % 256} 8080 {{\n        weight 1\n    }}\n");
            sb.Append($"    real_server 172.17.{i / 256}.{i % 256} 8080 {{\n        weight 2\n    }}\n}}\n");
        }
        var parse = KeepalivedParser.ParseText(sb.ToString(), "/k.conf");
        Assert.Empty(parse.Errors.Select(f => f.Message));
        var plan = KeepalivedRuntimePlan.From(parse.Configuration, vrrp: false, checkers: true);
        Assert.Empty(plan.Errors.Select(e => e.Message));
        Assert.Equal(200, plan.Ipvs.Services.Count);
        return plan.Ipvs;
    }

    [Fact]
    public void ARestartAfterAFlushTakesEveryRealServerFromTheHeadOfTheTrashList()
    {
        var k = Kernel();
        var plan = Plan();
        var sink = new Sink();
        using (var first = Host(k, sink)) { first.ReleaseOnStop = false; first.Start(plan, reconcile: false); }
        string table = k.Dump();
        k.Flush();
        Assert.Equal(400, k.TrashCount);
        k.TrashSteps = 0;
        using var again = Host(k, sink);
        again.ReleaseOnStop = false;
        var r = again.Start(plan, reconcile: false);
        Assert.Equal((600, 600, 0), (r.Sent, r.Applied, r.Failed));
        Assert.Equal(table, k.Dump());
        Assert.Equal(400, k.TrashHits);
        Assert.Equal(0, k.TrashSteps);
    }

    [Fact]
    public void TheFilesOrderSearchesTheTrashList()
    {
        // What a start did before (and ipvsadm -R does): the real servers in the file's order, each one searched for.
        var k = Kernel();
        var plan = Plan();
        var admin = new IpvsAdmin(k, FakeModules.Mainline);
        void Add()
        {
            foreach (var s in plan.Services) _ = admin.AddService(s);
            foreach (var s in plan.Services)
                foreach (var r in s.RealServers!) _ = admin.AddRealServer(s, r);
        }
        Add();
        k.Flush();
        k.TrashSteps = 0;
        Add();
        Assert.Equal(400, k.TrashHits);
        Assert.True(k.TrashSteps > 20_000, $"{k.TrashSteps} steps");
    }

    [Fact]
    public void AStopRemovesTheConfigurationsServicesSoThatTheNextStartFindsItsRealServersAtOnce()
    {
        var k = Kernel();
        var plan = Plan();
        var sink = new Sink();
        var other = new IpvsServiceEntry { Family = 2, Protocol = 17, Address = IPAddress.Parse("198.51.100.1"), Port = 53, Scheduler = "rr" };
        k.NewService(other);
        using (var first = Host(k, sink)) first.Start(plan, reconcile: false);
        Assert.Equal(new[] { "198.51.100.1" }, k.GetServices().Select(s => s.Address!.ToString()));
        Assert.Contains(sink.Entries, e => e.Message.StartsWith("Removed the configuration's 200 IPVS service(s) in ", StringComparison.Ordinal));
        k.TrashSteps = 0;
        using var again = Host(k, sink);
        again.Start(plan, reconcile: false);
        Assert.Equal(400, k.TrashHits);
        Assert.Equal(0, k.TrashSteps);
    }

    [Fact]
    public void WithoutReleaseTheTableStaysAndLvsFlushOnStopClearsIt()
    {
        var k = Kernel();
        var sink = new Sink();
        var other = new IpvsServiceEntry { Family = 2, Protocol = 17, Address = IPAddress.Parse("198.51.100.1"), Port = 53, Scheduler = "rr" };
        k.NewService(other);
        using (var kept = Host(k, sink)) { kept.ReleaseOnStop = false; kept.Start(Plan(), reconcile: false); }
        Assert.Equal(201, k.GetServices().Count);

        var flushing = Plan("    lvs_flush_onstop\n");
        Assert.True(flushing.FlushOnStop);
        Assert.False(Plan("    lvs_flush_onstop VS\n").FlushOnStop);
        using (var h = Host(k, sink)) h.Start(flushing, reconcile: false);
        Assert.Empty(k.GetServices());
        Assert.Contains(sink.Entries, e => e.Message.StartsWith("lvs_flush_onstop: IPVS table flushed in ", StringComparison.Ordinal));
    }
}
