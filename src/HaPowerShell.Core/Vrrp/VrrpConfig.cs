using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HaPowerShell.Core.Vrrp;

/// <summary>A virtual address with its prefix and optional IPv4 label (keepalived: <c>192.0.2.10/24 label eth0:1</c>).</summary>
public sealed record VrrpVirtualAddress(IPAddress Address, int PrefixLength, string? Label = null)
{
    public VrrpVirtualAddress(IPAddress address) : this(address, address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32) { }

    /// <summary>Parses <c>address</c> or <c>address/prefix</c>; the prefix defaults to the host prefix (/32, /128).</summary>
    public static VrrpVirtualAddress Parse(string text, string? label = null)
    {
        if (!TryParse(text, out var v, label)) throw new FormatException($"'{text}' is not an IP address or address/prefix.");
        return v!;
    }

    public static bool TryParse(string? text, out VrrpVirtualAddress? value, string? label = null)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var parts = text.Trim().Split('/');
        if (parts.Length > 2) return false;
        IPAddress ip; // the module's strict parser: '1' is not 0.0.0.1
        try { ip = Arp.ArpValidation.ParseAddress(parts[0], parameterName: "", allowPrefix: false).Address; }
        catch (Arp.ArpArgumentException) { return false; }
        int max = ip.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        int prefix = max;
        if (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > max)) return false;
        value = new VrrpVirtualAddress(ip, prefix, label);
        return true;
    }

    public override string ToString() => $"{Address}/{PrefixLength}{(Label is null ? "" : " label " + Label)}";
}

/// <summary>A tracked interface. Weight 0: the instance goes to Fault while it is down. Otherwise keepalived's rule:
/// a positive weight is added while it is up, a negative one while it is down.</summary>
public sealed record VrrpTrackInterface(string InterfaceName, int Weight = 0);

/// <summary>
/// A tracked script (keepalived's <c>vrrp_script</c>): run every <see cref="Interval"/>, killed after
/// <see cref="Timeout"/> (a failure); <see cref="Fall"/> consecutive failures mark it failed, <see cref="Rise"/>
/// consecutive successes mark it good again. Weight as for <see cref="VrrpTrackInterface"/>.
/// </summary>
public sealed record VrrpTrackScript(string Name, string Command)
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);
    public int Weight { get; init; }
    public int Rise { get; init; } = 1;
    public int Fall { get; init; } = 1;

    /// <summary>Start in the failed state (keepalived's <c>init_fail</c>).</summary>
    public bool InitiallyFailed { get; init; }
}

/// <summary>
/// Gratuitous ARP / unsolicited NA on becoming Master (keepalived's defaults): a burst of <see cref="Repeat"/>
/// at once, another burst of <see cref="Repeat"/> after <see cref="Delay"/> (zero: none), then every
/// <see cref="Refresh"/> (zero: never) a burst of <see cref="RefreshRepeat"/>. <see cref="Interval"/> paces
/// frames inside a burst (the driver applies it).
/// </summary>
public sealed record VrrpGarpSettings
{
    public TimeSpan Delay { get; init; } = TimeSpan.FromSeconds(5);
    public int Repeat { get; init; } = 5;
    public TimeSpan Refresh { get; init; } = TimeSpan.Zero;
    public int RefreshRepeat { get; init; } = 1;
    public TimeSpan Interval { get; init; } = TimeSpan.Zero;
}

/// <summary>A network interface as the engine needs to know it (filled in by the Native layer).</summary>
public sealed record VrrpInterfaceInfo(string Name, int Index, bool IsUp, IPAddress? PrimaryIPv4 = null, IPAddress? LinkLocalIPv6 = null);

/// <summary>Finds interfaces by name, for validation and for the instance's primary address.</summary>
public interface IVrrpInterfaceLookup
{
    VrrpInterfaceInfo? Find(string name);
    IReadOnlyList<string> Names { get; }
}

/// <summary>One configuration problem, with the stable id users see (ErrorRecord.FullyQualifiedErrorId).</summary>
public sealed record VrrpConfigError(string ErrorId, string Message, string Parameter);

/// <summary>The configuration was rejected before anything started. <see cref="ErrorId"/> is the first problem's id.</summary>
public sealed class VrrpConfigurationException : ArgumentException
{
    public VrrpConfigurationException(IReadOnlyList<VrrpConfigError> errors)
        : base(string.Join(" ", errors.Select(e => e.Message)), errors.Count > 0 ? errors[0].Parameter : null)
    {
        Errors = errors;
    }

    public IReadOnlyList<VrrpConfigError> Errors { get; }
    public string ErrorId => Errors.Count > 0 ? Errors[0].ErrorId : "VrrpConfigurationInvalid";
    public override string Message => string.Join(" ", Errors.Select(e => e.Message));
}

/// <summary>
/// One VRRP instance as configured, in keepalived's vocabulary (PowerShell parameter names in comments).
/// <see cref="Validate"/> lists every problem; <see cref="VrrpEngine.Add"/> refuses an invalid one.
/// </summary>
public sealed record VrrpInstanceConfig
{
    /// <summary>Instance name (keepalived <c>vrrp_instance NAME</c>); defaults to <c>VI_&lt;interface&gt;_&lt;vrid&gt;</c>.</summary>
    public string? Name { get; init; }

    /// <summary>-InterfaceName</summary>
    public string InterfaceName { get; init; } = "";

    /// <summary>-VirtualRouterId, 1-255.</summary>
    public int VirtualRouterId { get; init; }

    /// <summary>-Priority, 1-255 (255 = address owner).</summary>
    public int Priority { get; init; } = 100;

    /// <summary>-Version (keepalived's default is 2).</summary>
    public VrrpVersion Version { get; init; } = VrrpVersion.V2;

    /// <summary>-AdvertisementInterval: v2 whole seconds 1-255; v3 multiples of 10 ms from 10 ms to 40.95 s.</summary>
    public TimeSpan AdvertisementInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>-AuthenticationPassword: v2 PASS, at most 8 ASCII characters.</summary>
    public string? AuthenticationPassword { get; init; }

    /// <summary>-VirtualIPAddress</summary>
    public IReadOnlyList<VrrpVirtualAddress> VirtualAddresses { get; init; } = Array.Empty<VrrpVirtualAddress>();

    /// <summary>-UnicastPeer: when set, adverts go to each peer instead of the multicast group.</summary>
    public IReadOnlyList<IPAddress> UnicastPeers { get; init; } = Array.Empty<IPAddress>();

    /// <summary>Source address (keepalived <c>unicast_src_ip</c> / <c>mcast_src_ip</c>); default: the interface's primary IPv4 or link-local IPv6 address.</summary>
    public IPAddress? SourceAddress { get; init; }

    /// <summary>-NoPreempt</summary>
    public bool NoPreempt { get; init; }

    /// <summary>-PreemptDelay (0-1000 s), keepalived's semantics: lower-priority adverts are still accepted for this long after the first one.</summary>
    public TimeSpan PreemptDelay { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Accept mode (RFC 5798 §6.1): a non-owner Master accepts packets addressed to the VIPs. On by default, as in
    /// keepalived (whose default is accept unless vrrp_strict); -NoAccept (keepalived no_accept) turns it off, and
    /// the host then drops such packets with nf_tables while it is a non-owner Master.
    /// </summary>
    public bool AcceptMode { get; init; } = true;

    public VrrpGarpSettings Garp { get; init; } = new();

    /// <summary>-TrackInterface</summary>
    public IReadOnlyList<VrrpTrackInterface> TrackInterfaces { get; init; } = Array.Empty<VrrpTrackInterface>();

    /// <summary>-TrackScript</summary>
    public IReadOnlyList<VrrpTrackScript> TrackScripts { get; init; } = Array.Empty<VrrpTrackScript>();

    /// <summary>Sync group name: instances with the same name move between states together.</summary>
    public string? SyncGroup { get; init; }

    /// <summary>VRRPv3 over IPv4: checksum form (default as RFC 5798 and keepalived).</summary>
    public VrrpChecksumMode ChecksumMode { get; init; } = VrrpChecksumMode.PseudoHeader;

    /// <summary>Unicast: drop adverts whose source is not a configured peer.</summary>
    public bool CheckUnicastSource { get; init; } = true;

    /// <summary>Generic notify script, run with <c>INSTANCE name STATE priority</c> (keepalived <c>notify</c>).</summary>
    public string? NotifyScript { get; init; }
    public string? NotifyMaster { get; init; }
    public string? NotifyBackup { get; init; }
    public string? NotifyFault { get; init; }
    public string? NotifyStop { get; init; }

    // ---- derived ---------------------------------------------------------------------------

    /// <summary>The family of the VIPs (IPv4 when there are none).</summary>
    public AddressFamily AddressFamily
        => VirtualAddresses.Count > 0 ? VirtualAddresses[0].Address.AddressFamily : AddressFamily.InterNetwork;

    public string EffectiveName => string.IsNullOrEmpty(Name) ? $"VI_{InterfaceName}_{VirtualRouterId}" : Name!;

    public bool IsUnicast => UnicastPeers.Count > 0;

    /// <summary>The interval in the version's unit (seconds or centiseconds); valid only after validation.</summary>
    public int AdvertisementIntervalUnits
        => Version == VrrpVersion.V2 ? (int)(AdvertisementInterval.Ticks / TimeSpan.TicksPerSecond) : (int)(AdvertisementInterval.Ticks / (TimeSpan.TicksPerMillisecond * 10));

    public long AdvertisementIntervalMicroseconds => VrrpTiming.UnitsToMicroseconds(Version, AdvertisementIntervalUnits);

    // ---- validation ------------------------------------------------------------------------

    /// <summary>Every problem with this configuration (empty when valid). With <paramref name="interfaces"/>, interface names are checked too.</summary>
    public IReadOnlyList<VrrpConfigError> Validate(IVrrpInterfaceLookup? interfaces = null)
    {
        var errors = new List<VrrpConfigError>();
        void Add(string id, string parameter, string message) => errors.Add(new VrrpConfigError(id, message, parameter));

        if (string.IsNullOrWhiteSpace(InterfaceName))
            Add("VrrpInterfaceRequired", "InterfaceName", "An interface is required (-InterfaceName).");
        else if (interfaces is not null && interfaces.Find(InterfaceName) is null)
            Add("VrrpInterfaceNotFound", "InterfaceName", UnknownInterface(InterfaceName, interfaces));

        if (VirtualRouterId is < 1 or > 255)
            Add("VrrpVirtualRouterIdOutOfRange", "VirtualRouterId", $"VirtualRouterId {VirtualRouterId} is outside 1-255.");
        if (Priority is < 1 or > 255)
            Add("VrrpPriorityOutOfRange", "Priority", $"Priority {Priority} is outside 1-255 (255 means this router owns the addresses; 0 is reserved for the stop advert).");
        if (Version is not (VrrpVersion.V2 or VrrpVersion.V3))
            Add("VrrpVersionInvalid", "Version", $"Version {(int)Version} is not 2 or 3.");

        var iv = AdvertisementInterval;
        if (Version == VrrpVersion.V2)
        {
            if (iv.Ticks % TimeSpan.TicksPerSecond != 0 || iv < TimeSpan.FromSeconds(1) || iv > TimeSpan.FromSeconds(255))
                Add("VrrpAdvertisementIntervalInvalid", "AdvertisementInterval",
                    $"AdvertisementInterval {iv.TotalSeconds:0.###} s is not valid for VRRPv2: use whole seconds from 1 to 255, or -Version 3 for sub-second intervals.");
        }
        else if (iv.Ticks % (TimeSpan.TicksPerMillisecond * 10) != 0 || iv < TimeSpan.FromMilliseconds(10) || iv > TimeSpan.FromMilliseconds(40950))
            Add("VrrpAdvertisementIntervalInvalid", "AdvertisementInterval",
                $"AdvertisementInterval {iv.TotalMilliseconds:0.###} ms is not valid for VRRPv3: use multiples of 10 ms from 10 ms to 40.95 s.");

        if (AuthenticationPassword is not null)
        {
            if (Version != VrrpVersion.V2)
                Add("VrrpAuthenticationWithVersion3", "AuthenticationPassword", "VRRPv3 has no authentication (RFC 5798 §9); remove -AuthenticationPassword or use -Version 2.");
            else if (AuthenticationPassword.Length is 0 or > 8 || AuthenticationPassword.Any(c => c is < (char)0x21 or > (char)0x7e))
                Add("VrrpAuthenticationPasswordInvalid", "AuthenticationPassword", "The VRRPv2 password must be 1-8 printable ASCII characters without spaces (only 8 bytes travel in the advert).");
        }

        var family = AddressFamily;
        if (VirtualAddresses.Count == 0)
            Add("VrrpVirtualAddressRequired", "VirtualIPAddress", "At least one virtual address is required (-VirtualIPAddress).");
        else if (VirtualAddresses.Count > 255)
            Add("VrrpTooManyVirtualAddresses", "VirtualIPAddress", $"{VirtualAddresses.Count} virtual addresses do not fit in one advertisement (at most 255).");
        var seen = new HashSet<IPAddress>();
        foreach (var v in VirtualAddresses)
        {
            if (v is null || v.Address is null) { Add("VrrpVirtualAddressInvalid", "VirtualIPAddress", "A virtual address is empty."); continue; }
            if (v.Address.AddressFamily != family)
                Add("VrrpVirtualAddressFamilyMixed", "VirtualIPAddress", $"Virtual address {v.Address} is not {FamilyName(family)} like the first one; use one instance per address family.");
            int max = v.Address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
            if (v.PrefixLength < 1 || v.PrefixLength > max)
                Add("VrrpVirtualAddressPrefixInvalid", "VirtualIPAddress", $"Prefix /{v.PrefixLength} of {v.Address} is outside 1-{max}.");
            if (IsUnusable(v.Address))
                Add("VrrpVirtualAddressInvalid", "VirtualIPAddress", $"{v.Address} cannot be a virtual address (unspecified, multicast, broadcast or loopback).");
            if (!seen.Add(v.Address))
                Add("VrrpVirtualAddressDuplicate", "VirtualIPAddress", $"Virtual address {v.Address} is listed twice.");
            if (v.Label is not null)
            {
                if (v.Address.AddressFamily != AddressFamily.InterNetwork)
                    Add("VrrpVirtualAddressLabelInvalid", "VirtualIPAddress", $"Address labels exist for IPv4 only ({v.Address}).");
                else if (v.Label.Length is 0 or > 15)
                    Add("VrrpVirtualAddressLabelInvalid", "VirtualIPAddress", $"Label '{v.Label}' must be 1-15 characters (IFNAMSIZ), such as '{InterfaceName}:1'.");
            }
        }
        if (Version == VrrpVersion.V2 && family == AddressFamily.InterNetworkV6)
            Add("VrrpIPv6RequiresVersion3", "Version", "IPv6 virtual addresses need VRRPv3 (-Version 3).");

        var peers = new HashSet<IPAddress>();
        foreach (var p in UnicastPeers)
        {
            if (p.AddressFamily != family)
                Add("VrrpUnicastPeerFamilyMismatch", "UnicastPeer", $"Unicast peer {p} is not {FamilyName(family)} like the virtual addresses.");
            else if (IsUnusable(p))
                Add("VrrpUnicastPeerInvalid", "UnicastPeer", $"{p} cannot be a unicast peer.");
            if (!peers.Add(p))
                Add("VrrpUnicastPeerDuplicate", "UnicastPeer", $"Unicast peer {p} is listed twice.");
        }
        if (SourceAddress is not null && SourceAddress.AddressFamily != family)
            Add("VrrpSourceAddressFamilyMismatch", "SourceAddress", $"Source address {SourceAddress} is not {FamilyName(family)}.");

        if (PreemptDelay < TimeSpan.Zero || PreemptDelay > TimeSpan.FromSeconds(1000))
            Add("VrrpPreemptDelayOutOfRange", "PreemptDelay", "PreemptDelay must be between 0 and 1000 seconds.");
        if (NoPreempt && PreemptDelay > TimeSpan.Zero)
            Add("VrrpPreemptDelayWithNoPreempt", "PreemptDelay", "-PreemptDelay has no meaning with -NoPreempt; use one or the other.");
        if (NoPreempt && Priority == 255)
            Add("VrrpNoPreemptWithOwner", "NoPreempt", "The address owner (priority 255) always preempts (RFC 5798 §6.1); lower -Priority to use -NoPreempt.");

        var g = Garp ?? new VrrpGarpSettings();
        if (g.Repeat is < 1 or > 255 || g.RefreshRepeat is < 1 or > 255)
            Add("VrrpGarpSettingInvalid", "Garp", "Gratuitous ARP repeat counts must be 1-255.");
        if (g.Delay < TimeSpan.Zero || g.Refresh < TimeSpan.Zero || g.Interval < TimeSpan.Zero)
            Add("VrrpGarpSettingInvalid", "Garp", "Gratuitous ARP delays and intervals cannot be negative.");

        var tracked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in TrackInterfaces)
        {
            if (string.IsNullOrWhiteSpace(t.InterfaceName))
            { Add("VrrpTrackInterfaceInvalid", "TrackInterface", "A tracked interface has no name."); continue; }
            if (!tracked.Add(t.InterfaceName))
                Add("VrrpTrackDuplicate", "TrackInterface", $"Interface '{t.InterfaceName}' is tracked twice.");
            if (t.Weight is < -253 or > 253)
                Add("VrrpTrackWeightOutOfRange", "TrackInterface", $"Weight {t.Weight} of tracked interface '{t.InterfaceName}' is outside -253..253.");
            if (interfaces is not null && interfaces.Find(t.InterfaceName) is null)
                Add("VrrpInterfaceNotFound", "TrackInterface", UnknownInterface(t.InterfaceName, interfaces));
        }
        var scripts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in TrackScripts)
        {
            if (string.IsNullOrWhiteSpace(s.Name) || string.IsNullOrWhiteSpace(s.Command))
            { Add("VrrpTrackScriptInvalid", "TrackScript", "A tracked script needs a name and a command."); continue; }
            if (!scripts.Add(s.Name))
                Add("VrrpTrackDuplicate", "TrackScript", $"Script '{s.Name}' is tracked twice.");
            if (s.Weight is < -253 or > 253)
                Add("VrrpTrackWeightOutOfRange", "TrackScript", $"Weight {s.Weight} of script '{s.Name}' is outside -253..253.");
            if (s.Interval <= TimeSpan.Zero || s.Timeout <= TimeSpan.Zero)
                Add("VrrpTrackScriptInvalid", "TrackScript", $"Script '{s.Name}' needs a positive interval and timeout.");
            if (s.Rise < 1 || s.Fall < 1)
                Add("VrrpTrackScriptInvalid", "TrackScript", $"Script '{s.Name}' needs rise and fall of at least 1.");
        }
        if (SyncGroup is not null && string.IsNullOrWhiteSpace(SyncGroup))
            Add("VrrpSyncGroupInvalid", "SyncGroup", "The sync group name is empty.");
        return errors;
    }

    /// <summary>Throws <see cref="VrrpConfigurationException"/> when <see cref="Validate"/> finds anything.</summary>
    public void ThrowIfInvalid(IVrrpInterfaceLookup? interfaces = null)
    {
        var errors = Validate(interfaces);
        if (errors.Count > 0) throw new VrrpConfigurationException(errors);
    }

    private static string FamilyName(AddressFamily f) => f == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    private static bool IsUnusable(IPAddress a)
    {
        if (a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any) || a.Equals(IPAddress.Broadcast) || IPAddress.IsLoopback(a)) return true;
        if (a.AddressFamily == AddressFamily.InterNetwork) return (a.GetAddressBytes()[0] & 0xf0) == 0xe0;
        return a.IsIPv6Multicast;
    }

    private static string UnknownInterface(string name, IVrrpInterfaceLookup interfaces)
    {
        var names = interfaces.Names;
        return $"There is no network interface named '{name}' in this network namespace. " +
               (names.Count == 0 ? "No interfaces exist here." : $"Interfaces here: {string.Join(", ", names)}.");
    }
}
