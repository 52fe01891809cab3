using System.Net;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Health;

/// <summary>UP or DOWN, as keepalived says it of a real server.</summary>
public enum RealServerHealthState
{
    Up,
    Down,
}

/// <summary>What a <see cref="HealthCheckEvent"/> reports.</summary>
public enum HealthCheckEventKind
{
    /// <summary>A real server passed its check after being DOWN (or at start).</summary>
    RealServerUp,

    /// <summary>A real server failed its check and all its retries.</summary>
    RealServerDown,

    /// <summary>A MISC_CHECK with misc_dynamic changed the weight of an UP real server.</summary>
    WeightChanged,

    /// <summary>The sum of UP weights rose to quorum + hysteresis: the sorry server (if any) leaves.</summary>
    QuorumUp,

    /// <summary>The sum of UP weights fell below quorum - hysteresis: the sorry server (if any) comes in.</summary>
    QuorumDown,

    /// <summary>An IPVS change the checker wanted failed; it is tried again after the next check.</summary>
    IpvsError,
}

/// <summary>
/// The keepalived knobs of one virtual server's checkers. Times are seconds, as in keepalived.conf.
/// </summary>
public sealed class CheckerPolicy
{
    /// <summary>delay_loop: time between checks of one real server.</summary>
    public double DelayLoopSeconds { get; set; } = 60;

    /// <summary>retry: extra attempts after a failure before the real server is DOWN.</summary>
    public int Retry { get; set; } = 1;

    /// <summary>delay_before_retry: time between a failed attempt and the next.</summary>
    public double DelayBeforeRetrySeconds { get; set; } = 1;

    /// <summary>warmup: the first check of each real server runs after a random delay in [0, warmup].</summary>
    public double WarmupSeconds { get; set; }

    /// <summary>alpha: real servers start DOWN (out of the service) until their first check passes.</summary>
    public bool Alpha { get; set; }

    /// <summary>omega: on stop, real servers go DOWN (notify_down runs) and are removed with the sorry server.</summary>
    public bool Omega { get; set; }

    /// <summary>inhibit_on_failure: a DOWN real server stays in the service with weight 0.</summary>
    public bool InhibitOnFailure { get; set; }

    /// <summary>quorum: the smallest sum of UP weights that keeps the service up (keepalived default 1).</summary>
    public int Quorum { get; set; } = 1;

    /// <summary>hysteresis: quorum is lost below quorum - hysteresis and regained at quorum + hysteresis.</summary>
    public int Hysteresis { get; set; }

    /// <summary>sorry_server: put into the service while quorum is lost; null = none.</summary>
    public IpvsRealServer? SorryServer { get; set; }

    /// <summary>notify_up / notify_down: command lines run (through /bin/sh -c) when a real server changes state.</summary>
    public string? NotifyUp { get; set; }

    public string? NotifyDown { get; set; }

    /// <summary>quorum_up / quorum_down: command lines run (through /bin/sh -c) when quorum is gained / lost.</summary>
    public string? NotifyQuorumUp { get; set; }

    public string? NotifyQuorumDown { get; set; }

    /// <summary>Check and report only: never change IPVS.</summary>
    public bool MonitorOnly { get; set; }

    /// <summary>A copy with the same settings (a checker keeps its own, whatever happens to the one it was given).</summary>
    public CheckerPolicy Copy() => (CheckerPolicy)MemberwiseClone();

    public void Validate()
    {
        if (!(DelayLoopSeconds > 0) || DelayLoopSeconds > 86400)
            throw HealthCheckException.Argument("InvalidDelayLoop", $"-DelayLoop {DelayLoopSeconds} must be more than 0 and at most 86400 seconds.", DelayLoopSeconds);
        HealthValidation.Retry(Retry);
        HealthValidation.Delay(DelayBeforeRetrySeconds, "-DelayBeforeRetry");
        if (WarmupSeconds < 0 || WarmupSeconds > 86400 || double.IsNaN(WarmupSeconds))
            throw HealthCheckException.Argument("InvalidWarmup", $"-Warmup {WarmupSeconds} must be between 0 and 86400 seconds.", WarmupSeconds);
        if (Quorum < 1 || Quorum > int.MaxValue / 2)
            throw HealthCheckException.Argument("InvalidQuorum", $"-Quorum {Quorum} must be at least 1.", Quorum);
        if (Hysteresis < 0 || Hysteresis >= Quorum)
            throw HealthCheckException.Argument("InvalidHysteresis", $"-Hysteresis {Hysteresis} must be at least 0 and less than -Quorum ({Quorum}).", Hysteresis);
        if (SorryServer is { Weight: < 0 or > 65535 })
            throw HealthCheckException.Argument("InvalidWeight", $"The sorry server's weight {SorryServer.Weight} must be between 0 and 65535.", SorryServer);
    }
}

/// <summary>One check of one real server, with no retries of its own (the checker does the retrying).</summary>
public interface IHealthCheck
{
    /// <summary>What is checked, as text ("192.0.2.10:80").</summary>
    string Target { get; }

    Task<HealthCheckResult> RunAsync(CancellationToken cancellation);
}

/// <summary>The IPVS changes a checker makes. Implemented over IpvsAdmin by the hosts; in memory by tests.</summary>
public interface IIpvsHealthActions
{
    /// <summary>Adds the real server with this weight, or sets its weight if it is there.</summary>
    void SetRealServer(IpvsService service, IpvsRealServer server, int weight);

    /// <summary>Removes the real server; one that is not there is not an error.</summary>
    void RemoveRealServer(IpvsService service, IpvsRealServer server);
}

/// <summary>One IPVS change computed by the checker: Weight null = remove.</summary>
public sealed record IpvsHealthAction(IpvsRealServer Server, int? Weight, bool IsSorryServer)
{
    public override string ToString() => Weight is null ? $"remove {Server.Endpoint}" : $"set {Server.Endpoint} weight {Weight}";
}

/// <summary>A check that could not run at all (an exception), as a failed result.</summary>
public sealed class CheckErrorResult : HealthCheckResult
{
    internal HealthCheckType Type { get; init; }
    public string CheckTarget { get; init; } = "";
    private protected override HealthCheckType TypeOfCheck => Type;
    public override string Target => CheckTarget;
}

/// <summary>A state change or notice of a checker, as PowerShell sees it (engine event 'HaPowerShell.HealthCheck').</summary>
public abstract class HealthCheckEventJson
{
    private protected HealthCheckEventKind kind;
    private protected RealServerHealthState? oldState, newState;

    /// <summary>The event's kind by name (<see cref="HealthCheckEventKind"/>).</summary>
    public string Kind { get => kind.ToString(); init => kind = JsonShape.Enum<HealthCheckEventKind>(value); }

    /// <summary>The checker's name.</summary>
    public string Checker { get; init; } = "";

    public IpvsService? Service { get; init; }

    /// <summary>The real server concerned; null for quorum events.</summary>
    public IpvsRealServer? RealServer { get; init; }

    public string? Address => RealServer?.Address.ToString();
    public int Port => RealServer?.Port ?? 0;

    public string? OldState { get => oldState?.ToString(); init => oldState = JsonShape.EnumOrNull<RealServerHealthState>(value); }
    public string? NewState { get => newState?.ToString(); init => newState = JsonShape.EnumOrNull<RealServerHealthState>(value); }

    /// <summary>The weight the real server has in the service after this event.</summary>
    public int? Weight { get; init; }

    /// <summary>Sum of UP weights after this event.</summary>
    public long WeightSum { get; init; }

    /// <summary>The check result that caused the event, if one did.</summary>
    public HealthCheckResult? Result { get; init; }

    public string? Message { get; init; }

    public DateTimeOffset Time { get; init; }

    public override string ToString() => kind switch
    {
        HealthCheckEventKind.QuorumUp or HealthCheckEventKind.QuorumDown => $"{Checker}: {Kind} (weight sum {WeightSum})",
        _ => $"{Checker}: {RealServer?.Endpoint} {Kind}{(Message is null ? "" : " (" + Message + ")")}",
    };
}

/// <summary>A checker's event; typed internal twins of the JSON face.</summary>
public sealed class HealthCheckEvent : HealthCheckEventJson
{
    internal new HealthCheckEventKind Kind { get => kind; init => kind = value; }
    internal new IPAddress? Address => RealServer?.Address;
    internal new RealServerHealthState? OldState { get => oldState; init => oldState = value; }
    internal new RealServerHealthState? NewState { get => newState; init => newState = value; }
}

/// <summary>
/// The live state of one check of one real server under a checker (see Get-IpvsHealthCheck). A real
/// server with several checks (keepalived: several checkers in one real_server block) has one of
/// these per check; they share the real server's state (<see cref="State"/>, <see cref="Weight"/>,
/// <see cref="IpvsWeight"/>, <see cref="LastChange"/>), which is UP only while every check is UP
/// (<see cref="CheckState"/>).
/// </summary>
public abstract class RealServerHealthJson
{
    /// <summary>What the checks of one real server share.</summary>
    internal sealed class ServerState
    {
        public RealServerHealthState State;
        public int Weight;
        public int? IpvsWeight;
        public bool Applied;
        public DateTimeOffset? LastChange;
        public int FailedChecks;
        public ServerState Clone() => (ServerState)MemberwiseClone();
    }

    private protected RealServerHealthJson(IpvsRealServer server, int configuredWeight, int index, ServerState shared, int checkIndex, HealthCheckType? checkType)
    {
        RealServer = server;
        ConfiguredWeight = configuredWeight;
        Shared = shared;
        Shared.Weight = configuredWeight;
        Index = index;
        CheckIndex = checkIndex;
        this.checkType = checkType;
    }

    private protected readonly HealthCheckType? checkType;
    private protected RealServerHealthState checkState;
    private protected TimeSpan lastLateness, maxLateness;

    internal int Index { get; }
    internal ServerState Shared { get; private protected set; }

    /// <summary>Whether this is the first check of its real server (the one that stands for the server in IPVS changes and counts).</summary>
    internal bool IsPrimary => CheckIndex == 0;

    public IpvsRealServer RealServer { get; }
    public string Address => RealServer.Address.ToString();
    public int Port => RealServer.Port;
    public string Endpoint => RealServer.Endpoint;

    /// <summary>Which check of the real server this is (0 for the first), and its type.</summary>
    public int CheckIndex { get; }

    /// <summary>Misc, Tcp or Http; null when the real server has a single check.</summary>
    public string? CheckType => checkType?.ToString();

    /// <summary>The real server's state (Up or Down): UP only while all its checks are UP.</summary>
    public string State => Shared.State.ToString();

    /// <summary>This check's own state (the same as <see cref="State"/> when the real server has one check).</summary>
    public string CheckState => checkState.ToString();

    /// <summary>The weight the real server was configured with; restored when it comes back UP.</summary>
    public int ConfiguredWeight { get; }

    /// <summary>The weight it has while UP (the configured one, or the last misc_dynamic one).</summary>
    public int Weight { get => Shared.Weight; internal set => Shared.Weight = value; }

    /// <summary>What IPVS holds for it as far as the checker knows: the weight, or null when absent.</summary>
    public int? IpvsWeight { get => Shared.IpvsWeight; internal set => Shared.IpvsWeight = value; }

    internal bool Applied { get => Shared.Applied; set => Shared.Applied = value; }

    /// <summary>Failed attempts of this check since its last success (retries used).</summary>
    public int FailedAttempts { get; internal set; }

    public DateTimeOffset NextCheck { get; internal set; }
    internal bool InFlight { get; set; }
    internal bool Scheduled { get; set; }

    /// <summary>
    /// The last result that differed from the one before (success after failure, a new failure while
    /// retrying...). The TCP loop does not make a new object for a check whose outcome repeats; see
    /// <see cref="LastCheck"/> for when the last check finished.
    /// </summary>
    public HealthCheckResult? LastResult { get; internal set; }

    /// <summary>When the last check finished.</summary>
    public DateTimeOffset? LastCheck { get; internal set; }

    /// <summary>When the real server last changed state.</summary>
    public DateTimeOffset? LastChange { get => Shared.LastChange; internal set => Shared.LastChange = value; }

    public long Checks { get; internal set; }
    public long Failures { get; internal set; }

    /// <summary>How late the last check started after its due time, and the worst so far, in seconds.</summary>
    public double LastLateness => JsonShape.Seconds(lastLateness);

    public double MaxLateness => JsonShape.Seconds(maxLateness);

    /// <summary>The real server this state is about (its service is the checker's).</summary>
    public IpvsService? Service => RealServer.Service;

    public override string ToString() => CheckType is null ? $"{Endpoint} {State}" : $"{Endpoint} {State} ({CheckType} {CheckState})";
}

/// <summary>The live state of one check of one real server; typed internal twins of the JSON face.</summary>
public sealed class RealServerHealth : RealServerHealthJson
{
    internal RealServerHealth(IpvsRealServer server, int configuredWeight, int index, ServerState shared, int checkIndex, HealthCheckType? checkType)
        : base(server, configuredWeight, index, shared, checkIndex, checkType) { }

    internal new IPAddress Address => RealServer.Address;
    internal new HealthCheckType? CheckType => checkType;
    internal new RealServerHealthState State { get => Shared.State; set => Shared.State = value; }
    internal new RealServerHealthState CheckState { get => checkState; set => checkState = value; }
    internal new TimeSpan LastLateness { get => lastLateness; set => lastLateness = value; }
    internal new TimeSpan MaxLateness { get => maxLateness; set => maxLateness = value; }

    internal RealServerHealth Copy()
    {
        var c = (RealServerHealth)MemberwiseClone();
        c.Shared = Shared.Clone();
        return c;
    }
}

/// <summary>What one step of the checker decided: IPVS changes to make (in order) and events to publish.</summary>
public sealed class CheckerStep
{
    public List<IpvsHealthAction> Actions { get; } = new();
    public List<HealthCheckEvent> Events { get; } = new();
    public bool IsEmpty => Actions.Count == 0 && Events.Count == 0;
}
