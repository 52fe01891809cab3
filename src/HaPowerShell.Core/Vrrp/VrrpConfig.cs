using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Native;

namespace HaPowerShell.Core.Vrrp;

/// <summary>The JSON face of a <see cref="VrrpVirtualAddress"/>: the addresses as text.</summary>
public abstract record VrrpVirtualAddressJson
{
    private protected IPAddress address = IPAddress.None;
    private protected IPAddress? broadcast;

    public string Address { get => address.ToString(); init => address = JsonShape.AddressOrNone(value); }
    public int PrefixLength { get; init; }

    /// <summary>label (IPv4): the address's label ("eth0:1"); null = none.</summary>
    public string? Label { get; init; }

    /// <summary>dev: the interface the address goes on; null = the instance's interface.</summary>
    public string? Device { get; init; }

    /// <summary>brd (IPv4): the broadcast address; null = the subnet's (none for /31 and /32).</summary>
    public string? Broadcast { get => broadcast?.ToString(); init => broadcast = JsonShape.Address(value); }
}

/// <summary>
/// A virtual address with its prefix and what keepalived's <c>virtual_ipaddress</c> line can add to it
/// (<c>192.0.2.10/24 brd 192.0.2.255 dev eth1 scope link label eth1:1 noprefixroute</c>; parsed by
/// <see cref="VrrpTextForms.ParseVirtualAddress"/>). Every virtual address travels in the adverts; it is put on
/// <see cref="Device"/>, or on the instance's interface when that is null.
/// </summary>
public sealed record VrrpVirtualAddress : VrrpVirtualAddressJson
{
    public VrrpVirtualAddress(IPAddress address, int prefixLength, string? label = null)
    {
        this.address = address;
        PrefixLength = prefixLength;
        Label = label;
    }

    public VrrpVirtualAddress(IPAddress address) : this(address, address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32) { }

    internal new IPAddress Address { get => address; init => address = value; }
    internal new IPAddress? Broadcast { get => broadcast; init => broadcast = value; }

    /// <summary>scope (IPv4): 0 global (the default), 200 site, 253 link, 254 host, 255 nowhere, or another number.</summary>
    public byte Scope { get; init; }

    /// <summary>noprefixroute: the kernel adds no route for the prefix.</summary>
    public bool NoPrefixRoute { get; init; }

    /// <summary>home (IPv6): a Mobile IPv6 home address (IFA_F_HOMEADDRESS).</summary>
    public bool HomeAddress { get; init; }

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

    /// <summary>The keepalived form: <c>192.0.2.10/24 brd 192.0.2.255 dev eth1 scope link label eth1:1 noprefixroute</c> (only what is set).</summary>
    public override string ToString()
    {
        var sb = new System.Text.StringBuilder().Append(address).Append('/').Append(PrefixLength);
        if (broadcast is not null) sb.Append(" brd ").Append(broadcast);
        if (Device is not null) sb.Append(" dev ").Append(Device);
        if (Scope != 0) sb.Append(" scope ").Append(VrrpTextForms.ScopeName(Scope));
        if (Label is not null) sb.Append(" label ").Append(Label);
        if (HomeAddress) sb.Append(" home");
        if (NoPrefixRoute) sb.Append(" noprefixroute");
        return sb.ToString();
    }
}

/// <summary>A tracked interface. Weight 0: the instance goes to Fault while it is down. Otherwise keepalived's rule:
/// a positive weight is added while it is up, a negative one while it is down.</summary>
public sealed record VrrpTrackInterface(string InterfaceName, int Weight = 0);

/// <summary>
/// A tracked script (keepalived's <c>vrrp_script</c>): run every <see cref="Interval"/>, killed after
/// <see cref="Timeout"/> (a failure); <see cref="Fall"/> consecutive failures mark it failed, <see cref="Rise"/>
/// consecutive successes mark it good again. Weight as for <see cref="VrrpTrackInterface"/>.
/// </summary>
public sealed record VrrpTrackScript(string Name, string Command) : VrrpTrackScriptJson
{
    internal new TimeSpan Interval { get => interval; init => interval = value; }
    internal new TimeSpan Timeout { get => timeout; init => timeout = value; }

    public int Weight { get; init; }
    public int Rise { get; init; } = 1;
    public int Fall { get; init; } = 1;

    /// <summary>Start in the failed state (keepalived's <c>init_fail</c>).</summary>
    public bool InitiallyFailed { get; init; }
}

/// <summary>The JSON face of a <see cref="VrrpTrackScript"/>: interval and timeout in seconds.</summary>
public abstract record VrrpTrackScriptJson
{
    private protected TimeSpan interval = TimeSpan.FromSeconds(1), timeout = TimeSpan.FromSeconds(1);

    /// <summary>Seconds between runs.</summary>
    public double Interval { get => JsonShape.Seconds(interval); init => interval = JsonShape.Duration(value); }

    /// <summary>Seconds a run may take.</summary>
    public double Timeout { get => JsonShape.Seconds(timeout); init => timeout = JsonShape.Duration(value); }
}

/// <summary>The JSON face of <see cref="VrrpGarpSettings"/>: the times in seconds.</summary>
public abstract record VrrpGarpSettingsJson
{
    private protected TimeSpan delay = TimeSpan.FromSeconds(5), refresh = TimeSpan.Zero, interval = TimeSpan.Zero;

    /// <summary>Seconds before the second burst (0: none).</summary>
    public double Delay { get => JsonShape.Seconds(delay); init => delay = JsonShape.Duration(value); }
    public int Repeat { get; init; } = 5;

    /// <summary>Seconds between refresh bursts (0: never).</summary>
    public double Refresh { get => JsonShape.Seconds(refresh); init => refresh = JsonShape.Duration(value); }
    public int RefreshRepeat { get; init; } = 1;

    /// <summary>Seconds between frames inside a burst.</summary>
    public double Interval { get => JsonShape.Seconds(interval); init => interval = JsonShape.Duration(value); }
}

/// <summary>The JSON face of a <see cref="VrrpInstanceConfig"/>: version and checksum mode by name, intervals in seconds, addresses as text.</summary>
public abstract record VrrpInstanceConfigJson
{
    private protected VrrpVersion version = VrrpVersion.V2;
    private protected TimeSpan advertisementInterval = TimeSpan.FromSeconds(1), preemptDelay = TimeSpan.Zero;
    private protected IReadOnlyList<IPAddress> unicastPeers = Array.Empty<IPAddress>();
    private protected IPAddress? sourceAddress;
    private protected VrrpChecksumMode checksumMode = VrrpChecksumMode.PseudoHeader;

    /// <summary>-Version: V2 or V3.</summary>
    public string Version { get => version.ToString(); init => version = JsonShape.Enum<VrrpVersion>(value); }

    /// <summary>-AdvertisementInterval in seconds.</summary>
    public double AdvertisementInterval { get => JsonShape.Seconds(advertisementInterval); init => advertisementInterval = JsonShape.Duration(value); }

    public string[] UnicastPeers { get => JsonShape.Texts(unicastPeers); init => unicastPeers = value.Select(JsonShape.AddressOrNone).ToArray(); }
    public string? SourceAddress { get => sourceAddress?.ToString(); init => sourceAddress = JsonShape.Address(value); }

    /// <summary>-PreemptDelay in seconds.</summary>
    public double PreemptDelay { get => JsonShape.Seconds(preemptDelay); init => preemptDelay = JsonShape.Duration(value); }

    /// <summary>The VRRPv3 IPv4 checksum's coverage, by name.</summary>
    public string ChecksumMode { get => checksumMode.ToString(); init => checksumMode = JsonShape.Enum<VrrpChecksumMode>(value); }

    /// <summary>InterNetwork or InterNetworkV6: the virtual addresses' family.</summary>
    public string AddressFamily => FamilyOfAddresses().ToString();

    private protected abstract System.Net.Sockets.AddressFamily FamilyOfAddresses();
}

/// <summary>
/// Gratuitous ARP / unsolicited NA on becoming Master (keepalived's defaults): a burst of <see cref="Repeat"/>
/// at once, another burst of <see cref="Repeat"/> after <see cref="Delay"/> (zero: none), then every
/// <see cref="Refresh"/> (zero: never) a burst of <see cref="RefreshRepeat"/>. <see cref="Interval"/> paces
/// frames inside a burst (the driver applies it).
/// </summary>
public sealed record VrrpGarpSettings : VrrpGarpSettingsJson
{
    internal new TimeSpan Delay { get => delay; init => delay = value; }
    internal new TimeSpan Refresh { get => refresh; init => refresh = value; }
    internal new TimeSpan Interval { get => interval; init => interval = value; }
}

/// <summary>A network interface as the engine needs to know it (filled in by the Native layer).</summary>
public sealed record VrrpInterfaceInfo(string Name, int Index, bool IsUp, IPAddress? PrimaryIPv4 = null, IPAddress? LinkLocalIPv6 = null);

/// <summary>Finds interfaces by name, for validation and for the instance's primary address.</summary>
public interface IVrrpInterfaceLookup
{
    VrrpInterfaceInfo? Find(string name);
    IReadOnlyList<string> Names { get; }
}

/// <summary>
/// The configuration was rejected before anything started. <see cref="HaException.ErrorId"/> is the first problem's
/// id; <see cref="Problems"/> has one exception per problem, each with its own id and category. The message names
/// settings through a front end's <see cref="Naming"/> (parameter names in the cmdlets, keepalived keywords in the
/// config parser); by default by their <see cref="VrrpField"/> names.
/// </summary>
public sealed class VrrpConfigurationException : HaException
{
    /// <param name="errors">The problems, in order.</param>
    /// <param name="naming">How messages name a setting ("-VirtualRouterId", "virtual_router_id"); null: its <see cref="VrrpField"/> name.</param>
    /// <param name="parameterNaming">How <see cref="ParamName"/> names it ("VirtualRouterId"); null: as <paramref name="naming"/> does.</param>
    public VrrpConfigurationException(IReadOnlyList<VrrpConfigError> errors, Func<VrrpField, string>? naming = null, Func<VrrpField, string>? parameterNaming = null)
        : base(errors.Count > 0 ? errors[0].ErrorId : "VrrpConfigurationInvalid",
            CategoryOf(errors.Count > 0 ? errors[0].ErrorId : ""),
            string.Join(" ", errors.Select(e => naming is null ? e.Message : e.Render(naming))))
    {
        Errors = errors;
        Naming = naming;
        ParameterNaming = parameterNaming;
        ParamName = errors.Count > 0 ? (parameterNaming ?? naming ?? (f => f.ToString()))(errors[0].Field).TrimStart('-') : null; // the bare name, as ArgumentException.ParamName
    }

    public IReadOnlyList<VrrpConfigError> Errors { get; }

    /// <summary>How the message names a setting; null: by its <see cref="VrrpField"/> name.</summary>
    public Func<VrrpField, string>? Naming { get; }

    /// <summary>The first problem's setting, as <see cref="Naming"/> names it, without a leading '-'.</summary>
    public string? ParamName { get; }

    /// <summary>How <see cref="ParamName"/> names a setting; null: as <see cref="Naming"/> does.</summary>
    public Func<VrrpField, string>? ParameterNaming { get; }

    /// <summary>The same problems with their settings named by <paramref name="naming"/> in messages and <paramref name="parameterNaming"/> in <see cref="ParamName"/>.</summary>
    public VrrpConfigurationException NamedBy(Func<VrrpField, string> naming, Func<VrrpField, string>? parameterNaming = null) => new(Errors, naming, parameterNaming);

    public override IReadOnlyList<HaException> Problems
        => Errors.Count <= 1 ? new HaException[] { this } : Errors.Select(e => (HaException)new VrrpConfigurationException(new[] { e }, Naming, ParameterNaming)).ToList();

    /// <summary>The category of a problem id: a missing interface, an instance that exists, no source address, scheduling refused, a keepalived option this module does not act on; all others are invalid arguments.</summary>
    public static HaErrorCategory CategoryOf(string errorId) => errorId switch
    {
        "InterfaceNotFound" => HaErrorCategory.ObjectNotFound,
        "VrrpInstanceDuplicate" or "VrrpInstanceNameDuplicate" => HaErrorCategory.ResourceExists,
        "VrrpSourceAddressMissing" => HaErrorCategory.InvalidOperation,
        "VrrpEngineSchedulingDenied" => HaErrorCategory.PermissionDenied,
        "VrrpVirtualAddressOptionNotSupported" or "VrrpTrackReverseNotSupported" => HaErrorCategory.NotImplemented,
        _ => HaErrorCategory.InvalidArgument,
    };
}

/// <summary>
/// One VRRP instance as configured, in keepalived's vocabulary (PowerShell parameter names in comments).
/// <see cref="Validate"/> lists every problem; <see cref="VrrpEngine.Add"/> refuses an invalid one.
/// </summary>
public sealed record VrrpInstanceConfig : VrrpInstanceConfigJson
{
    /// <summary>-Version (keepalived's default is 2).</summary>
    internal new VrrpVersion Version { get => version; init => version = value; }

    /// <summary>-AdvertisementInterval: v2 whole seconds 1-255; v3 multiples of 10 ms from 10 ms to 40.95 s.</summary>
    internal new TimeSpan AdvertisementInterval { get => advertisementInterval; init => advertisementInterval = value; }

    internal new IReadOnlyList<IPAddress> UnicastPeers { get => unicastPeers; init => unicastPeers = value; }
    internal new IPAddress? SourceAddress { get => sourceAddress; init => sourceAddress = value; }
    internal new TimeSpan PreemptDelay { get => preemptDelay; init => preemptDelay = value; }
    internal new VrrpChecksumMode ChecksumMode { get => checksumMode; init => checksumMode = value; }
    internal new AddressFamily AddressFamily
        => VirtualAddresses.Count > 0 ? VirtualAddresses[0].Address.AddressFamily : AddressFamily.InterNetwork;
    private protected override AddressFamily FamilyOfAddresses() => AddressFamily;

    /// <summary>Instance name (keepalived <c>vrrp_instance NAME</c>); defaults to <c>VI_&lt;interface&gt;_&lt;vrid&gt;</c>.</summary>
    public string? Name { get; init; }

    /// <summary>-InterfaceName</summary>
    public string InterfaceName { get; init; } = "";

    /// <summary>-VirtualRouterId, 1-255.</summary>
    public int VirtualRouterId { get; init; }

    /// <summary>-Priority, 1-255 (255 = address owner).</summary>
    public int Priority { get; init; } = 100;

    /// <summary>-AuthenticationPassword: v2 PASS, at most 8 ASCII characters (never shown nor serialised: <see cref="VrrpPassword"/>).</summary>
    public VrrpPassword? AuthenticationPassword { get; init; }

    /// <summary>-VirtualIPAddress</summary>
    public IReadOnlyList<VrrpVirtualAddress> VirtualAddresses { get; init; } = Array.Empty<VrrpVirtualAddress>();

    /// <summary>
    /// VrrpVirtualAddressShared for every virtual address of <paramref name="config"/> that one of
    /// <paramref name="others"/> also owns: two instances owning one address would each add and remove it, so stopping
    /// (or demoting) one would take it from the other while that one still reports Master.
    /// </summary>
    public static IEnumerable<VrrpConfigError> SharedVirtualAddresses(IEnumerable<VrrpInstanceConfig> others, VrrpInstanceConfig config)
    {
        var list = others as IReadOnlyCollection<VrrpInstanceConfig> ?? others.ToList();
        for (int k = 0; k < config.VirtualAddresses.Count; k++)
        {
            var a = config.VirtualAddresses[k].Address;
            var owner = list.FirstOrDefault(o => o.VirtualAddresses.Any(v => v.Address.Equals(a)));
            if (owner is not null)
                yield return new VrrpConfigError("VrrpVirtualAddressShared", VrrpField.VirtualAddress,
                    $"{{VirtualAddress}} {a} is already owned by instance '{owner.EffectiveName}'; one address belongs to one instance (stop that instance or give another address).",
                    a.ToString(), k);
        }
    }

    /// <summary>-UnicastPeer: when set, adverts go to each peer instead of the multicast group.</summary>

    /// <summary>Source address (keepalived <c>unicast_src_ip</c> / <c>mcast_src_ip</c>); default: the interface's primary IPv4 or link-local IPv6 address.</summary>

    /// <summary>-NoPreempt</summary>
    public bool NoPreempt { get; init; }

    /// <summary>
    /// keepalived's <c>state MASTER</c>: at start the instance enters Backup with its Master_Down_Timer already
    /// expired, so it becomes Master at once (sending adverts) instead of after Master_Down_Interval; a router that
    /// advertises a higher priority takes it back to Backup by the usual rules. Only the start is affected.
    /// </summary>
    public bool StartAsMaster { get; init; }

    /// <summary>-PreemptDelay (0-1000 s), keepalived's semantics: lower-priority adverts are still accepted for this long after the first one.</summary>

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

    public string EffectiveName => string.IsNullOrEmpty(Name) ? $"VI_{InterfaceName}_{VirtualRouterId}" : Name!;

    public bool IsUnicast => UnicastPeers.Count > 0;

    /// <summary>The interval in the version's unit (seconds or centiseconds); valid only after validation.</summary>
    public int AdvertisementIntervalUnits
        => Version == VrrpVersion.V2 ? (int)(AdvertisementInterval.Ticks / TimeSpan.TicksPerSecond) : (int)(AdvertisementInterval.Ticks / (TimeSpan.TicksPerMillisecond * 10));

    public long AdvertisementIntervalMicroseconds => VrrpTiming.UnitsToMicroseconds(Version, AdvertisementIntervalUnits);

    // ---- validation ------------------------------------------------------------------------

    /// <summary>
    /// Every problem with this configuration (empty when valid), each with its field key. With
    /// <paramref name="interfaces"/>, interface names (the instance's, tracked ones, a virtual address's dev) are
    /// looked up too.
    /// </summary>
    public IReadOnlyList<VrrpConfigError> Validate(IVrrpInterfaceLookup? interfaces = null)
    {
        var errors = new List<VrrpConfigError>();
        void Add(string id, VrrpField field, string template, object? value = null, int? index = null)
            => errors.Add(new VrrpConfigError(id, field, template, value is null ? null : Convert.ToString(value, CultureInfo.InvariantCulture), index));
        static string S(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

        if (string.IsNullOrWhiteSpace(InterfaceName))
            Add("VrrpInterfaceRequired", VrrpField.InterfaceName, "An interface is required ({InterfaceName}).");
        else if (LinuxNames.InterfaceNameProblem(InterfaceName) is { } bad)
            Add("VrrpInterfaceNameInvalid", VrrpField.InterfaceName, $"{{InterfaceName}} is not an interface name: {bad}.", InterfaceName);
        else if (interfaces is not null && interfaces.Find(InterfaceName) is null)
            Add("InterfaceNotFound", VrrpField.InterfaceName, UnknownInterface(InterfaceName, interfaces), InterfaceName);

        if (VirtualRouterId is < 1 or > 255)
            Add("VrrpVirtualRouterIdOutOfRange", VrrpField.VirtualRouterId, $"{{VirtualRouterId}} {VirtualRouterId} is outside 1-255.", VirtualRouterId);
        if (Priority is < 1 or > 255)
            Add("VrrpPriorityOutOfRange", VrrpField.Priority, $"{{Priority}} {Priority} is outside 1-255 (255 means this router owns the addresses; 0 is reserved for the stop advert).", Priority);
        if (Version is not (VrrpVersion.V2 or VrrpVersion.V3))
            Add("VrrpVersionInvalid", VrrpField.Version, $"{{Version}} {(int)Version} is not 2 or 3.", (int)Version);

        var iv = AdvertisementInterval;
        if (Version == VrrpVersion.V2)
        {
            if (iv.Ticks % TimeSpan.TicksPerSecond != 0 || iv < TimeSpan.FromSeconds(1) || iv > TimeSpan.FromSeconds(255))
                Add("VrrpAdvertisementIntervalInvalid", VrrpField.AdvertisementInterval,
                    $"{{AdvertisementInterval}} {S(iv)} s is not valid for VRRPv2: use whole seconds from 1 to 255, or {{Version}} 3 for sub-second intervals.", S(iv));
        }
        else if (iv.Ticks % (TimeSpan.TicksPerMillisecond * 10) != 0 || iv < TimeSpan.FromMilliseconds(10) || iv > TimeSpan.FromMilliseconds(40950))
            Add("VrrpAdvertisementIntervalInvalid", VrrpField.AdvertisementInterval,
                $"{{AdvertisementInterval}} {iv.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)} ms is not valid for VRRPv3: use multiples of 10 ms from 10 ms to 40.95 s.", S(iv));

        if (AuthenticationPassword is not null)
        {
            if (Version != VrrpVersion.V2)
                Add("VrrpAuthenticationWithVersion3", VrrpField.AuthenticationPassword, "VRRPv3 has no authentication (RFC 5798 §9); remove {AuthenticationPassword} or use {Version} 2.");
            else if (AuthenticationPassword.Reveal() is var pass && (pass.Length is 0 or > 8 || pass.Any(c => c is < (char)0x21 or > (char)0x7e)))
                Add("VrrpAuthenticationPasswordInvalid", VrrpField.AuthenticationPassword, "The VRRPv2 password ({AuthenticationPassword}) must be 1-8 printable ASCII characters without spaces (only 8 bytes travel in the advert).");
        }

        var family = AddressFamily;
        if (VirtualAddresses.Count == 0)
            Add("VrrpVirtualAddressRequired", VrrpField.VirtualAddress, "At least one virtual address is required ({VirtualAddress}).");
        else if (VirtualAddresses.Count > 255)
            Add("VrrpTooManyVirtualAddresses", VrrpField.VirtualAddress, $"{VirtualAddresses.Count} virtual addresses do not fit in one advertisement (at most 255).", VirtualAddresses.Count);
        var seen = new HashSet<IPAddress>();
        for (int i = 0; i < VirtualAddresses.Count; i++)
        {
            var v = VirtualAddresses[i];
            if (v is null || v.Address is null) { Add("VrrpVirtualAddressInvalid", VrrpField.VirtualAddress, "A virtual address ({VirtualAddress}) is empty.", null, i); continue; }
            bool v6 = v.Address.AddressFamily == AddressFamily.InterNetworkV6;
            if (v.Address.AddressFamily != family)
                Add("VrrpVirtualAddressFamilyMixed", VrrpField.VirtualAddress, $"Virtual address {v.Address} is not {FamilyName(family)} like the first one; use one instance per address family.", v, i);
            int max = v6 ? 128 : 32;
            if (v.PrefixLength < 1 || v.PrefixLength > max)
                Add("VrrpVirtualAddressPrefixInvalid", VrrpField.VirtualAddress, $"Prefix /{v.PrefixLength} of virtual address {v.Address} is outside 1-{max}.", v, i);
            if (IsUnusable(v.Address))
                Add("VrrpVirtualAddressInvalid", VrrpField.VirtualAddress, $"{v.Address} cannot be a virtual address (unspecified, multicast, broadcast or loopback).", v, i);
            if (!seen.Add(v.Address))
                Add("VrrpVirtualAddressDuplicate", VrrpField.VirtualAddress, $"Virtual address {v.Address} is listed twice.", v, i);
            string device = v.Device ?? InterfaceName;
            if (v.Device is not null)
            {
                if (LinuxNames.InterfaceNameProblem(v.Device) is { } badDev)
                    Add("VrrpVirtualAddressDeviceInvalid", VrrpField.VirtualAddress, $"dev '{v.Device}' of virtual address {v.Address} is not an interface name: {badDev}.", v, i);
                else if (interfaces is not null && interfaces.Find(v.Device) is null)
                    Add("InterfaceNotFound", VrrpField.VirtualAddress, $"Virtual address {v.Address}: " + UnknownInterface(v.Device, interfaces), v, i);
            }
            if (v.Label is not null)
            {
                if (v6)
                    Add("VrrpVirtualAddressLabelInvalid", VrrpField.VirtualAddress, $"Address labels exist for IPv4 only ({v.Address} label {v.Label}).", v, i);
                else if (LinuxNames.LabelProblem(v.Label, device) is { } badLabel)
                    Add("VrrpVirtualAddressLabelInvalid", VrrpField.VirtualAddress, $"The label of virtual address {v.Address} is not usable on {device}: {badLabel}; at most {LinuxNames.MaxNameBytes} bytes.", v, i);
            }
            if (v.Broadcast is not null && (v6 || v.Broadcast.AddressFamily != AddressFamily.InterNetwork))
                Add("VrrpVirtualAddressBroadcastInvalid", VrrpField.VirtualAddress, $"Virtual address {v.Address}: a broadcast address (brd) is for IPv4 addresses, and must be one.", v, i);
            if (v6 && v.Scope != 0)
                Add("VrrpVirtualAddressScopeInvalid", VrrpField.VirtualAddress, $"Virtual address {v.Address}: IPv6 addresses take their scope from the address itself; remove the scope.", v, i);
            if (!v6 && v.HomeAddress)
                Add("VrrpVirtualAddressHomeInvalid", VrrpField.VirtualAddress, $"Virtual address {v.Address}: 'home' (a Mobile IPv6 home address) is for IPv6 addresses only.", v, i);
        }
        if (Version == VrrpVersion.V2 && family == AddressFamily.InterNetworkV6)
            Add("VrrpIPv6RequiresVersion3", VrrpField.Version, "IPv6 virtual addresses need VRRPv3 ({Version} 3).", 2);

        var peers = new HashSet<IPAddress>();
        for (int i = 0; i < UnicastPeers.Count; i++)
        {
            var p = UnicastPeers[i];
            if (p.AddressFamily != family)
                Add("VrrpUnicastPeerFamilyMismatch", VrrpField.UnicastPeer, $"{{UnicastPeer}} {p} is not {FamilyName(family)} like the virtual addresses.", p, i);
            else if (IsUnusable(p))
                Add("VrrpUnicastPeerInvalid", VrrpField.UnicastPeer, $"{p} cannot be a unicast peer ({{UnicastPeer}}).", p, i);
            if (!peers.Add(p))
                Add("VrrpUnicastPeerDuplicate", VrrpField.UnicastPeer, $"{{UnicastPeer}} {p} is listed twice.", p, i);
        }
        if (SourceAddress is not null && SourceAddress.AddressFamily != family)
            Add("VrrpSourceAddressFamilyMismatch", VrrpField.SourceAddress, $"{{SourceAddress}} {SourceAddress} is not {FamilyName(family)}.", SourceAddress);

        if (PreemptDelay < TimeSpan.Zero || PreemptDelay > TimeSpan.FromSeconds(1000))
            Add("VrrpPreemptDelayOutOfRange", VrrpField.PreemptDelay, $"{{PreemptDelay}} {S(PreemptDelay)} must be between 0 and 1000 seconds.", S(PreemptDelay));
        if (NoPreempt && PreemptDelay > TimeSpan.Zero)
            Add("VrrpPreemptDelayWithNoPreempt", VrrpField.PreemptDelay, "{PreemptDelay} has no meaning with {NoPreempt}; use one or the other.", S(PreemptDelay));
        if (NoPreempt && Priority == 255)
            Add("VrrpNoPreemptWithOwner", VrrpField.NoPreempt, "The address owner ({Priority} 255) always preempts (RFC 5798 §6.1); lower {Priority} to use {NoPreempt}.");

        var g = Garp ?? new VrrpGarpSettings();
        void Seconds(VrrpField field, TimeSpan value)
        {
            var (min, max) = VrrpFields.SecondsRange(field)!.Value;
            if (value < TimeSpan.FromSeconds(min) || value > TimeSpan.FromSeconds(max))
                Add("VrrpGarpSettingInvalid", field, $"{{{field}}} {S(value)} must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)} seconds.", S(value));
        }
        Seconds(VrrpField.GarpDelay, g.Delay);
        Seconds(VrrpField.GarpRefresh, g.Refresh);
        Seconds(VrrpField.GarpInterval, g.Interval);
        if (g.Repeat is < 1 or > 255)
            Add("VrrpGarpSettingInvalid", VrrpField.GarpRepeat, $"{{GarpRepeat}} {g.Repeat} is outside 1-255.", g.Repeat);
        if (g.RefreshRepeat is < 1 or > 255)
            Add("VrrpGarpSettingInvalid", VrrpField.GarpRefreshRepeat, $"{{GarpRefreshRepeat}} {g.RefreshRepeat} is outside 1-255.", g.RefreshRepeat);

        var tracked = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < TrackInterfaces.Count; i++)
        {
            var t = TrackInterfaces[i];
            if (LinuxNames.InterfaceNameProblem(t.InterfaceName) is { } badTrack)
            { Add("VrrpTrackInterfaceInvalid", VrrpField.TrackInterface, $"A tracked interface ({{TrackInterface}}) is not an interface name: {badTrack}.", t.InterfaceName, i); continue; }
            if (!tracked.Add(t.InterfaceName))
                Add("VrrpTrackDuplicate", VrrpField.TrackInterface, $"Interface '{t.InterfaceName}' is tracked twice ({{TrackInterface}}).", t.InterfaceName, i);
            if (t.Weight is < -253 or > 253)
                Add("VrrpTrackWeightOutOfRange", VrrpField.TrackInterface, $"Weight {t.Weight} of tracked interface '{t.InterfaceName}' is outside -253..253.", t.Weight, i);
            if (interfaces is not null && interfaces.Find(t.InterfaceName) is null)
                Add("InterfaceNotFound", VrrpField.TrackInterface, UnknownInterface(t.InterfaceName, interfaces), t.InterfaceName, i);
        }
        var scripts = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < TrackScripts.Count; i++)
        {
            var sc = TrackScripts[i];
            if (string.IsNullOrWhiteSpace(sc.Name) || string.IsNullOrWhiteSpace(sc.Command))
            { Add("VrrpTrackScriptInvalid", VrrpField.TrackScript, "A tracked script ({TrackScript}) needs a name and a command.", sc.Name, i); continue; }
            if (!scripts.Add(sc.Name))
                Add("VrrpTrackDuplicate", VrrpField.TrackScript, $"Script '{sc.Name}' is tracked twice ({{TrackScript}}).", sc.Name, i);
            if (sc.Weight is < -253 or > 253)
                Add("VrrpTrackWeightOutOfRange", VrrpField.TrackScript, $"Weight {sc.Weight} of script '{sc.Name}' is outside -253..253.", sc.Weight, i);
            if (sc.Interval <= TimeSpan.Zero || sc.Timeout <= TimeSpan.Zero)
                Add("VrrpTrackScriptInvalid", VrrpField.TrackScript, $"Script '{sc.Name}' needs a positive interval and timeout.", sc.Name, i);
            if (sc.Rise < 1 || sc.Fall < 1)
                Add("VrrpTrackScriptInvalid", VrrpField.TrackScript, $"Script '{sc.Name}' needs rise and fall of at least 1.", sc.Name, i);
        }
        if (SyncGroup is not null && string.IsNullOrWhiteSpace(SyncGroup))
            Add("VrrpSyncGroupInvalid", VrrpField.SyncGroup, "The sync group name ({SyncGroup}) is empty.");
        return errors;
    }

    /// <summary>
    /// The fields in which <paramref name="other"/> differs from this configuration, lists compared by content (empty:
    /// the same instance). The checksum form counts as <see cref="VrrpField.Version"/>, the unicast source check as
    /// <see cref="VrrpField.UnicastPeer"/>, every notify script as <see cref="VrrpField.NotifyScript"/>.
    /// </summary>
    public IReadOnlyList<VrrpField> Differences(VrrpInstanceConfig other)
    {
        var d = new List<VrrpField>();
        void If(bool differs, VrrpField f) { if (differs && !d.Contains(f)) d.Add(f); }
        static bool Seq<T>(IReadOnlyList<T> a, IReadOnlyList<T> b) => a.SequenceEqual(b);
        If(EffectiveName != other.EffectiveName, VrrpField.Name);
        If(InterfaceName != other.InterfaceName, VrrpField.InterfaceName);
        If(VirtualRouterId != other.VirtualRouterId, VrrpField.VirtualRouterId);
        If(Priority != other.Priority, VrrpField.Priority);
        If(Version != other.Version || ChecksumMode != other.ChecksumMode, VrrpField.Version);
        If(AdvertisementInterval != other.AdvertisementInterval, VrrpField.AdvertisementInterval);
        If(AuthenticationPassword != other.AuthenticationPassword, VrrpField.AuthenticationPassword);
        If(!Seq(VirtualAddresses, other.VirtualAddresses), VrrpField.VirtualAddress);
        If(!Seq(UnicastPeers, other.UnicastPeers) || CheckUnicastSource != other.CheckUnicastSource, VrrpField.UnicastPeer);
        If(!Equals(SourceAddress, other.SourceAddress), VrrpField.SourceAddress);
        If(NoPreempt != other.NoPreempt, VrrpField.NoPreempt);
        If(PreemptDelay != other.PreemptDelay, VrrpField.PreemptDelay);
        If(AcceptMode != other.AcceptMode, VrrpField.AcceptMode);
        var g = Garp ?? new VrrpGarpSettings();
        var h = other.Garp ?? new VrrpGarpSettings();
        If(g.Delay != h.Delay, VrrpField.GarpDelay);
        If(g.Repeat != h.Repeat, VrrpField.GarpRepeat);
        If(g.Refresh != h.Refresh, VrrpField.GarpRefresh);
        If(g.RefreshRepeat != h.RefreshRepeat, VrrpField.GarpRefreshRepeat);
        If(g.Interval != h.Interval, VrrpField.GarpInterval);
        If(!Seq(TrackInterfaces, other.TrackInterfaces), VrrpField.TrackInterface);
        If(!Seq(TrackScripts, other.TrackScripts), VrrpField.TrackScript);
        If(SyncGroup != other.SyncGroup, VrrpField.SyncGroup);
        If(NotifyScript != other.NotifyScript || NotifyMaster != other.NotifyMaster || NotifyBackup != other.NotifyBackup ||
           NotifyFault != other.NotifyFault || NotifyStop != other.NotifyStop, VrrpField.NotifyScript);
        return d;
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
