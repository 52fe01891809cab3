using System.Text;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HaPowerShell.Core.Keepalived;

/// <summary>
/// Reads values the way keepalived 2.2's C code does (strtol/strtoul/strtoull with its range checks,
/// inet_pton's strict address forms, its decimal reader), so that what we accept and refuse, and the
/// words of the message, match <c>keepalived -t</c>.
/// </summary>
/// <summary>Why <see cref="KeepalivedText.SplitQuotedEscaped"/> gave no words.</summary>
public enum KeepalivedQuoteError
{
    None,
    UnmatchedQuote,
    TrailingEscape,
}

internal static class KeepalivedText
{
    public const ulong TimerHz = 1_000_000;
    public const int TimerHzDigits = 6;
    public const ulong TimerMaximum = ulong.MaxValue - 1;

    /// <summary>C isspace() in the C locale.</summary>
    public static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
    public static bool IsBlank(char c) => c is ' ' or '\t';
    public static bool IsDigit(char c) => c is >= '0' and <= '9';
    public static bool IsAlpha(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z';
    public static bool IsAlnum(char c) => IsAlpha(c) || IsDigit(c);
    public static bool IsXDigit(char c) => IsDigit(c) || c is >= 'a' and <= 'f' or >= 'A' and <= 'F';

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'z' => c - 'a' + 10,
        >= 'A' and <= 'Z' => c - 'A' + 10,
        _ => 99,
    };

    /// <summary>strtoull: whitespace, sign, digits in <paramref name="radix"/> (0 = C prefixes). Returns the index after the number.</summary>
    public static int StrToULong(string s, int start, int radix, out ulong value, out bool overflow, out bool negative)
        => StrToULong(s.AsSpan(), start, radix, out value, out overflow, out negative);

    /// <summary>strtoull over characters that need not be a string.</summary>
    public static int StrToULong(ReadOnlySpan<char> s, int start, int radix, out ulong value, out bool overflow, out bool negative)
    {
        int i = start;
        value = 0; overflow = false; negative = false;
        while (i < s.Length && IsSpace(s[i])) i++;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) { negative = s[i] == '-'; i++; }
        if (radix == 0)
        {
            if (i + 1 < s.Length && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && i + 2 < s.Length && IsXDigit(s[i + 2])) { radix = 16; i += 2; }
            else if (i < s.Length && s[i] == '0') radix = 8;
            else radix = 10;
        }
        else if (radix == 16 && i + 2 < s.Length && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && IsXDigit(s[i + 2])) i += 2;
        int digitsStart = i;
        while (i < s.Length && DigitValue(s[i]) < radix)
        {
            int d = DigitValue(s[i]);
            if (!overflow)
            {
                if (value > (ulong.MaxValue - (ulong)d) / (ulong)radix) overflow = true;
                else value = value * (ulong)radix + (ulong)d;
            }
            i++;
        }
        if (i == digitsStart) { value = 0; negative = false; return start; }   // no conversion: endptr = nptr
        if (overflow) value = ulong.MaxValue;
        else if (negative) value = unchecked(0 - value);
        return i;
    }

    /// <summary>strtol (64-bit long).</summary>
    public static int StrToLong(string s, int start, int radix, out long value, out bool overflow)
    {
        int end = StrToULong(s, start, radix, out ulong u, out bool ovf, out bool neg);
        overflow = ovf;
        if (end == start) { value = 0; return start; }
        // Re-evaluate magnitude for signed range.
        ulong magnitude = neg ? unchecked(0 - u) : u;
        if (ovf) { value = neg ? long.MinValue : long.MaxValue; return end; }
        if (!neg && magnitude > long.MaxValue) { overflow = true; value = long.MaxValue; }
        else if (neg && magnitude > (ulong)long.MaxValue + 1) { overflow = true; value = long.MinValue; }
        else value = neg ? unchecked(-(long)magnitude) : (long)magnitude;
        return end;
    }

    public static int StrSpn(string s, int start, string accept)
    {
        int i = start;
        while (i < s.Length && accept.IndexOf(s[i]) >= 0) i++;
        return i - start;
    }

    public static int StrCSpn(string s, int start, string reject)
    {
        int i = start;
        while (i < s.Length && reject.IndexOf(s[i]) < 0) i++;
        return i - start;
    }

    public const string WhiteSpace = " \t\f\n\r\v";

    /// <summary>check_true_false(): 1 for true/on/yes, 0 for false/off/no, -1 otherwise.</summary>
    public static int TrueFalse(string s) => s switch
    {
        "true" or "on" or "yes" => 1,
        "false" or "off" or "no" => 0,
        _ => -1,
    };

    // ---------------------------------------------------------------- inet_pton (glibc)

    /// <summary>glibc inet_pton(AF_INET): exactly four decimal octets, no leading zeros, nothing else.</summary>
    public static bool TryParseIPv4(string s, out IPAddress? address)
    {
        address = null;
        var bytes = new byte[4];
        int octets = 0, i = 0;
        bool sawDigit = false;
        int cur = 0;
        while (i < s.Length)
        {
            char c = s[i++];
            if (IsDigit(c))
            {
                if (sawDigit && cur == 0) return false;   // leading zero
                cur = cur * 10 + (c - '0');
                if (cur > 255) return false;
                if (!sawDigit) { if (++octets > 4) return false; sawDigit = true; }
            }
            else if (c == '.' && sawDigit)
            {
                if (octets == 4) return false;
                bytes[octets - 1] = (byte)cur;
                cur = 0; sawDigit = false;
            }
            else return false;
        }
        if (octets < 4 || !sawDigit) return false;
        bytes[3] = (byte)cur;
        address = new IPAddress(bytes);
        return true;
    }

    /// <summary>glibc inet_pton(AF_INET6): hex groups, one "::", an optional trailing dotted quad; no scope id.</summary>
    public static bool TryParseIPv6(string s, out IPAddress? address)
    {
        address = null;
        var tmp = new byte[16];
        int tp = 0, colonp = -1, i = 0;
        if (s.Length == 0) return false;
        if (s[0] == ':') { if (s.Length < 2 || s[1] != ':') return false; i = 1; }
        int curtok = i;
        bool sawXDigit = false;
        int val = 0, digits = 0;
        while (i < s.Length)
        {
            char ch = s[i++];
            int d = IsXDigit(ch) ? DigitValue(ch) : -1;
            if (d >= 0)
            {
                if (++digits > 4) return false;
                val = (val << 4) | d;
                sawXDigit = true;
                continue;
            }
            if (ch == ':')
            {
                curtok = i;
                if (!sawXDigit)
                {
                    if (colonp >= 0) return false;
                    colonp = tp;
                    continue;
                }
                if (i >= s.Length) return false;
                if (tp + 2 > 16) return false;
                tmp[tp++] = (byte)(val >> 8); tmp[tp++] = (byte)val;
                sawXDigit = false; val = 0; digits = 0;
                continue;
            }
            if (ch == '.' && tp + 4 <= 16)
            {
                if (!TryParseIPv4(s.Substring(curtok), out var v4)) return false;
                v4!.GetAddressBytes().CopyTo(tmp, tp);
                tp += 4;
                sawXDigit = false;
                goto done;
            }
            return false;
        }
        if (sawXDigit)
        {
            if (tp + 2 > 16) return false;
            tmp[tp++] = (byte)(val >> 8); tmp[tp++] = (byte)val;
        }
    done:
        if (colonp >= 0)
        {
            if (tp == 16) return false;
            int n = tp - colonp;
            for (int k = 1; k <= n; k++) { tmp[16 - k] = tmp[colonp + n - k]; tmp[colonp + n - k] = 0; }
            tp = 16;
        }
        if (tp != 16) return false;
        address = new IPAddress(tmp);
        return true;
    }

    /// <summary>inet_pton of the family keepalived picks (IPv6 when the text has a ':').</summary>
    public static bool TryParseAddress(string s, out IPAddress? address)
        => s.Contains(':') ? TryParseIPv6(s, out address) : TryParseIPv4(s, out address);

    /// <summary>The address family inet_stosockaddr() would try for <paramref name="s"/>.</summary>
    public static AddressFamily FamilyOf(string s) => s.Contains(':') ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    public static bool IsMulticast(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork
        ? (a.GetAddressBytes()[0] & 0xF0) == 0xE0
        : a.IsIPv6Multicast;

    public static bool IsIPv6LinkLocalMulticast(IPAddress a)
    {
        var b = a.GetAddressBytes();
        return b[0] == 0xFF && (b[1] & 0x0F) == 0x02;
    }

    public static bool IsIPv6LinkLocal(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6 && a.IsIPv6LinkLocal;

    /// <summary>Formats an unsigned value scaled by 10^digits as keepalived's "%lu.%*.*lu".</summary>
    public static string Decimal(ulong value, int digits)
    {
        ulong scale = 1;
        for (int i = 0; i < digits; i++) scale *= 10;
        return (value / scale).ToString(CultureInfo.InvariantCulture) + "." + (value % scale).ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    public static string Inv(long v) => v.ToString(CultureInfo.InvariantCulture);
    public static string Inv(ulong v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>alloc_strvec_quoted_escaped(): words with "..." and '...' quoting and C escapes (how keepalived splits a script command line); null on an error or no words.</summary>
    public static string[]? SplitQuotedEscaped(string src, out KeepalivedQuoteError error)
    {
        error = KeepalivedQuoteError.None;
        var words = new List<string>();
        var op = new StringBuilder();
        int ofs = 0;
        char curQuote = '\0';
        while (ofs < src.Length)
        {
            ofs += StrSpn(src, ofs, WhiteSpace);
            if (ofs >= src.Length) break;
            op.Clear();
            while (ofs < src.Length)
            {
                string stops = curQuote == '"' ? "\"\\" : curQuote == '\'' ? "'\\" : WhiteSpace + "'\"\\";
                int ofs1 = ofs;
                while (ofs1 < src.Length && stops.IndexOf(src[ofs1]) < 0) ofs1++;
                if (ofs1 >= src.Length)
                {
                    if (curQuote != '\0')
                    {
                        error = KeepalivedQuoteError.UnmatchedQuote;
                        return null;
                    }
                    op.Append(src, ofs, src.Length - ofs);
                    ofs = src.Length;
                    break;
                }
                op.Append(src, ofs, ofs1 - ofs);
                ofs = ofs1;
                char c = src[ofs];
                if (c == '\\')
                {
                    ofs++;
                    if (ofs >= src.Length)
                    {
                        error = KeepalivedQuoteError.TrailingEscape;
                        return null;
                    }
                    char e = src[ofs];
                    if (e == 'x' && ofs + 1 < src.Length && IsXDigit(src[ofs + 1]))
                    {
                        int v = 0;
                        ofs++;
                        while (ofs < src.Length && IsXDigit(src[ofs])) { v = (v << 4) | Convert.ToInt32(src[ofs].ToString(), 16); ofs++; }
                        op.Append((char)(v & 0xFF));
                    }
                    else if (e == 'c' && ofs + 1 < src.Length)
                    {
                        op.Append((char)(src[ofs + 1] & 0x1f));
                        ofs += 2;
                    }
                    else if (e >= '0' && e <= '7')
                    {
                        int v = e - '0';
                        ofs++;
                        for (int k = 0; k < 2 && ofs < src.Length && src[ofs] >= '0' && src[ofs] <= '7'; k++) v = (v << 3) + (src[ofs++] - '0');
                        op.Append((char)(v & 0xFF));
                    }
                    else
                    {
                        op.Append(e switch { 'a' => '\a', 'b' => '\b', 'E' => (char)0x1b, 'f' => '\f', 'n' => '\n', 'r' => '\r', 't' => '\t', 'v' => '\v', _ => e });
                        ofs++;
                    }
                    continue;
                }
                if (curQuote != '\0') { ofs++; curQuote = '\0'; continue; }
                if (c == '"' || c == '\'') { curQuote = c; ofs++; continue; }
                break;
            }
            words.Add(op.ToString());
        }
        return words.Count == 0 ? null : words.ToArray();
    }

    /// <summary>The quote character left open in <paramref name="src"/> (for the message).</summary>
    public static char UnmatchedQuoteChar(string src)
    {
        char q = '\0';
        for (int i = 0; i < src.Length; i++)
        {
            char c = src[i];
            if (c == '\\') { i++; continue; }
            if (q == '\0') { if (c is '"' or '\'') q = c; }
            else if (c == q) q = '\0';
        }
        return q;
    }

    /// <summary>
    /// A command line whose <see cref="SplitQuotedEscaped"/> words are <paramref name="args"/>: plain words as they are,
    /// others in single quotes with backslash escapes.
    /// </summary>
    public static string JoinQuotedEscaped(IEnumerable<string> args)
        => string.Join(" ", args.Select(a => a.Length > 0 && a.IndexOfAny(new[] { ' ', '\t', '\n', '\r', '\f', '\v', '\'', '"', '\\' }) < 0
            ? a
            : "'" + a.Replace("\\", "\\\\").Replace("'", "\\'") + "'"));
}
