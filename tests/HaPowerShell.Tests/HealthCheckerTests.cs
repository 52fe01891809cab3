using System.Net;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting.Health;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The checker state machine and quorum under a fake clock (the test says what time it is).</summary>
public class HealthCheckerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly IpvsService Svc = new() { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("203.0.113.10"), Port = 80 };

    private static IpvsRealServer Rs(int i, int weight = 1)
        => new() { Service = Svc, Address = IPAddress.Parse($"192.0.2.{10 + i}"), Port = 8080, Weight = weight, ForwardingMethod = IpvsForwardingMethod.Masquerade };

    private static HealthCheckResult Ok(int? weight = null) => new CheckErrorResult { Success = true, Weight = weight };
    private static HealthCheckResult Fail() => new CheckErrorResult { Success = false, Message = "refused" };

    /// <summary>IPVS in memory: endpoint → weight.</summary>
    private sealed class FakeIpvs
    {
        public readonly Dictionary<string, int> Table = new();
        public readonly List<string> Log = new();
        public void Apply(CheckerStep step)
        {
            foreach (var a in step.Actions)
            {
                Log.Add(a.ToString());
                if (a.Weight is int w) Table[a.Server.Endpoint] = w; else Table.Remove(a.Server.Endpoint);
            }
        }
    }

    private static (HealthChecker C, FakeIpvs Ipvs) Make(CheckerPolicy p, params IpvsRealServer[] servers)
    {
        var c = new HealthChecker("t", Svc, servers, p, random: () => 0.5);
        var ipvs = new FakeIpvs();
        ipvs.Apply(c.Start(T0));
        return (c, ipvs);
    }

    /// <summary>Runs every check due at <paramref name="at"/> with the given outcome per endpoint.</summary>
    private static List<HealthCheckEvent> Tick(HealthChecker c, FakeIpvs ipvs, DateTimeOffset at, Func<RealServerHealth, HealthCheckResult> outcome)
    {
        var events = new List<HealthCheckEvent>();
        foreach (var s in c.TakeDue(at))
        {
            var step = c.Complete(s, outcome(s), at);
            ipvs.Apply(step);
            events.AddRange(step.Events);
        }
        return events;
    }

    private static DateTimeOffset At(double seconds) => T0 + TimeSpan.FromSeconds(seconds);

    [Fact]
    public void StartsUpAndPutsConfiguredWeightsIn()
    {
        var (c, ipvs) = Make(new CheckerPolicy { DelayLoopSeconds = 10 }, Rs(1, 3), Rs(2, 5));
        Assert.All(c.RealServers, s => Assert.Equal(RealServerHealthState.Up, s.State));
        Assert.Equal(3, ipvs.Table["192.0.2.11:8080"]);
        Assert.Equal(5, ipvs.Table["192.0.2.12:8080"]);
        Assert.True(c.QuorumUp);
        Assert.Equal(8, c.WeightSum);
        Assert.Equal(At(0), c.NextDue); // no warmup: first checks at once
    }

    [Fact]
    public void WarmupSpreadsTheFirstCheck()
    {
        var c = new HealthChecker("t", Svc, new[] { Rs(1) }, new CheckerPolicy { WarmupSeconds = 8 }, random: () => 0.25);
        c.Start(T0);
        Assert.Equal(At(2), c.NextDue);
        Assert.Empty(c.TakeDue(At(1.9)));
        Assert.Single(c.TakeDue(At(2)));
    }

    [Fact]
    public void AlphaStartsDownAndOutOfTheService()
    {
        var (c, ipvs) = Make(new CheckerPolicy { Alpha = true }, Rs(1));
        Assert.Equal(RealServerHealthState.Down, c.RealServers[0].State);
        Assert.Empty(ipvs.Table);
        Assert.Contains("remove 192.0.2.11:8080", ipvs.Log);
        var ev = Tick(c, ipvs, At(0), _ => Ok());
        Assert.Contains(ev, e => e.Kind == HealthCheckEventKind.RealServerUp && e.OldState == RealServerHealthState.Down);
        Assert.Equal(1, ipvs.Table["192.0.2.11:8080"]);
    }

    [Fact]
    public void DownOnlyAfterAllRetriesThenRemovedWithinTheBound()
    {
        var p = new CheckerPolicy { DelayLoopSeconds = 6, Retry = 2, DelayBeforeRetrySeconds = 1 };
        var (c, ipvs) = Make(p, Rs(1), Rs(2));
        Tick(c, ipvs, At(0), _ => Ok());
        Assert.Equal(At(6), c.NextDue);
        // rs1's listener stops just after t=0: attempts at 6, 7, 8 fail
        Func<RealServerHealth, HealthCheckResult> rs1Dead = s => s.Index == 0 ? Fail() : Ok();
        Assert.Empty(Tick(c, ipvs, At(6), rs1Dead));
        Assert.Equal(RealServerHealthState.Up, c.RealServers[0].State);
        Assert.Equal(1, c.RealServers[0].FailedAttempts);
        Assert.Equal(At(7), c.RealServers[0].NextCheck);
        Assert.Empty(Tick(c, ipvs, At(7), rs1Dead));
        var ev = Tick(c, ipvs, At(8), rs1Dead);
        var down = Assert.Single(ev);
        Assert.Equal(HealthCheckEventKind.RealServerDown, down.Kind);
        Assert.Equal("refused", down.Message);
        Assert.False(ipvs.Table.ContainsKey("192.0.2.11:8080"));
        Assert.True(ipvs.Table.ContainsKey("192.0.2.12:8080"));
        // bound: delay_loop + retry * delay_before_retry after the last success
        Assert.True(At(8) - At(0) <= TimeSpan.FromSeconds(p.DelayLoopSeconds + p.Retry * p.DelayBeforeRetrySeconds));
        Assert.Equal(At(14), c.RealServers[0].NextCheck); // DOWN: back to delay_loop
        Assert.Equal(1, c.WeightSum);
    }

    [Fact]
    public void ADownServerIsCheckedEveryDelayLoopWithoutRetries()
    {
        var (c, ipvs) = Make(new CheckerPolicy { DelayLoopSeconds = 5, Retry = 3, DelayBeforeRetrySeconds = 1, Alpha = true }, Rs(1));
        Tick(c, ipvs, At(0), _ => Fail());
        Assert.Equal(At(5), c.RealServers[0].NextCheck);
        Assert.Equal(0, c.RealServers[0].FailedAttempts);
    }

    [Fact]
    public void OneSuccessBetweenFailuresResetsTheRetries()
    {
        var (c, ipvs) = Make(new CheckerPolicy { DelayLoopSeconds = 5, Retry = 1, DelayBeforeRetrySeconds = 1 }, Rs(1));
        Tick(c, ipvs, At(0), _ => Fail());
        Tick(c, ipvs, At(1), _ => Ok());
        Assert.Equal(0, c.RealServers[0].FailedAttempts);
        Tick(c, ipvs, At(6), _ => Fail());
        Assert.Equal(RealServerHealthState.Up, c.RealServers[0].State);
        Assert.Contains(Tick(c, ipvs, At(7), _ => Fail()), e => e.Kind == HealthCheckEventKind.RealServerDown);
        Assert.Equal(RealServerHealthState.Down, c.RealServers[0].State);
    }

    [Fact]
    public void RecoveryRestoresTheConfiguredWeight()
    {
        var (c, ipvs) = Make(new CheckerPolicy { DelayLoopSeconds = 5, Retry = 0 }, Rs(1, 7), Rs(2, 1));
        Tick(c, ipvs, At(0), s => s.Index == 0 ? Fail() : Ok());
        Assert.False(ipvs.Table.ContainsKey("192.0.2.11:8080"));
        var ev = Tick(c, ipvs, At(5), _ => Ok());
        Assert.Contains(ev, e => e.Kind == HealthCheckEventKind.RealServerUp && e.Weight == 7);
        Assert.Equal(7, ipvs.Table["192.0.2.11:8080"]);
        Assert.Equal(8, c.WeightSum);
    }

    [Fact]
    public void InhibitOnFailureSetsWeightZeroInsteadOfRemoving()
    {
        var (c, ipvs) = Make(new CheckerPolicy { DelayLoopSeconds = 5, Retry = 0, InhibitOnFailure = true }, Rs(1, 4), Rs(2));
        Tick(c, ipvs, At(0), s => s.Index == 0 ? Fail() : Ok());
        Assert.Equal(0, ipvs.Table["192.0.2.11:8080"]);
        Tick(c, ipvs, At(5), _ => Ok());
        Assert.Equal(4, ipvs.Table["192.0.2.11:8080"]);
        Assert.Contains("set 192.0.2.11:8080 weight 0", ipvs.Log);
    }

    [Fact]
    public void AlphaWithInhibitStartsAtWeightZero()
    {
        var (_, ipvs) = Make(new CheckerPolicy { Alpha = true, InhibitOnFailure = true }, Rs(1, 4));
        Assert.Equal(0, ipvs.Table["192.0.2.11:8080"]);
    }

    [Fact]
    public void MiscDynamicChangesTheWeightOfAnUpServer()
    {
        var (c, ipvs) = Make(new CheckerPolicy { DelayLoopSeconds = 5 }, Rs(1, 2), Rs(2, 2));
        var ev = Tick(c, ipvs, At(0), s => s.Index == 0 ? Ok(weight: 10) : Ok());
        var w = Assert.Single(ev);
        Assert.Equal(HealthCheckEventKind.WeightChanged, w.Kind);
        Assert.Equal(10, ipvs.Table["192.0.2.11:8080"]);
        Assert.Equal(12, c.WeightSum);
        Assert.Empty(Tick(c, ipvs, At(5), s => s.Index == 0 ? Ok() : Ok())); // exit 0 keeps the dynamic weight
        Assert.Equal(10, ipvs.Table["192.0.2.11:8080"]);
    }

    [Fact]
    public void MiscDynamicWeightOnRecoveryIsUsedInsteadOfTheConfiguredOne()
    {
        var (c, ipvs) = Make(new CheckerPolicy { DelayLoopSeconds = 5, Alpha = true }, Rs(1, 2));
        Tick(c, ipvs, At(0), _ => Ok(weight: 33));
        Assert.Equal(33, ipvs.Table["192.0.2.11:8080"]);
    }

    [Fact]
    public void NoEventsWhileNothingChanges()
    {
        var (c, ipvs) = Make(new CheckerPolicy { DelayLoopSeconds = 1 }, Rs(1), Rs(2));
        ipvs.Log.Clear();
        for (int t = 0; t < 20; t++) Assert.Empty(Tick(c, ipvs, At(t), _ => Ok()));
        Assert.Empty(ipvs.Log);
        Assert.Equal(20, c.RealServers[0].Checks);
    }

    [Fact]
    public void LosingQuorumBringsInTheSorryServerAndRecoveringRemovesIt()
    {
        var sorry = new IpvsRealServer { Service = Svc, Address = IPAddress.Parse("192.0.2.99"), Port = 8080, Weight = 1 };
        var p = new CheckerPolicy { DelayLoopSeconds = 5, Retry = 0, Quorum = 2, SorryServer = sorry };
        var (c, ipvs) = Make(p, Rs(1), Rs(2));
        Assert.True(c.QuorumUp);
        Assert.False(ipvs.Table.ContainsKey("192.0.2.99:8080"));
        ipvs.Log.Clear();

        var ev = Tick(c, ipvs, At(0), s => s.Index == 0 ? Fail() : Ok());
        Assert.Contains(ev, e => e.Kind == HealthCheckEventKind.QuorumDown);
        Assert.False(c.QuorumUp);
        Assert.True(c.SorryServerActive);
        // the sorry server comes in first, then the real servers leave
        Assert.Equal("set 192.0.2.99:8080 weight 1", ipvs.Log[0]);
        Assert.Equal(new[] { "192.0.2.99:8080" }, ipvs.Table.Keys.ToArray());

        ipvs.Log.Clear();
        ev = Tick(c, ipvs, At(5), _ => Ok());
        Assert.Contains(ev, e => e.Kind == HealthCheckEventKind.QuorumUp);
        Assert.False(ipvs.Table.ContainsKey("192.0.2.99:8080"));
        Assert.Equal(2, ipvs.Table.Count);
        Assert.Equal("remove 192.0.2.99:8080", ipvs.Log[^1]); // real servers back before the sorry server leaves
    }

    [Fact]
    public void ASorryServerTheKernelRefusedIsNotReportedActiveUntilARetryGetsItIn()
    {
        var sorry = new IpvsRealServer { Service = Svc, Address = IPAddress.Parse("192.0.2.99"), Port = 8080, Weight = 1 };
        var (c, ipvs) = Make(new CheckerPolicy { DelayLoopSeconds = 5, Retry = 0, Quorum = 2, SorryServer = sorry }, Rs(1), Rs(2));
        HealthCheckEvent? refused = null;
        foreach (var s in c.TakeDue(At(0)))
        {
            var step = c.Complete(s, s.Index == 0 ? Fail() : Ok(), At(0));
            foreach (var a in step.Actions)
                if (a.IsSorryServer) refused = c.ActionFailed(a, new InvalidOperationException("Address family not supported"), At(0));
                else ipvs.Apply(new CheckerStep { Actions = { a } });
        }
        Assert.NotNull(refused);
        Assert.Equal(HealthCheckEventKind.IpvsError, refused!.Kind);
        Assert.False(c.QuorumUp);
        Assert.False(c.SorryServerActive); // asked for, refused: not in
        var retry = c.Retry();
        Assert.Contains(retry.Actions, a => a.IsSorryServer && a.Weight == 1);
        ipvs.Apply(retry);
        Assert.True(c.SorryServerActive);
        Assert.True(ipvs.Table.ContainsKey("192.0.2.99:8080"));
    }

    [Fact]
    public void HysteresisKeepsTheQuorumStateBetweenTheBounds()
    {
        var sorry = new IpvsRealServer { Service = Svc, Address = IPAddress.Parse("192.0.2.99"), Port = 8080, Weight = 1 };
        var p = new CheckerPolicy { DelayLoopSeconds = 5, Retry = 0, Quorum = 3, Hysteresis = 1, SorryServer = sorry };
        var (c, ipvs) = Make(p, Rs(1), Rs(2), Rs(3), Rs(4)); // sum 4
        Tick(c, ipvs, At(0), s => s.Index == 0 ? Fail() : Ok()); // 3: stays up
        Assert.True(c.QuorumUp);
        Tick(c, ipvs, At(5), s => s.Index <= 1 ? Fail() : Ok()); // 2 = quorum - hysteresis: not below, stays up
        Assert.True(c.QuorumUp);
        Tick(c, ipvs, At(10), s => s.Index <= 2 ? Fail() : Ok()); // 1 < 2: lost
        Assert.False(c.QuorumUp);
        Assert.True(ipvs.Table.ContainsKey("192.0.2.99:8080"));
        Tick(c, ipvs, At(15), s => s.Index <= 1 ? Fail() : Ok()); // 2: not yet 4
        Assert.False(c.QuorumUp);
        Assert.Single(ipvs.Table); // UP servers stay out while quorum is lost
        Tick(c, ipvs, At(20), s => s.Index == 0 ? Fail() : Ok()); // 3 < 4: still lost
        Assert.False(c.QuorumUp);
        Tick(c, ipvs, At(25), _ => Ok()); // 4: regained
        Assert.True(c.QuorumUp);
        Assert.Equal(4, ipvs.Table.Count);
        Assert.False(ipvs.Table.ContainsKey("192.0.2.99:8080"));
    }

    [Fact]
    public void QuorumIsLostWhenNothingIsUpWithoutASorryServerToo()
    {
        var (c, ipvs) = Make(new CheckerPolicy { Retry = 0 }, Rs(1));
        var ev = Tick(c, ipvs, At(0), _ => Fail());
        Assert.Contains(ev, e => e.Kind == HealthCheckEventKind.QuorumDown);
        Assert.Empty(ipvs.Table);
    }

    [Fact]
    public void AlphaWithASorryServerStartsWithTheSorryServer()
    {
        var sorry = new IpvsRealServer { Service = Svc, Address = IPAddress.Parse("192.0.2.99"), Port = 8080, Weight = 2 };
        var (c, ipvs) = Make(new CheckerPolicy { Alpha = true, SorryServer = sorry }, Rs(1));
        Assert.False(c.QuorumUp);
        Assert.Equal(2, ipvs.Table["192.0.2.99:8080"]);
        Tick(c, ipvs, At(0), _ => Ok());
        Assert.True(c.QuorumUp);
        Assert.Equal(new[] { "192.0.2.11:8080" }, ipvs.Table.Keys.ToArray());
    }

    [Fact]
    public void OmegaOnStopTakesEverythingDown()
    {
        var sorry = new IpvsRealServer { Service = Svc, Address = IPAddress.Parse("192.0.2.99"), Port = 8080, Weight = 1 };
        var (c, ipvs) = Make(new CheckerPolicy { Omega = true, Retry = 0, Quorum = 2, SorryServer = sorry }, Rs(1), Rs(2));
        Tick(c, ipvs, At(0), s => s.Index == 0 ? Fail() : Ok());
        var stop = c.Stop(At(1));
        ipvs.Apply(stop);
        Assert.Single(stop.Events, e => e.Kind == HealthCheckEventKind.RealServerDown); // only rs2 was UP
        Assert.Empty(ipvs.Table);
        Assert.Null(c.NextDue);
    }

    [Fact]
    public void StopWithoutOmegaLeavesIpvsAlone()
    {
        var (c, ipvs) = Make(new CheckerPolicy(), Rs(1));
        var stop = c.Stop(At(1));
        Assert.True(stop.IsEmpty);
        Assert.Single(ipvs.Table);
    }

    [Fact]
    public void MonitorOnlyNeverChangesIpvs()
    {
        var (c, ipvs) = Make(new CheckerPolicy { MonitorOnly = true, Retry = 0, Alpha = true }, Rs(1));
        var ev = Tick(c, ipvs, At(0), _ => Ok());
        Assert.Contains(ev, e => e.Kind == HealthCheckEventKind.RealServerUp);
        Assert.Empty(ipvs.Log);
    }

    [Fact]
    public void AFailedIpvsChangeIsRetried()
    {
        var (c, ipvs) = Make(new CheckerPolicy { Retry = 0, DelayLoopSeconds = 5 }, Rs(1), Rs(2));
        foreach (var s in c.TakeDue(At(0)))
        {
            var step = c.Complete(s, s.Index == 0 ? Fail() : Ok(), At(0));
            foreach (var a in step.Actions)
            {
                var ev = c.ActionFailed(a, new InvalidOperationException("netlink busy"), At(0)); // nothing applied
                Assert.Equal(HealthCheckEventKind.IpvsError, ev.Kind);
                Assert.Contains("netlink busy", ev.Message);
            }
        }
        Assert.True(ipvs.Table.ContainsKey("192.0.2.11:8080"));
        ipvs.Apply(c.Retry());
        Assert.False(ipvs.Table.ContainsKey("192.0.2.11:8080"));
        Assert.Empty(c.Retry().Actions);
    }

    [Fact]
    public void LatenessIsMeasuredFromTheDueTime()
    {
        var (c, _) = Make(new CheckerPolicy { DelayLoopSeconds = 1 }, Rs(1));
        var s = Assert.Single(c.TakeDue(At(0.25)));
        c.Started(s, At(0.3));
        Assert.Equal(TimeSpan.FromSeconds(0.3), s.MaxLateness);
        var h = c.LatenessHistogram();
        Assert.Equal(1, h[300]);
        Assert.Equal(1, h.Sum());
    }

    [Fact]
    public void LatenessBucketsCoverEveryMillisecondAndOneSecondOrMore()
    {
        var (c, _) = Make(new CheckerPolicy { DelayLoopSeconds = 1 }, Rs(1));
        var s = c.RealServers[0];
        var due = s.NextCheck;
        foreach (double ms in new[] { -5.0, 0, 63, 64, 127, 128, 999, 1000, 4000 })
            c.Started(s, due + TimeSpan.FromMilliseconds(ms));
        var h = c.LatenessHistogram();
        Assert.Equal(HealthChecker.LatenessBuckets, h.Length);
        Assert.Equal(2, h[0]); // early counts as on time
        foreach (int b in new[] { 63, 64, 127, 128, 999 }) Assert.Equal(1, h[b]);
        Assert.Equal(2, h[1000]); // 1 s or more
        Assert.Equal(9, h.Sum());
    }

    [Fact]
    public void AResultForACheckNotInFlightIsIgnored()
    {
        var (c, ipvs) = Make(new CheckerPolicy { Retry = 0 }, Rs(1));
        var step = c.Complete(c.RealServers[0], Fail(), At(0));
        Assert.True(step.IsEmpty);
        Assert.Equal(RealServerHealthState.Up, c.RealServers[0].State);
    }

    [Theory]
    [InlineData(0, 1, 1, 0, "InvalidDelayLoop")]
    [InlineData(1, -1, 1, 0, null)]
    [InlineData(1, 1, 0, 0, "InvalidQuorum")]
    [InlineData(1, 1, 2, 2, "InvalidHysteresis")]
    public void PolicyIsValidated(double delayLoop, int retry, int quorum, int hysteresis, string? id)
    {
        var p = new CheckerPolicy { DelayLoopSeconds = delayLoop, Retry = retry, Quorum = quorum, Hysteresis = hysteresis };
        var e = Assert.Throws<HealthCheckException>(p.Validate);
        if (id is not null) Assert.Equal(id, e.ErrorId);
    }

    [Fact]
    public void DuplicateRealServersAreRefused()
    {
        var e = Assert.Throws<HealthCheckException>(() => new HealthChecker("t", Svc, new[] { Rs(1), Rs(1) }, new CheckerPolicy()));
        Assert.Equal("DuplicateRealServer", e.ErrorId);
    }
}

/// <summary>The runner in real time with fake checks and an in-memory IPVS.</summary>
public class HealthCheckRunnerTests
{
    private sealed class FlagCheck : IHealthCheck
    {
        public volatile bool Healthy = true;
        public int Runs;
        public string Target => "fake";
        public Task<HealthCheckResult> RunAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref Runs);
            return Task.FromResult<HealthCheckResult>(new CheckErrorResult { Success = Healthy, Message = Healthy ? null : "down" });
        }
    }

    private sealed class MemoryIpvs : IIpvsHealthActions
    {
        public readonly Dictionary<string, int> Table = new();
        public void SetRealServer(IpvsService service, IpvsRealServer server, int weight) { lock (Table) Table[server.Endpoint] = weight; }
        public void RemoveRealServer(IpvsService service, IpvsRealServer server) { lock (Table) Table.Remove(server.Endpoint); }
        public bool Has(string e) { lock (Table) return Table.ContainsKey(e); }
    }

    [Fact]
    public async Task RunsChecksTakesAServerOutAndBackAndPublishesEvents()
    {
        var svc = new IpvsService { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("203.0.113.10"), Port = 80 };
        var rs = new[] { 1, 2 }.Select(i => new IpvsRealServer { Service = svc, Address = IPAddress.Parse($"192.0.2.{i}"), Port = 80, Weight = 3 }).ToArray();
        var checks = rs.Select(_ => new FlagCheck()).ToArray();
        var checker = new HealthChecker("r", svc, rs, new CheckerPolicy { DelayLoopSeconds = 0.05, Retry = 1, DelayBeforeRetrySeconds = 0.02 });
        var ipvs = new MemoryIpvs();
        var runner = new HealthCheckRunner(checker, s => checks[s.Index], ipvs);
        var events = new List<HealthCheckEvent>();
        runner.EventSink = e => { lock (events) events.Add(e); };
        bool HasEvent(HealthCheckEventKind kind) { lock (events) return events.Any(e => e.Kind == kind && e.Address!.Equals(rs[0].Address)); }
        runner.Start();
        try
        {
            await WaitFor(() => checks[0].Runs >= 2);
            Assert.True(ipvs.Has("192.0.2.1:80"));
            checks[0].Healthy = false;
            await WaitFor(() => !ipvs.Has("192.0.2.1:80"));
            checks[0].Healthy = true;
            // The runner changes the table under its lock and publishes the event after it: wait for the event too.
            await WaitFor(() => ipvs.Has("192.0.2.1:80") && HasEvent(HealthCheckEventKind.RealServerUp));
            Assert.Equal(3, ipvs.Table["192.0.2.1:80"]);
            lock (events)
            {
                Assert.Contains(events, e => e.Kind == HealthCheckEventKind.RealServerDown && e.Address!.Equals(rs[0].Address));
                Assert.Contains(events, e => e.Kind == HealthCheckEventKind.RealServerUp && e.Address!.Equals(rs[0].Address));
            }
            Assert.Contains(runner.RecentEvents(), e => e.Kind == HealthCheckEventKind.RealServerDown);
        }
        finally
        {
            runner.Stop(TimeSpan.FromSeconds(5));
        }
        Assert.False(runner.IsRunning);
        int runs = checks[1].Runs;
        await Task.Delay(200);
        Assert.Equal(runs, checks[1].Runs); // nothing runs after Stop
    }

    [Fact]
    public async Task AThrowingCheckCountsAsAFailure()
    {
        var svc = new IpvsService { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("203.0.113.10"), Port = 80 };
        var rs = new IpvsRealServer { Service = svc, Address = IPAddress.Parse("192.0.2.1"), Port = 80 };
        var checker = new HealthChecker("r", svc, new[] { rs }, new CheckerPolicy { DelayLoopSeconds = 0.05, Retry = 0 });
        var ipvs = new MemoryIpvs();
        var runner = new HealthCheckRunner(checker, _ => new ThrowingCheck(), ipvs);
        runner.Start();
        try { await WaitFor(() => !ipvs.Has("192.0.2.1:80")); }
        finally { runner.Stop(TimeSpan.FromSeconds(5)); }
        Assert.Equal("boom", runner.Read(c => c.RealServers[0].LastResult!.Message));
    }

    private sealed class ThrowingCheck : IHealthCheck
    {
        public string Target => "x";
        public Task<HealthCheckResult> RunAsync(CancellationToken ct) => throw new InvalidOperationException("boom");
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("condition not met in 10 s");
            await Task.Delay(10);
        }
    }
}

/// <summary>TCP and HTTP checks over the Native connector seam, with a fake connector (no sockets).</summary>
public class HealthConnectorTests
{
    private sealed class FakeConnector : HaPowerShell.Native.Net.ITcpConnector
    {
        public Func<Stream>? Connect;
        public System.Net.Sockets.SocketError? Refuse;
        public List<IPEndPoint> Calls = new();
        public Task<Stream> ConnectAsync(IPEndPoint remote, IPAddress? bind, TimeSpan timeout, CancellationToken ct)
        {
            Calls.Add(remote);
            if (Refuse is { } e) throw new System.Net.Sockets.SocketException((int)e);
            return Task.FromResult(Connect!());
        }
        public Task<HaPowerShell.Native.Net.TlsConnection> StartTlsAsync(Stream inner, string? sni, bool verify, CancellationToken ct)
            => Task.FromResult(new HaPowerShell.Native.Net.TlsConnection(inner, "Tls13", "CN=fake"));
    }

    /// <summary>Reads give a canned response; writes are kept.</summary>
    private sealed class CannedStream : Stream
    {
        private readonly MemoryStream _response;
        public readonly MemoryStream Written = new();
        public CannedStream(string response) => _response = new MemoryStream(System.Text.Encoding.ASCII.GetBytes(response));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _response.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);
    }

    [Fact]
    public async Task TcpCheckReportsTheSocketErrorOfTheConnector()
    {
        var net = new FakeConnector { Refuse = System.Net.Sockets.SocketError.ConnectionRefused };
        var r = await NetworkCheck.TcpAsync(new TcpCheckOptions { Address = IPAddress.Parse("192.0.2.1"), Port = 80, Retry = 1, DelayBeforeRetrySeconds = 0 },
            connector: net);
        Assert.False(r.Success);
        Assert.Equal("ConnectionRefused", r.SocketError);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(2, net.Calls.Count);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 80), net.Calls[0]);
    }

    [Fact]
    public async Task HttpCheckTalksThroughTheConnectorsStream()
    {
        CannedStream? s = null;
        var net = new FakeConnector { Connect = () => s = new CannedStream("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok") };
        var r = await NetworkCheck.HttpAsync(new HttpCheckOptions { Address = IPAddress.Parse("192.0.2.1"), Port = 443, UseTls = true, Path = "/h" }, connector: net);
        Assert.True(r.Success, r.Message);
        Assert.Equal(200, r.StatusCode);
        Assert.Equal("Tls13", r.TlsProtocol);
        Assert.Equal("CN=fake", r.CertificateSubject);
        Assert.StartsWith("GET /h HTTP/1.0\r\nHost: 192.0.2.1\r\n", System.Text.Encoding.ASCII.GetString(s!.Written.ToArray()));
    }
}

/// <summary>The checker's IPVS changes over IpvsAdmin, against an in-memory kernel.</summary>
public class HealthIpvsActionsTests
{
    private sealed class Kernel : HaPowerShell.Native.Ipvs.IIpvsKernel
    {
        public readonly Dictionary<string, uint> Dests = new();
        public readonly List<string> Calls = new();
        private static string Key(HaPowerShell.Native.Ipvs.IpvsDestEntry d) => $"{d.Address}:{d.Port}";
        public void SetDestination(HaPowerShell.Native.Ipvs.IpvsServiceEntry s, HaPowerShell.Native.Ipvs.IpvsDestEntry d)
        {
            Calls.Add("set " + Key(d));
            if (!Dests.ContainsKey(Key(d))) throw new HaPowerShell.Native.Netlink.NetlinkException("set", HaPowerShell.Native.Errno.ENOENT);
            Dests[Key(d)] = (uint)d.Weight;
        }
        public void NewDestination(HaPowerShell.Native.Ipvs.IpvsServiceEntry s, HaPowerShell.Native.Ipvs.IpvsDestEntry d) { Calls.Add("new " + Key(d)); Dests[Key(d)] = (uint)d.Weight; }
        public void DeleteDestination(HaPowerShell.Native.Ipvs.IpvsServiceEntry s, HaPowerShell.Native.Ipvs.IpvsDestEntry d)
        {
            Calls.Add("del " + Key(d));
            if (!Dests.Remove(Key(d))) throw new HaPowerShell.Native.Netlink.NetlinkException("del", HaPowerShell.Native.Errno.ENOENT);
        }
        public HaPowerShell.Native.Ipvs.IpvsKernelInfo GetInfo() => throw new NotImplementedException();
        public IReadOnlyList<HaPowerShell.Native.Ipvs.IpvsServiceEntry> GetServices() => throw new NotImplementedException();
        public HaPowerShell.Native.Ipvs.IpvsServiceEntry? GetService(HaPowerShell.Native.Ipvs.IpvsServiceEntry id) => throw new NotImplementedException();
        public IReadOnlyList<HaPowerShell.Native.Ipvs.IpvsDestEntry> GetDestinations(HaPowerShell.Native.Ipvs.IpvsServiceEntry service) => throw new NotImplementedException();
        public IReadOnlyList<HaPowerShell.Native.Ipvs.IpvsDestEntry>?[] GetDestinations(IReadOnlyList<HaPowerShell.Native.Ipvs.IpvsServiceEntry> services) => throw new NotImplementedException();
        public void NewService(HaPowerShell.Native.Ipvs.IpvsServiceEntry s) => throw new NotImplementedException();
        public void SetService(HaPowerShell.Native.Ipvs.IpvsServiceEntry s) => throw new NotImplementedException();
        public void DeleteService(HaPowerShell.Native.Ipvs.IpvsServiceEntry s) => throw new NotImplementedException();
        public void Flush() => throw new NotImplementedException();
        public void Zero(HaPowerShell.Native.Ipvs.IpvsServiceEntry? service) => throw new NotImplementedException();
        public HaPowerShell.Native.Ipvs.IpvsTimeouts GetTimeouts() => throw new NotImplementedException();
        public void SetTimeouts(HaPowerShell.Native.Ipvs.IpvsTimeouts t) => throw new NotImplementedException();
        public IReadOnlyList<HaPowerShell.Native.Ipvs.IpvsDaemonEntry> GetDaemons() => throw new NotImplementedException();
        public void NewDaemon(HaPowerShell.Native.Ipvs.IpvsDaemonEntry d) => throw new NotImplementedException();
        public void DeleteDaemon(uint state) => throw new NotImplementedException();
        public HaPowerShell.Native.Netlink.NetlinkException?[] Apply(IReadOnlyList<HaPowerShell.Native.Ipvs.IpvsChange> changes) => throw new NotImplementedException();
    }

    [Fact]
    public void SetAddsWhenMissingUpdatesWhenPresentAndRemoveToleratesAbsence()
    {
        var svc = new IpvsService { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("203.0.113.10"), Port = 80 };
        var rs = new IpvsRealServer { Service = svc, Address = IPAddress.Parse("192.0.2.11"), Port = 8080, Weight = 5, ForwardingMethod = IpvsForwardingMethod.Masquerade };
        var k = new Kernel();
        var a = new IpvsAdminHealthActions(new IpvsAdmin(k));
        a.SetRealServer(svc, rs, 5);
        Assert.Equal(new[] { "set 192.0.2.11:8080", "new 192.0.2.11:8080" }, k.Calls);
        a.SetRealServer(svc, rs, 0);
        Assert.Equal(0u, k.Dests["192.0.2.11:8080"]);
        a.RemoveRealServer(svc, rs);
        a.RemoveRealServer(svc, rs); // already out: no error
        Assert.Empty(k.Dests);
        Assert.Equal(5, rs.Weight); // the caller's object is not changed
        var e = Assert.Throws<IpvsOperationException>(() => a.SetRealServer(svc, rs, 70000));
        Assert.Equal("WeightOutOfRange", e.ErrorId);
    }
}
