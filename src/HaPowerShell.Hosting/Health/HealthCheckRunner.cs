using System.Diagnostics;
using HaPowerShell.Core.Health;

namespace HaPowerShell.Hosting.Health;

/// <summary>
/// Drives a <see cref="HealthChecker"/> in real time: one scheduling loop takes due checks from a
/// priority queue and starts them without waiting (each check is asynchronous), results go back to
/// the checker under a lock, the IPVS changes it decides are applied in order under that lock, and
/// events are handed to <see cref="EventSink"/> outside it. Hosted by Start-IpvsHealthCheck in a
/// PowerShell session, and by the daemon.
/// </summary>
public sealed partial class HealthCheckRunner
{
    private readonly object _sync = new();
    private readonly HealthChecker _checker;
    private readonly IHealthCheck[] _byIndex;
    private readonly IIpvsHealthActions? _ipvs;
    private readonly TimeProvider _time;
    // the task path's (null on a TCP loop, where a checker needs neither)
    private readonly SemaphoreSlim? _wake;
    private readonly CancellationTokenSource? _stop;
    private Task? _loop;
    private long _waitUntilTicks = long.MaxValue;
    private int _inFlight;
    private readonly List<HealthCheckEvent> _recent = new();
    private DateTimeOffset _origin;
    private long _originTimestamp;

    /// <summary>
    /// The checker's clock: the wall time at start plus monotonic time since (as keepalived's timers
    /// use CLOCK_MONOTONIC), so a wall-clock step or drift never bunches or skips checks.
    /// </summary>
    private DateTimeOffset Now() => _origin + _time.GetElapsedTime(_originTimestamp);

    public HealthCheckRunner(HealthChecker checker, Func<RealServerHealth, IHealthCheck> checks, IIpvsHealthActions? ipvs, TimeProvider? time = null)
    {
        _checker = checker;
        _ipvs = ipvs;
        _time = time ?? TimeProvider.System;
        _byIndex = checker.RealServers.Select(checks).ToArray();
        _tcp = TcpProbes(_byIndex);
        if (_tcp is null)
        {
            _wake = new SemaphoreSlim(0, 1);
            _stop = new CancellationTokenSource();
        }
    }

    public HealthChecker Checker => _checker;

    /// <summary>
    /// Called for every event, in the order they happened, outside the lock and after the IPVS change the event
    /// reports: on a pool thread, or on the shared TCP loop's thread when <see cref="UsesTcpLoop"/> (at the end of
    /// the loop's round). A sink must not block.
    /// </summary>
    public Action<HealthCheckEvent>? EventSink { get; set; }

    /// <summary>How many recent events <see cref="RecentEvents"/> keeps.</summary>
    public int EventHistory { get; set; } = 200;

    public bool IsRunning => _tcp is null ? _loop is { IsCompleted: false } : _tcpAttached;
    public DateTimeOffset? StartTime { get; private set; }
    public DateTimeOffset? StopTime { get; private set; }
    public Exception? Fault => _tcp is null ? _loop?.Exception?.InnerException : _threadFault;

    /// <summary>Checks running now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Whether the checks run on a <see cref="TcpCheckLoop"/> (one thread, epoll) rather than as tasks.</summary>
    public bool UsesTcpLoop => _tcp is not null;

    /// <summary>
    /// Runs <paramref name="read"/> on the checker under the lock (for consistent snapshots). While the
    /// checks run on a TCP loop, the loop's thread runs it between two rounds of checks, so that a snapshot
    /// of thousands of real servers never holds the loop up from another, lower-priority thread.
    /// </summary>
    public T Read<T>(Func<HealthChecker, T> read)
    {
        if (_tcpAttached && _tcpLoop is { } loop && !loop.IsLoopThread)
        {
            var request = new ReadRequest(() => read(_checker));
            lock (_reads) _reads.Enqueue(request);
            loop.RequestRead(this);
            // the loop answers within one round; if this checker left it meanwhile, answer here
            while (!request.Done.Wait(100))
                if (!_tcpAttached && request.TryClaim()) { lock (_sync) request.Run(); }
            if (request.Error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(request.Error);
            return (T)request.Result!;
        }
        lock (_sync) return read(_checker);
    }

    public List<HealthCheckEvent> RecentEvents()
    {
        lock (_recent) return _recent.ToList();
    }

    /// <summary>What Get-IpvsHealthCheck shows of this checker, read consistently (see <see cref="Read"/>).</summary>
    public IpvsHealthCheckInfo Snapshot(int id, HealthCheckType[] type)
        => Read(c => IpvsHealthCheckInfo.From(id, c, type,
            Fault is not null ? HealthCheckerStatus.Failed : IsRunning ? HealthCheckerStatus.Running : HealthCheckerStatus.Stopped,
            InFlight, UsesTcpLoop, RecentEvents().ToArray(), StartTime, StopTime, Fault?.Message));

    /// <summary>
    /// Applies the initial state (alpha, quorum, sorry server) synchronously, then starts the loop.
    /// <paramref name="started"/> sees the checker in its initial state (under the lock, before any check ran).
    /// </summary>
    public IReadOnlyList<HealthCheckEvent> Start(Action<HealthChecker, IReadOnlyList<HealthCheckEvent>>? started = null)
    {
        CheckerStep step;
        List<HealthCheckEvent> events;
        lock (_sync)
        {
            _origin = _time.GetUtcNow();
            _originTimestamp = _time.GetTimestamp();
            StartTime = _origin;
            if (_tcp is not null) _checker.ExternalScheduling = true;
            step = _checker.Start(StartTime.Value);
            events = Apply(step);
            started?.Invoke(_checker, events);
        }
        Publish(events);
        if (_tcp is not null) StartTcpLoop();
        else _loop = Task.Run(() => LoopAsync(_stop!.Token));
        return events;
    }

    /// <summary>Stops the loop, waits for checks in flight (up to <paramref name="wait"/>), then applies omega (unless <paramref name="applyOmega"/> is false).</summary>
    public IReadOnlyList<HealthCheckEvent> Stop(TimeSpan wait, bool applyOmega = true)
    {
        _stop?.Cancel();
        if (_tcp is not null) StopTcpLoop(wait);
        try { _loop?.Wait(wait); } catch (AggregateException) { }
        var until = Stopwatch.StartNew();
        while (InFlight > 0 && until.Elapsed < wait) Thread.Sleep(10);
        List<HealthCheckEvent> events;
        lock (_sync)
        {
            StopTime = Now();
            events = Apply(_checker.Stop(StopTime.Value, applyOmega));
        }
        Publish(events);
        return events;
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        var due = new List<RealServerHealth>();
        while (!ct.IsCancellationRequested)
        {
            TimeSpan wait;
            List<HealthCheckEvent>? events = null;
            lock (_sync)
            {
                var now = Now();
                due = _checker.TakeDue(now);
                if (due.Count == 0) events = Apply(_checker.Retry());
                var next = _checker.NextDue;
                wait = next is null ? TimeSpan.FromSeconds(1) : next.Value - now;
                if (wait > TimeSpan.FromSeconds(1)) wait = TimeSpan.FromSeconds(1);
                Volatile.Write(ref _waitUntilTicks, (now + wait).UtcTicks);
            }
            if (events is { Count: > 0 }) Publish(events);
            foreach (var s in due)
            {
                Interlocked.Increment(ref _inFlight);
                _ = RunOneAsync(s, ct);
            }
            if (due.Count > 0) continue; // more may have become due meanwhile
            if (wait > TimeSpan.Zero)
            {
                try { await _wake!.WaitAsync(wait, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
            }
        }
    }

    private async Task RunOneAsync(RealServerHealth s, CancellationToken ct)
    {
        try
        {
            await Task.Yield(); // off the loop
            var check = _byIndex[s.Index];
            var started = Now();
            lock (_sync) _checker.Started(s, started);
            HealthCheckResult result;
            try
            {
                result = await check.RunAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                result = new CheckErrorResult
                {
                    CheckTarget = check.Target, Success = false, Message = e.Message, Timestamp = started,
                    Duration = Now() - started, RealServer = s.RealServer,
                };
            }
            if (ct.IsCancellationRequested) return;
            List<HealthCheckEvent> events;
            long nextTicks;
            lock (_sync)
            {
                events = Apply(_checker.Complete(s, result, Now()));
                nextTicks = s.NextCheck.UtcTicks;
            }
            if (nextTicks < Volatile.Read(ref _waitUntilTicks))
            {
                try { _wake!.Release(); } catch (SemaphoreFullException) { }
            }
            Publish(events);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Applies the step's IPVS changes in order (caller holds the lock); failures become events.</summary>
    private List<HealthCheckEvent> Apply(CheckerStep step)
    {
        var events = step.Events;
        if (_ipvs is null || step.Actions.Count == 0) return events;
        foreach (var a in step.Actions)
        {
            try
            {
                if (a.Weight is int w) _ipvs.SetRealServer(_checker.Service, a.Server, w);
                else _ipvs.RemoveRealServer(_checker.Service, a.Server);
            }
            catch (Exception e)
            {
                events.Add(_checker.ActionFailed(a, e, Now()));
            }
        }
        return events;
    }

    private void Publish(List<HealthCheckEvent> events)
    {
        if (events.Count == 0) return;
        lock (_recent)
        {
            _recent.AddRange(events);
            if (_recent.Count > EventHistory) _recent.RemoveRange(0, _recent.Count - EventHistory);
        }
        var sink = EventSink;
        if (sink is null) return;
        foreach (var e in events)
        {
            try { sink(e); } catch { /* a sink's failure must not stop the checker */ }
        }
    }
}
