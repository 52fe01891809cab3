using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Native.Net;

namespace HaPowerShell.Core.Health;

/// <summary>keepalived's retry rule for one check: up to 1 + retry attempts, delay_before_retry between them.</summary>
public static class HealthRetry
{
    public static async Task<(T Last, int Attempts)> RunAsync<T>(int retry, TimeSpan delayBeforeRetry,
        Func<int, CancellationToken, Task<T>> attempt, Func<T, bool> succeeded,
        Func<TimeSpan, CancellationToken, Task>? delay, CancellationToken cancellation)
    {
        delay ??= Task.Delay;
        for (int i = 1; ; i++)
        {
            var r = await attempt(i, cancellation).ConfigureAwait(false);
            if (succeeded(r) || i > retry || cancellation.IsCancellationRequested) return (r, i);
            await delay(delayBeforeRetry, cancellation).ConfigureAwait(false);
        }
    }
}

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

/// <summary>TCP_CHECK and HTTP_GET/SSL_GET: the rules here, the socket and TLS I/O behind <see cref="ITcpConnector"/> (Native).</summary>
public static class NetworkCheck
{
    public static async Task<TcpCheckResult> TcpAsync(TcpCheckOptions o, CancellationToken cancellation = default,
        Func<TimeSpan, CancellationToken, Task>? delay = null, ITcpConnector? connector = null)
    {
        o.Validate();
        var net = connector ?? TcpConnector.Instance;
        var started = DateTimeOffset.Now;
        var ((ok, error, took), attempts) = await HealthRetry.RunAsync(o.Retry, TimeSpan.FromSeconds(o.DelayBeforeRetrySeconds),
            async (_, ct) =>
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    var s = await ConnectAsync(net, o, ct).ConfigureAwait(false);
                    await s.DisposeAsync().ConfigureAwait(false);
                    return (true, (string?)null, clock.Elapsed);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellation.IsCancellationRequested)
                {
                    return (false, e is SocketException se ? se.SocketErrorCode.ToString() : "TimedOut", clock.Elapsed);
                }
            }, r => r.Item1, delay, cancellation).ConfigureAwait(false);
        return new TcpCheckResult
        {
            Address = o.Address,
            Port = o.Port,
            BindAddress = o.BindAddress,
            Success = ok,
            SocketError = error,
            Message = ok ? null : $"connect failed: {error}" + (attempts > 1 ? $" (after {attempts} attempts)" : ""),
            Attempts = attempts,
            Duration = took,
            Timestamp = started,
            RealServer = o.RealServer,
        };
    }

    public static async Task<HttpCheckResult> HttpAsync(HttpCheckOptions o, CancellationToken cancellation = default,
        Func<TimeSpan, CancellationToken, Task>? delay = null, ITcpConnector? connector = null)
    {
        o.Validate();
        var net = connector ?? TcpConnector.Instance;
        var started = DateTimeOffset.Now;
        var (last, attempts) = await HealthRetry.RunAsync(o.Retry, TimeSpan.FromSeconds(o.DelayBeforeRetrySeconds),
            (_, ct) => HttpOnceAsync(net, o, ct, cancellation), r => r.Success, delay, cancellation).ConfigureAwait(false);
        return new HttpCheckResult
        {
            Address = last.Address, Port = last.Port, Url = last.Url, VirtualHost = last.VirtualHost, UseTls = last.UseTls,
            ServerName = last.ServerName, StatusCode = last.StatusCode, ReasonPhrase = last.ReasonPhrase,
            ExpectedStatus = last.ExpectedStatus, Digest = last.Digest, ExpectedDigest = last.ExpectedDigest,
            ContentLength = last.ContentLength, BodyPreview = last.BodyPreview, TlsProtocol = last.TlsProtocol,
            CertificateSubject = last.CertificateSubject, Success = last.Success, Message = last.Message,
            Attempts = attempts, Duration = last.Duration, Timestamp = started, RealServer = o.RealServer,
        };
    }

    private static async Task<HttpCheckResult> HttpOnceAsync(ITcpConnector net, HttpCheckOptions o, CancellationToken ct, CancellationToken outer)
    {
        var clock = Stopwatch.StartNew();
        string? sni = o.SniName();
        int status = 0;
        string? reason = null, digest = null, preview = null, tls = null, subject = null, failure;
        long length = 0;
        bool ok = false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(o.ConnectTimeoutSeconds)); // the whole exchange, as keepalived's connect_timeout
        try
        {
            Stream stream = await ConnectAsync(net, o, timeout.Token).ConfigureAwait(false);
            if (o.UseTls)
            {
                try
                {
                    var t = await net.StartTlsAsync(stream, sni, o.VerifyCertificate, timeout.Token).ConfigureAwait(false);
                    tls = t.Protocol;
                    subject = t.CertificateSubject;
                    stream = t.Stream;
                }
                catch
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(o.Request(), timeout.Token).ConfigureAwait(false);
                await stream.FlushAsync(timeout.Token).ConfigureAwait(false);
                var r = await HttpResponseReader.ReadAsync(stream, headRequest: false, timeout.Token).ConfigureAwait(false);
                status = r.StatusCode;
                reason = r.ReasonPhrase;
                digest = r.Digest;
                length = r.ContentLength;
                preview = Encoding.UTF8.GetString(r.BodyPreview);
                if (!o.StatusCodes.Contains(status)) failure = $"status {status} is not in {o.StatusCodes}";
                else if (!r.Complete) failure = "the connection closed before the whole body arrived";
                else if (o.Digest is not null && !string.Equals(o.Digest, digest, StringComparison.Ordinal)) failure = $"digest {digest} differs from the expected {o.Digest}";
                else { failure = null; ok = true; }
            }
        }
        catch (OperationCanceledException) when (!outer.IsCancellationRequested)
        {
            failure = $"timed out after {o.ConnectTimeoutSeconds} s";
        }
        catch (SocketException e)
        {
            failure = $"connect failed: {e.SocketErrorCode}";
        }
        catch (AuthenticationException e)
        {
            failure = $"TLS handshake failed: {e.Message}";
        }
        catch (HttpResponseFormatException e)
        {
            failure = $"bad HTTP response: {e.Message}";
        }
        catch (IOException e)
        {
            failure = $"connection error: {e.Message}";
        }
        return new HttpCheckResult
        {
            Address = o.Address, Port = o.Port, Url = o.Url(), VirtualHost = o.VirtualHost, UseTls = o.UseTls, ServerName = sni,
            StatusCode = status, ReasonPhrase = reason, ExpectedStatus = o.StatusCodes.ToString(), Digest = digest,
            ExpectedDigest = o.Digest, ContentLength = length, BodyPreview = preview, TlsProtocol = tls,
            CertificateSubject = subject, Success = ok, Message = failure, Duration = clock.Elapsed, RealServer = o.RealServer,
        };
    }

    private static Task<Stream> ConnectAsync(ITcpConnector net, TcpCheckOptions o, CancellationToken ct)
        => net.ConnectAsync(new IPEndPoint(o.Address, o.Port), o.BindAddress, TimeSpan.FromSeconds(o.ConnectTimeoutSeconds), ct);
}
