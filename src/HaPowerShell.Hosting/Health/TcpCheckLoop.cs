using HaPowerShell.Core.Health;
using HaPowerShell.Native.Net;

namespace HaPowerShell.Hosting.Health;

/// <summary>
/// One thread, one epoll instance and one <see cref="TimerHeap"/> for the TCP checks of any number of
/// <see cref="HealthCheckRunner"/>s whose checks are all TCP_CHECKs (keepalived's checker process: one
/// event loop for every real server). Each real server of an attached runner gets a slot: its single
/// timer (next due time while idle, connect deadline while connecting), its socket while connecting,
/// and the epoll token of that connect. A <see cref="HealthCheckHost"/> shares one loop among its
/// checkers (one per nice / real-time setting), so 500 checked real servers are one thread and one
/// wake-up per due batch, not 500 threads; a runner started without one gets a loop of its own.
/// <para>
/// Threading: the loop's thread holds the loop's gate for a round (finished connects, due timers,
/// checker retries, pending reads, publishing) and each runner's own lock while it works on that
/// runner's checker; <see cref="Attach"/> and <see cref="Detach"/> take the gate from any thread, so a
/// runner that was detached is never touched again. The thread ends when the last runner detaches and
/// starts again with the next. Slots a detach frees are reused only after the round that might still
/// hold their connects' tokens.
/// </para>
/// </summary>
public sealed class TcpCheckLoop : IDisposable
{
    private const int EInProgress = HaPowerShell.Native.Errno.EINPROGRESS;

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly long _originTimestamp;
    private readonly EpollConnector _epoll;
    private TimerHeap _timers = new(0);
    private HealthCheckRunner?[] _owner = Array.Empty<HealthCheckRunner?>();
    private int[] _index = Array.Empty<int>();     // slot -> the runner's real server index
    private int[] _fds = Array.Empty<int>();       // slot -> socket while connecting, else -1
    private DateTimeOffset[] _began = Array.Empty<DateTimeOffset>();
    private int _used;                             // slots below this have been handed out at least once
    private readonly Stack<int> _free = new();
    private readonly List<int> _quarantine = new();
    private readonly List<HealthCheckRunner> _attached = new();
    private readonly List<HealthCheckRunner> _dirty = new();
    private readonly Queue<HealthCheckRunner> _reads = new();
    private Thread? _thread;
    private long _lastRetrySweep = long.MinValue;
    private bool _disposed;

    /// <param name="nice">The nice value of the loop's thread (keepalived's checker_priority); null = the process's.</param>
    /// <param name="realtimePriority">SCHED_RR priority 1-99 of the loop's thread (checker_realtime_priority); null = not real-time.</param>
    /// <param name="time">The clock; every attached runner must use the same one.</param>
    public TcpCheckLoop(int? nice = null, int? realtimePriority = null, TimeProvider? time = null)
    {
        Nice = nice;
        RealtimePriority = realtimePriority;
        _time = time ?? TimeProvider.System;
        _originTimestamp = _time.GetTimestamp();
        _epoll = new EpollConnector();
    }

    public int? Nice { get; }
    public int? RealtimePriority { get; }
    internal TimeProvider Time => _time;

    /// <summary>The runners attached now.</summary>
    public int RunnerCount
    {
        get { lock (_gate) return _attached.Count; }
    }

    /// <summary>The slots (checked real servers) of the attached runners.</summary>
    public int SlotCount
    {
        get { lock (_gate) return _used - _free.Count - _quarantine.Count; }
    }

    internal bool IsLoopThread => Thread.CurrentThread == Volatile.Read(ref _thread);

    /// <summary>The loop's time: ticks since the loop was made (monotonic).</summary>
    private long NowKey() => _time.GetElapsedTime(_originTimestamp).Ticks;

    /// <summary>The loop's time at <paramref name="timestamp"/> of its clock.</summary>
    internal long KeyAt(long timestamp) => _time.GetElapsedTime(_originTimestamp, timestamp).Ticks;

    /// <summary>
    /// Gives every real server of <paramref name="runner"/> a slot, arms the timers of those scheduled, and
    /// starts the loop's thread if it is not running. The runner's checker has started (its due times are set).
    /// </summary>
    internal void Attach(HealthCheckRunner runner)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_attached.Contains(runner)) throw new InvalidOperationException("The checker is already attached to this TCP loop.");
            int n = runner.Checker.RealServers.Count;
            var slots = new int[n];
            for (int i = 0; i < n; i++)
            {
                int slot = Allocate();
                _owner[slot] = runner;
                _index[slot] = i;
                slots[i] = slot;
            }
            runner.TcpSlots = slots;
            lock (runner.Sync)
            {
                for (int i = 0; i < n; i++)
                    if (runner.TcpDue(i) is long due) _timers.Set(slots[i], due);
            }
            _attached.Add(runner);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "HaPowerShell TCP checks" };
                _thread.Start();
            }
            else _epoll.Wake();
        }
    }

    /// <summary>
    /// Ends the runner's part in the loop: its connects under way are closed, its timers disarmed and its slots
    /// freed; after this the loop never touches it again. False when the loop was busy longer than
    /// <paramref name="wait"/> (the runner is then detached at the end of the loop's round).
    /// </summary>
    internal bool Detach(HealthCheckRunner runner, TimeSpan wait)
    {
        if (!Monitor.TryEnter(_gate, IsLoopThread ? Timeout.InfiniteTimeSpan : wait))
        {
            runner.TcpDetachPending = true;
            _epoll.Wake();
            return false;
        }
        try { DetachLocked(runner); }
        finally { Monitor.Exit(_gate); }
        return true;
    }

    private void DetachLocked(HealthCheckRunner runner)
    {
        if (!_attached.Remove(runner)) return;
        foreach (int slot in runner.TcpSlots!)
        {
            if (_fds[slot] >= 0)
            {
                EpollConnector.Abort(_fds[slot]);
                _fds[slot] = -1;
                runner.TcpClosed();
            }
            _timers.Remove(slot);
            _owner[slot] = null;
            _quarantine.Add(slot);
        }
        runner.TcpSlots = null;
        runner.TcpDetached();
        _epoll.Wake();
    }

    /// <summary>Has the loop's thread answer the runner's pending reads between two rounds.</summary>
    internal void RequestRead(HealthCheckRunner runner)
    {
        lock (_reads) _reads.Enqueue(runner);
        _epoll.Wake();
    }

    private int Allocate()
    {
        if (_free.Count > 0) return _free.Pop();
        if (_used == _owner.Length)
        {
            int size = Math.Max(16, _owner.Length * 2);
            Array.Resize(ref _owner, size);
            Array.Resize(ref _index, size);
            Array.Resize(ref _began, size);
            int old = _fds.Length;
            Array.Resize(ref _fds, size);
            Array.Fill(_fds, -1, old, size - old);
            var timers = new TimerHeap(size);
            for (int id = 0; id < _timers.Capacity; id++)
                if (_timers.Contains(id)) timers.Set(id, _timers.DueOf(id));
            _timers = timers;
        }
        return _used++;
    }

    private void Run()
    {
        Span<uint> ready = stackalloc uint[1024];
        try
        {
            if (Nice is int nice && HaPowerShell.Native.Processes.ThreadNice.SetCurrentThread(nice) is int err and not 0)
                throw new HealthCheckException("CheckerPriorityDenied", HealthCheckFailureKind.InvalidArgument,
                    $"Could not set the TCP check thread's nice value to {nice}: {HaPowerShell.Native.Errno.Describe(err)}; a negative value needs root or CAP_SYS_NICE.", nice);
            if (RealtimePriority is int rt && HaPowerShell.Native.Processes.ThreadNice.SetCurrentThreadRealtime(rt) is int rterr and not 0)
                throw new HealthCheckException("CheckerPriorityDenied", HealthCheckFailureKind.PermissionDenied,
                    $"Could not make the TCP check thread real-time (SCHED_RR {rt}): {HaPowerShell.Native.Errno.Describe(rterr)}; it needs root or CAP_SYS_NICE.", rt);
            while (true)
            {
                int timeout = 1000;
                lock (_gate)
                {
                    if (_attached.Count == 0 || _disposed) { End(); return; }
                    if (_timers.TryPeek(out _, out long due))
                    {
                        long ahead = due - NowKey();
                        timeout = ahead <= 0 ? 0 : (int)Math.Min(1000, (ahead + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);
                    }
                }
                int count = _epoll.Wait(ready, timeout);
                lock (_gate)
                {
                    try { Round(ready, count); }
                    finally
                    {
                        foreach (var r in _dirty) r.TcpPublish();
                        _dirty.Clear();
                        _free.EnsureCapacity(_free.Count + _quarantine.Count);
                        foreach (int slot in _quarantine) _free.Push(slot);
                        _quarantine.Clear();
                    }
                }
            }
        }
        catch (Exception e)
        {
            // the loop itself failed (its thread's priority, epoll): every checker on it has failed
            lock (_gate)
            {
                foreach (var r in _attached.ToArray())
                {
                    r.TcpFaulted(e);
                    DetachLocked(r);
                }
                End();
            }
        }
    }

    /// <summary>The thread ends (under the gate): the next <see cref="Attach"/> starts another.</summary>
    private void End()
    {
        _thread = null;
        foreach (int slot in _quarantine) _free.Push(slot);
        _quarantine.Clear();
        lock (_reads) _reads.Clear(); // their runners answer their own reads once detached
    }

    private void Round(Span<uint> ready, int count)
    {
        long key = NowKey();
        // every finished connect first (all of them, not one buffer full), so that a connect that
        // completed is never taken for a timeout because the loop was slow to look
        while (true)
        {
            for (int k = 0; k < count; k++)
            {
                int slot = (int)(ready[k] & ~EpollConnector.ErrorFlag);
                if (slot >= _used || _owner[slot] is not { } r || _fds[slot] < 0) continue;
                int errno = EpollConnector.Finish(_fds[slot], (ready[k] & EpollConnector.ErrorFlag) != 0);
                _fds[slot] = -1;
                r.TcpClosed();
                _timers.Remove(slot);
                Complete(slot, errno, key);
            }
            if (count < ready.Length) break;
            count = _epoll.Wait(ready, 0);
        }
        while (_timers.TryPopDue(key, out int slot))
        {
            if (_fds[slot] >= 0)
            {
                EpollConnector.Abort(_fds[slot]);
                _fds[slot] = -1;
                _owner[slot]!.TcpClosed();
                Complete(slot, HaPowerShell.Native.Errno.ETIMEDOUT, key);
            }
            else Begin(slot, key);
        }
        // IPVS changes a checker could not make are retried once a second
        if (key - _lastRetrySweep >= TimeSpan.TicksPerSecond)
        {
            _lastRetrySweep = key;
            for (int i = _attached.Count - 1; i >= 0; i--)
            {
                var r = _attached[i];
                try
                {
                    if (r.TcpRetry()) MarkDirty(r);
                }
                catch (Exception e) { Fail(r, e); }
            }
        }
        while (true)
        {
            HealthCheckRunner? r;
            lock (_reads) if (!_reads.TryDequeue(out r)) break;
            lock (r.Sync) r.RunReads();
        }
        for (int i = _attached.Count - 1; i >= 0; i--)
            if (_attached[i].TcpDetachPending) DetachLocked(_attached[i]);
    }

    private void Begin(int slot, long key)
    {
        var r = _owner[slot]!;
        try
        {
            var now = r.TcpTime(key);
            int i = _index[slot];
            var probe = r.TcpBegin(i, now);
            _began[slot] = now;
            int e = _epoll.Begin(probe.Remote, probe.Bind, (uint)slot, out int fd);
            if (e != EInProgress) { Complete(slot, e, key); return; }
            _fds[slot] = fd;
            r.TcpOpened();
            _timers.Set(slot, key + probe.TimeoutTicks);
        }
        catch (Exception e) { Fail(r, e); }
    }

    private void Complete(int slot, int errno, long key)
    {
        var r = _owner[slot]!;
        try
        {
            if (r.TcpComplete(_index[slot], errno, r.TcpTime(key), _began[slot], out long? due)) MarkDirty(r);
            if (due is long d) _timers.Set(slot, d);
        }
        catch (Exception e) { Fail(r, e); }
    }

    private void MarkDirty(HealthCheckRunner r)
    {
        if (!_dirty.Contains(r)) _dirty.Add(r);
    }

    /// <summary>One checker failed (its own fault, not the loop's): it leaves the loop, the others go on.</summary>
    private void Fail(HealthCheckRunner r, Exception e)
    {
        r.TcpFaulted(e);
        DetachLocked(r);
    }

    /// <summary>Detaches every runner and ends the thread (waits up to 5 s for it), then closes the epoll instance.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var r in _attached.ToArray()) DetachLocked(r);
            thread = _thread;
        }
        _epoll.Wake();
        if (thread is null || thread == Thread.CurrentThread || thread.Join(TimeSpan.FromSeconds(5))) _epoll.Dispose();
    }
}
