using System.Net;
using HaPowerShell.Native;
using HaPowerShell.Native.Ipvs;
using HaPowerShell.Native.Netlink;

namespace HaPowerShell.Tests;

/// <summary>
/// The kernel's IPVS table in memory, with the kernel's answers for the whole-table logic: EEXIST for a
/// second add, ESRCH for a missing service, ENOENT for a missing real server or an unknown scheduler.
/// <see cref="Refuse"/> makes it refuse a chosen change (a forced mid-plan refusal). Deleted real servers go to a
/// trash list that additions search, as IPVS's (<see cref="TrashSteps"/>), and <see cref="Bucket"/> gives the
/// services the kernel's hash order.
/// </summary>
public sealed class FakeIpvsKernel : IIpvsKernel
{
    private sealed class Svc
    {
        public IpvsServiceEntry Entry = null!;
        public long Added;
        public readonly List<IpvsDestEntry> Dests = new();
    }

    /// <summary>A deleted real server in the trash list, as IPVS keeps it (ip_vs_trash_get_dest matches on these).</summary>
    private sealed record Trashed((ushort, uint, ushort, IPAddress?, ushort) Service, IPAddress Address, ushort Port);

    private readonly LinkedList<Trashed> _trash = new();
    private long _added;

    /// <summary>
    /// The kernel's service order: the address services, then the firewall-mark ones, each listed (and flushed) by this
    /// bucket, ascending, newest first within a bucket (IPVS's two hash tables with their chains); null lists them in the
    /// order they were added.
    /// </summary>
    public Func<IpvsServiceEntry, int>? Bucket { get; set; }

    /// <summary>Trash entries passed over by real-server additions before their own (or all of them: a miss).</summary>
    public long TrashSteps { get; set; }

    /// <summary>Real-server additions that took their real server back from the trash list.</summary>
    public int TrashHits { get; set; }

    public int TrashCount => _trash.Count;

    // The address services' table first, then the firewall marks' (ip_vs_flush and the dump walk them in that order).
    private IEnumerable<Svc> KernelOrder() => Bucket is null ? _services
        : _services.OrderBy(s => s.Entry.FirewallMark != 0).ThenBy(s => Bucket(s.Entry)).ThenByDescending(s => s.Added);

    // A service's real servers are listed newest first in the kernel, and each deleted one goes to the list's head.
    private void ToTrash(Svc svc)
    {
        for (int i = svc.Dests.Count - 1; i >= 0; i--) ToTrash(svc, svc.Dests[i]);
    }

    private void ToTrash(Svc svc, IpvsDestEntry d) => _trash.AddFirst(new Trashed(Key(svc.Entry), d.Address, d.Port));

    private void FromTrash(Svc svc, IpvsDestEntry d)
    {
        var key = Key(svc.Entry);
        for (var n = _trash.First; n is not null; n = n.Next)
        {
            if (n.Value.Service.Equals(key) && n.Value.Address.Equals(d.Address) && n.Value.Port == d.Port)
            {
                _trash.Remove(n);
                TrashHits++;
                return;
            }
            TrashSteps++;
        }
    }

    private readonly List<Svc> _services = new();
    private readonly Dictionary<(ushort, uint, ushort, IPAddress?, ushort), Svc> _byKey = new();
    private IpvsTimeouts _timeouts = new(900, 120, 300);

    public HashSet<string> Schedulers { get; } = new() { "rr", "wrr", "lc", "wlc", "sh", "dh", "mh" };

    /// <summary>An errno for a change the kernel should refuse; null lets it through.</summary>
    public Func<IpvsChange, int?>? Refuse { get; set; }

    public Func<IpvsTimeouts, int?>? RefuseTimeouts { get; set; }

    public int ApplyCalls { get; private set; }
    public int ChangesSeen { get; private set; }

    private static (ushort, uint, ushort, IPAddress?, ushort) Key(IpvsServiceEntry s)
        => s.FirewallMark != 0 ? (s.Family, s.FirewallMark, (ushort)0, null, (ushort)0) : (s.Family, 0u, s.Protocol, s.Address, s.Port);

    private Svc? Find(IpvsServiceEntry id) => _byKey.GetValueOrDefault(Key(id));

    private static bool SameDest(IpvsDestEntry a, IpvsDestEntry b) => a.Address.Equals(b.Address) && a.Port == b.Port;

    /// <summary>The table as text, for before/after comparisons.</summary>
    public string Dump() => string.Join("\n", _services.OrderBy(s => $"{s.Entry.Family}/{s.Entry.Protocol}/{s.Entry.Address}:{s.Entry.Port}/{s.Entry.FirewallMark}", StringComparer.Ordinal).Select(s =>
        $"{s.Entry.Family}/{s.Entry.Protocol}/{s.Entry.Address}:{s.Entry.Port}/fwm{s.Entry.FirewallMark} {s.Entry.Scheduler} f{s.Entry.Flags} t{s.Entry.Timeout} m{s.Entry.Netmask} pe{s.Entry.PersistenceEngine}" +
        string.Concat(s.Dests.OrderBy(d => $"{d.Address}:{d.Port}", StringComparer.Ordinal).Select(d => $"\n  -> {d.Address}:{d.Port} fwd{d.ForwardMethod} w{d.Weight} x{d.UpperThreshold} y{d.LowerThreshold}"))))
        + $"\ntimeouts {_timeouts}";

    private int Do(IpvsChange c)
    {
        if (Refuse?.Invoke(c) is { } refused) return refused;
        var svc = Find(c.Service);
        switch (c.Kind)
        {
            case IpvsChangeKind.NewService:
                if (svc is not null) return Errno.EEXIST;
                if (!Schedulers.Contains(c.Service.Scheduler)) return Errno.ENOENT;
                var added = new Svc { Entry = c.Service, Added = _added++ };
                _services.Add(added);
                _byKey[Key(c.Service)] = added;
                return 0;
            case IpvsChangeKind.SetService:
                if (svc is null) return Errno.ESRCH;
                if (!Schedulers.Contains(c.Service.Scheduler)) return Errno.ENOENT;
                svc.Entry = c.Service;
                return 0;
            case IpvsChangeKind.DeleteService:
                if (svc is null) return Errno.ESRCH;
                ToTrash(svc);
                _services.Remove(svc);
                _byKey.Remove(Key(svc.Entry));
                return 0;
            case IpvsChangeKind.NewDest:
                if (svc is null) return Errno.ESRCH;
                if (svc.Dests.Any(d => SameDest(d, c.Dest!))) return Errno.EEXIST;
                FromTrash(svc, c.Dest!);
                svc.Dests.Add(c.Dest!);
                return 0;
            case IpvsChangeKind.SetDest:
            {
                if (svc is null) return Errno.ESRCH;
                int i = svc.Dests.FindIndex(d => SameDest(d, c.Dest!));
                if (i < 0) return Errno.ENOENT;
                svc.Dests[i] = c.Dest!;
                return 0;
            }
            case IpvsChangeKind.DeleteDest:
            {
                if (svc is null) return Errno.ESRCH;
                int i = svc.Dests.FindIndex(d => SameDest(d, c.Dest!));
                if (i < 0) return Errno.ENOENT;
                ToTrash(svc, svc.Dests[i]);
                svc.Dests.RemoveAt(i);
                return 0;
            }
        }
        return Errno.EINVAL;
    }

    private void Run(IpvsChange c)
    {
        int e = Do(c);
        if (e != 0) throw new NetlinkException("fake IPVS", e);
    }

    public NetlinkException?[] Apply(IReadOnlyList<IpvsChange> changes)
    {
        ApplyCalls++;
        ChangesSeen += changes.Count;
        // Pipelined, as the real socket: a refused change does not stop the ones after it.
        return changes.Select(c => Do(c) is var e && e != 0 ? new NetlinkException("fake IPVS", e) : null).ToArray();
    }

    public IpvsKernelInfo GetInfo() => throw new NotSupportedException();
    public IReadOnlyList<IpvsServiceEntry> GetServices() => KernelOrder().Select(s => s.Entry).ToList();
    public IpvsServiceEntry? GetService(IpvsServiceEntry id) => Find(id)?.Entry;
    public IReadOnlyList<IpvsDestEntry> GetDestinations(IpvsServiceEntry service) => Find(service)?.Dests.ToList() ?? throw new NetlinkException("fake IPVS", Errno.ESRCH);
    public IReadOnlyList<IpvsDestEntry>?[] GetDestinations(IReadOnlyList<IpvsServiceEntry> services) => services.Select(s => (IReadOnlyList<IpvsDestEntry>?)Find(s)?.Dests.ToList()).ToArray();
    public void NewService(IpvsServiceEntry s) => Run(new IpvsChange(IpvsChangeKind.NewService, s));
    public void SetService(IpvsServiceEntry s) => Run(new IpvsChange(IpvsChangeKind.SetService, s));
    public void DeleteService(IpvsServiceEntry s) => Run(new IpvsChange(IpvsChangeKind.DeleteService, s));
    public void NewDestination(IpvsServiceEntry s, IpvsDestEntry d) => Run(new IpvsChange(IpvsChangeKind.NewDest, s, d));
    public void SetDestination(IpvsServiceEntry s, IpvsDestEntry d) => Run(new IpvsChange(IpvsChangeKind.SetDest, s, d));
    public void DeleteDestination(IpvsServiceEntry s, IpvsDestEntry d) => Run(new IpvsChange(IpvsChangeKind.DeleteDest, s, d));
    public void Flush()
    {
        foreach (var svc in KernelOrder()) ToTrash(svc);
        _services.Clear();
        _byKey.Clear();
    }
    public void Zero(IpvsServiceEntry? service) { if (service is not null && Find(service) is null) throw new NetlinkException("fake IPVS", Errno.ESRCH); }
    public IpvsTimeouts GetTimeouts() => _timeouts;
    public void SetTimeouts(IpvsTimeouts t)
    {
        if (RefuseTimeouts?.Invoke(t) is { } e) throw new NetlinkException("fake IPVS", e);
        _timeouts = new IpvsTimeouts(t.Tcp == 0 ? _timeouts.Tcp : t.Tcp, t.TcpFin == 0 ? _timeouts.TcpFin : t.TcpFin, t.Udp == 0 ? _timeouts.Udp : t.Udp);
    }
    public IReadOnlyList<IpvsDaemonEntry> GetDaemons() => Array.Empty<IpvsDaemonEntry>();
    public void NewDaemon(IpvsDaemonEntry d) => throw new NotSupportedException();
    public void DeleteDaemon(uint state) => throw new NotSupportedException();
}

/// <summary>A kernel whose module index holds exactly the given modules.</summary>
public sealed class FakeModules : IKernelModuleCatalog
{
    private readonly HashSet<string>? _modules;
    public FakeModules(params string[]? modules) => _modules = modules is null ? null : new HashSet<string>(modules);
    public bool? IsAvailable(string module) => _modules?.Contains(module);
    public IReadOnlyList<string> Available(string prefix) => (_modules ?? new()).Where(m => m.StartsWith(prefix)).OrderBy(m => m).ToList();

    public static FakeModules Mainline { get; } = new("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_sh", "ip_vs_dh", "ip_vs_mh", "ip_vs_ftp", "ip_vs_pe_sip");
}
