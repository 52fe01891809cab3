using System.Net.Sockets;
using static HaPowerShell.Core.Keepalived.KeepalivedText;

namespace HaPowerShell.Core.Keepalived;

// global_defs and the root keywords next to it (keepalived/core/global_parser.c).
internal sealed partial class KeepalivedParseContext
{
    private KeepalivedGlobalSettings G => Config.Global;

    /// <summary>The usual "keyword [true|false]" form: null (after reporting <paramref name="invalid"/>) when the value is not one of on/off/true/false/yes/no.</summary>
    internal bool? OptionalBool(string[] w, Func<string, string> invalid, bool dflt = true)
    {
        if (w.Length < 2) return dflt;
        int r = TrueFalse(Slot(w, 1));
        if (r < 0) { Error(invalid(w[1])); return null; }
        return r == 1;
    }

    private void RootSetting(string[]? w)
    {
        if (w is null) return;
        Config.RootSettings.Add(new KeepalivedSetting
        {
            Keyword = w[0], Values = w.Length > 1 ? w[1..] : Array.Empty<string>(), Text = BufExtern,
            File = Session.FileName(Current), Line = Current.Line,
        });
    }

    internal void GlobalDefs(string[]? w)
    {
        if (w is null) return;
        OpenedBlock = G;
        if (G.File is null) SetBlockLocation(G);
    }

    private void SaveProcessName(string? src)
    {
        if (src is null) { Error("Process name missing"); return; }
        if (src.Length >= 16) Error($"Process name {src} more than 15 characters, truncating");
    }

    internal void ProcessNames(string[] w) { }
    internal void ProcessName(string[] w) => SaveProcessName(Slot(w, 1));

    internal void LvsProcessName(string[] w)
    {
        Note("'lvs_process_name' is deprecated - please use 'checker_process_name'", KeepalivedFindingCategory.Deprecated);
        SaveProcessName(Slot(w, 1));
    }

    internal void RouterId(string[] w)
    {
        if (w.Length < 2) { Error("routerid name missing - ignoring", KeepalivedFindingCategory.MissingValue); return; }
        G.RouterId = w[1];
    }

    internal void EmailFrom(string[] w)
    {
        if (w.Length < 2) { Error("emailfrom missing - ignoring", KeepalivedFindingCategory.MissingValue); return; }
        G.NotificationEmailFrom = w[1];
    }

    internal void SmtpConnectTimeout(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint t, 0, uint.MaxValue / (uint)TimerHz))
        {
            Error($"smtp_connect_timeout '{Slot(w, 1)}' must be in [0, {uint.MaxValue / (uint)TimerHz}] - ignoring");
            return;
        }
        if (t == 0) { Error("smtp_conect_timeout must be greater than 0, setting to 1"); t = 1; }
        G.SmtpConnectTimeout = t;
    }

    internal void DynamicInterfaces(string[] w)
    {
        G.DynamicInterfaces = true;
        if (w.Length >= 2)
        {
            if (w[1] == "allow_if_changes") G.AllowInterfaceChanges = true;
            else Error($"Unknown dynamic_interfaces option '{w[1]}'");
        }
    }

    internal void SmtpServer(string[] w)
    {
        string host = Slot(w, 1);
        string portStr = w.Length >= 3 ? w[2] : "25";
        bool fail = true;
        int port = 0;
        if (host.IndexOfAny(new[] { '-', '/' }) < 0)
        {
            // inet_stosockaddr: a literal address (errors in the port are reported here)
            if (ReadUnsigned(portStr, out uint p, 1, 65535))
            {
                port = (int)p;
                fail = !TryParseAddress(host, out _);
            }
        }
        bool environment = false;
        if (fail)
        {
            // domain_stosockaddr: the port again, then name resolution (this host's resolver)
            if (ReadUnsigned(portStr, out uint p, 1, 65535))
            {
                port = (int)p;
                fail = !Env.TryResolve(host, out _);
                environment = fail && host.Any(IsAlpha) && !host.Contains(':');
            }
        }
        if (fail)
        {
            if (environment)
                Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"Invalid smtp server {host} {portStr}", environment: true);
            else
                Error($"Invalid smtp server {host} {portStr}");
            return;
        }
        G.SmtpServer = host;
        G.SmtpServerPort = port;
    }

    internal void SmtpHelo(string[] w)
    {
        if (w.Length < 2) return;
        G.SmtpHeloName = w[1];
    }

    internal void NotificationEmail(string[] w)
    {
        var v = ReadValueBlock(w);
        if (v is null) { Error("Warning - empty notification_email block"); return; }
        G.NotificationEmail.AddRange(v);
    }

    internal void SmtpAlert(string[] w) => G.SmtpAlert = OptionalBool(w, v => $"Invalid value '{(w.Length > 1 ? w[1] : "")}' for global smtp_alert specified") ?? G.SmtpAlert;
    internal void SmtpAlertVrrp(string[] w) => G.SmtpAlertVrrp = OptionalBool(w, v => $"Invalid value '{(w.Length > 1 ? w[1] : "")}' for global smtp_alert_vrrp specified") ?? G.SmtpAlertVrrp;
    internal void SmtpAlertChecker(string[] w) => G.SmtpAlertChecker = OptionalBool(w, v => $"Invalid value '{(w.Length > 1 ? w[1] : "")}' for global smtp_alert_checker specified") ?? G.SmtpAlertChecker;
    internal void CheckerLogAllFailures(string[] w) => OptionalBool(w, v => "Invalid value for checker_log_all_failures specified");

    private void StartupShutdownScript(string[] w, bool startup)
    {
        string type = startup ? "startup" : "shutdown";
        if ((startup ? G.StartupScript : G.ShutdownScript) is not null) { Error($"{type} script already specified"); return; }
        if (w.Length < 2) { Error($"{type} script missing", KeepalivedFindingCategory.MissingValue); return; }
        var script = NotifyScriptInit(0, type);
        if (script is null) { Error($"Invalid {type} script"); return; }
        if (startup) { G.StartupScript = w[1]; _session.StartupScript = script; }
        else { G.ShutdownScript = w[1]; _session.ShutdownScript = script; }
    }

    private void StartupShutdownTimeout(string[] w, bool startup)
    {
        string type = startup ? "startup" : "shutdown";
        if (w.Length < 2) { Error($"{type}_script_timeout requires value", KeepalivedFindingCategory.MissingValue); return; }
        if (!ReadUnsigned(w[1], out uint d, 1, 1000)) { Error($"{type}_script_timeout '{w[1]}' must be in [1, 1000] - ignoring"); return; }
        if (startup) G.StartupScriptTimeout = (int)d; else G.ShutdownScriptTimeout = (int)d;
    }

    internal void StartupScript(string[] w) => StartupShutdownScript(w, true);
    internal void ShutdownScript(string[] w) => StartupShutdownScript(w, false);
    internal void StartupScriptTimeout(string[] w) => StartupShutdownTimeout(w, true);
    internal void ShutdownScriptTimeout(string[] w) => StartupShutdownTimeout(w, false);

    internal void MaxAutoPriority(string[] w)
    {
        const int max = 99;   // sched_get_priority_max(SCHED_RR)
        if (w.Length < 2) { G.MaxAutoPriority = max; return; }
        if (!ReadInt(w[1], out int p, -1, max)) { Error($"max_auto_priority '{w[1]}' must be in [0, {max}] (or -1 to disable) - ignoring"); return; }
        G.MaxAutoPriority = p;
    }

    internal void MinAutoPriorityDelay(string[] w)
    {
        if (w.Length < 2) { Error("min_auto_priority_delay requires delay time", KeepalivedFindingCategory.MissingValue); return; }
        if (!ReadInt(w[1], out _, 1, 10_000_000)) Error($"min_auto_priority_delay '{w[1]}' must be in [1, 10000000] - ignoring");
    }

    internal void DefaultInterface(string[] w)
    {
        if (w.Length < 2) { Error("default_interface requires interface name", KeepalivedFindingCategory.MissingValue); return; }
        G.DefaultInterface = w[1];
    }

    internal void DisableLocalIgmp(string[] w)
    {
        if (!Env.IgmpLinkLocalReportsWritable)
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, "kernel does not support /proc/sys/net/ipv4/igmp_link_local_mcast_reports", environment: true);
    }

    internal void LvsTimeouts(string[] w)
    {
        const uint maxTimeout = 86400 * 31;
        if (w.Length < 3) { Error("lvs_timeouts requires at least one option", KeepalivedFindingCategory.MissingValue); return; }
        for (int i = 1; i < w.Length; i++)
        {
            string o = w[i];
            if (o is "tcp" or "tcpfin" or "udp")
            {
                if (i == w.Length - 1) { Error($"No value specified for lvs_timeout {o} - ignoring", KeepalivedFindingCategory.MissingValue); continue; }
                if (!ReadUnsigned(w[i + 1], out uint v, 0, maxTimeout)) Error($"Invalid lvs_timeout {o} ({w[i + 1]}) - ignoring");
                else if (o == "tcp") G.LvsTimeoutTcp = (int)v;
                else if (o == "tcpfin") G.LvsTimeoutTcpFin = (int)v;
                else G.LvsTimeoutUdp = (int)v;
                i++;
                continue;
            }
            Error($"Unknown option {o} specified for lvs_timeouts");
        }
    }

    internal void LvsSyncDaemon(string[] w)
    {
        if (G.LvsSyncDaemon is { } existing)
        {
            Error($"lvs_sync_daemon has already been specified as {existing.InterfaceName} {existing.VrrpInstance ?? ""} - ignoring");
            return;
        }
        if (w.Length < 2) { Error("lvs_sync_daemon requires interface", KeepalivedFindingCategory.MissingValue); return; }
        if (w[1].Length >= 16) { Error($"lvs_sync_daemon interface name '{w[1]}' too long - ignoring"); return; }
        var sd = new KeepalivedLvsSyncDaemon { InterfaceName = w[1] };
        G.LvsSyncDaemon = sd;
        for (int i = 2; i < w.Length; i++)
        {
            string o = w[i];
            if (o == "inst")
            {
                if (sd.VrrpInstance is not null) Error($"lvs_sync_daemon vrrp instance has already been specified as {sd.VrrpInstance} - ignoring");
                else sd.VrrpInstance = Slot(w, i + 1);
                i++;
                continue;
            }
            if (o == "id")
            {
                if (i == w.Length - 1) { Error("No value specified for lvs_sync_daemon id, defaulting to vrid", KeepalivedFindingCategory.MissingValue); continue; }
                if (!ReadUnsigned(w[i + 1], out uint v, 0, 255)) Error($"Invalid syncid ({w[i + 1]}) - defaulting to vrid");
                else sd.SyncId = (int)v;
                i++;
                continue;
            }
            if (o is "maxlen" or "port" or "ttl")
            {
                if (i == w.Length - 1) { Error($"No value specified for lvs_sync_daemon {o} - ignoring", KeepalivedFindingCategory.MissingValue); continue; }
                uint max = o == "maxlen" ? 65535 - 20 - 8 : o == "port" ? 65535u : 255u;
                if (!ReadUnsigned(w[i + 1], out uint v, 1, max)) Error($"Invalid lvs_sync_daemon {o} ({w[i + 1]}) - ignoring");
                else if (o == "maxlen") sd.MaxLength = (int)v;
                else if (o == "port") sd.Port = (int)v;
                else sd.Ttl = (int)v;
                i++;
                continue;
            }
            if (o == "group")
            {
                if (i == w.Length - 1) { Error("No value specified for lvs_sync_daemon group - ignoring", KeepalivedFindingCategory.MissingValue); continue; }
                if (!ParseSockAddr(w[i + 1], null, out var a, out _))
                    Error($"Invalid lvs_sync_daemon group ({w[i + 1]}) - ignoring");
                else if (!IsMulticast(a!))
                    Error($"lvs_sync_daemon group address {w[i + 1]} is not multicast - ignoring");
                else sd.Group = w[i + 1];
                i++;
                continue;
            }
            if (i == 2) { sd.VrrpInstance = w[2]; continue; }
            if (i == 3)
            {
                if (!ReadUnsigned(w[3], out uint v, 0, 255)) Error($"Invalid syncid ({w[3]}) - defaulting to vrid");
                else { Error("Please use keyword \"id\" before lvs_sync_daemon SYNCID", KeepalivedFindingCategory.Deprecated); sd.SyncId = (int)v; }
                continue;
            }
            Error($"Unknown option {o} specified for lvs_sync_daemon");
        }
    }

    internal void LvsFlush(string[] w) => G.LvsFlush = true;

    internal void LvsFlushOnStop(string[] w)
    {
        if (w.Length == 1) G.LvsFlushOnStop = "Full";
        else if (w[1] == "VS") G.LvsFlushOnStop = "VS";
        else Error($"Unknown lvs_flush_on_stop type {w[1]}");
    }

    private int? RealtimePriority(string[] w, string process)
    {
        if (w.Length < 2) { Error($"No {process} process real-time priority specified", KeepalivedFindingCategory.MissingValue); return null; }
        if (!ReadInt(w[1], out int p, int.MinValue, int.MaxValue)) { Error($"{process} process real-time priority '{w[1]}' invalid"); return null; }
        if (p < 1) { Error($"{process} process real-time priority {p} less than minimum 1 - setting to minimum"); p = 1; }
        else if (p > 99) { Error($"{process} process real-time priority {p} greater than maximum 99 - setting to maximum"); p = 99; }
        return p;
    }

    private void CpuAffinity(string[] w, string process)
    {
        if (w.Length < 2) { Error($"No {process} cpu_id set specified", KeepalivedFindingCategory.MissingValue); return; }
        int cpus = Env.ProcessorCount;
        for (int i = 1; i < w.Length; i++)
        {
            if (!ReadInt(w[i], out int id, 0, cpus - 1))
            {
                Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"Invalid cpu_id:{id} specified for {process} process", environment: id >= 0 && id < 1024);
                return;
            }
        }
    }

    private void RtRlimit(string[] w, string process)
    {
        string k = w[0];
        if (k.Length >= 5 && k[^5] == 'r')
            Note($"Keyword '{k}' is deprecated - please use '{k[..^5]}rttime'", KeepalivedFindingCategory.Deprecated);
        if (!ReadUnsigned(Slot(w, 1), out _, 1, uint.MaxValue)) Error($"Invalid {process} real-time limit - {w[1]}");
    }

    private int? NicePriority(string[] w, string process)
    {
        if (w.Length < 2) { Error($"No {process} process priority specified", KeepalivedFindingCategory.MissingValue); return null; }
        if (!ReadInt(w[1], out int p, -20, 19)) { Error($"Invalid {process} process priority specified"); return null; }
        return p;
    }

    private void McastGroup(string[] w, bool v6)
    {
        string name = v6 ? "vrrp_mcast_group6" : "vrrp_mcast_group4";
        string text = Slot(w, 1);
        if (!ParseSockAddr(text, null, out var a, out _)) { Error($"Can't parse {name} [{text}]. Skipping"); return; }
        if ((a!.AddressFamily == AddressFamily.InterNetworkV6) != v6) { Error($"{name} [{text}] is not {(v6 ? "IPv6" : "IPv4")}. Skipping"); return; }
        if (!IsMulticast(a)) { Error($"{name} [{text}] is not multicast. Skipping"); return; }
        if (v6 && !IsIPv6LinkLocalMulticast(a))
            Report(KeepalivedErrorLevel.Warning, KeepalivedFindingCategory.Semantic, $"{name} [{text}] should be link-local multicast.");
        if (v6) G.VrrpMcastGroup6 = text; else G.VrrpMcastGroup4 = text;
    }

    internal void VrrpMcastGroup4(string[] w) => McastGroup(w, false);
    internal void VrrpMcastGroup6(string[] w) => McastGroup(w, true);

    internal void VrrpGarpDelay(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint t, 0, uint.MaxValue / (uint)TimerHz)) { Error($"vrrp_garp_master_delay '{w[1]}' invalid - ignoring"); return; }
        G.VrrpGarpMasterDelay = t;
    }

    internal void VrrpGarpRepeat(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, uint.MaxValue)) { Error($"vrrp_garp_master_repeat '{w[1]}' invalid - ignoring"); return; }
        if (r == 0) { Error("vrrp_garp_master_repeat must be greater than 0, setting to 1"); r = 1; }
        G.VrrpGarpMasterRepeat = (int)Math.Min(r, int.MaxValue);
    }

    internal void VrrpGarpRefresh(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, uint.MaxValue)) { Error($"Invalid vrrp_garp_master_refresh '{w[1]}' - ignoring"); G.VrrpGarpMasterRefresh = 0; }
        else G.VrrpGarpMasterRefresh = r;
    }

    internal void VrrpGarpRefreshRepeat(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, uint.MaxValue)) { Error($"vrrp_garp_master_refresh_repeat '{w[1]}' invalid - ignoring"); return; }
        if (r == 0) { Error("vrrp_garp_master_refresh_repeat must be greater than 0, setting to 1"); r = 1; }
        G.VrrpGarpMasterRefreshRepeat = (int)Math.Min(r, int.MaxValue);
    }

    internal void VrrpGarpLowerPrioDelay(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint d, 0, uint.MaxValue / (uint)TimerHz)) { Error($"vrrp_garp_lower_prio_delay '{w[1]}' invalid - ignoring"); return; }
        G.VrrpGarpLowerPriorityDelay = d;
    }

    internal void VrrpGarpLowerPrioRepeat(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, int.MaxValue)) { Error($"Invalid vrrp_garp_lower_prio_repeat '{w[1]}'"); return; }
        G.VrrpGarpLowerPriorityRepeat = (int)r;
    }

    internal void VrrpDownTimerAdverts(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint d, 1, 100)) { Error($"Invalid vrrp_down_timer_adverts [1:100] '{w[1]}'"); return; }
        G.VrrpDownTimerAdverts = (int)d;
    }

    internal void VrrpGarpInterval(string[] w)
    {
        if (!ReadDecimal(Slot(w, 1), out ulong v, 1, uint.MaxValue, TimerHzDigits)) Error($"vrrp_garp_interval '{w[1]}' is invalid");
        else G.VrrpGarpInterval = Seconds(v);
        if (G.VrrpGarpInterval >= 1) Note($"The vrrp_garp_interval is very large - {w[1]} seconds");
    }

    internal void VrrpGnaInterval(string[] w)
    {
        if (!ReadDecimal(Slot(w, 1), out ulong v, 1, uint.MaxValue, TimerHzDigits)) Error($"vrrp_gna_interval '{w[1]}' is invalid");
        else G.VrrpGnaInterval = Seconds(v);
        if (G.VrrpGnaInterval >= 1) Note($"The vrrp_gna_interval is very large - {w[1]} seconds");
    }

    internal void VrrpMinGarp(string[] w)
    {
        bool res = true;
        if (w.Length >= 2)
        {
            int r = TrueFalse(w[1]);
            if (r < 0) { Error("Invalid value for vrrp_min_garp specified"); return; }
            res = r == 1;
            if (!res) return;
        }
        G.VrrpMinGarp = true;
        if (G.VrrpGarpMasterRepeat == 5) G.VrrpGarpMasterRepeat = 1;
        if (G.VrrpGarpMasterRefreshRepeat == 1) G.VrrpGarpMasterRefreshRepeat = 0;
        if (G.VrrpGarpMasterDelay == 5) G.VrrpGarpMasterDelay = 0;
    }

    internal void VrrpGarpExtraIf(string[] w)
    {
        string cmd = w[0];
        if (cmd == "vrrp_vmac_garp_intvl")
            Report(KeepalivedErrorLevel.Deprecated, KeepalivedFindingCategory.Deprecated, "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"", suggestion: "vrrp_garp_extra_if");
        uint delay = 0;
        for (int i = 1; i < w.Length; i++)
        {
            if (w[i] == "all") continue;
            if (!ReadUnsigned(w[i], out delay, 1, 86400)) { Error($"{cmd} '{w[i]}' invalid - ignoring"); return; }
        }
        if (delay == 0) Error($"{cmd} specified without time - ignoring", KeepalivedFindingCategory.MissingValue);
    }

    internal void VrrpLowerPrioNoAdvert(string[] w)
    {
        if (w.Length >= 2)
        {
            int r = TrueFalse(w[1]);
            if (r < 0) Error("Invalid value for vrrp_lower_prio_no_advert specified");
            else G.VrrpLowerPriorityNoAdvert = r == 1;
        }
        else G.VrrpLowerPriorityNoAdvert = true;
    }

    internal void VrrpHigherPrioSendAdvert(string[] w)
    {
        if (w.Length >= 2)
        {
            int r = TrueFalse(w[1]);
            if (r < 0) Error("Invalid value for vrrp_higher_prio_send_advert specified");
            else G.VrrpHigherPrioritySendAdvert = r == 1;
        }
        else G.VrrpHigherPrioritySendAdvert = true;
    }

    internal void VrrpIptables(string[] w)
    {
        // This keepalived is built with nftables and without iptables.
        Error("iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
            KeepalivedFindingCategory.Deprecated);
        G.NftablesTable ??= "keepalived";
    }

    internal void Nftables(string[] w)
    {
        if (G.NftablesTable is not null) { Error("nftables already specified - ignoring"); return; }
        if (w.Length >= 2)
        {
            if (w[1].Length >= 32) { Error("nftables table name too long - ignoring"); return; }
            G.NftablesTable = w[1];
        }
        else G.NftablesTable = "keepalived";
    }

    internal void NftablesPriority(string[] w)
    {
        if (ReadInt(Slot(w, 1), out int p, int.MinValue, int.MaxValue)) G.NftablesPriority = p;
        else Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"invalid nftables chain priority '{w[1]}'");
    }

    internal void NftablesIpvs(string[] w)
    {
        if (G.NftablesIpvsTable is not null) { Error("ipvs nftables already specified - ignoring"); return; }
        if (w.Length >= 2)
        {
            if (w[1].Length >= 32) { Error("ipvs nftables table name too long - ignoring"); return; }
            G.NftablesIpvsTable = w[1];
        }
        else G.NftablesIpvsTable = "keepalived_ipvs";
    }

    internal void NftablesIpvsPriority(string[] w)
    {
        if (!ReadInt(Slot(w, 1), out _, int.MinValue, int.MaxValue))
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"invalid ipvs nftables chain priority '{w[1]}'");
    }

    internal void NftablesIpvsStartFwmark(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out _, 1, uint.MaxValue))
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"invalid ipvs nftables start_fwmark priority '{w[1]}'");
    }

    internal void VrrpVersion(string[] w)
    {
        if (!ReadInt(Slot(w, 1), out int v, 2, 3)) { Error("VRRP Error: Version must be either 2 or 3"); return; }
        G.VrrpVersion = v;
    }

    internal void VrrpPriorityGlobal(string[] w) => G.VrrpPriority = NicePriority(w, "vrrp") ?? 0;
    internal void VrrpRtPriority(string[] w) { if (RealtimePriority(w, "vrrp") is int p) G.VrrpRealtimePriority = p; }
    internal void CheckerPriorityGlobal(string[] w) => G.CheckerPriority = NicePriority(w, "checker") ?? 0;
    internal void CheckerRtPriority(string[] w) { if (RealtimePriority(w, "checker") is int p) G.CheckerRealtimePriority = p; }
    internal void BfdPriorityGlobal(string[] w) => G.BfdPriority = NicePriority(w, "bfd") ?? 0;
    internal void BfdRtPriority(string[] w) { if (RealtimePriority(w, "bfd") is int p) G.BfdRealtimePriority = p; }
    internal void VrrpCpuAffinity(string[] w) => CpuAffinity(w, "vrrp");
    internal void CheckerCpuAffinity(string[] w) => CpuAffinity(w, "checker");
    internal void BfdCpuAffinity(string[] w) => CpuAffinity(w, "bfd");
    internal void VrrpRtRlimit(string[] w) => RtRlimit(w, "vrrp");
    internal void CheckerRtRlimit(string[] w) => RtRlimit(w, "checker");
    internal void BfdRtRlimit(string[] w) => RtRlimit(w, "bfd");

    private void NotifyFifo(string[] w, string type, Action<string> set, Func<string?> get)
    {
        if (w.Length < 2) { Error($"No {type}notify_fifo name specified", KeepalivedFindingCategory.MissingValue); return; }
        if (get() is not null) { Error($"{type}notify_fifo already specified - ignoring {w[1]}"); return; }
        if (w.Length > 2)
        {
            if (!ScriptUidGid(w, 2, out _, out _)) { Note($"Invalid user/group for {type} fifo {w[1]} - ignoring", KeepalivedFindingCategory.Environment, environment: true); return; }
        }
        else if (!DefaultScriptUserLookup(out _, out _)) return;
        set(w[1]);
    }

    private void NotifyFifoScript(string[] w, string type, Action<string> set, Func<string?> get)
    {
        if (w.Length < 2) { Error($"No {type}notify_fifo_script specified", KeepalivedFindingCategory.MissingValue); return; }
        if (get() is not null) { Error($"{type}notify_fifo_script already specified - ignoring {w[1]}"); return; }
        var s = NotifyScriptInit(1, type + "notify_fifo");
        if (s is not null)
        {
            set(w[1]);
            _session.FifoScripts.Add((type, s));
        }
    }

    internal void GlobalNotifyFifo(string[] w) => NotifyFifo(w, "", v => G.NotifyFifo = v, () => G.NotifyFifo);
    internal void GlobalNotifyFifoScript(string[] w) => NotifyFifoScript(w, "", v => G.NotifyFifoScript = v, () => G.NotifyFifoScript);
    internal void VrrpNotifyFifo(string[] w) => NotifyFifo(w, "vrrp_", v => G.VrrpNotifyFifo = v, () => G.VrrpNotifyFifo);
    internal void VrrpNotifyFifoScript(string[] w) => NotifyFifoScript(w, "vrrp_", v => G.VrrpNotifyFifoScript = v, () => G.VrrpNotifyFifoScript);
    internal void LvsNotifyFifo(string[] w) => NotifyFifo(w, "lvs_", v => G.LvsNotifyFifo = v, () => G.LvsNotifyFifo);
    internal void LvsNotifyFifoScript(string[] w) => NotifyFifoScript(w, "lvs_", v => G.LvsNotifyFifoScript = v, () => G.LvsNotifyFifoScript);

    internal void VrrpNotifyPriorityChanges(string[] w) => OptionalBool(w, v => $"Invalid value '{(w.Length > 1 ? w[1] : "")}' for global vrrp_notify_priority_changes specified");

    internal void SnmpSocket(string[] w)
    {
        if (w.Length > 2) { Error("Too many parameters specified for snmp_socket - ignoring"); return; }
        if (w.Length < 2) { Error("SNMP error : snmp socket name missing", KeepalivedFindingCategory.MissingValue); return; }
        if (w[1].Length > 4095) { Error("SNMP error : snmp socket name too long - ignored"); return; }
        if (_session.SnmpSocket is { } s) { Error($"SNMP socket already set to {s} - ignoring"); return; }
        _session.SnmpSocket = w[1];
    }

    internal void NetNamespace(string[]? w)
    {
        if (w is null) return;
        RootSetting(w);
        if (w.Length < 2) { Error("net_namespace name missing - ignoring", KeepalivedFindingCategory.MissingValue); return; }
        if (G.NetworkNamespace is null) G.NetworkNamespace = w[1];
        else Error($"Duplicate net_namespace definition {w[1]} - ignoring", KeepalivedFindingCategory.Duplicate);
    }

    internal void NetNamespaceIpvs(string[]? w)
    {
        if (w is null) return;
        RootSetting(w);
        if (_session.NetNamespaceIpvsSet) { Error($"Duplicate net_namespace_ipvs definition {Slot(w, 1)} - ignoring", KeepalivedFindingCategory.Duplicate); return; }
        _session.NetNamespaceIpvsSet = true;
    }

    internal void RootFlag(string[]? w) => RootSetting(w);

    internal void DbusServiceName(string[] w)
    {
        if (w.Length < 2) Error("dbus_service_name missing - ignoring", KeepalivedFindingCategory.MissingValue);
    }

    internal void Instance(string[]? w)
    {
        if (w is null) return;
        RootSetting(w);
        if (w.Length < 2) { Error("instance name missing - ignoring", KeepalivedFindingCategory.MissingValue); return; }
        if (G.InstanceName is null) G.InstanceName = w[1];
        else Error($"Duplicate instance definition {w[1]} - ignoring", KeepalivedFindingCategory.Duplicate);
    }

    internal void ScriptUser(string[] w)
    {
        if (w.Length < 2) { Error("No script username specified", KeepalivedFindingCategory.MissingValue); return; }
        G.ScriptUser = w[1];
        G.ScriptGroup = w.Length > 2 ? w[2] : null;
        if (!SetDefaultScriptUser(w[1], w.Length > 2 ? w[2] : null))
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, "Error setting global script uid/gid", environment: true);
    }

    internal void ScriptSecurity(string[] w)
    {
        _session.ScriptSecurity = true;
        G.EnableScriptSecurity = true;
    }

    internal void ChildWaitTime(string[]? w)
    {
        if (w is null) return;
        RootSetting(w);
        if (!ReadUnsigned(Slot(w, 1), out _, 0, uint.MaxValue)) Error($"Invalid child_wait_time {w[1]}");
    }

    internal void VrrpRxBufsPolicy(string[] w)
    {
        if (w.Length < 2) { Error("vrrp_rx_bufs_policy missing", KeepalivedFindingCategory.MissingValue); return; }
        bool mtu = false, advert = false, size = false;
        for (int i = 1; i < w.Length; i++)
        {
            if (string.Equals(w[i], "MTU", StringComparison.OrdinalIgnoreCase)) mtu = true;
            else if (string.Equals(w[i], "ADVERT", StringComparison.OrdinalIgnoreCase)) advert = true;
            else if (!ReadUnsigned(w[1], out _, 0, uint.MaxValue)) Error($"Invalid vrrp_rx_bufs_policy {w[i]}");
            else size = true;
        }
        if (size && (mtu || advert)) Error("Cannot set vrrp_rx_bufs_policy size and policy, ignoring policy");
        else if (mtu && advert) Error("Cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT");
    }

    internal void VrrpRxBufsMultiplier(string[] w)
    {
        if (w.Length != 2) { Error("Invalid vrrp_rx_bufs_multiplier"); return; }
        if (!ReadUnsigned(w[1], out _, 1, uint.MaxValue)) Error($"Invalid vrrp_rx_bufs_multiplier {w[1]}");
    }

    private void RcvBufs(string[] w, string type)
    {
        if (w.Length < 2) { Error($"{type}_rcv_bufs size missing", KeepalivedFindingCategory.MissingValue); return; }
        if (!ReadUnsigned(w[1], out _, 0, uint.MaxValue)) Error($"{type}_rcv_bufs size ({w[1]}) invalid");
    }

    private void GlobalBoolNamed(string[] w, string keyword) => OptionalBool(w, v => $"Invalid value '{(w.Length > 1 ? w[1] : "")}' for global {keyword} specified");

    internal void VrrpNetlinkCmdRcvBufs(string[] w) => RcvBufs(w, "vrrp_netlink_cmd");
    internal void VrrpNetlinkMonitorRcvBufs(string[] w) => RcvBufs(w, "vrrp_netlink_monitor");
    internal void ProcessMonitorRcvBufs(string[] w) => RcvBufs(w, "process_monitor");
    internal void LvsNetlinkCmdRcvBufs(string[] w) => RcvBufs(w, "lvs_netlink_cmd");
    internal void LvsNetlinkMonitorRcvBufs(string[] w) => RcvBufs(w, "lvs_netlink_monitor");
    internal void GlobalBool(string[] w) => GlobalBoolNamed(w, w[0] == "data_use_instance" ? "date_use_instance" : w[0]);

    internal void Umask(string[] w)
    {
        string mask = Slot(w, 1);
        if (mask.Length > 0 && IsDigit(mask[0]))
        {
            if (w.Length != 2) { Error($"{(w.Length == 1 ? "Missing" : "Extra")} parameter(s) to umask option"); return; }
            int end = StrToLong(mask, 0, 0, out long v, out _);
            if (end < mask.Length || v < 0 || (v & ~0777L) != 0) { Error($"invalid umask value {mask}"); return; }
            return;
        }
        bool needOr = false;
        string[] bits = { "IRUSR", "IWUSR", "IXUSR", "IRGRP", "IWGRP", "IXGRP", "IROTH", "IWOTH", "IXOTH" };
        for (int i = 1; i < w.Length; i++)
        {
            string s = w[i];
            for (int p = 0; p < s.Length;)
            {
                if (needOr)
                {
                    if (s[p] == '|') { needOr = false; p++; continue; }
                    Error($"Invalid umask syntax {s}");
                    return;
                }
                if (!bits.Any(b => string.CompareOrdinal(s, p, b, 0, 5) == 0)) { Error($"Unknown umask bit {s.Substring(p)}"); return; }
                p += 5;
                needOr = true;
            }
        }
        if (!needOr) Error("umask missing bit value");
    }

    internal void VrrpStartupDelay(string[] w)
    {
        if (!ReadDecimal(Slot(w, 1), out ulong v, TimerHz / 1000, uint.MaxValue, TimerHzDigits)) Error($"vrrp_startup_delay '{w[1]}' is invalid");
        else G.VrrpStartupDelay = Seconds(v);
        if (G.VrrpStartupDelay >= 60) Note($"The vrrp_startup_delay is very large - {w[1]} seconds");
    }

    internal void VmacPrefix(string[] w)
    {
        if (_session.VmacPrefixSet) { Error($"vmac prefix has already been specified - ignoring {Slot(w, 1)}"); return; }
        G.VmacPrefix = Slot(w, 1);
        _session.VmacPrefixSet = true;
    }

    internal void VmacAddrPrefix(string[] w)
    {
        if (_session.VmacAddrPrefixSet) { Error($"vmac_addr prefix has already been specified - ignoring {Slot(w, 1)}"); return; }
        Slot(w, 1);
        _session.VmacAddrPrefixSet = true;
    }

    internal void RandomSeed(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint v, 0, uint.MaxValue)) { Error($"random_seed {w[1]} invalid"); return; }
        _reader?.SetRandomSeed(v);
    }

    internal void IncludeCheck(string[] w)
    {
        const int r = KeepalivedReader.IncludeR, m = KeepalivedReader.IncludeM, wc = KeepalivedReader.IncludeW, b = KeepalivedReader.IncludeB;
        if (_reader is null) return;
        if (w.Length <= 1) { _reader.IncludeCheck = r | m | wc | b; return; }
        for (int i = 1; i < w.Length; i++)
        {
            string word = w[i];
            int add = 0, offset = 1;
            if (word.StartsWith('-')) add = -1;
            else if (word.StartsWith('+')) add = 1;
            else
            {
                offset = 0;
                if (i == 1) _reader.IncludeCheck = 0;
                else { Error($"Duplicate include_check '{word}' specified - ignoring"); continue; }
            }
            string name = word.Substring(offset);
            int flag = name switch { "read" => r, "match" => m, "wildcard_match" => wc, "brace_match" => b, _ => 0 };
            if (flag == 0) Error($"Unknown include_check type '{name}' - ignoring");
            if (flag != 0)
            {
                if (add == 0) _reader.IncludeCheck = r | flag;
                else if (add == 1) _reader.IncludeCheck |= flag;
                else _reader.IncludeCheck &= ~flag;
            }
        }
    }

    internal void ConfigSaveDir(string[] w)
    {
        string dir = Slot(w, 1);
        var st = Env.Stat(dir, true);
        if (st is { IsDirectory: true }) return;
        // The parent process creates it; in -t nothing is created, and the children do not read global_defs.
        if (st is not null && !st.IsDirectory)
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"config_save_dir {dir} exists and is not a directory", environment: true);
    }

    internal void ReloadTimeFile(string[] w)
    {
        if (w.Length != 2) Error("reload_time_file invalid");
    }

    internal void TmpConfigDirectory(string[] w)
    {
        if (_session.TmpConfigDirectorySet) { Error($"{w[0]} already specified - ignoring"); return; }
        if (w.Length >= 2) _session.TmpConfigDirectorySet = true;
        else Error($"{w[0]} missing directory name", KeepalivedFindingCategory.MissingValue);
    }

    internal void LinkbeatUsePolling(string[]? w) => RootSetting(w);
}
