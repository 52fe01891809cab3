using System.Text;

namespace HaPowerShell.Core.Keepalived;

/// <summary>glob(3) pattern rules keepalived's include uses: *, ?, [...] within one path segment, {a,b} alternatives.</summary>
public static class KeepalivedGlob
{
    /// <summary>How many alternatives one pattern may expand into (a brace bomb is cut short).</summary>
    public const int MaxAlternatives = 4096;

    public static bool HasWildcards(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\') { i++; continue; }
            if (s[i] is '*' or '?' or '[') return true;
        }
        return false;
    }

    /// <summary>GLOB_BRACE: "a{b,c}d" is "abd" then "acd" (nested braces too); an unmatched brace is literal.</summary>
    public static List<string> ExpandBraces(string pattern)
    {
        var result = new List<string>();
        Expand(pattern, result);
        return result;
    }

    private static void Expand(string p, List<string> into)
    {
        if (into.Count >= MaxAlternatives) return;
        int open = -1;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] == '\\') { i++; continue; }
            if (p[i] == '{') { open = i; break; }
        }
        if (open < 0) { into.Add(p); return; }
        int depth = 0, close = -1;
        var commas = new List<int>();
        for (int i = open; i < p.Length; i++)
        {
            if (p[i] == '\\') { i++; continue; }
            if (p[i] == '{') depth++;
            else if (p[i] == '}') { if (--depth == 0) { close = i; break; } }
            else if (p[i] == ',' && depth == 1) commas.Add(i);
        }
        if (close < 0) { into.Add(p); return; }
        string pre = p.Substring(0, open), post = p.Substring(close + 1);
        int start = open + 1;
        commas.Add(close);
        foreach (int c in commas)
        {
            Expand(pre + p.Substring(start, c - start) + post, into);
            start = c + 1;
        }
    }

    /// <summary>
    /// glob(3) with GLOB_BRACE | GLOB_MARK over a file system given as three functions: each brace alternative
    /// in the order written, its matches sorted, directories marked with a trailing '/'; what could not be
    /// opened or found along the way is counted in <see cref="KeepalivedGlobResult.Missing"/>.
    /// </summary>
    public static KeepalivedGlobResult Run(string pattern, int maxMatches, Func<string, bool> isFile, Func<string, bool> isDirectory,
        Func<string, IEnumerable<string>?> list)
    {
        var matches = new List<string>();
        int missing = 0;
        bool wildcards = false;
        foreach (var alt in ExpandBraces(pattern))
        {
            if (!HasWildcards(alt))
            {
                string p = Unescape(alt);
                if (isFile(p)) matches.Add(p);
                else if (isDirectory(p)) matches.Add(p.TrimEnd('/') + "/");
                else missing++;
            }
            else
            {
                wildcards = true;
                int before = matches.Count;
                var current = new List<string> { "" };
                var segments = alt.Split('/');
                for (int i = 1; i < segments.Length && current.Count > 0; i++)
                {
                    var next = new List<string>();
                    string seg = segments[i];
                    bool last = i == segments.Length - 1;
                    foreach (var dir in current)
                    {
                        if (!HasWildcards(seg))
                        {
                            string p = dir + "/" + Unescape(seg);
                            if (last ? isFile(p) || isDirectory(p) : isDirectory(p)) next.Add(p);
                            else if (!last) missing++;
                            continue;
                        }
                        var entries = list(dir.Length == 0 ? "/" : dir);
                        if (entries is null) { missing++; continue; }
                        foreach (var name in entries)
                        {
                            if (!MatchSegment(seg, 0, name, 0)) continue;
                            string p = dir + "/" + name;
                            if (!last && !isDirectory(p)) continue;
                            next.Add(p);
                        }
                        if (next.Count > maxMatches * 4) break;
                    }
                    current = next;
                }
                foreach (var p in current) matches.Add(isDirectory(p) ? p + "/" : p);
                matches.Sort(before, matches.Count - before, StringComparer.Ordinal);
            }
            if (matches.Count > maxMatches) break;
        }
        bool truncated = matches.Count > maxMatches;
        if (truncated) matches.RemoveRange(maxMatches, matches.Count - maxMatches);
        return new KeepalivedGlobResult { Matches = matches, Missing = missing, HadWildcards = wildcards, Truncated = truncated };
    }

    private static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length) i++;
            sb.Append(s[i]);
        }
        return sb.ToString();
    }

    /// <summary>Whether <paramref name="path"/> matches <paramref name="pattern"/> ('/' is matched only by '/'; a leading '.' only by '.').</summary>
    public static bool Match(string pattern, string path)
    {
        var ps = pattern.Split('/');
        var fs = path.Split('/');
        if (ps.Length != fs.Length) return false;
        for (int i = 0; i < ps.Length; i++)
            if (!MatchSegment(ps[i], 0, fs[i], 0)) return false;
        return true;
    }

    private static bool MatchSegment(string p, int pi, string s, int si)
    {
        if (pi == 0 && si == 0 && s.Length > 0 && s[0] == '.' && p.Length > 0 && p[0] != '.') return false;
        while (pi < p.Length)
        {
            char c = p[pi];
            if (c == '*')
            {
                while (pi < p.Length && p[pi] == '*') pi++;
                if (pi == p.Length) return true;
                for (int k = si; k <= s.Length; k++)
                    if (MatchSegment(p, pi, s, k)) return true;
                return false;
            }
            if (si >= s.Length) return false;
            if (c == '?') { pi++; si++; continue; }
            if (c == '[')
            {
                int end = p.IndexOf(']', pi + 2);
                if (end < 0) { if (s[si] != '[') return false; pi++; si++; continue; }
                string set = p.Substring(pi + 1, end - pi - 1);
                bool negate = set.Length > 0 && (set[0] == '!' || set[0] == '^');
                if (negate) set = set.Substring(1);
                bool hit = false;
                for (int k = 0; k < set.Length; k++)
                {
                    if (k + 2 < set.Length && set[k + 1] == '-') { if (s[si] >= set[k] && s[si] <= set[k + 2]) hit = true; k += 2; }
                    else if (set[k] == s[si]) hit = true;
                }
                if (hit == negate) return false;
                pi = end + 1; si++;
                continue;
            }
            if (c == '\\' && pi + 1 < p.Length) { pi++; c = p[pi]; }
            if (c != s[si]) return false;
            pi++; si++;
        }
        return si == s.Length;
    }
}
