using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native.Netlink;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Commands.Arp;

/// <summary>
/// Add-VirtualIPAddress: puts an address on an interface with an optional label, like
/// `ifconfig eth0:0 192.0.2.30/24` or `ifconfig lo:0 192.0.2.30/32 up`. Idempotent: an address that
/// is already there as asked is left alone; one there with another prefix or label is an error.
/// </summary>
[Cmdlet(VerbsCommon.Add, "VirtualIPAddress", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VirtualIPAddress))]
public sealed class AddVirtualIPAddressCommand : ArpCmdlet
{
    /// <summary>The interface ("eth0"), or an ifconfig alias ("eth0:0") that also gives the label.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("InterfaceAlias")]
    public string InterfaceName { get; set; } = "";

    /// <summary>Addresses, "192.0.2.30" or "192.0.2.30/24".</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] IPAddress { get; set; } = Array.Empty<string>();

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(int))]
    public int? PrefixLength { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Label { get; set; }

    [Parameter]
    public SwitchParameter SendGratuitousArp { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        // Validate the whole record before touching anything.
        LinkInfo link;
        var wanted = new List<(IPAddress Address, int Prefix, string? Label)>();
        try
        {
            var (device, aliasLabel) = ArpValidation.SplitAlias(InterfaceName);
            string? label = string.IsNullOrEmpty(Label) ? aliasLabel : Label;
            if (aliasLabel is not null && !string.IsNullOrEmpty(Label) && Label != aliasLabel)
                throw new ArpArgumentException("InvalidLabel", $"-Label '{Label}' contradicts the alias '{aliasLabel}' in -InterfaceName.", nameof(Label));
            if (label is not null) ArpValidation.CheckLabel(label, device);
            foreach (var text in IPAddress)
            {
                var spec = ArpValidation.ParseAddress(text);
                ArpValidation.CheckUnicast(spec.Address);
                if (spec.PrefixLength is { } p1 && PrefixLength is { } p2 && p1 != p2)
                    throw new ArpArgumentException("InvalidPrefixLength", $"-IPAddress '{text}' says /{p1} but -PrefixLength says {p2}.", nameof(PrefixLength));
                int prefix = spec.PrefixLength ?? PrefixLength ?? spec.MaxPrefix;
                ArpValidation.CheckPrefixLength(spec.Family, prefix);
                if (spec.Family == IPAddressFamily.IPv6 && label is not null && label != device)
                    throw new ArpArgumentException("InvalidLabel", $"{spec.Address}: IPv6 addresses have no labels; drop -Label (or the ':' alias) for it.", nameof(Label));
                wanted.Add((spec.Address, prefix, spec.Family == IPAddressFamily.IPv4 ? label : null));
            }
            link = ResolveLink(device);
            if (SendGratuitousArp) { RequireArp(link); RequireUp(link); }
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
        if (!link.IsUp) WriteWarning($"{link.Name} is down: the address is configured but not used until the link is up.");

        var addresses = Addresses;
        var present = new List<IPAddress>();
        foreach (var (address, prefix, label) in wanted)
        {
            string cidr = $"{address}/{prefix}";
            try
            {
                if (addresses.Existing(link, address, prefix, label) is { } existing)
                {
                    WriteVerbose($"{cidr} is already on {link.Name}{(existing.Label is null ? "" : $" as {existing.Label}")}; nothing to change.");
                    present.Add(address);
                    if (PassThru) WriteChanged(existing, false);
                    continue;
                }
                if (!ShouldProcess($"{cidr} on {label ?? link.Name}", "Add address", out bool whatIf))
                {
                    // -WhatIf -PassThru: the address as it would be added (kernel-filled fields such as the broadcast left empty).
                    if (whatIf && PassThru)
                        WriteChanged(new VirtualIPAddress(link.Name, link.Index, address, prefix, label ?? (address.AddressFamily == AddressFamily.InterNetwork ? link.Name : null),
                            0, 0, null), true);
                    continue;
                }
                var added = addresses.Add(link, address, prefix, label);
                present.Add(address);
                if (PassThru && added is not null) WriteChanged(added, true);
            }
            catch (Exception e) when (e is VirtualIPAddressConflictException or NetlinkException)
            {
                WriteFailure(e, cidr);
            }
        }

        if (SendGratuitousArp && present.Count > 0 && ShouldProcess($"{string.Join(", ", present)} on {link.Name}", "Send gratuitous ARP"))
        {
            try
            {
                foreach (var r in ArpExchanges.Announce(link, present, GratuitousArpMode.Request, 1, TimeSpan.Zero, Cancellation))
                    WriteVerbose($"Announced {r}.");
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                WriteFailure(e, link.Name);
            }
        }
    }
}
