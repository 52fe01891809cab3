using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Health;

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


    /// <summary>
    /// The snapshot of <paramref name="checker"/> (the caller holds whatever keeps it still) with what its
    /// host knows: whether it runs, checks in flight, whether the TCP loop runs it, recent events, times, fault.
    /// </summary>
    public static IpvsHealthCheckInfo From(int id, HealthChecker checker, HealthCheckType[] type, HealthCheckerStatus status,
        int inFlight, bool tcpLoop, HealthCheckEvent[] recentEvents, DateTimeOffset? startTime, DateTimeOffset? stopTime, string? error)
    {
        var c = checker;
        var servers = c.RealServers.Select(s => s.Copy()).ToArray();
        return new IpvsHealthCheckInfo
        {
            Id = id,
            Name = c.Name,
            Service = c.Service,
            CheckType = type,
            Status = status,
            QuorumUp = c.QuorumUp,
            WeightSum = c.WeightSum,
            Quorum = c.Policy.Quorum,
            Hysteresis = c.Policy.Hysteresis,
            SorryServerActive = c.SorryServerActive,
            Up = servers.Count(s => s.IsPrimary && s.State == RealServerHealthState.Up),
            Down = servers.Count(s => s.IsPrimary && s.State == RealServerHealthState.Down),
            InFlight = inFlight,
            TcpLoop = tcpLoop,
            Checks = servers.Sum(s => s.Checks),
            Failures = servers.Sum(s => s.Failures),
            MaxLateness = servers.Length == 0 ? TimeSpan.Zero : servers.Max(s => s.MaxLateness),
            LatenessHistogram = c.LatenessHistogram(),
            Policy = c.Policy,
            RealServers = servers,
            RecentEvents = recentEvents,
            StartTime = startTime,
            StopTime = stopTime,
            Error = error,
        };
    }
}
