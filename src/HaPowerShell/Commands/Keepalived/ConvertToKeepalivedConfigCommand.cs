using System.Management.Automation;
using HaPowerShell.Commands.Ipvs;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Core.Keepalived;

namespace HaPowerShell.Commands.Keepalived;

/// <summary>
/// ConvertTo-KeepalivedConfig: keepalived.conf text from configuration objects (ConvertFrom-KeepalivedConfig's, edited or not)
/// or from a live director (Get-IpvsService's services with their real servers).
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "KeepalivedConfig")]
[OutputType(typeof(string))]
public sealed class ConvertToKeepalivedConfigCommand : IpvsCmdlet
{
    /// <summary>
    /// A configuration, or any of its objects (global settings, VRRP instances, sync groups, scripts, virtual servers,
    /// virtual server groups, trackers, BFD instances), or IPVS services and real servers.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public object[] InputObject { get; set; } = Array.Empty<object>();

    /// <summary>The checker each real server of an IPVS service gets (IPVS services have none of their own).</summary>
    [Parameter]
    [ValidateSet("TCP_CHECK", "PING_CHECK", "UDP_CHECK")]
    public string? HealthCheck { get; set; }

    /// <summary>delay_loop of the virtual servers made from IPVS services, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.000001, 4294.0)]
    public double? DelayLoop { get; set; }

    /// <summary>connect_timeout of the -HealthCheck checker, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.000001, 4294.0)]
    public double? ConnectTimeout { get; set; }

    /// <summary>Spaces per block level.</summary>
    [Parameter]
    [ValidateRange(0, 16)]
    public int Indent { get; set; } = 4;

    private readonly List<object> _objects = new();

    protected override void ProcessRecord()
    {
        foreach (var item in InputObject)
        {
            object? o = item is PSObject p ? p.BaseObject : item;
            switch (o)
            {
                case null: break;
                case KeepalivedConfiguration or KeepalivedBlock or IpvsRealServer: _objects.Add(o); break;
                case IpvsService s:
                    // Straight from Get-IpvsService the real servers are not listed: the director's are written.
                    if (s.RealServers is null) PerItem(s, () => s.RealServers = Admin.GetRealServers(s));
                    _objects.Add(s);
                    break;
                default:
                    WriteError(new ErrorRecord(
                        new ArgumentException($"Cannot write a {o.GetType().Name} as keepalived configuration; pass ConvertFrom-KeepalivedConfig's objects or Get-IpvsService's services."),
                        "KeepalivedUnsupportedObject", ErrorCategory.InvalidType, o));
                    break;
            }
        }
    }

    protected override void EndProcessing()
    {
        if (_objects.Count == 0) return;
        var options = new KeepalivedWriterOptions { HealthCheck = HealthCheck, DelayLoop = DelayLoop, ConnectTimeout = ConnectTimeout, Indent = Indent };
        WriteObject(KeepalivedWriter.Write(_objects, options));
    }
}
