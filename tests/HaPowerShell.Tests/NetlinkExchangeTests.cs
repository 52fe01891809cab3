using HaPowerShell.Native;
using HaPowerShell.Native.Netlink;
using HaPowerShell.Native.Rtnl;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The socket's one header-filling method and one receive loop, against this machine's kernel (no privilege needed).</summary>
public class NetlinkExchangeTests
{
    private static byte[] GetLink(int index)
    {
        var h = new byte[16];
        BitConverter.GetBytes(index).CopyTo(h, 4);
        return new NetlinkMessageBuilder(RtnlClient.RtmGetLink, NetlinkFlags.Request).PutHeader(h).ToArray();
    }

    [Fact]
    public void Execute_LeavesTheCallersBytesAlone()
    {
        using var sock = new NetlinkSocket(NetlinkProtocol.Route);
        var request = GetLink(1);
        var before = (byte[])request.Clone();
        Assert.Single(sock.Execute(request, "get link 1"));
        var dump = RtnlClient.BuildGetLinks();
        var dumpBefore = (byte[])dump.Clone();
        Assert.NotEmpty(sock.Execute(dump, "dump links"));
        Assert.Equal(before, request);
        Assert.Equal(dumpBefore, dump);
    }

    [Fact]
    public void Exchanges_RunAcrossTheSequenceWrap()
    {
        using var sock = new NetlinkSocket(NetlinkProtocol.Route);
        int links = sock.Execute(RtnlClient.BuildGetLinks(), "dump links").Count;
        // A batch whose run would pass 0: it is started at 1 instead, so every reply still finds its request.
        sock.SetLastSequence(uint.MaxValue - 5);
        var requests = Enumerable.Range(0, 20).Select(i => GetLink(i % 4 == 1 ? int.MaxValue : 1)).ToList();
        var outcome = sock.ExecuteBatch(requests, "batch get link");
        for (int i = 0; i < requests.Count; i++)
        {
            if (i % 4 == 1) Assert.Equal(Errno.ENODEV, outcome[i]!.Errno);
            else Assert.Null(outcome[i]);
        }
        sock.SetLastSequence(uint.MaxValue - 1);
        var dumps = Enumerable.Range(0, 6).Select(_ => RtnlClient.BuildGetLinks()).ToList();
        var results = sock.ExecuteDumpBatch(dumps, "batched dumps", out var errors, maxInFlight: 3);
        Assert.All(errors, Assert.Null);
        Assert.All(results, r => Assert.Equal(links, r.Count));
        sock.SetLastSequence(uint.MaxValue);
        Assert.Equal(links, sock.Execute(RtnlClient.BuildGetLinks(), "dump links").Count);
        Assert.Equal(0, sock.StaleMessagesDropped);
    }

    [Fact]
    public void KernelErrors_CarryErrnoIdsFromEveryExchange()
    {
        using var sock = new NetlinkSocket(NetlinkProtocol.Route);
        var e = Assert.Throws<NetlinkException>(() => sock.Execute(GetLink(int.MaxValue), "get link"));
        Assert.Equal(("KernelENODEV", HaErrorCategory.NotSpecified), (e.ErrorId, e.Category));
        var outcome = sock.ExecuteBatch(new[] { GetLink(1), GetLink(int.MaxValue) }, "batch");
        Assert.Null(outcome[0]);
        Assert.Equal("KernelENODEV", outcome[1]!.ErrorId);
    }
}
