using System.Collections;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HaPowerShell.Core.Keepalived;

/// <summary>
/// The checks keepalived makes once a process has read the file (keepalived -t runs them in order: the
/// start/shutdown script security of the parent, validate_check_config(), vrrp_complete_init()), and the
/// defaults they apply. keepalived reports these without a file and line; our findings name the block.
/// </summary>
internal static class KeepalivedValidation
{
    private static void Err(KeepalivedParseSession s, string message, KeepalivedBlock? about, KeepalivedFindingCategory category = KeepalivedFindingCategory.Semantic,
        KeepalivedErrorLevel level = KeepalivedErrorLevel.General, bool environment = false)
        => s.AddUnplaced(level, category, message, about, environment);

    private static ScriptFlags SecureCheck(KeepalivedParseSession s, KeepalivedScript? script, KeepalivedBlock? about)
        => script is null ? ScriptFlags.None : SecureCheckScript(s, script, about);

    // Apart from SecureCheck: its closure would otherwise be made on every call, scripts or not (four per real server).
    private static ScriptFlags SecureCheckScript(KeepalivedParseSession s, KeepalivedScript script, KeepalivedBlock? about)
    {
        return KeepalivedScriptSecurity.Check(script, s.Environment, s.ScriptSecurity,
            (msg, env) => s.Add(KeepalivedLocation.None, KeepalivedErrorLevel.None, env ? KeepalivedFindingCategory.Environment : KeepalivedFindingCategory.Security,
                msg, env, null, null, about is null ? null : null, reportedByKeepalived: false));
    }

    /// <summary>check_notify_script_secure(): the flags, and whether keepalived keeps the script.</summary>
    private static ScriptFlags NotifySecure(KeepalivedParseSession s, KeepalivedScript? script, KeepalivedBlock? about)
        => SecureCheck(s, script, about);

    // ------------------------------------------------------------------ parent

    public static void AfterParentRead(KeepalivedParseSession s)
    {
        if (s.StartupScript is null && s.ShutdownScript is null) return;
        var flags = NotifySecure(s, s.StartupScript, s.Config.Global) | NotifySecure(s, s.ShutdownScript, s.Config.Global);
        if (!s.ScriptSecurity && (flags & ScriptFlags.IsScript) != 0)
            Err(s, "SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled." +
                   ((flags & ScriptFlags.Insecure) != 0 ? " There are insecure scripts." : ""),
                s.Config.Global, KeepalivedFindingCategory.Security, KeepalivedErrorLevel.Security);
    }

    // ------------------------------------------------------------------ checker

    private static string FmtVs(KeepalivedVirtualServer vs, int groupPort = 0)
    {
        if (vs.Group is not null) return $"[{vs.Group}]:{groupPort}";
        if (vs.IsFirewallMark) return $"FWM {vs.FirewallMark}";
        return Trio(vs.Address, vs.St.ServiceType, vs.Port);
    }

    private static string Trio(IPAddress? a, int service, int port)
    {
        string proto = service switch { 6 => "tcp", 17 => "udp", 132 => "sctp", 0 => "none", _ => "?" };
        return $"[{a}]:{proto}:{port}";
    }

    private static string FmtRs(KeepalivedRealServer rs, KeepalivedVirtualServer vs) => Trio(rs.Address, vs.St.ServiceType, rs.Port);

    public static void Checker(KeepalivedParseContext ctx)
    {
        var s = ctx.Session;
        var c = s.Config;

        // link_vsg_to_vs(): virtual servers of an unknown group are dropped (keepalived only logs it).
        int member = 0;
        var groupIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var vs in c.VirtualServers.ToList())
        {
            if (vs.Group is null) continue;
            var g = c.VirtualServerGroups.FirstOrDefault(x => x.Name == vs.Group);
            if (g is null)
            {
                s.AddUnplaced(KeepalivedErrorLevel.None, KeepalivedFindingCategory.UndefinedReference,
                    $"Virtual server group {vs.Group} specified but not configured - ignoring virtual server {FmtVs(vs)}", vs,
                    reportedByKeepalived: false);   // keepalived logs it when it starts, not with -t
                Remove(c, vs);
                continue;
            }
            vs.St.Vsg = g;
            if (g.Have4 && g.Have6 && vs.St.Af != AddressFamily.Unspecified)
            {
                s.AddUnplaced(KeepalivedErrorLevel.None, KeepalivedFindingCategory.Semantic, $"{vs.Group}: virtual server group with IPv4 & IPv6 doesn't match virtual server {FmtVs(vs)} - ignoring", vs);
                Remove(c, vs);
            }
            else if ((g.Have4 && vs.St.Af == AddressFamily.InterNetworkV6) || (g.Have6 && vs.St.Af == AddressFamily.InterNetwork))
            {
                s.AddUnplaced(KeepalivedErrorLevel.None, KeepalivedFindingCategory.Semantic, $"{vs.Group}: address family doesn't match virtual server {FmtVs(vs)} - ignoring", vs);
                Remove(c, vs);
            }
            else if (g.Have4 != g.Have6 && vs.St.Af == AddressFamily.Unspecified)
                vs.St.Af = vs.AddressFamily = g.Have4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        }
        foreach (var vs in c.VirtualServers)
            if (vs.Group is not null)
            {
                groupIndex.TryGetValue(vs.Group, out member);
                vs.St.GroupMemberNumber = member;
                groupIndex[vs.Group] = member + 1;
            }

        // validate_check_config()
        foreach (var vs in c.VirtualServers.ToList())
        {
            if (vs.RealServers.Count == 0)
            {
                Err(s, $"Virtual server {FmtVs(vs, vs.St.GroupMemberNumber)} has no real servers - ignoring", vs, KeepalivedFindingCategory.MissingValue);
                Remove(c, vs);
                continue;
            }
            string name = FmtVs(vs, vs.St.GroupMemberNumber);
            var vsg = vs.St.Vsg;
            bool fwmarks = vs.IsFirewallMark || (vsg is not null && vsg.Members.Any(m => m.IsFirewallMark));
            bool addresses = vsg is not null ? vsg.Members.Any(m => !m.IsFirewallMark) : !vs.IsFirewallMark;
            if (vs.HaSuspend && (vs.FirewallMark != 0 || (vsg is not null && vsg.Members.Any(m => m.IsFirewallMark))))
            {
                Err(s, $"Virtual server {name}: cannot use ha_suspend with fwmarks - clearing ha_suspend", vs);
                vs.HaSuspend = false;
            }
            if (addresses)
            {
                if (vs.St.ServiceType == 0)
                {
                    Err(s, $"Virtual server {name}: no protocol set - defaulting to UDP", vs, KeepalivedFindingCategory.MissingValue);
                    vs.St.ServiceType = 17;
                    vs.Protocol = Ipvs.IpvsProtocol.Udp;
                    name = FmtVs(vs, vs.St.GroupMemberNumber);
                }
                if (vs.OnePacket && vs.St.ServiceType != 17)
                {
                    Err(s, $"Virtual server {name}: one packet scheduling requires UDP - resetting", vs);
                    vs.OnePacket = false;
                }
                if (vs.PersistenceTimeout == 0 && vsg is null && !vs.IsFirewallMark && vs.Port == 0)
                {
                    Err(s, $"Virtual server {name}: zero port only valid for persistent services - setting", vs);
                    vs.PersistenceTimeout = 360;
                }
            }
            if (vs.PersistenceTimeout == 0 && vsg is not null && vsg.Members.Any(m => !m.IsFirewallMark && m.Port == 0))
            {
                Err(s, $"Virtual server {name}: zero port only valid for persistent services - setting", vs);
                vs.PersistenceTimeout = 360;
            }
            if (vs.St.ServiceType != 0 &&
                ((vsg is not null && !vsg.Members.Any(m => !m.IsFirewallMark) && vsg.Members.Any(m => m.IsFirewallMark)) || (vsg is null && vs.IsFirewallMark)))
            {
                Err(s, $"Warning: Virtual server {name}: protocol specified for fwmark - protocol will be ignored", vs);
                vs.St.ServiceType = 0;
                name = FmtVs(vs, vs.St.GroupMemberNumber);
            }
            if (!vs.St.SchedSet)
            {
                Err(s, $"Virtual server {name}: no scheduler set, setting default 'wlc'", vs, KeepalivedFindingCategory.MissingValue);
                vs.St.SchedSet = true;
            }

            long weightSum = 0;
            var kept = new List<KeepalivedRealServer>();
            foreach (var rs in vs.RealServers.ToList())
            {
                if (IsDuplicate(kept, rs))
                {
                    Err(s, $"VS {name}: real server {FmtRs(rs, vs)} is duplicated - removing second rs", rs, KeepalivedFindingCategory.Duplicate);
                    vs.RealServers.Remove(rs);
                    continue;
                }
                kept.Add(rs);
                if (!rs.St.ForwardingSet)
                {
                    if (vs.St.Forwarding is null)
                    {
                        Err(s, $"Virtual server {name}: no forwarding method set, setting default NAT", vs, KeepalivedFindingCategory.MissingValue);
                        vs.St.Forwarding = KeepalivedForwardingMethod.NAT;
                        vs.ForwardingMethod = KeepalivedForwardingMethod.NAT;
                    }
                    rs.ForwardingMethod = vs.St.Forwarding.Value;
                    rs.TunnelType = vs.TunnelType; rs.TunnelPort = vs.TunnelPort; rs.TunnelChecksum = vs.TunnelChecksum;
                    rs.St.ForwardingSet = true;
                }
                rs.Alpha ??= vs.Alpha;
                rs.St.Inhibit ??= vs.InhibitOnFailure;
                rs.InhibitOnFailure ??= vs.InhibitOnFailure;
                rs.Retry ??= vs.Retry;
                rs.ConnectTimeout ??= vs.ConnectTimeout;
                rs.DelayLoop ??= vs.DelayLoop;
                rs.Warmup ??= vs.Warmup;
                rs.DelayBeforeRetry ??= vs.DelayBeforeRetry;
                if (!rs.St.WeightGiven) rs.Weight = vs.Weight;
                weightSum += rs.Weight;
                if (vs.SorryServer is { } ss && ss.Address.Equals(rs.Address) && ss.Port == rs.Port)
                {
                    bool rsInhibit = rs.St.Inhibit ?? false;
                    if ((ss.St.Inhibit ?? false) != rsInhibit)
                    {
                        Err(s, $"Virtual server {name}: real server {FmtRs(rs, vs)} matches sorry server, but inhibit setting differs, {(rsInhibit ? "sett" : "clear")}ing on sorry server", vs);
                        ss.St.Inhibit = rsInhibit;
                    }
                }
            }
            if (vs.SorryServer is { } sorry && !sorry.St.ForwardingSet)
            {
                if (vs.St.Forwarding is null)
                {
                    Err(s, $"Virtual server {name}: no forwarding method set, setting default NAT", vs, KeepalivedFindingCategory.MissingValue);
                    vs.St.Forwarding = KeepalivedForwardingMethod.NAT;
                }
                sorry.ForwardingMethod = vs.St.Forwarding.Value;
                sorry.St.ForwardingSet = true;
            }
            if (vs.Quorum > weightSum)
            {
                Err(s, $"Warning - quorum {vs.Quorum} for {name} exceeds total weight of real servers {weightSum}, reducing quorum to {weightSum}", vs);
                vs.Quorum = (int)weightSum;
            }
            if (vs.Hysteresis >= vs.Quorum)
            {
                Err(s, $"Virtual server {name}: hysteresis {vs.Hysteresis} >= quorum {vs.Quorum}; setting hysteresis to {vs.Quorum - 1}", vs);
                vs.Hysteresis = vs.Quorum - 1;
            }

            if (vsg is not null)
            {
                if (vsg.Members.Any(m => m.IsFirewallMark))
                {
                    foreach (var rs in vs.RealServers)
                        if (rs.ForwardingMethod != KeepalivedForwardingMethod.NAT && rs.Port != 0)
                            Err(s, $"WARNING - fwmark virtual server {name}, real server {FmtRs(rs, vs)} has port specified - port will be ignored", rs);
                    if (vs.SorryServer is { } ss && ss.ForwardingMethod != KeepalivedForwardingMethod.NAT && ss.Port != 0)
                        Err(s, $"WARNING - fwmark virtual server {name}, sorry server has port specified - port will be ignored", vs);
                }
                foreach (var m in vsg.Members.Where(m => !m.IsFirewallMark))
                {
                    foreach (var rs in vs.RealServers)
                    {
                        if (rs.ForwardingMethod == KeepalivedForwardingMethod.NAT) continue;
                        if (rs.Port != 0 && m.Port != rs.Port)
                            Err(s, $"virtual server {name}:[{FormatVsge(m)}] and real server {FmtRs(rs, vs)} ports don't match", rs);
                    }
                    if (vs.SorryServer is { } ss && ss.ForwardingMethod != KeepalivedForwardingMethod.NAT && ss.Port != 0 && m.Port != ss.Port)
                        Err(s, $"WARNING - virtual server {name}, sorry server has port specified - port will be ignored", vs);
                }
            }
            else
            {
                foreach (var rs in vs.RealServers)
                {
                    if (rs.ForwardingMethod == KeepalivedForwardingMethod.NAT)
                    {
                        if (!vs.IsFirewallMark && rs.Port == 0) rs.Port = vs.Port;
                        continue;
                    }
                    if (vs.IsFirewallMark)
                    {
                        if (rs.Port != 0)
                        {
                            Err(s, $"WARNING - fwmark virtual server {name}, real server {FmtRs(rs, vs)} has port specified - clearing", rs);
                            rs.Port = 0;
                        }
                    }
                    else if (rs.Port == 0) rs.Port = vs.Port;
                    else if (vs.Port != rs.Port)
                    {
                        Err(s, $"WARNING - virtual server {name} and real server {FmtRs(rs, vs)} ports don't match - resetting", rs);
                        rs.Port = vs.Port;
                    }
                }
                if (vs.SorryServer is { } ss && ss.ForwardingMethod != KeepalivedForwardingMethod.NAT)
                {
                    if (vs.IsFirewallMark)
                    {
                        if (ss.Port != 0)
                        {
                            Err(s, $"WARNING - virtual server {name}, sorry server has port specified - clearing", vs);
                            ss.Port = 0;
                        }
                    }
                    else if (ss.Port == 0) ss.Port = vs.Port;
                    else if (vs.Port != ss.Port)
                    {
                        Err(s, $"WARNING - virtual server {name} and sorry server ports don't match - resetting", vs);
                        ss.Port = vs.Port;
                    }
                }
            }
        }

        // check_check_script_security()
        if (c.VirtualServers.Count == 0) return;
        var flags = ScriptFlags.None;
        foreach (var vs in c.VirtualServers)
            foreach (var rs in vs.RealServers)
                foreach (var ck in rs.Checkers)
                {
                    if (ck.Type != "MISC_CHECK" || ck.St.MiscScript is null) continue;
                    var f = SecureCheck(s, ck.St.MiscScript, ck);
                    flags |= f;
                    bool insecure = (f & (ScriptFlags.Inhibit | ScriptFlags.NotFound)) != 0 || (f & (ScriptFlags.Executable | ScriptFlags.System)) == 0;
                    if ((f & ScriptFlags.Inhibit) != 0)
                        s.AddUnplaced(KeepalivedErrorLevel.None, KeepalivedFindingCategory.Environment, $"Disabling misc script {ck.St.MiscScript.Command} due to insecure", ck, true);
                    else if ((f & ScriptFlags.NotFound) != 0)
                        s.AddUnplaced(KeepalivedErrorLevel.None, KeepalivedFindingCategory.Environment, $"Disabling misc script {ck.St.MiscScript.Command} since not found/accessible", ck, true);
                    if (insecure) ck.St.Disabled = true;
                }
        foreach (var vs in c.VirtualServers)
        {
            flags |= NotifySecure(s, vs.St.QuorumUp, vs) | NotifySecure(s, vs.St.QuorumDown, vs);
            foreach (var rs in vs.RealServers)
                flags |= NotifySecure(s, rs.St.NotifyUp, rs) | NotifySecure(s, rs.St.NotifyDown, rs);
        }
        foreach (var (type, script) in s.FifoScripts)
            if (type is "" or "lvs_") flags |= NotifySecure(s, script, c.Global);
        if (!s.ScriptSecurity && (flags & ScriptFlags.IsScript) != 0)
            Err(s, "SECURITY VIOLATION - check scripts are being executed but script_security not enabled." +
                   ((flags & ScriptFlags.Insecure) != 0 ? " There are insecure scripts." : ""),
                null, KeepalivedFindingCategory.Security, KeepalivedErrorLevel.Security);
    }

    /// <summary>Whether <paramref name="rs"/> has the address and port of one kept before it (a loop: no closure per real server).</summary>
    private static bool IsDuplicate(List<KeepalivedRealServer> kept, KeepalivedRealServer rs)
    {
        foreach (var o in kept)
            if (o.Address.Equals(rs.Address) && o.Port == rs.Port) return true;
        return false;
    }

    private static string FormatVsge(KeepalivedVirtualServerGroupEntry e)
        => e.AddressEnd is null || e.AddressEnd.Equals(e.Address) ? $"[{e.Address}]:{e.Port}" : $"[{e.Address}-{e.AddressEnd}]:{e.Port}";

    private static void Remove(KeepalivedConfiguration c, KeepalivedVirtualServer vs)
    {
        c.VirtualServers.Remove(vs);
        vs.St.Removed = true;
    }

    // ------------------------------------------------------------------ vrrp

    public static void Vrrp(KeepalivedParseContext ctx)
    {
        var s = ctx.Session;
        var c = s.Config;
        if (s.NonExistentInterface)
        {
            s.AddUnplaced(KeepalivedErrorLevel.BadInterface, KeepalivedFindingCategory.Environment,
                "Non-existent interface specified in configuration", null, environment: true);
            return;
        }
        VrrpScriptSecurity(s);
        foreach (var v in c.VrrpInstances)
        {
            if (v.VirtualRouterId == 0)
            {
                Err(s, $"({v.Name}) the virtual router id must be set", v, KeepalivedFindingCategory.MissingValue);
                return;
            }
            if (v.St.Ifp is null && !v.St.Unicast)
            {
                Err(s, $"({v.Name}) Unknown interface!", v, KeepalivedFindingCategory.MissingValue);
                return;
            }
        }
        foreach (var g in c.VrrpSyncGroups.ToList())
        {
            if (!g.St.GroupGiven || g.Group.Length == 0)
            {
                Err(s, $"Sync group {g.Name} has no virtual router(s). removing", g, KeepalivedFindingCategory.MissingValue);
                c.VrrpSyncGroups.Remove(g);
                continue;
            }
            if (!SyncSetGroup(s, c, g)) c.VrrpSyncGroups.Remove(g);
        }
        foreach (var v in c.VrrpInstances)
            if (!CompleteInstance(s, c, v)) return;
        if (VridConflicts(s, c)) return;
        SyncGroupTrackingInit(s, c);
    }

    private static void VrrpScriptSecurity(KeepalivedParseSession s)
    {
        var c = s.Config;
        if (c.VrrpInstances.Count == 0) return;
        var flags = ScriptFlags.None;
        foreach (var sc in c.VrrpScripts)
        {
            if (sc.St.Insecure) continue;
            var f = SecureCheck(s, sc.St.Script, sc);
            flags |= f;
            if ((f & ScriptFlags.Inhibit) != 0)
            {
                Err(s, $"Disabling track script {sc.Name} due to insecure", sc, KeepalivedFindingCategory.Environment, environment: true);
                sc.St.Insecure = true;
            }
            else if ((f & ScriptFlags.NotFound) != 0)
            {
                Err(s, $"Disabling track script {sc.Name} since not found/accessible", sc, KeepalivedFindingCategory.Environment, environment: true);
                sc.St.Insecure = true;
            }
            else if ((f & (ScriptFlags.Executable | ScriptFlags.System)) == 0)
                sc.St.Insecure = true;
        }
        foreach (var v in c.VrrpInstances)
        {
            foreach (var (_, script) in v.St.Notify) flags |= NotifySecure(s, script, v);
            v.St.TrackScripts.RemoveAll(t => t.Script.St.Insecure);
        }
        foreach (var g in c.VrrpSyncGroups)
        {
            foreach (var (_, script) in g.St.Notify) flags |= NotifySecure(s, script, g);
            g.St.TrackScripts.RemoveAll(t => t.Script.St.Insecure);
        }
        foreach (var (type, script) in s.FifoScripts)
            if (type is "" or "vrrp_") flags |= NotifySecure(s, script, c.Global);
        if (!s.ScriptSecurity && (flags & ScriptFlags.IsScript) != 0)
            Err(s, "SECURITY VIOLATION - scripts are being executed but script_security not enabled." +
                   ((flags & ScriptFlags.Insecure) != 0 ? " There are insecure scripts." : ""),
                null, KeepalivedFindingCategory.Security, KeepalivedErrorLevel.Security);
    }

    private static bool SyncSetGroup(KeepalivedParseSession s, KeepalivedConfiguration c, KeepalivedVrrpSyncGroup g)
    {
        var members = new List<KeepalivedVrrpInstance>();
        bool? master = null;
        foreach (var n in g.Group)
        {
            var v = c.VrrpInstances.FirstOrDefault(x => x.Name == n);
            if (v is null)
            {
                s.AddUnplaced(KeepalivedErrorLevel.General, KeepalivedFindingCategory.UndefinedReference,
                    $"Virtual router {n} specified in sync group {g.Name} doesn't exist - ignoring", g);
                continue;
            }
            if (v.St.Sync is not null)
            {
                Err(s, $"Virtual router {n} cannot exist in more than one sync group; ignoring {g.Name}", g, KeepalivedFindingCategory.Duplicate);
                continue;
            }
            members.Add(v);
            v.St.Sync = g;
            v.SyncGroup = g.Name;
            bool wantMaster = v.St.WantStateSet && v.St.WantMaster;
            if (master == true && !wantMaster && v.St.WantStateSet)
                Err(s, $"Sync group {g.Name} has some member(s) as address owner and some not as address owner. This won't work.", g);
            if (master != false)
                master = wantMaster && v.St.BasePriority == 255;
        }
        g.St.Members.AddRange(members);
        if (members.Count == 0)
        {
            Err(s, $"Sync group {g.Name}, no matching virtual router found in group declaration - removing", g, KeepalivedFindingCategory.UndefinedReference);
            return false;
        }
        if (members.Count == 1)
            Err(s, $"Sync group {g.Name} has only 1 virtual router(s) - this probably isn't what you want", g);
        return true;
    }

    private static int TrackWeight(KeepalivedTextLine l)
    {
        var w = l.Words;
        if (w.Length >= 3 && w[1] == "weight" && int.TryParse(w[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v))
            return Math.Clamp(v, -253, 253);
        return 0;
    }

    private static bool CompleteInstance(KeepalivedParseSession s, KeepalivedConfiguration c, KeepalivedVrrpInstance v)
    {
        var st = v.St;
        var g = c.Global;
        bool strict = st.StrictMode ?? g.VrrpStrict;
        v.StrictMode = strict;
        if (st.Family == AddressFamily.InterNetworkV6)
        {
            if (st.Version == 2 && strict)
            {
                Err(s, $"({v.Name}) cannot use IPv6 with VRRP version 2; setting version 3", v);
                st.Version = 3;
            }
            else if (st.Version == 0) st.Version = 3;
        }
        if (st.Family == AddressFamily.Unspecified) st.Family = AddressFamily.InterNetwork;
        if (st.Version == 0) st.Version = st.Family == AddressFamily.InterNetworkV6 ? 3 : g.VrrpVersion;
        v.Version = st.Version;
        v.AddressFamily = st.Family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

        if (v.VirtualIPAddressLines.Count == 0)
        {
            if (st.Version == 3 || strict)
            {
                Err(s, $"({v.Name}) No VIP specified; at least one is required", v, KeepalivedFindingCategory.MissingValue);
                return false;
            }
            Err(s, $"({v.Name}) No VIP specified; at least one is sensible", v, KeepalivedFindingCategory.MissingValue);
        }

        if (st.BasePriority == 0) st.BasePriority = st.WantStateSet && st.WantMaster ? 255 : 100;
        if (!st.WantStateSet) { st.WantMaster = st.BasePriority == 255; st.WantStateSet = true; }
        else if (strict && st.WantMaster != (st.BasePriority == 255))
        {
            Err(s, $"({v.Name}) State MASTER must match being address owner", v);
            st.WantMaster = st.BasePriority == 255;
        }

        if (strict && st.AuthType != 0)
        {
            Err(s, $"({v.Name}) Strict mode does not support authentication. Ignoring.", v);
            st.AuthType = 0;
        }
        else if (st.Version == 3 && st.AuthType != 0)
        {
            Err(s, $"({v.Name}) VRRP version 3 does not support authentication. Ignoring.", v);
            st.AuthType = 0;
        }
        else if (st.AuthType != 0 && st.AuthData.Length == 0)
        {
            Err(s, $"({v.Name}) Authentication specified but no password given. Ignoring", v, KeepalivedFindingCategory.MissingValue);
            st.AuthType = 0;
        }
        else if (st.Family == AddressFamily.InterNetworkV6 && st.AuthType == 2)
        {
            Err(s, $"({v.Name}) Cannot use AH authentication with IPv6. ignoring", v);
            st.AuthType = 0;
        }
        else if (st.AuthType == 2 && st.WantMaster && st.BasePriority != 255)
        {
            Err(s, $"({v.Name}) Initial state master is incompatible with AH authentication - clearing", v);
            st.WantMaster = false;
        }

        if (strict && st.Unicast && st.Ifp is { SupportsMulticast: true })
        {
            Err(s, $"({v.Name}) Unicast peers are not supported in strict mode", v);
            return false;
        }
        if (st.Ifp is null)
        {
            if (!st.SaddrFromConfig)
            {
                Err(s, $"({v.Name}): Unicast instances must have unicast_src_ip or interface", v);
                return false;
            }
            if (st.Family == AddressFamily.InterNetworkV6 && st.Saddr is { IsIPv6LinkLocal: true })
            {
                Err(s, $"({v.Name}) Non link-local address required if interface omitted", v);
                return false;
            }
        }
        if (st.UnicastConfigured)
        {
            if (v.UnicastPeerLines.Count > 0) st.Unicast = true;
            else if (!st.UnicastFaultNoPeer)
                Err(s, $"({v.Name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.",
                    v, KeepalivedFindingCategory.Deprecated, KeepalivedErrorLevel.Deprecated);
        }
        if (strict && st.VmacMacSpecified)
        {
            Err(s, $"({v.Name}): cannot specify MAC address with strict mode - clearing", v);
            st.VmacMacSpecified = false;
        }
        if ((st.Vmac || st.Ipvlan) && st.Ifp is { IsPlaceholder: false, IsEthernet: false })
            Err(s, $"({v.Name}): vmacs are only supported on Ethernet type interfaces", v);
        if (st.Ifp is { IsPlaceholder: false, SupportsMulticast: false } && !st.Unicast)
            Err(s, $"({v.Name}) interface {st.Ifp.Name} does not support multicast, specify unicast peers - disabling", v);
        if (st.Family == AddressFamily.InterNetworkV6 && !st.Unicast && st.FirstVip is { } fv && !fv.IsIPv6LinkLocal && strict)
            Err(s, $"({v.Name}) the first IPv6 VIP address must be link local", v);
        if (st.VrfName is not null && (st.Ifp is not null || !st.Unicast))
        {
            Err(s, $"({v.Name}) vrf can only be specified with{(st.Ifp is not null ? "out interface" : " unicast")} - clearing", v);
            st.VrfName = null;
        }

        int mtu = st.Ifp?.Mtu ?? 1500;
        int maxAddr;
        if (st.Family == AddressFamily.InterNetwork)
        {
            int hdr = 14 + 20 + 8;
            if (st.Version == 2) { hdr += 8; if (st.AuthType == 2) hdr += 24; }
            maxAddr = (mtu - hdr) / 4;
        }
        else maxAddr = (mtu - (14 + 40 + 8)) / 16;
        if (maxAddr > 255) maxAddr = 255;
        if (v.VirtualIPAddressLines.Count > 0 && st.VipCount > maxAddr)
            Err(s, $"({v.Name}) Number of VIPs ({st.VipCount}) exceeds maximum/space available in packet (max {maxAddr} addresses) - excess moved to eVIPs", v);

        if (st.BasePriority == 255 && st.NoPreempt)
        {
            Err(s, $"({v.Name}) nopreempt is incompatible with priority 255. resetting nopreempt", v);
            st.NoPreempt = false;
        }
        if (st.WantMaster)
        {
            if (st.NoPreempt)
            {
                Err(s, $"({v.Name}) Warning - nopreempt will not work with initial state MASTER - clearing", v);
                st.NoPreempt = false;
            }
            if (st.PreemptDelayMicros != 0)
            {
                Err(s, $"({v.Name}) Warning - preempt delay will not work with initial state MASTER - clearing", v);
                st.PreemptDelayMicros = 0;
            }
        }
        if (st.PreemptDelayMicros != 0)
        {
            if (strict)
            {
                Err(s, $"({v.Name}) preempt_delay is incompatible with strict mode - resetting", v);
                st.PreemptDelayMicros = 0;
            }
            if (st.NoPreempt)
            {
                Err(s, $"({v.Name}) preempt_delay is incompatible with nopreempt mode - resetting", v);
                st.PreemptDelayMicros = 0;
            }
        }
        if (v.DownTimerAdverts != 3 && strict)
        {
            Err(s, $"({v.Name}) down_timer_adverts is incompatible with strict mode - resetting", v);
            v.DownTimerAdverts = 3;
        }
        bool accept = st.Accept ?? (st.BasePriority == 255 || !strict);
        if (accept && st.BasePriority != 255 && strict && st.Version == 2)
        {
            Err(s, $"({v.Name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting", v);
            accept = false;
        }
        if (st.Unicast && st.McastDaddrSet)
        {
            Err(s, $"({v.Name}) multicast destination specified with unicast - ignoring", v);
            v.MulticastDestination = null;
        }
        if (st.GarpLowerPrioRepSet && strict && st.GarpLowerPrioRep != 0)
            Err(s, $"({v.Name}) Strict mode requires no repeat garps. resetting", v);
        if (st.GarpLowerPrioDelaySet && strict && st.GarpLowerPrioDelay != 0)
            Err(s, $"({v.Name}) Strict mode requires no repeat garp delay. resetting", v);
        if (st.LowerPrioNoAdvert is bool lpna)
        {
            if (strict && !lpna) Err(s, $"({v.Name}) Strict mode requires no lower priority advert. resetting", v);
            v.LowerPriorityNoAdvert = strict || lpna;
        }
        else v.LowerPriorityNoAdvert = strict || g.VrrpLowerPriorityNoAdvert;
        if (st.HigherPrioSendAdvert is bool hpsa)
        {
            if (strict && hpsa) Err(s, $"({v.Name}) strict mode requires higher_prio_send_advert to be clear. resetting", v);
            v.HigherPrioritySendAdvert = !strict && hpsa;
        }
        else v.HigherPrioritySendAdvert = !strict && g.VrrpHigherPrioritySendAdvert;

        ulong adv = st.AdverIntMicros == 0 ? 1_000_000UL : st.AdverIntMicros;
        if (st.Version == 2)
        {
            if (adv >= 256UL * 1_000_000)
            {
                Err(s, string.Format(CultureInfo.InvariantCulture, "({0}) VRRPv2 advertisement interval {1:F2}s is out of range. Must be less than 256s. Setting to 255s", v.Name, adv / 1e6), v);
                adv = 255UL * 1_000_000;
            }
            else if (adv % 1_000_000 != 0)
            {
                Err(s, string.Format(CultureInfo.InvariantCulture, "({0}) VRRPv2 advertisement interval {1:F6}s must be an integer. rounding", v.Name, adv / 1e6), v);
                adv += 500_000;
                adv -= adv % 1_000_000;
                if (adv == 0) adv = 1_000_000;
            }
        }
        else
        {
            if (adv >= 4096UL * 10_000)
            {
                Err(s, string.Format(CultureInfo.InvariantCulture, "({0}) VRRPv3 advertisement interval {1:F2}s is out of range. Must be less than 40.96s. Setting to 40.95s", v.Name, adv / 1e6), v);
                adv = 4095UL * 10_000;
            }
            else if (adv % 10_000 != 0)
            {
                Err(s, string.Format(CultureInfo.InvariantCulture, "({0}) VRRPv3 advertisement interval {1:F6}s must be in units of 10ms - rounding", v.Name, adv / 1e6), v);
                adv += 5_000;
                adv -= adv % 10_000;
                if (adv == 0) adv = 10_000;
            }
        }
        v.AdvertisementInterval = adv / 1e6;

        if (st.Vmac && strict && st.VmacXmitBase)
        {
            Err(s, $"({v.Name}) xmit_base is incompatible with strict mode - resetting", v);
            st.VmacXmitBase = false;
        }
        if ((st.Vmac || st.Ipvlan) && v.Has("promote_secondaries"))
            Err(s, $"({v.Name}) promote_secondaries is automatically set for vmacs - ignoring", v);
        if (st.Ipvlan && st.Family == AddressFamily.InterNetwork && !v.Setting("use_ipvlan")!.Values.Any(x => KeepalivedText.TryParseIPv4(x.Split('/')[0], out _)))
            Err(s, $"({v.Name}) IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state", v);

        if (st.Ifp is not null)
            foreach (var t in v.TrackInterfaceLines.ToList())
                if (t.Words[0] == st.Ifp.Name)
                {
                    Err(s, $"({v.Name}) Ignoring track_interface {st.Ifp.Name} since own interface", v);
                    v.TrackInterfaceLines.Remove(t);
                }
        if (st.VmacXmitBase && !st.Vmac)
        {
            Err(s, $"({v.Name}) vmac_xmit_base is only valid with a vmac", v);
            st.VmacXmitBase = false;
        }

        var sync = st.Sync;
        if ((sync is not null && !sync.SyncGroupTrackingWeight) || st.BasePriority == 255)
        {
            bool syncNoWeight = sync is not null && !sync.SyncGroupTrackingWeight;
            string due = syncNoWeight ? "SYNC group" : "address owner";
            foreach (var t in v.TrackInterfaceLines.ToList())
            {
                if (TrackWeight(t) != 0)
                {
                    Err(s, $"({v.Name}) ignoring {t.Words[0]} tracked interface {(syncNoWeight ? "weight " : "")}due to {due}", v);
                    if (!syncNoWeight) v.TrackInterfaceLines.Remove(t);
                    else t.IgnoredWeight = true;
                }
            }
            string due2 = syncNoWeight ? "SYNC group" : "address_owner";
            foreach (var (r, scr) in st.TrackScripts.ToList())
                if (r.Weight != 0)
                {
                    Err(s, $"({v.Name}) ignoring tracked script {scr.Name} with weights due to {due2}", v);
                    st.TrackScripts.Remove((r, scr));
                    v.TrackedScripts.Remove(r);
                }
            foreach (var f in v.TrackedFiles.ToList())
            {
                if (f.Weight == 1)
                {
                    Err(s, $"({v.Name}) ignoring weight from tracked file {f.Name} due to {due2}. specify weight 0", v);
                    f.Weight = 0;
                }
                else if (f.Weight != 0)
                {
                    Err(s, $"({v.Name}) ignoring tracked file {f.Name} with weight {f.Weight} due to {due2}", v);
                    v.TrackedFiles.Remove(f);
                }
            }
            foreach (var b in v.TrackedBfds.ToList())
                if (b.Weight != 0)
                {
                    Err(s, $"({v.Name}) ignoring tracked bfd {b.Name} with weight {b.Weight} due to {due2}", v);
                    v.TrackedBfds.Remove(b);
                }
        }
        foreach (var (r, scr) in st.TrackScripts.ToList())
            if (st.BasePriority == 255 && r.Weight != 0)
            {
                Err(s, $"({v.Name}) Cannot have weighted track script '{scr.Name}' with priority 255", v);
                st.TrackScripts.Remove((r, scr));
            }

        // The model, with keepalived's defaults applied.
        v.Priority = st.BasePriority;
        v.State = st.WantMaster ? "MASTER" : "BACKUP";
        v.NoPreempt = st.NoPreempt;
        v.PreemptDelay = st.PreemptDelayMicros / 1e6;
        v.NoAccept = !accept;
        v.AuthenticationData = st.AuthType == 0 || st.AuthData.Length == 0 ? null : st.AuthData;
        if (st.AuthType != 1) v.AuthenticationPassword = null;
        v.AuthenticationType = st.AuthType switch { 1 => "PASS", 2 => "AH", _ => "None" };
        v.TrackInterface = v.TrackInterfaceLines.Select(l => l.Text).ToArray();
        v.UnicastPeer = st.Unicast ? v.UnicastPeerLines.Select(l => l.Words[0]).ToArray() : Array.Empty<string>();
        v.TrackScript = st.TrackScripts.Select(t => TrackScriptTable(t.Ref, t.Script)).ToArray();
        return true;
    }

    internal static Hashtable TrackScriptTable(KeepalivedTrackReference r, KeepalivedVrrpScript s) => new()
    {
        ["Name"] = s.Name,
        ["Script"] = s.Script ?? "",
        ["Interval"] = s.Interval,
        ["Timeout"] = s.Timeout == 0 ? s.Interval : s.Timeout,
        ["Weight"] = r.Weight,
        ["Rise"] = s.Rise,
        ["Fall"] = s.Fall,
    };

    private static bool VridConflicts(KeepalivedParseSession s, KeepalivedConfiguration c)
    {
        bool error = false;
        var list = c.VrrpInstances;
        for (int i = 0; i < list.Count; i++)
            for (int j = i + 1; j < list.Count; j++)
            {
                var a = list[i];
                var b = list[j];
                if (a.St.Family != b.St.Family || a.VirtualRouterId != b.VirtualRouterId) continue;
                if (a.St.Unicast != b.St.Unicast) continue;
                if (a.St.Unicast)
                {
                    if (a.St.Ifp is not null && b.St.Ifp is not null && a.St.Ifp.Name != b.St.Ifp.Name) continue;
                    if (!a.St.SaddrFromConfig || !b.St.SaddrFromConfig) continue;
                    if (!Equals(a.St.Saddr, b.St.Saddr)) continue;
                    bool peer = a.UnicastPeerLines.Any(p => b.UnicastPeerLines.Any(q => SameAddress(p.Words[0], q.Words[0])));
                    if (!peer) continue;
                    Err(s, $"({a.Name}) duplicate VRID conflict with {b.Name} VRID {a.VirtualRouterId}", a, KeepalivedFindingCategory.Duplicate);
                    error = true;
                    continue;
                }
                if (a.St.Ifp?.Name != b.St.Ifp?.Name) continue;
                string ma = a.MulticastDestination ?? (a.St.Family == AddressFamily.InterNetwork ? c.Global.VrrpMcastGroup4 : c.Global.VrrpMcastGroup6);
                string mb = b.MulticastDestination ?? (b.St.Family == AddressFamily.InterNetwork ? c.Global.VrrpMcastGroup4 : c.Global.VrrpMcastGroup6);
                if (!SameAddress(ma, mb)) continue;
                if (a.St.Ifp is { IsPlaceholder: false })
                {
                    Err(s, $"{a.Name} and {b.Name} both use VRID {a.VirtualRouterId} with IPv{(a.St.Family == AddressFamily.InterNetwork ? 4 : 6)} on interface {a.St.Ifp.Name}",
                        a, KeepalivedFindingCategory.Duplicate);
                    error = true;
                }
            }
        return error;
    }

    private static bool SameAddress(string x, string y)
    {
        string Strip(string t) { int k = t.IndexOfAny(new[] { '/', '-' }); return k >= 0 ? t.Substring(0, k) : t; }
        return KeepalivedText.TryParseAddress(Strip(x), out var a) && KeepalivedText.TryParseAddress(Strip(y), out var b) ? a!.Equals(b) : x == y;
    }

    private static void SyncGroupTrackingInit(KeepalivedParseSession s, KeepalivedConfiguration c)
    {
        foreach (var g in c.VrrpSyncGroups)
        {
            var members = g.St.Members;
            if (members.Count == 0) continue;
            bool owner = members.Any(v => v.St.BasePriority == 255);
            foreach (var (r, scr) in g.St.TrackScripts)
                if (owner && r.Weight != 0)
                {
                    Err(s, $"({g.Name}) Cannot have weighted track script '{scr.Name}' with member having priority 255 - clearing weight", g);
                    r.Weight = 0;
                }
            foreach (var f in g.TrackedFiles)
                if (owner && f.Weight != 0)
                {
                    Err(s, $"({g.Name}) Cannot have weighted track file '{f.Name}' with member having priority 255 - setting weight 0", g);
                    f.Weight = 0;
                }
            foreach (var p in g.TrackedProcesses)
                if (owner && p.Weight != 0)
                {
                    Err(s, $"({g.Name}) Cannot have weighted track process '{p.Name}' with member having priority 255 - setting weight 0", g);
                    p.Weight = 0;
                }
            foreach (var b in g.TrackedBfds)
                if (owner && b.Weight != 0)
                {
                    Err(s, $"({g.Name}) Cannot have weighted track bfd '{b.Name}' with member having priority 255 - setting weight 0", g);
                    b.Weight = 0;
                }
            foreach (var t in g.TrackInterfaceLines)
            {
                int weight = TrackWeight(t);
                if (owner && weight != 0)
                {
                    Err(s, $"({g.Name}) Cannot have weighted track interface '{t.Words[0]}' with member having priority 255 - clearing weight", g);
                    weight = 0;
                }
                foreach (var v in members)
                {
                    bool instanceTracks = v.TrackInterfaceLines.Any(x => x.Words[0] == t.Words[0]);
                    bool ownInterface = v.St.Ifp?.Name == t.Words[0] && !v.DontTrackPrimary;
                    if (instanceTracks || ownInterface)
                        Err(s, $"({v.Name}) track_interface {t.Words[0]} is configured on VRRP instance and sync group. Remove vrrp instance or sync group config", v);
                }
            }
        }
    }

    // ------------------------------------------------------------------ bfd

    public static void Bfd(KeepalivedParseContext ctx) { }

    // ------------------------------------------------------------------ after everything

    private static readonly HashSet<string> VrrpActedOn = new(StringComparer.Ordinal)
    {
        "interface", "virtual_router_id", "priority", "advert_int", "version", "nopreempt", "preempt", "preempt_delay",
        "authentication", "auth_type", "auth_pass", "virtual_ipaddress", "unicast_peer", "unicast_src_ip", "mcast_src_ip",
        "track_interface", "track_script", "notify", "notify_master", "notify_backup", "notify_fault", "notify_stop",
        "garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat", "no_accept", "accept", "state",
    };

    private static readonly HashSet<string> VsActedOn = new(StringComparer.Ordinal)
    {
        "protocol", "lb_algo", "lvs_sched", "lb_kind", "lvs_method", "persistence_timeout", "persistence_granularity", "persistence_engine",
        "ops", "sh-port", "sh-fallback", "mh-port", "mh-fallback", "flag-1", "flag-2", "flag-3", "real_server", "ip_family",
        "delay_loop", "retry", "delay_before_retry", "warmup", "connect_timeout", "inhibit_on_failure", "alpha", "omega", "quorum",
        "hysteresis", "quorum_up", "quorum_down", "sorry_server", "weight",
    };

    private static readonly HashSet<string> RsActedOn = new(StringComparer.Ordinal)
    {
        "weight", "lvs_method", "uthreshold", "lthreshold", "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "inhibit_on_failure",
        "notify_up", "notify_down", "retry", "delay_before_retry", "connect_timeout", "delay_loop", "warmup", "alpha",
    };

    private static readonly HashSet<string> CheckerActedOn = new(StringComparer.Ordinal)
    {
        "connect_port", "connect_timeout", "bindto", "retry", "nb_get_retry", "delay_before_retry", "delay_loop", "warmup", "alpha", "url",
        "virtualhost", "misc_path", "misc_timeout", "misc_dynamic", "user",
    };

    public static void Finish(KeepalivedParseSession s)
    {
        var c = s.Config;
        foreach (var v in c.VrrpInstances)
        {
            v.NotActedOn = Unacted(v, VrrpActedOn).Concat(v.AuthenticationType == "AH" ? new[] { "auth_type AH" } : Array.Empty<string>()).ToArray();
            if (v.SyncGroup is null)
                v.SyncGroup = c.VrrpSyncGroups.FirstOrDefault(g => g.Group.Contains(v.Name))?.Name;
            ModuleVrrpChecks(s, c, v);
        }
        foreach (var vs in c.VirtualServers)
        {
            vs.NotActedOn = Unacted(vs, VsActedOn);
            if (!vs.St.SchedSet) vs.Scheduler = "wlc";
            foreach (var rs in vs.RealServers)
            {
                rs.NotActedOn = Unacted(rs, RsActedOn);
                foreach (var ck in rs.Checkers)
                    ck.NotActedOn = ck.Type is "TCP_CHECK" or "HTTP_GET" or "SSL_GET" or "MISC_CHECK"
                        ? Unacted(ck, CheckerActedOn)
                        : new[] { ck.Type };
            }
        }
        c.Global.NotActedOn = c.Global.Settings.Select(x => x.Keyword).Distinct().ToArray();
        foreach (var sc in c.VrrpScripts) sc.NotActedOn = Array.Empty<string>();
    }

    /// <summary>
    /// The instance as this module's VRRP engine would run it (Start-VrrpInstance, hapd): built through Core's text forms
    /// and checked against Core's limits (<see cref="Vrrp.VrrpInstanceConfig.Validate"/>, without this host's interfaces,
    /// which keepalived's own checks cover). keepalived runs what it accepted; what only this module refuses is a
    /// warning at the line of the setting, named by its keepalived keyword.
    /// </summary>
    private static void ModuleVrrpChecks(KeepalivedParseSession s, KeepalivedConfiguration c, KeepalivedVrrpInstance v)
    {
        if (v.St.Removed) return;
        var errors = new List<HaPowerShell.Core.Vrrp.VrrpConfigError>();
        var config = v.ToVrrpInstanceConfig(c, errors, out var entries);
        // Validate() counts entries in the built lists; the lines count the ones that could not be read too.
        var validated = config.Validate().Select(e => e.Index is int i && entries.TryGetValue(e.Field, out var map) && i < map.Count ? e with { Index = map[i] } : e);
        foreach (var e in errors.Concat(validated))
        {
            var (file, line) = v.LocationOf(e);
            string keyword = HaPowerShell.Core.Vrrp.VrrpFields.KeepalivedKeyword(e.Field);
            s.AddModuleWarning(file, line, KeepalivedFindingCategory.NotSupported,
                $"({v.Name}) {e.Render(HaPowerShell.Core.Vrrp.VrrpFields.KeepalivedKeyword)} (keepalived runs it; Start-VrrpInstance and hapd would refuse it) [{e.ErrorId}]", keyword);
        }
    }

    /// <summary>The keywords of the block's settings not in <paramref name="acted"/>, each once, in order (a loop: this runs for every block).</summary>
    private static string[] Unacted(KeepalivedBlock b, HashSet<string> acted)
    {
        List<string>? result = null;
        foreach (var setting in b.Settings)
        {
            string k = setting.Keyword;
            if (acted.Contains(k) || (result is not null && result.Contains(k))) continue;
            (result ??= new List<string>()).Add(k);
        }
        return result is null ? Array.Empty<string>() : result.ToArray();
    }
}
