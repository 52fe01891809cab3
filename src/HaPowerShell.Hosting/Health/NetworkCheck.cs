using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using HaPowerShell.Core.Health;
using HaPowerShell.Native.Net;

namespace HaPowerShell.Hosting.Health;

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
