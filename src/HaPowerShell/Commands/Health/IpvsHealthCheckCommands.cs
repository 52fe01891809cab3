using System.Management.Automation;
using System.Net;
using HaPowerShell.Commands.Ipvs;
using HaPowerShell.Completers;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Native.Processes;

namespace HaPowerShell.Commands.Health;

/// <summary>The checkers running in this session (process), for Start-/Get-/Stop-IpvsHealthCheck.</summary>
internal static class HealthCheckRegistry
{
    public const string SourceIdentifier = "HaPowerShell.HealthCheck";

    internal sealed class Entry
    {
        public required int Id { get; init; }
        public required HealthCheckRunner Runner { get; init; }
        public required HealthCheckType[] CheckType { get; init; }
        public string Name => Runner.Checker.Name;
        public IpvsHealthCheckInfo Info() => IpvsHealthCheckInfo.From(Id, Runner, CheckType);
    }

    private static readonly object Sync = new();
    private static readonly List<Entry> Entries = new();
    private static int _nextId;

    public static Entry Add(HealthCheckRunner runner, HealthCheckType[] type)
    {
        lock (Sync)
        {
            var e = new Entry { Id = ++_nextId, Runner = runner, CheckType = type };
            Entries.Add(e);
            return e;
        }
    }

    public static List<Entry> All()
    {
        lock (Sync) return Entries.ToList();
    }

    public static void Remove(Entry e)
    {
        lock (Sync) Entries.Remove(e);
    }
}

/// <summary>
/// Start-IpvsHealthCheck: checks the real servers of a virtual service in the background, the way
/// keepalived's checkers do, and changes IPVS accordingly.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "IpvsHealthCheck", SupportsShouldProcess = true, DefaultParameterSetName = "RealServer")]
[OutputType(typeof(IpvsHealthCheckInfo))]
public sealed class StartIpvsHealthCheckCommand : HealthCmdlet
{
    [Parameter(ParameterSetName = "RealServer", Mandatory = true, ValueFromPipeline = true)]
    public IpvsRealServer[] RealServer { get; set; } = null!;

    [Parameter(ParameterSetName = "Service", Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [IpvsServiceTransformation]
    [ArgumentCompleter(typeof(IpvsServiceCompleter))]
    public IpvsService Service { get; set; } = null!;

    [Parameter]
    public string? Name { get; set; }

    /// <summary>The checks of each real server; several = a real server is UP only while all pass (keepalived: several checkers in a real_server).</summary>
    [Parameter]
    public HealthCheckType[] CheckType { get; set; } = { HealthCheckType.Tcp };

    /// <summary>connect_port: the port to check instead of the real server's.</summary>
    [Parameter]
    [Alias("ConnectPort")]
    public int? Port { get; set; }

    [Parameter]
    public double ConnectTimeout { get; set; } = 5;

    [Parameter]
    [Alias("BindTo")]
    [IPAddressTransformation]
    public IPAddress? BindAddress { get; set; }

    [Parameter]
    [Alias("UrlPath")]
    public string Path { get; set; } = "/";

    [Parameter]
    public string[]? StatusCode { get; set; }

    [Parameter]
    public string? Digest { get; set; }

    [Parameter]
    public string? VirtualHost { get; set; }

    [Parameter]
    [Alias("Ssl")]
    public SwitchParameter UseTls { get; set; }

    [Parameter]
    [Alias("Sni")]
    public string? ServerName { get; set; }

    [Parameter]
    public SwitchParameter VerifyCertificate { get; set; }

    [Parameter]
    public string? MiscPath { get; set; }

    [Parameter]
    public string[]? ArgumentList { get; set; }

    /// <summary>misc_timeout; default delay_loop.</summary>
    [Parameter]
    public double? MiscTimeout { get; set; }

    [Parameter]
    [Alias("MiscDynamic")]
    public SwitchParameter Dynamic { get; set; }

    [Parameter]
    public string? User { get; set; }

    [Parameter]
    public SwitchParameter UseShell { get; set; }

    [Parameter]
    public double DelayLoop { get; set; } = 60;

    [Parameter]
    [Alias("NbGetRetry")]
    public int Retry { get; set; } = 1;

    [Parameter]
    public double DelayBeforeRetry { get; set; } = 1;

    [Parameter]
    public double Warmup { get; set; }

    [Parameter]
    public SwitchParameter Alpha { get; set; }

    [Parameter]
    public SwitchParameter Omega { get; set; }

    [Parameter]
    public SwitchParameter InhibitOnFailure { get; set; }

    /// <summary>The weight to restore on recovery; default each real server's weight when the checker starts.</summary>
    [Parameter]
    public int? Weight { get; set; }

    [Parameter]
    public int Quorum { get; set; } = 1;

    [Parameter]
    public int Hysteresis { get; set; }

    [Parameter]
    [IPAddressTransformation]
    public IPAddress? SorryServer { get; set; }

    [Parameter]
    public int? SorryServerPort { get; set; }

    [Parameter]
    public int SorryServerWeight { get; set; } = 1;

    [Parameter]
    public string? NotifyUp { get; set; }

    [Parameter]
    public string? NotifyDown { get; set; }

    /// <summary>quorum_up: command line run through /bin/sh -c when the service gains quorum.</summary>
    [Parameter]
    [Alias("QuorumUp")]
    public string? NotifyQuorumUp { get; set; }

    /// <summary>quorum_down: command line run through /bin/sh -c when the service loses quorum.</summary>
    [Parameter]
    [Alias("QuorumDown")]
    public string? NotifyQuorumDown { get; set; }

    /// <summary>checker_priority: the nice value of the TCP loop's thread.</summary>
    [Parameter]
    public int? CheckerPriority { get; set; }

    /// <summary>checker_realtime_priority: SCHED_RR priority of the TCP loop's thread.</summary>
    [Parameter]
    public int? CheckerRealtimePriority { get; set; }

    [Parameter]
    public SwitchParameter MonitorOnly { get; set; }

    private readonly List<IpvsRealServer> _servers = new();
    private readonly List<IpvsService> _services = new();
    private IpvsAdmin? _admin;
    private IpvsAdmin Admin => _admin ??= new IpvsAdmin(KernelSession.Ipvs);
    private StatusCodeSet? _codes;
    private string? _digest;

    protected override void BeginProcessing()
    {
        try
        {
            _codes = StatusCodeSet.Parse(StatusCode);
            _digest = Digest is null ? null : HealthDigest.Normalize(Digest);
            if (CheckType is null || CheckType.Length == 0)
                throw new HealthCheckException("NoCheckType", HealthCheckFailureKind.InvalidArgument, "-CheckType needs at least one of Tcp, Http, Misc.", null);
            if (CheckType.Distinct().Count() != CheckType.Length)
                throw new HealthCheckException("DuplicateCheckType", HealthCheckFailureKind.InvalidArgument,
                    $"-CheckType {string.Join(",", CheckType)} names a check type twice; give each of Tcp, Http, Misc at most once.", CheckType);
            if (CheckerPriority is int nice)
            {
                if (nice is < -20 or > 19)
                    throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.InvalidArgument, $"-CheckerPriority {nice} must be a nice value from -20 to 19.", nice);
                if (CheckType.Any(t => t != HealthCheckType.Tcp))
                    throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.InvalidArgument,
                        "-CheckerPriority sets the nice value of the TCP check thread; it needs -CheckType Tcp alone (HTTP and MISC checks run as tasks).", nice);
                if (nice < 0 && HaPowerShell.Native.Processes.UserAccount.EffectiveUid != 0)
                    throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.PermissionDenied,
                        $"-CheckerPriority {nice} (below 0) needs root; run as root or give 0 or more.", nice);
            }
            if (CheckerRealtimePriority is int rt)
            {
                if (rt is < 1 or > 99)
                    throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.InvalidArgument, $"-CheckerRealtimePriority {rt} must be from 1 to 99.", rt);
                if (CheckType.Any(t => t != HealthCheckType.Tcp))
                    throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.InvalidArgument,
                        "-CheckerRealtimePriority applies to the TCP check thread; it needs -CheckType Tcp alone (HTTP and MISC checks run as tasks).", rt);
                if (HaPowerShell.Native.Processes.UserAccount.EffectiveUid != 0)
                    throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.PermissionDenied,
                        "-CheckerRealtimePriority needs root; run as root or leave it out.", rt);
            }
            if (CheckType.Contains(HealthCheckType.Misc) && string.IsNullOrEmpty(MiscPath))
                throw new HealthCheckException("ScriptNotFound", HealthCheckFailureKind.InvalidArgument, "-CheckType Misc needs -MiscPath, the program to run.", null);
            Policy(null).Validate();
        }
        catch (HealthCheckException e)
        {
            ThrowTerminatingError(ToHealthErrorRecord(e, e.Target));
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Service") _services.Add(Service);
        else _servers.AddRange(RealServer.Where(r => r is not null));
    }

    protected override void EndProcessing()
    {
        var groups = new List<(IpvsService Service, List<IpvsRealServer> Servers)>();
        foreach (var s in _services)
        {
            PerItem(s, () =>
            {
                var live = Admin.GetService(s);
                groups.Add((live, Admin.GetRealServers(live)));
            });
        }
        foreach (var g in _servers.GroupBy(r => r.Service?.ToString() ?? ""))
        {
            var first = g.First();
            if (first.Service is null && !MonitorOnly)
            {
                WriteError(ToHealthErrorRecord(new HealthCheckException("RealServerWithoutService", HealthCheckFailureKind.InvalidArgument,
                    $"Real server {first.Endpoint} does not name its service; pipe it from Get-IpvsRealServer, or use -MonitorOnly.", first), first));
                continue;
            }
            groups.Add((first.Service ?? new IpvsService(), g.ToList()));
        }
        foreach (var (service, servers) in groups) PerItem(service, () => StartOne(service, servers));
    }

    private CheckerPolicy Policy(IpvsRealServer? template) => new()
    {
        DelayLoopSeconds = DelayLoop,
        Retry = Retry,
        DelayBeforeRetrySeconds = DelayBeforeRetry,
        WarmupSeconds = Warmup,
        Alpha = Alpha,
        Omega = Omega,
        InhibitOnFailure = InhibitOnFailure,
        Quorum = Quorum,
        Hysteresis = Hysteresis,
        NotifyUp = NotifyUp,
        NotifyDown = NotifyDown,
        NotifyQuorumUp = NotifyQuorumUp,
        NotifyQuorumDown = NotifyQuorumDown,
        MonitorOnly = MonitorOnly,
        SorryServer = SorryServer is null ? null : new IpvsRealServer
        {
            Service = template?.Service,
            Address = SorryServer,
            Port = (ushort)(SorryServerPort ?? template?.Port ?? 0),
            ForwardingMethod = template?.ForwardingMethod ?? IpvsForwardingMethod.DirectRouting,
            Weight = SorryServerWeight,
        },
    };

    private void StartOne(IpvsService service, List<IpvsRealServer> servers)
    {
        string name = Name ?? (service.Address is null && service.FirewallMark == 0 ? "monitor" : service.ToString());
        if (Name is not null && _services.Count + (_servers.Count > 0 ? 1 : 0) > 1) name = $"{Name} ({service})";
        if (HealthCheckRegistry.All().FirstOrDefault(e => e.Name == name && e.Runner.IsRunning) is { } running)
            throw new HealthCheckException("HealthCheckExists", HealthCheckFailureKind.InvalidArgument,
                $"A health check named '{name}' is already running (Id {running.Id}); stop it with Stop-IpvsHealthCheck -Name '{name}' or give -Name.", name);
        if (servers.Count == 0)
            throw new HealthCheckException("NoRealServers", HealthCheckFailureKind.InvalidArgument,
                $"Service {service} has no real servers to check; add them with Add-IpvsRealServer first.", service);

        var policy = Policy(servers[0]);
        var checker = new HealthChecker(name, service, servers, policy, configuredWeight: r => Weight ?? r.Weight, checkTypes: CheckType);
        var misc = CheckType.Contains(HealthCheckType.Misc) ? MiscCheck.CreateDefault() : null;
        string? miscPath = MiscPath;
        if (misc is not null && !UseShell && miscPath!.Contains('/') && !System.IO.Path.IsPathRooted(miscPath))
            miscPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(miscPath);

        IHealthCheck Make(RealServerHealth s)
        {
            var r = s.RealServer;
            int port = TcpCheckOptions.PortFor(r, Port);
            switch (s.CheckType)
            {
                case HealthCheckType.Misc:
                    return HealthChecks.Misc(misc!, new MiscCheckOptions
                    {
                        Path = miscPath!,
                        ArgumentList = ArgumentList ?? Array.Empty<string>(),
                        TimeoutSeconds = MiscTimeout ?? DelayLoop,
                        Dynamic = Dynamic,
                        User = User,
                        UseShell = UseShell,
                        Environment = new Dictionary<string, string>
                        {
                            ["HAPS_REAL_SERVER_ADDRESS"] = r.Address.ToString(),
                            ["HAPS_REAL_SERVER_PORT"] = port.ToString(),
                        },
                    });
                case HealthCheckType.Http:
                    var h = new HttpCheckOptions
                    {
                        Address = r.Address, Port = port, ConnectTimeoutSeconds = ConnectTimeout, BindAddress = BindAddress, RealServer = r,
                        Path = Path, StatusCodes = _codes!, Digest = _digest, VirtualHost = VirtualHost, UseTls = UseTls,
                        ServerName = ServerName, VerifyCertificate = VerifyCertificate,
                    };
                    return HealthChecks.Http(h);
                default:
                    return HealthChecks.Tcp(new TcpCheckOptions
                    {
                        Address = r.Address, Port = port, ConnectTimeoutSeconds = ConnectTimeout, BindAddress = BindAddress, RealServer = r,
                    });
            }
        }

        foreach (var s in checker.RealServers)
            if (TcpCheckOptions.PortFor(s.RealServer, Port) == 0 && s.CheckType != HealthCheckType.Misc)
                throw new HealthCheckException("InvalidPort", HealthCheckFailureKind.InvalidArgument,
                    $"Real server {s.Endpoint} has no port of its own (a firewall-mark service); give one with -Port.", s.RealServer);
        var runner = new HealthCheckRunner(checker, Make, MonitorOnly ? null : new IpvsAdminHealthActions(() => Admin)) // builds (validates) every check
        {
            TcpLoopNice = CheckerPriority,
            TcpLoopRealtimePriority = CheckerRealtimePriority,
        };

        string what = MonitorOnly ? "Check (monitor only, IPVS unchanged)" : "Check and add/remove/reweight real servers";
        if (!ShouldProcess($"{servers.Count} real server(s) of {service}", what)) return;
        if (!MonitorOnly) _ = Admin.GetService(service); // IPVS there, service there, permission: fail now, not in the background

        var events = Events;
        runner.EventSink = e =>
        {
            try { events.GenerateEvent(HealthCheckRegistry.SourceIdentifier, null, new object[] { e }, new PSObject(e)); }
            catch (Exception) { /* the session is gone */ }
            Notify(policy, e);
        };
        var entry = HealthCheckRegistry.Add(runner, CheckType);
        runner.Start();
        WriteObject(entry.Info());
    }

    /// <summary>notify_up / notify_down: run through /bin/sh -c, in the background, with the event in the environment.</summary>
    private static void Notify(CheckerPolicy policy, HealthCheckEvent e)
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
            ["HAPS_REAL_SERVER_PORT"] = e.Port.ToString(),
            ["HAPS_WEIGHT_SUM"] = e.WeightSum.ToString(),
        };
        _ = Task.Run(() =>
        {
            try
            {
                ProcessGroupRunner.Instance.Run(new ProcessRunRequest
                {
                    FileName = MiscCheck.ShellPath,
                    Arguments = new[] { "-c", command },
                    Timeout = TimeSpan.FromSeconds(30),
                    Environment = env,
                });
            }
            catch (Exception) { /* a notify script cannot stop the checker */ }
        });
    }
}

/// <summary>Get-IpvsHealthCheck: the checkers of this session with the state of every real server.</summary>
[Cmdlet(VerbsCommon.Get, "IpvsHealthCheck", DefaultParameterSetName = "Name")]
[OutputType(typeof(IpvsHealthCheckInfo), typeof(RealServerHealth))]
public sealed class GetIpvsHealthCheckCommand : HealthCmdlet
{
    [Parameter(ParameterSetName = "Name", Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = "Id", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public int[] Id { get; set; } = null!;

    /// <summary>Write the state of each real server instead of one object per checker.</summary>
    [Parameter]
    public SwitchParameter RealServer { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var e in HealthCheckSelect.Select(this, Name, ParameterSetName == "Id" ? Id : null))
        {
            var info = e.Info();
            if (RealServer) WriteObject(info.RealServers, enumerateCollection: true);
            else WriteObject(info);
        }
    }
}

/// <summary>Stop-IpvsHealthCheck: stops checkers (with -Omega given at start, takes their real servers out).</summary>
[Cmdlet(VerbsLifecycle.Stop, "IpvsHealthCheck", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(IpvsHealthCheckInfo))]
public sealed class StopIpvsHealthCheckCommand : HealthCmdlet
{
    [Parameter(ParameterSetName = "Name", Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[] Name { get; set; } = null!;

    [Parameter(ParameterSetName = "Id", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public int[] Id { get; set; } = null!;

    [Parameter(ParameterSetName = "All", Mandatory = true)]
    public SwitchParameter All { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var selected = All ? HealthCheckRegistry.All() : HealthCheckSelect.Select(this, ParameterSetName == "Name" ? Name : null, ParameterSetName == "Id" ? Id : null);
        foreach (var e in selected)
        {
            if (!ShouldProcess($"health check '{e.Name}' (Id {e.Id})", e.Runner.Checker.Policy.Omega ? "Stop, and take its real servers out (omega)" : "Stop")) continue;
            var wait = TimeSpan.FromSeconds(Math.Max(5, e.Runner.Checker.Policy.DelayLoopSeconds));
            e.Runner.Stop(TimeSpan.FromSeconds(10) < wait ? TimeSpan.FromSeconds(10) : wait);
            HealthCheckRegistry.Remove(e);
            if (PassThru) WriteObject(e.Info());
        }
    }
}

internal static class HealthCheckSelect
{
    public static List<HealthCheckRegistry.Entry> Select(HaCmdlet cmdlet, string[]? names, int[]? ids)
    {
        var all = HealthCheckRegistry.All();
        if (ids is not null)
        {
            var found = new List<HealthCheckRegistry.Entry>();
            foreach (var id in ids)
            {
                var e = all.FirstOrDefault(x => x.Id == id);
                if (e is null) NotFound(cmdlet, $"There is no health check with Id {id}; list them with Get-IpvsHealthCheck.", id);
                else found.Add(e);
            }
            return found;
        }
        if (names is null || names.Length == 0) return all;
        var result = new List<HealthCheckRegistry.Entry>();
        foreach (var n in names)
        {
            var pattern = new WildcardPattern(n, WildcardOptions.IgnoreCase);
            var hits = all.Where(e => pattern.IsMatch(e.Name)).ToList();
            if (hits.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(n))
                NotFound(cmdlet, $"There is no health check named '{n}'; list them with Get-IpvsHealthCheck.", n);
            result.AddRange(hits.Where(h => !result.Contains(h)));
        }
        return result;
    }

    private static void NotFound(HaCmdlet cmdlet, string message, object target)
        => cmdlet.WriteError(new ErrorRecord(new ItemNotFoundException(message), "HealthCheckNotFound", ErrorCategory.ObjectNotFound, target));
}
