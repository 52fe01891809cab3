using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Keepalived;

/// <summary>How <see cref="KeepalivedWriter"/> writes virtual servers made from live IPVS services.</summary>
public sealed class KeepalivedWriterOptions
{
    /// <summary>The checker to give each real server ("TCP_CHECK"), or null for none.</summary>
    public string? HealthCheck { get; init; }

    /// <summary>delay_loop of each virtual server, in seconds (null: keepalived's default, 60).</summary>
    public double? DelayLoop { get; init; }

    /// <summary>connect_timeout of the TCP_CHECK, in seconds.</summary>
    public double? ConnectTimeout { get; init; }

    /// <summary>Spaces per level.</summary>
    public int Indent { get; init; } = 4;
}

/// <summary>
/// Writes keepalived.conf text from the configuration model (or from live IPVS services): what the typed
/// properties say, in keepalived's syntax, and every other keyword line the objects were read with, so that
/// reading what is written gives the same objects again and keepalived accepts it.
/// </summary>
public static class KeepalivedWriter
{
    private sealed class W
    {
        private readonly StringBuilder _sb = new();
        private readonly string _unit;
        private int _level;

        public W(int indent) => _unit = new string(' ', indent);

        public void Line(string keyword, params object?[] values)
        {
            for (int i = 0; i < _level; i++) _sb.Append(_unit);
            _sb.Append(keyword);
            Values(values);
            _sb.Append('\n');
        }

        // Values in order; a nested list (tunnel options, arguments) is written word by word; nulls are left out.
        private void Values(object?[] values)
        {
            foreach (var v in values)
            {
                if (v is null) continue;
                if (v is object?[] nested) { Values(nested); continue; }
                if (v is IEnumerable<string> words) { foreach (var x in words) _sb.Append(' ').Append(Word(x)); continue; }
                _sb.Append(' ').Append(Word(v));
            }
        }

        public void Raw(string text)
        {
            for (int i = 0; i < _level; i++) _sb.Append(_unit);
            _sb.Append(text).Append('\n');
        }

        public void Open(string keyword, params object?[] values)
        {
            for (int i = 0; i < _level; i++) _sb.Append(_unit);
            _sb.Append(keyword);
            Values(values);
            _sb.Append(" {\n");
            _level++;
        }

        public void Close()
        {
            _level--;
            for (int i = 0; i < _level; i++) _sb.Append(_unit);
            _sb.Append("}\n");
        }

        public void Blank() => _sb.Append('\n');

        public override string ToString() => _sb.ToString();
    }

    /// <summary>A word as keepalived reads it back: quoted when it holds white space, a comment character or a brace.</summary>
    public static string Word(object value)
    {
        if (value is Quoted q) return q.ToString();
        string s = value switch
        {
            double d => d.ToString("0.######", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        if (s.Length == 0) return "\"\"";
        foreach (char c in s)
            if (c is ' ' or '\t' or '#' or '!' or '{' or '}' or '"' or '\\' or '$' or '@' && s[0] == c || char.IsWhiteSpace(c))
                return "\"" + s + "\"";
        return s.IndexOfAny(new[] { '#', '!', '{', '}' }) >= 0 ? "\"" + s + "\"" : s;
    }

    /// <summary>The whole configuration.</summary>
    public static string Write(KeepalivedConfiguration c, KeepalivedWriterOptions? options = null)
    {
        var w = new W((options ?? new KeepalivedWriterOptions()).Indent);
        foreach (var s in c.RootSettings) w.Line(s.Keyword, s.Values);
        if (c.RootSettings.Count > 0) w.Blank();
        WriteGlobal(w, c.Global);
        foreach (var t in c.TrackFiles) WriteTrackFile(w, t);
        foreach (var p in c.TrackProcesses) WriteTrackProcess(w, p);
        foreach (var b in c.BfdInstances) WriteBfd(w, b);
        foreach (var s in c.VrrpScripts) WriteVrrpScript(w, s);
        WriteStatic(w, "static_ipaddress", c.StaticAddresses);
        WriteStatic(w, "static_routes", c.StaticRoutes);
        WriteStatic(w, "static_rules", c.StaticRules);
        WriteStatic(w, "linkbeat_interfaces", c.LinkbeatInterfaces);
        WriteStatic(w, "interface_up_down_delays", c.InterfaceUpDownDelays);
        foreach (var g in c.TrackGroups) WriteTrackGroup(w, g);
        foreach (var g in c.GarpGroups) WriteGarpGroup(w, g);
        foreach (var g in c.VrrpSyncGroups) WriteSyncGroup(w, g);
        foreach (var v in c.VrrpInstances) WriteVrrpInstance(w, v);
        if (c.Ssl is { } ssl) WriteSsl(w, ssl);
        foreach (var g in c.VirtualServerGroups) WriteVsg(w, g);
        foreach (var vs in c.VirtualServers) WriteVirtualServer(w, vs, null);
        return w.ToString();
    }

    /// <summary>
    /// Any mix of configuration objects (a configuration, its global settings, instances, sync groups, scripts, trackers,
    /// virtual servers and groups, real servers, IPVS services and real servers), in keepalived's order. Real servers given
    /// without their virtual server are written in it; objects of any other type are refused.
    /// </summary>
    public static string Write(IEnumerable<object> objects, KeepalivedWriterOptions? options = null)
    {
        options ??= new KeepalivedWriterOptions();
        var list = objects.ToList();
        foreach (var o in list)
            if (o is not (KeepalivedConfiguration or KeepalivedGlobalSettings or KeepalivedTrackFile or KeepalivedTrackProcess or KeepalivedBfdInstance
                or KeepalivedVrrpScript or KeepalivedTrackGroup or KeepalivedGarpGroup or KeepalivedVrrpSyncGroup or KeepalivedVrrpInstance
                or KeepalivedSsl or KeepalivedVirtualServerGroup or KeepalivedVirtualServer or KeepalivedRealServer or IpvsService or IpvsRealServer))
                throw new ArgumentException($"Cannot write a {o.GetType().Name} as keepalived configuration.", nameof(objects));
        var w = new W(options.Indent);
        var sb = new StringBuilder();
        foreach (var c in list.OfType<KeepalivedConfiguration>()) sb.Append(Write(c, options));
        foreach (var o in list.OfType<KeepalivedGlobalSettings>()) WriteGlobal(w, o);
        foreach (var o in list.OfType<KeepalivedTrackFile>()) WriteTrackFile(w, o);
        foreach (var o in list.OfType<KeepalivedTrackProcess>()) WriteTrackProcess(w, o);
        foreach (var o in list.OfType<KeepalivedBfdInstance>()) WriteBfd(w, o);
        foreach (var o in list.OfType<KeepalivedVrrpScript>()) WriteVrrpScript(w, o);
        foreach (var o in list.OfType<KeepalivedTrackGroup>()) WriteTrackGroup(w, o);
        foreach (var o in list.OfType<KeepalivedGarpGroup>()) WriteGarpGroup(w, o);
        foreach (var o in list.OfType<KeepalivedVrrpSyncGroup>()) WriteSyncGroup(w, o);
        foreach (var o in list.OfType<KeepalivedVrrpInstance>()) WriteVrrpInstance(w, o);
        foreach (var o in list.OfType<KeepalivedSsl>()) WriteSsl(w, o);
        foreach (var o in list.OfType<KeepalivedVirtualServerGroup>()) WriteVsg(w, o);
        var servers = list.OfType<KeepalivedVirtualServer>().ToList();
        foreach (var o in servers) WriteVirtualServer(w, o, null);
        // Real servers on their own: in their virtual server, with only those given.
        foreach (var g in list.OfType<KeepalivedRealServer>().Where(r => r.VirtualServer is { } vs && !servers.Contains(vs)).GroupBy(r => r.VirtualServer!))
            WriteVirtualServer(w, g.Key, g.ToList());
        // IPVS services with their real servers; real servers given on their own join their service (or one made from it).
        var services = list.OfType<IpvsService>().Select(x => (Service: x, Servers: new List<IpvsRealServer>(x.RealServers ?? new List<IpvsRealServer>()))).ToList();
        foreach (var r in list.OfType<IpvsRealServer>())
        {
            if (r.Service is null) throw new ArgumentException($"The real server {r.Endpoint} has no service; pass its service (Get-IpvsService) too.", nameof(objects));
            int i = services.FindIndex(x => x.Service.SameIdentity(r.Service));
            if (i < 0) { services.Add((r.Service, new List<IpvsRealServer>())); i = services.Count - 1; }
            if (!services[i].Servers.Any(x => x.Endpoint == r.Endpoint)) services[i].Servers.Add(r);
        }
        foreach (var (svc, rs) in services) WriteIpvsService(w, svc, rs, options);
        return sb.Append(w.ToString()).ToString();
    }

    /// <summary>virtual_server blocks for live IPVS services (Get-IpvsService), with their real servers.</summary>
    public static string Write(IEnumerable<IpvsService> services, KeepalivedWriterOptions? options = null)
    {
        options ??= new KeepalivedWriterOptions();
        var w = new W(options.Indent);
        foreach (var s in services) WriteIpvsService(w, s, s.RealServers ?? new List<IpvsRealServer>(), options);
        return w.ToString();
    }

    /// <summary>A word read back with keepalived's quoted-escaped splitting (script commands, regex): double quotes with \\ and \" escaped when needed.</summary>
    private sealed record Quoted(string Text)
    {
        public override string ToString() => Text.Length > 0 && Text.IndexOfAny(new[] { ' ', '\t', '\n', '\r', '\f', '\v', '#', '!', '{', '}', '"', '\'', '\\' }) < 0
            ? Text
            : "\"" + Text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }

    /// <summary>A script keyword: its command, then the user and group the line was read with.</summary>
    private static void Script(W w, KeepalivedBlock b, string keyword, string? command)
    {
        if (command is null) return;
        string[] extra = b.Setting(keyword) is { } s && KeepalivedText.SplitQuotedEscaped(s.Text, out _) is { Length: > 2 } q ? q[2..] : Array.Empty<string>();
        w.Line(keyword, new Quoted(command), extra.Select(x => new Quoted(x)).ToArray());
    }

    // ------------------------------------------------------------------ pass-through of keyword lines not written from typed properties

    private static void Rest(W w, KeepalivedBlock b, ISet<string> written)
    {
        foreach (var s in b.Settings)
            if (!written.Contains(s.Keyword)) w.Line(s.Keyword, s.Values);
    }

    private static HashSet<string> Set(params string[] keywords) => new(keywords, StringComparer.Ordinal);

    // ------------------------------------------------------------------ global_defs

    private static readonly HashSet<string> GlobalTyped = Set("router_id", "notification_email", "notification_email_from", "smtp_server",
        "smtp_helo_name", "smtp_connect_timeout", "enable_script_security", "script_user");

    private static void WriteGlobal(W w, KeepalivedGlobalSettings g)
    {
        bool any = g.RouterId is not null || g.NotificationEmail.Count > 0 || g.Settings.Count > 0 || g.EnableScriptSecurity || g.SmtpServer is not null;
        if (!any) return;
        w.Open("global_defs");
        if (g.RouterId is not null) w.Line("router_id", g.RouterId);
        if (g.NotificationEmail.Count > 0) { w.Open("notification_email"); foreach (var e in g.NotificationEmail) w.Line(Word(e)); w.Close(); }
        if (g.NotificationEmailFrom is not null) w.Line("notification_email_from", g.NotificationEmailFrom);
        if (g.SmtpServer is not null) w.Line("smtp_server", g.SmtpServer, g.SmtpServerPort == 25 ? null : g.SmtpServerPort);
        if (g.SmtpHeloName is not null) w.Line("smtp_helo_name", g.SmtpHeloName);
        if (g.Has("smtp_connect_timeout") || g.SmtpConnectTimeout != 30) w.Line("smtp_connect_timeout", g.SmtpConnectTimeout);
        if (g.ScriptUser is not null) w.Line("script_user", g.ScriptUser, g.ScriptGroup);
        if (g.EnableScriptSecurity) w.Line("enable_script_security");
        Rest(w, g, GlobalTyped);
        w.Close();
        w.Blank();
    }

    // ------------------------------------------------------------------ trackers and scripts

    private static void WriteTrackFile(W w, KeepalivedTrackFile t)
    {
        w.Open("track_file", t.Name);
        if (t.FilePath is not null) w.Line("file", t.FilePath);
        if (t.Weight != 1 || t.WeightReverse) w.Line("weight", t.Weight, t.WeightReverse ? "reverse" : null);
        if (t.InitFile) w.Line("init_file", t.InitValue, t.InitOverwrite ? "overwrite" : null);
        Rest(w, t, Set("file", "weight", "init_file"));
        w.Close();
        w.Blank();
    }

    private static void WriteTrackProcess(W w, KeepalivedTrackProcess p)
    {
        w.Open("vrrp_track_process", p.Name);
        if (p.Process is not null) w.Line("process", new object?[] { p.Process }.Concat(p.Parameters).ToArray());
        if (p.ParamMatch is not null && p.Has("param_match")) w.Line("param_match", p.ParamMatch == "exact" ? null : p.ParamMatch);
        if (p.Weight != 0) w.Line("weight", p.Weight, p.WeightReverse ? "reverse" : null);
        if (p.Has("quorum")) w.Line("quorum", p.Quorum);
        if (p.QuorumMax is int qm) w.Line("quorum_max", qm);
        Rest(w, p, Set("process", "param_match", "weight", "quorum", "quorum_max"));
        w.Close();
        w.Blank();
    }

    private static void WriteBfd(W w, KeepalivedBfdInstance b)
    {
        w.Open("bfd_instance", b.Name);
        if (b.Neighbor is not null) w.Line("neighbor_ip", b.Neighbor);
        if (b.Source is not null) w.Line("source_ip", b.Source);
        Rest(w, b, Set("neighbor_ip", "neighbour_ip", "source_ip"));
        w.Close();
        w.Blank();
    }

    private static void WriteVrrpScript(W w, KeepalivedVrrpScript s)
    {
        w.Open("vrrp_script", s.Name);
        Script(w, s, "script", s.Script);
        if (s.Has("interval") || s.Interval != 1) w.Line("interval", s.Interval);
        if (s.Timeout != 0) w.Line("timeout", s.Timeout);
        if (s.Weight != 0 || s.WeightReverse) w.Line("weight", s.Weight, s.WeightReverse ? "reverse" : null);
        if (s.Rise != 1) w.Line("rise", s.Rise);
        if (s.Fall != 1) w.Line("fall", s.Fall);
        if (s.User is not null) w.Line("user", s.User, s.Group);
        if (s.InitFail) w.Line("init_fail");
        Rest(w, s, Set("script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail"));
        w.Close();
        w.Blank();
    }

    private static void WriteStatic(W w, string keyword, List<KeepalivedTextLine> lines)
    {
        if (lines.Count == 0) return;
        w.Open(keyword);
        foreach (var l in lines) w.Line(Word(l.Words[0]), l.Words.Skip(1).ToArray());
        w.Close();
        w.Blank();
    }

    private static void WriteTrackGroup(W w, KeepalivedTrackGroup g)
    {
        w.Open("track_group", g.Name);
        if (g.Group.Length > 0) { w.Open("group"); foreach (var n in g.Group) w.Line(n); w.Close(); }
        Rest(w, g, Set("group"));
        w.Close();
        w.Blank();
    }

    private static void WriteGarpGroup(W w, KeepalivedGarpGroup g)
    {
        w.Open("garp_group");
        if (g.GarpInterval is double gi) w.Line("garp_interval", gi);
        if (g.GnaInterval is double na) w.Line("gna_interval", na);
        if (g.Interfaces.Count > 0) { w.Open("interfaces"); foreach (var i in g.Interfaces) w.Line(i); w.Close(); }
        Rest(w, g, Set("garp_interval", "gna_interval", "interface", "interfaces"));
        w.Close();
        w.Blank();
    }

    private static void References(W w, string keyword, IEnumerable<KeepalivedTrackReference> refs)
    {
        var list = refs.ToList();
        if (list.Count == 0) return;
        w.Open(keyword);
        foreach (var r in list) w.Raw(r.Text);
        w.Close();
    }

    /// <summary>What sync groups and instances both have: tracked scripts, files, processes, BFDs and the notify scripts.</summary>
    private static void TracksAndNotifies(W w, KeepalivedBlock b, IEnumerable<KeepalivedTrackReference> scripts, IEnumerable<KeepalivedTrackReference> files,
        IEnumerable<KeepalivedTrackReference> processes, IEnumerable<KeepalivedTrackReference> bfds,
        string? notify, string? master, string? backup, string? fault, string? stop)
    {
        References(w, "track_script", scripts);
        References(w, "track_file", files);
        References(w, "track_process", processes);
        References(w, "track_bfd", bfds);
        Script(w, b, "notify", notify);
        Script(w, b, "notify_master", master);
        Script(w, b, "notify_backup", backup);
        Script(w, b, "notify_fault", fault);
        Script(w, b, "notify_stop", stop);
    }

    private static void TextBlock(W w, string keyword, IEnumerable<KeepalivedTextLine> lines)
    {
        var list = lines.ToList();
        if (list.Count == 0) return;
        w.Open(keyword);
        foreach (var l in list) w.Line(Word(l.Words[0]), l.Words.Skip(1).ToArray());
        w.Close();
    }

    // ------------------------------------------------------------------ VRRP

    private static readonly HashSet<string> SyncTyped = Set("group", "track_interface", "track_script", "track_file", "track_process", "track_bfd",
        "notify", "notify_master", "notify_backup", "notify_fault", "notify_stop", "smtp_alert", "sync_group_tracking_weight");

    private static void WriteSyncGroup(W w, KeepalivedVrrpSyncGroup g)
    {
        w.Open("vrrp_sync_group", g.Name);
        if (g.Group.Length > 0) { w.Open("group"); foreach (var n in g.Group) w.Line(n); w.Close(); }
        TextBlock(w, "track_interface", g.TrackInterfaceLines);
        TracksAndNotifies(w, g, g.TrackedScripts, g.TrackedFiles, g.TrackedProcesses, g.TrackedBfds,
            g.NotifyScript, g.NotifyMaster, g.NotifyBackup, g.NotifyFault, g.NotifyStop);
        if (g.SmtpAlert is bool sa) w.Line("smtp_alert", sa);
        if (g.SyncGroupTrackingWeight) w.Line("sync_group_tracking_weight");
        Rest(w, g, SyncTyped);
        w.Close();
        w.Blank();
    }

    private static readonly HashSet<string> VrrpTyped = Set("state", "interface", "virtual_router_id", "priority", "advert_int", "version",
        "nopreempt", "preempt", "preempt_delay", "authentication", "auth_type", "auth_pass", "virtual_ipaddress", "virtual_ipaddress_excluded",
        "virtual_routes", "virtual_rules", "unicast_peer", "unicast_src_ip", "mcast_src_ip", "mcast_dst_ip", "track_interface", "track_script",
        "track_file", "track_process", "track_bfd", "notify", "notify_master", "notify_backup", "notify_fault", "notify_stop",
        "notify_master_rx_lower_pri", "garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat",
        "no_accept", "accept", "smtp_alert", "dont_track_primary", "unicast_ttl");

    private static void WriteVrrpInstance(W w, KeepalivedVrrpInstance v)
    {
        w.Open("vrrp_instance", v.Name);
        w.Line("state", v.State);
        if (v.InterfaceName is not null) w.Line("interface", v.InterfaceName);
        if (v.VirtualRouterId != 0) w.Line("virtual_router_id", v.VirtualRouterId);
        w.Line("priority", v.Priority);
        w.Line("advert_int", v.AdvertisementInterval);
        if (v.VersionGiven || v.Version != 2) w.Line("version", v.Version);
        if (v.NoPreempt) w.Line("nopreempt");
        if (v.PreemptDelay != 0) w.Line("preempt_delay", v.PreemptDelay);
        if (v.Has("accept") && !v.NoAccept) w.Line("accept");
        if (v.NoAccept && !v.StrictMode) w.Line("no_accept");
        if (v.DontTrackPrimary) w.Line("dont_track_primary");
        if (v.SourceAddress is not null) w.Line(v.Has("mcast_src_ip") && !v.Has("unicast_src_ip") ? "mcast_src_ip" : "unicast_src_ip", v.SourceAddress);
        if (v.MulticastDestination is not null) w.Line("mcast_dst_ip", v.MulticastDestination);
        if (v.UnicastTtl is int ttl) w.Line("unicast_ttl", ttl);
        if (v.UnicastPeerLines.Count > 0) TextBlock(w, "unicast_peer", v.UnicastPeerLines);
        else if (v.UnicastPeer.Length > 0) { w.Open("unicast_peer"); foreach (var p in v.UnicastPeer) w.Line(p); w.Close(); }
        if (v.AuthenticationType is "PASS" or "AH" || v.AuthenticationPassword is not null)
        {
            w.Open("authentication");
            w.Line("auth_type", v.AuthenticationType is "AH" ? "AH" : "PASS");
            if ((v.AuthenticationData ?? v.AuthenticationPassword) is { } key) w.Line("auth_pass", key);
            w.Close();
        }
        if (v.VirtualIPAddressLines.Count > 0) TextBlock(w, "virtual_ipaddress", v.VirtualIPAddressLines);
        else if (v.VirtualIPAddress.Length > 0) { w.Open("virtual_ipaddress"); foreach (var a in v.VirtualIPAddress) w.Raw(a); w.Close(); }
        TextBlock(w, "virtual_ipaddress_excluded", v.VirtualIPAddressExcluded);
        TextBlock(w, "virtual_routes", v.VirtualRoutes);
        TextBlock(w, "virtual_rules", v.VirtualRules);
        if (v.TrackInterfaceLines.Count > 0) TextBlock(w, "track_interface", v.TrackInterfaceLines);
        else if (v.TrackInterface.Length > 0) { w.Open("track_interface"); foreach (var t in v.TrackInterface) w.Raw(t); w.Close(); }
        TracksAndNotifies(w, v, v.TrackedScripts, v.TrackedFiles, v.TrackedProcesses, v.TrackedBfds,
            v.NotifyScript, v.NotifyMaster, v.NotifyBackup, v.NotifyFault, v.NotifyStop);
        Script(w, v, "notify_master_rx_lower_pri", v.NotifyMasterRxLowerPriority);
        if (v.Has("garp_master_delay")) w.Line("garp_master_delay", v.GarpMasterDelay);
        if (v.Has("garp_master_repeat")) w.Line("garp_master_repeat", v.GarpMasterRepeat);
        if (v.Has("garp_master_refresh")) w.Line("garp_master_refresh", v.GarpMasterRefresh);
        if (v.Has("garp_master_refresh_repeat")) w.Line("garp_master_refresh_repeat", v.GarpMasterRefreshRepeat);
        if (v.SmtpAlert is bool sa) w.Line("smtp_alert", sa);
        Rest(w, v, VrrpTyped);
        w.Close();
        w.Blank();
    }

    // ------------------------------------------------------------------ LVS

    private static void WriteSsl(W w, KeepalivedSsl s)
    {
        w.Open("SSL");
        if (s.PasswordText is not null) w.Line("password", s.PasswordText);
        if (s.CaFile is not null) w.Line("ca", s.CaFile);
        if (s.CertificateFile is not null) w.Line("certificate", s.CertificateFile);
        if (s.KeyFile is not null) w.Line("key", s.KeyFile);
        w.Close();
        w.Blank();
    }

    private static void WriteVsg(W w, KeepalivedVirtualServerGroup g)
    {
        w.Open("virtual_server_group", g.Name);
        foreach (var e in g.Entries) w.Line(Word(e.Words[0]), e.Words.Skip(1).ToArray());
        w.Close();
        w.Blank();
    }

    private static string Method(KeepalivedForwardingMethod m) => m.ToString();

    private static string Proto(IpvsProtocol p) => p switch { IpvsProtocol.Udp => "UDP", IpvsProtocol.Sctp => "SCTP", _ => "TCP" };

    private static readonly HashSet<string> VsTyped = Set("lb_algo", "lvs_sched", "lb_kind", "lvs_method", "protocol", "persistence_timeout",
        "persistence_granularity", "persistence_engine", "ops", "sh-port", "sh-fallback", "mh-port", "mh-fallback", "flag-1", "flag-2", "flag-3",
        "delay_loop", "connect_timeout", "retry", "delay_before_retry", "warmup", "inhibit_on_failure", "alpha", "omega", "quorum", "hysteresis",
        "quorum_up", "quorum_down", "weight", "ha_suspend", "virtualhost", "sorry_server", "sorry_server_inhibit", "sorry_server_lvs_method",
        "real_server", "ip_family", "hashed");

    private static void WriteVirtualServer(W w, KeepalivedVirtualServer vs, List<KeepalivedRealServer>? only)
    {
        if (vs.Group is not null) w.Open("virtual_server", "group", vs.Group);
        else if (vs.IsFirewallMark) w.Open("virtual_server", "fwmark", vs.FirewallMark);
        else w.Open("virtual_server", vs.Address, vs.Port);
        if (vs.Has("ip_family") || (vs.IsFirewallMark && vs.AddressFamily == AddressFamily.InterNetworkV6))
            w.Line("ip_family", vs.AddressFamily == AddressFamily.InterNetworkV6 ? "inet6" : "inet");
        w.Line("delay_loop", vs.DelayLoop);
        w.Line("lb_algo", vs.Scheduler);
        foreach (var f in vs.SchedulerFlag) w.Line(f);
        if (vs.OnePacket) w.Line("ops");
        w.Line("lb_kind", Method(vs.ForwardingMethod), TunnelOptions(vs.ForwardingMethod, vs.TunnelType, vs.TunnelPort, vs.TunnelChecksum));
        if (vs.PersistenceTimeout != 0) w.Line("persistence_timeout", vs.PersistenceTimeout);
        if (vs.PersistenceNetmask is not null) w.Line("persistence_granularity", vs.PersistenceNetmask);
        if (vs.PersistenceEngine is not null) w.Line("persistence_engine", vs.PersistenceEngine);
        if (vs.Has("protocol") || !vs.IsFirewallMark && (vs.Group is null || vs.Protocol != IpvsProtocol.Tcp)) w.Line("protocol", Proto(vs.Protocol));
        if (vs.ConnectTimeout != 5) w.Line("connect_timeout", vs.ConnectTimeout);
        if (vs.Retry is int r) w.Line("retry", r);
        if (vs.DelayBeforeRetry is double dbr) w.Line("delay_before_retry", dbr);
        if (vs.Warmup is double wu) w.Line("warmup", wu);
        if (vs.InhibitOnFailure) w.Line("inhibit_on_failure");
        if (vs.Alpha) w.Line("alpha");
        if (vs.Omega) w.Line("omega");
        if (vs.Has("quorum")) w.Line("quorum", vs.Quorum);
        if (vs.Hysteresis != 0) w.Line("hysteresis", vs.Hysteresis);
        Script(w, vs, "quorum_up", vs.QuorumUp);
        Script(w, vs, "quorum_down", vs.QuorumDown);
        if (vs.Weight != 1) w.Line("weight", vs.Weight);
        if (vs.HaSuspend) w.Line("ha_suspend");
        if (vs.VirtualHost is not null) w.Line("virtualhost", vs.VirtualHost);
        if (vs.SorryServer is { } ss)
        {
            w.Line("sorry_server", ss.Address, ss.Port);
            if (vs.SorryServerInhibit) w.Line("sorry_server_inhibit");
            if (ss.ForwardingMethod != vs.ForwardingMethod) w.Line("sorry_server_lvs_method", Method(ss.ForwardingMethod));
        }
        Rest(w, vs, VsTyped);
        // A real server whose port keepalived reset to the service's (DR, TUN) can repeat an earlier one; written once.
        var seen = new HashSet<(IPAddress, int)>();
        foreach (var rs in only ?? vs.RealServers)
            if (seen.Add((rs.Address, rs.Port))) WriteRealServer(w, rs, vs);
        w.Close();
        w.Blank();
    }

    private static object?[] TunnelOptions(KeepalivedForwardingMethod m, string? type, int port, string? csum)
    {
        if (m != KeepalivedForwardingMethod.TUN || type is null or "ipip" && csum is null or "nocsum") return Array.Empty<object?>();
        var o = new List<object?> { "type", type };
        if (port != 0) { o.Add("port"); o.Add(port); }
        if (csum is not null and not "nocsum") o.Add(csum);
        return o.ToArray();
    }

    private static readonly HashSet<string> RsTyped = Set("weight", "lvs_method", "uthreshold", "lthreshold", "inhibit_on_failure", "notify_up",
        "notify_down", "alpha", "retry", "delay_before_retry", "warmup", "connect_timeout", "delay_loop", "smtp_alert", "virtualhost",
        "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK");

    private static void WriteRealServer(W w, KeepalivedRealServer rs, KeepalivedVirtualServer vs)
    {
        w.Open("real_server", rs.Address, rs.Port);
        w.Line("weight", rs.Weight);
        if (rs.ForwardingMethod != vs.ForwardingMethod || rs.Has("lvs_method"))
            w.Line("lvs_method", Method(rs.ForwardingMethod), TunnelOptions(rs.ForwardingMethod, rs.TunnelType, rs.TunnelPort, rs.TunnelChecksum));
        if (rs.UpperThreshold != 0) w.Line("uthreshold", rs.UpperThreshold);
        if (rs.LowerThreshold != 0) w.Line("lthreshold", rs.LowerThreshold);
        if (rs.Has("inhibit_on_failure") && rs.InhibitOnFailure is bool inh) w.Line("inhibit_on_failure", inh);
        Script(w, rs, "notify_up", rs.NotifyUp);
        Script(w, rs, "notify_down", rs.NotifyDown);
        if (rs.Has("alpha") && rs.Alpha is bool a) w.Line("alpha", a);
        if (rs.Has("retry") && rs.Retry is int r) w.Line("retry", r);
        if (rs.Has("delay_before_retry") && rs.DelayBeforeRetry is double d) w.Line("delay_before_retry", d);
        if (rs.Has("warmup") && rs.Warmup is double wu) w.Line("warmup", wu);
        if (rs.Has("connect_timeout") && rs.ConnectTimeout is double ct) w.Line("connect_timeout", ct);
        if (rs.Has("delay_loop") && rs.DelayLoop is double dl) w.Line("delay_loop", dl);
        if (rs.SmtpAlert is bool sa) w.Line("smtp_alert", sa);
        if (rs.VirtualHost is not null) w.Line("virtualhost", rs.VirtualHost);
        Rest(w, rs, RsTyped);
        foreach (var c in rs.Checkers) WriteChecker(w, c);
        w.Close();
    }

    private static readonly HashSet<string> CheckerTyped = Set("connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "connect_timeout",
        "fwmark", "retry", "nb_get_retry", "delay_before_retry", "warmup", "delay_loop", "alpha", "log_all_failures", "url", "virtualhost",
        "misc_path", "misc_timeout", "misc_dynamic", "user", "helo_name", "type", "name", "track_file", "weight", "host");

    private static void WriteConnection(W w, KeepalivedChecker c)
    {
        if (c.ConnectIp is not null) w.Line("connect_ip", c.ConnectIp);
        if (c.ConnectPort is int cp) w.Line("connect_port", cp);
        if (c.BindTo is not null) w.Line("bindto", c.BindTo);
        if (c.BindPort is int bp) w.Line("bind_port", bp);
        if (c.BindInterface is not null) w.Line("bind_if", c.BindInterface);
        if (c.ConnectTimeout is double ct) w.Line("connect_timeout", ct);
        if (c.FirewallMark is uint fw) w.Line("fwmark", fw);
    }

    private static void WriteChecker(W w, KeepalivedChecker c)
    {
        w.Open(c.Type);
        WriteConnection(w, c);
        if (c.Retry is int r) w.Line("retry", r);
        if (c.DelayBeforeRetry is double d) w.Line("delay_before_retry", d);
        if (c.Warmup is double wu) w.Line("warmup", wu);
        if (c.DelayLoop is double dl) w.Line("delay_loop", dl);
        if (c.Alpha is bool a) w.Line("alpha", a);
        if (c.LogAllFailures) w.Line("log_all_failures");
        if (c.VirtualHost is not null) w.Line("virtualhost", c.VirtualHost);
        foreach (var u in c.Urls)
        {
            w.Open("url");
            w.Line("path", u.Path);
            if (u.Digest is not null) w.Line("digest", u.Digest);
            if (u.StatusCode.Count > 0) w.Line("status_code", u.StatusCode.ToArray());
            if (u.VirtualHost is not null) w.Line("virtualhost", u.VirtualHost);
            if (u.Regex is not null) w.Line("regex", new Quoted(u.Regex));
            if (u.RegexNoMatch) w.Line("regex_no_match");
            Rest(w, u, Set("path", "digest", "status_code", "virtualhost", "regex", "regex_no_match"));
            w.Close();
        }
        if (c.MiscPath is not null) Script(w, c, "misc_path", KeepalivedText.JoinQuotedEscaped(new[] { c.MiscPath }.Concat(c.MiscArguments)));
        if (c.MiscTimeout is double mt) w.Line("misc_timeout", mt);
        if (c.MiscDynamic) w.Line("misc_dynamic");
        if (c.User is not null) w.Line("user", c.User, c.Group);
        if (c.HeloName is not null && c.Has("helo_name")) w.Line("helo_name", c.HeloName);
        foreach (var h in c.Hosts)
        {
            w.Open("host");
            WriteConnection(w, h);
            Rest(w, h, CheckerTyped);
            w.Close();
        }
        if (c.Type == "DNS_CHECK")
        {
            if (c.Has("type") && c.DnsType is not null) w.Line("type", c.DnsType);
            if (c.Has("name") && c.DnsName is not null) w.Line("name", c.DnsName);
        }
        if (c.Type == "FILE_CHECK")
        {
            if (c.TrackFile is not null) w.Line("track_file", c.TrackFile);
            if (c.Has("weight") && c.Weight is int wt) w.Line("weight", wt, c.WeightReverse ? "reverse" : null);
        }
        if (c.Type == "BFD_CHECK" && c.BfdName is not null) w.Line("name", c.BfdName);
        Rest(w, c, CheckerTyped);
        w.Close();
    }

    // ------------------------------------------------------------------ live IPVS

    private static string Method(IpvsForwardingMethod m) => m switch
    {
        IpvsForwardingMethod.DirectRouting => "DR",
        IpvsForwardingMethod.Tunnel => "TUN",
        _ => "NAT",
    };

    private static void WriteIpvsService(W w, IpvsService s, List<IpvsRealServer> servers, KeepalivedWriterOptions o)
    {
        if (s.FirewallMark != 0) w.Open("virtual_server", "fwmark", s.FirewallMark);
        else w.Open("virtual_server", s.Address ?? IPAddress.Any, s.Port);
        if (s.FirewallMark != 0 && s.AddressFamily == AddressFamily.InterNetworkV6) w.Line("ip_family", "inet6");
        if (o.DelayLoop is double dl) w.Line("delay_loop", dl);
        w.Line("lb_algo", s.Scheduler);
        foreach (var f in s.SchedulerFlag) w.Line(f);
        if (s.OnePacket) w.Line("ops");
        var method = servers.Count > 0
            ? servers.GroupBy(r => Method(r.ForwardingMethod)).OrderByDescending(g => g.Count()).First().Key
            : "NAT";
        w.Line("lb_kind", method);
        if (s.PersistenceTimeout != 0) w.Line("persistence_timeout", s.PersistenceTimeout);
        if (!string.IsNullOrEmpty(s.PersistenceNetmask)) w.Line("persistence_granularity", s.PersistenceNetmask);
        if (!string.IsNullOrEmpty(s.PersistenceEngine)) w.Line("persistence_engine", s.PersistenceEngine);
        if (s.FirewallMark == 0) w.Line("protocol", Proto(s.Protocol ?? IpvsProtocol.Tcp));
        foreach (var r in servers)
        {
            w.Open("real_server", r.Address, r.Port);
            w.Line("weight", r.Weight);
            if (Method(r.ForwardingMethod) != method) w.Line("lvs_method", Method(r.ForwardingMethod));
            if (r.UpperThreshold != 0) w.Line("uthreshold", r.UpperThreshold);
            if (r.LowerThreshold != 0) w.Line("lthreshold", r.LowerThreshold);
            if (o.HealthCheck is { } hc)
            {
                w.Open(hc);
                if (o.ConnectTimeout is double ct) w.Line("connect_timeout", ct);
                if (r.Port == 0 && s.FirewallMark != 0) w.Line("connect_port", s.Port == 0 ? 80 : s.Port);
                w.Close();
            }
            w.Close();
        }
        w.Close();
        w.Blank();
    }
}
