using System.Net;
using System.Net.Sockets;
using Af = System.Net.Sockets.AddressFamily;

namespace HaPowerShell.Core.Ipvs;

/// <summary>Transport protocol of a virtual service (IPPROTO_* numbers).</summary>
public enum IpvsProtocol : ushort
{
    Tcp = 6,
    Udp = 17,
    Sctp = 132,
}

/// <summary>How IPVS forwards packets to a real server (IP_VS_CONN_F_FWD_MASK values).</summary>
public enum IpvsForwardingMethod
{
    /// <summary>NAT (-m): destination rewritten, replies must return through the director.</summary>
    Masquerade = 0,
    /// <summary>The real server is this host (ipvsadm shows "Local"); set by the kernel, not by users.</summary>
    Local = 1,
    /// <summary>IP-in-IP / GUE / GRE tunnelling (-i).</summary>
    Tunnel = 2,
    /// <summary>Direct routing / gatewaying (-g): only the destination MAC changes.</summary>
    DirectRouting = 3,
    /// <summary>
    /// FULLNAT (source and destination rewritten). Not in mainline Linux: only out-of-tree forks
    /// (Alibaba's LVS for 2.6.32 and derivatives such as DPVS) provide it, so it is always rejected
    /// with an error that says so. Listed so that users of those forks get that answer, not a type error.
    /// </summary>
    FullNat = 100,
}

/// <summary>Encapsulation used by tunnel-mode real servers (Linux 5.3+ knows GUE and GRE).</summary>
public enum IpvsTunnelType : byte
{
    IpIp = 0,
    Gue = 1,
    Gre = 2,
}

/// <summary>Checksum option of GUE/GRE tunnels.</summary>
public enum IpvsTunnelChecksum : ushort
{
    NoChecksum = 0,
    Checksum = 1,
    RemoteChecksum = 2,
}

/// <summary>Cumulative counters of a service or real server (64-bit, as `ipvsadm -L --stats`).</summary>
public sealed class IpvsStatistics
{
    public ulong Connections { get; set; }
    public ulong InPackets { get; set; }
    public ulong OutPackets { get; set; }
    public ulong InBytes { get; set; }
    public ulong OutBytes { get; set; }
}

/// <summary>Current rates of a service or real server (as `ipvsadm -L --rate`).</summary>
public sealed class IpvsRate
{
    public ulong ConnectionsPerSecond { get; set; }
    public ulong InPacketsPerSecond { get; set; }
    public ulong OutPacketsPerSecond { get; set; }
    public ulong InBytesPerSecond { get; set; }
    public ulong OutBytesPerSecond { get; set; }
}

/// <summary>
/// A virtual service: either protocol + address + port, or a firewall mark (with an address
/// family). Property names match the parameters of the cmdlets it pipes into. This is its JSON face:
/// the protocol, address and family as text (settable, so ConvertFrom-Json output and hashtables convert);
/// <see cref="IpvsService"/> holds the typed twins code uses.
/// </summary>
public abstract class IpvsServiceJson
{
    public const string DefaultScheduler = "wlc";

    private protected IpvsProtocol? protocol;
    private protected IPAddress? address;
    private protected Af addressFamily = Af.InterNetwork;

    /// <summary>Tcp, Udp or Sctp; null for a firewall-mark service.</summary>
    public string? Protocol { get => protocol?.ToString(); set => protocol = JsonShape.EnumOrNull<IpvsProtocol>(value); }

    /// <summary>Virtual address; null for a firewall-mark service.</summary>
    public string? Address { get => address?.ToString(); set => address = JsonShape.Address(value); }

    /// <summary>Virtual port (0 = all ports, persistent services only).</summary>
    public ushort Port { get; set; }

    /// <summary>Firewall mark (0 = not a firewall-mark service).</summary>
    public uint FirewallMark { get; set; }

    /// <summary>InterNetwork (IPv4) or InterNetworkV6.</summary>
    public string AddressFamily { get => addressFamily.ToString(); set => addressFamily = JsonShape.Enum<Af>(value); }

    public string Scheduler { get; set; } = DefaultScheduler;

    /// <summary>Persistence timeout in seconds; 0 = not persistent.</summary>
    public uint PersistenceTimeout { get; set; }

    /// <summary>Persistence granularity: an IPv4 netmask ("255.255.255.0") or an IPv6 prefix length ("64").</summary>
    public string? PersistenceNetmask { get; set; }

    /// <summary>Persistence engine (only "sip" exists in mainline).</summary>
    public string? PersistenceEngine { get; set; }

    /// <summary>One-packet scheduling (-o): schedule every UDP datagram on its own.</summary>
    public bool OnePacket { get; set; }

    /// <summary>Scheduler flags in ipvsadm's words: sh-fallback, sh-port, mh-fallback, mh-port, flag-1..3.</summary>
    public string[] SchedulerFlag { get; set; } = Array.Empty<string>();

    // Made on first read: a parsed or desired-state object (tens of thousands in a large Import) never needs them.
    public IpvsStatistics Statistics { get => _statistics ??= new(); set => _statistics = value; }
    public IpvsRate Rate { get => _rate ??= new(); set => _rate = value; }
    private IpvsStatistics? _statistics;
    private IpvsRate? _rate;

    /// <summary>Real servers, when the service came from a configuration (Import/Sync/JSON).</summary>
    public List<IpvsRealServer>? RealServers { get; set; }

    public bool IsFirewallMark => FirewallMark != 0;

    public bool IsPersistent => PersistenceTimeout != 0;

    /// <summary>The identity as ipvsadm lists it: "TCP  192.0.2.1:80", "FWM  5", "UDP  [2001:db8::1]:53".</summary>
    public string Name => IsFirewallMark
        ? (addressFamily == Af.InterNetworkV6 ? $"FWM  {FirewallMark} IPv6" : $"FWM  {FirewallMark}")
        : $"{ProtocolName(protocol)} {IpvsText.Endpoint(address, Port)}";

    public override string ToString() => Name.Replace("  ", " ");

    internal static string ProtocolName(IpvsProtocol? p) => p switch
    {
        IpvsProtocol.Tcp => "TCP ",
        IpvsProtocol.Udp => "UDP ",
        IpvsProtocol.Sctp => "SCTP",
        _ => "?   ",
    };

    internal static string ProtocolOption(IpvsProtocol? p) => p switch
    {
        IpvsProtocol.Tcp => "-t",
        IpvsProtocol.Udp => "-u",
        IpvsProtocol.Sctp => "--sctp-service",
        _ => "--xxx-service",
    };
}

/// <summary>A virtual service; the typed values are the internal twins of its JSON face.</summary>
public sealed class IpvsService : IpvsServiceJson
{
    internal new IpvsProtocol? Protocol { get => protocol; set => protocol = value; }
    internal new IPAddress? Address { get => address; set => address = value; }
    internal new Af AddressFamily { get => addressFamily; set => addressFamily = value; }

    /// <summary>True when the two describe the same virtual service (same identity).</summary>
    public bool SameIdentity(IpvsService other)
        => FirewallMark == other.FirewallMark && AddressFamily == other.AddressFamily
           && (IsFirewallMark || (Protocol == other.Protocol && Port == other.Port && Equals(Address, other.Address)));

    /// <summary>A copy with only the identity fields, for lookups.</summary>
    public IpvsService IdentityOnly() => new()
    {
        Protocol = Protocol, Address = Address, Port = Port, FirewallMark = FirewallMark, AddressFamily = AddressFamily,
        Scheduler = Scheduler,
    };
}

/// <summary>A real server (destination) of a virtual service: the JSON face (address, forwarding method, tunnel settings as text).</summary>
public abstract class IpvsRealServerJson
{
    private protected IPAddress address = IPAddress.None;
    private protected IpvsForwardingMethod forwardingMethod = IpvsForwardingMethod.DirectRouting;
    private protected IpvsTunnelType? tunnelType;
    private protected IpvsTunnelChecksum tunnelChecksum;

    /// <summary>The service this real server belongs to.</summary>
    public IpvsService? Service { get; set; }

    public string Address { get => address.ToString(); set => address = JsonShape.AddressOrNone(value); }

    /// <summary>Real port; 0 means "the service's port" (firewall-mark services: the client's port).</summary>
    public ushort Port { get; set; }

    /// <summary>The family of <see cref="Address"/>: InterNetwork or InterNetworkV6.</summary>
    public string AddressFamily => address.AddressFamily.ToString();

    /// <summary>DirectRouting, Tunnel or Masquerade (Local when the kernel says the real server is this host).</summary>
    public string ForwardingMethod { get => forwardingMethod.ToString(); set => forwardingMethod = JsonShape.Enum<IpvsForwardingMethod>(value); }
    public int Weight { get; set; } = 1;
    public uint UpperThreshold { get; set; }
    public uint LowerThreshold { get; set; }
    public uint ActiveConnections { get; set; }
    public uint InactiveConnections { get; set; }
    public uint PersistentConnections { get; set; }

    /// <summary>Tunnel encapsulation (tunnel mode only): IpIp, Gue or Gre.</summary>
    public string? TunnelType { get => tunnelType?.ToString(); set => tunnelType = JsonShape.EnumOrNull<IpvsTunnelType>(value); }

    /// <summary>GUE destination port (tunnel type Gue only).</summary>
    public ushort TunnelPort { get; set; }

    /// <summary>GUE/GRE checksum option: NoChecksum, Checksum or RemoteChecksum.</summary>
    public string TunnelChecksum { get => tunnelChecksum.ToString(); set => tunnelChecksum = JsonShape.Enum<IpvsTunnelChecksum>(value); }

    // Made on first read: a parsed or desired-state object (tens of thousands in a large Import) never needs them.
    public IpvsStatistics Statistics { get => _statistics ??= new(); set => _statistics = value; }
    public IpvsRate Rate { get => _rate ??= new(); set => _rate = value; }
    private IpvsStatistics? _statistics;
    private IpvsRate? _rate;

    /// <summary>"192.0.2.10:80" or "[2001:db8::10]:80".</summary>
    public string Endpoint => IpvsText.Endpoint(address, Port);

    public override string ToString() => Service is null ? Endpoint : $"{Service} -> {Endpoint}";
}

/// <summary>A real server; the typed values are the internal twins of its JSON face.</summary>
public sealed class IpvsRealServer : IpvsRealServerJson
{
    internal new IPAddress Address { get => address; set => address = value; }
    internal new Af AddressFamily => address.AddressFamily;
    internal new IpvsForwardingMethod ForwardingMethod { get => forwardingMethod; set => forwardingMethod = value; }
    internal new IpvsTunnelType? TunnelType { get => tunnelType; set => tunnelType = value; }
    internal new IpvsTunnelChecksum TunnelChecksum { get => tunnelChecksum; set => tunnelChecksum = value; }

    /// <summary>A copy with another weight (settings only: the counters are not copied).</summary>
    public IpvsRealServer WithWeight(int weight) => new()
    {
        Service = Service,
        Address = Address,
        Port = Port,
        ForwardingMethod = ForwardingMethod,
        Weight = weight,
        UpperThreshold = UpperThreshold,
        LowerThreshold = LowerThreshold,
        TunnelType = TunnelType,
        TunnelPort = TunnelPort,
        TunnelChecksum = TunnelChecksum,
    };
}

/// <summary>IPVS connection timeouts in seconds (0 in a Set means "leave unchanged").</summary>
public sealed class IpvsTimeout
{
    public uint Tcp { get; set; }
    public uint TcpFin { get; set; }
    public uint Udp { get; set; }

    /// <summary>The line `ipvsadm -L --timeout` prints.</summary>
    public override string ToString() => $"Timeout (tcp tcpfin udp): {Tcp} {TcpFin} {Udp}";
}

public enum IpvsSyncDaemonState
{
    Master = 1,
    Backup = 2,
}

/// <summary>A connection-synchronisation daemon (`ipvsadm --start-daemon`): the JSON face (state and group as text).</summary>
public abstract class IpvsSyncDaemonJson
{
    private protected IpvsSyncDaemonState state;
    private protected IPAddress? group;

    /// <summary>Master or Backup.</summary>
    public string State { get => state.ToString(); set => state = JsonShape.Enum<IpvsSyncDaemonState>(value); }
    public string InterfaceName { get; set; } = "";
    public uint SyncId { get; set; }
    /// <summary>Maximum sync message payload (0 = kernel default).</summary>
    public ushort MaxLength { get; set; }
    /// <summary>Multicast group (null = the default 224.0.0.81).</summary>
    public string? Group { get => group?.ToString(); set => group = JsonShape.Address(value); }
    /// <summary>UDP port (0 = default 8848).</summary>
    public ushort Port { get; set; }
    /// <summary>Multicast TTL (0 = default 1).</summary>
    public byte Ttl { get; set; }

    /// <summary>The line `ipvsadm -L --daemon` prints.</summary>
    public override string ToString()
    {
        var s = new System.Text.StringBuilder();
        s.Append(state == IpvsSyncDaemonState.Master ? "master" : "backup");
        s.Append($" sync daemon (mcast={InterfaceName}, syncid={SyncId}");
        if (MaxLength != 0) s.Append($", maxlen={MaxLength}");
        if (Group != null) s.Append($", group={Group}");
        if (Port != 0) s.Append($", port={Port}");
        if (Ttl != 0) s.Append($", ttl={Ttl}");
        return s.Append(')').ToString();
    }
}

/// <summary>A connection-synchronisation daemon; typed internal twins.</summary>
public sealed class IpvsSyncDaemon : IpvsSyncDaemonJson
{
    internal new IpvsSyncDaemonState State { get => state; set => state = value; }
    internal new IPAddress? Group { get => group; set => group = value; }
}

/// <summary>An entry of the IPVS connection table (/proc/net/ip_vs_conn, `ipvsadm -Lnc`): the JSON face.</summary>
public abstract class IpvsConnectionJson
{
    private protected IPAddress sourceAddress = IPAddress.None, virtualAddress = IPAddress.None, destinationAddress = IPAddress.None;
    private protected TimeSpan expires;

    public string Protocol { get; set; } = "";
    public string SourceAddress { get => sourceAddress.ToString(); set => sourceAddress = JsonShape.AddressOrNone(value); }
    public ushort SourcePort { get; set; }
    public string VirtualAddress { get => virtualAddress.ToString(); set => virtualAddress = JsonShape.AddressOrNone(value); }
    public ushort VirtualPort { get; set; }
    public string DestinationAddress { get => destinationAddress.ToString(); set => destinationAddress = JsonShape.AddressOrNone(value); }
    public ushort DestinationPort { get; set; }
    public string State { get; set; } = "";

    /// <summary>Seconds until the entry expires.</summary>
    public double Expires { get => JsonShape.Seconds(expires); set => expires = JsonShape.Duration(value); }
    public string? PersistenceEngine { get; set; }
    public string? PersistenceData { get; set; }

    public override string ToString()
        => $"{Protocol} {IpvsText.Endpoint(sourceAddress, SourcePort)} -> {IpvsText.Endpoint(virtualAddress, VirtualPort)} -> {IpvsText.Endpoint(destinationAddress, DestinationPort)} {State}";
}

/// <summary>An entry of the IPVS connection table; typed internal twins.</summary>
public sealed class IpvsConnection : IpvsConnectionJson
{
    internal new IPAddress SourceAddress { get => sourceAddress; set => sourceAddress = value; }
    internal new IPAddress VirtualAddress { get => virtualAddress; set => virtualAddress = value; }
    internal new IPAddress DestinationAddress { get => destinationAddress; set => destinationAddress = value; }
    internal new TimeSpan Expires { get => expires; set => expires = value; }
}

/// <summary>Text helpers shared by formatters.</summary>
public static class IpvsText
{
    /// <summary>"192.0.2.1:80" or "[2001:db8::1]:80" (ipvsadm's numeric form).</summary>
    public static string Endpoint(IPAddress? address, ushort port)
        => address is null ? $"0.0.0.0:{port}"
           : address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
}
