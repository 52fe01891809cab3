using System.Net;
using HaPowerShell.Core.Vrrp;

namespace HaPowerShell.Core.Keepalived;

public sealed partial class KeepalivedVrrpInstance
{
    /// <summary>
    /// The instance as Core's VRRP engine runs it (what Start-VrrpInstance builds from the same properties, and what a
    /// daemon hands to the VRRP host): the virtual_ipaddress, track_interface and track_script lines through Core's
    /// text-form parsers (<see cref="VrrpTextForms"/>), the tracked scripts resolved against
    /// <paramref name="configuration"/>'s vrrp_scripts with the instance's weights. What cannot be read is added to
    /// <paramref name="errors"/> (with the entry's index for list settings) and left out; the result is not validated
    /// (call <see cref="VrrpInstanceConfig.Validate"/>).
    /// </summary>
    public VrrpInstanceConfig ToVrrpInstanceConfig(KeepalivedConfiguration? configuration, ICollection<VrrpConfigError> errors)
        => ToVrrpInstanceConfig(configuration, errors, out _);

    /// <summary>As above; <paramref name="entries"/> gives, per list field, the line index of each entry of the result (entries that could not be read are left out of the result).</summary>
    internal VrrpInstanceConfig ToVrrpInstanceConfig(KeepalivedConfiguration? configuration, ICollection<VrrpConfigError> errors,
        out Dictionary<VrrpField, List<int>> entries)
    {
        var map = new Dictionary<VrrpField, List<int>>();
        List<T> Each<T>(VrrpField field, int count, Func<int, T?> parse) where T : class
        {
            var list = new List<T>();
            var lines = map[field] = new List<int>();
            for (int i = 0; i < count; i++)
                if (parse(i) is { } x) { list.Add(x); lines.Add(i); }
            return list;
        }
        var vips = Each(VrrpField.VirtualAddress, VirtualIPAddressLines.Count, i => VrrpTextForms.ParseVirtualAddress(VirtualIPAddressLines[i].Text, i, errors));
        var peers = Each(VrrpField.UnicastPeer, UnicastPeerLines.Count, i =>
            VrrpTextForms.ParseAddress(VrrpField.UnicastPeer, UnicastPeerLines[i].Words.Length > 0 ? UnicastPeerLines[i].Words[0] : UnicastPeerLines[i].Text, i, errors));
        var source = SourceAddress is null ? null : VrrpTextForms.ParseAddress(VrrpField.SourceAddress, SourceAddress, null, errors);
        var tracks = Each(VrrpField.TrackInterface, TrackInterfaceLines.Count, i => VrrpTextForms.ParseTrackInterface(TrackInterfaceLines[i].Text, i, errors));
        var defined = new Dictionary<string, VrrpTrackScript>(StringComparer.Ordinal);
        foreach (var s in configuration?.VrrpScripts ?? new List<KeepalivedVrrpScript>())
            defined[s.Name] = s.ToVrrpTrackScript();
        var refs = TrackedScripts.Select(r => new VrrpTrackScriptReference(r.Name, r.Weight)).ToList();
        var scripts = VrrpTextForms.ResolveTrackScripts(refs, defined, errors);
        map[VrrpField.TrackScript] = Enumerable.Range(0, refs.Count).Where(i => defined.ContainsKey(refs[i].Name)).ToList();
        entries = map;
        return new VrrpInstanceConfig
        {
            Name = Name,
            InterfaceName = InterfaceName ?? "",
            VirtualRouterId = VirtualRouterId,
            Priority = Priority,
            Version = Version == 3 ? VrrpVersion.V3 : VrrpVersion.V2,
            AdvertisementInterval = Seconds(AdvertisementInterval),
            AuthenticationPassword = AuthenticationType == "PASS" && !string.IsNullOrEmpty(AuthenticationPassword) ? AuthenticationPassword : null,
            VirtualAddresses = vips,
            UnicastPeers = peers,
            SourceAddress = source,
            NoPreempt = NoPreempt,
            PreemptDelay = Seconds(PreemptDelay),
            AcceptMode = !NoAccept,
            Garp = new VrrpGarpSettings
            {
                Delay = Seconds(GarpMasterDelay),
                Repeat = GarpMasterRepeat,
                Refresh = Seconds(GarpMasterRefresh),
                RefreshRepeat = GarpMasterRefreshRepeat,
                Interval = Seconds(GarpInterval),
            },
            TrackInterfaces = tracks,
            TrackScripts = scripts,
            SyncGroup = SyncGroup,
            NotifyScript = NotifyScript,
            NotifyMaster = NotifyMaster,
            NotifyBackup = NotifyBackup,
            NotifyFault = NotifyFault,
            NotifyStop = NotifyStop,
        };
    }

    private static TimeSpan Seconds(double s)
        => double.IsNaN(s) || s < 0 ? TimeSpan.Zero : s > 1e9 ? TimeSpan.FromSeconds(1e9) : TimeSpan.FromMilliseconds(Math.Round(s * 1000));

    /// <summary>Where the setting a <see cref="VrrpConfigError"/> is about was written: the entry's line for list settings, else the keyword's, else the block's.</summary>
    public (string? File, int Line) LocationOf(VrrpConfigError error)
    {
        KeepalivedTextLine? Entry(List<KeepalivedTextLine> lines) => error.Index is int i && i >= 0 && i < lines.Count ? lines[i] : null;
        switch (error.Field)
        {
            case VrrpField.VirtualAddress when Entry(VirtualIPAddressLines) is { } l: return (l.File, l.Line);
            case VrrpField.UnicastPeer when Entry(UnicastPeerLines) is { } l: return (l.File, l.Line);
            case VrrpField.TrackInterface when Entry(TrackInterfaceLines) is { } l: return (l.File, l.Line);
            case VrrpField.TrackScript when error.Index is int i && i >= 0 && i < TrackedScripts.Count: return (TrackedScripts[i].File, TrackedScripts[i].Line);
        }
        string keyword = VrrpFields.KeepalivedKeyword(error.Field);
        foreach (var k in keyword.Split('/'))
            if (Setting(k) is { } s) return (s.File, s.Line);
        if (error.Field == VrrpField.AcceptMode && (Setting("accept") ?? Setting("no_accept")) is { } a) return (a.File, a.Line);
        return (File, Line);
    }
}

public sealed partial class KeepalivedVrrpScript
{
    /// <summary>The script as Core's VRRP engine tracks it (interval, timeout, weight, rise, fall, init_fail).</summary>
    public VrrpTrackScript ToVrrpTrackScript() => new(Name, Script ?? "")
    {
        Interval = TimeSpan.FromSeconds(Math.Max(0, Interval)),
        Timeout = TimeSpan.FromSeconds(Timeout > 0 ? Timeout : Math.Max(0, Interval)),
        Weight = Weight,
        Rise = Rise,
        Fall = Fall,
        InitiallyFailed = InitFail,
    };
}
