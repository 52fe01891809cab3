using HaPowerShell.Core.Ipvs;
using HaPowerShell.Native;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Core.Health;

/// <summary>The checker's IPVS changes over <see cref="IpvsAdmin"/> (Start-IpvsHealthCheck and the daemon).</summary>
public sealed class IpvsAdminHealthActions : IIpvsHealthActions
{
    private readonly Lazy<IpvsAdmin> _lazy;
    private IpvsAdmin _admin => _lazy.Value;

    public IpvsAdminHealthActions(IpvsAdmin admin) => _lazy = new Lazy<IpvsAdmin>(admin);

    /// <summary>Opens IPVS on the first change, not before.</summary>
    public IpvsAdminHealthActions(Func<IpvsAdmin> admin) => _lazy = new Lazy<IpvsAdmin>(admin, LazyThreadSafetyMode.ExecutionAndPublication);

    // Straight to the kernel: IpvsAdmin's Add/Update read the table back to check the kernel kept
    // every setting, which costs a dump of the whole service per change (10,000 real servers).
    public void SetRealServer(IpvsService service, IpvsRealServer server, int weight)
    {
        var r = WithWeight(server, weight);
        IpvsAdmin.ValidateRealServer(service, r);
        var id = IpvsMapping.ToIdentity(service);
        var dest = IpvsMapping.ToDestEntry(service, r);
        try
        {
            _admin.Kernel.SetDestination(id, dest);
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            Call(() => _admin.Kernel.NewDestination(id, dest), service, "add real server", r);
        }
        catch (NetlinkException e)
        {
            throw IpvsAdmin.Explain(e, service, "edit real server", r) ?? (Exception)e;
        }
    }

    public void RemoveRealServer(IpvsService service, IpvsRealServer server)
    {
        try
        {
            _admin.Kernel.DeleteDestination(IpvsMapping.ToIdentity(service), IpvsMapping.ToDestEntry(service, server));
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            // already out
        }
        catch (NetlinkException e)
        {
            throw IpvsAdmin.Explain(e, service, "delete real server", server) ?? (Exception)e;
        }
    }

    private static void Call(Action call, IpvsService service, string what, IpvsRealServer r)
    {
        try { call(); }
        catch (NetlinkException e) { throw IpvsAdmin.Explain(e, service, what, r) ?? (Exception)e; }
    }

    private static IpvsRealServer WithWeight(IpvsRealServer r, int weight) => new()
    {
        Service = r.Service,
        Address = r.Address,
        Port = r.Port,
        ForwardingMethod = r.ForwardingMethod,
        Weight = weight,
        UpperThreshold = r.UpperThreshold,
        LowerThreshold = r.LowerThreshold,
        TunnelType = r.TunnelType,
        TunnelPort = r.TunnelPort,
        TunnelChecksum = r.TunnelChecksum,
    };
}

public enum HealthCheckerStatus
{
    Running,
    Stopped,
    Failed,
}

/// <summary>A snapshot of a running (or stopped) checker: what Get-IpvsHealthCheck returns.</summary>
public sealed class IpvsHealthCheckInfo
{
    public int Id { get; init; }
    public string Name { get; init; } = "";
    public IpvsService Service { get; init; } = null!;
    /// <summary>The checks of each real server (keepalived: the checkers of each real_server); a real server is UP when all pass.</summary>
    public HealthCheckType[] CheckType { get; init; } = Array.Empty<HealthCheckType>();
    public HealthCheckerStatus Status { get; init; }
    public bool QuorumUp { get; init; }
    public long WeightSum { get; init; }
    public int Quorum { get; init; }
    public int Hysteresis { get; init; }
    public bool SorryServerActive { get; init; }
    public int Up { get; init; }
    public int Down { get; init; }
    public int InFlight { get; init; }

    /// <summary>Whether the checks run on the dedicated TCP loop (one thread, epoll, non-blocking connects) rather than as .NET tasks.</summary>
    public bool TcpLoop { get; init; }
    public long Checks { get; init; }
    public long Failures { get; init; }

    /// <summary>Worst lateness of a check start after its due time, over all real servers.</summary>
    public TimeSpan MaxLateness { get; init; }

    /// <summary>Checks by lateness of their start, in ms (see <see cref="HealthChecker.LatenessHistogram"/>).</summary>
    public long[] LatenessHistogram { get; init; } = Array.Empty<long>();

    public CheckerPolicy Policy { get; init; } = null!;
    public RealServerHealth[] RealServers { get; init; } = Array.Empty<RealServerHealth>();
    public HealthCheckEvent[] RecentEvents { get; init; } = Array.Empty<HealthCheckEvent>();
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? StopTime { get; init; }
    public string? Error { get; init; }

    public override string ToString() => $"{Name} ({Service}): {Status}, {Up} up, {Down} down";

    public static IpvsHealthCheckInfo From(int id, HealthCheckRunner runner, HealthCheckType[] type)
    {
        return runner.Read(c =>
        {
            var servers = c.RealServers.Select(s => s.Copy()).ToArray();
            return new IpvsHealthCheckInfo
            {
                Id = id,
                Name = c.Name,
                Service = c.Service,
                CheckType = type,
                Status = runner.Fault is not null ? HealthCheckerStatus.Failed : runner.IsRunning ? HealthCheckerStatus.Running : HealthCheckerStatus.Stopped,
                QuorumUp = c.QuorumUp,
                WeightSum = c.WeightSum,
                Quorum = c.Policy.Quorum,
                Hysteresis = c.Policy.Hysteresis,
                SorryServerActive = c.SorryServerActive,
                Up = servers.Count(s => s.IsPrimary && s.State == RealServerHealthState.Up),
                Down = servers.Count(s => s.IsPrimary && s.State == RealServerHealthState.Down),
                InFlight = runner.InFlight,
                TcpLoop = runner.UsesTcpLoop,
                Checks = servers.Sum(s => s.Checks),
                Failures = servers.Sum(s => s.Failures),
                MaxLateness = servers.Length == 0 ? TimeSpan.Zero : servers.Max(s => s.MaxLateness),
                LatenessHistogram = c.LatenessHistogram(),
                Policy = c.Policy,
                RealServers = servers,
                RecentEvents = runner.RecentEvents().ToArray(),
                StartTime = runner.StartTime,
                StopTime = runner.StopTime,
                Error = runner.Fault?.Message,
            };
        });
    }
}
