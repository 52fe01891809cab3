using System.Net;
using HaPowerShell.Native;
using HaPowerShell.Native.Netlink;
using HaPowerShell.Native.Rtnl;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>
/// The socket against the real kernel of this machine (any user: only reads that need no privilege).
/// </summary>
public class NetlinkSocketTests
{
    [Fact]
    public void RouteDump_ListsLoopback()
    {
        using var rtnl = new RtnlClient();
        var links = rtnl.GetLinks();
        var lo = Assert.Single(links, l => l.Name == "lo");
        Assert.True(lo.IsLoopback);
        Assert.Equal(LinkInfo.ArphrdLoopback, lo.HardwareType);
        Assert.Contains(rtnl.GetAddresses(RtnlClient.AfInet), a => a.Address.Equals(IPAddress.Loopback) && a.PrefixLength == 8 && a.InterfaceIndex == lo.Index);
    }

    [Fact]
    public void GenericController_ResolvesItselfAndCachesTheAnswer()
    {
        using var genl = new GenericNetlinkClient();
        var ctrl = genl.TryGetFamily("nlctrl");
        Assert.NotNull(ctrl);
        Assert.Equal(GenericNetlinkClient.ControllerId, ctrl!.Id);
        long before = genl.Socket.DatagramsReceived;
        Assert.Same(ctrl, genl.TryGetFamily("nlctrl"));
        Assert.Equal(before, genl.Socket.DatagramsReceived); // answered from the cache
    }

    [Fact]
    public void GenericController_UnknownFamilyIsNull()
    {
        using var genl = new GenericNetlinkClient();
        Assert.Null(genl.TryGetFamily("nosuchfamily"));
        Assert.Throws<ArgumentException>(() => genl.TryGetFamily("a-name-that-is-far-too-long"));
    }

    [Fact]
    public void KernelError_BecomesTypedExceptionWithOperation()
    {
        using var sock = new NetlinkSocket(NetlinkProtocol.Route);
        // RTM_GETLINK for an interface index that does not exist.
        var req = new NetlinkMessageBuilder(RtnlClient.RtmGetLink, NetlinkFlags.Request)
            .PutHeader(new byte[] { 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0 }).ToArray();
        var e = Assert.Throws<NetlinkException>(() => sock.Execute(req, "get link 2147483647"));
        Assert.Equal(Errno.ENODEV, e.Errno);
        Assert.Equal("get link 2147483647", e.Operation);
        Assert.Contains("ENODEV", e.Message);
    }

    [Fact]
    public void Receive_TimesOutInsteadOfHanging()
    {
        using var sock = new NetlinkSocket(NetlinkProtocol.Route) { ReceiveTimeout = TimeSpan.FromMilliseconds(150) };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<NetlinkTimeoutException>(() => sock.ReceiveRaw("idle receive"));
        Assert.InRange(sw.ElapsedMilliseconds, 100, 5000);
        Assert.Contains("idle receive", e.Message);
    }

    [Fact]
    public void StaleReplies_AreDroppedBySequenceCheck()
    {
        using var sock = new NetlinkSocket(NetlinkProtocol.Route);
        // A request with a foreign sequence number whose ACK nobody waits for.
        var stale = new NetlinkMessageBuilder(RtnlClient.RtmGetLink, NetlinkFlags.Request | NetlinkFlags.Ack)
            .PutHeader(new byte[] { 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }).ToArray();
        BitConverter.GetBytes(0xDEADBEEFu).CopyTo(stale, 8);
        sock.SendRaw(stale);
        var links = sock.Execute(RtnlClient.BuildGetLinks(), "dump links");
        Assert.NotEmpty(links);
        Assert.True(sock.StaleMessagesDropped >= 1);
    }

    [Fact]
    public void TruncatedDatagram_IsDetected()
    {
        using var sock = new NetlinkSocket(NetlinkProtocol.Route, 64, 1 << 20, allowSmallBuffer: true);
        var e = Assert.Throws<NetlinkProtocolException>(() => sock.Execute(RtnlClient.BuildGetLinks(), "dump links"));
        Assert.Contains("MSG_TRUNC", e.Message);
    }

    [Fact]
    public void Batch_ReportsEachRequestsOutcome()
    {
        using var sock = new NetlinkSocket(NetlinkProtocol.Route);
        byte[] Get(int index)
        {
            var h = new byte[16];
            BitConverter.GetBytes(index).CopyTo(h, 4);
            return new NetlinkMessageBuilder(RtnlClient.RtmGetLink, NetlinkFlags.Request).PutHeader(h).ToArray();
        }
        var requests = new List<byte[]>();
        for (int i = 0; i < 300; i++) requests.Add(Get(i % 3 == 1 ? int.MaxValue : 1));
        var outcome = sock.ExecuteBatch(requests, "batch get link", maxChunkBytes: 4096);
        for (int i = 0; i < requests.Count; i++)
        {
            if (i % 3 == 1) Assert.Equal(Errno.ENODEV, outcome[i]!.Errno);
            else Assert.Null(outcome[i]);
        }
    }

    [Fact]
    public void DumpBatch_PipelinesManySmallDumpsAndKeepsThemApart()
    {
        using var sock = new NetlinkSocket(NetlinkProtocol.Route);
        int linkCount = sock.Execute(RtnlClient.BuildGetLinks(), "dump links").Count;
        int v4Count = sock.Execute(RtnlClient.BuildGetAddresses(RtnlClient.AfInet), "dump v4").Count;
        var requests = new List<byte[]>();
        for (int i = 0; i < 200; i++)
            requests.Add(i % 2 == 0 ? RtnlClient.BuildGetLinks() : RtnlClient.BuildGetAddresses(RtnlClient.AfInet));
        var results = sock.ExecuteDumpBatch(requests, "batched dumps", out var errors, maxInFlight: 16);
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Null(errors[i]);
            Assert.Equal(i % 2 == 0 ? linkCount : v4Count, results[i].Count);
            Assert.All(results[i], m => Assert.Equal(i % 2 == 0 ? RtnlClient.RtmNewLink : RtnlClient.RtmNewAddr, m.Type));
        }
        // The socket is still in step afterwards.
        Assert.Equal(linkCount, sock.Execute(RtnlClient.BuildGetLinks(), "dump links").Count);
    }

    [Fact]
    public void OneSocket_IsSafeFromManyThreads()
    {
        using var rtnl = new RtnlClient();
        int expected = rtnl.GetLinks().Count;
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            try { Assert.Equal(expected, rtnl.GetLinks().Count); }
            catch (Exception e) { errors.Add(e); }
        });
        Assert.Empty(errors);
        Assert.Equal(0, rtnl.Socket.StaleMessagesDropped);
    }

    [Fact]
    public void Dispose_IsIdempotentAndBlocksFurtherUse()
    {
        var sock = new NetlinkSocket(NetlinkProtocol.Generic);
        Assert.NotEqual(0u, sock.PortId);
        sock.Dispose();
        sock.Dispose();
        Assert.Throws<ObjectDisposedException>(() => sock.Execute(GenericNetlinkClient.BuildGetFamily("nlctrl").ToArray(), "x"));
    }
}
