using System.Diagnostics;
using System.Net;
using HaPowerShell.Core.Ipvs;
using HaPowerShell.Native;
using HaPowerShell.Native.Ipvs;
using Xunit;
using Xunit.Abstractions;

namespace HaPowerShell.Tests;

/// <summary>
/// Sync-IpvsConfig and Import-IpvsConfig -Replace as one checked plan against an in-memory kernel: what can
/// be known is refused before the first change, and a step the kernel still refuses leaves the table as it was.
/// </summary>
public class IpvsPlanApplyTests
{
    private readonly ITestOutputHelper _out;
    public IpvsPlanApplyTests(ITestOutputHelper output) => _out = output;

    /// <summary>A live table: A (rr, three real servers), B (wlc, one), C (persistent, one), a firewall-mark service, timeouts.</summary>
    private static (FakeIpvsKernel Kernel, IpvsAdmin Admin) Director()
    {
        var k = new FakeIpvsKernel();
        var admin = new IpvsAdmin(k, FakeModules.Mainline);
        var rules = IpvsRules.Parse("""
            -A -t 192.0.2.1:80 -s rr
            -a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 1
            -a -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 2
            -a -t 192.0.2.1:80 -r 198.51.100.3:80 -m -w 3
            -A -t 192.0.2.2:443 -s wlc
            -a -t 192.0.2.2:443 -r 198.51.100.4:443 -g -w 1
            -A -u 192.0.2.3:53 -s sh -p 60
            -a -u 192.0.2.3:53 -r 198.51.100.5:53 -m -w 5
            -A -f 7 -s lc
            -a -f 7 -r 198.51.100.6:0 -g -w 1
            """);
        var r = admin.Import(rules, replace: false);
        Assert.Equal(0, r.Failed);
        return (k, admin);
    }

    /// <summary>Every kind of step: remove a real server, remove a service, update both, add both.</summary>
    private const string Desired = """
        -A -t 192.0.2.1:80 -s wrr
        -a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 7
        -a -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 2
        -A -t 192.0.2.2:443 -s wlc
        -a -t 192.0.2.2:443 -r 198.51.100.4:443 -g -w 1
        -A -f 7 -s lc
        -a -f 7 -r 198.51.100.6:0 -g -w 1
        -A -t 203.0.113.1:80 -s rr
        -a -t 203.0.113.1:80 -r 198.51.100.9:80 -g -w 1
        -A -t 203.0.113.2:80 -s dh
        -a -t 203.0.113.2:80 -r 198.51.100.10:80 -g -w 1
        --set 30 5 60
        """;

    private static List<IpvsService> Table(string rules, out IpvsTimeout? timeout) => IpvsRules.ToTable(IpvsRules.Parse(rules), out timeout);

    [Fact]
    public void The_whole_plan_applies()
    {
        var (k, admin) = Director();
        var plan = admin.PlanSync(Table(Desired, out var timeout));
        var result = admin.ApplyPlan(plan.Operations, timeout);
        Assert.Equal(0, result.Failed);
        Assert.True(result.Changed);
        Assert.Empty(result.NotApplied);
        Assert.Equal((plan.Added, plan.Updated, plan.Removed), (result.Added, result.Updated, result.Removed));
        Assert.False(admin.PlanSync(Table(Desired, out _)).Changed); // idempotent
        Assert.Contains("timeouts IpvsTimeouts { Tcp = 30, TcpFin = 5, Udp = 60 }", k.Dump());
    }

    [Fact]
    public void An_unavailable_scheduler_is_refused_before_the_first_change()
    {
        var (k, admin) = Director();
        string before = k.Dump();
        int calls = k.ApplyCalls;
        var e = Assert.Throws<IpvsOperationException>(() => admin.PlanSync(Table(Desired.Replace("-s dh", "-s nosuch"), out _)));
        Assert.Equal("SchedulerNotFound", e.ErrorId);
        Assert.Equal(IpvsFailureKind.NotInstalled, e.Kind);
        Assert.Contains("ip_vs_nosuch", e.Message);
        Assert.Contains("Schedulers this kernel has: dh lc mh rr sh wlc wrr.", e.Message);
        Assert.Equal(calls, k.ApplyCalls);
        Assert.Equal(before, k.Dump());
    }

    [Fact]
    public void An_unavailable_persistence_engine_is_refused_before_the_first_change()
    {
        var (k, admin) = Director();
        string before = k.Dump();
        var e = Assert.Throws<IpvsOperationException>(() => admin.PlanSync(Table(Desired.Replace("-A -t 203.0.113.2:80 -s dh", "-A -u 203.0.113.2:80 -s dh -p 30 --pe nosuch").Replace("-a -t 203.0.113.2:80", "-a -u 203.0.113.2:80"), out _)));
        Assert.Equal("PersistenceEngineNotFound", e.ErrorId);
        Assert.Contains("sip", e.Message);
        Assert.Equal(before, k.Dump());
    }

    [Fact]
    public void Without_a_module_index_the_kernel_decides_and_its_refusal_is_undone()
    {
        var k = new FakeIpvsKernel();
        var admin = new IpvsAdmin(k, new FakeModules(null)); // a container: nothing to read
        admin.ApplyPlan(admin.PlanSync(Table("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80", out _)).Operations);
        string before = k.Dump();
        var plan = admin.PlanSync(Table("-A -t 192.0.2.9:80 -s rr\n-A -t 192.0.2.10:80 -s nosuch\n-A -t 192.0.2.11:80 -s rr", out _));
        var result = admin.ApplyPlan(plan.Operations);
        Assert.True(result.RolledBack);
        Assert.Equal("SchedulerNotFound", Assert.Single(result.Errors).ErrorId);
        Assert.Equal(before, k.Dump());
    }

    public static IEnumerable<object[]> RefusedSteps()
    {
        // Refuse each kind of step in turn, wherever it falls in the plan.
        foreach (var kind in Enum.GetValues<IpvsChangeKind>()) yield return new object[] { kind, 0 };
        yield return new object[] { IpvsChangeKind.NewDest, 1 }; // the last addition
    }

    [Theory]
    [MemberData(nameof(RefusedSteps))]
    public void A_step_the_kernel_refuses_leaves_the_table_as_it_was(IpvsChangeKind refusedKind, int nth)
    {
        var (k, admin) = Director();
        string before = k.Dump();
        var plan = admin.PlanSync(Table(Desired, out var timeout));
        int seen = 0;
        k.Refuse = c => c.Kind == refusedKind && seen++ == nth ? Errno.ENOMEM : null;
        var result = admin.ApplyPlan(plan.Operations, timeout);
        k.Refuse = null;
        _out.WriteLine(string.Join("\n", result.Errors));
        Assert.Equal(1, result.Failed);
        Assert.True(result.RolledBack);
        Assert.Empty(result.RollbackErrors);
        Assert.False(result.Changed);
        Assert.Equal((0, 0, 0), (result.Added, result.Updated, result.Removed));
        Assert.Equal(plan.Operations.Count, result.NotApplied.Count);
        Assert.Equal(before, k.Dump());
    }

    [Fact]
    public void A_refused_timeout_undoes_the_table_changes_too()
    {
        var (k, admin) = Director();
        string before = k.Dump();
        k.RefuseTimeouts = _ => Errno.EINVAL;
        var result = admin.ApplyPlan(admin.PlanSync(Table(Desired, out var timeout)).Operations, timeout);
        Assert.True(result.RolledBack);
        Assert.Contains(result.Errors, e => e.Step.StartsWith("Set timeouts"));
        Assert.Equal(before, k.Dump());
    }

    [Fact]
    public void An_undo_the_kernel_refuses_is_reported_and_counted_as_applied()
    {
        var (k, admin) = Director();
        var plan = admin.PlanSync(Table(Desired, out _));
        bool applying = true;
        // Refuse the last addition; then, while undoing, refuse putting the removed service back.
        k.Refuse = c => applying
            ? (c.Kind == IpvsChangeKind.NewDest && c.Dest!.Address.Equals(IPAddress.Parse("198.51.100.10")) ? Errno.ENOMEM : null)
            : (c.Kind == IpvsChangeKind.NewService && c.Service.Protocol == 17 ? Errno.ENOMEM : null);
        var result = new Func<IpvsSyncResult>(() =>
        {
            var ops = plan.Operations;
            // Switch to "undoing" after the forward batch: the fake sees the forward batch first.
            var wrapped = new RefuseAfterFirstApply(k, () => applying = false);
            return new IpvsAdmin(wrapped, FakeModules.Mainline).ApplyPlan(ops);
        })();
        Assert.False(result.RolledBack);
        Assert.Equal(1, result.Failed);
        // The service could not be put back, so neither could its real server.
        Assert.Equal(2, result.RollbackErrors.Count);
        Assert.All(result.RollbackErrors, r => Assert.StartsWith("Undo: Remove service UDP 192.0.2.3:53", r.Step));
        Assert.Equal(1, result.Removed); // that removal stays
        Assert.True(result.Changed);
        Assert.DoesNotContain(result.NotApplied, o => o.Description.StartsWith("Remove service UDP 192.0.2.3:53"));
    }

    /// <summary>Runs a callback after the first Apply (the forward batch), so a test can change what the kernel refuses for the undo.</summary>
    private sealed class RefuseAfterFirstApply : IIpvsKernel
    {
        private readonly FakeIpvsKernel _k;
        private Action? _after;
        public RefuseAfterFirstApply(FakeIpvsKernel k, Action after) { _k = k; _after = after; }
        public HaPowerShell.Native.Netlink.NetlinkException?[] Apply(IReadOnlyList<IpvsChange> changes)
        {
            var r = _k.Apply(changes);
            _after?.Invoke();
            _after = null;
            return r;
        }
        public IpvsKernelInfo GetInfo() => _k.GetInfo();
        public IReadOnlyList<IpvsServiceEntry> GetServices() => _k.GetServices();
        public IpvsServiceEntry? GetService(IpvsServiceEntry id) => _k.GetService(id);
        public IReadOnlyList<IpvsDestEntry> GetDestinations(IpvsServiceEntry service) => _k.GetDestinations(service);
        public IReadOnlyList<IpvsDestEntry>?[] GetDestinations(IReadOnlyList<IpvsServiceEntry> services) => _k.GetDestinations(services);
        public void NewService(IpvsServiceEntry s) => _k.NewService(s);
        public void SetService(IpvsServiceEntry s) => _k.SetService(s);
        public void DeleteService(IpvsServiceEntry s) => _k.DeleteService(s);
        public void NewDestination(IpvsServiceEntry s, IpvsDestEntry d) => _k.NewDestination(s, d);
        public void SetDestination(IpvsServiceEntry s, IpvsDestEntry d) => _k.SetDestination(s, d);
        public void DeleteDestination(IpvsServiceEntry s, IpvsDestEntry d) => _k.DeleteDestination(s, d);
        public void Flush() => _k.Flush();
        public void Zero(IpvsServiceEntry? service) => _k.Zero(service);
        public IpvsTimeouts GetTimeouts() => _k.GetTimeouts();
        public void SetTimeouts(IpvsTimeouts t) => _k.SetTimeouts(t);
        public IReadOnlyList<IpvsDaemonEntry> GetDaemons() => _k.GetDaemons();
        public void NewDaemon(IpvsDaemonEntry d) => _k.NewDaemon(d);
        public void DeleteDaemon(uint state) => _k.DeleteDaemon(state);
    }

    [Fact]
    public void Import_Replace_is_the_same_checked_plan()
    {
        var (k, admin) = Director();
        string before = k.Dump();

        // A file that cannot apply as a whole (a real server of a service it never adds): nothing changes.
        var e = Assert.Throws<IpvsOperationException>(() => admin.Import(IpvsRules.Parse("-A -t 192.0.2.9:80\n-a -t 192.0.2.8:80 -r 198.51.100.1:80"), replace: true));
        Assert.Equal("InvalidConfig", e.ErrorId);
        Assert.StartsWith("line 2:", e.Message);
        Assert.Equal(before, k.Dump());

        // A scheduler this kernel lacks: nothing changes.
        Assert.Equal("SchedulerNotFound", Assert.Throws<IpvsOperationException>(() => admin.Import(IpvsRules.Parse(Desired.Replace("-s dh", "-s nosuch")), replace: true)).ErrorId);
        Assert.Equal(before, k.Dump());

        // A refusal part-way: undone.
        k.Refuse = c => c.Kind == IpvsChangeKind.NewService && c.Service.Scheduler == "dh" ? Errno.ENOMEM : null;
        var refused = admin.Import(IpvsRules.Parse(Desired), replace: true);
        k.Refuse = null;
        Assert.True(refused.RolledBack);
        Assert.Equal(1, refused.Failed);
        Assert.Equal(0, refused.Applied);
        Assert.Equal(before, k.Dump());

        // And when all goes through, the table is exactly the file, whatever it held.
        var ok = admin.Import(IpvsRules.Parse(Desired), replace: true);
        Assert.Equal(0, ok.Failed);
        Assert.True(ok.Replaced);
        Assert.Equal(IpvsRules.Format(Table(Desired, out _)), IpvsRules.Format(admin.Snapshot(kernelOrder: true)));
    }

    [Fact]
    public void Import_without_Replace_checks_schedulers_first_too()
    {
        var (k, admin) = Director();
        string before = k.Dump();
        var e = Assert.Throws<IpvsOperationException>(() => admin.Import(IpvsRules.Parse("-A -t 192.0.2.9:80 -s rr\n-A -t 192.0.2.10:80 -s nosuch"), replace: false));
        Assert.Equal("SchedulerNotFound", e.ErrorId);
        Assert.Equal(before, k.Dump());
    }

    [Fact]
    public void Planning_is_linear_in_the_table_size()
    {
        // Desired services without real-server lists (as Get-IpvsService gives them) used to be matched to the live
        // ones by a scan each: quadratic. The time is printed as a figure, never asserted.
        foreach (int n in new[] { 10_000, 20_000 })
        {
            var k = new FakeIpvsKernel();
            var admin = new IpvsAdmin(k, FakeModules.Mainline);
            var live = Enumerable.Range(0, n).Select(i => new IpvsService
            {
                Protocol = IpvsProtocol.Tcp, Address = new IPAddress(new byte[] { 10, (byte)(i >> 16), (byte)(i >> 8), (byte)i }), Port = 80,
                Scheduler = "rr", RealServers = new List<IpvsRealServer> { new() { Address = IPAddress.Parse("198.51.100.1"), Weight = 1 } },
            }).ToList();
            admin.ApplyPlan(admin.PlanSync(live).Operations);
            var desired = admin.GetServices(); // RealServers null: keep the live ones
            foreach (var s in desired.Take(10)) s.Scheduler = "wlc";
            var clock = Stopwatch.StartNew();
            var plan = admin.PlanSync(desired);
            _out.WriteLine($"{n} services: plan in {clock.ElapsedMilliseconds} ms (benchmark figure, not asserted)");
            Assert.Equal(10, plan.Updated);
            Assert.Equal(0, plan.Added + plan.Removed);
        }
    }
}

public class KernelModuleCatalogTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "haps-modules-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_root, true);

    [Fact]
    public void Reads_loaded_builtin_and_installed_modules_of_the_running_release()
    {
        string release = Path.Combine(_root, "lib", "6.1.0-test");
        Directory.CreateDirectory(release);
        Directory.CreateDirectory(Path.Combine(_root, "sys", "ip_vs_wlc"));
        File.WriteAllText(Path.Combine(_root, "modules"), "ip_vs_rr 16384 0 - Live 0x0\nip_vs 200704 1 ip_vs_rr, Live 0x0\n");
        File.WriteAllText(Path.Combine(release, "modules.dep"),
            "kernel/net/netfilter/ipvs/ip_vs_sh.ko.xz: kernel/net/netfilter/ipvs/ip_vs.ko.xz\nkernel/net/netfilter/ipvs/ip_vs_pe_sip.ko:\n");
        File.WriteAllText(Path.Combine(release, "modules.builtin"), "kernel/net/netfilter/ipvs/ip_vs_mh.ko\n");
        var c = new KernelModuleCatalog(Path.Combine(_root, "modules"), Path.Combine(_root, "sys"), Path.Combine(_root, "lib"), "6.1.0-test");
        Assert.True(c.IsAvailable("ip_vs_rr"));     // loaded
        Assert.True(c.IsAvailable("ip_vs_wlc"));    // in /sys/module
        Assert.True(c.IsAvailable("ip_vs_sh"));     // installed (compressed)
        Assert.True(c.IsAvailable("ip_vs_mh"));     // built in
        Assert.True(c.IsAvailable("ip-vs-pe-sip")); // '-' and '_' alike
        Assert.False(c.IsAvailable("ip_vs_nosuch"));
        Assert.False(c.IsAvailable("../ip_vs_rr"));
        Assert.Equal(new[] { "ip_vs_mh", "ip_vs_pe_sip", "ip_vs_rr", "ip_vs_sh", "ip_vs_wlc" }, c.Available("ip_vs_"));

        var unknown = new KernelModuleCatalog(Path.Combine(_root, "modules"), Path.Combine(_root, "sys"), Path.Combine(_root, "lib"), "9.9.9");
        Assert.True(unknown.IsAvailable("ip_vs_rr"));
        Assert.Null(unknown.IsAvailable("ip_vs_nosuch")); // no index for that release: cannot tell
    }
}
