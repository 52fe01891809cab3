using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Ipvs;
using static HaPowerShell.Core.Keepalived.KeepalivedText;

namespace HaPowerShell.Core.Keepalived;

internal sealed class VirtualServerState
{
    public AddressFamily Af = AddressFamily.Unspecified;
    public int ServiceType;                  // 0 = not set (IPPROTO_TCP 6, UDP 17, SCTP 132)
    public bool SchedSet;
    public KeepalivedForwardingMethod? Forwarding;
    public bool Removed;
    public KeepalivedVirtualServerGroup? Vsg;
    public KeepalivedScript? QuorumUp, QuorumDown;
    public bool GroupGiven;
    public int GroupMemberNumber;
}

internal sealed class RealServerState
{
    public bool ForwardingSet;
    public KeepalivedScript? NotifyUp, NotifyDown;
    public bool Removed;
    public bool IsSorry;
    public bool? Inhibit;
    public bool WeightGiven;
    public List<string> TrackedBfds = new();
}

internal sealed class CheckerState
{
    public AddressFamily DstFamily = AddressFamily.Unspecified;
    public IPAddress? Dst;
    public AddressFamily BindFamily = AddressFamily.Unspecified;
    public bool HasConnection;
    public KeepalivedScript? MiscScript;
    public bool MiscUserSet;
    public bool Removed;
    public bool HasTrackFile;
    public bool WeightSet;
    public KeepalivedUrl? Url;
    public bool UrlRemoved;
    public string? RegexPattern;
    public bool Disabled;
}

// virtual_server_group, virtual_server, real_server, sorry_server, SSL (keepalived/check/check_parser.c, check_data.c).
internal sealed partial class KeepalivedParseContext
{
    private KeepalivedVirtualServer? _vs;
    private KeepalivedRealServer? _rs;
    private KeepalivedVirtualServerGroup? _vsg;

    // ---------------------------------------------------------------- SSL

    internal void Ssl(string[]? w)
    {
        if (w is null) return;
        if (Config.Ssl is not null) Error("SSL context already specified - replacing", KeepalivedFindingCategory.Duplicate);
        Config.Ssl = new KeepalivedSsl();
        SetBlockLocation(Config.Ssl);
        OpenedBlock = Config.Ssl;
    }

    private string? SslFile(string[] w, string type, string? current)
    {
        if (w.Length < 2) { Error($"SSL {type} missing", KeepalivedFindingCategory.MissingValue); return current; }
        if (current is not null) Error($"SSL {type} already specified - replacing", KeepalivedFindingCategory.Duplicate);
        return w[1];
    }

    internal void SslPassword(string[] w) => Config.Ssl!.PasswordText = SslFile(w, "password", Config.Ssl.PasswordText);
    internal void SslCa(string[] w) => Config.Ssl!.CaFile = SslFile(w, "cafile", Config.Ssl.CaFile);
    internal void SslCertificate(string[] w) => Config.Ssl!.CertificateFile = SslFile(w, "certfile", Config.Ssl.CertificateFile);
    internal void SslKey(string[] w) => Config.Ssl!.KeyFile = SslFile(w, "keyfile", Config.Ssl.KeyFile);

    // ---------------------------------------------------------------- virtual_server_group

    internal void VirtualServerGroup(string[]? w)
    {
        if (w is null) return;
        var g = new KeepalivedVirtualServerGroup { Name = Slot(w, 1) };
        SetBlockLocation(g);
        _vsg = g;
        Config.VirtualServerGroups.Add(g);
        var block = new[] { "" }.Concat(w.Skip(2)).ToArray();
        bool have4 = false, have6 = false, fwmarkNoFamily = false;
        ValueBlock(block, (v, l) =>
        {
            g.Entries.Add(TextLine(v, l));
            var e = VsgEntry(g, v);
            if (e is null) return;
            g.Members.Add(e);
            if (e.IsFirewallMark)
            {
                if (e.Family == AddressFamily.InterNetwork) have4 = true;
                else if (e.Family == AddressFamily.InterNetworkV6) have6 = true;
                else fwmarkNoFamily = true;
            }
            else if (e.Address!.AddressFamily == AddressFamily.InterNetwork) have4 = true;
            else have6 = true;
        });
        if (g.Members.Count == 0)
        {
            Error($"virtual server group {g.Name} has no entries - removing");
            Config.VirtualServerGroups.Remove(g);
        }
        else if (have4 && have6 && fwmarkNoFamily)
        {
            Error($"virtual server group {g.Name} cannot have IPv4, IPv6 and fwmark without family - removing");
            Config.VirtualServerGroups.Remove(g);
        }
        g.Have4 = have4;
        g.Have6 = have6;
        g.FwmarkNoFamily = fwmarkNoFamily;
    }

    private KeepalivedVirtualServerGroupEntry? VsgEntry(KeepalivedVirtualServerGroup g, string[] v)
    {
        string addr = Slot(v, 0);
        if (addr == "fwmark")
        {
            if (!ReadUnsigned(Slot(v, 1), out uint fw, 0, uint.MaxValue))
            {
                Error($"({g.Name}): fwmark '{v[1]}' must be in [0, {uint.MaxValue}] - ignoring");
                return null;
            }
            var e = new KeepalivedVirtualServerGroupEntry { IsFirewallMark = true, FirewallMark = fw, Text = string.Join(" ", v) };
            if (v.Length > 2)
            {
                if (v[2] == "inet") e.Family = AddressFamily.InterNetwork;
                else if (v[2] == "inet6") e.Family = AddressFamily.InterNetworkV6;
                else { Error($"({g.Name}): fwmark '{fw}' family {v[2]} unknown - ignoring"); return null; }
            }
            return e;
        }
        string? port = v.Length >= 2 ? v[1] : null;
        if (port is not null && StrSpn(port, 0, "0") == port.Length) port = null;
        if (!ParseSockAddr(addr, port, out var a, out int p))
        {
            Error($"Invalid virtual server group IP address {v[0]} {(port is not null ? "/port" : "")}{(port is not null ? "/" : "")}{port ?? ""} - skipping");
            return null;
        }
        var entry = new KeepalivedVirtualServerGroupEntry { Address = a, Port = p, Text = string.Join(" ", v) };
        int maskAt = addr.IndexOf('/');
        if (maskAt >= 0)
        {
            string m = addr.Substring(maskAt + 1);
            int end = StrToULong(m, 0, 10, out ulong mask, out _, out _);
            bool v6 = a!.AddressFamily == AddressFamily.InterNetworkV6;
            if (end < m.Length || mask == 0 || (!v6 && mask > 32) || (v6 && mask > 128))
            {
                Error($"Invalid netmask - {addr} - skipping");
                return null;
            }
            var bytes = a.GetAddressBytes();
            var last = (byte[])bytes.Clone();
            int bits = bytes.Length * 8;
            bool bad = false;
            for (int bit = (int)mask; bit < bits; bit++)
            {
                int bi = bit / 8, sh = 7 - bit % 8;
                if ((bytes[bi] & (1 << sh)) != 0) bad = true;
                last[bi] |= (byte)(1 << sh);
            }
            if (bad) { Error($"Address mask bits not empty - {addr} - skipping"); return null; }
            entry.AddressEnd = new IPAddress(last);
            return entry;
        }
        int dash = addr.IndexOf('-');
        if (dash >= 0 && ((a!.AddressFamily == AddressFamily.InterNetwork && addr.IndexOf('.', dash + 1) >= 0) ||
                          (a.AddressFamily == AddressFamily.InterNetworkV6 && addr.IndexOf(':', dash + 1) >= 0)))
        {
            string endText = addr.Substring(dash + 1);
            if (!ParseSockAddr(endText, port, out var e2, out _)) { Error($"Invalid range end {addr} - skipping"); return null; }
            if (e2!.AddressFamily != a.AddressFamily) { Error($"Range address families do not match {addr} - skipping"); return null; }
            if (Compare(a, e2) > 0) { Error($"Address range end is less than address range start - {addr} - skipping"); return null; }
            entry.AddressEnd = e2;
            return entry;
        }
        if (dash >= 0)
        {
            bool v6 = addr.Contains(':');
            string r = addr.Substring(dash + 1);
            int end = StrToULong(r, 0, v6 ? 16 : 10, out ulong range, out bool ovf, out _);
            if (end < r.Length)
            {
                Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"Virtual server group range '{addr}' has extra characters at end '{r.Substring(end)}'");
                return null;
            }
            if (ovf || (v6 && range > 0xffff) || (!v6 && range > 255))
            {
                Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"Virtual server group range '{addr}' end '{r}' too large");
                return null;
            }
            var bytes = a!.GetAddressBytes();
            uint start = v6 ? (uint)(bytes[14] << 8 | bytes[15]) : bytes[3];
            if (start >= range)
            {
                Error($"Address range end is not greater than address range start - {addr} - skipping");
                return null;
            }
            var last = (byte[])bytes.Clone();
            if (v6) { last[14] = (byte)(range >> 8); last[15] = (byte)range; }
            else last[3] = (byte)range;
            entry.AddressEnd = new IPAddress(last);
        }
        return entry;
    }

    private static int Compare(IPAddress a, IPAddress b)
    {
        var x = a.GetAddressBytes();
        var y = b.GetAddressBytes();
        for (int i = 0; i < x.Length; i++)
            if (x[i] != y[i]) return x[i].CompareTo(y[i]);
        return 0;
    }

    // ---------------------------------------------------------------- virtual_server

    /// <summary>
    /// A virtual_server keepalived does not create: it skips the block, but if the '{' is missing it reads the block's
    /// keywords on, into the last virtual server it has (or, with none, into memory that is not one).
    /// </summary>
    private void SkipVirtualServer()
    {
        SkipBlock(true);
        _vs = Config.VirtualServers.LastOrDefault();
        _rs = _vs?.RealServers.LastOrDefault();
        WritingIntoNothing = _vs is null ? "a virtual_server that could not be read, with no virtual server before it" : null;
    }

    internal void VirtualServer(string[]? w)
    {
        WritingIntoNothing = null;
        if (w is null) return;
        string p1 = Slot(w, 1);
        string? p2 = w.Length >= 3 ? w[2] : null;
        var vs = new KeepalivedVirtualServer();
        SetBlockLocation(vs);
        if (p1 == "group")
        {
            vs.Group = p2 ?? Slot(w, 2);
            vs.St.GroupGiven = true;
        }
        else if (p1 == "fwmark")
        {
            if (!ReadUnsigned(p2 ?? Slot(w, 2), out uint fw, 0, uint.MaxValue))
            {
                Error($"virtual server fwmark '{p2}' must be in [0, {uint.MaxValue}] - ignoring");
                SkipVirtualServer();
                return;
            }
            vs.FirewallMark = fw;
            vs.IsFirewallMark = true;
        }
        else
        {
            string? port = p2 is not null && StrSpn(p2, 0, "0") < p2.Length ? p2 : null;
            if (!ParseSockAddr(p1, port, out var a, out int pn))
            {
                Error($"Invalid virtual server IP address{(port is not null ? "/port" : "")} {p1}{(port is not null ? "/" : "")}{port ?? ""} - skipping");
                SkipVirtualServer();
                return;
            }
            vs.Address = a;
            vs.Port = (ushort)pn;
            vs.St.Af = a!.AddressFamily;
            vs.AddressFamily = a.AddressFamily;
        }
        _vs = vs;
        Config.VirtualServers.Add(vs);
        OpenedBlock = vs;
    }

    internal void VirtualServerEnd(KeepalivedParseContext _)
    {
        var vs = _vs!;
        if (vs.SorryServer is { } ss && ss.ForwardingMethod != KeepalivedForwardingMethod.TUN)
        {
            if (vs.St.Af == AddressFamily.Unspecified) vs.St.Af = ss.Address.AddressFamily;
            else if (vs.St.Af != ss.Address.AddressFamily)
            {
                Error($"Address family of virtual server and sorry server {ss.Address} don't match - skipping sorry server.");
                vs.SorryServer = null;
            }
        }
        if (vs.St.Af == AddressFamily.Unspecified && vs.Group is null)
        {
            bool mixed = false;
            if (vs.SorryServer is { } s2) vs.St.Af = s2.Address.AddressFamily;
            foreach (var rs in vs.RealServers)
            {
                if (vs.St.Af == AddressFamily.Unspecified) vs.St.Af = rs.Address.AddressFamily;
                else if (vs.St.Af != rs.Address.AddressFamily) { mixed = true; break; }
            }
            if (mixed || vs.St.Af == AddressFamily.Unspecified) vs.St.Af = AddressFamily.InterNetwork;
        }
        if (vs.St.Af != AddressFamily.Unspecified) vs.AddressFamily = vs.St.Af;
    }

    internal void VsIpFamily(string[] w)
    {
        var vs = _vs!;
        string f = Slot(w, 1);
        AddressFamily af;
        if (f == "inet") af = AddressFamily.InterNetwork;
        else if (f == "inet6") af = AddressFamily.InterNetworkV6;
        else { Error($"unknown address family {f}"); return; }
        if (vs.St.Af != AddressFamily.Unspecified && af != vs.St.Af)
        {
            Error($"Virtual server specified family {f} conflicts with server family");
            return;
        }
        vs.St.Af = af;
        vs.AddressFamily = af;
    }

    internal void VsRetry(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 1, uint.MaxValue)) { Error($"retry value invalid - {w[1]}"); return; }
        _vs!.Retry = (int)Math.Min(r, int.MaxValue);
    }

    internal void VsDelayBeforeRetry(string[] w)
    {
        if (ReadTimer(Slot(w, 1), out ulong d, 0, 0)) _vs!.DelayBeforeRetry = Seconds(d);
        else Error($"virtual server delay before retry '{w[1]}' invalid - ignoring");
    }

    internal void VsWarmup(string[] w)
    {
        if (ReadTimer(Slot(w, 1), out ulong d, 0, 0)) _vs!.Warmup = Seconds(d);
        else Error($"virtual server warmup '{w[1]}' invalid - ignoring");
    }

    internal void VsConnectTimeout(string[] w)
    {
        if (!ReadTimer(Slot(w, 1), out ulong t, 1, uint.MaxValue)) { Error($"virtual server connect_timeout {w[1]} invalid - ignoring"); return; }
        _vs!.ConnectTimeout = Seconds(t);
    }

    internal void VsDelayLoop(string[] w)
    {
        if (ReadTimer(Slot(w, 1), out ulong d, 1, 0)) _vs!.DelayLoop = Seconds(d);
        else Error($"virtual server delay loop '{w[1]}' invalid - ignoring");
    }

    internal void VsInhibitOnFailure(string[] w) => _vs!.InhibitOnFailure = true;

    private static readonly string[] Schedulers = { "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos" };

    internal void VsLbAlgo(string[] w)
    {
        string s = Slot(w, 1);
        int known = Array.IndexOf(Schedulers, s);
        if (known < 0 || s.Length >= 16)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.InvalidValue, $"Invalid lvs_scheduler '{s}' - ignoring",
                suggestion: KeepalivedSuggest.Closest(s, Schedulers));
            return;
        }
        _vs!.Scheduler = Schedulers[known]; // one string per scheduler, not per virtual_server (a reload compares them by reference)
        _vs.St.SchedSet = true;
    }

    internal void VsLbFlags(string[] w)
    {
        var vs = _vs!;
        string s = w[0];
        switch (s)
        {
            case "hashed": return;
            case "ops": vs.OnePacket = true; return;
            case "flag-1": case "flag-2": case "flag-3":
                vs.SchedulerFlag = vs.SchedulerFlag.Append(s).Distinct().ToArray();
                return;
        }
        if (vs.Scheduler == "sh" && vs.St.SchedSet)
        {
            if (s is "sh-port" or "sh-fallback") vs.SchedulerFlag = vs.SchedulerFlag.Append(s).Distinct().ToArray();
        }
        else if (vs.Scheduler == "mh" && vs.St.SchedSet)
        {
            if (s is "mh-port" or "mh-fallback") vs.SchedulerFlag = vs.SchedulerFlag.Append(s).Distinct().ToArray();
        }
        else Error($"{s} only applies to sh scheduler - ignoring", KeepalivedFindingCategory.Semantic);
    }

    private bool ForwardingMethod(string[] w, string type, out KeepalivedForwardingMethod method, ref string? tunType, ref int tunPort, ref string? tunCsum)
    {
        string s = Slot(w, 1);
        method = KeepalivedForwardingMethod.NAT;
        if (s == "NAT") method = KeepalivedForwardingMethod.NAT;
        else if (s == "DR") method = KeepalivedForwardingMethod.DR;
        else if (s == "TUN") method = KeepalivedForwardingMethod.TUN;
        else
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.InvalidValue, $"PARSER : unknown [{s}] routing method for {type} server.",
                suggestion: KeepalivedSuggest.Closest(s, new[] { "NAT", "DR", "TUN" }));
            return false;
        }
        string tt = "ipip";
        uint port = 0;
        string csum = "nocsum";
        for (int i = 2; i < w.Length; i++)
        {
            if (w[i] == "type")
            {
                if (w.Length == i + 1) { Error($"Missing tunnel type for {type} server.", KeepalivedFindingCategory.MissingValue); return true; }
                if (w[i + 1] is "ipip" or "gue" or "gre") tt = w[i + 1];
                else { Error($"Unknown tunnel type {w[i + 1]} for {type} server."); return true; }
                i++;
            }
            else if (w[i] == "port")
            {
                if (w.Length == i + 1) { Error($"Missing port for {type} server gue tunnel.", KeepalivedFindingCategory.MissingValue); return true; }
                if (!ReadUnsigned(w[i + 1], out port, 1, 65535)) { Error($"Invalid gue tunnel port {w[i + 1]} for {type} server."); return true; }
                i++;
            }
            else if (w[i] is "nocsum" or "csum" or "remcsum") csum = w[i];
            else { Error($"Invalid tunnel option {w[i]} for {type} server."); return true; }
        }
        if ((tt == "gue") != (port != 0)) { Error("gue tunnels require port, otherwise cannot have port."); return true; }
        if (tt == "ipip" && csum != "nocsum") { Error("ipip tunnels do not support checksum option."); return true; }
        if (tt == "gre" && csum == "remcsum") { Error("gre tunnels do not support remote checksum option."); return true; }
        if (method == KeepalivedForwardingMethod.TUN) { tunType = tt; tunPort = (int)port; tunCsum = csum; }
        return true;
    }

    internal void VsLbKind(string[] w)
    {
        var vs = _vs!;
        string? tt = vs.TunnelType, tc = vs.TunnelChecksum;
        int tp = vs.TunnelPort;
        if (ForwardingMethod(w, "virtual", out var m, ref tt, ref tp, ref tc))
        {
            vs.ForwardingMethod = m;
            vs.St.Forwarding = m;
            vs.TunnelType = tt; vs.TunnelPort = tp; vs.TunnelChecksum = tc;
        }
    }

    internal void VsPersistenceEngine(string[] w)
    {
        string s = Slot(w, 1);
        if (s.Length > 15) Error($"persistence_name too long, truncating - {s}");
        _vs!.PersistenceEngine = s.Length > 15 ? s.Substring(0, 15) : s;
    }

    internal void VsPersistenceTimeout(string[] w)
    {
        var vs = _vs!;
        if (w.Length < 2) { vs.PersistenceTimeout = 360; return; }
        if (!ReadUnsigned(w[1], out uint t, 1, 86400 * 31)) { Error("persistence_timeout invalid"); return; }
        vs.PersistenceTimeout = t;
    }

    internal void VsPersistenceGranularity(string[] w)
    {
        var vs = _vs!;
        string g = Slot(w, 1);
        var af = vs.St.Af;
        if (af == AddressFamily.Unspecified) af = g.Contains('.') ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        if (af == AddressFamily.InterNetworkV6)
        {
            if (!ReadUnsigned(g, out _, 1, 128)) { Error($"Invalid IPv6 persistence_granularity specified - {g}"); return; }
        }
        else if (!TryParseIPv4(g, out _)) { Error($"Invalid IPv4 persistence_granularity specified - {g}"); return; }
        vs.PersistenceNetmask = g;
        if (vs.St.Af == AddressFamily.Unspecified) { vs.St.Af = af; vs.AddressFamily = af; }
        if (vs.PersistenceTimeout == 0) vs.PersistenceTimeout = 360;
    }

    internal void VsProtocol(string[] w)
    {
        var vs = _vs!;
        string s = Slot(w, 1);
        if (string.Equals(s, "TCP", StringComparison.OrdinalIgnoreCase)) { vs.St.ServiceType = 6; vs.Protocol = IpvsProtocol.Tcp; }
        else if (string.Equals(s, "SCTP", StringComparison.OrdinalIgnoreCase)) { vs.St.ServiceType = 132; vs.Protocol = IpvsProtocol.Sctp; }
        else if (string.Equals(s, "UDP", StringComparison.OrdinalIgnoreCase)) { vs.St.ServiceType = 17; vs.Protocol = IpvsProtocol.Udp; }
        else Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.InvalidValue, $"Unknown protocol {s} - ignoring",
            suggestion: KeepalivedSuggest.Closest(s.ToUpperInvariant(), new[] { "TCP", "UDP", "SCTP" }));
    }

    internal void VsHaSuspend(string[] w) => _vs!.HaSuspend = true;

    internal void VsSmtpAlert(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid virtual_server smtp_alert parameter {v}") is bool b) { _vs!.SmtpAlert = b; }
    }

    internal void VsVirtualhost(string[] w)
    {
        if (w.Length < 2) { Error("virtual server virtualhost missing", KeepalivedFindingCategory.MissingValue); return; }
        _vs!.VirtualHost = w[1];
    }

    internal void VsSnmpName(string[] w)
    {
        if (w.Length != 2) Error("virtual server snmp_name missing or extra parameters");
    }

    internal void VsAlpha(string[] w) => _vs!.Alpha = true;
    internal void VsOmega(string[] w) => _vs!.Omega = true;

    internal void VsQuorumUp(string[] w)
    {
        var vs = _vs!;
        if (vs.QuorumUp is not null) { Error($"({vs.Group}) quorum_up script already specified - ignoring {Slot(w, 1)}", KeepalivedFindingCategory.Duplicate); return; }
        vs.St.QuorumUp = NotifyScriptInit(0, "quorum");
        vs.QuorumUp = CommandText(w) ?? "";
    }

    internal void VsQuorumDown(string[] w)
    {
        var vs = _vs!;
        if (vs.QuorumDown is not null) { Error($"({vs.Group}) quorum_down script already specified - ignoring {Slot(w, 1)}", KeepalivedFindingCategory.Duplicate); return; }
        vs.St.QuorumDown = NotifyScriptInit(0, "quorum");
        vs.QuorumDown = CommandText(w) ?? "";
    }

    internal void VsQuorum(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint q, 1, uint.MaxValue))
        {
            Error($"Quorum {w[1]} must be in [1, {uint.MaxValue}]. Setting to 1.");
            q = 1;
        }
        _vs!.Quorum = (int)Math.Min(q, int.MaxValue);
    }

    internal void VsHysteresis(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint h, 0, uint.MaxValue)) { Error($"Hysteresis {w[1]} must be in [0, {uint.MaxValue}] - ignoring"); return; }
        _vs!.Hysteresis = (int)Math.Min(h, int.MaxValue);
    }

    internal void VsWeight(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint wt, 1, int.MaxValue)) { Error($"Virtual server weight {w[1]} is outside range 1-{int.MaxValue}"); return; }
        _vs!.Weight = (int)wt;
    }

    // ---------------------------------------------------------------- sorry_server, real_server

    private KeepalivedRealServer NewServer(KeepalivedVirtualServer vs) => new()
    {
        VirtualServer = vs,
        ForwardingMethod = vs.St.Forwarding ?? KeepalivedForwardingMethod.NAT,
        TunnelType = vs.TunnelType,
        TunnelPort = vs.TunnelPort,
        TunnelChecksum = vs.TunnelChecksum,
    };

    internal void VsSorryServer(string[] w)
    {
        var vs = _vs!;
        string ip = Slot(w, 1);
        string? port = w.Length >= 3 ? w[2] : null;
        if (port is not null && StrSpn(port, 0, "0") == port.Length) port = null;
        if (!ParseSockAddr(ip, port, out var a, out int p))
        {
            Error($"Invalid sorry server IP address {ip} - skipping");
            return;
        }
        var s = NewServer(vs);
        s.Address = a!;
        s.Port = (ushort)p;
        s.Weight = 1;
        s.St.IsSorry = true;
        s.St.ForwardingSet = vs.St.Forwarding is not null;
        SetBlockLocation(s);
        vs.SorryServer = s;
    }

    internal void VsSorryServerInhibit(string[] w)
    {
        var vs = _vs!;
        if (vs.SorryServer is not null) { vs.SorryServerInhibit = true; vs.SorryServer.InhibitOnFailure = true; vs.SorryServer.St.Inhibit = true; }
        else Error("Ignoring sorry_server inhibit used before or without sorry_server", KeepalivedFindingCategory.Semantic);
    }

    internal void VsSorryServerLvsMethod(string[] w)
    {
        var vs = _vs!;
        if (vs.SorryServer is not { } s) { Error("sorry_server forwarding used without sorry_server", KeepalivedFindingCategory.Semantic); return; }
        string? tt = s.TunnelType, tc = s.TunnelChecksum;
        int tp = s.TunnelPort;
        if (ForwardingMethod(w, "sorry", out var m, ref tt, ref tp, ref tc))
        {
            s.ForwardingMethod = m;
            s.St.ForwardingSet = true;
            s.TunnelType = tt; s.TunnelPort = tp; s.TunnelChecksum = tc;
        }
    }

    internal void RealServer(string[] w)
    {
        var vs = _vs!;
        string ip = Slot(w, 1);
        string? portRaw = w.Length >= 3 ? w[2] : null;
        string? port = portRaw is not null && StrSpn(portRaw, 0, "0") < portRaw.Length ? portRaw : null;
        if (!ParseSockAddr(ip, port, out var a, out int p))
        {
            Error($"Invalid real server ip address/port {ip}/{portRaw ?? "(null)"} - skipping");
            SkipBlock(true);
            _rs = null;
            return;
        }
        var rs = NewServer(vs);
        rs.Address = a!;
        rs.Port = (ushort)p;
        rs.St.ForwardingSet = vs.St.Forwarding is not null;
        SetBlockLocation(rs);
        vs.RealServers.Add(rs);
        _rs = rs;
        OpenedBlock = rs;
    }

    internal void RealServerEnd(KeepalivedParseContext _)
    {
        var vs = _vs;
        var rs = _rs;
        if (vs is null || rs is null || vs.RealServers.Count == 0 || vs.RealServers[^1] != rs) return;
        if (rs.ForwardingMethod != KeepalivedForwardingMethod.TUN)
        {
            if (vs.St.Af == AddressFamily.Unspecified) vs.St.Af = rs.Address.AddressFamily;
            else if (vs.St.Af != rs.Address.AddressFamily)
            {
                Error($"Address family of virtual server and real server {rs.Address} don't match - skipping real server.");
                vs.RealServers.Remove(rs);
            }
        }
    }

    internal void RsWeight(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint wt, 0, int.MaxValue)) { Error($"Real server weight {w[1]} is outside range 0-{int.MaxValue}"); return; }
        _rs!.Weight = (int)wt;
        _rs.St.WeightGiven = true;
    }

    internal void RsLvsMethod(string[] w)
    {
        var rs = _rs!;
        string? tt = rs.TunnelType, tc = rs.TunnelChecksum;
        int tp = rs.TunnelPort;
        if (ForwardingMethod(w, "real", out var m, ref tt, ref tp, ref tc))
        {
            rs.ForwardingMethod = m;
            rs.St.ForwardingSet = true;
            rs.TunnelType = tt; rs.TunnelPort = tp; rs.TunnelChecksum = tc;
        }
    }

    internal void RsUpperThreshold(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint t, 0, uint.MaxValue)) { Error($"Invalid real_server uthreshold '{w[1]}' - ignoring"); return; }
        _rs!.UpperThreshold = t;
    }

    internal void RsLowerThreshold(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint t, 0, uint.MaxValue)) { Error($"Invalid real_server lthreshold '{w[1]}' - ignoring"); return; }
        _rs!.LowerThreshold = t;
    }

    internal void RsInhibitOnFailure(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid inhibit_on_failure parameter {v}") is bool b) { _rs!.InhibitOnFailure = b; _rs.St.Inhibit = b; }
    }

    internal void RsNotifyUp(string[] w)
    {
        var rs = _rs!;
        if (rs.NotifyUp is not null) { Error($"({_vs!.Group}) notify_up script already specified - ignoring {Slot(w, 1)}", KeepalivedFindingCategory.Duplicate); return; }
        rs.St.NotifyUp = NotifyScriptInit(0, "notify");
        rs.NotifyUp = CommandText(w) ?? "";
    }

    internal void RsNotifyDown(string[] w)
    {
        var rs = _rs!;
        if (rs.NotifyDown is not null) { Error($"({_vs!.Group}) notify_down script already specified - ignoring {Slot(w, 1)}", KeepalivedFindingCategory.Duplicate); return; }
        rs.St.NotifyDown = NotifyScriptInit(0, "notify");
        rs.NotifyDown = CommandText(w) ?? "";
    }

    internal void RsAlpha(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid alpha parameter {v}") is bool b) { _rs!.Alpha = b; }
    }

    internal void RsRetry(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 1, uint.MaxValue)) { Error($"retry value invalid - {w[1]}"); return; }
        _rs!.Retry = (int)Math.Min(r, int.MaxValue);
    }

    internal void RsDelayBeforeRetry(string[] w)
    {
        if (ReadTimer(Slot(w, 1), out ulong d, 0, 0)) _rs!.DelayBeforeRetry = Seconds(d);
        else Error($"real server delay_before_retry '{w[1]}' invalid - ignoring");
    }

    internal void RsWarmup(string[] w)
    {
        if (ReadTimer(Slot(w, 1), out ulong d, 0, 0)) _rs!.Warmup = Seconds(d);
        else Error($"real server warmup '{w[1]}' invalid - ignoring");
    }

    internal void RsConnectTimeout(string[] w)
    {
        if (!ReadTimer(Slot(w, 1), out ulong t, 1, uint.MaxValue)) { Error($"real server connect_timeout {w[1]} invalid - ignoring"); return; }
        _rs!.ConnectTimeout = Seconds(t);
    }

    internal void RsDelayLoop(string[] w)
    {
        if (ReadTimer(Slot(w, 1), out ulong d, 1, 0)) _rs!.DelayLoop = Seconds(d);
        else Error($"real server delay_loop '{w[1]}' invalid - ignoring");
    }

    internal void RsSmtpAlert(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid real_server smtp_alert parameter {v}") is bool b) { _rs!.SmtpAlert = b; }
    }

    internal void RsVirtualhost(string[] w)
    {
        if (w.Length < 2) { Error("real server virtualhost missing", KeepalivedFindingCategory.MissingValue); return; }
        _rs!.VirtualHost = w[1];
    }

    internal void RsSnmpName(string[] w)
    {
        if (w.Length != 2) Error("real server snmp_name missing or extra parameters");
    }
}
