using System.Management.Automation;
using System.Net.Sockets;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Commands.Arp;

/// <summary>
/// Test-ArpAddress: duplicate address detection like `arping -D` (RFC 5227 probes from 0.0.0.0),
/// or IPv6 DAD (Neighbor Solicitations from ::). $true when nobody claims the address.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "ArpAddress")]
[OutputType(typeof(bool), typeof(ArpAddressTestResult))]
public sealed class TestArpAddressCommand : ArpCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("InterfaceAlias")]
    public string InterfaceName { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] IPAddress { get; set; } = Array.Empty<string>();

    [Parameter]
    [ValidateRange(1, 100)]
    public int Count { get; set; } = 2;

    /// <summary>Seconds between probes.</summary>
    [Parameter]
    public double Interval { get; set; } = 0.2;

    /// <summary>Seconds to wait for a defence after the last probe.</summary>
    [Parameter]
    public double Timeout { get; set; } = 1;

    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void ProcessRecord()
    {
        LinkInfo link;
        List<System.Net.IPAddress> targets;
        TimeSpan interval, timeout;
        try
        {
            interval = Seconds(nameof(Interval), Interval, 0.001, 3600);
            timeout = Seconds(nameof(Timeout), Timeout, 0.001, 3600);
            targets = IPAddress.Select(a => ArpValidation.ParseAddress(a, allowPrefix: false).Address).ToList(); // DAD probes one address
            foreach (var t in targets) ArpValidation.CheckUnicast(t);
            link = ResolveLink(InterfaceName);
            RequireArp(link);
            RequireUp(link);
        }
        catch (Exception e) when (e is ArpArgumentException or InterfaceNotFoundException or InterfaceCannotArpException or InterfaceDownException)
        {
            WriteFailure(e, InterfaceName);
            return;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, InterfaceName);
            return;
        }

        foreach (var target in targets)
        {
            if (Cancellation.IsCancellationRequested) return;
            try
            {
                var result = ArpExchanges.Probe(link, target, Count, interval, timeout, Detailed.IsPresent, Cancellation);
                WriteVerbose(result.ToString());
                if (Detailed) WriteObject(result);
                else WriteObject(result.IsAvailable);
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                WriteFailure(e, target);
            }
        }
    }
}
