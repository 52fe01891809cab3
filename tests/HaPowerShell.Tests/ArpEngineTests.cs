using System.Net;
using System.Net.NetworkInformation;
using HaPowerShell.Core.Arp;
using HaPowerShell.Native.Packet;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>A clock in microseconds that only moves when the test (or a fake channel) moves it.</summary>
internal sealed class FakeArpClock : IArpClock
{
    public long Now;
    public static readonly DateTime Epoch = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    public long GetTimestamp() => Now;
    public long Frequency => 1_000_000;
    public DateTime UtcNow => Epoch.AddTicks(Now * 10);
    public List<TimeSpan> Waits { get; } = new();
    public void Wait(TimeSpan delay, CancellationToken cancel)
    {
        Waits.Add(delay);
        if (delay > TimeSpan.Zero) Now += (long)(delay.TotalMilliseconds * 1000);
    }
    public void Advance(TimeSpan t) => Now += (long)(t.TotalMilliseconds * 1000);
}

/// <summary>
/// A link in a box: records what is sent, and a responder scripts frames that "arrive" a given
/// number of microseconds later. Receive moves the fake clock to the arrival (or to the timeout).
/// </summary>
internal sealed class FakeChannel : IFrameChannel
{
    private readonly FakeArpClock _clock;
    private readonly List<(long At, byte[] Frame, FrameDirection Direction)> _pending = new();
    public FakeChannel(FakeArpClock clock) => _clock = clock;
    public List<(long At, byte[] Frame)> Sent { get; } = new();
    public Func<byte[], IEnumerable<(long DelayMicroseconds, byte[] Frame, FrameDirection Direction)>>? Responder { get; set; }
    public bool Disposed { get; private set; }

    public void Inject(long atMicroseconds, byte[] frame, FrameDirection direction = FrameDirection.Broadcast)
        => _pending.Add((atMicroseconds, frame, direction));

    public DateTime Send(ReadOnlySpan<byte> frame)
    {
        var copy = frame.ToArray();
        Sent.Add((_clock.Now, copy));
        var stamp = _clock.UtcNow;
        if (Responder is not null)
            foreach (var (delay, f, d) in Responder(copy)) _pending.Add((_clock.Now + delay, f, d));
        return stamp;
    }

    public ReceivedFrame? Receive(TimeSpan timeout)
    {
        long deadline = _clock.Now + (long)(timeout.TotalMilliseconds * 1000);
        var next = _pending.Where(p => p.At <= deadline).OrderBy(p => p.At).FirstOrDefault();
        if (next.Frame is null) { _clock.Now = deadline; return null; }
        _pending.Remove(next);
        _clock.Now = Math.Max(_clock.Now, next.At);
        return new ReceivedFrame(next.Frame, next.Direction, FakeArpClock.Epoch.AddTicks(next.At * 10), _clock.Now);
    }

    public void Dispose() => Disposed = true;
}

public class ArpEngineTests
{
    private static readonly PhysicalAddress Our = PhysicalAddress.Parse("02-00-5E-10-00-01");
    private static readonly PhysicalAddress Peer = PhysicalAddress.Parse("02-00-5E-10-00-02");
    private static readonly PhysicalAddress Peer2 = PhysicalAddress.Parse("02-00-5E-10-00-03");
    private static readonly ArpInterface Eth0 = new("eth0", 2, Our);
    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    private static byte[] ReplyFrom(PhysicalAddress mac, string sender, string target, PhysicalAddress? targetMac = null)
        => ArpCodec.Build(new ArpPacket(targetMac ?? Our, mac, ArpOperation.Reply, mac, Ip(sender), targetMac ?? Our, Ip(target)));

    [Fact]
    public void Announce_SendsRoundsOfEveryAddress()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock);
        var results = new ArpEngine(clock).Announce(ch, Eth0, new[] { Ip("192.0.2.30"), Ip("2001:db8::30") }, GratuitousArpMode.Request, 3, TimeSpan.FromSeconds(1));
        Assert.Equal(6, ch.Sent.Count);
        Assert.Equal(new long[] { 0, 0, 1_000_000, 1_000_000, 2_000_000, 2_000_000 }, ch.Sent.Select(s => s.At));
        Assert.Equal(ArpCodec.BuildGratuitousRequest(Our, Ip("192.0.2.30")), ch.Sent[0].Frame);
        Assert.Equal(NdpCodec.BuildUnsolicitedAdvertisement(Our, Ip("2001:db8::30")), ch.Sent[1].Frame);
        Assert.All(results, r => Assert.Equal(3, r.FramesSent));
        Assert.Equal(AnnouncementKind.ArpRequest, results[0].Kind);
        Assert.Equal(AnnouncementKind.NeighborAdvertisement, results[1].Kind);
        Assert.Equal("02:00:5e:10:00:01", results[0].LinkLayerAddress);
        Assert.Equal(FakeArpClock.Epoch, results[0].FirstSent);
        Assert.Equal(FakeArpClock.Epoch.AddSeconds(2), results[0].LastSent);
    }

    [Fact]
    public void Announce_ReplyModeAndBurst()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock);
        new ArpEngine(clock).Announce(ch, Eth0, new[] { Ip("192.0.2.31") }, GratuitousArpMode.Reply, 100, TimeSpan.Zero);
        Assert.Equal(100, ch.Sent.Count);
        Assert.All(ch.Sent, s => Assert.Equal(ArpCodec.BuildGratuitousReply(Our, Ip("192.0.2.31")), s.Frame));
        Assert.Equal(0, clock.Now);
    }

    [Fact]
    public void Announce_StopsWhenCancelled()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var results = new ArpEngine(clock).Announce(ch, Eth0, new[] { Ip("192.0.2.30") }, GratuitousArpMode.Request, 5, TimeSpan.FromSeconds(1), cts.Token);
        Assert.Empty(ch.Sent);
        Assert.Equal(0, results[0].FramesSent);
        Assert.Null(results[0].FirstSent);
    }

    [Fact]
    public void Request_ReportsEachReplyWithRoundTrip()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock)
        {
            Responder = f => new[] { (450L, ReplyFrom(Peer, "192.0.2.12", "192.0.2.30"), FrameDirection.Host) },
        };
        var replies = new List<ArpReply>();
        int sent = new ArpEngine(clock).Request(ch, Eth0, Ip("192.0.2.12"), Ip("192.0.2.30"), 3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), replies.Add);
        Assert.Equal(3, sent);
        Assert.Equal(3, replies.Count);
        Assert.Equal(new[] { 1, 2, 3 }, replies.Select(r => r.Sequence));
        Assert.All(replies, r =>
        {
            Assert.Equal(TimeSpan.FromMicroseconds(450), r.RoundTripTime);
            Assert.Equal("02:00:5e:10:00:02", r.LinkLayerAddress);
            Assert.True(r.Unicast);
            Assert.Equal(Ip("192.0.2.30"), r.SourceAddress);
        });
        Assert.Equal(ArpCodec.BuildRequest(Our, Ip("192.0.2.30"), Ip("192.0.2.12")), ch.Sent[0].Frame);
        Assert.Equal(new long[] { 0, 1_000_000, 2_000_000 }, ch.Sent.Select(s => s.At));
        // the last answer ends the wait after the grace period, not after the 1 s timeout
        Assert.Equal(2_000_000 + 450 + 20_000, clock.Now);
        Assert.Equal("Unicast reply from 192.0.2.12 [02:00:5E:10:00:02]  0.450ms", replies[0].ToString());
    }

    [Fact]
    public void Request_ReportsDuplicateAnswers()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock)
        {
            Responder = f => new[]
            {
                (100L, ReplyFrom(Peer, "192.0.2.12", "192.0.2.11"), FrameDirection.Host),
                (5_000L, ReplyFrom(Peer2, "192.0.2.12", "192.0.2.11"), FrameDirection.Host),
            },
        };
        var replies = new List<ArpReply>();
        new ArpEngine(clock).Request(ch, Eth0, Ip("192.0.2.12"), Ip("192.0.2.11"), 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), replies.Add);
        Assert.Equal(new[] { "02:00:5e:10:00:02", "02:00:5e:10:00:03" }, replies.Select(r => r.LinkLayerAddress));
    }

    [Fact]
    public void Request_IgnoresFramesThatAreNotTheAnswer()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock)
        {
            Responder = f => new[]
            {
                (10L, ReplyFrom(Peer, "192.0.2.13", "192.0.2.11"), FrameDirection.Host),            // another address
                (20L, ReplyFrom(Peer, "192.0.2.12", "192.0.2.99"), FrameDirection.Host),            // to another sender
                (30L, ReplyFrom(Our, "192.0.2.12", "192.0.2.11"), FrameDirection.Host),             // from our own MAC
                (40L, ArpCodec.BuildGratuitousRequest(Peer, Ip("192.0.2.12")), FrameDirection.Broadcast), // a request, not a reply
                (50L, ArpCodec.BuildRequest(Peer, Ip("192.0.2.12"), Ip("192.0.2.11")), FrameDirection.Broadcast),
                (60L, new byte[] { 1, 2, 3 }, FrameDirection.Host),                                  // garbage
                (70L, ReplyFrom(Peer, "192.0.2.12", "192.0.2.11", PhysicalAddress.Parse("02-00-00-00-00-09")), FrameDirection.OtherHost), // to another MAC
            },
        };
        var replies = new List<ArpReply>();
        int sent = new ArpEngine(clock).Request(ch, Eth0, Ip("192.0.2.12"), Ip("192.0.2.11"), 2, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(500), replies.Add);
        Assert.Equal(2, sent);
        Assert.Empty(replies);
        Assert.Equal(300_000 + 500_000, clock.Now); // full interval, then full timeout
    }

    [Fact]
    public void Request_AcceptsBroadcastReplies()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock)
        {
            Responder = f => new[] { (200L, ReplyFrom(Peer, "192.0.2.12", "192.0.2.11", ArpCodec.Broadcast), FrameDirection.Broadcast) },
        };
        var replies = new List<ArpReply>();
        new ArpEngine(clock).Request(ch, Eth0, Ip("192.0.2.12"), Ip("192.0.2.11"), 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), replies.Add);
        Assert.Single(replies);
        Assert.False(replies[0].Unicast);
        Assert.StartsWith("Broadcast reply", replies[0].ToString());
    }

    [Fact]
    public void Request_IPv6UsesSolicitationAndAdvertisement()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock)
        {
            Responder = f => new[]
            {
                (300L, NdpCodec.BuildAdvertisement(Peer, Ip("2001:db8::12"), Ip("2001:db8::12"), Ip("2001:db8::11"), Our, false, true, true), FrameDirection.Host),
            },
        };
        var replies = new List<ArpReply>();
        new ArpEngine(clock).Request(ch, Eth0, Ip("2001:db8::12"), Ip("2001:db8::11"), 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), replies.Add);
        Assert.Equal(NdpCodec.BuildSolicitation(Our, Ip("2001:db8::11"), Ip("2001:db8::12")), ch.Sent[0].Frame);
        Assert.Single(replies);
        Assert.Equal("02:00:5e:10:00:02", replies[0].LinkLayerAddress);
        Assert.Equal(TimeSpan.FromMicroseconds(300), replies[0].RoundTripTime);
    }

    [Fact]
    public void Request_FallsBackToMonotonicTimeWhenTheWallClockJumps()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock);
        // A reply whose kernel stamp is an hour early (clock stepped back).
        ch.Responder = f => { ch.Inject(clock.Now + 700, ReplyFrom(Peer, "192.0.2.12", "192.0.2.11"), FrameDirection.Host); return Array.Empty<(long, byte[], FrameDirection)>(); };
        var replies = new List<ArpReply>();
        var engine = new ArpEngine(clock);
        var skewed = new SkewedChannel(ch, TimeSpan.FromHours(-1));
        engine.Request(skewed, Eth0, Ip("192.0.2.12"), Ip("192.0.2.11"), 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), replies.Add);
        Assert.Equal(TimeSpan.FromMicroseconds(700), replies.Single().RoundTripTime);
    }

    private sealed class SkewedChannel : IFrameChannel
    {
        private readonly IFrameChannel _inner;
        private readonly TimeSpan _skew;
        public SkewedChannel(IFrameChannel inner, TimeSpan skew) { _inner = inner; _skew = skew; }
        public DateTime Send(ReadOnlySpan<byte> frame) => _inner.Send(frame);
        public ReceivedFrame? Receive(TimeSpan timeout) => _inner.Receive(timeout) is { } f ? f with { KernelTimestamp = f.KernelTimestamp + _skew } : null;
        public void Dispose() => _inner.Dispose();
    }

    [Fact]
    public void Request_StopsWhenCancelled()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        int sent = new ArpEngine(clock).Request(ch, Eth0, Ip("192.0.2.12"), Ip("192.0.2.11"), 5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), _ => { }, cts.Token);
        Assert.Equal(0, sent);
        Assert.Empty(ch.Sent);
    }

    // ---- probes -------------------------------------------------------------------------------

    [Fact]
    public void Probe_FreeAddressSendsEveryProbe()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock);
        var r = new ArpEngine(clock).Probe(ch, Eth0, Ip("192.0.2.30"), 3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), collectAll: false);
        Assert.True(r.IsAvailable);
        Assert.Equal(3, r.ProbesSent);
        Assert.All(ch.Sent, s => Assert.Equal(ArpCodec.BuildProbe(Our, Ip("192.0.2.30")), s.Frame));
        Assert.Equal(1_400_000, clock.Now);
        Assert.Equal("192.0.2.30 is free on eth0", r.ToString());
    }

    [Fact]
    public void Probe_StopsAtTheFirstDefence()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock)
        {
            Responder = f => new[] { (500L, ReplyFrom(Peer, "192.0.2.30", "0.0.0.0"), FrameDirection.Host) },
        };
        var r = new ArpEngine(clock).Probe(ch, Eth0, Ip("192.0.2.30"), 3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), collectAll: false);
        Assert.False(r.IsAvailable);
        Assert.Equal(1, r.ProbesSent);
        Assert.Equal(500, clock.Now);
        Assert.Equal(ArpClaimKind.Reply, r.Claims.Single().Kind);
        Assert.Equal(new[] { "02:00:5e:10:00:02" }, r.ClaimedBy);
    }

    [Fact]
    public void Probe_DetailedFindsEveryClaimant()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock)
        {
            Responder = f => new[]
            {
                (500L, ReplyFrom(Peer, "192.0.2.30", "0.0.0.0"), FrameDirection.Host),
                (900L, ArpCodec.BuildProbe(Peer2, Ip("192.0.2.30")), FrameDirection.Broadcast),
                (1200L, ArpCodec.BuildGratuitousReply(Peer2, Ip("192.0.2.30")), FrameDirection.Broadcast),
            },
        };
        var r = new ArpEngine(clock).Probe(ch, Eth0, Ip("192.0.2.30"), 3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), collectAll: true);
        Assert.Equal(1, r.ProbesSent);
        Assert.Equal(new[] { ArpClaimKind.Reply, ArpClaimKind.Probe, ArpClaimKind.Announcement }, r.Claims.Select(c => c.Kind));
        Assert.Equal(new[] { "02:00:5e:10:00:02", "02:00:5e:10:00:03" }, r.ClaimedBy);
        Assert.Equal(500 + 1_000_000, clock.Now);
    }

    [Fact]
    public void Probe_IPv6DadSeesTheDefence()
    {
        var clock = new FakeArpClock();
        var ch = new FakeChannel(clock)
        {
            Responder = f => new[] { (300L, NdpCodec.BuildUnsolicitedAdvertisement(Peer, Ip("2001:db8::30")), FrameDirection.Multicast) },
        };
        var r = new ArpEngine(clock).Probe(ch, Eth0, Ip("2001:db8::30"), 2, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), collectAll: false);
        Assert.Equal(NdpCodec.BuildSolicitation(Our, IPAddress.IPv6None, Ip("2001:db8::30")), ch.Sent[0].Frame);
        Assert.False(r.IsAvailable);
        Assert.Equal("02:00:5e:10:00:02", r.Claims.Single().LinkLayerAddress);
    }

    [Fact]
    public void ClassifyClaim_FollowsRfc5227()
    {
        var target = Ip("192.0.2.30");
        ArpClaimKind? Classify(byte[] f) { ArpCodec.TryParse(f, out var p, out _); return ArpEngine.ClassifyClaim(p!, target, Our); }
        Assert.Equal(ArpClaimKind.Reply, Classify(ReplyFrom(Peer, "192.0.2.30", "0.0.0.0")));
        Assert.Equal(ArpClaimKind.Announcement, Classify(ArpCodec.BuildGratuitousRequest(Peer, target)));
        Assert.Equal(ArpClaimKind.Announcement, Classify(ArpCodec.BuildGratuitousReply(Peer, target)));
        Assert.Equal(ArpClaimKind.Announcement, Classify(ArpCodec.BuildRequest(Peer, target, Ip("192.0.2.1")))); // uses it as sender
        Assert.Equal(ArpClaimKind.Probe, Classify(ArpCodec.BuildProbe(Peer, target)));
        Assert.Null(Classify(ArpCodec.BuildProbe(Our, target)));                                // our own probe
        Assert.Null(Classify(ArpCodec.BuildRequest(Peer, Ip("192.0.2.12"), target)));          // someone asking for it
        Assert.Null(Classify(ArpCodec.BuildProbe(Peer, Ip("192.0.2.31"))));                     // probe for another address
        Assert.Null(Classify(ArpCodec.BuildGratuitousRequest(Our, target)));
        // No host has a broadcast, multicast or all-zero MAC: such a "claim" is forged or broken.
        foreach (var bad in new[] { "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "33:33:00:00:00:01", "00:00:00:00:00:00" })
        {
            var mac = PhysicalAddress.Parse(bad);
            Assert.Null(Classify(ReplyFrom(mac, "192.0.2.30", "0.0.0.0")));
            Assert.Null(Classify(ArpCodec.BuildGratuitousRequest(mac, target)));
            Assert.Null(Classify(ArpCodec.BuildProbe(mac, target)));
            ArpCodec.TryParse(ReplyFrom(mac, "192.0.2.30", "192.0.2.1", Our), out var reply, out _);
            Assert.False(ArpEngine.IsReplyTo(reply!, target, Ip("192.0.2.1"), Our));
        }
        ArpCodec.TryParse(ReplyFrom(Peer, "192.0.2.30", "192.0.2.1", Our), out var good, out _);
        Assert.True(ArpEngine.IsReplyTo(good!, target, Ip("192.0.2.1"), Our));
    }

    [Fact]
    public void ClassifyClaim_Ipv6()
    {
        var target = Ip("2001:db8::30");
        ArpClaimKind? Classify(byte[] f) { NdpCodec.TryParse(f, out var p, out _); return ArpEngine.ClassifyClaim(p!, target, Our); }
        Assert.Equal(ArpClaimKind.Reply, Classify(NdpCodec.BuildUnsolicitedAdvertisement(Peer, target)));
        Assert.Equal(ArpClaimKind.Probe, Classify(NdpCodec.BuildSolicitation(Peer, IPAddress.IPv6None, target)));
        Assert.Null(Classify(NdpCodec.BuildSolicitation(Peer, Ip("2001:db8::12"), target)));   // resolution, not a claim
        Assert.Null(Classify(NdpCodec.BuildUnsolicitedAdvertisement(Our, target)));
        Assert.Null(Classify(NdpCodec.BuildUnsolicitedAdvertisement(Peer, Ip("2001:db8::31"))));
        foreach (var bad in new[] { "ff:ff:ff:ff:ff:ff", "33:33:00:00:00:01", "00:00:00:00:00:00" })
        {
            Assert.Null(Classify(NdpCodec.BuildUnsolicitedAdvertisement(PhysicalAddress.Parse(bad), target)));
            NdpCodec.TryParse(NdpCodec.BuildUnsolicitedAdvertisement(PhysicalAddress.Parse(bad), target), out var na, out _);
            Assert.False(ArpEngine.IsAdvertisementFor(na!, target, Our));
        }
    }
}
