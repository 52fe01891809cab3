using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

internal sealed class FakeVrrpClock : IVrrpClock
{
    public long NowMicroseconds { get; set; }
}

internal sealed class RecordingVrrpActions : IVrrpActions
{
    private readonly FakeVrrpClock _clock;
    public RecordingVrrpActions(FakeVrrpClock clock) => _clock = clock;

    public List<(long At, VrrpInstance Instance, VrrpOutboundAdvertisement Advert)> Sent { get; } = new();
    public List<string> Log { get; } = new();
    public List<(long At, int Count, VrrpGarpKind Kind)> Garps { get; } = new();
    public List<VrrpNotification> Notifications { get; } = new();
    public List<(long At, string Script)> ScriptRuns { get; } = new();
    public List<VrrpStateChange> Changes { get; } = new();
    public Action<VrrpInstance, VrrpOutboundAdvertisement>? OnSend { get; set; }

    public void SendAdvertisement(VrrpInstance instance, VrrpOutboundAdvertisement advertisement)
    {
        Sent.Add((_clock.NowMicroseconds, instance, advertisement));
        OnSend?.Invoke(instance, advertisement);
    }

    /// <summary>What AddVirtualAddresses answers (false: as when the kernel refused one of them).</summary>
    public bool AddSucceeds { get; set; } = true;

    public bool AddVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses)
    {
        Log.Add($"add {instance.Name} {string.Join(",", addresses)}");
        return AddSucceeds;
    }

    public void RemoveVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses)
        => Log.Add($"del {instance.Name} {string.Join(",", addresses)}");

    public void SendGratuitousArp(VrrpInstance instance, int count, VrrpGarpKind kind)
    {
        Garps.Add((_clock.NowMicroseconds, count, kind));
        Log.Add($"garp {instance.Name} {count} {kind}");
    }

    public void RunNotify(VrrpInstance instance, VrrpNotification notification) => Notifications.Add(notification);

    public void RunTrackScript(VrrpTrackScript script) => ScriptRuns.Add((_clock.NowMicroseconds, script.Name));

    public void StateChanged(VrrpStateChange change) => Changes.Add(change);
}

internal sealed class VrrpRouter
{
    public VrrpRouter(string name, IPAddress address, FakeVrrpClock clock)
    {
        Name = name;
        Address = address;
        Actions = new RecordingVrrpActions(clock);
        Engine = new VrrpEngine(Actions, clock);
    }

    public string Name { get; }
    public IPAddress Address { get; }
    public RecordingVrrpActions Actions { get; }
    public VrrpEngine Engine { get; }

    /// <summary>Unplugged: sends and receives nothing (a crash as the peer sees it).</summary>
    public bool Connected { get; set; } = true;

    public VrrpInstance Add(VrrpInstanceConfig c) => Engine.Add(c with { SourceAddress = c.SourceAddress ?? Address });
    public VrrpInstance this[string name] => Engine.Find(name)!;
}

/// <summary>Routers on one simulated link under one fake clock; zero latency, deterministic order.</summary>
internal sealed class VrrpLan
{
    private readonly Queue<(VrrpRouter From, VrrpOutboundAdvertisement Advert)> _wire = new();
    public FakeVrrpClock Clock { get; } = new();
    public List<VrrpRouter> Routers { get; } = new();

    public VrrpRouter AddRouter(string name, string address)
    {
        var r = new VrrpRouter(name, IPAddress.Parse(address), Clock);
        r.Actions.OnSend = (_, a) => { if (r.Connected) _wire.Enqueue((r, a)); };
        Routers.Add(r);
        return r;
    }

    public long Now => Clock.NowMicroseconds;

    public void Deliver()
    {
        while (_wire.TryDequeue(out var item))
            foreach (var r in Routers)
            {
                if (r == item.From || !r.Connected) continue;
                if (!item.Advert.IsMulticast && !item.Advert.Destination.Equals(r.Address)) continue;
                r.Engine.Receive("eth0", new VrrpReceivedPacket(item.Advert.Destination.AddressFamily, item.Advert.Source,
                    item.Advert.Destination, 255, item.Advert.Message));
            }
    }

    /// <summary>Runs every event up to and including <paramref name="until"/>, each at its exact deadline.</summary>
    public void RunUntil(long until)
    {
        Deliver();
        while (true)
        {
            long? next = null;
            foreach (var r in Routers)
                if (r.Engine.NextDueMicroseconds is { } d && (next is null || d < next)) next = d;
            if (next is null || next > until) break;
            Clock.NowMicroseconds = Math.Max(Clock.NowMicroseconds, next.Value);
            foreach (var r in Routers)
            {
                r.Engine.RunDueTimers();
                Deliver();
            }
        }
        Clock.NowMicroseconds = Math.Max(Clock.NowMicroseconds, until);
        Deliver();
    }

    public void RunFor(long micros) => RunUntil(Now + micros);
}

internal static class Vrrp
{
    public const long S = 1_000_000;
    public const long Ms = 1_000;

    public static VrrpInstanceConfig V2(int priority, string name = "VI_1", int vrid = 51) => new()
    {
        Name = name, InterfaceName = "eth0", VirtualRouterId = vrid, Priority = priority, Version = VrrpVersion.V2,
        AdvertisementInterval = TimeSpan.FromSeconds(1),
        VirtualAddresses = new[] { DefaultVip(vrid) },
    };

    /// <summary>192.0.2.100/24 for the default VRID 51; another VRID gets an address of its own (one address belongs to one instance).</summary>
    public static VrrpVirtualAddress DefaultVip(int vrid) => VrrpVirtualAddress.Parse(vrid == 51 ? "192.0.2.100/24" : $"198.51.100.{vrid}/24");

    public static VrrpInstanceConfig V3(int priority, int intervalMs = 100, string name = "VI_1", int vrid = 51) => new()
    {
        Name = name, InterfaceName = "eth0", VirtualRouterId = vrid, Priority = priority, Version = VrrpVersion.V3,
        AdvertisementInterval = TimeSpan.FromMilliseconds(intervalMs),
        VirtualAddresses = new[] { DefaultVip(vrid) },
    };

    /// <summary>A well-formed advert from <paramref name="source"/> for the instance configured by <paramref name="c"/>.</summary>
    public static VrrpReceivedPacket AdvertFrom(VrrpInstanceConfig c, string source, int priority, int? intervalUnits = null, int ttl = 255)
    {
        var src = IPAddress.Parse(source);
        var dst = c.IsUnicast ? IPAddress.Parse("192.0.2.1") : VrrpCodec.MulticastGroup(c.AddressFamily);
        var adv = new VrrpAdvertisement
        {
            Version = c.Version, AddressFamily = c.AddressFamily, VirtualRouterId = (byte)c.VirtualRouterId, Priority = (byte)priority,
            IntervalUnits = intervalUnits ?? c.AdvertisementIntervalUnits,
            AuthType = c.AuthenticationPassword is null ? VrrpAuthType.None : VrrpAuthType.SimpleText,
            AuthData = VrrpCodec.PasswordToAuthData(c.AuthenticationPassword),
            Addresses = c.VirtualAddresses.Select(v => v.Address).ToArray(),
        };
        return new VrrpReceivedPacket(c.AddressFamily, src, dst, ttl, VrrpCodec.Encode(adv, src, dst, c.ChecksumMode));
    }
}

public class VrrpStateMachineTests
{
    private const long S = Vrrp.S;
    private const long Ms = Vrrp.Ms;

    private static (VrrpLan Lan, VrrpRouter A, VrrpRouter B) Pair()
    {
        var lan = new VrrpLan();
        return (lan, lan.AddRouter("A", "192.0.2.1"), lan.AddRouter("B", "192.0.2.2"));
    }

    // ---- startup and timers -------------------------------------------------------------

    [Fact]
    public void V2_backup_alone_becomes_master_after_exactly_master_down_interval()
    {
        var (lan, a, _) = Pair();
        var i = a.Add(Vrrp.V2(100));
        a.Engine.Start();
        Assert.Equal(VrrpState.Backup, i.State);
        Assert.Equal(609_375, i.SkewTimeMicroseconds);
        Assert.Equal(3_609_375, i.MasterDownIntervalMicroseconds);
        Assert.Equal(3_609_375, i.MasterDownTimerDue);
        lan.RunUntil(3_609_374);
        Assert.Equal(VrrpState.Backup, i.State);
        lan.RunUntil(3_609_375);
        Assert.Equal(VrrpState.Master, i.State);
        var change = a.Actions.Changes.Last();
        Assert.Equal(3_609_375, change.AtMicroseconds);
        Assert.Equal(VrrpTransitionReason.MasterDown, change.Reason);
    }

    [Fact]
    public void V3_100ms_backup_alone_becomes_master_after_exactly_master_down_interval()
    {
        var (lan, a, _) = Pair();
        var i = a.Add(Vrrp.V3(100, 100));
        a.Engine.Start();
        Assert.Equal(100_000, i.MasterAdverIntervalMicroseconds);
        Assert.Equal(60_937, i.SkewTimeMicroseconds);
        Assert.Equal(360_937, i.MasterDownIntervalMicroseconds);
        lan.RunUntil(360_936);
        Assert.Equal(VrrpState.Backup, i.State);
        lan.RunUntil(360_937);
        Assert.Equal(VrrpState.Master, i.State);
    }

    [Fact]
    public void Master_sends_an_advert_every_interval()
    {
        var (lan, a, _) = Pair();
        var i = a.Add(Vrrp.V3(100, 100));
        a.Engine.Start();
        lan.RunUntil(360_937 + 1 * S);
        var times = a.Actions.Sent.Select(s => s.At).ToList();
        Assert.Equal(11, times.Count);
        Assert.All(times.Zip(times.Skip(1)), p => Assert.Equal(100_000, p.Second - p.First));
        Assert.Equal(11, i.Counters.AdvertisementsSent);
        Assert.All(a.Actions.Sent, s => Assert.Equal(VrrpCodec.MulticastIPv4, s.Advert.Destination));
    }

    [Fact]
    public void Address_owner_becomes_master_at_startup()
    {
        var (lan, a, b) = Pair();
        var owner = a.Add(Vrrp.V2(255));
        var other = b.Add(Vrrp.V2(254));
        a.Engine.Start();
        b.Engine.Start();
        Assert.Equal(VrrpState.Master, owner.State);
        Assert.Equal(0, a.Actions.Sent[0].At);
        Assert.Equal(VrrpTransitionReason.AddressOwner, a.Actions.Changes.Single().Reason);
        lan.RunFor(30 * S);
        Assert.Equal(VrrpState.Master, owner.State);
        Assert.Equal(VrrpState.Backup, other.State);
    }

    // ---- election -----------------------------------------------------------------------

    [Fact]
    public void Election_by_priority()
    {
        var (lan, a, b) = Pair();
        var low = a.Add(Vrrp.V2(100));
        var high = b.Add(Vrrp.V2(200));
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(20 * S);
        Assert.Equal(VrrpState.Master, high.State);
        Assert.Equal(VrrpState.Backup, low.State);
        Assert.Equal(1, high.Counters.BecameMaster);
        Assert.Equal(0, low.Counters.BecameMaster);
        Assert.Equal(b.Address, low.MasterAddress);
        Assert.Equal(200, low.MasterPriority);
    }

    [Fact]
    public void Election_by_address_on_equal_priority()
    {
        var (lan, a, b) = Pair();
        var ia = a.Add(Vrrp.V2(100));
        var ib = b.Add(Vrrp.V2(100));
        // Both start as Master (forced by starting each alone first), then meet.
        b.Connected = false;
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(5 * S);
        Assert.Equal(VrrpState.Master, ia.State);
        Assert.Equal(VrrpState.Master, ib.State);
        b.Connected = true;
        lan.RunFor(3 * S);
        Assert.Equal(VrrpState.Backup, ia.State); // 192.0.2.1 < 192.0.2.2
        Assert.Equal(VrrpState.Master, ib.State);
        Assert.Contains(a.Actions.Changes, c => c.Reason == VrrpTransitionReason.HigherPriorityAdvertisement);
        Assert.Contains(a.Actions.Log, l => l.StartsWith("del VI_1"));
    }

    [Fact]
    public void Preemption_higher_priority_takes_over_after_its_own_master_down_interval()
    {
        var (lan, a, b) = Pair();
        var low = b.Add(Vrrp.V2(100));
        b.Engine.Start();
        lan.RunFor(10 * S);
        Assert.Equal(VrrpState.Master, low.State);
        long t0 = lan.Now;
        var high = a.Add(Vrrp.V2(200));
        a.Engine.Start();
        // priority 200: skew = 56/256 s = 218750 µs; MDI = 3.21875 s. Lower adverts are discarded, not reset.
        Assert.Equal(3_218_750, high.MasterDownIntervalMicroseconds);
        lan.RunUntil(t0 + 3_218_749);
        Assert.Equal(VrrpState.Backup, high.State);
        lan.RunUntil(t0 + 3_218_750);
        Assert.Equal(VrrpState.Master, high.State);
        Assert.Equal(VrrpState.Backup, low.State);
        Assert.Equal(1, low.Counters.ReleasedMaster);
    }

    [Fact]
    public void NoPreempt_backup_stays_backup()
    {
        var (lan, a, b) = Pair();
        var low = b.Add(Vrrp.V2(100));
        b.Engine.Start();
        lan.RunFor(10 * S);
        var high = a.Add(Vrrp.V2(200) with { NoPreempt = true });
        a.Engine.Start();
        lan.RunFor(60 * S);
        Assert.Equal(VrrpState.Backup, high.State);
        Assert.Equal(VrrpState.Master, low.State);
    }

    [Fact]
    public void Preempt_delay_holds_preemption_then_takes_over()
    {
        var (lan, a, b) = Pair();
        var low = b.Add(Vrrp.V2(100));
        b.Engine.Start();
        lan.RunUntil(10 * S); // B master since 3.609375 s, adverts at 3.609375 + k s
        long t0 = lan.Now;
        var high = a.Add(Vrrp.V2(200) with { PreemptDelay = TimeSpan.FromSeconds(10) });
        a.Engine.Start();
        lan.RunUntil(t0 + 1 * S);
        long firstLower = 10_609_375; // first advert from B that A hears
        Assert.Equal(firstLower + 10 * S, high.PreemptDelayUntil);
        lan.RunUntil(firstLower + 10 * S);
        Assert.Equal(VrrpState.Backup, high.State);
        // Adverts before firstLower + 10 s are accepted; the one at exactly +10 s and later ones are discarded,
        // so A takes over one Master_Down_Interval after the one at +9 s.
        long lastAccepted = firstLower + 9 * S;
        lan.RunUntil(lastAccepted + 3_218_749);
        Assert.Equal(VrrpState.Backup, high.State);
        lan.RunUntil(lastAccepted + 3_218_750);
        Assert.Equal(VrrpState.Master, high.State);
        lan.RunFor(1 * S);
        Assert.Equal(VrrpState.Backup, low.State);
    }

    // ---- master loss and graceful stop --------------------------------------------------

    [Fact]
    public void V2_master_loss_backup_takes_over_after_exactly_master_down_interval()
    {
        var (lan, a, b) = Pair();
        var master = a.Add(Vrrp.V2(200));
        var backup = b.Add(Vrrp.V2(100));
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(10 * S);
        Assert.Equal(VrrpState.Master, master.State);
        long lastAdvert = a.Actions.Sent.Last().At;
        a.Connected = false; // crash: no priority-0
        lan.RunUntil(lastAdvert + 3_609_374);
        Assert.Equal(VrrpState.Backup, backup.State);
        lan.RunUntil(lastAdvert + 3_609_375);
        Assert.Equal(VrrpState.Master, backup.State);
        Assert.Equal(lastAdvert + 3_609_375, b.Actions.Changes.Last().AtMicroseconds);
    }

    [Fact]
    public void V3_100ms_master_loss_backup_takes_over_after_exactly_master_down_interval()
    {
        var (lan, a, b) = Pair();
        var master = a.Add(Vrrp.V3(200, 100));
        var backup = b.Add(Vrrp.V3(100, 100));
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(2 * S);
        Assert.Equal(VrrpState.Master, master.State);
        long lastAdvert = a.Actions.Sent.Last().At;
        a.Connected = false;
        Assert.Equal(lastAdvert + 360_937, backup.MasterDownTimerDue);
        lan.RunUntil(lastAdvert + 360_936);
        Assert.Equal(VrrpState.Backup, backup.State);
        lan.RunUntil(lastAdvert + 360_937);
        Assert.Equal(VrrpState.Master, backup.State);
    }

    [Fact]
    public void Graceful_stop_sends_priority_zero_and_backup_takes_over_after_skew_time()
    {
        var (lan, a, b) = Pair();
        var master = a.Add(Vrrp.V2(200));
        var backup = b.Add(Vrrp.V2(100));
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(10 * S + 300 * Ms);
        long tStop = lan.Now;
        a.Engine.Stop();
        Assert.Equal(VrrpState.Initialize, master.State);
        Assert.Equal(0, a.Actions.Sent.Last().Advert.Advertisement.Priority);
        Assert.True(a.Actions.Sent.Last().Advert.IsPriorityZero);
        Assert.Equal(1, master.Counters.PriorityZeroSent);
        Assert.Contains(a.Actions.Log, l => l.StartsWith("del VI_1"));
        Assert.Equal("STOP", a.Actions.Notifications.Last().StateName);
        lan.Deliver();
        Assert.Equal(1, backup.Counters.PriorityZeroReceived);
        Assert.Equal(tStop + 609_375, backup.MasterDownTimerDue);
        lan.RunUntil(tStop + 609_374);
        Assert.Equal(VrrpState.Backup, backup.State);
        lan.RunUntil(tStop + 609_375);
        Assert.Equal(VrrpState.Master, backup.State);
    }

    [Fact]
    public void V3_graceful_stop_skew_uses_the_learned_interval()
    {
        var (lan, a, b) = Pair();
        a.Add(Vrrp.V3(200, 100));
        var backup = b.Add(Vrrp.V3(100, 1000)); // configured 1 s, learns 100 ms from the master
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(5 * S);
        Assert.Equal(100_000, backup.MasterAdverIntervalMicroseconds);
        long tStop = lan.Now;
        a.Engine.Stop();
        lan.Deliver();
        Assert.Equal(tStop + 60_937, backup.MasterDownTimerDue);
        lan.RunUntil(tStop + 60_937);
        Assert.Equal(VrrpState.Master, backup.State);
        // As Master it advertises its own interval again.
        Assert.Equal(1_000_000, backup.MasterAdverIntervalMicroseconds);
        Assert.Equal(100, b.Actions.Sent.Last().Advert.Advertisement.IntervalUnits);
    }

    [Fact]
    public void V3_learned_interval_sets_master_down_interval()
    {
        var (lan, a, b) = Pair();
        a.Add(Vrrp.V3(200, 50));
        var backup = b.Add(Vrrp.V3(100, 1000));
        b.Engine.Start();
        Assert.Equal(3 * S + 609_375, backup.MasterDownIntervalMicroseconds); // own 1 s before hearing anyone
        a.Engine.Start();
        lan.RunFor(1 * S);
        Assert.Equal(50_000, backup.MasterAdverIntervalMicroseconds);
        Assert.Equal(3 * 50_000 + 156 * 50_000 / 256, backup.MasterDownIntervalMicroseconds);
        long lastAdvert = a.Actions.Sent.Last().At;
        a.Connected = false;
        lan.RunUntil(lastAdvert + 180_468);
        Assert.Equal(VrrpState.Master, backup.State);
        Assert.Equal(lastAdvert + 180_468, b.Actions.Changes.Last().AtMicroseconds);
    }

    [Fact]
    public void Master_answers_a_priority_zero_advert_at_once()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i = a.Add(Vrrp.V2(100));
        a.Engine.Start();
        lan.RunUntil(5 * S);
        Assert.Equal(VrrpState.Master, i.State);
        int before = a.Actions.Sent.Count;
        Assert.Equal(VrrpRejectReason.None, a.Engine.Receive("eth0", Vrrp.AdvertFrom(i.Config, "192.0.2.9", 0)));
        Assert.Equal(before + 1, a.Actions.Sent.Count);
        Assert.Equal(lan.Now + S, i.AdverTimerDue);
        Assert.Equal(VrrpState.Master, i.State);
        Assert.Equal(1, i.Counters.PriorityZeroReceived);
    }

    /// <summary>Router A alone on the link, Master of one VRRPv2 instance (1 s) at 5 s.</summary>
    private static (VrrpLan Lan, VrrpRouter A, VrrpInstance I) MasterOnItsOwn()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i = a.Add(Vrrp.V2(100));
        a.Engine.Start();
        lan.RunUntil(5 * S);
        return (lan, a, i);
    }

    [Fact]
    public void Master_answers_a_priority_zero_flood_once_per_interval_per_sender()
    {
        var (lan, a, i) = MasterOnItsOwn();
        Assert.Equal(VrrpState.Master, i.State);
        int before = a.Actions.Sent.Count;
        long start = lan.Now;
        // 10,000 forged priority-0 adverts from one sender over 10 s (one per millisecond), the timers running.
        for (int k = 0; k < 10_000; k++)
        {
            lan.RunUntil(start + k * 1000L);
            a.Engine.Receive("eth0", Vrrp.AdvertFrom(i.Config, "192.0.2.9", 0));
        }
        lan.RunUntil(start + 10 * S);
        int sent = a.Actions.Sent.Count - before;
        // The RFC's immediate answer, then the adverts at their interval (which answer the sender too): 11 in 10 s.
        Assert.InRange(sent, 10, 11);
        Assert.Equal(10_000, i.Counters.PriorityZeroReceived);
        Assert.Equal(1, i.Counters.PriorityZeroAnswered);
        Assert.Equal(10_000 - 1, i.Counters.PriorityZeroIgnored);
        // Never two adverts closer than the interval.
        var times = a.Actions.Sent.Skip(before).Select(s => s.At).ToList();
        Assert.All(times.Zip(times.Skip(1)), p => Assert.True(p.Second - p.First >= S, $"{p.First} -> {p.Second}"));
        Assert.Equal(VrrpState.Master, i.State);
    }

    [Fact]
    public void Master_rate_limits_a_queue_of_priority_zero_adverts_that_arrived_before_its_last_send()
    {
        // A host under a flood reads adverts late: their arrival times are earlier than the engine's clock, and
        // earlier than the advert it sent last. Each must not look unanswered.
        var (lan, a, i) = MasterOnItsOwn();
        int before = a.Actions.Sent.Count;
        long start = lan.Now;
        for (int k = 0; k < 5_000; k++)
        {
            lan.RunUntil(start + k * 1000L);
            var p = Vrrp.AdvertFrom(i.Config, "192.0.2.9", 0) with { ArrivedAtMicroseconds = lan.Now - 3_000 };
            a.Engine.Receive("eth0", p);
        }
        Assert.InRange(a.Actions.Sent.Count - before, 5, 6);
        Assert.Equal(1, i.Counters.PriorityZeroAnswered);
    }

    [Fact]
    public void Master_answers_each_sender_at_once_but_no_more_than_eight_new_senders_per_interval()
    {
        var (lan, a, i) = MasterOnItsOwn();
        int before = a.Actions.Sent.Count;
        // Two real routers stepping down at the same moment: both answered at once.
        a.Engine.Receive("eth0", Vrrp.AdvertFrom(i.Config, "192.0.2.8", 0));
        a.Engine.Receive("eth0", Vrrp.AdvertFrom(i.Config, "192.0.2.9", 0));
        Assert.Equal(before + 2, a.Actions.Sent.Count);
        // Forged from ever-new addresses within one interval: at most 8 senders are answered.
        for (int k = 10; k < 250; k++) a.Engine.Receive("eth0", Vrrp.AdvertFrom(i.Config, $"192.0.2.{k}", 0));
        Assert.Equal(before + 8, a.Actions.Sent.Count);
        Assert.Equal(8, i.Counters.PriorityZeroAnswered);
        Assert.Equal(240 - 6, i.Counters.PriorityZeroIgnored);
        // Half an interval later a known sender is not answered again (it had an answer then) ...
        lan.RunUntil(lan.Now + S / 2);
        int half = a.Actions.Sent.Count;
        a.Engine.Receive("eth0", Vrrp.AdvertFrom(i.Config, "192.0.2.8", 0));
        Assert.Equal(half, a.Actions.Sent.Count);
        // ... and once the forged senders have not been heard for an interval, a new one is answered at once.
        lan.RunUntil(lan.Now + S);
        int later = a.Actions.Sent.Count;
        a.Engine.Receive("eth0", Vrrp.AdvertFrom(i.Config, "192.0.2.251", 0));
        Assert.Equal(later + 1, a.Actions.Sent.Count);
    }

    [Fact]
    public void Master_discards_lower_priority_advert()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i = a.Add(Vrrp.V2(100));
        a.Engine.Start();
        lan.RunUntil(5 * S);
        Assert.Equal(VrrpRejectReason.None, a.Engine.Receive("eth0", Vrrp.AdvertFrom(i.Config, "192.0.2.9", 99)));
        Assert.Equal(VrrpState.Master, i.State);
        Assert.Equal(1, i.Counters.AdvertisementsReceived);
    }

    // ---- GARP, VIPs, notify ------------------------------------------------------------

    [Fact]
    public void Becoming_master_adds_vips_and_schedules_garp_bursts()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var cfg = Vrrp.V2(255) with
        {
            VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.100/24", "eth0:1"), VrrpVirtualAddress.Parse("192.0.2.101") },
            Garp = new VrrpGarpSettings { Delay = TimeSpan.FromSeconds(5), Repeat = 3, Refresh = TimeSpan.FromSeconds(60), RefreshRepeat = 2 },
        };
        var i = a.Add(cfg);
        a.Engine.Start();
        Assert.Equal(new[] { "add VI_1 192.0.2.100/24 label eth0:1,192.0.2.101/32", "garp VI_1 3 BecameMaster" }, a.Actions.Log);
        Assert.True(i.VirtualAddressesInstalled);
        lan.RunUntil(185 * S);
        Assert.Equal(new[]
        {
            (0L, 3, VrrpGarpKind.BecameMaster),
            (5 * S, 3, VrrpGarpKind.Delayed),
            (65 * S, 2, VrrpGarpKind.Refresh),
            (125 * S, 2, VrrpGarpKind.Refresh),
            (185 * S, 2, VrrpGarpKind.Refresh),
        }, a.Actions.Garps);
        a.Engine.Stop();
        Assert.Equal("del VI_1 192.0.2.100/24 label eth0:1,192.0.2.101/32", a.Actions.Log.Last());
        Assert.Null(i.GarpRefreshDue);
    }

    [Fact]
    public void No_second_burst_with_zero_delay()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        a.Add(Vrrp.V2(255) with { Garp = new VrrpGarpSettings { Delay = TimeSpan.Zero } });
        a.Engine.Start();
        lan.RunFor(60 * S);
        Assert.Single(a.Actions.Garps);
    }

    [Fact]
    public void Notify_uses_keepalived_arguments()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        a.Add(Vrrp.V2(100) with { NotifyScript = "/etc/ha/notify.sh", NotifyMaster = "/etc/ha/master.sh" });
        a.Engine.Start();
        lan.RunFor(5 * S);
        var backup = a.Actions.Notifications[0];
        Assert.Equal(new[] { "INSTANCE", "VI_1", "BACKUP", "100" }, backup.Arguments);
        Assert.Equal("/etc/ha/notify.sh", backup.Commands.Single().Command);
        var master = a.Actions.Notifications[1];
        Assert.Equal(new[] { "/etc/ha/master.sh", "/etc/ha/notify.sh" }, master.Commands.Select(c => c.Command));
        Assert.Empty(master.Commands[0].Arguments);
        Assert.Equal(new[] { "INSTANCE", "VI_1", "MASTER", "100" }, master.Commands[1].Arguments);
    }

    [Fact]
    public void State_changed_event_is_raised()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var seen = new List<VrrpStateChange>();
        a.Engine.StateChanged += (_, c) => seen.Add(c);
        a.Add(Vrrp.V2(100));
        a.Engine.Start();
        lan.RunFor(5 * S);
        Assert.Equal(new[] { (VrrpState.Initialize, VrrpState.Backup), (VrrpState.Backup, VrrpState.Master) }, seen.Select(c => (c.From, c.To)));
        Assert.Equal(seen, a.Actions.Changes);
    }

    // ---- unicast -------------------------------------------------------------------------

    [Fact]
    public void Unicast_sends_to_each_peer_with_its_own_checksum()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var b = lan.AddRouter("B", "192.0.2.2");
        var c = lan.AddRouter("C", "192.0.2.3");
        VrrpInstanceConfig Uni(int prio, params string[] peers) => Vrrp.V3(prio, 100) with { UnicastPeers = peers.Select(IPAddress.Parse).ToArray() };
        var ia = a.Add(Uni(200, "192.0.2.2", "192.0.2.3"));
        var ib = b.Add(Uni(100, "192.0.2.1", "192.0.2.3"));
        var ic = c.Add(Uni(50, "192.0.2.1", "192.0.2.2"));
        foreach (var r in lan.Routers) r.Engine.Start();
        lan.RunFor(3 * S);
        Assert.Equal(VrrpState.Master, ia.State);
        Assert.Equal(VrrpState.Backup, ib.State);
        Assert.Equal(VrrpState.Backup, ic.State);
        var sent = a.Actions.Sent.TakeLast(2).ToList();
        Assert.Equal(new[] { "192.0.2.2", "192.0.2.3" }, sent.Select(s => s.Advert.Destination.ToString()));
        Assert.All(sent, s => Assert.False(s.Advert.IsMulticast));
        Assert.NotEqual(sent[0].Advert.Message[6..8], sent[1].Advert.Message[6..8]);
        Assert.Equal(0, ib.Counters.TotalRejected);
    }

    // ---- tracking ------------------------------------------------------------------------

    [Fact]
    public void Weight_zero_interface_down_is_fault_and_master_steps_down()
    {
        var (lan, a, b) = Pair();
        var ia = a.Add(Vrrp.V2(200) with { TrackInterfaces = new[] { new VrrpTrackInterface("eth1") } });
        var ib = b.Add(Vrrp.V2(100));
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(10 * S);
        Assert.Equal(VrrpState.Master, ia.State);
        long t = lan.Now;
        a.Engine.SetInterfaceState("eth1", false);
        Assert.Equal(VrrpState.Fault, ia.State);
        Assert.Contains("tracked interface eth1 is down", ia.FaultReasons);
        Assert.True(a.Actions.Sent.Last().Advert.IsPriorityZero);
        Assert.Contains(a.Actions.Log, l => l.StartsWith("del"));
        Assert.Equal("FAULT", a.Actions.Notifications.Last().StateName);
        lan.RunUntil(t + 609_375);
        Assert.Equal(VrrpState.Master, ib.State);
        // Fault is silent: no adverts, adverts ignored.
        int sent = a.Actions.Sent.Count;
        lan.RunFor(10 * S);
        Assert.Equal(sent, a.Actions.Sent.Count);
        // Recovery: Backup, then preempts back (priority 200 > 100).
        a.Engine.SetInterfaceState("eth1", true);
        Assert.Equal(VrrpState.Backup, ia.State);
        Assert.Equal(VrrpTransitionReason.FaultCleared, a.Actions.Changes.Last().Reason);
        lan.RunFor(4 * S);
        Assert.Equal(VrrpState.Master, ia.State);
        Assert.Equal(VrrpState.Backup, ib.State);
    }

    [Fact]
    public void Own_interface_down_is_fault()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i = a.Add(Vrrp.V2(100));
        a.Engine.Start();
        a.Engine.SetInterfaceState("eth0", false);
        Assert.Equal(VrrpState.Fault, i.State);
        Assert.Null(a.Engine.NextDueMicroseconds);
    }

    [Fact]
    public void Negative_weight_lowers_priority_and_lets_the_backup_preempt()
    {
        var (lan, a, b) = Pair();
        var ia = a.Add(Vrrp.V2(150) with { TrackInterfaces = new[] { new VrrpTrackInterface("eth1", -60) } });
        var ib = b.Add(Vrrp.V2(100));
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(10 * S);
        Assert.Equal(VrrpState.Master, ia.State);
        a.Engine.SetInterfaceState("eth1", false);
        Assert.Equal(90, ia.EffectivePriority);
        Assert.Equal(VrrpState.Master, ia.State);
        lan.RunFor(5 * S);
        Assert.Equal(VrrpState.Backup, ia.State);
        Assert.Equal(VrrpState.Master, ib.State);
        Assert.All(a.Actions.Sent.Where(s => s.At > 10 * S), s => Assert.Equal(90, s.Advert.Advertisement.Priority));
    }

    [Fact]
    public void Positive_weight_adds_while_up_and_priority_is_clamped()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i = a.Add(Vrrp.V2(250) with { TrackInterfaces = new[] { new VrrpTrackInterface("eth1", 20) } });
        a.Engine.Start();
        Assert.Equal(254, i.EffectivePriority);
        a.Engine.SetInterfaceState("eth1", false);
        Assert.Equal(250, i.EffectivePriority);
        var j = a.Add(Vrrp.V2(10, "VI_2", 52) with { TrackInterfaces = new[] { new VrrpTrackInterface("eth2", -50) } });
        a.Engine.Start();
        a.Engine.SetInterfaceState("eth2", false);
        Assert.Equal(1, j.EffectivePriority);
    }

    [Fact]
    public void Priority_change_moves_the_running_down_timer()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i = a.Add(Vrrp.V2(100) with { TrackInterfaces = new[] { new VrrpTrackInterface("eth1", -50) } });
        a.Engine.Start();
        Assert.Equal(3_609_375, i.MasterDownTimerDue);
        a.Engine.SetInterfaceState("eth1", false); // 50: skew 206/256 s = 804687.5 -> 804687
        Assert.Equal(3_804_687, i.MasterDownTimerDue);
    }

    [Fact]
    public void Track_script_rise_and_fall_with_weight_zero_fault()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var script = new VrrpTrackScript("chk_nginx", "/usr/local/bin/check-nginx") { Interval = TimeSpan.FromSeconds(2), Fall = 2, Rise = 3 };
        var i = a.Add(Vrrp.V2(100) with { TrackScripts = new[] { script } });
        a.Engine.Start();
        lan.RunUntil(0);
        Assert.Equal(new[] { (0L, "chk_nginx") }, a.Actions.ScriptRuns);
        // Still running at the next interval: not started twice.
        lan.RunUntil(2 * S);
        Assert.Single(a.Actions.ScriptRuns);
        a.Engine.ReportTrackScriptResult("chk_nginx", false);
        Assert.Equal(VrrpState.Backup, i.State); // 1 of 2 failures
        lan.RunUntil(4 * S);
        Assert.Equal(2, a.Actions.ScriptRuns.Count);
        a.Engine.ReportTrackScriptResult("chk_nginx", false);
        Assert.Equal(VrrpState.Fault, i.State);
        Assert.False(a.Engine.GetTrackScriptState("chk_nginx"));
        a.Engine.ReportTrackScriptResult("chk_nginx", true);
        a.Engine.ReportTrackScriptResult("chk_nginx", true);
        Assert.Equal(VrrpState.Fault, i.State);
        a.Engine.ReportTrackScriptResult("chk_nginx", false); // resets the rise count
        a.Engine.ReportTrackScriptResult("chk_nginx", true);
        a.Engine.ReportTrackScriptResult("chk_nginx", true);
        Assert.Equal(VrrpState.Fault, i.State);
        a.Engine.ReportTrackScriptResult("chk_nginx", true);
        Assert.Equal(VrrpState.Backup, i.State);
    }

    [Fact]
    public void Track_script_weight_changes_priority()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var up = new VrrpTrackScript("bonus", "/bin/true") { Weight = 10 };
        var down = new VrrpTrackScript("malus", "/bin/false") { Weight = -30 };
        var i = a.Add(Vrrp.V2(100) with { TrackScripts = new[] { up, down } });
        a.Engine.Start();
        Assert.Equal(110, i.EffectivePriority);
        a.Engine.ReportTrackScriptResult("malus", false);
        Assert.Equal(80, i.EffectivePriority);
        a.Engine.ReportTrackScriptResult("bonus", false);
        Assert.Equal(70, i.EffectivePriority);
    }

    [Fact]
    public void Initially_failed_script_starts_in_fault()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var s = new VrrpTrackScript("chk", "/bin/chk") { InitiallyFailed = true };
        var i = a.Add(Vrrp.V2(100) with { TrackScripts = new[] { s } });
        a.Engine.Start();
        Assert.Equal(VrrpState.Fault, i.State);
        a.Engine.ReportTrackScriptResult("chk", true);
        Assert.Equal(VrrpState.Backup, i.State);
    }

    // ---- sync groups ---------------------------------------------------------------------

    private static (VrrpLan, VrrpRouter, VrrpRouter) SyncPair(out VrrpInstance a1, out VrrpInstance a2, out VrrpInstance b1, out VrrpInstance b2)
    {
        var (lan, a, b) = Pair();
        VrrpInstanceConfig C(int prio, string name, int vrid, string vip) => Vrrp.V2(prio, name, vrid) with
        {
            SyncGroup = "G", VirtualAddresses = new[] { VrrpVirtualAddress.Parse(vip) },
            TrackInterfaces = name == "VI_2" ? new[] { new VrrpTrackInterface("eth1") } : Array.Empty<VrrpTrackInterface>(),
        };
        a1 = a.Add(C(200, "VI_1", 1, "192.0.2.100"));
        a2 = a.Add(C(200, "VI_2", 2, "198.51.100.100"));
        b1 = b.Add(C(100, "VI_1", 1, "192.0.2.100"));
        b2 = b.Add(C(100, "VI_2", 2, "198.51.100.100"));
        return (lan, a, b);
    }

    [Fact]
    public void Sync_group_members_become_master_together()
    {
        var (lan, a, b) = SyncPair(out var a1, out var a2, out var b1, out var b2);
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(20 * S);
        Assert.Equal(new[] { VrrpState.Master, VrrpState.Master }, new[] { a1.State, a2.State });
        Assert.Equal(new[] { VrrpState.Backup, VrrpState.Backup }, new[] { b1.State, b2.State });
        var masterAt = a.Actions.Changes.Where(c => c.To == VrrpState.Master).Select(c => c.AtMicroseconds).Distinct();
        Assert.Single(masterAt);
    }

    [Fact]
    public void Sync_group_fault_of_one_member_moves_the_whole_group()
    {
        var (lan, a, b) = SyncPair(out var a1, out var a2, out var b1, out var b2);
        a.Engine.Start();
        b.Engine.Start();
        lan.RunFor(20 * S);
        a.Engine.SetInterfaceState("eth1", false); // only VI_2 tracks eth1
        Assert.Equal(VrrpState.Fault, a2.State);
        Assert.Equal(VrrpState.Fault, a1.State);
        Assert.Equal(VrrpTransitionReason.SyncGroup, a.Actions.Changes.Single(c => c.Instance == a1 && c.To == VrrpState.Fault).Reason);
        Assert.Equal(2, a.Actions.Sent.Count(s => s.Advert.IsPriorityZero));
        lan.RunFor(2 * S);
        Assert.Equal(new[] { VrrpState.Master, VrrpState.Master }, new[] { b1.State, b2.State });
        a.Engine.SetInterfaceState("eth1", true);
        Assert.Equal(new[] { VrrpState.Backup, VrrpState.Backup }, new[] { a1.State, a2.State });
        lan.RunFor(5 * S);
        Assert.Equal(new[] { VrrpState.Master, VrrpState.Master }, new[] { a1.State, a2.State });
        Assert.Equal(new[] { VrrpState.Backup, VrrpState.Backup }, new[] { b1.State, b2.State });
    }

    [Fact]
    public void Sync_group_member_leaving_master_takes_the_group_to_backup()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i1 = a.Add(Vrrp.V2(100, "VI_1", 1) with { SyncGroup = "G" });
        var i2 = a.Add(Vrrp.V2(100, "VI_2", 2) with { SyncGroup = "G", VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.101") } });
        a.Engine.Start();
        lan.RunFor(10 * S);
        Assert.Equal(VrrpState.Master, i1.State);
        Assert.Equal(VrrpState.Master, i2.State);
        a.Engine.Receive("eth0", Vrrp.AdvertFrom(i1.Config, "192.0.2.9", 200));
        Assert.Equal(VrrpState.Backup, i1.State);
        Assert.Equal(VrrpState.Backup, i2.State);
        Assert.Equal(VrrpTransitionReason.SyncGroup, a.Actions.Changes.Last().Reason);
    }

    [Fact]
    public void Sync_group_member_waits_for_the_others_before_master()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i1 = a.Add(Vrrp.V2(200, "VI_1", 1) with { SyncGroup = "G" });
        var i2 = a.Add(Vrrp.V2(100, "VI_2", 2) with { SyncGroup = "G", VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.101") } });
        a.Engine.Start();
        // VI_1's timer (3.21875 s) fires first but VI_2 (3.609375 s) still waits: the group moves at 3.609375 s.
        lan.RunUntil(3_609_374);
        Assert.Equal(VrrpState.Backup, i1.State);
        Assert.True(i1.WantsMaster);
        lan.RunUntil(3_609_375);
        Assert.Equal(VrrpState.Master, i1.State);
        Assert.Equal(VrrpState.Master, i2.State);
    }

    // ---- configuration through the engine -------------------------------------------------

    [Fact]
    public void Second_instance_with_same_interface_and_vrid_is_refused()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        a.Add(Vrrp.V2(100));
        var ex = Assert.Throws<VrrpConfigurationException>(() => a.Add(Vrrp.V2(100, "other")));
        Assert.Equal("VrrpInstanceDuplicate", ex.ErrorId);
        Assert.Contains("VI_1", ex.Message);
        // Same VRID for IPv6 is a separate router (RFC 5798: VRIDs are per address family).
        a.Engine.Add(Vrrp.V3(100, 100, "six") with
        {
            VirtualAddresses = new[] { VrrpVirtualAddress.Parse("2001:db8::100") }, SourceAddress = IPAddress.Parse("fe80::1"),
        });
    }

    [Fact]
    public void SetPriority_is_validated_and_applied()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i = a.Add(Vrrp.V2(100));
        a.Engine.Start();
        a.Engine.SetPriority("VI_1", 120);
        Assert.Equal(120, i.EffectivePriority);
        Assert.Equal("VrrpPriorityOutOfRange", Assert.Throws<VrrpConfigurationException>(() => a.Engine.SetPriority("VI_1", 0)).ErrorId);
    }

    // ---- counters ------------------------------------------------------------------------

    [Fact]
    public void Counters_track_sends_receives_and_transitions()
    {
        var (lan, a, b) = Pair();
        var ia = a.Add(Vrrp.V2(200));
        var ib = b.Add(Vrrp.V2(100));
        a.Engine.Start();
        b.Engine.Start();
        lan.RunUntil(3_218_750 + 5 * S);
        Assert.Equal(1, ia.Counters.BecameMaster);
        Assert.Equal(6, ia.Counters.AdvertisementsSent);
        Assert.Equal(6, ib.Counters.AdvertisementsReceived);
        a.Engine.Stop();
        lan.Deliver();
        Assert.Equal(1, ia.Counters.PriorityZeroSent);
        Assert.Equal(1, ia.Counters.ReleasedMaster);
        Assert.Equal(1, ib.Counters.PriorityZeroReceived);
    }
}

public class VrrpTakeoverRehearsalTests
{
    [Theory]
    [InlineData(100)]
    [InlineData(255)]
    public void Rehearsal_reaches_master_on_its_own_engine_and_leaves_the_real_instance_alone(int priority)
    {
        var clock = new FakeVrrpClock { NowMicroseconds = 5 * Vrrp.S };
        var router = new VrrpRouter("A", IPAddress.Parse("192.0.2.1"), clock);
        var config = Vrrp.V3(priority) with
        {
            SyncGroup = "G",
            TrackInterfaces = new[] { new VrrpTrackInterface("eth9", 0) },
        };
        var inst = router.Add(config);
        router.Engine.Start();
        var state = inst.State;
        var due = inst.MasterDownTimerDue;
        int sent = router.Actions.Sent.Count, changes = router.Actions.Changes.Count, log = router.Actions.Log.Count;

        Assert.True(HaPowerShell.Hosting.Vrrp.VrrpHost.RehearseTakeover(inst));

        Assert.Equal(state, inst.State);
        Assert.Equal(due, inst.MasterDownTimerDue);
        Assert.Equal(sent, router.Actions.Sent.Count);
        Assert.Equal(changes, router.Actions.Changes.Count);
        Assert.Equal(log, router.Actions.Log.Count);
        Assert.Equal(5 * Vrrp.S, clock.NowMicroseconds);
    }
}

public class VrrpArrivalTimeTests
{
    private static (VrrpRouter Router, VrrpInstance Instance) BackupAtTenSeconds()
    {
        var lan = new VrrpLan();
        var a = lan.AddRouter("A", "192.0.2.1");
        var i = a.Add(Vrrp.V3(100));
        a.Engine.Start();
        lan.Clock.NowMicroseconds = 10 * Vrrp.S;
        return (a, i);
    }

    [Fact]
    public void Master_down_timer_runs_from_the_adverts_arrival()
    {
        var (a, i) = BackupAtTenSeconds();
        var advert = Vrrp.AdvertFrom(i.Config, "192.0.2.9", 200) with { ArrivedAtMicroseconds = 10 * Vrrp.S - 700 };
        Assert.Equal(VrrpRejectReason.None, a.Engine.Receive("eth0", advert));
        Assert.Equal(10 * Vrrp.S - 700 + i.MasterDownIntervalMicroseconds, i.MasterDownTimerDue);
        Assert.Equal(a.Engine.NextMasterDown?.Due, i.MasterDownTimerDue);
        Assert.Same(i, a.Engine.NextMasterDown?.Instance);
    }

    [Fact]
    public void An_arrival_time_after_now_is_not_believed()
    {
        var (a, i) = BackupAtTenSeconds();
        a.Engine.Receive("eth0", Vrrp.AdvertFrom(i.Config, "192.0.2.9", 200) with { ArrivedAtMicroseconds = 10 * Vrrp.S + 5_000 });
        Assert.Equal(10 * Vrrp.S + i.MasterDownIntervalMicroseconds, i.MasterDownTimerDue);
    }

    [Theory]
    [InlineData(1_000_000_300_000L, 1_000_000_000_000L, 50_000_000L, 49_999_700L)]   // arrived 300 us ago
    [InlineData(1_000_000_000_000L, 1_000_000_000_000L, 50_000_000L, 50_000_000L)]   // just now
    public void Kernel_receive_time_becomes_engine_time(long nowNs, long arrivalNs, long engineNow, long expected)
        => Assert.Equal(expected, HaPowerShell.Hosting.Vrrp.VrrpHost.ToEngineTime(arrivalNs, nowNs, engineNow));

    [Theory]
    [InlineData(0L, 1_000_000_000_000L)]                 // no timestamp from the kernel
    [InlineData(1_000_000_500_000L, 1_000_000_000_000L)] // in the future: the wall clock was stepped back
    [InlineData(1_000_000_000_000L, 1_002_000_000_000L)] // two seconds old: stepped forward
    public void Unbelievable_receive_times_are_dropped(long arrivalNs, long nowNs)
        => Assert.Null(HaPowerShell.Hosting.Vrrp.VrrpHost.ToEngineTime(arrivalNs, nowNs, 50_000_000));
}
