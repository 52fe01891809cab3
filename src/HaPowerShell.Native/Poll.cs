using System.Diagnostics;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native;

/// <summary>
/// The moment on the monotonic clock (<see cref="Stopwatch"/>, CLOCK_MONOTONIC) by which a wait ends, or
/// <see cref="Never"/>. A wait that is interrupted (EINTR) or woken for something it then skips waits again for
/// what is left of the same deadline, not for the whole timeout once more.
/// </summary>
public readonly struct Deadline
{
    private readonly long _timestamp;

    private Deadline(long timestamp) => _timestamp = timestamp;

    /// <summary>A deadline that never passes.</summary>
    public static Deadline Never => new(long.MaxValue);

    /// <summary><paramref name="timeout"/> from now; a negative timeout has passed already (a wait then only looks).</summary>
    public static Deadline After(TimeSpan timeout)
    {
        long now = Stopwatch.GetTimestamp();
        if (timeout <= TimeSpan.Zero) return new(now);
        double ticks = timeout.Ticks * (Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond);
        return ticks >= long.MaxValue - now ? Never : new(now + (long)ticks);
    }

    /// <summary><paramref name="microseconds"/> from now (negative: <see cref="Never"/>).</summary>
    public static Deadline AfterMicroseconds(long microseconds)
        => microseconds < 0 ? Never : After(TimeSpan.FromTicks(microseconds > long.MaxValue / 10 ? long.MaxValue : microseconds * 10));

    public bool IsNever => _timestamp == long.MaxValue;

    public bool HasPassed => !IsNever && Stopwatch.GetTimestamp() >= _timestamp;

    /// <summary>Nanoseconds left (0 once passed; <see cref="long.MaxValue"/> for <see cref="Never"/>).</summary>
    public long RemainingNanoseconds
    {
        get
        {
            if (IsNever) return long.MaxValue;
            long left = _timestamp - Stopwatch.GetTimestamp();
            if (left <= 0) return 0;
            return Stopwatch.Frequency == 1_000_000_000 ? left : (long)(left * (1e9 / Stopwatch.Frequency));
        }
    }
}

/// <summary>
/// poll(2) until a deadline, for every loop that waits on descriptors: the remaining time is recomputed after
/// each interruption (EINTR), and the timeout has nanosecond resolution (ppoll) so a short wait is not rounded
/// to whole milliseconds. Failures come back as negative errno values, so each caller raises its own exception
/// without a delegate (the netlink receive path allocates nothing here).
/// </summary>
public static unsafe class Poll
{
    /// <summary>
    /// Waits until <paramref name="fd"/> is readable (POLLIN) or the deadline passes. Returns the reported events
    /// (POLLERR, POLLHUP and POLLNVAL included; never 0), 0 when the deadline passed, or the negated errno of a
    /// failed poll.
    /// </summary>
    public static int Wait(int fd, Deadline deadline) => Wait(fd, deadline, POLLIN);

    /// <summary>As <see cref="Wait(int, Deadline)"/>, for the events in <paramref name="events"/>.</summary>
    public static int Wait(int fd, Deadline deadline, short events)
    {
        var pfd = new pollfd { fd = fd, events = events };
        while (true)
        {
            int r = PollOnce(&pfd, 1, deadline);
            if (r > 0) return pfd.revents;
            if (r == 0) return 0;
            int e = errno;
            if (e != Errno.EINTR) return -e;
        }
    }

    /// <summary>
    /// Waits until one of <paramref name="descriptors"/> is readable (or reports an error or hang-up) or the
    /// deadline passes; sets <paramref name="readable"/> for each. Returns how many are ready (0 when the
    /// deadline passed), or the negated errno of a failed poll.
    /// </summary>
    public static int WaitReadable(ReadOnlySpan<int> descriptors, Span<bool> readable, Deadline deadline)
    {
        int count = descriptors.Length;
        pollfd* fds = stackalloc pollfd[Math.Max(1, count)];
        for (int i = 0; i < count; i++) fds[i] = new pollfd { fd = descriptors[i], events = POLLIN };
        while (true)
        {
            int r = PollOnce(fds, count, deadline);
            if (r < 0)
            {
                int e = errno;
                if (e == Errno.EINTR) continue;
                return -e;
            }
            for (int i = 0; i < count; i++) readable[i] = ((ushort)fds[i].revents & ((ushort)POLLIN | (ushort)POLLERR | (ushort)POLLHUP)) != 0;
            return r;
        }
    }

    private static int PollOnce(pollfd* fds, int count, Deadline deadline)
    {
        if (deadline.IsNever) return ppoll(fds, (ulong_t)(ulong)count, null, null);
        long ns = deadline.RemainingNanoseconds;
        timespec ts = default;
        ts.tv_sec = (time_t)(ns / 1_000_000_000);
        ts.tv_nsec = (long_t)(ns % 1_000_000_000);
        return ppoll(fds, (ulong_t)(ulong)count, &ts, null);
    }
}
