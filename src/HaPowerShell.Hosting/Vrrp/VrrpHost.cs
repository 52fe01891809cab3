using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Native;
using HaPowerShell.Native.Processes;
using HaPowerShell.Native.Rtnl;
using HaPowerShell.Native.Vrrp;

namespace HaPowerShell.Hosting.Vrrp;

/// <summary>
/// Hosts a <see cref="VrrpEngine"/> on one dedicated background thread: it polls the raw VRRP sockets,
/// a link-change netlink socket and a wakeup eventfd, feeds packets, link changes, script results and
/// timers into the engine, and implements <see cref="IVrrpActions"/> with raw sockets (adverts),
/// rtnetlink (VIPs), packet sockets (GARP / unsolicited NA) and process groups (notify and track
/// scripts). Everything that can block — announcements paced by an interval, notify and track
/// scripts — runs off the engine thread, with timeouts, so a hanging script never stalls the engine.
/// Other threads talk to it through <see cref="Start"/>, <see cref="Stop"/>, <see cref="SetPriority"/>,
/// which run on the engine thread. Nothing here knows PowerShell: a daemon hosts it the same way.
/// State changes and problems go to the <see cref="IHostEventSink"/> the front end gives, from a dispatch
/// thread of their own. The host registers no signal handler and no ProcessExit handler: the front end
/// owns the process and disposes the host when it ends (<see cref="Dispose"/> stops every instance
/// gracefully: a Master sends priority 0 and removes its addresses).
/// </summary>
public sealed partial class VrrpHost : IDisposable
{
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
    private readonly List<VrrpStateChangedEventArgs> _pendingEvents = new();
    // State changes (VrrpStateChangedEventArgs) and log entries (HostLogEntry), in order, for the dispatch thread.
    private readonly BlockingCollection<object> _events = new();
    private readonly object _signal = new();
    private Task _notifyChain = Task.CompletedTask;
    private LinkChangeMonitor? _links;
    private volatile bool _disposed;

    public VrrpHost() : this(NullHostEventSink.Instance) { }

    public VrrpHost(IHostEventSink sink) : this(new RtnlClient(), ProcessGroupRunner.Instance, sink) { }

    public VrrpHost(RtnlClient rtnl, IProcessGroupRunner runner, IHostEventSink sink)
    {
        _rtnl = rtnl;
        Runner = runner;
        Sink = sink;
        _lookup = new RtnlVrrpInterfaceLookup(rtnl);
        _engine = new VrrpEngine(new Actions(this), SystemVrrpClock.Instance, _lookup);
        _thread = new Thread(Run) { IsBackground = true, Name = "HaPowerShell VRRP" };
        _thread.Start();
        new Thread(DispatchEvents) { IsBackground = true, Name = "HaPowerShell VRRP events" }.Start();
    }

    /// <summary>Where state changes and problems are reported.</summary>
    public IHostEventSink Sink { get; }

    /// <summary>Runs notify and track scripts.</summary>
    public IProcessGroupRunner Runner { get; }

    /// <summary>How long a notify script may run before its process group is killed.</summary>
    public TimeSpan NotifyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The account notify and track scripts run as (keepalived's script_user); null: this process's.</summary>
    public UserAccount? ScriptUser { get; set; }

    /// <summary>Interface names, for error messages.</summary>
    public IVrrpInterfaceLookup Interfaces => _lookup;

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
            new VrrpConfigError("VrrpEngineSchedulingDenied", s.RealtimePriority is null ? VrrpField.EnginePriority : VrrpField.EngineRealtimePriority,
                $"The kernel refused to make the VRRP engine thread {what}: {Errno.Describe(err)}. It needs root or CAP_SYS_NICE (a negative nice value too); run as root or leave the engine priority out.",
                s.ToString()),
        });
    }

    private void RestoreScheduling(ThreadScheduling before)
    {
        if (before == EngineScheduling) return;
        int err = ThreadNice.SetCurrentThread(before);
        EngineScheduling = ThreadNice.GetCurrentThread();
        if (err != 0)
        {
            LastLoopError = new InvalidOperationException(
                $"A start that failed could not put the VRRP engine thread back to {before} ({Errno.Describe(err)}); it stays {EngineScheduling}.");
            Report(HostLogLevel.Warning, "", LastLoopError.Message);
        }
    }

    /// <summary>Stops an instance (a Master sends priority 0 and removes its addresses) and forgets it. False when unknown.</summary>
    public bool Stop(string name) => Invoke(() =>
    {
        if (!_running.TryGetValue(name, out var handle)) return false;
        var inst = _engine.Find(name);
        if (inst is not null)
        {
            _engine.Stop(name);
            handle.Publish(inst);
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

    /// <summary>
    /// Makes the running instances those of <paramref name="configs"/>, changing only the difference
    /// (<see cref="VrrpReconfigurePlan"/>, matched by name): an instance whose configuration is the same is not
    /// touched; one that differs only in what can change in place (priority, addresses, peers, preemption, GARP,
    /// tracking, notify scripts, password) takes it and keeps its state — a Master stays Master, sends its adverts on
    /// time and keeps the addresses both configurations have; one that differs in anything else is stopped and
    /// started again; a removed one stops gracefully; a new one starts. Every new configuration is validated before
    /// anything changes (<see cref="VrrpConfigurationException"/>, nothing changed). A step that fails later (a
    /// socket that cannot open) does not stop the others: it is in <see cref="VrrpReconfigureResult.Failures"/> and
    /// reported to the sink.
    /// </summary>
    public VrrpReconfigureResult Reconfigure(IReadOnlyList<VrrpInstanceConfig> configs)
    {
        ArgumentNullException.ThrowIfNull(configs);
        ObjectDisposedException.ThrowIf(_disposed, this);
        // The plan and the checks (they read the kernel's links) run on the caller's thread; the engine thread only
        // applies the steps, one command each, so that it sends its adverts between them.
        var plan = VrrpReconfigurePlan.Compute(_running.Values.Select(r => r.Config), configs);
        var errors = new List<VrrpConfigError>();
        foreach (var item in plan.Items.Where(i => i.Change is VrrpInstanceChange.Added or VrrpInstanceChange.Replaced or VrrpInstanceChange.Updated))
            errors.AddRange(item.New!.Validate(_lookup));
        if (errors.Count > 0) throw new VrrpConfigurationException(errors);
        var failures = new List<VrrpReconfigureFailure>();
        foreach (var item in plan.Items.Where(i => i.Change != VrrpInstanceChange.Unchanged))
        {
            try
            {
                switch (item.Change)
                {
                    case VrrpInstanceChange.Removed:
                        Stop(item.Name);
                        break;
                    case VrrpInstanceChange.Replaced:
                        Stop(item.Name);
                        Start(item.New!, null);
                        break;
                    case VrrpInstanceChange.Updated:
                        Invoke(() => { UpdateInPlace(item); return true; });
                        break;
                    case VrrpInstanceChange.Added:
                        Start(item.New!, null);
                        break;
                }
            }
            catch (Exception e)
            {
                failures.Add(new VrrpReconfigureFailure(item.Name, item.Change, e));
                Report(HostLogLevel.Error, item.Name, $"reconfiguring ({item.Change}) failed: {e.Message}");
            }
        }
        return new VrrpReconfigureResult(plan, Instances, failures);
    }

    /// <summary>A configuration taken in place (engine thread): the engine keeps the state; the host follows with the accept filter, links and warm-up.</summary>
    private void UpdateInPlace(VrrpPlanItem item)
    {
        _engine.Reconfigure(item.Name, item.New!);
        var inst = _engine.Find(item.Name)!;
        _running[item.Name].Config = item.New!;
        if (inst.State == VrrpState.Master) SyncAcceptFilter(inst);
        RefreshLinks();
        if (item.ChangedFields.Contains(VrrpField.VirtualAddress)) PrepareTakeover(inst);
        PublishSnapshots();
    }

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

    /// <summary>
    /// Stops every instance gracefully (a Master sends priority 0 and removes its addresses), then the engine
    /// thread, and closes the sockets. The front end calls it when it ends (Remove-Module, pwsh exit, the
    /// daemon's SIGTERM).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        try { StopAll(); } catch { }
        _disposed = true;
        _wakeup.Set();
        _thread.Join(TimeSpan.FromSeconds(2));
        foreach (var s in _sockets.Values) s.Socket.Dispose();
        _sockets.Clear();
        _links?.Dispose();
        _filter?.Dispose();
        DropAnnouncers();
        _wakeup.Dispose();
        _deadline.Dispose();
        _events.CompleteAdding();
    }
}
