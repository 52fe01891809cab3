using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native;
using HaPowerShell.Native.Netlink;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Commands.Arp;

/// <summary>
/// Remove-VirtualIPAddress: takes an address off an interface (ifconfig eth0:0 down). Idempotent:
/// an address that is not there is reported with -Verbose, not as an error. It asks first (ConfirmImpact
/// High, as Remove-NetIPAddress does), so `Get-VirtualIPAddress | Remove-VirtualIPAddress` cannot empty a
/// host by accident; loopback, link-local and an interface's primary IPv4 address need -Force besides.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VirtualIPAddress", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(VirtualIPAddress))]
public sealed class RemoveVirtualIPAddressCommand : ArpCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("InterfaceAlias")]
    public string InterfaceName { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] IPAddress { get; set; } = Array.Empty<string>();

    /// <summary>When given, the address is removed only if it has this prefix length.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [StrictNumber(typeof(int))]
    public int? PrefixLength { get; set; }

    /// <summary>When given, the address is removed only if it has this label.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Label { get; set; }

    /// <summary>Also remove loopback, link-local and primary addresses (refused without it: AddressRemovalNeedsForce).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        LinkInfo link;
        var wanted = new List<(IPAddress Address, int? Prefix)>();
        string? label;
        try
        {
            var (device, aliasLabel) = ArpValidation.SplitAlias(InterfaceName);
            label = string.IsNullOrEmpty(Label) ? aliasLabel : Label;
            if (label is not null) ArpValidation.CheckLabel(label, device);
            foreach (var text in IPAddress)
            {
                var spec = ArpValidation.ParseAddress(text);
                if (spec.PrefixLength is { } p1 && PrefixLength is { } p2 && p1 != p2)
                    throw new ArpArgumentException("InvalidPrefixLength", $"-IPAddress '{text}' says /{p1} but -PrefixLength says {p2}.", nameof(PrefixLength));
                int? prefix = spec.PrefixLength ?? PrefixLength;
                if (prefix is { } p) ArpValidation.CheckPrefixLength(spec.Family, p);
                wanted.Add((spec.Address, prefix));
            }
            link = ResolveLink(device);
        }
        catch (Exception e) when (e is ArpArgumentException or InterfaceNotFoundException)
        {
            WriteFailure(e, InterfaceName);
            return;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, InterfaceName);
            return;
        }

        var addresses = Addresses;
        foreach (var (address, prefix) in wanted)
        {
            try
            {
                var existing = addresses.ToRemove(link, address, prefix, label);
                if (existing is null)
                {
                    WriteVerbose($"{address} is not on {link.Name}; nothing to remove.");
                    continue;
                }
                if (!Force && AddressRemovalGuard.WhyProtected(existing, addresses.On(link)) is { } why)
                {
                    WriteFailure(new AddressRemovalNeedsForceException(existing, link.Name, why), existing);
                    continue;
                }
                if (!ShouldProcess($"{existing.Cidr} on {existing.Label ?? link.Name}", "Remove address", out bool whatIf))
                {
                    if (whatIf && PassThru) WriteChanged(existing, true);
                    continue;
                }
                var lost = addresses.SecondariesRemovedWith(link, existing);
                if (lost.Count > 0)
                    WriteWarning($"{existing.Cidr} is the primary address of its subnet on {link.Name}; the kernel removes its secondaries with it " +
                                 $"({string.Join(", ", lost.Select(s => s.Cidr))}) because promote_secondaries is 0.");
                bool removed = addresses.Remove(link, existing);
                if (!removed) WriteVerbose($"{existing.Cidr} left {link.Name} meanwhile; nothing to remove.");
                if (PassThru) WriteChanged(existing, removed);
            }
            catch (Exception e) when (e is VirtualIPAddressConflictException or NetlinkException or SysctlException)
            {
                WriteFailure(e, address);
            }
        }
    }
}
