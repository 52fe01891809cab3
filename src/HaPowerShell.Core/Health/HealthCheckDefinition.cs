using System.Globalization;
using System.Net;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Health;

/// <summary>The JSON face of a <see cref="HealthCheckDefinition"/>: check types, addresses and the sorry server's method as text.</summary>
public abstract record HealthCheckDefinitionJson
{
    private protected IReadOnlyList<HealthCheckType> checkTypes = new[] { HealthCheckType.Tcp };
    private protected IPAddress? bindAddress, sorryServer;
    private protected IpvsForwardingMethod? sorryServerForwardingMethod;

    /// <summary>The checks of each real server (Tcp, Http, Misc); several = a real server is UP only while all pass.</summary>
    public string[] CheckTypes { get => checkTypes.Select(t => t.ToString()).ToArray(); init => checkTypes = value.Select(JsonShape.Enum<HealthCheckType>).ToArray(); }

    public string? BindAddress { get => bindAddress?.ToString(); init => bindAddress = JsonShape.Address(value); }

    /// <summary>sorry_server: its address.</summary>
    public string? SorryServer { get => sorryServer?.ToString(); init => sorryServer = JsonShape.Address(value); }

    /// <summary>sorry_server_lvs_method; null = the first real server's forwarding method.</summary>
    public string? SorryServerForwardingMethod { get => sorryServerForwardingMethod?.ToString(); init => sorryServerForwardingMethod = JsonShape.EnumOrNull<IpvsForwardingMethod>(value); }
}

/// <summary>
/// One checker as configured (keepalived: the checkers of one virtual_server): what to check, how, and
/// what to do with IPVS. Pure data with its validation; a host (Start-IpvsHealthCheck, the daemon) builds
/// and runs the checker from it, and <see cref="HealthCheckReconfigurePlan"/> compares two sets of them.
/// </summary>
public sealed record HealthCheckDefinition : HealthCheckDefinitionJson
{
    /// <summary>The checks of each real server; several = a real server is UP only while all pass.</summary>
    internal new IReadOnlyList<HealthCheckType> CheckTypes { get => checkTypes; init => checkTypes = value; }
    internal new IPAddress? BindAddress { get => bindAddress; init => bindAddress = value; }

    /// <summary>sorry_server: its address; the host builds <see cref="CheckerPolicy.SorryServer"/> from it and the first real server.</summary>
    internal new IPAddress? SorryServer { get => sorryServer; init => sorryServer = value; }

    /// <summary>sorry_server_lvs_method; null = the first real server's forwarding method.</summary>
    internal new IpvsForwardingMethod? SorryServerForwardingMethod { get => sorryServerForwardingMethod; init => sorryServerForwardingMethod = value; }

    /// <summary>The checker's name, unique among the running ones.</summary>
    public string Name { get; init; } = "";

    /// <summary>The virtual service whose real servers are checked (an empty one with <see cref="CheckerPolicy.MonitorOnly"/> and loose real servers).</summary>
    public IpvsService Service { get; init; } = new();

    /// <summary>The real servers to check; empty: the service's real servers as IPVS holds them when the checker starts.</summary>
    public IReadOnlyList<IpvsRealServer> RealServers { get; init; } = Array.Empty<IpvsRealServer>();

    /// <summary>connect_port: the port to check instead of each real server's.</summary>
    public int? Port { get; init; }

    public double ConnectTimeoutSeconds { get; init; } = 5;

    // HTTP_GET / SSL_GET
    public string Path { get; init; } = "/";
    public StatusCodeSet StatusCodes { get; init; } = StatusCodeSet.Default;
    public string? Digest { get; init; }
    public string? VirtualHost { get; init; }
    public bool UseTls { get; init; }
    public string? ServerName { get; init; }
    public bool VerifyCertificate { get; init; }

    // MISC_CHECK
    public string? MiscPath { get; init; }
    public IReadOnlyList<string> ArgumentList { get; init; } = Array.Empty<string>();

    /// <summary>misc_timeout; null = delay_loop.</summary>
    public double? MiscTimeoutSeconds { get; init; }

    public bool Dynamic { get; init; }
    public string? User { get; init; }
    public bool UseShell { get; init; }

    /// <summary>The weight restored on recovery; null = each real server's weight when the checker starts.</summary>
    public int? Weight { get; init; }

    /// <summary>delay_loop, retry, alpha/omega, quorum, sorry server, notify scripts, monitor-only.</summary>
    public CheckerPolicy Policy { get; init; } = new();

    /// <summary>The sorry server's port; null = the first real server's.</summary>
    public int? SorryServerPort { get; init; }

    public int SorryServerWeight { get; init; } = 1;

    /// <summary>checker_priority: the nice value of the TCP loop's thread.</summary>
    public int? CheckerPriority { get; init; }

    /// <summary>checker_realtime_priority: SCHED_RR priority of the TCP loop's thread.</summary>
    public int? CheckerRealtimePriority { get; init; }

    /// <summary>How long a notify_up/down or quorum_up/down script may run before its process group is killed.</summary>
    public double NotifyTimeoutSeconds { get; init; } = 30;

    /// <summary>The name a checker of <paramref name="service"/> gets when none is given.</summary>
    public static string DefaultName(IpvsService service)
        => service.Address is null && service.FirewallMark == 0 ? "monitor" : service.ToString();

    /// <summary>The port checked on <paramref name="server"/>: <see cref="Port"/>, else the real server's, else its service's.</summary>
    public int PortFor(IpvsRealServer server) => TcpCheckOptions.PortFor(server, Port);

    /// <summary>
    /// Checks what does not depend on the real servers (check types, thread priorities, the MISC program, the
    /// policy's ranges); throws <see cref="HealthCheckException"/>. <paramref name="isRoot"/>: whether the
    /// process runs as root (real-time and negative nice values need it).
    /// </summary>
    public void ValidateSettings(bool isRoot)
    {
        if (CheckTypes is null || CheckTypes.Count == 0)
            throw new HealthCheckException("NoCheckType", HealthCheckFailureKind.InvalidArgument, "-CheckType needs at least one of Tcp, Http, Misc.", null);
        if (CheckTypes.Distinct().Count() != CheckTypes.Count)
            throw new HealthCheckException("DuplicateCheckType", HealthCheckFailureKind.InvalidArgument,
                $"-CheckType {string.Join(",", CheckTypes)} names a check type twice; give each of Tcp, Http, Misc at most once.", CheckTypes);
        if (CheckerPriority is not null && CheckerRealtimePriority is not null)
            throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.InvalidArgument,
                "-CheckerPriority (a nice value) and -CheckerRealtimePriority (SCHED_RR) both set how the TCP check thread is scheduled; give one of them.", CheckerRealtimePriority);
        if (CheckerPriority is int nice)
        {
            if (nice is < -20 or > 19)
                throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.InvalidArgument, $"-CheckerPriority {nice} must be a nice value from -20 to 19.", nice);
            if (CheckTypes.Any(t => t != HealthCheckType.Tcp))
                throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.InvalidArgument,
                    "-CheckerPriority sets the nice value of the TCP check thread; it needs -CheckType Tcp alone (HTTP and MISC checks run as tasks).", nice);
            if (nice < 0 && !isRoot)
                throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.PermissionDenied,
                    $"-CheckerPriority {nice} (below 0) needs root; run as root or give 0 or more.", nice);
        }
        if (CheckerRealtimePriority is int rt)
        {
            if (rt is < 1 or > 99)
                throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.InvalidArgument, $"-CheckerRealtimePriority {rt} must be from 1 to 99.", rt);
            if (CheckTypes.Any(t => t != HealthCheckType.Tcp))
                throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.InvalidArgument,
                    "-CheckerRealtimePriority applies to the TCP check thread; it needs -CheckType Tcp alone (HTTP and MISC checks run as tasks).", rt);
            if (!isRoot)
                throw new HealthCheckException("InvalidCheckerPriority", HealthCheckFailureKind.PermissionDenied,
                    "-CheckerRealtimePriority needs root; run as root or leave it out.", rt);
        }
        if (CheckTypes.Contains(HealthCheckType.Misc) && string.IsNullOrEmpty(MiscPath))
            throw new HealthCheckException("ScriptNotFound", HealthCheckFailureKind.InvalidArgument, "-CheckType Misc needs -MiscPath, the program to run.", null);
        if (double.IsNaN(NotifyTimeoutSeconds) || NotifyTimeoutSeconds <= 0 || NotifyTimeoutSeconds > 86400)
            throw HealthCheckException.Argument("InvalidTimeout", $"-NotifyTimeout {NotifyTimeoutSeconds} must be more than 0 and at most 86400 seconds.", NotifyTimeoutSeconds);
        if (Policy is null) throw HealthCheckException.Argument("InvalidPolicy", "A health check definition needs a policy (delay_loop, retry, quorum...).");
        Policy.Validate();
        if (StatusCodes is null) throw HealthCheckException.Argument("InvalidStatusCode", "A health check definition needs its expected status codes (StatusCodeSet.Default: 200-299).");
        if (SorryServer is not null && SorryServerWeight is < 0 or > 65535)
            throw HealthCheckException.Argument("InvalidWeight", $"The sorry server's weight {SorryServerWeight} must be between 0 and 65535.", SorryServerWeight);
        if (SorryServerPort is < 0 or > 65535)
            throw HealthCheckException.Argument("InvalidPort", $"-SorryServerPort {SorryServerPort} must be between 0 and 65535.", SorryServerPort);
    }

    /// <summary>
    /// <see cref="ValidateSettings"/>, then the real servers it is to check (<paramref name="servers"/>: these,
    /// resolved from IPVS when <see cref="RealServers"/> is empty): at least one, each with a port to check.
    /// </summary>
    public void Validate(bool isRoot, IReadOnlyList<IpvsRealServer> servers)
    {
        ValidateSettings(isRoot);
        if (string.IsNullOrWhiteSpace(Name) || Name.Any(char.IsControl) || Name.Length > 256)
            throw HealthCheckException.Argument("InvalidName",
                $"-Name '{Name}' is not a usable checker name: give 1-256 characters without control characters, or leave -Name out for the default ('{DefaultName(Service)}').", Name);
        if (SorryServer is { } sorry)
        {
            var family = Service.Address?.AddressFamily ?? Service.AddressFamily;
            if (sorry.AddressFamily != family)
                throw new HealthCheckException("SorryServerFamilyMismatch", HealthCheckFailureKind.InvalidArgument,
                    $"-SorryServer {sorry} is {(sorry.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} but service {Service} is {(family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")}: IPVS cannot add it, so quorum loss would leave the service empty. Give a sorry server of the service's family.", sorry);
            if (sorry.Equals(IPAddress.Any) || sorry.Equals(IPAddress.IPv6Any) || sorry.Equals(IPAddress.Broadcast) || sorry.IsIPv6Multicast
                || (sorry.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && (sorry.GetAddressBytes()[0] & 0xf0) == 0xe0))
                throw HealthCheckException.Argument("InvalidAddress", $"-SorryServer {sorry} is not a unicast address; give the address of the server that answers while quorum is lost.", sorry);
        }
        if (servers.Count == 0)
            throw new HealthCheckException("NoRealServers", HealthCheckFailureKind.InvalidArgument,
                $"Service {Service} has no real servers to check; add them with Add-IpvsRealServer first.", Service);
        if (CheckTypes.Any(t => t != HealthCheckType.Misc))
            foreach (var r in servers)
                if (PortFor(r) == 0)
                    throw new HealthCheckException("InvalidPort", HealthCheckFailureKind.InvalidArgument,
                        $"Real server {r.Endpoint} has no port of its own (a firewall-mark service); give one with -Port.", r);
    }

    /// <summary>The settings in which this definition and <paramref name="other"/> differ (empty: the same checker).</summary>
    public IReadOnlyList<string> Differences(HealthCheckDefinition other)
    {
        var d = new List<string>();
        void Cmp(string field, string? a, string? b) { if (!string.Equals(a, b, StringComparison.Ordinal)) d.Add(field); }
        Cmp(nameof(Name), Name, other.Name);
        Cmp(nameof(Service), Key(Service), Key(other.Service));
        Cmp(nameof(RealServers), string.Join("|", (RealServers ?? Array.Empty<IpvsRealServer>()).Select(Key)), string.Join("|", (other.RealServers ?? Array.Empty<IpvsRealServer>()).Select(Key)));
        Cmp(nameof(CheckTypes), string.Join(",", CheckTypes ?? Array.Empty<HealthCheckType>()), string.Join(",", other.CheckTypes ?? Array.Empty<HealthCheckType>()));
        Cmp(nameof(Port), Text(Port), Text(other.Port));
        Cmp(nameof(ConnectTimeoutSeconds), Text(ConnectTimeoutSeconds), Text(other.ConnectTimeoutSeconds));
        Cmp(nameof(BindAddress), BindAddress?.ToString(), other.BindAddress?.ToString());
        Cmp(nameof(Path), Path, other.Path);
        Cmp(nameof(StatusCodes), StatusCodes?.ToString(), other.StatusCodes?.ToString());
        Cmp(nameof(Digest), Digest, other.Digest);
        Cmp(nameof(VirtualHost), VirtualHost, other.VirtualHost);
        Cmp(nameof(UseTls), Text(UseTls), Text(other.UseTls));
        Cmp(nameof(ServerName), ServerName, other.ServerName);
        Cmp(nameof(VerifyCertificate), Text(VerifyCertificate), Text(other.VerifyCertificate));
        Cmp(nameof(MiscPath), MiscPath, other.MiscPath);
        Cmp(nameof(ArgumentList), string.Join("\0", ArgumentList ?? Array.Empty<string>()), string.Join("\0", other.ArgumentList ?? Array.Empty<string>()));
        Cmp(nameof(MiscTimeoutSeconds), Text(MiscTimeoutSeconds), Text(other.MiscTimeoutSeconds));
        Cmp(nameof(Dynamic), Text(Dynamic), Text(other.Dynamic));
        Cmp(nameof(User), User, other.User);
        Cmp(nameof(UseShell), Text(UseShell), Text(other.UseShell));
        Cmp(nameof(Weight), Text(Weight), Text(other.Weight));
        Cmp(nameof(CheckerPriority), Text(CheckerPriority), Text(other.CheckerPriority));
        Cmp(nameof(CheckerRealtimePriority), Text(CheckerRealtimePriority), Text(other.CheckerRealtimePriority));
        Cmp(nameof(NotifyTimeoutSeconds), Text(NotifyTimeoutSeconds), Text(other.NotifyTimeoutSeconds));
        Cmp(nameof(SorryServer), SorryServer?.ToString(), other.SorryServer?.ToString());
        Cmp(nameof(SorryServerPort), Text(SorryServerPort), Text(other.SorryServerPort));
        Cmp(nameof(SorryServerWeight), Text(SorryServerWeight), Text(other.SorryServerWeight));
        Cmp(nameof(SorryServerForwardingMethod), SorryServerForwardingMethod?.ToString(), other.SorryServerForwardingMethod?.ToString());
        var p = Policy ?? new CheckerPolicy();
        var q = other.Policy ?? new CheckerPolicy();
        Cmp("DelayLoop", Text(p.DelayLoopSeconds), Text(q.DelayLoopSeconds));
        Cmp("Retry", Text(p.Retry), Text(q.Retry));
        Cmp("DelayBeforeRetry", Text(p.DelayBeforeRetrySeconds), Text(q.DelayBeforeRetrySeconds));
        Cmp("Warmup", Text(p.WarmupSeconds), Text(q.WarmupSeconds));
        Cmp("Alpha", Text(p.Alpha), Text(q.Alpha));
        Cmp("Omega", Text(p.Omega), Text(q.Omega));
        Cmp("InhibitOnFailure", Text(p.InhibitOnFailure), Text(q.InhibitOnFailure));
        Cmp("Quorum", Text(p.Quorum), Text(q.Quorum));
        Cmp("Hysteresis", Text(p.Hysteresis), Text(q.Hysteresis));
        Cmp("SorryServer", p.SorryServer is null ? null : Key(p.SorryServer), q.SorryServer is null ? null : Key(q.SorryServer));
        Cmp("NotifyUp", p.NotifyUp, q.NotifyUp);
        Cmp("NotifyDown", p.NotifyDown, q.NotifyDown);
        Cmp("NotifyQuorumUp", p.NotifyQuorumUp, q.NotifyQuorumUp);
        Cmp("NotifyQuorumDown", p.NotifyQuorumDown, q.NotifyQuorumDown);
        Cmp("MonitorOnly", Text(p.MonitorOnly), Text(q.MonitorOnly));
        return d;
    }

    private static string? Text<T>(T? v) where T : struct => v is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : v?.ToString();
    private static string Text(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    private static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Text(bool v) => v ? "1" : "0";

    private static string Key(IpvsService s) => s.ToString();

    private static string Key(IpvsRealServer r) => FormattableString.Invariant(
        $"{r.Endpoint} {r.ForwardingMethod} {r.Weight} {r.UpperThreshold} {r.LowerThreshold} {r.TunnelType} {r.TunnelPort} {r.TunnelChecksum}");
}

/// <summary>How a reconfiguration treats one checker.</summary>
public enum HealthCheckChange
{
    /// <summary>Only in the new configuration: started.</summary>
    Added,

    /// <summary>The same in both: left running, with its state and counters.</summary>
    Unchanged,

    /// <summary>In both with different settings: the running one is replaced (stopped without omega, the new one started).</summary>
    Replaced,

    /// <summary>Only in the running configuration: stopped (omega applies as configured).</summary>
    Removed,
}

/// <summary>One checker in a <see cref="HealthCheckReconfigurePlan"/>.</summary>
public sealed record HealthCheckPlanItem(string Name, HealthCheckChange Change, HealthCheckDefinition? Old, HealthCheckDefinition? New, IReadOnlyList<string> ChangedSettings);

/// <summary>
/// What changes when a set of running checkers is reconfigured to <c>wanted</c>, matched by name: the
/// difference only. Pure; the health-check host applies it.
/// </summary>
public sealed class HealthCheckReconfigurePlan
{
    private HealthCheckReconfigurePlan(IReadOnlyList<HealthCheckPlanItem> items) => Items = items;

    /// <summary>Every checker of either side, in the order: removed, replaced, unchanged, added (by name within each).</summary>
    public IReadOnlyList<HealthCheckPlanItem> Items { get; }

    public IEnumerable<HealthCheckPlanItem> Of(HealthCheckChange change) => Items.Where(i => i.Change == change);

    /// <summary>Compares <paramref name="running"/> with <paramref name="wanted"/>; throws <see cref="HealthCheckException"/> (DuplicateHealthCheckName) when a name is given twice.</summary>
    public static HealthCheckReconfigurePlan Compute(IEnumerable<HealthCheckDefinition> running, IEnumerable<HealthCheckDefinition> wanted)
    {
        var old = ByName(running, "running");
        var now = ByName(wanted, "new");
        var items = new List<HealthCheckPlanItem>();
        foreach (var (name, o) in old.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!now.TryGetValue(name, out var n)) { items.Add(new(name, HealthCheckChange.Removed, o, null, Array.Empty<string>())); continue; }
            var diff = o.Differences(n);
            items.Add(new(name, diff.Count == 0 ? HealthCheckChange.Unchanged : HealthCheckChange.Replaced, o, n, diff));
        }
        foreach (var (name, n) in now.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (!old.ContainsKey(name)) items.Add(new(name, HealthCheckChange.Added, null, n, Array.Empty<string>()));
        return new HealthCheckReconfigurePlan(items.OrderBy(i => i.Change switch
        {
            HealthCheckChange.Removed => 0,
            HealthCheckChange.Replaced => 1,
            HealthCheckChange.Unchanged => 2,
            _ => 3,
        }).ThenBy(i => i.Name, StringComparer.Ordinal).ToList());
    }

    private static Dictionary<string, HealthCheckDefinition> ByName(IEnumerable<HealthCheckDefinition> defs, string which)
    {
        var map = new Dictionary<string, HealthCheckDefinition>(StringComparer.Ordinal);
        foreach (var d in defs)
            if (!map.TryAdd(d.Name, d))
                throw HealthCheckException.Argument("DuplicateHealthCheckName", $"The {which} configuration names the health check '{d.Name}' twice; give every checker its own name.", d.Name);
        return map;
    }
}
