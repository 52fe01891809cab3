using System.Text;

namespace HaPowerShell.Core.Vrrp;

/// <summary>
/// The setting of a VRRP instance a <see cref="VrrpConfigError"/> is about. Core's messages name settings only
/// through these keys ("{Priority}" in <see cref="VrrpConfigError.Template"/>); each front end renders them its
/// way: the cmdlets as parameter names (-Priority), a keepalived.conf reader as keywords
/// (<see cref="VrrpFields.KeepalivedKeyword"/>) with file and line.
/// </summary>
public enum VrrpField
{
    /// <summary>vrrp_instance NAME (the instance's name).</summary>
    Name,
    /// <summary>interface</summary>
    InterfaceName,
    /// <summary>virtual_router_id</summary>
    VirtualRouterId,
    /// <summary>priority</summary>
    Priority,
    /// <summary>version</summary>
    Version,
    /// <summary>advert_int</summary>
    AdvertisementInterval,
    /// <summary>authentication { auth_pass }</summary>
    AuthenticationPassword,
    /// <summary>virtual_ipaddress (one entry: <see cref="VrrpConfigError.Index"/>)</summary>
    VirtualAddress,
    /// <summary>unicast_peer (one entry: <see cref="VrrpConfigError.Index"/>)</summary>
    UnicastPeer,
    /// <summary>unicast_src_ip / mcast_src_ip</summary>
    SourceAddress,
    /// <summary>nopreempt</summary>
    NoPreempt,
    /// <summary>preempt_delay</summary>
    PreemptDelay,
    /// <summary>accept / no_accept</summary>
    AcceptMode,
    /// <summary>garp_master_delay</summary>
    GarpDelay,
    /// <summary>garp_master_repeat</summary>
    GarpRepeat,
    /// <summary>garp_master_refresh</summary>
    GarpRefresh,
    /// <summary>garp_master_refresh_repeat</summary>
    GarpRefreshRepeat,
    /// <summary>garp_interval</summary>
    GarpInterval,
    /// <summary>track_interface (one entry: <see cref="VrrpConfigError.Index"/>)</summary>
    TrackInterface,
    /// <summary>track_script (one entry: <see cref="VrrpConfigError.Index"/>), or the vrrp_script it names</summary>
    TrackScript,
    /// <summary>vrrp_sync_group (the group the instance is in)</summary>
    SyncGroup,
    /// <summary>notify, notify_master, notify_backup, notify_fault, notify_stop</summary>
    NotifyScript,
    /// <summary>vrrp_priority (global_defs): the nice value of the engine thread</summary>
    EnginePriority,
    /// <summary>vrrp_rt_priority (global_defs): the SCHED_RR priority of the engine thread</summary>
    EngineRealtimePriority,
}

/// <summary>Names and limits of the <see cref="VrrpField"/>s that every front end shares.</summary>
public static class VrrpFields
{
    /// <summary>The keepalived.conf keyword of a field ("virtual_router_id"); where keepalived has two, both ("unicast_src_ip/mcast_src_ip").</summary>
    public static string KeepalivedKeyword(VrrpField field) => field switch
    {
        VrrpField.Name => "vrrp_instance",
        VrrpField.InterfaceName => "interface",
        VrrpField.VirtualRouterId => "virtual_router_id",
        VrrpField.Priority => "priority",
        VrrpField.Version => "version",
        VrrpField.AdvertisementInterval => "advert_int",
        VrrpField.AuthenticationPassword => "auth_pass",
        VrrpField.VirtualAddress => "virtual_ipaddress",
        VrrpField.UnicastPeer => "unicast_peer",
        VrrpField.SourceAddress => "unicast_src_ip/mcast_src_ip",
        VrrpField.NoPreempt => "nopreempt",
        VrrpField.PreemptDelay => "preempt_delay",
        VrrpField.AcceptMode => "no_accept",
        VrrpField.GarpDelay => "garp_master_delay",
        VrrpField.GarpRepeat => "garp_master_repeat",
        VrrpField.GarpRefresh => "garp_master_refresh",
        VrrpField.GarpRefreshRepeat => "garp_master_refresh_repeat",
        VrrpField.GarpInterval => "garp_interval",
        VrrpField.TrackInterface => "track_interface",
        VrrpField.TrackScript => "track_script",
        VrrpField.SyncGroup => "vrrp_sync_group",
        VrrpField.NotifyScript => "notify",
        VrrpField.EnginePriority => "vrrp_priority",
        VrrpField.EngineRealtimePriority => "vrrp_rt_priority",
        _ => field.ToString(),
    };

    /// <summary>
    /// The range, in seconds, of a setting given in seconds (keepalived's decimal seconds): advert_int 0.01-255
    /// (the version narrows it: whole seconds for v2, 10 ms steps for v3), preempt_delay 0-1000,
    /// garp_master_delay 0-3600, garp_master_refresh 0-86400 (0: never), garp_interval 0-1. Null for other fields.
    /// </summary>
    public static (double Min, double Max)? SecondsRange(VrrpField field) => field switch
    {
        VrrpField.AdvertisementInterval => (0.01, 255),
        VrrpField.PreemptDelay => (0, 1000),
        VrrpField.GarpDelay => (0, 3600),
        VrrpField.GarpRefresh => (0, 86400),
        VrrpField.GarpInterval => (0, 1),
        _ => null,
    };

    /// <summary>The range of a whole-number setting: VRID 1-255, priority 1-255 (255: the address owner), GARP repeat counts 1-255, tracking weights -253..253, engine nice -20..19 and SCHED_RR 1-99.</summary>
    public static (int Min, int Max)? IntegerRange(VrrpField field) => field switch
    {
        VrrpField.VirtualRouterId => (1, 255),
        VrrpField.Priority => (1, 255),
        VrrpField.GarpRepeat or VrrpField.GarpRefreshRepeat => (1, 255),
        VrrpField.TrackInterface or VrrpField.TrackScript => (-253, 253),
        VrrpField.EnginePriority => (-20, 19),
        VrrpField.EngineRealtimePriority => (1, 99),
        _ => null,
    };
}

/// <summary>
/// One configuration problem: a stable id (ErrorRecord.FullyQualifiedErrorId), the <see cref="Field"/> it is about,
/// the offending <see cref="Value"/> as given, the entry's <see cref="Index"/> for list settings (the third
/// virtual address: 2), and a <see cref="Template"/> that names settings only as "{Field}" tokens, so that each
/// front end renders the message in its own words (<see cref="Render"/>).
/// </summary>
public sealed record VrrpConfigError(string ErrorId, VrrpField Field, string Template, string? Value = null, int? Index = null)
{
    /// <summary>The message with the settings named by their <see cref="VrrpField"/> names ("VirtualRouterId 300 is outside 1-255.").</summary>
    public string Message => Render(f => f.ToString());

    /// <summary>The message with every "{Field}" token replaced by <paramref name="name"/>(field).</summary>
    public string Render(Func<VrrpField, string> name)
    {
        var sb = new StringBuilder(Template.Length + 16);
        int i = 0;
        while (i < Template.Length)
        {
            int open = Template.IndexOf('{', i);
            int close = open < 0 ? -1 : Template.IndexOf('}', open + 1);
            if (open < 0 || close < 0)
            {
                sb.Append(Template, i, Template.Length - i);
                break;
            }
            sb.Append(Template, i, open - i);
            var token = Template.AsSpan(open + 1, close - open - 1);
            if (token.Length > 0 && char.IsLetter(token[0]) && Enum.TryParse<VrrpField>(token, out var f) && Enum.IsDefined(f)) sb.Append(name(f));
            else sb.Append(Template, open, close - open + 1);
            i = close + 1;
        }
        return sb.ToString();
    }

    public override string ToString() => $"{ErrorId}: {Message}";
}
