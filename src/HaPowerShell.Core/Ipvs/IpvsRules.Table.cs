namespace HaPowerShell.Core.Ipvs;

public static partial class IpvsRules
{
    /// <summary>
    /// Replays the commands on an empty in-memory table and returns what the kernel would end with: the
    /// services (in the order they were added) with their RealServers. Timeouts set with --set are dropped;
    /// use the overload with an out parameter to get them.
    /// </summary>
    /// <exception cref="IpvsRuleParseException">A command the kernel would refuse: adding a service or real
    /// server that exists, editing or deleting one that does not, a lower threshold above the upper one.</exception>
    public static List<IpvsService> ToTable(IpvsRuleSet set) => ToTable(set, out _);

    /// <summary>As <see cref="ToTable(IpvsRuleSet)"/>; <paramref name="timeout"/> receives the combined --set values
    /// (a 0 leaves the earlier value, as the kernel does), or null when the rules set none.</summary>
    public static List<IpvsService> ToTable(IpvsRuleSet set, out IpvsTimeout? timeout)
    {
        ArgumentNullException.ThrowIfNull(set);
        var table = new TableBuilder();
        timeout = null;
        foreach (var c in set.Commands)
        {
            if (c is null) throw new ArgumentException("The rule set contains a null command.", nameof(set));
            switch (c.Kind)
            {
                case IpvsRuleCommandKind.Clear:
                    table.Clear();
                    break;
                case IpvsRuleCommandKind.SetTimeout:
                    if (c.Timeout is null) throw Broken(c, "--set without timeout values");
                    timeout ??= new IpvsTimeout();
                    if (c.Timeout.Tcp != 0) timeout.Tcp = c.Timeout.Tcp;
                    if (c.Timeout.TcpFin != 0) timeout.TcpFin = c.Timeout.TcpFin;
                    if (c.Timeout.Udp != 0) timeout.Udp = c.Timeout.Udp;
                    break;
                case IpvsRuleCommandKind.Zero:
                    // Counters are not modelled; zeroing one service still needs it to exist (ESRCH).
                    if (c.Service is not null) table.Find(c, c.Service);
                    break;
                case IpvsRuleCommandKind.AddService:
                    table.AddService(c, Need(c, c.Service));
                    break;
                case IpvsRuleCommandKind.EditService:
                    CopySettings(Need(c, c.Service), table.Find(c, c.Service!));
                    break;
                case IpvsRuleCommandKind.DeleteService:
                    table.DeleteService(c, Need(c, c.Service));
                    break;
                case IpvsRuleCommandKind.AddServer:
                    table.AddServer(c, Need(c, c.Service), Need(c, c.RealServer));
                    break;
                case IpvsRuleCommandKind.EditServer:
                    table.EditServer(c, Need(c, c.Service), Need(c, c.RealServer));
                    break;
                case IpvsRuleCommandKind.DeleteServer:
                    table.DeleteServer(c, Need(c, c.Service), Need(c, c.RealServer));
                    break;
                default:
                    throw Broken(c, $"unknown command kind {c.Kind}");
            }
        }
        return table.Result();
    }

    private static T Need<T>(IpvsRuleCommand c, T? value) where T : class
        => value ?? throw Broken(c, $"a {c.Kind} command without its {typeof(T).Name}");

    private static IpvsRuleParseException Broken(IpvsRuleCommand c, string problem) => new(c.LineNumber, problem, c.Text);

    /// <summary>-E replaces every setting (ipvsadm sends them all, with defaults for what the line omits).</summary>
    private static void CopySettings(IpvsService from, IpvsService to)
    {
        to.Scheduler = from.Scheduler;
        to.PersistenceTimeout = from.PersistenceTimeout;
        to.PersistenceNetmask = from.PersistenceNetmask;
        to.PersistenceEngine = from.PersistenceEngine;
        to.OnePacket = from.OnePacket;
        to.SchedulerFlag = (from.SchedulerFlag ?? Array.Empty<string>()).ToArray();
    }

    private static void CopySettings(IpvsRealServer from, IpvsRealServer to)
    {
        to.ForwardingMethod = from.ForwardingMethod;
        to.Weight = from.Weight;
        to.UpperThreshold = from.UpperThreshold;
        to.LowerThreshold = from.LowerThreshold;
        to.TunnelType = from.TunnelType;
        to.TunnelPort = from.TunnelPort;
        to.TunnelChecksum = from.TunnelChecksum;
    }

    /// <summary>The identity the kernel looks a service up by.</summary>
    internal readonly record struct ServiceKey(uint FirewallMark, int Family, int Protocol, System.Net.IPAddress? Address, ushort Port)
    {
        public static ServiceKey Of(IpvsService s) => s.IsFirewallMark
            ? new ServiceKey(s.FirewallMark, IpvsInet.LinuxFamily(s.AddressFamily), 0, null, 0)
            : new ServiceKey(0, IpvsSort.ServiceFamily(s), IpvsSort.ServiceProtocol(s), s.Address, s.Port);

        /// <summary>The key of a service as the kernel lists it (the same key <see cref="Of(IpvsService)"/> gives its mapping).</summary>
        public static ServiceKey Of(HaPowerShell.Native.Ipvs.IpvsServiceEntry e) => e.FirewallMark != 0
            ? new ServiceKey(e.FirewallMark, e.Family, 0, null, 0)
            : new ServiceKey(0, e.Family, e.Protocol, e.Address, e.Port);
    }

    /// <summary>The identity the kernel looks a real server up by within its service (family is in the address).</summary>
    internal readonly record struct RealServerKey(System.Net.IPAddress? Address, ushort Port)
    {
        public static RealServerKey Of(IpvsService? s, IpvsRealServer r) => new(r.Address, IpvsSort.EffectivePort(s, r));
    }

    private sealed class TableBuilder
    {
        private sealed class Entry
        {
            public required IpvsService Service;
            public required int Line;
            public required long Seq;
            public readonly Dictionary<RealServerKey, (IpvsRealServer Server, int Line, long Seq)> Servers = new();
        }

        // Dictionaries keep lookups O(1); Seq remembers insertion order (a Dictionary reuses freed slots).
        private readonly Dictionary<ServiceKey, Entry> _byKey = new();
        private long _seq;

        public void Clear() => _byKey.Clear();

        private Entry FindEntry(IpvsRuleCommand c, IpvsService s)
            => _byKey.TryGetValue(ServiceKey.Of(s), out var e)
                ? e
                : throw Broken(c, $"no such service {s} (the kernel answers ESRCH)");

        public IpvsService Find(IpvsRuleCommand c, IpvsService s) => FindEntry(c, s).Service;

        public void AddService(IpvsRuleCommand c, IpvsService s)
        {
            var key = ServiceKey.Of(s);
            if (_byKey.TryGetValue(key, out var existing))
                throw Broken(c, $"service {s} already exists (added on line {existing.Line}; the kernel answers EEXIST)");
            var copy = s.IdentityOnly();
            CopySettings(s, copy);
            _byKey[key] = new Entry { Service = copy, Line = c.LineNumber, Seq = _seq++ };
        }

        public void DeleteService(IpvsRuleCommand c, IpvsService s)
        {
            FindEntry(c, s);
            _byKey.Remove(ServiceKey.Of(s));
        }

        public void AddServer(IpvsRuleCommand c, IpvsService s, IpvsRealServer r)
        {
            var e = FindEntry(c, s);
            CheckThresholds(c, r);
            var key = RealServerKey.Of(e.Service, r);
            if (e.Servers.TryGetValue(key, out var existing))
                throw Broken(c, $"real server {IpvsInet.Endpoint(r.Address, key.Port, IpvsSort.IsV6(r))} of {e.Service} already exists (added on line {existing.Line}; the kernel answers EEXIST)");
            var copy = new IpvsRealServer
            {
                Service = e.Service, Address = r.Address, Port = key.Port,
            };
            CopySettings(r, copy);
            e.Servers[key] = (copy, c.LineNumber, _seq++);
        }

        public void EditServer(IpvsRuleCommand c, IpvsService s, IpvsRealServer r)
        {
            var e = FindEntry(c, s);
            CheckThresholds(c, r);
            var key = RealServerKey.Of(e.Service, r);
            if (!e.Servers.TryGetValue(key, out var existing))
                throw Broken(c, $"no such real server {IpvsInet.Endpoint(r.Address, key.Port, IpvsSort.IsV6(r))} in {e.Service} (the kernel answers ENOENT)");
            CopySettings(r, existing.Server);
        }

        public void DeleteServer(IpvsRuleCommand c, IpvsService s, IpvsRealServer r)
        {
            var e = FindEntry(c, s);
            var key = RealServerKey.Of(e.Service, r);
            if (!e.Servers.Remove(key))
                throw Broken(c, $"no such real server {IpvsInet.Endpoint(r.Address, key.Port, IpvsSort.IsV6(r))} in {e.Service} (the kernel answers ENOENT)");
        }

        /// <summary>ip_vs_add_dest / ip_vs_edit_dest: "lower threshold is higher than upper threshold" (ERANGE),
        /// checked even when the upper threshold is 0.</summary>
        private static void CheckThresholds(IpvsRuleCommand c, IpvsRealServer r)
        {
            if (r.LowerThreshold > r.UpperThreshold)
                throw Broken(c, $"lower threshold {r.LowerThreshold} is above upper threshold {r.UpperThreshold} (the kernel answers ERANGE, also when the upper threshold is 0)");
        }

        public List<IpvsService> Result()
        {
            var list = new List<IpvsService>(_byKey.Count);
            foreach (var e in _byKey.Values.OrderBy(e => e.Seq))
            {
                e.Service.RealServers = e.Servers.Values.OrderBy(v => v.Seq).Select(v => v.Server).ToList();
                list.Add(e.Service);
            }
            return list;
        }
    }
}
