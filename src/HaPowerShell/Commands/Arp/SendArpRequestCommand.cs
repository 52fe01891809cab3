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
/// Send-ArpRequest: arping's request mode. Asks who has an address (ARP for IPv4, Neighbor
/// Solicitation for IPv6), optionally from a chosen sender address (which refreshes the peer's cache
/// entry for that address, as `arping -s VIP gateway` does), and returns one object per reply.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "ArpRequest", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ArpReply))]
public sealed class SendArpRequestCommand : ArpCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("InterfaceAlias")]
    public string InterfaceName { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string IPAddress { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SourceAddress { get; set; }

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int Count { get; set; } = 1;

    /// <summary>Seconds between requests.</summary>
    [Parameter]
    public double Interval { get; set; } = 1;

    /// <summary>Seconds to wait for replies after the last request.</summary>
    [Parameter]
    public double Timeout { get; set; } = 1;

    protected override void ProcessRecord()
    {
        LinkInfo link;
        System.Net.IPAddress target, source;
        TimeSpan interval, timeout;
        try
        {
            interval = Seconds(nameof(Interval), Interval, 0.001, 3600);
            timeout = Seconds(nameof(Timeout), Timeout, 0.001, 3600);
            target = ArpValidation.ParseAddress(IPAddress, allowPrefix: false).Address;
            ArpValidation.CheckUnicast(target);
            link = ResolveLink(InterfaceName);
            RequireArp(link);
            RequireUp(link);
            source = ChooseSource(link, target);
        }
        catch (Exception e) when (e is ArpArgumentException or InterfaceNotFoundException or InterfaceCannotArpException or InterfaceDownException)
        {
            WriteFailure(e, IPAddress);
            return;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, IPAddress);
            return;
        }

        bool v6 = target.AddressFamily == AddressFamily.InterNetworkV6;
        string what = v6 ? "Neighbor Solicitation" : "ARP request";
        if (!ShouldProcess($"{target} on {link.Name}", $"Send {Count} {what}{(Count == 1 ? "" : "s")} from {source} ({Mac.Format(link.MacAddress)})")) return;

        int replies = 0, sent;
        try
        {
            sent = ArpExchanges.Request(link, target, source, Count, interval, timeout, r =>
            {
                replies++;
                WriteObject(r);
            }, Cancellation);
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteFailure(e, IPAddress);
            return;
        }
        WriteVerbose($"Sent {sent} {what}{(sent == 1 ? "" : "s")} for {target} on {link.Name}; received {replies} repl{(replies == 1 ? "y" : "ies")}.");
        if (replies == 0 && !Cancellation.IsCancellationRequested)
            WriteFailure(new ArpNoReplyException(link.Name, target, sent, timeout), IPAddress);
    }

    /// <summary>
    /// -SourceAddress, or the interface's own address: one in the target's subnet if any, else its
    /// primary address; for IPv6 a global address in the target's prefix, else the link-local one.
    /// </summary>
    private System.Net.IPAddress ChooseSource(LinkInfo link, System.Net.IPAddress target)
    {
        if (SourceAddress is not null)
        {
            var s = ArpValidation.ParseAddress(SourceAddress, nameof(SourceAddress), allowPrefix: false).Address;
            if (s.AddressFamily != target.AddressFamily)
                throw new ArpArgumentException("InvalidIPAddress", $"-SourceAddress: {s} and the target {target} are of different address families.", nameof(SourceAddress));
            if (!s.Equals(System.Net.IPAddress.Any)) ArpValidation.CheckUnicast(s, nameof(SourceAddress));
            return s;
        }
        return ArpExchanges.DefaultSource(KernelSession.Rtnl, link, target)
            ?? throw new ArpArgumentException("NoSourceAddress",
                $"{link.Name} has no IPv6 address to send a Neighbor Solicitation from; give one with -SourceAddress.", nameof(SourceAddress));
    }
}
