using System.Runtime.InteropServices;
using HaPowerShell.Native.Packet;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace HaPowerShell.Native.Vrrp;

/// <summary>
/// A timerfd on CLOCK_MONOTONIC for a loop's next deadline. A deadline given to poll/ppoll/epoll_wait as
/// their timeout fires late by design: the kernel lets such a wait overrun by 0.1% of its length
/// (select_estimate_accuracy: 0.36 ms on a 360 ms wait, 1 ms on a 1 s one) so that wake-ups can be
/// merged. A timerfd's timer has no such slack, so a loop that polls the timerfd along with its other
/// descriptors wakes at the deadline itself (keepalived's scheduler uses a timerfd for the same reason).
/// </summary>
public sealed unsafe class DeadlineTimer : IDisposable
{
    private const int ClockMonotonic = 1, TfdNonBlock = 0x800, TfdCloexec = 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    private struct Itimerspec
    {
        public nint IntervalSeconds, IntervalNanoseconds, ValueSeconds, ValueNanoseconds;
    }

    [DllImport("libc", SetLastError = true)] private static extern int timerfd_create(int clockid, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int timerfd_settime(int fd, int flags, Itimerspec* newValue, Itimerspec* oldValue);

    private int _fd;

    public DeadlineTimer()
    {
        _fd = timerfd_create(ClockMonotonic, TfdNonBlock | TfdCloexec);
        if (_fd < 0) throw new PacketSocketException("create timerfd", Marshal.GetLastPInvokeError());
    }

    public int Descriptor => _fd;

    /// <summary>Makes the descriptor readable <paramref name="microseconds"/> from now (at once when not positive).</summary>
    public void Arm(long microseconds) => Set(Math.Max(1, microseconds * 1000));

    /// <summary>Stops the timer; the descriptor stays unreadable until armed again.</summary>
    public void Disarm() => Set(0);

    /// <summary>Clears an expiry that has made the descriptor readable.</summary>
    public void Reset()
    {
        ulong expirations;
        if (_fd >= 0) read(_fd, &expirations, 8);
    }

    private void Set(long nanoseconds)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        var spec = new Itimerspec { ValueSeconds = (nint)(nanoseconds / 1_000_000_000), ValueNanoseconds = (nint)(nanoseconds % 1_000_000_000) };
        if (timerfd_settime(_fd, 0, &spec, null) < 0) throw new PacketSocketException("set timerfd", Marshal.GetLastPInvokeError());
    }

    public void Dispose()
    {
        if (_fd >= 0) { close(_fd); _fd = -1; }
    }
}

/// <summary>An eventfd another thread signals to wake a loop blocked in <see cref="DescriptorPoll.Wait"/>.</summary>
public sealed unsafe class WakeupEvent : IDisposable
{
    private int _fd;

    public WakeupEvent()
    {
        _fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (_fd < 0) throw new PacketSocketException("create eventfd", errno);
    }

    public int Descriptor => _fd;

    public void Set()
    {
        ulong one = 1;
        int fd = _fd;
        if (fd >= 0) write(fd, &one, 8);
    }

    /// <summary>Clears the pending wakeups.</summary>
    public void Reset()
    {
        ulong v;
        int fd = _fd;
        if (fd >= 0) read(fd, &v, 8);
    }

    public void Dispose()
    {
        if (_fd >= 0) { close(_fd); _fd = -1; }
    }
}

/// <summary>
/// A netlink socket subscribed to link notifications (RTMGRP_LINK): it becomes readable when any link
/// changes (up/down, carrier). The reader only drains it and re-reads the links it cares about.
/// </summary>
public sealed unsafe class LinkChangeMonitor : IDisposable
{
    private const int NetlinkRoute = 0, RtmgrpLink = 1;
    private int _fd;

    public LinkChangeMonitor()
    {
        _fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NetlinkRoute);
        if (_fd < 0) throw new PacketSocketException("open netlink link monitor", errno);
        byte* sa = stackalloc byte[12];
        new Span<byte>(sa, 12).Clear();
        *(ushort*)sa = (ushort)AF_NETLINK;
        *(uint*)(sa + 8) = RtmgrpLink;
        if (bind(_fd, (sockaddr*)sa, 12) < 0)
        {
            int e = errno;
            close(_fd);
            _fd = -1;
            throw new PacketSocketException("subscribe to link notifications", e);
        }
    }

    public int Descriptor => _fd;

    /// <summary>Reads and discards every queued notification; true when there was at least one (or the queue overflowed).</summary>
    public bool Drain()
    {
        bool any = false;
        byte* buf = stackalloc byte[8192];
        while (_fd >= 0)
        {
            long n = recv(_fd, buf, 8192, MSG_DONTWAIT);
            if (n > 0) { any = true; continue; }
            if (n < 0 && errno == Errno.EINTR) continue;
            if (n < 0 && errno == Errno.ENOBUFS) { any = true; continue; }
            break;
        }
        return any;
    }

    public void Dispose()
    {
        if (_fd >= 0) { close(_fd); _fd = -1; }
    }
}

/// <summary>poll(2) over several descriptors.</summary>
public static unsafe class DescriptorPoll
{
    /// <summary>
    /// Waits up to <paramref name="timeoutMicroseconds"/> (negative: forever) until one of <paramref name="descriptors"/>
    /// is readable; fills <paramref name="readable"/>. ppoll takes microseconds, but the kernel still lets
    /// the wait overrun by 0.1% of its length: keep exact deadlines with a <see cref="DeadlineTimer"/> among the descriptors.
    /// </summary>
    public static int Wait(ReadOnlySpan<int> descriptors, Span<bool> readable, long timeoutMicroseconds)
    {
        int r = Poll.WaitReadable(descriptors, readable, Deadline.AfterMicroseconds(timeoutMicroseconds));
        if (r < 0) throw new PacketSocketException("poll VRRP descriptors", -r);
        return r;
    }
}
