using System.Buffers;
using System.Text;

namespace HaPowerShell.Core.Ipvs;

/// <summary>What Import-/Sync-IpvsConfig read: ipvsadm rules, or a JSON table (with its timeouts).</summary>
public sealed class IpvsConfigDocument
{
    public IpvsRuleSet? Rules { get; init; }
    public List<IpvsService>? Table { get; init; }
    public IpvsTimeout? Timeout { get; init; }
    public bool IsJson => Table is not null;

    /// <summary>Bytes read (UTF-8).</summary>
    public long Size { get; init; }
}

/// <summary>
/// Reads the input of Import-/Sync-IpvsConfig as it arrives, with bounded memory and time:
/// at most <see cref="MaximumSize"/> bytes are read (the error names the parameter that raises it);
/// ipvsadm text is parsed line by line as it is read (a line longer than ipvsadm's 4096 characters is
/// refused when its 4097th character arrives, so a file that is not a rule file costs no more than one
/// line of memory); JSON is kept as UTF-8 bytes and parsed once complete; a stop (Ctrl+C) is honoured
/// between chunks. The format is decided by the first character that is not white space ('{' = JSON)
/// unless it is given. Pure: the caller opens the stream; this reads what it is handed.
/// </summary>
public sealed class IpvsConfigReader
{
    /// <summary>64 MiB: about half a million services with a real server each in ipvsadm -S form.</summary>
    public const long DefaultMaximumSize = 64L * 1024 * 1024;

    private const int ChunkSize = 64 * 1024;
    private enum Mode { Undecided, Ipvsadm, Json }

    private readonly bool? _json;
    private readonly CancellationToken _cancellation;
    private readonly IParallelFor? _parallel;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private Mode _mode;
    private bool _started;
    private long _size;

    // Before the format is known: the white space seen so far (line breaks counted, the rest of the current line kept).
    private int _pendingLines;
    private readonly StringBuilder _pendingLine = new();

    // ipvsadm text: the current line (one more than the limit, for a '\r' the line reader drops)
    private IpvsRules.LineReader? _lines;
    private readonly char[] _line = new char[IpvsRules.MaxLineLength + 1];
    private int _lineLength;

    // JSON
    private ArrayBufferWriter<byte>? _jsonBytes;
    private Encoder? _jsonEncoder;

    /// <param name="maximumSize">Bytes; more is an <c>InputTooLarge</c> failure.</param>
    /// <param name="json">True: JSON; false: ipvsadm rules; null: decided by the first character.</param>
    /// <param name="parameterName">Named in the InputTooLarge message (the cmdlet's parameter that raises the limit).</param>
    /// <param name="parallel">Where large inputs may be parsed on several cores (a host's <see cref="IParallelFor"/>); null: on this thread.</param>
    public IpvsConfigReader(long maximumSize, bool? json = null, CancellationToken cancellation = default, string parameterName = "MaximumInputSize",
        IParallelFor? parallel = null)
    {
        if (maximumSize <= 0) throw new ArgumentOutOfRangeException(nameof(maximumSize), "The maximum input size must be positive.");
        MaximumSize = maximumSize;
        ParameterName = parameterName;
        _json = json;
        _cancellation = cancellation;
        _parallel = parallel;
    }

    public long MaximumSize { get; }
    public string ParameterName { get; }

    /// <summary>Bytes read so far.</summary>
    public long Size => _size;

    /// <summary>Reads a whole stream (a file or a pipe), chunk by chunk.</summary>
    /// <exception cref="IpvsOperationException">InputTooLarge.</exception>
    /// <exception cref="IpvsRuleParseException">A bad ipvsadm line (the first one, by number).</exception>
    /// <exception cref="OperationCanceledException">The cancellation token was cancelled.</exception>
    public void Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes = ArrayPool<byte>.Shared.Rent(ChunkSize);
        char[] chars = ArrayPool<char>.Shared.Rent(ChunkSize + 4);
        try
        {
            int n;
            while ((n = stream.Read(bytes, 0, ChunkSize)) > 0)
            {
                _cancellation.ThrowIfCancellationRequested();
                Count(n);
                int c = _decoder.GetChars(bytes, 0, n, chars, 0, flush: false);
                Feed(chars.AsSpan(0, c));
            }
            int last = _decoder.GetChars(Array.Empty<byte>(), 0, 0, chars, 0, flush: true);
            Feed(chars.AsSpan(0, last));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>One piped string: it ends a line (Get-Content sends lines without their breaks; -Raw text holds its own).</summary>
    public void AddText(string? text)
    {
        _cancellation.ThrowIfCancellationRequested();
        text ??= "";
        Count(Encoding.UTF8.GetByteCount(text) + 1L);
        Feed(text);
        Feed("\n");
    }

    /// <summary>Parses what is left and returns the document.</summary>
    /// <exception cref="IpvsRuleParseException">A bad ipvsadm line.</exception>
    /// <exception cref="FormatException">Bad JSON (the message starts with the JSON path).</exception>
    public IpvsConfigDocument Finish()
    {
        _cancellation.ThrowIfCancellationRequested();
        if (_mode == Mode.Undecided) Decide(_json == true);
        if (_mode == Mode.Json)
        {
            _jsonEncoder!.Convert(ReadOnlySpan<char>.Empty, _jsonBytes!.GetSpan(16), flush: true, out _, out int used, out _);
            _jsonBytes!.Advance(used);
            var (table, timeout) = IpvsJson.DeserializeUtf8(_jsonBytes.WrittenMemory);
            return new IpvsConfigDocument { Table = table, Timeout = timeout, Size = _size };
        }
        if (_lineLength > 0) EndLine();
        return new IpvsConfigDocument { Rules = _lines!.Finish(), Size = _size };
    }

    private void Count(long bytes)
    {
        _size += bytes;
        if (_size > MaximumSize)
            throw new IpvsOperationException("InputTooLarge", IpvsFailureKind.InvalidArgument,
                $"The input is larger than {Describe(MaximumSize)} (-{ParameterName} {MaximumSize}), so it was not read further and nothing was changed. " +
                $"If it really is an IPVS configuration that large, raise the limit, e.g. -{ParameterName} {Suggest(MaximumSize)}.", null);
    }

    private void Feed(ReadOnlySpan<char> chars)
    {
        if (!_started && chars.Length > 0)
        {
            _started = true;
            if (chars[0] == '\uFEFF') chars = chars[1..]; // a UTF-8 byte order mark
        }
        if (_mode == Mode.Undecided)
        {
            int i = 0;
            for (; i < chars.Length && chars[i] is ' ' or '\t' or '\r' or '\n'; i++)
            {
                if (chars[i] == '\n') { _pendingLines++; _pendingLine.Clear(); }
                else if (_pendingLine.Length <= IpvsRules.MaxLineLength) _pendingLine.Append(chars[i]);
            }
            if (i == chars.Length) return;
            Decide(_json ?? chars[i] == '{');
            chars = chars[i..];
        }
        if (_mode == Mode.Json) FeedJson(chars);
        else FeedLines(chars);
    }

    private void Decide(bool json)
    {
        if (json)
        {
            _mode = Mode.Json;
            _jsonBytes = new ArrayBufferWriter<byte>(ChunkSize);
            _jsonEncoder = new UTF8Encoding(false, false).GetEncoder();
            for (int k = 0; k < _pendingLines; k++) FeedJson("\n"); // JSON error positions keep their line numbers
            return;
        }
        _mode = Mode.Ipvsadm;
        _lines = new IpvsRules.LineReader(_cancellation, _parallel);
        for (int k = 0; k < _pendingLines; k++) _lines.Add(ReadOnlySpan<char>.Empty);
        FeedLines(_pendingLine.ToString());
    }

    private void FeedJson(ReadOnlySpan<char> chars)
    {
        while (chars.Length > 0)
        {
            var dest = _jsonBytes!.GetSpan(Math.Min(chars.Length, ChunkSize) * 3 + 4);
            _jsonEncoder!.Convert(chars, dest, flush: false, out int charsUsed, out int bytesUsed, out _);
            _jsonBytes.Advance(bytesUsed);
            chars = chars[charsUsed..];
        }
    }

    private void FeedLines(ReadOnlySpan<char> chars)
    {
        while (chars.Length > 0)
        {
            int nl = chars.IndexOf('\n');
            var part = nl < 0 ? chars : chars[..nl];
            if (_lineLength + part.Length > _line.Length)
                throw IpvsRules.LineReader.LineTooLong(_lines!.LineCount + 1);
            part.CopyTo(_line.AsSpan(_lineLength));
            _lineLength += part.Length;
            if (nl < 0) return;
            EndLine();
            chars = chars[(nl + 1)..];
        }
    }

    /// <summary>The line goes to the parser, which makes a string of it only when it holds a command.</summary>
    private void EndLine()
    {
        _lines!.Add(_line.AsSpan(0, _lineLength));
        _lineLength = 0;
    }

    private static string Describe(long bytes)
        => bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB" : bytes >= 1 << 10 && bytes % (1 << 10) == 0 ? $"{bytes >> 10} KiB" : $"{bytes} bytes";

    private static string Suggest(long bytes) => bytes >= long.MaxValue / 4 ? long.MaxValue.ToString() : $"{Math.Max(1, (bytes * 4) >> 20)}MB";
}
