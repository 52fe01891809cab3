using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Keepalived.Runtime;

/// <summary>A real server taken out of the configuration and left in IPVS with weight 0 until its active connections end.</summary>
public sealed record KeepalivedIpvsDrain(IpvsService Service, IpvsRealServer RealServer)
{
    public override string ToString() => $"{Service} -> {RealServer.Endpoint}";
}

/// <summary>
/// What a reload changes in the IPVS and checker half, computed from the old and the new configuration alone (the
/// kernel's table is not read): the IPVS operations (<see cref="IpvsPlanner"/> over the two configurations' tables),
/// the real servers to drain instead of removing, the checker changes (<see cref="HealthCheckReconfigurePlan"/>:
/// checkers whose definition stays keep running with their state), and whether the timeouts or the sync daemon
/// changed. Pure.
/// </summary>
public sealed class KeepalivedIpvsDiff
{
    private KeepalivedIpvsDiff(IReadOnlyList<IpvsOperation> operations, IReadOnlyList<KeepalivedIpvsDrain> drains, HealthCheckReconfigurePlan checkers,
        bool timeoutChanged, bool syncDaemonChanged)
    {
        Operations = operations;
        Drains = drains;
        Checkers = checkers;
        TimeoutChanged = timeoutChanged;
        SyncDaemonChanged = syncDaemonChanged;
    }

    /// <summary>The IPVS changes to send, in the planner's order (removals first, then updates, then additions).</summary>
    public IReadOnlyList<IpvsOperation> Operations { get; }

    /// <summary>Real servers set to weight 0 by <see cref="Operations"/> and to be removed when drained (empty unless draining was asked for).</summary>
    public IReadOnlyList<KeepalivedIpvsDrain> Drains { get; }

    public HealthCheckReconfigurePlan Checkers { get; }
    public bool TimeoutChanged { get; }
    public bool SyncDaemonChanged { get; }

    /// <summary>
    /// The changes from <paramref name="old"/> to <paramref name="now"/>. With <paramref name="drain"/> a real server
    /// removed from a service that stays is set to weight 0 (new connections go elsewhere, live ones go on) and listed
    /// in <see cref="Drains"/>; without, it is removed at once, as keepalived does. A removed service goes with its
    /// real servers either way.
    /// </summary>
    public static KeepalivedIpvsDiff Compute(KeepalivedIpvsPlan old, KeepalivedIpvsPlan now, bool drain)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(now);
        // A plan holds each service once (From refuses a second) and each real server of a service once (the parser drops a
        // repeated real_server), so services at the same place are paired, and not looked into when written alike.
        var plan = IpvsPlanner.PlanDistinct(now.Services, old.Services, now.Image, old.Image);
        var ops = new List<IpvsOperation>(plan.Operations.Count);
        var drains = new List<KeepalivedIpvsDrain>();
        foreach (var op in plan.Operations)
        {
            if (drain && op.Kind == IpvsOperationKind.RemoveRealServer && op.RealServer is { } r)
            {
                var zero = r.WithWeight(0);
                ops.Add(new IpvsOperation(IpvsOperationKind.UpdateRealServer, op.Service, zero,
                    $"Drain real server {r.Endpoint} of {op.Service} (weight 0 until its connections end)", previousRealServer: r));
                drains.Add(new KeepalivedIpvsDrain(op.Service, zero));
                continue;
            }
            ops.Add(op);
        }
        var checkers = HealthCheckReconfigurePlan.Compute(old.HealthChecks, now.HealthChecks);
        bool timeout = !SameTimeout(old.Timeout, now.Timeout);
        bool sync = old.SyncDaemon != now.SyncDaemon;
        return new KeepalivedIpvsDiff(ops, drains, checkers, timeout, sync);
    }

    private static bool SameTimeout(IpvsTimeout? a, IpvsTimeout? b)
        => a is null ? b is null : b is not null && a.Tcp == b.Tcp && a.TcpFin == b.TcpFin && a.Udp == b.Udp;

    /// <summary>Operations counted by kind, for the reload's log line.</summary>
    public string Summary()
    {
        int Count(params IpvsOperationKind[] k) => Operations.Count(o => k.Contains(o.Kind));
        int checkers(HealthCheckChange c) => Checkers.Items.Count(i => i.Change == c);
        return $"IPVS {Count(IpvsOperationKind.AddService)} service(s) added, {Count(IpvsOperationKind.UpdateService)} updated, {Count(IpvsOperationKind.RemoveService)} removed; " +
               $"{Count(IpvsOperationKind.AddRealServer)} real server(s) added, {Count(IpvsOperationKind.UpdateRealServer) - Drains.Count} updated, " +
               $"{Count(IpvsOperationKind.RemoveRealServer)} removed, {Drains.Count} draining; checkers {checkers(HealthCheckChange.Unchanged)} kept, " +
               $"{checkers(HealthCheckChange.Replaced)} replaced, {checkers(HealthCheckChange.Added)} added, {checkers(HealthCheckChange.Removed)} removed";
    }
}
