using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Native.Processes;
using HaPowerShell.Native.Vrrp;

namespace HaPowerShell.Hosting.Vrrp;

/// <summary>The engine thread's loop: poll, receive, timers, publication; the pool of VRRP sockets.</summary>
public sealed partial class VrrpHost
{
    // ---- the loop (engine thread) ----------------------------------------------------------

    private void Run()
    {
        EngineThreadId = ThreadNice.CurrentThreadId;
        try { EngineScheduling = ThreadNice.GetCurrentThread(); }
        catch (InvalidOperationException e) { LastLoopError = e; }
        var fds = new List<int>();
        var entries = new List<SocketEntry?>();
        var readable = new bool[64];
        var fdArray = Array.Empty<int>();
        while (!_disposed)
        {
            try
            {
                LoopIterations++;
                Phase = "commands";
                while (_commands.TryDequeue(out var c)) c();

                // The next deadline is kept by the timerfd (exact); poll's own timeout, which the kernel
                // lets overrun by 0.1% of its length, is only a backstop a second later.
                long timeout = 1_000_000;
                _prewarmFor = null;
                if (_engine.NextDueMicroseconds is { } due)
                {
                    long wait = due - _engine.Clock.NowMicroseconds;
                    if (wait <= 0) timeout = 0;
                    else
                    {
                        // A Master_Down timer that is about to run out (the master has gone quiet): wake a little
                        // before it and run the takeover's own code once, so that it is back in the CPU's caches
                        // when the deadline comes (after a long idle, a cold run of it measured 0.3-0.9 ms).
                        var md = wait > 2 * PrewarmLeadMicroseconds && _prewarmedDue != due ? _engine.NextMasterDown : null;
                        bool prewarm = md is { } m && m.Due == due;
                        if (prewarm) _prewarmFor = md!.Value;
                        _deadline.Arm(prewarm ? wait - PrewarmLeadMicroseconds : wait);
                        timeout = wait + 1_000_000;
                    }
                }
                else _deadline.Disarm();
                fds.Clear();
                entries.Clear();
                fds.Add(_wakeup.Descriptor); entries.Add(null);
                fds.Add(_deadline.Descriptor); entries.Add(null);
                int linkSlot = -1;
                if (_links is not null) { linkSlot = fds.Count; fds.Add(_links.Descriptor); entries.Add(null); }
                foreach (var e in _sockets.Values) { fds.Add(e.Socket.ReceiveDescriptor); entries.Add(e); }
                if (readable.Length < fds.Count) readable = new bool[fds.Count * 2];
                Phase = "poll";
                if (fdArray.Length != fds.Count) fdArray = new int[fds.Count];
                fds.CopyTo(fdArray);
                DescriptorPoll.Wait(fdArray, readable, timeout);
                Phase = "receive";

                if (readable[1])
                {
                    _deadline.Reset();
                    if (_prewarmFor is { } pw && _engine.Clock.NowMicroseconds < pw.Due)
                    {
                        _prewarmedDue = pw.Due;
                        TakeoverPrewarms++;
                        PrewarmTakeover(pw.Instance);
                        // Then stay on the CPU until the deadline rather than sleep again: a sleeping thread's wake-up
                        // measured up to 2.5 ms late here (an idle virtual CPU is woken by its host), and the takeover
                        // would wait for it. Anything else that is ready first (an advert, a command) ends the spin.
                        if (!readable[0] && Array.IndexOf(readable, true, 2, fdArray.Length - 2) < 0)
                        {
                            Phase = "spin";
                            TakeoverSpins++;
                            SpinUntil(pw.Due, fdArray, readable);
                            Phase = "receive";
                        }
                    }
                }
                if (readable[0]) _wakeup.Reset();
                if (linkSlot >= 0 && readable[linkSlot] && _links!.Drain()) { DropAnnouncers(); RefreshLinks(); PrimeAnnouncers(); }
                for (int i = 0; i < fds.Count; i++)
                {
                    if (!readable[i] || entries[i] is not { } entry) continue;
                    for (int n = 0; n < 64; n++)
                    {
                        var d = entry.Socket.TryReceive();
                        if (d is null) break;
                        Deliver(entry, d);
                    }
                }
                Phase = "timers";
                _engine.RunDueTimers();
                Phase = "publish";
            }
            catch (Exception e)
            {
                LoopFailed(e);
                Thread.Sleep(10);
            }
            PublishAndRaise();
        }
    }

    private void Deliver(SocketEntry entry, VrrpDatagram d)
    {
        long? arrived = ArrivalOnEngineClock(d.ArrivalUnixNanoseconds);
        if (entry.Socket.AddressFamily == AddressFamily.InterNetwork)
            _engine.ReceiveIPv4Datagram(entry.InterfaceName, d.Data, arrived);
        else
            _engine.Receive(entry.InterfaceName, new VrrpReceivedPacket(AddressFamily.InterNetworkV6, d.Source,
                d.Destination ?? VrrpCodec.MulticastIPv6, d.HopLimit, d.Data) { ArrivedAtMicroseconds = arrived });
    }

    /// <summary>
    /// The kernel's receive time (wall clock) as a time on the engine's monotonic clock: now minus how long ago
    /// it arrived. Null when the kernel gave none, or when the age is not between 0 and 1 s (the wall clock was
    /// stepped): the advert then counts from when it is handled.
    /// </summary>
    internal static long? ToEngineTime(long arrivalUnixNanoseconds, long nowUnixNanoseconds, long engineNowMicroseconds)
    {
        if (arrivalUnixNanoseconds <= 0) return null;
        long ageMicroseconds = (nowUnixNanoseconds - arrivalUnixNanoseconds) / 1000;
        return ageMicroseconds is >= 0 and < 1_000_000 ? engineNowMicroseconds - ageMicroseconds : null;
    }

    private long? ArrivalOnEngineClock(long arrivalUnixNanoseconds)
        => ToEngineTime(arrivalUnixNanoseconds, (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100, _engine.Clock.NowMicroseconds);

    private void PublishSnapshots()
    {
        var instances = _engine.Instances;
        for (int k = 0; k < instances.Count; k++)
        {
            var i = instances[k];
            if (_running.TryGetValue(i.Name, out var h)) h.Publish(i);
        }
    }

    private void PublishAndRaise()
    {
        PublishSnapshots();
        lock (_signal) Monitor.PulseAll(_signal);
        if (_pendingEvents.Count == 0) return;
        foreach (var e in _pendingEvents) _events.Add(e);
        _pendingEvents.Clear();
    }

    /// <summary>Hands state changes and log entries to <see cref="Sink"/> on its own thread, in order, so a slow sink never stalls the engine.</summary>
    private void DispatchEvents()
    {
        foreach (var e in _events.GetConsumingEnumerable())
        {
            try
            {
                if (e is VrrpStateChangedEventArgs change) Sink.VrrpStateChanged(change);
                else Sink.Log((HostLogEntry)e);
            }
            catch (Exception ex) { LastLoopError = ex; }
        }
    }

    /// <summary>Reports a problem to <see cref="Sink"/> (any thread; the dispatch thread delivers it).</summary>
    internal void Report(HostLogLevel level, string subject, string message)
    {
        if (_events.IsAddingCompleted) return;
        try { _events.Add(new HostLogEntry(DateTimeOffset.Now, level, "Vrrp", subject, message)); }
        catch (InvalidOperationException) { /* disposed meanwhile */ }
    }

    private string? _lastLoopErrorReported;
    private long _lastLoopErrorReportedAt;

    /// <summary>Records a failure the loop survived; reports it unless the same one was reported in the last minute.</summary>
    private void LoopFailed(Exception e)
    {
        LastLoopError = e;
        long now = Environment.TickCount64;
        if (e.Message == _lastLoopErrorReported && now - _lastLoopErrorReportedAt < 60_000) return;
        _lastLoopErrorReported = e.Message;
        _lastLoopErrorReportedAt = now;
        Report(HostLogLevel.Error, "", $"the engine loop failed and goes on: {e.GetType().Name}: {e.Message}");
    }

    private void RefreshLinks()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        _deviceIndex.Clear();
        foreach (var i in _engine.Instances)
        {
            names.Add(i.Config.InterfaceName);
            foreach (var t in i.Config.TrackInterfaces) names.Add(t.InterfaceName);
            foreach (var v in i.Config.VirtualAddresses) if (v.Device is not null) _deviceIndex[v.Device] = 0;
        }
        if (names.Count == 0) return;
        var links = _rtnl.GetLinks().ToDictionary(l => l.Name, StringComparer.Ordinal);
        foreach (var d in _deviceIndex.Keys.ToList()) _deviceIndex[d] = links.TryGetValue(d, out var dl) ? dl.Index : 0;
        foreach (var n in names)
        {
            bool up = links.TryGetValue(n, out var l) && RtnlVrrpInterfaceLookup.IsUp(l);
            if (_linkState.TryGetValue(n, out var was) && was == up) continue;
            _linkState[n] = up;
            _engine.SetInterfaceState(n, up);
        }
    }

    /// <summary>The interfaces that virtual addresses name with dev, by index (0 when gone), as of the last link change.</summary>
    private readonly Dictionary<string, int> _deviceIndex = new(StringComparer.Ordinal);

    /// <summary>The interface a virtual address goes on: its dev, or the instance's interface.</summary>
    private int IndexOf(SocketEntry entry, VrrpVirtualAddress address)
        => address.Device is null ? entry.Socket.InterfaceIndex : _deviceIndex.TryGetValue(address.Device, out int i) ? i : 0;

    private void AcquireSocket(string instance, int ifindex, string ifname, AddressFamily family, IPAddress source)
    {
        var key = (ifname, family, source);
        if (!_sockets.TryGetValue(key, out var entry))
        {
            entry = new SocketEntry(VrrpSocket.Open(ifindex, ifname, family, source, joinMulticast: true), ifname, key);
            _sockets[key] = entry;
        }
        entry.Users++;
        _socketOf[instance] = entry;
    }

    private void ReleaseSocket(string instance)
    {
        if (!_socketOf.Remove(instance, out var entry)) return;
        if (--entry.Users > 0) return;
        _sockets.Remove(entry.Key);
        entry.Socket.Dispose();
    }

    private sealed class SocketEntry
    {
        public SocketEntry(VrrpSocket socket, string ifname, (string, AddressFamily, IPAddress) key)
        {
            Socket = socket;
            InterfaceName = ifname;
            Key = key;
        }

        public VrrpSocket Socket { get; }
        public string InterfaceName { get; }
        public (string If, AddressFamily Family, IPAddress Source) Key { get; }
        public int Users { get; set; }
    }
}
