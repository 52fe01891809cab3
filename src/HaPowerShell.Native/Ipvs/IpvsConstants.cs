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
