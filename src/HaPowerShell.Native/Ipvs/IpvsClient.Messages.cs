using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Native.Ipvs;

// Message builders and parsers: static, so golden-byte tests need no kernel.
public sealed partial class IpvsClient
{
    /// <summary>Appends IPVS_CMD_ATTR_SERVICE; with <paramref name="full"/> every setting, else the identity only.</summary>
    public static void PutService(NetlinkMessageBuilder b, IpvsServiceEntry s, bool full)
    {
        b.BeginNested(IpvsCmdAttr.Service);
        b.PutU16(IpvsSvcAttr.Af, s.Family);
        if (s.FirewallMark != 0)
        {
            b.PutU32(IpvsSvcAttr.FwMark, s.FirewallMark);
        }
        else
        {
            b.PutU16(IpvsSvcAttr.Protocol, s.Protocol);
            b.PutInetAddress(IpvsSvcAttr.Addr, s.Address ?? (s.Family == AddressFamilyNumber.Inet6 ? IPAddress.IPv6Any : IPAddress.Any));
            b.PutU16BigEndian(IpvsSvcAttr.Port, s.Port);
        }
        if (full)
        {
            b.PutString(IpvsSvcAttr.SchedName, s.Scheduler);
            if (!string.IsNullOrEmpty(s.PersistenceEngine)) b.PutString(IpvsSvcAttr.PeName, s.PersistenceEngine);
            Span<byte> flags = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(flags, s.Flags & IpvsServiceFlags.UserMask);
            BinaryPrimitives.WriteUInt32LittleEndian(flags[4..], uint.MaxValue); // mask: set every flag as given
            b.PutAttribute(IpvsSvcAttr.Flags, flags);
            b.PutU32(IpvsSvcAttr.Timeout, s.Timeout);
            // The attribute is __be32: IPv4 masks are written as network-order bytes; an IPv6
            // prefix length travels as a plain number in the same four bytes (as ipvsadm does).
            if (s.Family == AddressFamilyNumber.Inet6) b.PutU32(IpvsSvcAttr.Netmask, s.Netmask);
            else b.PutU32BigEndian(IpvsSvcAttr.Netmask, s.Netmask);
        }
        b.EndNested();
    }

    /// <summary>Appends IPVS_CMD_ATTR_DEST with every setting (the kernel wants them all for NEW/SET).</summary>
    public static void PutDest(NetlinkMessageBuilder b, IpvsDestEntry d, bool full)
    {
        b.BeginNested(IpvsCmdAttr.Dest);
        b.PutInetAddress(IpvsDestAttr.Addr, d.Address);
        b.PutU16BigEndian(IpvsDestAttr.Port, d.Port);
        b.PutU16(IpvsDestAttr.AddrFamily, d.Family);
        if (full)
        {
            b.PutU32(IpvsDestAttr.FwdMethod, d.ForwardMethod);
            b.PutU32(IpvsDestAttr.Weight, unchecked((uint)d.Weight));
            b.PutU32(IpvsDestAttr.UThresh, d.UpperThreshold);
            b.PutU32(IpvsDestAttr.LThresh, d.LowerThreshold);
            if (d.TunnelType is { } t)
            {
                b.PutU8(IpvsDestAttr.TunType, t);
                b.PutU16BigEndian(IpvsDestAttr.TunPort, d.TunnelPort);
                b.PutU16(IpvsDestAttr.TunFlags, d.TunnelFlags);
            }
        }
        b.EndNested();
    }

    public static byte[] BuildServiceCommand(GenericNetlinkFamily f, byte command, IpvsServiceEntry s)
        => WriteServiceCommand(GenericNetlinkClient.NewRequest(f, command), command, s).ToArray();

    public static byte[] BuildDestCommand(GenericNetlinkFamily f, byte command, IpvsServiceEntry s, IpvsDestEntry d)
        => WriteDestCommand(GenericNetlinkClient.NewRequest(f, command), command, s, d).ToArray();

    /// <summary>A service command's attributes, after the headers <paramref name="b"/> holds.</summary>
    private static NetlinkMessageBuilder WriteServiceCommand(NetlinkMessageBuilder b, byte command, IpvsServiceEntry s)
    {
        PutService(b, s, full: command is IpvsCommand.NewService or IpvsCommand.SetService);
        return b;
    }

    /// <summary>A real-server command's attributes, after the headers <paramref name="b"/> holds.</summary>
    private static NetlinkMessageBuilder WriteDestCommand(NetlinkMessageBuilder b, byte command, IpvsServiceEntry s, IpvsDestEntry d)
    {
        PutService(b, s, full: false);
        PutDest(b, d, full: command is IpvsCommand.NewDest or IpvsCommand.SetDest);
        return b;
    }

    public static byte[] BuildGetServices(GenericNetlinkFamily f)
        => GenericNetlinkClient.NewRequest(f, IpvsCommand.GetService, NetlinkFlags.Dump).ToArray();

    public static byte[] BuildGetService(GenericNetlinkFamily f, IpvsServiceEntry s)
    {
        var b = GenericNetlinkClient.NewRequest(f, IpvsCommand.GetService);
        PutService(b, s, full: false);
        return b.ToArray();
    }

    public static byte[] BuildGetDests(GenericNetlinkFamily f, IpvsServiceEntry s)
    {
        var b = GenericNetlinkClient.NewRequest(f, IpvsCommand.GetDest, NetlinkFlags.Dump);
        PutService(b, s, full: false);
        return b.ToArray();
    }

    public static byte[] BuildSetTimeouts(GenericNetlinkFamily f, IpvsTimeouts t)
    {
        var b = GenericNetlinkClient.NewRequest(f, IpvsCommand.SetConfig);
        if (t.Tcp != 0) b.PutU32(IpvsCmdAttr.TimeoutTcp, t.Tcp);
        if (t.TcpFin != 0) b.PutU32(IpvsCmdAttr.TimeoutTcpFin, t.TcpFin);
        if (t.Udp != 0) b.PutU32(IpvsCmdAttr.TimeoutUdp, t.Udp);
        return b.ToArray();
    }

    public static byte[] BuildNewDaemon(GenericNetlinkFamily f, IpvsDaemonEntry d)
    {
        var b = GenericNetlinkClient.NewRequest(f, IpvsCommand.NewDaemon);
        b.BeginNested(IpvsCmdAttr.Daemon);
        b.PutU32(IpvsDaemonAttr.State, d.State);
        b.PutString(IpvsDaemonAttr.McastIfn, d.InterfaceName);
        b.PutU32(IpvsDaemonAttr.SyncId, d.SyncId);
        if (d.MaxLength != 0) b.PutU16(IpvsDaemonAttr.SyncMaxLen, d.MaxLength);
        if (d.Group is { } g)
        {
            if (g.AddressFamily == AddressFamily.InterNetworkV6) b.PutAddress(IpvsDaemonAttr.McastGroup6, g);
            else b.PutAddress(IpvsDaemonAttr.McastGroup, g);
        }
        if (d.Port != 0) b.PutU16(IpvsDaemonAttr.McastPort, d.Port);
        if (d.Ttl != 0) b.PutU8(IpvsDaemonAttr.McastTtl, d.Ttl);
        b.EndNested();
        return b.ToArray();
    }

    public static byte[] BuildDelDaemon(GenericNetlinkFamily f, uint state)
    {
        var b = GenericNetlinkClient.NewRequest(f, IpvsCommand.DelDaemon);
        b.BeginNested(IpvsCmdAttr.Daemon).PutU32(IpvsDaemonAttr.State, state).EndNested();
        return b.ToArray();
    }

    public static byte[] BuildZero(GenericNetlinkFamily f, IpvsServiceEntry? s)
    {
        var b = GenericNetlinkClient.NewRequest(f, IpvsCommand.Zero);
        if (s != null) PutService(b, s, full: false);
        return b.ToArray();
    }

    private static AddressFamily ToAddressFamily(ushort af, string op)
        => af switch
        {
            AddressFamilyNumber.Inet => AddressFamily.InterNetwork,
            AddressFamilyNumber.Inet6 => AddressFamily.InterNetworkV6,
            _ => throw new NetlinkProtocolException(op, $"unexpected address family {af}"),
        };

    private static NetlinkAttributes Top(ReadOnlyMemory<byte> payload, string op)
    {
        if (payload.Length < 4) throw new NetlinkProtocolException(op, "reply shorter than the generic netlink header");
        return NetlinkAttributes.Parse(payload[4..], op);
    }

    /// <summary>Parses one service message (IPVS_CMD_NEW_SERVICE in a dump or GET reply).</summary>
    public static IpvsServiceEntry ParseService(ReadOnlyMemory<byte> payload, string op)
    {
        var s = Top(payload, op).GetNested(IpvsCmdAttr.Service);
        ushort af = s.GetU16(IpvsSvcAttr.Af);
        var family = ToAddressFamily(af, op);
        uint fwmark = s.GetU32OrDefault(IpvsSvcAttr.FwMark);
        var flagsRaw = s.Get(IpvsSvcAttr.Flags).Span;
        if (flagsRaw.Length < 4) throw new NetlinkProtocolException(op, "service flags attribute is too short");
        uint netmask = 0;
        if (s.Has(IpvsSvcAttr.Netmask))
            netmask = af == AddressFamilyNumber.Inet6 ? s.GetU32(IpvsSvcAttr.Netmask) : s.GetU32BigEndian(IpvsSvcAttr.Netmask);
        return new IpvsServiceEntry
        {
            Family = af,
            FirewallMark = fwmark,
            Protocol = fwmark == 0 ? s.GetU16(IpvsSvcAttr.Protocol) : s.GetU16OrDefault(IpvsSvcAttr.Protocol),
            Address = fwmark == 0 ? s.GetAddress(IpvsSvcAttr.Addr, family) : null,
            Port = fwmark == 0 ? s.GetU16BigEndian(IpvsSvcAttr.Port) : (ushort)0,
            Scheduler = s.GetString(IpvsSvcAttr.SchedName),
            PersistenceEngine = s.TryGetString(IpvsSvcAttr.PeName, out var pe) && pe.Length > 0 ? pe : null,
            Flags = BinaryPrimitives.ReadUInt32LittleEndian(flagsRaw) & IpvsServiceFlags.UserMask,
            Timeout = s.GetU32OrDefault(IpvsSvcAttr.Timeout),
            Netmask = netmask,
            Stats = ParseStats(s, IpvsSvcAttr.Stats64, IpvsSvcAttr.Stats, op),
        };
    }

    /// <summary>Parses one destination message of a GET_DEST dump.</summary>
    public static IpvsDestEntry ParseDest(ReadOnlyMemory<byte> payload, ushort serviceFamily, string op)
    {
        var d = Top(payload, op).GetNested(IpvsCmdAttr.Dest);
        ushort af = d.Has(IpvsDestAttr.AddrFamily) ? d.GetU16(IpvsDestAttr.AddrFamily) : serviceFamily;
        return new IpvsDestEntry
        {
            Family = af,
            Address = d.GetAddress(IpvsDestAttr.Addr, ToAddressFamily(af, op)),
            Port = d.GetU16BigEndian(IpvsDestAttr.Port),
            ForwardMethod = d.GetU32(IpvsDestAttr.FwdMethod) & 0x7,
            Weight = unchecked((int)d.GetU32(IpvsDestAttr.Weight)),
            UpperThreshold = d.GetU32OrDefault(IpvsDestAttr.UThresh),
            LowerThreshold = d.GetU32OrDefault(IpvsDestAttr.LThresh),
            ActiveConnections = d.GetU32OrDefault(IpvsDestAttr.ActiveConns),
            InactiveConnections = d.GetU32OrDefault(IpvsDestAttr.InactConns),
            PersistentConnections = d.GetU32OrDefault(IpvsDestAttr.PersistConns),
            TunnelType = d.Has(IpvsDestAttr.TunType) ? d.GetU8(IpvsDestAttr.TunType) : null,
            TunnelPort = d.Has(IpvsDestAttr.TunPort) ? d.GetU16BigEndian(IpvsDestAttr.TunPort) : (ushort)0,
            TunnelFlags = d.GetU16OrDefault(IpvsDestAttr.TunFlags),
            Stats = ParseStats(d, IpvsDestAttr.Stats64, IpvsDestAttr.Stats, op),
        };
    }

    /// <summary>Reads the 64-bit statistics when present, else the 32-bit ones (kernels before 4.1).</summary>
    private static IpvsRawStats ParseStats(NetlinkAttributes parent, ushort stats64, ushort stats32, string op)
    {
        if (parent.TryGetNested(stats64, out var s))
        {
            return new IpvsRawStats(s.GetU64OrDefault(IpvsStatsAttr.Conns), s.GetU64OrDefault(IpvsStatsAttr.InPkts),
                s.GetU64OrDefault(IpvsStatsAttr.OutPkts), s.GetU64OrDefault(IpvsStatsAttr.InBytes), s.GetU64OrDefault(IpvsStatsAttr.OutBytes),
                s.GetU64OrDefault(IpvsStatsAttr.Cps), s.GetU64OrDefault(IpvsStatsAttr.InPps), s.GetU64OrDefault(IpvsStatsAttr.OutPps),
                s.GetU64OrDefault(IpvsStatsAttr.InBps), s.GetU64OrDefault(IpvsStatsAttr.OutBps));
        }
        if (parent.TryGetNested(stats32, out s))
        {
            return new IpvsRawStats(s.GetU32OrDefault(IpvsStatsAttr.Conns), s.GetU32OrDefault(IpvsStatsAttr.InPkts),
                s.GetU32OrDefault(IpvsStatsAttr.OutPkts), s.GetU64OrDefault(IpvsStatsAttr.InBytes), s.GetU64OrDefault(IpvsStatsAttr.OutBytes),
                s.GetU32OrDefault(IpvsStatsAttr.Cps), s.GetU32OrDefault(IpvsStatsAttr.InPps), s.GetU32OrDefault(IpvsStatsAttr.OutPps),
                s.GetU32OrDefault(IpvsStatsAttr.InBps), s.GetU32OrDefault(IpvsStatsAttr.OutBps));
        }
        return default;
    }

    public static IpvsTimeouts ParseTimeouts(ReadOnlyMemory<byte> payload, string op)
    {
        var a = Top(payload, op);
        return new IpvsTimeouts(a.GetU32OrDefault(IpvsCmdAttr.TimeoutTcp), a.GetU32OrDefault(IpvsCmdAttr.TimeoutTcpFin), a.GetU32OrDefault(IpvsCmdAttr.TimeoutUdp));
    }

    public static IpvsDaemonEntry ParseDaemon(ReadOnlyMemory<byte> payload, string op)
    {
        var d = Top(payload, op).GetNested(IpvsCmdAttr.Daemon);
        IPAddress? group = null;
        if (d.TryGet(IpvsDaemonAttr.McastGroup6, out var g6) && g6.Length >= 16) group = new IPAddress(g6.Span[..16]);
        else if (d.TryGet(IpvsDaemonAttr.McastGroup, out var g4) && g4.Length >= 4) group = new IPAddress(g4.Span[..4]);
        if (group != null && (group.Equals(IPAddress.Any) || group.Equals(IPAddress.IPv6Any))) group = null;
        return new IpvsDaemonEntry
        {
            State = d.GetU32(IpvsDaemonAttr.State),
            InterfaceName = d.TryGetString(IpvsDaemonAttr.McastIfn, out var ifn) ? ifn : "",
            SyncId = d.GetU32OrDefault(IpvsDaemonAttr.SyncId),
            MaxLength = d.GetU16OrDefault(IpvsDaemonAttr.SyncMaxLen),
            Group = group,
            Port = d.GetU16OrDefault(IpvsDaemonAttr.McastPort),
            Ttl = d.Has(IpvsDaemonAttr.McastTtl) ? d.GetU8(IpvsDaemonAttr.McastTtl) : (byte)0,
        };
    }
}
