using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaPowerShell.Core.Ipvs;

/// <summary>
/// Address text exactly as glibc reads and writes it, because ipvsadm's output and input go through
/// inet_ntop / inet_pton / inet_aton and we must agree with them byte for byte. .NET's own IPAddress
/// parser is more lenient (scope ids, brackets) and its IPv6 printer is not specified to match glibc,
/// so these are written out here. Pure functions, no I/O.
/// </summary>
internal static class IpvsInet
{
    /// <summary>Linux AF_INET / AF_INET6 (the values the IPVS comparators subtract).</summary>
    public const int LinuxAfInet = 2;
    public const int LinuxAfInet6 = 10;

    public static int LinuxFamily(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? LinuxAfInet6 : LinuxAfInet;

    /// <summary>
    /// glibc inet_aton: 1 to 4 parts separated by '.', each decimal, octal (leading 0) or hex (0x);
    /// "a" is 32 bits, "a.b" is 8.24, "a.b.c" is 8.8.16. ipvsadm uses it for IPv4 service/real server
    /// addresses and -M netmasks, so "10.1" means 10.0.0.1 and "010.0.0.1" means 8.0.0.1 there.
    /// </summary>
    public static bool TryInetAton(string s, out uint value)
    {
        value = 0;
        if (string.IsNullOrEmpty(s)) return false;
        var parts = new uint[4];
        int count = 0, i = 0;
        while (true)
        {
            if (i >= s.Length || !IsAsciiDigit(s[i])) return false; // every part starts with a digit
            ulong v = 0;
            int start = i;
            if (s[i] == '0' && i + 1 < s.Length && (s[i + 1] == 'x' || s[i + 1] == 'X')
                && i + 2 < s.Length && Uri.IsHexDigit(s[i + 2]))
            {
                i += 2;
                while (i < s.Length && Uri.IsHexDigit(s[i]))
                {
                    v = v * 16 + (ulong)HexValue(s[i++]);
                    if (v > 0xffffffffUL) return false;
                }
            }
            else if (s[i] == '0')
            {
                while (i < s.Length && s[i] >= '0' && s[i] <= '7')
                {
                    v = v * 8 + (ulong)(s[i++] - '0');
                    if (v > 0xffffffffUL) return false;
                }
            }
            else
            {
                while (i < s.Length && IsAsciiDigit(s[i]))
                {
                    v = v * 10 + (ulong)(s[i++] - '0');
                    if (v > 0xffffffffUL) return false;
                }
            }
            if (i == start) return false;
            if (i < s.Length && s[i] == '.')
            {
                if (count >= 3 || v > 0xff) return false;
                parts[count++] = (uint)v;
                i++;
                continue;
            }
            // glibc accepts trailing whitespace (and ignores what follows it); anything else fails.
            if (i < s.Length && !(s[i] is ' ' or '\t' or '\n' or '\r' or '\f' or '\v')) return false;
            uint last = (uint)v;
            switch (count)
            {
                case 0: value = last; break;
                case 1: if (last > 0xffffff) return false; value = (parts[0] << 24) | last; break;
                case 2: if (last > 0xffff) return false; value = (parts[0] << 24) | (parts[1] << 16) | last; break;
                default: if (last > 0xff) return false; value = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | last; break;
            }
            return true;
        }
    }

    /// <summary>glibc inet_pton(AF_INET): exactly four decimal octets, no leading zeros, each 0-255.</summary>
    public static bool TryPton4(ReadOnlySpan<char> s, Span<byte> dst)
    {
        Span<byte> tmp = stackalloc byte[4];
        tmp.Clear();
        int octets = 0, pos = 0;
        bool sawDigit = false;
        foreach (char ch in s)
        {
            if (ch >= '0' && ch <= '9')
            {
                int nv = tmp[pos] * 10 + (ch - '0');
                if (sawDigit && tmp[pos] == 0) return false; // leading zero
                if (nv > 255) return false;
                tmp[pos] = (byte)nv;
                if (!sawDigit)
                {
                    if (++octets > 4) return false;
                    sawDigit = true;
                }
            }
            else if (ch == '.' && sawDigit)
            {
                if (octets == 4) return false;
                pos++;
                sawDigit = false;
            }
            else return false;
        }
        if (octets < 4) return false;
        tmp.CopyTo(dst);
        return true;
    }

    /// <summary>glibc inet_pton(AF_INET6): hex groups of 1-4 digits, at most one "::", optional dotted IPv4 tail.</summary>
    public static bool TryPton6(ReadOnlySpan<char> src, Span<byte> dst)
    {
        Span<byte> tmp = stackalloc byte[16];
        tmp.Clear();
        int tp = 0, colonp = -1, i = 0;
        if (src.Length == 0) return false;
        if (src[0] == ':')
        {
            if (src.Length < 2 || src[1] != ':') return false;
            i = 1;
        }
        int curtok = i, xdigits = 0;
        uint val = 0;
        bool sawV4 = false;
        while (i < src.Length)
        {
            char ch = src[i++];
            int d = HexValue(ch);
            if (d >= 0)
            {
                if (xdigits == 4) return false;
                val = (val << 4) | (uint)d;
                xdigits++;
                continue;
            }
            if (ch == ':')
            {
                curtok = i;
                if (xdigits == 0)
                {
                    if (colonp >= 0) return false;
                    colonp = tp;
                    continue;
                }
                if (i == src.Length) return false; // trailing single ':'
                if (tp + 2 > 16) return false;
                tmp[tp++] = (byte)(val >> 8);
                tmp[tp++] = (byte)val;
                xdigits = 0;
                val = 0;
                continue;
            }
            if (ch == '.' && tp + 4 <= 16 && TryPton4(src[curtok..], tmp.Slice(tp, 4)))
            {
                tp += 4;
                xdigits = 0;
                sawV4 = true;
                break;
            }
            return false;
        }
        if (!sawV4 && xdigits > 0)
        {
            if (tp + 2 > 16) return false;
            tmp[tp++] = (byte)(val >> 8);
            tmp[tp++] = (byte)val;
        }
        if (colonp >= 0)
        {
            if (tp == 16) return false; // "::" would stand for zero groups
            int n = tp - colonp;
            for (int k = 1; k <= n; k++)
            {
                tmp[16 - k] = tmp[colonp + n - k];
                tmp[colonp + n - k] = 0;
            }
            tp = 16;
        }
        if (tp != 16) return false;
        tmp.CopyTo(dst);
        return true;
    }

    public static IPAddress? ParseIPv6(string s)
    {
        Span<byte> b = stackalloc byte[16];
        return TryPton6(s, b) ? new IPAddress(b) : null;
    }

    public static IPAddress? ParseIPv4Strict(string s)
    {
        Span<byte> b = stackalloc byte[4];
        return TryPton4(s, b) ? new IPAddress(b) : null;
    }

    /// <summary>An address as inet_pton would read it (IPv6 if it has a ':', else strict dotted IPv4).</summary>
    public static IPAddress? ParseStrict(string? s)
    {
        if (string.IsNullOrEmpty(s)) return null;
        return s.Contains(':') ? ParseIPv6(s) : ParseIPv4Strict(s);
    }

    /// <summary>glibc inet_ntop: dotted quad for IPv4; for IPv6 the first longest run (>= 2) of zero groups
    /// becomes "::", groups in lowercase hex, and ::a.b.c.d / ::ffff:a.b.c.d keep a dotted tail.</summary>
    public static string Ntop(IPAddress? address)
    {
        if (address is null) return "0.0.0.0";
        Span<byte> b = stackalloc byte[16];
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            address.TryWriteBytes(b, out _);
            return Ntop4(b);
        }
        address.TryWriteBytes(b, out _);
        return Ntop6(b);
    }

    public static string Ntop4(ReadOnlySpan<byte> b)
        => string.Create(CultureInfo.InvariantCulture, $"{b[0]}.{b[1]}.{b[2]}.{b[3]}");

    public static string Ntop6(ReadOnlySpan<byte> b)
    {
        Span<int> words = stackalloc int[8];
        for (int k = 0; k < 8; k++) words[k] = (b[2 * k] << 8) | b[2 * k + 1];
        int bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
        for (int k = 0; k < 8; k++)
        {
            if (words[k] == 0)
            {
                if (curBase == -1) { curBase = k; curLen = 1; }
                else curLen++;
            }
            else if (curBase != -1)
            {
                if (bestBase == -1 || curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
                curBase = -1;
            }
        }
        if (curBase != -1 && (bestBase == -1 || curLen > bestLen)) { bestBase = curBase; bestLen = curLen; }
        if (bestBase != -1 && bestLen < 2) bestBase = -1;

        var sb = new StringBuilder(46);
        for (int k = 0; k < 8; k++)
        {
            if (bestBase != -1 && k >= bestBase && k < bestBase + bestLen)
            {
                if (k == bestBase) sb.Append(':');
                continue;
            }
            if (k != 0) sb.Append(':');
            if (k == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xffff)))
            {
                sb.Append(Ntop4(b.Slice(12, 4)));
                return sb.ToString();
            }
            sb.Append(words[k].ToString("x", CultureInfo.InvariantCulture));
        }
        if (bestBase != -1 && bestBase + bestLen == 8) sb.Append(':');
        return sb.ToString();
    }

    /// <summary>"a.b.c.d:port" or "[v6]:port", as ipvsadm's numeric addrport_to_anyname prints it.</summary>
    public static string Endpoint(IPAddress? address, ushort port, bool ipv6)
    {
        if (!ipv6) return string.Create(CultureInfo.InvariantCulture, $"{Ntop4(Bytes16(address))}:{port}");
        return string.Create(CultureInfo.InvariantCulture, $"[{Ntop6(Bytes16(address))}]:{port}");
    }

    /// <summary>The 16-byte union nf_inet_addr the kernel hands to ipvsadm: IPv4 in the first 4 bytes, rest zero.</summary>
    public static byte[] Bytes16(IPAddress? address)
    {
        var b = new byte[16];
        address?.TryWriteBytes(b, out _);
        return b;
    }

    /// <summary>The four 32-bit words of the union, each as ntohl() would return it.</summary>
    public static void Words(IPAddress? address, Span<uint> words)
    {
        Span<byte> b = stackalloc byte[16];
        b.Clear();
        address?.TryWriteBytes(b, out _);
        for (int k = 0; k < 4; k++) words[k] = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(4 * k, 4));
    }

    public static uint ToUInt32(IPAddress a)
    {
        Span<byte> b = stackalloc byte[16];
        a.TryWriteBytes(b, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(b);
    }

    public static IPAddress FromUInt32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return new IPAddress(b);
    }

    public static string DottedMask(uint mask) => Ntop4(stackalloc byte[] { (byte)(mask >> 24), (byte)(mask >> 16), (byte)(mask >> 8), (byte)mask });

    /// <summary>True for a mask of n leading ones (n = 1..32).</summary>
    public static bool IsContiguousMask(uint mask) => mask != 0 && (~mask & (~mask + 1)) == 0;

    /// <summary>
    /// The persistence netmask a model string stands for: IPv4 a dotted mask ("255.255.255.0"; a prefix length
    /// "24" or "/24" is also read, as IpvsMapping does), IPv6 a prefix length ("64"). Null/empty = the kernel
    /// default (255.255.255.255 or 128). Returns false when the text is not one of those shapes.
    /// </summary>
    public static bool TryNetmaskValue(bool ipv6, string? text, out uint value)
    {
        if (string.IsNullOrEmpty(text)) { value = ipv6 ? 128u : 0xffffffffu; return true; }
        string t = text.StartsWith('/') ? text[1..] : text;
        if (ipv6)
            return uint.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value is >= 1 and <= 128;
        if (!text.StartsWith('/') && ParseIPv4Strict(text) is { } m) { value = ToUInt32(m); return true; }
        if (uint.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out uint bits) && bits is >= 1 and <= 32)
        {
            value = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> (int)bits);
            return true;
        }
        value = 0;
        return false;
    }

    private static bool IsAsciiDigit(char c) => c >= '0' && c <= '9';

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
