using System.Text;
using static HaPowerShell.Core.Keepalived.KeepalivedText;

namespace HaPowerShell.Core.Keepalived;

/// <summary>Where a line came from: a file (by index into <see cref="KeepalivedReader.Files"/>) and its line number.</summary>
internal readonly record struct KeepalivedLocation(int FileIndex, int Line)
{
    public static readonly KeepalivedLocation None = new(-1, 0);
    public bool IsNone => FileIndex < 0;
}

/// <summary>One logical line as keepalived's read_line() returns it: comments gone, conditionals and
/// parameters applied, braces split onto lines of their own. Lines of the same text share one object (where a line
/// stands is kept beside it: <see cref="KeepalivedReader.Current"/> and <see cref="KeepalivedLineStore"/>).</summary>
internal sealed class KeepalivedLine
{
    public required string Text { get; init; }
    /// <summary>alloc_strvec(Text): words, a quoted string being one word without its quotes; empty when none. Shared between
    /// lines of the same text: read it, never change it (copy what is kept).</summary>
    public required string[] Words { get; init; }
}

/// <summary>
/// The logical lines of the first read and where each stands, kept for the checker, VRRP and BFD reads: fixed-size
/// chunks (no copying as it grows, nothing on the large object heap).
/// </summary>
internal sealed class KeepalivedLineStore
{
    private const int ChunkBits = 12, ChunkSize = 1 << ChunkBits;
    private readonly List<(KeepalivedLine Line, KeepalivedLocation Location)[]> _chunks = new();

    public int Count { get; private set; }

    public void Add(KeepalivedLine line, KeepalivedLocation location)
    {
        int i = Count & (ChunkSize - 1);
        if (i == 0) _chunks.Add(new (KeepalivedLine, KeepalivedLocation)[ChunkSize]);
        _chunks[^1][i] = (line, location);
        Count++;
    }

    public (KeepalivedLine Line, KeepalivedLocation Location) this[int index] => _chunks[index >> ChunkBits][index & (ChunkSize - 1)];
}

/// <summary>
/// keepalived's configuration reader (lib/parser.c read_line and its helpers), reimplemented: reads the main
/// file and its includes through <see cref="IKeepalivedConfigSource"/>, 1023 bytes at a time as fgets() does,
/// strips comments, applies '@id' / '@^id' conditionals, '$NAME=value' parameters (with multi-line
/// definitions, ${NAME} and $NAME), ~SEQ and ~LST, and splits '{' and '}' onto lines of their own. Every bound
/// it keeps (sizes, files, depth, expansions, lines) is reported as a finding instead of looping or growing.
/// </summary>
internal sealed class KeepalivedReader
{
    private const int MaxBuf = 1024;             // MAXBUF: fgets reads 1023 bytes at most
    private const char DefLineEnd = '\n';

    private readonly IKeepalivedConfigSource _source;
    private readonly KeepalivedParseOptions _options;
    private readonly Action<KeepalivedErrorLevel, KeepalivedFindingCategory, string, bool> _report;
    private readonly string? _configId;
    private readonly Random _random;
    private readonly CancellationToken _cancel;

    public List<string> Files { get; } = new();

    /// <summary>The place keepalived would name in a message now.</summary>
    public KeepalivedLocation Current { get; private set; } = KeepalivedLocation.None;

    /// <summary>include_check from global_defs (a bit set of <see cref="IncludeR"/> etc.).</summary>
    public int IncludeCheck { get; set; }

    public const int IncludeR = 1, IncludeM = 2, IncludeW = 4, IncludeB = 8;

    public int BlockDepth { get; private set; }
    public long BytesRead { get; private set; }
    public int FilesOpened { get; private set; }
    public int LinesProduced { get; private set; }
    public bool Aborted { get; private set; }

    private sealed class Frame
    {
        public List<string> Matches = new();
        public int Next;
        public string Pattern = "";
        public int IncludeType;
        public int SavedIncludeCheck;
        public int NumMatches;
        // the open file
        public byte[]? Data;
        public int Pos;
        public int FileIndex = -1;
        public int LineNo;
        public string Dir = "";
    }

    private readonly List<Frame> _stack = new();   // [0] = innermost (keepalived's include_stack head)

    private sealed class Def
    {
        public string Name = "";
        public string? Value;
        public bool Multiline;
        public Func<Def, string>? Fn;
        public int MaxParams;
        public string? Params;
    }

    private readonly List<Def> _defs = new();

    private sealed class Seq
    {
        public string Var = "";
        public long Next, Last, Step;
        public bool Hex;
        public string Text = "";
        public List<string>? LstParams;
        public List<List<string>>? LstValues;
        public int LstNext;
    }

    private readonly List<Seq> _seqs = new();
    private readonly Stack<(string Remaining, int SeqDepth)> _multilineStack = new();
    private int _multilineSeqDepth;
    private string? _nextPtr;                 // the rest of a multi-line parameter being expanded
    private string? _lineResidue;
    private bool _multilineParamDef;
    private Def? _currentDef;
    private long _seqLinesLeft;

    public KeepalivedReader(IKeepalivedConfigSource source, KeepalivedParseOptions options, string? configId,
        Action<KeepalivedErrorLevel, KeepalivedFindingCategory, string, bool> report, CancellationToken cancel)
    {
        _source = source;
        _options = options;
        _configId = configId;
        _report = report;
        _cancel = cancel;
        _random = new Random(options.RandomSeed ?? 0);
        _seqLinesLeft = options.MaxSequenceLines;
        SetStandardDefinitions();
    }

    private void Report(KeepalivedErrorLevel level, KeepalivedFindingCategory category, string message, bool environment = false)
        => _report(level, category, message, environment);

    // ------------------------------------------------------------------ standard definitions

    private void SetStandardDefinitions()
    {
        _defs.Add(new Def { Name = "_PWD", Fn = _ => CurrentDirectory() });
        _defs.Add(new Def { Name = "_INSTANCE", Fn = _ => _configId ?? "" });
        _defs.Add(new Def { Name = "_RANDOM", Fn = RandomValue, MaxParams = 2 });
        _defs.Add(new Def { Name = "_HASH", Value = "#" });
        _defs.Add(new Def { Name = "_BANG", Value = "!" });
    }

    public void SetRandomSeed(uint seed) => _randomSeed = seed;
    private uint? _randomSeed;

    private string CurrentDirectory()
    {
        foreach (var f in _stack)
            if (f.Data is not null) return f.Dir;
        return _options.WorkingDirectory ?? "/";
    }

    private string RandomValue(Def def)
    {
        ulong min = 0, max = 32767;
        if (def.Params is { } p)
        {
            var parts = p.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 0) ulong.TryParse(parts[0], out min);
            if (parts.Length > 1) ulong.TryParse(parts[1], out max);
        }
        if (max < min) (min, max) = (max, min);
        var rng = _randomSeed is uint s ? new Random((int)s) : _random;
        ulong span = max - min + 1;
        ulong v = span == 0 ? (ulong)rng.NextInt64() : min + (ulong)rng.NextInt64(0, (long)Math.Min(span, long.MaxValue));
        return Inv(v);
    }

    // ------------------------------------------------------------------ files

    /// <summary>Opens the main file (init_data: open_glob_file(conf_file, INCLUDE_R | INCLUDE_M | INCLUDE_W)).</summary>
    public bool OpenMain(string path)
    {
        if (OpenGlobFile(path, IncludeR | IncludeM | IncludeW, baseDir: null)) return true;
        FileConfigError(IncludeR, "Failed to open configuration file", null);
        return false;
    }

    private void FileConfigError(int errorType, string message, Frame? frame, KeepalivedFindingCategory category = KeepalivedFindingCategory.Include)
    {
        int type = IncludeCheck | (frame?.IncludeType ?? (_stack.Count > 0 ? _stack[0].IncludeType : 0));
        bool isError = (type & errorType) != 0;
        // The main file is the configuration itself: that it cannot be read is not about this host.
        bool main = frame is null ? _stack.Count == 0 : _stack.Count > 0 && _stack[^1] == frame;
        Report(isError || main ? KeepalivedErrorLevel.FileNotFound : KeepalivedErrorLevel.None, category, message, !main);
    }

    private static bool HaveBrace(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\') { i++; continue; }
            if (s[i] == '{') return true;
        }
        return false;
    }

    private bool OpenGlobFile(string pattern, int includeType, string? baseDir)
    {
        var frame = new Frame { IncludeType = includeType, SavedIncludeCheck = IncludeCheck, Pattern = pattern };
        if (_stack.Count >= _options.MaxIncludeDepth)
        {
            Report(KeepalivedErrorLevel.FileNotFound, KeepalivedFindingCategory.Limit,
                $"include '{pattern}' nests deeper than {_options.MaxIncludeDepth} files - skipping (raise MaxIncludeDepth if this is intended)");
            return false;
        }
        _stack.Insert(0, frame);

        string full = pattern;
        if (!full.StartsWith('/'))
            full = (baseDir ?? _options.WorkingDirectory ?? "/").TrimEnd('/') + "/" + pattern;

        KeepalivedGlobResult glob;
        try { glob = _source.Glob(full, _options.MaxIncludedFiles); }
        catch (KeepalivedSourceException e)
        {
            FileConfigError(IncludeR, $"Error reading config file(s): glob(\"{pattern}\") returned {e.Message}, skipping.", frame);
            _stack.RemoveAt(0);
            return false;
        }
        if (glob.Truncated)
            Report(KeepalivedErrorLevel.FileNotFound, KeepalivedFindingCategory.Limit,
                $"include '{pattern}' matches more than {_options.MaxIncludedFiles} files - the rest are skipped (raise MaxIncludedFiles if this is intended)");

        if (glob.Matches.Count == 0)
        {
            if (glob.Missing > 0)
                FileConfigError(HaveBrace(pattern) ? IncludeB : IncludeM, $"Config files missing '{pattern}'.", frame);
            else if (glob.HadWildcards && ((IncludeCheck | includeType) & IncludeW) != 0)
                FileConfigError(IncludeW, $"No config files matched '{pattern}'.", frame);
            _stack.RemoveAt(0);
            return false;
        }
        if (glob.Missing > 0)
        {
            FileConfigError(IncludeB, $"Some config files missing: \"{pattern}\".", frame);
            if (((IncludeCheck | includeType) & IncludeB) != 0)
            {
                _stack.RemoveAt(0);
                return false;
            }
        }
        frame.Matches = glob.Matches.ToList();
        if (!OpenConfFile(frame))
        {
            _stack.RemoveAt(0);
            return false;
        }
        return true;
    }

    private bool OpenConfFile(Frame frame)
    {
        while (frame.Next < frame.Matches.Count)
        {
            _cancel.ThrowIfCancellationRequested();
            string name = frame.Matches[frame.Next++];
            if (name.Length > 0 && name[^1] == '/')
            {
                FileConfigError(IncludeR, $"Configuration file '{name}' is a directory - skipping", frame);
                continue;
            }
            var kind = _source.GetKind(name);
            if (kind != KeepalivedFileKind.RegularFile)
            {
                FileConfigError(IncludeR, $"Configuration file '{name}' is not a regular non-executable file - skipping", frame);
                continue;
            }
            // An include loop: keepalived includes the file again and again until open() fails for want of file
            // descriptors, then skips it and reads on, each level repeating the rest of the file. Reading it a second
            // time gives the same findings on the same lines (a definition read twice, ...), so a file already open
            // twice fails here as keepalived's deepest open does.
            if (_stack.Count(f => f != frame && f.FileIndex >= 0 && Files[f.FileIndex] == name) >= 2)
            {
                FileConfigError(IncludeR, $"Configuration file '{name}' open problem (Too many open files) - skipping", frame);
                continue;
            }
            if (FilesOpened >= _options.MaxIncludedFiles)
            {
                Report(KeepalivedErrorLevel.FileNotFound, KeepalivedFindingCategory.Limit,
                    $"more than {_options.MaxIncludedFiles} configuration files opened - '{name}' skipped (raise MaxIncludedFiles if this is intended)");
                Aborted = true;
                return false;
            }
            long budget = Math.Min(_options.MaxFileSize, _options.MaxTotalSize - BytesRead);
            byte[] data;
            try { data = _source.Read(name, Math.Max(0, budget), _cancel); }
            catch (KeepalivedSourceException e)
            {
                FileConfigError(IncludeR, $"Configuration file '{name}' open problem ({e.Message}) - skipping", frame);
                continue;
            }
            if (data.LongLength > budget)
            {
                bool total = budget < _options.MaxFileSize;
                Report(KeepalivedErrorLevel.FileNotFound, KeepalivedFindingCategory.Limit, total
                    ? $"Configuration file '{name}' would take the configuration over {_options.MaxTotalSize} bytes in all - not read (raise the size limit if this is intended)"
                    : $"Configuration file '{name}' is larger than {_options.MaxFileSize} bytes - not read (raise the size limit if this is intended)");
                Aborted = true;
                continue;
            }
            BytesRead += data.LongLength;
            FilesOpened++;
            frame.NumMatches++;
            frame.Data = data;
            frame.Pos = 0;
            frame.LineNo = 0;
            Files.Add(name);
            frame.FileIndex = Files.Count - 1;
            int slash = name.LastIndexOf('/');
            frame.Dir = slash <= 0 ? "/" : name.Substring(0, slash);
            return true;
        }
        return false;
    }

    /// <summary>get_next_file(): the next match of the innermost include, or back to the file that included it.</summary>
    private bool GetNextFile()
    {
        var frame = _stack[0];
        frame.Data = null;
        IncludeCheck = frame.SavedIncludeCheck;
        if (OpenConfFile(frame)) return true;
        _stack.RemoveAt(0);
        return _stack.Count > 0;
    }

    // What fgets() read, decoded: a UTF-8 chunk of at most 1023 bytes is at most 1023 UTF-16 characters.
    private readonly char[] _chunk = new char[MaxBuf];

    /// <summary>
    /// fgets(buf, 1024, stream) and keepalived's handling of what it read, decoded into <see cref="_chunk"/>: the number of
    /// characters, or -1 at the end of the current file. No string is made here: most lines are pooled or cut first.
    /// </summary>
    private int ReadPhysical(Frame f, out bool endedLine)
    {
        endedLine = false;
        var data = f.Data!;
        if (f.Pos >= data.Length) return -1;
        int start = f.Pos;
        int max = Math.Min(data.Length, start + MaxBuf - 1);
        int end = start;
        while (end < max)
        {
            if (data[end++] == (byte)'\n') break;
        }
        f.Pos = end;
        // strlen(): a NUL byte ends what keepalived sees of the chunk (and hides its newline)
        int len = end - start;
        int nul = Array.IndexOf(data, (byte)0, start, len);
        if (nul >= 0) len = nul - start;
        if (len > 0 && data[start + len - 1] == (byte)'\n') { endedLine = true; len--; }
        while (len > 0 && (data[start + len - 1] == (byte)'\n' || data[start + len - 1] == (byte)'\r')) len--;
        if (len == 0) return 0;
        var bytes = data.AsSpan(start, len);
        return Ascii.ToUtf16(bytes, _chunk, out int written) == System.Buffers.OperationStatus.Done
            ? written
            : Encoding.UTF8.GetChars(bytes, _chunk);
    }

    // ------------------------------------------------------------------ decomment

    /// <summary>Decomment() of the chunk just read: a line without comment, quote or backslash becomes its pooled text, trimmed.</summary>
    private string Decomment(ReadOnlySpan<char> chunk)
    {
        int lead = 0;
        while (lead < chunk.Length && IsBlank(chunk[lead])) lead++;
        var text = chunk.Slice(lead);
        if (text.IndexOfAny(CommentChars) >= 0) return Decomment(chunk.ToString());
        int end = text.Length;
        while (end > 0 && IsBlank(text[end - 1])) end--;
        return Pool(text.Slice(0, end));
    }

    private string Decomment(string str)
    {
        int lead = StrSpn(str, 0, " \t");
        // Most lines have no comment, quote or backslash: only the blanks around them go (no builder, at most one copy).
        if (str.AsSpan(lead).IndexOfAny(CommentChars) < 0)
        {
            int end = str.Length;
            while (end > lead && IsBlank(str[end - 1])) end--;
            return lead == 0 && end == str.Length ? str : str.Substring(lead, end - lead);
        }
        var sb = new StringBuilder(str, lead, str.Length - lead, str.Length);
        bool quote = false, cont = false;
        int skip = -1;
        int p = 0;
        while (true)
        {
            while (p < sb.Length && sb[p] != '!' && sb[p] != '#' && sb[p] != '"' && sb[p] != '\\') p++;
            if (p >= sb.Length) break;
            char c = sb[p];
            if (c == '"')
            {
                if (skip < 0) quote = !quote;
                p++;
                continue;
            }
            if (c == '\\')
            {
                if (p + 1 < sb.Length)
                {
                    if (!quote && (sb[p + 1] == '#' || sb[p + 1] == '!'))
                    {
                        sb.Remove(p, 1);
                        p++;
                    }
                    else p += 2;
                    continue;
                }
                sb.Length = p;
                cont = true;
                break;
            }
            if (!quote && skip < 0) skip = p;
            p++;
        }
        if (quote)
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Syntax, $"Unterminated quote '{sb}'");
        if (skip >= 0 && skip < sb.Length) sb.Length = skip;
        int e = sb.Length;
        while (e > 0 && IsBlank(sb[e - 1])) e--;
        sb.Length = e;
        if (cont) sb.Append('\\');
        return sb.ToString();
    }

    // ------------------------------------------------------------------ parameters

    private Def? FindDefinition(string s, int start, int len, bool definition, out int paramsStart, out int paramsEnd)
    {
        paramsStart = paramsEnd = -1;
        int name = start;
        bool braces = false;
        if (!definition && name < s.Length && s[name] == '{') { braces = true; name++; }
        if (name >= s.Length || (!IsAlpha(s[name]) && s[name] != '_')) return null;
        int p;
        if (len == 0)
        {
            len = 1;
            p = name + 1;
            while (p < s.Length && (IsAlnum(s[p]) || s[p] == '_')) { len++; p++; }
            if (braces)
            {
                if (!definition)
                {
                    while (p < s.Length && (s[p] == ' ' || IsDigit(s[p])))
                    {
                        if (s[p] != ' ')
                        {
                            if (paramsStart < 0) paramsStart = p;
                            paramsEnd = p;
                        }
                        p++;
                    }
                    if (paramsStart >= 0 && paramsEnd + 1 != p) return null;
                }
                if (p >= s.Length || s[p] != '}') return null;
            }
            else if (!definition && p < s.Length && s[p] != ' ' && s[p] != '\t' && s[p] != ',' && s[p] != ')')
                return null;
        }
        bool allowMultiline = definition
            || (!braces && name + len >= s.Length)
            || (braces && name + len + 1 >= s.Length);
        string key = s.Substring(name, Math.Min(len, s.Length - name));
        foreach (var d in _defs)
        {
            if (d.Name.Length == len && (allowMultiline || !d.Multiline) && d.Name == key)
            {
                if (paramsStart >= 0 && d.MaxParams == 0) return null;
                d.Params = paramsStart >= 0 ? s.Substring(paramsStart, paramsEnd - paramsStart + 1) : null;
                return d;
            }
        }
        return null;
    }

    /// <summary>replace_param(): expands $NAME and ${NAME} in <paramref name="buf"/>. Returns whether any was found.</summary>
    private bool ReplaceParam(ref string buf, ref string? multilinePtr)
    {
        int curPos = 0;
        bool found = false;
        string? nextPtr = null;
        string? ml = multilinePtr;
        int expansions = 0;
        while (true)
        {
            curPos = buf.IndexOf('$', curPos);
            if (curPos < 0 || curPos + 1 >= buf.Length) break;
            var def = FindDefinition(buf, curPos + 1, 0, false, out int pStart, out int pEnd);
            if (def is null) { curPos++; continue; }
            if (++expansions > _options.MaxParameterExpansions)
            {
                Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Limit,
                    $"Parameter ${def.Name} expands more than {_options.MaxParameterExpansions} times on one line without growing (it refers to itself; keepalived would loop for ever) - line left as it is");
                return false;   // no further rounds on this line
            }
            found = true;
            int extraBraces = buf[curPos + 1] == '{' ? 2 : 0;
            nextPtr = ml;
            if (def.Multiline && ml is not null) _multilineStack.Push((ml, _multilineSeqDepth));
            if (def.Multiline) _multilineSeqDepth = _seqs.Count;
            if (def.Fn is not null) def.Value = def.Fn(def);
            string value = def.Value ?? "";
            int replacedTotal = def.Name.Length + 1 + extraBraces;
            if (def.Params is not null) replacedTotal = (pEnd - (curPos + 1)) + (extraBraces != 0 ? 0 : 1) + 1 + extraBraces;
            string replacing;
            if (def.Multiline)
            {
                int nl = value.IndexOf(DefLineEnd);
                replacing = nl < 0 ? value : value.Substring(0, nl);
                nextPtr = nl < 0 ? "" : value.Substring(nl + 1);
                ml = nextPtr;
            }
            else replacing = value;
            if (buf.Length + replacing.Length - replacedTotal >= MaxBuf)
            {
                // keepalived logs it (not a configuration error) and keeps the line as expanded so far.
                Report(KeepalivedErrorLevel.None, KeepalivedFindingCategory.Preprocessor, $"Parameter substitution on line '{buf}' would exceed maximum line length");
                return false;
            }
            buf = buf.Substring(0, curPos) + replacing + buf.Substring(Math.Min(buf.Length, curPos + replacedTotal));
            if (value.Length > StrSpn(value, 0, " \t") && value[StrSpn(value, 0, " \t")] == '~') break;
        }
        if (found) multilinePtr = nextPtr;
        return found;
    }

    /// <summary>check_definition(): a line '$NAME=value' defines (or redefines) a parameter.</summary>
    private Def? CheckDefinition(string buf)
    {
        if (buf.Length < 2 || buf[0] != '$') return null;
        if (!IsAlpha(buf[1]) && buf[1] != '_') return null;
        int p = 2;
        for (; p < buf.Length; p++)
        {
            if (buf[p] == '=') break;
            if (!IsAlnum(buf[p]) && buf[p] != '_') return null;
        }
        int nameLen = p - 1;
        p += StrSpn(buf, p, " \t");
        if (p >= buf.Length || buf[p] != '=') return null;
        var def = FindDefinition(buf, 1, nameLen, true, out _, out _);
        if (def is not null) { def.Fn = null; }
        else
        {
            def = new Def { Name = buf.Substring(1, nameLen) };
            _defs.Add(def);
        }
        p += StrSpn(buf, p + 1, " \t") + 1;
        string rest = p <= buf.Length ? buf.Substring(Math.Min(p, buf.Length)) : "";
        int valueLen = rest.Length;
        if (valueLen > 0 && rest[valueLen - 1] == '\\')
        {
            while (valueLen >= 2 && IsBlank(rest[valueLen - 2])) valueLen--;
            if (valueLen < 2) { rest = ""; valueLen = 0; }
            def.Multiline = true;
        }
        else def.Multiline = false;
        var str = rest.Substring(0, valueLen).ToCharArray();
        if (valueLen >= 2 && def.Multiline) str[valueLen - 1] = DefLineEnd;
        def.Value = new string(str);
        return def;
    }

    // ------------------------------------------------------------------ ~SEQ and ~LST

    private bool AddSeq(string buf)
    {
        int p = 4;
        bool hex = false;
        if (p < buf.Length && buf[p] == 'x') { p++; hex = true; }
        p += StrSpn(buf, p, " \t");
        if (p >= buf.Length || buf[p++] != '(') return false;
        p += StrSpn(buf, p, " \t");
        int var = p;
        p += StrCSpn(buf, p, " \t,)");
        int varEnd = p;
        p += StrSpn(buf, p, " \t");
        if (p >= buf.Length || buf[p] == ')' || p == var)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"Invalid ~SEQ definition '{buf}'");
            return false;
        }
        p++;
        p += StrSpn(buf, p, " \t");
        int endSeq = buf.IndexOf(')', p);
        if (endSeq < 0)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"Invalid ~SEQ definition '{buf}'");
            return false;
        }
        if (endSeq + 1 - p + 1 > 3 * 20 + 3 + 1)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"~SEQ parameter strings too long '{buf}'");
            return false;
        }
        string seqBuf = buf.Substring(p, endSeq + 1 - p);
        string? ml = null;
        ReplaceParam(ref seqBuf, ref ml);
        if (ml is not null)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"~SEQ parameter is multiline definition '{buf}'");
            return false;
        }
        long start, step, end;
        int q = 0;
        q = StrToLong(seqBuf, q, 0, out long one, out _);
        q += StrSpn(seqBuf, q, " \t");
        if (q < seqBuf.Length && seqBuf[q] == ')')
        {
            end = one;
            step = end < 1 ? -1 : 1;
            start = end < 0 ? -1 : 1;
        }
        else
        {
            if (q >= seqBuf.Length || seqBuf[q] != ',') { Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"Invalid ~SEQ definition '{buf}'"); return false; }
            q = StrToLong(seqBuf, q + 1, 0, out long two, out _);
            q += StrSpn(seqBuf, q, " \t");
            if (q < seqBuf.Length && seqBuf[q] == ')')
            {
                start = one; end = two; step = start <= end ? 1 : -1;
            }
            else
            {
                if (q >= seqBuf.Length || seqBuf[q] != ',') { Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"Invalid ~SEQ definition '{buf}'"); return false; }
                q = StrToLong(seqBuf, q + 1, 0, out long three, out _);
                q += StrSpn(seqBuf, q, " \t");
                if (q >= seqBuf.Length || seqBuf[q] != ')') { Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"Invalid ~SEQ definition '{buf}'"); return false; }
                start = one; step = two; end = three;
                if (step == 0 || (start < end && step < 0) || (start > end && step > 0))
                {
                    Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"Invalid ~SEQ values '{buf}'");
                    return false;
                }
            }
        }
        if (hex && (start < 0 || end < 0))
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"~SEQx is only valid for positive numbers '{buf}'");
            return false;
        }
        int t = endSeq;
        t += StrSpn(buf, t + 1, " \t") + 1;
        _seqs.Add(new Seq { Var = buf.Substring(var, varEnd - var), Next = start, Step = step, Last = end, Hex = hex, Text = t <= buf.Length ? buf.Substring(Math.Min(t, buf.Length)) : "" });
        return true;
    }

    private bool AddLst(string buf)
    {
        int p = 4;
        var names = new List<string>();
        var sets = new List<List<string>>();
        p += StrSpn(buf, p, " \t");
        if (p >= buf.Length || buf[p++] != '(') return false;
        p += StrSpn(buf, p, " \t");
        char endChar = ',';
        if (p < buf.Length && buf[p] == '{') { endChar = '}'; p++; p += StrSpn(buf, p, " \t"); }
        int numVars = 0;
        while (true)
        {
            int v = p;
            p += StrCSpn(buf, p, " \t,}");
            names.Add(buf.Substring(v, p - v));
            p += StrSpn(buf, p, " \t");
            if (p < buf.Length && buf[p] == endChar) break;
            if (p >= buf.Length || buf[p] != ',') return false;
            p += StrSpn(buf, p + 1, " \t") + 1;
            numVars++;
        }
        if (p < buf.Length && buf[p] == '}') p += StrSpn(buf, p + 1, " \t") + 1;
        if (p >= buf.Length || buf[p++] != ',') return false;
        p += StrSpn(buf, p, " \t");
        while (true)
        {
            var set = new List<string>();
            endChar = ',';
            if (p < buf.Length && buf[p] == '{') { endChar = '}'; p++; p += StrSpn(buf, p, " \t"); }
            int numValues = 0;
            while (true)
            {
                int v = p;
                p += StrCSpn(buf, p, " \t,})");
                set.Add(buf.Substring(v, p - v));
                p += StrSpn(buf, p, " \t");
                if (p < buf.Length && (buf[p] == endChar || (buf[p] == ')' && endChar == ','))) break;
                if (p >= buf.Length || buf[p] != ',') return false;
                p += StrSpn(buf, p + 1, " \t") + 1;
                if (++numValues > numVars)
                {
                    Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"~LST specification has too many values '{buf}'");
                    return false;
                }
            }
            for (; numValues < numVars; numValues++) set.Add("");
            sets.Add(set);
            if (p < buf.Length && buf[p] == '}' && endChar == '}') p += StrSpn(buf, p + 1, " \t") + 1;
            if (p < buf.Length && buf[p] == ')') break;
            if (p >= buf.Length || buf[p] != ',') return false;
            p += StrSpn(buf, p + 1, " \t") + 1;
        }
        if (names.Count == 0 || sets.Count == 0) return false;
        p += StrSpn(buf, p + 1, " \t") + 1;
        _seqs.Add(new Seq { LstParams = names, LstValues = sets, Text = p <= buf.Length ? buf.Substring(Math.Min(p, buf.Length)) : "" });
        return true;
    }

    private void SetDefinition(string name, string value)
    {
        var def = FindDefinition(name, 0, name.Length, false, out _, out _);
        if (def is not null) def.Fn = null;
        else { def = new Def { Name = name }; _defs.Add(def); }
        def.Value = value;
    }

    // ------------------------------------------------------------------ include

    private static bool IsInclude(string buf)
    {
        if (!buf.StartsWith("include", StringComparison.Ordinal) || buf.Length <= 7) return false;
        if (IsSpace(buf[7])) return true;
        return buf.Length > 8 && IsSpace(buf[8]) && "rmwba".IndexOf(buf[7]) >= 0;
    }

    private bool CheckInclude(string buf)
    {
        if (!IsInclude(buf)) return false;
        int p;
        int type;
        if (IsSpace(buf[7])) { p = 8; type = 0; }
        else
        {
            p = 9;
            type = buf[7] switch
            {
                'r' => IncludeR,
                'a' => IncludeR | IncludeM | IncludeB | IncludeW,
                'w' => IncludeR | IncludeM | IncludeW,
                'm' => IncludeR | IncludeM,
                _ => IncludeR | IncludeB,
            };
        }
        p = Math.Min(p, buf.Length);
        p += StrSpn(buf, p, " \t");
        string dir = CurrentDirectory();
        OpenGlobFile(buf.Substring(p), type, dir);
        return true;
    }

    // ------------------------------------------------------------------ read_line

    /// <summary>Reads the next logical line; null at the end of all files.</summary>
    public KeepalivedLine? ReadLine()
    {
        string buf;
        bool eof = false;
        do
        {
            _cancel.ThrowIfCancellationRequested();
            if (Aborted) { eof = true; buf = ""; break; }
            if (_lineResidue is not null)
            {
                buf = _lineResidue;
                _lineResidue = null;
            }
            else if (_seqs.Count > 0 && _seqs.Count > _multilineSeqDepth)
            {
                if (--_seqLinesLeft < 0)
                {
                    Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Limit,
                        $"~SEQ/~LST produce more than {_options.MaxSequenceLines} lines - the rest of the sequence is dropped (raise MaxSequenceLines if this is intended)");
                    _seqs.Clear();
                    _seqLinesLeft = long.MaxValue;
                    buf = "";
                    continue;
                }
                var seq = _seqs[^1];
                if (seq.LstParams is null)
                {
                    string val = seq.Hex ? ((ulong)seq.Next).ToString("x") : Inv(seq.Next);
                    SetDefinition(seq.Var, val);
                    buf = seq.Text;
                    seq.Next += seq.Step;
                    if ((seq.Step > 0 && seq.Next > seq.Last) || (seq.Step < 0 && seq.Next < seq.Last))
                        _seqs.RemoveAt(_seqs.Count - 1);
                }
                else
                {
                    var values = seq.LstValues![seq.LstNext];
                    for (int i = 0; i < seq.LstParams.Count; i++)
                        SetDefinition(seq.LstParams[i], i < values.Count ? values[i] : "");
                    buf = seq.Text;
                    if (seq.LstNext == seq.LstValues.Count - 1) _seqs.RemoveAt(_seqs.Count - 1);
                    else seq.LstNext++;
                }
            }
            else if (_nextPtr is not null)
            {
                int end = _nextPtr.IndexOf(DefLineEnd);
                if (end < 0)
                {
                    buf = _nextPtr;
                    if (_multilineStack.Count > 0)
                    {
                        var (rest, depth) = _multilineStack.Pop();
                        _nextPtr = rest;
                        _multilineSeqDepth = depth;
                    }
                    else
                    {
                        _nextPtr = null;
                        _multilineSeqDepth = 0;
                    }
                }
                else
                {
                    buf = _nextPtr.Substring(0, end);
                    _nextPtr = _nextPtr.Substring(end + 1);
                }
            }
            else
            {
                if (_stack.Count == 0) { eof = true; buf = ""; break; }
                var file = _stack[0];
                while (true)
                {
                    int raw = ReadPhysical(file, out bool endedLine);
                    if (raw < 0)
                    {
                        if (GetNextFile())
                        {
                            file = _stack[0];
                            Current = new KeepalivedLocation(file.FileIndex, file.LineNo);
                            continue;
                        }
                        eof = true;
                        buf = "";
                        break;
                    }
                    if (endedLine) file.LineNo++;
                    Current = new KeepalivedLocation(file.FileIndex, file.LineNo);
                    if (raw == 0)
                    {
                        if (_multilineParamDef)
                        {
                            _multilineParamDef = false;
                            if (string.IsNullOrEmpty(_currentDef!.Value)) _currentDef.Multiline = false;
                        }
                        continue;
                    }
                    buf = Decomment(_chunk.AsSpan(0, raw));
                    if (buf.Length > 0) break;
                }
                if (eof) { buf = ""; break; }
            }

            int len = buf.Length;
            if (_multilineParamDef)
            {
                if (len > 0 && buf[len - 1] == '\\')
                {
                    len--;
                    while (len >= 1 && IsBlank(buf[len - 1])) len--;
                    buf = buf.Substring(0, len) + DefLineEnd;
                    len++;
                }
                else
                {
                    _multilineParamDef = false;
                    if (string.IsNullOrEmpty(_currentDef!.Value)) _currentDef.Multiline = false;
                }
                if (len >= 2 || (len > 0 && !_multilineParamDef))
                    _currentDef!.Value += buf.Substring(0, len);
                buf = "";
                continue;
            }
            if (len == 0) continue;

            bool recheck;
            int rechecks = 0;
            do
            {
                recheck = false;
                if (buf.Length > 0 && buf[0] == '@')
                {
                    bool rev = buf.Length > 1 && buf[1] == '^';
                    int ofs = rev ? 2 : 1;
                    int sp = -1;
                    for (int i = ofs; i < buf.Length; i++) if (buf[i] == ' ' || buf[i] == '\t') { sp = i; break; }
                    if (sp < 0) { buf = ""; break; }
                    string id = buf.Substring(ofs, sp - ofs);
                    bool mismatch = _configId is null || id != _configId;
                    if (mismatch != rev) { buf = ""; break; }
                    sp += StrSpn(buf, sp, " \t");
                    buf = buf.Substring(sp);
                }
                if (buf.Length > 0 && buf[0] == '$')
                {
                    var def = CheckDefinition(buf);
                    if (def is not null)
                    {
                        if (def.Multiline) { _multilineParamDef = true; _currentDef = def; }
                        buf = "";
                        break;
                    }
                }
                if (buf.StartsWith("~SEQ", StringComparison.Ordinal) || buf.StartsWith("~LST", StringComparison.Ordinal))
                {
                    if (buf[1] == 'S')
                    {
                        if (!AddSeq(buf)) Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"Invalid ~SEQ specification '{buf}'");
                    }
                    else if (!AddLst(buf)) Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Preprocessor, $"Invalid ~LST specification '{buf}'");
                    buf = "";
                    break;
                }
                if (buf.Length > 0 && buf[0] == '~') break;
                if (buf.IndexOf('$') >= 0)
                {
                    if (!ReplaceParam(ref buf, ref _nextPtr)) break;
                    buf = Decomment(buf);
                    if (buf.Length > 0 && buf[0] == '@') recheck = true;
                    if (buf.IndexOf('$') >= 0) recheck = true;
                    if (recheck && ++rechecks > _options.MaxParameterExpansions)
                    {
                        Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Limit,
                            $"Parameters on this line keep expanding into more parameters (more than {_options.MaxParameterExpansions} rounds; a parameter that refers to itself?) - line left as it is");
                        break;
                    }
                }
            } while (recheck);
        } while (buf.Length == 0 || CheckInclude(buf));

        if (eof)
        {
            Current = KeepalivedLocation.None;
            return null;
        }

        // Split '{' and '}' (outside double quotes) onto lines of their own.
        int pp = 0;
        bool found = false;
        if (buf[0] != '{' && buf[0] != '}')
        {
            int i = 0;
            while (true)
            {
                while (i < buf.Length && buf[i] != '{' && buf[i] != '}' && buf[i] != '"') i++;
                if (i >= buf.Length) break;
                if (buf[i] != '"') { found = true; pp = i; break; }
                int close = buf.IndexOf('"', i + 1);
                if (close < 0) break;
                i = close + 1;
            }
        }
        else found = true;
        int bl = buf.Length;
        if (found)
        {
            int skip = pp == 0 ? StrSpn(buf, 1, " \t") + 1 : 0;
            if (pp + skip < buf.Length)
            {
                int rl = buf.Length;
                while (rl > pp + skip && IsBlank(buf[rl - 1])) rl--;
                _lineResidue = Pool(buf.AsSpan(pp + skip, rl - pp - skip));
                bl = pp + skip;
            }
        }
        while (bl > 0 && IsBlank(buf[bl - 1])) bl--;
        if (bl < buf.Length) buf = Pool(buf.AsSpan(0, bl));
        if (buf == "{") BlockDepth++;
        else if (buf == "}")
        {
            if (BlockDepth-- < 1)
            {
                Report(KeepalivedErrorLevel.UnexpectedBlockEnd, KeepalivedFindingCategory.Syntax, "Extra '}' found");
                BlockDepth = 0;
            }
        }

        if (++LinesProduced > _options.MaxLines)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Limit,
                $"the configuration has more than {_options.MaxLines} lines - the rest is not read (raise MaxLines if this is intended)");
            Aborted = true;
            Current = KeepalivedLocation.None;
            return null;
        }
        return LineOf(buf);
    }

    private static readonly System.Buffers.SearchValues<char> CommentChars = System.Buffers.SearchValues.Create("!#\"\\");
    private const string WhiteSpaceOrQuote = WhiteSpace + "\"";

    private readonly List<string> _words = new(16);

    // Lines and words repeat (keywords, small numbers, names, whole lines such as "retry 2" or "}"): one string per
    // distinct short text, so a large configuration does not make (and keep) a string per line and per word.
    private const int MaxPooled = 64;
    private readonly string?[] _pool = new string?[16384];
    // The line of a pooled text, its words split once (lines hold them read-only; what the model keeps is copied).
    private readonly KeepalivedLine?[] _poolLines = new KeepalivedLine?[16384];

    private int PoolSlot(ReadOnlySpan<char> span) => (int)((uint)string.GetHashCode(span) % (uint)_pool.Length);

    private string Pool(ReadOnlySpan<char> span)
    {
        if (span.Length == 0) return "";
        if (span.Length > MaxPooled) return span.ToString();
        int slot = PoolSlot(span);
        var pooled = _pool[slot];
        if (pooled is not null && span.SequenceEqual(pooled)) return pooled;
        _poolLines[slot] = null;
        return _pool[slot] = span.ToString();
    }

    /// <summary>The line of <paramref name="text"/> with its <see cref="SplitWords"/>, shared between lines of the same pooled text.</summary>
    private KeepalivedLine LineOf(string text)
    {
        if (text.Length == 0 || text.Length > MaxPooled) return new KeepalivedLine { Text = text, Words = SplitWords(text) };
        int slot = PoolSlot(text);
        if (!ReferenceEquals(_pool[slot], text)) return new KeepalivedLine { Text = text, Words = SplitWords(text) };
        if (_poolLines[slot] is { } cached) return cached;
        var line = new KeepalivedLine { Text = text, Words = SplitWords(text) };
        // Splitting pools the words, which may have taken the slot; a quoted text may report an unmatched quote each time.
        if (ReferenceEquals(_pool[slot], text) && text.IndexOf('"') < 0) _poolLines[slot] = line;
        return line;
    }

    private string Word(string s, int start, int length) => Pool(s.AsSpan(start, length));

    /// <summary>alloc_strvec(): words separated by white space; a double-quoted string is one word without its quotes.</summary>
    internal string[] SplitWords(string s)
    {
        var words = _words;
        words.Clear();
        int cp = 0;
        while (true)
        {
            cp += StrSpn(s, cp, WhiteSpace);
            if (cp >= s.Length) break;
            int start = cp;
            string w;
            if (s[start] == '"')
            {
                start++;
                int close = s.IndexOf('"', start);
                if (close < 0)
                {
                    Report(KeepalivedErrorLevel.UnmatchedQuote, KeepalivedFindingCategory.Syntax, $"Unmatched quote: '{s}'");
                    break;
                }
                w = Word(s, start, close - start);
                cp = close + 1;
            }
            else
            {
                cp += StrCSpn(s, start, WhiteSpaceOrQuote);
                w = Word(s, start, cp - start);
            }
            words.Add(w);
        }
        return words.Count == 0 ? Array.Empty<string>() : words.ToArray();
    }
}
