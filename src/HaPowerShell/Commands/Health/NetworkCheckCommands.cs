using System.Management.Automation;
using System.Net;
using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Hosting.Health;

namespace HaPowerShell.Commands.Health;

/// <summary>Parameters shared by Invoke-TcpCheck and Invoke-HttpCheck: what to check, and keepalived's timing knobs.</summary>
public abstract class NetworkCheckCmdlet : HealthCmdlet
{
    [Parameter(ParameterSetName = "Address", Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("IPAddress")]
    [IPAddressTransformation]
    public IPAddress Address { get; set; } = null!;

    [Parameter(ParameterSetName = "RealServer", Mandatory = true, ValueFromPipeline = true)]
    public IpvsRealServer RealServer { get; set; } = null!;

    /// <summary>The port; with -RealServer, overrides the real server's (connect_port).</summary>
    [Parameter(ParameterSetName = "Address", Position = 1, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = "RealServer")]
    [Alias("ConnectPort")]
    [StrictNumber(typeof(int))]
    public int? Port { get; set; }

    [Parameter]
    public double ConnectTimeout { get; set; } = 5;

    [Parameter]
    [Alias("NbGetRetry")]
    public int Retry { get; set; }

    [Parameter]
    public double DelayBeforeRetry { get; set; } = 1;

    [Parameter]
    [Alias("BindTo")]
    [IPAddressTransformation]
    public IPAddress? BindAddress { get; set; }

    protected virtual int? DefaultPort => null;

    /// <summary>Fills the common options from the parameters (and the piped real server).</summary>
    protected void Fill(TcpCheckOptions o)
    {
        if (ParameterSetName == "RealServer")
        {
            o.RealServer = RealServer;
            o.Address = RealServer.Address;
            o.Port = TcpCheckOptions.PortFor(RealServer, Port);
            if (o.Port == 0)
                throw HealthCheckException.Argument("InvalidPort",
                    $"Real server {RealServer} has no port of its own (a firewall-mark service); give one with -Port.", RealServer);
        }
        else
        {
            o.Address = Address;
            o.Port = Port ?? DefaultPort
                ?? throw HealthCheckException.Argument("InvalidPort", $"No port to check on {Address}; give one with -Port.", Address);
        }
        o.ConnectTimeoutSeconds = ConnectTimeout;
        o.Retry = Retry;
        o.DelayBeforeRetrySeconds = DelayBeforeRetry;
        o.BindAddress = BindAddress;
    }

    protected object Target => ParameterSetName == "RealServer" ? RealServer : Address;
}

/// <summary>Invoke-TcpCheck: can a TCP connection be opened (keepalived TCP_CHECK)?</summary>
[Cmdlet(VerbsLifecycle.Invoke, "TcpCheck", DefaultParameterSetName = "RealServer")]
[OutputType(typeof(TcpCheckResult))]
public sealed class InvokeTcpCheckCommand : NetworkCheckCmdlet
{
    protected override void ProcessRecord()
    {
        PerItem(Target, () =>
        {
            var o = new TcpCheckOptions();
            Fill(o);
            WriteObject(NetworkCheck.TcpAsync(o, Cancellation).GetAwaiter().GetResult());
        });
    }
}

/// <summary>Invoke-HttpCheck: GET a URL and judge status, body digest and TLS (keepalived HTTP_GET / SSL_GET).</summary>
[Cmdlet(VerbsLifecycle.Invoke, "HttpCheck", DefaultParameterSetName = "RealServer")]
[OutputType(typeof(HttpCheckResult))]
public sealed class InvokeHttpCheckCommand : NetworkCheckCmdlet
{
    [Parameter]
    [Alias("UrlPath")]
    public string Path { get; set; } = "/";

    [Parameter]
    public string[]? StatusCode { get; set; }

    [Parameter]
    public string? Digest { get; set; }

    [Parameter]
    public string? VirtualHost { get; set; }

    [Parameter]
    [Alias("Ssl")]
    public SwitchParameter UseTls { get; set; }

    [Parameter]
    [Alias("Sni")]
    public string? ServerName { get; set; }

    [Parameter]
    public SwitchParameter VerifyCertificate { get; set; }

    protected override int? DefaultPort => UseTls ? 443 : 80;

    private StatusCodeSet? _codes;
    private string? _digest;

    protected override void BeginProcessing()
    {
        try
        {
            _codes = StatusCodeSet.Parse(StatusCode);
            _digest = Digest is null ? null : HealthDigest.Normalize(Digest);
        }
        catch (HealthCheckException e)
        {
            ThrowFailure(e, null); // nothing can be checked with a bad spec
        }
    }

    protected override void ProcessRecord()
    {
        PerItem(Target, () =>
        {
            var o = new HttpCheckOptions
            {
                Path = Path,
                StatusCodes = _codes!,
                Digest = _digest,
                VirtualHost = VirtualHost,
                UseTls = UseTls,
                ServerName = ServerName,
                VerifyCertificate = VerifyCertificate,
            };
            Fill(o);
            WriteObject(NetworkCheck.HttpAsync(o, Cancellation).GetAwaiter().GetResult());
        });
    }
}
