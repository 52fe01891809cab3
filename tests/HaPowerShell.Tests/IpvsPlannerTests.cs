using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

public class IpvsPlannerTests
{
    private static IpvsService Tcp(string address, ushort port = 80, params IpvsRealServer[] reals) => new()
    {
        Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse(address), Port = port, AddressFamily = IPAddress.Parse(address).AddressFamily,
        RealServers = reals.ToList(),
    };

    private static IpvsRealServer Real(string address, ushort port = 80, int weight = 1) => new() { Address = IPAddress.Parse(address), Port = port, Weight = weight };

    /// <summary>A deep copy through JSON (statistics dropped), so desired and current share no objects.</summary>
    private static List<IpvsService> Copy(IEnumerable<IpvsService> list) => IpvsJson.Deserialize(IpvsJson.Serialize(list, null)).Services;

    [Fact]
    public void Identical_NoChange()
    {
        var a = new List<IpvsService> { Tcp("192.0.2.1", 80, Real("192.0.2.10"), Real("192.0.2.11")), new() { FirewallMark = 3 } };
        var plan = IpvsPlanner.Plan(a, Copy(a));
        Assert.False(plan.Changed);
        Assert.Empty(plan.Operations);
        Assert.Equal((0, 0, 0), (plan.Added, plan.Updated, plan.Removed));
        Assert.False(IpvsPlanner.Plan(Array.Empty<IpvsService>(), Array.Empty<IpvsService>()).Changed);
    }

    [Fact]
    public void ToChanges_AreEachOperationsChange_WithOneIdentityPerRunOfAService()
    {
        var current = new List<IpvsService>
        {
            Tcp("192.0.2.1", 80, Real("192.0.2.10"), Real("192.0.2.11"), Real("192.0.2.12")),
            Tcp("192.0.2.2", 80, Real("192.0.2.20")),
            new() { FirewallMark = 3, RealServers = new List<IpvsRealServer> { Real("192.0.2.30", 0) } },
        };
        var desired = Copy(current);
        desired[0].RealServers!.RemoveAt(2);
        desired[0].RealServers![0].Weight = 5;
        desired[0].RealServers!.Add(Real("192.0.2.13"));
        desired[0].Scheduler = "wlc";
        desired.RemoveAt(1);
        desired[1].RealServers!.Add(Real("192.0.2.31", 0));
        desired.Add(Tcp("192.0.2.4", 443, Real("192.0.2.40"), Real("192.0.2.41")));
        var ops = IpvsPlanner.Plan(desired, current).Operations;
        var changes = IpvsAdmin.ToChanges(ops);
        Assert.Equal(ops.Select(IpvsAdmin.ToChange), changes);
        for (int i = 1; i < ops.Count; i++)
            if (ReferenceEquals(ops[i].Service, ops[i - 1].Service) && changes[i].Dest is not null && changes[i - 1].Dest is not null)
                Assert.Same(changes[i - 1].Service, changes[i].Service);
        Assert.Empty(IpvsAdmin.ToChanges(Array.Empty<IpvsOperation>()));
    }

    [Theory]
    [InlineData(2)]  // matched by scanning
    [InlineData(12)] // matched through indexes
    public void RealServers_SameOperationsWhateverTheListLength(int count)
    {
        var current = new List<IpvsService> { Tcp("192.0.2.1", 80, Enumerable.Range(0, count).Select(i => Real($"192.0.2.{10 + i}")).ToArray()) };
        var desired = Copy(current);
        var rs = desired[0].RealServers!;
        rs[count - 1].Weight = 7;
        rs.RemoveAt(0);
        rs.Insert(0, Real("192.0.2.200"));
        rs.Add(new IpvsRealServer { Address = IPAddress.Parse("192.0.2.201"), Port = 0 }); // port 0: the service's
        var ops = IpvsPlanner.Plan(desired, current).Operations;
        Assert.Equal(new[]
        {
            "Remove real server 192.0.2.10:80 from TCP 192.0.2.1:80",
            $"Update real server 192.0.2.{9 + count}:80 of TCP 192.0.2.1:80: weight 1 -> 7",
            "Add real server 192.0.2.200:80 to TCP 192.0.2.1:80",
            "Add real server 192.0.2.201:80 to TCP 192.0.2.1:80",
        }, ops.Select(o => o.Description.Split(" (")[0]));
        Assert.Empty(IpvsPlanner.Plan(Copy(desired), desired).Operations);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(12)]
    public void RealServers_TwiceOrNull_Refused(int count)
    {
        List<IpvsService> Table(params IpvsRealServer[] extra)
            => new() { Tcp("192.0.2.1", 80, Enumerable.Range(0, count).Select(i => Real($"192.0.2.{10 + i}")).Concat(extra).ToArray()) };
        var twice = Table(Real("192.0.2.10"));
        var e = Assert.Throws<ArgumentException>(() => IpvsPlanner.Plan(twice, Table()));
        Assert.Contains("desired configuration lists the same real server more than once: 192.0.2.10:80 (2 times)", e.Message);
        e = Assert.Throws<ArgumentException>(() => IpvsPlanner.Plan(Table(), twice));
        Assert.Contains("current configuration lists the same real server more than once", e.Message);
        e = Assert.Throws<ArgumentException>(() => IpvsPlanner.Plan(Table(new IpvsRealServer[] { null! }), Table()));
        Assert.Contains("has a null real server", e.Message);
    }

    [Fact]
    public void EveryKind_InSafeOrder()
    {
        var current = new List<IpvsService>
        {
            Tcp("192.0.2.1", 80, Real("192.0.2.10"), Real("192.0.2.11"), Real("192.0.2.12")),
            Tcp("192.0.2.2", 80, Real("192.0.2.20")),                   // to remove
            Tcp("192.0.2.3", 80),                                        // scheduler to change
        };
        var desired = new List<IpvsService>
        {
            Tcp("192.0.2.1", 80, Real("192.0.2.10"), Real("192.0.2.11", weight: 0), Real("192.0.2.13")), // -12, ~11, +13
            Tcp("192.0.2.3", 80),
            Tcp("192.0.2.4", 80, Real("192.0.2.40"), Real("192.0.2.41")), // new, with 2 real servers
        };
        desired[1].Scheduler = "rr";
        var plan = IpvsPlanner.Plan(desired, current);
        Assert.Equal(new[]
        {
            IpvsOperationKind.RemoveRealServer, IpvsOperationKind.RemoveService, IpvsOperationKind.UpdateService,
            IpvsOperationKind.AddService, IpvsOperationKind.UpdateRealServer,
            IpvsOperationKind.AddRealServer, IpvsOperationKind.AddRealServer, IpvsOperationKind.AddRealServer,
        }, plan.Operations.Select(o => o.Kind));
        Assert.Equal((4, 2, 2), (plan.Added, plan.Updated, plan.Removed));
        Assert.True(plan.Changed);
        Assert.Equal("Remove real server 192.0.2.12:80 from TCP 192.0.2.1:80", plan.Operations[0].Description);
        Assert.Equal("Remove service TCP 192.0.2.2:80 and its 1 real server(s)", plan.Operations[1].Description);
        Assert.Equal("Update service TCP 192.0.2.3:80: scheduler wlc -> rr", plan.Operations[2].Description);
        Assert.Equal("Update real server 192.0.2.11:80 of TCP 192.0.2.1:80: weight 1 -> 0", plan.Operations[4].Description);
        Assert.Same(current[0].RealServers![2], plan.Operations[0].RealServer); // removals carry the current objects
        Assert.Same(current[1], plan.Operations[1].Service);
        Assert.Same(desired[1], plan.Operations[2].Service);           // additions/updates carry the desired ones
        Assert.Same(desired[0].RealServers![1], plan.Operations[4].RealServer);
        Assert.Equal("4 to add, 2 to update, 2 to remove", plan.ToString());
    }

    [Fact]
    public void ServiceSettingsCompared()
    {
        IpvsService Make(Action<IpvsService> f) { var s = Tcp("192.0.2.1"); f(s); return s; }
        void Changed(Action<IpvsService> desired, Action<IpvsService> current, string expected)
        {
            var plan = IpvsPlanner.Plan(new[] { Make(desired) }, new[] { Make(current) });
            var op = Assert.Single(plan.Operations);
            Assert.Equal(IpvsOperationKind.UpdateService, op.Kind);
            Assert.Contains(expected, op.Description);
        }
        void Same(Action<IpvsService> desired, Action<IpvsService> current)
            => Assert.False(IpvsPlanner.Plan(new[] { Make(desired) }, new[] { Make(current) }).Changed);

        Changed(s => s.PersistenceTimeout = 300, s => { }, "persistence timeout 0 -> 300");
        Changed(s => { s.PersistenceTimeout = 300; s.PersistenceNetmask = "255.255.255.0"; }, s => s.PersistenceTimeout = 300, "persistence netmask (default) -> 255.255.255.0");
        Changed(s => s.PersistenceEngine = "sip", s => { }, "persistence engine (none) -> sip");
        Changed(s => s.OnePacket = true, s => { }, "one-packet False -> True");
        Changed(s => s.SchedulerFlag = new[] { "flag-1" }, s => { }, "scheduler flags [] -> [flag-1]");
        Changed(s => s.SchedulerFlag = new[] { "weird" }, s => s.SchedulerFlag = new[] { "odd" }, "scheduler flags");
        Changed(s => s.Scheduler = "WLC", s => { }, "scheduler wlc -> WLC");

        Same(s => s.PersistenceNetmask = null, s => s.PersistenceNetmask = "255.255.255.255");
        Same(s => { s.PersistenceTimeout = 9; s.PersistenceNetmask = "24"; }, s => { s.PersistenceTimeout = 9; s.PersistenceNetmask = "255.255.255.0"; });
        Same(s => s.PersistenceNetmask = "255.255.0.0", s => s.PersistenceNetmask = "255.255.255.255"); // not persistent: irrelevant
        Same(s => s.Scheduler = null!, s => s.Scheduler = "wlc");
        Same(s => s.PersistenceEngine = "", s => s.PersistenceEngine = null);
        Same(s => { s.Scheduler = "sh"; s.SchedulerFlag = new[] { "flag-1" }; }, s => { s.Scheduler = "sh"; s.SchedulerFlag = new[] { "sh-fallback" }; });
        Same(s => s.SchedulerFlag = new[] { "flag-2", "flag-1" }, s => s.SchedulerFlag = new[] { "FLAG-1", "flag-2" });
        Same(s => s.Statistics.Connections = 5, s => s.Rate.InBytesPerSecond = 9);
    }

    [Fact]
    public void Ipv6NetmaskDefault()
    {
        var d = Tcp("2001:db8::1");
        d.PersistenceTimeout = 60;
        var c = Tcp("2001:db8::1");
        c.PersistenceTimeout = 60;
        c.PersistenceNetmask = "128";
        Assert.False(IpvsPlanner.Plan(new[] { d }, new[] { c }).Changed);
        d.PersistenceNetmask = "64";
        Assert.Contains("persistence netmask 128 -> 64", Assert.Single(IpvsPlanner.Plan(new[] { d }, new[] { c }).Operations).Description);
    }

    [Fact]
    public void RealServerSettingsCompared()
    {
        IpvsRealServer R(Action<IpvsRealServer> f) { var r = Real("192.0.2.10"); f(r); return r; }
        string? Diff(Action<IpvsRealServer> d, Action<IpvsRealServer> c)
        {
            var plan = IpvsPlanner.Plan(new[] { Tcp("192.0.2.1", 80, R(d)) }, new[] { Tcp("192.0.2.1", 80, R(c)) });
            return plan.Changed ? Assert.Single(plan.Operations).Description : null;
        }
        Assert.Contains("forwarding DirectRouting -> Masquerade", Diff(r => r.ForwardingMethod = IpvsForwardingMethod.Masquerade, r => { }));
        Assert.Contains("upper threshold 0 -> 10", Diff(r => r.UpperThreshold = 10, r => { }));
        Assert.Contains("lower threshold 3 -> 0", Diff(r => { }, r => r.LowerThreshold = 3));
        Assert.Contains("tunnel type IpIp -> Gre", Diff(r => { r.ForwardingMethod = IpvsForwardingMethod.Tunnel; r.TunnelType = IpvsTunnelType.Gre; }, r => r.ForwardingMethod = IpvsForwardingMethod.Tunnel));
        Assert.Contains("tunnel port 6080 -> 6081", Diff(r => { r.ForwardingMethod = IpvsForwardingMethod.Tunnel; r.TunnelType = IpvsTunnelType.Gue; r.TunnelPort = 6081; },
                                                         r => { r.ForwardingMethod = IpvsForwardingMethod.Tunnel; r.TunnelType = IpvsTunnelType.Gue; r.TunnelPort = 6080; }));
        Assert.Contains("tunnel checksum NoChecksum -> Checksum", Diff(r => { r.ForwardingMethod = IpvsForwardingMethod.Tunnel; r.TunnelType = IpvsTunnelType.Gre; r.TunnelChecksum = IpvsTunnelChecksum.Checksum; },
                                                                    r => { r.ForwardingMethod = IpvsForwardingMethod.Tunnel; r.TunnelType = IpvsTunnelType.Gre; }));
        // Not differences:
        Assert.Null(Diff(r => r.ForwardingMethod = IpvsForwardingMethod.DirectRouting, r => r.ForwardingMethod = IpvsForwardingMethod.Local));
        Assert.Null(Diff(r => { r.ForwardingMethod = IpvsForwardingMethod.Tunnel; r.TunnelType = null; }, r => { r.ForwardingMethod = IpvsForwardingMethod.Tunnel; r.TunnelType = IpvsTunnelType.IpIp; }));
        Assert.Null(Diff(r => { r.ForwardingMethod = IpvsForwardingMethod.Tunnel; r.TunnelType = IpvsTunnelType.IpIp; r.TunnelPort = 1; }, r => { r.ForwardingMethod = IpvsForwardingMethod.Tunnel; r.TunnelType = IpvsTunnelType.IpIp; }));
        Assert.Null(Diff(r => r.Port = 0, r => r.Port = 80));   // port 0 = the service port: the same real server
        Assert.Null(Diff(r => r.ActiveConnections = 5, r => r.Statistics.Connections = 3));
    }

    [Fact]
    public void RealServerIdentity_IsAddressAndPort()
    {
        var d = Tcp("192.0.2.1", 80, new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10"), Port = 8080, ForwardingMethod = IpvsForwardingMethod.Masquerade });
        var c = Tcp("192.0.2.1", 80, new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10"), Port = 8081, ForwardingMethod = IpvsForwardingMethod.Masquerade });
        var plan = IpvsPlanner.Plan(new[] { d }, new[] { c });
        Assert.Equal(new[] { IpvsOperationKind.RemoveRealServer, IpvsOperationKind.AddRealServer }, plan.Operations.Select(o => o.Kind));
    }

    [Fact]
    public void ServiceIdentity_FwmarkFamilyProtocol()
    {
        var current = new List<IpvsService>
        {
            new() { FirewallMark = 5 }, new() { FirewallMark = 5, AddressFamily = AddressFamily.InterNetworkV6 },
            new() { Protocol = IpvsProtocol.Udp, Address = IPAddress.Parse("192.0.2.1"), Port = 80 },
        };
        var desired = new List<IpvsService>
        {
            new() { FirewallMark = 5, AddressFamily = AddressFamily.InterNetworkV6 },
            new() { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("192.0.2.1"), Port = 80 },
        };
        var plan = IpvsPlanner.Plan(desired, current);
        Assert.Equal(new[] { "Remove service FWM 5", "Remove service UDP 192.0.2.1:80", "Add service TCP 192.0.2.1:80 (scheduler wlc)" },
            plan.Operations.Select(o => o.Description));
    }

    [Fact]
    public void DuplicatesInDesired_AreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => IpvsPlanner.Plan(
            new[] { Tcp("192.0.2.1"), Tcp("192.0.2.2"), Tcp("192.0.2.1"), Tcp("192.0.2.1"), new IpvsService { FirewallMark = 4 }, new IpvsService { FirewallMark = 4 } },
            Array.Empty<IpvsService>()));
        Assert.Equal("desired", e.ParamName);
        Assert.Contains("TCP 192.0.2.1:80 (3 times)", e.Message);
        Assert.Contains("FWM 4 (2 times)", e.Message);
        Assert.DoesNotContain("192.0.2.2", e.Message);

        var r = Assert.Throws<ArgumentException>(() => IpvsPlanner.Plan(new[] { Tcp("192.0.2.1", 80, Real("192.0.2.10"), Real("192.0.2.10", 0)) }, Array.Empty<IpvsService>()));
        Assert.Contains("192.0.2.10:80 (2 times)", r.Message);
    }

    [Fact]
    public void Arguments()
    {
        Assert.Throws<ArgumentNullException>(() => IpvsPlanner.Plan(null!, Array.Empty<IpvsService>()));
        Assert.Throws<ArgumentNullException>(() => IpvsPlanner.Plan(Array.Empty<IpvsService>(), null!));
        Assert.Throws<ArgumentException>(() => IpvsPlanner.Plan(new IpvsService[] { null! }, Array.Empty<IpvsService>()));
        Assert.Throws<ArgumentException>(() => IpvsPlanner.Plan(Array.Empty<IpvsService>(), new IpvsService[] { null! }));
        Assert.Throws<ArgumentException>(() => IpvsPlanner.Plan(new[] { new IpvsService { FirewallMark = 1, RealServers = new() { null! } } }, Array.Empty<IpvsService>()));
    }

    [Fact]
    public void NullRealServerLists_AreEmpty()
    {
        var d = Tcp("192.0.2.1");
        d.RealServers = null;
        var c = Tcp("192.0.2.1", 80, Real("192.0.2.10"));
        Assert.Equal(IpvsOperationKind.RemoveRealServer, Assert.Single(IpvsPlanner.Plan(new[] { d }, new[] { c }).Operations).Kind);
    }

    [Fact]
    public void TenThousandServices_OnePercentDiffer_ExactOperationCount()
    {
        // 100 of 10,000 services (i % 100 == 1) differ; how they differ cycles through six kinds by i / 100 % 6:
        // 0 missing from current (17), 1 missing from desired (17), 2 scheduler changed (17), 3 a weight changed (17),
        // 4 a real server dropped (16), 5 a real server added (16).
        const int n = 10_000;
        static int Kind(int i) => i % 100 == 1 ? i / 100 % 6 : -1;
        static List<IpvsService> Build(bool desired)
        {
            var list = new List<IpvsService>(n);
            for (int i = 0; i < n; i++)
            {
                int kind = Kind(i);
                if ((kind == 0 && !desired) || (kind == 1 && desired)) continue;
                var s = new IpvsService
                {
                    Protocol = IpvsProtocol.Tcp, Address = new IPAddress(new byte[] { 198, 51, (byte)(i / 250), (byte)(i % 250 + 1) }), Port = (ushort)(80 + i % 7), Scheduler = "wlc",
                    RealServers = new()
                    {
                        new() { Address = new IPAddress(new byte[] { 203, 0, (byte)(i / 250), (byte)(i % 250 + 1) }), Port = 0, Weight = 1 },
                        new() { Address = IPAddress.Parse($"2001:db8::{i:x}"), Port = 8080, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gre },
                    },
                };
                if (desired)
                {
                    switch (kind)
                    {
                        case 2: s.Scheduler = "rr"; break;
                        case 3: s.RealServers[0].Weight = 0; break;
                        case 4: s.RealServers.RemoveAt(1); break;
                        case 5: s.RealServers.Add(new IpvsRealServer { Address = IPAddress.Parse("192.0.2.200"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Masquerade }); break;
                    }
                }
                list.Add(s);
            }
            return list;
        }
        var current = Build(desired: false);
        var desired = Build(desired: true);
        Assert.Equal((9983, 9983), (current.Count, desired.Count));

        var plan = IpvsPlanner.Plan(desired, current);

        var byKind = plan.Operations.GroupBy(o => o.Kind).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(17, byKind[IpvsOperationKind.AddService]);
        Assert.Equal(17, byKind[IpvsOperationKind.RemoveService]);
        Assert.Equal(17, byKind[IpvsOperationKind.UpdateService]);
        Assert.Equal(17, byKind[IpvsOperationKind.UpdateRealServer]);
        Assert.Equal(16, byKind[IpvsOperationKind.RemoveRealServer]);
        Assert.Equal(17 * 2 + 16, byKind[IpvsOperationKind.AddRealServer]);
        Assert.Equal(134, plan.Operations.Count);
        Assert.Equal((67, 34, 33), (plan.Added, plan.Updated, plan.Removed));
        // Safe order holds across the whole plan.
        var rank = new[] { IpvsOperationKind.RemoveRealServer, IpvsOperationKind.RemoveService, IpvsOperationKind.UpdateService, IpvsOperationKind.AddService, IpvsOperationKind.UpdateRealServer, IpvsOperationKind.AddRealServer };
        var ranks = plan.Operations.Select(o => Array.IndexOf(rank, o.Kind)).ToList();
        Assert.Equal(ranks.OrderBy(x => x), ranks);

        Assert.False(IpvsPlanner.Plan(desired, Copy(desired)).Changed);
    }

    /// <summary>
    /// PlanDistinct (a reload's diff of two keepalived plans) gives Plan's operations, in Plan's order, whatever the
    /// lists' order: kept in place, shifted by an insertion or removal, shuffled, with real servers reordered, added,
    /// removed or changed, firewall-mark and IPv6 services among them.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void PlanDistinct_GivesPlansOperations_InPlansOrder(int seed)
    {
        var rng = new Random(seed);
        IpvsService Make(int i)
        {
            var s = i % 7 == 0 ? new IpvsService { FirewallMark = (uint)(i + 1) }
                : i % 5 == 0 ? new IpvsService { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse($"2001:db8::{i:x}"), Port = 80, AddressFamily = AddressFamily.InterNetworkV6 }
                : Tcp($"198.51.{i / 250}.{i % 250}", (ushort)(80 + i % 3));
            s.RealServers = new List<IpvsRealServer>();
            int n = i % 11 == 0 ? 12 : 1 + i % 3; // a few, and some long enough to be indexed
            for (int j = 0; j < n; j++)
                s.RealServers.Add(s.AddressFamily == AddressFamily.InterNetworkV6 ? Real($"2001:db8:1::{j + 1:x}", 8080) : Real($"203.0.113.{j + 1}", s.IsFirewallMark ? (ushort)0 : (ushort)8080));
            return s;
        }
        var current = Enumerable.Range(0, 300).Select(Make).ToList();
        var desired = Copy(current);
        for (int k = 0; k < 12; k++)
        {
            var s = desired[rng.Next(desired.Count)];
            var rs = s.RealServers!;
            switch (rng.Next(6))
            {
                case 0: rs[rng.Next(rs.Count)].Weight = 7; break;
                case 1: rs.Reverse(); break;
                case 2: if (rs.Count > 1) rs.RemoveAt(rng.Next(rs.Count)); break;
                case 3: rs.Add(Real($"192.0.2.{100 + k}", rs[0].Port)); break;
                case 4: s.Scheduler = "wlc"; break;
                case 5: rs.Insert(0, Real($"192.0.2.{150 + k}", rs[0].Port)); break;
            }
        }
        switch (seed % 3) // the list's own order
        {
            case 1: desired.RemoveAt(rng.Next(desired.Count)); desired.Insert(rng.Next(desired.Count), Make(1000)); break;
            case 2: desired = desired.OrderBy(_ => rng.Next()).ToList(); break;
        }
        if (seed > 3) desired.AddRange(Enumerable.Range(2000, 3).Select(Make)); else desired.RemoveRange(desired.Count - 4, 4);

        static string Text(IpvsPlan p) => string.Join("\n", p.Operations.Select(o => $"{o.Kind}: {o.Description}"));
        var expected = IpvsPlanner.Plan(desired, current);
        Assert.True(expected.Operations.Count >= 10, Text(expected));
        Assert.Equal(Text(expected), Text(IpvsPlanner.PlanDistinct(desired, current)));
        Assert.Equal(Text(expected), Text(IpvsPlanner.PlanDistinct(desired, current, IpvsTableImage.Of(desired), IpvsTableImage.Of(current))));
        Assert.Equal(Text(IpvsPlanner.Plan(current, desired)), Text(IpvsPlanner.PlanDistinct(current, desired)));
        Assert.False(IpvsPlanner.PlanDistinct(desired, Copy(desired)).Changed);
        Assert.Equal(Text(IpvsPlanner.Plan(desired, Array.Empty<IpvsService>())), Text(IpvsPlanner.PlanDistinct(desired, Array.Empty<IpvsService>())));
    }

    [Fact]
    public void PlanDistinct_ADuplicateRealServer_IsNamedAsByPlan()
    {
        var current = new List<IpvsService> { Tcp("192.0.2.1", 80, Real("192.0.2.10"), Real("192.0.2.10")) };
        var desired = Copy(current);
        var e1 = Assert.Throws<ArgumentException>(() => IpvsPlanner.Plan(desired, current));
        var e2 = Assert.Throws<ArgumentException>(() => IpvsPlanner.PlanDistinct(desired, current));
        Assert.Equal(e1.Message, e2.Message);
    }

    /// <summary>Every setting the planner compares is in a service's image: changing any one makes the images differ.</summary>
    [Fact]
    public void TableImage_WritesEverySettingThePlannerCompares()
    {
        static IpvsService Make() => new()
        {
            Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("2001:db8::1"), AddressFamily = AddressFamily.InterNetworkV6, Port = 80,
            Scheduler = "sh", PersistenceTimeout = 300, PersistenceNetmask = "64", PersistenceEngine = "sip", OnePacket = false,
            SchedulerFlag = new[] { "sh-fallback" },
            RealServers = new List<IpvsRealServer>
            {
                new() { Address = IPAddress.Parse("2001:db8::10"), Port = 8080, ForwardingMethod = IpvsForwardingMethod.Tunnel, Weight = 3,
                        UpperThreshold = 100, LowerThreshold = 10, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080, TunnelChecksum = IpvsTunnelChecksum.RemoteChecksum },
                new() { Address = IPAddress.Parse("2001:db8::11"), Port = 8080 },
            },
        };
        var changes = new (string What, Action<IpvsService> Change)[]
        {
            ("protocol", s => s.Protocol = IpvsProtocol.Udp), ("address", s => s.Address = IPAddress.Parse("2001:db8::2")),
            ("scope", s => s.Address = IPAddress.Parse("2001:db8::1%2")), ("family", s => s.AddressFamily = AddressFamily.InterNetwork),
            ("port", s => s.Port = 81), ("firewall mark", s => s.FirewallMark = 1), ("scheduler", s => s.Scheduler = "rr"),
            ("timeout", s => s.PersistenceTimeout = 301), ("netmask", s => s.PersistenceNetmask = "48"), ("no netmask", s => s.PersistenceNetmask = null),
            ("engine", s => s.PersistenceEngine = null), ("one-packet", s => s.OnePacket = true), ("flags", s => s.SchedulerFlag = new[] { "sh-port" }),
            ("no flags", s => s.SchedulerFlag = Array.Empty<string>()), ("no real servers", s => s.RealServers = null),
            ("empty real servers", s => s.RealServers!.Clear()), ("order", s => s.RealServers!.Reverse()), ("one more", s => s.RealServers!.Add(Real("192.0.2.1"))),
            ("rs address", s => s.RealServers![0].Address = IPAddress.Parse("2001:db8::12")), ("rs port", s => s.RealServers![0].Port = 8081),
            ("forwarding", s => s.RealServers![0].ForwardingMethod = IpvsForwardingMethod.DirectRouting), ("weight", s => s.RealServers![0].Weight = 4),
            ("upper", s => s.RealServers![0].UpperThreshold = 101), ("lower", s => s.RealServers![0].LowerThreshold = 11),
            ("tunnel type", s => s.RealServers![0].TunnelType = null), ("tunnel port", s => s.RealServers![0].TunnelPort = 6081),
            ("tunnel checksum", s => s.RealServers![0].TunnelChecksum = IpvsTunnelChecksum.NoChecksum),
        };
        var baseline = IpvsTableImage.Of(new[] { Make() });
        Assert.True(IpvsTableImage.Same(baseline, 0, IpvsTableImage.Of(new[] { Make() }), 0));
        foreach (var (what, change) in changes)
        {
            var s = Make();
            change(s);
            Assert.False(IpvsTableImage.Same(baseline, 0, IpvsTableImage.Of(new[] { s }), 0), what);
        }
        // Runs are per service: a list's image holds each in its place.
        var two = IpvsTableImage.Of(new[] { Tcp("192.0.2.1"), Make() });
        Assert.Equal(2, two.Count);
        Assert.True(IpvsTableImage.Same(two, 1, baseline, 0));
        Assert.False(IpvsTableImage.Same(two, 0, baseline, 0));
        Assert.Throws<ArgumentException>(() => IpvsPlanner.PlanDistinct(new[] { Make() }, new[] { Make() }, two, baseline));
    }
}
