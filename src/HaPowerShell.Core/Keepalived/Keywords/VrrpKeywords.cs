using System.Net.Sockets;
using HaPowerShell.Core.Vrrp;
using static HaPowerShell.Core.Keepalived.KeepalivedText;

namespace HaPowerShell.Core.Keepalived;

/// <summary>What keepalived keeps about a vrrp_instance while reading it (vrrp_t fields the model does not show as they are).</summary>
internal sealed class VrrpInstanceState
{
    public AddressFamily Family = AddressFamily.Unspecified;
    public bool UnicastConfigured, Unicast, UnicastFaultNoPeer, SaddrFromConfig, Vmac, VmacXmitBase, VmacMacSpecified, Ipvlan;
    public bool LinkbeatPolling, NoPreempt, WantMaster, WantStateSet;
    public int BasePriority;                 // 0 = not set
    public int Version;                      // 0 = not set
    public int Ttl = -1;
    public bool? Accept;
    public bool? StrictMode;
    public ulong AdverIntMicros;             // 0 = not set
    public ulong PreemptDelayMicros;
    public int AuthType;                     // 0 none, 1 PASS, 2 AH
    public string AuthData = "";
    public int VipCount;
    public KeepalivedInterfaceInfo? Ifp;
    public bool InterfaceGiven;
    public bool InterfaceMissing;
    public string? VrfName;
    public bool McastDaddrSet;
    public System.Net.IPAddress? Saddr;
    public System.Net.IPAddress? FirstVip;
    public int? DownTimerAdverts;
    public bool? LowerPrioNoAdvert, HigherPrioSendAdvert;
    public bool GarpLowerPrioDelaySet, GarpLowerPrioRepSet;
    public ulong GarpLowerPrioDelay, GarpLowerPrioRep;
    public bool Removed;
    public readonly List<(string Slot, KeepalivedScript? Script)> Notify = new();
    public readonly List<(KeepalivedTrackReference Ref, KeepalivedVrrpScript Script)> TrackScripts = new();
    public readonly List<string> TrackInterfaceNames = new();
    public KeepalivedVrrpSyncGroup? Sync;
}

internal sealed class VrrpScriptState
{
    public KeepalivedScript Script = new();
    public bool HasScript;
    public bool UserSet;
    public bool Remove;
    public bool Insecure;
}

internal sealed class SyncGroupState
{
    public readonly List<(string Slot, KeepalivedScript? Script)> Notify = new();
    public readonly List<(KeepalivedTrackReference Ref, KeepalivedVrrpScript Script)> TrackScripts = new();
    public readonly List<KeepalivedVrrpInstance> Members = new();
    public bool GroupGiven;
}

// vrrp_instance, vrrp_sync_group, vrrp_script, static_*, garp_group, track groups, vrrp_track_process
// (keepalived/vrrp/vrrp_parser.c, vrrp_data.c, vrrp_track.c).
internal sealed partial class KeepalivedParseContext
{
    private KeepalivedVrrpInstance? _vrrp;
    private KeepalivedVrrpSyncGroup? _sgroup;
    private KeepalivedVrrpScript? _vscript;
    private KeepalivedTrackProcess? _tprocess;
    private KeepalivedGarpGroup? _garp;
    private KeepalivedTrackGroup? _tgroup;

    internal VrrpInstanceState VS => _vrrp!.St;

    /// <summary>if_get_by_ifname(IF_CREATE_IF_DYNAMIC): the interface, a placeholder with dynamic_interfaces, or null (and keepalived remembers a non-existent interface was named).</summary>
    internal KeepalivedInterfaceInfo? LookupInterface(string name)
    {
        var i = Env.GetInterface(name);
        if (i is not null) return i;
        if (Config.Global.DynamicInterfaces)
        {
            Note($"Configuration specifies interface {name} which doesn't currently exist - will use if created", KeepalivedFindingCategory.Environment, true);
            return new KeepalivedInterfaceInfo { Name = name, IsPlaceholder = true };
        }
        _session.NonExistentInterface = true;
        return null;
    }

    /// <summary>parse_ipaddress(): "address[/prefix]" (the address keepalived reads first on an address, route or rule line); null after keepalived's message when it is not one.</summary>
    internal System.Net.IPAddress? ParseIpAddress(string str, bool allowSubnetMask)
    {
        bool v6 = str.Contains(':');
        uint maxPrefix = v6 ? 128u : 32u;
        int slash = allowSubnetMask ? str.IndexOf('/') : -1;
        string addr = str;
        if (slash >= 0)
        {
            if (!ReadUnsigned(str.Substring(slash + 1), out _, 0, maxPrefix))
                Error($"Invalid address prefix len {str.Substring(slash + 1)} for address {str} - using {maxPrefix}");
            addr = str.Substring(0, slash);
        }
        if (!(v6 ? TryParseIPv6(addr, out var a) : TryParseIPv4(addr, out a)))
        {
            Error($"VRRP parsed invalid IP {str}. skipping IP...");
            return null;
        }
        return a;
    }

    /// <summary>The interface an address line names ("dev eth1"): keepalived checks it exists.</summary>
    private void CheckAddressInterface(string[] v)
    {
        for (int i = 1; i + 1 < v.Length; i++)
        {
            if (v[i] != "dev") continue;
            string name = v[i + 1];
            if (LookupInterface(name) is null)
            {
                Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment,
                    $"WARNING - interface {name} for ip address {v[0]} doesn't exist", environment: true);
                return;
            }
            i++;
        }
    }

    // ---------------------------------------------------------------- static track groups, static addresses/routes/rules

    internal void StaticTrackGroup(string[]? w)
    {
        if (w is null) return;
        if (w.Length != 2)
        {
            Error("track_group must have a name - skipping", KeepalivedFindingCategory.MissingValue);
            SkipBlock(true);
            return;
        }
        if (Config.TrackGroups.Any(g => g.Name == w[1]))
        {
            Error($"track_group {w[1]} already defined", KeepalivedFindingCategory.Duplicate);
            SkipBlock(true);
            return;
        }
        _tgroup = new KeepalivedTrackGroup { Name = w[1] };
        SetBlockLocation(_tgroup);
        Config.TrackGroups.Add(_tgroup);
        OpenedBlock = _tgroup;
    }

    internal void StaticTrackGroupGroup(string[] w)
    {
        var g = _tgroup!;
        if (g.Group.Length > 0) { Error($"Group list already specified for sync group {g.Name}", KeepalivedFindingCategory.Duplicate); SkipBlock(true); return; }
        var v = ReadValueBlock(w);
        if (v is null) Error($"Warning - track group {g.Name} has empty group block");
        else g.Group = v.ToArray();
    }

    internal void StaticAddresses(string[]? w)
    {
        if (w is null) return;
        ValueBlock(w, (v, l) =>
        {
            int before = _session.FindingCount;
            if (ParseIpAddress(v[0], true) is null) return;
            Config.StaticAddresses.Add(TextLine(v, l));
            CheckAddressInterface(v);
            if (_session.FindingCount == before) AddressLine(v, 0, "static_ipaddress");
        });
    }

    internal void StaticRoutes(string[]? w)
    {
        if (w is null) return;
        ValueBlock(w, (v, l) => { Config.StaticRoutes.Add(TextLine(v, l)); CheckRoute(v, allowTrackGroup: true); });
    }

    internal void StaticRules(string[]? w)
    {
        if (w is null) return;
        ValueBlock(w, (v, l) => { Config.StaticRules.Add(TextLine(v, l)); CheckRule(v, allowTrackGroup: true); });
    }

    /// <summary>
    /// One address line (virtual_ipaddress, virtual_ipaddress_excluded, static_ipaddress) through Core's parser of the
    /// form (<see cref="VrrpTextForms.ParseVirtualAddress"/>, the one Start-VrrpInstance uses): its problems at this
    /// line, named by <paramref name="keyword"/>.
    /// </summary>
    private VrrpVirtualAddress? AddressLine(string[] v, int index, string keyword)
    {
        KeepalivedAddressNotes(v);
        return CoreForm(errors => VrrpTextForms.ParseVirtualAddress(string.Join(' ', v), index, errors),
            f => f == VrrpField.VirtualAddress ? keyword : VrrpFields.KeepalivedKeyword(f));
    }

    /// <summary>
    /// What keepalived's address parser says about options Core's form reads without complaint or only refuses for the
    /// engine: a scope or a label on an IPv6 address (ignored), a peer with a prefix on the address, a peer that is not
    /// an address. keepalived -t fails on each.
    /// </summary>
    private void KeepalivedAddressNotes(string[] v)
    {
        bool v6 = v[0].Contains(':');
        for (int i = 1; i < v.Length; i++)
        {
            switch (v[i])
            {
                case "scope" when v6:
                    Error($"Cannot specify scope for IPv6 addresses ({v[0]}) - ignoring scope");
                    break;
                case "label" when v6:
                    Error($"Cannot specify label for IPv6 addresses ({v[0]}) - ignoring label");
                    break;
                case "peer" when i + 1 < v.Length:
                    if (v[0].Contains('/')) Error("Cannot specify address prefix when specifying peer address - ignoring");
                    else if (ParseIpAddress(v[i + 1], false) is null) Error($"Invalid peer address {v[i + 1]}");
                    break;
            }
        }
    }

    /// <summary>
    /// Runs one of Core's VRRP text-form parsers on the current line and reports what it finds there, each
    /// <see cref="VrrpConfigError"/> rendered with keepalived's keywords. A form keepalived reads but this module's
    /// engine does not act on (the ids ending in NotSupported: peer, use_vmac, reverse, ...) is a warning
    /// (<see cref="KeepalivedFindingCategory.NotSupported"/>); the rest are errors, as keepalived -t reports them.
    /// </summary>
    private T? CoreForm<T>(Func<List<VrrpConfigError>, T?> parse, Func<VrrpField, string>? naming = null) where T : class
    {
        var errors = new List<VrrpConfigError>();
        var value = parse(errors);
        foreach (var e in errors) ReportVrrpError(e, naming);
        return value;
    }

    internal void ReportVrrpError(VrrpConfigError e, Func<VrrpField, string>? naming = null)
    {
        naming ??= VrrpFields.KeepalivedKeyword;
        string message = e.Render(naming);
        if (e.ErrorId.EndsWith("NotSupported", StringComparison.Ordinal))
            _session.Add(Current, KeepalivedErrorLevel.None, KeepalivedFindingCategory.NotSupported,
                $"{message} (keepalived accepts it; kept on the line, but Start-VrrpInstance and hapd would refuse it) [{e.ErrorId}]",
                false, null, naming(e.Field), null, reportedByKeepalived: false);
        else
            _session.Add(Current, KeepalivedErrorLevel.General, KeepalivedFindingCategory.InvalidValue, $"{message} [{e.ErrorId}]",
                false, null, naming(e.Field), null);
    }

    internal void LinkbeatInterfaces(string[]? w)
    {
        if (w is null) return;
        ValueBlock(w, (v, l) =>
        {
            Config.LinkbeatInterfaces.Add(TextLine(v, l));
            if (Env.GetInterface(v[0]) is null && !Config.Global.DynamicInterfaces)
            {
                Report(KeepalivedErrorLevel.Fatal, KeepalivedFindingCategory.Environment, $"unknown interface {v[0]} specified for linkbeat interface", environment: true);
                return;
            }
            if (v.Length > 1 && (v[1] is not ("MII" or "ETHTOOL" or "IOCTL") || v.Length > 2))
                Error($"extra characters {v[1]} in linkbeat interface");
        });
    }

    // ---------------------------------------------------------------- vrrp_sync_group

    internal void VrrpSyncGroup(string[]? w)
    {
        if (w is null) return;
        if (w.Length != 2)
        {
            Error("vrrp_sync_group must have a name - skipping", KeepalivedFindingCategory.MissingValue);
            SkipBlock(true);
            return;
        }
        if (Config.VrrpSyncGroups.Any(g => g.Name == w[1]))
        {
            Error($"vrrp sync group {w[1]} already defined", KeepalivedFindingCategory.Duplicate);
            SkipBlock(true);
            return;
        }
        _sgroup = new KeepalivedVrrpSyncGroup { Name = w[1] };
        SetBlockLocation(_sgroup);
        Config.VrrpSyncGroups.Add(_sgroup);
        OpenedBlock = _sgroup;
    }

    internal void VrrpSyncGroupGroup(string[] w)
    {
        var g = _sgroup!;
        if (g.St.GroupGiven)
        {
            Error($"Group list already specified for sync group {g.Name}", KeepalivedFindingCategory.Duplicate);
            SkipBlock(true);
            return;
        }
        g.St.GroupGiven = true;
        var v = ReadValueBlock(w);
        if (v is null) Error($"Warning - sync group {g.Name} has empty group block");
        else g.Group = v.ToArray();
    }

    internal void SyncGroupTrackInterface(string[] w)
        => ValueBlock(w, (v, l) => TrackInterfaceLine(_sgroup!.Name, _sgroup.TrackInterfaceLines, null, v, l));

    internal void SyncGroupTrackScript(string[] w)
        => ValueBlock(w, (v, l) => TrackScriptLine(_sgroup!.Name, _sgroup.TrackedScripts, _sgroup.St.TrackScripts, v, l));

    internal void SyncGroupTrackFile(string[] w)
        => ValueBlock(w, (v, l) => TrackReferenceLine(_sgroup!.Name, _sgroup.TrackedFiles, "file", v, l,
            n => _trackFiles.FirstOrDefault(f => f.Name == n) is { } f ? (f.Weight, f.WeightReverse) : null));

    internal void SyncGroupTrackProcess(string[] w)
        => ValueBlock(w, (v, l) => TrackReferenceLine(_sgroup!.Name, _sgroup.TrackedProcesses, "process", v, l,
            n => Config.TrackProcesses.FirstOrDefault(f => f.Name == n) is { } f ? (f.Weight, f.WeightReverse) : null));

    internal void SyncGroupTrackBfd(string[] w)
        => ValueBlock(w, (v, l) => TrackReferenceLine(_sgroup!.Name, _sgroup.TrackedBfds, "bfd", v, l,
            n => _vrrpTrackedBfds.FirstOrDefault(f => f.Name == n) is { } f ? (f.Weight, f.Reverse) : null));

    private void GroupNotify(string[] w, string slot, int extra)
    {
        var g = _sgroup!;
        if (g.St.Notify.Any(n => n.Slot == slot))
        {
            Error($"vrrp group {g.Name}: {slot} script already specified - ignoring {Slot(w, 1)}", KeepalivedFindingCategory.Duplicate);
            return;
        }
        var s = NotifyScriptInit(extra, "notify");
        g.St.Notify.Add((slot, s));
        string? text = CommandText(w);
        switch (slot)
        {
            case "notify": g.NotifyScript = text; break;
            case "notify_master": g.NotifyMaster = text; break;
            case "notify_backup": g.NotifyBackup = text; break;
            case "notify_fault": g.NotifyFault = text; break;
            case "notify_stop": g.NotifyStop = text; break;
        }
    }

    internal void SyncGroupNotifyBackup(string[] w) => GroupNotify(w, "notify_backup", 0);
    internal void SyncGroupNotifyMaster(string[] w) => GroupNotify(w, "notify_master", 0);
    internal void SyncGroupNotifyFault(string[] w) => GroupNotify(w, "notify_fault", 0);
    internal void SyncGroupNotifyStop(string[] w) => GroupNotify(w, "notify_stop", 0);
    internal void SyncGroupNotify(string[] w) => GroupNotify(w, "notify", 4);

    internal void SyncGroupSmtp(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid vrrp_group smtp_alert parameter {v}") is bool b) { _sgroup!.SmtpAlert = b; }
    }

    internal void SyncGroupGlobalTracking(string[] w)
    {
        Error($"({_sgroup!.Name}) global_tracking is deprecated. Use track_interface/script/file on the sync group", KeepalivedFindingCategory.Deprecated);
        _sgroup.SyncGroupTrackingWeight = true;
    }

    internal void SyncGroupTrackingWeight(string[] w) => _sgroup!.SyncGroupTrackingWeight = true;

    internal void SyncGroupNotifyPriorityChanges(string[] w)
        => OptionalBool(w, v => $"({_sgroup!.Name}) Invalid value '{(w.Length > 1 ? w[1] : "")}' for sync group notify_priority_changes specified");

    // ---------------------------------------------------------------- garp_group

    internal void GarpGroup(string[]? w)
    {
        if (w is null) return;
        _garp = new KeepalivedGarpGroup();
        SetBlockLocation(_garp);
        Config.GarpGroups.Add(_garp);
        OpenedBlock = _garp;
    }

    internal void GarpGroupGarpInterval(string[] w)
    {
        if (!ReadDecimal(Slot(w, 1), out ulong v, 0, int.MaxValue, TimerHzDigits)) { Error($"garp_group garp_interval '{w[1]}' invalid"); return; }
        _garp!.GarpInterval = Seconds(v);
        if (v >= TimerHz) Note($"The garp_interval is very large - {w[1]} seconds");
    }

    internal void GarpGroupGnaInterval(string[] w)
    {
        if (!ReadDecimal(Slot(w, 1), out ulong v, 0, int.MaxValue, TimerHzDigits)) { Error($"garp_group gna_interval '{w[1]}' invalid"); return; }
        _garp!.GnaInterval = Seconds(v);
        if (v >= TimerHz) Note($"The gna_interval is very large - {w[1]} seconds");
    }

    private readonly HashSet<string> _garpInterfaces = new(StringComparer.Ordinal);

    internal void GarpGroupInterface(string[] w)
    {
        string name = Slot(w, 1);
        var ifp = LookupInterface(name);
        if (ifp is null)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"WARNING - interface {name} specified for garp_group doesn't exist", environment: true);
            return;
        }
        if (!_garpInterfaces.Add(name)) { Error($"garp_group already specified for {name} - ignoring", KeepalivedFindingCategory.Duplicate); return; }
        _garp!.Interfaces.Add(name);
    }

    internal void GarpGroupInterfaces(string[] w)
    {
        var v = ReadValueBlock(w);
        if (v is null) { Error("Warning - empty garp_group interfaces block"); return; }
        for (int i = 0; i < v.Count; i++)
        {
            if (LookupInterface(v[i]) is null)
            {
                if (Config.Global.DynamicInterfaces) Note($"WARNING - interface {v[i]} specified for garp_group doesn't exist", KeepalivedFindingCategory.Environment, true);
                else Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"WARNING - interface {v[i]} specified for garp_group doesn't exist", environment: true);
                continue;
            }
            if (!_garpInterfaces.Add(v[i]))
            {
                Error($"garp_group already specified for {(v.Count > 1 ? v[1] : v[i])} - ignoring", KeepalivedFindingCategory.Duplicate);
                continue;
            }
            _garp!.Interfaces.Add(v[i]);
        }
    }

    internal void GarpGroupEnd(KeepalivedParseContext _)
    {
        var g = _garp!;
        if (g.GarpInterval is null && g.GnaInterval is null)
        {
            int n = 0;
            foreach (var x in Config.GarpGroups) if (x.Interfaces.Count > 0 && x != g) n++;
            Error($"garp group {(g.Interfaces.Count > 0 ? n + 1 : 0)} does not have any delay set - removing");
            foreach (var i in g.Interfaces) _garpInterfaces.Remove(i);
            Config.GarpGroups.Remove(g);
        }
    }

    // ---------------------------------------------------------------- vrrp_instance

    internal void VrrpInstance(string[]? w)
    {
        if (w is null) return;
        if (w.Length != 2)
        {
            Error("vrrp_instance must have a name", KeepalivedFindingCategory.MissingValue);
            SkipBlock(true);
            return;
        }
        if (Config.VrrpInstances.Any(v => v.Name == w[1]))
        {
            Error($"vrrp instance {w[1]} already defined", KeepalivedFindingCategory.Duplicate);
            SkipBlock(true);
            return;
        }
        _vrrp = new KeepalivedVrrpInstance { Name = w[1] };
        SetBlockLocation(_vrrp);
        var g = Config.Global;
        _vrrp.GarpMasterRepeat = g.VrrpGarpMasterRepeat;
        _vrrp.GarpMasterRefresh = g.VrrpGarpMasterRefresh;
        _vrrp.GarpMasterRefreshRepeat = g.VrrpGarpMasterRefreshRepeat;
        _vrrp.GarpMasterDelay = g.VrrpGarpMasterDelay;
        _vrrp.GarpInterval = g.VrrpGarpInterval;
        _vrrp.DownTimerAdverts = g.VrrpDownTimerAdverts;
        _vrrp.SkipCheckAdvertAddress = g.VrrpSkipCheckAdvertAddress;
        Config.VrrpInstances.Add(_vrrp);
        OpenedBlock = _vrrp;
    }

    internal void VrrpInstanceEnd(KeepalivedParseContext _)
    {
        var v = _vrrp!;
        var s = v.St;
        if (s.UnicastConfigured && (s.Vmac || s.Ipvlan))
        {
            if (s.Ifp is null)
            {
                Error($"({v.Name}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac");
                s.Vmac = s.Ipvlan = false;
            }
            else if (!s.VmacXmitBase)
            {
                Error($"({v.Name}) unicast with use_vmac requires vmac_xmit_base - setting");
                s.VmacXmitBase = true;
            }
        }
        if (v.UnicastPeerLines.Count == 0 && s.Ttl != -1)
        {
            Error($"({v.Name}): Cannot use unicast_ttl without unicast peers - resetting");
            s.Ttl = 0;
        }
    }

    internal void VrrpUseVmac(string[] w)
    {
        var v = _vrrp!;
        v.St.Vmac = v.UseVmac = true;
        for (int i = 1; i < w.Length && i <= 2; i++)
        {
            string p = w[i];
            if (p.Contains(':'))
            {
                if (v.St.VmacMacSpecified) { Error("VMAC interface address already specified", KeepalivedFindingCategory.Duplicate); continue; }
                if (p.Any(c => !IsXDigit(c) && c != ':')) { Error($"VMAC invalid MAC address {p}"); continue; }
                var parts = p.Split(':');
                bool bad = parts.Length < 5 || parts.Length > 6 || parts.Take(5).Any(x => x.Length == 0 || x.Length > 2) || (parts.Length == 6 && parts[5].Length > 2);
                if (bad) { Error($"VMAC invalid MAC address {p} - ignored"); continue; }
                int b0 = Convert.ToInt32(parts[0], 16);
                if ((b0 & 1) != 0) { Error($"VMAC MAC address is multicast {p} - ignoring"); continue; }
                if (p.StartsWith("00:00:5e:00:01", StringComparison.OrdinalIgnoreCase) || p.StartsWith("00:00:5e:00:02", StringComparison.OrdinalIgnoreCase))
                {
                    Error($"VMAC MAC address not allowed to be RFC5798 address ({p}) - ignoring");
                    continue;
                }
                v.St.VmacMacSpecified = true;
            }
            else
            {
                if (v.VmacInterfaceName is not null) { Error("VMAC interface name already specified", KeepalivedFindingCategory.Duplicate); continue; }
                if (p.Length == 0 || p.Length >= 16 || p == "." || p == ".." || p.Any(c => c == '/' || c == ':' || IsSpace(c)))
                {
                    Error($"VMAC interface name '{p}' too long or invalid characters - ignoring");
                    continue;
                }
                var other = Config.VrrpInstances.FirstOrDefault(o => o.VmacInterfaceName == p);
                if (other is not null) { Error($"({v.Name}) VRRP instance {other.Name} is already using {p} - ignoring name", KeepalivedFindingCategory.Duplicate); continue; }
                v.VmacInterfaceName = p;
                if (Env.GetInterface(p) is { } ifp && !ifp.IsPrivateMacvlan)
                {
                    Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment,
                        $"({v.Name}) interface {p} already exists and is not a private macvlan; ignoring vmac if_name", environment: true);
                    v.VmacInterfaceName = null;
                }
            }
        }
    }

    internal void VrrpUseVmacAddr(string[] w) { }
    internal void VrrpVmacXmitBase(string[] w) => VS.VmacXmitBase = true;

    internal void VrrpUseIpvlan(string[] w)
    {
        var v = _vrrp!;
        if (v.St.Ipvlan) { Error($"({v.Name}) use_ipvlan already specified", KeepalivedFindingCategory.Duplicate); return; }
        v.St.Ipvlan = v.UseIpvlan = true;
        bool hadFlags = false, hadAddr = false;
        for (int i = 1; i < w.Length; i++)
        {
            string p = w[i];
            if (p is "bridge" or "private" or "vepa")
            {
                if (hadFlags) Error($"({v.Name}) ipvlan type already specified - ignoring '{p}'", KeepalivedFindingCategory.Duplicate);
                hadFlags = true;
                continue;
            }
            int slash = p.IndexOf('/');
            string addrText = slash >= 0 ? p.Substring(0, slash) : p;
            if (TryParseAddress(addrText, out var a))
            {
                if (hadAddr) { Error($"({v.Name}) ipvlan address already specified - ignoring '{p}'", KeepalivedFindingCategory.Duplicate); continue; }
                if (v.St.Family == AddressFamily.Unspecified) v.St.Family = a!.AddressFamily;
                else if (a!.AddressFamily != v.St.Family)
                {
                    Error($"({v.Name}) ipvlan address[{p}] MUST match vrrp instance family !!! Skipping...");
                    continue;
                }
                hadAddr = true;
                if (v.St.Saddr is null) { v.St.Saddr = a; v.St.SaddrFromConfig = true; }
                continue;
            }
            if (v.VmacInterfaceName is not null) { Error($"({v.Name}) IPVLAN interface already specified - ignoring '{p}'", KeepalivedFindingCategory.Duplicate); continue; }
            if (p.Length >= 16) { Error($"({v.Name}) IPVLAN interface name '{p}' too long - ignoring"); continue; }
            var other = Config.VrrpInstances.FirstOrDefault(o => o.VmacInterfaceName == p);
            if (other is not null) { Error($"({v.Name}) VRRP instance {other.Name} is already using {p} - ignoring name", KeepalivedFindingCategory.Duplicate); continue; }
            v.VmacInterfaceName = p;
            if (Env.GetInterface(p) is { } ifp && !ifp.IsL2Ipvlan)
            {
                Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment,
                    $"({v.Name}) interface {p} already exists and is not an l2 ipvlan; ignoring ipvlan if_name", environment: true);
                v.VmacInterfaceName = null;
            }
        }
    }

    internal void VrrpUnicastPeer(string[] w)
    {
        var v = _vrrp!;
        v.St.UnicastConfigured = true;
        ValueBlock(w, (p, l) =>
        {
            string addr = Slot(p, 0);
            if (!ParseSockAddr(addr, null, out var a, out _))
            {
                Error($"Configuration error: VRRP instance[{v.Name}] malformed unicast peer address[{addr}]. Skipping...");
                return;
            }
            if (v.St.Family == AddressFamily.Unspecified) v.St.Family = a!.AddressFamily;
            else if (a!.AddressFamily != v.St.Family)
            {
                Error($"Configuration error: VRRP instance[{v.Name}] and unicast peer address[{addr}] MUST be of the same family !!! Skipping...");
                return;
            }
            uint minTtl = 0, maxTtl = 255;
            for (int i = 1; i < p.Length; i += 2)
            {
                if (i + 1 >= p.Length) { Error($"({v.Name}) {p[i]} is missing a value", KeepalivedFindingCategory.MissingValue); break; }
                if (ReadUnsigned(p[i + 1], out uint ttl, 0, 255))
                {
                    if (p[i] == "min_ttl") minTtl = ttl;
                    else if (p[i] == "max_ttl") maxTtl = ttl;
                    else { Error($"({v.Name}) unknown unicast_peer option {p[i]}"); break; }
                }
            }
            if (minTtl > maxTtl) Error($"({v.Name}) min_ttl {minTtl} > max_ttl {maxTtl} - all packets will be discarded");
            v.UnicastPeerLines.Add(TextLine(p, l));
        });
        v.UnicastPeer = v.UnicastPeerLines.Select(x => x.Words[0]).ToArray();
    }

    internal void VrrpUnicastFaultNoPeer(string[] w) { VS.UnicastConfigured = true; VS.UnicastFaultNoPeer = true; }
    internal void VrrpCheckUnicastSrc(string[] w) => VS.UnicastConfigured = true;

    internal void VrrpOldUnicastChecksum(string[] w)
    {
        VS.UnicastConfigured = true;
        if (w.Length >= 2 && w[1] != "never") Error($"({_vrrp!.Name}) Unknown old_unicast_chksum mode {w[1]} - ignoring");
    }

    internal void VrrpNativeIpv6(string[] w)
    {
        var v = _vrrp!;
        if (v.St.Family == AddressFamily.InterNetwork) { Error($"({v.Name}) Cannot specify native_ipv6 with IPv4 addresses"); return; }
        v.St.Family = AddressFamily.InterNetworkV6;
        v.St.Version = 3;
    }

    internal void VrrpState(string[] w)
    {
        var v = _vrrp!;
        string s = Slot(w, 1);
        if (s == "MASTER") { v.St.WantMaster = true; v.St.WantStateSet = true; }
        else if (s == "BACKUP")
        {
            if (v.St.WantStateSet && v.St.WantMaster) Error($"({v.Name}) state previously set as MASTER - ignoring BACKUP");
            else { v.St.WantMaster = false; v.St.WantStateSet = true; }
        }
        else
        {
            Error($"({v.Name}) unknown state '{s}', defaulting to BACKUP", KeepalivedFindingCategory.InvalidValue);
            v.St.WantMaster = false;
            v.St.WantStateSet = true;
        }
    }

    internal void VrrpInterface(string[] w)
    {
        var v = _vrrp!;
        string name = Slot(w, 1);
        if (name.Length >= 16) { Error($"Interface name '{name}' too long - ignoring"); return; }
        v.InterfaceName = name;
        v.St.InterfaceGiven = true;
        var ifp = LookupInterface(name);
        v.St.Ifp = ifp;
        v.St.InterfaceMissing = ifp is null;
        if (ifp is null)
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"WARNING - interface {name} for vrrp_instance {v.Name} doesn't exist", environment: true);
        else if (ifp.IsLoopback)
        {
            Error($"({v.Name}) cannot use a loopback interface ({name}) for vrrp - ignoring");
            v.St.Ifp = null;
        }
    }

    internal void VrrpVrf(string[] w)
    {
        var v = _vrrp!;
        string name = Slot(w, 1);
        if (name.Length >= 16) { Error($"({v.Name}) VRF interface name '{name}' too long - ignoring"); return; }
        if (v.St.Ifp is not null) { Error($"({v.Name}) Cannot specify VRF interface and interface - ignoring"); return; }
        if (v.St.VrfName is not null) { Error($"({v.Name}) VRF interface already specified as '{v.St.VrfName}' - ignoring", KeepalivedFindingCategory.Duplicate); return; }
        var ifp = LookupInterface(name);
        if (ifp is null) Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"({v.Name}) WARNING - VRF interface {name} doesn't exist", environment: true);
        else if (ifp.IsLoopback) Error($"({v.Name}) cannot use a loopback interface ({name}) for VRF - ignoring");
        else v.St.VrfName = name;
    }

    internal void VrrpLinkbeatUsePolling(string[] w)
    {
        VS.LinkbeatPolling = true;
        Error($"({_vrrp!.Name}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block", KeepalivedFindingCategory.Deprecated);
    }

    internal void VrrpTrackInterface(string[] w)
        => ValueBlock(w, (v, l) => TrackInterfaceLine(_vrrp!.Name, _vrrp.TrackInterfaceLines, _vrrp.St.TrackInterfaceNames, v, l));

    private void TrackInterfaceLine(string owner, List<KeepalivedTextLine> lines, List<string>? names, string[] v, KeepalivedLine? l)
    {
        string name = Slot(v, 0);
        if (LookupInterface(name) is null)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"({owner}) tracked interface {name} doesn't exist", environment: true);
            return;
        }
        if (lines.Any(x => x.Words[0] == name))
        {
            Error($"({owner}) duplicate track_interface {name} - ignoring", KeepalivedFindingCategory.Duplicate);
            return;
        }
        var t = CoreForm(errors => VrrpTextForms.ParseTrackInterface(string.Join(' ', v), lines.Count, errors));
        var line = TextLine(v, l);
        if (t is null) line.IgnoredWeight = true;   // keepalived ignores the weight it cannot read, and tracks the interface
        lines.Add(line);
        names?.Add(name);
    }

    private void TrackScriptLine(string owner, List<KeepalivedTrackReference> refs, List<(KeepalivedTrackReference, KeepalivedVrrpScript)> resolved, string[] v, KeepalivedLine? l)
    {
        string name = Slot(v, 0);
        var script = Config.VrrpScripts.FirstOrDefault(s => s.Name == name && !s.St.Remove);
        if (script is null)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.UndefinedReference, $"({owner}) track script {name} not found, ignoring...",
                suggestion: KeepalivedSuggest.Closest(name, Config.VrrpScripts.Select(s => s.Name)));
            return;
        }
        if (refs.Any(r => r.Name == name))
        {
            Error($"({owner}) duplicate track_script {name} - ignoring", KeepalivedFindingCategory.Duplicate);
            return;
        }
        var r = MakeReference(v, l, script.Weight, script.WeightReverse);
        refs.Add(r);
        resolved.Add((r, script));
    }

    /// <summary>
    /// A track_script/track_file/track_process/track_bfd reference, "name [weight N [reverse|noreverse]]", read by Core's
    /// parser of the form (<see cref="VrrpTextForms.ParseTrackScriptReference"/>, with its weight limits); a weight it
    /// refuses leaves the tracked object's own.
    /// </summary>
    private KeepalivedTrackReference MakeReference(string[] v, KeepalivedLine? l, int weight, bool reverse, VrrpField field = VrrpField.TrackScript)
    {
        var t = TextLine(v, l);
        var r = new KeepalivedTrackReference { Name = v[0], Weight = weight, WeightReverse = reverse, Text = t.Text, File = t.File, Line = t.Line };
        string keyword = CurrentKeyword ?? VrrpFields.KeepalivedKeyword(field);
        var parsed = CoreForm(errors => VrrpTextForms.ParseTrackScriptReference(string.Join(' ', v), 0, errors),
            f => f == VrrpField.TrackScript ? keyword : VrrpFields.KeepalivedKeyword(f));
        if (parsed?.Weight is int wt) r.Weight = wt;
        if (v.Length >= 4 && v[1] == "weight") r.WeightReverse = v[3] == "reverse" || (v[3] != "noreverse" && reverse);
        return r;
    }

    private void TrackReferenceLine(string owner, List<KeepalivedTrackReference> refs, string kind, string[] v, KeepalivedLine? l,
        Func<string, (int Weight, bool Reverse)?> find)
    {
        string name = Slot(v, 0);
        var found = find(name);
        if (found is null)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.UndefinedReference, $"({owner}) track {kind} {name} not found, ignoring...");
            return;
        }
        if (refs.Any(r => r.Name == name))
        {
            Error($"({owner}) duplicate track_{kind} {name} - ignoring", KeepalivedFindingCategory.Duplicate);
            return;
        }
        refs.Add(MakeReference(v, l, found.Value.Weight, found.Value.Reverse));
    }

    internal void VrrpTrackScript(string[] w)
        => ValueBlock(w, (v, l) => TrackScriptLine(_vrrp!.Name, _vrrp.TrackedScripts, _vrrp.St.TrackScripts, v, l));

    internal void VrrpTrackFile(string[] w)
        => ValueBlock(w, (v, l) => TrackReferenceLine(_vrrp!.Name, _vrrp.TrackedFiles, "file", v, l,
            n => _trackFiles.FirstOrDefault(f => f.Name == n) is { } f ? (f.Weight, f.WeightReverse) : null));

    internal void VrrpTrackProcess(string[] w)
        => ValueBlock(w, (v, l) => TrackReferenceLine(_vrrp!.Name, _vrrp.TrackedProcesses, "process", v, l,
            n => Config.TrackProcesses.FirstOrDefault(f => f.Name == n) is { } f ? (f.Weight, f.WeightReverse) : null));

    internal void VrrpTrackBfd(string[] w)
        => ValueBlock(w, (v, l) => TrackReferenceLine(_vrrp!.Name, _vrrp.TrackedBfds, "bfd", v, l,
            n => _vrrpTrackedBfds.FirstOrDefault(f => f.Name == n) is { } f ? (f.Weight, f.Reverse) : null));

    internal void VrrpDontTrackPrimary(string[] w) => _vrrp!.DontTrackPrimary = true;

    private void SourceIp(string[] w)
    {
        var v = _vrrp!;
        string text = Slot(w, 1);
        if (!ParseSockAddr(text, null, out var a, out _))
        {
            Error($"Configuration error: VRRP instance[{v.Name}] malformed src address[{text}]. Skipping...");
            return;
        }
        v.St.SaddrFromConfig = true;
        v.St.Saddr = a;
        v.SourceAddress = text;
        if (v.St.Family == AddressFamily.Unspecified) v.St.Family = a!.AddressFamily;
        else if (a!.AddressFamily != v.St.Family)
        {
            Error($"Configuration error: VRRP instance[{v.Name}] and src address[{text}] MUST be of the same family !!! Skipping...");
            v.St.SaddrFromConfig = false;
            v.St.Saddr = null;
            v.SourceAddress = null;
        }
    }

    internal void VrrpMcastSrcIp(string[] w) => SourceIp(w);

    internal void VrrpUnicastSrcIp(string[] w)
    {
        VS.UnicastConfigured = true;
        SourceIp(w);
    }

    internal void VrrpMcastDstIp(string[] w)
    {
        var v = _vrrp!;
        string text = Slot(w, 1);
        if (!ParseSockAddr(text, null, out var a, out _))
        {
            Error($"({v.Name}) malformed mcast dest address {text}. Skipping...");
            return;
        }
        bool set = true;
        if (v.St.Family == AddressFamily.Unspecified) v.St.Family = a!.AddressFamily;
        else if (a!.AddressFamily != v.St.Family)
        {
            Error($"({v.Name}) mcast dest address {text} MUST match VRRP instance family. Skipping...");
            set = false;
        }
        if (set && ((a.AddressFamily == AddressFamily.InterNetwork && !IsMulticast(a)) || (a.AddressFamily == AddressFamily.InterNetworkV6 && !IsIPv6LinkLocalMulticast(a))))
        {
            Error($"({v.Name}) mcast_dst_ip {text} not{(a.AddressFamily == AddressFamily.InterNetworkV6 ? " link-local" : "")} multicast. Skipping...");
            set = false;
        }
        if (set) { v.MulticastDestination = text; v.St.McastDaddrSet = true; }
    }

    internal void VrrpTrackSrcIp(string[] w) { }

    internal void VrrpVrid(string[] w)
    {
        var v = _vrrp!;
        var (lo, hi) = VrrpFields.IntegerRange(VrrpField.VirtualRouterId)!.Value;   // Core's limit (keepalived's too)
        if (!ReadUnsigned(Slot(w, 1), out uint id, (uint)lo, (uint)hi))
        {
            Error($"({v.Name}): VRID '{w[1]}' not valid - must be between {lo} & {hi}");
            return;
        }
        v.VirtualRouterId = (int)id;
    }

    internal void VrrpUnicastTtl(string[] w)
    {
        var v = _vrrp!;
        if (!ReadUnsigned(Slot(w, 1), out uint ttl, 0, 255)) { Error($"({v.Name}): TTL '{w[1]}' not valid - must be between 0 & 255"); return; }
        v.St.Ttl = (int)ttl;
        v.UnicastTtl = (int)ttl;
    }

    internal void VrrpPriority(string[] w)
    {
        var v = _vrrp!;
        var (lo, hi) = VrrpFields.IntegerRange(VrrpField.Priority)!.Value;
        if (!ReadUnsigned(Slot(w, 1), out uint p, (uint)lo, (uint)hi))
        {
            Error($"({v.Name}) Priority not valid! must be between {lo} & {hi}. Using default 100");
            v.St.BasePriority = 100;
        }
        else v.St.BasePriority = (int)p;
        v.PriorityGiven = true;
    }

    internal void VrrpAdvertInt(string[] w)
    {
        var v = _vrrp!;
        var (lo, hi) = VrrpFields.SecondsRange(VrrpField.AdvertisementInterval)!.Value;
        bool ok = ReadDecimal(Slot(w, 1), out ulong adv, (ulong)Math.Round(lo * TimerHz), (ulong)Math.Round(hi * TimerHz), TimerHzDigits);
        if (!ok || adv == 0) Error($"({v.Name}) Advert interval ({w[1]}) not valid! Must be > 0 - ignoring");
        else v.St.AdverIntMicros = adv;
    }

    internal void VrrpDebug(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out _, 0, 4)) Error($"({_vrrp!.Name}) Debug value '{w[1]}' not valid; must be between 0-4");
    }

    internal void VrrpSkipCheckAdvAddr(string[] w)
    {
        var v = _vrrp!;
        if (w.Length >= 2)
        {
            if (TrueFalse(w[1]) >= 0) v.SkipCheckAdvertAddress = true;
            else Error($"({v.Name}) invalid skip_check_adv_addr {w[1]} specified");
        }
        else v.SkipCheckAdvertAddress = true;
    }

    internal void VrrpStrictMode(string[] w)
    {
        var v = _vrrp!;
        if (w.Length >= 2)
        {
            int r = TrueFalse(w[1]);
            if (r >= 0) v.St.StrictMode = r == 1;
            else Error($"({v.Name}) invalid strict_mode {w[1]} specified");
        }
        else v.St.StrictMode = true;
    }

    internal void VrrpNoPreempt(string[] w) => VS.NoPreempt = true;
    internal void VrrpPreempt(string[] w) => VS.NoPreempt = false;

    internal void VrrpPreemptDelay(string[] w)
    {
        var v = _vrrp!;
        var (lo, hi) = VrrpFields.SecondsRange(VrrpField.PreemptDelay)!.Value;
        if (!ReadDecimal(Slot(w, 1), out ulong d, (ulong)Math.Round(lo * TimerHz), (ulong)Math.Round(hi * TimerHz), TimerHzDigits))
        {
            Error($"({v.Name}) Preempt_delay not valid! must be between {lo}-{hi}");
            v.St.PreemptDelayMicros = 0;
        }
        else v.St.PreemptDelayMicros = d;
    }

    private void InstanceNotify(string[] w, string slot, int extra)
    {
        var v = _vrrp!;
        if (v.St.Notify.Any(n => n.Slot == slot))
        {
            Error($"({v.Name}) {slot} script already specified - ignoring {Slot(w, 1)}", KeepalivedFindingCategory.Duplicate);
            return;
        }
        var s = NotifyScriptInit(extra, "notify");
        v.St.Notify.Add((slot, s));
        string? text = CommandText(w);
        switch (slot)
        {
            case "notify": v.NotifyScript = text; break;
            case "notify_master": v.NotifyMaster = text; break;
            case "notify_backup": v.NotifyBackup = text; break;
            case "notify_fault": v.NotifyFault = text; break;
            case "notify_stop": v.NotifyStop = text; break;
            case "notify_master_rx_lower_pri": v.NotifyMasterRxLowerPriority = text; break;
        }
    }

    internal void VrrpNotifyBackup(string[] w) => InstanceNotify(w, "notify_backup", 0);
    internal void VrrpNotifyMaster(string[] w) => InstanceNotify(w, "notify_master", 0);
    internal void VrrpNotifyFault(string[] w) => InstanceNotify(w, "notify_fault", 0);
    internal void VrrpNotifyStop(string[] w) => InstanceNotify(w, "notify_stop", 0);
    internal void VrrpNotify(string[] w) => InstanceNotify(w, "notify", 4);
    internal void VrrpNotifyMasterRxLowerPri(string[] w) => InstanceNotify(w, "notify_master_rx_lower_pri", 0);

    internal void VrrpNotifyDeleted(string[] w)
    {
        var v = _vrrp!;
        if (v.St.Notify.Any(n => n.Slot == "notify_deleted") || v.NotifyDeleted is not null)
        {
            Error($"({v.Name}) notify_deleted already specified - ignoring {(w.Length > 1 ? w[1] : "")}", KeepalivedFindingCategory.Duplicate);
            return;
        }
        if (w.Length > 1)
        {
            v.St.Notify.Add(("notify_deleted", NotifyScriptInit(0, "notify")));
            v.NotifyDeleted = w[1];
        }
        else v.NotifyDeleted = "";
    }

    internal void VrrpSmtpAlert(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid vrrp_instance smtp_alert parameter {v}") is bool b) { _vrrp!.SmtpAlert = b; }
    }

    internal void InstNotifyPriorityChanges(string[] w)
        => OptionalBool(w, v => $"({_vrrp!.Name}) Invalid value '{(w.Length > 1 ? w[1] : "")}' for notify_priority_changes specified");

    internal void VrrpLvsSyncDaemonInterface(string[] w)
    {
        var v = _vrrp!;
        Error($"({v.Name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.", KeepalivedFindingCategory.Deprecated);
        Error($"      {new string(' ', Math.Max(0, v.Name.Length - 2))}Please use global lvs_sync_daemon", KeepalivedFindingCategory.Deprecated);
        if (Config.Global.LvsSyncDaemon is { } sd && !_session.LvsSyncFromVrrp)
        {
            Error($"({v.Name}) lvs_sync_daemon_interface has already been specified as {sd.InterfaceName} - ignoring", KeepalivedFindingCategory.Duplicate);
            return;
        }
        if (_session.LvsSyncFromVrrp)
        {
            Error($"({v.Name}) lvs_sync_daemon_interface has already been specified as {Config.Global.LvsSyncDaemon!.InterfaceName} - ignoring", KeepalivedFindingCategory.Duplicate);
            return;
        }
        v.LvsSyncDaemonInterface = Slot(w, 1);
        _session.LvsSyncFromVrrp = true;
        Config.Global.LvsSyncDaemon = new KeepalivedLvsSyncDaemon { InterfaceName = w[1], VrrpInstance = v.Name };
    }

    internal void VrrpGarpMasterDelay(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint d, 0, uint.MaxValue / (uint)TimerHz)) { Error($"({_vrrp!.Name}): garp_master_delay '{w[1]}' invalid - ignoring"); return; }
        _vrrp!.GarpMasterDelay = d;
    }

    internal void VrrpGarpMasterRefresh(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, uint.MaxValue)) { Error($"({_vrrp!.Name}): Invalid garp_master_refresh '{w[1]}' - ignoring"); _vrrp.GarpMasterRefresh = 0; }
        else _vrrp!.GarpMasterRefresh = r;
    }

    internal void VrrpGarpMasterRepeat(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, uint.MaxValue)) { Error($"({_vrrp!.Name}): garp_master_repeat '{w[1]}' invalid - ignoring"); return; }
        if (r == 0) { Error($"({_vrrp!.Name}): garp_master_repeat must be greater than 0, setting to 1"); r = 1; }
        _vrrp!.GarpMasterRepeat = (int)Math.Min(r, int.MaxValue);
    }

    internal void VrrpGarpMasterRefreshRepeat(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, uint.MaxValue)) { Error($"({_vrrp!.Name}): garp_master_refresh_repeat '{w[1]}' invalid - ignoring"); return; }
        if (r == 0) { Error($"({_vrrp!.Name}): garp_master_refresh_repeat must be greater than 0, setting to 1"); r = 1; }
        _vrrp!.GarpMasterRefreshRepeat = (int)Math.Min(r, int.MaxValue);
    }

    internal void InstGarpLowerPrioDelay(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint d, 0, uint.MaxValue / (uint)TimerHz)) { Error($"({_vrrp!.Name}): garp_lower_prio_delay '{w[1]}' invalid - ignoring"); return; }
        VS.GarpLowerPrioDelaySet = true;
        VS.GarpLowerPrioDelay = d;
    }

    internal void InstGarpLowerPrioRepeat(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, int.MaxValue)) { Error($"({_vrrp!.Name}): Invalid garp_lower_prio_repeat '{w[1]}'"); return; }
        VS.GarpLowerPrioRepSet = true;
        VS.GarpLowerPrioRep = r;
    }

    internal void InstDownTimerAdverts(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint d, 1, 100)) { Error($"({_vrrp!.Name}): Invalid down_timer_adverts [1:100] '{w[1]}'"); return; }
        VS.DownTimerAdverts = (int)d;
        _vrrp!.DownTimerAdverts = (int)d;
    }

    internal void VrrpGarpExtraIfInstance(string[] w)
    {
        var v = _vrrp!;
        string cmd = w[0];
        if (cmd == "vmac_garp_intvl")
            Report(KeepalivedErrorLevel.Deprecated, KeepalivedFindingCategory.Deprecated, "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"", suggestion: "garp_extra_if");
        bool haveDelay = false;
        for (int i = 1; i < w.Length; i++)
        {
            if (w[i] == "all") continue;
            if (!ReadUnsigned(w[i], out _, 0, 86400)) { Error($"({v.Name}): {cmd} '{w[i]}' invalid - ignoring"); return; }
            haveDelay = true;
        }
        if (!haveDelay) Error($"({v.Name}): {cmd} specified without time - ignoring", KeepalivedFindingCategory.MissingValue);
    }

    internal void InstLowerPrioNoAdvert(string[] w)
    {
        var v = _vrrp!;
        if (w.Length >= 2)
        {
            int r = TrueFalse(w[1]);
            if (r >= 0) v.St.LowerPrioNoAdvert = r == 1;
            else Error($"({v.Name}) invalid lower_prio_no_advert {w[1]} specified");
        }
        else v.St.LowerPrioNoAdvert = true;
    }

    internal void InstHigherPrioSendAdvert(string[] w)
    {
        var v = _vrrp!;
        if (w.Length >= 2)
        {
            int r = TrueFalse(w[1]);
            if (r >= 0) v.St.HigherPrioSendAdvert = r == 1;
            else Error($"({v.Name}) invalid higher_prio_send_advert {w[1]} specified");
        }
        else v.St.HigherPrioSendAdvert = true;
    }

    internal void VrrpKernelRxBufSize(string[] w)
    {
        if (w.Length == 2 && ReadUnsigned(w[1], out _, 0, uint.MaxValue)) return;
        Error($"({_vrrp!.Name}) invalid kernel_rx_buf_size specified");
    }

    internal void VrrpAuthType(string[] w)
    {
        var v = _vrrp!;
        string s = Slot(w, 1);
        if (s == "AH") { v.St.AuthType = 2; v.AuthenticationType = "AH"; }
        else if (s == "PASS") { v.St.AuthType = 1; v.AuthenticationType = "PASS"; }
        else Error($"({v.Name}) unknown authentication type '{s}'");
    }

    internal void VrrpAuthPass(string[] w)
    {
        var v = _vrrp!;
        string s = Slot(w, 1);
        int len = System.Text.Encoding.UTF8.GetByteCount(s);
        if (len > 8)
        {
            Error("Truncating auth_pass to 8 characters");
            var bytes = System.Text.Encoding.UTF8.GetBytes(s);
            s = System.Text.Encoding.UTF8.GetString(bytes, 0, 8);
        }
        v.St.AuthData = s;
        v.AuthenticationPassword = s;
    }

    internal void VrrpVirtualIpaddress(string[] w)
    {
        var v = _vrrp!;
        ValueBlock(w, (p, l) =>
        {
            var line = TextLine(p, l);
            // The address family of an instance comes from its addresses: the first word, "address[/prefix]".
            int before = _session.FindingCount;
            var a = ParseIpAddress(p[0], true);
            if (a is null) return;
            CheckAddressInterface(p);
            if (_session.FindingCount == before && AddressLine(p, v.VirtualIPAddressLines.Count, "virtual_ipaddress") is null
                && _session.LastFindingIsError) return;   // keepalived skips an address whose options it cannot read
            if (v.St.Family == AddressFamily.Unspecified) v.St.Family = a.AddressFamily;
            else if (a.AddressFamily != v.St.Family)
            {
                Error($"({v.Name}): address family must match VRRP instance [{p[0]}] - ignoring");
                return;
            }
            v.St.FirstVip ??= a;
            v.St.VipCount++;
            v.VirtualIPAddressLines.Add(line);
        });
        v.VirtualIPAddress = v.VirtualIPAddressLines.Select(x => x.Text).ToArray();
    }

    internal void VrrpVirtualIpaddressExcluded(string[] w)
    {
        var v = _vrrp!;
        ValueBlock(w, (p, l) =>
        {
            int before = _session.FindingCount;
            if (ParseIpAddress(p[0], true) is null) return;
            CheckAddressInterface(p);
            if (_session.FindingCount == before && AddressLine(p, v.VirtualIPAddressExcluded.Count, "virtual_ipaddress_excluded") is null
                && _session.LastFindingIsError) return;
            v.VirtualIPAddressExcluded.Add(TextLine(p, l));
        });
    }

    internal void VrrpPromoteSecondaries(string[] w) { }

    internal void VrrpVirtualRoutes(string[] w) => ValueBlock(w, (p, l) => { _vrrp!.VirtualRoutes.Add(TextLine(p, l)); CheckRoute(p, allowTrackGroup: false); });
    internal void VrrpVirtualRules(string[] w) => ValueBlock(w, (p, l) => { _vrrp!.VirtualRules.Add(TextLine(p, l)); CheckRule(p, allowTrackGroup: false); });

    internal void VrrpAccept(string[] w) => VS.Accept = true;
    internal void VrrpNoAccept(string[] w) => VS.Accept = false;

    internal void InstVersion(string[] w)
    {
        var v = _vrrp!;
        if (!ReadInt(Slot(w, 1), out int ver, 2, 3)) { Error($"({v.Name}): Version must be either 2 or 3"); return; }
        if ((v.St.Version != 0 && v.St.Version != ver) || (ver == 2 && v.St.Family == AddressFamily.InterNetworkV6))
        {
            Error($"({v.Name}) vrrp_version {ver} conflicts with configured or deduced version {v.St.Version}; ignoring.");
            return;
        }
        v.St.Version = ver;
        v.VersionGiven = true;
    }

    internal void VrrpAuthentication(string[] w) { }

    // ---------------------------------------------------------------- vrrp_script

    internal void VrrpScript(string[]? w)
    {
        if (w is null) return;
        _vscript = new KeepalivedVrrpScript { Name = Slot(w, 1) };
        SetBlockLocation(_vscript);
        Config.VrrpScripts.Add(_vscript);
        OpenedBlock = _vscript;
    }

    internal void VrrpScriptScript(string[] w)
    {
        var s = _vscript!;
        var qe = QuotedEscaped(null);
        if (qe is null) Crash("an unterminated quote in a vrrp_script's script");
        if (qe!.Length < 2) return;
        var args = QuotedEscaped(qe[1]);
        if (args is null) return;
        s.St.Script.Args = args;
        s.St.HasScript = true;
        s.Script = qe[1];
        s.Arguments = args;
    }

    internal void VrrpScriptInterval(string[] w)
    {
        var s = _vscript!;
        if (!ReadUnsigned(Slot(w, 1), out uint i, 0, uint.MaxValue / (uint)TimerHz))
        {
            Error($"({s.Name}): vrrp script interval '{w[1]}' must be between 1 and {uint.MaxValue / (uint)TimerHz} - ignoring");
            return;
        }
        if (i == 0) { Error($"({s.Name}): vrrp script interval must be greater than 0, setting to 1"); i = 1; }
        s.Interval = i;
    }

    internal void VrrpScriptTimeout(string[] w)
    {
        var s = _vscript!;
        if (!ReadUnsigned(Slot(w, 1), out uint t, 0, uint.MaxValue / (uint)TimerHz)) { Error($"({s.Name}): vrrp script timeout '{w[1]}' invalid - ignoring"); return; }
        if (t == 0) { Error($"({s.Name}): vrrp script timeout must be greater than 0, setting to 1"); t = 1; }
        s.Timeout = t;
    }

    internal void VrrpScriptWeight(string[] w)
    {
        var s = _vscript!;
        var (lo, hi) = VrrpFields.IntegerRange(VrrpField.TrackScript)!.Value;
        if (!ReadInt(Slot(w, 1), out int wt, lo, hi))
            Error($"vrrp_script {s.Name} weight {w[1]} must be in [{lo}, {hi}]");
        s.Weight = wt;
        if (w.Length >= 3)
        {
            if (w[2] == "reverse") s.WeightReverse = true;
            else Error($"vrrp_script {s.Name} unknown weight option {w[2]}");
        }
    }

    internal void VrrpScriptRise(string[] w)
    {
        var s = _vscript!;
        if (!ReadUnsigned(Slot(w, 1), out uint r, 1, int.MaxValue)) { Error($"({s.Name}): vrrp script rise value '{w[1]}' invalid, defaulting to 1"); s.Rise = 1; }
        else s.Rise = (int)r;
    }

    internal void VrrpScriptFall(string[] w)
    {
        var s = _vscript!;
        if (!ReadUnsigned(Slot(w, 1), out uint f, 1, int.MaxValue)) { Error($"({s.Name}): vrrp script fall value '{w[1]}' invalid, defaulting to 1"); s.Fall = 1; }
        else s.Fall = (int)f;
    }

    internal void VrrpScriptUser(string[] w)
    {
        var s = _vscript!;
        s.User = Slot(w, 1);
        s.Group = w.Length > 2 ? w[2] : null;
        if (!ScriptUidGid(w, 1, out uint u, out uint g))
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"Unable to set uid/gid for script {s.St.Script.Command}", environment: true);
            s.St.Remove = true;
        }
        else
        {
            s.St.Remove = false;
            s.St.UserSet = true;
            s.St.Script.Uid = u;
            s.St.Script.Gid = g;
        }
    }

    internal void VrrpScriptInitFail(string[] w) => _vscript!.InitFail = true;

    internal void VrrpScriptEnd(KeepalivedParseContext _)
    {
        var s = _vscript!;
        if (!s.St.HasScript || s.St.Script.Args.Length == 0)
        {
            Error($"No script set for vrrp_script {s.Name} - removing", KeepalivedFindingCategory.MissingValue);
            s.St.Remove = true;
        }
        else if (!s.St.Remove && !s.St.UserSet)
        {
            if (!DefaultScriptUserLookup(out uint u, out uint g))
            {
                Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"Unable to set default user for vrrp script {s.Name} - removing", environment: true);
                s.St.Remove = true;
            }
            else { s.St.Script.Uid = u; s.St.Script.Gid = g; }
        }
        if (s.St.Remove) Config.VrrpScripts.Remove(s);
    }

    // ---------------------------------------------------------------- vrrp_track_process

    internal void VrrpTrackProcessBlock(string[]? w)
    {
        if (w is null) return;
        _tprocess = new KeepalivedTrackProcess { Name = Slot(w, 1) };
        SetBlockLocation(_tprocess);
        Config.TrackProcesses.Add(_tprocess);
        OpenedBlock = _tprocess;
    }

    internal void TrackProcessProcess(string[] w)
    {
        var t = _tprocess!;
        if (t.Process is not null) { Error($"Process already set for track process {t.Name} - ignoring {Slot(w, 1)}", KeepalivedFindingCategory.Duplicate); return; }
        t.Process = Slot(w, 1);
        if (w.Length > 2) { t.Parameters = w[2..]; t.ParamMatch ??= "exact"; t.FullCommand = true; }
    }

    internal void TrackProcessParamMatch(string[] w)
    {
        var t = _tprocess!;
        if (w.Length == 1) { t.ParamMatch = "exact"; t.FullCommand = true; }
        else if (w[1] is "initial" or "partial") { t.ParamMatch = w[1]; t.FullCommand = true; }
        else Error($"Invalid param_match type {w[1]} - ignoring");
    }


    internal void TrackProcessWeight(string[] w)
    {
        var t = _tprocess!;
        if (w.Length < 2) { Error($"No weight specified for track process {t.Name} - ignoring", KeepalivedFindingCategory.MissingValue); return; }
        if (t.Weight != 0) { Error($"Weight already set for track process {t.Name} - ignoring {w[1]}", KeepalivedFindingCategory.Duplicate); return; }
        if (!ReadInt(w[1], out int wt, -254, 254))
        {
            Error($"Weight ({w[1]}) for vrrp_track_process {t.Name} must be between [-254..254] inclusive. Ignoring...");
            return;
        }
        if (w.Length >= 3)
        {
            if (w[2] == "reverse") t.WeightReverse = true;
            else Error($"vrrp_track_process {t.Name} unknown weight option {w[2]}");
        }
        t.Weight = wt;
    }

    internal void TrackProcessQuorum(string[] w)
    {
        var t = _tprocess!;
        if (!ReadUnsigned(Slot(w, 1), out uint q, 1, 65535))
        {
            Error($"Quorum ({w[1]}) for vrrp_track_process {t.Name} must be between [1..65535] inclusive. Ignoring...");
            return;
        }
        if (q > (uint)(t.QuorumMax ?? int.MaxValue)) { Error("Quorum is greater than quorum_max - ignoring"); return; }
        t.Quorum = (int)q;
    }

    internal void TrackProcessQuorumMax(string[] w)
    {
        var t = _tprocess!;
        if (!ReadUnsigned(Slot(w, 1), out uint q, 0, 65535))
        {
            Error($"quorum_max ({w[1]}) for vrrp_track_process {t.Name} must be between [0..65535] inclusive. Ignoring...");
            return;
        }
        if ((q != 0 || t.Quorum > 1) && q < t.Quorum) { Error("quorum_max is less than quorum - ignoring"); return; }
        t.QuorumMax = (int)q;
        if (q == 0) t.Quorum = 0;
        else if (t.Quorum == 0) t.Quorum = 1;
    }

    private void TrackProcessDelay(string[] w, string prefix, bool terminate, bool fork)
    {
        var t = _tprocess!;
        if (!ReadDecimal(Slot(w, 1), out ulong d, 1, 3600 * TimerHz, TimerHzDigits))
        {
            Error($"{prefix}delay ({w[1]}) for vrrp_track_process {t.Name} must be between [0.000001..3600] inclusive. Ignoring...");
            return;
        }
        if (terminate) t.TerminateDelay = Seconds(d);
        if (fork) t.ForkDelay = Seconds(d);
        if (terminate && fork) t.Delay = Seconds(d);
    }

    internal void TrackProcessDelay(string[] w) => TrackProcessDelay(w, "", true, true);
    internal void TrackProcessTerminateDelay(string[] w) => TrackProcessDelay(w, "terminate_", true, false);
    internal void TrackProcessForkDelay(string[] w) => TrackProcessDelay(w, "fork_", false, true);
    internal void TrackProcessFullCommand(string[] w) => _tprocess!.FullCommand = true;

    internal void TrackProcessEnd(KeepalivedParseContext _)
    {
        var t = _tprocess!;
        if (t.Process is null)
        {
            Error($"track process '{t.Name}' process name not specified", KeepalivedFindingCategory.MissingValue);
            Config.TrackProcesses.Remove(t);
        }
    }

    // ---------------------------------------------------------------- interface_up_down_delays

    internal void InterfaceUpDownDelays(string[]? w)
    {
        if (w is null) return;
        ValueBlock(w, (v, l) =>
        {
            Config.InterfaceUpDownDelays.Add(TextLine(v, l));
            if (Env.GetInterface(v[0]) is null && !Config.Global.DynamicInterfaces)
            {
                Report(KeepalivedErrorLevel.Fatal, KeepalivedFindingCategory.Environment, $"unknown interface {v[0]} specified for up/down delay", environment: true);
                return;
            }
            if (v.Length < 2) { Note($"No timeouts specified for {v[0]} up/down delays"); return; }
            if (v.Length > 3) Note($"Too many parameters for {v[0]} up/down delays");
            if (!ReadTimer(v[1], out _, 0, 255 * TimerHz)) { Note($"Invalid down delay {v[1]} for {v[0]}"); return; }
            if (v.Length > 2 && !ReadTimer(v[2], out _, 0, 255 * TimerHz)) Note($"Invalid up delay {v[2]} for {v[0]}");
        });
    }
}
