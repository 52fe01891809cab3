using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting.Vrrp;
using HaPowerShell.Native;
using HaPowerShell.Native.Packet;
using HaPowerShell.Native.Rtnl;
using HaPowerShell.Native.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

/// <summary>The pieces the VRRP host is made of, against this machine's kernel (loopback only).</summary>
public class VrrpHostingTests
{
    // The stop line (hapd's log, the module's stop summary) says what the stop did per state: only a Master sends
    // priority 0 and removes its virtual addresses; a stop of Backups alone claims neither.
    [Fact]
    public void StopDescriptionClaimsPriorityZeroOnlyForMasters()
    {
        Assert.Null(VrrpRunningInstance.DescribeStop(new List<(string, VrrpState)>()));
        var backups = VrrpRunningInstance.DescribeStop(new List<(string, VrrpState)> { ("VI_1", VrrpState.Backup), ("VI_2", VrrpState.Fault) });
        Assert.Equal("VI_1 (Backup), VI_2 (Fault)", backups);
        Assert.Equal("VI_1 (Master): VI_1 sent priority 0 and removed its virtual addresses",
            VrrpRunningInstance.DescribeStop(new List<(string, VrrpState)> { ("VI_1", VrrpState.Master) }));
        Assert.Equal("VI_1 (Master), VI_2 (Backup), VI_3 (Master), VI_4 (Master): VI_1, VI_3 and VI_4 sent priority 0 and removed their virtual addresses",
            VrrpRunningInstance.DescribeStop(new List<(string, VrrpState)> { ("VI_1", VrrpState.Master), ("VI_2", VrrpState.Backup), ("VI_3", VrrpState.Master), ("VI_4", VrrpState.Master) }));
    }

    [Fact]
    public void WakeupEventMakesPollReturnAndResets()
    {
        using var w = new WakeupEvent();
        var readable = new bool[1];
        Assert.Equal(0, DescriptorPoll.Wait(new[] { w.Descriptor }, readable, 0));
        w.Set();
        w.Set();
        Assert.Equal(1, DescriptorPoll.Wait(new[] { w.Descriptor }, readable, 1_000_000));
        Assert.True(readable[0]);
        w.Reset();
        Assert.Equal(0, DescriptorPoll.Wait(new[] { w.Descriptor }, readable, 0));
        Assert.False(readable[0]);
    }

    [Fact]
    public void LinkChangeMonitorOpensAndDrainsNothingWhenQuiet()
    {
        using var m = new LinkChangeMonitor();
        Assert.True(m.Descriptor >= 0);
        m.Drain();                      // whatever was queued
        Assert.False(m.Drain());
    }

    [Fact]
    public void InterfaceLookupFindsLoopbackAndNotUnknownNames()
    {
        using var rtnl = new RtnlClient();
        var lookup = new RtnlVrrpInterfaceLookup(rtnl);
        Assert.Contains("lo", lookup.Names);
        var lo = lookup.Find("lo");
        Assert.NotNull(lo);
        Assert.True(lo!.Index > 0);
        Assert.True(lo.IsUp);
        Assert.Null(lookup.Find("haps-no-such0"));
        var cfg = new VrrpInstanceConfig { InterfaceName = "haps-no-such0", VirtualRouterId = 1, VirtualAddresses = new[] { VrrpVirtualAddress.Parse("192.0.2.10") } };
        var err = Assert.Single(cfg.Validate(lookup));
        Assert.Equal("InterfaceNotFound", err.ErrorId);
        Assert.Contains("lo", err.Message);
    }

    /// <summary>An IPv4 VRRP socket pair on lo with nothing queued, or null without CAP_NET_RAW.</summary>
    private static VrrpSocket? OpenOnLoopback(out int ifindex)
    {
        using var rtnl = new RtnlClient();
        ifindex = rtnl.GetLink("lo")!.Index;
        VrrpSocket s;
        try { s = VrrpSocket.Open(ifindex, "lo", AddressFamily.InterNetwork, IPAddress.Loopback, joinMulticast: false); }
        catch (PacketSocketException e) when (e.Errno is Errno.EPERM or Errno.EACCES) { return null; }
        while (s.TryReceive() is not null) { }   // stray traffic on lo
        return s;
    }

    [Fact]
    public void ProbeSendRunsTheSendPathButPutsNothingOnTheWire()
    {
        var localhost = IPAddress.Loopback;
        using var s = OpenOnLoopback(out _);
        if (s is null) return; // needs CAP_NET_RAW
        {
            var probe = VrrpCodec.Encode(new VrrpAdvertisement { Version = VrrpVersion.V3, VirtualRouterId = 78, Priority = 100, IntervalUnits = 100,
                Addresses = new[] { IPAddress.Parse("192.0.2.11") } }, localhost, localhost);
            var real = VrrpCodec.Encode(new VrrpAdvertisement { Version = VrrpVersion.V3, VirtualRouterId = 79, Priority = 100, IntervalUnits = 100,
                Addresses = new[] { IPAddress.Parse("192.0.2.12") } }, localhost, localhost);
            s.Send(localhost, probe, probe: true);
            s.Send(localhost, real);
            // The real advert arrives; the probe, sent before it on the same socket, never does.
            var vrids = new List<int>();
            for (int i = 0; i < 20 && !vrids.Contains(79); i++)
                if (s.Receive(TimeSpan.FromSeconds(1)) is { Data.Length: >= 28 } d) vrids.Add(d.Data[21]);
            Assert.Contains(79, vrids);
            Assert.DoesNotContain(78, vrids);
        }
    }

    [Fact]
    public void RawSocketOnLoopbackDeliversDatagramWithTtlAndDestination()
    {
        var localhost = IPAddress.Loopback;
        using var s = OpenOnLoopback(out int loIndex);
        if (s is null) return; // needs CAP_NET_RAW
        {
            var adv = new VrrpAdvertisement { Version = VrrpVersion.V3, VirtualRouterId = 77, Priority = 100, IntervalUnits = 100, Addresses = new[] { IPAddress.Parse("192.0.2.10") } };
            var msg = VrrpCodec.Encode(adv, localhost, localhost);
            s.Send(localhost, msg);
            VrrpDatagram? d = null;
            for (int i = 0; i < 20 && (d is null || d.Data.Length < 28 || d.Data[21] != 77); i++) d = s.Receive(TimeSpan.FromSeconds(1));
            Assert.NotNull(d);
            Assert.Equal(localhost, d!.Source);
            Assert.Equal(localhost, d.Destination);
            Assert.Equal(255, d.HopLimit);
            Assert.Equal(loIndex, d.InterfaceIndex);
            Assert.Equal(VrrpRejectReason.None, VrrpReceivedPacket.FromIPv4Datagram(d.Data, out var p));
            Assert.Equal(msg, p!.Message.ToArray());
            Assert.Equal(255, p.HopLimit);
        }
    }

    [Fact]
    public void RawIPv6SocketOnLoopbackDeliversMessageWithHopLimitAndPseudoHeaderChecksum()
    {
        using var rtnl = new RtnlClient();
        var lo = rtnl.GetLink("lo")!;
        var localhost = IPAddress.IPv6Loopback;
        VrrpSocket s;
        try { s = VrrpSocket.Open(lo.Index, "lo", AddressFamily.InterNetworkV6, localhost, joinMulticast: false); }
        catch (PacketSocketException e) when (e.Errno is Errno.EPERM or Errno.EACCES or Errno.EADDRNOTAVAIL or Errno.EAFNOSUPPORT) { return; } // needs CAP_NET_RAW and IPv6
        using (s)
        {
            while (s.TryReceive() is not null) { }   // stray traffic on lo
            var adv = new VrrpAdvertisement { Version = VrrpVersion.V3, AddressFamily = AddressFamily.InterNetworkV6, VirtualRouterId = 78, Priority = 100, IntervalUnits = 10, Addresses = new[] { IPAddress.Parse("2001:db8::10") } };
            var msg = VrrpCodec.Encode(adv, localhost, localhost);
            s.Send(localhost, msg);
            VrrpDatagram? d = null;
            for (int i = 0; i < 20 && (d is null || d.Data.Length < 8 || d.Data[1] != 78); i++) d = s.Receive(TimeSpan.FromSeconds(1));
            Assert.NotNull(d);
            // IPv6 raw sockets deliver the VRRP message without the IP header.
            Assert.Equal(msg, d!.Data);
            Assert.Equal(localhost, d.Source);
            Assert.Equal(localhost, d.Destination);
            Assert.Equal(255, d.HopLimit);
            Assert.Equal(lo.Index, d.InterfaceIndex);
            // The kernel left our checksum alone (IPV6_CHECKSUM off) and it covers the IPv6 pseudo-header.
            Assert.True(VrrpCodec.VerifyChecksum(d.Data, VrrpVersion.V3, AddressFamily.InterNetworkV6, d.Source, d.Destination!));
        }
    }

    [Fact]
    public void HostStartReportsConfigurationErrorsUnwrapped()
    {
        // lo never has a link-local address, so an IPv6 instance there has nothing to advertise from;
        // the error must come back as the VrrpConfigurationException with its id, not an AggregateException.
        using var host = new VrrpHost();
        var cfg = new VrrpInstanceConfig
        {
            InterfaceName = "lo", VirtualRouterId = 9, Version = VrrpVersion.V3,
            VirtualAddresses = new[] { VrrpVirtualAddress.Parse("2001:db8::10") },
        };
        var e = Assert.Throws<VrrpConfigurationException>(() => host.Start(cfg));
        Assert.Contains(e.Errors, x => x.ErrorId == "VrrpSourceAddressMissing");
        Assert.Empty(host.Instances);
    }
}
