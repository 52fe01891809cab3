using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Health;

public enum HealthCheckerStatus
{
    Running,
    Stopped,
    Failed,
}

/// <summary>A snapshot of a running (or stopped) checker: what Get-IpvsHealthCheck returns (the JSON face).</summary>
public abstract class IpvsHealthCheckInfoJson
{
    private protected HealthCheckType[] checkType = Array.Empty<HealthCheckType>();
    private protected HealthCheckerStatus status;
    private protected TimeSpan maxLateness;

    public int Id { get; init; }
    public string Name { get; init; } = "";
    public IpvsService Service { get; init; } = null!;
    /// <summary>The checks of each real server (keepalived: the checkers of each real_server); a real server is UP when all pass.</summary>
    public string[] CheckType { get => checkType.Select(t => t.ToString()).ToArray(); init => checkType = value.Select(JsonShape.Enum<HealthCheckType>).ToArray(); }

    /// <summary>Running, Stopped or Failed.</summary>
    public string Status { get => status.ToString(); init => status = JsonShape.Enum<HealthCheckerStatus>(value); }
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

    /// <summary>Worst lateness of a check start after its due time, over all real servers, in seconds.</summary>
    public double MaxLateness { get => JsonShape.Seconds(maxLateness); init => maxLateness = JsonShape.Duration(value); }

    /// <summary>Checks by lateness of their start, in ms (see <see cref="HealthChecker.LatenessHistogram"/>); empty before the first check.</summary>
    public long[] LatenessHistogram { get; init; } = Array.Empty<long>();

    public CheckerPolicy Policy { get; init; } = null!;
    public RealServerHealth[] RealServers { get; init; } = Array.Empty<RealServerHealth>();
    public HealthCheckEvent[] RecentEvents { get; init; } = Array.Empty<HealthCheckEvent>();
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? StopTime { get; init; }
    public string? Error { get; init; }

    public override string ToString() => $"{Name} ({Service}): {Status}, {Up} up, {Down} down";
}

/// <summary>A snapshot of a checker; typed internal twins of the JSON face.</summary>
public sealed class IpvsHealthCheckInfo : IpvsHealthCheckInfoJson
{
    internal new HealthCheckType[] CheckType { get => checkType; init => checkType = value; }
    internal new HealthCheckerStatus Status { get => status; init => status = value; }
    internal new TimeSpan MaxLateness { get => maxLateness; init => maxLateness = value; }

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
