using System.Net;
using System.Net.Sockets;

namespace HaPowerShell.Native.Net;

/// <summary>The TLS side of a connection: the stream to talk through and what was negotiated.</summary>
public sealed record TlsConnection(Stream Stream, string Protocol, string? CertificateSubject);

/// <summary>
/// The socket and TLS I/O the health checks need (TCP_CHECK, HTTP_GET, SSL_GET). Core's checks are
/// written against this; <see cref="TcpConnector"/> is the real thing.
/// </summary>
public interface ITcpConnector
{
    /// <summary>
    /// Opens a TCP connection, from <paramref name="bind"/> if given. Fails with a
    /// <see cref="SocketException"/> (refused, unreachable, ...) or, after <paramref name="timeout"/>,
    /// an <see cref="OperationCanceledException"/>. The stream owns the socket.
    /// </summary>
    Task<Stream> ConnectAsync(IPEndPoint remote, IPAddress? bind, TimeSpan timeout, CancellationToken cancellation);

    /// <summary>
    /// TLS client handshake over <paramref name="inner"/> (which the returned stream then owns).
    /// <paramref name="serverName"/> is sent as SNI when not null; the certificate is checked only
    /// with <paramref name="verifyCertificate"/> (keepalived does not check it). Fails with
    /// <see cref="System.Security.Authentication.AuthenticationException"/> or an IOException. The protocol is named as
    /// .NET names it (Tls12, Tls13), the subject as "CN=host, O=org".
    /// </summary>
    Task<TlsConnection> StartTlsAsync(Stream inner, string? serverName, bool verifyCertificate, CancellationToken cancellation);
}

/// <summary>.NET sockets, and OpenSSL for TLS (<see cref="OpenSslStream"/>).</summary>
public sealed class TcpConnector : ITcpConnector
{
    public static readonly TcpConnector Instance = new();

    public async Task<Stream> ConnectAsync(IPEndPoint remote, IPAddress? bind, TimeSpan timeout, CancellationToken cancellation)
    {
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (bind is not null) socket.Bind(new IPEndPoint(bind, 0));
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timer.CancelAfter(timeout);
            await socket.ConnectAsync(remote, timer.Token).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task<TlsConnection> StartTlsAsync(Stream inner, string? serverName, bool verifyCertificate, CancellationToken cancellation)
    {
        var tls = await OpenSslStream.ConnectAsync(inner, serverName, verifyCertificate, cancellation).ConfigureAwait(false);
        return new TlsConnection(tls, tls.Protocol, tls.CertificateSubject);
    }
}
