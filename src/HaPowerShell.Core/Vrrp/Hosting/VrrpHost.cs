using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using HaPowerShell.Core.Arp;
using HaPowerShell.Native;
using HaPowerShell.Native.Netfilter;
using HaPowerShell.Native.Netlink;
using HaPowerShell.Native.Packet;
using HaPowerShell.Native.Processes;
using HaPowerShell.Native.Rtnl;
using HaPowerShell.Native.Vrrp;

namespace HaPowerShell.Core.Vrrp.Hosting;

/// <summary>
/// Hosts a <see cref="VrrpEngine"/> on one dedicated background thread: it polls the raw VRRP sockets,
/// a link-change netlink socket and a wakeup eventfd, feeds packets, link changes, script results and
/// timers into the engine, and implements <see cref="IVrrpActions"/> with raw sockets (adverts),
/// rtnetlink (VIPs), packet sockets (GARP / unsolicited NA) and process groups (notify and track
/// scripts). Everything that can block — announcements paced by an interval, notify and track
/// scripts — runs off the engine thread, with timeouts, so a hanging script never stalls the engine.
/// Other threads talk to it through <see cref="Start"/>, <see cref="Stop"/>, <see cref="SetPriority"/>,
/// which run on the engine thread. Nothing here knows PowerShell: a daemon hosts it the same way.
/// </summary>
public sealed class VrrpHost : IDisposable
{
    private static readonly Lazy<VrrpHost> SharedHost = new(() => new VrrpHost(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The process-wide host (created on first use; stops its instances gracefully when the process exits).</summary>
    public static VrrpHost Shared => SharedHost.Value;

    /// <summary>Whether <see cref="Shared"/> was created (so callers can look without starting a thread).</summary>
    public static bool SharedCreated => SharedHost.IsValueCreated;

    private readonly RtnlClient _rtnl;
    private readonly RtnlVrrpInterfaceLookup _lookup;
    private readonly VrrpEngine _engine;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly WakeupEvent _wakeup = new();
    private readonly DeadlineTimer _deadline = new();
    private readonly ConcurrentDictionary<string, VrrpRunningInstance> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<(string If, AddressFamily Family, IPAddress Source), SocketEntry> _sockets = new();
    private readonly Dictionary<string, SocketEntry> _socketOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _linkState = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task> _announceChain = new(StringComparer.Ordinal);
    private readonly Dictionary<int, Announcer> _announcers = new();
    private bool _takeoverCompiled;
    private readonly List<VrrpStateChangedEventArgs> _pendingEvents = new();
    private readonly BlockingCollection<VrrpStateChangedEventArgs> _events = new();
    private readonly object _signal = new();
    private Task _notifyChain = Task.CompletedTask;
    private readonly Dictionary<string, string> _filterChainOf = new(StringComparer.Ordinal);
    private VipInputFilter? _filter;
    private int _filterChains;
    private LinkChangeMonitor? _links;
    private volatile bool _disposed;

    public VrrpHost() : this(new RtnlClient(), ProcessGroupRunner.Instance) { }

    public VrrpHost(RtnlClient rtnl, IProcessGroupRunner runner)
    {
        _rtnl = rtnl;
        Runner = runner;
        _lookup = new RtnlVrrpInterfaceLookup(rtnl);
        _engine = new VrrpEngine(new Actions(this), SystemVrrpClock.Instance, _lookup);
        _thread = new Thread(Run) { IsBackground = true, Name = "HaPowerShell VRRP" };
        _thread.Start();
        new Thread(DispatchEvents) { IsBackground = true, Name = "HaPowerShell VRRP events" }.Start();
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        // SIGTERM / SIGHUP end the process without ProcessExit in some hosts (pwsh): stop gracefully first,
        // then let the default action go ahead.
        _signals = new[] { PosixSignal.SIGTERM, PosixSignal.SIGHUP }
            .Select(sig => PosixSignalRegistration.Create(sig, _ => OnProcessExit(null, EventArgs.Empty))).ToArray();
    }

    private readonly PosixSignalRegistration[] _signals;

    /// <summary>Runs notify and track scripts.</summary>
    public IProcessGroupRunner Runner { get; }

    /// <summary>How long a notify script may run before its process group is killed.</summary>
    public TimeSpan NotifyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Interface names, for error messages.</summary>
    public IVrrpInterfaceLookup Interfaces => _lookup;

    /// <summary>Raised for every state change, in order, on a dispatch thread of its own (never the engine thread), after the instance's view is updated.</summary>
    public event EventHandler<VrrpStateChangedEventArgs>? StateChanged;

    /// <summary>The last unexpected failure of the loop (it carries on).</summary>
    public Exception? LastLoopError { get; private set; }

    /// <summary>The kernel thread id of the engine thread (what chrt -p and /proc/PID/task show).</summary>
    public int EngineThreadId { get; private set; }

    /// <summary>Turns of the engine loop so far, and what it is doing now (diagnostics).</summary>
    public long LoopIterations { get; private set; }
    public string Phase { get; private set; } = "starting";

    /// <summary>Packets no instance claimed (unknown VRID, bad IPv4 header).</summary>
    public VrrpCounters UnclaimedCounters => _engine.Counters;

    public IReadOnlyList<VrrpRunningInstance> Instances => _running.Values.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();

    public VrrpRunningInstance? Find(string name) => _running.TryGetValue(name, out var i) ? i : null;

    // ---- commands (any thread) -------------------------------------------------------------

    /// <summary>
    /// Validates and starts an instance; returns its live view. Throws <see cref="VrrpConfigurationException"/>
    /// (nothing started) or the socket error (nothing left behind).
    /// </summary>
    public VrrpRunningInstance Start(VrrpInstanceConfig config) => Start(config, null);

    /// <summary>
    /// Validates and starts an instance, first setting how the engine thread is scheduled when
    /// <paramref name="scheduling"/> is given (the thread runs every instance of the host, so it applies
    /// to all of them). Throws <see cref="VrrpConfigurationException"/> (nothing started, the thread's
    /// scheduling as it was) or the socket error (nothing left behind).
    /// </summary>
    public VrrpRunningInstance Start(VrrpInstanceConfig config, VrrpEngineScheduling? scheduling)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (scheduling?.Validate() is { } invalid) throw new VrrpConfigurationException(new[] { invalid });
        return Invoke(() =>
        {
            var before = EngineScheduling;
            var inst = _engine.Add(config);
            string name = inst.Name;
            try
            {
                var itf = _lookup.Find(config.InterfaceName) ?? throw new VrrpConfigurationException(config.Validate(_lookup));
                if (!config.AcceptMode) PrepareAcceptFilter(name);
                AcquireSocket(name, itf.Index, config.InterfaceName, config.AddressFamily, inst.PrimaryAddress);
                // After everything a start can be refused for (configuration, permissions, sockets), before the
                // instance runs: a refused start leaves the thread as it was without having to undo it (undoing a
                // raised nice value or a real-time policy itself needs CAP_SYS_NICE).
                if (scheduling is not null) ApplyScheduling(scheduling);
                var handle = new VrrpRunningInstance(this, config, VrrpInstanceSnapshot.From(inst));
                _running[name] = handle;
                _links ??= new LinkChangeMonitor();
                RefreshLinks();
                _engine.Start(name);
                PrepareTakeover(inst);
                PublishSnapshots();
                return handle;
            }
            catch
            {
                _running.TryRemove(name, out _);
                _engine.Remove(name);
                ReleaseSocket(name);
                _filterChainOf.Remove(name);
                RestoreScheduling(before);
                throw;
            }
        });
    }

    /// <summary>How the engine thread is scheduled now (keepalived's vrrp_priority / vrrp_rt_priority set it there).</summary>
    public ThreadScheduling EngineScheduling { get; private set; }

    /// <summary>Sets the engine thread's scheduling (engine thread). Throws <see cref="VrrpConfigurationException"/> when the kernel refuses.</summary>
    private void ApplyScheduling(VrrpEngineScheduling s)
    {
        int err = s.RealtimePriority is int rt ? ThreadNice.SetCurrentThreadRealtime(rt)
            : ThreadNice.SetCurrentThread(new ThreadScheduling(ThreadScheduling.SchedOther, 0, s.Nice ?? 0));
        EngineScheduling = ThreadNice.GetCurrentThread();
        if (err == 0) return;
        string what = s.RealtimePriority is not null ? $"real-time ({s})" : s.ToString();
        throw new VrrpConfigurationException(new[]
        {
            new VrrpConfigError("VrrpEngineSchedulingDenied",
                $"The kernel refused to make the VRRP engine thread {what}: {Errno.Describe(err)}. It needs root or CAP_SYS_NICE (a negative nice value too); run as root or leave the engine priority out.",
                s.RealtimePriority is null ? "EnginePriority" : "EngineRealtimePriority"),
        });
    }

    private void RestoreScheduling(ThreadScheduling before)
    {
        if (before == EngineScheduling) return;
        int err = ThreadNice.SetCurrentThread(before);
        EngineScheduling = ThreadNice.GetCurrentThread();
        if (err != 0)
            LastLoopError = new InvalidOperationException(
                $"A start that failed could not put the VRRP engine thread back to {before} ({Errno.Describe(err)}); it stays {EngineScheduling}.");
    }

    /// <summary>Stops an instance (a Master sends priority 0 and removes its addresses) and forgets it. False when unknown.</summary>
    public bool Stop(string name) => Invoke(() =>
    {
        if (!_running.TryGetValue(name, out var handle)) return false;
        var inst = _engine.Find(name);
        if (inst is not null)
        {
            _engine.Stop(name);
            handle.Publish(VrrpInstanceSnapshot.From(inst));
            _engine.Remove(name);
        }
        ReleaseSocket(name);
        if (_filterChainOf.Remove(name, out var chain)) RemoveAcceptFilter(chain, handle);
        _running.TryRemove(name, out _);
        return true;
    });

    /// <summary>Changes the configured priority of a running instance (1-255).</summary>
    public void SetPriority(string name, int priority) => Invoke(() =>
    {
        if (!_running.ContainsKey(name)) throw new ArgumentException($"No VRRP instance named '{name}' is running.", nameof(name));
        _engine.SetPriority(name, priority);
        // An owner (255) always accepts; a Master that stops being the owner must not.
        if (_engine.Find(name) is { State: VrrpState.Master } inst) SyncAcceptFilter(inst);
        PublishSnapshots();
        return true;
    });

    /// <summary>Stops every instance.</summary>
    public void StopAll()
    {
        foreach (var n in _running.Keys.ToList()) Stop(n);
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the instance (checked after every state publication); false on timeout.</summary>
    public bool WaitFor(VrrpRunningInstance instance, Func<VrrpRunningInstance, bool> condition, TimeSpan timeout, CancellationToken cancel = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_signal)
        {
            while (!condition(instance))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || cancel.IsCancellationRequested) return false;
                Monitor.Wait(_signal, left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
            }
            return true;
        }
    }

    private T Invoke<T>(Func<T> f)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Thread.CurrentThread == _thread) return f();
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _commands.Enqueue(() =>
        {
            try { tcs.SetResult(f()); }
            catch (Exception e) { tcs.SetException(e); }
        });
        _wakeup.Set();
        // WaitAny, not Wait: Task.Wait wraps a failure in an AggregateException, and callers need the
        // original one (a VrrpConfigurationException carries the error ids).
        if (Task.WaitAny(new Task[] { tcs.Task }, TimeSpan.FromSeconds(30)) < 0 && !tcs.Task.IsCompleted)
            throw new TimeoutException("The VRRP engine thread did not answer within 30 seconds.");
        return tcs.Task.GetAwaiter().GetResult();
    }

    private void Post(Action a)
    {
        if (_disposed) return;
        _commands.Enqueue(a);
        _wakeup.Set();
    }

    // ---- the loop (engine thread) ----------------------------------------------------------

    private void Run()
    {
        EngineThreadId = ThreadNice.CurrentThreadId;
        try { EngineScheduling = ThreadNice.GetCurrentThread(); }
        catch (InvalidOperationException e) { LastLoopError = e; }
        var fds = new List<int>();
        var entries = new List<SocketEntry?>();
        var readable = new bool[64];
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
                var fdArray = fds.ToArray();
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
                LastLoopError = e;
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
        foreach (var i in _engine.Instances)
            if (_running.TryGetValue(i.Name, out var h)) h.Publish(VrrpInstanceSnapshot.From(i));
    }

    private void PublishAndRaise()
    {
        PublishSnapshots();
        lock (_signal) Monitor.PulseAll(_signal);
        if (_pendingEvents.Count == 0) return;
        foreach (var e in _pendingEvents) _events.Add(e);
        _pendingEvents.Clear();
    }

    /// <summary>Raises <see cref="StateChanged"/> on its own thread, in order, so a slow handler never stalls the engine.</summary>
    private void DispatchEvents()
    {
        foreach (var e in _events.GetConsumingEnumerable())
        {
            try { StateChanged?.Invoke(this, e); }
            catch (Exception ex) { LastLoopError = ex; }
        }
    }

    private void RefreshLinks()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in _engine.Instances)
        {
            names.Add(i.Config.InterfaceName);
            foreach (var t in i.Config.TrackInterfaces) names.Add(t.InterfaceName);
        }
        if (names.Count == 0) return;
        var links = _rtnl.GetLinks().ToDictionary(l => l.Name, StringComparer.Ordinal);
        foreach (var n in names)
        {
            bool up = links.TryGetValue(n, out var l) && RtnlVrrpInterfaceLookup.IsUp(l);
            if (_linkState.TryGetValue(n, out var was) && was == up) continue;
            _linkState[n] = up;
            _engine.SetInterfaceState(n, up);
        }
    }

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

    // ---- accept mode (RFC 5798 §6.1) --------------------------------------------------------

    /// <summary>For an instance with AcceptMode off: checks that nf_tables can be used (creates the owned table) and names its chain.</summary>
    private void PrepareAcceptFilter(string instance)
    {
        try
        {
            _filter ??= new VipInputFilter($"hapowershell_vrrp_{Environment.ProcessId}");
            _filter.EnsureTable();
        }
        catch (Exception e) when (e is NetlinkException or System.ComponentModel.Win32Exception or IOException)
        {
            throw new InvalidOperationException(
                $"-NoAccept needs nf_tables in this kernel and network namespace (CAP_NET_ADMIN, CONFIG_NF_TABLES, CONFIG_NF_TABLES_INET) to drop packets addressed to the virtual addresses: {e.Message} " +
                "Run as root on a kernel with nf_tables, or leave out -NoAccept (accept mode, keepalived's default).", e);
        }
        _filterChainOf[instance] = $"vrrp_{++_filterChains}";
    }

    /// <summary>Installs or removes the instance's drop chain so it matches its state: installed only while it is a non-owner Master without accept mode.</summary>
    private void SyncAcceptFilter(VrrpInstance inst)
    {
        if (_filter is null || !_filterChainOf.TryGetValue(inst.Name, out var chain)) return;
        bool wanted = inst.State == VrrpState.Master && !inst.IsAddressOwner;
        try
        {
            if (wanted) _filter.Install(chain, inst.Config.VirtualAddresses.Select(v => v.Address).ToList());
            else _filter.Remove(chain);
        }
        catch (Exception e) { (_running.TryGetValue(inst.Name, out var h) ? h : null)?.CountActionError(wanted ? "install accept filter" : "remove accept filter", e); }
    }

    private void RemoveAcceptFilter(string chain, VrrpRunningInstance handle)
    {
        try { _filter?.Remove(chain); }
        catch (Exception e) { handle.CountActionError("remove accept filter", e); }
    }

    /// <summary>The chain that drops packets to the instance's virtual addresses, when it is installed now (diagnostics and tests).</summary>
    internal bool IsAcceptFilterInstalled(string instance)
        => _filter is not null && _filterChainOf.TryGetValue(instance, out var c) && _filter.IsInstalled(c);

    // ---- announcements (engine thread) -----------------------------------------------------

    /// <summary>A send-only packet socket and the interface's MAC, kept per interface so the first gratuitous
    /// ARP of a new Master leaves from the engine thread with no lookup and no thread hop; dropped on every
    /// link change (the MAC or the link may have changed).</summary>
    private sealed record Announcer(PacketSocket Socket, ArpInterface Interface);

    /// <summary>The interface's announcer, or null when it cannot ARP (no MAC, NOARP, not Ethernet).</summary>
    private Announcer? GetAnnouncer(int ifindex, string ifname)
    {
        if (_announcers.TryGetValue(ifindex, out var a)) return a;
        var link = _rtnl.GetLink(ifindex);
        if (link?.MacAddress is null || !link.CanArp) return null;
        a = new Announcer(PacketSocket.Open(ifindex, ifname, 0), new ArpInterface(ifname, ifindex, link.MacAddress));
        _announcers[ifindex] = a;
        return a;
    }

    private const long PrewarmLeadMicroseconds = 2_000;

    /// <summary>Times the loop woke ahead of a Master_Down deadline to run the takeover's first steps (diagnostics).</summary>
    public long TakeoverPrewarms { get; private set; }

    /// <summary>Times the loop then stayed on the CPU until that deadline (diagnostics).</summary>
    public long TakeoverSpins { get; private set; }

    /// <summary>
    /// Polls the loop's descriptors without sleeping until <paramref name="until"/> (engine time) or until one
    /// is readable (an advert, a command, a link change: the loop then handles it as usual). At most
    /// <see cref="PrewarmLeadMicroseconds"/> of CPU, once per Master_Down deadline that the loop readied, which
    /// happens only when the master has been silent for nearly the whole interval.
    /// </summary>
    private void SpinUntil(long until, int[] fds, bool[] readable)
    {
        while (_engine.Clock.NowMicroseconds < until)
            if (DescriptorPoll.Wait(fds, readable, 0) > 0) return;
        Array.Clear(readable, 0, fds.Length);
    }

    private (VrrpInstance Instance, long Due)? _prewarmFor;
    private long _prewarmedDue = -1;

    /// <summary>Runs, without sending anything, what a takeover of <paramref name="inst"/> runs first: its adverts
    /// encoded, its address messages built, its GARP frames built (the interface's GARP socket opened if it is not).</summary>
    private void PrewarmTakeover(VrrpInstance inst)
    {
        if (!_socketOf.TryGetValue(inst.Name, out var entry)) return;
        int ifindex = entry.Socket.InterfaceIndex;
        _ = inst.EncodeAdvertisements(inst.EffectivePriority);
        foreach (var a in inst.Config.VirtualAddresses)
            _ = RtnlClient.BuildAddressChange(true, ifindex, a.Address, (byte)a.PrefixLength, a.Label, 0);
        PrimeAnnouncer(ifindex, entry.InterfaceName, inst.Config.VirtualAddresses.Select(v => v.Address).ToArray());
    }

    /// <summary>
    /// Readies what a takeover runs, so that a backup's first takeover (it has never sent an advert)
    /// does not pay for it between its Master_Down timer and its first advert: a rehearsal on a private
    /// engine through the host's actions in their dry mode (adverts encoded and probed, address requests
    /// built and refused, the interface's GARP socket opened and its frames probed; nothing is sent), and
    /// the methods of the Master path and their native calls compiled in the background.
    /// Measured in bench/Vrrp.Bench.ps1 (docs/benchmarks.md).
    /// </summary>
    private void PrepareTakeover(VrrpInstance inst)
    {
        _ = RehearseTakeover(inst, _socketOf.TryGetValue(inst.Name, out var entry) ? new Actions(this, dry: entry) : null);
        if (_takeoverCompiled || !CodeWarmUp.IsUseful) return; // nothing to compile ahead without a JIT (NativeAOT)
        _takeoverCompiled = true;
        Task.Run(() =>
        {
            CodeWarmUp.Prepare(typeof(Actions), "SendAdvertisement", "AddVirtualAddresses", "SendGratuitousArp", "RunNotify", "Handle");
            CodeWarmUp.Prepare(typeof(VrrpHost), "SyncAcceptFilter", "GetAnnouncer", "PublishAndRaise");
            CodeWarmUp.Prepare(typeof(VrrpSocket), "Send", "WriteSockaddrIn", "WriteSockaddrIn6");
            CodeWarmUp.Prepare(typeof(PacketSocket), "Send");
            CodeWarmUp.Prepare(typeof(RtnlClient), "AddAddress");
            CodeWarmUp.Prepare(typeof(Tmds.Linux.LibC), "sendto");
        });
    }

    /// <summary>
    /// Runs the engine's own takeover once, on a private engine with a clock of its own: a copy of the
    /// instance (no trackers, no sync group, not the owner) starts as Backup, its Master_Down timer runs
    /// out, it becomes Master, then stops. That runs (so compiles) the state machine's Master path as it
    /// is, and with the host's actions in their dry mode (<paramref name="actions"/>) the actions' own code
    /// down to the syscalls; nothing is sent or changed and the host's engine is not touched. Without
    /// <paramref name="actions"/> the actions do nothing.
    /// </summary>
    /// <returns>Whether the copy reached Master (it should; false means nothing was rehearsed).</returns>
    internal static bool RehearseTakeover(VrrpInstance inst, IVrrpActions? actions = null)
    {
        var clock = new RehearsalClock();
        var engine = new VrrpEngine(actions ?? RehearsalActions.Instance, clock);
        var config = inst.Config with
        {
            Name = "rehearsal", Priority = Math.Min(inst.Config.Priority, 254), SourceAddress = inst.PrimaryAddress,
            TrackInterfaces = Array.Empty<VrrpTrackInterface>(), TrackScripts = Array.Empty<VrrpTrackScript>(), SyncGroup = null,
        };
        try
        {
            var copy = engine.Add(config);
            engine.Start(copy.Name);
            clock.NowMicroseconds += 2 * copy.MasterDownIntervalMicroseconds;
            engine.RunDueTimers();
            bool master = copy.State == VrrpState.Master;
            engine.Stop(copy.Name);
            return master;
        }
        catch (Exception) { return false; /* a warm-up only: whatever fails here (the copy is checked as the instance was) must not fail the start */ }
    }

    private sealed class RehearsalClock : IVrrpClock
    {
        public long NowMicroseconds { get; set; } = 1_000_000;
    }

    private sealed class RehearsalActions : IVrrpActions
    {
        public static readonly RehearsalActions Instance = new();
        public void SendAdvertisement(VrrpInstance instance, VrrpOutboundAdvertisement advertisement) { }
        public void AddVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses) { }
        public void RemoveVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses) { }
        public void SendGratuitousArp(VrrpInstance instance, int count, VrrpGarpKind kind) { }
        public void RunNotify(VrrpInstance instance, VrrpNotification notification) { }
        public void RunTrackScript(VrrpTrackScript script) { }
        public void StateChanged(VrrpStateChange change) { }
    }

    /// <summary>Opens the interface's GARP socket ahead of a takeover and builds its frames once, sending nothing.
    /// A failure here is left to the takeover, which tries again and counts it.</summary>
    private void PrimeAnnouncer(int ifindex, string ifname, IPAddress[] addresses)
    {
        try
        {
            if (GetAnnouncer(ifindex, ifname) is { } a)
                new ArpEngine().Announce(DiscardingChannel.Instance, a.Interface, addresses, GratuitousArpMode.Request, 1, TimeSpan.Zero);
        }
        catch (Exception) { /* see above: the takeover retries and counts the error */ }
    }

    /// <summary>After a link change dropped them, the GARP sockets of the running instances' interfaces are opened again.</summary>
    private void PrimeAnnouncers()
    {
        foreach (var i in _engine.Instances)
            if (_socketOf.TryGetValue(i.Name, out var entry))
                PrimeAnnouncer(entry.Socket.InterfaceIndex, entry.InterfaceName, i.Config.VirtualAddresses.Select(v => v.Address).ToArray());
    }

    /// <summary>A frame channel that sends nothing (for building GARP frames ahead of a takeover).</summary>
    private sealed class DiscardingChannel : IFrameChannel
    {
        public static readonly DiscardingChannel Instance = new();
        public DateTime Send(ReadOnlySpan<byte> frame) => DateTime.UtcNow;
        public ReceivedFrame? Receive(TimeSpan timeout) => null;
        public void Dispose() { }
    }

    private void DropAnnouncers()
    {
        foreach (var a in _announcers.Values) a.Socket.Dispose();
        _announcers.Clear();
    }

    private void OnProcessExit(object? sender, EventArgs e)
    {
        if (_running.IsEmpty || _disposed) return;
        try
        {
            var t = Task.Run(StopAll);
            t.Wait(TimeSpan.FromSeconds(3));
        }
        catch { /* exiting anyway */ }
    }

    public void Dispose()
    {
        if (_disposed) return;
        try { StopAll(); } catch { }
        _disposed = true;
        _wakeup.Set();
        _thread.Join(TimeSpan.FromSeconds(2));
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        foreach (var r in _signals) r.Dispose();
        foreach (var s in _sockets.Values) s.Socket.Dispose();
        _sockets.Clear();
        _links?.Dispose();
        _filter?.Dispose();
        DropAnnouncers();
        _wakeup.Dispose();
        _deadline.Dispose();
        _events.CompleteAdding();
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

    // ---- what the engine asks for (engine thread) ------------------------------------------

    private sealed class Actions : IVrrpActions
    {
        private readonly VrrpHost _h;
        private readonly SocketEntry? _dry;

        /// <param name="dry">
        /// For a takeover rehearsal: every action runs its own code against this socket entry's interface but
        /// changes nothing: adverts are sent with MSG_PROBE (no packet), address requests name interface index 0
        /// (the kernel answers ENODEV), gratuitous ARP frames are sent as probes (<see cref="PacketSocket.ProbeOnly"/>:
        /// interface index 0, refused by the kernel), no filter, script, paced burst or state event.
        /// </param>
        public Actions(VrrpHost host, SocketEntry? dry = null)
        {
            _h = host;
            _dry = dry;
        }

        private VrrpRunningInstance? Handle(VrrpInstance i) => _dry is null && _h._running.TryGetValue(i.Name, out var h) ? h : null;

        private bool TryEntry(VrrpInstance i, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SocketEntry? entry)
        {
            entry = _dry;
            return entry is not null || _h._socketOf.TryGetValue(i.Name, out entry);
        }

        public void SendAdvertisement(VrrpInstance instance, VrrpOutboundAdvertisement advertisement)
        {
            if (!TryEntry(instance, out var entry)) return;
            try { entry.Socket.Send(advertisement.Destination, advertisement.Message, probe: _dry is not null); }
            catch (Exception e) { Handle(instance)?.CountSendError(e); }
        }

        public void AddVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses)
        {
            if (!TryEntry(instance, out var entry)) return;
            // Drop rules first, so no packet to a virtual address is accepted before they are in place.
            if (_dry is null) _h.SyncAcceptFilter(instance);
            foreach (var a in addresses)
            {
                try
                {
                    _h._rtnl.AddAddress(_dry is null ? entry.Socket.InterfaceIndex : 0, a.Address, (byte)a.PrefixLength, a.Label,
                        a.Address.AddressFamily == AddressFamily.InterNetworkV6 ? RtnlClient.IfaFNoDad : 0);
                }
                catch (NetlinkException e) when (e.Errno == Errno.EEXIST) { }
                catch (Exception e) { Handle(instance)?.CountActionError($"add {a.Address}", e); }
            }
        }

        public void RemoveVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses)
        {
            if (!TryEntry(instance, out var entry)) return;
            foreach (var a in addresses)
            {
                try { _h._rtnl.DeleteAddress(_dry is null ? entry.Socket.InterfaceIndex : 0, a.Address, (byte)a.PrefixLength); }
                catch (NetlinkException e) when (e.Errno is Errno.EADDRNOTAVAIL or Errno.ENOENT or Errno.ENODEV) { }
                catch (Exception e) { Handle(instance)?.CountActionError($"remove {a.Address}", e); }
            }
            // Called while the instance is still Master (it is leaving): the addresses are gone, so are the drop rules.
            if (_h._filterChainOf.TryGetValue(instance.Name, out var chain) && Handle(instance) is { } handle)
                _h.RemoveAcceptFilter(chain, handle);
        }

        public void SendGratuitousArp(VrrpInstance instance, int count, VrrpGarpKind kind)
        {
            if (!TryEntry(instance, out var entry)) return;
            int ifindex = entry.Socket.InterfaceIndex;
            string ifname = entry.InterfaceName;
            var addresses = instance.Config.VirtualAddresses.Select(v => v.Address).ToArray();
            var interval = instance.Config.Garp.Interval;
            var handle = Handle(instance);
            string name = instance.Name;
            // The first round (one frame per address) goes now, from this thread: a new Master's first
            // announcement should follow its first advert within a millisecond.
            try
            {
                if (_h.GetAnnouncer(ifindex, ifname) is not { } a) return;
                a.Socket.ProbeOnly = _dry is not null;
                try { new ArpEngine().Announce(a.Socket, a.Interface, addresses, GratuitousArpMode.Request, 1, TimeSpan.Zero); }
                finally { a.Socket.ProbeOnly = false; }
            }
            catch (Exception e)
            {
                handle?.CountActionError("gratuitous ARP", e);
                return;
            }
            if (count <= 1 || _dry is not null) return;
            // The other rounds, paced by the interval, on the instance's chain so a slow burst never holds the loop.
            var prev = _h._announceChain.TryGetValue(name, out var t) ? t : Task.CompletedTask;
            _h._announceChain[name] = prev.ContinueWith(_ =>
            {
                try
                {
                    if (interval > TimeSpan.Zero) Thread.Sleep(interval);
                    var link = _h._rtnl.GetLink(ifindex);
                    if (link?.MacAddress is null || !link.CanArp) return;
                    using var channel = PacketSocket.Open(ifindex, ifname, 0);
                    new ArpEngine().Announce(channel, new ArpInterface(ifname, ifindex, link.MacAddress), addresses,
                        GratuitousArpMode.Request, count - 1, interval);
                }
                catch (Exception e) { handle?.CountActionError("gratuitous ARP", e); }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        public void RunNotify(VrrpInstance instance, VrrpNotification notification)
        {
            if (_dry is not null) return;
            var handle = Handle(instance);
            var timeout = _h.NotifyTimeout;
            // One chain for the process keeps notifications in order; each is bounded by the timeout.
            _h._notifyChain = _h._notifyChain.ContinueWith(_ =>
            {
                foreach (var c in notification.Commands)
                {
                    try
                    {
                        var args = new List<string> { "-c", c.Command + " \"$@\"", "sh" };
                        args.AddRange(c.Arguments);
                        _h.Runner.Run(new ProcessRunRequest { FileName = "/bin/sh", Arguments = args, Timeout = timeout, KillGrace = TimeSpan.FromSeconds(1) });
                    }
                    catch (Exception e) { handle?.CountActionError($"notify '{c.Command}'", e); }
                }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        public void RunTrackScript(VrrpTrackScript script)
        {
            if (_dry is not null) return;
            Task.Run(() =>
            {
                bool ok;
                try
                {
                    var r = _h.Runner.Run(new ProcessRunRequest
                    {
                        FileName = "/bin/sh",
                        Arguments = new[] { "-c", script.Command },
                        Timeout = script.Timeout,
                        KillGrace = TimeSpan.FromSeconds(1),
                    });
                    ok = !r.TimedOut && !r.Killed && r.Signal == 0 && r.ExitCode == 0;
                }
                catch { ok = false; }
                _h.Post(() => _h._engine.ReportTrackScriptResult(script.Name, ok));
            });
        }

        public void StateChanged(VrrpStateChange change)
        {
            if (_dry is not null) return;
            var handle = Handle(change.Instance);
            if (handle is null) return;
            var now = DateTime.Now;
            handle.LastTransition = now;
            handle.LastTransitionReason = change.Reason;
            handle.PreviousState = change.From;
            handle.TransitionCount++;
            _h._pendingEvents.Add(new VrrpStateChangedEventArgs(handle, change.From, change.To, change.Reason, now, change.Instance.EffectivePriority));
        }
    }
}
