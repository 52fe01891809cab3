using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Native.Ipvs;

/// <summary>
/// The IPVS operations the domain layer needs. <see cref="IpvsClient"/> implements it against the
/// kernel; tests of the domain logic implement it in memory.
/// </summary>
public interface IIpvsKernel
{
    IpvsKernelInfo GetInfo();
    IReadOnlyList<IpvsServiceEntry> GetServices();
    IpvsServiceEntry? GetService(IpvsServiceEntry id);
    IReadOnlyList<IpvsDestEntry> GetDestinations(IpvsServiceEntry service);

    /// <summary>Real servers of many services in one go; null for a service that no longer exists.</summary>
    IReadOnlyList<IpvsDestEntry>?[] GetDestinations(IReadOnlyList<IpvsServiceEntry> services);
    void NewService(IpvsServiceEntry s);
    void SetService(IpvsServiceEntry s);
    void DeleteService(IpvsServiceEntry s);
    void NewDestination(IpvsServiceEntry s, IpvsDestEntry d);
    void SetDestination(IpvsServiceEntry s, IpvsDestEntry d);
    void DeleteDestination(IpvsServiceEntry s, IpvsDestEntry d);
    void Flush();
    void Zero(IpvsServiceEntry? service);
    IpvsTimeouts GetTimeouts();
    void SetTimeouts(IpvsTimeouts t);
    IReadOnlyList<IpvsDaemonEntry> GetDaemons();
    void NewDaemon(IpvsDaemonEntry d);
    void DeleteDaemon(uint state);

    /// <summary>
    /// Applies many changes at once (pipelined where the transport allows); returns each change's
    /// error or null. The changes are applied in order.
    /// </summary>
    NetlinkException?[] Apply(IReadOnlyList<IpvsChange> changes);
}

public enum IpvsChangeKind { NewService, SetService, DeleteService, NewDest, SetDest, DeleteDest }

/// <summary>One change for <see cref="IIpvsKernel.Apply"/>.</summary>
public sealed record IpvsChange(IpvsChangeKind Kind, IpvsServiceEntry Service, IpvsDestEntry? Dest = null);
