using HaPowerShell.Core.Keepalived;

namespace HaPowerShell.Keepalived;

/// <summary>
/// The real file system for the keepalived.conf parser: glob(3)'s matching for includes, what a path is,
/// and reads bounded to the size limit (so /dev/zero or a huge file costs at most the limit).
/// </summary>
public sealed class KeepalivedDiskSource : IKeepalivedConfigSource
{
    public static KeepalivedDiskSource Instance { get; } = new();

    public KeepalivedGlobResult Glob(string pattern, int maxMatches)
    {
        var matches = new List<string>();
        int missing = 0;
        bool wildcards = false;
        foreach (var alt in KeepalivedGlob.ExpandBraces(pattern))
        {
            if (!KeepalivedGlob.HasWildcards(alt))
            {
                string p = Unescape(alt);
                if (File.Exists(p)) matches.Add(p);
                else if (Directory.Exists(p)) matches.Add(p.TrimEnd('/') + "/");
                else missing++;
                if (matches.Count > maxMatches) break;
                continue;
            }
            wildcards = true;
            int before = matches.Count;
            Expand(alt, matches, ref missing, maxMatches);
            matches.Sort(before, matches.Count - before, StringComparer.Ordinal);
            if (matches.Count > maxMatches) break;
        }
        bool truncated = matches.Count > maxMatches;
        if (truncated) matches.RemoveRange(maxMatches, matches.Count - maxMatches);
        return new KeepalivedGlobResult { Matches = matches, Missing = missing, HadWildcards = wildcards, Truncated = truncated };
    }

    private static string Unescape(string s) => s.Contains('\\') ? System.Text.RegularExpressions.Regex.Replace(s, @"\\(.)", "$1") : s;

    /// <summary>Walks the pattern one path segment at a time, as glob(3) does (a missing directory is counted, not an error).</summary>
    private static void Expand(string pattern, List<string> into, ref int missing, int max)
    {
        var segments = pattern.Split('/');
        var current = new List<string> { "" };
        for (int i = 1; i < segments.Length; i++)
        {
            var next = new List<string>();
            string seg = segments[i];
            bool last = i == segments.Length - 1;
            foreach (var dir in current)
            {
                string d = dir.Length == 0 ? "/" : dir;
                if (!KeepalivedGlob.HasWildcards(seg))
                {
                    string p = dir + "/" + Unescape(seg);
                    if (last ? File.Exists(p) || Directory.Exists(p) : Directory.Exists(p)) next.Add(p);
                    else if (!last) missing++;
                    continue;
                }
                if (!Directory.Exists(d)) { missing++; continue; }
                IEnumerable<string> entries;
                try { entries = Directory.EnumerateFileSystemEntries(d); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { missing++; continue; }
                foreach (var e in entries)
                {
                    string name = Path.GetFileName(e);
                    if (!KeepalivedGlob.Match(seg, name)) continue;
                    if (!last && !Directory.Exists(e)) continue;
                    next.Add(dir + "/" + name);
                    if (next.Count > max * 4) break;
                }
            }
            current = next;
        }
        foreach (var p in current)
        {
            into.Add(Directory.Exists(p) ? p + "/" : p);
            if (into.Count > max) return;
        }
    }

    public KeepalivedFileKind GetKind(string path)
    {
        var st = HaPowerShell.Native.Processes.FileStatus.Stat(path);
        if (st is null) return KeepalivedFileKind.Missing;
        if (st.IsDirectory) return KeepalivedFileKind.Directory;
        if (!st.IsRegularFile) return KeepalivedFileKind.Other;
        return (st.Permissions & 0x49) != 0 ? KeepalivedFileKind.ExecutableFile : KeepalivedFileKind.RegularFile;
    }

    public byte[] Read(string path, long maxBytes, CancellationToken cancel)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            long want = maxBytes + 1;
            long length = fs.CanSeek ? fs.Length : want;
            var buf = new byte[(int)Math.Min(Math.Min(want, length + 1), int.MaxValue - 64)];
            int n = 0, r;
            while (n < buf.Length && (r = fs.Read(buf, n, Math.Min(buf.Length - n, 1 << 20))) > 0)
            {
                n += r;
                cancel.ThrowIfCancellationRequested();
            }
            return n == buf.Length ? buf : buf.AsSpan(0, n).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeepalivedSourceException(e is UnauthorizedAccessException ? "Permission denied" : e.Message);
        }
    }
}
