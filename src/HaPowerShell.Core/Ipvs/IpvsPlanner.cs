using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace HaPowerShell.Core.Ipvs;

/// <summary>What one step of an <see cref="IpvsPlan"/> does.</summary>
public enum IpvsOperationKind
{
    AddService,
    UpdateService,
    RemoveService,
    AddRealServer,
    UpdateRealServer,
    RemoveRealServer,
}

/// <summary>One change to the kernel's IPVS table: the JSON face (the kind by name).</summary>
public abstract class IpvsOperationJson
{
    private protected readonly IpvsOperationKind kind;
    private string? _description;
    private readonly Func<string>? _describe;

    private protected IpvsOperationJson(IpvsOperationKind kind, IpvsService service, IpvsRealServer? realServer, string? description,
        Func<string>? describe, IpvsService? previousService, IpvsRealServer? previousRealServer)
    {
        this.kind = kind;
        Service = service;
        RealServer = realServer;
        _description = description;
        _describe = describe;
        PreviousService = previousService;
        PreviousRealServer = previousRealServer;
    }

    /// <summary>AddService, UpdateService, RemoveService, AddRealServer, UpdateRealServer or RemoveRealServer.</summary>
    public string Kind => kind.ToString();

    /// <summary>The service: the desired one for Add/Update operations, the current one for removals.</summary>
    public IpvsService Service { get; }

    /// <summary>For real-server operations: the desired real server (Add/Update) or the current one (Remove).</summary>
    public IpvsRealServer? RealServer { get; }

    /// <summary>A sentence for -WhatIf and logs, e.g. "Update service TCP 192.0.2.1:80: scheduler rr -> wlc".</summary>
    public string Description => _description ??= _describe!();

    /// <summary>UpdateService: the service as it is now (what undoing the update puts back).</summary>
    public IpvsService? PreviousService { get; }

    /// <summary>UpdateRealServer: the real server as it is now.</summary>
    public IpvsRealServer? PreviousRealServer { get; }

    public override string ToString() => Description;
}

/// <summary>One change to the kernel's IPVS table; the typed kind is the internal twin.</summary>
public sealed class IpvsOperation : IpvsOperationJson
{
    public IpvsOperation(IpvsOperationKind kind, IpvsService service, IpvsRealServer? realServer, string description,
        IpvsService? previousService = null, IpvsRealServer? previousRealServer = null)
        : base(kind, service, realServer, description, null, previousService, previousRealServer) { }

    /// <summary>An operation whose sentence is written only when something reads it (a start of 30,000 additions formats none).</summary>
    internal IpvsOperation(IpvsOperationKind kind, IpvsService service, IpvsRealServer? realServer, Func<string> describe)
        : base(kind, service, realServer, null, describe, null, null) { }

    internal new IpvsOperationKind Kind => kind;
}

/// <summary>The ordered operations that turn the current IPVS table into the desired one.</summary>
public sealed class IpvsPlan
{
    internal IpvsPlan(List<IpvsOperation> operations)
    {
        Operations = operations;
        foreach (var op in operations)
        {
            switch (op.Kind)
            {
                case IpvsOperationKind.AddService: case IpvsOperationKind.AddRealServer: Added++; break;
                case IpvsOperationKind.UpdateService: case IpvsOperationKind.UpdateRealServer: Updated++; break;
                default: Removed++; break;
            }
        }
    }

    /// <summary>In a safe order: remove real servers (of kept services), remove services, update services, add
    /// services, update real servers, add real servers.</summary>
    public IReadOnlyList<IpvsOperation> Operations { get; }

    /// <summary>AddService + AddRealServer operations.</summary>
    public int Added { get; }

    /// <summary>UpdateService + UpdateRealServer operations.</summary>
    public int Updated { get; }

    /// <summary>RemoveService + RemoveRealServer operations (a removed service's real servers go with it).</summary>
    public int Removed { get; }

    /// <summary>True when there is anything to do.</summary>
    public bool Changed => Operations.Count > 0;

    public override string ToString() => $"{Added} to add, {Updated} to update, {Removed} to remove";
}

/// <summary>
/// Computes the minimal changes from a current IPVS table to a desired one (both with RealServers), in O(n):
/// services are matched by identity (as <see cref="IpvsService.SameIdentity"/>), real servers by address and
/// port (port 0 on a non-firewall-mark service meaning the service's port).
/// </summary>
/// <remarks>
/// Compared for services: Scheduler (null/empty = wlc), PersistenceTimeout, PersistenceNetmask (only when
/// persistent; null = 255.255.255.255 / 128), PersistenceEngine (null = ""), OnePacket, SchedulerFlag (as kernel
/// bits, so "flag-1" on sh equals "sh-fallback"). For real servers: ForwardingMethod (Local, which the kernel
/// reports for local addresses, equals DirectRouting), Weight, UpperThreshold, LowerThreshold and, for Tunnel
/// only, TunnelType (null = IpIp), TunnelPort (Gue only) and TunnelChecksum (Gue/Gre only). Statistics and
/// connection counters are ignored.
/// </remarks>
public sealed class IpvsPlanner
{
    private IpvsPlanner() { }

    /// <exception cref="ArgumentNullException">desired or current is null.</exception>
    /// <exception cref="ArgumentException">A null entry, or the same service (or real server of a service)
    /// more than once in desired or in current; the message names them.</exception>
    public static IpvsPlan Plan(IReadOnlyList<IpvsService> desired, IReadOnlyList<IpvsService> current)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(current);
        var desiredByKey = Index(desired, nameof(desired));
        var currentByKey = Index(current, nameof(current));
        var ops = new Operations();
        foreach (var cur in current)
            if (!desiredByKey.ContainsKey(IpvsRules.ServiceKey.Of(cur)))
                ops.RemoveService(cur);
        foreach (var want in desired)
            ops.Compare(want, currentByKey.GetValueOrDefault(IpvsRules.ServiceKey.Of(want)));
        return ops.ToPlan();
    }

    /// <summary>
    /// <see cref="Plan"/> for two lists already known to hold each service once (a keepalived configuration's plan,
    /// checked when it was made), with the same operations in the same order. A service at the same position in both
    /// lists with the same identity (a reload's usual case: the file's order kept) is compared with its twin directly,
    /// and not at all when the lists' images (<see cref="IpvsTableImage"/>, made of these lists) write both alike;
    /// only the others are indexed, so a reload that changes a few of 10,000 services builds no index of them all.
    /// With images, each list must also hold each real server of a service once (a keepalived plan's do: the parser
    /// drops a repeated real_server): services written alike are not looked into.
    /// </summary>
    /// <exception cref="ArgumentException">An image not of its list's length, a null entry, a service twice.</exception>
    internal static IpvsPlan PlanDistinct(IReadOnlyList<IpvsService> desired, IReadOnlyList<IpvsService> current,
        IpvsTableImage? desiredImage = null, IpvsTableImage? currentImage = null)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(current);
        if (desiredImage is not null && desiredImage.Count != desired.Count) throw new ArgumentException("The image is not of the desired list.", nameof(desiredImage));
        if (currentImage is not null && currentImage.Count != current.Count) throw new ArgumentException("The image is not of the current list.", nameof(currentImage));
        bool images = desiredImage is not null && currentImage is not null;
        int paired = Math.Min(desired.Count, current.Count), longest = Math.Max(desired.Count, current.Count);
        // Per position: Alike (nothing to do), Twins (same identity, compared) or Lone (matched by identity below).
        var pairing = new Pairing[longest];
        // The services not paired by position, by identity (a shifted list leaves every later one here).
        var loneCurrent = new Dictionary<IpvsRules.ServiceKey, IpvsService>();
        var loneCurrentInOrder = new List<IpvsService>();
        var loneDesired = new HashSet<IpvsRules.ServiceKey>();
        for (int i = 0; i < longest; i++)
        {
            if (i < paired)
            {
                if (images && IpvsTableImage.Same(desiredImage!, i, currentImage!, i)) { pairing[i] = Pairing.Alike; continue; }
                if (SameIdentity(desired[i], current[i])) { pairing[i] = Pairing.Twins; continue; }
            }
            pairing[i] = Pairing.Lone;
            if (i < current.Count)
            {
                loneCurrent.Add(IpvsRules.ServiceKey.Of(Entry(current[i], nameof(current))), current[i]);
                loneCurrentInOrder.Add(current[i]);
            }
            if (i < desired.Count) loneDesired.Add(IpvsRules.ServiceKey.Of(Entry(desired[i], nameof(desired))));
        }
        var ops = new Operations();
        foreach (var cur in loneCurrentInOrder) // in the current list's order, as Plan removes
            if (!loneDesired.Contains(IpvsRules.ServiceKey.Of(cur)))
                ops.RemoveService(cur);
        for (int i = 0; i < desired.Count; i++)
        {
            switch (pairing[i])
            {
                case Pairing.Alike: break;
                case Pairing.Twins: ops.Compare(desired[i], current[i]); break;
                default: ops.Compare(desired[i], loneCurrent.GetValueOrDefault(IpvsRules.ServiceKey.Of(desired[i]))); break;
            }
        }
        return ops.ToPlan();
    }

    private enum Pairing : byte { Lone, Twins, Alike }

    private static IpvsService Entry(IpvsService? s, string param)
        => s ?? throw new ArgumentException($"The {param} list contains a null service.", param);

    private static bool SameIdentity(IpvsService? a, IpvsService? b)
        => a is not null && b is not null && IpvsRules.ServiceKey.Of(a) == IpvsRules.ServiceKey.Of(b);

    /// <summary>The operations of a plan by group, put together in <see cref="IpvsPlan.Operations"/>'s order.</summary>
    private sealed class Operations
    {
        private readonly List<IpvsOperation> _removeReal = new(), _removeSvc = new(), _updateSvc = new(), _addSvc = new(), _updateReal = new(), _addReal = new();

        public void RemoveService(IpvsService cur)
            => _removeSvc.Add(new IpvsOperation(IpvsOperationKind.RemoveService, cur, null, $"Remove service {cur}" + RealServerCount(cur)));

        /// <summary>The operations that make <paramref name="have"/> (null: absent) into <paramref name="want"/>.</summary>
        public void Compare(IpvsService want, IpvsService? have)
        {
            if (have is null)
            {
                _addSvc.Add(new IpvsOperation(IpvsOperationKind.AddService, want, null, $"Add service {want} ({Settings(want)})"));
                foreach (var r in RealServersIndexed(want, "desired").Values)
                    _addReal.Add(new IpvsOperation(IpvsOperationKind.AddRealServer, want, r, $"Add real server {Endpoint(want, r)} to {want} ({Settings(r)})"));
                return;
            }
            if (Differences(want, have) is { } diff)
                _updateSvc.Add(new IpvsOperation(IpvsOperationKind.UpdateService, want, null, $"Update service {want}: {string.Join(", ", diff)}", previousService: have));

            bool wantSmall = IsSmallAndDistinct(want);
            if (wantSmall && SameEndpointsInOrder(want, have))
            {
                // The same real servers in the same order (a reload's usual case): each compared with its twin.
                var wl = want.RealServers ?? EmptyList;
                var hl = have.RealServers ?? EmptyList;
                for (int j = 0; j < wl.Count; j++)
                    PlanRealServer(want, wl[j], hl[j], _addReal, _updateReal);
                return;
            }
            if (wantSmall && IsSmallAndDistinct(have))
            {
                // A few real servers each (keepalived's usual case): matched by scanning the lists, in the order the
                // indexes below would give, without building two dictionaries per service.
                foreach (var r in have.RealServers ?? EmptyList)
                    if (Find(want, IpvsRules.RealServerKey.Of(have, r)) is null)
                        _removeReal.Add(RemoveRealServer(have, r));
                foreach (var r in want.RealServers ?? EmptyList)
                    PlanRealServer(want, r, Find(have, IpvsRules.RealServerKey.Of(want, r)), _addReal, _updateReal);
                return;
            }
            var wantReal = RealServersIndexed(want, "desired");
            var haveReal = RealServersIndexed(have, "current");
            foreach (var (key, r) in haveReal)
            {
                if (!wantReal.ContainsKey(key))
                    _removeReal.Add(RemoveRealServer(have, r));
            }
            foreach (var (key, r) in wantReal)
                PlanRealServer(want, r, haveReal.GetValueOrDefault(key), _addReal, _updateReal);
        }

        public IpvsPlan ToPlan()
        {
            var ops = new List<IpvsOperation>(_removeReal.Count + _removeSvc.Count + _updateSvc.Count + _addSvc.Count + _updateReal.Count + _addReal.Count);
            ops.AddRange(_removeReal);
            ops.AddRange(_removeSvc);
            ops.AddRange(_updateSvc);
            ops.AddRange(_addSvc);
            ops.AddRange(_updateReal);
            ops.AddRange(_addReal);
            return new IpvsPlan(ops);
        }
    }

    private static readonly List<IpvsRealServer> EmptyList = new();

    /// <summary>The longest real-server list <see cref="Plan"/> matches by scanning instead of indexing.</summary>
    private const int SmallList = 8;

    private static IpvsOperation RemoveRealServer(IpvsService have, IpvsRealServer r)
        => new(IpvsOperationKind.RemoveRealServer, have, r, $"Remove real server {Endpoint(have, r)} from {have}");

    /// <summary>The addition of <paramref name="r"/>, or its update when <paramref name="hr"/> (the current one) differs.</summary>
    private static void PlanRealServer(IpvsService want, IpvsRealServer r, IpvsRealServer? hr, List<IpvsOperation> addReal, List<IpvsOperation> updateReal)
    {
        if (hr is null)
            addReal.Add(new IpvsOperation(IpvsOperationKind.AddRealServer, want, r, $"Add real server {Endpoint(want, r)} to {want} ({Settings(r)})"));
        else if (Differences(r, hr) is { } rdiff)
            updateReal.Add(new IpvsOperation(IpvsOperationKind.UpdateRealServer, want, r, $"Update real server {Endpoint(want, r)} of {want}: {string.Join(", ", rdiff)}", previousRealServer: hr));
    }

    /// <summary>
    /// At most <see cref="SmallList"/> real servers, none null and no endpoint twice (a list that is not goes through
    /// <see cref="RealServersIndexed"/>, which names what is wrong).
    /// </summary>
    private static bool IsSmallAndDistinct(IpvsService s)
    {
        if (s.RealServers is not { } list) return true;
        if (list.Count > SmallList) return false;
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is null) return false;
            var key = IpvsRules.RealServerKey.Of(s, list[i]);
            for (int j = 0; j < i; j++)
                if (IpvsRules.RealServerKey.Of(s, list[j]) == key) return false;
        }
        return true;
    }

    /// <summary>Both lists name the same endpoints at the same positions (<paramref name="have"/>'s entries not null).</summary>
    private static bool SameEndpointsInOrder(IpvsService want, IpvsService have)
    {
        var wl = want.RealServers ?? EmptyList;
        var hl = have.RealServers ?? EmptyList;
        if (wl.Count != hl.Count) return false;
        for (int j = 0; j < wl.Count; j++)
            if (hl[j] is null || IpvsRules.RealServerKey.Of(want, wl[j]) != IpvsRules.RealServerKey.Of(have, hl[j])) return false;
        return true;
    }

    private static IpvsRealServer? Find(IpvsService s, IpvsRules.RealServerKey key)
    {
        foreach (var r in s.RealServers ?? EmptyList)
            if (IpvsRules.RealServerKey.Of(s, r) == key) return r;
        return null;
    }

    private static Dictionary<IpvsRules.ServiceKey, IpvsService> Index(IReadOnlyList<IpvsService> list, string param)
    {
        var map = new Dictionary<IpvsRules.ServiceKey, IpvsService>(list.Count);
        Dictionary<IpvsRules.ServiceKey, int>? dups = null;
        foreach (var s in list)
        {
            var key = IpvsRules.ServiceKey.Of(Entry(s, param));
            if (!map.TryAdd(key, s))
            {
                dups ??= new();
                dups[key] = dups.GetValueOrDefault(key, 1) + 1;
            }
        }
        if (dups is not null)
            throw new ArgumentException($"The {param} configuration lists the same service more than once: " +
                string.Join("; ", dups.Select(d => $"{map[d.Key]} ({d.Value} times)")) + ". Each service may appear once; merge their settings and real servers.", param);
        return map;
    }

    /// <summary>Real servers by (address, effective port), in list order; duplicates are an error.</summary>
    private static Dictionary<IpvsRules.RealServerKey, IpvsRealServer> RealServersIndexed(IpvsService s, string param)
    {
        var map = new Dictionary<IpvsRules.RealServerKey, IpvsRealServer>(s.RealServers?.Count ?? 0);
        if (s.RealServers is null) return map;
        Dictionary<IpvsRules.RealServerKey, int>? dups = null;
        foreach (var r in s.RealServers)
        {
            if (r is null) throw new ArgumentException($"Service {s} in {param} has a null real server.", param);
            var key = IpvsRules.RealServerKey.Of(s, r);
            if (!map.TryAdd(key, r))
            {
                dups ??= new();
                dups[key] = dups.GetValueOrDefault(key, 1) + 1;
            }
        }
        if (dups is not null)
            throw new ArgumentException($"Service {s} in the {param} configuration lists the same real server more than once: " +
                string.Join("; ", dups.Select(d => $"{Endpoint(s, map[d.Key])} ({d.Value} times)")) + ".", param);
        return map;
    }

    /// <summary>How the settings of <paramref name="have"/> differ from <paramref name="want"/> (same identity), one text each; empty when equal.</summary>
    public static List<string> ServiceDifferences(IpvsService want, IpvsService have) => Differences(want, have) ?? new List<string>();

    /// <summary><see cref="ServiceDifferences"/>, null when equal (a plan compares every service; most are).</summary>
    private static List<string>? Differences(IpvsService want, IpvsService have)
    {
        List<string>? d = null;
        string ws = Sched(want), hs = Sched(have);
        if (!string.Equals(ws, hs, StringComparison.Ordinal)) Note(ref d, $"scheduler {hs} -> {ws}");
        if (want.PersistenceTimeout != have.PersistenceTimeout) Note(ref d, $"persistence timeout {have.PersistenceTimeout} -> {want.PersistenceTimeout}");
        if (want.IsPersistent && have.IsPersistent && !SameNetmask(want, have))
            Note(ref d, $"persistence netmask {have.PersistenceNetmask ?? "(default)"} -> {want.PersistenceNetmask ?? "(default)"}");
        if (!string.Equals(want.PersistenceEngine ?? "", have.PersistenceEngine ?? "", StringComparison.Ordinal))
            Note(ref d, $"persistence engine {Or(have.PersistenceEngine)} -> {Or(want.PersistenceEngine)}");
        if (want.OnePacket != have.OnePacket) Note(ref d, $"one-packet {have.OnePacket} -> {want.OnePacket}");
        if (want.SchedulerFlag is { Length: > 0 } || have.SchedulerFlag is { Length: > 0 }) // both without: equal
        {
            uint wb = IpvsSchedulerFlags.Bits(want.SchedulerFlag, out var wu), hb = IpvsSchedulerFlags.Bits(have.SchedulerFlag, out var hu);
            if (wb != hb || !wu.SequenceEqual(hu))
                Note(ref d, $"scheduler flags [{string.Join(",", have.SchedulerFlag ?? Array.Empty<string>())}] -> [{string.Join(",", want.SchedulerFlag ?? Array.Empty<string>())}]");
        }
        return d;
    }

    private static void Note(ref List<string>? d, string difference) => (d ??= new List<string>()).Add(difference);

    private static bool SameNetmask(IpvsService want, IpvsService have)
    {
        bool v6 = want.AddressFamily == AddressFamily.InterNetworkV6;
        bool wok = IpvsInet.TryNetmaskValue(v6, want.PersistenceNetmask, out uint wm);
        bool hok = IpvsInet.TryNetmaskValue(v6, have.PersistenceNetmask, out uint hm);
        return wok && hok ? wm == hm : string.Equals(want.PersistenceNetmask, have.PersistenceNetmask, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>How the settings of <paramref name="have"/> differ from <paramref name="want"/> (same endpoint), one text each; empty when equal.</summary>
    public static List<string> RealServerDifferences(IpvsRealServer want, IpvsRealServer have) => Differences(want, have) ?? new List<string>();

    /// <summary><see cref="RealServerDifferences"/>, null when equal.</summary>
    private static List<string>? Differences(IpvsRealServer want, IpvsRealServer have)
    {
        List<string>? d = null;
        if (Fwd(want.ForwardingMethod) != Fwd(have.ForwardingMethod)) Note(ref d, $"forwarding {have.ForwardingMethod} -> {want.ForwardingMethod}");
        if (want.Weight != have.Weight) Note(ref d, $"weight {have.Weight} -> {want.Weight}");
        if (want.UpperThreshold != have.UpperThreshold) Note(ref d, $"upper threshold {have.UpperThreshold} -> {want.UpperThreshold}");
        if (want.LowerThreshold != have.LowerThreshold) Note(ref d, $"lower threshold {have.LowerThreshold} -> {want.LowerThreshold}");
        if (want.ForwardingMethod == IpvsForwardingMethod.Tunnel && have.ForwardingMethod == IpvsForwardingMethod.Tunnel)
        {
            var wt = want.TunnelType ?? IpvsTunnelType.IpIp;
            var ht = have.TunnelType ?? IpvsTunnelType.IpIp;
            if (wt != ht) Note(ref d, $"tunnel type {ht} -> {wt}");
            if (wt == IpvsTunnelType.Gue && want.TunnelPort != have.TunnelPort) Note(ref d, $"tunnel port {have.TunnelPort} -> {want.TunnelPort}");
            if (wt is IpvsTunnelType.Gue or IpvsTunnelType.Gre && want.TunnelChecksum != have.TunnelChecksum)
                Note(ref d, $"tunnel checksum {have.TunnelChecksum} -> {want.TunnelChecksum}");
        }
        return d;
    }

    private static IpvsForwardingMethod Fwd(IpvsForwardingMethod m) => m == IpvsForwardingMethod.Local ? IpvsForwardingMethod.DirectRouting : m;

    private static string Sched(IpvsService s) => string.IsNullOrEmpty(s.Scheduler) ? IpvsService.DefaultScheduler : s.Scheduler;

    private static string Or(string? s) => string.IsNullOrEmpty(s) ? "(none)" : s;

    private static string Endpoint(IpvsService s, IpvsRealServer r)
        => IpvsInet.Endpoint(r.Address, IpvsSort.EffectivePort(s, r), IpvsSort.IsV6(r));

    private static string RealServerCount(IpvsService s)
        => s.RealServers is { Count: > 0 } rs ? $" and its {rs.Count} real server(s)" : "";

    private static string Settings(IpvsService s)
    {
        var sb = new StringBuilder("scheduler ").Append(Sched(s));
        if (s.IsPersistent) sb.Append(", persistent ").Append(s.PersistenceTimeout.ToString(CultureInfo.InvariantCulture)).Append('s');
        if (!string.IsNullOrEmpty(s.PersistenceNetmask) && s.IsPersistent) sb.Append(", netmask ").Append(s.PersistenceNetmask);
        if (!string.IsNullOrEmpty(s.PersistenceEngine)) sb.Append(", pe ").Append(s.PersistenceEngine);
        if (s.OnePacket) sb.Append(", one-packet");
        if (s.SchedulerFlag is { Length: > 0 }) sb.Append(", flags ").Append(string.Join(",", s.SchedulerFlag));
        return sb.ToString();
    }

    private static string Settings(IpvsRealServer r)
    {
        var sb = new StringBuilder().Append(r.ForwardingMethod).Append(", weight ").Append(r.Weight.ToString(CultureInfo.InvariantCulture));
        if (r.UpperThreshold != 0 || r.LowerThreshold != 0) sb.Append($", thresholds {r.LowerThreshold}-{r.UpperThreshold}");
        if (r.ForwardingMethod == IpvsForwardingMethod.Tunnel)
        {
            var t = r.TunnelType ?? IpvsTunnelType.IpIp;
            sb.Append(", ").Append(t);
            if (t == IpvsTunnelType.Gue) sb.Append(" port ").Append(r.TunnelPort.ToString(CultureInfo.InvariantCulture));
            if (t != IpvsTunnelType.IpIp) sb.Append(' ').Append(r.TunnelChecksum);
        }
        return sb.ToString();
    }
}
