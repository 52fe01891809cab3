using System.Globalization;
using static HaPowerShell.Core.Keepalived.KeepalivedText;

namespace HaPowerShell.Core.Keepalived;

/// <summary>Thrown when keepalived would exit at once (a keyword missing a parameter: strvec_slot() -> exit).</summary>
internal sealed class KeepalivedFatalException : Exception
{
    public KeepalivedFatalException() : base("keepalived exits here") { }
}

/// <summary>
/// One read of the configuration by one keepalived process (parent, checker, VRRP, BFD): keepalived's
/// process_stream() over the logical lines, the keyword handlers (partial classes per keepalived source
/// file) and the data they build.
/// </summary>
internal sealed partial class KeepalivedParseContext
{
    private readonly KeepalivedParseSession _session;
    private readonly KeepalivedReader? _reader;
    private readonly KeepalivedLineStore _lines;
    private int _replay;
    private int _skipSublevel;
    private int _kwLevel;
    private readonly List<KeepalivedBlock?> _blocks = new();

    public KeepalivedParseContext(KeepalivedParseSession session, KeepalivedPass pass, KeepalivedReader? reader)
    {
        _session = session;
        Pass = pass;
        _reader = reader;
        _lines = session.Lines;
    }

    public KeepalivedPass Pass { get; }
    public KeepalivedConfiguration Config => _session.Config;
    public KeepalivedParseOptions Options => _session.Options;
    public IKeepalivedEnvironment Env => _session.Environment;
    public KeepalivedParseSession Session => _session;

    /// <summary>The raw text of the keyword line being handled (buf_extern).</summary>
    public string BufExtern { get; private set; } = "";

    /// <summary>The keyword being handled.</summary>
    public string? CurrentKeyword { get; private set; }

    public KeepalivedLocation Current => _reader?.Current ?? _replayLocation;
    private KeepalivedLocation _replayLocation = KeepalivedLocation.None;

    /// <summary>The block a keyword's handler opened; its sub-keywords are recorded on it.</summary>
    public KeepalivedBlock? OpenedBlock { get; set; }

    public KeepalivedBlock? CurrentBlock
    {
        get
        {
            for (int i = _blocks.Count - 1; i >= 0; i--)
                if (_blocks[i] is { } b) return b;
            return null;
        }
    }

    // ---------------------------------------------------------------- lines

    private KeepalivedLine? ReadLine()
    {
        if (_reader is not null)
        {
            var l = _reader.ReadLine();
            if (l is not null) _lines.Add(l, _reader.Current);
            return l;
        }
        if (_replay >= _lines.Count)
        {
            _replayLocation = KeepalivedLocation.None;
            return null;
        }
        var (line, location) = _lines[_replay++];
        _replayLocation = location;
        return line;
    }

    // ---------------------------------------------------------------- reporting

    public void Report(KeepalivedErrorLevel level, KeepalivedFindingCategory category, string message,
        bool environment = false, string? suggestion = null, string? keyword = null)
        => _session.Add(Current, level, category, message, environment, suggestion, keyword ?? CurrentKeyword, context: null);

    public void Error(string message, KeepalivedFindingCategory category = KeepalivedFindingCategory.InvalidValue)
        => Report(KeepalivedErrorLevel.General, category, message);

    public void EnvError(string message)
        => Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, message, environment: true);

    /// <summary>A note keepalived only logs (it does not fail the test); kept as a warning for the user.</summary>
    public void Note(string message, KeepalivedFindingCategory category = KeepalivedFindingCategory.Semantic, bool environment = false)
        => _session.Add(Current, KeepalivedErrorLevel.None, category, message, environment, null, CurrentKeyword, null, reportedByKeepalived: false);

    /// <summary>strvec_slot(): word <paramref name="i"/>, or keepalived's "missing a parameter" and an exit.</summary>
    public string Slot(string[] words, int i)
    {
        if (i < words.Length) return words[i];
        string first = words.Length > 0 ? words[0] : "***MISSING ***";
        string msg = i > 0 && i - 1 < words.Length
            ? $"*** Configuration line starting `{first}` is missing a parameter after keyword `{words[i - 1]}` at word position {i + 1}"
            : $"*** Configuration line starting `{first}` is missing a parameter at word position {i + 1}";
        Report(KeepalivedErrorLevel.MissingParameter, KeepalivedFindingCategory.MissingValue, msg);
        throw new KeepalivedFatalException();
    }

    /// <summary>
    /// keepalived 2.2.7 dies here (e.g. a handler given no words by alloc_strvec_quoted_escaped() passes the NULL on to
    /// set_script_params_array(), which dereferences it): keepalived -t ends with a crash, so reading stops.
    /// </summary>
    public void Crash(string why)
    {
        _session.Add(Current, KeepalivedErrorLevel.Fatal, KeepalivedFindingCategory.Syntax,
            $"keepalived 2.2.7 does not survive this line ({why}): keepalived -t crashes (segmentation fault or abort); what follows is not checked",
            false, null, CurrentKeyword, null, reportedByKeepalived: false);
        throw new KeepalivedFatalException();
    }

    // ---------------------------------------------------------------- numbers (keepalived -t: every error reported, nothing ignored)

    public bool ReadInt(string number, out int result, int min, int max)
    {
        int end = StrToLong(number, 0, 10, out long val, out bool overflow);
        result = unchecked((int)val);
        if (end < number.Length)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"invalid number '{number}'");
        else if (overflow || val < int.MinValue || val > int.MaxValue)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"number '{number}' outside integer range");
        else if (val < min || val > max)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"number '{number}' outside range [{min}, {max}]");
        else return true;
        return false;
    }

    public bool ReadUnsigned(string number, out uint result, uint min, uint max, int radix = 10)
    {
        int offset = StrSpn(number, 0, WhiteSpace);
        int end = StrToULong(number, offset, radix, out ulong val, out bool overflow, out _);
        result = unchecked((uint)val);
        if (offset < number.Length && number[offset] == '-')
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"negative number '{number}'");
        else if ((end == offset ? offset : end) < number.Length)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"invalid number '{number}'");
        else if (overflow || val > uint.MaxValue)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"number '{number}' outside unsigned integer range");
        else if (val < min || val > max)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"number '{number}' outside range [{min}, {max}]");
        else return true;
        return false;
    }

    public bool ReadUnsigned64(string number, out ulong result, ulong min, ulong max)
    {
        int offset = StrSpn(number, 0, WhiteSpace);
        int end = StrToULong(number, offset, 10, out ulong val, out bool overflow, out _);
        result = val;
        if (offset < number.Length && number[offset] == '-')
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"negative number '{number}'");
        else if ((end == offset ? offset : end) < number.Length)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"invalid number '{number}'");
        else if (overflow)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"number '{number}' outside unsigned 64 bit range");
        else if (val < min || val > max)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"number '{number}' outside range [{min}, {max}]");
        else return true;
        return false;
    }

    /// <summary>read_decimal_unsigned_long_func(): a decimal with up to <paramref name="shift"/> places, scaled by 10^shift.</summary>
    public bool ReadDecimal(string param, out ulong result, ulong min, ulong max, int shift, bool ignoreError = true)
    {
        // read_decimal_unsigned_long_func(), non-strict build: after an invalid number or one out of range it still
        // returns true when what strtoull() read is in range and ignore_error is set (even with -t).
        result = 0;
        if (param.Length > 0 && param[0] == '-')
        {
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"negative number '{param}'");
            return false;
        }
        int dp = param.IndexOf('.');
        int numDp = dp >= 0 ? param.Length - dp - 1 : 0;
        bool roundUp = false;
        if (numDp > shift)
        {
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"number '{param}' has too many decimal places");
            roundUp = param[dp + shift + 1] >= '5';
            numDp = shift;
        }
        // The digits without the point, padded with zeros to 'shift' places (built on the stack: this runs for every timer).
        int integral = dp >= 0 ? dp : param.Length;
        int length = integral + numDp + (shift - numDp);
        Span<char> updated = length <= 128 ? stackalloc char[128] : new char[length];
        updated = updated.Slice(0, length);
        param.AsSpan(0, integral).CopyTo(updated);
        if (dp >= 0) param.AsSpan(dp + 1, numDp).CopyTo(updated.Slice(integral));
        updated.Slice(integral + numDp).Fill('0');
        int end = StrToULong(updated, 0, 10, out ulong val, out bool overflow, out _);
        if (roundUp) val = unchecked(val + 1);
        result = val;
        bool valid = end >= updated.Length && !(end == 0 && updated.Length > 0);
        if (updated.Length == 0) valid = true;
        if (!valid)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"invalid number '{param}'");
        else if (overflow)
        {
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue, $"number '{param}' outside unsigned decimal range");
            return false;
        }
        else if (val < min || val > max)
            Report(KeepalivedErrorLevel.InvalidNumber, KeepalivedFindingCategory.InvalidValue,
                $"number '{param}' outside range [{Decimal(min, shift)}, {Decimal(max, shift)}]");
        else
            return true;
        return ignoreError && val >= min && val <= max;
    }

    /// <summary>read_timer(): seconds with up to 6 places, in microseconds; <paramref name="max"/> 0 = no upper bound.</summary>
    public bool ReadTimer(string text, out ulong micros, ulong min, ulong max)
        => ReadDecimal(text, out micros, min, max == 0 ? TimerMaximum : max, TimerHzDigits);

    public static double Seconds(ulong micros) => micros / (double)TimerHz;

    // ---------------------------------------------------------------- addresses

    /// <summary>inet_stosockaddr(): an address (a range '-' or prefix '/' after it is ignored) and an optional port.</summary>
    public bool ParseSockAddr(string ip, string? port, out System.Net.IPAddress? address, out int portNumber)
    {
        address = null;
        portNumber = 0;
        if (port is not null)
        {
            if (!ReadUnsigned(port, out uint p, 1, 65535)) return false;
            portNumber = (int)p;
        }
        int cut = ip.IndexOf('-');
        if (cut < 0) cut = ip.IndexOf('/');
        string text = cut >= 0 ? ip.Substring(0, cut) : ip;
        return TryParseAddress(text, out address);
    }

    // ---------------------------------------------------------------- process_stream

    /// <summary>keepalived's process_stream(): reads keyword lines of one block (the whole file at level 0).</summary>
    public bool ProcessStream(KeywordTable table, bool needBob)
    {
        bool retErr = false;
        while (ReadLine() is { } line)
        {
            var words = line.Words;
            if (words.Length == 0) continue;
            string str = words[0];
            if (_kwLevel == 0) BeforeTopLevelLine(words);

            if (_skipSublevel == -1)
            {
                if (str == "{")
                {
                    _skipSublevel = 1;
                    needBob = false;
                    continue;
                }
                _skipSublevel = 0;
            }
            if (_skipSublevel != 0)
            {
                foreach (var w in words)
                {
                    str = w;
                    if (w == "{") _skipSublevel++;
                    else if (w == "}")
                    {
                        if (--_skipSublevel == 0) break;
                    }
                }
                if (str == "}" && _skipSublevel == 0 && _kwLevel > 0)
                {
                    retErr = true;
                    break;
                }
                continue;
            }

            if (needBob)
            {
                needBob = false;
                if (str == "{" && _kwLevel > 0) continue;
                CurrentKeyword = _blocks.Count > 0 ? _openerName : null;
                Report(KeepalivedErrorLevel.MissingBlockStart, KeepalivedFindingCategory.Syntax, "Missing '{' at beginning of configuration block");
            }
            else if (str == "{")
            {
                CurrentKeyword = null;
                Report(KeepalivedErrorLevel.UnexpectedBlockStart, KeepalivedFindingCategory.Syntax, "Unexpected '{' - ignoring");
                continue;
            }

            if (str == "}" && _kwLevel > 0) break;

            var kw = table.Find(str);
            if (kw is null)
            {
                CurrentKeyword = str;
                _session.UnknownKeyword(Current, str, table, _kwLevel, _blockPath,
                    _orphan is { } o ? (o.Keyword, o.Line) : null);
                if (_kwLevel == 0)
                {
                    if (str == "}" && _orphan is { } oo) _orphan = oo.Depth <= 1 ? null : (oo.Keyword, oo.Line, oo.Depth - 1);
                    else if (str != "}" && _orphan is null) _pendingOrphan = (str, Current.Line);
                }
                continue;
            }

            bool active = _session.IsActive(kw.Owner, Pass);
            bool hasSub = kw.Sub is not null && active;
            bool bobNeeded = false;
            if (!active)
            {
                _skipSublevel = words[^1] == "{" ? 1 : -1;
                if (kw.Handler is not null) { CurrentKeyword = str; kw.Handler(this, null); }
            }
            if (hasSub)
            {
                if (words[^1] == "{") words = words[..^1];
                else bobNeeded = true;
            }
            OpenedBlock = null;
            if (active)
            {
                BufExtern = line.Text;
                CurrentKeyword = str;
                if (CurrentBlock is { } owner && _recordSettings)
                    owner.Settings.Add(new KeepalivedSetting
                    {
                        Keyword = str, Values = words.Length > 1 ? words[1..] : Array.Empty<string>(), Text = line.Text,
                        File = _session.FileName(Current), Line = Current.Line,
                    });
                if (kw.Handler is { } handler) Guard(str, static (c, a) => a.Handler(c, a.Words), (Handler: handler, Words: words));
            }
            if (hasSub)
            {
                _kwLevel++;
                _blocks.Add(OpenedBlock);
                string? savedOpener = _openerName;
                _openerName = str;
                _blockPath.Add(str);
                OpenedBlock = null;
                bool ret = ProcessStream(kw.Sub!, bobNeeded);
                _blockPath.RemoveAt(_blockPath.Count - 1);
                _openerName = savedOpener;
                _blocks.RemoveAt(_blocks.Count - 1);
                _kwLevel--;
                if (!ret && active && kw.CloseHandler is { } close)
                {
                    CurrentKeyword = str;
                    Guard(str, static (c, h) => h(c), close);
                }
            }
        }
        return retErr;
    }

    private (string Keyword, int Line, int Depth)? _orphan;
    private (string Keyword, int Line)? _pendingOrphan;

    /// <summary>Follows the block an unknown top-level keyword opened: keepalived reads what is inside at the top level.</summary>
    private void BeforeTopLevelLine(string[] words)
    {
        var pending = _pendingOrphan;
        _pendingOrphan = null;
        if (pending is { } p && words.Length == 1 && words[0] == "{")
        {
            _orphan = (p.Keyword, p.Line, 1);
            return;
        }
        if (_orphan is { } o && words[0] == "{") _orphan = (o.Keyword, o.Line, o.Depth + 1);
    }

    /// <summary>Runs a keyword handler; a fault in it becomes a finding instead of ending the whole check.</summary>
    /// <summary>
    /// Set while keepalived would be writing into an object that does not exist (a skipped block whose '{' was missing,
    /// with no earlier one of its kind: keepalived's list_last_entry() of an empty list). A handler that then finds
    /// nothing to write into is where keepalived corrupts its memory and dies.
    /// </summary>
    internal string? WritingIntoNothing;

    /// <summary>Runs a keyword handler (no closure per line: this runs for every line of every pass).</summary>
    private void Guard<T>(string keyword, Action<KeepalivedParseContext, T> handler, T argument)
    {
        try { handler(this, argument); }
        catch (NullReferenceException) when (WritingIntoNothing is { } what)
        {
            Crash($"{what}: keepalived writes '{keyword}' into memory that is not one");
        }
        catch (Exception e) when (e is not KeepalivedFatalException and not OperationCanceledException)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.InvalidValue,
                $"'{keyword}' could not be read ({e.GetType().Name}: {e.Message}); this is a fault of the checker, please report it with the line");
        }
    }

    private string? _openerName;
    private readonly List<string> _blockPath = new();
    private bool _recordSettings = true;

    /// <summary>skip_block(): do not process the rest of this block.</summary>
    public void SkipBlock(bool needBlockStart) => _skipSublevel = needBlockStart ? -1 : 1;

    /// <summary>alloc_value_block(): the lines of a '{ ... }' block of values, each given to <paramref name="alloc"/>.</summary>
    public void ValueBlock(string[] strvec, Action<string[], KeepalivedLine?> alloc)
    {
        bool needBob = true, hadEob = false;
        string[]? firstVec = null;
        if (strvec.Length > 1)
        {
            if (strvec[1] == "{")
            {
                needBob = false;
                if (strvec.Length > 2)
                {
                    var fv = strvec[2..].ToList();
                    if (fv[^1] == "}") { fv.RemoveAt(fv.Count - 1); hadEob = true; }
                    firstVec = fv.ToArray();
                }
            }
            else
                Error($"Block {strvec[0]} has extra parameters {strvec[1]} ...", KeepalivedFindingCategory.Syntax);
        }
        while (true)
        {
            string[] vec;
            KeepalivedLine? line = null;
            if (firstVec is not null) { vec = firstVec; firstVec = null; }
            else
            {
                line = ReadLine();
                if (line is null) break;
                vec = line.Words;
                if (vec.Length == 0) continue;
                if (needBob)
                {
                    needBob = false;
                    if (vec[0] == "{")
                    {
                        if (vec.Length == 1) continue;
                        vec = vec[1..];
                    }
                    else Note($"'{{' missing from beginning of block {strvec[0]}", KeepalivedFindingCategory.Syntax);
                }
                if (vec[^1] == "}")
                {
                    if (vec.Length == 1) break;
                    hadEob = true;
                    vec = vec[..^1];
                }
            }
            if (vec.Length > 0) alloc(vec, line);
            if (hadEob) break;
        }
    }

    /// <summary>read_value_block(): all the words of a '{ ... }' block; null when it has none.</summary>
    public List<string>? ReadValueBlock(string[] strvec)
    {
        List<string>? all = null;
        ValueBlock(strvec, (v, _) => (all ??= new List<string>()).AddRange(v));
        return all;
    }

    /// <summary>A value line kept as text with its place (the line just read; its own copy of the words: a line's words are shared with lines of the same text).</summary>
    public KeepalivedTextLine TextLine(string[] words, KeepalivedLine? line) => new()
    {
        Words = line is not null && ReferenceEquals(words, line.Words) ? (string[])words.Clone() : words,
        Text = string.Join(" ", words),
        File = _session.FileName(Current),
        Line = Current.Line,
    };

    public void SetBlockLocation(KeepalivedBlock block)
    {
        block.File = _session.FileName(Current);
        block.Line = Current.Line;
    }

    public static string Fmt(double d) => d.ToString("0.######", CultureInfo.InvariantCulture);
}
