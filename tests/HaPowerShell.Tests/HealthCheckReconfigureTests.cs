using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Health;
using HaPowerShell.Native.Processes;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The pure diff of two sets of checker definitions.</summary>
public class HealthCheckReconfigurePlanTests
{
    private static HealthCheckDefinition Def(string name, int port, double delayLoop = 5) => new()
    {
        Name = name,
        RealServers = new[] { new IpvsRealServer { Address = IPAddress.Loopback, Port = (ushort)port, Weight = 1 } },
        Policy = new CheckerPolicy { DelayLoopSeconds = delayLoop, MonitorOnly = true },
    };

    [Fact]
    public void MatchesByNameAndSortsRemovedReplacedUnchangedAdded()
    {
        var plan = HealthCheckReconfigurePlan.Compute(
            new[] { Def("a", 1), Def("b", 2), Def("c", 3) },
            new[] { Def("d", 4), Def("c", 3, delayLoop: 6), Def("b", 2) });
        Assert.Equal(new[] { ("a", HealthCheckChange.Removed), ("c", HealthCheckChange.Replaced), ("b", HealthCheckChange.Unchanged), ("d", HealthCheckChange.Added) },
            plan.Items.Select(i => (i.Name, i.Change)));
        Assert.Equal(new[] { "DelayLoop" }, plan.Items.Single(i => i.Name == "c").ChangedSettings);
        Assert.Empty(plan.Items.Single(i => i.Name == "b").ChangedSettings);
    }

    [Fact]
    public void SameSettingsInNewObjectsAreUnchanged()
    {
        var a = Def("a", 80) with { CheckTypes = new[] { HealthCheckType.Tcp, HealthCheckType.Http }, StatusCodes = StatusCodeSet.Parse("200-299,301"), ArgumentList = new[] { "x" } };
        var b = Def("a", 80) with { CheckTypes = new[] { HealthCheckType.Tcp, HealthCheckType.Http }, StatusCodes = StatusCodeSet.Parse("200-299", "301"), ArgumentList = new[] { "x" } };
        Assert.Empty(a.Differences(b));
        Assert.Equal(HealthCheckChange.Unchanged, HealthCheckReconfigurePlan.Compute(new[] { a }, new[] { b }).Items.Single().Change);
    }

    [Theory]
    [InlineData("Port")]
    [InlineData("RealServers")]
    [InlineData("Quorum")]
    [InlineData("NotifyUp")]
    [InlineData("SorryServer")]
    [InlineData("CheckTypes")]
    public void EverySettingCounts(string field)
    {
        var a = Def("a", 80);
        var b = field switch
        {
            "Port" => a with { Port = 81 },
            "RealServers" => a with { RealServers = new[] { new IpvsRealServer { Address = IPAddress.Loopback, Port = 80, Weight = 2 } } },
            "Quorum" => a with { Policy = new CheckerPolicy { DelayLoopSeconds = 5, MonitorOnly = true, Quorum = 2 } },
            "NotifyUp" => a with { Policy = new CheckerPolicy { DelayLoopSeconds = 5, MonitorOnly = true, NotifyUp = "true" } },
            "SorryServer" => a with { SorryServer = IPAddress.Parse("192.0.2.99") },
            _ => a with { CheckTypes = new[] { HealthCheckType.Http } },
        };
        Assert.Equal(new[] { field }, a.Differences(b));
    }

    [Fact]
    public void ANameGivenTwiceIsRefused()
    {
        var e = Assert.Throws<HealthCheckException>(() => HealthCheckReconfigurePlan.Compute(Array.Empty<HealthCheckDefinition>(), new[] { Def("a", 1), Def("a", 2) }));
        Assert.Equal("DuplicateHealthCheckName", e.ErrorId);
    }
}

/// <summary>The health-check host against loopback listeners (monitor only: IPVS is not touched).</summary>
public class HealthCheckHostTests
{
    private sealed class Sink : IHostEventSink
    {
        public readonly List<HealthCheckEvent> Events = new();
        public readonly List<HostLogEntry> Entries = new();
        public void VrrpStateChanged(HaPowerShell.Hosting.Vrrp.VrrpStateChangedEventArgs change) { }
        public void HealthCheckEvent(HealthCheckEvent e) { lock (Events) Events.Add(e); }
        public void Log(HostLogEntry entry) { lock (Entries) Entries.Add(entry); }
    }

    private static HealthCheckHost NewHost(Sink sink)
        => new(sink, () => throw new InvalidOperationException("IPVS is not used by monitor-only checkers"), ProcessGroupRunner.Instance, LocalMiscCheck.Create, () => false);

    private static HealthCheckDefinition Def(string name, int port, double delayLoop = 0.1, string? notifyUp = null) => new()
    {
        Name = name,
        RealServers = new[] { new IpvsRealServer { Address = IPAddress.Loopback, Port = (ushort)port, Weight = 1 } },
        Policy = new CheckerPolicy { DelayLoopSeconds = delayLoop, MonitorOnly = true, NotifyUp = notifyUp },
        NotifyTimeoutSeconds = 1,
    };

    /// <summary>A loopback TCP listener that accepts nothing (connects succeed on the backlog).</summary>
    private static (TcpListener Listener, int Port) Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return (listener, ((IPEndPoint)listener.LocalEndpoint).Port);
    }

    private static void WaitUntil(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < until) Thread.Sleep(20);
        Assert.True(condition(), "not within 10 s");
    }

    [Fact]
    public void ReconfigureKeepsUnchangedCheckersRunningAndReplacesOnlyTheChangedOnes()
    {
        var (listener, port) = Listen();
        var sink = new Sink();
        using var host = NewHost(sink);
        try
        {
            var keep = host.Start(Def("keep", port));
            var change = host.Start(Def("change", port));
            var drop = host.Start(Def("drop", port));
            WaitUntil(() => keep.Info().Checks >= 3);

            var result = host.Reconfigure(new[] { Def("keep", port), Def("change", port, delayLoop: 0.2), Def("new", port) });

            Assert.Equal(new[] { ("drop", HealthCheckChange.Removed), ("change", HealthCheckChange.Replaced), ("keep", HealthCheckChange.Unchanged), ("new", HealthCheckChange.Added) },
                result.Plan.Items.Select(i => (i.Name, i.Change)));
            var running = host.Checks.ToDictionary(c => c.Name);
            Assert.Equal(new[] { "change", "keep", "new" }, running.Keys.OrderBy(k => k));
            Assert.Same(keep, running["keep"]);                       // the same checker, its state and counters go on
            Assert.True(keep.Runner.IsRunning);
            long before = keep.Info().Checks;
            Assert.True(before >= 3);
            Assert.NotSame(change, running["change"]);
            Assert.NotEqual(change.Id, running["change"].Id);
            Assert.Equal(0.2, running["change"].Runner.Checker.Policy.DelayLoopSeconds);
            Assert.False(change.Runner.IsRunning);
            Assert.False(drop.Runner.IsRunning);
            WaitUntil(() => keep.Info().Checks > before);
        }
        finally { listener.Stop(); }
    }

    [Fact]
    public void AnInvalidNewDefinitionChangesNothing()
    {
        var sink = new Sink();
        using var host = NewHost(sink);
        var keep = host.Start(Def("keep", 9));
        var bad = Def("bad", 9) with { CheckTypes = new[] { HealthCheckType.Misc } }; // no MiscPath
        var e = Assert.Throws<HealthCheckException>(() => host.Reconfigure(new[] { bad }));
        Assert.Equal("ScriptNotFound", e.ErrorId);
        Assert.Same(keep, Assert.Single(host.Checks));
        Assert.True(keep.Runner.IsRunning);
    }

    [Fact]
    public void ANotifyScriptThatFailsIsReportedToTheSinkAndTheTimeoutIsTheDefinitions()
    {
        var (listener, port) = Listen();
        var sink = new Sink();
        using var host = NewHost(sink);
        try
        {
            // alpha: DOWN first, so the first good check brings it UP and notify_up runs (30 s to end: on a loaded
            // machine noticing the script's exit can take a second, and the test is about its exit status)
            var def = Def("notify", port, notifyUp: "exit 3") with { Policy = new CheckerPolicy { DelayLoopSeconds = 0.1, MonitorOnly = true, Alpha = true, NotifyUp = "exit 3" }, NotifyTimeoutSeconds = 30 };
            host.Start(def);
            WaitUntil(() => { lock (sink.Entries) return sink.Entries.Any(l => l.Message.Contains("exit status 3")); });
            var hang = Def("hang", port) with { Policy = new CheckerPolicy { DelayLoopSeconds = 0.1, MonitorOnly = true, Alpha = true, NotifyUp = "sleep 30" }, NotifyTimeoutSeconds = 0.3 };
            var started = DateTime.UtcNow;
            host.Start(hang);
            WaitUntil(() => { lock (sink.Entries) return sink.Entries.Any(l => l.Subject == "hang" && l.Message.Contains("longer than 0.3 s")); });
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
            Assert.All(sink.Entries, l => Assert.Equal("HealthCheck", l.Source));
        }
        finally { listener.Stop(); }
    }
}
