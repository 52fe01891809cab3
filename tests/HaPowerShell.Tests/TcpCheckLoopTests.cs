using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting.Health;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The timer heap of the TCP check loop.</summary>
public class TimerHeapTests
{
    [Fact]
    public void PopsInDueOrderWithTiesByIdAndOnlyWhenDue()
    {
        var h = new TimerHeap(5);
        h.Set(3, 30);
        h.Set(1, 10);
        h.Set(4, 10);
        h.Set(0, 50);
        Assert.Equal(4, h.Count);
        Assert.True(h.TryPeek(out int first, out long due));
        Assert.Equal((1, 10L), (first, due));
        Assert.False(h.TryPopDue(9, out _));
        Assert.True(h.TryPopDue(10, out int a));
        Assert.True(h.TryPopDue(10, out int b));
        Assert.False(h.TryPopDue(10, out _));
        Assert.Equal((1, 4), (a, b));
        Assert.True(h.TryPopDue(100, out int c));
        Assert.True(h.TryPopDue(100, out int d));
        Assert.Equal((3, 0), (c, d));
        Assert.Equal(0, h.Count);
        Assert.False(h.TryPeek(out _, out _));
    }

    [Fact]
    public void SettingAnArmedTimerMovesItInsteadOfAddingASecond()
    {
        var h = new TimerHeap(3);
        h.Set(0, 100);
        h.Set(1, 200);
        h.Set(0, 300); // later: 1 comes first now
        Assert.Equal(2, h.Count);
        Assert.True(h.TryPeek(out int id, out _));
        Assert.Equal(1, id);
        h.Set(0, 5); // earlier again
        Assert.True(h.TryPeek(out id, out long due));
        Assert.Equal((0, 5L), (id, due));
        Assert.True(h.Contains(0));
        Assert.Equal(5, h.DueOf(0));
    }

    [Fact]
    public void RemoveDisarmsAndKeepsTheRestInOrder()
    {
        var h = new TimerHeap(4);
        for (int i = 0; i < 4; i++) h.Set(i, 10 * (4 - i)); // 3:10 2:20 1:30 0:40
        Assert.True(h.Remove(2));
        Assert.False(h.Remove(2));
        Assert.False(h.Contains(2));
        var order = new List<int>();
        while (h.TryPopDue(long.MaxValue, out int id)) order.Add(id);
        Assert.Equal(new[] { 3, 1, 0 }, order);
    }

    [Fact]
    public void AgreesWithASortedReferenceUnderRandomOperations()
    {
        var rnd = new Random(12345);
        const int n = 200;
        var h = new TimerHeap(n);
        var reference = new Dictionary<int, long>();
        for (int step = 0; step < 20000; step++)
        {
            int id = rnd.Next(n);
            switch (rnd.Next(4))
            {
                case 0:
                case 1:
                    long due = rnd.Next(1000);
                    h.Set(id, due);
                    reference[id] = due;
                    break;
                case 2:
                    Assert.Equal(reference.Remove(id), h.Remove(id));
                    break;
                default:
                    long now = rnd.Next(1000);
                    bool popped = h.TryPopDue(now, out int got);
                    var expected = reference.Where(kv => kv.Value <= now).OrderBy(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => (int?)kv.Key).FirstOrDefault();
                    Assert.Equal(expected is not null, popped);
                    if (popped) { Assert.Equal(expected, got); reference.Remove(got); }
                    break;
            }
            Assert.Equal(reference.Count, h.Count);
        }
    }
}

/// <summary>
/// <see cref="HealthChecker.TryCompleteQuiet"/> decides exactly what <see cref="HealthChecker.Complete"/>
/// decides: two checkers fed the same outcomes, one always through Complete and one through the fast
/// path first, end in the same states, counters, due times and IPVS tables.
/// </summary>
public class CheckerQuietPathTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly IpvsService Svc = new() { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("203.0.113.10"), Port = 80 };

    [Theory]
    [InlineData(0, false, false, 0.0)]
    [InlineData(2, true, false, 0.5)]
    [InlineData(1, false, true, 0.0)]
    [InlineData(3, true, true, 2.0)]
    public void FastPathAndFullPathAgree(int retry, bool alpha, bool inhibit, double delayBeforeRetry)
    {
        var rs = Enumerable.Range(0, 6).Select(i => new IpvsRealServer
        {
            Service = Svc, Address = IPAddress.Parse($"192.0.2.{10 + i}"), Port = 80, Weight = 1 + i, ForwardingMethod = IpvsForwardingMethod.Masquerade,
        }).ToArray();
        CheckerPolicy Policy() => new()
        {
            DelayLoopSeconds = 3, Retry = retry, DelayBeforeRetrySeconds = delayBeforeRetry, Alpha = alpha, InhibitOnFailure = inhibit,
            Quorum = 6, Hysteresis = 2, WarmupSeconds = 1,
        };
        var full = new HealthChecker("full", Svc, rs, Policy(), random: () => 0.25) { ExternalScheduling = true };
        var fast = new HealthChecker("fast", Svc, rs, Policy(), random: () => 0.25) { ExternalScheduling = true };
        var fullIpvs = new List<string>();
        var fastIpvs = new List<string>();
        fullIpvs.AddRange(full.Start(T0).Actions.Select(a => a.ToString()));
        fastIpvs.AddRange(fast.Start(T0).Actions.Select(a => a.ToString()));
        var rnd = new Random(retry * 7 + (alpha ? 1 : 0));
        int quiet = 0;
        for (int round = 0; round < 3000; round++)
        {
            int i = round % rs.Length;
            var a = full.RealServers[i];
            var b = fast.RealServers[i];
            Assert.Equal(a.NextCheck, b.NextCheck);
            var now = a.NextCheck + TimeSpan.FromMilliseconds(rnd.Next(5));
            // long runs of the same outcome, as in real life, with flips
            bool ok = (round / 40 + i) % 3 != 0 ^ rnd.Next(20) == 0;
            full.Begin(a, now);
            fast.Begin(b, now);
            var done = now + TimeSpan.FromMilliseconds(1);
            var stepA = full.Complete(a, new CheckErrorResult { Success = ok }, done);
            fullIpvs.AddRange(stepA.Actions.Select(x => x.ToString()));
            if (fast.TryCompleteQuiet(b, ok, done)) quiet++;
            else
            {
                var stepB = fast.Complete(b, new CheckErrorResult { Success = ok }, done);
                fastIpvs.AddRange(stepB.Actions.Select(x => x.ToString()));
            }
            Assert.Equal((a.State, a.FailedAttempts, a.Weight, a.Checks, a.Failures, a.NextCheck, a.IpvsWeight),
                (b.State, b.FailedAttempts, b.Weight, b.Checks, b.Failures, b.NextCheck, b.IpvsWeight));
            Assert.Equal((full.QuorumUp, full.WeightSum), (fast.QuorumUp, fast.WeightSum));
        }
        Assert.Equal(fullIpvs, fastIpvs);
        Assert.True(quiet > 1000, $"only {quiet} of 3000 outcomes took the quiet path");
        Assert.Null(full.NextDue); // external scheduling: the checker keeps no queue
    }
}

/// <summary>The runner's TCP loop (epoll, one thread) against listeners on 127.0.0.1.</summary>
public class TcpCheckLoopTests
{
    private static readonly IpvsService Svc = new() { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("203.0.113.10"), Port = 80 };

    private sealed class Table : IIpvsHealthActions
    {
        private readonly Dictionary<string, int> _t = new();
        public void SetRealServer(IpvsService service, IpvsRealServer server, int weight) { lock (_t) _t[server.Endpoint] = weight; }
        public void RemoveRealServer(IpvsService service, IpvsRealServer server) { lock (_t) _t.Remove(server.Endpoint); }
        public int? Weight(string e) { lock (_t) return _t.TryGetValue(e, out var w) ? w : null; }
    }

    internal static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int p = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return p;
    }

    internal static void WaitFor(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"not within 20 s: {what}");
            Thread.Sleep(10);
        }
    }

    [Fact]
    public void TakesARefusingServerOutAndPutsItBackWhenItListensAgain()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int up = ((IPEndPoint)listener.LocalEndpoint).Port;
        int closed = FreePort();
        var rs = new[] { up, closed }.Select(p => new IpvsRealServer { Service = Svc, Address = IPAddress.Loopback, Port = (ushort)p, Weight = 4 }).ToArray();
        var checker = new HealthChecker("loop", Svc, rs, new CheckerPolicy { DelayLoopSeconds = 0.05, Retry = 2, DelayBeforeRetrySeconds = 0.02 });
        var table = new Table();
        var runner = new HealthCheckRunner(checker,
            s => HealthChecks.Tcp(new TcpCheckOptions { Address = s.Address, Port = s.Port, ConnectTimeoutSeconds = 1, RealServer = s.RealServer }), table);
        Assert.True(runner.UsesTcpLoop);
        var events = new List<HealthCheckEvent>();
        runner.EventSink = e => { lock (events) events.Add(e); };
        bool HasEvent(HealthCheckEventKind kind, int port) { lock (events) return events.Any(e => e.Kind == kind && e.Port == port); }
        runner.Start();
        try
        {
            string upEp = rs[0].Endpoint, closedEp = rs[1].Endpoint;
            WaitFor(() => table.Weight(closedEp) is null && runner.Read(c => c.RealServers[1].State) == RealServerHealthState.Down, "refused server DOWN");
            var refused = runner.Read(c => (TcpCheckResult)c.RealServers[1].LastResult!);
            Assert.Equal("ConnectionRefused", refused.SocketError);
            Assert.Equal(1, refused.Attempts); // one attempt per result: the checker does the retrying
            WaitFor(() => runner.Read(c => c.RealServers[0].Checks) >= 5, "five checks of the listening server");
            Assert.Equal(4, table.Weight(upEp));
            Assert.Equal(RealServerHealthState.Up, runner.Read(c => c.RealServers[0].State));

            listener.Stop();
            WaitFor(() => table.Weight(upEp) is null, "stopped listener DOWN");
            listener = new TcpListener(IPAddress.Loopback, up);
            listener.Start();
            // The loop changes the table inside its round and publishes the round's events at its end: wait for the
            // event too, not only for the table (a loaded machine can stop the loop's thread between the two).
            WaitFor(() => table.Weight(upEp) == 4 && HasEvent(HealthCheckEventKind.RealServerUp, up), "listener back UP");
            lock (events)
            {
                Assert.Contains(events, e => e.Kind == HealthCheckEventKind.RealServerDown && e.Port == up);
                Assert.Contains(events, e => e.Kind == HealthCheckEventKind.RealServerUp && e.Port == up);
                // retries: the refused server failed 3 times (1 + retry) before its single DOWN event
                Assert.Single(events, e => e.Kind == HealthCheckEventKind.RealServerDown && e.Port == closed);
            }
            Assert.True(runner.IsRunning);
        }
        finally
        {
            runner.Stop(TimeSpan.FromSeconds(5));
            listener.Stop();
        }
        Assert.False(runner.IsRunning);
        Assert.Null(runner.Fault);
        Assert.Equal(0, runner.InFlight);
        long checks = runner.Read(c => c.RealServers.Sum(s => s.Checks));
        Thread.Sleep(200);
        Assert.Equal(checks, runner.Read(c => c.RealServers.Sum(s => s.Checks))); // nothing runs after Stop
    }

    [Fact]
    public void OmegaOnStopTakesEverythingOutAsOnTheTaskPath()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var rs = new IpvsRealServer { Service = Svc, Address = IPAddress.Loopback, Port = (ushort)((IPEndPoint)listener.LocalEndpoint).Port, Weight = 2 };
        var checker = new HealthChecker("omega", Svc, new[] { rs }, new CheckerPolicy { DelayLoopSeconds = 0.05, Retry = 0, Omega = true });
        var table = new Table();
        var runner = new HealthCheckRunner(checker, s => HealthChecks.Tcp(new TcpCheckOptions { Address = s.Address, Port = s.Port, ConnectTimeoutSeconds = 1 }), table);
        runner.Start();
        try
        {
            WaitFor(() => runner.Read(c => c.RealServers[0].Checks) >= 3, "three checks");
            Assert.Equal(2, table.Weight(rs.Endpoint));
        }
        finally
        {
            var stopEvents = runner.Stop(TimeSpan.FromSeconds(5));
            listener.Stop();
            Assert.Contains(stopEvents, e => e.Kind == HealthCheckEventKind.RealServerDown);
        }
        Assert.Null(table.Weight(rs.Endpoint));
    }

    [Fact]
    public void MixedCheckTypesStayOnTheTaskPath()
    {
        var rs = new[] { 1, 2 }.Select(i => new IpvsRealServer { Service = Svc, Address = IPAddress.Parse($"192.0.2.{i}"), Port = 80 }).ToArray();
        var checker = new HealthChecker("mixed", Svc, rs, new CheckerPolicy());
        var runner = new HealthCheckRunner(checker, s => s.Address.Equals(rs[0].Address)
            ? HealthChecks.Tcp(new TcpCheckOptions { Address = s.Address, Port = 80 })
            : HealthChecks.Http(new HttpCheckOptions { Address = s.Address, Port = 80 }), null);
        Assert.False(runner.UsesTcpLoop);
    }
}

/// <summary>Several checks per real server (keepalived: several checkers in one real_server): UP only while all pass.</summary>
public class MultiCheckTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly IpvsService Svc = new() { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("203.0.113.10"), Port = 80 };
    private static readonly HealthCheckType[] TcpAndMisc = { HealthCheckType.Tcp, HealthCheckType.Misc };

    private static IpvsRealServer Rs(int i) => new() { Service = Svc, Address = IPAddress.Parse($"192.0.2.{10 + i}"), Port = 80, Weight = 5 };

    /// <summary>Runs one attempt of check <paramref name="k"/> of real server <paramref name="server"/> at its due time.</summary>
    private static CheckerStep Run(HealthChecker c, int server, int k, bool ok, List<string> ipvs)
    {
        var s = c.RealServers.Single(x => x.Endpoint == Rs(server).Endpoint && x.CheckIndex == k);
        c.Begin(s, s.NextCheck);
        var step = c.Complete(s, new CheckErrorResult { Success = ok, Message = ok ? null : "no" }, s.NextCheck);
        ipvs.AddRange(step.Actions.Select(a => a.ToString()));
        return step;
    }

    [Fact]
    public void ARealServerIsUpOnlyWhileEveryCheckIsUp()
    {
        var c = new HealthChecker("m", Svc, new[] { Rs(0), Rs(1) }, new CheckerPolicy { DelayLoopSeconds = 2, Retry = 1, DelayBeforeRetrySeconds = 1 },
            random: () => 0, checkTypes: TcpAndMisc) { ExternalScheduling = true };
        var ipvs = new List<string>();
        ipvs.AddRange(c.Start(T0).Actions.Select(a => a.ToString()));
        Assert.Equal(4, c.RealServers.Count);
        Assert.Equal(new HealthCheckType?[] { HealthCheckType.Tcp, HealthCheckType.Misc, HealthCheckType.Tcp, HealthCheckType.Misc }, c.RealServers.Select(s => s.CheckType));
        Assert.Equal(10, c.WeightSum);

        // the MISC check of server 0 fails: first a retry, then DOWN (one event), the TCP check stays UP
        Assert.Empty(Run(c, 0, 1, false, ipvs).Events);
        var down = Run(c, 0, 1, false, ipvs);
        var ev = Assert.Single(down.Events);
        Assert.Equal(HealthCheckEventKind.RealServerDown, ev.Kind);
        Assert.Contains("Misc check", ev.Message);
        Assert.Contains("remove 192.0.2.10:80", ipvs);
        Assert.Equal(5, c.WeightSum);
        var entries = c.RealServers.Where(s => s.Endpoint == "192.0.2.10:80").ToList();
        Assert.All(entries, s => Assert.Equal(RealServerHealthState.Down, s.State));
        Assert.Equal(RealServerHealthState.Up, entries[0].CheckState);
        Assert.Equal(RealServerHealthState.Down, entries[1].CheckState);

        // now the TCP check fails too: still DOWN, no second event, no IPVS change
        ipvs.Clear();
        Assert.Empty(Run(c, 0, 0, false, ipvs).Events);
        Assert.Empty(Run(c, 0, 0, false, ipvs).Events);
        Assert.Equal(RealServerHealthState.Down, entries[0].CheckState);
        // MISC passes again: not UP while TCP fails
        Assert.Empty(Run(c, 0, 1, true, ipvs).Events);
        Assert.Equal(RealServerHealthState.Down, entries[0].State);
        Assert.Empty(ipvs);
        // TCP passes: UP with the configured weight, one event
        var up = Run(c, 0, 0, true, ipvs);
        Assert.Equal(HealthCheckEventKind.RealServerUp, Assert.Single(up.Events).Kind);
        Assert.Equal(new[] { "set 192.0.2.10:80 weight 5" }, ipvs);
        Assert.Equal(10, c.WeightSum);
        // the other real server was never touched
        Assert.All(c.RealServers.Where(s => s.Endpoint == "192.0.2.11:80"), s => Assert.Equal(RealServerHealthState.Up, s.State));
    }

    [Fact]
    public void WithAlphaEveryCheckMustPassOnceBeforeTheServerComesUp()
    {
        var c = new HealthChecker("a", Svc, new[] { Rs(0) }, new CheckerPolicy { DelayLoopSeconds = 1, Alpha = true, Retry = 0 },
            random: () => 0, checkTypes: TcpAndMisc) { ExternalScheduling = true };
        var ipvs = new List<string>();
        c.Start(T0);
        Assert.False(c.QuorumUp);
        Assert.Empty(Run(c, 0, 0, true, ipvs).Events);
        Assert.Equal(RealServerHealthState.Down, c.RealServers[0].State);
        var step = Run(c, 0, 1, true, ipvs);
        Assert.Contains(step.Events, e => e.Kind == HealthCheckEventKind.RealServerUp);
        Assert.Contains(step.Events, e => e.Kind == HealthCheckEventKind.QuorumUp);
        Assert.Equal(new[] { "set 192.0.2.10:80 weight 5" }, ipvs);
    }

    [Fact]
    public void SnapshotsDoNotFollowLaterChanges()
    {
        var c = new HealthChecker("s", Svc, new[] { Rs(0) }, new CheckerPolicy { DelayLoopSeconds = 1, Retry = 0 }, random: () => 0, checkTypes: TcpAndMisc)
            { ExternalScheduling = true };
        c.Start(T0);
        var info = c.RealServers.Select(s => s.Copy()).ToArray();
        Run(c, 0, 0, false, new List<string>());
        Assert.Equal(RealServerHealthState.Down, c.RealServers[1].State);
        Assert.Equal(RealServerHealthState.Up, info[1].State);
    }
}

/// <summary>One TCP loop (thread, epoll, timer heap) shared by the TCP checkers of a host.</summary>
public class SharedTcpLoopTests
{
    private static readonly IpvsService Svc = new() { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("203.0.113.20"), Port = 80 };

    /// <summary>Real servers on these ports, the n-th at 127.0.0.(n+1) (a checker takes each endpoint once).</summary>
    private static IpvsRealServer[] Servers(params int[] ports)
        => ports.Select((p, n) => new IpvsRealServer { Service = Svc, Address = IPAddress.Parse($"127.0.0.{n + 1}"), Port = (ushort)p, Weight = 1 }).ToArray();

    private static HealthCheckDefinition Definition(string name, IpvsRealServer[] servers, int? nice = null) => new()
    {
        Name = name,
        Service = Svc,
        RealServers = servers,
        ConnectTimeoutSeconds = 1,
        CheckerPriority = nice,
        Policy = new CheckerPolicy { DelayLoopSeconds = 0.05, Retry = 0, MonitorOnly = true },
    };

    private static HealthCheckRunner Runner(string name, IpvsRealServer[] servers)
        => new(new HealthChecker(name, Svc, servers, new CheckerPolicy { DelayLoopSeconds = 0.05, Retry = 0, MonitorOnly = true }),
            s => HealthChecks.Tcp(new TcpCheckOptions { Address = s.Address, Port = s.Port, ConnectTimeoutSeconds = 1, RealServer = s.RealServer }), null);

    private static long Checks(HealthCheckRunner r) => r.Read(c => c.RealServers.Sum(s => s.Checks));

    [Fact]
    public void TheTcpCheckersOfAHostRunOnOneLoopThatOutlivesNone()
    {
        var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        int up = ((IPEndPoint)listener.LocalEndpoint).Port, refused = TcpCheckLoopTests.FreePort();
        using var host = new HealthCheckHost(HaPowerShell.Hosting.NullHostEventSink.Instance, () => throw new InvalidOperationException("no IPVS in this test"),
            HaPowerShell.Native.Processes.ProcessGroupRunner.Instance, LocalMiscCheck.Create, () => false);
        try
        {
            var a = host.Start(Definition("a", Servers(up, refused)));
            var b = host.Start(Definition("b", Servers(refused, up)));
            var niced = host.Start(Definition("niced", Servers(up), nice: 0));
            var loop = a.Runner.TcpLoop!;
            Assert.Same(loop, b.Runner.TcpLoop);
            Assert.NotSame(loop, niced.Runner.TcpLoop); // another thread setting, another loop
            Assert.Equal((2, 4), (loop.RunnerCount, loop.SlotCount));
            TcpCheckLoopTests.WaitFor(() => a.Runner.Read(c => c.RealServers[1].State) == RealServerHealthState.Down
                && b.Runner.Read(c => c.RealServers[0].State) == RealServerHealthState.Down
                && a.Runner.Read(c => c.RealServers[0].Checks) >= 3 && b.Runner.Read(c => c.RealServers[1].Checks) >= 3, "both checkers' results");
            Assert.Equal(RealServerHealthState.Up, a.Runner.Read(c => c.RealServers[0].State));
            Assert.Equal(RealServerHealthState.Up, b.Runner.Read(c => c.RealServers[1].State));
            Assert.Equal("ConnectionRefused", b.Runner.Read(c => ((TcpCheckResult)c.RealServers[0].LastResult!).SocketError));

            host.Stop(a);
            Assert.False(a.Runner.IsRunning);
            Assert.Equal((1, 2), (loop.RunnerCount, loop.SlotCount));
            long stopped = Checks(a.Runner), going = Checks(b.Runner);
            TcpCheckLoopTests.WaitFor(() => Checks(b.Runner) >= going + 4, "the other checker goes on");
            Assert.Equal(stopped, Checks(a.Runner));
            Assert.True(b.Runner.IsRunning);

            host.Stop(b); // the last one: the loop's thread ends ...
            Assert.Equal(0, loop.RunnerCount);
            var c2 = host.Start(Definition("c", Servers(up, refused))); // ... and starts again with the next
            Assert.Same(loop, c2.Runner.TcpLoop);
            TcpCheckLoopTests.WaitFor(() => c2.Runner.Read(c => c.RealServers[1].State) == RealServerHealthState.Down && c2.Runner.Read(c => c.RealServers[0].Checks) >= 2, "checks after a restart");
            Assert.Equal(RealServerHealthState.Up, c2.Runner.Read(c => c.RealServers[0].State));
        }
        finally { listener.Stop(); }
    }

    [Fact]
    public void AHostKeepsTheStartStateOfItsCheckersOnlyWhenAsked()
    {
        int refused = TcpCheckLoopTests.FreePort();
        using var host = new HealthCheckHost(HaPowerShell.Hosting.NullHostEventSink.Instance, () => throw new InvalidOperationException("no IPVS in this test"),
            HaPowerShell.Native.Processes.ProcessGroupRunner.Instance, LocalMiscCheck.Create, () => false);
        var kept = host.Start(Definition("kept", Servers(refused)));
        Assert.NotNull(kept.StartState);
        Assert.Equal(RealServerHealthState.Up, kept.StartState!.RealServers[0].State); // as it started, before a check
        host.KeepStartState = false; // a daemon that never reads it
        var notKept = host.Start(Definition("not kept", Servers(refused)));
        Assert.Null(notKept.StartState);
        Assert.True(notKept.Runner.IsRunning);
        Assert.Equal("not kept", notKept.Info().Name); // the live state is there as ever
    }

    [Fact]
    public void SlotsAStoppedCheckerFreesServeTheNextOneWithoutCrossTalk()
    {
        var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        int up = ((IPEndPoint)listener.LocalEndpoint).Port, refused = TcpCheckLoopTests.FreePort();
        using var loop = new TcpCheckLoop();
        try
        {
            var first = Runner("first", Servers(refused, refused, refused));
            first.TcpLoop = loop;
            first.Start();
            TcpCheckLoopTests.WaitFor(() => first.Read(c => c.RealServers.All(s => s.State == RealServerHealthState.Down)), "refused servers DOWN");
            first.Stop(TimeSpan.FromSeconds(5));
            Assert.Equal(0, first.InFlight);

            var second = Runner("second", Servers(up, up, up, up));
            second.TcpLoop = loop;
            second.Start();
            Assert.Equal(4, loop.SlotCount);
            TcpCheckLoopTests.WaitFor(() => second.Read(c => c.RealServers.All(s => s.Checks >= 5)), "five checks of each listening server");
            Assert.All(second.Read(c => c.RealServers.ToArray()), s =>
            {
                Assert.Equal(RealServerHealthState.Up, s.State);
                Assert.Equal(0, s.Failures);
            });
            second.Stop(TimeSpan.FromSeconds(5));
            Assert.Null(first.Fault);
            Assert.Null(second.Fault);
        }
        finally { listener.Stop(); }
    }

    [Fact]
    public void ALoopTakesOnlyCheckersOfItsClock()
    {
        using var loop = new TcpCheckLoop(time: new OtherClock());
        var r = Runner("clock", Servers(1));
        Assert.Throws<ArgumentException>(() => r.TcpLoop = loop);
    }

    private sealed class OtherClock : TimeProvider { }
}
