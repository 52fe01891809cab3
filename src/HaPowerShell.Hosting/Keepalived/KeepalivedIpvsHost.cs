using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Keepalived.Runtime;
using HaPowerShell.Hosting.Health;
using HaPowerShell.Native;
using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Hosting.Keepalived;

/// <summary>What one programming step of <see cref="KeepalivedIpvsHost"/> did.</summary>
/// <param name="NetlinkElapsed">Of <paramref name="Elapsed"/>, the time spent building the netlink messages and exchanging them with the kernel.</param>
public sealed record KeepalivedIpvsApplyResult(int Sent, int Applied, int Failed, IReadOnlyList<string> Errors, TimeSpan Elapsed, TimeSpan NetlinkElapsed = default);

/// <summary>The IPVS and checker half's state, for dumps and the control socket.</summary>
public sealed record KeepalivedIpvsStatus(int Services, int RealServers, int Checkers, IReadOnlyList<string> Draining, string? SyncDaemon,
    long OperationsSent, long OperationsFailed, long Reconciled);

/// <summary>
/// Runs keepalived.conf's IPVS and checker half for a front end (hapd): programs the IPVS table a
/// <see cref="KeepalivedIpvsPlan"/> makes without reading the kernel's first (each service and real server is added;
/// one that exists is set, as keepalived does), applies a reload as the difference of the two configurations
/// (<see cref="KeepalivedIpvsDiff"/>), drains removed real servers (weight 0, removed when their active connections
/// end or at the timeout), reconciles against the kernel when asked (the table is read and the configuration's
/// services repaired), runs the checkers on a <see cref="HealthCheckHost"/> (those that stay keep their state), and
/// runs the IPVS sync daemon as Master while the VRRP instance it follows is Master, as Backup otherwise.
/// Reports through the <see cref="IHostEventSink"/>. Not thread-safe for its callers (the front end calls it from one
/// thread); the drain timer runs on its own.
/// </summary>
public sealed class KeepalivedIpvsHost : IDisposable
{
    private readonly IHostEventSink _sink;
    private readonly Lazy<IpvsAdmin> _admin;
    private readonly HealthCheckHost _checks;
    private readonly TimeSpan _drainTimeout;
    private readonly Func<DateTime> _now;
    private readonly object _drainSync = new();
    private readonly List<(KeepalivedIpvsDrain Drain, DateTime Deadline)> _drains = new();
    private readonly Timer _drainTimer;
    private KeepalivedIpvsPlan _plan = KeepalivedIpvsPlan.Empty;
    private IpvsSyncDaemonState? _syncState;
    private bool _followedMaster;
    private long _sent, _failed, _reconciled;
    private bool _disposed;

    /// <summary>A host over this machine's IPVS (<see cref="KernelSession.Ipvs"/>) with its own <see cref="HealthCheckHost"/>.</summary>
    public KeepalivedIpvsHost(IHostEventSink sink, TimeSpan drainTimeout)
        : this(sink, () => new IpvsAdmin(KernelSession.Ipvs), new HealthCheckHost(sink), drainTimeout, () => DateTime.UtcNow) { }

    public KeepalivedIpvsHost(IHostEventSink sink, Func<IpvsAdmin> admin, HealthCheckHost checks, TimeSpan drainTimeout, Func<DateTime> now)
    {
        _sink = sink;
        _admin = new Lazy<IpvsAdmin>(admin, LazyThreadSafetyMode.ExecutionAndPublication);
        _checks = checks;
        _drainTimeout = drainTimeout;
        _now = now;
        _drainTimer = new Timer(_ => DrainTick(), null, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The checkers' host (Get-HapdStatus shows its checkers).</summary>
    public HealthCheckHost Checks => _checks;

    /// <summary>The plan running now.</summary>
    public KeepalivedIpvsPlan Plan => _plan;

    /// <summary>
    /// Checks a plan's checkers before anything changes (each is validated and built, as the checker host would);
    /// throws <see cref="HealthCheckException"/> for the first bad one.
    /// </summary>
    public void Validate(KeepalivedIpvsPlan plan)
    {
        var running = _checks.Checks.ToDictionary(c => c.Name, c => c.Definition, StringComparer.Ordinal);
        foreach (var d in plan.HealthChecks)
            if (!running.TryGetValue(d.Name, out var r) || r.Differences(d).Count > 0)
                _checks.Validate(d);
    }

    /// <summary>
    /// Programs <paramref name="plan"/> at start: lvs_flush clears the table first; every service and real server
    /// is sent in one pipelined batch (an existing one is set instead), the timeouts are set, the checkers start.
    /// With <paramref name="reconcile"/> the kernel's table is read and only what differs is sent.
    /// </summary>
    public KeepalivedIpvsApplyResult Start(KeepalivedIpvsPlan plan, bool reconcile)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Validate(plan);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        if (plan.Flush && plan.Services.Count > 0) _admin.Value.Clear();
        var result = reconcile ? Reconcile(plan, sw) : AddTable(plan, sw);
        SetTimeout(plan.Timeout);
        _plan = plan;
        _checks.Reconfigure(plan.HealthChecks);
        ApplySyncDaemon();
        return result with { Elapsed = sw.Elapsed };
    }

    /// <summary>
    /// The start's table without reading it: the services in one batch, then their real servers in a second, in the
    /// order IPVS's trash list holds them after a flush or a stop (<see cref="IpvsTrashOrder"/>), so a restart's
    /// additions each find theirs at the list's head instead of searching it. The dump that gives the order counts as
    /// netlink time.
    /// </summary>
    private KeepalivedIpvsApplyResult AddTable(KeepalivedIpvsPlan plan, System.Diagnostics.Stopwatch sw)
    {
        var ops = new List<IpvsOperation>(plan.Services.Count);
        foreach (var s in plan.Services) ops.Add(new IpvsOperation(IpvsOperationKind.AddService, s, null, () => $"Add service {s}"));
        var services = Send(ops, sw);
        _plan = plan; // from here a stop removes what was added, even if the second batch fails
        long orderStart = System.Diagnostics.Stopwatch.GetTimestamp();
        var order = plan.RealServerCount == 0 ? Array.Empty<int>() : KernelOrder(plan.Services, IpvsTrashOrder.ServiceOrderForAdding);
        var ordering = System.Diagnostics.Stopwatch.GetElapsedTime(orderStart);
        var servers = new List<IpvsOperation>(plan.RealServerCount);
        foreach (int i in order)
            if (plan.Services[i] is { RealServers: { } list } s)
                foreach (var r in list)
                    servers.Add(new IpvsOperation(IpvsOperationKind.AddRealServer, s, r, () => $"Add real server {r.Endpoint} to {s}"));
        var real = Send(servers, sw);
        return new KeepalivedIpvsApplyResult(services.Sent + real.Sent, services.Applied + real.Applied, services.Failed + real.Failed,
            services.Errors.Concat(real.Errors).ToList(), sw.Elapsed, services.NetlinkElapsed + ordering + real.NetlinkElapsed);
    }

    /// <summary>
    /// A reload: validates the new checkers, sends the difference between the running configuration and
    /// <paramref name="now"/> (or, with <paramref name="reconcile"/>, what differs from the kernel's table), drains
    /// removed real servers when a drain timeout is set, and reconfigures the checkers (those that stay keep running).
    /// </summary>
    public (KeepalivedIpvsDiff Diff, KeepalivedIpvsApplyResult Result) Reload(KeepalivedIpvsPlan now, bool reconcile)
    {
        ArgumentNullException.ThrowIfNull(now);
        Validate(now);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var diff = KeepalivedIpvsDiff.Compute(_plan, now, drain: _drainTimeout > TimeSpan.Zero);
        // A draining real server that the new configuration has again is no longer drained (its add is sent as a set).
        lock (_drainSync)
        {
            if (_drains.Count > 0) // the keys of every real server are built only when something is draining
            {
                var keys = new HashSet<string>(now.Services.SelectMany(s => (s.RealServers ?? new List<IpvsRealServer>()).Select(r => Key(s, r))), StringComparer.Ordinal);
                _drains.RemoveAll(d => keys.Contains(Key(d.Drain.Service, d.Drain.RealServer)));
            }
        }
        var result = reconcile ? Reconcile(now, sw, diff.Drains) : Send(diff.Operations, sw);
        if (diff.TimeoutChanged) SetTimeout(now.Timeout);
        var old = _plan;
        _plan = now;
        _checks.Reconfigure(now.HealthChecks);
        if (diff.Drains.Count > 0)
        {
            var deadline = _now() + _drainTimeout;
            lock (_drainSync)
                foreach (var d in diff.Drains) _drains.Add((d, deadline));
            _drainTimer.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }
        if (diff.SyncDaemonChanged)
        {
            StopSyncDaemon(old.SyncDaemon);
            ApplySyncDaemon();
        }
        return (diff, result with { Elapsed = sw.Elapsed });
    }

    /// <summary>
    /// Reads the kernel's table and sends what makes the configuration's services as configured (a service or real
    /// server removed or changed by hand is put back; services the configuration does not name are left alone). Real
    /// servers a checker holds down stay as the checker set them; <paramref name="draining"/> ones stay at weight 0.
    /// </summary>
    public KeepalivedIpvsApplyResult Reconcile() => Reconcile(_plan, System.Diagnostics.Stopwatch.StartNew());

    private KeepalivedIpvsApplyResult Reconcile(KeepalivedIpvsPlan plan, System.Diagnostics.Stopwatch sw, IReadOnlyList<KeepalivedIpvsDrain>? draining = null)
    {
        var live = _admin.Value.Snapshot();
        var wanted = new HashSet<IpvsRules.ServiceKey>(plan.Services.Select(IpvsRules.ServiceKey.Of));
        var previous = new HashSet<IpvsRules.ServiceKey>(_plan.Services.Select(IpvsRules.ServiceKey.Of));
        // Ours: the configuration's services, and the running configuration's (removed by the new one).
        var current = live.Where(s => wanted.Contains(IpvsRules.ServiceKey.Of(s)) || previous.Contains(IpvsRules.ServiceKey.Of(s))).ToList();
        var liveByKey = current.ToDictionary(IpvsRules.ServiceKey.Of);
        var down = CheckerHeld();
        var drains = new HashSet<string>((draining ?? Array.Empty<KeepalivedIpvsDrain>()).Select(d => Key(d.Service, d.RealServer)), StringComparer.Ordinal);
        lock (_drainSync) foreach (var d in _drains) drains.Add(Key(d.Drain.Service, d.Drain.RealServer));
        var desired = new List<IpvsService>(plan.Services.Count);
        foreach (var s in plan.Services)
        {
            liveByKey.TryGetValue(IpvsRules.ServiceKey.Of(s), out var have);
            var servers = new List<IpvsRealServer>();
            foreach (var r in s.RealServers ?? new List<IpvsRealServer>())
            {
                string k = Key(s, r);
                if (down.Contains(k))
                {
                    // The checker decides whether and with what weight it is in the table.
                    if (have?.RealServers?.FirstOrDefault(x => SameEndpoint(s, x, r)) is { } h) servers.Add(h);
                    continue;
                }
                servers.Add(r);
            }
            foreach (var d in draining ?? Array.Empty<KeepalivedIpvsDrain>())
                if (IpvsRules.ServiceKey.Of(d.Service).Equals(IpvsRules.ServiceKey.Of(s))) servers.Add(d.RealServer);
            // The sorry server a checker put in stays.
            foreach (var h in have?.RealServers ?? new List<IpvsRealServer>())
                if (!servers.Any(x => SameEndpoint(s, x, h)) && (down.Contains(Key(s, h)) || IsSorry(s, h))) servers.Add(h);
            var copy = IpvsServiceCopy(s);
            copy.RealServers = servers;
            desired.Add(copy);
        }
        var plan2 = IpvsPlanner.Plan(desired, current);
        _reconciled += plan2.Operations.Count;
        if (plan2.Operations.Count > 0)
            Log(HostLogLevel.Warning, "", $"Reconciling IPVS with the configuration: {plan2} ({string.Join("; ", plan2.Operations.Take(10).Select(o => o.Description))}{(plan2.Operations.Count > 10 ? "; ..." : "")})");
        return Send(plan2.Operations, sw);
    }

    /// <summary>
    /// The indices of <paramref name="services"/> as <paramref name="order"/> puts them given the kernel's service order
    /// (one service dump); the file's order when the dump fails (said in the log).
    /// </summary>
    private int[] KernelOrder(IReadOnlyList<IpvsService> services, Func<IReadOnlyList<IpvsService>, IEnumerable<IpvsRules.ServiceKey>, int[]> order)
    {
        IReadOnlyList<HaPowerShell.Native.Ipvs.IpvsServiceEntry> listed;
        try { listed = _admin.Value.Kernel.GetServices(); }
        catch (HaPowerShell.Native.HaException e)
        {
            Log(HostLogLevel.Warning, "", $"reading IPVS's service order failed ({e.Message}); the configuration's order is used");
            return Enumerable.Range(0, services.Count).ToArray();
        }
        return order(services, listed.Select(IpvsRules.ServiceKey.Of));
    }

    /// <summary>Real servers whose presence and weight a checker owns now: those it holds down, and the sorry servers.</summary>
    private HashSet<string> CheckerHeld()
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in _checks.Checks)
        {
            var info = c.Info();
            foreach (var r in info.RealServers.Where(r => r.State != RealServerHealthState.Up))
                held.Add(Key(c.Definition.Service, r.RealServer));
        }
        return held;
    }

    private bool IsSorry(IpvsService s, IpvsRealServer r)
        => _checks.Checks.Any(c => IpvsRules.ServiceKey.Of(c.Definition.Service).Equals(IpvsRules.ServiceKey.Of(s))
                                   && c.Definition.SorryServer is { } a && a.Equals(r.Address));

    private static IpvsService IpvsServiceCopy(IpvsService s) => new()
    {
        Protocol = s.Protocol, Address = s.Address, Port = s.Port, FirewallMark = s.FirewallMark, AddressFamily = s.AddressFamily,
        Scheduler = s.Scheduler, PersistenceTimeout = s.PersistenceTimeout, PersistenceNetmask = s.PersistenceNetmask,
        PersistenceEngine = s.PersistenceEngine, OnePacket = s.OnePacket, SchedulerFlag = s.SchedulerFlag,
    };

    private static bool SameEndpoint(IpvsService s, IpvsRealServer a, IpvsRealServer b)
        => a.Address.Equals(b.Address) && Port(s, a) == Port(s, b);

    private static int Port(IpvsService s, IpvsRealServer r) => r.Port == 0 && s.FirewallMark == 0 ? s.Port : r.Port;

    private static string Key(IpvsService s, IpvsRealServer r) => $"{s} {r.Address} {Port(s, r)}";

    /// <summary>
    /// Sends <paramref name="ops"/> in one pipelined batch and goes on past refusals (a daemon keeps what it could
    /// apply and says what it could not): an addition that exists is sent again as a set, a removal of what is gone
    /// and a set of a real server a checker has taken out count as done.
    /// </summary>
    private KeepalivedIpvsApplyResult Send(IReadOnlyList<IpvsOperation> ops, System.Diagnostics.Stopwatch sw)
    {
        if (ops.Count == 0) return new KeepalivedIpvsApplyResult(0, 0, 0, Array.Empty<string>(), sw.Elapsed);
        var admin = _admin.Value;
        admin.CheckModules(ops.Where(o => o.Kind is IpvsOperationKind.AddService or IpvsOperationKind.UpdateService).Select(o => o.Service));
        var changes = IpvsAdmin.ToChanges(ops);
        long netlinkStart = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = admin.Kernel.Apply(changes);
        var netlink = System.Diagnostics.Stopwatch.GetElapsedTime(netlinkStart);
        var retry = new List<(IpvsOperation Op, IpvsChange Change)>();
        var errors = new List<string>();
        int applied = 0;
        for (int i = 0; i < outcome.Length; i++)
        {
            var op = ops[i];
            if (outcome[i] is not { } e) { applied++; continue; }
            switch (op.Kind)
            {
                case IpvsOperationKind.AddService when e.Errno == Errno.EEXIST:
                    retry.Add((op, new IpvsChange(IpvsChangeKind.SetService, IpvsMapping.ToEntry(op.Service))));
                    continue;
                case IpvsOperationKind.AddRealServer when e.Errno == Errno.EEXIST:
                    retry.Add((op, new IpvsChange(IpvsChangeKind.SetDest, IpvsMapping.ToIdentity(op.Service), IpvsMapping.ToDestEntry(op.Service, op.RealServer!))));
                    continue;
                case IpvsOperationKind.RemoveService or IpvsOperationKind.RemoveRealServer when e.Errno is Errno.ENOENT or Errno.ESRCH:
                case IpvsOperationKind.UpdateRealServer when e.Errno == Errno.ENOENT && IsChecked(op):
                    applied++;
                    continue;
            }
            errors.Add(Describe(op, e));
        }
        if (retry.Count > 0)
        {
            long againStart = System.Diagnostics.Stopwatch.GetTimestamp();
            var again = admin.Kernel.Apply(retry.Select(r => r.Change).ToList());
            netlink += System.Diagnostics.Stopwatch.GetElapsedTime(againStart);
            for (int i = 0; i < again.Length; i++)
            {
                if (again[i] is { } e) errors.Add(Describe(retry[i].Op, e));
                else applied++;
            }
        }
        _sent += ops.Count;
        _failed += errors.Count;
        foreach (var e in errors) Log(HostLogLevel.Error, "", e);
        return new KeepalivedIpvsApplyResult(ops.Count, applied, errors.Count, errors, sw.Elapsed, netlink);
    }

    private bool IsChecked(IpvsOperation op)
        => _checks.Checks.Any(c => IpvsRules.ServiceKey.Of(c.Definition.Service).Equals(IpvsRules.ServiceKey.Of(op.Service))
                                   && c.Definition.RealServers.Any(r => SameEndpoint(op.Service, r, op.RealServer!)));

    private static string Describe(IpvsOperation op, NetlinkException e)
    {
        var explained = IpvsAdmin.Explain(e, op.Service, op.Kind.ToString(), op.RealServer);
        return $"{op.Description}: {explained?.Message ?? e.Message}";
    }

    private void SetTimeout(IpvsTimeout? t)
    {
        if (t is null) return;
        try { _admin.Value.SetTimeout(t); }
        catch (Exception e) when (e is IpvsOperationException or NetlinkException) { Log(HostLogLevel.Error, "", $"lvs_timeouts: {e.Message}"); }
    }

    // ------------------------------------------------------------------ drain

    /// <summary>The real servers draining now, with their deadlines.</summary>
    public IReadOnlyList<(KeepalivedIpvsDrain Drain, DateTime Deadline)> Draining
    {
        get { lock (_drainSync) return _drains.ToList(); }
    }

    /// <summary>Puts a configured real server to weight 0 at run time (Suspend-HapdRealServer); the checker's recovery restores its weight.</summary>
    public void SetWeight(IpvsService service, IpvsRealServer server, int weight)
        => _admin.Value.UpdateRealServer(service, server.WithWeight(weight));

    private void DrainTick()
    {
        List<(KeepalivedIpvsDrain Drain, DateTime Deadline)> now;
        lock (_drainSync)
        {
            if (_disposed) return;
            now = _drains.ToList();
        }
        if (now.Count == 0) { _drainTimer.Change(Timeout.Infinite, Timeout.Infinite); return; }
        var done = new List<KeepalivedIpvsDrain>();
        foreach (var group in now.GroupBy(d => IpvsRules.ServiceKey.Of(d.Drain.Service)))
        {
            List<IpvsRealServer> live;
            try { live = _admin.Value.GetRealServers(group.First().Drain.Service); }
            catch (IpvsOperationException) { done.AddRange(group.Select(g => g.Drain)); continue; } // the service is gone
            catch (Exception e) { Log(HostLogLevel.Error, "", $"draining: reading {group.First().Drain.Service} failed: {e.Message}"); continue; }
            foreach (var (d, deadline) in group)
            {
                var r = live.FirstOrDefault(x => SameEndpoint(d.Service, x, d.RealServer));
                if (r is null) { done.Add(d); continue; }
                bool timedOut = _now() >= deadline;
                if (r.ActiveConnections > 0 && !timedOut) continue;
                try
                {
                    _admin.Value.RemoveRealServer(d.Service, d.RealServer);
                    Log(HostLogLevel.Information, "", timedOut
                        ? $"Drained real server {d} removed at the drain timeout with {r.ActiveConnections} active connection(s)"
                        : $"Drained real server {d} removed: no active connections");
                }
                catch (Exception e) when (e is IpvsOperationException or NetlinkException) { Log(HostLogLevel.Warning, "", $"removing drained real server {d}: {e.Message}"); }
                done.Add(d);
            }
        }
        lock (_drainSync) _drains.RemoveAll(x => done.Contains(x.Drain));
    }

    // ------------------------------------------------------------------ sync daemon

    /// <summary>The VRRP instance lvs_sync_daemon follows changed state: the sync daemon follows (Master on MASTER, Backup otherwise).</summary>
    public void VrrpStateChanged(string instance, bool master)
    {
        if (_plan.SyncDaemon is not { VrrpInstance: { } name } || name != instance) return;
        _followedMaster = master;
        ApplySyncDaemon();
    }

    private void ApplySyncDaemon()
    {
        if (_plan.SyncDaemon is not { } d) return;
        var want = KeepalivedSyncDaemonPlan.StateFor(_followedMaster && d.VrrpInstance is not null);
        if (_syncState == want) return;
        if (_syncState is { } running)
        {
            try { _admin.Value.StopSyncDaemon(running); }
            catch (Exception e) when (e is IpvsOperationException or NetlinkException) { Log(HostLogLevel.Warning, "", $"lvs_sync_daemon: stopping the {running} daemon: {e.Message}"); }
            _syncState = null;
        }
        try
        {
            _admin.Value.StartSyncDaemon(d.ToSyncDaemon(want));
            _syncState = want;
            Log(HostLogLevel.Information, "", $"lvs_sync_daemon: {want} sync daemon on {d.InterfaceName} (syncid {d.SyncId}){(d.VrrpInstance is null ? "" : $", following {d.VrrpInstance}")}");
        }
        catch (IpvsOperationException e) when (e.ErrorId == "SyncDaemonRunning")
        {
            _syncState = want;
        }
        catch (Exception e) when (e is IpvsOperationException or NetlinkException)
        {
            Log(HostLogLevel.Error, "", $"lvs_sync_daemon: starting the {want} daemon: {e.Message}");
        }
    }

    private void StopSyncDaemon(KeepalivedSyncDaemonPlan? d)
    {
        if (d is null || _syncState is not { } s) return;
        try { _admin.Value.StopSyncDaemon(s); }
        catch (Exception e) when (e is IpvsOperationException or NetlinkException) { Log(HostLogLevel.Warning, "", $"lvs_sync_daemon: stopping: {e.Message}"); }
        _syncState = null;
    }

    /// <summary>Counters and what runs, for the dumps and the control socket.</summary>
    public KeepalivedIpvsStatus Status() => new(_plan.Services.Count, _plan.RealServerCount, _checks.Checks.Count,
        Draining.Select(d => d.Drain.ToString()).ToList(), _syncState?.ToString(), _sent, _failed, _reconciled);

    private void Log(HostLogLevel level, string subject, string message)
    {
        try { _sink.Log(new HostLogEntry(DateTimeOffset.Now, level, "Ipvs", subject, message)); }
        catch (Exception) { /* a sink must not throw */ }
    }

    /// <summary>
    /// Whether <see cref="Dispose"/> takes the configuration's services out of IPVS (keepalived's default; false is
    /// keepalived's -I, --dont-release-ipvs).
    /// </summary>
    public bool ReleaseOnStop { get; set; } = true;

    /// <summary>
    /// Stops the checkers (omega as configured) and the sync daemon, then, with <see cref="ReleaseOnStop"/>, removes
    /// the running configuration's services (with their real servers) from IPVS as keepalived does on stop, in the
    /// kernel's order (<see cref="IpvsTrashOrder"/>), or clears the whole table with lvs_flush_onstop. Services the
    /// configuration does not name stay unless the table is flushed.
    /// </summary>
    public void Dispose()
    {
        lock (_drainSync)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _drainTimer.Dispose();
        _checks.Dispose();
        StopSyncDaemon(_plan.SyncDaemon);
        if (ReleaseOnStop && _plan.Services.Count > 0) Release(_plan);
    }

    private void Release(KeepalivedIpvsPlan plan)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            if (plan.FlushOnStop)
            {
                _admin.Value.Clear();
                Log(HostLogLevel.Information, "", $"lvs_flush_onstop: IPVS table flushed in {Ms(sw.Elapsed)} ms");
                return;
            }
            var order = KernelOrder(plan.Services, IpvsTrashOrder.ServiceOrderForRemoval);
            var ops = new List<IpvsOperation>(order.Length);
            foreach (int i in order)
            {
                var s = plan.Services[i];
                ops.Add(new IpvsOperation(IpvsOperationKind.RemoveService, s, null, () => $"Remove service {s}"));
            }
            var r = Send(ops, sw);
            Log(r.Failed == 0 ? HostLogLevel.Information : HostLogLevel.Warning, "",
                $"Removed the configuration's {plan.Services.Count} IPVS service(s) in {Ms(sw.Elapsed)} ms{(r.Failed == 0 ? "" : $", {r.Failed} refused")} (-I keeps them)");
        }
        catch (HaPowerShell.Native.HaException e)
        {
            Log(HostLogLevel.Error, "", $"removing the configuration's IPVS services on stop: {e.Message}");
        }
    }

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
}
