using HaPowerShell.Core.Vrrp;
using HaPowerShell.Native.Netfilter;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Hosting.Vrrp;

/// <summary>Accept mode off (-NoAccept, keepalived no_accept): the nf_tables chains that drop packets to a non-owner Master's VIPs.</summary>
public sealed partial class VrrpHost
{
    // ---- accept mode (RFC 5798 §6.1) --------------------------------------------------------

    private readonly Dictionary<string, string> _filterChainOf = new(StringComparer.Ordinal);
    private VipInputFilter? _filter;
    private int _filterChains;

    /// <summary>For an instance with AcceptMode off: checks that nf_tables can be used (creates the owned table) and names its chain.</summary>
    private void PrepareAcceptFilter(string instance)
    {
        try
        {
            _filter ??= new VipInputFilter($"hapowershell_vrrp_{Environment.ProcessId}");
            _filter.EnsureTable();
        }
        catch (Exception e) when (e is NetlinkException or System.ComponentModel.Win32Exception or IOException)
        {
            throw new InvalidOperationException(
                $"-NoAccept needs nf_tables in this kernel and network namespace (CAP_NET_ADMIN, CONFIG_NF_TABLES, CONFIG_NF_TABLES_INET) to drop packets addressed to the virtual addresses: {e.Message} " +
                "Run as root on a kernel with nf_tables, or leave out -NoAccept (accept mode, keepalived's default).", e);
        }
        _filterChainOf[instance] = $"vrrp_{++_filterChains}";
    }

    /// <summary>Installs or removes the instance's drop chain so it matches its state: installed only while it is a non-owner Master without accept mode.</summary>
    private void SyncAcceptFilter(VrrpInstance inst)
    {
        if (_filter is null || !_filterChainOf.TryGetValue(inst.Name, out var chain)) return;
        bool wanted = inst.State == VrrpState.Master && !inst.IsAddressOwner;
        try
        {
            if (wanted) _filter.Install(chain, inst.Config.VirtualAddresses.Select(v => v.Address).ToList());
            else _filter.Remove(chain);
        }
        catch (Exception e) { (_running.TryGetValue(inst.Name, out var h) ? h : null)?.CountActionError(wanted ? "install accept filter" : "remove accept filter", e); }
    }

    private void RemoveAcceptFilter(string chain, VrrpRunningInstance handle)
    {
        try { _filter?.Remove(chain); }
        catch (Exception e) { handle.CountActionError("remove accept filter", e); }
    }

    /// <summary>The chain that drops packets to the instance's virtual addresses, when it is installed now (diagnostics and tests).</summary>
    internal bool IsAcceptFilterInstalled(string instance)
        => _filter is not null && _filterChainOf.TryGetValue(instance, out var c) && _filter.IsInstalled(c);
}
