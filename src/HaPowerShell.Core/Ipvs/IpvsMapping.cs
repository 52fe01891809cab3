using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Native.Ipvs;

namespace HaPowerShell.Core.Ipvs;

/// <summary>Translates between the objects users see and the kernel's records.</summary>
public static class IpvsMapping
{
    public const string DefaultIpv4Netmask = "255.255.255.255";
    public const string DefaultIpv6Netmask = "128";

    private static readonly (string Name, uint Bit)[] ShFlags = { ("sh-fallback", IpvsServiceFlags.Sched1), ("sh-port", IpvsServiceFlags.Sched2) };
    private static readonly (string Name, uint Bit)[] MhFlags = { ("mh-fallback", IpvsServiceFlags.Sched1), ("mh-port", IpvsServiceFlags.Sched2) };
    private static readonly (string Name, uint Bit)[] GenericFlags =
        { ("flag-1", IpvsServiceFlags.Sched1), ("flag-2", IpvsServiceFlags.Sched2), ("flag-3", IpvsServiceFlags.Sched3) };

    private static (string Name, uint Bit)[] FlagTable(string scheduler) => scheduler switch
    {
        "sh" => ShFlags,
        "mh" => MhFlags,
        _ => GenericFlags,
    };

    public static ushort FamilyNumber(AddressFamily f) => f == AddressFamily.InterNetworkV6 ? AddressFamilyNumber.Inet6 : AddressFamilyNumber.Inet;

    public static AddressFamily Family(ushort af) => af == AddressFamilyNumber.Inet6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    public static IpvsServiceEntry ToEntry(IpvsService s)
    {
        uint flags = 0;
        if (s.PersistenceTimeout != 0) flags |= IpvsServiceFlags.Persistent;
        if (s.OnePacket) flags |= IpvsServiceFlags.OnePacket;
        var table = FlagTable(s.Scheduler);
        foreach (var name in s.SchedulerFlag ?? Array.Empty<string>())
        {
            var hit = table.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
            if (hit.Name is null)
                throw new ArgumentException($"Scheduler flag '{name}' is not valid for scheduler '{s.Scheduler}'; valid: {string.Join(", ", table.Select(t => t.Name))}.");
            flags |= hit.Bit;
        }
        return new IpvsServiceEntry
        {
            Family = FamilyNumber(s.AddressFamily),
            Protocol = s.IsFirewallMark ? (ushort)0 : (ushort)(s.Protocol ?? 0),
            Address = s.IsFirewallMark ? null : s.Address,
            Port = s.IsFirewallMark ? (ushort)0 : s.Port,
            FirewallMark = s.FirewallMark,
            Scheduler = s.Scheduler,
            PersistenceEngine = string.IsNullOrEmpty(s.PersistenceEngine) ? null : s.PersistenceEngine,
            Flags = flags,
            Timeout = s.PersistenceTimeout,
            Netmask = NetmaskValue(s.AddressFamily, s.PersistenceNetmask),
        };
    }

    /// <summary>The identity fields only (what GET/DEL and real-server commands need).</summary>
    public static IpvsServiceEntry ToIdentity(IpvsService s) => new()
    {
        Family = FamilyNumber(s.AddressFamily),
        Protocol = s.IsFirewallMark ? (ushort)0 : (ushort)(s.Protocol ?? 0),
        Address = s.IsFirewallMark ? null : s.Address,
        Port = s.IsFirewallMark ? (ushort)0 : s.Port,
        FirewallMark = s.FirewallMark,
    };

    public static IpvsService FromEntry(IpvsServiceEntry e)
    {
        var family = Family(e.Family);
        var names = new List<string>();
        foreach (var (name, bit) in FlagTable(e.Scheduler)) if ((e.Flags & bit) != 0) names.Add(name);
        return new IpvsService
        {
            AddressFamily = family,
            Protocol = e.FirewallMark != 0 ? null : (IpvsProtocol)e.Protocol,
            Address = e.FirewallMark != 0 ? null : e.Address,
            Port = e.Port,
            FirewallMark = e.FirewallMark,
            Scheduler = e.Scheduler,
            PersistenceTimeout = (e.Flags & IpvsServiceFlags.Persistent) != 0 ? e.Timeout : 0,
            PersistenceNetmask = NetmaskText(family, e.Netmask),
            PersistenceEngine = e.PersistenceEngine,
            OnePacket = (e.Flags & IpvsServiceFlags.OnePacket) != 0,
            SchedulerFlag = names.ToArray(),
            Statistics = Stats(e.Stats),
            Rate = Rate(e.Stats),
        };
    }

    public static IpvsDestEntry ToDestEntry(IpvsService service, IpvsRealServer r)
    {
        bool tunnel = r.ForwardingMethod == IpvsForwardingMethod.Tunnel;
        return new IpvsDestEntry
        {
            Family = FamilyNumber(r.Address.AddressFamily),
            Address = r.Address,
            Port = r.Port != 0 || service.IsFirewallMark ? r.Port : service.Port,
            ForwardMethod = (uint)r.ForwardingMethod,
            Weight = r.Weight,
            UpperThreshold = r.UpperThreshold,
            LowerThreshold = r.LowerThreshold,
            TunnelType = tunnel ? (byte)(r.TunnelType ?? IpvsTunnelType.IpIp) : null,
            TunnelPort = tunnel ? r.TunnelPort : (ushort)0,
            TunnelFlags = tunnel ? (ushort)r.TunnelChecksum : (ushort)0,
        };
    }

    public static IpvsRealServer FromDestEntry(IpvsService service, IpvsDestEntry e)
    {
        var method = (IpvsForwardingMethod)e.ForwardMethod;
        bool tunnel = method == IpvsForwardingMethod.Tunnel;
        return new IpvsRealServer
        {
            Service = service,
            Address = e.Address,
            Port = e.Port,
            ForwardingMethod = method,
            Weight = e.Weight,
            UpperThreshold = e.UpperThreshold,
            LowerThreshold = e.LowerThreshold,
            ActiveConnections = e.ActiveConnections,
            InactiveConnections = e.InactiveConnections,
            PersistentConnections = e.PersistentConnections,
            TunnelType = tunnel ? (IpvsTunnelType)(e.TunnelType ?? 0) : null,
            TunnelPort = tunnel ? e.TunnelPort : (ushort)0,
            TunnelChecksum = tunnel ? (IpvsTunnelChecksum)e.TunnelFlags : IpvsTunnelChecksum.NoChecksum,
            Statistics = Stats(e.Stats),
            Rate = Rate(e.Stats),
        };
    }

    public static IpvsStatistics Stats(IpvsRawStats s) => new()
    {
        Connections = s.Conns, InPackets = s.InPkts, OutPackets = s.OutPkts, InBytes = s.InBytes, OutBytes = s.OutBytes,
    };

    public static IpvsRate Rate(IpvsRawStats s) => new()
    {
        ConnectionsPerSecond = s.Cps, InPacketsPerSecond = s.InPps, OutPacketsPerSecond = s.OutPps,
        InBytesPerSecond = s.InBps, OutBytesPerSecond = s.OutBps,
    };

    /// <summary>Parses "255.255.255.0" (IPv4) or "64" (IPv6) into the kernel's value; null means the default.</summary>
    public static uint NetmaskValue(AddressFamily family, string? text)
    {
        bool v6 = family == AddressFamily.InterNetworkV6;
        if (IpvsInet.TryNetmaskValue(v6, text, out uint value) && (v6 || IpvsInet.IsContiguousMask(value))) return value;
        throw new ArgumentException(v6
            ? $"'{text}' is not an IPv6 persistence prefix length (1-128)."
            : $"'{text}' is not an IPv4 persistence netmask (a contiguous mask such as 255.255.255.0, or a prefix length 1-32).");
    }

    public static string NetmaskText(AddressFamily family, uint value)
    {
        if (family == AddressFamily.InterNetworkV6) return value == 0 ? DefaultIpv6Netmask : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return value == 0 ? DefaultIpv4Netmask : IpvsInet.DottedMask(value);
    }
}
