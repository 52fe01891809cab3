using System.Net;
using System.Net.Sockets;
using System.Text;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Health;

/// <summary>Settings of a TCP_CHECK.</summary>
public class TcpCheckOptions
{
    public IPAddress Address { get; set; } = null!;
    public int Port { get; set; }

    /// <summary>connect_timeout, seconds (keepalived default 5).</summary>
    public double ConnectTimeoutSeconds { get; set; } = 5;

    /// <summary>retry (nb_get_retry): extra attempts after a failure.</summary>
    public int Retry { get; set; }

    /// <summary>delay_before_retry, seconds (keepalived default 1).</summary>
    public double DelayBeforeRetrySeconds { get; set; } = 1;

    /// <summary>bindto: the local address to connect from.</summary>
    public IPAddress? BindAddress { get; set; }

    public IpvsRealServer? RealServer { get; set; }

    public virtual void Validate()
    {
        // No sentinel address: 255.255.255.255 is a value a user can give (and is refused below), not "missing".
        if (Address is null)
            throw HealthCheckException.Argument("InvalidAddress", "-Address is missing.");
        string? notOne = Address.Equals(IPAddress.Broadcast) ? "the broadcast address"
            : Address.Equals(IPAddress.Any) || Address.Equals(IPAddress.IPv6Any) ? "the unspecified address"
            : Address.IsIPv6Multicast || (Address.AddressFamily == AddressFamily.InterNetwork && (Address.GetAddressBytes()[0] & 0xf0) == 0xe0) ? "a multicast address"
            : null;
        if (notOne is not null)
            throw HealthCheckException.Argument("InvalidAddress",
                $"-Address {Address} is {notOne}; a TCP or HTTP check connects to one server: give its unicast address.", Address);
        HealthValidation.Port(Port);
        HealthValidation.Timeout(ConnectTimeoutSeconds, "-ConnectTimeout");
        HealthValidation.Retry(Retry);
        HealthValidation.Delay(DelayBeforeRetrySeconds, "-DelayBeforeRetry");
        if (BindAddress is not null && BindAddress.AddressFamily != Address.AddressFamily)
            throw HealthCheckException.Argument("AddressFamilyMismatch",
                $"-BindAddress {BindAddress} and -Address {Address} are of different address families.", BindAddress);
    }

    /// <summary>The port to check for a real server: -Port if given (connect_port), else the real server's, else its service's.</summary>
    public static int PortFor(IpvsRealServer r, int? overridePort)
        => overridePort ?? (r.Port != 0 ? r.Port : r.Service?.Port ?? 0);
}

/// <summary>Settings of an HTTP_GET / SSL_GET.</summary>
public sealed class HttpCheckOptions : TcpCheckOptions
{
    /// <summary>URL path with query, "/" by default.</summary>
    public string Path { get; set; } = "/";

    public StatusCodeSet StatusCodes { get; set; } = StatusCodeSet.Default;

    /// <summary>Expected genhash digest (lowercase hex MD5 of the body), or null.</summary>
    public string? Digest { get; set; }

    /// <summary>virtualhost: the Host header; default the address (and port when not the default).</summary>
    public string? VirtualHost { get; set; }

    public bool UseTls { get; set; }

    /// <summary>SNI name; default the virtual host when it is a name. An address is never sent as SNI.</summary>
    public string? ServerName { get; set; }

    /// <summary>Check the server certificate against the trusted roots and the name (keepalived does not).</summary>
    public bool VerifyCertificate { get; set; }

    public override void Validate()
    {
        base.Validate();
        if (string.IsNullOrEmpty(Path) || !Path.StartsWith('/') || Path.Any(c => c <= ' ' || c == 127))
            throw HealthCheckException.Argument("InvalidUrlPath", $"-Path '{Path}' must start with '/' and contain no spaces or control characters.", Path);
        if (VirtualHost is not null && (VirtualHost.Length == 0 || VirtualHost.Any(c => c <= ' ' || c == 127 || c == '/')))
            throw HealthCheckException.Argument("InvalidVirtualHost", $"-VirtualHost '{VirtualHost}' is not a host name.", VirtualHost);
        if (ServerName is not null && !UseTls)
            throw HealthCheckException.Argument("ServerNameWithoutTls", "-ServerName (SNI) needs -UseTls.", ServerName);
    }

    /// <summary>The Host header value.</summary>
    public string HostHeader()
    {
        if (VirtualHost is not null) return VirtualHost;
        string host = Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString();
        return Port == (UseTls ? 443 : 80) ? host : $"{host}:{Port}";
    }

    /// <summary>The SNI name: -ServerName, else the virtual host when it is a DNS name (port stripped), else none.</summary>
    public string? SniName()
    {
        if (!UseTls) return null;
        if (ServerName is not null) return ServerName;
        if (VirtualHost is null) return null;
        string host = VirtualHost;
        if (!host.StartsWith('[') && host.LastIndexOf(':') is int c and > 0 && host.IndexOf(':') == c) host = host[..c];
        return IPAddress.TryParse(host.Trim('[', ']'), out _) ? null : host;
    }

    public string Url() => $"{(UseTls ? "https" : "http")}://{(Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address)}:{Port}{Path}";

    /// <summary>The request keepalived sends, HTTP/1.0 with a Host header, plus Connection: close.</summary>
    public byte[] Request()
        => Encoding.ASCII.GetBytes($"GET {Path} HTTP/1.0\r\nHost: {HostHeader()}\r\nUser-Agent: HaPowerShell-HealthCheck\r\nAccept: */*\r\nConnection: close\r\n\r\n");
}
