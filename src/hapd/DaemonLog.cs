using System.Globalization;
using System.Text;
using HaPowerShell.Native.Daemon;

namespace HaPowerShell.Daemon;

/// <summary>syslog's severities (the numbers syslog and the journal use).</summary>
public enum LogSeverity
{
    Error = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// <summary>
/// Where hapd writes its log: syslog (RFC 3164 datagrams to /dev/log with the chosen facility, ident "hapd"), the
/// systemd journal when systemd started it (native protocol with MESSAGE, PRIORITY, SYSLOG_FACILITY,
/// SYSLOG_IDENTIFIER and HAPD_* fields; journald forwards to syslog with the facility), and the console with -l
/// (keepalived's "Sat Dec  6 10:16:20 2026: message" form, on stderr). Never throws; a lost line is counted.
/// </summary>
public sealed class DaemonLog : IDisposable
{
    public const string Ident = "hapd";
    public const string SyslogPath = "/dev/log";
    public const string JournalPath = "/run/systemd/journal/socket";

    private readonly object _sync = new();
    private readonly UnixDatagramSender? _syslog;
    private readonly UnixDatagramSender? _journal;
    private readonly bool _console;
    private readonly int _facility;
    private readonly int _pid = Environment.ProcessId;
    private long _lost;

    public DaemonLog(int facility, bool console, bool syslog, bool detail)
    {
        _facility = facility;
        _console = console;
        Detail = detail;
        if (!syslog) return;
        // Under systemd (JOURNAL_STREAM names the stream it gave us), the journal takes structured fields.
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 } && UnixDatagramSender.Exists(JournalPath))
            _journal = new UnixDatagramSender(JournalPath);
        else
            _syslog = new UnixDatagramSender(SyslogPath);
    }

    /// <summary>-D: detailed messages (Debug lines are written only then).</summary>
    public bool Detail { get; }

    /// <summary>Lines no destination took (syslog down, journal refused).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Where it logs, for the start-up line.</summary>
    public string Destinations => string.Join(", ", new[]
    {
        _journal is not null ? "journal" : null,
        _syslog is not null ? $"syslog ({FacilityName(_facility)})" : null,
        _console ? "console" : null,
    }.Where(x => x is not null));

    public void Error(string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null) => Write(LogSeverity.Error, message, fields);
    public void Warning(string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null) => Write(LogSeverity.Warning, message, fields);
    public void Info(string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null) => Write(LogSeverity.Info, message, fields);
    public void Debug(string message) { if (Detail) Write(LogSeverity.Debug, message, null); }

    public void Write(LogSeverity severity, string message, IReadOnlyList<KeyValuePair<string, string>>? fields)
    {
        try
        {
            var now = DateTime.Now;
            lock (_sync)
            {
                if (_console)
                    Console.Error.WriteLine($"{now.ToString("ddd MMM ", CultureInfo.InvariantCulture)}{now.Day,2} {now.ToString("HH:mm:ss yyyy", CultureInfo.InvariantCulture)}: {message}");
                if (_journal is not null && !_journal.Send(JournalEntry(severity, message, fields)))
                    Interlocked.Increment(ref _lost);
                if (_syslog is not null && !_syslog.Send(SyslogLine(_facility, severity, now, _pid, message)))
                    Interlocked.Increment(ref _lost);
            }
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _lost);
        }
    }

    /// <summary>An RFC 3164 line as glibc's syslog(3) sends it to /dev/log: "&lt;PRI&gt;Mmm dd hh:mm:ss ident[pid]: message".</summary>
    public static byte[] SyslogLine(int facility, LogSeverity severity, DateTime time, int pid, string message)
    {
        int pri = facility * 8 + (int)severity;
        string stamp = time.ToString("MMM ", CultureInfo.InvariantCulture) + time.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)
            + time.ToString(" HH:mm:ss", CultureInfo.InvariantCulture);
        return Encoding.UTF8.GetBytes($"<{pri}>{stamp} {Ident}[{pid}]: {Clean(message)}");
    }

    /// <summary>
    /// A journal native-protocol datagram: FIELD=value lines; a value with a newline is written as the field name, a
    /// newline, its length as 64-bit little endian and the bytes.
    /// </summary>
    public byte[] JournalEntry(LogSeverity severity, string message, IReadOnlyList<KeyValuePair<string, string>>? fields)
    {
        var ms = new MemoryStream();
        void Field(string name, string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            ms.Write(Encoding.ASCII.GetBytes(name));
            if (Array.IndexOf(bytes, (byte)'\n') < 0)
            {
                ms.WriteByte((byte)'=');
                ms.Write(bytes);
            }
            else
            {
                ms.WriteByte((byte)'\n');
                Span<byte> len = stackalloc byte[8];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)bytes.Length);
                ms.Write(len);
                ms.Write(bytes);
            }
            ms.WriteByte((byte)'\n');
        }
        Field("MESSAGE", message);
        Field("PRIORITY", ((int)severity).ToString(CultureInfo.InvariantCulture));
        Field("SYSLOG_FACILITY", _facility.ToString(CultureInfo.InvariantCulture));
        Field("SYSLOG_IDENTIFIER", Ident);
        Field("SYSLOG_PID", _pid.ToString(CultureInfo.InvariantCulture));
        if (fields is not null)
            foreach (var kv in fields) Field(kv.Key, kv.Value);
        return ms.ToArray();
    }

    /// <summary>syslog lines are one line: control characters become spaces.</summary>
    private static string Clean(string s)
    {
        if (!s.Any(char.IsControl)) return s;
        var sb = new StringBuilder(s.Length);
        foreach (char c in s) sb.Append(char.IsControl(c) ? ' ' : c);
        return sb.ToString();
    }

    public static string FacilityName(int facility) => facility switch
    {
        1 => "user",
        3 => "daemon",
        >= 16 and <= 23 => "local" + (facility - 16),
        _ => facility.ToString(CultureInfo.InvariantCulture),
    };

    public void Dispose()
    {
        _syslog?.Dispose();
        _journal?.Dispose();
    }
}
