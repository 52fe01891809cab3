using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaPowerShell.Core.Ipvs;

/// <summary>
/// The IPVS connection table as the kernel shows it in /proc/net/ip_vs_conn, and as `ipvsadm -Lnc` prints it.
/// </summary>
/// <remarks>
/// Kernel format (ip_vs_conn_seq_show), one header line then one line per entry:
/// <code>
/// Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
/// TCP C0000264 C822 C0000201 0050 C000020A 0050 ESTABLISHED     897
/// </code>
/// "%-3s %08X %04X %08X %04X %s %04X %-11s %7u%s": an IPv4 address is ntohl(addr) as 8 hex digits, an IPv6
/// address is %pI6 (eight 4-digit groups, e.g. 2001:0db8:0000:0000:0000:0000:0000:0001); ports are 4 hex
/// digits; the destination may be of the other family than client and virtual address (tunnelling); Expires is
/// in seconds; a persistence engine appends " name data" (SIP: the Call-ID).
/// </remarks>
public static class IpvsConnectionParser
{
    /// <summary>Parses the text of /proc/net/ip_vs_conn (header line optional, blank lines ignored).</summary>
    /// <exception cref="ArgumentNullException">text is null.</exception>
    /// <exception cref="FormatException">A malformed line; the message starts with "line N: ".</exception>
    public static List<IpvsConnection> Parse(string procNetIpVsConn)
    {
        ArgumentNullException.ThrowIfNull(procNetIpVsConn);
        var list = new List<IpvsConnection>();
        int lineNumber = 0;
        foreach (var raw in procNetIpVsConn.Split('\n'))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r');
            var fields = Fields(line);
            if (fields.Count == 0) continue;
            if (fields[0].Text == "Pro" && fields.Count > 1 && fields[1].Text == "FromIP")
            {
                if (fields.Any(f => f.Text == "Origin"))
                    throw Bad(lineNumber, "this is the /proc/net/ip_vs_conn_sync layout (with an Origin column); read /proc/net/ip_vs_conn");
                continue; // the header
            }
            if (fields.Count < 9)
                throw Bad(lineNumber, $"expected at least 9 fields (Pro FromIP FPrt ToIP TPrt DestIP DPrt State Expires), found {fields.Count}");

            var c = new IpvsConnection { Protocol = fields[0].Text, State = fields[7].Text };
            c.SourceAddress = Address(lineNumber, fields[1].Text, "client address (FromIP)");
            c.SourcePort = Port(lineNumber, fields[2].Text, "client port (FPrt)");
            c.VirtualAddress = Address(lineNumber, fields[3].Text, "virtual address (ToIP)");
            c.VirtualPort = Port(lineNumber, fields[4].Text, "virtual port (TPrt)");
            c.DestinationAddress = Address(lineNumber, fields[5].Text, "destination address (DestIP)");
            c.DestinationPort = Port(lineNumber, fields[6].Text, "destination port (DPrt)");
            if (c.SourceAddress.AddressFamily != c.VirtualAddress.AddressFamily)
                throw Bad(lineNumber, $"client address {fields[1].Text} and virtual address {fields[3].Text} are of different families (only the destination may differ)");
            c.Expires = TimeSpan.FromSeconds(Expires(lineNumber, fields[8].Text));
            if (fields.Count > 9)
            {
                c.PersistenceEngine = fields[9].Text;
                // The data is everything after "name " (the kernel prints " name data"; data may be empty).
                int dataStart = fields[9].Start + fields[9].Text.Length + 1;
                c.PersistenceData = dataStart < line.Length ? line[dataStart..].TrimEnd(' ', '\t') : "";
            }
            list.Add(c);
        }
        return list;
    }

    /// <summary>
    /// What `ipvsadm -Lnc` prints for these connections: "IPVS connection entries", the column header, one row per
    /// connection ("%-3s %-6s %-11s %-18s %-18s %s" of protocol, mm:ss expiry, state, source, virtual, destination).
    /// With <paramref name="persistenceEngineColumns"/>, the `ipvsadm -Lnc --persistent-conn` layout, which adds
    /// "pe name" and "pe_data" columns for entries that have both.
    /// </summary>
    /// <exception cref="ArgumentNullException">connections is null.</exception>
    /// <exception cref="ArgumentException">A null entry.</exception>
    public static string FormatLikeIpvsadm(IEnumerable<IpvsConnection> connections, bool persistenceEngineColumns = false)
    {
        ArgumentNullException.ThrowIfNull(connections);
        var sb = new StringBuilder("IPVS connection entries\n");
        sb.Append(persistenceEngineColumns
            ? $"pro expire {"state",-11} {"source",-18} {"virtual",-18} {"destination",-18} {"pe name",-16} pe_data\n"
            : $"pro expire {"state",-11} {"source",-18} {"virtual",-18} destination\n");
        foreach (var c in connections)
        {
            if (c is null) throw new ArgumentException("The connection list contains a null entry.", nameof(connections));
            // ipvsadm: seconds = expires % 60, minutes = expires / 60, "%02d:%02d".
            double total = c.Expires.TotalSeconds;
            long secs = total <= 0 || double.IsNaN(total) ? 0 : total >= uint.MaxValue ? uint.MaxValue : (long)Math.Floor(total);
            string expire = string.Create(CultureInfo.InvariantCulture, $"{secs / 60:00}:{secs % 60:00}");
            string src = Endpoint(c.SourceAddress, c.SourcePort);
            string vip = Endpoint(c.VirtualAddress, c.VirtualPort);
            string dst = Endpoint(c.DestinationAddress, c.DestinationPort);
            string proto = c.Protocol ?? "";
            string state = c.State ?? "";
            // ipvsadm reads the PE name and the first word of the PE data with sscanf("%s %s"): the wide row
            // appears only when both are there.
            string? peData = c.PersistenceData?.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (persistenceEngineColumns && !string.IsNullOrEmpty(c.PersistenceEngine) && peData is not null)
                sb.Append(string.Create(CultureInfo.InvariantCulture, $"{proto,-3} {expire,-6} {state,-11} {src,-18} {vip,-18} {dst,-16} {c.PersistenceEngine,-18} {peData}\n"));
            else
                sb.Append(string.Create(CultureInfo.InvariantCulture, $"{proto,-3} {expire,-6} {state,-11} {src,-18} {vip,-18} {dst}\n"));
        }
        return sb.ToString();
    }

    private static string Endpoint(IPAddress? a, ushort port)
        => IpvsInet.Endpoint(a, port, a is not null && a.AddressFamily == AddressFamily.InterNetworkV6);

    private readonly record struct Field(string Text, int Start);

    private static List<Field> Fields(string line)
    {
        var list = new List<Field>();
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] is ' ' or '\t') i++;
            int start = i;
            while (i < line.Length && line[i] is not (' ' or '\t')) i++;
            if (i > start) list.Add(new Field(line[start..i], start));
        }
        return list;
    }

    private static FormatException Bad(int line, string problem) => new($"line {line}: {problem}");

    /// <summary>8 hex digits (IPv4, as %08X of ntohl), an IPv6 address (as %pI6), or dotted IPv4.</summary>
    private static IPAddress Address(int line, string s, string what)
    {
        if (s.Length == 8 && s.All(Uri.IsHexDigit))
            return IpvsInet.FromUInt32(uint.Parse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
        var a = IpvsInet.ParseStrict(s);
        return a ?? throw Bad(line, $"{what} '{s}' is neither 8 hex digits (IPv4) nor an IPv6 address");
    }

    private static ushort Port(int line, string s, string what)
    {
        if (s.Length is >= 1 and <= 4 && s.All(Uri.IsHexDigit))
            return ushort.Parse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        throw Bad(line, $"{what} '{s}' is not a 4-digit hex port");
    }

    /// <summary>Seconds. Very old kernels printed an already-expired entry as a huge unsigned value; such values
    /// are clamped to 2^32-1 seconds.</summary>
    private static double Expires(int line, string s)
    {
        if (s.Length > 0 && s.All(char.IsAsciiDigit))
        {
            if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v)) v = ulong.MaxValue;
            return Math.Min(v, uint.MaxValue);
        }
        throw Bad(line, $"Expires '{s}' is not a number of seconds");
    }
}
