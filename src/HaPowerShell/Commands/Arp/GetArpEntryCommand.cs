using System.Management.Automation;
using System.Net;
using HaPowerShell.Completers;
using HaPowerShell.Core.Arp;
using HaPowerShell.Hosting;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Commands.Arp;

/// <summary>Get-ArpEntry: the neighbour table (arp -a, ip neigh), filtered by interface, address, MAC and state.</summary>
[Cmdlet(VerbsCommon.Get, "ArpEntry")]
[OutputType(typeof(ArpEntry))]
public sealed class GetArpEntryCommand : ArpCmdlet
{
    /// <summary>Addresses to show: exact ("192.0.2.1") or a network ("192.0.2.0/24").</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? IPAddress { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InterfaceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("InterfaceAlias")]
    public string[]? InterfaceName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public ArpEntryState[]? State { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? LinkLayerAddress { get; set; }

    /// <summary>IPv4 unless asked (or unless an IPv6 -IPAddress is given).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public IPAddressFamily[]? AddressFamily { get; set; }

    protected override void ProcessRecord()
    {
        List<AddressSpec> filters;
        HashSet<string>? macs = null;
        try
        {
            filters = (IPAddress ?? Array.Empty<string>()).Select(a => ArpValidation.ParseAddress(a)).ToList();
            if (LinkLayerAddress is not null) macs = LinkLayerAddress.Select(NormalizeMac).ToHashSet(StringComparer.Ordinal);
        }
        catch (ArpArgumentException e)
        {
            ThrowFailure(e, IPAddress);
            return;
        }

        var families = AddressFamily is { Length: > 0 } ? AddressFamily.ToHashSet()
            : filters.Any(f => f.Family == IPAddressFamily.IPv6)
                ? filters.Select(f => f.Family).ToHashSet()
                : new HashSet<IPAddressFamily> { IPAddressFamily.IPv4 };

        HashSet<int>? indexes = null;
        if (InterfaceName is not null)
        {
            indexes = new HashSet<int>();
            foreach (var name in InterfaceName)
            {
                try { indexes.Add(ResolveLink(name).Index); }
                catch (Exception e) when (e is InterfaceNotFoundException or ArpArgumentException) { WriteFailure(e, name); }
            }
            if (indexes.Count == 0) return;
        }

        IReadOnlyList<NeighborInfo> neighbours;
        try
        {
            byte family = families.Count == 1 ? (families.Contains(IPAddressFamily.IPv6) ? RtnlClient.AfInet6 : RtnlClient.AfInet) : RtnlClient.AfUnspec;
            neighbours = KernelSession.Rtnl.GetNeighbors(family);
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, "neighbour table");
            return;
        }

        var states = State?.ToHashSet();
        var entries = new List<ArpEntry>();
        foreach (var n in neighbours)
        {
            var state = (ArpEntryState)n.State;
            if (indexes is not null && !indexes.Contains(n.InterfaceIndex)) continue;
            if (!families.Contains(n.Family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddressFamily.IPv6 : IPAddressFamily.IPv4)) continue;
            // Like `ip neigh`: permanent NOARP entries (multicast, loopback) only when asked for by state.
            if (states is null ? state is ArpEntryState.NoArp or ArpEntryState.None : !states.Contains(state)) continue;
            if (filters.Count > 0 && !filters.Any(f => f.PrefixLength is { } p ? ArpValidation.InSubnet(n.Address, f.Address, p) : f.Address.Equals(n.Address))) continue;
            var entry = new ArpEntry(LinkName(n.InterfaceIndex), n.InterfaceIndex, n.Address, n.LinkLayerAddress, state,
                (n.Flags & 0x80) != 0, (n.Flags & 0x08) != 0);
            if (macs is not null && (entry.LinkLayerAddress is null || !macs.Contains(entry.LinkLayerAddress))) continue;
            entries.Add(entry);
        }
        foreach (var e in entries.OrderBy(e => e.InterfaceIndex).ThenBy(e => e.AddressFamily).ThenBy(e => e.IPAddress.GetAddressBytes(), ByteOrder.Instance))
            WriteObject(e);
    }

    private static string NormalizeMac(string text)
    {
        string hex = new string(text.Where(Uri.IsHexDigit).ToArray()).ToLowerInvariant();
        bool separatorsOk = text.All(c => Uri.IsHexDigit(c) || c is ':' or '-' or '.');
        if (hex.Length != 12 || !separatorsOk)
            throw new ArpArgumentException("InvalidLinkLayerAddress", $"-LinkLayerAddress: '{text}' is not a MAC address such as 02:00:5e:00:00:01.", "LinkLayerAddress");
        return string.Join(":", Enumerable.Range(0, 6).Select(i => hex.Substring(i * 2, 2)));
    }

    internal sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y)
        {
            if (x is null || y is null) return Comparer<byte[]?>.Default.Compare(x, y);
            for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
                if (x[i] != y[i]) return x[i].CompareTo(y[i]);
            return x.Length.CompareTo(y.Length);
        }
    }
}
