using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Native.Processes;

namespace HaPowerShell.Hosting.Health;

/// <summary>A checker run by a <see cref="HealthCheckHost"/>: its id, definition and runner.</summary>
public sealed class HostedHealthCheck
{
    internal HostedHealthCheck(int id, HealthCheckDefinition definition, HealthCheckRunner runner)
    {
        Id = id;
        Definition = definition;
        Runner = runner;
    }

    /// <summary>Unique in the host, in the order checkers were started (Get-IpvsHealthCheck -Id).</summary>
    public int Id { get; }

    public string Name => Definition.Name;
    public HealthCheckDefinition Definition { get; }
    public HealthCheckRunner Runner { get; }

    /// <summary>
    /// The checker as it started: its initial state (alpha, quorum, sorry server) before any check ran; null when its
    /// host does not keep it (<see cref="HealthCheckHost.KeepStartState"/>).
    /// </summary>
    public IpvsHealthCheckInfo? StartState { get; internal set; }

    /// <summary>What Get-IpvsHealthCheck shows: state, counters and every real server.</summary>
    public IpvsHealthCheckInfo Info() => Runner.Snapshot(Id, Definition.CheckTypes.ToArray());

    public override string ToString() => $"{Name} (Id {Id})";
}

/// <summary>A checker built from its definition and validated, not started yet (<see cref="HealthCheckHost.Start(PreparedHealthCheck)"/>).</summary>
public sealed class PreparedHealthCheck
{
    internal PreparedHealthCheck(HealthCheckDefinition definition, HealthCheckRunner runner)
    {
        Definition = definition;
        Runner = runner;
    }

    public HealthCheckDefinition Definition { get; }
    internal HealthCheckRunner Runner { get; }

    /// <summary>How many real servers it checks.</summary>
    public int RealServerCount => Runner.Checker.RealServers.Count(s => s.CheckIndex == 0);
}

/// <summary>What <see cref="HealthCheckHost.Reconfigure"/> did.</summary>
public sealed record HealthCheckReconfigureResult(HealthCheckReconfigurePlan Plan, IReadOnlyList<HostedHealthCheck> Running);

/// <summary>
/// Runs the checkers of a front end: builds each from its <see cref="HealthCheckDefinition"/> (TCP, HTTP and MISC
/// checks, the checker, its runner), keeps the registry of running ones, runs notify_up/down and quorum_up/down
/// scripts through the process runner with <see cref="HealthCheckDefinition.NotifyTimeoutSeconds"/>, reports to
/// an <see cref="IHostEventSink"/>, and reconfigures to a new set of definitions changing only the difference.
/// Thread-safe. Registers no signal handler: the front end stops it (<see cref="Dispose"/>) when it ends.
/// </summary>
public sealed class HealthCheckHost : IDisposable
{
    private readonly object _sync = new();
    private readonly List<HostedHealthCheck> _checks = new();
    private readonly Func<IpvsAdmin> _admin;
    private readonly Lazy<IpvsAdmin> _lazyAdmin;
    private readonly IProcessGroupRunner _runner;
    private readonly Func<MiscCheck> _misc;
    private readonly Func<bool> _isRoot;
    private readonly Dictionary<(int?, int?), TcpCheckLoop> _tcpLoops = new();
    private int _nextId;
    private bool _disposed;

    /// <summary>A host over this machine: IPVS through <see cref="KernelSession.Ipvs"/>, scripts through <see cref="ProcessGroupRunner"/>.</summary>
    public HealthCheckHost(IHostEventSink sink)
        : this(sink, () => new IpvsAdmin(KernelSession.Ipvs), ProcessGroupRunner.Instance, LocalMiscCheck.Create, () => UserAccount.EffectiveUid == 0) { }

    public HealthCheckHost(IHostEventSink sink, Func<IpvsAdmin> admin, IProcessGroupRunner runner, Func<MiscCheck> miscCheck, Func<bool> isRoot)
    {
        Sink = sink;
        _admin = admin;
        _lazyAdmin = new Lazy<IpvsAdmin>(admin, LazyThreadSafetyMode.ExecutionAndPublication);
        _runner = runner;
        _misc = miscCheck;
        _isRoot = isRoot;
    }

    public IHostEventSink Sink { get; }

    /// <summary>The account notify_up/down and quorum_up/down scripts run as (keepalived's script_user); null: this process's.</summary>
    public UserAccount? ScriptUser { get; set; }

    /// <summary>
    /// Whether a started checker keeps its <see cref="HostedHealthCheck.StartState"/> (Start-IpvsHealthCheck shows
    /// it). A daemon that never reads it turns this off: the snapshot (a copy of every real server, the lateness
    /// histogram) would stay on the heap as long as the checker runs.
    /// </summary>
    public bool KeepStartState { get; set; } = true;

    /// <summary>The checkers started and not stopped, in start order.</summary>
    public IReadOnlyList<HostedHealthCheck> Checks
    {
        get { lock (_sync) return _checks.ToList(); }
    }

    /// <summary>Checks a definition's settings that do not depend on its real servers (<see cref="HealthCheckDefinition.ValidateSettings"/>) for this process.</summary>
    public void ValidateSettings(HealthCheckDefinition definition) => definition.ValidateSettings(_isRoot());

    /// <summary>
    /// Validates <paramref name="definition"/> and builds its checker (every check is built, so a MISC program
    /// that is missing or unsafe is refused here); reads the service and its real servers from IPVS when the
    /// definition names none. Throws <see cref="HealthCheckException"/> or the IPVS error; starts nothing.
    /// </summary>
    public PreparedHealthCheck Prepare(HealthCheckDefinition definition) => Prepare(definition, replacing: null);

    /// <summary>
    /// Validates and builds <paramref name="definition"/> as <see cref="Reconfigure"/> would (a running checker of the
    /// same name is the one it would replace, not a conflict) and starts nothing: a front end checks a whole new
    /// configuration with it before changing anything.
    /// </summary>
    public void Validate(HealthCheckDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        HostedHealthCheck? running;
        lock (_sync) running = _checks.FirstOrDefault(e => e.Name == definition.Name);
        _ = Prepare(definition, running);
    }

    private PreparedHealthCheck Prepare(HealthCheckDefinition definition, HostedHealthCheck? replacing)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var d = definition;
        IReadOnlyList<IpvsRealServer> servers = d.RealServers ?? Array.Empty<IpvsRealServer>();
        if (servers.Count == 0)
        {
            d.ValidateSettings(_isRoot());
            var live = _lazyAdmin.Value.GetService(d.Service);
            servers = _lazyAdmin.Value.GetRealServers(live);
            d = d with { Service = live };
        }
        d.Validate(_isRoot(), servers);
        // Notify and quorum scripts are checked now (they would otherwise be found missing at the first event).
        var scripts = new[] { (d.Policy.NotifyUp, "-NotifyUp"), (d.Policy.NotifyDown, "-NotifyDown"),
                              (d.Policy.NotifyQuorumUp, "-NotifyQuorumUp"), (d.Policy.NotifyQuorumDown, "-NotifyQuorumDown") };
        if (scripts.Any(x => x.Item1 is not null))
        {
            var scriptCheck = _misc();
            foreach (var (command, parameter) in scripts)
                if (command is not null) scriptCheck.CheckCommandProgram(command, parameter);
        }
        lock (_sync)
        {
            if (_checks.FirstOrDefault(e => e != replacing && e.Name == d.Name && e.Runner.IsRunning) is { } running)
                throw Exists(d.Name, running);
        }
        // The checker gets a policy of its own; a sorry server given by address takes what it leaves out from the first real server.
        var first = servers[0];
        var sorry = d.SorryServer is { } address
            ? new IpvsRealServer
            {
                Service = first.Service,
                Address = address,
                Port = (ushort)(d.SorryServerPort ?? first.Port),
                ForwardingMethod = d.SorryServerForwardingMethod ?? first.ForwardingMethod,
                Weight = d.SorryServerWeight,
            }
            : d.Policy.SorryServer;
        var policy = d.Policy.Copy();
        policy.SorryServer = sorry;
        var checker = new HealthChecker(d.Name, d.Service, servers, policy, configuredWeight: r => d.Weight ?? r.Weight, checkTypes: d.CheckTypes.ToArray());
        var misc = d.CheckTypes.Contains(HealthCheckType.Misc) ? _misc() : null;
        var ipvs = policy.MonitorOnly ? null : new IpvsAdminHealthActions(_admin);
        var runner = new HealthCheckRunner(checker, s => MakeCheck(d, misc, s), ipvs) // builds (validates) every check
        {
            TcpLoopNice = d.CheckerPriority,
            TcpLoopRealtimePriority = d.CheckerRealtimePriority,
        };
        return new PreparedHealthCheck(d, runner);
    }

    /// <summary>
    /// The TCP loop the host's TCP-only checkers with these thread settings share (made at the first): every
    /// TCP_CHECK of the host runs on one thread, as in keepalived's checker process, not a thread per checker.
    /// </summary>
    private TcpCheckLoop SharedTcpLoop(int? nice, int? realtime)
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_tcpLoops.TryGetValue((nice, realtime), out var loop))
                _tcpLoops[(nice, realtime)] = loop = new TcpCheckLoop(nice, realtime);
            return loop;
        }
    }

    private static HealthCheckException Exists(string name, HostedHealthCheck running)
        => new("HealthCheckExists", HealthCheckFailureKind.InvalidArgument,
            $"A health check named '{name}' is already running (Id {running.Id}); stop it with Stop-IpvsHealthCheck -Name '{name}' or give -Name.", name);

    /// <summary>Starts a prepared checker (its initial IPVS changes are made before this returns) and registers it.</summary>
    public HostedHealthCheck Start(PreparedHealthCheck prepared)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        var d = prepared.Definition;
        // IPVS there, the service there, permission: fail now, not in the background.
        if (!d.Policy.MonitorOnly) _ = _lazyAdmin.Value.GetService(d.Service);
        HostedHealthCheck entry;
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_checks.FirstOrDefault(e => e.Name == d.Name && e.Runner.IsRunning) is { } running) throw Exists(d.Name, running);
            entry = new HostedHealthCheck(++_nextId, d, prepared.Runner);
            _checks.Add(entry);
        }
        if (prepared.Runner.UsesTcpLoop && prepared.Runner.TcpLoop is null)
            prepared.Runner.TcpLoop = SharedTcpLoop(prepared.Runner.TcpLoopNice, prepared.Runner.TcpLoopRealtimePriority);
        prepared.Runner.EventSink = EventSink(prepared.Runner.Checker.Policy, TimeSpan.FromSeconds(d.NotifyTimeoutSeconds));
        try
        {
            prepared.Runner.Start(KeepStartState ? (c, events) => entry.StartState = IpvsHealthCheckInfo.From(entry.Id, c, d.CheckTypes.ToArray(),
                HealthCheckerStatus.Running, 0, prepared.Runner.UsesTcpLoop, events.ToArray(), prepared.Runner.StartTime, null, null) : null);
        }
        catch
        {
            lock (_sync) _checks.Remove(entry);
            throw;
        }
        return entry;
    }

    /// <summary>
    /// A checker's event sink: the host's sink, then its notify scripts. Made apart from <see cref="Start(PreparedHealthCheck)"/>
    /// so that the delegate, which lives as long as the checker, holds only what it uses (not the prepared checker).
    /// </summary>
    private Action<HealthCheckEvent> EventSink(CheckerPolicy policy, TimeSpan notifyTimeout) => e =>
    {
        try { Sink.HealthCheckEvent(e); }
        catch (Exception) { /* a sink must not throw; if it does, the checker goes on */ }
        Notify(policy, e, notifyTimeout);
    };

    /// <summary><see cref="Prepare"/> and <see cref="Start(PreparedHealthCheck)"/>.</summary>
    public HostedHealthCheck Start(HealthCheckDefinition definition) => Start(Prepare(definition));

    /// <summary>
    /// Stops a checker (waits for checks in flight up to its delay_loop, 5-10 s; then omega applies as
    /// configured unless <paramref name="applyOmega"/> is false) and forgets it. Returns its last state.
    /// </summary>
    public IpvsHealthCheckInfo Stop(HostedHealthCheck check, bool applyOmega = true)
    {
        ArgumentNullException.ThrowIfNull(check);
        var wait = TimeSpan.FromSeconds(Math.Clamp(check.Runner.Checker.Policy.DelayLoopSeconds, 5, 10));
        check.Runner.Stop(wait, applyOmega);
        lock (_sync) _checks.Remove(check);
        return check.Info();
    }

    /// <summary>Stops every checker (omega as configured).</summary>
    public IReadOnlyList<IpvsHealthCheckInfo> StopAll()
    {
        var stopped = new List<IpvsHealthCheckInfo>();
        foreach (var c in Checks)
        {
            try { stopped.Add(Stop(c)); }
            catch (Exception e) { Log(HostLogLevel.Error, c.Name, $"stopping failed: {e.Message}"); }
        }
        return stopped;
    }

    /// <summary>
    /// Makes the running checkers those of <paramref name="definitions"/>, changing only the difference
    /// (<see cref="HealthCheckReconfigurePlan"/>, matched by name): a checker whose definition is the same keeps
    /// running with its state and counters; a changed one is replaced (stopped without omega, so its real servers
    /// stay in the service, and started anew); a removed one is stopped with omega as configured; a new one starts.
    /// Every new or changed definition is prepared (validated, built) before anything changes, so a bad one
    /// changes nothing.
    /// </summary>
    public HealthCheckReconfigureResult Reconfigure(IReadOnlyList<HealthCheckDefinition> definitions)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        var current = Checks;
        var plan = HealthCheckReconfigurePlan.Compute(current.Select(c => c.Definition), definitions);
        var byName = current.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var prepared = new Dictionary<string, PreparedHealthCheck>(StringComparer.Ordinal);
        foreach (var item in plan.Items.Where(i => i.Change is HealthCheckChange.Added or HealthCheckChange.Replaced))
            prepared[item.Name] = Prepare(item.New!, item.Change == HealthCheckChange.Replaced ? byName[item.Name] : null);
        foreach (var item in plan.Items)
        {
            switch (item.Change)
            {
                case HealthCheckChange.Removed:
                    Stop(byName[item.Name]);
                    break;
                case HealthCheckChange.Replaced:
                    Stop(byName[item.Name], applyOmega: false);
                    Start(prepared[item.Name]);
                    break;
                case HealthCheckChange.Added:
                    Start(prepared[item.Name]);
                    break;
            }
        }
        return new HealthCheckReconfigureResult(plan, Checks);
    }

    /// <summary>The check of one real server, as the definition says.</summary>
    private static IHealthCheck MakeCheck(HealthCheckDefinition d, MiscCheck? misc, RealServerHealth s)
    {
        var r = s.RealServer;
        int port = d.PortFor(r);
        switch (s.CheckType)
        {
            case HealthCheckType.Misc:
                return HealthChecks.Misc(misc!, new MiscCheckOptions
                {
                    Path = d.MiscPath!,
                    ArgumentList = d.ArgumentList,
                    TimeoutSeconds = d.MiscTimeoutSeconds ?? d.Policy.DelayLoopSeconds,
                    Dynamic = d.Dynamic,
                    User = d.User,
                    UseShell = d.UseShell,
                    Environment = new Dictionary<string, string>
                    {
                        ["HAPS_REAL_SERVER_ADDRESS"] = r.Address.ToString(),
                        ["HAPS_REAL_SERVER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    },
                });
            case HealthCheckType.Http:
                return HealthChecks.Http(new HttpCheckOptions
                {
                    Address = r.Address,
                    Port = port,
                    ConnectTimeoutSeconds = d.ConnectTimeoutSeconds,
                    BindAddress = d.BindAddress,
                    RealServer = r,
                    Path = d.Path,
                    StatusCodes = d.StatusCodes,
                    Digest = d.Digest,
                    VirtualHost = d.VirtualHost,
                    UseTls = d.UseTls,
                    ServerName = d.ServerName,
                    VerifyCertificate = d.VerifyCertificate,
                });
            default:
                return HealthChecks.Tcp(new TcpCheckOptions
                {
                    Address = r.Address,
                    Port = port,
                    ConnectTimeoutSeconds = d.ConnectTimeoutSeconds,
                    BindAddress = d.BindAddress,
                    RealServer = r,
                });
        }
    }

    /// <summary>notify_up / notify_down / quorum_up / quorum_down: run through /bin/sh -c, in the background, with the event in the environment.</summary>
    private void Notify(CheckerPolicy policy, HealthCheckEvent e, TimeSpan timeout)
    {
        (string? command, string what) = e.Kind switch
        {
            HealthCheckEventKind.RealServerUp => (policy.NotifyUp, "UP"),
            HealthCheckEventKind.RealServerDown => (policy.NotifyDown, "DOWN"),
            HealthCheckEventKind.QuorumUp => (policy.NotifyQuorumUp, "QUORUM_UP"),
            HealthCheckEventKind.QuorumDown => (policy.NotifyQuorumDown, "QUORUM_DOWN"),
            _ => (null, ""),
        };
        if (string.IsNullOrEmpty(command)) return;
        var env = new Dictionary<string, string>
        {
            ["HAPS_EVENT"] = what,
            ["HAPS_CHECKER"] = e.Checker,
            ["HAPS_SERVICE"] = e.Service?.ToString() ?? "",
            ["HAPS_REAL_SERVER_ADDRESS"] = e.Address?.ToString() ?? "",
            ["HAPS_REAL_SERVER_PORT"] = e.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["HAPS_WEIGHT_SUM"] = e.WeightSum.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        _ = Task.Run(() =>
        {
            try
            {
                var r = _runner.Run(new ProcessRunRequest
                {
                    FileName = MiscCheck.ShellPath,
                    Arguments = new[] { "-c", command },
                    Timeout = timeout,
                    Environment = env,
                    User = ScriptUser,
                });
                if (r.TimedOut)
                    Log(HostLogLevel.Warning, e.Checker, $"the {what} notify script '{command}' ran longer than {timeout.TotalSeconds:0.###} s; its process group was killed.");
                else if (r.ExitCode != 0 || r.Signal != 0)
                    Log(HostLogLevel.Warning, e.Checker, $"the {what} notify script '{command}' failed ({(r.Signal != 0 ? $"signal {r.Signal}" : $"exit status {r.ExitCode}")}).");
            }
            catch (Exception x)
            {
                // a notify script cannot stop the checker; it is reported
                Log(HostLogLevel.Error, e.Checker, $"the {what} notify script '{command}' could not run: {x.Message}");
            }
        });
    }

    private void Log(HostLogLevel level, string subject, string message)
    {
        try { Sink.Log(new HostLogEntry(DateTimeOffset.Now, level, "HealthCheck", subject, message)); }
        catch (Exception) { /* see IHostEventSink: a sink must not throw */ }
    }

    /// <summary>Stops every checker, then the TCP loops; the host takes no new ones.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed) return;
            _disposed = true;
        }
        StopAll();
        TcpCheckLoop[] loops;
        lock (_sync)
        {
            loops = _tcpLoops.Values.ToArray();
            _tcpLoops.Clear();
        }
        foreach (var loop in loops) loop.Dispose();
    }
}
