using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using HaPowerShell.Native.Packet;

namespace HaPowerShell.Core.Arp;

/// <summary>Time for the ARP exchanges: a monotonic clock for intervals, UTC for stamps, and a cancellable wait.</summary>
public interface IArpClock
{
    /// <summary>Monotonic ticks (<see cref="Stopwatch"/> units).</summary>
    long GetTimestamp();

    /// <summary>Ticks per second of <see cref="GetTimestamp"/>.</summary>
    long Frequency { get; }

    DateTime UtcNow { get; }

    /// <summary>Waits, returning early when <paramref name="cancel"/> fires.</summary>
    void Wait(TimeSpan delay, CancellationToken cancel);
}

/// <summary>The real clock.</summary>
public sealed class SystemArpClock : IArpClock
{
    public static readonly SystemArpClock Instance = new();
    public long GetTimestamp() => Stopwatch.GetTimestamp();
    public long Frequency => Stopwatch.Frequency;
    public DateTime UtcNow => DateTime.UtcNow;
    public void Wait(TimeSpan delay, CancellationToken cancel)
    {
        if (delay > TimeSpan.Zero) cancel.WaitHandle.WaitOne(delay);
    }
}

/// <summary>The interface an exchange runs on: its name, index and MAC.</summary>
public sealed record ArpInterface(string Name, int Index, PhysicalAddress MacAddress);

/// <summary>
/// The ARP and neighbour-discovery exchanges, over any <see cref="IFrameChannel"/>: announcements
/// (arping -U / -A, unsolicited NA), requests with reply matching and round-trip times (arping,
/// Neighbor Solicitation), and duplicate-address probes (arping -D, IPv6 DAD). No I/O of its own:
/// tests drive it with a fake channel and clock.
/// </summary>
public sealed class ArpEngine
{
    private readonly IArpClock _clock;

    public ArpEngine(IArpClock? clock = null) => _clock = clock ?? SystemArpClock.Instance;

    /// <summary>Longest single wait on the channel, so cancellation (Ctrl+C) is seen promptly.</summary>
    public TimeSpan PollSlice { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>After the last request is answered, how long to keep listening for duplicate answers.</summary>
    public TimeSpan ReplyGrace { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Frames seen that failed to parse (for diagnostics).</summary>
    public int MalformedFrames { get; private set; }

    // ---- announcements ---------------------------------------------------------------------

    /// <summary>The frame announcing <paramref name="address"/>: ARP request/reply for IPv4, unsolicited NA for IPv6.</summary>
    public static (byte[] Frame, AnnouncementKind Kind) BuildAnnouncement(PhysicalAddress mac, IPAddress address, GratuitousArpMode mode)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return (NdpCodec.BuildUnsolicitedAdvertisement(mac, address), AnnouncementKind.NeighborAdvertisement);
        return mode == GratuitousArpMode.Reply
            ? (ArpCodec.BuildGratuitousReply(mac, address), AnnouncementKind.ArpReply)
            : (ArpCodec.BuildGratuitousRequest(mac, address), AnnouncementKind.ArpRequest);
    }

    /// <summary>
    /// Sends <paramref name="count"/> rounds, <paramref name="interval"/> apart; each round announces
    /// every address once (as keepalived does after a failover), so the first frame of each address
    /// leaves at once. Stops between frames when cancelled; the results say what was sent.
    /// </summary>
    public IReadOnlyList<GratuitousArpResult> Announce(IFrameChannel channel, ArpInterface itf, IReadOnlyList<IPAddress> addresses,
        GratuitousArpMode mode, int count, TimeSpan interval, CancellationToken cancel = default)
    {
        var frames = new List<(byte[] Frame, GratuitousArpResult Result)>();
        foreach (var a in addresses)
        {
            var (frame, kind) = BuildAnnouncement(itf.MacAddress, a, mode);
            frames.Add((frame, new GratuitousArpResult(itf.Name, a, itf.MacAddress, kind)));
        }
        long roundStart = _clock.GetTimestamp();
        for (int round = 0; round < count && !cancel.IsCancellationRequested; round++)
        {
            if (round > 0)
            {
                var due = interval - Elapsed(roundStart);
                _clock.Wait(due, cancel);
                if (cancel.IsCancellationRequested) break;
                roundStart = _clock.GetTimestamp();
            }
            foreach (var (frame, result) in frames)
            {
                if (cancel.IsCancellationRequested) break;
                var stamp = channel.Send(frame);
                result.FirstSent ??= stamp;
                result.LastSent = stamp;
                result.FramesSent++;
            }
        }
        return frames.Select(f => f.Result).ToList();
    }

    // ---- requests --------------------------------------------------------------------------

    /// <summary>
    /// Whether a MAC address can belong to one host: not all zeros, not broadcast, not multicast (the group
    /// bit). A frame claiming such a sender is forged or broken: it is neither a reply nor a claimant.
    /// </summary>
    public static bool IsHostMac(PhysicalAddress? mac)
    {
        if (mac is null) return false;
        var b = mac.GetAddressBytes();
        return b.Length == 6 && (b[0] & 0x01) == 0 && b.Any(x => x != 0);
    }

    /// <summary>arping's reply check: a reply from the target, to our source address and our MAC, from a host MAC.</summary>
    public static bool IsReplyTo(ArpPacket p, IPAddress target, IPAddress source, PhysicalAddress ourMac)
        => p.Operation == ArpOperation.Reply && IsHostMac(p.SenderHardwareAddress) && IsHostMac(p.EthernetSource) && p.SenderProtocolAddress.Equals(target) &&
           p.TargetProtocolAddress.Equals(source) && !p.SenderHardwareAddress.Equals(ourMac) &&
           (p.TargetHardwareAddress.Equals(ourMac) || p.TargetHardwareAddress.Equals(ArpCodec.Broadcast) || p.EthernetDestination.Equals(ArpCodec.Broadcast));

    /// <summary>A Neighbor Advertisement for the target, from someone else (a host MAC).</summary>
    public static bool IsAdvertisementFor(NdpPacket p, IPAddress target, PhysicalAddress ourMac)
        => p.Type == NdpMessageType.NeighborAdvertisement && p.Target.Equals(target) && !p.EthernetSource.Equals(ourMac) &&
           IsHostMac(p.EthernetSource) && (p.LinkLayerAddressOption is null || IsHostMac(p.LinkLayerAddressOption));

    /// <summary>
    /// Sends requests for <paramref name="target"/> (ARP for IPv4, Neighbor Solicitation for IPv6)
    /// every <paramref name="interval"/> and reports each answer through <paramref name="onReply"/> as it
    /// comes. After the last request it waits up to <paramref name="timeout"/>, or until that request is
    /// answered (plus <see cref="ReplyGrace"/> for duplicates). Returns how many requests went out.
    /// </summary>
    public int Request(IFrameChannel channel, ArpInterface itf, IPAddress target, IPAddress source, int count,
        TimeSpan interval, TimeSpan timeout, Action<ArpReply> onReply, CancellationToken cancel = default)
    {
        bool v6 = target.AddressFamily == AddressFamily.InterNetworkV6;
        byte[] frame = v6 ? NdpCodec.BuildSolicitation(itf.MacAddress, source, target) : ArpCodec.BuildRequest(itf.MacAddress, source, target);
        int sent = 0;
        for (int seq = 1; seq <= count && !cancel.IsCancellationRequested; seq++)
        {
            long txMono = _clock.GetTimestamp();
            DateTime txStamp = channel.Send(frame);
            sent = seq;
            bool last = seq == count;
            long windowEnd = txMono + Ticks(last ? timeout : interval);
            long? stopAt = null;
            int current = seq;
            Listen(channel, () => stopAt is { } s ? Math.Min(s, windowEnd) : windowEnd, f =>
            {
                ArpReply? reply = null;
                if (v6)
                {
                    if (TryNdp(f, out var n) && IsAdvertisementFor(n!, target, itf.MacAddress))
                        reply = new ArpReply(itf.Name, target, n!.LinkLayerAddressOption ?? n.EthernetSource, source, current,
                            RoundTrip(f, txStamp, txMono), f.Direction == FrameDirection.Host, f.KernelTimestamp);
                }
                else if (TryArp(f, out var a) && IsReplyTo(a!, target, source, itf.MacAddress))
                {
                    reply = new ArpReply(itf.Name, target, a!.SenderHardwareAddress, source, current,
                        RoundTrip(f, txStamp, txMono), f.Direction == FrameDirection.Host, f.KernelTimestamp);
                }
                if (reply is null) return;
                onReply(reply);
                if (last && stopAt is null) stopAt = _clock.GetTimestamp() + Ticks(ReplyGrace);
            }, cancel);
        }
        return sent;
    }

    // ---- duplicate address detection -------------------------------------------------------

    /// <summary>
    /// Whether an ARP frame shows another host using <paramref name="target"/> (RFC 5227 2.1.1): any
    /// request or reply whose sender address is the target, or a probe for the target, from a MAC
    /// that is not ours. Null when it does not.
    /// </summary>
    public static ArpClaimKind? ClassifyClaim(ArpPacket p, IPAddress target, PhysicalAddress ourMac)
    {
        if (p.SenderHardwareAddress.Equals(ourMac) || p.EthernetSource.Equals(ourMac)) return null;
        if (!IsHostMac(p.SenderHardwareAddress) || !IsHostMac(p.EthernetSource)) return null; // no host has a broadcast, multicast or zero MAC
        if (p.SenderProtocolAddress.Equals(target))
            return p.Operation == ArpOperation.Reply && !p.IsGratuitous ? ArpClaimKind.Reply : ArpClaimKind.Announcement;
        if (p.IsProbe && p.TargetProtocolAddress.Equals(target)) return ArpClaimKind.Probe;
        return null;
    }

    /// <summary>The IPv6 counterpart (RFC 4862 5.4.3/5.4.4): an NA for the target, or another host's DAD probe for it.</summary>
    public static ArpClaimKind? ClassifyClaim(NdpPacket p, IPAddress target, PhysicalAddress ourMac)
    {
        if (p.EthernetSource.Equals(ourMac) || !p.Target.Equals(target)) return null;
        if (!IsHostMac(p.EthernetSource) || (p.LinkLayerAddressOption is not null && !IsHostMac(p.LinkLayerAddressOption))) return null;
        // A host defending its address answers a DAD probe with an NA to ff02::1, which looks just like
        // an unsolicited announcement; both mean "in use", reported as a reply.
        if (p.Type == NdpMessageType.NeighborAdvertisement) return ArpClaimKind.Reply;
        if (p.IsDadProbe) return ArpClaimKind.Probe;
        return null;
    }

    /// <summary>
    /// Sends <paramref name="count"/> probes (arping -D, or DAD Neighbor Solicitations from ::) and
    /// collects claims. Without <paramref name="collectAll"/> it stops at the first claim, as arping -D
    /// does; with it, it stops sending and listens <paramref name="timeout"/> longer to find every claimant.
    /// </summary>
    public ArpAddressTestResult Probe(IFrameChannel channel, ArpInterface itf, IPAddress target, int count, TimeSpan interval,
        TimeSpan timeout, bool collectAll, CancellationToken cancel = default)
    {
        bool v6 = target.AddressFamily == AddressFamily.InterNetworkV6;
        byte[] frame = v6 ? NdpCodec.BuildSolicitation(itf.MacAddress, IPAddress.IPv6None, target) : ArpCodec.BuildProbe(itf.MacAddress, target);
        var claims = new List<ArpClaim>();
        int sent = 0;
        long? stopAt = null;
        for (int seq = 1; seq <= count && !cancel.IsCancellationRequested && stopAt is null; seq++)
        {
            long tx = _clock.GetTimestamp();
            channel.Send(frame);
            sent = seq;
            long windowEnd = tx + Ticks(seq == count ? timeout : interval);
            Listen(channel, () => stopAt ?? windowEnd, f =>
            {
                ArpClaimKind? kind = null;
                PhysicalAddress? mac = null;
                IPAddress? sender = null;
                if (v6)
                {
                    if (TryNdp(f, out var n) && ClassifyClaim(n!, target, itf.MacAddress) is { } k)
                    { kind = k; mac = n!.LinkLayerAddressOption ?? n.EthernetSource; sender = n.Source; }
                }
                else if (TryArp(f, out var a) && ClassifyClaim(a!, target, itf.MacAddress) is { } k)
                { kind = k; mac = a!.SenderHardwareAddress; sender = a.SenderProtocolAddress; }
                if (kind is null) return;
                claims.Add(new ArpClaim(mac!, kind.Value, sender!, f.KernelTimestamp));
                stopAt ??= collectAll ? _clock.GetTimestamp() + Ticks(timeout) : _clock.GetTimestamp();
            }, cancel);
        }
        return new ArpAddressTestResult(itf.Name, target, sent, claims);
    }

    // ---- helpers ---------------------------------------------------------------------------

    private void Listen(IFrameChannel channel, Func<long> until, Action<ReceivedFrame> onFrame, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            long remaining = until() - _clock.GetTimestamp();
            if (remaining <= 0) return;
            var wait = TimeSpan.FromSeconds(Math.Min((double)remaining / _clock.Frequency, PollSlice.TotalSeconds));
            var f = channel.Receive(wait);
            if (f is not null) onFrame(f);
        }
    }

    private bool TryArp(ReceivedFrame f, out ArpPacket? p)
    {
        if (ArpCodec.TryParse(f.Data, out p, out _)) return true;
        if (f.Data.Length >= 14 && f.Data[12] == 0x08 && f.Data[13] == 0x06) MalformedFrames++;
        return false;
    }

    private bool TryNdp(ReceivedFrame f, out NdpPacket? p)
    {
        if (NdpCodec.TryParse(f.Data, out p, out var problem)) return true;
        // Other IPv6 traffic is expected on the socket; only count frames that claimed to be ND.
        if (problem is not null && (problem.Contains("checksum") || problem.Contains("hop limit") || problem.Contains("option"))) MalformedFrames++;
        return false;
    }

    /// <summary>
    /// Kernel receive stamp minus send stamp (both UTC, so a clock step could distort them); when that is
    /// negative or longer than the monotonic interval allows, the monotonic interval is used instead.
    /// </summary>
    private TimeSpan RoundTrip(ReceivedFrame f, DateTime txStamp, long txMono)
    {
        var mono = TimeSpan.FromSeconds((double)(f.MonotonicTimestamp - txMono) / _clock.Frequency);
        var kernel = f.KernelTimestamp - txStamp;
        if (kernel < TimeSpan.Zero || kernel > mono + TimeSpan.FromMilliseconds(5)) return mono < TimeSpan.Zero ? TimeSpan.Zero : mono;
        return kernel;
    }

    private TimeSpan Elapsed(long since) => TimeSpan.FromSeconds((double)(_clock.GetTimestamp() - since) / _clock.Frequency);

    private long Ticks(TimeSpan t) => (long)(t.TotalSeconds * _clock.Frequency);
}
