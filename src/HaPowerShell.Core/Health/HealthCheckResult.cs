using System.Net;
using HaPowerShell.Core.Ipvs;

namespace HaPowerShell.Core.Health;

public enum HealthCheckType
{
    Misc,
    Tcp,
    Http,
}

/// <summary>
/// The outcome of one check (with its retries). The checker loop (Start-IpvsHealthCheck) consumes
/// exactly this: <see cref="Success"/> decides UP/DOWN, <see cref="Weight"/> (when not null)
/// replaces the real server's weight, <see cref="Target"/> names what was checked.
/// </summary>
public abstract class HealthCheckResultJson
{
    private protected TimeSpan duration;
    private protected abstract HealthCheckType TypeOfCheck { get; }

    /// <summary>Misc, Tcp or Http.</summary>
    public string CheckType => TypeOfCheck.ToString();

    /// <summary>What was checked, as text: "192.0.2.10:80", "http://192.0.2.10:80/health", "/usr/local/bin/check".</summary>
    public abstract string Target { get; }

    public bool Success { get; init; }

    /// <summary>The weight the check asks for (MISC_CHECK with -Dynamic); null = leave the weight as it is.</summary>
    public int? Weight { get; init; }

    /// <summary>Why it failed, in words; null on success.</summary>
    public string? Message { get; init; }

    /// <summary>Tries made (1 + retries used).</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>Seconds the last attempt took (retry delays excluded).</summary>
    public double Duration { get => JsonShape.Seconds(duration); init => duration = JsonShape.Duration(value); }

    /// <summary>When the check started.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The real server this check was for (from the pipeline), if any.</summary>
    public IpvsRealServer? RealServer { get; init; }

    public override string ToString() => $"{CheckType} {Target}: {(Success ? "UP" : "DOWN")}{(Message is null ? "" : " (" + Message + ")")}";
}

/// <summary>The outcome of one check; the check type and duration typed (internal twins of the JSON face).</summary>
public abstract class HealthCheckResult : HealthCheckResultJson
{
    internal new HealthCheckType CheckType => TypeOfCheck;
    internal new TimeSpan Duration { get => duration; init => duration = value; }
}

/// <summary>Result of Invoke-MiscCheck: the program's exit status read the keepalived MISC_CHECK way.</summary>
public sealed class MiscCheckResult : HealthCheckResult
{
    private protected override HealthCheckType TypeOfCheck => HealthCheckType.Misc;
    public override string Target => Path;

    public string Path { get; init; } = "";
    public string[] ArgumentList { get; init; } = Array.Empty<string>();

    /// <summary>Exit status 0-255 (128 + signal for a program ended by a signal).</summary>
    public int ExitCode { get; init; }

    /// <summary>The signal that ended it (SIGTERM 15, SIGKILL 9) when we sent one; 0 otherwise.</summary>
    public int Signal { get; init; }

    public bool TimedOut { get; init; }
    public bool Dynamic { get; init; }

    /// <summary>The account the program ran as.</summary>
    public string User { get; init; } = "";

    /// <summary>Process id of the program (also its process group and session).</summary>
    public int ProcessId { get; init; }

    /// <summary>Standard output (first 64 KiB).</summary>
    public string Output { get; init; } = "";

    /// <summary>Standard error (first 64 KiB).</summary>
    public string ErrorOutput { get; init; } = "";
}

/// <summary>Result of Invoke-TcpCheck (JSON face): whether a TCP connection could be opened (keepalived TCP_CHECK).</summary>
public abstract class TcpCheckResultJson : HealthCheckResult
{
    private protected IPAddress address = IPAddress.None;
    private protected IPAddress? bindAddress;

    private protected override HealthCheckType TypeOfCheck => HealthCheckType.Tcp;
    public override string Target => IpvsText.Endpoint(address, (ushort)Port);

    public string Address { get => address.ToString(); init => address = JsonShape.AddressOrNone(value); }
    public int Port { get; init; }
    public string? BindAddress { get => bindAddress?.ToString(); init => bindAddress = JsonShape.Address(value); }

    /// <summary>The socket error of the last failed attempt ("ConnectionRefused", "TimedOut", ...).</summary>
    public string? SocketError { get; init; }
}

/// <summary>Result of Invoke-TcpCheck; typed internal twins.</summary>
public sealed class TcpCheckResult : TcpCheckResultJson
{
    internal new IPAddress Address { get => address; init => address = value; }
    internal new IPAddress? BindAddress { get => bindAddress; init => bindAddress = value; }
}

/// <summary>Result of Invoke-HttpCheck (JSON face; keepalived HTTP_GET / SSL_GET).</summary>
public abstract class HttpCheckResultJson : HealthCheckResult
{
    private protected IPAddress address = IPAddress.None;

    private protected override HealthCheckType TypeOfCheck => HealthCheckType.Http;
    public override string Target => Url;

    public string Address { get => address.ToString(); init => address = JsonShape.AddressOrNone(value); }
    public int Port { get; init; }
    public string Url { get; init; } = "";
    public string? VirtualHost { get; init; }
    public bool UseTls { get; init; }

    /// <summary>The name sent in the TLS server_name extension (SNI), if any.</summary>
    public string? ServerName { get; init; }

    /// <summary>Status code received; 0 when no response arrived.</summary>
    public int StatusCode { get; init; }

    public string? ReasonPhrase { get; init; }

    /// <summary>What the status had to match ("200-299").</summary>
    public string ExpectedStatus { get; init; } = "";

    /// <summary>MD5 of the body as lowercase hex (keepalived's genhash digest).</summary>
    public string? Digest { get; init; }

    public string? ExpectedDigest { get; init; }

    /// <summary>Body bytes received (after de-chunking).</summary>
    public long ContentLength { get; init; }

    /// <summary>The first 4 KiB of the body as text.</summary>
    public string? BodyPreview { get; init; }

    /// <summary>The TLS version negotiated, and the server certificate's subject.</summary>
    public string? TlsProtocol { get; init; }

    public string? CertificateSubject { get; init; }
}

/// <summary>Result of Invoke-HttpCheck; typed internal twin.</summary>
public sealed class HttpCheckResult : HttpCheckResultJson
{
    internal new IPAddress Address { get => address; init => address = value; }
}
