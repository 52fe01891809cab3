using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace HaPowerShell.Native.Rtnl;

/// <summary>A network interface as rtnetlink reports it (RTM_NEWLINK).</summary>
public sealed record LinkInfo(
    int Index, string Name, uint Flags, ushort HardwareType, uint Mtu,
    PhysicalAddress? MacAddress, PhysicalAddress? Broadcast, byte OperState, int MasterIndex, string? Kind)
{
    public const uint IffUp = 0x1, IffBroadcast = 0x2, IffLoopback = 0x8, IffRunning = 0x40, IffNoArp = 0x80, IffLowerUp = 0x10000;
    public const ushort ArphrdEther = 1, ArphrdLoopback = 772;

    public bool IsUp => (Flags & IffUp) != 0;
    public bool IsLoopback => (Flags & IffLoopback) != 0;
    public bool CanArp => (Flags & IffNoArp) == 0 && HardwareType == ArphrdEther;
}

/// <summary>An interface address (RTM_NEWADDR).</summary>
public sealed record AddressInfo(
    int InterfaceIndex, AddressFamily Family, IPAddress Address, byte PrefixLength,
    string? Label, byte Scope, uint Flags, IPAddress? Peer, IPAddress? Broadcast);

/// <summary>A neighbour-table entry (RTM_NEWNEIGH).</summary>
public sealed record NeighborInfo(
    int InterfaceIndex, AddressFamily Family, IPAddress Address, PhysicalAddress? LinkLayerAddress,
    ushort State, byte Flags);

/// <summary>NUD_* neighbour states.</summary>
[Flags]
public enum NeighborState : ushort
{
    None = 0, Incomplete = 0x01, Reachable = 0x02, Stale = 0x04, Delay = 0x08,
    Probe = 0x10, Failed = 0x20, NoArp = 0x40, Permanent = 0x80,
}
