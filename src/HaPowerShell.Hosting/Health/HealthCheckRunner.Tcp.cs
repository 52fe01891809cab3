using System.Net;
using HaPowerShell.Core.Health;
using HaPowerShell.Native.Net;

namespace HaPowerShell.Hosting.Health;

/// <summary>
/// The TCP path of <see cref="HealthCheckRunner"/>, used when every check of a checker is a TCP_CHECK:
/// the checks run on a <see cref="TcpCheckLoop"/> (one thread, one epoll instance and one timer heap,
/// shared by the checkers of a host), as non-blocking connects that are only connected, read for
/// SO_ERROR and closed (as keepalived's TCP_CHECK). In the steady state (a check whose outcome
/// repeats) nothing is allocated and the checker only moves the due time
/// (<see cref="HealthChecker.TryCompleteQuiet"/>); a result object and a full
/// <see cref="HealthChecker.Complete"/> happen only when something changes, with the same semantics
/// as the task path (delay_loop, retry, delay_before_retry, warmup, alpha/omega, inhibit, quorum).
/// The methods named Tcp* are the loop's, called on its thread under the loop's gate.
/// </summary>
public sealed partial class HealthCheckRunner
{
    internal sealed record TcpProbe(TcpCheckOptions Options, byte[] Remote, byte[]? Bind, long TimeoutTicks);

    /// <summary>A <see cref="Read"/> the loop's thread runs for another thread.</summary>
    private sealed class ReadRequest
    {
        private readonly Func<object?> _read;
        private int _claimed;
        public ReadRequest(Func<object?> read) => _read = read;
        public readonly ManualResetEventSlim Done = new();
        public object? Result;
        public Exception? Error;
        public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

        public void Run()
        {
            try { Result = _read(); }
            catch (Exception e) { Error = e; }
            Done.Set();
        }
    }

    private readonly Queue<ReadRequest> _reads = new();
    private readonly TcpProbe[]? _tcp;
    private readonly List<HealthCheckEvent> _tcpEvents = new();
    private TcpCheckLoop? _tcpLoop;
    private bool _ownsTcpLoop;
    private volatile bool _tcpAttached;
    private Exception? _threadFault;
    private long _tcpOffset; // the loop's time at this runner's origin

    private static TcpProbe[]? TcpProbes(IHealthCheck[] checks)
    {
        if (checks.Length == 0 || !checks.All(c => c is HealthChecks.TcpHealthCheck)) return null;
        return checks.Select(c =>
        {
            var o = ((HealthChecks.TcpHealthCheck)c).Options;
            return new TcpProbe(o, EpollConnector.EncodeAddress(new IPEndPoint(o.Address, o.Port)),
                o.BindAddress is null ? null : EpollConnector.EncodeAddress(new IPEndPoint(o.BindAddress, 0)),
                TimeSpan.FromSeconds(o.ConnectTimeoutSeconds).Ticks);
        }).ToArray();
    }

    /// <summary>
    /// The loop the TCP checks run on (a host shares one among its checkers); null: the runner makes one of
    /// its own at start (with <see cref="TcpLoopNice"/> and <see cref="TcpLoopRealtimePriority"/>) and ends it at stop.
    /// Set before <see cref="Start"/>; the loop must use this runner's clock.
    /// </summary>
    public TcpCheckLoop? TcpLoop
    {
        get => _tcpLoop;
        set
        {
            if (StartTime is not null) throw new InvalidOperationException("The TCP loop is chosen before the checker starts.");
            if (value is not null && value.Time != _time) throw new ArgumentException("The TCP loop runs on another clock than this checker.", nameof(value));
            _tcpLoop = value;
        }
    }

    /// <summary>The nice value of the TCP loop's thread (keepalived's checker_priority); null = the process's.</summary>
    public int? TcpLoopNice { get; set; }

    /// <summary>SCHED_RR priority (1-99) of the TCP loop's thread (keepalived's checker_realtime_priority); null = not real-time.</summary>
    public int? TcpLoopRealtimePriority { get; set; }

    internal object Sync => _sync;
    internal int[]? TcpSlots { get; set; }
    internal bool TcpDetachPending { get; set; }

    private void StartTcpLoop()
    {
        if (_tcpLoop is null)
        {
            _tcpLoop = new TcpCheckLoop(TcpLoopNice, TcpLoopRealtimePriority, _time);
            _ownsTcpLoop = true;
        }
        _tcpOffset = _tcpLoop.KeyAt(_originTimestamp);
        _tcpAttached = true;
        try { _tcpLoop.Attach(this); }
        catch
        {
            _tcpAttached = false;
            throw;
        }
    }

    private void StopTcpLoop(TimeSpan wait)
    {
        if (_tcpLoop is not { } loop) return;
        if (!loop.Detach(this, wait)) _threadFault ??= new TimeoutException("The TCP check loop did not stop in time.");
        if (_ownsTcpLoop) loop.Dispose();
    }

    /// <summary>The loop's time of <paramref name="t"/> on this checker's clock.</summary>
    private long TcpKey(DateTimeOffset t) => _tcpOffset + (t - _origin).Ticks;

    /// <summary>This checker's clock at the loop's time <paramref name="key"/>.</summary>
    internal DateTimeOffset TcpTime(long key) => _origin + TimeSpan.FromTicks(key - _tcpOffset);

    /// <summary>When real server <paramref name="index"/> is due (loop time), null when it is not scheduled (under the lock).</summary>
    internal long? TcpDue(int index)
    {
        var s = _checker.RealServers[index];
        return s.Scheduled ? TcpKey(s.NextCheck) : null;
    }

    /// <summary>The check of real server <paramref name="index"/> starts now: its probe.</summary>
    internal TcpProbe TcpBegin(int index, DateTimeOffset now)
    {
        lock (_sync) _checker.Begin(_checker.RealServers[index], now);
        return _tcp![index];
    }

    internal void TcpOpened() => Interlocked.Increment(ref _inFlight);
    internal void TcpClosed() => Interlocked.Decrement(ref _inFlight);

    /// <summary>
    /// The check of real server <paramref name="index"/> ended with <paramref name="errno"/> (0: connected).
    /// <paramref name="due"/>: its next due time (loop time), null when it is not scheduled. True when it made events.
    /// </summary>
    internal bool TcpComplete(int index, int errno, DateTimeOffset now, DateTimeOffset began, out long? due)
    {
        lock (_sync)
        {
            var s = _checker.RealServers[index];
            bool ok = errno == 0;
            bool events = false;
            if (!_checker.TryCompleteQuiet(s, ok, now))
            {
                var o = _tcp![index].Options;
                string? error = ok ? null : EpollConnector.ErrorName(errno);
                var result = new TcpCheckResult
                {
                    Address = o.Address, Port = o.Port, BindAddress = o.BindAddress, Success = ok, SocketError = error,
                    Message = ok ? null : $"connect failed: {error}", Attempts = 1, Duration = now - began,
                    Timestamp = began, RealServer = o.RealServer,
                };
                int before = _tcpEvents.Count;
                _tcpEvents.AddRange(Apply(_checker.Complete(s, result, now)));
                events = _tcpEvents.Count > before;
            }
            due = s.Scheduled ? TcpKey(s.NextCheck) : null;
            return events;
        }
    }

    /// <summary>Retries the IPVS changes the checker owes (once a second at most). True when it made events.</summary>
    internal bool TcpRetry()
    {
        lock (_sync)
        {
            if (!_checker.Owed) return false;
            int before = _tcpEvents.Count;
            _tcpEvents.AddRange(Apply(_checker.Retry()));
            return _tcpEvents.Count > before;
        }
    }

    /// <summary>Hands the events the loop made for this checker to <see cref="EventSink"/>.</summary>
    internal void TcpPublish()
    {
        Publish(_tcpEvents);
        _tcpEvents.Clear();
    }

    /// <summary>The loop failed, or this checker's part in it: the checker stops running.</summary>
    internal void TcpFaulted(Exception e) => _threadFault ??= e;

    internal void TcpDetached() => _tcpAttached = false;

    /// <summary>Answers the pending <see cref="Read"/>s (the loop's thread, holding the lock).</summary>
    internal void RunReads()
    {
        while (true)
        {
            ReadRequest? r;
            lock (_reads) if (!_reads.TryDequeue(out r)) return;
            if (r.TryClaim()) r.Run();
        }
    }
}
