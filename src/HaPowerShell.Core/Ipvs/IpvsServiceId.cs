using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace HaPowerShell.Core.Ipvs;

/// <summary>
/// Parses the ways a user names a virtual service on the command line:
/// "TCP 192.0.2.1:80", "tcp/192.0.2.1:80", "-t 192.0.2.1:80", "udp [2001:db8::1]:53",
/// "FWM 5", "fwm:5", "-f 5 -6", "FWM 5 IPv6".
/// </summary>
public static partial class IpvsServiceId
{
    [GeneratedRegex(@"^\s*(?:(?<proto>tcp|udp|sctp|-t|-u|--sctp-service|--tcp-service|--udp-service)[\s/:]+(?<ep>\S+)|(?:fwm|-f|--fwmark-service)[\s/:]+(?<mark>\d+)(?<v6>\s+(?:-6|ipv6))?)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out IpvsService service, out string error)
    {
        service = new IpvsService();
        error = "";
        var m = Pattern().Match(text ?? "");
        if (!m.Success)
        {
            error = $"'{text}' does not name a virtual service. Use 'TCP 192.0.2.1:80', 'udp/[2001:db8::1]:53' or 'FWM 5' (add ' IPv6' for an IPv6 firewall-mark service).";
            return false;
        }
        if (m.Groups["mark"].Success)
        {
            if (!uint.TryParse(m.Groups["mark"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out uint mark) || mark == 0)
            {
                error = $"'{m.Groups["mark"].Value}' is not a firewall mark (1-4294967295).";
                return false;
            }
            service.FirewallMark = mark;
            service.AddressFamily = m.Groups["v6"].Success ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
            return true;
        }
        service.Protocol = m.Groups["proto"].Value.ToLowerInvariant() switch
        {
            "tcp" or "-t" or "--tcp-service" => IpvsProtocol.Tcp,
            "udp" or "-u" or "--udp-service" => IpvsProtocol.Udp,
            _ => IpvsProtocol.Sctp,
        };
        if (!TryParseEndpoint(m.Groups["ep"].Value, out var address, out ushort port, out error)) return false;
        service.Address = address;
        service.Port = port;
        service.AddressFamily = address.AddressFamily;
        return true;
    }

    public static IpvsService Parse(string text)
        => TryParse(text, out var s, out var error) ? s : throw new FormatException(error);

    /// <summary>"192.0.2.1:80" or "[2001:db8::1]:80"; the port is required.</summary>
    public static bool TryParseEndpoint(string text, out IPAddress address, out ushort port, out string error)
    {
        address = IPAddress.None;
        port = 0;
        error = "";
        string host, portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = $"'{text}' is not [IPv6]:port.";
                return false;
            }
            host = text[1..close];
            portText = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0 || text.IndexOf(':') != colon)
            {
                error = $"'{text}' is not address:port (write IPv6 addresses as [2001:db8::1]:80).";
                return false;
            }
            host = text[..colon];
            portText = text[(colon + 1)..];
        }
        IPAddress parsed;
        try { parsed = Arp.ArpValidation.ParseAddress(host, parameterName: "", allowPrefix: false).Address; }
        catch (Arp.ArpArgumentException e)
        {
            error = e.Message; // strict: '192.0.2' is not read as 192.0.0.2
            return false;
        }
        if (!ushort.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port))
        {
            error = $"'{portText}' is not a port (0-65535).";
            return false;
        }
        address = parsed;
        return true;
    }
}
