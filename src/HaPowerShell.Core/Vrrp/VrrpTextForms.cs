using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HaPowerShell.Core.Vrrp;

/// <summary>
/// A <c>track_script</c> entry: the name of a <c>vrrp_script</c> and, optionally, the weight this instance gives it
/// (keepalived: <c>chk_haproxy weight -20</c>; without a weight the script's own applies).
/// </summary>
public sealed record VrrpTrackScriptReference(string Name, int? Weight = null);

/// <summary>
/// keepalived's text forms of VRRP settings, parsed into Core's model with keepalived's rules and every limit,
/// for every front end (the cmdlets' string parameters, a keepalived.conf reader). Pure: each parser takes the
/// text of one entry and, for list settings, the entry's index; it returns the value, or null after adding one
/// <see cref="VrrpConfigError"/> (with its field key, the text and the index) to <c>errors</c>, so a caller
/// collects every problem before it refuses a configuration.
/// </summary>
public static class VrrpTextForms
{
    /// <summary>
    /// One <c>virtual_ipaddress</c> line:
    /// <c>&lt;IPADDR&gt;[/&lt;PREFIX&gt;] [brd|broadcast &lt;IPADDR&gt;|+] [dev &lt;IFNAME&gt;] [scope &lt;SCOPE&gt;] [label &lt;LABEL&gt;] [home] [-nodad] [noprefixroute]</c>,
    /// e.g. <c>192.0.2.1/24 dev eth0 label eth0:1</c>. The prefix defaults to /32 or /128; SCOPE is global, site,
    /// link, host, nowhere or 0-255. IPv6 addresses always skip duplicate address detection, so <c>-nodad</c> is
    /// accepted and changes nothing. keepalived's <c>peer</c>, <c>use_vmac</c>, <c>mngtmpaddr</c>, <c>autojoin</c>,
    /// <c>no_track</c>, <c>preferred_lft</c> and <c>track_group</c> are refused (VrrpVirtualAddressOptionNotSupported).
    /// What depends on the instance (the label's device, a dev that exists, one family) is checked by
    /// <see cref="VrrpInstanceConfig.Validate"/>. Errors: VrrpVirtualAddressInvalid, VrrpVirtualAddressOptionNotSupported.
    /// </summary>
    public static VrrpVirtualAddress? ParseVirtualAddress(string? text, int index, ICollection<VrrpConfigError> errors)
    {
        const VrrpField f = VrrpField.VirtualAddress;
        string t = text ?? "";
        var words = t.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        bool Fail(string id, string why)
        {
            errors.Add(new VrrpConfigError(id, f, why, t, index));
            return false;
        }
        if (words.Length == 0) { Fail("VrrpVirtualAddressInvalid", "A virtual address ({VirtualAddress}) is empty."); return null; }
        if (!TryParsePrefixed(words[0], out var address, out int prefix))
        {
            Fail("VrrpVirtualAddressInvalid", $"'{t}' is not a virtual address: '{words[0]}' is not an address or address/prefix ({{VirtualAddress}} takes 'address[/prefix] [brd address] [dev name] [scope scope] [label name] [home] [-nodad] [noprefixroute]').");
            return null;
        }
        string? device = null, label = null;
        IPAddress? broadcast = null;
        byte scope = 0;
        bool home = false, noPrefixRoute = false;
        for (int i = 1; i < words.Length; i++)
        {
            string w = words[i];
            string? Next() => i + 1 < words.Length ? words[++i] : null;
            switch (w)
            {
                case "dev":
                    if ((device = Next()) is null) return Missing(w);
                    break;
                case "label":
                    if ((label = Next()) is null) return Missing(w);
                    break;
                case "brd":
                case "broadcast":
                    var b = Next();
                    if (b is null) return Missing(w);
                    if (b == "+") { broadcast = null; break; }   // ip(8)'s and keepalived's '+': the subnet's broadcast (the default)
                    if (!TryParseAddress(b, out var ba)) { Fail("VrrpVirtualAddressInvalid", $"'{t}': {w} '{b}' is not an IPv4 address."); return null; }
                    broadcast = ba;
                    break;
                case "scope":
                    var sc = Next();
                    if (sc is null) return Missing(w);
                    if (!TryParseScope(sc, out scope)) { Fail("VrrpVirtualAddressInvalid", $"'{t}': scope '{sc}' is not global, site, link, host, nowhere or a number from 0 to 255."); return null; }
                    break;
                case "home":
                    home = true;
                    break;
                case "-nodad":
                    break;
                case "noprefixroute":
                    noPrefixRoute = true;
                    break;
                case "peer" or "use_vmac" or "mngtmpaddr" or "autojoin" or "no_track" or "preferred_lft" or "track_group":
                    Fail("VrrpVirtualAddressOptionNotSupported", $"'{t}': keepalived's '{w}' is not supported here; leave it out.");
                    return null;
                default:
                    Fail("VrrpVirtualAddressInvalid", $"'{t}': '{w}' is not a virtual address option (brd, dev, scope, label, home, -nodad, noprefixroute).");
                    return null;
            }
        }
        return new VrrpVirtualAddress(address, prefix, label)
        {
            Device = device, Broadcast = broadcast, Scope = scope, HomeAddress = home, NoPrefixRoute = noPrefixRoute,
        };

        VrrpVirtualAddress? Missing(string keyword)
        {
            Fail("VrrpVirtualAddressInvalid", $"'{t}': '{keyword}' needs a value after it.");
            return null;
        }
    }

    /// <summary>
    /// One <c>track_interface</c> line: <c>&lt;IFNAME&gt;</c> or <c>&lt;IFNAME&gt; weight &lt;-253..253&gt;</c> (<c>eth1 weight -20</c>).
    /// keepalived's <c>reverse</c> is refused (VrrpTrackReverseNotSupported). Errors: VrrpTrackInterfaceInvalid,
    /// VrrpTrackWeightOutOfRange, VrrpTrackReverseNotSupported.
    /// </summary>
    public static VrrpTrackInterface? ParseTrackInterface(string? text, int index, ICollection<VrrpConfigError> errors)
    {
        var r = ParseTracked(VrrpField.TrackInterface, "VrrpTrackInterfaceInvalid", "tracked interface", text, index, errors);
        if (r is not { } x) return null;
        if (LinuxNames.InterfaceNameProblem(x.Name) is { } bad)
        {
            errors.Add(new VrrpConfigError("VrrpTrackInterfaceInvalid", VrrpField.TrackInterface, $"Tracked interface '{x.Name}' ({{TrackInterface}}) is not an interface name: {bad}.", text, index));
            return null;
        }
        return new VrrpTrackInterface(x.Name, x.Weight ?? 0);
    }

    /// <summary>
    /// One <c>track_script</c> line: <c>&lt;SCRIPT_NAME&gt;</c> or <c>&lt;SCRIPT_NAME&gt; weight &lt;-253..253&gt;</c>
    /// (<c>chk_haproxy weight -20</c>); <see cref="ResolveTrackScripts"/> finds the scripts. keepalived's
    /// <c>reverse</c> is refused. Errors: VrrpTrackScriptInvalid, VrrpTrackWeightOutOfRange, VrrpTrackReverseNotSupported.
    /// </summary>
    public static VrrpTrackScriptReference? ParseTrackScriptReference(string? text, int index, ICollection<VrrpConfigError> errors)
        => ParseTracked(VrrpField.TrackScript, "VrrpTrackScriptInvalid", "tracked script", text, index, errors) is { } x
            ? new VrrpTrackScriptReference(x.Name, x.Weight) : null;

    /// <summary>
    /// The scripts an instance tracks: each reference's <c>vrrp_script</c> from <paramref name="scripts"/> (by name),
    /// with the reference's weight when it gives one, else the script's. Errors: VrrpTrackScriptNotFound (with the
    /// reference's index).
    /// </summary>
    public static IReadOnlyList<VrrpTrackScript> ResolveTrackScripts(IReadOnlyList<VrrpTrackScriptReference> references,
        IReadOnlyDictionary<string, VrrpTrackScript> scripts, ICollection<VrrpConfigError> errors)
    {
        var list = new List<VrrpTrackScript>();
        for (int i = 0; i < references.Count; i++)
        {
            var r = references[i];
            if (!scripts.TryGetValue(r.Name, out var s))
            {
                errors.Add(new VrrpConfigError("VrrpTrackScriptNotFound", VrrpField.TrackScript,
                    $"No script named '{r.Name}' is defined for {{TrackScript}}" +
                    (scripts.Count == 0 ? "; none is." : $"; defined: {string.Join(", ", scripts.Keys.OrderBy(k => k, StringComparer.Ordinal))}."), r.Name, i));
                continue;
            }
            list.Add(r.Weight is int w ? s with { Weight = w } : s);
        }
        return list;
    }

    /// <summary>An address for <paramref name="field"/> (unicast_peer, unicast_src_ip): IPv4 as a full dotted quad, or IPv6 without a zone. Error: Vrrp&lt;Field&gt;Invalid.</summary>
    public static IPAddress? ParseAddress(VrrpField field, string? text, int? index, ICollection<VrrpConfigError> errors)
    {
        if (TryParseAddress(text?.Trim(), out var a)) return a;
        errors.Add(new VrrpConfigError($"Vrrp{field}Invalid", field, $"'{text}' is not an IP address ({{{field}}}).", text, index));
        return null;
    }

    /// <summary>
    /// A setting given in seconds (advert_int, preempt_delay, garp_master_delay, garp_master_refresh, garp_interval),
    /// checked against <see cref="VrrpFields.SecondsRange"/> and rounded to the millisecond. On an error it adds one
    /// (VrrpAdvertisementIntervalInvalid, VrrpPreemptDelayOutOfRange, VrrpGarpSettingInvalid) and returns zero.
    /// </summary>
    public static TimeSpan Seconds(VrrpField field, double seconds, ICollection<VrrpConfigError> errors)
    {
        var (min, max) = VrrpFields.SecondsRange(field) ?? throw new ArgumentException($"{field} is not given in seconds.", nameof(field));
        if (double.IsNaN(seconds) || seconds < min || seconds > max)
        {
            string v = seconds.ToString(CultureInfo.InvariantCulture);
            errors.Add(new VrrpConfigError(SecondsErrorId(field), field,
                $"{{{field}}} {v} is outside {min.ToString(CultureInfo.InvariantCulture)}-{max.ToString(CultureInfo.InvariantCulture)} seconds" +
                (field == VrrpField.GarpRefresh ? " (0: no refresh)." : field == VrrpField.GarpInterval ? " (the pause between the gratuitous ARPs of one burst)." : "."), v));
            return TimeSpan.Zero;
        }
        return TimeSpan.FromMilliseconds(Math.Round(seconds * 1000));
    }

    /// <summary><see cref="Seconds(VrrpField, double, ICollection{VrrpConfigError})"/> of a decimal text ("0.1", as keepalived.conf writes it); null after an error.</summary>
    public static TimeSpan? ParseSeconds(VrrpField field, string? text, ICollection<VrrpConfigError> errors)
    {
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double s))
        {
            errors.Add(new VrrpConfigError(SecondsErrorId(field), field, $"{{{field}}} '{text}' is not a number of seconds.", text));
            return null;
        }
        int before = errors.Count;
        var t = Seconds(field, s, errors);
        return errors.Count == before ? t : null;
    }

    /// <summary>A whole-number setting checked against <see cref="VrrpFields.IntegerRange"/> (virtual_router_id, priority, garp repeats, vrrp_priority, vrrp_rt_priority); null after an error.</summary>
    public static int? ParseInteger(VrrpField field, string? text, ICollection<VrrpConfigError> errors)
    {
        var (min, max) = VrrpFields.IntegerRange(field) ?? throw new ArgumentException($"{field} is not a whole number.", nameof(field));
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max) return v;
        errors.Add(new VrrpConfigError(IntegerErrorId(field), field, $"{{{field}}} '{text}' is not a whole number from {min} to {max}.", text));
        return null;
    }

    /// <summary>keepalived's default version for these addresses: 3 for IPv6 (VRRPv2 has none), else 2.</summary>
    public static VrrpVersion DefaultVersion(IReadOnlyList<VrrpVirtualAddress> addresses)
        => addresses.Count > 0 && addresses[0].Address.AddressFamily == AddressFamily.InterNetworkV6 ? VrrpVersion.V3 : VrrpVersion.V2;

    /// <summary>An address scope by name (global 0, site 200, link 253, host 254, nowhere 255) or number 0-255.</summary>
    public static bool TryParseScope(string? text, out byte scope)
    {
        scope = (byte)(text switch { "global" => 0, "site" => 200, "link" => 253, "host" => 254, "nowhere" => 255, _ => 0 });
        if (text is "global" or "site" or "link" or "host" or "nowhere") return true;
        return byte.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out scope);
    }

    /// <summary>The name of a scope (as ip(8) writes it), or its number.</summary>
    public static string ScopeName(byte scope) => scope switch
    {
        0 => "global",
        200 => "site",
        253 => "link",
        254 => "host",
        255 => "nowhere",
        _ => scope.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>An IPv4 address as a full dotted quad (no "10.1" shorthand, as inet_pton), or an IPv6 address without a zone.</summary>
    public static bool TryParseAddress(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(text) || text.Contains('%')) return false;
        if (text.Contains(':'))
            return IPAddress.TryParse(text, out address!) && address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv4MappedToIPv6;
        var parts = text.Split('.');
        if (parts.Length != 4) return false;
        var bytes = new byte[4];
        for (int i = 0; i < 4; i++)
            if (parts[i].Length is 0 or > 3 || !byte.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out bytes[i])) return false;
        address = new IPAddress(bytes);
        return true;
    }

    /// <summary><c>address</c> or <c>address/prefix</c>; the prefix defaults to /32 or /128 and must fit the family.</summary>
    public static bool TryParsePrefixed(string? text, out IPAddress address, out int prefix)
    {
        prefix = 0;
        int slash = text?.IndexOf('/') ?? -1;
        if (!TryParseAddress(slash < 0 ? text : text![..slash], out address)) return false;
        int max = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        prefix = max;
        return slash < 0 || (int.TryParse(text![(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) && prefix <= max);
    }

    private static (string Name, int? Weight)? ParseTracked(VrrpField field, string invalidId, string what, string? text, int index, ICollection<VrrpConfigError> errors)
    {
        var words = (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 1) return (words[0], null);
        // keepalived takes reverse/noreverse only after a weight ("name weight N reverse"); "name reverse" is an unknown option.
        if (words.Length == 4 && words[1] == "weight" && words[^1] is "reverse" or "noreverse" or "no_reverse")
        {
            if (words[^1] == "reverse")
            {
                errors.Add(new VrrpConfigError("VrrpTrackReverseNotSupported", field, $"'{text}': keepalived's 'reverse' (the weight applies the other way round) is not supported here; leave it out.", text, index));
                return null;
            }
            words = words[..^1];
            if (words.Length == 1) return (words[0], null);
        }
        if (words.Length == 3 && words[1] == "weight")
        {
            if (!int.TryParse(words[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int w))
            {
                errors.Add(new VrrpConfigError(invalidId, field, $"'{text}': the weight '{words[2]}' is not a whole number ({{{field}}}).", text, index));
                return null;
            }
            if (w is < -253 or > 253)
            {
                errors.Add(new VrrpConfigError("VrrpTrackWeightOutOfRange", field, $"'{text}': weight {w} is outside -253..253 ({{{field}}}).", text, index));
                return null;
            }
            return (words[0], w);
        }
        errors.Add(new VrrpConfigError(invalidId, field, $"A {what} ({{{field}}}) must be 'name' or 'name weight N'; '{text}' is neither.", text, index));
        return null;
    }

    private static string SecondsErrorId(VrrpField field) => field switch
    {
        VrrpField.AdvertisementInterval => "VrrpAdvertisementIntervalInvalid",
        VrrpField.PreemptDelay => "VrrpPreemptDelayOutOfRange",
        _ => "VrrpGarpSettingInvalid",
    };

    private static string IntegerErrorId(VrrpField field) => field switch
    {
        VrrpField.VirtualRouterId => "VrrpVirtualRouterIdOutOfRange",
        VrrpField.Priority => "VrrpPriorityOutOfRange",
        VrrpField.GarpRepeat or VrrpField.GarpRefreshRepeat => "VrrpGarpSettingInvalid",
        VrrpField.EnginePriority or VrrpField.EngineRealtimePriority => "VrrpEngineSchedulingInvalid",
        VrrpField.TrackInterface or VrrpField.TrackScript => "VrrpTrackWeightOutOfRange",
        _ => $"Vrrp{field}Invalid",
    };
}
