using System.Management.Automation;
using System.Net;
using HaPowerShell.Commands.Ipvs;
using HaPowerShell.Completers;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Health;

namespace HaPowerShell.Commands.Health;

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

    /// <summary>
    /// Complete checker definitions, such as the HealthCheck property of ConvertFrom-KeepalivedConfig's real servers
    /// (bound by property name: a keepalived real_server with its TCP_CHECK/HTTP_GET/SSL_GET/MISC_CHECK checkers);
    /// the check settings come from the definition, -Name and -MonitorOnly from the command line.
    /// </summary>
    [Parameter(ParameterSetName = "Definition", Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public HealthCheckDefinition[] HealthCheck { get; set; } = null!;

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

    /// <summary>How long a notify or quorum script may run before its process group is killed (seconds).</summary>
    [Parameter]
    public double NotifyTimeout { get; set; } = 30;

    /// <summary>checker_priority: the nice value of the TCP loop's thread.</summary>
    [Parameter]
    public int? CheckerPriority { get; set; }

    /// <summary>checker_realtime_priority: SCHED_RR priority of the TCP loop's thread.</summary>
    [Parameter]
    public int? CheckerRealtimePriority { get; set; }

    [Parameter]
    public SwitchParameter MonitorOnly { get; set; }

    private readonly List<HealthCheckDefinition> _definitions = new();
    private readonly List<IpvsRealServer> _servers = new();
    private readonly List<IpvsService> _services = new();
    private HealthCheckDefinition _template = null!;

    protected override void BeginProcessing()
    {
        try
        {
            string? miscPath = MiscPath;
            // a path with a slash is taken relative to the PowerShell location, as other cmdlets do
            if (CheckType?.Contains(HealthCheckType.Misc) == true && !UseShell && miscPath is not null && miscPath.Contains('/') && !System.IO.Path.IsPathRooted(miscPath))
                miscPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(miscPath);
            _template = new HealthCheckDefinition
            {
                CheckTypes = CheckType ?? Array.Empty<HealthCheckType>(),
                Port = Port,
                ConnectTimeoutSeconds = ConnectTimeout,
                BindAddress = BindAddress,
                Path = Path,
                StatusCodes = StatusCodeSet.Parse(StatusCode),
                Digest = Digest is null ? null : HealthDigest.Normalize(Digest),
                VirtualHost = VirtualHost,
                UseTls = UseTls,
                ServerName = ServerName,
                VerifyCertificate = VerifyCertificate,
                MiscPath = miscPath,
                ArgumentList = ArgumentList ?? Array.Empty<string>(),
                MiscTimeoutSeconds = MiscTimeout,
                Dynamic = Dynamic,
                User = User,
                UseShell = UseShell,
                Weight = Weight,
                Policy = new CheckerPolicy
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
                },
                SorryServer = SorryServer,
                SorryServerPort = SorryServerPort,
                SorryServerWeight = SorryServerWeight,
                CheckerPriority = CheckerPriority,
                CheckerRealtimePriority = CheckerRealtimePriority,
                NotifyTimeoutSeconds = NotifyTimeout,
            };
            ModuleHosts.Health.ValidateSettings(_template);
        }
        catch (HealthCheckException e)
        {
            ThrowFailure(e, null);
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Service") _services.Add(Service);
        else if (ParameterSetName == "Definition") _definitions.AddRange(HealthCheck.Where(d => d is not null));
        else _servers.AddRange(RealServer.Where(r => r is not null));
    }

    protected override void EndProcessing()
    {
        var groups = new List<(IpvsService Service, IReadOnlyList<IpvsRealServer> Servers)>();
        foreach (var s in _services) groups.Add((s, Array.Empty<IpvsRealServer>())); // the host reads its real servers from IPVS
        foreach (var g in _servers.GroupBy(r => r.Service?.ToString() ?? ""))
        {
            var first = g.First();
            if (first.Service is null && !MonitorOnly)
            {
                WriteFailure(new HealthCheckException("RealServerWithoutService", HealthCheckFailureKind.InvalidArgument,
                    $"Real server {first.Endpoint} does not name its service; pipe it from Get-IpvsRealServer, or use -MonitorOnly.", first), first);
                continue;
            }
            groups.Add((first.Service ?? new IpvsService(), g.ToList()));
        }
        foreach (var (service, servers) in groups)
        {
            string name = Name ?? HealthCheckDefinition.DefaultName(service);
            if (Name is not null && _services.Count + (_servers.Count > 0 ? 1 : 0) > 1) name = $"{Name} ({service})";
            PerItem(service, () => StartOne(_template with { Name = name, Service = service, RealServers = servers }));
        }
        foreach (var d in _definitions)
        {
            string name = Name is null ? d.Name : _definitions.Count > 1 ? $"{Name} ({d.Name})" : Name;
            var policy = d.Policy.Copy();
            policy.MonitorOnly |= MonitorOnly;
            PerItem(d.Service, () => StartOne(d with { Name = name, Policy = policy }));
        }
    }

    private void StartOne(HealthCheckDefinition definition)
    {
        var host = ModuleHosts.Health;
        var prepared = host.Prepare(definition); // validates, builds every check, reads the real servers when none were piped
        string what = MonitorOnly ? "Check (monitor only, IPVS unchanged)" : "Check and add/remove/reweight real servers";
        if (!ShouldProcess($"{prepared.RealServerCount} real server(s) of {prepared.Definition.Service}", what)) return;
        ModuleHosts.Sink.Attach(Events);
        ModuleHosts.RememberConsole(Host);
        var started = host.Start(prepared);
        WriteObject(started.StartState ?? started.Info()); // as it started, before a check could change it
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
        var selected = All ? HealthCheckSelect.All() : HealthCheckSelect.Select(this, ParameterSetName == "Name" ? Name : null, ParameterSetName == "Id" ? Id : null);
        foreach (var e in selected)
        {
            if (!ShouldProcess($"health check '{e.Name}' (Id {e.Id})", e.Runner.Checker.Policy.Omega ? "Stop, and take its real servers out (omega)" : "Stop")) continue;
            var info = ModuleHosts.Health.Stop(e);
            if (PassThru) WriteObject(info);
        }
    }
}

internal static class HealthCheckSelect
{
    /// <summary>The running checkers (none when no health check was ever started).</summary>
    public static IReadOnlyList<HostedHealthCheck> All() => ModuleHosts.ExistingHealth?.Checks ?? Array.Empty<HostedHealthCheck>();

    public static List<HostedHealthCheck> Select(HaCmdlet cmdlet, string[]? names, int[]? ids)
    {
        var all = All();
        if (ids is not null)
        {
            var found = new List<HostedHealthCheck>();
            foreach (var id in ids)
            {
                var e = all.FirstOrDefault(x => x.Id == id);
                if (e is null) NotFound(cmdlet, $"There is no health check with Id {id}; list them with Get-IpvsHealthCheck.", id);
                else found.Add(e);
            }
            return found;
        }
        if (names is null || names.Length == 0) return all.ToList();
        var result = new List<HostedHealthCheck>();
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
        => cmdlet.WriteFailure(new HaPowerShell.Native.HaException("HealthCheckNotFound", HaPowerShell.Native.HaErrorCategory.ObjectNotFound, message, target), null);
}
