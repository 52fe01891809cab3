using HaPowerShell.Native;
using HaPowerShell.Native.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The shared poll-until-deadline helper and the control-message walker.</summary>
public unsafe class PollAndControlMessageTests
{
    [Fact]
    public void Deadline_PassedNeverAndRemaining()
    {
        Assert.True(Deadline.After(TimeSpan.Zero).HasPassed);
        Assert.True(Deadline.After(TimeSpan.FromSeconds(-1)).HasPassed);
        Assert.Equal(0, Deadline.After(TimeSpan.FromSeconds(-1)).RemainingNanoseconds);
        Assert.False(Deadline.Never.HasPassed);
        Assert.True(Deadline.AfterMicroseconds(-1).IsNever);
        Assert.True(Deadline.After(TimeSpan.MaxValue).IsNever);
        long left = Deadline.After(TimeSpan.FromSeconds(10)).RemainingNanoseconds;
        Assert.InRange(left, 1_000_000_000L, 10_000_000_000L);
    }

    [Fact]
    public void Poll_ReportsReadableAndTimesOut()
    {
        using var w = new WakeupEvent();
        Assert.Equal(0, Poll.Wait(w.Descriptor, Deadline.After(TimeSpan.FromMilliseconds(20))));
        w.Set();
        Assert.NotEqual(0, Poll.Wait(w.Descriptor, Deadline.Never));
        w.Reset();
        Assert.Equal(0, Poll.Wait(w.Descriptor, Deadline.After(TimeSpan.Zero)));
    }

    [Fact]
    public void Poll_SeveralDescriptorsSetsReadableFlags()
    {
        using var a = new WakeupEvent();
        using var b = new WakeupEvent();
        var readable = new bool[2];
        Assert.Equal(0, Poll.WaitReadable(new[] { a.Descriptor, b.Descriptor }, readable, Deadline.After(TimeSpan.FromMilliseconds(10))));
        b.Set();
        Assert.Equal(1, Poll.WaitReadable(new[] { a.Descriptor, b.Descriptor }, readable, Deadline.Never));
        Assert.Equal(new[] { false, true }, readable);
    }

    private static byte[] Cmsg(int level, int type, byte[] data)
    {
        int header = 16, len = header + data.Length;
        var b = new byte[(len + 7) & ~7];
        BitConverter.GetBytes((ulong)len).CopyTo(b, 0);
        BitConverter.GetBytes(level).CopyTo(b, 8);
        BitConverter.GetBytes(type).CopyTo(b, 12);
        data.CopyTo(b, header);
        return b;
    }

    private static List<(int Level, int Type, byte[] Data)> Walk(byte[] buffer, int length)
    {
        var list = new List<(int, int, byte[])>();
        fixed (byte* p = buffer)
        {
            long offset = 0;
            while (ControlMessages.Next(p, length, ref offset, out int level, out int type, out byte* data, out long n))
                list.Add((level, type, new ReadOnlySpan<byte>(data, (int)n).ToArray()));
        }
        return list;
    }

    [Fact]
    public void ControlMessages_WalksAlignedMessages()
    {
        var ttl = Cmsg(0, 2, BitConverter.GetBytes(255));       // IP_TTL: 4 bytes of data, padded to 8
        var info = Cmsg(0, 8, Enumerable.Range(1, 12).Select(i => (byte)i).ToArray());
        var buffer = ttl.Concat(info).ToArray();
        var got = Walk(buffer, buffer.Length);
        Assert.Equal(2, got.Count);
        Assert.Equal((0, 2), (got[0].Level, got[0].Type));
        Assert.Equal(BitConverter.GetBytes(255), got[0].Data);
        Assert.Equal((0, 8), (got[1].Level, got[1].Type));
        Assert.Equal(12, got[1].Data.Length);
    }

    [Theory]
    [InlineData(8)]      // shorter than a header
    [InlineData(15)]
    public void ControlMessages_StopsAtATruncatedHeader(int length)
    {
        var buffer = Cmsg(1, 35, new byte[16]);
        Assert.Empty(Walk(buffer, length));
    }

    [Theory]
    [InlineData(0UL)]            // shorter than its own header
    [InlineData(15UL)]
    [InlineData(33UL)]           // longer than what arrived
    [InlineData(ulong.MaxValue)] // negative as a signed length
    public void ControlMessages_RefusesLengthsThatDoNotFit(ulong claimed)
    {
        var buffer = Cmsg(1, 35, new byte[16]);
        BitConverter.GetBytes(claimed).CopyTo(buffer, 0);
        Assert.Empty(Walk(buffer, buffer.Length));
    }

    [Fact]
    public void ControlMessages_ReadsATimestampAndRefusesInvalidOnes()
    {
        var data = new byte[16];
        BitConverter.GetBytes(1_700_000_000L).CopyTo(data, 0);
        BitConverter.GetBytes(123_456_789L).CopyTo(data, 8);
        fixed (byte* p = data)
        {
            Assert.True(ControlMessages.TryReadTimestamp(p, 16, out long ns));
            Assert.Equal(1_700_000_000_123_456_789L, ns);
            Assert.False(ControlMessages.TryReadTimestamp(p, 15, out _));
        }
        BitConverter.GetBytes(1_000_000_000L).CopyTo(data, 8);
        fixed (byte* p = data) Assert.False(ControlMessages.TryReadTimestamp(p, 16, out _));
        BitConverter.GetBytes(0L).CopyTo(data, 0);
        BitConverter.GetBytes(5L).CopyTo(data, 8);
        fixed (byte* p = data) Assert.False(ControlMessages.TryReadTimestamp(p, 16, out _));
    }
}
