using System.Net.Sockets;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Hosting.Vrrp;

/// <summary>
/// <see cref="IVrrpInterfaceLookup"/> over rtnetlink: every call reads the kernel's current links and
/// addresses. An interface is up when it is administratively up and has carrier (IFF_UP and
/// IFF_LOWER_UP), so a pulled cable counts as down, as keepalived sees it.
/// </summary>
public sealed class RtnlVrrpInterfaceLookup : IVrrpInterfaceLookup
{
    private readonly RtnlClient _rtnl;

    public RtnlVrrpInterfaceLookup(RtnlClient rtnl) => _rtnl = rtnl;

    public IReadOnlyList<string> Names => _rtnl.GetLinks().Select(l => l.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();

    public VrrpInterfaceInfo? Find(string name)
    {
        var link = _rtnl.GetLink(name);
        if (link is null) return null;
        var addrs = _rtnl.GetAddresses().Where(a => a.InterfaceIndex == link.Index).ToList();
        // The primary IPv4 address: the first global one that is not a secondary (IFA_F_SECONDARY = 0x01).
        var v4 = addrs.Where(a => a.Family == AddressFamily.InterNetwork && a.Scope == 0).ToList();
        var primary = v4.FirstOrDefault(a => (a.Flags & 0x01) == 0) ?? v4.FirstOrDefault();
        // The IPv6 source (RFC 5798 §5.1.2.1): the link-local address, preferring one that is usable
        // (not IFA_F_TENTATIVE 0x40 or IFA_F_DADFAILED 0x08): the kernel refuses to bind a tentative one.
        var lls = addrs.Where(a => a.Family == AddressFamily.InterNetworkV6 && a.Address.IsIPv6LinkLocal).ToList();
        var ll = lls.FirstOrDefault(a => (a.Flags & 0x48) == 0) ?? lls.FirstOrDefault();
        return new VrrpInterfaceInfo(link.Name, link.Index, IsUp(link), primary?.Address, ll?.Address);
    }

    public static bool IsUp(LinkInfo link) => (link.Flags & LinkInfo.IffUp) != 0 && (link.Flags & LinkInfo.IffLowerUp) != 0;
}
