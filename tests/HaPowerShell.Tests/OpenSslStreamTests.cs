using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using HaPowerShell.Native.Net;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>
/// The OpenSSL TLS client (SSL_GET's and Invoke-HttpCheck -UseTls's) against .NET's TLS server on loopback: the
/// handshake, SNI, what it reports, data both ways across many records, and each way it must fail.
/// </summary>
public sealed class OpenSslStreamTests : IDisposable
{
    private static readonly X509Certificate2 Certificate = MakeCertificate("CN=tls.example.test, O=HaPowerShell Tests");
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(30));

    public OpenSslStreamTests() => _listener.Start();

    public void Dispose()
    {
        _listener.Stop();
        _cts.Dispose();
    }

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private static X509Certificate2 MakeCertificate(string subject)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return new X509Certificate2(cert.Export(X509ContentType.Pfx)); // an exported key: SslStream on Linux needs one it may use
    }

    /// <summary>Accepts one connection and serves TLS: reads a line, answers "sni=<name>" and then the line's length in 'x's.</summary>
    private async Task<string?> ServeOneAsync()
    {
        using var client = await _listener.AcceptTcpClientAsync(_cts.Token);
        using var ssl = new SslStream(client.GetStream());
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = Certificate }, _cts.Token);
        var buf = new byte[4096];
        var line = new StringBuilder();
        while (!line.ToString().EndsWith('\n'))
        {
            int n = await ssl.ReadAsync(buf, _cts.Token);
            if (n == 0) break;
            line.Append(Encoding.ASCII.GetString(buf, 0, n));
        }
        int size = int.Parse(line.ToString().Trim());
        await ssl.WriteAsync(Encoding.ASCII.GetBytes($"sni={ssl.TargetHostName}\n"), _cts.Token);
        await ssl.WriteAsync(Encoding.ASCII.GetBytes(new string('x', size)), _cts.Token);
        await ssl.ShutdownAsync();
        return ssl.TargetHostName;
    }

    private async Task<Stream> ConnectAsync()
        => await TcpConnector.Instance.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), null, TimeSpan.FromSeconds(5), _cts.Token);

    private static async Task<string> ReadAllAsync(Stream s, CancellationToken ct)
    {
        var all = new MemoryStream();
        var buf = new byte[1000];
        int n;
        while ((n = await s.ReadAsync(buf, ct)) > 0) all.Write(buf, 0, n);
        return Encoding.ASCII.GetString(all.ToArray());
    }

    [Fact]
    public async Task Handshakes_sends_SNI_reports_protocol_and_subject_and_carries_data_across_many_records()
    {
        var server = ServeOneAsync();
        var tls = await TcpConnector.Instance.StartTlsAsync(await ConnectAsync(), "sni.example.test", verifyCertificate: false, _cts.Token);
        await using (tls.Stream)
        {
            Assert.Contains(tls.Protocol, new[] { "Tls12", "Tls13" });
            Assert.Equal("CN=tls.example.test, O=HaPowerShell Tests", tls.CertificateSubject);
            await tls.Stream.WriteAsync(Encoding.ASCII.GetBytes("200000\n"), _cts.Token);
            string reply = await ReadAllAsync(tls.Stream, _cts.Token);
            Assert.Equal("sni=sni.example.test\n" + new string('x', 200_000), reply);
        }
        Assert.Equal("sni.example.test", await server);
    }

    [Fact]
    public async Task Sends_no_server_name_when_given_none()
    {
        var server = ServeOneAsync();
        var tls = await TcpConnector.Instance.StartTlsAsync(await ConnectAsync(), null, verifyCertificate: false, _cts.Token);
        await using (tls.Stream)
        {
            await tls.Stream.WriteAsync(Encoding.ASCII.GetBytes("3\n"), _cts.Token);
            Assert.Equal("sni=\nxxx", await ReadAllAsync(tls.Stream, _cts.Token));
        }
        Assert.True(string.IsNullOrEmpty(await server));
    }

    [Fact]
    public async Task Refuses_a_self_signed_certificate_when_verifying()
    {
        var server = ServeOneAsync();
        var e = await Assert.ThrowsAsync<AuthenticationException>(async () =>
            await TcpConnector.Instance.StartTlsAsync(await ConnectAsync(), "tls.example.test", verifyCertificate: true, _cts.Token));
        Assert.Contains("certificate", e.Message);
        await Assert.ThrowsAnyAsync<Exception>(() => server); // the server sees the client's alert
    }

    [Fact]
    public async Task Fails_the_handshake_against_a_plain_HTTP_server()
    {
        var server = Task.Run(async () =>
        {
            using var c = await _listener.AcceptTcpClientAsync(_cts.Token);
            var s = c.GetStream();
            await s.ReadAsync(new byte[4096], _cts.Token);
            await s.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), _cts.Token);
        });
        var e = await Assert.ThrowsAsync<AuthenticationException>(async () =>
            await TcpConnector.Instance.StartTlsAsync(await ConnectAsync(), "tls.example.test", verifyCertificate: false, _cts.Token));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        await server;
    }

    [Fact]
    public async Task Fails_when_the_server_closes_during_the_handshake()
    {
        var server = Task.Run(async () =>
        {
            using var c = await _listener.AcceptTcpClientAsync(_cts.Token);
            await c.GetStream().ReadAsync(new byte[4096], _cts.Token);
        });
        var e = await Assert.ThrowsAsync<AuthenticationException>(async () =>
            await TcpConnector.Instance.StartTlsAsync(await ConnectAsync(), "tls.example.test", verifyCertificate: false, _cts.Token));
        Assert.Contains("closed", e.Message);
        await server;
    }

    [Fact]
    public async Task Stops_a_handshake_nobody_answers_when_cancelled()
    {
        var accepted = _listener.AcceptTcpClientAsync(_cts.Token).AsTask();
        using var quick = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await TcpConnector.Instance.StartTlsAsync(await ConnectAsync(), "tls.example.test", verifyCertificate: false, quick.Token));
        (await accepted).Dispose();
    }
}
