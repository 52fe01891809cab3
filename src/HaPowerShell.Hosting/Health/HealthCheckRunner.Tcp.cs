using System.Net;
using HaPowerShell.Core.Health;
using HaPowerShell.Native.Net;

namespace HaPowerShell.Hosting.Health;

/// <summary>
/// The TCP loop of <see cref="HealthCheckRunner"/>, used when every check of a checker is a TCP_CHECK:
/// one dedicated thread, one epoll instance, one <see cref="TimerHeap"/> holding each real server's
/// single timer (its next due time while idle, its connect deadline while connecting), non-blocking
/// connects that are only connected, read for SO_ERROR and closed (as keepalived's TCP_CHECK). In the
/// steady state (a check whose outcome repeats) nothing is allocated and the checker only moves the
/// due time (<see cref="HealthChecker.TryCompleteQuiet"/>); a result object and a full
/// <see cref="HealthChecker.Complete"/> happen only when something changes, with the same semantics
/// as the task path (delay_loop, retry, delay_before_retry, warmup, alpha/omega, inhibit, quorum).
/// </summary>
public sealed partial class HealthCheckRunner
{
    private sealed record TcpProbe(TcpCheckOptions Options, byte[] Remote, byte[]? Bind, long TimeoutTicks);

    private const int EInProgress = HaPowerShell.Native.Errno.EINPROGRESS;

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
    private Thread? _thread;
    private volatile bool _stopping;
    private Exception? _threadFault;
    private EpollConnector? _epoll;

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

    /// <summary>The nice value of the TCP loop's thread (keepalived's checker_priority); null = the process's.</summary>
    public int? TcpLoopNice { get; set; }

    /// <summary>SCHED_RR priority (1-99) of the TCP loop's thread (keepalived's checker_realtime_priority); null = not real-time.</summary>
    public int? TcpLoopRealtimePriority { get; set; }

    private void StartTcpLoop()
    {
        _epoll = new EpollConnector();
        _thread = new Thread(TcpLoop) { IsBackground = true, Name = "HaPowerShell TCP checks" };
        _thread.Start();
    }

    private void StopTcpLoop(TimeSpan wait)
    {
        _stopping = true;
        _epoll?.Wake();
        if (_thread is not null && !_thread.Join(wait)) { _threadFault ??= new TimeoutException("The TCP check loop did not stop in time."); return; }
        _epoll?.Dispose();
    }

    private long Key(DateTimeOffset t) => (t - _origin).Ticks;

    private void TcpLoop()
    {
        var probes = _tcp!;
        var epoll = _epoll!;
        var servers = _checker.RealServers;
        int n = servers.Count;
        var timers = new TimerHeap(n);
        var fds = new int[n];
        var began = new DateTimeOffset[n];
        Array.Fill(fds, -1);
        Span<uint> ready = stackalloc uint[1024];
        var events = new List<HealthCheckEvent>();
        long lastRetry = long.MinValue;

        void Done(int id, int errno, DateTimeOffset now)
        {
            var s = servers[id];
            bool ok = errno == 0;
            if (!_checker.TryCompleteQuiet(s, ok, now))
            {
                var o = probes[id].Options;
                string? error = ok ? null : EpollConnector.ErrorName(errno);
                var result = new TcpCheckResult
                {
                    Address = o.Address, Port = o.Port, BindAddress = o.BindAddress, Success = ok, SocketError = error,
                    Message = ok ? null : $"connect failed: {error}", Attempts = 1, Duration = now - began[id],
                    Timestamp = began[id], RealServer = o.RealServer,
                };
                events.AddRange(Apply(_checker.Complete(s, result, now)));
            }
            if (s.Scheduled) timers.Set(id, Key(s.NextCheck));
        }

        void Begin(int id, DateTimeOffset now)
        {
            _checker.Begin(servers[id], now);
            began[id] = now;
            var p = probes[id];
            int r = epoll.Begin(p.Remote, p.Bind, (uint)id, out int fd);
            if (r != EInProgress) { Done(id, r, now); return; }
            fds[id] = fd;
            Interlocked.Increment(ref _inFlight);
            timers.Set(id, Key(now) + p.TimeoutTicks);
        }

        void Close(int id)
        {
            fds[id] = -1;
            Interlocked.Decrement(ref _inFlight);
        }

        try
        {
            if (TcpLoopNice is int nice && HaPowerShell.Native.Processes.ThreadNice.SetCurrentThread(nice) is int err and not 0)
                throw new HealthCheckException("CheckerPriorityDenied", HealthCheckFailureKind.InvalidArgument,
                    $"Could not set the TCP check thread's nice value to {nice}: {HaPowerShell.Native.Errno.Describe(err)}; a negative value needs root or CAP_SYS_NICE.", nice);
            if (TcpLoopRealtimePriority is int rt && HaPowerShell.Native.Processes.ThreadNice.SetCurrentThreadRealtime(rt) is int rterr and not 0)
                throw new HealthCheckException("CheckerPriorityDenied", HealthCheckFailureKind.PermissionDenied,
                    $"Could not make the TCP check thread real-time (SCHED_RR {rt}): {HaPowerShell.Native.Errno.Describe(rterr)}; it needs root or CAP_SYS_NICE.", rt);
            lock (_sync)
            {
                for (int i = 0; i < n; i++)
                    if (servers[i].Scheduled) timers.Set(i, Key(servers[i].NextCheck));
            }
            while (!_stopping)
            {
                int timeout = 1000;
                if (timers.TryPeek(out _, out long due))
                {
                    long ahead = due - Key(Now());
                    timeout = ahead <= 0 ? 0 : (int)Math.Min(1000, (ahead + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);
                }
                int count = epoll.Wait(ready, timeout);
                if (_stopping) break;
                lock (_sync)
                {
                    var now = Now();
                    long key = Key(now);
                    // every finished connect first (all of them, not one buffer full), so that a connect
                    // that completed is never taken for a timeout because the loop was slow to look
                    while (true)
                    {
                        for (int k = 0; k < count; k++)
                        {
                            int id = (int)(ready[k] & ~EpollConnector.ErrorFlag);
                            if (id >= n || fds[id] < 0) continue;
                            int errno = EpollConnector.Finish(fds[id], (ready[k] & EpollConnector.ErrorFlag) != 0);
                            Close(id);
                            timers.Remove(id);
                            Done(id, errno, now);
                        }
                        if (count < ready.Length) break;
                        count = epoll.Wait(ready, 0);
                    }
                    while (timers.TryPopDue(key, out int id))
                    {
                        if (fds[id] >= 0)
                        {
                            EpollConnector.Abort(fds[id]);
                            Close(id);
                            Done(id, HaPowerShell.Native.Errno.ETIMEDOUT, now);
                        }
                        else Begin(id, now);
                    }
                    if (_checker.Owed && key - lastRetry >= TimeSpan.TicksPerSecond)
                    {
                        lastRetry = key;
                        events.AddRange(Apply(_checker.Retry()));
                    }
                    RunReads();
                }
                if (events.Count > 0)
                {
                    Publish(events);
                    events.Clear();
                }
            }
        }
        catch (Exception e)
        {
            _threadFault = e;
        }
        finally
        {
            for (int i = 0; i < n; i++)
                if (fds[i] >= 0) { EpollConnector.Abort(fds[i]); Close(i); }
            lock (_sync) RunReads();
        }
    }

    /// <summary>Answers the pending <see cref="Read"/>s (the loop's thread, holding the lock).</summary>
    private void RunReads()
    {
        while (true)
        {
            ReadRequest? r;
            lock (_reads) if (!_reads.TryDequeue(out r)) return;
            if (r.TryClaim()) r.Run();
        }
    }
}
