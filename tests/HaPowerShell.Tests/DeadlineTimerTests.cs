using HaPowerShell.Native.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

public class DeadlineTimerTests
{
    private static bool Readable(DeadlineTimer t, long timeoutMicroseconds)
    {
        var readable = new bool[1];
        DescriptorPoll.Wait(new[] { t.Descriptor }, readable, timeoutMicroseconds);
        return readable[0];
    }

    [Fact]
    public void Armed_timer_becomes_readable_and_reset_clears_it()
    {
        using var t = new DeadlineTimer();
        Assert.False(Readable(t, 0));
        t.Arm(20_000);
        Assert.True(Readable(t, 5_000_000));
        t.Reset();
        Assert.False(Readable(t, 0));
    }

    [Fact]
    public void Past_deadline_fires_at_once_and_disarm_stops_a_pending_one()
    {
        using var t = new DeadlineTimer();
        t.Arm(-5);
        Assert.True(Readable(t, 5_000_000));
        t.Reset();
        t.Arm(30_000);
        t.Disarm();
        Assert.False(Readable(t, 100_000));
    }

    [Fact]
    public void Disposed_timer_refuses_to_arm()
    {
        var t = new DeadlineTimer();
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Arm(1_000));
    }
}
