using HaPowerShell.Native;
using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Core.Ipvs;

/// <summary>
/// The IPVS operations behind the cmdlets: validation before anything is sent, the kernel's
/// errnos turned into explained failures, and a read-back after writes where the kernel could
/// silently ignore an attribute it does not know.
/// </summary>
public sealed partial class IpvsAdmin
{
    private readonly IIpvsKernel _kernel;
    private readonly IKernelModuleCatalog _modules;

    /// <param name="modules">Which scheduler and persistence-engine modules this kernel has (default: the running kernel's).</param>
    public IpvsAdmin(IIpvsKernel kernel, IKernelModuleCatalog? modules = null)
    {
        _kernel = kernel;
        _modules = modules ?? KernelModuleCatalog.Instance;
    }

    public IIpvsKernel Kernel => _kernel;

    // ---- reading --------------------------------------------------------------------------

    /// <summary>Every service, in the order `ipvsadm -L -n` lists them.</summary>
    public List<IpvsService> GetServices() => IpvsSort.SortServices(_kernel.GetServices().Select(IpvsMapping.FromEntry));

    /// <summary>The live service with this identity, or a NotFound failure.</summary>
    public IpvsService GetService(IpvsService id)
    {
        var e = _kernel.GetService(IpvsMapping.ToIdentity(id));
        return e is null ? throw NotFound(id) : IpvsMapping.FromEntry(e);
    }

    public List<IpvsRealServer> GetRealServers(IpvsService service)
    {
        try
        {
            return IpvsSort.SortRealServers(service, _kernel.GetDestinations(IpvsMapping.ToIdentity(service)).Select(d => IpvsMapping.FromDestEntry(service, d)));
        }
        catch (NetlinkException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
        {
            throw NotFound(service, e);
        }
    }

    /// <summary>
    /// The real servers of many services, fetched with pipelined dumps. Services that vanished
    /// meanwhile are left out. Each server's Service is its (live) service object. With
    /// <paramref name="sorted"/> false the kernel's order is kept.
    /// </summary>
    public List<(IpvsService Service, List<IpvsRealServer> RealServers)> GetRealServers(IReadOnlyList<IpvsService> services, bool sorted = true)
    {
        var dests = _kernel.GetDestinations(services.Select(IpvsMapping.ToIdentity).ToList());
        var result = new List<(IpvsService, List<IpvsRealServer>)>(services.Count);
        for (int i = 0; i < services.Count; i++)
        {
            if (dests[i] is not { } list) continue;
            var servers = new List<IpvsRealServer>(list.Count);
            foreach (var d in list) servers.Add(IpvsMapping.FromDestEntry(services[i], d));
            result.Add((services[i], sorted ? IpvsSort.SortRealServers(services[i], servers) : servers));
        }
        return result;
    }

    /// <summary>
    /// Every service with its real servers (for Export and Sync). <paramref name="kernelOrder"/>
    /// keeps the order the kernel lists them in: ipvsadm sorts that order once, and because its
    /// comparison wraps around, sorting an already sorted list again can give another order.
    /// </summary>
    public List<IpvsService> Snapshot(bool kernelOrder = false)
    {
        var services = kernelOrder ? _kernel.GetServices().Select(IpvsMapping.FromEntry).ToList() : GetServices();
        var withServers = GetRealServers(services, sorted: !kernelOrder);
        foreach (var (s, servers) in withServers) s.RealServers = servers;
        return withServers.Select(x => x.Service).ToList();
    }

    public IpvsTimeout GetTimeout()
    {
        var t = _kernel.GetTimeouts();
        return new IpvsTimeout { Tcp = t.Tcp, TcpFin = t.TcpFin, Udp = t.Udp };
    }

    public List<IpvsSyncDaemon> GetSyncDaemons()
        => _kernel.GetDaemons().Where(d => d.State != 0).Select(d => new IpvsSyncDaemon
        {
            State = (d.State & 1) != 0 ? IpvsSyncDaemonState.Master : IpvsSyncDaemonState.Backup,
            InterfaceName = d.InterfaceName, SyncId = d.SyncId, MaxLength = d.MaxLength, Group = d.Group, Port = d.Port, Ttl = d.Ttl,
        }).ToList();

    // ---- services ---------------------------------------------------------------------------

    public IpvsService AddService(IpvsService s)
    {
        Validate(s);
        var entry = Entry(s);
        Translate(() => _kernel.NewService(entry), s, "add");
        return ReadBackService(s);
    }

    public IpvsService UpdateService(IpvsService s)
    {
        Validate(s);
        var entry = Entry(s);
        Translate(() => _kernel.SetService(entry), s, "edit");
        return ReadBackService(s);
    }

    public void RemoveService(IpvsService s)
        => Translate(() => _kernel.DeleteService(IpvsMapping.ToIdentity(s)), s, "delete");

    public void Clear() => _kernel.Flush();

    public void ResetStatistics(IpvsService? s)
        => Translate(() => _kernel.Zero(s is null ? null : IpvsMapping.ToIdentity(s)), s, "zero");

    // ---- real servers -------------------------------------------------------------------------

    public IpvsRealServer AddRealServer(IpvsService service, IpvsRealServer r)
    {
        ValidateRealServer(service, r);
        var dest = IpvsMapping.ToDestEntry(service, r);
        Translate(() => _kernel.NewDestination(IpvsMapping.ToIdentity(service), dest), service, "add real server", r);
        return ReadBackRealServer(service, r, dest);
    }

    public IpvsRealServer UpdateRealServer(IpvsService service, IpvsRealServer r)
    {
        ValidateRealServer(service, r);
        var dest = IpvsMapping.ToDestEntry(service, r);
        Translate(() => _kernel.SetDestination(IpvsMapping.ToIdentity(service), dest), service, "edit real server", r);
        return ReadBackRealServer(service, r, dest);
    }

    public void RemoveRealServer(IpvsService service, IpvsRealServer r)
    {
        var dest = IpvsMapping.ToDestEntry(service, r);
        Translate(() => _kernel.DeleteDestination(IpvsMapping.ToIdentity(service), dest), service, "delete real server", r);
    }

    // ---- timeouts and sync daemons ----------------------------------------------------------------

    public IpvsTimeout SetTimeout(IpvsTimeout t)
    {
        if (t.Tcp == 0 && t.TcpFin == 0 && t.Udp == 0)
            throw new IpvsOperationException("TimeoutMissing", IpvsFailureKind.InvalidArgument,
                "Give at least one of -Tcp, -TcpFin, -Udp (seconds; 0 leaves a value unchanged).", t);
        _kernel.SetTimeouts(new IpvsTimeouts(t.Tcp, t.TcpFin, t.Udp));
        return GetTimeout();
    }

    public IpvsSyncDaemon StartSyncDaemon(IpvsSyncDaemon d)
    {
        ValidateSyncDaemon(d);
        try
        {
            _kernel.NewDaemon(new IpvsDaemonEntry
            {
                State = (uint)d.State, InterfaceName = d.InterfaceName, SyncId = d.SyncId, MaxLength = d.MaxLength,
                Group = d.Group, Port = d.Port, Ttl = d.Ttl,
            });
        }
        catch (NetlinkException e) when (e.Errno == Errno.EEXIST)
        {
            throw new IpvsOperationException("SyncDaemonRunning", IpvsFailureKind.AlreadyExists,
                $"A {d.State.ToString().ToLowerInvariant()} sync daemon is already running; stop it first with Stop-IpvsSyncDaemon -State {d.State}.", d, e);
        }
        catch (NetlinkException e) when (e.Errno is Errno.ENODEV or Errno.ENXIO)
        {
            throw new IpvsOperationException("InterfaceNotFound", IpvsFailureKind.NotFound,
                $"Interface '{d.InterfaceName}' does not exist.", d, e);
        }
        catch (NetlinkException e) when (e.Errno is Errno.ENETUNREACH or Errno.ENETDOWN or Errno.EADDRNOTAVAIL)
        {
            // The kernel's sync thread binds and connects its socket through the interface: a down link (or one
            // without an address) leaves no route to the multicast group.
            throw new IpvsOperationException("InterfaceDown", IpvsFailureKind.Unavailable,
                $"The kernel cannot send or receive sync messages through '{d.InterfaceName}' ({Errno.Name(e.Errno)}): the interface is down or has no " +
                $"{(d.Group?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} address. Bring it up first ('ip link set {d.InterfaceName} up') and give it an address.", d, e);
        }
        return GetSyncDaemons().FirstOrDefault(x => x.State == d.State)
            ?? throw new IpvsOperationException("SyncDaemonNotStarted", IpvsFailureKind.KernelMismatch,
                $"The kernel accepted the {d.State} sync daemon but does not list it.", d);
    }

    /// <summary>Checks a sync daemon's settings completely before anything is sent (nothing changes on failure).</summary>
    public static void ValidateSyncDaemon(IpvsSyncDaemon d)
    {
        if (string.IsNullOrEmpty(d.InterfaceName) || d.InterfaceName.Length > 15)
            throw new IpvsOperationException("InvalidInterfaceName", IpvsFailureKind.InvalidArgument,
                $"'{d.InterfaceName}' is not a valid interface name (1-15 characters).", d);
        if (d.SyncId > 255)
            throw new IpvsOperationException("InvalidSyncId", IpvsFailureKind.InvalidArgument, $"SyncId {d.SyncId} is outside 0-255.", d);
        if (d.Group != null && !IsMulticast(d.Group))
            throw new IpvsOperationException("InvalidGroup", IpvsFailureKind.InvalidArgument, $"Group {d.Group} is not a multicast address.", d);
        CheckSyncMaxLength(d);
    }

    public void StopSyncDaemon(IpvsSyncDaemonState state)
    {
        try
        {
            _kernel.DeleteDaemon((uint)state);
        }
        catch (NetlinkException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
        {
            throw new IpvsOperationException("SyncDaemonNotRunning", IpvsFailureKind.NotFound,
                $"No {state.ToString().ToLowerInvariant()} sync daemon is running.", state, e);
        }
    }

    /// <summary>The largest sync message that fits in one UDP datagram: 65535 less the IPv4 (IPv6) and UDP headers.</summary>
    public const int SyncMaxLengthIPv4 = 65535 - 20 - 8, SyncMaxLengthIPv6 = 65535 - 40 - 8;

    /// <summary>The kernel raises a backup's receive length below this to it, without saying so.</summary>
    public const int SyncMinLengthBackup = 1024;

    /// <summary>The smallest UDP payload every IPv4 host must accept (576-byte datagrams); below it a master sends one connection per datagram.</summary>
    public const int SyncMinLengthMaster = 576 - 20 - 8;

    /// <summary>-MaxLength: 0 (the kernel's default, from the interface MTU) or a length the kernel uses as given
    /// (it silently clamps others: a backup to at least 1024, either to the UDP maximum).</summary>
    private static void CheckSyncMaxLength(IpvsSyncDaemon d)
    {
        if (d.MaxLength == 0) return;
        int max = d.Group?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? SyncMaxLengthIPv6 : SyncMaxLengthIPv4;
        int min = d.State == IpvsSyncDaemonState.Backup ? SyncMinLengthBackup : SyncMinLengthMaster;
        if (d.MaxLength < min || d.MaxLength > max)
            throw new IpvsOperationException("InvalidSyncMaxLength", IpvsFailureKind.InvalidArgument,
                $"-MaxLength {d.MaxLength} is outside {min}-{max} for a {d.State.ToString().ToLowerInvariant()} sync daemon" +
                (d.State == IpvsSyncDaemonState.Backup
                    ? " (the kernel raises a backup's receive length below 1024 to 1024 without saying so)"
                    : " (a master's messages must fit one UDP datagram, and below 548 bytes, the payload every IPv4 host accepts, it sends one connection per datagram)") +
                "; give 0 for the kernel's default (the interface MTU less the IP and UDP headers).", d);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static bool IsMulticast(System.Net.IPAddress a)
        => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? a.IsIPv6Multicast : (a.GetAddressBytes()[0] & 0xf0) == 0xe0;

    /// <summary>Validation that the kernel would do too late or not at all (nothing is sent on failure).</summary>
    public static void Validate(IpvsService s)
    {
        try { IpvsValidation.ValidateService(s); }
        catch (IpvsValidationException e) { throw new IpvsOperationException(e.ErrorId, IpvsFailureKind.InvalidArgument, e.Message, s, e); }
        Entry(s);
    }

    public static void ValidateRealServer(IpvsService service, IpvsRealServer r)
    {
        if (r.ForwardingMethod == IpvsForwardingMethod.FullNat)
            throw new IpvsOperationException("FullNatNotSupported", IpvsFailureKind.NotSupported,
                "FULLNAT forwarding is not part of mainline Linux IPVS: only out-of-tree kernels provide it (Alibaba's LVS " +
                "for Linux 2.6.32 and forks derived from it, or DPVS in user space). Use Masquerade (NAT) with SNAT rules, " +
                "DirectRouting or Tunnel on this kernel.", r);
        if (r.ForwardingMethod == IpvsForwardingMethod.Local)
            throw new IpvsOperationException("LocalNotSettable", IpvsFailureKind.InvalidArgument,
                "Local forwarding is chosen by the kernel for addresses of this host; use DirectRouting.", r);
        try { IpvsValidation.ValidateRealServer(service, r); }
        catch (IpvsValidationException e) { throw new IpvsOperationException(e.ErrorId, IpvsFailureKind.InvalidArgument, e.Message, r, e); }
    }

    private static IpvsServiceEntry Entry(IpvsService s)
    {
        try { return IpvsMapping.ToEntry(s); }
        catch (ArgumentException e) { throw new IpvsOperationException("InvalidServiceSetting", IpvsFailureKind.InvalidArgument, e.Message, s, e); }
    }

    private IpvsService ReadBackService(IpvsService wanted)
    {
        var got = GetService(wanted);
        var w = IpvsMapping.ToEntry(wanted);
        var g = IpvsMapping.ToEntry(got);
        var diffs = new List<string>();
        if (w.Scheduler != g.Scheduler) diffs.Add($"scheduler {g.Scheduler} instead of {w.Scheduler}");
        if (w.Flags != g.Flags) diffs.Add($"flags 0x{g.Flags:x} instead of 0x{w.Flags:x}");
        if (w.Timeout != g.Timeout && w.Flags != 0) diffs.Add($"persistence timeout {g.Timeout} instead of {w.Timeout}");
        if ((w.PersistenceEngine ?? "") != (g.PersistenceEngine ?? "")) diffs.Add($"persistence engine '{g.PersistenceEngine}' instead of '{w.PersistenceEngine}'");
        if (diffs.Count > 0)
            throw new IpvsOperationException("KernelIgnoredSetting", IpvsFailureKind.KernelMismatch,
                $"The kernel stored service {wanted} with {string.Join(", ", diffs)}: this kernel does not support that setting.", got);
        return got;
    }

    private IpvsRealServer ReadBackRealServer(IpvsService service, IpvsRealServer wanted, IpvsDestEntry sent)
    {
        var got = GetRealServers(service).FirstOrDefault(x => x.Address.Equals(sent.Address) && x.Port == sent.Port)
            ?? throw new IpvsOperationException("KernelIgnoredSetting", IpvsFailureKind.KernelMismatch,
                $"The kernel accepted real server {IpvsText.Endpoint(sent.Address, sent.Port)} but does not list it.", wanted);
        var diffs = new List<string>();
        if ((uint)got.ForwardingMethod != sent.ForwardMethod) diffs.Add($"forwarding {got.ForwardingMethod} instead of {(IpvsForwardingMethod)sent.ForwardMethod}");
        if (got.Weight != sent.Weight) diffs.Add($"weight {got.Weight} instead of {sent.Weight}");
        if (sent.TunnelType is { } t && t != 0 && (byte?)got.TunnelType != t)
            diffs.Add($"tunnel type {got.TunnelType} instead of {(IpvsTunnelType)t} (GUE/GRE need Linux 5.3 or later)");
        if (diffs.Count > 0)
            throw new IpvsOperationException("KernelIgnoredSetting", IpvsFailureKind.KernelMismatch,
                $"The kernel stored real server {got.Endpoint} of {service} with {string.Join(", ", diffs)}.", got);
        return got;
    }

    private static IpvsOperationException NotFound(IpvsService s, Exception? inner = null)
        => new("ServiceNotFound", IpvsFailureKind.NotFound,
            $"Service {s} does not exist; list services with Get-IpvsService or create it with New-IpvsService.", s, inner);

    /// <summary>Runs a kernel call and explains its errno in terms of the operation.</summary>
    private static void Translate(Action call, IpvsService? service, string what, IpvsRealServer? server = null)
    {
        try
        {
            call();
        }
        catch (NetlinkException e)
        {
            throw Explain(e, service, what, server) ?? (Exception)e;
        }
    }

    /// <summary>Maps an errno of an IPVS change to a failure users can act on; null when there is nothing to add.</summary>
    public static IpvsOperationException? Explain(NetlinkException e, IpvsService? service, string what, IpvsRealServer? server)
    {
        object? target = (object?)server ?? service;
        bool isServer = server != null;
        return e.Errno switch
        {
            Errno.EEXIST when isServer => new("RealServerExists", IpvsFailureKind.AlreadyExists,
                $"Real server {server!.Endpoint} already exists in service {service}; change it with Set-IpvsRealServer.", target, e),
            Errno.EEXIST => new("ServiceExists", IpvsFailureKind.AlreadyExists,
                $"Service {service} already exists; change it with Set-IpvsService.", target, e),
            Errno.ESRCH => new("ServiceNotFound", IpvsFailureKind.NotFound,
                $"Service {service} does not exist; list services with Get-IpvsService or create it with New-IpvsService.", target, e),
            Errno.ENOENT when isServer => new("RealServerNotFound", IpvsFailureKind.NotFound,
                $"Real server {server!.Endpoint} is not in service {service}; list them with Get-IpvsRealServer.", target, e),
            Errno.ENOENT => new("SchedulerNotFound", IpvsFailureKind.NotInstalled,
                $"Scheduler '{service?.Scheduler}'{(string.IsNullOrEmpty(service?.PersistenceEngine) ? "" : $" or persistence engine '{service!.PersistenceEngine}'")} " +
                $"is not available in this kernel (module ip_vs_{service?.Scheduler} missing?). Schedulers in mainline Linux: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos.", target, e),
            Errno.EINVAL => new("KernelRejected", IpvsFailureKind.InvalidArgument,
                $"The kernel rejected the {what} of {(isServer ? server!.Endpoint + " in " : "")}{service} as invalid{(e.KernelMessage is null ? "" : ": " + e.KernelMessage)}.", target, e),
            Errno.EAFNOSUPPORT => new("AddressFamilyNotSupported", IpvsFailureKind.NotSupported,
                $"This kernel's IPVS does not support that address family for {service} (IPv6 needs CONFIG_IP_VS_IPV6).", target, e),
            _ => null,
        };
    }
}
