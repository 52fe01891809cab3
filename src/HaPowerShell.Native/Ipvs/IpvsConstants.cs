namespace HaPowerShell.Native.Ipvs;

/// <summary>IPVS generic netlink commands (linux/ip_vs.h).</summary>
public static class IpvsCommand
{
    public const byte NewService = 1, SetService = 2, DelService = 3, GetService = 4,
        NewDest = 5, SetDest = 6, DelDest = 7, GetDest = 8,
        NewDaemon = 9, DelDaemon = 10, GetDaemon = 11,
        SetConfig = 12, GetConfig = 13, SetInfo = 14, GetInfo = 15, Zero = 16, Flush = 17;
}

/// <summary>Top-level attributes of IPVS_CMD_GET_INFO replies.</summary>
public static class IpvsInfoAttr
{
    public const ushort Version = 1, ConnTabSize = 2;
}

/// <summary>Attributes at the first level of IPVS commands.</summary>
public static class IpvsCmdAttr
{
    public const ushort Service = 1, Dest = 2, Daemon = 3, TimeoutTcp = 4, TimeoutTcpFin = 5, TimeoutUdp = 6;
}

/// <summary>Attributes nested in IPVS_CMD_ATTR_SERVICE.</summary>
public static class IpvsSvcAttr
{
    public const ushort Af = 1, Protocol = 2, Addr = 3, Port = 4, FwMark = 5, SchedName = 6, Flags = 7,
        Timeout = 8, Netmask = 9, Stats = 10, PeName = 11, Stats64 = 12;
}

/// <summary>Attributes nested in IPVS_CMD_ATTR_DEST.</summary>
public static class IpvsDestAttr
{
    public const ushort Addr = 1, Port = 2, FwdMethod = 3, Weight = 4, UThresh = 5, LThresh = 6,
        ActiveConns = 7, InactConns = 8, PersistConns = 9, Stats = 10, AddrFamily = 11, Stats64 = 12,
        TunType = 13, TunPort = 14, TunFlags = 15;
}

/// <summary>Attributes nested in IPVS_CMD_ATTR_DAEMON.</summary>
public static class IpvsDaemonAttr
{
    public const ushort State = 1, McastIfn = 2, SyncId = 3, SyncMaxLen = 4, McastGroup = 5, McastGroup6 = 6,
        McastPort = 7, McastTtl = 8;
}

/// <summary>Attributes nested in the statistics attributes.</summary>
public static class IpvsStatsAttr
{
    public const ushort Conns = 1, InPkts = 2, OutPkts = 3, InBytes = 4, OutBytes = 5, Cps = 6, InPps = 7,
        OutPps = 8, InBps = 9, OutBps = 10;
}

/// <summary>Service flags (IP_VS_SVC_F_*).</summary>
public static class IpvsServiceFlags
{
    public const uint Persistent = 0x1, Hashed = 0x2, OnePacket = 0x4, Sched1 = 0x8, Sched2 = 0x10, Sched3 = 0x20;
    /// <summary>Flags a user may set; HASHED is the kernel's own bookkeeping.</summary>
    public const uint UserMask = Persistent | OnePacket | Sched1 | Sched2 | Sched3;
}

public static class AddressFamilyNumber
{
    public const ushort Inet = 2, Inet6 = 10;
}
