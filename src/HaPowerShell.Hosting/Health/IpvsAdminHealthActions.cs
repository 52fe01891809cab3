using HaPowerShell.Core.Health;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Native;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Hosting.Health;

/// <summary>The checker's IPVS changes over <see cref="IpvsAdmin"/> (Start-IpvsHealthCheck and the daemon).</summary>
public sealed class IpvsAdminHealthActions : IIpvsHealthActions
{
    private readonly Lazy<IpvsAdmin> _lazy;
    private IpvsAdmin _admin => _lazy.Value;

    public IpvsAdminHealthActions(IpvsAdmin admin) => _lazy = new Lazy<IpvsAdmin>(admin);

    /// <summary>Opens IPVS on the first change, not before.</summary>
    public IpvsAdminHealthActions(Func<IpvsAdmin> admin) => _lazy = new Lazy<IpvsAdmin>(admin, LazyThreadSafetyMode.ExecutionAndPublication);

    // Straight to the kernel: IpvsAdmin's Add/Update read the table back to check the kernel kept
    // every setting, which costs a dump of the whole service per change (10,000 real servers).
    public void SetRealServer(IpvsService service, IpvsRealServer server, int weight)
    {
        var r = server.WithWeight(weight);
        IpvsAdmin.ValidateRealServer(service, r);
        var id = IpvsMapping.ToIdentity(service);
        var dest = IpvsMapping.ToDestEntry(service, r);
        try
        {
            _admin.Kernel.SetDestination(id, dest);
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            Call(() => _admin.Kernel.NewDestination(id, dest), service, "add real server", r);
        }
        catch (NetlinkException e)
        {
            throw IpvsAdmin.Explain(e, service, "edit real server", r) ?? (Exception)e;
        }
    }

    public void RemoveRealServer(IpvsService service, IpvsRealServer server)
    {
        try
        {
            _admin.Kernel.DeleteDestination(IpvsMapping.ToIdentity(service), IpvsMapping.ToDestEntry(service, server));
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            // already out
        }
        catch (NetlinkException e)
        {
            throw IpvsAdmin.Explain(e, service, "delete real server", server) ?? (Exception)e;
        }
    }

    private static void Call(Action call, IpvsService service, string what, IpvsRealServer r)
    {
        try { call(); }
        catch (NetlinkException e) { throw IpvsAdmin.Explain(e, service, what, r) ?? (Exception)e; }
    }

}
