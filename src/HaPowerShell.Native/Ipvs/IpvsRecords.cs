using System.Net;

namespace HaPowerShell.Native.Ipvs;

/// <summary>Counters and rates exactly as the kernel reports them (64-bit set preferred).</summary>
public record struct IpvsRawStats(ulong Conns, ulong InPkts, ulong OutPkts, ulong InBytes, ulong OutBytes,
    ulong Cps, ulong InPps, ulong OutPps, ulong InBps, ulong OutBps);

/// <summary>
/// A virtual service in kernel terms. Identity: Family plus either FirewallMark (non-zero) or
/// Protocol + Address + Port. Netmask is the raw attribute: for IPv4 the mask as a number in
/// network order (0xffffffff = /32), for IPv6 the prefix length.
/// </summary>
public sealed record IpvsServiceEntry
{
    public ushort Family { get; init; } = AddressFamilyNumber.Inet;
    public ushort Protocol { get; init; }
    public IPAddress? Address { get; init; }
    public ushort Port { get; init; }
    public uint FirewallMark { get; init; }
    public string Scheduler { get; init; } = "wlc";
    public string? PersistenceEngine { get; init; }
    public uint Flags { get; init; }
    public uint Timeout { get; init; }
    public uint Netmask { get; init; } = 0xffffffff;
    public IpvsRawStats Stats { get; init; }
}

/// <summary>A real server (destination) in kernel terms.</summary>
public sealed record IpvsDestEntry
{
    public ushort Family { get; init; } = AddressFamilyNumber.Inet;
    public IPAddress Address { get; init; } = IPAddress.Any;
    public ushort Port { get; init; }
    /// <summary>IP_VS_CONN_F_FWD_MASK part of the connection flags.</summary>
    public uint ForwardMethod { get; init; }
    public int Weight { get; init; }
    public uint UpperThreshold { get; init; }
    public uint LowerThreshold { get; init; }
    public uint ActiveConnections { get; init; }
    public uint InactiveConnections { get; init; }
    public uint PersistentConnections { get; init; }
    /// <summary>Null when the kernel did not report a tunnel type (older kernels).</summary>
    public byte? TunnelType { get; init; }
    public ushort TunnelPort { get; init; }
    public ushort TunnelFlags { get; init; }
    public IpvsRawStats Stats { get; init; }
}

public readonly record struct IpvsTimeouts(uint Tcp, uint TcpFin, uint Udp);

public sealed record IpvsDaemonEntry
{
    public uint State { get; init; }
    public string InterfaceName { get; init; } = "";
    public uint SyncId { get; init; }
    public ushort MaxLength { get; init; }
    public IPAddress? Group { get; init; }
    public ushort Port { get; init; }
    public byte Ttl { get; init; }
}
