using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Ipvs;
using Xunit;

namespace HaPowerShell.Tests;

public class IpvsValidationTests
{
    private static IpvsService Tcp(string address = "192.0.2.1", ushort port = 80) => new()
    {
        Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse(address), Port = port, AddressFamily = IPAddress.Parse(address).AddressFamily,
    };

    private static IpvsRealServer Real(string address = "192.0.2.10", ushort port = 80, IpvsForwardingMethod fwd = IpvsForwardingMethod.DirectRouting)
        => new() { Address = IPAddress.Parse(address), Port = port, ForwardingMethod = fwd };

    private static IpvsValidationException Bad(IpvsService s, string errorId)
    {
        var e = Assert.Throws<IpvsValidationException>(() => IpvsValidation.ValidateService(s));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Same(s, e.Target);
        Assert.Equal("service", e.ParamName);
        Assert.Equal(HaPowerShell.Native.HaErrorCategory.InvalidArgument, e.Category); // an argument error: the one error base carries the kind
        return e;
    }

    private static IpvsValidationException Bad(IpvsService s, IpvsRealServer r, string errorId)
    {
        var e = Assert.Throws<IpvsValidationException>(() => IpvsValidation.ValidateRealServer(s, r));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Same(r, e.Target);
        return e;
    }

    [Fact]
    public void GoodServices_Pass()
    {
        IpvsValidation.ValidateService(Tcp());
        IpvsValidation.ValidateService(Tcp("2001:db8::1", 443));
        IpvsValidation.ValidateService(new IpvsService { FirewallMark = 1 });
        IpvsValidation.ValidateService(new IpvsService { FirewallMark = uint.MaxValue, AddressFamily = AddressFamily.InterNetworkV6, OnePacket = true });
        var p = Tcp(port: 0);
        p.PersistenceTimeout = 300;
        p.PersistenceNetmask = "255.255.255.0";
        p.PersistenceEngine = "sip";
        p.Scheduler = "sh";
        p.SchedulerFlag = new[] { "sh-fallback", "SH-PORT" };
        IpvsValidation.ValidateService(p);
        var v6 = Tcp("2001:db8::1", 0);
        v6.PersistenceTimeout = IpvsValidation.MaxPersistenceTimeout;
        v6.PersistenceNetmask = "64";
        v6.Scheduler = "twos"; // schedulers are not a closed list (twos arrived in Linux 6.x)
        IpvsValidation.ValidateService(v6);
        var udp = new IpvsService { Protocol = IpvsProtocol.Udp, Address = IPAddress.Parse("192.0.2.1"), Port = 53, OnePacket = true, Scheduler = "mh", SchedulerFlag = new[] { "mh-port" } };
        IpvsValidation.ValidateService(udp);
        // The kernel reports a default netmask for every service; that must not count as "netmask without persistence".
        var kernel = Tcp();
        kernel.PersistenceNetmask = "255.255.255.255";
        IpvsValidation.ValidateService(kernel);
        var kernel6 = Tcp("2001:db8::2");
        kernel6.PersistenceNetmask = "128";
        IpvsValidation.ValidateService(kernel6);
    }

    [Fact]
    public void NullArguments() => Assert.Throws<ArgumentNullException>(() => IpvsValidation.ValidateService(null!));

    [Fact]
    public void Identity()
    {
        Bad(new IpvsService(), "ServiceIdentityIncomplete");
        Bad(new IpvsService { Protocol = IpvsProtocol.Tcp, Port = 80 }, "ServiceIdentityIncomplete");
        Bad(new IpvsService { Address = IPAddress.Parse("192.0.2.1"), Port = 80 }, "ServiceIdentityIncomplete");
        Bad(new IpvsService { FirewallMark = 5, Protocol = IpvsProtocol.Tcp }, "FirewallMarkWithAddress");
        Bad(new IpvsService { FirewallMark = 5, Address = IPAddress.Parse("192.0.2.1") }, "FirewallMarkWithAddress");
        Bad(new IpvsService { FirewallMark = 5, Port = 80 }, "FirewallMarkWithAddress");
        var p = Tcp();
        p.Protocol = (IpvsProtocol)1;
        Bad(p, "ProtocolInvalid");
    }

    [Fact]
    public void AddressFamily_MustMatchTheAddress()
    {
        var s = Tcp("2001:db8::1");
        s.AddressFamily = AddressFamily.InterNetwork;
        Assert.Contains("InterNetworkV6", Bad(s, "AddressFamilyMismatch").Message);
        var t = Tcp();
        t.AddressFamily = AddressFamily.InterNetworkV6;
        Bad(t, "AddressFamilyMismatch");
        Bad(new IpvsService { FirewallMark = 1, AddressFamily = AddressFamily.Unix }, "AddressFamilyInvalid");
    }

    [Fact]
    public void ZeroPort_NeedsPersistence()
    {
        var e = Bad(Tcp(port: 0), "ZeroPortNotPersistent");
        Assert.Contains("Zero port specified for non-persistent service", e.Message);
        Assert.Contains("PersistenceTimeout", e.Message);
    }

    [Fact]
    public void OnePacket_OnlyForUdp() => Bad(new IpvsService { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("192.0.2.1"), Port = 80, OnePacket = true }, "OnePacketNotUdp");

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("abcdefghijklmnop")]
    [InlineData("r r")]
    [InlineData("rr\n")]
    [InlineData("wlc;rm")]
    public void SchedulerName(string? name)
    {
        var s = Tcp();
        s.Scheduler = name!;
        Bad(s, "SchedulerNameInvalid");
    }

    [Fact]
    public void SchedulerName_FifteenCharactersIsTheLimit()
    {
        var s = Tcp();
        s.Scheduler = new string('a', 15);
        IpvsValidation.ValidateService(s);
    }

    [Fact]
    public void PersistenceTimeout_Limit()
    {
        var s = Tcp();
        s.PersistenceTimeout = IpvsValidation.MaxPersistenceTimeout + 1;
        Bad(s, "PersistenceTimeoutOutOfRange");
    }

    [Theory]
    [InlineData("192.0.2.1", "255.0.255.0")]
    [InlineData("192.0.2.1", "0.0.0.24")]
    [InlineData("192.0.2.1", "0.0.0.0")]
    [InlineData("192.0.2.1", "33")]
    [InlineData("192.0.2.1", "banana")]
    [InlineData("2001:db8::1", "0")]
    [InlineData("2001:db8::1", "129")]
    [InlineData("2001:db8::1", "ffff::")]
    [InlineData("2001:db8::1", "255.255.255.0")]
    public void PersistenceNetmask_Invalid(string address, string mask)
    {
        var s = Tcp(address);
        s.PersistenceTimeout = 60;
        s.PersistenceNetmask = mask;
        Bad(s, "PersistenceNetmaskInvalid");
    }

    [Theory]
    [InlineData("192.0.2.1", "255.255.255.0")]
    [InlineData("192.0.2.1", "24")]
    [InlineData("192.0.2.1", "128.0.0.0")]
    [InlineData("2001:db8::1", "64")]
    [InlineData("2001:db8::1", "1")]
    public void PersistenceNetmask_Valid(string address, string mask)
    {
        var s = Tcp(address);
        s.PersistenceTimeout = 60;
        s.PersistenceNetmask = mask;
        IpvsValidation.ValidateService(s);
        s.PersistenceTimeout = 0;
        Bad(s, "PersistenceNetmaskWithoutPersistence");
    }

    [Fact]
    public void PersistenceEngine()
    {
        var s = Tcp();
        s.PersistenceEngine = "sip";
        Assert.Contains("PersistenceTimeout", Bad(s, "PersistenceEngineWithoutPersistence").Message);
        s.PersistenceTimeout = 60;
        s.PersistenceEngine = new string('p', 17);
        Bad(s, "PersistenceEngineInvalid");
        s.PersistenceEngine = "s i p";
        Bad(s, "PersistenceEngineInvalid");
        s.PersistenceEngine = new string('p', 16);
        IpvsValidation.ValidateService(s);
    }

    [Theory]
    [InlineData("rr", "sh-port")]
    [InlineData("wlc", "sh-fallback")]
    [InlineData("sh", "mh-port")]
    [InlineData("rr", "mh-fallback")]
    [InlineData("sh", "flag-3")]
    [InlineData("mh", "flag-1")]
    [InlineData("rr", "turbo")]
    [InlineData("rr", "")]
    [InlineData("rr", null)]
    public void SchedulerFlags_MustBelongToTheScheduler(string sched, string? flag)
    {
        var s = Tcp();
        s.Scheduler = sched;
        s.SchedulerFlag = new[] { flag! };
        var e = Bad(s, "SchedulerFlagInvalid");
        Assert.Contains("Valid for", e.Message);
    }

    [Fact]
    public void SchedulerFlags_NullArrayIsEmpty()
    {
        var s = Tcp();
        s.SchedulerFlag = null!;
        IpvsValidation.ValidateService(s);
    }

    // ---- real servers ----

    [Fact]
    public void GoodRealServers_Pass()
    {
        var s = Tcp();
        IpvsValidation.ValidateRealServer(s, Real());
        IpvsValidation.ValidateRealServer(s, Real(port: 0));
        IpvsValidation.ValidateRealServer(s, Real(port: 8080, fwd: IpvsForwardingMethod.Masquerade));
        IpvsValidation.ValidateRealServer(s, new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10"), Port = 80, Weight = 0, UpperThreshold = 10, LowerThreshold = 10 });
        IpvsValidation.ValidateRealServer(s, new IpvsRealServer { Address = IPAddress.Parse("2001:db8::10"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080, TunnelChecksum = IpvsTunnelChecksum.RemoteChecksum });
        IpvsValidation.ValidateRealServer(s, new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gre, TunnelChecksum = IpvsTunnelChecksum.Checksum });
        IpvsValidation.ValidateRealServer(s, new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Tunnel });
        IpvsValidation.ValidateRealServer(s, new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10"), Port = 80, Weight = 65535 });
        IpvsValidation.ValidateRealServer(s, Real(fwd: IpvsForwardingMethod.Local));
        // Firewall-mark services take any port, also with direct routing.
        IpvsValidation.ValidateRealServer(new IpvsService { FirewallMark = 3 }, Real(port: 8080));
        IpvsValidation.ValidateRealServer(new IpvsService { FirewallMark = 3, AddressFamily = AddressFamily.InterNetworkV6 }, Real("2001:db8::10", 0));
    }

    [Fact]
    public void RealServer_NullArguments()
    {
        Assert.Throws<ArgumentNullException>(() => IpvsValidation.ValidateRealServer(null!, Real()));
        Assert.Throws<ArgumentNullException>(() => IpvsValidation.ValidateRealServer(Tcp(), null!));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.255")]
    public void RealServerAddress_MustBeUnicast(string address) => Bad(Tcp(), Real(address), "RealServerAddressInvalid");

    [Fact]
    public void RealServerAddress_Ipv6MustBeUnicast()
    {
        Bad(Tcp("2001:db8::1"), Real("::"), "RealServerAddressInvalid");
        Bad(Tcp("2001:db8::1"), Real("ff02::1"), "RealServerAddressInvalid");
        Bad(Tcp(), new IpvsRealServer { Address = null!, Port = 80 }, "RealServerAddressInvalid");
    }

    [Fact]
    public void MixedFamily_OnlyWithTunnel()
    {
        var e = Bad(Tcp(), Real("2001:db8::10"), "RealServerAddressFamilyMismatch");
        Assert.Contains("Tunnel", e.Message);
        Bad(Tcp("2001:db8::1"), Real("192.0.2.10", fwd: IpvsForwardingMethod.Masquerade), "RealServerAddressFamilyMismatch");
        IpvsValidation.ValidateRealServer(Tcp("2001:db8::1"), Real("192.0.2.10", fwd: IpvsForwardingMethod.Tunnel));
        Bad(new IpvsService { FirewallMark = 3 }, Real("2001:db8::10"), "RealServerAddressFamilyMismatch");
    }

    [Theory]
    [InlineData(IpvsForwardingMethod.DirectRouting)]
    [InlineData(IpvsForwardingMethod.Tunnel)]
    [InlineData(IpvsForwardingMethod.Local)]
    public void PortMustEqualServicePort_ForDirectRoutingAndTunnel(IpvsForwardingMethod fwd)
    {
        var e = Bad(Tcp(), Real(port: 8080, fwd: fwd), "RealServerPortMismatch");
        Assert.Contains("Masquerade", e.Message);
    }

    [Fact]
    public void FullNat_IsExplained()
    {
        var e = Bad(Tcp(), Real(fwd: IpvsForwardingMethod.FullNat), "FullNatNotSupported");
        Assert.Contains("FULLNAT is not in mainline Linux", e.Message);
        Assert.Contains("Alibaba's LVS (for kernel 2.6.32)", e.Message);
        Assert.Contains("Masquerade", e.Message);
    }

    [Fact]
    public void ForwardingMethod_Undefined()
    {
        var e = Bad(Tcp(), Real(fwd: (IpvsForwardingMethod)4), "ForwardingMethodInvalid");
        Assert.Contains("FULLNAT is not in mainline Linux", e.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    [InlineData(int.MaxValue)]
    public void Weight_FollowsIpvsadmsRange(int weight)
    {
        var r = Real();
        r.Weight = weight;
        Bad(Tcp(), r, "WeightOutOfRange");
    }

    [Fact]
    public void Thresholds()
    {
        var r = Real();
        r.UpperThreshold = (uint)int.MaxValue + 1;
        Bad(Tcp(), r, "ThresholdOutOfRange");
        r.UpperThreshold = 10;
        r.LowerThreshold = 11;
        Bad(Tcp(), r, "LowerThresholdAboveUpper");
        // The kernel refuses l > u even when u is 0 ("no limit"): ip_vs_add_dest returns ERANGE.
        r.UpperThreshold = 0;
        r.LowerThreshold = 5;
        Assert.Contains("even when UpperThreshold is 0", Bad(Tcp(), r, "LowerThresholdAboveUpper").Message);
    }

    [Fact]
    public void TunnelOptions_NeedTunnel()
    {
        Bad(Tcp(), new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10"), Port = 80, TunnelType = IpvsTunnelType.IpIp }, "TunnelOptionWithoutTunnel");
        Bad(Tcp(), new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10"), Port = 80, TunnelPort = 6080 }, "TunnelOptionWithoutTunnel");
        Bad(Tcp(), new IpvsRealServer { Address = IPAddress.Parse("192.0.2.10"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Masquerade, TunnelChecksum = IpvsTunnelChecksum.Checksum }, "TunnelOptionWithoutTunnel");
    }

    [Fact]
    public void TunnelDetails()
    {
        IpvsRealServer T(IpvsTunnelType? type, ushort port = 0, IpvsTunnelChecksum c = IpvsTunnelChecksum.NoChecksum)
            => new() { Address = IPAddress.Parse("192.0.2.10"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = type, TunnelPort = port, TunnelChecksum = c };
        Bad(Tcp(), T(IpvsTunnelType.Gue), "TunnelPortRequired");
        Bad(Tcp(), T(IpvsTunnelType.Gre, 6080), "TunnelPortWithoutGue");
        Bad(Tcp(), T(IpvsTunnelType.IpIp, 6080), "TunnelPortWithoutGue");
        Bad(Tcp(), T(null, 6080), "TunnelPortWithoutGue");
        Bad(Tcp(), T(IpvsTunnelType.IpIp, 0, IpvsTunnelChecksum.Checksum), "TunnelChecksumInvalid");
        Bad(Tcp(), T(IpvsTunnelType.Gre, 0, IpvsTunnelChecksum.RemoteChecksum), "TunnelChecksumInvalid");
        Bad(Tcp(), T(IpvsTunnelType.Gue, 6080, (IpvsTunnelChecksum)3), "TunnelChecksumInvalid");
        Bad(Tcp(), T((IpvsTunnelType)3), "TunnelTypeInvalid");
    }

    [Fact]
    public void EveryErrorMessageSaysWhatToDo()
    {
        // Each id appears at least once above; here, a spot check that messages name the parameter to change.
        var s = Tcp(port: 0);
        Assert.Matches("Port|PersistenceTimeout", Bad(s, "ZeroPortNotPersistent").Message);
        var r = Real(port: 8080);
        Assert.Contains("Leave Port out", Bad(Tcp(), r, "RealServerPortMismatch").Message);
    }
}
