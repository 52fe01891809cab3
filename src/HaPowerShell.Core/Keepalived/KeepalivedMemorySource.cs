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
        => KeepalivedGlob.Run(pattern, maxMatches, _files.ContainsKey, IsDirectory, List);

    private IEnumerable<string>? List(string dir)
    {
        if (!IsDirectory(dir)) return null;
        string prefix = dir.TrimEnd('/') + "/";
        return _files.Keys.Concat(Directories())
            .Where(f => f.StartsWith(prefix, StringComparison.Ordinal) && f.IndexOf('/', prefix.Length) < 0)
            .Select(f => f.Substring(prefix.Length)).Distinct().ToList();
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
