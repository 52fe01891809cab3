using System.Text;

namespace HaPowerShell.Core.Keepalived;

/// <summary>Configuration files held in memory (for tests and for text given directly), with glob(3)'s matching rules.</summary>
public sealed class KeepalivedMemorySource : IKeepalivedConfigSource
{
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _executable = new(StringComparer.Ordinal);

    public KeepalivedMemorySource() { }

    public KeepalivedMemorySource(IDictionary<string, string> files)
    {
        foreach (var (k, v) in files) Add(k, v);
    }

    public KeepalivedMemorySource Add(string path, string text) => Add(path, Encoding.UTF8.GetBytes(text));

    public KeepalivedMemorySource Add(string path, byte[] bytes)
    {
        _files[path] = bytes;
        return this;
    }

    public KeepalivedMemorySource MarkExecutable(string path)
    {
        _executable.Add(path);
        return this;
    }

    /// <summary>How many times a file was read (tests of bounds use it).</summary>
    public int Reads { get; private set; }

    public KeepalivedGlobResult Glob(string pattern, int maxMatches)
    {
        var matches = new List<string>();
        int missing = 0;
        bool wildcards = false;
        foreach (var alt in KeepalivedGlob.ExpandBraces(pattern))
        {
            if (!KeepalivedGlob.HasWildcards(alt))
            {
                if (_files.ContainsKey(alt)) matches.Add(alt);
                else if (IsDirectory(alt)) matches.Add(alt.TrimEnd('/') + "/");
                else missing++;
                continue;
            }
            wildcards = true;
            var found = _files.Keys.Concat(Directories()).Where(f => KeepalivedGlob.Match(alt, f)).OrderBy(f => f, StringComparer.Ordinal).ToList();
            string dir = alt.Substring(0, Math.Max(alt.LastIndexOf('/'), 0));
            if (found.Count == 0 && !KeepalivedGlob.HasWildcards(dir) && !IsDirectory(dir.Length == 0 ? "/" : dir)) missing++;
            matches.AddRange(found.Select(f => _files.ContainsKey(f) ? f : f + "/"));
        }
        bool truncated = matches.Count > maxMatches;
        return new KeepalivedGlobResult { Matches = truncated ? matches.Take(maxMatches).ToList() : matches, Missing = missing, HadWildcards = wildcards, Truncated = truncated };
    }

    private IEnumerable<string> Directories()
    {
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in _files.Keys)
            for (int i = f.LastIndexOf('/'); i > 0; i = f.LastIndexOf('/', i - 1))
                dirs.Add(f.Substring(0, i));
        return dirs;
    }

    private bool IsDirectory(string path)
    {
        string p = path.TrimEnd('/') + "/";
        return p == "/" || _files.Keys.Any(f => f.StartsWith(p, StringComparison.Ordinal));
    }

    public KeepalivedFileKind GetKind(string path)
    {
        if (_files.ContainsKey(path)) return _executable.Contains(path) ? KeepalivedFileKind.ExecutableFile : KeepalivedFileKind.RegularFile;
        return IsDirectory(path) ? KeepalivedFileKind.Directory : KeepalivedFileKind.Missing;
    }

    public byte[] Read(string path, long maxBytes, CancellationToken cancel)
    {
        Reads++;
        if (!_files.TryGetValue(path, out var b)) throw new KeepalivedSourceException("No such file or directory");
        return b.LongLength > maxBytes + 1 ? b.AsSpan(0, (int)Math.Min(int.MaxValue, maxBytes + 1)).ToArray() : b;
    }
}
