namespace HaPowerShell.Core.Keepalived;

/// <summary>The outcome of reading a configuration: the model and every finding.</summary>
public sealed class KeepalivedParseResult
{
    public KeepalivedParseResult(KeepalivedConfiguration configuration, IReadOnlyList<KeepalivedFinding> findings, bool fatal)
    {
        Configuration = configuration;
        Findings = findings;
        StoppedAtFatal = fatal;
    }

    public KeepalivedConfiguration Configuration { get; }

    /// <summary>Every finding, in the order keepalived reports them.</summary>
    public IReadOnlyList<KeepalivedFinding> Findings { get; }

    /// <summary>True when keepalived would have stopped reading (a keyword missing its parameter exits at once).</summary>
    public bool StoppedAtFatal { get; }

    /// <summary>The verdict: false when a finding is an error (keepalived -t would fail for a reason that is not this host's).</summary>
    public bool IsValid => !Findings.Any(f => f.Severity == KeepalivedSeverity.Error);

    public IEnumerable<KeepalivedFinding> Errors => Findings.Where(f => f.Severity == KeepalivedSeverity.Error);
}

/// <summary>
/// Reads keepalived.conf the way keepalived 2.2 does: the reader (comments, includes, conditionals,
/// parameters, sequences), the keyword tables of every section, the value checks of every keyword handler,
/// and the checks keepalived makes once the file is read, in the order <c>keepalived -t</c> makes them
/// (the parent process, then the checker, VRRP and BFD processes each read the file again).
/// </summary>
public static class KeepalivedParser
{
    /// <summary>Parses <paramref name="path"/> (an absolute path) read through <paramref name="source"/>.</summary>
    public static KeepalivedParseResult Parse(string path, IKeepalivedConfigSource source, KeepalivedParseOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new KeepalivedParseOptions();
        var session = new KeepalivedParseSession(options, path);
        session.Run(source, path, cancel);
        return session.Result();
    }

    /// <summary>Parses text given in memory (as if it were the file <paramref name="name"/>).</summary>
    public static KeepalivedParseResult ParseText(string text, string name = "/keepalived.conf", KeepalivedParseOptions? options = null, CancellationToken cancel = default)
        => Parse(name, new KeepalivedMemorySource(new Dictionary<string, string> { [name] = text }), options, cancel);

    /// <summary>Every keyword keepalived knows, by block ("" for the root), for suggestions and documentation.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> KeywordsByBlock()
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        void Walk(string path, KeywordTable t)
        {
            result[path] = t.All.Select(k => k.Name).ToList();
            foreach (var k in t.All)
                if (k.Sub is not null) Walk(path.Length == 0 ? k.Name : path + "/" + k.Name, k.Sub);
        }
        Walk("", KeepalivedParseSession.Tree);
        return result;
    }
}
