using System.Net;
using System.Net.Sockets;
using static HaPowerShell.Core.Keepalived.KeepalivedText;

namespace HaPowerShell.Core.Keepalived;

// The checkers of a real_server (keepalived/check/check_api.c and check_tcp/http/misc/smtp/dns/udp/ping/file/bfd.c).
internal sealed partial class KeepalivedParseContext
{
    private KeepalivedChecker? _checker;
    private KeepalivedChecker? _smtpHost;

    /// <summary>Where connection options go: the checker, or the SMTP_CHECK host block being read (keepalived's checker->co).</summary>
    private KeepalivedChecker Co => _smtpHost ?? _checker!;

    private KeepalivedChecker QueueChecker(string type, bool connection)
    {
        var c = new KeepalivedChecker { Type = type };
        SetBlockLocation(c);
        c.St.HasConnection = connection;
        if (_rs is { } rs)
        {
            c.St.Dst = rs.Address;
            c.St.DstFamily = rs.Address.AddressFamily;
            rs.Checkers.Add(c);
        }
        _checker = c;
        OpenedBlock = c;
        return c;
    }

    /// <summary>dequeue_new_checker(): keepalived drops the checker being read.</summary>
    private void DequeueChecker()
    {
        if (_checker is { } c)
        {
            c.St.Removed = true;
            _rs?.Checkers.Remove(c);
        }
    }

    private bool CheckConnOpts(KeepalivedChecker c)
    {
        if (c.St.DstFamily == AddressFamily.InterNetworkV6 && c.St.Dst is { } d && d.IsIPv6LinkLocal && string.IsNullOrEmpty(c.BindInterface))
        {
            Error($"Checker link local address {d} requires a bind_if");
            return false;
        }
        return true;
    }

    internal void TcpCheck(string[] w) => QueueChecker("TCP_CHECK", true);
    internal void PingCheck(string[] w) => QueueChecker("PING_CHECK", true);

    internal void ConnEnd(KeepalivedParseContext _)
    {
        if (_checker is { } c && !CheckConnOpts(c)) DequeueChecker();
    }

    internal void CoConnectIp(string[] w)
    {
        var c = Co;
        string text = Slot(w, 1);
        if (!ParseSockAddr(text, null, out var a, out _)) { Error($"Invalid connect_ip address {text} - ignoring"); return; }
        if (c.St.BindFamily != AddressFamily.Unspecified && c.St.BindFamily != a!.AddressFamily)
        {
            Error($"connect_ip address {text} does not match address family of bindto - skipping");
            c.St.DstFamily = AddressFamily.Unspecified;
            return;
        }
        c.St.Dst = a;
        c.St.DstFamily = a!.AddressFamily;
        c.ConnectIp = text;
    }

    internal void CoConnectPort(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint p, 1, 65535)) { Error($"Invalid checker connect_port '{w[1]}'"); return; }
        Co.ConnectPort = (int)p;
    }

    internal void CoBindTo(string[] w)
    {
        var c = Co;
        string text = Slot(w, 1);
        if (!ParseSockAddr(text, null, out var a, out _)) { Error($"Invalid bindto address {text} - ignoring"); return; }
        if (c.St.DstFamily != AddressFamily.Unspecified && c.St.DstFamily != a!.AddressFamily)
        {
            Error($"bindto address {text} does not match address family of connect_ip - skipping");
            c.St.BindFamily = AddressFamily.Unspecified;
            return;
        }
        c.St.BindFamily = a!.AddressFamily;
        c.BindTo = text;
    }

    internal void CoBindPort(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint p, 1, 65535)) { Error($"Invalid checker bind_port '{w[1]}'"); return; }
        Co.BindPort = (int)p;
    }

    internal void CoBindIf(string[] w)
    {
        string name = Slot(w, 1);
        if (name.Length > 15) { Error($"Interface name {name} is too long - ignoring"); return; }
        Co.BindInterface = name;
    }

    internal void CoConnectTimeout(string[] w)
    {
        if (!ReadTimer(Slot(w, 1), out ulong t, 1, uint.MaxValue)) { Error($"connect_timeout {w[1]} invalid - ignoring"); return; }
        Co.ConnectTimeout = Seconds(t);
    }

    internal void CoFwmark(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint f, 0, uint.MaxValue)) { Error($"Invalid fwmark connection value '{w[1]}'"); return; }
        Co.FirewallMark = f;
    }

    internal void CkRetry(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, uint.MaxValue)) { Error($"Invalid retry connection value '{w[1]}'"); return; }
        _checker!.Retry = (int)Math.Min(r, int.MaxValue);
    }

    internal void CkDelayBeforeRetry(string[] w)
    {
        if (!ReadTimer(Slot(w, 1), out ulong d, 0, 0)) { Error($"Invalid delay_before_retry connection value '{w[1]}'"); return; }
        _checker!.DelayBeforeRetry = Seconds(d);
    }

    internal void CkWarmup(string[] w)
    {
        if (!ReadTimer(Slot(w, 1), out ulong d, 0, 0)) { Error($"Invalid warmup connection value '{w[1]}'"); return; }
        _checker!.Warmup = Seconds(d);
    }

    internal void CkDelayLoop(string[] w)
    {
        if (!ReadTimer(Slot(w, 1), out ulong d, 1, 0)) { Error($"delay_loop '{w[1]}' is invalid - ignoring"); return; }
        _checker!.DelayLoop = Seconds(d);
    }

    internal void CkAlpha(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid alpha parameter {v}") is bool b) { _checker!.Alpha = b; }
    }

    internal void CkLogAllFailures(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid log_all_failures parameter {v}") is bool b) { _checker!.LogAllFailures = b; }
    }

    // ---------------------------------------------------------------- MISC_CHECK

    internal void MiscCheck(string[] w)
    {
        QueueChecker("MISC_CHECK", false);
        _checker!.St.MiscUserSet = false;
    }

    internal void MiscPath(string[] w)
    {
        var c = _checker;
        if (c is null || c.St.Removed) return;
        var qe = QuotedEscaped(null);
        if (qe is null) Crash("an unterminated quote in misc_path");
        if (qe!.Length < 2) return;
        var args = QuotedEscaped(qe[1]);
        if (args is null) return;
        c.St.MiscScript = new KeepalivedScript { Args = args };
        c.MiscPath = args[0];
        c.MiscArguments = args.Skip(1).ToArray();
    }

    internal void MiscTimeout(string[] w)
    {
        var c = _checker;
        if (c is null || c.St.Removed) return;
        if (!ReadUnsigned(Slot(w, 1), out uint t, 0, uint.MaxValue / (uint)TimerHz)) { Error($"Invalid misc_timeout value '{w[1]}'"); return; }
        c.MiscTimeout = t;
    }

    internal void MiscDynamic(string[] w)
    {
        if (_checker is { St.Removed: false } c) c.MiscDynamic = true;
    }

    internal void MiscUser(string[] w)
    {
        var c = _checker;
        if (c is null || c.St.Removed) return;
        string cmd = c.St.MiscScript?.Command ?? "(null)";
        if (w.Length < 2) { Error($"No user specified for misc checker script {cmd}", KeepalivedFindingCategory.MissingValue); return; }
        c.User = w[1];
        c.Group = w.Length > 2 ? w[2] : null;
        if (!ScriptUidGid(w, 1, out uint u, out uint g))
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"Failed to set uid/gid for misc checker script {cmd} - removing", environment: true);
            DequeueChecker();
            return;
        }
        c.St.MiscUserSet = true;
        if (c.St.MiscScript is { } s) { s.Uid = u; s.Gid = g; }
        else c.St.MiscScript = new KeepalivedScript { Uid = u, Gid = g };
    }

    internal void MiscEnd(KeepalivedParseContext _)
    {
        var c = _checker;
        if (c is null || c.St.Removed) return;
        if (c.St.MiscScript is not { Args.Length: > 0 } script)
        {
            Error("No script path has been specified for MISC_CHECKER - skipping", KeepalivedFindingCategory.MissingValue);
            DequeueChecker();
            return;
        }
        if (!c.St.MiscUserSet)
        {
            if (!DefaultScriptUserLookup(out uint u, out uint g))
            {
                Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"Unable to set default user for misc script {script.Command} - removing", environment: true);
                DequeueChecker();
                return;
            }
            script.Uid = u; script.Gid = g;
        }
    }

    // ---------------------------------------------------------------- UDP_CHECK

    internal void UdpCheck(string[] w)
    {
        QueueChecker("UDP_CHECK", true);
        _checker!.MinReplyLength = 0;
        _checker.MaxReplyLength = 255;
    }

    private static int HexLength(string hex, bool allowWildcard)
    {
        int len = 0, p = 0;
        while (true)
        {
            while (p < hex.Length && (hex[p] == ' ' || hex[p] == '\t')) p++;
            if (p >= hex.Length) break;
            bool Valid(char ch) => IsXDigit(ch) || (allowWildcard && (ch == 'x' || ch == 'X'));
            if (!Valid(hex[p++])) return 0;
            if (p < hex.Length && hex[p] != ' ')
            {
                if (!Valid(hex[p++])) return 0;
            }
            len++;
        }
        return len;
    }

    internal void UdpPayload(string[] w)
    {
        if (w.Length == 1) { Error("UDP_CHECK payload requires a payload", KeepalivedFindingCategory.MissingValue); return; }
        string hex = string.Join(" ", w.Skip(1));
        if (HexLength(hex, false) == 0) Error("Invalid hex string for UDP_CHECK payload");
        _checker!.Payload = hex;
    }

    internal void UdpRequireReply(string[] w)
    {
        _checker!.RequireReply = true;
        if (w.Length == 1) return;
        if (HexLength(string.Join(" ", w.Skip(1)), true) == 0) Error("Invalid hex string for UDP_CHECK reply");
    }

    internal void UdpMinReplyLength(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint l, 0, 65535)) { Error($"UDP_CHECK min length {w[1]} not valid - must be between 0 & 65535"); return; }
        _checker!.MinReplyLength = (int)l;
    }

    internal void UdpMaxReplyLength(string[] w)
    {
        if (!ReadUnsigned(Slot(w, 1), out uint l, 0, 65535)) { Error($"UDP_CHECK max length {w[1]} not valid - must be between 0 & 65535"); return; }
        _checker!.MaxReplyLength = (int)l;
    }

    internal void UdpEnd(KeepalivedParseContext _)
    {
        var c = _checker!;
        if (!CheckConnOpts(c)) { DequeueChecker(); return; }
        if (c.MinReplyLength > c.MaxReplyLength)
            Error($"UDP_CHECK min_reply length {c.MinReplyLength} > max_reply_length {c.MaxReplyLength} - will always fail", KeepalivedFindingCategory.Semantic);
    }

    // ---------------------------------------------------------------- HTTP_GET / SSL_GET

    internal void HttpGet(string[] w) => QueueChecker(w[0], true);

    internal void HttpNbGetRetry(string[] w)
    {
        Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Deprecated, "nb_get_retry is deprecated - please use 'retry'", suggestion: "retry");
        if (!ReadUnsigned(Slot(w, 1), out uint r, 0, uint.MaxValue)) { Error($"Invalid nb_get_retry value '{w[1]}'"); return; }
        _checker!.Retry = (int)Math.Min(r, int.MaxValue);
    }

    internal void HttpVirtualhost(string[] w)
    {
        if (w.Length < 2) { Error("HTTP_GET virtualhost name missing", KeepalivedFindingCategory.MissingValue); return; }
        _checker!.VirtualHost = w[1];
    }

    internal void HttpProtocol(string[] w)
    {
        if (w.Length < 2) { Error("Missing http_protocol version", KeepalivedFindingCategory.MissingValue); return; }
        if (w[1] is "1.0" or "1.1" or "1.0C" or "1.0c") _checker!.HttpProtocol = w[1];
        else Error($"Invalid http_protocol version {w[1]}");
    }

    internal void HttpEnableSni(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid enable_sni parameter {v}") is bool b) { _checker!.EnableSni = b; }
    }

    internal void HttpFastRecovery(string[] w)
    {
        if (OptionalBool(w, v => $"Invalid fast_recovery parameter {v}") is bool b) { _checker!.FastRecovery = b; }
    }

    internal void HttpUrl(string[] w)
    {
        var u = new KeepalivedUrl { Path = "" };
        SetBlockLocation(u);
        _checker!.Urls.Add(u);
        _checker.St.Url = u;
        _checker.St.RegexPattern = null;
        OpenedBlock = u;
    }

    internal void UrlPath(string[] w) => _checker!.St.Url!.Path = Slot(w, 1);

    internal void UrlDigest(string[] w)
    {
        var u = _checker!.St.Url!;
        string d = Slot(w, 1);
        if (u.Digest is not null) { Error($"Digest '{d}' is a duplicate", KeepalivedFindingCategory.Duplicate); return; }
        if (d.Length != 32) { Error($"digest '{d}' character length should be 32 rather than {d.Length}"); return; }
        for (int i = 15; i >= 0; i--)
        {
            string pair = d.Substring(2 * i, 2);
            int end = StrToULong(pair, 0, 16, out _, out _, out _);
            if (end != 2)
            {
                Error($"Unable to interpret hex digit in '{d.Substring(0, 2 * i + 2)}' at offset {2 * i}/{2 * i + 1}");
                return;
            }
        }
        u.Digest = d;
    }

    internal void UrlStatusCode(string[] w)
    {
        var u = _checker!.St.Url!;
        for (int i = 1; i < w.Length; i++)
        {
            string s = w[i];
            int end = StrToULong(s, 0, 10, out ulong min, out _, out _);
            ulong max = min;
            if (end < s.Length && s[end] == '-') end = StrToULong(s, end + 1, 10, out max, out _, out _);
            if (end < s.Length || min < 100 || min > 599 || max < 100 || max > 599 || min > max)
            {
                Error($"Invalid HTTP_GET status code '{s}'");
                continue;
            }
            u.StatusCode.Add(s);
        }
    }

    internal void UrlVirtualhost(string[] w)
    {
        if (w.Length < 2) { Error("Missing HTTP_GET virtualhost name", KeepalivedFindingCategory.MissingValue); return; }
        _checker!.St.Url!.VirtualHost = w[1];
    }

    internal void UrlRegex(string[] w)
    {
        var qe = QuotedEscaped(null);
        if (qe is null || qe.Length != 2) { Note("regex missing or too many fields", KeepalivedFindingCategory.Syntax); return; }
        _checker!.St.RegexPattern = qe[1];
        _checker.St.Url!.Regex = qe[1];
    }

    internal void UrlRegexNoMatch(string[] w) => _checker!.St.Url!.RegexNoMatch = true;
    internal void UrlRegexOptions(string[] w) { }
    internal void UrlRegexOffset(string[] w)
    {
        if (w.Length != 2) { Note($"Missing or too may options for {w[0]}"); return; }
        if (StrToULong(w[1], 0, 10, out _, out _, out _) < w[1].Length) Note($"Invalid {w[0]} {w[1]} specified");
    }

    internal void UrlRegexStack(string[] w)
    {
        if (w.Length != 3) Note("regex_stack requires start and max values");
    }

    internal void UrlEnd(KeepalivedParseContext _)
    {
        var c = _checker!;
        var u = c.St.Url!;
        if (u.Path.Length == 0 && !u.Has("path"))
        {
            Error("HTTP/SSL_GET checker url has no path - ignoring", KeepalivedFindingCategory.MissingValue);
            c.Urls.Remove(u);
        }
    }

    internal void HttpGetEnd(KeepalivedParseContext _)
    {
        var c = _checker!;
        if (c.Urls.Count == 0)
        {
            Error("HTTP/SSL_GET checker has no urls specified - ignoring", KeepalivedFindingCategory.MissingValue);
            DequeueChecker();
            // keepalived then checks the connection of whatever checker is now last in its queue; with none left
            // it reads through the empty list's head and dies.
            bool anyLeft = Config.VirtualServers.Append(_vs).Where(v => v is not null).SelectMany(v => v!.RealServers).Append(_rs)
                .Any(r => r is not null && r.Checkers.Count > 0);
            if (!anyLeft) Crash("an HTTP_GET or SSL_GET without a url, before any other checker");
            return;
        }
        if (!CheckConnOpts(c)) DequeueChecker();
    }

    // ---------------------------------------------------------------- SMTP_CHECK

    internal void SmtpCheck(string[] w)
    {
        var c = QueueChecker("SMTP_CHECK", true);
        c.St.DstFamily = AddressFamily.Unspecified;
        c.St.Dst = null;
    }

    internal void SmtpHeloName(string[] w)
    {
        if (w.Length < 2) { Error("SMTP_CHECK helo name missing", KeepalivedFindingCategory.MissingValue); return; }
        _checker!.HeloName = w[1];
    }

    /// <summary>host { ... }: a further connection of the checker (deprecated in keepalived, still read); defaults to the real server.</summary>
    internal void SmtpHost(string[] w)
    {
        var h = new KeepalivedChecker { Type = "host" };
        SetBlockLocation(h);
        h.St.HasConnection = true;
        if (_rs is { } rs) { h.St.Dst = rs.Address; h.St.DstFamily = rs.Address.AddressFamily; }
        _smtpHost = h;
        OpenedBlock = h;
    }

    internal void SmtpHostEnd(KeepalivedParseContext _)
    {
        if (_smtpHost is { } h && CheckConnOpts(h)) _checker!.Hosts.Add(h);
        _smtpHost = null;
    }

    internal void SmtpEnd(KeepalivedParseContext _)
    {
        var c = _checker!;
        c.HeloName ??= "smtpchecker.keepalived.org";
        if (c.St.DstFamily == AddressFamily.Unspecified && _rs is { } rs)
        {
            c.St.Dst = rs.Address;
            c.St.DstFamily = rs.Address.AddressFamily;
        }
        if (!CheckConnOpts(c)) DequeueChecker();
    }

    // ---------------------------------------------------------------- DNS_CHECK

    private static readonly string[] DnsTypes = { "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY" };

    internal void DnsCheck(string[] w) => QueueChecker("DNS_CHECK", true);

    internal void DnsType(string[] w)
    {
        string t = Slot(w, 1);
        string? found = DnsTypes.FirstOrDefault(x => string.Equals(x, t, StringComparison.OrdinalIgnoreCase));
        if (found is null) Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.InvalidValue, $"Unknown DNS check type {t} - ignoring", suggestion: KeepalivedSuggest.Closest(t.ToUpperInvariant(), DnsTypes));
        else _checker!.DnsType = found;
    }

    internal void DnsName(string[] w)
    {
        var c = _checker!;
        if (c.DnsName is not null) { Error("DNS_CHECK name already specified - ignoring", KeepalivedFindingCategory.Duplicate); return; }
        string name = Slot(w, 1);
        bool invalid = false;
        if (name.Length > 1 && name[0] == '.') invalid = true;
        else
            for (int p = 0; p >= 0; p = name.IndexOf('.', p + 1))
            {
                if (p + 1 < name.Length && name[p + 1] == '.') { invalid = true; break; }
                if (p + 1 >= name.Length) break;
            }
        if (invalid) { Error($"DNS_CHECK name '{name}' has empty label - ignoring"); return; }
        c.DnsName = name;
    }

    internal void DnsEnd(KeepalivedParseContext _)
    {
        var c = _checker!;
        if (!CheckConnOpts(c)) { DequeueChecker(); return; }
        c.DnsName ??= ".";
        c.DnsType ??= "SOA";
    }

    // ---------------------------------------------------------------- FILE_CHECK

    internal void FileCheck(string[] w)
    {
        var c = QueueChecker("FILE_CHECK", false);
        c.St.HasTrackFile = false;
    }

    internal void FileCheckTrackFile(string[] w)
    {
        string name = Slot(w, 1);
        var f = _checkTrackFiles.FirstOrDefault(x => x.Name == name);
        if (f is null)
        {
            Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.UndefinedReference, $"track_file {name} not found",
                suggestion: KeepalivedSuggest.Closest(name, _checkTrackFiles.Select(x => x.Name)));
            return;
        }
        _checker!.TrackFile = name;
        _checker.St.HasTrackFile = true;
    }

    internal void FileCheckWeight(string[] w)
    {
        var c = _checker!;
        if (w.Length < 2) { Error("track file weight missing", KeepalivedFindingCategory.MissingValue); return; }
        if (!ReadInt(w[1], out int wt, -65535, 65535)) { Error("weight for track file must be in [-65535..65535] inclusive. Ignoring..."); return; }
        bool reverse = false;
        if (w.Length >= 3)
        {
            if (w[2] == "reverse") reverse = true;
            else if (w[2] != "noreverse") { Error($"unknown track file weight option {w[2]} - ignoring"); return; }
        }
        c.Weight = wt;
        c.WeightReverse = reverse;
        c.St.WeightSet = true;
    }

    internal void FileCheckEnd(KeepalivedParseContext _)
    {
        var c = _checker!;
        if (!c.St.HasTrackFile)
        {
            Error("FILE_CHECK has no track_file specified - ignoring", KeepalivedFindingCategory.MissingValue);
            DequeueChecker();
            return;
        }
        if (!c.St.WeightSet && _checkTrackFiles.FirstOrDefault(x => x.Name == c.TrackFile) is { } f)
        {
            c.Weight = f.Weight;
            c.WeightReverse = f.WeightReverse;
        }
    }

    // ---------------------------------------------------------------- BFD_CHECK

    private string RsTrio()
    {
        var rs = _rs!;
        string proto = _vs!.St.ServiceType switch { 6 => "tcp", 17 => "udp", 132 => "sctp", 0 => "none", _ => "?" };
        return $"[{rs.Address}]:{proto}:{rs.Port}";
    }

    internal void BfdCheck(string[] w) => QueueChecker("BFD_CHECK", false);

    internal void BfdCheckName(string[] w)
    {
        var c = _checker;
        if (c is null || c.St.Removed) return;
        bool error = true;
        string? name = w.Length >= 2 ? w[1] : null;
        if (w.Length != 2) Error($"({RsTrio()}) BFD_CHECK - No or too many names specified - skipping checker");
        else if (!_checkerTrackedBfds.Contains(name!)) Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.UndefinedReference, $"({RsTrio()}) BFD_CHECK - BFD {name} not configured");
        else if (c.BfdName is not null) Error($"({RsTrio()}) BFD_CHECK - BFD {name} already specified as {c.BfdName}", KeepalivedFindingCategory.Duplicate);
        else if (name!.Length >= 32) Error($"({RsTrio()}) BFD_CHECK - BFD name {name} too long");
        else error = false;
        if (!error && _rs!.St.TrackedBfds.Contains(name!))
        {
            Error($"({RsTrio()}) BFD_CHECK - RS already monitoring {name}", KeepalivedFindingCategory.Duplicate);
            error = true;
        }
        if (error) { DequeueChecker(); return; }
        c.BfdName = name;
    }

    internal void BfdCheckAlpha(string[] w)
    {
        var c = _checker;
        if (c is null || c.St.Removed) return;
        if (OptionalBool(w, v => $"Invalid alpha parameter {v}") is bool b) { c.Alpha = b; }
    }

    internal void BfdCheckEnd(KeepalivedParseContext _)
    {
        var c = _checker;
        if (c is null || c.St.Removed) return;
        if (c.BfdName is null)
        {
            Error($"({RsTrio()}) No name has been specified for BFD_CHECKER - skipping", KeepalivedFindingCategory.MissingValue);
            DequeueChecker();
            return;
        }
        _rs!.St.TrackedBfds.Add(c.BfdName);
    }
}
