using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native;

namespace HaPowerShell.Hosting.Keepalived;

/// <summary>
/// keepalived's static_ipaddress on this host: addresses added when the daemon starts and removed when it stops,
/// each on the interface its <c>dev</c> names (through <see cref="AddressActions"/> and <see cref="KernelSession.Rtnl"/>).
/// </summary>
public static class StaticAddresses
{
    /// <summary>Adds (or removes) each address; returns one message per address that could not be, the rest are done.</summary>
    public static IReadOnlyList<string> Apply(IEnumerable<VrrpVirtualAddress> addresses, bool add)
    {
        var problems = new List<string>();
        var links = KernelSession.Rtnl.GetLinks().ToDictionary(l => l.Name, StringComparer.Ordinal);
        foreach (var a in addresses)
        {
            if (a.Device is null || !links.TryGetValue(a.Device, out var link))
            {
                problems.Add($"static_ipaddress {a.Address}/{a.PrefixLength}: no interface '{a.Device}'");
                continue;
            }
            try
            {
                if (add) AddressActions.Add(KernelSession.Rtnl, link.Index, a.Address, a.PrefixLength, a.Label, scope: a.Scope, broadcast: a.Broadcast);
                else AddressActions.Remove(KernelSession.Rtnl, link.Index, a.Address, a.PrefixLength);
            }
            catch (HaException e)
            {
                problems.Add($"static_ipaddress {a.Address}/{a.PrefixLength} dev {a.Device}: {e.Message}");
            }
        }
        return problems;
    }
}
