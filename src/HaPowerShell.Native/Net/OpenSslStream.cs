using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Text;

namespace HaPowerShell.Native.Net;

/// <summary>
/// A TLS client over any stream, with the system's OpenSSL 3 (libssl.so.3) doing the protocol through two memory
/// BIOs: this class moves the ciphertext between them and the inner stream (asynchronously, so a check never holds a
/// thread while it waits), OpenSSL does everything else. This is what SSL_GET needs (keepalived's own checker is
/// OpenSSL too); it replaces SslStream, whose certificate chain building brings HTTP (for certificate downloads),
/// ASN.1 and X.509 code into hapd's executable: about 3 MB of its 12 and as much of its resident memory.
/// </summary>
public sealed partial class OpenSslStream : Stream
{
    private const string LibSsl = "libssl.so.3", LibCrypto = "libcrypto.so.3";

    // openssl/ssl.h, bio.h, x509.h (OpenSSL 3 ABI).
    private const int SslErrorNone = 0, SslErrorSsl = 1, SslErrorWantRead = 2, SslErrorWantWrite = 3, SslErrorSyscall = 5, SslErrorZeroReturn = 6;
    private const int SslVerifyNone = 0, SslVerifyPeer = 1;
    private const int SslCtrlSetTlsextHostname = 55, TlsextNametypeHostName = 0;
    private const int BioCtrlPending = 10;
    // ASN1_STRFLGS_RFC2253 without ESC_MSB (UTF-8 stays UTF-8), ", " between parts, most specific first: "CN=a, O=b" as .NET writes a subject.
    private const ulong SubjectFormat = 0x313UL | (2UL << 16) | (1UL << 20) | (1UL << 24);

    /// <summary>The OpenSSL 3 entry points used (blittable arguments only).</summary>
    private static unsafe partial class Lib
    {
        [LibraryImport(LibSsl)] internal static partial IntPtr TLS_client_method();
        [LibraryImport(LibSsl)] internal static partial IntPtr SSL_CTX_new(IntPtr method);
        [LibraryImport(LibSsl)] internal static partial int SSL_CTX_set_default_verify_paths(IntPtr ctx);
        [LibraryImport(LibSsl)] internal static partial void SSL_CTX_set_verify(IntPtr ctx, int mode, IntPtr callback);
        [LibraryImport(LibSsl)] internal static partial IntPtr SSL_new(IntPtr ctx);
        [LibraryImport(LibSsl)] internal static partial void SSL_free(IntPtr ssl);
        [LibraryImport(LibSsl)] internal static partial void SSL_set_bio(IntPtr ssl, IntPtr rbio, IntPtr wbio);
        [LibraryImport(LibSsl)] internal static partial void SSL_set_connect_state(IntPtr ssl);
        [LibraryImport(LibSsl)] internal static partial int SSL_do_handshake(IntPtr ssl);
        [LibraryImport(LibSsl)] internal static partial int SSL_read(IntPtr ssl, byte* buffer, int count);
        [LibraryImport(LibSsl)] internal static partial int SSL_write(IntPtr ssl, byte* buffer, int count);
        [LibraryImport(LibSsl)] internal static partial int SSL_get_error(IntPtr ssl, int result);
        [LibraryImport(LibSsl)] internal static partial long SSL_ctrl(IntPtr ssl, int command, long larg, IntPtr parg);
        [LibraryImport(LibSsl)] internal static partial int SSL_set1_host(IntPtr ssl, byte* hostname);
        [LibraryImport(LibSsl)] internal static partial int SSL_version(IntPtr ssl);
        [LibraryImport(LibSsl)] internal static partial IntPtr SSL_get1_peer_certificate(IntPtr ssl);
        [LibraryImport(LibSsl)] internal static partial long SSL_get_verify_result(IntPtr ssl);
        [LibraryImport(LibCrypto)] internal static partial IntPtr BIO_s_mem();
        [LibraryImport(LibCrypto)] internal static partial IntPtr BIO_new(IntPtr type);
        [LibraryImport(LibCrypto)] internal static partial int BIO_free(IntPtr bio);
        [LibraryImport(LibCrypto)] internal static partial int BIO_read(IntPtr bio, byte* data, int length);
        [LibraryImport(LibCrypto)] internal static partial int BIO_write(IntPtr bio, byte* data, int length);
        [LibraryImport(LibCrypto)] internal static partial long BIO_ctrl(IntPtr bio, int command, long larg, IntPtr parg);
        [LibraryImport(LibCrypto)] internal static partial void X509_free(IntPtr certificate);
        [LibraryImport(LibCrypto)] internal static partial IntPtr X509_get_subject_name(IntPtr certificate);
        [LibraryImport(LibCrypto)] internal static partial int X509_NAME_print_ex(IntPtr bio, IntPtr name, int indent, ulong flags);
        [LibraryImport(LibCrypto)] internal static partial IntPtr X509_verify_cert_error_string(long code);
        [LibraryImport(LibCrypto)] internal static partial ulong ERR_get_error();
        [LibraryImport(LibCrypto)] internal static partial void ERR_error_string_n(ulong code, byte* buffer, nuint length);
        [LibraryImport(LibCrypto)] internal static partial void ERR_clear_error();
    }

    private static readonly Lazy<IntPtr> TrustingContext = new(() => NewContext(verify: false));
    private static readonly Lazy<IntPtr> VerifyingContext = new(() => NewContext(verify: true));

    private readonly Stream _inner;
    private readonly bool _leaveInnerOpen;
    private readonly byte[] _in = new byte[16 * 1024];
    private readonly byte[] _out = new byte[16 * 1024 + 512];
    private readonly object _gate = new();
    private IntPtr _ssl, _rbio, _wbio;

    private OpenSslStream(Stream inner, IntPtr ssl, IntPtr rbio, IntPtr wbio, bool leaveInnerOpen)
    {
        _inner = inner;
        _ssl = ssl;
        _rbio = rbio;
        _wbio = wbio;
        _leaveInnerOpen = leaveInnerOpen;
    }

    /// <summary>The negotiated protocol, by .NET's names (Tls12, Tls13), after the handshake.</summary>
    public string Protocol { get; private set; } = "";

    /// <summary>The server certificate's subject ("CN=host, O=org"), null when it sent none.</summary>
    public string? CertificateSubject { get; private set; }

    /// <summary>
    /// Runs the client handshake over <paramref name="inner"/> (which the returned stream then owns). SNI is
    /// <paramref name="serverName"/> when not null; with <paramref name="verifyCertificate"/> the chain must lead to
    /// the system's trusted roots and, when a name is given, the certificate must be for it. Fails with an
    /// <see cref="AuthenticationException"/> that carries OpenSSL's reason; cancellation stops it between reads.
    /// </summary>
    public static async Task<OpenSslStream> ConnectAsync(Stream inner, string? serverName, bool verifyCertificate, CancellationToken cancellation, bool leaveInnerOpen = false)
    {
        var tls = Create(inner, serverName, verifyCertificate, leaveInnerOpen);
        try
        {
            await tls.HandshakeAsync(cancellation).ConfigureAwait(false);
            return tls;
        }
        catch
        {
            tls.Dispose();
            throw;
        }
    }

    private static unsafe OpenSslStream Create(Stream inner, string? serverName, bool verify, bool leaveInnerOpen)
    {
        IntPtr ctx;
        try { ctx = verify ? VerifyingContext.Value : TrustingContext.Value; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new AuthenticationException($"TLS needs OpenSSL 3 (libssl.so.3), which could not be loaded: {e.Message}", e);
        }
        IntPtr ssl = Lib.SSL_new(ctx), rbio = IntPtr.Zero, wbio = IntPtr.Zero;
        try
        {
            if (ssl == IntPtr.Zero) throw new AuthenticationException($"SSL_new failed: {TakeErrors()}");
            rbio = Lib.BIO_new(Lib.BIO_s_mem());
            wbio = Lib.BIO_new(Lib.BIO_s_mem());
            if (rbio == IntPtr.Zero || wbio == IntPtr.Zero) throw new AuthenticationException($"BIO_new failed: {TakeErrors()}");
            Lib.SSL_set_bio(ssl, rbio, wbio); // the SSL object owns both now
            var s = new OpenSslStream(inner, ssl, rbio, wbio, leaveInnerOpen);
            rbio = wbio = ssl = IntPtr.Zero;
            if (serverName is not null)
            {
                byte[] name = Encoding.ASCII.GetBytes(serverName + "\0");
                fixed (byte* p = name)
                {
                    if (Lib.SSL_ctrl(s._ssl, SslCtrlSetTlsextHostname, TlsextNametypeHostName, (IntPtr)p) != 1)
                        throw new AuthenticationException($"cannot send {serverName} as the TLS server name: {TakeErrors()}");
                    if (verify && Lib.SSL_set1_host(s._ssl, p) != 1)
                        throw new AuthenticationException($"cannot check the certificate against {serverName}: {TakeErrors()}");
                }
            }
            Lib.SSL_set_connect_state(s._ssl);
            return s;
        }
        finally
        {
            if (ssl != IntPtr.Zero) Lib.SSL_free(ssl);
            if (rbio != IntPtr.Zero) Lib.BIO_free(rbio);
            if (wbio != IntPtr.Zero) Lib.BIO_free(wbio);
        }
    }

    private static IntPtr NewContext(bool verify)
    {
        IntPtr ctx = Lib.SSL_CTX_new(Lib.TLS_client_method());
        if (ctx == IntPtr.Zero) throw new AuthenticationException($"SSL_CTX_new failed: {TakeErrors()}");
        if (verify)
        {
            Lib.SSL_CTX_set_default_verify_paths(ctx);
            Lib.SSL_CTX_set_verify(ctx, SslVerifyPeer, IntPtr.Zero);
        }
        else Lib.SSL_CTX_set_verify(ctx, SslVerifyNone, IntPtr.Zero);
        return ctx; // one per mode for the life of the process: SSL objects are made from it on any thread
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        while (true)
        {
            var (result, error, reason) = Step(static s => Lib.SSL_do_handshake(s));
            await SendPendingAsync(ct).ConfigureAwait(false);
            if (result == 1) break;
            if (error == SslErrorWantRead)
            {
                if (!await ReceiveAsync(ct).ConfigureAwait(false))
                    throw new AuthenticationException("the server closed the connection during the TLS handshake");
                continue;
            }
            if (error == SslErrorWantWrite) continue;
            throw new AuthenticationException(reason);
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ssl == IntPtr.Zero, this);
            Protocol = Lib.SSL_version(_ssl) switch
            {
                0x0301 => "Tls",
                0x0302 => "Tls11",
                0x0303 => "Tls12",
                0x0304 => "Tls13",
                int v => $"0x{v:x4}",
            };
            CertificateSubject = ReadSubject(_ssl);
        }
    }

    /// <summary>One OpenSSL call and its outcome, taken on this thread (OpenSSL's error queue is per thread, and an await may move on).</summary>
    private (int Result, int Error, string Reason) Step(Func<IntPtr, int> call)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ssl == IntPtr.Zero, this);
            Lib.ERR_clear_error();
            return Outcome(call(_ssl));
        }
    }

    /// <summary>What a call's <paramref name="result"/> means (under the gate, on the calling thread): the SSL error and, for a failure, why.</summary>
    private (int Result, int Error, string Reason) Outcome(int result)
    {
        if (result > 0) return (result, SslErrorNone, "");
        int e = Lib.SSL_get_error(_ssl, result);
        return (result, e, e is SslErrorSsl or SslErrorSyscall ? Describe(e) : "");
    }

    private string Describe(int error)
    {
        string queued = TakeErrors();
        long verify = Lib.SSL_get_verify_result(_ssl);
        string why = verify != 0 ? $"certificate verification failed: {Marshal.PtrToStringUTF8(Lib.X509_verify_cert_error_string(verify))}" : "";
        if (queued.Length > 0) why = why.Length > 0 ? $"{why} ({queued})" : queued;
        return why.Length > 0 ? why : error == SslErrorSyscall ? "the connection failed during TLS" : $"TLS error {error}";
    }

    private static unsafe string TakeErrors()
    {
        var sb = new StringBuilder();
        byte* buf = stackalloc byte[256];
        for (int n = 0; n < 8; n++)
        {
            ulong code = Lib.ERR_get_error();
            if (code == 0) break;
            Lib.ERR_error_string_n(code, buf, 256);
            if (sb.Length > 0) sb.Append("; ");
            sb.Append(Marshal.PtrToStringUTF8((IntPtr)buf));
        }
        return sb.ToString();
    }

    private static unsafe string? ReadSubject(IntPtr ssl)
    {
        IntPtr cert = Lib.SSL_get1_peer_certificate(ssl);
        if (cert == IntPtr.Zero) return null;
        IntPtr bio = Lib.BIO_new(Lib.BIO_s_mem());
        try
        {
            if (bio == IntPtr.Zero || Lib.X509_NAME_print_ex(bio, Lib.X509_get_subject_name(cert), 0, SubjectFormat) < 0) return null;
            int pending = (int)Math.Min(Lib.BIO_ctrl(bio, BioCtrlPending, 0, IntPtr.Zero), 64 * 1024);
            var bytes = new byte[pending];
            fixed (byte* p = bytes) pending = Math.Max(0, Lib.BIO_read(bio, p, pending));
            return Encoding.UTF8.GetString(bytes, 0, pending);
        }
        finally
        {
            if (bio != IntPtr.Zero) Lib.BIO_free(bio);
            Lib.X509_free(cert);
        }
    }

    /// <summary>Writes what OpenSSL has queued for the peer (handshake records, encrypted data, alerts) to the inner stream.</summary>
    private async ValueTask SendPendingAsync(CancellationToken ct)
    {
        while (true)
        {
            int n = TakeOutput();
            if (n <= 0) return;
            await _inner.WriteAsync(_out.AsMemory(0, n), ct).ConfigureAwait(false);
        }
    }

    private unsafe int TakeOutput()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ssl == IntPtr.Zero, this);
            fixed (byte* p = _out) return Lib.BIO_read(_wbio, p, _out.Length);
        }
    }

    /// <summary>Reads what the peer sent into OpenSSL; false at the end of the inner stream.</summary>
    private async ValueTask<bool> ReceiveAsync(CancellationToken ct)
    {
        int n = await _inner.ReadAsync(_in, ct).ConfigureAwait(false);
        if (n <= 0) return false;
        PutInput(n);
        return true;
    }

    private unsafe void PutInput(int n)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ssl == IntPtr.Zero, this);
            fixed (byte* p = _in)
                if (Lib.BIO_write(_rbio, p, n) != n) throw new IOException($"OpenSSL took less than the {n} bytes received: {TakeErrors()}");
        }
    }

    /// <summary>One SSL_read into, or SSL_write from, <paramref name="buffer"/>, and its outcome (taken at once: the error queue is per thread).</summary>
    private unsafe (int Result, int Error, string Reason) Transfer(ReadOnlyMemory<byte> buffer, bool write)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ssl == IntPtr.Zero, this);
            Lib.ERR_clear_error();
            int result;
            fixed (byte* p = buffer.Span) result = write ? Lib.SSL_write(_ssl, p, buffer.Length) : Lib.SSL_read(_ssl, p, buffer.Length);
            return Outcome(result);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0) return 0;
        while (true)
        {
            var (result, error, reason) = Transfer(buffer, write: false);
            if (result > 0) return result;
            if (error == SslErrorZeroReturn) return 0; // the server's close_notify
            await SendPendingAsync(cancellationToken).ConfigureAwait(false);
            if (error == SslErrorWantRead)
            {
                // A server that closes without close_notify (HTTP/1.0 servers do) ends the stream as a close would.
                if (!await ReceiveAsync(cancellationToken).ConfigureAwait(false)) return 0;
                continue;
            }
            if (error == SslErrorWantWrite) continue;
            throw new IOException($"TLS read failed: {reason}");
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int offset = 0;
        while (offset < buffer.Length)
        {
            var (result, error, reason) = Transfer(buffer.Slice(offset), write: true);
            await SendPendingAsync(cancellationToken).ConfigureAwait(false);
            if (result > 0) { offset += result; continue; }
            if (error == SslErrorWantRead)
            {
                if (!await ReceiveAsync(cancellationToken).ConfigureAwait(false)) throw new IOException("the server closed the TLS connection during a write");
                continue;
            }
            if (error == SslErrorWantWrite) continue;
            throw new IOException($"TLS write failed: {reason}");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => _inner.Flush();

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        IntPtr ssl;
        lock (_gate)
        {
            ssl = _ssl;
            _ssl = _rbio = _wbio = IntPtr.Zero;
        }
        if (ssl != IntPtr.Zero) Lib.SSL_free(ssl); // frees both BIOs
        if (disposing && !_leaveInnerOpen) _inner.Dispose();
        base.Dispose(disposing);
    }

    ~OpenSslStream() => Dispose(false);
}
