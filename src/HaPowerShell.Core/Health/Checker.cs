using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Health;

/// <summary>
/// keepalived's checker semantics for the real servers of one virtual server, with no I/O and no
/// clock of its own: the caller says what time it is. Not thread-safe; <see cref="HealthCheckRunner"/>
/// calls it under a lock.
/// <list type="bullet">
/// <item>Each real server is checked every delay_loop; a failed attempt is retried after
/// delay_before_retry up to retry times; only when all fail does the server go DOWN. A DOWN
/// server is checked every delay_loop, without retries. One success makes it UP and resets the
/// retries.</item>
/// <item>alpha: servers start DOWN; otherwise UP. warmup: first checks spread over [0, warmup].</item>
/// <item>DOWN = removed from the service, or weight 0 with inhibit_on_failure. UP again = the
/// configured weight (or the misc_dynamic weight the check reported).</item>
/// <item>Several checks per real server (keepalived: several checkers in one real_server): each
/// has its own retries and schedule; the real server is UP only while all of them are UP, goes DOWN
/// when the first one fails for good and comes back UP when the last failing one passes.</item>
/// <item>Quorum over the sum of UP weights with hysteresis: lost when the sum is 0 or below
/// quorum - hysteresis, regained at quorum + hysteresis. While it is lost, the sorry server is in the
/// service and the real servers are out (weight 0 with inhibit_on_failure).</item>
/// </list>
/// IPVS changes are computed as a diff against what was applied, adds and weight changes before
/// removals (so a service is never left empty in between).
/// </summary>
public sealed class HealthChecker
{
    private readonly List<RealServerHealth> _servers;
    private readonly PriorityQueue<RealServerHealth, DateTimeOffset> _queue = new();
    private readonly Func<double> _random;
    private static readonly Func<double> SharedRandom = Random.Shared.NextDouble; // one delegate for every checker
    private readonly HashSet<int> _dirty = new();
    private int? _sorryApplied;
    private bool _sorryKnown;
    private long _weightSum;
    private bool _started;

    /// <param name="checkTypes">The checks each real server has, in order (null: one check of unnamed type).</param>
    public HealthChecker(string name, IpvsService service, IEnumerable<IpvsRealServer> servers, CheckerPolicy policy,
        Func<double>? random = null, Func<IpvsRealServer, int>? configuredWeight = null, IReadOnlyList<HealthCheckType>? checkTypes = null)
    {
        policy.Validate();
        Name = name;
        Service = service;
        Policy = policy;
        _random = random ?? SharedRandom;
        if (checkTypes is { Count: 0 }) throw HealthCheckException.Argument("NoCheckType", "Give at least one check type.");
        int perServer = checkTypes?.Count ?? 1;
        CheckTypes = checkTypes?.ToArray() ?? Array.Empty<HealthCheckType>();
        int i = 0;
        _servers = new List<RealServerHealth>();
        foreach (var r in servers)
        {
            var shared = new RealServerHealth.ServerState();
            int weight = configuredWeight?.Invoke(r) ?? r.Weight;
            for (int k = 0; k < perServer; k++)
                _servers.Add(new RealServerHealth(r, weight, i++, shared, k, checkTypes?[k]));
        }
        foreach (var s in _servers)
            if (s.ConfiguredWeight is < 0 or > 65535)
                throw HealthCheckException.Argument("InvalidWeight", $"Weight {s.ConfiguredWeight} of {s.Endpoint} must be between 0 and 65535.", s.RealServer);
        var dup = _servers.Where(s => s.IsPrimary).GroupBy(s => s.Endpoint).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
            throw HealthCheckException.Argument("DuplicateRealServer", $"Real server {dup.Key} is given twice.", dup.Key);
    }

    public string Name { get; }
    public IpvsService Service { get; }
    public CheckerPolicy Policy { get; }
    /// <summary>One entry per check of each real server (one per real server when each has one check), real server by real server.</summary>
    public IReadOnlyList<RealServerHealth> RealServers => _servers;

    /// <summary>The checks of every real server, in order (empty when not named).</summary>
    public IReadOnlyList<HealthCheckType> CheckTypes { get; }

    /// <summary>Whether the service has quorum now.</summary>
    public bool QuorumUp { get; private set; }

    /// <summary>Sum of the weights of UP real servers.</summary>
    public long WeightSum => _weightSum;

    /// <summary>Whether the sorry server is (as far as the checker knows) in the service.</summary>
    /// <summary>
    /// The sorry server is in IPVS as far as this checker knows: it asked for it and no refusal of that change came
    /// back (<see cref="ActionFailed"/>). A refused add reads false until a retry gets it in.
    /// </summary>
    public bool SorryServerActive => _sorryApplied is not null && _sorryKnown;

    /// <summary>
    /// The caller keeps the due times itself (the TCP loop's timer heap): the checker only sets
    /// <see cref="RealServerHealth.NextCheck"/> and <see cref="TakeDue"/> returns nothing; the caller
    /// starts each check with <see cref="Begin"/>. Set before <see cref="Start"/>.
    /// </summary>
    public bool ExternalScheduling { get; set; }

    /// <summary>IPVS changes are owed after a failure (<see cref="Retry"/> has work to do).</summary>
    public bool Owed => !Policy.MonitorOnly && (_dirty.Count > 0 || !_sorryKnown);

    /// <summary>The earliest time a check is due, or null when none is scheduled.</summary>
    public DateTimeOffset? NextDue => _queue.TryPeek(out _, out var due) ? due : null;

    /// <summary>Initial states (alpha), the first quorum, the IPVS changes that make the service match, first checks scheduled.</summary>
    public CheckerStep Start(DateTimeOffset now)
    {
        if (_started) throw new InvalidOperationException("The checker has already started.");
        _started = true;
        var step = new CheckerStep();
        int perServer = Math.Max(1, CheckTypes.Count);
        foreach (var s in _servers)
        {
            s.CheckState = Policy.Alpha ? RealServerHealthState.Down : RealServerHealthState.Up;
            if (s.IsPrimary)
            {
                s.State = s.CheckState;
                s.Shared.FailedChecks = Policy.Alpha ? perServer : 0;
                s.LastChange = now;
                if (s.State == RealServerHealthState.Up) _weightSum += s.Weight;
                _dirty.Add(s.Index);
            }
            Schedule(s, now + TimeSpan.FromSeconds(Policy.WarmupSeconds * _random()));
        }
        QuorumUp = _weightSum > 0 && _weightSum >= Policy.Quorum;
        if (!QuorumUp)
            step.Events.Add(Event(HealthCheckEventKind.QuorumDown, null, null, null, null, now, "no quorum at start"));
        Reconcile(step, all: true);
        return step;
    }

    /// <summary>Takes the real servers whose check is due at <paramref name="now"/>; they are in flight until <see cref="Complete"/>.</summary>
    public List<RealServerHealth> TakeDue(DateTimeOffset now)
    {
        var due = new List<RealServerHealth>();
        while (_queue.TryPeek(out var s, out var at) && at <= now)
        {
            _queue.Dequeue();
            s.Scheduled = false;
            s.InFlight = true;
            s.LastLateness = now - at;
            if (s.LastLateness > s.MaxLateness) s.MaxLateness = s.LastLateness;
            due.Add(s);
        }
        return due;
    }

    /// <summary>With <see cref="ExternalScheduling"/>: the check of <paramref name="s"/> due now starts at <paramref name="at"/>.</summary>
    public void Begin(RealServerHealth s, DateTimeOffset at)
    {
        s.Scheduled = false;
        s.InFlight = true;
        Started(s, at);
    }

    /// <summary>
    /// The outcome of a taken check when it changes nothing but the counters and the next due time
    /// (success of an UP real server with no retries used and no weight of its own; failure of a DOWN
    /// one), without allocating: the same decisions as <see cref="Complete"/>, which it leaves to
    /// (returning false) whenever a state, a retry count, a weight or the kind of the last result
    /// changes. <see cref="RealServerHealth.LastResult"/> then stays the last result that differed.
    /// </summary>
    public bool TryCompleteQuiet(RealServerHealth s, bool success, DateTimeOffset now)
    {
        if (!s.InFlight) return true; // stopped, or not ours: Complete would ignore it too
        if (s.LastResult is not { } last || last.Success != success) return false;
        if (success ? s.CheckState != RealServerHealthState.Up || s.FailedAttempts != 0 : s.CheckState != RealServerHealthState.Down) return false;
        s.InFlight = false;
        s.Checks++;
        if (!success) s.Failures++;
        s.LastCheck = now;
        Schedule(s, now + TimeSpan.FromSeconds(Policy.DelayLoopSeconds));
        return true;
    }

    /// <summary>Records when a taken check really started (for the lateness figures).</summary>
    public void Started(RealServerHealth s, DateTimeOffset at)
    {
        var late = at - s.NextCheck;
        s.LastLateness = late;
        if (late > s.MaxLateness) s.MaxLateness = late;
        long ms = (long)late.TotalMilliseconds;
        int bucket = (int)(ms < 0 ? 0 : ms >= LatenessBuckets - 1 ? LatenessBuckets - 1 : ms);
        (_lateness[bucket / LatenessChunk] ??= new long[LatenessChunk])[bucket % LatenessChunk]++;
    }

    /// <summary>Buckets of <see cref="LatenessHistogram"/>: 0-999 ms one each, the last one 1 s or more.</summary>
    public const int LatenessBuckets = 1001;

    // The buckets in chunks of 64, each made when a check first lands in it: checks are rarely more than a few
    // ms late, so a checker keeps 0.5 KB of counters instead of 8 KB (500 checked real servers: 0.25 MB, not 4).
    private const int LatenessChunk = 64;
    private readonly long[]?[] _lateness = new long[]?[(LatenessBuckets + LatenessChunk - 1) / LatenessChunk];

    /// <summary>
    /// How late checks started after their due time since the checker started: element i counts
    /// the checks that were i ms late (the last element: 1 s or more). Two snapshots subtracted give
    /// the figures for the time between them. Empty while no check has started (a checker just started).
    /// </summary>
    public long[] LatenessHistogram()
    {
        if (Array.TrueForAll(_lateness, c => c is null)) return Array.Empty<long>(); // no check started yet
        var h = new long[LatenessBuckets];
        for (int c = 0; c < _lateness.Length; c++)
            if (_lateness[c] is { } chunk) Array.Copy(chunk, 0, h, c * LatenessChunk, Math.Min(LatenessChunk, LatenessBuckets - c * LatenessChunk));
        return h;
    }

    /// <summary>The outcome of one attempt of a taken check: state, weight, quorum, IPVS changes, next check.</summary>
    public CheckerStep Complete(RealServerHealth s, HealthCheckResult result, DateTimeOffset now)
    {
        var step = new CheckerStep();
        if (!s.InFlight) return step; // stopped, or not ours
        s.InFlight = false;
        s.Checks++;
        s.LastResult = result;
        s.LastCheck = now;
        var server = Primary(s);
        var old = server.State;
        TimeSpan next = TimeSpan.FromSeconds(Policy.DelayLoopSeconds);
        if (result.Success)
        {
            s.FailedAttempts = 0;
            if (s.CheckState == RealServerHealthState.Down)
            {
                s.CheckState = RealServerHealthState.Up;
                s.Shared.FailedChecks--;
            }
            if (old == RealServerHealthState.Down && s.Shared.FailedChecks == 0)
            {
                int weight = Math.Clamp(result.Weight ?? s.ConfiguredWeight, 0, 65535);
                s.State = RealServerHealthState.Up;
                s.Weight = weight;
                s.LastChange = now;
                _weightSum += weight;
                _dirty.Add(server.Index);
                step.Events.Add(Event(HealthCheckEventKind.RealServerUp, s, old, s.State, result, now, null));
            }
            else if (old == RealServerHealthState.Up && result.Weight is int reported && Math.Clamp(reported, 0, 65535) != s.Weight)
            {
                int weight = Math.Clamp(reported, 0, 65535);
                _weightSum += weight - s.Weight;
                s.Weight = weight;
                _dirty.Add(server.Index);
                step.Events.Add(Event(HealthCheckEventKind.WeightChanged, s, old, old, result, now, $"weight {weight}"));
            }
        }
        else
        {
            s.Failures++;
            if (s.CheckState == RealServerHealthState.Up && s.FailedAttempts < Policy.Retry) // retries only while UP, as keepalived
            {
                s.FailedAttempts++;
                next = TimeSpan.FromSeconds(Policy.DelayBeforeRetrySeconds);
            }
            else
            {
                s.FailedAttempts = 0;
                if (s.CheckState == RealServerHealthState.Up)
                {
                    s.CheckState = RealServerHealthState.Down;
                    s.Shared.FailedChecks++;
                }
                if (old == RealServerHealthState.Up && s.Shared.FailedChecks > 0)
                {
                    s.State = RealServerHealthState.Down;
                    s.LastChange = now;
                    _weightSum -= s.Weight;
                    _dirty.Add(server.Index);
                    step.Events.Add(Event(HealthCheckEventKind.RealServerDown, s, old, s.State, result, now,
                        CheckTypes.Count > 1 ? $"{s.CheckType} check: {result.Message}" : result.Message));
                }
            }
        }
        bool quorumChanged = UpdateQuorum(step, now);
        Schedule(s, now + next);
        Reconcile(step, quorumChanged);
        return step;
    }

    /// <summary>An IPVS change failed: the checker no longer knows what IPVS holds there and tries again at the next step.</summary>
    public HealthCheckEvent ActionFailed(IpvsHealthAction action, Exception error, DateTimeOffset now)
    {
        if (action.IsSorryServer) _sorryKnown = false;
        else
        {
            var s = _servers.FirstOrDefault(x => x.IsPrimary && ReferenceEquals(x.RealServer, action.Server));
            if (s is not null) { s.Applied = false; _dirty.Add(s.Index); }
        }
        return new HealthCheckEvent
        {
            Kind = HealthCheckEventKind.IpvsError, Checker = Name, Service = Service, RealServer = action.Server,
            WeightSum = _weightSum, Message = $"{action}: {error.Message}", Time = now,
        };
    }

    /// <summary>IPVS changes still owed after failures (called by the runner when idle).</summary>
    public CheckerStep Retry()
    {
        var step = new CheckerStep();
        Reconcile(step, all: !_sorryKnown);
        return step;
    }

    /// <summary>
    /// Stops checking. With omega, UP servers go DOWN (events, notify_down) and everything the checker put in
    /// the service is removed; <paramref name="applyOmega"/> false leaves IPVS as it is even then (a checker
    /// replaced by a reconfiguration: its successor takes over the real servers).
    /// </summary>
    public CheckerStep Stop(DateTimeOffset now, bool applyOmega = true)
    {
        var step = new CheckerStep();
        _queue.Clear();
        foreach (var s in _servers) { s.Scheduled = false; s.InFlight = false; }
        if (!Policy.Omega || !applyOmega) return step;
        foreach (var s in _servers)
        {
            if (s.IsPrimary && s.State == RealServerHealthState.Up)
            {
                s.State = RealServerHealthState.Down;
                s.LastChange = now;
                _weightSum -= s.Weight;
                step.Events.Add(Event(HealthCheckEventKind.RealServerDown, s, RealServerHealthState.Up, s.State, null, now, "checker stopped (omega)"));
            }
        }
        if (Policy.MonitorOnly) return step;
        foreach (var s in _servers)
            if (s.IsPrimary && (s.IpvsWeight is not null || !s.Applied)) { step.Actions.Add(new IpvsHealthAction(s.RealServer, null, false)); s.IpvsWeight = null; s.Applied = true; }
        if (Policy.SorryServer is { } sorry && (_sorryApplied is not null || !_sorryKnown))
        {
            step.Actions.Add(new IpvsHealthAction(sorry, null, true));
            _sorryApplied = null;
            _sorryKnown = true;
        }
        return step;
    }

    private RealServerHealth Primary(RealServerHealth s) => s.IsPrimary ? s : _servers[s.Index - s.CheckIndex];

    private void Schedule(RealServerHealth s, DateTimeOffset at)
    {
        s.NextCheck = at;
        s.Scheduled = true;
        if (!ExternalScheduling) _queue.Enqueue(s, at);
    }

    private bool UpdateQuorum(CheckerStep step, DateTimeOffset now)
    {
        if (QuorumUp && (_weightSum == 0 || _weightSum < Policy.Quorum - Policy.Hysteresis))
        {
            QuorumUp = false;
            step.Events.Add(Event(HealthCheckEventKind.QuorumDown, null, null, null, null, now,
                $"weight sum {_weightSum} below quorum {Policy.Quorum} - hysteresis {Policy.Hysteresis}"));
            return true;
        }
        if (!QuorumUp && _weightSum > 0 && _weightSum >= Policy.Quorum + Policy.Hysteresis)
        {
            QuorumUp = true;
            step.Events.Add(Event(HealthCheckEventKind.QuorumUp, null, null, null, null, now,
                $"weight sum {_weightSum} reached quorum {Policy.Quorum} + hysteresis {Policy.Hysteresis}"));
            return true;
        }
        return false;
    }

    /// <summary>What IPVS should hold for a real server: its weight, or null for absent.</summary>
    private int? Desired(RealServerHealth s)
    {
        bool serving = s.State == RealServerHealthState.Up && (QuorumUp || Policy.SorryServer is null);
        if (serving) return s.Weight;
        return Policy.InhibitOnFailure ? 0 : null;
    }

    private void Reconcile(CheckerStep step, bool all)
    {
        if (Policy.MonitorOnly) { _dirty.Clear(); return; }
        var sets = new List<IpvsHealthAction>();
        var removes = new List<IpvsHealthAction>();
        void Consider(RealServerHealth s)
        {
            var want = Desired(s);
            if (s.Applied && want == s.IpvsWeight) return;
            (want is null ? removes : sets).Add(new IpvsHealthAction(s.RealServer, want, false));
            s.IpvsWeight = want;
            s.Applied = true;
        }
        if (all) { foreach (var s in _servers) if (s.IsPrimary) Consider(s); }
        else foreach (var i in _dirty) Consider(_servers[i]);
        _dirty.Clear();

        if (Policy.SorryServer is { } sorry)
        {
            int? want = QuorumUp ? null : sorry.Weight;
            if (!_sorryKnown || want != _sorryApplied)
            {
                var a = new IpvsHealthAction(sorry, want, true);
                if (want is null) removes.Add(a); else sets.Insert(0, a); // sorry in first when quorum is lost
                _sorryApplied = want;
                _sorryKnown = true;
            }
        }
        else _sorryKnown = true;
        step.Actions.AddRange(sets);
        step.Actions.AddRange(removes);
    }

    private HealthCheckEvent Event(HealthCheckEventKind kind, RealServerHealth? s, RealServerHealthState? old, RealServerHealthState? now,
        HealthCheckResult? result, DateTimeOffset time, string? message) => new()
    {
        Kind = kind,
        Checker = Name,
        Service = Service,
        RealServer = s?.RealServer,
        OldState = old,
        NewState = now,
        Weight = s is null ? null : Desired(s) ?? 0,
        WeightSum = _weightSum,
        Result = result,
        Message = message,
        Time = time,
    };
}
