using System.Net;
using HaPowerShell.Core.Vrrp;

namespace HaPowerShell.Core.Keepalived.Runtime;

/// <summary>Something a configuration says that the daemon does not act on, with where it is written.</summary>
public sealed record KeepalivedIgnored(string? File, int Line, string Block, string Keyword)
{
    public override string ToString() => $"{(File is null ? "" : $"{File}:{Line}: ")}{Block}: {Keyword}";
}

/// <summary>A problem that keeps a configuration from running (an error of the engines' own checks), where it is written.</summary>
public sealed record KeepalivedRuntimeError(string? File, int Line, string ErrorId, string Message)
{
    public override string ToString() => $"{(File is null ? "" : $"({File}: Line {Line}) ")}{Message}";
}

/// <summary>
/// What the daemon runs from a parsed keepalived configuration: the VRRP instances as the VRRP host takes them
/// (<see cref="VrrpInstanceConfig"/>, keepalived's defaults already applied by the parser), what it does not act
/// on (listed at start, never dropped silently), and the errors that keep it from running (keepalived keywords,
/// file and line). Pure: text forms go through <see cref="VrrpTextForms"/>, nothing touches the host.
/// </summary>
public sealed class KeepalivedRuntimePlan
{
    private KeepalivedRuntimePlan(IReadOnlyList<VrrpInstanceConfig> vrrp, KeepalivedIpvsPlan ipvs, IReadOnlyList<VrrpVirtualAddress> statics,
        IReadOnlyList<KeepalivedIgnored> ignored, IReadOnlyList<KeepalivedRuntimeError> errors, KeepalivedGlobalSettings global)
    {
        ScriptUser = global.ScriptUser;
        ScriptGroup = global.ScriptGroup;
        AsksNoSwap = global.VrrpNoSwap || global.CheckerNoSwap;
        VrrpInstances = vrrp;
        StaticAddresses = statics;
        Ipvs = ipvs;
        Ignored = ignored;
        Errors = errors;
    }

    /// <summary>The VRRP instances, in the order of the file.</summary>
    public IReadOnlyList<VrrpInstanceConfig> VrrpInstances { get; }

    /// <summary>script_user's user and group: the account scripts run as (null: keepalived's default, keepalived_script when it exists, else root).</summary>
    public string? ScriptUser { get; }
    public string? ScriptGroup { get; }

    /// <summary>
    /// vrrp_no_swap or checker_no_swap is given. The daemon does not lock its memory (they are listed as not acted on)
    /// but takes them as a wish to keep its code resident: hapd then does not give back its start-up pages.
    /// </summary>
    public bool AsksNoSwap { get; }

    /// <summary>static_ipaddress: addresses added at start (each with its dev) and removed at stop, not moved by VRRP.</summary>
    public IReadOnlyList<VrrpVirtualAddress> StaticAddresses { get; }

    /// <summary>The IPVS and checker half: services, real servers, checkers, timeouts, the sync daemon (empty with -P).</summary>
    public KeepalivedIpvsPlan Ipvs { get; }

    /// <summary>Sections and keywords given that the daemon does not act on.</summary>
    public IReadOnlyList<KeepalivedIgnored> Ignored { get; }

    /// <summary>Problems that keep the configuration from running; empty when it can run.</summary>
    public IReadOnlyList<KeepalivedRuntimeError> Errors { get; }

    public bool CanRun => Errors.Count == 0;

    /// <summary>What the daemon acts on in a vrrp_instance (the rest is listed in <see cref="Ignored"/>).</summary>
    private static readonly HashSet<string> VrrpActedOn = new(StringComparer.Ordinal)
    {
        "interface", "virtual_router_id", "priority", "advert_int", "version", "nopreempt", "preempt", "preempt_delay",
        "authentication", "auth_type", "auth_pass", "virtual_ipaddress", "unicast_peer", "unicast_src_ip", "mcast_src_ip",
        "track_interface", "track_script", "notify", "notify_master", "notify_backup", "notify_fault", "notify_stop",
        "garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat", "no_accept", "accept",
        "strict_mode", "check_unicast_src", "state",
    };

    /// <summary>What the daemon acts on in global_defs.</summary>
    private static readonly HashSet<string> GlobalActedOn = new(StringComparer.Ordinal)
    {
        "router_id", "vrrp_version", "vrrp_garp_master_delay", "vrrp_garp_master_repeat", "vrrp_garp_master_refresh",
        "vrrp_garp_master_refresh_repeat", "vrrp_garp_interval", "vrrp_check_unicast_src", "vrrp_strict",
        "lvs_timeouts", "lvs_flush", "lvs_flush_onstop", "lvs_flush_on_stop", "lvs_sync_daemon", "script_user", "enable_script_security",
    };

    /// <summary>
    /// Maps <paramref name="config"/> (a parse whose verdict allows running) to what the daemon runs.
    /// <paramref name="vrrp"/> false leaves the VRRP half out (keepalived -C), <paramref name="checkers"/> false the
    /// IPVS and checker half (keepalived -P).
    /// </summary>
    public static KeepalivedRuntimePlan From(KeepalivedConfiguration config, bool vrrp = true, bool checkers = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        var ignored = new List<KeepalivedIgnored>();
        var errors = new List<KeepalivedRuntimeError>();
        var instances = new List<VrrpInstanceConfig>();

        foreach (var s in config.Global.Settings.Where(s => !GlobalActedOn.Contains(s.Keyword)))
            ignored.Add(new KeepalivedIgnored(s.File, s.Line, "global_defs", s.Keyword));
        Section(ignored, config.TrackFiles, "track_file");
        Section(ignored, config.TrackProcesses, "vrrp_track_process");
        Section(ignored, config.TrackGroups, "track_group");
        Section(ignored, config.GarpGroups, "garp_group");
        Section(ignored, config.BfdInstances, "bfd_instance");
        Lines(ignored, config.StaticRoutes, "static_routes");
        Lines(ignored, config.StaticRules, "static_rules");
        Lines(ignored, config.LinkbeatInterfaces, "linkbeat_interfaces");
        foreach (var s in config.RootSettings)
            ignored.Add(new KeepalivedIgnored(s.File, s.Line, "(top level)", s.Keyword));
        var ipvs = KeepalivedIpvsPlan.Empty;
        if (checkers)
            ipvs = KeepalivedIpvsPlan.From(config, ignored, errors);
        else
        {
            foreach (var vs in config.VirtualServers)
                ignored.Add(new KeepalivedIgnored(vs.File, vs.Line, "virtual_server " + vs, "virtual_server (-P: VRRP only)"));
            if (config.Global.LvsSyncDaemon is not null)
                ignored.Add(new KeepalivedIgnored(config.Global.File, config.Global.Line, "global_defs", "lvs_sync_daemon (-P: VRRP only)"));
        }

        if (!vrrp)
        {
            foreach (var v in config.VrrpInstances)
                ignored.Add(new KeepalivedIgnored(v.File, v.Line, "vrrp_instance " + v.Name, "vrrp_instance (-C: checkers only)"));
            Lines(ignored, config.StaticAddresses, "static_ipaddress (-C: checkers only)");
            return new KeepalivedRuntimePlan(instances, ipvs, Array.Empty<VrrpVirtualAddress>(), ignored, errors, config.Global);
        }
        var statics = new List<VrrpVirtualAddress>();
        foreach (var l in config.StaticAddresses)
        {
            var problems = new List<VrrpConfigError>();
            var a = VrrpTextForms.ParseVirtualAddress(l.Text, statics.Count, problems);
            foreach (var p in problems)
                errors.Add(new KeepalivedRuntimeError(l.File, l.Line, p.ErrorId, $"(static_ipaddress) {p.Render(VrrpFields.KeepalivedKeyword)}"));
            if (a is null) continue;
            if (string.IsNullOrEmpty(a.Device))
                errors.Add(new KeepalivedRuntimeError(l.File, l.Line, "StaticAddressWithoutDevice", $"(static_ipaddress) '{l.Text}' names no interface; add 'dev IFACE'."));
            else statics.Add(a);
        }

        var scripts = config.VrrpScripts.ToDictionary(s => s.Name, ToTrackScript, StringComparer.Ordinal);
        var groups = config.VrrpSyncGroups;
        foreach (var g in groups)
        {
            foreach (var s in g.Settings.Where(s => s.Keyword is not ("group" or "track_interface")))
                ignored.Add(new KeepalivedIgnored(s.File, s.Line, "vrrp_sync_group " + g.Name, s.Keyword));
        }
        foreach (var v in config.VrrpInstances)
        {
            foreach (var s in v.Settings.Where(s => !VrrpActedOn.Contains(s.Keyword)).GroupBy(s => s.Keyword).Select(g => g.First()))
                ignored.Add(new KeepalivedIgnored(s.File, s.Line, "vrrp_instance " + v.Name, s.Keyword));
            if (v.AuthenticationType == "AH")
                ignored.Add(new KeepalivedIgnored(v.Setting("auth_type")?.File ?? v.File, v.Setting("auth_type")?.Line ?? v.Line, "vrrp_instance " + v.Name, "auth_type AH (adverts are sent without authentication)"));
            var c = ToInstance(v, config, scripts, groups.FirstOrDefault(g => g.Name == v.SyncGroup), errors);
            if (c is not null) instances.Add(c);
        }
        return new KeepalivedRuntimePlan(instances, ipvs, statics, ignored, errors, config.Global);
    }

    private static void Section(List<KeepalivedIgnored> ignored, IEnumerable<KeepalivedBlock> blocks, string keyword)
    {
        foreach (var b in blocks) ignored.Add(new KeepalivedIgnored(b.File, b.Line, keyword, keyword));
    }

    private static void Lines(List<KeepalivedIgnored> ignored, IEnumerable<KeepalivedTextLine> lines, string keyword)
    {
        foreach (var l in lines) ignored.Add(new KeepalivedIgnored(l.File, l.Line, keyword, l.Text));
    }

    private static VrrpTrackScript ToTrackScript(KeepalivedVrrpScript s) => new(s.Name, s.Script ?? "")
    {
        Interval = TimeSpan.FromSeconds(s.Interval),
        Timeout = TimeSpan.FromSeconds(s.Timeout == 0 ? s.Interval : s.Timeout),
        Weight = s.Weight,
        Rise = s.Rise,
        Fall = s.Fall,
        InitiallyFailed = s.InitFail,
    };

    private static VrrpInstanceConfig? ToInstance(KeepalivedVrrpInstance v, KeepalivedConfiguration config,
        IReadOnlyDictionary<string, VrrpTrackScript> scripts, KeepalivedVrrpSyncGroup? group, List<KeepalivedRuntimeError> errors)
    {
        var problems = new List<VrrpConfigError>();
        var vips = v.VirtualIPAddressLines.Select((l, i) => VrrpTextForms.ParseVirtualAddress(l.Text, i, problems)).OfType<VrrpVirtualAddress>().ToList();
        var peers = v.UnicastPeer.Select((p, i) => VrrpTextForms.ParseAddress(VrrpField.UnicastPeer, p, i, problems)).OfType<IPAddress>().ToList();
        var source = string.IsNullOrEmpty(v.SourceAddress) ? null : VrrpTextForms.ParseAddress(VrrpField.SourceAddress, v.SourceAddress, null, problems);
        var tracks = v.TrackInterfaceLines.Select((l, i) => VrrpTextForms.ParseTrackInterface(l.Text, i, problems)).OfType<VrrpTrackInterface>().ToList();
        // A sync group's tracked interface puts every member into FAULT (keepalived), a weight-0 track on each member.
        if (group is not null)
            foreach (var l in group.TrackInterfaceLines)
                if (VrrpTextForms.ParseTrackInterface(l.Words.Length > 0 ? l.Words[0] : l.Text, tracks.Count, problems) is { } t
                    && !tracks.Any(x => x.InterfaceName == t.InterfaceName))
                    tracks.Add(t with { Weight = 0 });
        var refs = v.TrackedScripts.Select(r => new VrrpTrackScriptReference(r.Name, r.Weight)).ToList();
        var trackScripts = VrrpTextForms.ResolveTrackScripts(refs, scripts, problems);
        var interval = VrrpTextForms.Seconds(VrrpField.AdvertisementInterval, v.AdvertisementInterval, problems);
        var preemptDelay = VrrpTextForms.Seconds(VrrpField.PreemptDelay, v.PreemptDelay, problems);
        var garpDelay = VrrpTextForms.Seconds(VrrpField.GarpDelay, v.GarpMasterDelay, problems);
        var garpRefresh = VrrpTextForms.Seconds(VrrpField.GarpRefresh, v.GarpMasterRefresh, problems);
        var garpInterval = VrrpTextForms.Seconds(VrrpField.GarpInterval, v.GarpInterval, problems);
        var result = new VrrpInstanceConfig
        {
            Name = v.Name,
            InterfaceName = v.InterfaceName ?? "",
            VirtualRouterId = v.VirtualRouterId,
            Priority = v.Priority,
            Version = v.Version == 3 ? VrrpVersion.V3 : VrrpVersion.V2,
            AdvertisementInterval = interval,
            AuthenticationPassword = v.AuthenticationType == "PASS" && !string.IsNullOrEmpty(v.AuthenticationPassword) ? v.AuthenticationPassword : null,
            VirtualAddresses = vips,
            UnicastPeers = peers,
            SourceAddress = source,
            NoPreempt = v.NoPreempt,
            StartAsMaster = v.State == "MASTER" && v.Priority != 255,
            PreemptDelay = preemptDelay,
            TrackInterfaces = tracks,
            TrackScripts = trackScripts,
            NotifyScript = v.NotifyScript ?? group?.NotifyScript,
            NotifyMaster = v.NotifyMaster ?? group?.NotifyMaster,
            NotifyBackup = v.NotifyBackup ?? group?.NotifyBackup,
            NotifyFault = v.NotifyFault ?? group?.NotifyFault,
            NotifyStop = v.NotifyStop ?? group?.NotifyStop,
            Garp = new VrrpGarpSettings
            {
                Delay = garpDelay,
                Repeat = v.GarpMasterRepeat,
                Refresh = garpRefresh,
                RefreshRepeat = v.GarpMasterRefreshRepeat,
                Interval = garpInterval,
            },
            SyncGroup = v.SyncGroup,
            AcceptMode = !v.NoAccept,
            CheckUnicastSource = config.Global.VrrpCheckUnicastSource || v.Has("check_unicast_src"),
        };
        if (problems.Count == 0) problems.AddRange(result.Validate());
        foreach (var p in problems)
        {
            var at = Where(v, p.Field);
            errors.Add(new KeepalivedRuntimeError(at.File, at.Line, p.ErrorId, $"({v.Name}) {p.Render(VrrpFields.KeepalivedKeyword)}"));
        }
        return problems.Count == 0 ? result : null;
    }

    /// <summary>The line a field's keyword is written on in the instance (the block's line when not written).</summary>
    private static (string? File, int Line) Where(KeepalivedVrrpInstance v, VrrpField field)
    {
        foreach (var k in VrrpFields.KeepalivedKeyword(field).Split('/'))
            if (v.Setting(k) is { } s) return (s.File, s.Line);
        return (v.File, v.Line);
    }
}
