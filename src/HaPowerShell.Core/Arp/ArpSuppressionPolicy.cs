using System.Globalization;
using System.Text;

namespace HaPowerShell.Core.Arp;

/// <summary>
/// arp_ignore / arp_announce semantics (Documentation/networking/ip-sysctl.rst), the LVS-DR
/// real-server default, the effective value the kernel applies, and the sysctl.d drop-in text.
/// </summary>
public static class ArpSuppressionPolicy
{
    public const string IgnoreKey = "arp_ignore", AnnounceKey = "arp_announce";

    /// <summary>The LVS-DR real-server setting: answer only for addresses on the receiving interface...</summary>
    public const int RealServerArpIgnore = 1;

    /// <summary>...and always use the best local address of the outgoing interface as ARP source.</summary>
    public const int RealServerArpAnnounce = 2;

    /// <summary>Where the setting goes, as in the LVS-DR how-tos: lo (holds the VIP) and all (caps every interface).</summary>
    public static readonly IReadOnlyList<string> RealServerInterfaces = new[] { "lo", "all" };

    public const string DefaultPersistPath = "/etc/sysctl.d/95-hapowershell-arp.conf";

    public static readonly IReadOnlyList<int> ValidArpIgnore = new[] { 0, 1, 2, 3, 8 };
    public static readonly IReadOnlyList<int> ValidArpAnnounce = new[] { 0, 1, 2 };

    public static void CheckArpIgnore(int value)
    {
        if (!ValidArpIgnore.Contains(value))
            throw new ArpArgumentException("InvalidArpIgnore",
                $"-ArpIgnore: {value} is not a defined arp_ignore mode; use 0, 1, 2, 3 or 8 (4-7 are reserved). 1 is the LVS-DR real-server value.", "ArpIgnore");
    }

    public static void CheckArpAnnounce(int value)
    {
        if (!ValidArpAnnounce.Contains(value))
            throw new ArpArgumentException("InvalidArpAnnounce",
                $"-ArpAnnounce: {value} is not a defined arp_announce mode; use 0, 1 or 2. 2 is the LVS-DR real-server value.", "ArpAnnounce");
    }

    /// <summary>The kernel applies the larger of conf/all and conf/&lt;if&gt; for both settings; 'default' is only a template.</summary>
    public static int? Effective(string interfaceName, int own, int all)
        => interfaceName == "default" ? null : interfaceName == "all" ? own : Math.Max(own, all);

    public static string DescribeIgnore(int v) => v switch
    {
        0 => "reply for any local address on any interface",
        1 => "reply only if the target address is on the receiving interface",
        2 => "reply only if the target is on the receiving interface and the sender is in its subnet",
        3 => "do not reply for host-scope addresses, only global and link",
        8 => "do not reply for any local address",
        _ => "reserved",
    };

    public static string DescribeAnnounce(int v) => v switch
    {
        0 => "use any local address as ARP source",
        1 => "prefer a source address in the target's subnet",
        2 => "always use the best local address of the outgoing interface",
        _ => "undefined",
    };

    /// <summary>"net.ipv4.conf.eth0/100.arp_ignore": sysctl.d dotted form, a '.' inside a name written as '/'.</summary>
    public static string SysctlKey(string interfaceName, string key) => $"net.ipv4.conf.{interfaceName.Replace('.', '/')}.{key}";

    /// <summary>
    /// Reads the arp_ignore / arp_announce settings of a sysctl.d file (dotted or slash form).
    /// Other lines are kept by <see cref="RenderDropIn"/>'s caller only if it writes them back; our file holds only these.
    /// </summary>
    public static Dictionary<(string Interface, string Key), int> ParseDropIn(string? text)
    {
        var result = new Dictionary<(string, string), int>();
        if (string.IsNullOrEmpty(text)) return result;
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line[0] == '-') line = line[1..].TrimStart(); // "-key = value": ignore failures
            int eq = line.IndexOf('=');
            if (eq <= 0) continue;
            string name = line[..eq].Trim(), value = line[(eq + 1)..].Trim();
            string[] parts;
            if (name.StartsWith("net/", StringComparison.Ordinal)) parts = name.Split('/');
            else parts = name.Split('.').Select(p => p.Replace('/', '.')).ToArray();
            if (parts.Length != 5 || parts[0] != "net" || parts[1] != "ipv4" || parts[2] != "conf") continue;
            if (parts[4] is not (IgnoreKey or AnnounceKey)) continue;
            if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)) continue;
            result[(parts[3], parts[4])] = v;
        }
        return result;
    }

    /// <summary>The drop-in text: a header saying what wrote it, then one line per setting, 'all' and 'default' first.</summary>
    public static string RenderDropIn(IReadOnlyDictionary<(string Interface, string Key), int> settings)
    {
        var sb = new StringBuilder();
        sb.Append("# Written by HaPowerShell Set-ArpSuppression -Persist. Applied at boot by systemd-sysctl\n");
        sb.Append("# (or 'sysctl --system'); settings for an interface apply when it appears.\n");
        sb.Append("# arp_ignore=1: answer ARP only for addresses on the receiving interface.\n");
        sb.Append("# arp_announce=2: always use the outgoing interface's best address as ARP source.\n");
        static int Rank(string i) => i switch { "all" => 0, "default" => 1, "lo" => 2, _ => 3 };
        foreach (var group in settings.GroupBy(kv => kv.Key.Interface).OrderBy(g => Rank(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            foreach (var kv in group.OrderBy(kv => kv.Key.Key == IgnoreKey ? 0 : 1))
                sb.Append(SysctlKey(kv.Key.Interface, kv.Key.Key)).Append(" = ").Append(kv.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>True when the file at hand was written by us (so merging into it is safe).</summary>
    public static bool IsOurDropIn(string? text) => text is null || text.StartsWith("# Written by HaPowerShell Set-ArpSuppression", StringComparison.Ordinal);
}
