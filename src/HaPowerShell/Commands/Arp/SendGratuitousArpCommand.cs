using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
using HaPowerShell.Hosting;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Commands.Arp;

/// <summary>
/// Send-GratuitousArp: announces addresses from an interface's MAC, like arping -U (requests) or
/// arping -A (replies); IPv6 addresses get unsolicited Neighbor Advertisements. Addresses from the
/// pipeline are collected and announced together, round by round.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "GratuitousArp", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(GratuitousArpResult))]
public sealed class SendGratuitousArpCommand : ArpCmdlet
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
    [ValidateRange(1, 1_000_000)]
    public int Count { get; set; } = 1;

    /// <summary>Seconds between rounds.</summary>
    [Parameter]
    public double Interval { get; set; } = 1;

    [Parameter]
    public GratuitousArpMode Mode { get; set; } = GratuitousArpMode.Request;

    private readonly List<(LinkInfo Link, List<IPAddress> Addresses)> _work = new();
    private TimeSpan _interval;

    protected override void BeginProcessing()
    {
        try { _interval = Seconds(nameof(Interval), Interval, 0, 3600); }
        catch (ArpArgumentException e) { ThrowFailure(e, Interval); }
    }

    protected override void ProcessRecord()
    {
        LinkInfo link;
        List<IPAddress> addresses;
        try
        {
            addresses = IPAddress.Select(a => ArpValidation.ParseAddress(a, allowPrefix: false).Address).ToList(); // a gratuitous ARP announces one address, not a network
            foreach (var a in addresses) ArpValidation.CheckUnicast(a);
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
        var slot = _work.FirstOrDefault(w => w.Link.Index == link.Index);
        if (slot.Link is null) { slot = (link, new List<IPAddress>()); _work.Add(slot); }
        foreach (var a in addresses)
            if (!slot.Addresses.Contains(a)) slot.Addresses.Add(a);
    }

    protected override void EndProcessing()
    {
        foreach (var (link, all) in _work)
        {
            var approved = new List<IPAddress>();
            foreach (var a in all)
            {
                string what = a.AddressFamily == AddressFamily.InterNetworkV6 ? "unsolicited Neighbor Advertisement" : $"gratuitous ARP {Mode.ToString().ToLowerInvariant()}";
                if (ShouldProcess($"{a} on {link.Name} ({Mac.Format(link.MacAddress)})", $"Send {Count} {what}{(Count == 1 ? "" : "s")}")) approved.Add(a);
            }
            if (approved.Count == 0) continue;
            IReadOnlyList<GratuitousArpResult> results;
            try
            {
                // Send first: after a failover every millisecond before the first frame counts.
                results = ArpExchanges.Announce(link, approved, Mode, Count, _interval, Cancellation);
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                ThrowFailure(e, link.Name);
                return;
            }
            try
            {
                var local = KernelSession.Rtnl.GetAddresses().Where(a => a.InterfaceIndex == link.Index).Select(a => a.Address).ToList();
                foreach (var a in approved.Where(a => !local.Contains(a)))
                    WriteWarning($"{a} is not assigned to {link.Name}: neighbours will send its traffic to {link.Name}'s MAC anyway.");
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                WriteFailure(e, link.Name);
            }
            foreach (var r in results) WriteObject(r);
        }
    }
}
