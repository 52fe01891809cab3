using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Keepalived.Runtime;

/// <summary>lvs_sync_daemon as the daemon runs it: the kernel's sync daemon settings and the VRRP instance it follows.</summary>
public sealed record KeepalivedSyncDaemonPlan(string InterfaceName, uint SyncId, ushort MaxLength, System.Net.IPAddress? Group, ushort Port, byte Ttl, string? VrrpInstance)
{
    /// <summary>The kernel sync daemon of <paramref name="state"/> with these settings.</summary>
    public IpvsSyncDaemon ToSyncDaemon(IpvsSyncDaemonState state) => new()
    {
        State = state, InterfaceName = InterfaceName, SyncId = SyncId, MaxLength = MaxLength, Group = Group, Port = Port, Ttl = Ttl,
    };

    /// <summary>The sync daemon that runs while the followed instance is in <paramref name="vrrpMaster"/> (true: Master).</summary>
    public static IpvsSyncDaemonState StateFor(bool vrrpMaster) => vrrpMaster ? IpvsSyncDaemonState.Master : IpvsSyncDaemonState.Backup;
}

/// <summary>
/// The IPVS and checker half of a keepalived configuration as a daemon runs it: the IPVS table the virtual servers
/// make (a virtual_server_group makes one service per member), the checkers (<see cref="HealthCheckDefinition"/>s),
/// the IPVS timeouts, lvs_flush, lvs_flush_onstop and the sync daemon. Pure: built from the parsed configuration, validated with
/// IPVS's and the checkers' own rules, nothing touches the host.
/// </summary>
/// <remarks>
/// Checkers: a real server's TCP_CHECK, HTTP_GET, SSL_GET and MISC_CHECK are one checker of that real server (all
/// must pass), named "SERVICE REALSERVER", so a reload that adds or removes a real server leaves the checkers of the
/// others running with their state. A virtual server that uses quorum, hysteresis, quorum_up/quorum_down or a
/// sorry_server is checked by one checker for all its checked real servers (named after the service), as the quorum
/// is the sum of their weights; that needs its real servers' checkers to agree (same checks and settings); when
/// they do not, the quorum settings are listed as not acted on and each real server is checked alone.
/// </remarks>
public sealed class KeepalivedIpvsPlan
{
    private KeepalivedIpvsPlan(IReadOnlyList<IpvsService> services, IpvsTableImage image, IReadOnlyList<HealthCheckDefinition> checks, IpvsTimeout? timeout, bool flush,
        KeepalivedSyncDaemonPlan? sync, bool flushOnStop = false)
    {
        Services = services;
        Image = image;
        HealthChecks = checks;
        Timeout = timeout;
        Flush = flush;
        SyncDaemon = sync;
        FlushOnStop = flushOnStop;
    }

    /// <summary>An empty plan (nothing in IPVS, no checker): what runs before the first configuration and under -P.</summary>
    public static KeepalivedIpvsPlan Empty { get; } = new(Array.Empty<IpvsService>(), IpvsTableImage.Empty, Array.Empty<HealthCheckDefinition>(), null, false, null);

    /// <summary>The IPVS services with their real servers, in the order of the file.</summary>
    public IReadOnlyList<IpvsService> Services { get; }

    /// <summary>
    /// <see cref="Services"/> written as bytes when the plan was made (a reload compares two plans' images first:
    /// <see cref="KeepalivedIpvsDiff"/>); nothing changes a plan's services afterwards.
    /// </summary>
    internal IpvsTableImage Image { get; }

    /// <summary>The checkers, named uniquely.</summary>
    public IReadOnlyList<HealthCheckDefinition> HealthChecks { get; }

    /// <summary>lvs_timeouts (null when none is given).</summary>
    public IpvsTimeout? Timeout { get; }

    /// <summary>lvs_flush: the whole IPVS table is cleared before the configuration's services are added at start.</summary>
    public bool Flush { get; }

    /// <summary>
    /// lvs_flush_on_stop (or lvs_flush_onstop) without an argument: the whole IPVS table is cleared when the daemon stops.
    /// Without it (or with its argument VS) the daemon removes the configuration's services, as keepalived does unless -I.
    /// </summary>
    public bool FlushOnStop { get; }

    /// <summary>lvs_sync_daemon, or null.</summary>
    public KeepalivedSyncDaemonPlan? SyncDaemon { get; }

    /// <summary>How many real servers the table holds.</summary>
    public int RealServerCount => Services.Sum(s => s.RealServers?.Count ?? 0);

    /// <summary>The virtual_server keywords that need one checker over all its real servers.</summary>
    internal static readonly string[] QuorumKeywords = { "quorum", "hysteresis", "quorum_up", "quorum_down", "sorry_server" };

    /// <summary>
    /// Maps the virtual servers of <paramref name="config"/>; what is not acted on goes to <paramref name="ignored"/>,
    /// what keeps the configuration from running to <paramref name="errors"/> (keywords, file and line).
    /// </summary>
    public static KeepalivedIpvsPlan From(KeepalivedConfiguration config, List<KeepalivedIgnored> ignored, List<KeepalivedRuntimeError> errors)
    {
        ArgumentNullException.ThrowIfNull(config);
        var services = new List<IpvsService>();
        var image = new IpvsTableImage.Builder(config.VirtualServers.Count);
        var checks = new List<HealthCheckDefinition>();
        var seen = new Dictionary<IpvsRules.ServiceKey, KeepalivedVirtualServer>();
        foreach (var vs in config.VirtualServers)
        {
            string block = "virtual_server " + vs;
            foreach (var k in vs.NotActedOn)
                ignored.Add(At(vs, block, k));
            if (vs.Group is not null && config.VirtualServerGroups.All(g => g.Name != vs.Group))
            {
                errors.Add(new KeepalivedRuntimeError(vs.File, vs.Line, "VirtualServerGroupNotFound", $"({block}) no virtual_server_group {vs.Group} is defined; define it or name an existing one."));
                continue;
            }
            var made = vs.ToIpvsServices(config).ToList();
            if (made.Count == 0)
                ignored.Add(new KeepalivedIgnored(vs.File, vs.Line, block, "virtual_server_group without members (no IPVS service)"));
            bool ok = true;
            foreach (var s in made)
            {
                try { IpvsAdmin.ValidateTable(new[] { s }); }
                catch (IpvsOperationException e)
                {
                    errors.Add(new KeepalivedRuntimeError(vs.File, vs.Line, e.ErrorId, $"({block}) {e.Message}"));
                    ok = false;
                    continue;
                }
                if (seen.TryGetValue(IpvsRules.ServiceKey.Of(s), out var first))
                {
                    errors.Add(new KeepalivedRuntimeError(vs.File, vs.Line, "VirtualServerDuplicate",
                        $"({block}) the IPVS service {s} is already made by virtual_server {first} ({first.File}: Line {first.Line}); give each service once."));
                    ok = false;
                    continue;
                }
                seen[IpvsRules.ServiceKey.Of(s)] = vs;
            }
            if (!ok) continue;
            services.AddRange(made);
            foreach (var s in made) image.Add(s); // written now, while its objects are in the cache
            foreach (var rs in vs.RealServers)
            {
                string rsBlock = $"{block} real_server {rs}";
                foreach (var k in rs.NotActedOn)
                    ignored.Add(At(rs, rsBlock, k));
                foreach (var ck in rs.Checkers)
                {
                    foreach (var k in ck.NotActedOn)
                        ignored.Add(k == ck.Type
                            ? new KeepalivedIgnored(ck.File, ck.Line, rsBlock, ck.Type + " (this checker type is not run: the real server is not checked by it)")
                            : At(ck, rsBlock + " " + ck.Type, k));
                    foreach (var u in ck.Urls.Skip(1))
                        ignored.Add(new KeepalivedIgnored(u.File, u.Line, rsBlock + " " + ck.Type, "url (only the first url of a checker is fetched)"));
                }
            }
            foreach (var s in made)
                checks.AddRange(Checkers(vs, s, config.Global.ScriptUser, ignored, errors));
        }
        var g = config.Global;
        IpvsTimeout? timeout = g.LvsTimeoutTcp is null && g.LvsTimeoutTcpFin is null && g.LvsTimeoutUdp is null ? null
            : new IpvsTimeout { Tcp = (uint)(g.LvsTimeoutTcp ?? 0), TcpFin = (uint)(g.LvsTimeoutTcpFin ?? 0), Udp = (uint)(g.LvsTimeoutUdp ?? 0) };
        KeepalivedSyncDaemonPlan? sync = null;
        if (g.LvsSyncDaemon is { } d)
        {
            System.Net.IPAddress? group = null;
            if (d.Group is not null && !System.Net.IPAddress.TryParse(d.Group, out group))
                errors.Add(new KeepalivedRuntimeError(g.File, g.Line, "InvalidSyncGroup", $"(lvs_sync_daemon) group '{d.Group}' is not an address; give a multicast address."));
            sync = new KeepalivedSyncDaemonPlan(d.InterfaceName, (uint)(d.SyncId ?? 0), (ushort)(d.MaxLength ?? 0), group, (ushort)(d.Port ?? 0), (byte)(d.Ttl ?? 0), d.VrrpInstance);
            try { IpvsAdmin.ValidateSyncDaemon(sync.ToSyncDaemon(IpvsSyncDaemonState.Master)); }
            catch (IpvsOperationException e) { errors.Add(new KeepalivedRuntimeError(g.File, g.Line, e.ErrorId, $"(lvs_sync_daemon) {e.Message}")); }
            if (d.VrrpInstance is { } name && config.VrrpInstances.All(v => v.Name != name))
                errors.Add(new KeepalivedRuntimeError(g.File, g.Line, "SyncDaemonInstanceNotFound", $"(lvs_sync_daemon) no vrrp_instance {name} is defined; name the instance the sync daemon follows."));
        }
        return new KeepalivedIpvsPlan(services, image.ToImage(), checks, timeout, g.LvsFlush, sync, g.LvsFlushOnStop == "Full");
    }

    private static KeepalivedIgnored At(KeepalivedBlock b, string block, string keyword)
    {
        var s = b.Setting(keyword);
        return new KeepalivedIgnored(s?.File ?? b.File, s?.Line ?? b.Line, block, keyword);
    }

    /// <summary>The checkers of one IPVS service of <paramref name="vs"/>.</summary>
    private static IEnumerable<HealthCheckDefinition> Checkers(KeepalivedVirtualServer vs, IpvsService service, string? scriptUser, List<KeepalivedIgnored> ignored, List<KeepalivedRuntimeError> errors)
    {
        var id = new IpvsService
        {
            Protocol = service.Protocol, Address = service.Address, Port = service.Port, FirewallMark = service.FirewallMark,
            AddressFamily = service.AddressFamily, Scheduler = service.Scheduler, PersistenceTimeout = service.PersistenceTimeout,
            PersistenceNetmask = service.PersistenceNetmask, PersistenceEngine = service.PersistenceEngine, OnePacket = service.OnePacket,
            SchedulerFlag = service.SchedulerFlag,
        };
        var each = new List<(KeepalivedRealServer Rs, HealthCheckDefinition Def)>();
        foreach (var rs in vs.RealServers)
        {
            HealthCheckDefinition? d;
            try { d = rs.ToHealthCheckDefinition(id); }
            catch (Exception e) when (e is FormatException or ArgumentException or HealthCheckException)
            {
                errors.Add(new KeepalivedRuntimeError(rs.File, rs.Line, "InvalidChecker", $"(virtual_server {vs} real_server {rs}) {e.Message}"));
                continue;
            }
            if (d is null) continue;
            // A MISC_CHECK without its own user runs as script_user, as keepalived's.
            d = d with { Name = $"{service} {rs}", User = d.User ?? (d.CheckTypes.Contains(HealthCheckType.Misc) ? scriptUser : null) };
            each.Add((rs, d));
        }
        if (each.Count == 0) yield break;
        bool quorum = vs.Quorum != 1 || vs.Hysteresis != 0 || vs.QuorumUp is not null || vs.QuorumDown is not null || vs.SorryServer is not null;
        if (quorum && each.Count > 0)
        {
            var shape = Shape(each[0].Def);
            if (each.All(e => Shape(e.Def).Differences(shape).Count == 0
                              && e.Def.Policy.NotifyUp == each[0].Def.Policy.NotifyUp && e.Def.Policy.NotifyDown == each[0].Def.Policy.NotifyDown))
            {
                yield return each[0].Def with
                {
                    Name = service.ToString(),
                    RealServers = each.Select(e => e.Def.RealServers[0]).ToList(),
                    Weight = null, // each real server's configured weight is restored on recovery
                };
                yield break;
            }
            foreach (var k in QuorumKeywords.Where(vs.Has))
            {
                var at = At(vs, "virtual_server " + vs, k);
                ignored.Add(at with { Keyword = k + " (the real servers' checkers differ, so each is checked alone and there is no quorum across them)" });
            }
        }
        foreach (var (_, d) in each)
        {
            var p = d.Policy.Copy();
            p.Quorum = 1;
            p.Hysteresis = 0;
            p.NotifyQuorumUp = null;
            p.NotifyQuorumDown = null;
            yield return d with { Policy = p, SorryServer = null, SorryServerPort = null };
        }
    }

    /// <summary>A definition without what differs between the real servers of one checker: equal shapes can be one checker.</summary>
    private static HealthCheckDefinition Shape(HealthCheckDefinition d)
    {
        var p = d.Policy.Copy();
        p.NotifyUp = null;
        p.NotifyDown = null;
        return d with { Name = "", RealServers = Array.Empty<IpvsRealServer>(), Weight = null, Policy = p };
    }
}
