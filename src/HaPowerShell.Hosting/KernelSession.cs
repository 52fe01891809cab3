using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Hosting;

/// <summary>
/// Process-wide kernel connections, opened on first use and reused by every cmdlet and host (one
/// netlink socket per protocol per process, as the IPVS issue asks). The sockets are thread-safe.
/// A failed open is not cached, so a later call retries (after 'modprobe ip_vs', for example).
/// </summary>
public static class KernelSession
{
    private static readonly object Sync = new();
    private static IpvsClient? _ipvs;
    private static RtnlClient? _rtnl;

    public static IpvsClient Ipvs
    {
        get
        {
            lock (Sync) return _ipvs ??= IpvsClient.Open();
        }
    }

    public static RtnlClient Rtnl
    {
        get
        {
            lock (Sync) return _rtnl ??= new RtnlClient();
        }
    }
}
