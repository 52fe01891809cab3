namespace HaPowerShell.Core.Keepalived;

/// <summary>
/// One run of keepalived -t over a configuration: the parent read, the checker, VRRP and BFD reads, the checks
/// after each, and the findings they make (deduplicated: keepalived repeats a message once per process).
/// </summary>
internal sealed class KeepalivedParseSession
{
    /// <summary>keepalived's keyword tree, built once.</summary>
    public static readonly KeywordTable Tree = KeepalivedKeywordTables.Build();

    private static readonly Lazy<Dictionary<string, List<string>>> BlocksOfKeyword = new(IndexKeywords);

    private readonly List<KeepalivedFinding> _findings = new();
    private readonly HashSet<(string? File, int Line, string Message)> _seen = new();
    private int _dropped;
    private bool _fatal;
    private KeepalivedReader? _reader;

    public KeepalivedParseSession(KeepalivedParseOptions options, string path)
    {
        Options = options;
        Environment = options.Environment ?? AssumedEnvironment.Instance;
        Config = new KeepalivedConfiguration { Path = path, ConfigId = options.ConfigId };
    }

    public KeepalivedParseOptions Options { get; }
    public IKeepalivedEnvironment Environment { get; }
    public KeepalivedConfiguration Config { get; }
    public KeepalivedLineStore Lines { get; } = new();

    /// <summary>enable_script_security (keepalived's global script_security).</summary>
    public bool ScriptSecurity { get; set; }

    /// <summary>keepalived's non_existent_interface_specified: the VRRP checks are skipped when an interface named does not exist.</summary>
    public bool NonExistentInterface { get; set; }

    internal KeepalivedScript? StartupScript { get; set; }
    internal KeepalivedScript? ShutdownScript { get; set; }
    internal List<(string Type, KeepalivedScript Script)> FifoScripts { get; } = new();
    public string? SnmpSocket { get; set; }
    public bool NetNamespaceIpvsSet { get; set; }
    public bool VmacPrefixSet { get; set; }
    public bool VmacAddrPrefixSet { get; set; }
    public bool TmpConfigDirectorySet { get; set; }
    public bool LvsSyncFromVrrp { get; set; }

    /// <summary>The default script user (keepalived_script, or script_user), resolved once.</summary>
    public KeepalivedScriptUser DefaultScriptUser { get; } = new();

    public bool IsActive(KeywordOwner owner, KeepalivedPass pass) => pass switch
    {
        KeepalivedPass.Parent => owner == KeywordOwner.Global,
        KeepalivedPass.Checker => owner is KeywordOwner.Check or KeywordOwner.Bfd or KeywordOwner.TrackFile,
        KeepalivedPass.Vrrp => owner is KeywordOwner.Vrrp or KeywordOwner.Bfd or KeywordOwner.TrackFile,
        _ => owner == KeywordOwner.Bfd,
    };

    public string? FileName(KeepalivedLocation l)
        => l.IsNone || _reader is null || l.FileIndex >= _reader.Files.Count ? null : _reader.Files[l.FileIndex];

    // ------------------------------------------------------------------ findings

    /// <summary>How many findings there are so far (a handler compares before and after a check).</summary>
    public int FindingCount => _findings.Count;

    /// <summary>Whether the last finding added is one keepalived -t fails on.</summary>
    public bool LastFindingIsError => _findings.Count > 0 && _findings[^1].Level != KeepalivedErrorLevel.None;

    public void Add(KeepalivedLocation where, KeepalivedErrorLevel level, KeepalivedFindingCategory category, string message,
        bool environment, string? suggestion, string? keyword, string? context, bool reportedByKeepalived = true)
    {
        if (!_seen.Add((FileName(where), where.IsNone ? 0 : where.Line, message))) return;
        if (_findings.Count >= Options.MaxFindings) { _dropped++; return; }
        _findings.Add(new KeepalivedFinding
        {
            File = FileName(where),
            Line = where.IsNone ? null : where.Line,
            Level = level,
            Category = category,
            Message = message,
            IsEnvironment = environment,
            Suggestion = suggestion,
            Keyword = keyword,
            Context = context,
            ReportedByKeepalived = reportedByKeepalived,
        });
    }

    /// <summary>
    /// A warning of this module's own at a place given by file name and line (the checks of Core's VRRP engine after the
    /// read); left out when keepalived already reports an error there, or the line already has one of these.
    /// </summary>
    public void AddModuleWarning(string? file, int line, KeepalivedFindingCategory category, string message, string? keyword)
    {
        foreach (var f in _findings)
            if (f.Line == line && f.File == file && (f.Level != KeepalivedErrorLevel.None || f.Category == KeepalivedFindingCategory.NotSupported))
                return;
        if (!_seen.Add((file, line, message))) return;
        if (_findings.Count >= Options.MaxFindings) { _dropped++; return; }
        _findings.Add(new KeepalivedFinding
        {
            File = file, Line = line == 0 ? null : line, Level = KeepalivedErrorLevel.None, Category = category, Message = message,
            Keyword = keyword, ReportedByKeepalived = false,
        });
    }

    /// <summary>A finding keepalived reports without a place (the checks after a read), with the block it is about.</summary>
    public void AddUnplaced(KeepalivedErrorLevel level, KeepalivedFindingCategory category, string message, KeepalivedBlock? about,
        bool environment = false, string? keyword = null, bool reportedByKeepalived = true)
    {
        string? context = about is null ? null : $"{Describe(about)} ({about.Where})";
        Add(KeepalivedLocation.None, level, category, message, environment, null, keyword, context, reportedByKeepalived);
    }

    private static string Describe(KeepalivedBlock b) => b switch
    {
        KeepalivedVrrpInstance v => "vrrp_instance " + v.Name,
        KeepalivedVrrpSyncGroup g => "vrrp_sync_group " + g.Name,
        KeepalivedVrrpScript s => "vrrp_script " + s.Name,
        KeepalivedVirtualServer vs => "virtual_server " + vs,
        KeepalivedRealServer rs => "real_server " + rs,
        KeepalivedGlobalSettings => "global_defs",
        _ => b.GetType().Name,
    };

    private static Dictionary<string, List<string>> IndexKeywords()
    {
        var map = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Walk(string block, KeywordTable t)
        {
            foreach (var k in t.All)
            {
                if (!map.TryGetValue(k.Name, out var l)) map[k.Name] = l = new List<string>();
                if (!l.Contains(block)) l.Add(block);
                if (k.Sub is not null) Walk(k.Name, k.Sub);
            }
        }
        Walk("", Tree);
        return map;
    }

    /// <summary>"Unknown keyword", with a suggestion from the keywords valid in that block, and why when it is a keyword elsewhere.</summary>
    public void UnknownKeyword(KeepalivedLocation where, string word, KeywordTable table, int level, IReadOnlyList<string> path,
        (string Keyword, int Line)? orphan)
    {
        string? suggestion = word == "}" ? null : KeepalivedSuggest.Closest(word, table.All.Select(k => k.Name));
        string message = $"Unknown keyword '{word}'";
        string block = path.Count == 0 ? "the top level" : path[^1];
        if (word != "}" && BlocksOfKeyword.Value.TryGetValue(word, out var blocks) && !(path.Count == 0 && blocks.Contains("")))
        {
            string where1 = string.Join(", ", blocks.Select(b => b.Length == 0 ? "the top level" : b));
            message += $" (a keyword of {where1}, not of {block}";
            if (orphan is { } o && level == 0)
                message += $"; keepalived reads it at the top level because it ignores the block of the unknown keyword '{o.Keyword}' on line {o.Line}";
            message += ")";
        }
        else if (word == "}" && orphan is { } o && level == 0)
            message += $" (the end of the block of the unknown keyword '{o.Keyword}' on line {o.Line}, which keepalived ignores)";
        else if (word == "}" && level == 0)
            message += " (a '}' that closes no block)";
        Add(where, KeepalivedErrorLevel.UnknownKeyword, KeepalivedFindingCategory.UnknownKeyword, message, false, suggestion, word, null);
    }

    // ------------------------------------------------------------------ the run

    public void Run(IKeepalivedConfigSource source, string path, CancellationToken cancel)
    {
        _reader = new KeepalivedReader(source, Options, Options.ConfigId,
            (level, category, message, env) => Add(_reader!.Current, level, category, message, env, null, null, null), cancel);
        try
        {
            // The parent process: global_defs (and every other root keyword, skipped).
            var parent = new KeepalivedParseContext(this, KeepalivedPass.Parent, _reader);
            if (!_reader.OpenMain(path)) return;
            try
            {
                parent.ProcessStream(Tree, false);
            }
            finally
            {
                Config.Files.AddRange(_reader.Files);
            }
            if (_reader.BlockDepth > 0)
                Add(KeepalivedLocation.None, KeepalivedErrorLevel.MissingBlockEnd, KeepalivedFindingCategory.Syntax,
                    $"There are {_reader.BlockDepth} missing '}}'s or extra '{{'s", false, null, null, null);
            // keepalived enters the network namespace before its checks; when it cannot, it exits (with 0) before them.
            if (Config.Global.NetworkNamespace is { } ns && !Environment.NetworkNamespaceExists(ns))
            {
                Add(KeepalivedLocation.None, KeepalivedErrorLevel.None, KeepalivedFindingCategory.Environment,
                    $"Unable to set network namespace {ns} - exiting (keepalived -t stops here, before checking the VRRP and checker sections)", true, null, "net_namespace", null);
                return;
            }
            KeepalivedValidation.AfterParentRead(this);

            // validate_config(): the checker, VRRP and BFD processes read the file again and check their part.
            var checker = new KeepalivedParseContext(this, KeepalivedPass.Checker, null);
            checker.ProcessStream(Tree, false);
            KeepalivedValidation.Checker(checker);

            var vrrp = new KeepalivedParseContext(this, KeepalivedPass.Vrrp, null);
            vrrp.ProcessStream(Tree, false);
            KeepalivedValidation.Vrrp(vrrp);

            var bfd = new KeepalivedParseContext(this, KeepalivedPass.Bfd, null);
            bfd.ProcessStream(Tree, false);
            KeepalivedValidation.Bfd(bfd);
        }
        catch (KeepalivedFatalException)
        {
            _fatal = true;
        }
        KeepalivedValidation.Finish(this);
    }

    public KeepalivedParseResult Result()
    {
        if (_dropped > 0)
            _findings.Add(new KeepalivedFinding
            {
                Level = KeepalivedErrorLevel.General, Category = KeepalivedFindingCategory.Limit,
                Message = $"{_dropped} more findings not shown (more than {Options.MaxFindings})", ReportedByKeepalived = false,
            });
        foreach (var f in _findings)
            f.Severity = f.Level != KeepalivedErrorLevel.None && (!f.IsEnvironment || Options.CheckEnvironment)
                ? KeepalivedSeverity.Error : KeepalivedSeverity.Warning;
        return new KeepalivedParseResult(Config, _findings, _fatal);
    }
}
