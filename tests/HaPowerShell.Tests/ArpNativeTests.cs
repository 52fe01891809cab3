using System.Net;
using HaPowerShell.Native;
using HaPowerShell.Native.Packet;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The sysctl store against a scratch directory, and the packet socket against this kernel's loopback.</summary>
public sealed class ArpSysctlStoreTests : IDisposable
{
    private readonly string _root;
    private readonly SysctlStore _store;

    public ArpSysctlStoreTests()
    {
        _root = Path.Combine(Path.GetTempPath(), "haps-arp-sysctl-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(_root, "net/ipv4/conf/lo"));
        Directory.CreateDirectory(Path.Combine(_root, "net/ipv4/conf/all"));
        File.WriteAllText(Path.Combine(_root, "net/ipv4/conf/lo/arp_ignore"), "0\n");
        File.WriteAllText(Path.Combine(_root, "net/ipv4/conf/all/arp_ignore"), "garbage\n");
        _store = new SysctlStore(_root);
    }

    public void Dispose()
    {
        // Only ever the scratch folder this test made.
        if (_root.StartsWith(Path.GetTempPath(), StringComparison.Ordinal) && Path.GetFileName(_root).StartsWith("haps-arp-sysctl-", StringComparison.Ordinal))
            Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void ReadsAndWritesIntegers()
    {
        Assert.Equal(0, _store.ReadIpv4Conf("lo", "arp_ignore"));
        _store.WriteIpv4Conf("lo", "arp_ignore", 1);
        Assert.Equal("1\n", File.ReadAllText(Path.Combine(_root, "net/ipv4/conf/lo/arp_ignore")));
        Assert.Equal(1, _store.ReadIpv4Conf("lo", "arp_ignore"));
        Assert.True(_store.HasIpv4Conf("lo"));
        Assert.False(_store.HasIpv4Conf("eth9"));
        Assert.Equal(new[] { "all", "lo" }, _store.ListIpv4ConfNames());
    }

    [Fact]
    public void ReportsErrnoAndContentProblems()
    {
        var missing = Assert.Throws<SysctlException>(() => _store.ReadIpv4Conf("eth9", "arp_ignore"));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Contains("eth9", missing.Message);
        var bad = Assert.Throws<SysctlException>(() => _store.ReadIpv4Conf("all", "arp_ignore"));
        Assert.Contains("expected an integer", bad.Message);
        Assert.Throws<SysctlException>(() => _store.WriteIpv4Conf("eth9", "arp_ignore", 1));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../../etc")]
    [InlineData("")]
    [InlineData("a/b")]
    public void RefusesPathsOutsideTheDirectory(string name)
        => Assert.Throws<ArgumentException>(() => _store.Ipv4ConfPath(name, "arp_ignore"));

    [Fact]
    public void WritesDropInsAtomically()
    {
        string file = Path.Combine(_root, "95-test.conf");
        Assert.Null(_store.ReadFileOrNull(file));
        _store.WriteFileAtomically(file, "a = 1\n");
        _store.WriteFileAtomically(file, "a = 2\n");
        Assert.Equal("a = 2\n", _store.ReadFileOrNull(file));
        Assert.Equal("644", Convert.ToString((int)File.GetUnixFileMode(file) & 0x1ff, 8));
        Assert.Single(Directory.GetFiles(_root)); // no temporary files left behind
        Assert.True(_store.CanWrite(file));
        var e = Assert.Throws<SysctlException>(() => _store.WriteFileAtomically(Path.Combine(_root, "no-such-dir/x.conf"), "x"));
        Assert.Equal(Errno.ENOENT, e.Errno);
    }
}

public class ArpPacketSocketTests
{
    private static bool IsRoot => Tmds.Linux.LibC.geteuid() == 0;

    /// <summary>
    /// A frame of a local-experimental EtherType (0x88B5) on loopback comes back to a socket bound to
    /// that type, with a kernel timestamp; no other traffic is involved. Needs CAP_NET_RAW (skipped otherwise).
    /// </summary>
    [Fact]
    public void SendsAndReceivesOnLoopback()
    {
        if (!IsRoot) return;
        using var socket = PacketSocket.Open(1, "lo", 0x88B5);
        Assert.Null(socket.Receive(TimeSpan.FromMilliseconds(20)));
        var frame = new byte[60];
        frame[12] = 0x88; frame[13] = 0xB5;
        var marker = Guid.NewGuid().ToByteArray();
        marker.CopyTo(frame, 14);
        var sent = socket.Send(frame);
        ReceivedFrame? got = null;
        for (int i = 0; i < 10 && got is null; i++)
        {
            var f = socket.Receive(TimeSpan.FromSeconds(1));
            if (f is not null && f.Data.AsSpan(14, 16).SequenceEqual(marker)) got = f;
        }
        Assert.NotNull(got);
        Assert.Equal(frame, got!.Data);
        Assert.NotEqual(FrameDirection.Outgoing, got.Direction);
        var delay = got.KernelTimestamp - sent;
        Assert.InRange(delay, TimeSpan.FromMilliseconds(-1), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void ProbeOnlySendTransmitsNothing()
    {
        if (!IsRoot) return;
        using var socket = PacketSocket.Open(1, "lo", 0x88B5);
        while (socket.Receive(TimeSpan.FromMilliseconds(20)) is not null) { }
        byte[] Frame(byte tag)
        {
            var f = new byte[60];
            f[12] = 0x88; f[13] = 0xB5; f[14] = tag;
            Guid.NewGuid().ToByteArray().CopyTo(f, 15);
            return f;
        }
        var probe = Frame(1);
        var real = Frame(2);
        socket.ProbeOnly = true;
        socket.Send(probe);   // refused by the kernel (interface 0), not an error here
        socket.ProbeOnly = false;
        socket.Send(real);
        var seen = new List<byte[]>();
        for (int i = 0; i < 10 && !seen.Any(f => f.AsSpan(14, 17).SequenceEqual(real.AsSpan(14, 17))); i++)
            if (socket.Receive(TimeSpan.FromSeconds(1)) is { } f) seen.Add(f.Data);
        Assert.Contains(seen, f => f.AsSpan(14, 17).SequenceEqual(real.AsSpan(14, 17)));
        Assert.DoesNotContain(seen, f => f.AsSpan(14, 17).SequenceEqual(probe.AsSpan(14, 17)));
    }

    [Fact]
    public void SendOnlySocketRefusesToReceive()
    {
        if (!IsRoot) return;
        using var socket = PacketSocket.Open(1, "lo", 0);
        Assert.Throws<InvalidOperationException>(() => socket.Receive(TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => socket.Send(new byte[10]));
    }

    [Fact]
    public void UnknownInterfaceIsAnErrno()
    {
        if (!IsRoot) return;
        var e = Assert.Throws<PacketSocketException>(() => PacketSocket.Open(999_999, "nope0", 0x0806));
        Assert.Equal(Errno.ENODEV, e.Errno);
        Assert.Contains("nope0", e.Message);
    }
}
