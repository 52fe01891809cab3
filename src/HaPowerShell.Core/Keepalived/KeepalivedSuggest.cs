namespace HaPowerShell.Core.Keepalived;

/// <summary>"Did you mean ...?": the closest keyword by edit distance (adjacent swaps count once).</summary>
public static class KeepalivedSuggest
{
    /// <summary>Keywords keepalived renamed or that people carry over from other versions, and what to write now.</summary>
    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal)
    {
        ["nb_get_retry"] = "retry",
        ["nb_sock_retry"] = "retry",
        ["lvs_sched"] = "lb_algo",
        ["lvs_method"] = "lb_kind",
        ["vrrp_track_file"] = "track_file",
        ["lvs_flush_onstop"] = "lvs_flush_on_stop",
        ["enable_snmp_keepalived"] = "enable_snmp_vrrp",
        ["vrrp_rlimit_rtime"] = "vrrp_rlimit_rttime",
        ["checker_rlimit_rtime"] = "checker_rlimit_rttime",
        ["bfd_rlimit_rtime"] = "bfd_rlimit_rttime",
        ["virtual_ipaddresses"] = "virtual_ipaddress",
        ["unicast_peers"] = "unicast_peer",
        ["track_interfaces"] = "track_interface",
        ["track_scripts"] = "track_script",
    };

    /// <summary>The candidate closest to <paramref name="word"/>, or null when none is close enough to be a likely typo.</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        var list = candidates as IReadOnlyCollection<string> ?? candidates.ToList();
        if (Renamed.TryGetValue(word, out var renamed) && list.Contains(renamed)) return renamed;
        string? best = null;
        int bestDistance = int.MaxValue;
        string lower = word.ToLowerInvariant();
        foreach (var c in list)
        {
            if (c == word || c == "}") continue;
            int d = Distance(lower, c.ToLowerInvariant());
            if (d < bestDistance || (d == bestDistance && best is not null && string.CompareOrdinal(c, best) < 0))
            {
                bestDistance = d;
                best = c;
            }
        }
        if (best is null) return null;
        int allowed = Math.Max(1, Math.Min(3, (Math.Max(word.Length, best.Length) + 2) / 4));
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>Optimal string alignment distance (Levenshtein with adjacent transpositions).</summary>
    public static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 8) return Math.Abs(a.Length - b.Length);
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = Math.Min(v, d[i - 2, j - 2] + 1);
                d[i, j] = v;
            }
        return d[a.Length, b.Length];
    }
}
