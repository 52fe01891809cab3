using System.Globalization;
using System.Net.Sockets;

namespace HaPowerShell.Core.Keepalived;

// The checks keepalived makes on a static_routes/virtual_routes line and a static_rules/virtual_rules line
// (keepalived 2.2's alloc_route() and alloc_rule(), vrrp_iproute.c and vrrp_iprule.c): the options and their values,
// the interfaces, the destination, and the route-tracking and rule-preference notes keepalived -t fails on. The lines
// themselves are kept as text on the model (this module does not install routes or rules).
internal sealed partial class KeepalivedParseContext
{
    /// <summary>keepalived numbers rules without a preference downwards from here, per address family (per read).</summary>
    private const uint RuleStartPriority = 16384;
    private uint _nextRulePriority4 = RuleStartPriority, _nextRulePriority6 = RuleStartPriority;

    private static readonly HashSet<string> RouteTypes = new(StringComparer.Ordinal)
    { "unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat", "anycast" };

    private static readonly HashSet<string> RouteProtocols = new(StringComparer.Ordinal)
    { "unspec", "redirect", "kernel", "boot", "static", "gated", "ra", "mrt", "zebra", "bird", "dnrouted", "xorp", "ntk", "dhcp", "keepalived", "babel", "bgp", "isis", "ospf", "rip", "eigrp" };

    /// <summary>rt_tables' names (/etc/iproute2/rt_tables on a stock host) or a number; 0 is "unspec".</summary>
    private static bool TryTable(string s, out uint table)
    {
        table = s switch { "unspec" => 0, "default" => 253, "main" => 254, "local" => 255, _ => uint.MaxValue };
        if (table != uint.MaxValue) return true;
        return uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out table);
    }

    private static bool TryScope(string s) => s is "global" or "universe" or "site" or "link" or "host" or "nowhere"
        || byte.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private static bool TryDsfield(string s)
        => (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? byte.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _)
            : byte.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _));

    /// <summary>parse_route(): "default"/"all"/"any" or an address with an optional prefix (keepalived's message when it is neither).</summary>
    private AddressFamily? RouteAddress(string s)
    {
        if (s is "default" or "all" or "any") return AddressFamily.Unspecified;
        return ParseIpAddress(s, true)?.AddressFamily;
    }

    private void TrackGroupOption(string name)
    {
        if (!Config.TrackGroups.Any(t => t.Name == name)) Error($"track_group {name} not found", KeepalivedFindingCategory.UndefinedReference);
    }

    private static bool U32(string s) => uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    /// <summary>alloc_route(): one line of static_routes or virtual_routes.</summary>
    internal void CheckRoute(string[] v, bool allowTrackGroup)
    {
        var family = AddressFamily.Unspecified;
        bool haveOif = false, dontTrack = false, haveDst = false, protocolSet = false, keepalivedProtocol = false, nexthop = false;
        string? dest = null;
        bool Mix(AddressFamily f)
        {
            if (f == AddressFamily.Unspecified) return false;
            if (family == AddressFamily.Unspecified) { family = f; return false; }
            if (family == f) return false;
            Error("Cannot mix IPv4 and IPv6 addresses for route");
            return true;
        }
        int i = 0;
        for (; i < v.Length; i++)
        {
            string s = v[i];
            switch (s)
            {
                case "inet": case "inet6":
                    if (Mix(s == "inet" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6)) return;
                    continue;
                case "src":
                {
                    var a = ParseIpAddress(Slot(v, ++i), false);
                    if (a is null) { Error($"invalid route src address {v[i]}"); return; }
                    if (Mix(a.AddressFamily)) return;
                    continue;
                }
                case "via": case "gw":
                {
                    if (s == "gw") Error("\"gw\" for routes is deprecated. Please use \"via\"", KeepalivedFindingCategory.Deprecated);
                    string x = Slot(v, ++i);
                    if (x is "inet" or "inet6") x = Slot(v, ++i);
                    var a = ParseIpAddress(x, false);
                    if (a is null) { Error($"invalid route via address {v[i]}"); return; }
                    if (Mix(a.AddressFamily)) return;
                    continue;
                }
                case "from":
                {
                    var f = RouteAddress(Slot(v, ++i));
                    if (f is null) { Error($"invalid route from address {v[i]}"); return; }
                    if (f != AddressFamily.InterNetworkV6) { Error($"route from address only supported with IPv6 ({v[i]})"); return; }
                    if (Mix(f.Value)) return;
                    continue;
                }
                case "tos": case "dsfield":
                    if (!TryDsfield(Slot(v, ++i))) { Error($"TOS value {v[i]} is invalid"); return; }
                    continue;
                case "table":
                    if (!TryTable(Slot(v, ++i), out _)) { Error($"Routing table {v[i]} not found for route"); return; }
                    continue;
                case "protocol":
                {
                    string p = Slot(v, ++i);
                    if (!RouteProtocols.Contains(p) && !byte.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    { Error($"Protocol {p} not found or invalid for route"); return; }
                    protocolSet = true;
                    keepalivedProtocol = p is "keepalived" or "18";
                    continue;
                }
                case "scope":
                    if (!TryScope(Slot(v, ++i))) { Error($"Scope {v[i]} not found or invalid for route"); return; }
                    continue;
                case "metric": case "priority": case "preference":
                    if (!U32(Slot(v, ++i))) { Error($"Invalid metric {v[i]} specified for route"); return; }
                    continue;
                case "dev": case "oif":
                {
                    string name = Slot(v, ++i);
                    if (LookupInterface(name) is null)
                    {
                        Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"WARNING - interface {name} for VROUTE nexthop doesn't exist", environment: true);
                        return;
                    }
                    haveOif = true;
                    continue;
                }
                case "onlink":
                    continue;
                case "expires": case "hoplimit": case "window": case "initcwnd": case "initrwnd": case "quickack": case "fastopen_no_cookie":
                    if (!U32(Slot(v, ++i))) { Error($"Invalid {s} {v[i]} specified for route"); return; }
                    continue;
                case "mtu": case "advmss": case "reordering": case "cwnd": case "ssthresh": case "rtt": case "rttvar": case "rto_min":
                {
                    string x = Slot(v, ++i);
                    if (x == "lock") x = Slot(v, ++i);
                    string digits = s is "rtt" or "rttvar" or "rto_min" ? x.TrimEnd('s', 'm') : x;
                    if (!U32(digits)) { Error($"Invalid {s} {x} specified for route"); return; }
                    continue;
                }
                case "realms": case "congctl": case "pref": case "ttl-propagate": case "features": case "encap":
                    Slot(v, ++i);
                    continue;
                case "or":
                {
                    Error("\"or\" for routes is deprecated. Please use \"nexthop\"", KeepalivedFindingCategory.Deprecated);
                    if (ParseIpAddress(Slot(v, ++i), false) is null) { Error($"Invalid \"or\" address {v[i]}"); return; }
                    continue;
                }
                case "nexthop":
                    nexthop = true;
                    break;
                case "no_track":
                    dontTrack = true;
                    continue;
                case "track_group" when allowTrackGroup:
                    TrackGroupOption(Slot(v, ++i));
                    continue;
                default:
                {
                    if (s == "to") s = Slot(v, ++i);
                    if (RouteTypes.Contains(s)) s = Slot(v, ++i);
                    dest = s;
                    var f = RouteAddress(s);
                    if (f is null) { Error($"unknown route keyword {s}"); return; }
                    if (family != AddressFamily.Unspecified && f != AddressFamily.Unspecified && f != family)
                    { Error($"Cannot mix IPv4 and IPv6 addresses for route ({s})"); return; }
                    Mix(f.Value);
                    haveDst = true;
                    continue;
                }
            }
            break;   // nexthop: the rest are next hops
        }
        if (nexthop)
        {
            // parse_nexthops(): "nexthop via ADDR dev IF weight N ...": the interfaces must exist; the route's oif is not set by them.
            for (int j = i + 1; j + 1 < v.Length; j++)
                if (v[j] == "dev" && LookupInterface(v[j + 1]) is null)
                {
                    Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"WARNING - interface {v[j + 1]} for VROUTE nexthop doesn't exist", environment: true);
                    return;
                }
        }
        if (!haveDst) { Error("Route must have a destination", KeepalivedFindingCategory.MissingValue); return; }
        if (!dontTrack)
        {
            if (protocolSet && !keepalivedProtocol)
                Error("Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol");
            if (!haveOif)
                Error($"Warning - cannot track route {dest} with no interface specified, not tracking", KeepalivedFindingCategory.Semantic);
        }
    }

    /// <summary>alloc_rule(): one line of static_rules or virtual_rules.</summary>
    internal void CheckRule(string[] v, bool allowTrackGroup)
    {
        var family = AddressFamily.Unspecified;
        bool action = false, priority = false, tableOption = false, dontTrack = false;
        bool Mix(AddressFamily f)
        {
            if (f == AddressFamily.Unspecified) return false;
            if (family == AddressFamily.Unspecified) { family = f; return false; }
            if (family == f) return false;
            Error("rule specification has mixed IPv4 and IPv6");
            return true;
        }
        bool Action()
        {
            if (!action) { action = true; return false; }
            Error("Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule");
            return true;
        }
        for (int i = 0; i < v.Length; i++)
        {
            string s = v[i];
            switch (s)
            {
                case "inet": case "inet6":
                    if (Mix(s == "inet" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6)) return;
                    break;
                case "from": case "to":
                {
                    var f = RouteAddress(Slot(v, ++i));
                    if (f is null) { Error($"Invalid rule {s} address {v[i]}"); return; }
                    if (Mix(f.Value)) return;
                    break;
                }
                case "table": case "lookup":
                {
                    if (!TryTable(Slot(v, ++i), out uint t)) { Error($"Routing table {v[i]} not found for rule"); return; }
                    if (t == 0) { Error("Table 0 is not valid"); return; }
                    if (Action()) return;
                    break;
                }
                case "not":
                    break;
                case "preference": case "order": case "priority":
                    if (!U32(Slot(v, ++i))) { Error($"Invalid rule preference {s} specified"); return; }
                    priority = true;
                    break;
                case "tos": case "dsfield":
                    if (!TryDsfield(Slot(v, ++i))) { Error($"TOS value {v[i]} is invalid"); return; }
                    break;
                case "fwmark":
                {
                    string x = Slot(v, ++i);
                    var parts = x.Split('/');
                    bool Num(string n) => n.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                        ? uint.TryParse(n.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _) : U32(n);
                    if (parts.Length > 2 || !parts.All(Num)) { Error($"Invalid rule fwmark {x} specified"); return; }
                    break;
                }
                case "realms":
                    Slot(v, ++i);
                    tableOption = true;
                    if (Mix(AddressFamily.InterNetwork)) return;
                    break;
                case "suppress_prefixlength": case "sup_pl":
                    if (!U32(Slot(v, ++i))) { Error($"Invalid suppress_prefixlength {s} specified"); return; }
                    tableOption = true;
                    break;
                case "suppress_ifgroup": case "sup_group":
                    Slot(v, ++i);
                    tableOption = true;
                    break;
                case "dev": case "iif": case "oif":
                {
                    string name = Slot(v, ++i);
                    if (LookupInterface(name) is null)
                    {
                        Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"WARNING - interface {name} for rule doesn't exist", environment: true);
                        return;
                    }
                    break;
                }
                case "tunnel-id": case "uidrange": case "ipproto": case "sport": case "dport": case "protocol":
                    Slot(v, ++i);
                    break;
                case "l3mdev":
                    if (Action()) return;
                    break;
                case "no_track":
                    dontTrack = true;
                    break;
                case "track_group" when allowTrackGroup:
                    TrackGroupOption(Slot(v, ++i));
                    break;
                default:
                {
                    if (s == "type") s = Slot(v, ++i);
                    if (s == "goto")
                    {
                        if (!U32(Slot(v, ++i))) { Error($"Invalid target {s} specified"); return; }
                    }
                    else if (s is "nop" or "blackhole" or "unreachable" or "prohibit") { }
                    else if (RouteTypes.Contains(s)) { Error($"Invalid rule action {s}"); return; }
                    else { Error($"Unknown rule option {s}"); return; }
                    if (Action()) return;
                    break;
                }
            }
        }
        _ = dontTrack;
        if (!action) { Error("No action specified for rule - ignoring", KeepalivedFindingCategory.MissingValue); return; }
        if (!priority)
        {
            uint p = family == AddressFamily.InterNetworkV6 ? _nextRulePriority6-- : _nextRulePriority4--;
            Error($"Rule has no preference specified - setting to {p}. This is probably not what you want.", KeepalivedFindingCategory.Semantic);
        }
        _ = tableOption;
    }
}
