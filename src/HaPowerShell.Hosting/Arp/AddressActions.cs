using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Arp;
using HaPowerShell.Native;
using HaPowerShell.Native.Netlink;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Hosting.Arp;

/// <summary>
/// Virtual addresses on interfaces, for the VRRP host (a new Master's VIPs) and for Add-/Remove-VirtualIPAddress:
/// one idempotent add (an address already there is not an error), one idempotent remove (an address already gone
/// is not an error), the lookups around them and the conflict rule (there with another prefix or label).
/// </summary>
public sealed class AddressActions
{
    public AddressActions(RtnlClient rtnl) => Rtnl = rtnl;

    public RtnlClient Rtnl { get; }

    /// <summary>
    /// Adds <paramref name="address"/> to the interface; false when it is there already (EEXIST), which is not an
    /// error. IPv6 addresses skip duplicate address detection (as keepalived's VIPs do), so they are usable and
    /// announceable at once. Other kernel refusals are thrown (<see cref="NetlinkException"/>).
    /// </summary>
    public static bool Add(RtnlClient rtnl, int interfaceIndex, IPAddress address, int prefixLength, string? label,
        uint extraFlags = 0, byte scope = 0, IPAddress? broadcast = null)
    {
        try
        {
            rtnl.AddAddress(interfaceIndex, address, (byte)prefixLength, label,
                extraFlags | (address.AddressFamily == AddressFamily.InterNetworkV6 ? RtnlClient.IfaFNoDad : 0), scope, broadcast);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Errno.EEXIST)
        {
            return false;
        }
    }

    /// <summary>Removes <paramref name="address"/> from the interface; false when it is not there (or the interface is gone), which is not an error.</summary>
    public static bool Remove(RtnlClient rtnl, int interfaceIndex, IPAddress address, int prefixLength)
    {
        try
        {
            rtnl.DeleteAddress(interfaceIndex, address, (byte)prefixLength);
            return true;
        }
        catch (NetlinkException e) when (e.Errno is Errno.EADDRNOTAVAIL or Errno.ENOENT or Errno.ENODEV)
        {
            return false;
        }
    }

    /// <summary>The addresses of one family (or all) on <paramref name="link"/>, as users see them.</summary>
    public IReadOnlyList<VirtualIPAddress> On(LinkInfo link, AddressFamily? family = null)
        => Rtnl.GetAddresses(family switch
            {
                AddressFamily.InterNetwork => RtnlClient.AfInet,
                AddressFamily.InterNetworkV6 => RtnlClient.AfInet6,
                _ => RtnlClient.AfUnspec,
            })
            .Where(a => a.InterfaceIndex == link.Index).Select(a => ToVirtualIPAddress(a, link.Name)).ToList();

    /// <summary><paramref name="address"/> on <paramref name="link"/>, or null.</summary>
    public VirtualIPAddress? Find(LinkInfo link, IPAddress address)
        => On(link, address.AddressFamily).FirstOrDefault(a => a.IPAddress.Equals(address));

    /// <summary>
    /// What adding <paramref name="address"/>/<paramref name="prefixLength"/> (with <paramref name="label"/>) would do:
    /// null when it has to be added, the address as it is when it is there already as asked. Throws
    /// <see cref="VirtualIPAddressConflictException"/> when it is there with another prefix or label.
    /// </summary>
    public VirtualIPAddress? Existing(LinkInfo link, IPAddress address, int prefixLength, string? label)
    {
        var existing = Find(link, address);
        if (existing is null) return null;
        if (existing.PrefixLength != prefixLength || (label is not null && existing.Label != label))
            throw new VirtualIPAddressConflictException(existing, $"{address}/{prefixLength}" + (label is null ? "" : $" (label {label})"));
        return existing;
    }

    /// <summary>
    /// Adds the address (see <see cref="Add(RtnlClient, int, IPAddress, int, string?, uint, byte, IPAddress?)"/>) and
    /// returns it as the kernel holds it (null if something removed it again at once); when another process added it
    /// meanwhile, that is fine unless its prefix differs (<see cref="VirtualIPAddressConflictException"/>).
    /// </summary>
    public VirtualIPAddress? Add(LinkInfo link, IPAddress address, int prefixLength, string? label)
    {
        Add(Rtnl, link.Index, address, prefixLength, label);
        var now = Find(link, address);
        if (now is not null && now.PrefixLength != prefixLength)
            throw new VirtualIPAddressConflictException(now, $"{address}/{prefixLength}");
        return now;
    }

    /// <summary>
    /// The address to remove: null when it is not on <paramref name="link"/> (nothing to do). Throws
    /// <see cref="VirtualIPAddressConflictException"/> when it is there with another prefix, or (IPv4) another label,
    /// than the ones given.
    /// </summary>
    public VirtualIPAddress? ToRemove(LinkInfo link, IPAddress address, int? prefixLength, string? label)
    {
        var existing = Find(link, address);
        if (existing is null) return null;
        if (prefixLength is { } p && existing.PrefixLength != p)
            throw new VirtualIPAddressConflictException(existing, $"{address}/{p}");
        if (label is not null && existing.Label != label && existing.AddressFamily == IPAddressFamily.IPv4)
            throw new VirtualIPAddressConflictException(existing, $"{existing.Cidr} (label {label})");
        return existing;
    }

    /// <summary>Removes the address; false when it left meanwhile.</summary>
    public bool Remove(LinkInfo link, VirtualIPAddress address) => Remove(Rtnl, link.Index, address.IPAddress, address.PrefixLength);

    /// <summary>
    /// The secondary IPv4 addresses the kernel removes together with <paramref name="victim"/>, a primary address,
    /// because promote_secondaries is off on the interface and on 'all' (empty when none would go).
    /// </summary>
    public IReadOnlyList<VirtualIPAddress> SecondariesRemovedWith(LinkInfo link, VirtualIPAddress victim)
    {
        if (victim.AddressFamily != IPAddressFamily.IPv4 || victim.IsSecondary) return Array.Empty<VirtualIPAddress>();
        var secondaries = On(link, AddressFamily.InterNetwork)
            .Where(a => a.IsSecondary && a.PrefixLength == victim.PrefixLength && ArpValidation.InSubnet(a.IPAddress, victim.IPAddress, victim.PrefixLength)).ToList();
        if (secondaries.Count == 0) return secondaries;
        var store = new SysctlStore();
        bool promote = store.ReadIpv4Conf(link.Name, "promote_secondaries") != 0 || store.ReadIpv4Conf("all", "promote_secondaries") != 0;
        return promote ? Array.Empty<VirtualIPAddress>() : secondaries;
    }

    /// <summary>A kernel address record as users see it (IPv6 addresses have no label).</summary>
    public static VirtualIPAddress ToVirtualIPAddress(AddressInfo a, string interfaceName)
        => new(interfaceName, a.InterfaceIndex, a.Address, a.PrefixLength, a.Family == AddressFamily.InterNetwork ? a.Label : null,
            a.Scope, a.Flags, a.Broadcast);
}
